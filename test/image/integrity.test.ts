/**
 * Blobs that are not what their descriptors say, and images over the
 * bounds: each a clear error, and a failed unpack leaves nothing behind
 * (no bundle, nothing new in the store, no mount).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import t, { type Test } from 'tap';
import { LayerApplier } from '../../src/image/apply.js';
import { applyLayer } from '../../src/image/layer.js';
import { O } from '../../src/linux/abi.js';
import { close, open } from '../../src/linux/libc.js';
import { cannotRunContainers, cleanEnv, RUNTS } from '../helpers/cli.js';
import { makeTar, writeLayout } from '../helpers/oci-image.js';
import { hostMountsUnder, tmpdir } from '../helpers/rootfs.js';

const skip = cannotRunContainers();
if (skip) t.plan(0, skip);

function runts(...args: string[]) {
  const r = spawnSync(RUNTS, args, { encoding: 'utf8', env: cleanEnv(), timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const base = () => [makeTar([{ name: 'bin/', type: 'dir' }, { name: 'bin/f', body: 'one' }]), makeTar([{ name: 'etc/', type: 'dir' }, { name: 'etc/g', body: 'two' }])];

function expectFailure(t: Test, mutate: (l: ReturnType<typeof writeLayout>, dir: string) => void, msg: RegExp, diffIds?: string[]): void {
  for (const shared of [false, true]) {
    const T = tmpdir('image-integrity-');
    const l = writeLayout(path.join(T, 'oci'), { layers: base().map((tar) => ({ tar })), diffIds });
    mutate(l, path.join(T, 'oci'));
    const store = path.join(T, 'store');
    const r = runts('image', 'unpack', ...(shared ? ['--shared', '--store', store] : []), path.join(T, 'oci'), path.join(T, 'bundle'));
    t.not(r.code, 0, `${shared ? '--shared' : 'plain'}: fails`);
    t.match(r.stderr, msg, `${shared ? '--shared' : 'plain'}: says why`);
    t.notOk(fs.existsSync(path.join(T, 'bundle')), 'no bundle left');
    t.same(hostMountsUnder(T), [], 'no mount left');
    if (shared && fs.existsSync(store)) {
      t.same(fs.readdirSync(store).filter((n) => n.startsWith('.tmp-')), [], 'no temporary layer dir left in the store');
      t.same(fs.readdirSync(path.join(store, '.refs')), [], 'no store ref left');
    }
  }
}

if (!skip) {
  t.test('a layer blob with a changed byte', async (t) => {
    expectFailure(t, (l) => {
      const b = fs.readFileSync(l.layerBlobs[1]!);
      b[b.length - 5] ^= 0xff; // in gzip's trailer: the stream still inflates or fails; either way the digest is wrong
      fs.writeFileSync(l.layerBlobs[1]!, b);
    }, /blob digest mismatch|gzip|unexpected end|checksum/);
  });
  t.test('a layer blob longer than its descriptor', async (t) => {
    expectFailure(t, (l) => fs.appendFileSync(l.layerBlobs[0]!, 'extra'), /larger than its descriptor's size/);
  });
  t.test('a truncated layer blob', async (t) => {
    expectFailure(t, (l) => fs.truncateSync(l.layerBlobs[0]!, 20), /gzip|unexpected end|is \d+ bytes, its descriptor says/);
  });
  t.test('a missing layer blob', async (t) => {
    expectFailure(t, (l) => fs.rmSync(l.layerBlobs[1]!), /ENOENT/);
  });
  t.test('a diff_id that does not match the uncompressed layer', async (t) => {
    expectFailure(t, () => {}, /diff_id mismatch: the config says sha256:0{64}/, ['sha256:' + createHash('sha256').update(base()[0]!).digest('hex'), 'sha256:' + '0'.repeat(64)]);
  });
  t.test('a changed manifest', async (t) => {
    expectFailure(t, (l, dir) => fs.appendFileSync(path.join(dir, 'blobs/sha256', l.manifest.slice(7)), ' '), /manifest sha256:[0-9a-f]+: blob is \d+ bytes, its descriptor says/);
  });
  t.test('a layout without oci-layout', async (t) => {
    expectFailure(t, (_l, dir) => fs.rmSync(path.join(dir, 'oci-layout')), /is not an OCI image layout/);
  });
  t.test('an unsupported layer media type', async (t) => {
    const T = tmpdir('image-integrity-');
    const l = writeLayout(path.join(T, 'oci'), { layers: base().map((tar) => ({ tar })) });
    const mpath = path.join(T, 'oci/blobs/sha256', l.manifest.slice(7));
    const m = JSON.parse(fs.readFileSync(mpath, 'utf8'));
    m.layers[0].mediaType = 'application/vnd.oci.image.layer.v1.tar+bzip2';
    const mb = Buffer.from(JSON.stringify(m));
    const md = createHash('sha256').update(mb).digest('hex');
    fs.writeFileSync(path.join(T, 'oci/blobs/sha256', md), mb);
    fs.writeFileSync(path.join(T, 'oci/index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: m.mediaType, digest: `sha256:${md}`, size: mb.length }] }));
    const r = runts('image', 'unpack', path.join(T, 'oci'), path.join(T, 'bundle'));
    t.match(r.stderr, /unsupported layer media type "application\/vnd.oci.image.layer.v1.tar\+bzip2"/);
    t.notOk(fs.existsSync(path.join(T, 'bundle')));
  });
  t.test('unpack refuses a bundle that has a rootfs or config.json, and remove refuses a dir unpack did not make', async (t) => {
    const T = tmpdir('image-integrity-');
    writeLayout(path.join(T, 'oci'), { layers: base().map((tar) => ({ tar })) });
    fs.mkdirSync(path.join(T, 'bundle/rootfs'), { recursive: true });
    fs.writeFileSync(path.join(T, 'bundle/rootfs/mine'), 'keep');
    let r = runts('image', 'unpack', path.join(T, 'oci'), path.join(T, 'bundle'));
    t.match(r.stderr, /rootfs exists: unpack into a new or empty bundle directory/);
    t.equal(fs.readFileSync(path.join(T, 'bundle/rootfs/mine'), 'utf8'), 'keep', 'what was there is untouched');
    r = runts('image', 'remove', path.join(T, 'bundle'));
    t.match(r.stderr, /is not a bundle made by runts image unpack/);
    t.ok(fs.existsSync(path.join(T, 'bundle/rootfs/mine')));
  });

  // the bounds, with small limits, in this process (the CLI's are 1,000,000 entries and 64 GiB)
  const applyWith = async (tar: Buffer, limits: { maxEntries: number; maxTotalBytes: number }, maxTarBytes = 1 << 30) => {
    const T = tmpdir('image-limits-');
    const blob = zlib.gzipSync(tar);
    fs.writeFileSync(path.join(T, 'blob'), blob);
    const rootfd = open(T, O.PATH | O.DIRECTORY);
    fs.mkdirSync(path.join(T, 'root'));
    const fd = open(path.join(T, 'root'), O.PATH | O.DIRECTORY);
    close(rootfd);
    try {
      await applyLayer({
        blobPath: path.join(T, 'blob'), maxTarBytes,
        desc: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: 'sha256:' + createHash('sha256').update(blob).digest('hex'), size: blob.length },
        diffId: 'sha256:' + createHash('sha256').update(tar).digest('hex'),
      }, new LayerApplier(fd, 'flatten', limits));
    } finally {
      close(fd);
    }
  };
  t.test('bounds: entries per layer, total size, uncompressed stream (a gzip bomb)', async (t) => {
    const many = makeTar(Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, body: 'x' })));
    await t.rejects(applyWith(many, { maxEntries: 10, maxTotalBytes: 1 << 20 }), /layer has more than 10 entries/);
    await t.resolves(applyWith(many, { maxEntries: 20, maxTotalBytes: 1 << 20 }));
    const big = makeTar([{ name: 'a', body: Buffer.alloc(3000) }, { name: 'b', body: Buffer.alloc(3000) }]);
    await t.rejects(applyWith(big, { maxEntries: 10, maxTotalBytes: 5000 }), /larger than the limit of 5000 bytes/);
    const zeros = Buffer.concat([makeTar([{ name: 'a', body: 'x' }]), Buffer.alloc(4 << 20)]);
    await t.rejects(applyWith(zeros, { maxEntries: 10, maxTotalBytes: 1 << 20 }, 1 << 20), /uncompressed layer is larger than the limit of 1048576 bytes/);
  });
}
