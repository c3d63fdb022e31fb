import t from 'tap';
import { existsSync } from 'node:fs';
import {
  detectCgroups, hostFromMounts, parseCgroupMounts, parseProcCgroup, unescapeMountinfo, v1HierarchyOf,
} from '../../../src/cgroups/detect.js';

// This machine's mountinfo (cgroup lines), plus a non-cgroup line.
const HYBRID = `
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

// A typical systemd v1 host: co-mounted cpu,cpuacct and net_cls,net_prio, extra super options.
const V1_COMOUNTED = `
25 24 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,name=systemd
28 24 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
29 24 0:26 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,net_cls,net_prio
30 24 0:27 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpuset,clone_children
31 24 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
`;

const V2 = `
26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

t.test('parseCgroupMounts reads cgroup and cgroup2 lines only', async (t) => {
  const m = parseCgroupMounts(HYBRID);
  t.equal(m.length, 10);
  t.same(m[0], { fstype: 'cgroup', mountpoint: '/sys/fs/cgroup/cpu', root: '/', controllers: ['cpu'] });
  t.same(m[8]!.controllers, ['name=systemd']);
  t.same(m[9], { fstype: 'cgroup2', mountpoint: '/sys/fs/cgroup/unified', root: '/', controllers: [] });
  const c = parseCgroupMounts(V1_COMOUNTED);
  t.same(c.map((x) => x.controllers), [['name=systemd'], ['cpu', 'cpuacct'], ['net_cls', 'net_prio'], ['cpuset'], ['memory']],
    'mount options (xattr, clone_children) are not controllers');
});

t.test('mode detection: hybrid, v1 with co-mounted controllers, v2', async (t) => {
  const h = hostFromMounts(parseCgroupMounts(HYBRID), () => ['hugetlb']);
  t.equal(h.mode, 'hybrid');
  t.equal(h.v1.length, 9);
  t.same(h.v2, { mountpoint: '/sys/fs/cgroup/unified', root: '/', controllers: ['hugetlb'] });
  t.equal(v1HierarchyOf(h, 'cpu')!.mountpoint, '/sys/fs/cgroup/cpu');
  t.equal(v1HierarchyOf(h, 'cpuacct')!.mountpoint, '/sys/fs/cgroup/cpuacct', 'cpu and cpuacct are separate here');

  const v1 = hostFromMounts(parseCgroupMounts(V1_COMOUNTED));
  t.equal(v1.mode, 'v1');
  t.equal(v1.v2, undefined);
  t.equal(v1HierarchyOf(v1, 'cpu'), v1HierarchyOf(v1, 'cpuacct'), 'co-mounted controllers share one hierarchy');
  t.equal(v1HierarchyOf(v1, 'cpuacct')!.mountpoint, '/sys/fs/cgroup/cpu,cpuacct');
  t.equal(v1HierarchyOf(v1, 'hugetlb'), undefined);

  const v2 = hostFromMounts(parseCgroupMounts(V2), (mp) => (mp === '/sys/fs/cgroup' ? ['cpu', 'memory', 'pids'] : []));
  t.equal(v2.mode, 'v2');
  t.same(v2.v1, []);
  t.same(v2.v2!.controllers, ['cpu', 'memory', 'pids']);

  // Only a named v1 hierarchy next to cgroup2 is still v2 (e.g. a name=systemd mount for old software).
  const named = hostFromMounts(parseCgroupMounts(V2 + '40 31 0:37 / /run/systemd-v1 rw - cgroup cgroup rw,name=systemd\n'));
  t.equal(named.mode, 'v2');
  t.throws(() => hostFromMounts([]), /no cgroup hierarchy is mounted/);
});

t.test('escapes and duplicate mounts', async (t) => {
  t.equal(unescapeMountinfo('/a\\040b\\011c\\134d'), '/a b\tc\\d');
  const dup = `
50 1 0:32 /docker/abc /mnt/other\\040mem rw - cgroup cgroup rw,memory
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
`;
  const h = hostFromMounts(parseCgroupMounts(dup));
  t.equal(h.v1.length, 1);
  t.same(h.v1[0], { mountpoint: '/sys/fs/cgroup/memory', root: '/', controllers: ['memory'] }, 'the /sys/fs/cgroup mount with root / wins');
  const only = hostFromMounts(parseCgroupMounts(dup.split('\n')[1]!));
  t.same(only.v1[0], { mountpoint: '/mnt/other mem', root: '/docker/abc', controllers: ['memory'] });
});

t.test('parseProcCgroup', async (t) => {
  const p = parseProcCgroup('12:cpu,cpuacct:/a\n1:name=systemd:/user.slice\n0::/init.scope\n');
  t.same(p, { cpu: '/a', cpuacct: '/a', 'name=systemd': '/user.slice', '': '/init.scope' });
});

t.test('this host', async (t) => {
  const start = process.hrtime.bigint();
  const h = detectCgroups(true);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  t.ok(ms < 50, `detection took ${ms.toFixed(2)} ms`);
  t.equal(detectCgroups(), h, 'cached');
  t.equal(h.mode, existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? 'hybrid' : h.mode);
  for (const hier of h.v1) t.ok(existsSync(`${hier.mountpoint}/cgroup.procs`), `${hier.controllers.join(',')} at ${hier.mountpoint}`);
  if (h.v2) t.ok(existsSync(`${h.v2.mountpoint}/cgroup.controllers`));
});
