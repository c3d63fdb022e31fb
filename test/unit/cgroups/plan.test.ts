import t from 'tap';
import { planV1, planV2, checkUnifiedKey, type PlanEntry } from '../../../src/cgroups/plan.js';
import { DEFAULT_ALLOWED_DEVICES } from '../../../src/cgroups/devices.js';

/** Compact form for assertions: "controller/file=value". */
const short = (p: PlanEntry[]) => p.map((e) => `${e.controller ? e.controller + '/' : ''}${e.file}=${e.value}`);

t.test('v1 memory', async (t) => {
  t.same(short(planV1({ memory: { limit: 100, reservation: 50, swap: 200, swappiness: 10, disableOOMKiller: true, useHierarchy: true } })), [
    'memory/memory.limit_in_bytes=100',
    'memory/memory.memsw.limit_in_bytes=200',
    'memory/memory.soft_limit_in_bytes=50',
    'memory/memory.swappiness=10',
    'memory/memory.oom_control=1',
    'memory/memory.use_hierarchy=1',
  ]);
  // Raising the limit above the current one: memsw must go first or the kernel refuses the limit.
  t.same(short(planV1({ memory: { limit: 300, swap: 600 } }, { currentMemoryLimit: 100 })), [
    'memory/memory.memsw.limit_in_bytes=600', 'memory/memory.limit_in_bytes=300',
  ]);
  t.same(short(planV1({ memory: { limit: 50, swap: 100 } }, { currentMemoryLimit: 100 })), [
    'memory/memory.limit_in_bytes=50', 'memory/memory.memsw.limit_in_bytes=100',
  ], 'lowering: limit first');
  t.same(short(planV1({ memory: { limit: -1 } })), ['memory/memory.memsw.limit_in_bytes=-1', 'memory/memory.limit_in_bytes=-1'],
    'unlimited memory with swap unset lifts memsw too (runc)');
  t.same(short(planV1({ memory: { limit: -1 } }, { swapAccounting: false })), ['memory/memory.limit_in_bytes=-1']);
  t.throws(() => planV1({ memory: { limit: 200, swap: 100 } }), /memory\+swap limit/);
  t.throws(() => planV1({ memory: { swappiness: 101 } }), /out of range/);
  t.same(short(planV1({ memory: { swappiness: -1 } })), [], 'swappiness -1 means unset');
  // kernel / kernelTCP: only where the file exists (optional); kernel errors are ignored.
  const k = planV1({ memory: { kernel: 1000, kernelTCP: 2000 } });
  t.same(short(k), ['memory/memory.kmem.limit_in_bytes=1000', 'memory/memory.kmem.tcp.limit_in_bytes=2000']);
  t.ok(k[0]!.optional && k[0]!.bestEffort && k[1]!.optional && !k[1]!.bestEffort);
  t.equal(planV1({ memory: { limit: 9223372036854775807 } })[0]!.value, '9223372036854775808', 'exact digits of a huge value');
});

t.test('docker update JSON: zero values leave things alone', async (t) => {
  const docker = {
    memory: { limit: 134217728, reservation: 0, swap: 268435456, kernel: 0 },
    cpu: { shares: 0, quota: 25000, period: 100000 },
    pids: { limit: 60 },
    blockIO: { weight: 0 },
  };
  t.same(short(planV1(docker, { update: true })), [
    'memory/memory.limit_in_bytes=134217728',
    'memory/memory.memsw.limit_in_bytes=268435456',
    'cpu/cpu.cfs_period_us=100000',
    'cpu/cpu.cfs_quota_us=25000',
    'pids/pids.max=60',
  ]);
  t.same(short(planV2(docker, { update: true })), [
    'pids.max=60', 'memory.swap.max=134217728', 'memory.max=134217728', 'cpu.max=25000 100000',
  ]);
  // podman update --resources file
  t.same(short(planV2({ memory: { limit: 134217728, swap: 268435456 }, cpu: { quota: 25000, period: 100000 } })), [
    'memory.swap.max=134217728', 'memory.max=134217728', 'cpu.max=25000 100000',
  ]);
});

t.test('pids: 0 is a real limit, -1 is max', async (t) => {
  t.same(short(planV1({ pids: { limit: 0 } })), ['pids/pids.max=0']);
  t.same(short(planV1({ pids: { limit: -1 } })), ['pids/pids.max=max']);
  t.same(short(planV2({ pids: { limit: 32771 } })), ['pids.max=32771']);
  t.same(short(planV2({ pids: {} })), []);
});

t.test('v1 cpu and cpuset', async (t) => {
  const p = planV1({ cpu: { shares: 512, quota: 50000, burst: 10000, period: 100000, realtimeRuntime: 950, realtimePeriod: 1000, cpus: '0-1', mems: '0', idle: 1 } });
  t.same(short(p), [
    'cpuset/cpuset.cpus=0-1', 'cpuset/cpuset.mems=0',
    'cpu/cpu.idle=1', 'cpu/cpu.shares=512', 'cpu/cpu.cfs_burst_us=10000', 'cpu/cpu.cfs_period_us=100000', 'cpu/cpu.cfs_quota_us=50000',
    'cpu/cpu.rt_period_us=1000', 'cpu/cpu.rt_runtime_us=950',
  ]);
  t.ok(p.find((e) => e.file === 'cpu.shares')!.verify, 'shares are read back (kernel clamps)');
  t.ok(p.find((e) => e.file === 'cpu.cfs_period_us')!.retryOnEinval, 'period retried after quota on EINVAL (runc)');
  t.throws(() => planV1({ cpu: { quota: 1000, burst: 2000 } }), /burst \(2000\) must not be larger than quota/);
  t.same(short(planV1({ cpu: { quota: -1 } })), ['cpu/cpu.cfs_quota_us=-1']);
});

t.test('v2 cpu', async (t) => {
  t.same(short(planV2({ cpu: { shares: 1024, quota: 50000, period: 100000, burst: 1000, idle: 0, cpus: '1', mems: '0' } })), [
    'cpu.idle=0', 'cpu.weight=100', 'cpu.max.burst=1000', 'cpu.max=50000 100000', 'cpuset.cpus=1', 'cpuset.mems=0',
  ]);
  t.same(short(planV2({ cpu: { quota: -1, period: 100000 } })), ['cpu.max=max 100000']);
  t.same(short(planV2({ cpu: { quota: 20000 } })), ['cpu.max=20000']);
  t.same(short(planV2({ cpu: { period: 50000 } })), ['cpu.max=max 50000']);
  t.throws(() => planV2({ cpu: { realtimeRuntime: 100 } }), /realtime CPU limits are not supported on cgroup v2/);
});

t.test('v2 memory', async (t) => {
  t.same(short(planV2({ memory: { limit: 1000, swap: 1000, reservation: 500 } })), ['memory.swap.max=0', 'memory.max=1000', 'memory.low=500'],
    'swap == limit: swap disabled');
  t.same(short(planV2({ memory: { limit: -1 } })), ['memory.swap.max=max', 'memory.max=max']);
  t.same(short(planV2({ memory: { swap: 3000 } }, { update: true, currentMemoryLimit: 1000 })), ['memory.swap.max=2000'],
    'an update may change swap alone: converted against the current limit');
  t.throws(() => planV2({ memory: { swap: 3000 } }), /without a memory limit/);
  t.same(short(planV2({ memory: { kernel: 100, kernelTCP: 100 } })), [], 'kernel memory is ignored on v2 (NOT RECOMMENDED)');
  t.throws(() => planV2({ memory: { swappiness: 60 } }), /swappiness: not supported on cgroup v2/);
  t.throws(() => planV2({ memory: { disableOOMKiller: true } }), /disableOOMKiller/);
  t.same(short(planV2({ memory: { disableOOMKiller: false, useHierarchy: true } })), []);
  t.throws(() => planV2({ memory: { useHierarchy: false } }), /always hierarchical/);
});

t.test('block IO', async (t) => {
  const b = {
    weight: 10, leafWeight: 10,
    weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 300 }, { major: 8, minor: 16, weight: 500 }],
    throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
    throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
  };
  t.same(short(planV1({ blockIO: b })), [
    'blkio/blkio.weight=10', 'blkio/blkio.leaf_weight=10',
    'blkio/blkio.weight_device=8:0 500', 'blkio/blkio.leaf_weight_device=8:0 300', 'blkio/blkio.weight_device=8:16 500',
    'blkio/blkio.throttle.read_bps_device=8:0 600', 'blkio/blkio.throttle.write_iops_device=8:16 300',
  ]);
  t.same(short(planV1({ blockIO: { weight: 100, weightDevice: [{ major: 8, minor: 0, weight: 200 }] } }, { blkioWeightFile: 'blkio.bfq.weight' })),
    ['blkio/blkio.bfq.weight=100', 'blkio/blkio.bfq.weight_device=8:0 200'], 'BFQ files when CFQ ones are missing');
  t.throws(() => planV2({ blockIO: b }), /leafWeight: not supported on cgroup v2/);
  const v2 = { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 1000 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }], throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 0 }] };
  t.same(short(planV2({ blockIO: v2 })), ['io.weight=4950', 'io.weight=8:0 10000', 'io.max=8:0 rbps=600', 'io.max=8:0 wbps=max']);
  t.same(short(planV2({ blockIO: v2 }, { bfq: true })), ['io.bfq.weight=500', 'io.bfq.weight=8:0 1000', 'io.max=8:0 rbps=600', 'io.max=8:0 wbps=max']);
  t.throws(() => planV1({ blockIO: { weightDevice: [{ major: 8, minor: 0 }] } }), /needs weight or leafWeight/);
});

t.test('hugetlb, network, rdma', async (t) => {
  const h = planV1({ hugepageLimits: [{ pageSize: '2MB', limit: 209715200 }] });
  t.same(short(h), ['hugetlb/hugetlb.2MB.limit_in_bytes=209715200', 'hugetlb/hugetlb.2MB.rsvd.limit_in_bytes=209715200']);
  t.ok(h[1]!.optional, 'the reservation limit only where the kernel has it');
  t.same(short(planV2({ hugepageLimits: [{ pageSize: '1GB', limit: 1073741824 }] })), ['hugetlb.1GB.max=1073741824', 'hugetlb.1GB.rsvd.max=1073741824']);
  t.throws(() => planV1({ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }), /invalid pageSize/);
  t.same(short(planV1({ network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }, { name: 'eth1', priority: 1000 }] } })), [
    'net_cls/net_cls.classid=1048577', 'net_prio/net_prio.ifpriomap=eth0 500', 'net_prio/net_prio.ifpriomap=eth1 1000',
  ]);
  t.throws(() => planV2({ network: { classID: 1 } }), /net_cls\/net_prio are cgroup v1 controllers/);
  const rdma = { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 1000 } };
  t.same(short(planV1({ rdma })), ['rdma/rdma.max=mlx5_1 hca_handle=3 hca_object=10000', 'rdma/rdma.max=mlx4_0 hca_object=1000']);
  t.same(short(planV2({ rdma })), ['rdma.max=mlx5_1 hca_handle=3 hca_object=10000', 'rdma.max=mlx4_0 hca_object=1000']);
  t.throws(() => planV1({ rdma: { x: {} } }), /needs hcaHandles or hcaObjects/);
});

t.test('unified', async (t) => {
  t.same(short(planV2({ unified: { 'io.max': '259:0 rbps=2097152 wiops=120\n253:0 rbps=2097152 wiops=120', 'hugetlb.1GB.max': '1073741824' } })), [
    'io.max=259:0 rbps=2097152 wiops=120', 'io.max=253:0 rbps=2097152 wiops=120', 'hugetlb.1GB.max=1073741824',
  ], 'one write per line');
  t.same(short(planV2({ pids: { limit: 5 }, unified: { 'pids.max': '10' } })), ['pids.max=5', 'pids.max=10'], 'unified last, so it wins');
  t.throws(() => planV2({ unified: { '../x': '1' } }), /no slashes/);
  t.throws(() => planV2({ unified: { 'foo': '1' } }), /CONTROLLER\.PARAMETER/);
  t.throws(() => planV2({ unified: { 'memory.high': '1' } }, { controllers: ['cpu'] }), /controller "memory" is not available/);
  t.same(short(planV2({ unified: { 'cgroup.max.depth': '3' } }, { controllers: [] })), ['cgroup.max.depth=3'], 'core cgroup.* files always exist');
  t.doesNotThrow(() => checkUnifiedKey('memory.oom.group', ['memory']));
  t.throws(() => planV1({ unified: { 'memory.high': '1' } }), /this host uses cgroup v1/);
  t.same(planV1({ unified: {} }), [], 'an empty unified map is fine on v1');
});

t.test('v1 devices are part of the plan, v2 ones are not', async (t) => {
  const p = planV1({ devices: [{ allow: false, access: 'rwm' }, ...DEFAULT_ALLOWED_DEVICES] });
  t.same(short(p).slice(0, 3), ['devices/devices.deny=a', 'devices/devices.allow=c *:* m', 'devices/devices.allow=b *:* m']);
  t.equal(p.length, 1 + DEFAULT_ALLOWED_DEVICES.length);
  t.same(planV2({ devices: [{ allow: false, access: 'rwm' }] }), []);
  t.same(planV1({}), []);
  t.same(planV2({}), []);
});

t.test('errors name the config field', async (t) => {
  const e = (() => { try { planV1({ memory: { limit: 1.5 } }); } catch (x) { return x as Error & { pointer?: string }; } })();
  t.match(e?.message, /config\.json \/linux\/resources\/memory\/limit: must be an integer/);
  t.equal(e?.pointer, '/linux/resources/memory/limit');
  t.equal(planV1({ cpu: { shares: 2 } })[0]!.source, 'linux.resources.cpu.shares');
});
