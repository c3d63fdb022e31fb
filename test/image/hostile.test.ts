/**
 * Hostile images: one hand-made layer set per containment rule, unpacked
 * plain and --shared. Next to the bundle lives an "outside" directory with a
 * victim file; after every unpack, whatever the image tried, the victim is
 * unchanged (content, link count), nothing new appeared outside the bundle
 * and the store, and the unpack either failed with the expected message and
 * left no bundle, or put what it wrote inside the rootfs.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { cannotRunContainers, cleanEnv, RUNTS } from '../helpers/cli.js';
import { makeTar, writeLayout, type TarItem } from '../helpers/oci-image.js';
import { hostMountsUnder, tmpdir } from '../helpers/rootfs.js';
import { xattrsOf } from '../helpers/tree.js';

const skip = cannotRunContainers();
if (skip) t.plan(0, skip);

function runts(...args: string[]) {
  const r = spawnSync(RUNTS, args, { encoding: 'utf8', env: cleanEnv(), timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

interface Case {
  name: string;
  /** Layers; T is the test's temp dir (absolute). */
  layers: (T: string) => TarItem[][];
  fails?: RegExp;
  /** Checks inside the rootfs after a successful unpack. */
  inside?: (rootfs: string, T: string, t: Tap) => void;
  user?: string;
  /**
   * What differs with --shared: each layer is unpacked into a directory of
   * its own, so a later layer's entry never walks through an earlier layer's
   * symlink or fifo; it makes its own directory, which hides the lower
   * layer's symlink in the overlay (as overlay-based engines do).
   */
  shared?: Pick<Case, 'fails' | 'inside'>;
}
type Tap = Test;

const cases: Case[] = [
  { name: '".." in a name', layers: () => [[{ name: '../outside/evil', body: 'x' }]], fails: /contains "\.\." \(would leave the rootfs\)/ },
  { name: '".." deeper in a name', layers: () => [[{ name: 'a/../../outside/evil', body: 'x' }]], fails: /contains "\.\."/ },
  {
    name: 'an absolute name lands inside the rootfs',
    layers: (T) => [[{ name: `${T}/outside/victim`, body: 'pwned' }]],
    inside: (r, T, t) => t.equal(fs.readFileSync(path.join(r, T, 'outside/victim'), 'utf8'), 'pwned'),
  },
  {
    name: 'an absolute symlink, then a file through it (same layer)',
    layers: (T) => [[{ name: 'esc', type: 'symlink', linkname: `${T}/outside` }, { name: 'esc/victim', body: 'pwned' }]],
    inside: (r, T, t) => t.equal(fs.readFileSync(path.join(r, T, 'outside/victim'), 'utf8'), 'pwned', 'written where the link points inside the rootfs'),
  },
  {
    name: 'a "../.." symlink, then a file through it (next layer)',
    layers: (T) => [[{ name: 'esc', type: 'symlink', linkname: '../../../../../../../..' + T + '/outside' }], [{ name: 'esc/new', body: 'pwned' }]],
    inside: (r, T, t) => t.equal(fs.readFileSync(path.join(r, T, 'outside/new'), 'utf8'), 'pwned'),
    shared: { inside: (r, _T, t) => t.equal(fs.readFileSync(path.join(r, 'esc/new'), 'utf8'), 'pwned', 'layer 2\'s own directory esc') },
  },
  {
    name: 'a file over a symlink to the victim replaces the symlink',
    layers: (T) => [[{ name: 'esc', type: 'symlink', linkname: `${T}/outside/victim` }], [{ name: 'esc', body: 'pwned' }]],
    inside: (r, _T, t) => { t.ok(fs.lstatSync(path.join(r, 'esc')).isFile()); t.equal(fs.readFileSync(path.join(r, 'esc'), 'utf8'), 'pwned'); },
  },
  {
    name: 'a directory entry over a symlink to outside',
    layers: (T) => [[{ name: 'esc', type: 'symlink', linkname: `${T}/outside` }], [{ name: 'esc/', type: 'dir', mode: 0o777 }, { name: 'esc/f', body: 'x' }]],
    inside: (r, _T, t) => t.ok(fs.lstatSync(path.join(r, 'esc')).isDirectory()),
  },
  {
    name: 'the same file twice in one layer, once through a symlinked parent',
    layers: () => [[{ name: 'b/', type: 'dir' }, { name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b/x', body: 'first' }, { name: 'a/x', body: 'second' }]],
    inside: (r, _T, t) => t.equal(fs.readFileSync(path.join(r, 'b/x'), 'utf8'), 'second', 'the later entry wins'),
  },
  { name: 'a hard link with ".."', layers: () => [[{ name: 'hl', type: 'link', linkname: '../outside/victim' }]], fails: /contains "\.\."/ },
  { name: 'a hard link to an absolute host path', layers: (T) => [[{ name: 'hl', type: 'link', linkname: `${T}/outside/victim` }]], fails: /hard link to .* which does not exist/ },
  {
    name: 'a hard link through a symlink to outside',
    layers: (T) => [[{ name: 'esc', type: 'symlink', linkname: `${T}/outside` }, { name: 'hl', type: 'link', linkname: 'esc/victim' }]],
    fails: /which does not exist/,
  },
  {
    name: 'a hard link to a symlink links the symlink, not its target',
    layers: (T) => [[{ name: 'esc', type: 'symlink', linkname: `${T}/outside/victim` }, { name: 'hl', type: 'link', linkname: 'esc' }]],
    inside: (r, _T, t) => t.ok(fs.lstatSync(path.join(r, 'hl')).isSymbolicLink()),
  },
  {
    name: 'a whiteout through a symlink to outside',
    layers: (T) => [[{ name: 'esc', type: 'symlink', linkname: `${T}/outside` }], [{ name: 'esc/.wh.victim', body: '' }]],
    inside: (r, _T, t) => t.ok(fs.lstatSync(path.join(r, 'esc')).isSymbolicLink()),
    shared: { inside: (r, _T, t) => t.ok(fs.lstatSync(path.join(r, 'esc')).isDirectory(), 'layer 2\'s own directory esc') },
  },
  {
    name: 'a whiteout below a file hides nothing',
    layers: () => [[{ name: 'f', body: 'file' }], [{ name: 'f/.wh.x', body: '' }]],
    inside: (r, _T, t) => t.equal(fs.readFileSync(path.join(r, 'f'), 'utf8'), 'file'),
    shared: { inside: (r, _T, t) => t.ok(fs.lstatSync(path.join(r, 'f')).isDirectory(), 'layer 2\'s own directory f') },
  },
  { name: 'a whiteout with ".."', layers: () => [[{ name: 'a/', type: 'dir' }], [{ name: '../outside/.wh.victim', body: '' }]], fails: /contains "\.\."/ },
  { name: 'a whiteout of ".."', layers: () => [[{ name: 'a/', type: 'dir' }], [{ name: 'a/.wh..', body: '' }]], fails: /whiteout of nothing/ },
  {
    name: 'an opaque marker through a symlink to outside',
    layers: (T) => [[{ name: 'esc', type: 'symlink', linkname: `${T}/outside` }], [{ name: 'esc/.wh..wh..opq', body: '' }]],
  },
  {
    name: 'a fifo where a directory is expected', layers: () => [[{ name: 'd', type: 'fifo' }], [{ name: 'd/f', body: 'x' }]], fails: /a parent is not a directory/,
    shared: { inside: (r, _T, t) => t.equal(fs.readFileSync(path.join(r, 'd/f'), 'utf8'), 'x', 'layer 2\'s own directory d hides the fifo') },
  },
  { name: 'a device where a directory is expected', layers: () => [[{ name: 'd', type: 'char', devmajor: 1, devminor: 3 }, { name: 'd/f', body: 'x' }]], fails: /a parent is not a directory/ },
  { name: 'a symlink loop', layers: () => [[{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: 'a' }, { name: 'a/f', body: 'x' }]], fails: /ELOOP/ },
  { name: 'a name component over 255 bytes', layers: () => [[{ name: 'x'.repeat(256), body: 'x' }]], fails: /longer than 255 bytes/ },
  { name: 'a name over 4096 bytes', layers: () => [[{ name: 'abc/'.repeat(1100) + 'f', body: 'x' }]], fails: /longer than 4096 bytes/ },
  { name: 'owner (uid_t)-1', layers: () => [[{ name: 'f', body: 'x', uid: 4294967295 }]], fails: /out of range/ },
  { name: 'the root replaced by a file', layers: () => [[{ name: './', body: 'x' }]], fails: /names the root itself/ },
  {
    name: 'overlay and security xattrs are dropped',
    layers: (): TarItem[][] => [[{ name: 'd/', type: 'dir', xattrs: { 'trusted.overlay.opaque': 'y', 'trusted.overlay.redirect': '/x', 'security.selinux': 'x' } }, { name: 'd/f', body: 'x', xattrs: { 'trusted.overlay.metacopy': '', 'user.ok': '1' } }]],
    inside: (r, _T, t) => {
      t.same(Object.keys(xattrsOf(path.join(r, 'd'))), []);
      t.same(Object.keys(xattrsOf(path.join(r, 'd/f'))), ['user.ok']);
    },
  },
  {
    name: 'User resolution does not open a fifo planted as /etc/passwd',
    layers: () => [[{ name: 'etc/', type: 'dir' }, { name: 'etc/passwd', type: 'fifo' }]], user: 'app',
    fails: /no user "app" in the image's \/etc\/passwd/,
  },
  {
    name: 'a /etc/passwd symlink loop matters only when there is a User to resolve',
    layers: () => [[{ name: 'etc/', type: 'dir' }, { name: 'etc/passwd', type: 'symlink', linkname: '../../../../etc/passwd' }, { name: 'bin/sh', body: '' }]],
  },
  {
    name: 'a /etc/passwd symlink to the host\'s /etc/passwd resolves inside the rootfs (a loop), never to the host\'s file',
    layers: () => [[{ name: 'etc/', type: 'dir' }, { name: 'etc/passwd', type: 'symlink', linkname: '../../../../etc/passwd' }]], user: 'root',
    fails: /\/etc\/passwd: ELOOP/,
  },
  {
    name: 'User resolution follows /etc/passwd symlinks inside the rootfs only',
    layers: () => [[{ name: 'etc/', type: 'dir' }, { name: 'etc/passwd', type: 'symlink', linkname: '/etc/shadow-host' }]], user: 'root',
    fails: /no user "root" in the image's \/etc\/passwd/,
  },
];

function check(t: Tap, base: Case, shared: boolean): void {
  const c: Case = shared && base.shared ? { ...base, fails: base.shared.fails, inside: base.shared.inside } : base;
  const T = tmpdir('image-hostile-');
  fs.mkdirSync(path.join(T, 'outside'));
  fs.writeFileSync(path.join(T, 'outside/victim'), 'safe');
  writeLayout(path.join(T, 'oci'), { layers: c.layers(T).map((items) => ({ tar: makeTar(items) })), config: c.user ? { User: c.user } : {} });
  const bundle = path.join(T, 'bundle');
  const store = path.join(T, 'store');
  const r = runts('image', 'unpack', ...(shared ? ['--shared', '--store', store] : []), `${path.join(T, 'oci')}:latest`, bundle);
  t.equal(r.signal, null, 'no hang, no crash');
  if (c.fails) {
    t.not(r.code, 0, 'unpack fails');
    t.match(r.stderr, c.fails);
    t.notOk(fs.existsSync(bundle), 'a failed unpack leaves no bundle');
  } else {
    t.equal(r.code, 0, r.stderr);
    try {
      c.inside?.(path.join(bundle, 'rootfs'), T, t);
    } catch (e) {
      t.fail(`checks inside the rootfs: ${(e as Error).message}`);
    }
  }
  t.equal(fs.readFileSync(path.join(T, 'outside/victim'), 'utf8'), 'safe', 'the victim is unchanged');
  t.equal(fs.statSync(path.join(T, 'outside/victim')).nlink, 1, 'the victim has no new hard link');
  t.same(fs.readdirSync(path.join(T, 'outside')), ['victim'], 'nothing new outside');
  t.same(fs.readdirSync(T).filter((n) => !['oci', 'outside', 'bundle', 'store'].includes(n)), [], 'nothing new beside the bundle');
  if (fs.existsSync(bundle)) {
    const rm = runts('image', 'remove', bundle);
    t.equal(rm.code, 0, rm.stderr);
  }
  t.same(hostMountsUnder(T), [], 'no mount left');
}

if (!skip) {
  for (const shared of [false, true]) {
    t.test(shared ? '--shared' : 'plain rootfs', async (t) => {
      for (const c of cases) t.test(c.name, async (t) => check(t, c, shared));
    });
  }
}
