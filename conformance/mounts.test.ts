/**
 * config.md root and mounts: read-only root, mount order, relative
 * destinations, every Linux mount option the spec marks MUST, bind/rbind and
 * propagation, remount. The checker reports /proc/self/mountinfo.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { check, onTeardown, skipFile } from './lib/check.js';
import { compareMount, compareRoot } from './lib/compare.js';
import { runChecker } from './lib/harness.js';
import { cannotRun, hostMountsUnder, Runtime, tmpdir } from './lib/runtime.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const why = cannotRun();
if (why) skipFile(why);
else tests();

function tests(): void {
  const rt = new Runtime();
  const dir = tmpdir('conf-mounts-');
  onTeardown(() => {
    rt.cleanup();
    for (const m of hostMountsUnder(dir).reverse()) spawnSync('umount', ['-l', m]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  check('root.readonly: true gives a read-only root, false a writable one', ['config.md#root/7'], async (t) => {
    for (const ro of [true, false]) {
      const r = runChecker(rt, { privateRootfs: true, probes: ['write:/probe-file'], mutate: (c) => { c.root.readonly = ro; } });
      t.equal(r.create.code, 0, r.create.stderr);
      compareRoot(t, r.report, r.bundle.config);
      if (ro) t.match(r.report.data('write:/probe-file').join(' '), /Read-only file system/, 'writing to / fails with EROFS');
      else t.ok(r.report.ok('write:/probe-file'), 'writing to / works');
    }
  });

  check('mounts are mounted in the listed order', ['config.md#mounts/1'], async (t) => {
    const nested = runChecker(rt, { probes: ['run:ls /a'], mutate: (c) => {
      c.mounts.push({ destination: '/a', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      c.mounts.push({ destination: '/a/b', type: 'tmpfs', source: 'tmpfs', options: ['size=2m'] });
    } });
    t.equal(nested.create.code, 0, nested.create.stderr);
    const a = nested.report.mountAt('/a');
    const ab = nested.report.mountAt('/a/b');
    t.ok(a && ab && ab.parent === a.id, '/a/b is mounted on top of /a (listed after it)');
    t.equal(nested.report.run('ls /a').out, 'b', '/a shows b');
    const reversed = runChecker(rt, { probes: ['run:ls -A /a'], mutate: (c) => {
      c.mounts.push({ destination: '/a/b', type: 'tmpfs', source: 'tmpfs', options: ['size=2m'] });
      c.mounts.push({ destination: '/a', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    } });
    t.equal(reversed.create.code, 0, reversed.create.stderr);
    t.equal(reversed.report.run('ls -A /a').out, '', 'listed second, /a covers /a/b: it is an empty tmpfs');
    const ids = reversed.report.mounts.filter((m) => m.mountpoint === '/a/b' || m.mountpoint === '/a').map((m) => m.mountpoint);
    t.same(ids, ['/a/b', '/a'], 'mountinfo shows /a/b first, then /a');
  });

  check('a relative destination is relative to /', ['config.md#mounts/3'], async (t) => {
    const r = runChecker(rt, { mutate: (c) => { c.mounts.push({ destination: 'relative/dest', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }); } });
    t.equal(r.create.code, 0, r.create.stderr);
    t.equal(r.report.mountAt('/relative/dest')?.fstype, 'tmpfs', 'mounted at /relative/dest');
  });

  // every option the table marks MUST, each on its own tmpfs; pairs check that the later option wins
  const OPTION_MOUNTS: [string, string[]][] = [
    ['async', ['sync', 'async']], ['atime', ['noatime', 'atime']], ['defaults', ['defaults']], ['dev', ['nodev', 'dev']],
    ['diratime', ['nodiratime', 'diratime']], ['dirsync', ['dirsync']], ['exec', ['noexec', 'exec']], ['iversion', ['iversion']],
    ['lazytime', ['lazytime']], ['loud', ['silent', 'loud']], ['noatime', ['noatime']], ['nodev', ['nodev']], ['nodiratime', ['nodiratime']],
    ['noexec', ['noexec']], ['noiversion', ['iversion', 'noiversion']], ['nolazytime', ['lazytime', 'nolazytime']], ['norelatime', ['relatime', 'norelatime']],
    ['nostrictatime', ['strictatime', 'nostrictatime']], ['nosuid', ['nosuid']], ['relatime', ['relatime']], ['ro', ['ro']], ['rw', ['ro', 'rw']],
    ['silent', ['silent']], ['strictatime', ['strictatime']], ['suid', ['nosuid', 'suid']], ['sync', ['sync']], ['nosymfollow', ['nosymfollow']],
  ];

  check('every MUST mount option is applied (tmpfs, one mount per option)', [
    'config.md#linux-mount-options/1', 'config.md#linux-mount-options/2', 'config.md#linux-mount-options/3', 'config.md#linux-mount-options/5',
    'config.md#linux-mount-options/6', 'config.md#linux-mount-options/7', 'config.md#linux-mount-options/8', 'config.md#linux-mount-options/9',
    'config.md#linux-mount-options/10', 'config.md#linux-mount-options/11', 'config.md#linux-mount-options/12', 'config.md#linux-mount-options/13',
    'config.md#linux-mount-options/14', 'config.md#linux-mount-options/15', 'config.md#linux-mount-options/16', 'config.md#linux-mount-options/17',
    'config.md#linux-mount-options/18', 'config.md#linux-mount-options/19', 'config.md#linux-mount-options/20', 'config.md#linux-mount-options/21',
    'config.md#linux-mount-options/24', 'config.md#linux-mount-options/26', 'config.md#linux-mount-options/31', 'config.md#linux-mount-options/33',
    'config.md#linux-mount-options/35', 'config.md#linux-mount-options/36', 'config.md#linux-mount-options/37', 'config.md#linux-mount-options/41',
  ], async (t) => {
    const r = runChecker(rt, { mutate: (c) => {
      for (const [name, opts] of OPTION_MOUNTS) c.mounts.push({ destination: `/opt-${name}`, type: 'tmpfs', source: 'tmpfs', options: [...opts, 'size=1m', 'mode=750'] });
    } });
    t.equal(r.create.code, 0, r.create.stderr);
    for (const m of r.bundle.config.mounts as Json[]) {
      if (!m.destination.startsWith('/opt-')) continue;
      compareMount(t, r.report, m);
      const e = r.report.mountAt(m.destination);
      t.ok(e?.superOptions.includes('size=1024k') && e.superOptions.includes('mode=750'), `${m.destination}: filesystem options size=1m,mode=750 reached tmpfs`);
    }
    const strict = r.report.mountAt('/opt-strictatime');
    t.ok(strict && !strict.options.includes('relatime') && !strict.options.includes('noatime'), 'strictatime: neither relatime nor noatime');
    const norel = r.report.mountAt('/opt-norelatime');
    t.ok(norel, 'norelatime is accepted');
  });

  check('bind and rbind mounts; ro bind mounts', ['config.md#linux-mount-options/4', 'config.md#linux-mount-options/23', 'config.md#linux-mount-options/26'], async (t) => {
    const src = path.join(dir, 'bind-src');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'file'), 'bound file\n');
    t.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', path.join(src, 'sub')]).status, 0, 'a submount in the source');
    fs.writeFileSync(path.join(src, 'sub', 'inner'), 'inner\n');
    const r = runChecker(rt, { probes: ['run:cat /b/file; ls /b/sub; echo --; ls /rb/sub; echo --; cat /file-bind', 'write:/ro-bind/x', 'write:/b/x'], mutate: (c) => {
      c.mounts.push({ destination: '/b', type: 'bind', source: src, options: ['bind'] });
      c.mounts.push({ destination: '/rb', type: 'none', source: src, options: ['rbind'] });
      c.mounts.push({ destination: '/ro-bind', source: src, options: ['rbind', 'ro'] });
      c.mounts.push({ destination: '/file-bind', source: path.join(src, 'file'), options: ['bind', 'ro'] });
    } });
    t.equal(r.create.code, 0, r.create.stderr);
    const out = r.report.run('cat /b/file; ls /b/sub; echo --; ls /rb/sub; echo --; cat /file-bind').out;
    t.equal(out, 'bound file\n--\ninner\n--\nbound file', 'bind: the source\'s contents without its submounts; rbind: with them; a file can be bound');
    t.match(r.report.data('write:/ro-bind/x').join(' '), /Read-only file system/, 'a bind mount with ro is read-only');
    t.ok(r.report.ok('write:/b/x'), 'a bind mount without ro is writable');
    t.notOk(fs.existsSync(path.join(src, 'x')), 'the writable probe cleaned up after itself');
    for (const d of ['/b', '/rb', '/ro-bind', '/file-bind']) t.ok(r.report.mountAt(d), `${d} is a mount point`);
  });

  check('propagation options: private, shared, slave, unbindable and their recursive forms', [
    'config.md#linux-mount-options/22', 'config.md#linux-mount-options/27', 'config.md#linux-mount-options/28', 'config.md#linux-mount-options/29',
    'config.md#linux-mount-options/30', 'config.md#linux-mount-options/32', 'config.md#linux-mount-options/34', 'config.md#linux-mount-options/38',
  ], async (t) => {
    const src = path.join(dir, 'prop-src');
    fs.mkdirSync(src, { recursive: true });
    t.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', src]).status, 0);
    t.equal(spawnSync('mount', ['--make-shared', src]).status, 0, 'a shared host mount');
    fs.mkdirSync(path.join(src, 'sub'));
    t.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', path.join(src, 'sub')]).status, 0, 'with a submount');
    const want: [string, RegExp][] = [
      ['private', /^$/], ['rprivate', /^$/], ['shared', /shared:\d+/], ['rshared', /shared:\d+/],
      ['slave', /master:\d+/], ['rslave', /master:\d+/], ['unbindable', /unbindable/], ['runbindable', /unbindable/],
    ];
    const r = runChecker(rt, { mutate: (c) => {
      for (const [p] of want) c.mounts.push({ destination: `/p-${p}`, type: 'bind', source: src, options: ['rbind', p] });
    } });
    t.equal(r.create.code, 0, r.create.stderr);
    for (const [p, re] of want) {
      const m = r.report.mountAt(`/p-${p}`);
      t.match(m?.optional.join(' ') ?? 'missing', re, `${p}: /p-${p} has "${m?.optional.join(' ')}"`);
      if (p.startsWith('r')) {
        const sub = r.report.mountAt(`/p-${p}/sub`);
        t.match(sub?.optional.join(' ') ?? 'missing', re, `${p} is recursive: /p-${p}/sub has "${sub?.optional.join(' ')}"`);
      }
    }
    if (r.report.mountAt('/p-private')?.optional.length === 0) {
      // a private bind must not have been made private by accident only: the shared one really shares
      t.notOk(r.report.mountAt('/p-slave')?.optional.some((o) => o.startsWith('shared:')), 'slave is not also shared');
    }
  });

  check('remount changes the flags of the mount at the destination', ['config.md#linux-mount-options/25'], async (t) => {
    const r = runChecker(rt, { probes: ['write:/r/x'], mutate: (c) => {
      c.mounts.push({ destination: '/r', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      c.mounts.push({ destination: '/r', type: 'tmpfs', source: 'tmpfs', options: ['remount', 'ro'] });
    } });
    t.equal(r.create.code, 0, r.create.stderr);
    const at = r.report.mounts.filter((m) => m.mountpoint === '/r');
    t.equal(at.length, 1, `one mount at /r (${at.length})`);
    t.ok(at[0]?.options.includes('ro'), 'now read-only');
    t.match(r.report.data('write:/r/x').join(' '), /Read-only file system/, 'writes fail with EROFS');
  });
}
