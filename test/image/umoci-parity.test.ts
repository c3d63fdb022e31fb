/**
 * runts image unpack against umoci (the reference): the same image unpacked
 * by both gives the same tree (names, types, modes, owners, link targets,
 * contents, device numbers, xattrs, mtimes below the root). Images from real
 * tools (podman build + podman save / skopeo copy) and a hand-made one with
 * what podman's busybox cannot make (xattrs, file capabilities, block
 * devices, long names, type changes across layers); the hand-made layers
 * also compressed with zstd and not at all.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { cleanEnv, RUNTS } from '../helpers/cli.js';
import { makeTar, writeLayout, type Compression, type TarItem } from '../helpers/oci-image.js';
import { buildBusyboxImage, why } from '../helpers/podman-image.js';
import { tmpdir } from '../helpers/rootfs.js';
import { snapshot, treeDiff } from '../helpers/tree.js';

const skip = why() || (!fs.existsSync(RUNTS) ? 'runts is not built' : false);
if (skip) {
  t.plan(0, skip);
} else {
  main();
}

function runts(...args: string[]) {
  const r = spawnSync(RUNTS, args, { encoding: 'utf8', env: cleanEnv(), timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function umoci(image: string, bundle: string): void {
  const r = spawnSync('umoci', ['unpack', '--image', image, bundle], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`umoci unpack ${image}: ${r.stderr}`);
}

/** A 20-byte VFS_CAP_REVISION_2 xattr: CAP_NET_RAW permitted and effective. */
function fileCap(): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(0x02000001, 0);
  b.writeUInt32LE(1 << 13, 4);
  return b;
}

function handMadeLayers(): TarItem[][] {
  const long = 'long-' + 'n'.repeat(90) + '/' + 'deeper-' + 'm'.repeat(80);
  return [[
    { name: 'a/', type: 'dir', mode: 0o750, uid: 5, gid: 6, mtime: 1_600_000_000 },
    { name: 'a/f', body: 'v1', mode: 0o2755, uid: 11, gid: 12, xattrs: { 'user.x': '1', 'security.capability': fileCap() } },
    { name: 'a/sym', type: 'symlink', linkname: '../b/target', uid: 7, gid: 7 },
    { name: 'a/hard', type: 'link', linkname: 'a/f' },
    { name: 'b/', type: 'dir', mode: 0o755, xattrs: { 'user.dir': 'yes' } },
    { name: 'b/target', body: 'target' },
    { name: 'b/gone', body: 'gone' },
    { name: 'c/', type: 'dir', mode: 0o711 },
    { name: 'c/old', body: 'old' },
    { name: 'c/sub/', type: 'dir' },
    { name: 'c/sub/deep', body: 'deep' },
    { name: 'd', body: 'a file first' },
    { name: 'e/', type: 'dir' },
    { name: 'e/x', body: 'x' },
    { name: 'dev/', type: 'dir' },
    { name: 'dev/c', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/b', type: 'block', devmajor: 7, devminor: 1, mode: 0o660, gid: 6 },
    { name: 'dev/p', type: 'fifo', mode: 0o600, uid: 9 },
    { name: 'long-' + 'n'.repeat(90) + '/', type: 'dir' },
    { name: long, body: 'long name', mode: 0o400 },
    { name: 'sticky/', type: 'dir', mode: 0o1777 },
  ], [
    { name: './', type: 'dir', mode: 0o755 },
    { name: 'b/.wh.gone', body: '' },
    { name: 'c/.wh..wh..opq', body: '' },
    { name: 'c/new', body: 'new' },
    { name: 'd/', type: 'dir', mode: 0o700 },
    { name: 'd/inside', body: 'in' },
    { name: 'e', type: 'symlink', linkname: 'a' },
    { name: 'a/f', body: 'v2 replaced', mode: 0o755, uid: 13, xattrs: { 'user.y': '2' } },
    { name: 'new-dir/', type: 'dir', mode: 0o755 },
    { name: 'new-dir/with/', type: 'dir', mode: 0o755 },
    { name: 'new-dir/with/parents', body: 'new' },
  ]];
}

function main(): void {
  t.test('podman-built busybox image: runts and umoci give the same tree', async (t) => {
    const img = buildBusyboxImage();
    t.teardown(() => img.cleanup());
    const w = tmpdir('image-parity-');
    umoci(`${img.skopeoLayout}:test`, path.join(w, 'umoci'));
    let r = runts('image', 'unpack', `${img.skopeoLayout}:test`, path.join(w, 'runts'));
    t.equal(r.code, 0, r.stderr);
    r = runts('image', 'unpack', `${img.podmanLayout}:localhost/runts-image-test:test`, path.join(w, 'runts-podman'));
    t.equal(r.code, 0, r.stderr);
    const ref = snapshot(path.join(w, 'umoci/rootfs'), { mtimes: true });
    const ours = snapshot(path.join(w, 'runts/rootfs'), { mtimes: true });
    t.same(treeDiff(ours, ref), [], 'skopeo layout: same tree as umoci');
    t.same(treeDiff(snapshot(path.join(w, 'runts-podman/rootfs'), { mtimes: true }), ref), [], 'podman save layout: same tree as umoci');
    // what the image's layers did
    t.notOk(ours.has('bin/vi'), 'the whiteout removed /bin/vi');
    t.ok(ours.has('bin/sh'));
    t.notOk(ours.has('etc/opq/old'), 'the opaque dir hides the old content');
    t.ok(ours.has('etc/opq/new'));
    t.match(ours.get('etc/opq/new'), /^file 4755 1000:1000 /);
    t.match(ours.get('etc/fifo'), /^fifo /);
    t.match(ours.get('home/app/file'), /^file 640 1000:2000 /);
    const sameInode = (b: string) => fs.statSync(path.join(w, b, 'rootfs/etc/hello')).ino === fs.statSync(path.join(w, b, 'rootfs/etc/hello-link')).ino;
    t.equal(sameInode('runts'), sameInode('umoci'), 'hard link: one inode in both or in neither');
    const uc = JSON.parse(fs.readFileSync(path.join(w, 'umoci/config.json'), 'utf8'));
    const rc = JSON.parse(fs.readFileSync(path.join(w, 'runts/config.json'), 'utf8'));
    t.same(rc.process.args, uc.process.args, 'args');
    t.same(rc.process.user, uc.process.user, 'user (resolved through the image\'s passwd and group)');
    t.same(rc.process.user, { uid: 1000, gid: 1000, additionalGids: [2000] });
    t.equal(rc.process.cwd, uc.process.cwd, 'cwd');
    for (const e of uc.process.env as string[]) if (!e.startsWith('TERM=')) t.ok(rc.process.env.includes(e), `env ${e}`);
    t.equal(rc.annotations['org.opencontainers.image.architecture'], uc.annotations['org.opencontainers.image.architecture']);
    const v = runts('validate', '--bundle', path.join(w, 'runts'));
    t.equal(v.code, 0, `runts validate: ${v.stderr}`);
  });

  t.test('hand-made layers (xattrs, capabilities, devices, long names, type changes): the same tree as umoci', async (t) => {
    const w = tmpdir('image-parity-hand-');
    const layers = handMadeLayers().map((items) => makeTar(items));
    const trees = new Map<Compression, Map<string, string>>();
    for (const c of ['gzip', 'zstd', 'none'] as Compression[]) {
      const layout = path.join(w, `oci-${c}`);
      writeLayout(layout, { layers: layers.map((tar) => ({ tar, compression: c })), config: { Cmd: ['/bin/sh'] } });
      const r = runts('image', 'unpack', `${layout}:latest`, path.join(w, `runts-${c}`));
      t.equal(r.code, 0, `${c}: ${r.stderr}`);
      trees.set(c, snapshot(path.join(w, `runts-${c}/rootfs`), { mtimes: true }));
    }
    umoci(`${path.join(w, 'oci-gzip')}:latest`, path.join(w, 'umoci'));
    const ref = snapshot(path.join(w, 'umoci/rootfs'), { mtimes: true });
    t.same(treeDiff(trees.get('gzip')!, ref), [], 'gzip layers: same tree as umoci');
    t.same(treeDiff(trees.get('zstd')!, trees.get('gzip')!), [], 'zstd layers: the same tree');
    t.same(treeDiff(trees.get('none')!, trees.get('gzip')!), [], 'uncompressed layers: the same tree');
    const g = trees.get('gzip')!;
    t.match(g.get('a/f'), /^file 755 13:0 size=11 .*"user.y"/, 'a replaced file has the new layer\'s metadata only');
    t.notMatch(g.get('a/f')!, /user\.x/);
    t.match(g.get('a/hard'), /^file 2755 11:12 size=2 .*security\.capability/, 'the hard link keeps the old inode, with its capability');
    t.match(g.get('a'), /^dir 750 5:6 /);
    t.match(g.get('b'), /"user.dir"/);
    t.notOk(g.has('b/gone'));
    t.same([...g.keys()].filter((k) => k.startsWith('c/')), ['c/new']);
    t.match(g.get('d'), /^dir 700 /);
    t.match(g.get('e'), /^symlink 777 0:0 -> a /);
    t.match(g.get('dev/b'), /^block 660 0:6 rdev=1793/);
    t.match(g.get('sticky'), /^dir 1777 /);
    t.ok(g.has('new-dir/with/parents'));
    t.equal(fs.statSync(path.join(w, 'runts-gzip/rootfs/a/f')).ino === fs.statSync(path.join(w, 'runts-gzip/rootfs/a/hard')).ino, false, 'a/f was replaced: a/hard keeps the old inode');
  });
}
