/**
 * The manager in cgroup v2 mode, on this machine's real cgroup2 hierarchy
 * (mounted at /sys/fs/cgroup/unified, no controllers enabled): placement,
 * freezing, cgroup.kill, destroy, unified files, errors, the BPF device
 * filter, and a pure-v2 view from inside a mount + cgroup namespace.
 * Needs root.
 */
import t from 'tap';
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { cgroupManager, cgroupManagerFromRecord, type CgroupManager } from '../../src/cgroups/manager.js';
import { detectCgroups, type HostCgroups } from '../../src/cgroups/detect.js';
import { DEFAULT_ALLOWED_DEVICES } from '../../src/cgroups/devices.js';
import { queryDevicePrograms } from '../../src/cgroups/bpf.js';
import {
  collect, isRoot, killChild, leftovers, procCgroup, readTrim, removeLeftovers, sleep, spawnChild, spawnSleep, testPrefix,
  type Child, type HasTeardown,
} from './helpers.js';

const host = detectCgroups();
const v2mount = host.v2?.mountpoint;
const skip = !isRoot() ? 'needs root' : !v2mount ? 'no cgroup2 hierarchy mounted' : false;

/**
 * A v2-mode manager whose "hierarchy root" is a private test directory in
 * the real cgroup2 hierarchy, so nothing above it (the host's root
 * cgroup.subtree_control in particular) is ever written.
 */
function setup(t: HasTeardown, name: string, cgroupsPath = '/pod/ctr'): { m: CgroupManager; root: string; prefix: string } {
  const prefix = testPrefix(name);
  const root = `${v2mount}/${prefix}`;
  mkdirSync(root);
  const fake: HostCgroups = { mode: 'v2', v1: [], v2: { mountpoint: root, root: '/', controllers: [] } };
  const m = cgroupManager(name, cgroupsPath, { host: fake });
  t.teardown(() => {
    try { m.destroy(); } catch { /* the safety net below */ }
    removeLeftovers(prefix);
  });
  return { m, root, prefix };
}

function child(t: HasTeardown, c: Child): Child {
  t.teardown(() => killChild(c));
  return c;
}

t.test('placement, pids (recursive), destroy with a sub-cgroup', { skip }, async (t) => {
  const { m, root, prefix } = setup(t, 'v2place');
  t.same(m.record.paths, { '': `${root}/pod/ctr` });
  t.equal(m.record.v2Mount, root);
  const ctlBefore = readTrim(`${v2mount}/cgroup.subtree_control`);
  m.create();
  t.same(m.record.created, [`${root}/pod`, `${root}/pod/ctr`]);
  t.equal(readTrim(`${v2mount}/cgroup.subtree_control`), ctlBefore, 'the real root\'s subtree_control was not touched');
  const a = child(t, spawnSleep());
  m.apply(a.pid);
  t.match(procCgroup(a.pid), new RegExp(`^0::/${prefix}/pod/ctr$`, 'm'));
  // the container makes a sub-cgroup and moves a process there
  mkdirSync(`${root}/pod/ctr/sub`);
  const b = child(t, spawnSleep());
  writeFileSync(`${root}/pod/ctr/sub/cgroup.procs`, String(b.pid));
  t.same(m.pids().sort(), [a.pid, b.pid].sort(), 'pids() walks sub-cgroups');
  m.killAll(9);
  t.equal((await a.exited).signal, 'SIGKILL');
  t.equal((await b.exited).signal, 'SIGKILL', 'cgroup.kill reaches sub-cgroups');
  await sleep(50);
  cgroupManagerFromRecord(JSON.parse(JSON.stringify(m.record))).destroy();
  t.notOk(existsSync(`${root}/pod`), 'leaf, its sub-cgroup and the parent it created are gone');
  rmdirSync(root);
  t.same(leftovers(prefix), []);
});

t.test('freeze and thaw (cgroup.freeze / cgroup.events)', { skip }, async (t) => {
  const { m } = setup(t, 'v2freeze');
  m.create();
  const c = child(t, spawnChild('sh', ['-c', 'while :; do echo x; sleep 0.02; done']));
  const out = collect(c);
  m.apply(c.pid);
  await sleep(100);
  m.freeze();
  t.equal(m.frozen(), true);
  t.match(readTrim(`${m.record.paths['']}/cgroup.events`), /^frozen 1$/m);
  await sleep(50);
  const n = out().length;
  await sleep(200);
  t.equal(out().length, n, 'no progress while frozen');
  m.thaw();
  t.equal(m.frozen(), false);
  t.match(readTrim(`${m.record.paths['']}/cgroup.events`), /^frozen 0$/m);
  await sleep(200);
  t.ok(out().length > n, 'runs again');
  // killAll with a catchable signal: freeze, signal, thaw
  m.killAll(15);
  t.equal((await c.exited).signal, 'SIGTERM');
  t.equal(m.frozen(), false, 'left thawed');
});

t.test('set on v2: unified files, and errors for controllers that are not enabled', { skip }, async (t) => {
  const { m } = setup(t, 'v2set');
  m.create();
  const dir = m.record.paths['']!;
  m.set({ unified: { 'cgroup.max.descendants': '5', 'cgroup.max.depth': '2' } });
  t.equal(readTrim(`${dir}/cgroup.max.descendants`), '5');
  t.equal(readTrim(`${dir}/cgroup.max.depth`), '2');
  t.throws(() => m.set({ pids: { limit: 10 } }), {
    message: `linux.resources.pids.limit: cannot set pids.max: open ${dir}/pids.max: ENOENT (no such file or directory): the kernel does not provide it, or its controller is not enabled in the parent's cgroup.subtree_control`,
  });
  t.throws(() => m.set({ unified: { 'memory.high': '1' } }), /controller "memory" is not available in the container's cgroup \(available: none\)/);
  t.throws(() => m.set({ unified: { 'cgroup.max.depth': 'lots' } }), new RegExp(`write ${dir}/cgroup.max.depth: EINVAL`));
  t.throws(() => m.set({ memory: { swappiness: 10 } }), /not supported on cgroup v2/);
  t.throws(() => m.set({ network: { classID: 1 } }), /do not exist on cgroup v2/);
  const st = m.stats();
  t.same(Object.keys(st), ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
  t.equal(st.cpu.usage.user, 0, 'cpu.stat exists even without the cpu controller');
});

t.test('devices on v2: an eBPF program attached to the cgroup', { skip }, async (t) => {
  const { m } = setup(t, 'v2dev');
  m.create();
  const dir = m.record.paths['']!;
  const rules = [{ allow: false, access: 'rwm' }, ...DEFAULT_ALLOWED_DEVICES, { allow: false, type: 'c', major: 1, minor: 5, access: 'rwm' }];
  m.set({ devices: rules });
  m.set({ devices: rules }); // an update replaces the program
  const fd = openSync(dir, 'r');
  try {
    t.equal(queryDevicePrograms(fd).length, 1, 'exactly one program attached after an update');
  } finally {
    closeSync(fd);
  }
  const c = child(t, spawnChild('sh', ['-c', 'read _; head -c1 /dev/zero >/dev/null 2>&1 && echo zero-ok || echo zero-denied; head -c1 /dev/urandom >/dev/null && echo urandom-ok'], 'pipe'));
  const out = collect(c);
  m.apply(c.pid);
  c.proc.stdin!.end('go\n');
  await c.exited;
  t.equal(out(), 'zero-denied\nurandom-ok\n', '/dev/zero denied, /dev/urandom (and /dev/null) allowed');
});

t.test('a pure cgroup v2 host, seen from a mount + cgroup namespace', { skip }, async (t) => {
  const prefix = testPrefix('v2ns');
  const root = `${v2mount}/${prefix}`;
  mkdirSync(root);
  t.teardown(() => removeLeftovers(prefix));
  const inner = 'umount -R /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec node --import=tsx test/cgroups/v2ns-child.ts';
  const script = `echo $$ > ${root}/cgroup.procs && exec unshare --cgroup --mount --propagation private sh -c '${inner}'`;
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('sh', ['-c', script], { cwd: `${__dirname}/../..`, env, timeout: 60_000 }, (err, so, se) => {
      if (err) reject(new Error(`${err.message}\n${se}`));
      else resolve(so);
    });
  });
  const r = JSON.parse(stdout);
  t.equal(r.host.mode, 'v2', 'detected as a pure v2 host');
  t.equal(r.host.v2.mountpoint, '/sys/fs/cgroup');
  t.same(r.host.v1, []);
  t.same(r.paths, { '': '/sys/fs/cgroup/pod/ctr' });
  t.equal(r.v2Mount, '/sys/fs/cgroup');
  t.equal(r.defaultPath, '/sys/fs/cgroup/runts/web', 'default /runts/<id>');
  t.equal(r.relative, '/sys/fs/cgroup/rel/ctr', 'relative: under the parent of the runtime\'s own cgroup (here the namespace root)');
  t.same(r.created, ['/sys/fs/cgroup/pod', '/sys/fs/cgroup/pod/ctr']);
  t.equal(r.procCgroup, '/pod/ctr', 'placed (as seen inside the cgroup namespace)');
  t.equal(r.pids, 1);
  t.match(r.pidsErr, /pids\.max: ENOENT.*subtree_control/);
  t.match(r.unifiedErr, /controller "memory" is not available/);
  t.equal(r.maxDescendants, '3');
  t.equal(r.frozen, true);
  t.match(r.events, /frozen 1/);
  t.equal(r.thawed, true);
  t.equal(r.signal, 'SIGKILL', 'killAll(SIGKILL) through cgroup.kill');
  t.same(r.left, []);
  t.same(readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name), [], 'nothing left in the real hierarchy');
  await sleep(20);
  rmdirSync(root);
});

t.test('no cgroup left behind by this file', async (t) => {
  const found = execFileSync('find', ['/sys/fs/cgroup', '-maxdepth', '2', '-type', 'd', '-name', `runts-test-${process.pid}-*`], { encoding: 'utf8' });
  t.equal(found, '', 'find /sys/fs/cgroup finds none of this file\'s test cgroups');
});
