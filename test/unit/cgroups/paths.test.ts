import t from 'tap';
import { cleanCgroupsPath, defaultCgroupsPath, resolveCgroupPaths, DEFAULT_CGROUP_PARENT } from '../../../src/cgroups/paths.js';
import type { HostCgroups } from '../../../src/cgroups/detect.js';

const hybrid: HostCgroups = {
  mode: 'hybrid',
  v1: [
    { mountpoint: '/sys/fs/cgroup/cpu,cpuacct', root: '/', controllers: ['cpu', 'cpuacct'] },
    { mountpoint: '/sys/fs/cgroup/memory', root: '/', controllers: ['memory'] },
    { mountpoint: '/sys/fs/cgroup/systemd', root: '/', controllers: ['name=systemd'] },
  ],
  v2: { mountpoint: '/sys/fs/cgroup/unified', root: '/', controllers: [] },
};
const v2: HostCgroups = { mode: 'v2', v1: [], v2: { mountpoint: '/sys/fs/cgroup', root: '/', controllers: ['cpu', 'memory'] } };
const noOwn = () => { throw new Error('own cgroups must not be read for absolute paths'); };

t.test('cleanCgroupsPath', async (t) => {
  t.same(cleanCgroupsPath('/a/b'), { absolute: true, segments: ['a', 'b'] });
  t.same(cleanCgroupsPath('a//./b/'), { absolute: false, segments: ['a', 'b'] });
  t.same(cleanCgroupsPath('/a/../b'), { absolute: true, segments: ['b'] }, '".." inside the path is fine');
  t.same(cleanCgroupsPath('/a/b/..'), { absolute: true, segments: ['a'] });
  t.throws(() => cleanCgroupsPath('/../etc'), /climbs above the cgroup hierarchy root/);
  t.throws(() => cleanCgroupsPath('/a/../../b'), /climbs above/);
  t.throws(() => cleanCgroupsPath('../x'), /climbs above the base cgroup of a relative path/);
  t.throws(() => cleanCgroupsPath('/'), /must name a cgroup below the hierarchy root/);
  t.throws(() => cleanCgroupsPath('a/..'), /must name a cgroup/);
  t.throws(() => cleanCgroupsPath('a\0b'), /NUL/);
  const sd = /systemd cgroup driver.*not supported/;
  t.throws(() => cleanCgroupsPath('system.slice:docker:abc'), sd);
  t.throws(() => cleanCgroupsPath(':runc:abc'), sd);
  t.throws(() => cleanCgroupsPath('machine.slice:libpod:0123'), sd);
  t.same(cleanCgroupsPath('/a:b/c'), { absolute: true, segments: ['a:b', 'c'] }, 'colons in a cgroupfs path are allowed');
  const e = (() => { try { cleanCgroupsPath('/..'); } catch (x) { return x as { pointer?: string }; } })();
  t.equal(e?.pointer, '/linux/cgroupsPath');
});

t.test('absolute path: relative to each mount point', async (t) => {
  const p = resolveCgroupPaths(hybrid, 'ctr', '/docker/abc', noOwn);
  t.same(p, {
    cpu: '/sys/fs/cgroup/cpu,cpuacct/docker/abc',
    cpuacct: '/sys/fs/cgroup/cpu,cpuacct/docker/abc',
    memory: '/sys/fs/cgroup/memory/docker/abc',
    'name=systemd': '/sys/fs/cgroup/systemd/docker/abc',
    '': '/sys/fs/cgroup/unified/docker/abc',
  });
  t.same(resolveCgroupPaths(v2, 'ctr', '/default/ctr', noOwn), { '': '/sys/fs/cgroup/default/ctr' });
  // A mount whose root is a sub-cgroup (a container's view): the path is still under the mount point.
  const nested: HostCgroups = { mode: 'v2', v1: [], v2: { mountpoint: '/sys/fs/cgroup', root: '/outer', controllers: [] } };
  t.same(resolveCgroupPaths(nested, 'x', '/a', noOwn), { '': '/sys/fs/cgroup/a' });
});

t.test('default: /runts/<id> (absolute)', async (t) => {
  t.equal(DEFAULT_CGROUP_PARENT, '/runts');
  t.equal(defaultCgroupsPath('web1'), '/runts/web1');
  t.same(resolveCgroupPaths(v2, 'web1', undefined, noOwn), { '': '/sys/fs/cgroup/runts/web1' });
  t.same(resolveCgroupPaths(v2, 'web1', '', noOwn), { '': '/sys/fs/cgroup/runts/web1' }, '"" is the same as absent');
  t.equal(resolveCgroupPaths(hybrid, 'web1', undefined, noOwn).memory, '/sys/fs/cgroup/memory/runts/web1');
  t.throws(() => defaultCgroupsPath('a/b'), /invalid container id/);
  t.throws(() => defaultCgroupsPath('..'), /invalid container id/);
});

t.test('relative path: under the runtime\'s own cgroup (v1), its parent (v2)', async (t) => {
  const own = { cpu: '/user/s1', cpuacct: '/user/s1', memory: '/mem/s1', 'name=systemd': '/user.slice/session-1.scope', '': '/hy' };
  const p = resolveCgroupPaths(hybrid, 'ctr', 'sub/ctr', () => own);
  t.equal(p.cpu, '/sys/fs/cgroup/cpu,cpuacct/user/s1/sub/ctr');
  t.equal(p.memory, '/sys/fs/cgroup/memory/mem/s1/sub/ctr');
  t.equal(p['name=systemd'], '/sys/fs/cgroup/systemd/user.slice/session-1.scope/sub/ctr');
  t.equal(p[''], '/sys/fs/cgroup/unified/hy/sub/ctr', 'hybrid unified: own cgroup, like v1');
  const v2own = { '': '/user.slice/user-0.slice/session-1.scope' };
  t.same(resolveCgroupPaths(v2, 'ctr', 'ctr', () => v2own), { '': '/sys/fs/cgroup/user.slice/user-0.slice/ctr' },
    'v2: parent of the own cgroup (no-internal-processes rule)');
  t.same(resolveCgroupPaths(v2, 'ctr', 'ctr', () => ({ '': '/' })), { '': '/sys/fs/cgroup/ctr' });
  // own cgroup seen through a mount whose root is a sub-cgroup
  const nested: HostCgroups = { mode: 'v1', v1: [{ mountpoint: '/sys/fs/cgroup/memory', root: '/docker/abc', controllers: ['memory'] }] };
  t.same(resolveCgroupPaths(nested, 'c', 'x', () => ({ memory: '/docker/abc/inner' })), { memory: '/sys/fs/cgroup/memory/inner/x' });
  t.throws(() => resolveCgroupPaths(nested, 'c', 'x', () => ({ memory: '/elsewhere' })), /outside the mounted part/);
  t.throws(() => resolveCgroupPaths(nested, 'c', 'x', () => ({})), /in no cgroup of the memory hierarchy/);
});
