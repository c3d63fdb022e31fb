/**
 * src/plan/: config → plan for create and exec, pure. Every test gives the
 * planners made-up host facts (nothing of this host is read), and checks the
 * plans are deep-frozen once built.
 */
import t from 'tap';
import { RuntsError } from '../../../src/common/errors.js';
import { planCreate, withListenFds } from '../../../src/plan/create.js';
import { buildExecPlan, execBase, execProcessFromFlags, planExecLaunch } from '../../../src/plan/exec.js';
import { createFdLayout, execFdLayout, placeFds } from '../../../src/plan/fds.js';
import { deepFreeze } from '../../../src/plan/freeze.js';
import type { HostFacts } from '../../../src/plan/host-facts.js';
import { buildInitPlan, cgroupMountPaths, type PlanContext } from '../../../src/plan/init.js';
import { createNamespaces, execJoinArgs, mountNsMode, namespaceEntries, newUserNamespaceMappings } from '../../../src/plan/namespaces.js';
import type { Namespace, Spec } from '../../../src/spec/types.js';

const FACTS: HostFacts = { lastCap: 40, boundingSet: [0, 1, 2, 3, 5, 21], rootless: { euid: 0, egid: 0, initialUserns: true } };

function spec(namespaces: Namespace[] = [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }], extra: Partial<Spec> = {}): Spec {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', user: { uid: 0, gid: 0 }, args: ['sh'], env: ['PATH=/bin'], capabilities: { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] } },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/data', source: '/srv', options: ['rbind'] }],
    linux: { namespaces, maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] },
    ...extra,
  };
}

/** Every object reachable from v is frozen. */
function allFrozen(v: unknown, at = '$'): string[] {
  if (v === null || typeof v !== 'object') return [];
  const out = Object.isFrozen(v) ? [] : [at];
  for (const [k, x] of Object.entries(v)) out.push(...allFrozen(x, `${at}.${k}`));
  return out;
}

const ctx: PlanContext = { id: 'c1', bundle: '/b', stateDir: '/run/runts/c1', noPivot: false, preservedFds: 0, initPid: 4242 };

t.test('namespaces: one reader for nsboot, exec, the mount mode and the id checks', async (t) => {
  const s = spec([{ type: 'user' }, { type: 'mount' }, { type: 'pid' }, { type: 'network', path: '/run/netns/x' }, { type: 'cgroup' }, { type: 'time' }], {
    linux: { namespaces: [], timeOffsets: { monotonic: { secs: 2 ** 60, nanosecs: 5 } }, uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [] },
  });
  s.linux!.namespaces = [{ type: 'user' }, { type: 'mount' }, { type: 'pid' }, { type: 'network', path: '/run/netns/x' }, { type: 'cgroup' }, { type: 'time' }];
  const ns = createNamespaces(s, 5);
  // user | mount | pid | time; cgroup is unshared by the init, network joined
  t.same(ns.nsbootArgs, ['-s', '5', '-j', 'net=/run/netns/x', '-n', (0x10000000 | 0x20000 | 0x20000000 | 0x80).toString(16), '-u', '-t', 'monotonic=1152921504606846976 5']);
  t.same({ userns: ns.userns, pidns: ns.pidns, newPidns: ns.newPidns, mountns: ns.mountns, newCgroupns: ns.newCgroupns, newNetns: ns.newNetns },
    { userns: true, pidns: true, newPidns: true, mountns: 'new', newCgroupns: true, newNetns: false });
  t.same(execJoinArgs(s, 77), ['-j', 'user=/proc/77/ns/user', '-j', 'pid=/proc/77/ns/pid', '-j', 'net=/proc/77/ns/net', '-j', 'cgroup=/proc/77/ns/cgroup', '-j', 'time=/proc/77/ns/time'], 'exec: every type but mount, in nsboot\'s order');
  t.equal(mountNsMode(spec([])), 'host');
  t.equal(mountNsMode(spec([{ type: 'mount', path: '/proc/1/ns/mnt' }])), 'join');
  t.same(createNamespaces(spec([{ type: 'mount', path: '/proc/1/ns/mnt' }]), 3).nsbootArgs, ['-s', '3', '-n', '0'], 'a mount namespace by path is joined by the init, not nsboot');
  t.same(newUserNamespaceMappings(s.linux), { uid: [{ containerID: 0, hostID: 1000, size: 1 }], gid: [] });
  t.equal(newUserNamespaceMappings(spec([{ type: 'user', path: '/proc/1/ns/user' }]).linux), undefined, 'a joined user namespace has no mappings of ours');
  t.same(namespaceEntries(spec([{ type: 'pid' }, { type: 'ipc', path: '/x' }]).linux), [{ index: 0, type: 'pid' }, { index: 1, type: 'ipc', path: '/x' }]);
  t.throws(() => createNamespaces(spec([{ type: 'bogus' as never }]), 3), RuntsError);
});

t.test('fd layout: create and exec', async (t) => {
  const c = createFdLayout({ preserved: 2, console: true, bindTrees: 2, idmapUserns: 0, mountns: true, stderr: true });
  t.same({ sync: c.sync, start: c.start, console: c.console, bindTrees: c.bindTrees, mountns: c.mountns, stderr: c.stderr, size: c.size },
    { sync: 5, start: 6, console: 7, bindTrees: [8, 9], mountns: 10, stderr: 11, size: 12 });
  t.same(c.env, { _RUNTS_SYNC_FD: 5, _RUNTS_START_FD: 6 });
  const bare = createFdLayout({ preserved: 0, console: false, bindTrees: 0, idmapUserns: 2, mountns: false, stderr: false });
  t.same([bare.console, bare.idmapUserns, bare.size], [undefined, [5, 6], 7]);
  const e = execFdLayout({ preserved: 1, console: true });
  t.same([e.sync, e.mntns, e.root, e.console, e.size], [4, 5, 6, 7, 8]);
  t.same(e.env, { _RUNTS_SYNC_FD: 4, _RUNTS_MNTNS_FD: 5, _RUNTS_ROOT_FD: 6 });
  t.same(placeFds(e, 99, [[e.sync, 10], [e.mntns, 11], [e.root, 12], [e.console, 13]]), ['inherit', 'inherit', 99, 3, 10, 11, 12, 13]);
  t.throws(() => placeFds(e, undefined, [[e.sync, 10], [e.mntns, 11], [e.root, 12]]), /hole/, 'a missing fd is an internal error');
  t.throws(() => placeFds(e, undefined, [[e.sync, 10], [e.sync, 11]]), /does not fit/);
});

t.test('create plan: refusals and decisions before any effect, frozen', async (t) => {
  const req = { bundle: '/b', console: false };
  const root = FACTS.rootless;
  const p = planCreate(spec([{ type: 'user' }, { type: 'mount' }], { linux: { namespaces: [{ type: 'user' }, { type: 'mount' }], uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 10 }] } }), req, root);
  t.equal(p.rootfs, '/b/rootfs');
  t.same(p.bindTrees.map((m) => [m.index, m.source, m.recursive]), [[1, '/srv', true]], 'with a user namespace: the bind mounts the CLI makes');
  t.same(allFrozen(p), [], 'deep-frozen');
  t.equal(p.idMaps.kind, 'cli', 'root: the CLI writes the id maps');
  const user = { euid: 1000, egid: 1000, initialUserns: true };
  const own = planCreate(spec([{ type: 'user' }, { type: 'mount' }], { linux: { namespaces: [{ type: 'user' }, { type: 'mount' }], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] } }), req, user);
  t.equal(own.idMaps.kind, 'self', 'rootless, its own ids only: nsboot writes the maps');
  t.ok(own.namespaces.nsbootArgs.includes('-m') && !own.namespaces.nsbootArgs.includes('-u'), 'and nsboot is told so (-m/-g, no -u)');
  t.same(allFrozen(own), [], 'deep-frozen');
  t.equal(planCreate(spec(), req, root).bindTrees.length, 0, 'no user namespace: the init makes its bind mounts');

  const refused = (s: Spec, r: Parameters<typeof planCreate>[1] = req) => { try { planCreate(s, r, root); } catch (e) { return (e as RuntsError).pointer; } return 'none'; };
  t.equal(refused(spec(undefined, { linux: { namespaces: [{ type: 'mount' }], intelRdt: { closID: 'x' } } })), '/linux/intelRdt');
  t.equal(refused(spec(undefined, { linux: { namespaces: [{ type: 'mount' }], netDevices: { eth0: {} } } })), '/linux/netDevices');
  t.equal(refused(spec([{ type: 'pid' }])), '/linux/maskedPaths', 'masked paths need a mount namespace (runc)');
  t.equal(refused({ ...spec([{ type: 'pid' }]), linux: { namespaces: [{ type: 'pid' }], readonlyPaths: ['/x'] } }), '/linux/readonlyPaths');
  t.equal(refused({ ...spec([]), linux: {} }, { ...req, noPivot: true }), '/linux/namespaces', 'no-pivot needs a mount namespace');
  const tty = spec();
  tty.process!.terminal = true;
  t.equal(refused(tty), '/process/terminal', 'a terminal needs --console-socket');
  t.equal(refused(spec(), { ...req, console: true }), '/process/terminal', '--console-socket needs a terminal');
  t.equal(planCreate(spec(), { ...req, console: true, consoleOnlyIfTerminal: true }, root).console, false, 'run: the console only with a terminal');

  const base = spec();
  const listen = withListenFds(base, 2);
  t.same(listen.process!.env, ['PATH=/bin', 'LISTEN_FDS=2', 'LISTEN_PID=1']);
  t.same(base.process!.env, ['PATH=/bin'], 'the loaded config is not changed');
  t.equal(withListenFds(base, 0), base);
});

t.test('init plan: pure, from made-up facts, deep-frozen, the config untouched', async (t) => {
  const s = spec(undefined, { hooks: { createContainer: [{ path: '/bin/true' }] }, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }], mountLabel: 'l1' } });
  s.process!.capabilities = { bounding: ['CAP_CHOWN', 'CAP_SYS_RESOURCE'], permitted: ['CAP_CHOWN'] };
  const warnings: string[] = [];
  const plan = buildInitPlan(s, { ...ctx, cgroup: { mode: 'v1', paths: { memory: '/sys/fs/cgroup/memory/c1', cpu: '/sys/fs/cgroup/cpu,cpuacct/c1' } }, fds: { console: 5, stderr: 9 }, warn: (m) => warnings.push(m) },
    { ...FACTS, lsm: { apparmor: false, selinux: false }, cgroupV1: [{ mountpoint: '/sys/fs/cgroup/memory', controllers: ['memory'] }, { mountpoint: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] }] });
  t.same(allFrozen(plan), [], 'every object of the plan is frozen');
  t.throws(() => { (plan.process.env as string[]).push('X=1'); }, TypeError, 'a frozen plan cannot be changed');
  t.notOk(Object.isFrozen(s.hooks!.createContainer), 'the config it was built from is not frozen');
  t.equal(plan.state.pid, 1, 'a new pid namespace: the init is pid 1 in it');
  t.equal(plan.process.lastCap, 40, 'cap_last_cap from the facts');
  t.same(plan.process.capabilities.bounding, [0], 'the CLI\'s bounding set from the facts');
  t.match(warnings.join('\n'), /CAP_SYS_RESOURCE is not in runts's bounding set/);
  t.match(warnings.join('\n'), /mountLabel.*ignored/, 'mountLabel without SELinux: a warning');
  t.same([plan.consoleFd, plan.stderrFd, plan.mountnsFd, plan.bindTrees, plan.idmapUserns], [5, 9, undefined, undefined, undefined]);
  t.same(plan.rootfs.mounts.find((m) => m.destination === '/proc')!.cgroup, null);
  t.equal(plan.loopbackUp, true);
  t.same(cgroupMountPaths({ mode: 'v1', paths: { memory: '/m/c1', cpu: '/c/c1' } }, [{ mountpoint: '/sys/fs/cgroup/memory', controllers: ['memory'] }, { mountpoint: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] }, { mountpoint: '/sys/fs/cgroup/pids', controllers: ['pids'] }]),
    { memory: '/m/c1', 'cpu,cpuacct': '/c/c1' });
  t.same(cgroupMountPaths({ mode: 'v2', paths: { '': '/sys/fs/cgroup/c1' } }, []), { '': '/sys/fs/cgroup/c1' });
  const joined = buildInitPlan(spec([{ type: 'pid', path: '/proc/1/ns/pid' }, { type: 'mount' }]), ctx, FACTS);
  t.equal(joined.state.pid, 4242, 'a joined pid namespace: the pid the CLI sees');
  t.throws(() => buildInitPlan(spec(undefined, { linux: { namespaces: [{ type: 'mount' }], mountLabel: 'l' } }), ctx, FACTS), /internal error.*LSM/, 'a label without the LSM facts is a caller bug, not a guess');
  const label = buildInitPlan(spec(undefined, { mounts: [{ destination: '/t', type: 'tmpfs', source: 'tmpfs' }], linux: { namespaces: [{ type: 'mount' }], mountLabel: 'l2' } }), ctx, { ...FACTS, lsm: { apparmor: false, selinux: true } });
  t.same(label.rootfs.mounts[0]!.data, [{ key: 'context', value: 'l2' }], 'the mount label is planned into the mounts, not added after');
});

t.test('exec plan: launch decisions made once, reused, frozen', async (t) => {
  const s = spec([{ type: 'user' }, { type: 'pid' }, { type: 'mount' }], { linux: { namespaces: [{ type: 'user' }, { type: 'pid' }, { type: 'mount' }], seccomp: { defaultAction: 'SCMP_ACT_ALLOW' } } });
  s.process!.execCPUAffinity = { initial: '1', final: '0-1' };
  const proc = execProcessFromFlags(s.process, { args: ['ls'], env: ['A=1'] });
  const launch = planExecLaunch(s, proc, { initPid: 77, preservedFds: 1, console: true });
  t.same(launch.nsbootArgs, ['-s', '4', '-a', '1', '-n', '0', '-j', 'user=/proc/77/ns/user', '-j', 'pid=/proc/77/ns/pid']);
  t.same(allFrozen(launch), []);
  const state = { ociVersion: '1.3.0', id: 'c1', status: 'running' as const, pid: 77, bundle: '/b', annotations: {} };
  const plan = buildExecPlan(s, proc, FACTS, { launch, state });
  t.same(allFrozen(plan), [], 'deep-frozen');
  t.same(plan.process.execCPUAffinity, launch.affinity, "the launch's affinity");
  t.same(plan.process.execCPUAffinity, { initial: [1], final: [0, 1] });
  t.same([plan.preservedFds, plan.consoleFd, plan.userns], [1, 7, true]);
  t.same(plan.process.env, ['PATH=/bin', 'A=1']);
  t.same(plan.process.capabilities.bounding, [0], 'a user namespace: every capability is grantable');
  t.ok(plan.seccomp && plan.seccomp.instructions > 0);
  // the parts that depend only on the container's config can be made once and reused
  const base = execBase(s);
  t.same(buildExecPlan(s, proc, FACTS, { launch, state, base }).seccomp, plan.seccomp);
  // a launch's affinity is used as planned (not planned again from the process)
  const other = { ...launch, affinity: { final: [3] } };
  t.same(buildExecPlan(s, proc, FACTS, { launch: other, state }).process.execCPUAffinity, { final: [3] });
  t.throws(() => buildExecPlan(s, { ...proc, cwd: 'rel' }, FACTS, { launch, state }), /must be an absolute path/);
});

t.test('deepFreeze', async (t) => {
  const o = deepFreeze({ a: [{ b: 1 }], c: { d: 'x' } });
  t.same(allFrozen(o), []);
});
