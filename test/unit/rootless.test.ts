/** The pure decisions of rootless runts (src/container/rootless.ts, src/cgroups/rootless.ts). */
import t from 'tap';
import { defaultStateRoot, isInitialUserns, mapMethod, rootlessMode, rootlessRefusals, withMapMethod, type RootlessFacts } from '../../src/container/rootless.js';
import { hasLimits, neededCgroupKeys, rootlessCgroupChoice, rootlessResources, v2CommonAncestor } from '../../src/cgroups/rootless.js';
import { defaultSpec } from '../../src/spec/default-spec.js';
import type { Spec } from '../../src/spec/types.js';

const user: RootlessFacts = { euid: 1001, egid: 1002, initialUserns: true, xdgRuntimeDir: '/run/user/1001' };
const root: RootlessFacts = { euid: 0, egid: 0, initialUserns: true };
const nsRoot: RootlessFacts = { euid: 0, egid: 0, initialUserns: false };

t.test('--rootless auto|true|false', async (t) => {
  t.equal(rootlessMode('auto', user), true);
  t.equal(rootlessMode(undefined, root), false);
  t.equal(rootlessMode('auto', nsRoot), true, 'root in a user namespace that is not the initial one (rootless podman)');
  t.equal(rootlessMode('true', root), true);
  t.equal(rootlessMode('false', user), false);
  t.throws(() => rootlessMode('maybe', user), /want true, false or auto/);
});

t.test('the initial user namespace', async (t) => {
  t.ok(isInitialUserns('         0          0 4294967295\n'));
  t.notOk(isInitialUserns('         0       1001          1\n'));
  t.notOk(isInitialUserns('0 0 4294967295\n1 1 1\n'));
});

t.test('default state root', async (t) => {
  t.equal(defaultStateRoot(root), '/run/runts');
  t.equal(defaultStateRoot(nsRoot), '/run/runts');
  t.equal(defaultStateRoot({ ...nsRoot, xdgRuntimeDir: '/run/user/1001', user: 'alice' }), '/run/user/1001/runts', 'root in a user namespace with XDG_RUNTIME_DIR (rootless podman), as runc');
  t.equal(defaultStateRoot({ ...nsRoot, xdgRuntimeDir: '/run/user/0', user: 'root' }), '/run/runts');
  t.equal(defaultStateRoot({ ...root, xdgRuntimeDir: '/run/user/0', user: 'alice' }), '/run/runts', 'real root: always /run/runts');
  t.equal(defaultStateRoot(user), '/run/user/1001/runts');
  t.throws(() => defaultStateRoot({ ...user, xdgRuntimeDir: undefined }), /XDG_RUNTIME_DIR is not set: give the state directory with --root/);
  t.throws(() => defaultStateRoot({ ...user, xdgRuntimeDir: 'relative' }), /XDG_RUNTIME_DIR/);
});

function rootlessSpec(uid: number, gid: number): Spec {
  const s = defaultSpec({ rootless: true });
  s.linux!.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
  return s;
}

t.test('who writes the maps', async (t) => {
  const own = rootlessSpec(1001, 1002);
  t.same(mapMethod(own, root), { kind: 'cli' });
  t.same(mapMethod(own, nsRoot), { kind: 'cli' });
  t.same(mapMethod(own, user), { kind: 'self', uidLine: '0 1001 1', gidLine: '0 1002 1' });
  const ranges = rootlessSpec(1001, 1002);
  ranges.linux!.uidMappings!.push({ containerID: 1, hostID: 100000, size: 65536 });
  t.same(mapMethod(ranges, user), { kind: 'helpers', newuidmap: ['0', '1001', '1', '1', '100000', '65536'], newgidmap: ['0', '1002', '1'] });
  // someone else's id (or a range of size > 1) is for the helpers to allow or refuse
  t.equal(mapMethod(rootlessSpec(0, 0), user).kind, 'helpers');
  const wide = rootlessSpec(1001, 1002);
  wide.linux!.uidMappings![0]!.size = 2;
  t.equal(mapMethod(wide, user).kind, 'helpers');
  // nsboot's arguments
  const args = ['-s', '3', '-n', '20000', '-u'];
  t.same(withMapMethod(args, { kind: 'cli' }), args);
  t.same(withMapMethod(args, { kind: 'helpers', newuidmap: [], newgidmap: [] }), [...args, '-h']);
  t.same(withMapMethod(args, { kind: 'self', uidLine: '0 1001 1', gidLine: '0 1002 1' }), ['-s', '3', '-n', '20000', '-m', '0 1001 1', '-g', '0 1002 1']);
});

t.test('what a rootless container cannot have', async (t) => {
  const ok = rootlessSpec(1001, 1002);
  t.equal(rootlessRefusals(ok, user, 'new'), undefined);
  const noUserns = defaultSpec();
  const e1 = rootlessRefusals(noUserns, user, 'new');
  t.match(e1?.message, /needs a user namespace/);
  t.equal(e1?.pointer, '/linux/namespaces');
  const noMaps = rootlessSpec(1001, 1002);
  delete noMaps.linux!.uidMappings;
  t.equal(rootlessRefusals(noMaps, user, 'new')?.pointer, '/linux/uidMappings');
  const joined = rootlessSpec(1001, 1002);
  joined.linux!.namespaces = joined.linux!.namespaces!.map((n) => (n.type === 'user' ? { type: 'user', path: '/proc/1/ns/user' } : n));
  delete joined.linux!.uidMappings;
  t.equal(rootlessRefusals(joined, user, 'new'), undefined, 'a joined user namespace has its maps');
  t.match(rootlessRefusals(ok, user, 'host')?.message, /mount namespace of its own/);
  const idmap = rootlessSpec(1001, 1002);
  idmap.mounts!.push({ destination: '/data', type: 'bind', source: '/tmp', options: ['bind', 'idmap'] });
  const e2 = rootlessRefusals(idmap, user, 'new');
  t.match(e2?.message, /idmapped mounts need CAP_SYS_ADMIN in the initial user namespace/);
  t.equal(e2?.pointer, `/mounts/${idmap.mounts!.length - 1}`);
  t.equal(rootlessRefusals(idmap, nsRoot, 'new'), undefined, 'root of a user namespace is left to the kernel');
  t.equal(rootlessRefusals(noUserns, nsRoot, 'new'), undefined, 'rootless podman: the container shares the runtime\'s user namespace');
});

t.test('rootless cgroups: limits and the hierarchies they need', async (t) => {
  t.notOk(hasLimits(undefined));
  t.notOk(hasLimits({ devices: [{ allow: false, access: 'rwm' }] }), 'device rules are not limits');
  t.notOk(hasLimits({ hugepageLimits: [], unified: {} }));
  t.ok(hasLimits({ pids: { limit: 0 } }), 'pids.limit 0 is a limit');
  t.ok(hasLimits({ memory: { limit: 1 << 20 } }));
  t.same(rootlessResources({ ...defaultSpec(), linux: { resources: { devices: [{ allow: false }], pids: { limit: 5 } } } }), { pids: { limit: 5 } });
  t.same(neededCgroupKeys({}, 'v1'), []);
  t.same(neededCgroupKeys({ pids: { limit: 5 } }, 'v1'), ['pids']);
  t.same(neededCgroupKeys({ pids: { limit: 5 } }, 'v2'), ['']);
  t.same(neededCgroupKeys({ memory: { limit: 1 << 20 }, unified: { 'memory.high': '1' } }, 'hybrid').sort(), ['', 'memory']);
});

t.test('rootless cgroups: use what is writable, skip the rest, fail only for a needed one', async (t) => {
  const paths = { pids: '/sys/fs/cgroup/pids/u/c', memory: '/sys/fs/cgroup/memory/u/c', '': '/sys/fs/cgroup/unified/u/c' };
  const none = rootlessCgroupChoice(paths, {}, []);
  t.same(none.keep, {});
  t.same(Object.keys(none.skipped).sort(), ['', 'memory', 'pids']);
  t.equal(none.error, undefined, 'nothing writable and no limits: no cgroup, no error');
  const some = rootlessCgroupChoice(paths, { pids: true }, ['pids']);
  t.same(some.keep, { pids: paths.pids });
  t.equal(some.error, undefined);
  const fail = rootlessCgroupChoice(paths, { pids: true }, ['pids', 'memory']);
  t.match(fail.error, /limits are configured but cannot be applied: the cgroup memory \(\/sys\/fs\/cgroup\/memory\/u\/c\) is not writable/);
  t.match(rootlessCgroupChoice({ '': '/sys/fs/cgroup/a' }, {}, ['']).error, /cgroup2 \(\/sys\/fs\/cgroup\/a\)/);
});

t.test('runts spec --rootless is runc\'s rootless default', async (t) => {
  const s = defaultSpec({ rootless: true });
  t.same(s.linux!.namespaces!.map((n) => n.type), ['pid', 'ipc', 'uts', 'mount', 'user']);
  t.equal(s.linux!.resources, undefined);
  t.same(s.mounts!.find((m) => m.destination === '/sys'), { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  t.notOk(s.mounts!.find((m) => m.type === 'devpts')!.options!.some((o) => o.startsWith('gid=')));
});

t.test('cgroup v2: the common ancestor whose cgroup.procs a move needs', async (t) => {
  const m = '/sys/fs/cgroup';
  t.equal(v2CommonAncestor(m, '/', '/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope', `${m}/user.slice/user-1000.slice/user@1000.service/ctr/c1`), `${m}/user.slice/user-1000.slice/user@1000.service`, 'inside the delegated user@ subtree');
  t.equal(v2CommonAncestor(m, '/', '/', `${m}/runts/c1`), m, 'a runtime at the root: the root');
  t.equal(v2CommonAncestor(m, '/', '/a/bc', `${m}/a/b/c`), `${m}/a`, 'by components, not characters');
  t.equal(v2CommonAncestor(m, '/ns', '/ns/x', `${m}/y`), m, 'a cgroup namespace\'s root mounted');
  t.equal(v2CommonAncestor(m, '/ns', '/other', `${m}/y`), undefined, 'own cgroup outside the mount');
});
