/**
 * Process attributes in real containers, read back from inside:
 * process.scheduler (/proc/PID/stat policy = field 41, rt_priority = 40,
 * nice = 19), process.ioPriority (busybox ionice), linux.personality
 * (/proc/self/personality, uname -m), linux.memoryPolicy (/proc/PID/numa_maps
 * shows the task policy), process.execCPUAffinity (validated, not applied to
 * the init), and the LSM fields on a host without AppArmor/SELinux (a clear
 * error, nothing left behind).
 */
import * as fs from 'node:fs';
import t from 'tap';
import { makeBundle, uniqueId, withRunts } from '../helpers/runts.js';
import { apparmorEnabled, selinuxEnabled } from '../../src/linux/lsm.js';
import { assertNothingLeft, runArgs, runSh, statFields, type Cfg } from './helpers.js';

withRunts((rt) => {
  /**
   * With CONFIG_RT_GROUP_SCHED and cgroup v1, a cpu cgroup without real-time
   * bandwidth refuses SCHED_FIFO/RR (EPERM), and runts' parent cgroup has
   * none: put the container right below the root, with some bandwidth.
   */
  const rtCgroup = fs.existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us');
  const withRtBandwidth = (c: Cfg) => {
    if (!rtCgroup) return;
    c.linux.cgroupsPath = `/${uniqueId('runts-rt')}`;
    c.linux.resources = { cpu: { realtimeRuntime: 50000, realtimePeriod: 1000000 } };
  };

  /** Policy, rt_priority and nice of pid 1 (the shell) and of a forked child (cat; not the last command, which sh would exec in place). */
  const schedOf = (mutate: (c: Cfg) => void) => {
    const r = runSh(rt, 'cat /proc/1/stat; cat /proc/self/stat; true', mutate);
    const [init, child] = r.stdout.trim().split('\n').map(statFields);
    return { r, init, child };
  };

  t.test('scheduler: SCHED_BATCH with a nice value', async (t) => {
    const { r, init, child } = schedOf((c) => { c.process.scheduler = { policy: 'SCHED_BATCH', nice: 7 }; });
    t.equal(r.code, 0, r.stderr);
    t.equal(init?.[41], '3', 'policy SCHED_BATCH (3)');
    t.equal(init?.[19], '7', 'nice 7');
    t.equal(child?.[41], '3', 'inherited by children');
  });

  t.test('scheduler: SCHED_IDLE', async (t) => {
    const { r, init } = schedOf((c) => { c.process.scheduler = { policy: 'SCHED_IDLE' }; });
    t.equal(r.code, 0, r.stderr);
    t.equal(init?.[41], '5');
  });

  t.test('scheduler: SCHED_FIFO priority 10, and SCHED_RR with RESET_ON_FORK', async (t) => {
    const fifo = schedOf((c) => { c.process.scheduler = { policy: 'SCHED_FIFO', priority: 10 }; withRtBandwidth(c); });
    t.equal(fifo.r.code, 0, fifo.r.stderr);
    t.equal(fifo.init?.[41], '1', 'policy SCHED_FIFO (1)');
    t.equal(fifo.init?.[40], '10', 'rt_priority 10');
    t.equal(fifo.child?.[41], '1', 'children inherit it');

    const rr = schedOf((c) => { c.process.scheduler = { policy: 'SCHED_RR', priority: 3, flags: ['SCHED_FLAG_RESET_ON_FORK'] }; withRtBandwidth(c); });
    t.equal(rr.r.code, 0, rr.r.stderr);
    t.equal(rr.init?.[41], '2', 'policy SCHED_RR (2)');
    t.equal(rr.init?.[40], '3');
    t.equal(rr.child?.[41], '0', 'RESET_ON_FORK: the child is SCHED_OTHER');
    t.equal(rr.child?.[40], '0');

    if (rtCgroup) {
      const r = runSh(rt, 'true', (c) => { c.process.scheduler = { policy: 'SCHED_FIFO', priority: 10 }; });
      t.not(r.code, 0, 'no real-time bandwidth in the container cgroup');
      t.match(r.stderr, /sched_setattr\(SCHED_FIFO\): EPERM .*realtimeRuntime/, 'the error says why');
      assertNothingLeft(t, rt, r.id);
    }
  });

  t.test('scheduler: SCHED_DEADLINE (no fork: a deadline task may not fork)', async (t) => {
    const r = runArgs(rt, ['cat', '/proc/self/stat'], (c) => {
      c.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 2_000_000, deadline: 10_000_000, period: 10_000_000 };
    });
    t.equal(r.code, 0, r.stderr);
    t.equal(statFields(r.stdout.trim())[41], '6', 'policy SCHED_DEADLINE (6)');
  });

  t.test('scheduler: SCHED_DEADLINE with startContainer hooks: the hooks can fork, the policy holds', async (t) => {
    const r = runArgs(rt, ['cat', '/proc/self/stat'], (c) => {
      c.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 2_000_000, deadline: 10_000_000, period: 10_000_000 };
      c.hooks = { startContainer: [{ path: '/bin/true' }] };
    });
    t.equal(r.code, 0, r.stderr);
    t.equal(statFields(r.stdout.trim())[41], '6');
  });

  t.test('scheduler: invalid values are rejected before anything runs', async (t) => {
    for (const [sched, pointer] of [
      [{ policy: 'SCHED_FIFO', priority: 0 }, '/process/scheduler/priority'],
      [{ policy: 'SCHED_OTHER', nice: 40 }, '/process/scheduler/nice'],
      [{ policy: 'SCHED_ISO' }, '/process/scheduler/policy'],
      [{ policy: 'SCHED_DEADLINE', runtime: 5, deadline: 1 }, '/process/scheduler/runtime'],
    ] as const) {
      const r = runSh(rt, 'true', (c) => { c.process.scheduler = sched; });
      t.not(r.code, 0, JSON.stringify(sched));
      t.match(r.stderr, pointer);
      assertNothingLeft(t, rt, r.id);
    }
  });

  t.test('ioPriority: class and level, inherited by children', async (t) => {
    for (const [cls, prio, want] of [
      ['IOPRIO_CLASS_BE', 6, /best-effort: prio 6/],
      ['IOPRIO_CLASS_RT', 2, /realtime: prio 2/],
      ['IOPRIO_CLASS_IDLE', 0, /idle/],
    ] as const) {
      const r = runSh(rt, 'ionice -p 1; ionice; true', (c) => { c.process.ioPriority = { class: cls, priority: prio }; });
      t.equal(r.code, 0, r.stderr);
      const [init, child] = r.stdout.trim().split('\n');
      t.match(init, want, `${cls} ${prio} on pid 1`);
      t.match(child, want, 'and on a child');
    }
  });

  t.test('personality: LINUX32 and LINUX', async (t) => {
    const r32 = runSh(rt, 'cat /proc/self/personality; uname -m', (c) => { c.linux.personality = { domain: 'LINUX32' }; });
    t.equal(r32.code, 0, r32.stderr);
    const [pers, machine] = r32.stdout.trim().split('\n');
    t.equal(pers, '00000008', 'PER_LINUX32');
    if (process.arch === 'x64') t.equal(machine, 'i686', 'uname shows a 32-bit machine');
    const r = runSh(rt, 'cat /proc/self/personality', (c) => { c.linux.personality = { domain: 'LINUX' }; });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.trim(), '00000000');
    const bad = runSh(rt, 'true', (c) => { c.linux.personality = { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] }; });
    t.not(bad.code, 0);
    t.match(bad.stderr, '/linux/personality/flags');
    assertNothingLeft(t, rt, bad.id);
  });

  const numa = fs.existsSync('/proc/self/numa_maps') && fs.existsSync('/sys/devices/system/node/node0');
  t.test('memoryPolicy: the task policy shows in numa_maps', { skip: numa ? false : 'no NUMA support' }, async (t) => {
    const policyOf = (mp: object) => {
      const r = runSh(rt, 'head -n1 /proc/1/numa_maps; head -n1 /proc/self/numa_maps; true', (c) => { c.linux.memoryPolicy = mp; });
      return { r, lines: r.stdout.trim().split('\n').map((l) => l.split(' ')[1]) };
    };
    for (const [mp, want] of [
      [{ mode: 'MPOL_BIND', nodes: '0' }, 'bind:0'],
      [{ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }, 'interleave=static:0'],
      [{ mode: 'MPOL_PREFERRED', nodes: '0' }, 'prefer:0'],
      [{ mode: 'MPOL_LOCAL' }, 'local'],
      [{ mode: 'MPOL_DEFAULT' }, 'default'],
    ] as const) {
      const { r, lines } = policyOf(mp);
      t.equal(r.code, 0, r.stderr);
      t.same(lines, [want, want], `${JSON.stringify(mp)}: pid 1 and a child`);
    }
    const bad = runSh(rt, 'true', (c) => { c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }; });
    t.not(bad.code, 0);
    t.match(bad.stderr, '/linux/memoryPolicy/flags');
    assertNothingLeft(t, rt, bad.id);
    const missing = runSh(rt, 'true', (c) => { c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '1000' }; });
    t.not(missing.code, 0, 'a node that does not exist');
    t.match(missing.stderr, /set_mempolicy\(MPOL_BIND nodes 1000\).*EINVAL/);
    assertNothingLeft(t, rt, missing.id);
  });

  t.test('execCPUAffinity: validated, not applied to the container init (config.md)', async (t) => {
    const host = fs.readFileSync('/proc/self/status', 'utf8').match(/Cpus_allowed_list:\s*(\S+)/)?.[1];
    const r = runSh(rt, 'grep Cpus_allowed_list /proc/self/status', (c) => { c.process.execCPUAffinity = { initial: '0', final: '0' }; });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, new RegExp(`Cpus_allowed_list:\\s*${host}\\b`), 'the init keeps its affinity');
    const bad = runSh(rt, 'true', (c) => { c.process.execCPUAffinity = { initial: '3-1' }; });
    t.not(bad.code, 0);
    t.match(bad.stderr, '/process/execCPUAffinity/initial');
    t.match(bad.stderr, 'reversed');
    assertNothingLeft(t, rt, bad.id);
  });

  t.test('apparmorProfile / selinuxLabel without the LSM: clear error, nothing left', async (t) => {
    const cases: [string, (c: Cfg) => void, string, string, boolean][] = [
      ['apparmorProfile', (c) => { c.process.apparmorProfile = 'runts-test'; }, '/process/apparmorProfile', 'AppArmor is not enabled', apparmorEnabled()],
      ['selinuxLabel', (c) => { c.process.selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2'; }, '/process/selinuxLabel', 'SELinux is not enabled', selinuxEnabled()],
    ];
    for (const [what, mutate, pointer, text, present] of cases) {
      await t.test(what, { skip: present ? 'the LSM is enabled on this host' : false }, async (t) => {
        for (const cmd of ['create', 'run'] as const) {
          const id = uniqueId('lsm');
          const bundle = makeBundle({ args: ['true'], mutate });
          const r = rt.run([cmd, '--bundle', bundle, id]);
          fs.rmSync(bundle, { recursive: true, force: true });
          t.not(r.code, 0, `${cmd} with ${what}`);
          t.match(r.stderr, pointer);
          t.match(r.stderr, text);
          assertNothingLeft(t, rt, id);
        }
      });
    }
    // An empty string means "not set" (runc).
    const r = runSh(rt, 'true', (c) => { c.process.apparmorProfile = ''; c.process.selinuxLabel = ''; c.linux.mountLabel = ''; });
    t.equal(r.code, 0, r.stderr);
  });

  t.test('mountLabel without SELinux: ignored with a warning, as runc and crun (runtime-tools linux_mount_label)', { skip: selinuxEnabled() ? 'SELinux is enabled on this host' : false }, async (t) => {
    const r = runSh(rt, 'grep -c context= /proc/self/mountinfo || true', (c) => { c.linux.mountLabel = 'system_u:object_r:container_file_t:s0:c1,c2'; });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.trim(), '0', 'no mount got a context= option');
    t.match(r.stderr, /\/linux\/mountLabel: SELinux is not enabled.*ignored/);
  });
});
