import t from 'tap';
import { ConfigError, RuntsError } from '../../../src/common/errors.js';
import { MOUNT_ATTR as ATTR } from '../../../src/linux/abi.js';
import {
  DEFAULT_DEVICES, MOUNT_OPTIONS, cleanContainerPath, parseMountOptions, parsePropagation, planRootfs,
  type RootfsOptions,
} from '../../../src/plan/rootfs.js';
import { mountContaining, parseMountinfo } from '../../../src/linux/rootfs/mountinfo.js';
import type { Spec } from '../../../src/spec/types.js';

const opts: RootfsOptions = { bundle: '/b', noPivot: false, userns: false, cgroupns: false };

function spec(extra: Partial<Spec> = {}): Spec {
  return { ociVersion: '1.3.0', root: { path: 'rootfs' }, ...extra };
}

/** Every option of config.md's "Linux mount options" table. */
const SPEC_TABLE = `async atime bind defaults dev diratime dirsync exec iversion lazytime loud mand noatime nodev nodiratime
  noexec noiversion nolazytime nomand norelatime nostrictatime nosuid nosymfollow private ratime rbind rdev rdiratime relatime
  remount rexec rnoatime rnodiratime rnoexec rnorelatime rnostrictatime rnosuid rnosymfollow ro rprivate rrelatime rro rrw
  rshared rslave rstrictatime rsuid rsymfollow runbindable rw shared silent slave strictatime suid symfollow sync unbindable
  idmap ridmap tmpcopyup`.split(/\s+/);

t.test('MOUNT_OPTIONS lists every option of the spec table', async (t) => {
  for (const o of SPEC_TABLE) t.ok(MOUNT_OPTIONS.includes(o), o);
  t.same([...MOUNT_OPTIONS].sort(), MOUNT_OPTIONS, 'sorted');
  t.equal(new Set(MOUNT_OPTIONS).size, MOUNT_OPTIONS.length, 'no duplicates');
});

t.test('read-only and the simple attribute pairs; later options win', async (t) => {
  t.same(parseMountOptions(['ro']).attr, { set: ATTR.RDONLY, clr: 0 });
  t.equal(parseMountOptions(['ro']).readonly, true);
  t.same(parseMountOptions(['ro', 'rw']).attr, { set: 0, clr: ATTR.RDONLY });
  t.equal(parseMountOptions(['ro', 'rw']).readonly, false);
  t.equal(parseMountOptions([]).readonly, null);
  t.same(parseMountOptions(['rw', 'ro']).attr, { set: ATTR.RDONLY, clr: 0 });
  t.same(parseMountOptions(['nosuid', 'nodev', 'noexec']).attr, { set: ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC, clr: 0 });
  t.same(parseMountOptions(['suid', 'dev', 'exec']).attr, { set: 0, clr: ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC });
  t.same(parseMountOptions(['nosuid', 'suid']).attr, { set: 0, clr: ATTR.NOSUID });
  t.same(parseMountOptions(['dev', 'nodev']).attr, { set: ATTR.NODEV, clr: 0 });
  t.same(parseMountOptions(['nodiratime']).attr, { set: ATTR.NODIRATIME, clr: 0 });
  t.same(parseMountOptions(['diratime']).attr, { set: 0, clr: ATTR.NODIRATIME });
  t.same(parseMountOptions(['nosymfollow']).attr, { set: ATTR.NOSYMFOLLOW, clr: 0 });
  t.same(parseMountOptions(['symfollow']).attr, { set: 0, clr: ATTR.NOSYMFOLLOW });
  t.same(parseMountOptions(['defaults']).attr, { set: 0, clr: 0 });
});

t.test('atime family is one setting (MOUNT_ATTR__ATIME cleared when set)', async (t) => {
  t.same(parseMountOptions(['noatime']).attr, { set: ATTR.NOATIME, clr: ATTR.ATIME_MASK });
  t.same(parseMountOptions(['strictatime']).attr, { set: ATTR.STRICTATIME, clr: ATTR.ATIME_MASK });
  t.same(parseMountOptions(['relatime']).attr, { set: ATTR.RELATIME, clr: ATTR.ATIME_MASK });
  t.same(parseMountOptions(['noatime', 'strictatime']).attr, { set: ATTR.STRICTATIME, clr: ATTR.ATIME_MASK }, 'last wins');
  t.same(parseMountOptions(['noatime', 'atime']).attr, { set: 0, clr: 0 }, 'atime undoes noatime');
  t.same(parseMountOptions(['relatime', 'norelatime']).attr, { set: 0, clr: 0 }, 'norelatime undoes relatime');
  t.same(parseMountOptions(['strictatime', 'nostrictatime']).attr, { set: 0, clr: 0 });
  t.same(parseMountOptions(['strictatime', 'atime']).attr, { set: ATTR.STRICTATIME, clr: ATTR.ATIME_MASK }, 'atime only undoes noatime');
  t.same(parseMountOptions(['noatime', 'nodiratime']).attr, { set: ATTR.NOATIME | ATTR.NODIRATIME, clr: ATTR.ATIME_MASK });
});

t.test('recursive variants go to recAttr', async (t) => {
  const p = parseMountOptions(['rro', 'rnosuid', 'rnodev', 'rnoexec', 'rnodiratime', 'rnosymfollow', 'rnoatime']);
  t.same(p.recAttr, {
    set: ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC | ATTR.NODIRATIME | ATTR.NOSYMFOLLOW | ATTR.NOATIME,
    clr: ATTR.ATIME_MASK,
  });
  t.same(p.attr, { set: 0, clr: 0 });
  const q = parseMountOptions(['rrw', 'rsuid', 'rdev', 'rexec', 'rdiratime', 'rsymfollow']);
  t.same(q.recAttr, { set: 0, clr: ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC | ATTR.NODIRATIME | ATTR.NOSYMFOLLOW });
  t.same(parseMountOptions(['rro', 'rrw']).recAttr, { set: 0, clr: ATTR.RDONLY });
  t.same(parseMountOptions(['rstrictatime']).recAttr, { set: ATTR.STRICTATIME, clr: ATTR.ATIME_MASK });
  t.same(parseMountOptions(['rrelatime']).recAttr, { set: ATTR.RELATIME, clr: ATTR.ATIME_MASK });
  t.same(parseMountOptions(['rnoatime', 'ratime']).recAttr, { set: 0, clr: 0 });
  t.same(parseMountOptions(['rrelatime', 'rnorelatime']).recAttr, { set: 0, clr: 0 });
  t.same(parseMountOptions(['rstrictatime', 'rnostrictatime']).recAttr, { set: 0, clr: 0 });
  t.same(parseMountOptions(['ro', 'rrw']).attr, { set: ATTR.RDONLY, clr: 0 }, 'ro and rrw are independent');
});

t.test('bind, rbind and propagation', async (t) => {
  t.same(pick(parseMountOptions(['bind'])), { bind: true, recursive: false });
  t.same(pick(parseMountOptions(['rbind'])), { bind: true, recursive: true });
  t.same(pick(parseMountOptions(['bind', 'rbind'])), { bind: true, recursive: true });
  t.same(pick(parseMountOptions(['ro'])), { bind: false, recursive: false });
  const p = parseMountOptions(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable']);
  t.same(p.propagation, [
    { type: 'private', recursive: false }, { type: 'private', recursive: true },
    { type: 'shared', recursive: false }, { type: 'shared', recursive: true },
    { type: 'slave', recursive: false }, { type: 'slave', recursive: true },
    { type: 'unbindable', recursive: false }, { type: 'unbindable', recursive: true },
  ], 'in option order');
  t.same(parsePropagation('rslave'), { type: 'slave', recursive: true });
  t.equal(parsePropagation('ro'), null);
  t.equal(parsePropagation('bogus'), null);
});

function pick(p: ReturnType<typeof parseMountOptions>): { bind: boolean; recursive: boolean } {
  return { bind: p.bind, recursive: p.recursive };
}

t.test('idmap, ridmap, tmpcopyup', async (t) => {
  t.same(parseMountOptions(['idmap']).idmap, { recursive: false });
  t.same(parseMountOptions(['ridmap']).idmap, { recursive: true });
  t.equal(parseMountOptions(['rbind']).idmap, null);
  t.equal(parseMountOptions(['nosuid', 'tmpcopyup']).copyUp, 1, 'tmpcopyup: the index of the option (for error pointers)');
  t.equal(parseMountOptions(['nosuid']).copyUp, null);
  t.same(parseMountOptions(['tmpcopyup']).data, [], 'tmpcopyup is not filesystem data');
});

t.test('plan: tmpcopyup is for tmpfs only', async (t) => {
  const p = planRootfs(spec({ mounts: [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'nosuid', 'tmpcopyup'] }] }), opts);
  t.equal(p.mounts[0]!.copyUp, true);
  t.equal(p.mounts[0]!.remount, false);
  t.same(p.mounts[0]!.data, []);
  const bind = t.throws(() => planRootfs(spec({ mounts: [
    { destination: '/x', type: 'tmpfs', source: 'tmpfs' },
    { destination: '/y', source: '/src', options: ['rbind', 'tmpcopyup'] },
  ] }), opts)) as ConfigError;
  t.ok(bind instanceof ConfigError);
  t.equal(bind.pointer, '/mounts/1/options/1');
  t.match(bind.message, /tmpcopyup.*only valid for tmpfs.*bind mount/);
  const proc = t.throws(() => planRootfs(spec({ mounts: [{ destination: '/proc', type: 'proc', source: 'proc', options: ['tmpcopyup', 'nosuid'] }] }), opts)) as ConfigError;
  t.equal(proc.pointer, '/mounts/0/options/0');
  t.match(proc.message, /only valid for tmpfs mounts, not type "proc"/);
  const re = t.throws(() => planRootfs(spec({ mounts: [{ destination: '/x', type: 'tmpfs', options: ['remount', 'tmpcopyup'] }] }), opts)) as ConfigError;
  t.equal(re.pointer, '/mounts/0/options/1');
});

t.test('plan: remount changes the mount at the destination, with mount(2) MS_REMOUNT flag semantics', async (t) => {
  const p = planRootfs(spec({ mounts: [
    { destination: '/r', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'nosuid'] },
    { destination: '/r', type: 'tmpfs', source: 'tmpfs', options: ['remount', 'ro', 'nodev'] },
    { destination: '/r', type: 'tmpfs', options: ['remount', 'noatime', 'size=2m'] },
    { destination: '/b', options: ['bind', 'remount', 'ro'] },
    { destination: '/sys', type: 'sysfs', options: ['remount', 'ro'] },
  ] }), opts);
  const [first, ro, atime, bind, sys] = p.mounts;
  t.equal(first!.remount, false);
  t.equal(ro!.remount, true);
  t.equal(ro!.kind, 'fs');
  const ALL = ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC | ATTR.NODIRATIME | ATTR.NOSYMFOLLOW;
  t.same(ro!.attr, { set: ATTR.RDONLY | ATTR.NODEV, clr: ALL & ~(ATTR.RDONLY | ATTR.NODEV) }, 'flags not given are cleared; atime kept');
  t.same(ro!.sbFlags, ['ro'], 'superblock ro');
  t.same(atime!.attr, { set: ATTR.NOATIME, clr: ALL | ATTR.ATIME_MASK }, 'an atime mode replaces the old one');
  t.same(atime!.sbFlags, ['rw'], 'no ro: the superblock is made read-write, as mount(2) does');
  t.same(atime!.data, [{ key: 'size', value: '2m' }]);
  t.equal(bind!.kind, 'bind');
  t.equal(bind!.remount, true);
  t.equal(bind!.source, null, 'a bind remount needs no source');
  t.same(bind!.sbFlags, [], 'a bind remount never touches the superblock');
  t.same(sys!.sbFlags, [], 'nor does a remount of a filesystem shared with the host');
  t.equal(p.setupDev, true, 'a bind remount of /dev is not a bind of the host\'s /dev');
  t.equal(planRootfs(spec({ mounts: [{ destination: '/', options: ['remount', 'nosuid'] }] }), opts).mounts[0]!.destination, '/',
    'a remount of / is allowed (it mounts nothing over it)');
  const idm = t.throws(() => planRootfs(spec({ mounts: [{ destination: '/b', options: ['bind', 'remount', 'idmap'], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }] }), opts)) as ConfigError;
  t.equal(idm.pointer, '/mounts/0/options');
  const dev = planRootfs(spec({ mounts: [
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['ro'] },
    { destination: '/dev', type: 'tmpfs', options: ['remount', 'ro', 'nosuid'] },
  ] }), opts);
  t.equal(dev.devReadonly, true, 'a read-only remount of /dev: /dev is made read-only after the devices exist');
  t.same(dev.mounts.map((m) => m.attr.set & ATTR.RDONLY), [0, 0]);
  t.same(dev.mounts.map((m) => m.sbFlags.includes('ro')), [false, false]);
});

t.test('plan: /dev/console with a terminal', async (t) => {
  t.equal(planRootfs(spec(), opts).console, false);
  t.equal(planRootfs(spec({ process: { cwd: '/', user: { uid: 0, gid: 0 }, terminal: true } }), opts).console, true);
  t.equal(planRootfs(spec({
    process: { cwd: '/', user: { uid: 0, gid: 0 }, terminal: true },
    mounts: [{ destination: '/dev', source: '/dev', options: ['rbind'] }],
  }), opts).console, false, 'not with the host\'s /dev bind-mounted');
});

t.test('unknown options become filesystem data, like runc', async (t) => {
  const p = parseMountOptions(['nosuid', 'size=65536k', 'mode=755', 'newinstance', 'ptmxmode=0666', 'key=', 'lowerdir=/a:/b', 'x=y=z', '']);
  t.same(p.data, [
    { key: 'size', value: '65536k' }, { key: 'mode', value: '755' }, { key: 'newinstance', value: null },
    { key: 'ptmxmode', value: '0666' }, { key: 'key', value: '' }, { key: 'lowerdir', value: '/a:/b' }, { key: 'x', value: 'y=z' },
  ]);
  t.same(parseMountOptions(['toString', 'constructor', '__proto__']).data.map((d) => d.key), ['toString', 'constructor', '__proto__'],
    'object prototype names are not options');
});

t.test('superblock flags', async (t) => {
  t.same(parseMountOptions(['sync']).sbFlags, ['sync']);
  t.same(parseMountOptions(['sync', 'async']).sbFlags, ['async']);
  t.same(parseMountOptions(['dirsync', 'lazytime']).sbFlags, ['dirsync', 'lazytime']);
  t.same(parseMountOptions(['lazytime', 'nolazytime']).sbFlags, ['nolazytime']);
  t.same(parseMountOptions(['silent', 'loud', 'iversion', 'noiversion', 'mand', 'nomand', 'remount', 'defaults']).sbFlags, []);
  t.same(parseMountOptions(['silent', 'loud', 'iversion', 'mand', 'remount']).data, [], 'no-op options are not data');
  t.equal(parseMountOptions(['remount']).remount, true);
  t.equal(parseMountOptions(['ro']).remount, false);
});

t.test('cleanContainerPath', async (t) => {
  t.equal(cleanContainerPath('/a/b'), '/a/b');
  t.equal(cleanContainerPath('a/b/'), '/a/b');
  t.equal(cleanContainerPath('//a/./b/../c'), '/a/c');
  t.equal(cleanContainerPath('/../../etc'), '/etc');
  t.equal(cleanContainerPath('/'), '/');
  t.equal(cleanContainerPath(''), '/');
});

t.test('plan: rootfs, propagation, read-only root, paths', async (t) => {
  const p = planRootfs(spec(), opts);
  t.equal(p.rootfs, '/b/rootfs');
  t.same(p.rootPropagation, { type: 'slave', recursive: true }, 'runc: / is made rslave by default');
  t.equal(p.rootfsPropagation, null);
  t.equal(p.readonlyRoot, false);
  t.equal(planRootfs(spec({ root: { path: '/abs/root', readonly: true } }), opts).rootfs, '/abs/root');
  t.equal(planRootfs(spec({ root: { path: '/abs/root', readonly: true } }), opts).readonlyRoot, true);
  const sh = planRootfs(spec({ linux: { rootfsPropagation: 'shared' } }), opts);
  t.same(sh.rootPropagation, { type: 'shared', recursive: false });
  t.same(sh.rootfsPropagation, { type: 'shared', recursive: false });
  t.same(planRootfs(spec({ linux: { rootfsPropagation: 'rprivate' } }), opts).rootfsPropagation, { type: 'private', recursive: true });
  const unb = planRootfs(spec({ linux: { rootfsPropagation: 'unbindable' } }), opts);
  t.same(unb.rootPropagation, { type: 'private', recursive: false }, 'unbindable only once the rootfs is bound');
  t.same(unb.rootfsPropagation, { type: 'unbindable', recursive: false });
  const e = t.throws(() => planRootfs(spec({ linux: { rootfsPropagation: 'sideways' } }), opts)) as ConfigError;
  t.equal(e.pointer, '/linux/rootfsPropagation');
  t.match(e.message, /rootfsPropagation=sideways is not supported/);
  t.throws(() => planRootfs(spec(), { ...opts, bundle: 'relative' }), RuntsError);
  t.throws(() => planRootfs({ ociVersion: '1.3.0' }, opts), ConfigError);
  const mp = planRootfs(spec({ linux: { maskedPaths: ['/proc/kcore', '/proc/../sys/firmware/'], readonlyPaths: ['/proc/sys'] } }), opts);
  t.same(mp.maskedPaths, ['/proc/kcore', '/sys/firmware']);
  t.same(mp.readonlyPaths, ['/proc/sys']);
  // relative or NUL paths are refused by validation (src/spec/semantic-linux.ts), not a second time here
  t.equal(p.noPivot, false);
  t.equal(planRootfs(spec(), { ...opts, noPivot: true }).noPivot, true);
});

t.test('plan: mounts in config order with everything parsed', async (t) => {
  const p = planRootfs(spec({
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/data', type: 'none', source: 'vol', options: ['rbind', 'ro', 'rnosuid', 'rprivate'] },
      { destination: 'tmp/../work', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m', 'ro'] },
      { destination: '/etc/hosts', type: 'bind', source: '/etc/hosts' },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro', 'nosuid'] },
    ],
  }), opts);
  t.same(p.mounts.map((m) => [m.kind, m.destination, m.source, m.fstype]), [
    ['fs', '/proc', 'proc', 'proc'],
    ['bind', '/data', '/b/vol', 'bind'],
    ['fs', '/work', 'tmpfs', 'tmpfs'],
    ['bind', '/etc/hosts', '/etc/hosts', 'bind'],
    ['fs', '/sys', 'sysfs', 'sysfs'],
  ]);
  const data = p.mounts[1]!;
  t.equal(data.recursive, true, 'rbind');
  t.same(data.attr, { set: ATTR.RDONLY, clr: 0 });
  t.same(data.recAttr, { set: ATTR.NOSUID, clr: 0 });
  t.same(data.propagation, [{ type: 'private', recursive: true }]);
  t.equal(p.mounts[3]!.recursive, false, 'type bind without options: a plain bind');
  t.same(p.mounts[2]!.data, [{ key: 'size', value: '1m' }]);
  t.same(p.mounts[2]!.sbFlags, ['ro'], 'a read-only tmpfs gets a read-only superblock');
  t.same(p.mounts[4]!.sbFlags, [], 'never superblock flags on sysfs (shared with the host)');
  t.same(p.mounts[4]!.attr, { set: ATTR.RDONLY | ATTR.NOSUID, clr: 0 });
  t.same(JSON.parse(JSON.stringify(p)), p, 'JSON round trip');

  const noType = t.throws(() => planRootfs(spec({ mounts: [{ destination: '/x', source: 'y' }] }), opts)) as ConfigError;
  t.equal(noType.pointer, '/mounts/0/type');
  const noSrc = t.throws(() => planRootfs(spec({ mounts: [{ destination: '/x', options: ['bind'] }] }), opts)) as ConfigError;
  t.equal(noSrc.pointer, '/mounts/0/source');
  const copyup = t.throws(() => planRootfs(spec({ mounts: [{ destination: '/x', type: 'none', source: 'x', options: ['tmpcopyup'] }] }), opts)) as ConfigError;
  t.equal(copyup.pointer, '/mounts/0/options/0');
  t.throws(() => planRootfs(spec({ mounts: [{ destination: '/x\0y', type: 'tmpfs' }] }), opts), ConfigError);
  t.throws(() => planRootfs(spec({ mounts: [{ destination: '/a/..', type: 'tmpfs' }] }), opts), /not supported/);
});

t.test('plan: idmapped mounts', async (t) => {
  const maps = { uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }], gidMappings: [{ containerID: 0, hostID: 2000, size: 10 }] };
  const p = planRootfs(spec({ mounts: [{ destination: '/m', source: '/src', options: ['rbind', 'ridmap'], ...maps }] }), opts);
  t.same(p.mounts[0]!.idmap, { recursive: true, ...maps });
  const implicit = planRootfs(spec({ mounts: [{ destination: '/m', source: '/src', options: ['bind'], ...maps }] }), opts);
  t.same(implicit.mounts[0]!.idmap, { recursive: false, ...maps }, 'mappings without the option: a non-recursive idmap');
  const fromNs = planRootfs(spec({
    mounts: [{ destination: '/m', source: '/src', options: ['bind', 'idmap'] }],
    linux: { uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] },
  }), { ...opts, userns: true });
  t.same(fromNs.mounts[0]!.idmap!.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }], 'the container\'s user namespace mapping');
  t.throws(() => planRootfs(spec({ mounts: [{ destination: '/m', source: '/src', options: ['bind', 'idmap'] }] }), opts), /no user namespace/);
  t.throws(() => planRootfs(spec({ mounts: [{ destination: '/m', source: '/src', options: ['bind'], uidMappings: maps.uidMappings }] }), opts), /together/);
  t.throws(() => planRootfs(spec({
    mounts: [{ destination: '/m', source: '/src', options: ['bind'], uidMappings: [{ containerID: 0, hostID: 1, size: 0 }], gidMappings: maps.gidMappings }],
  }), opts), /size must be positive/);
});

t.test('plan: devices', async (t) => {
  const p = planRootfs(spec(), opts);
  t.same(p.devices.map((d) => d.path), ['/dev/null', '/dev/random', '/dev/full', '/dev/tty', '/dev/zero', '/dev/urandom']);
  t.same(p.devices[0], { path: '/dev/null', type: 'c', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 });
  t.equal(p.setupDev, true);
  t.equal(p.bindDevices, false);
  t.same(p.devSymlinks.map((l) => [l.path, l.target, l.replace]), [
    ['/dev/ptmx', 'pts/ptmx', true], ['/dev/fd', '/proc/self/fd', false], ['/dev/stdin', '/proc/self/fd/0', false],
    ['/dev/stdout', '/proc/self/fd/1', false], ['/dev/stderr', '/proc/self/fd/2', false], ['/dev/core', '/proc/kcore', false],
  ]);
  t.equal(p.devSymlinks.find((l) => l.path === '/dev/core')!.ifHostPathExists, '/proc/kcore');

  const c = planRootfs(spec({
    linux: {
      devices: [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o20666, uid: 1, gid: 2 },
        { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600 },
        { path: '/dev/sda', type: 'b', major: 8, minor: 0 },
        { path: '/dev/tty0', type: 'u', major: 4, minor: 0 },
        { path: '/run/fifo', type: 'p' },
        { path: '/dev/ptmx', type: 'c', major: 5, minor: 2 },
      ],
    },
  }), opts);
  t.same(c.devices.map((d) => d.path), ['/dev/random', '/dev/full', '/dev/tty', '/dev/zero', '/dev/urandom',
    '/dev/fuse', '/dev/null', '/dev/sda', '/dev/tty0', '/run/fifo', '/dev/ptmx'], 'a configured path replaces the default');
  t.same(c.devices.find((d) => d.path === '/dev/fuse'), { path: '/dev/fuse', type: 'c', major: 10, minor: 229, mode: 0o666, uid: 1, gid: 2 }, 'S_IFMT bits stripped');
  t.equal(c.devices.find((d) => d.path === '/dev/null')!.mode, 0o600);
  t.equal(c.devices.find((d) => d.path === '/dev/sda')!.mode, 0o666, 'default mode');
  t.equal(c.devices.find((d) => d.path === '/dev/tty0')!.type, 'c', 'u is an unbuffered char device');
  t.same(c.devices.find((d) => d.path === '/run/fifo'), { path: '/run/fifo', type: 'p', major: 0, minor: 0, mode: 0o666, uid: 0, gid: 0 });
  t.notOk(c.devSymlinks.some((l) => l.path === '/dev/ptmx'), 'no ptmx symlink when the config defines /dev/ptmx');
  t.throws(() => planRootfs(spec({ linux: { devices: [{ path: '/dev/x', type: 'c' }] } }), opts), /major and minor/);
  t.throws(() => planRootfs(spec({ linux: { devices: [{ path: '/dev/x', type: 'z', major: 1, minor: 1 }] } }), opts), /unknown device type/);
  t.throws(() => planRootfs(spec({ linux: { devices: [{ path: 'dev/x', type: 'c', major: 1, minor: 1 }] } }), opts), /absolute/);

  t.equal(planRootfs(spec(), { ...opts, userns: true }).bindDevices, true, 'a user namespace binds host devices');
  t.same(DEFAULT_DEVICES.map((d) => `${d.major}:${d.minor}`), ['1:3', '1:8', '1:7', '5:0', '1:5', '1:9']);

  const hostDev = planRootfs(spec({ mounts: [{ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }] }), opts);
  t.equal(hostDev.setupDev, false, 'runc: /dev bound from the host is left alone');
  t.same(hostDev.devices, []);
  t.same(hostDev.devSymlinks, []);
});

t.test('plan: a read-only /dev is made read-only after the devices exist', async (t) => {
  const p = planRootfs(spec({ mounts: [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'nosuid', 'mode=755'] }] }), opts);
  t.equal(p.devReadonly, true);
  t.same(p.mounts[0]!.attr, { set: ATTR.NOSUID, clr: 0 });
  t.same(p.mounts[0]!.sbFlags, []);
  t.equal(planRootfs(spec({ mounts: [{ destination: '/dev', type: 'tmpfs', options: ['nosuid'] }] }), opts).devReadonly, false);
});

t.test('plan: cgroup mounts', async (t) => {
  const m = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] };
  const v2ns = planRootfs(spec({ mounts: [m] }), { ...opts, cgroupns: true, cgroupMode: 'v2', cgroupPaths: { '': '/sys/fs/cgroup/ctr' } });
  t.equal(v2ns.mounts[0]!.kind, 'cgroup');
  t.same(v2ns.mounts[0]!.cgroup, {
    mode: 'v2', namespace: true, strategy: 'fresh', binds: [{ name: '', source: '/sys/fs/cgroup/ctr' }], readonly: true, symlinks: [],
  });
  const v2 = planRootfs(spec({ mounts: [{ ...m, options: ['nosuid'] }] }), { ...opts, cgroupPaths: { '': '/sys/fs/cgroup/ctr' } });
  t.equal(v2.mounts[0]!.cgroup!.strategy, 'bind', 'no cgroupns: bind the container\'s own cgroup');
  t.equal(v2.mounts[0]!.cgroup!.readonly, false, 'as runc: writable unless ro is asked for');
  t.equal(v2.mounts[0]!.cgroup!.mode, 'v2', 'v2 by default');
  const rw = planRootfs(spec({ mounts: [{ ...m, options: ['rw'] }] }), { ...opts, cgroupPaths: { '': '/x' } });
  t.equal(rw.mounts[0]!.cgroup!.readonly, false);
  t.equal(planRootfs(spec({ mounts: [m] }), opts).mounts[0]!.cgroup!.binds[0]!.source, null, 'no path: found at apply time');

  const v1 = planRootfs(spec({ mounts: [m] }), {
    ...opts, cgroupMode: 'hybrid',
    cgroupPaths: { 'cpu,cpuacct': '/h/cpu,cpuacct/c1', memory: '/h/memory/c1', systemd: '/h/systemd/c1', '': '/h/unified/c1' },
  });
  const cg = v1.mounts[0]!.cgroup!;
  t.equal(cg.strategy, 'tmpfs+binds');
  t.same(cg.binds, [
    { name: 'cpu,cpuacct', source: '/h/cpu,cpuacct/c1' }, { name: 'memory', source: '/h/memory/c1' },
    { name: 'systemd', source: '/h/systemd/c1' }, { name: 'unified', source: '/h/unified/c1' },
  ]);
  t.same(cg.symlinks, [{ name: 'cpu', target: 'cpu,cpuacct' }, { name: 'cpuacct', target: 'cpu,cpuacct' }]);
  // no paths (a rootless container without a cgroup): an empty tmpfs, no binds
  const none = planRootfs(spec({ mounts: [m] }), { ...opts, cgroupMode: 'v1' }).mounts[0]!.cgroup!;
  t.equal(none.strategy, 'tmpfs+binds');
  t.same(none.binds, []);
  t.throws(() => planRootfs(spec({ mounts: [m] }), { ...opts, cgroupMode: 'v1', cgroupPaths: { '../x': '/y' } }), /bad cgroup hierarchy/);
  const cg2 = planRootfs(spec({ mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup2' }] }), opts);
  t.equal(cg2.mounts[0]!.kind, 'fs', 'type cgroup2 is a plain filesystem mount, like runc');
});

t.test('mountinfo parsing', async (t) => {
  const mi = parseMountinfo([
    '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
    '64 27 0:39 / /proc rw,nosuid - proc proc rw',
    '70 27 0:40 /sub /my\\040dir ro master:3 propagate_from:2 - tmpfs tmp\\134fs rw,size=4k',
    '',
  ].join('\n'));
  t.equal(mi.length, 3);
  t.same(mi[0]!.optional, ['shared:1']);
  t.same(mi[2], {
    id: 70, parent: 27, major: 0, minor: 40, root: '/sub', mountpoint: '/my dir', options: ['ro'],
    optional: ['master:3', 'propagate_from:2'], fstype: 'tmpfs', source: 'tmp\\fs', superOptions: ['rw', 'size=4k'],
  });
  t.equal(mountContaining(mi, '/proc/sys')!.id, 64);
  t.equal(mountContaining(mi, '/process')!.id, 27, 'component-wise prefix');
  t.equal(mountContaining(mi, '/my dir/x')!.id, 70);
});
