/**
 * The manager on this machine's real cgroup v1 (hybrid: v1 controllers plus
 * an empty cgroup2 at /sys/fs/cgroup/unified). Needs root.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cgroupManager, cgroupManagerFromRecord, type CgroupManager, type CgroupRecord } from '../../src/cgroups/manager.js';
import { detectCgroups } from '../../src/cgroups/detect.js';
import { DEFAULT_ALLOWED_DEVICES, emulateDevices } from '../../src/cgroups/devices.js';
import {
  collect, isRoot, type HasTeardown, killChild, leftovers, procCgroup, procState, readTrim, removeLeftovers, sleep, spawnChild, spawnSleep, testPrefix, type Child,
} from './helpers.js';

const host = detectCgroups();
const skip = !isRoot() ? 'needs root' : host.mode === 'v2' ? 'this host is cgroup v2 only' : false;

/** One container cgroup under a unique test parent, cleaned up whatever happens. */
function setup(t: HasTeardown, name: string): { m: CgroupManager; prefix: string } {
  const prefix = testPrefix(name);
  const m = cgroupManager(name, `/${prefix}/ctr`);
  t.teardown(() => {
    try { m.destroy(); } catch { /* the safety net below */ }
    removeLeftovers(prefix);
  });
  return { m, prefix };
}

/**
 * blkio files depend on the block devices' I/O scheduler: blkio.weight with
 * CFQ, blkio.bfq.weight with BFQ, neither with mq-deadline/none/kyber; the
 * leaf weight only with CFQ. Probed in the container's cgroup.
 */
function blkioWeightFile(dir: string): 'blkio.weight' | 'blkio.bfq.weight' | null {
  return existsSync(`${dir}/blkio.weight`) ? 'blkio.weight' : existsSync(`${dir}/blkio.bfq.weight`) ? 'blkio.bfq.weight' : null;
}
const NO_WEIGHT = 'no blkio.weight or blkio.bfq.weight on this kernel: the block devices use neither CFQ nor BFQ (e.g. mq-deadline or none)';

/** major:minor of a real block device (throttle rules need one that exists), preferring disks over loop/zram. */
function blockDevice(): { major: number; minor: number } | undefined {
  let names: string[] = [];
  try { names = readdirSync('/sys/block'); } catch { return undefined; }
  names.sort((a, b) => Number(/^(loop|zram|ram)/.test(a)) - Number(/^(loop|zram|ram)/.test(b)));
  for (const n of names) {
    const m = /^(\d+):(\d+)$/.exec(readTrim(`/sys/block/${n}/dev`));
    if (m) return { major: Number(m[1]), minor: Number(m[2]) };
  }
  return undefined;
}

function child(t: HasTeardown, c: Child): Child {
  t.teardown(() => killChild(c));
  return c;
}

t.test('create, apply, /proc/<pid>/cgroup, pids, destroy', { skip }, async (t) => {
  const { m, prefix } = setup(t, 'basic');
  m.create();
  const dirs = [...new Set(Object.values(m.record.paths))];
  for (const d of dirs) t.ok(existsSync(d), `created ${d}`);
  t.equal(m.record.created.length, dirs.length * 2, 'parent and leaf in every hierarchy');
  t.ok(m.record.created.indexOf(`/sys/fs/cgroup/memory/${prefix}`) < m.record.created.indexOf(`/sys/fs/cgroup/memory/${prefix}/ctr`), 'deepest last');
  t.ok(m.record.paths['name=systemd'] && m.record.paths[''], 'named and unified hierarchies joined too (as runc)');
  const c = child(t, spawnSleep());
  m.apply(c.pid);
  const cg = procCgroup(c.pid);
  for (const ctl of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer', 'devices', 'blkio', 'name=systemd']) {
    t.match(cg, new RegExp(`:${ctl}:/${prefix}/ctr\\n`), `${ctl} placement`);
  }
  t.match(cg, new RegExp(`^0::/${prefix}/ctr$`, 'm'), 'unified placement');
  t.same(m.pids(), [c.pid]);
  // a sub-cgroup made by the container is listed and removed too
  const sub = `${m.record.paths.pids}/inner`;
  mkdirSync(sub);
  const c2 = child(t, spawnSleep());
  writeFileSync(`${m.record.paths[''] ?? m.record.paths.freezer}/cgroup.procs`, String(c2.pid));
  t.same(m.pids().sort(), [c.pid, c2.pid].sort(), 'pids() includes every process');
  await killChild(c);
  await killChild(c2);
  await sleep(50);
  m.destroy();
  t.same(m.record.created, []);
  t.same(leftovers(prefix), [], 'nothing left, sub-cgroup included');
});

t.test('set: memory, cpu, cpuset, pids, blkio, read back', { skip }, async (t) => {
  const { m } = setup(t, 'set');
  m.create();
  const c = child(t, spawnSleep());
  const weightFile = blkioWeightFile(m.record.paths.blkio!);
  const dev = blockDevice();
  m.set({
    memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20, swappiness: 10, kernelTCP: 16 << 20, kernel: 32 << 20, disableOOMKiller: true, useHierarchy: true },
    cpu: { shares: 512, quota: 50000, period: 100000, burst: 10000, idle: 0, cpus: '0', mems: '0' },
    pids: { limit: 20 },
    blockIO: {
      ...(weightFile ? { weight: 500 } : {}),
      ...(dev ? { throttleReadBpsDevice: [{ ...dev, rate: 1048576 }], throttleWriteIOPSDevice: [{ ...dev, rate: 300 }] } : {}),
    },
  });
  m.apply(c.pid);
  const p = m.record.paths;
  const r = (ctl: string, f: string) => readTrim(`${p[ctl]}/${f}`);
  t.equal(r('memory', 'memory.limit_in_bytes'), String(64 << 20));
  t.equal(r('memory', 'memory.memsw.limit_in_bytes'), String(128 << 20));
  t.equal(r('memory', 'memory.soft_limit_in_bytes'), String(32 << 20));
  t.equal(r('memory', 'memory.swappiness'), '10');
  t.equal(r('memory', 'memory.kmem.tcp.limit_in_bytes'), String(16 << 20));
  t.match(r('memory', 'memory.oom_control'), /oom_kill_disable 1/);
  t.equal(r('cpu', 'cpu.shares'), '512');
  t.equal(r('cpu', 'cpu.cfs_quota_us'), '50000');
  t.equal(r('cpu', 'cpu.cfs_period_us'), '100000');
  t.equal(r('cpu', 'cpu.cfs_burst_us'), '10000');
  t.equal(r('cpu', 'cpu.idle'), '0');
  t.equal(r('cpuset', 'cpuset.cpus'), '0');
  t.equal(r('cpuset', 'cpuset.mems'), '0');
  t.equal(r('pids', 'pids.max'), '20');
  t.test('blkio weight (CFQ or BFQ file, whichever exists)', { skip: weightFile ? false : NO_WEIGHT }, async (t) => {
    t.match(r('blkio', weightFile!), /500/);
  });
  t.test('blkio throttling', { skip: dev ? false : 'no block device in /sys/block' }, async (t) => {
    t.match(r('blkio', 'blkio.throttle.read_bps_device'), new RegExp(`^${dev!.major}:${dev!.minor} 1048576$`, 'm'));
    t.match(r('blkio', 'blkio.throttle.write_iops_device'), new RegExp(`^${dev!.major}:${dev!.minor} 300$`, 'm'));
  });
  m.set({ pids: { limit: 0 } });
  t.equal(r('pids', 'pids.max'), '0', 'pids limit 0 is a real limit');
  m.set({ pids: { limit: -1 } });
  t.equal(r('pids', 'pids.max'), 'max');

  // docker update: zeros leave things alone (blkio.weight 0 is not written, whether or not the file exists)
  m.set({ memory: { limit: 134217728, reservation: 0, swap: 268435456, kernel: 0 }, cpu: { shares: 0, quota: 25000, period: 100000 }, pids: { limit: 60 }, blockIO: { weight: 0 } }, { update: true });
  t.equal(r('memory', 'memory.limit_in_bytes'), '134217728', 'raised above the old memsw: memsw written first');
  t.equal(r('memory', 'memory.memsw.limit_in_bytes'), '268435456');
  t.equal(r('memory', 'memory.soft_limit_in_bytes'), String(32 << 20), 'reservation 0 left alone');
  t.equal(r('cpu', 'cpu.shares'), '512', 'shares 0 left alone');
  t.equal(r('cpu', 'cpu.cfs_quota_us'), '25000');
  t.equal(r('pids', 'pids.max'), '60');
  m.set({ memory: { limit: 32 << 20, swap: 64 << 20 } }, { update: true });
  t.equal(r('memory', 'memory.limit_in_bytes'), String(32 << 20), 'lowered: limit first');
  m.set({ memory: { limit: -1 } }, { update: true });
  t.equal(r('memory', 'memory.limit_in_bytes'), '9223372036854771712', 'unlimited');
  t.equal(r('memory', 'memory.memsw.limit_in_bytes'), '9223372036854771712', 'memsw lifted too');
  m.set({ cpu: { idle: 1 } }, { update: true });
  t.equal(r('cpu', 'cpu.idle'), '1');
  t.equal(r('cpu', 'cpu.shares'), '3', 'an idle group runs with the minimum weight');
  m.set({ cpu: { idle: 0, shares: 512 } }, { update: true });
  t.equal(r('cpu', 'cpu.shares'), '512');
  const st = m.stats();
  t.same(st.cpuset.cpus, [0]);
  t.equal(st.pids.current, 1);
  t.equal(st.pids.limit, 60);
  t.equal(st.memory.usage.limit, 9223372036854771712);
  t.ok(st.memory.raw && 'rss' in st.memory.raw, 'memory.stat is in raw');
  t.ok(st.cpu.usage.percpu && st.cpu.usage.percpu.length >= 1, 'cpuacct per-cpu usage');
  t.equal(st.network_interfaces, null);
  t.same(Object.keys(st), ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces'], 'runc events --stats shape');
});

t.test('what this host cannot do: clear errors naming the file or controller', { skip }, async (t) => {
  const { m } = setup(t, 'errors');
  m.create();
  const p = m.record.paths;
  t.throws(() => m.set({ hugepageLimits: [{ pageSize: '2MB', limit: 1 << 21 }] }),
    /linux\.resources\.hugepageLimits\.0: the hugetlb cgroup controller is not mounted on this host/);
  t.throws(() => m.set({ network: { classID: 1 } }), /net_cls cgroup controller is not mounted/);
  t.throws(() => m.set({ pids: { limit: 7 }, hugepageLimits: [{ pageSize: '2MB', limit: 1 << 21 }] }), /hugetlb/);
  t.equal(readTrim(`${p.pids}/pids.max`), 'max', 'nothing was written before the refusal');
  t.throws(() => m.set({ rdma: { mlx5_0: { hcaHandles: 1 } } }), /rdma cgroup controller is not mounted/);
  t.throws(() => m.set({ unified: { 'memory.high': '1' } }), /this host uses cgroup v1/);
  t.test('a weight the kernel does not provide: ENOENT, named', { skip: existsSync(`${p.blkio}/blkio.leaf_weight`) ? 'blkio.leaf_weight exists here (CFQ): no missing blkio file to provoke' : false }, async (t) => {
    t.throws(() => m.set({ blockIO: { leafWeight: 500 } }),
      { message: `linux.resources.blockIO.leafWeight: cannot set blkio.leaf_weight: open ${p.blkio}/blkio.leaf_weight: ENOENT (no such file or directory): the kernel does not provide it` },
      'no CFQ leaf weights on this kernel');
    if (!blkioWeightFile(p.blkio!)) {
      t.throws(() => m.set({ blockIO: { weight: 500 } }), /blockIO\.weight: cannot set blkio\.weight: open .*: ENOENT .*the kernel does not provide it/,
        'nor a weight (no CFQ/BFQ): refused with the file named');
    }
  });
  t.throws(() => m.set({ cpu: { idle: 7 } }), { message: `linux.resources.cpu.idle = "7": write ${p.cpu}/cpu.idle: EINVAL (invalid argument)` });
  t.throws(() => m.set({ memory: { useHierarchy: false } }), new RegExp(`write ${p.memory}/memory.use_hierarchy: EINVAL`),
    'this kernel is always hierarchical');
  t.throws(() => m.set({ cpu: { shares: 1 } }), /cpu\.shares: the kernel stored 2 in .*cpu\.shares instead of 1/, 'clamped shares are reported');
  t.throws(() => m.set({ cpu: { cpus: '63' } }), /cpu\.cpus = "63": write .*cpuset\.cpus: (EINVAL|ERANGE)/);
  t.throws(() => m.set({ cpu: { realtimeRuntime: 10000, realtimePeriod: 1000000 } }), /cpu\.rt_runtime_us: EINVAL/,
    'rt time must be granted to the parent first');
  t.doesNotThrow(() => m.set({ memory: { kernel: 1 << 20 } }), 'kernel memory is ignored where the kernel ignores it');
});

t.test('freeze and thaw (freezer v1)', { skip }, async (t) => {
  const { m } = setup(t, 'freeze');
  m.create();
  const c = child(t, spawnChild('sh', ['-c', 'while :; do echo x; sleep 0.02; done']));
  const out = collect(c);
  m.apply(c.pid);
  await sleep(100);
  t.equal(m.frozen(), false);
  m.freeze();
  t.equal(m.frozen(), true);
  t.equal(readTrim(`${m.record.paths.freezer}/freezer.state`), 'FROZEN');
  t.equal(procState(c.pid), 'D', 'a frozen v1 task is in D state');
  await sleep(50);
  const before = out().length;
  await sleep(200);
  t.equal(out().length, before, 'no output while frozen');
  m.thaw();
  t.equal(m.frozen(), false);
  await sleep(200);
  t.ok(out().length > before, 'runs again after thaw');
  const rebuilt = cgroupManagerFromRecord(JSON.parse(JSON.stringify(m.record)) as CgroupRecord);
  rebuilt.freeze();
  t.equal(m.frozen(), true, 'a rebuilt manager sees the same cgroup');
  rebuilt.thaw();
});

t.test('killAll: signals through the freezer, SIGKILL through cgroup.kill', { skip }, async (t) => {
  const { m } = setup(t, 'kill');
  m.create();
  const a = child(t, spawnSleep());
  const b = child(t, spawnChild('sh', ['-c', 'read _; sleep 1000 & sleep 1000 & wait'], 'pipe'));
  m.apply(a.pid);
  m.apply(b.pid);
  b.proc.stdin!.write('go\n');
  await sleep(150);
  t.equal(m.pids().length, 4, 'sh and its two children were placed with it');
  m.killAll(15);
  t.same((await a.exited).signal, 'SIGTERM');
  t.equal(m.frozen(), false, 'thawed again after signalling');
  const sh = await b.exited;
  t.equal(sh.signal, 'SIGTERM');
  await sleep(100);
  t.same(m.pids(), [], 'sh\'s children got the signal too');
  const k = child(t, spawnSleep());
  m.apply(k.pid);
  if (m.record.paths[''] && existsSync(`${m.record.paths['']}/cgroup.kill`)) {
    m.killAll(9);
    t.same((await k.exited).signal, 'SIGKILL', 'hybrid: cgroup.kill of the unified cgroup');
  } else {
    m.killAll(9);
    t.same((await k.exited).signal, 'SIGKILL');
  }
});

t.test('destroy: kills nothing, retries EBUSY, removes only what it created', { skip }, async (t) => {
  const { m, prefix } = setup(t, 'destroy');
  m.create();
  const c = child(t, spawnSleep());
  m.apply(c.pid);
  const t0 = Date.now();
  t.throws(() => m.destroy(), /cannot remove the container's cgroups: rmdir .*: EBUSY \(device or resource busy\)/);
  t.ok(Date.now() - t0 >= 500, 'retried for a while');
  t.equal(c.proc.exitCode, null, 'the process was not killed');
  t.ok(m.record.created.length > 0, 'undeleted dirs stay in the record');
  // A second container under the same parent keeps the parent alive.
  const other = cgroupManager('other', `/${prefix}/other`);
  other.create();
  t.same(other.record.created, Object.values(other.record.paths).filter((v, i, a) => a.indexOf(v) === i).sort(), 'only its leaves are new');
  await killChild(c);
  await sleep(50);
  const saved = JSON.parse(JSON.stringify(m.record)) as CgroupRecord;
  cgroupManagerFromRecord(saved).destroy();
  t.ok(existsSync(`/sys/fs/cgroup/memory/${prefix}/other`), 'the other container is untouched');
  t.ok(existsSync(`/sys/fs/cgroup/memory/${prefix}`), 'the shared parent stays while in use');
  t.notOk(existsSync(`/sys/fs/cgroup/memory/${prefix}/ctr`));
  other.destroy();
  t.notOk(existsSync(`/sys/fs/cgroup/memory/${prefix}/other`));
  cgroupManagerFromRecord(saved).destroy(); // the parent, now empty (ENOENT for the rest is fine)
  t.same(leftovers(prefix), []);
  t.doesNotThrow(() => cgroupManagerFromRecord(saved).destroy(), 'destroy is idempotent');
  t.throws(() => cgroupManagerFromRecord({ mode: 'v3' } as unknown as CgroupRecord), /invalid cgroup record/);
});

t.test('crash safety: the record lists a directory before it exists', { skip }, async (t) => {
  const { m, prefix } = setup(t, 'crash');
  const seen: string[][] = [];
  m.create((rec) => {
    seen.push([...rec.created]);
    if (seen.length === 1) for (const d of rec.created) t.notOk(existsSync(d), `${d} recorded before mkdir`);
  });
  t.ok(seen.length >= 1 && seen[0]!.length === m.record.created.length);
  // "crash" now: a later process only has the persisted record
  cgroupManagerFromRecord(JSON.parse(JSON.stringify({ ...m.record, created: seen[0] }))).destroy();
  t.same(leftovers(prefix), []);
  // a record listing dirs that were never made (crash between persist and mkdir) is fine
  t.doesNotThrow(() => cgroupManagerFromRecord({ mode: 'hybrid', paths: {}, created: [`/sys/fs/cgroup/memory/${prefix}-never`] }).destroy());
});

t.test('cpuset: a new cgroup gets cpus/mems from its parent', { skip }, async (t) => {
  const { m, prefix } = setup(t, 'cpuset');
  m.create();
  const root = readTrim('/sys/fs/cgroup/cpuset/cpuset.cpus');
  t.equal(readTrim(`/sys/fs/cgroup/cpuset/${prefix}/cpuset.cpus`), root, 'parent initialised');
  t.equal(readTrim(`${m.record.paths.cpuset}/cpuset.cpus`), root, 'leaf initialised');
  t.equal(readTrim(`${m.record.paths.cpuset}/cpuset.mems`), readTrim('/sys/fs/cgroup/cpuset/cpuset.mems'));
  const c = child(t, spawnSleep());
  t.doesNotThrow(() => m.apply(c.pid), 'the cpuset cgroup takes tasks');
});

t.test('devices (v1): kernel state matches the emulator, and is enforced', { skip }, async (t) => {
  const { m } = setup(t, 'devices');
  m.create();
  const list = () => readFileSync(`${m.record.paths.devices}/devices.list`, 'utf8').trim().split('\n').sort();
  const expect = (rules: Parameters<typeof emulateDevices>[0]) => {
    const s = emulateDevices(rules);
    if (s.defaultAllow && s.exceptions.length === 0) return ['a *:* rwm'];
    const n = (v: number) => (v < 0 ? '*' : String(v));
    return s.exceptions.map((e) => `${e.type} ${n(e.major)}:${n(e.minor)} ${e.access}`).sort();
  };
  const podman = [{ allow: false, access: 'rwm' }, ...DEFAULT_ALLOWED_DEVICES];
  const noZero = [{ allow: false, access: 'rwm' }, ...DEFAULT_ALLOWED_DEVICES, { allow: false, type: 'c', major: 1, minor: 5, access: 'rwm' }];
  const cases: Record<string, Parameters<typeof emulateDevices>[0]> = {
    podman,
    'spec example': [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }, { allow: true, type: 'b', major: 8, minor: 0, access: 'r' }],
    'merge and remove': [{ allow: true, type: 'c', major: 1, minor: 3, access: 'r' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'w' }, { allow: true, type: 'c', major: 4, access: 'rwm' }, { allow: false, type: 'c', major: 4, access: 'm' }],
    'no /dev/zero': noZero,
  };
  for (const [name, rules] of Object.entries(cases)) {
    m.set({ devices: rules });
    t.same(list(), expect(rules), `${name}: devices.list`);
  }
  m.set({ devices: [{ allow: true, access: 'rwm' }] });
  t.same(list(), ['a *:* rwm'], 'privileged');
  m.set({ devices: noZero });
  const c = child(t, spawnChild('sh', ['-c', 'read _; head -c1 /dev/zero >/dev/null 2>&1 && echo zero-ok || echo zero-denied; head -c1 /dev/urandom >/dev/null && echo urandom-ok'], 'pipe'));
  const out = collect(c);
  m.apply(c.pid);
  c.proc.stdin!.end('go\n');
  await c.exited;
  t.equal(out(), 'zero-denied\nurandom-ok\n', 'the kernel enforces the list');
});

t.test('OOM: a small memory limit kills the hog and is counted', { skip }, async (t) => {
  const { m } = setup(t, 'oom');
  m.create();
  m.set({ memory: { limit: 16 << 20, swap: 16 << 20 } });
  const c = child(t, spawnChild('sh', ['-c', 'read _; x=$(head -c 50000000 /dev/zero | tr "\\0" a); echo survived'], 'pipe'));
  const out = collect(c);
  m.apply(c.pid);
  c.proc.stdin!.end('go\n');
  await c.exited;
  t.notMatch(out(), /survived/);
  t.ok(m.oomKillCount() >= 1, `oom_kill ${m.oomKillCount()}`);
  const st = m.stats();
  t.equal(st.memory.usage.limit, 16 << 20);
  t.ok((st.memory.usage.max ?? 0) > (12 << 20), `peak usage ${st.memory.usage.max} reached the limit`);
});

t.test('no cgroup left behind by this file', async (t) => {
  const found = execFileSync('find', ['/sys/fs/cgroup', '-maxdepth', '2', '-type', 'd', '-name', `runts-test-${process.pid}-*`], { encoding: 'utf8' });
  t.equal(found, '', 'find /sys/fs/cgroup finds none of this file\'s test cgroups');
});
