/**
 * The pure planning side of issue 3: config values → plan data, and the
 * ConfigError (with its JSON pointer) for each invalid or unsupported value.
 * Also the functions that build what the init writes (LSM attr path +
 * content, struct sched_attr, nodemask), since the real LSM writes cannot
 * happen on a host without AppArmor/SELinux.
 */
import t, { type Test } from 'tap';
import { ConfigError, SyscallError } from '../../../src/common/errors.js';
import { buildInitPlan, type PlanContext } from '../../../src/plan/init.js';
import { planSeccomp } from '../../../src/plan/process.js';
import type { HostFacts } from '../../../src/plan/host-facts.js';
import { deadlineNeedsResetOnFork } from '../../../src/init/security.js';
import { bitmask, parseCpuList, planExecAffinity } from '../../../src/linux/affinity.js';
import { planIoPriority } from '../../../src/linux/iopriority.js';
import { applyLsmWrites, lsmWrites, planMountLabel, planProcessLsm, type LsmStatus } from '../../../src/linux/lsm.js';
import { nodemaskArgs, planMemoryPolicy } from '../../../src/linux/mempolicy.js';
import { planPersonality } from '../../../src/linux/personality.js';
import type { ProcfsHandle } from '../../../src/linux/procfs.js';
import { planRootfs } from '../../../src/plan/rootfs.js';
import { planScheduler, schedAttr, SCHED_ATTR_SIZE } from '../../../src/linux/scheduler.js';
import { checkNotifyRules, containerProcessState } from '../../../src/linux/seccomp-agent.js';
import { planSysctls, sysctlPath } from '../../../src/linux/sysctl.js';
import { sysctlNamespace } from '../../../src/spec/semantic.js';
import type { Process, Spec } from '../../../src/spec/types.js';

function spec(extra: Partial<Spec> = {}, proc: Partial<Process> = {}): Spec {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', user: { uid: 0, gid: 0 }, args: ['sh'], ...proc },
    linux: { namespaces: [{ type: 'mount' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }] },
    ...extra,
  };
}

/** Run fn and return the ConfigError it throws (or fail). */
function configError(t: Test, fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    t.type(e, ConfigError);
    return e as ConfigError;
  }
  t.fail('expected a ConfigError');
  return new ConfigError('/', 'none');
}

const ctx: PlanContext = { id: 'c1', bundle: '/b', stateDir: '/run/runts/c1', noPivot: false, preservedFds: 0, initPid: 1 };
const NO_LSM: LsmStatus = { apparmor: false, selinux: false };
const ALL_LSM: LsmStatus = { apparmor: true, selinux: true };
/** Made-up host facts: planning reads nothing of this host. */
const facts = (lsm: LsmStatus): HostFacts => ({ lastCap: 40, lsm, rootless: { euid: 0, egid: 0, initialUserns: true } });

t.test('sysctl: key → procfs path, in config order', async (t) => {
  t.equal(sysctlPath('net.ipv4.ip_forward'), 'sys/net/ipv4/ip_forward');
  t.equal(sysctlPath('net/ipv4/conf/eth0.100/forwarding'), 'sys/net/ipv4/conf/eth0.100/forwarding', 'slash form keeps the dots');
  t.equal(sysctlPath('fs.mqueue.msg_max'), 'sys/fs/mqueue/msg_max');
  for (const bad of ['net..ipv4', 'net/../../etc', 'net.', '/net/x']) {
    t.equal(configError(t, () => sysctlPath(bad)).pointer, `/linux/sysctl/${bad.replace(/\//g, '~1')}`, bad);
  }
  t.same(planSysctls(spec({ linux: { sysctl: { 'net.core.somaxconn': '256', 'kernel.shmmax': '1' } } })), [
    { key: 'net.core.somaxconn', path: 'sys/net/core/somaxconn', value: '256' },
    { key: 'kernel.shmmax', path: 'sys/kernel/shmmax', value: '1' },
  ]);
  t.same(planSysctls(spec()), []);
});

t.test('sysctl namespaces (issue 3 rules)', async (t) => {
  for (const k of ['kernel.shmmax', 'kernel.shm_rmid_forced', 'kernel.shm_next_id', 'kernel.msgmnb', 'kernel.msg_next_id', 'kernel.sem', 'kernel.sem_next_id', 'fs.mqueue.queues_max']) {
    t.equal(sysctlNamespace(k), 'ipc', k);
  }
  t.equal(sysctlNamespace('net.ipv6.conf.all.disable_ipv6'), 'network');
  t.equal(sysctlNamespace('kernel.hostname'), 'uts');
  t.equal(sysctlNamespace('kernel.domainname'), 'uts');
  for (const k of ['kernel.semaphores', 'kernel.pid_max', 'vm.swappiness', 'fs.file-max', 'kernel.core_pattern']) {
    t.equal(sysctlNamespace(k), undefined, k);
  }
});

t.test('LSM: missing LSM is a ConfigError naming it and the pointer; status only asked when needed', async (t) => {
  let asked = 0;
  const status = (s: LsmStatus) => () => { asked++; return s; };
  t.same(planProcessLsm({ cwd: '/', user: { uid: 0, gid: 0 } }, status(NO_LSM)), {});
  t.same(planProcessLsm({ cwd: '/', user: { uid: 0, gid: 0 }, apparmorProfile: '', selinuxLabel: '' }, status(NO_LSM)), {}, 'empty strings are "not set"');
  t.equal(asked, 0, 'no detection without a label');

  const aa = configError(t, () => planProcessLsm({ cwd: '/', user: { uid: 0, gid: 0 }, apparmorProfile: 'docker-default' }, status(NO_LSM)));
  t.equal(aa.pointer, '/process/apparmorProfile');
  t.match(aa.message, /AppArmor is not enabled on this host \(\/sys\/module\/apparmor\/parameters\/enabled is missing or not "Y"\): cannot apply the AppArmor profile "docker-default"/);
  const se = configError(t, () => planProcessLsm({ cwd: '/', user: { uid: 0, gid: 0 }, selinuxLabel: 'system_u:system_r:container_t:s0' }, status({ apparmor: true, selinux: false })));
  t.equal(se.pointer, '/process/selinuxLabel');
  t.match(se.message, /SELinux is not enabled on this host/);
  const warned: string[] = [];
  t.equal(planMountLabel(spec({ linux: { mountLabel: 'system_u:object_r:container_file_t:s0' } }), status(NO_LSM), (m) => warned.push(m)), undefined, 'mountLabel without SELinux: ignored (runc, crun)');
  t.match(warned.join('\n'), /\/linux\/mountLabel: SELinux is not enabled .* is ignored/);
  t.equal(configError(t, () => planProcessLsm({ cwd: '/', user: { uid: 0, gid: 0 }, apparmorProfile: 'a\nb' }, status(ALL_LSM))).pointer, '/process/apparmorProfile');

  t.same(planProcessLsm({ cwd: '/', user: { uid: 0, gid: 0 }, apparmorProfile: 'p', selinuxLabel: 'l' }, status(ALL_LSM)), { apparmorProfile: 'p', selinuxLabel: 'l' });
});

t.test('LSM: the writes (path below procfs + content)', async (t) => {
  t.same(lsmWrites({}), []);
  t.same(lsmWrites({ apparmorProfile: 'docker-default' }), [{
    lsm: 'apparmor', path: 'thread-self/attr/apparmor/exec', fallback: 'thread-self/attr/exec', content: 'exec docker-default', pointer: '/process/apparmorProfile',
  }]);
  const label = 'system_u:system_r:container_t:s0:c1,c2';
  t.same(lsmWrites({ selinuxLabel: label }), [
    { lsm: 'selinux', path: 'thread-self/attr/exec', content: label, pointer: '/process/selinuxLabel' },
    { lsm: 'selinux', path: 'thread-self/attr/keycreate', content: label, pointer: '/process/selinuxLabel' },
  ]);

  // Applying goes through the handle; ENOENT on attr/apparmor/exec falls back to attr/exec.
  const calls: string[] = [];
  const fake = {
    writeFile(rel: string, content: string) {
      calls.push(`${rel}=${content}`);
      if (rel === 'thread-self/attr/apparmor/exec') throw new SyscallError('openat2', 2, `/proc/${rel}`);
    },
  } as unknown as ProcfsHandle;
  applyLsmWrites(lsmWrites({ apparmorProfile: 'p1' }), fake);
  t.same(calls, ['thread-self/attr/apparmor/exec=exec p1', 'thread-self/attr/exec=exec p1']);
  const failing = { writeFile() { throw new SyscallError('write', 13, '/proc/thread-self/attr/exec'); } } as unknown as ProcfsHandle;
  t.throws(() => applyLsmWrites(lsmWrites({ selinuxLabel: 'l' }), failing), { message: /SELinux: cannot set "l": write \/proc\/thread-self\/attr\/exec: EACCES/, pointer: '/process/selinuxLabel', errno: 'EACCES' });
});

t.test('mountLabel: context= on fresh filesystems only (runc rules)', async (t) => {
  const s = spec({
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts' },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' },
      { destination: '/sys', type: 'sysfs', source: 'sysfs' },
      { destination: '/data', source: '/srv', options: ['bind'] },
      { destination: '/t2', type: 'tmpfs', source: 'tmpfs', options: ['context=user_u:object_r:x_t:s0'] },
    ],
    linux: { mountLabel: 'system_u:object_r:container_file_t:s0:c1,c2', namespaces: [{ type: 'mount' }] },
  });
  const rootfs = planRootfs(s, { bundle: '/b', noPivot: false, userns: false, cgroupns: false, mountLabel: planMountLabel(s, () => ALL_LSM) });
  const ctxOf = (dest: string) => rootfs.mounts.find((m) => m.destination === dest)!.data.filter((d) => d.key === 'context').map((d) => d.value);
  t.same(ctxOf('/dev'), ['system_u:object_r:container_file_t:s0:c1,c2'], 'tmpfs: unquoted (one fsconfig string)');
  t.same(ctxOf('/dev/pts'), ['system_u:object_r:container_file_t:s0:c1,c2']);
  for (const d of ['/proc', '/sys', '/dev/mqueue', '/data']) t.same(ctxOf(d), [], `${d}: none`);
  t.same(ctxOf('/t2'), ['user_u:object_r:x_t:s0'], "the config's own context= wins");

  const plan = buildInitPlan(s, ctx, facts(ALL_LSM));
  t.same(plan.rootfs.mounts.find((m) => m.destination === '/dev')!.data.at(-1), { key: 'context', value: 'system_u:object_r:container_file_t:s0:c1,c2' });
  t.same(buildInitPlan(s, ctx, facts(NO_LSM)).rootfs.mounts.find((m) => m.destination === '/dev')!.data.filter((d) => d.key === 'context'), [], 'no context= without SELinux');
});

t.test('personality', async (t) => {
  t.equal(planPersonality(spec()), undefined);
  t.equal(planPersonality(spec({ linux: { personality: { domain: 'LINUX' } } })), 0);
  t.equal(planPersonality(spec({ linux: { personality: { domain: 'LINUX32' } } })), 8);
  t.equal(configError(t, () => planPersonality(spec({ linux: { personality: { domain: 'SVR4' } } }))).pointer, '/linux/personality/domain');
  t.equal(configError(t, () => planPersonality(spec({ linux: { personality: { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] } } }))).pointer, '/linux/personality/flags');
});

t.test('scheduler: plan and struct sched_attr', async (t) => {
  const proc = (scheduler: object) => ({ cwd: '/', user: { uid: 0, gid: 0 }, scheduler } as Process);
  const p = planScheduler(proc({ policy: 'SCHED_DEADLINE', runtime: 1_000_000, deadline: 5_000_000, period: 10_000_000, flags: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_DL_OVERRUN'] }))!;
  t.same(p, { policy: 'SCHED_DEADLINE', policyValue: 6, flags: 0x05, nice: 0, priority: 0, runtime: '1000000', deadline: '5000000', period: '10000000' });
  const b = schedAttr(p);
  t.equal(b.length, SCHED_ATTR_SIZE);
  t.equal(b.readUInt32LE(0), 56, 'size');
  t.equal(b.readUInt32LE(4), 6, 'sched_policy');
  t.equal(b.readBigUInt64LE(8), 5n, 'sched_flags');
  t.equal(b.readBigUInt64LE(24), 1_000_000n, 'sched_runtime');
  t.equal(b.readBigUInt64LE(32), 5_000_000n, 'sched_deadline');
  t.equal(b.readBigUInt64LE(40), 10_000_000n, 'sched_period');
  const n = schedAttr(planScheduler(proc({ policy: 'SCHED_OTHER', nice: -5, flags: ['SCHED_FLAG_UTIL_CLAMP_MAX'] }))!);
  t.equal(n.readInt32LE(16), -5, 'sched_nice');
  t.equal(n.readUInt32LE(48), 0, 'util_min untouched');
  t.equal(n.readUInt32LE(52), 0xffffffff, 'util_max reset to the default, not clamped to 0');
  const rr = schedAttr(planScheduler(proc({ policy: 'SCHED_RR', priority: 42 }))!);
  t.equal(rr.readUInt32LE(20), 42, 'sched_priority');
  t.equal(planScheduler({ cwd: '/', user: { uid: 0, gid: 0 } }), undefined);

  for (const [s, pointer] of [
    [{ policy: 'SCHED_BOGUS' }, '/process/scheduler/policy'],
    [{ policy: 'SCHED_ISO' }, '/process/scheduler/policy'],
    [{ policy: 'SCHED_OTHER', flags: ['SCHED_FLAG_X'] }, '/process/scheduler/flags/0'],
    [{ policy: 'SCHED_OTHER', nice: 20 }, '/process/scheduler/nice'],
    [{ policy: 'SCHED_FIFO' }, '/process/scheduler/priority'],
    [{ policy: 'SCHED_BATCH', priority: 1 }, '/process/scheduler/priority'],
    [{ policy: 'SCHED_DEADLINE', runtime: 1 }, '/process/scheduler'],
    [{ policy: 'SCHED_DEADLINE', runtime: 10, deadline: 5 }, '/process/scheduler/runtime'],
    [{ policy: 'SCHED_DEADLINE', runtime: 1, deadline: 10, period: 5 }, '/process/scheduler/deadline'],
    [{ policy: 'SCHED_DEADLINE', runtime: -1, deadline: 10 }, '/process/scheduler/runtime'],
  ] as const) {
    t.equal(configError(t, () => planScheduler(proc(s))).pointer, pointer, JSON.stringify(s));
  }
});

t.test('scheduler: SCHED_DEADLINE gets reset-on-fork for the startContainer hooks unless it has it', async (t) => {
  const withSched = (scheduler: object, hooks: boolean) => buildInitPlan(spec({ hooks: hooks ? { startContainer: [{ path: '/bin/true' }] } : {} }, { scheduler } as Partial<Process>), ctx, facts(NO_LSM));
  t.equal(deadlineNeedsResetOnFork(withSched({ policy: 'SCHED_DEADLINE', runtime: 1e6, deadline: 1e7 }, true)), true);
  t.equal(deadlineNeedsResetOnFork(withSched({ policy: 'SCHED_DEADLINE', runtime: 1e6, deadline: 1e7 }, false)), false);
  t.equal(deadlineNeedsResetOnFork(withSched({ policy: 'SCHED_DEADLINE', runtime: 1e6, deadline: 1e7, flags: ['SCHED_FLAG_RESET_ON_FORK'] }, true)), false);
  t.equal(deadlineNeedsResetOnFork(withSched({ policy: 'SCHED_FIFO', priority: 1 }, true)), false);
});

t.test('ioPriority', async (t) => {
  const proc = (ioPriority: object) => ({ cwd: '/', user: { uid: 0, gid: 0 }, ioPriority } as Process);
  t.same(planIoPriority(proc({ class: 'IOPRIO_CLASS_BE', priority: 4 })), { class: 'IOPRIO_CLASS_BE', priority: 4, value: (2 << 13) | 4 });
  t.equal(planIoPriority(proc({ class: 'IOPRIO_CLASS_RT', priority: 0 }))!.value, 1 << 13);
  t.equal(planIoPriority(proc({ class: 'IOPRIO_CLASS_IDLE', priority: 7 }))!.value, (3 << 13) | 7);
  t.equal(configError(t, () => planIoPriority(proc({ class: 'IOPRIO_CLASS_NONE', priority: 0 }))).pointer, '/process/ioPriority/class');
  t.equal(configError(t, () => planIoPriority(proc({ class: 'IOPRIO_CLASS_BE', priority: 8 }))).pointer, '/process/ioPriority/priority');
  t.equal(configError(t, () => planIoPriority(proc({ class: 'IOPRIO_CLASS_BE' }))).pointer, '/process/ioPriority');
});

t.test('CPU lists and execCPUAffinity', async (t) => {
  t.same(parseCpuList('0-3,7', '/p'), [0, 1, 2, 3, 7]);
  t.same(parseCpuList(' 5 , 1-2,2 ', '/p'), [1, 2, 5], 'spaces, duplicates, order');
  t.same(parseCpuList('63-65', '/p'), [63, 64, 65]);
  for (const bad of ['', '1-', '-1', 'a', '3-1', '1,,2', '0-8192', '1 2']) {
    const e = configError(t, () => parseCpuList(bad, '/process/execCPUAffinity/final'));
    t.equal(e.pointer, '/process/execCPUAffinity/final', JSON.stringify(bad));
  }
  const m = bitmask([0, 2, 64]);
  t.equal(m.length, 16, 'two unsigned longs');
  t.equal(m.readBigUInt64LE(0), 5n);
  t.equal(m.readBigUInt64LE(8), 1n);
  const proc = (a: object) => ({ cwd: '/', user: { uid: 0, gid: 0 }, execCPUAffinity: a } as Process);
  t.same(planExecAffinity(proc({ initial: '7', final: '0-3,7' })), { initial: [7], final: [0, 1, 2, 3, 7] });
  t.equal(planExecAffinity(proc({ final: '' })), undefined, 'empty: leave it to the kernel');
  t.equal(configError(t, () => planExecAffinity(proc({ initial: '2-1' }))).pointer, '/process/execCPUAffinity/initial');
});

t.test('memoryPolicy', async (t) => {
  const mp = (memoryPolicy: object) => spec({ linux: { memoryPolicy } as Spec['linux'] });
  t.same(planMemoryPolicy(mp({ mode: 'MPOL_INTERLEAVE', nodes: '0-1,3', flags: ['MPOL_F_STATIC_NODES'] })), { mode: 'MPOL_INTERLEAVE', modeValue: 3 | (1 << 15), nodes: [0, 1, 3] });
  t.same(planMemoryPolicy(mp({ mode: 'MPOL_BIND', nodes: '2', flags: ['MPOL_F_NUMA_BALANCING'] })), { mode: 'MPOL_BIND', modeValue: 2 | (1 << 13), nodes: [2] });
  t.same(planMemoryPolicy(mp({ mode: 'MPOL_LOCAL' })), { mode: 'MPOL_LOCAL', modeValue: 4, nodes: [] });
  t.same(planMemoryPolicy(mp({ mode: 'MPOL_WEIGHTED_INTERLEAVE', nodes: '0' }))!.modeValue, 6);
  t.same(planMemoryPolicy(mp({ mode: 'MPOL_PREFERRED_MANY', nodes: '0' }))!.modeValue, 5);
  t.equal(planMemoryPolicy(spec()), undefined);
  for (const [v, pointer] of [
    [{ mode: 'MPOL_BOGUS' }, '/linux/memoryPolicy/mode'],
    [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_X'] }, '/linux/memoryPolicy/flags/0'],
    [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }, '/linux/memoryPolicy/flags'],
    [{ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }, '/linux/memoryPolicy/flags'],
    [{ mode: 'MPOL_DEFAULT', nodes: '0' }, '/linux/memoryPolicy/nodes'],
    [{ mode: 'MPOL_LOCAL', flags: ['MPOL_F_STATIC_NODES'] }, '/linux/memoryPolicy/flags'],
    [{ mode: 'MPOL_BIND' }, '/linux/memoryPolicy'],
    [{ mode: 'MPOL_BIND', nodes: '1-0' }, '/linux/memoryPolicy/nodes'],
    [{ mode: 'MPOL_BIND', nodes: '1024' }, '/linux/memoryPolicy/nodes'],
  ] as const) {
    t.equal(configError(t, () => planMemoryPolicy(mp(v))).pointer, pointer, JSON.stringify(v));
  }
  t.same(nodemaskArgs([]), { mask: null, maxnode: 0 });
  const { mask, maxnode } = nodemaskArgs([0, 3]);
  t.equal(mask!.readBigUInt64LE(0), 9n);
  t.equal(maxnode, 65, 'bits + 1: get_nodes() starts with --maxnode');
});

t.test('seccomp notify: planning and the agent message', async (t) => {
  const notifySpec = (syscalls: object[], extra: object = {}) => spec({
    linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', ...extra, syscalls } } as Spec['linux'],
  });
  const s = notifySpec([{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }], { listenerMetadata: 'm1' });
  const p = planSeccomp(s, () => {})!;
  t.same(p.notify, { listenerPath: '/run/agent.sock', metadata: 'm1' });
  t.ok(p.flags & 8, 'SECCOMP_FILTER_FLAG_NEW_LISTENER');
  t.equal(planSeccomp(notifySpec([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }]), () => {})!.notify, undefined);
  t.equal(buildInitPlan(s, ctx, facts(NO_LSM)).seccomp!.notify!.listenerPath, '/run/agent.sock');

  for (const name of ['write', 'sendmsg']) {
    const e = configError(t, () => checkNotifyRules({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir', name], action: 'SCMP_ACT_NOTIFY' }] }));
    t.equal(e.pointer, '/linux/seccomp/syscalls/1/names/1', name);
    t.match(e.message, `SCMP_ACT_NOTIFY cannot be used for the ${name} syscall`);
  }
  t.doesNotThrow(() => checkNotifyRules({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['write'], action: 'SCMP_ACT_ERRNO' }] }));

  const state = { ociVersion: '1.3.0', id: 'c1', status: 'created' as const, pid: 1, bundle: '/b', annotations: { a: 'b' } };
  t.same(containerProcessState(state, 4242, 'meta'), {
    ociVersion: '1.3.0', fds: ['seccompFd'], pid: 4242, metadata: 'meta',
    state: { ociVersion: '1.3.0', id: 'c1', status: 'created', pid: 4242, bundle: '/b', annotations: { a: 'b' } },
  });
  t.notOk('metadata' in containerProcessState(state, 4242), 'no metadata key without listenerMetadata');
  const running = { ...state, status: 'running' as const, pid: 777 };
  t.same(containerProcessState(running, 4243, undefined, true), {
    ociVersion: '1.3.0', fds: ['seccompFd'], pid: 4243,
    state: { ociVersion: '1.3.0', id: 'c1', status: 'running', pid: 777, bundle: '/b', annotations: { a: 'b' } },
  }, 'exec: pid is the exec\'d process, state.pid stays the init\'s (runc)');
});

t.test('buildInitPlan carries the new fields', async (t) => {
  const s = spec({
    linux: {
      namespaces: [{ type: 'mount' }, { type: 'network' }],
      sysctl: { 'net.ipv4.ip_forward': '1' },
      personality: { domain: 'LINUX32' },
      memoryPolicy: { mode: 'MPOL_BIND', nodes: '0' },
    },
  }, {
    scheduler: { policy: 'SCHED_BATCH', nice: 3 },
    ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 2 },
    execCPUAffinity: { final: '0' },
  });
  const p = buildInitPlan(s, ctx, facts(NO_LSM));
  t.same(p.sysctl, [{ key: 'net.ipv4.ip_forward', path: 'sys/net/ipv4/ip_forward', value: '1' }]);
  t.equal(p.personality, 8);
  t.same(p.memoryPolicy, { mode: 'MPOL_BIND', modeValue: 2, nodes: [0] });
  t.equal(p.process.scheduler?.policyValue, 3);
  t.equal(p.process.ioPriority?.value, (2 << 13) | 2);
  t.same(p.process.execCPUAffinity, { final: [0] });
  t.same(JSON.parse(JSON.stringify(p)).sysctl, p.sysctl, 'plain JSON data');
});
