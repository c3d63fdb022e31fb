/**
 * On a v1 host, /sys/fs/cgroup is a tmpfs: an earlier engine may have left
 * plain directories there (hugetlb, net_cls, net_prio, perf_event) where no
 * hierarchy is mounted. runts trusts only mountinfo: such a directory is not
 * a hierarchy — nothing is created in it, the container's /sys/fs/cgroup does
 * not show it, and a limit for its controller is refused as "not mounted".
 */
import * as fs from 'node:fs';
import t from 'tap';
import { cannotRunContainers } from '../helpers/cli.js';
import { detectCgroups } from '../../src/cgroups/detect.js';
import { cgroupDirs, plainCgroupDirs } from '../../conformance/engines/lib.js';
import { makeBundle, Runts, uniqueId } from '../helpers/runts.js';

const host = (() => { try { return detectCgroups(); } catch { return undefined; } })();
const tmpfsRoot = (() => {
  try {
    return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === '/sys/fs/cgroup' && / - tmpfs /.test(l));
  } catch { return false; }
})();
// a controller this host has not mounted, whose name we can take for a plain directory
const FAKE = ['hugetlb', 'net_prio', 'perf_event', 'net_cls', 'rdma', 'misc'].find((c) => host && !host.v1.some((h) => h.controllers.includes(c)) && !fs.existsSync(`/sys/fs/cgroup/${c}`));

const why = cannotRunContainers();
if (why) {
  t.plan(0, why);
} else if (!host || host.mode === 'v2' || !tmpfsRoot) {
  t.plan(0, 'needs a cgroup v1/hybrid host with a tmpfs at /sys/fs/cgroup');
} else if (!FAKE) {
  t.plan(0, 'every candidate controller is mounted or its directory exists already');
} else {
  const fake = `/sys/fs/cgroup/${FAKE}`;
  const rt = new Runts();
  fs.mkdirSync(fake);
  t.teardown(() => {
    rt.cleanup();
    fs.rmSync(fake, { recursive: true, force: true });
  });

  t.test(`a plain directory ${fake} is not taken for a hierarchy`, async (t) => {
    t.notOk(detectCgroups(true).v1.some((h) => h.mountpoint === fake), 'detection ignores it');
    const id = uniqueId('plain');
    const b = makeBundle({ args: ['ls', '/sys/fs/cgroup'], mutate: (c) => {
      c.linux.cgroupsPath = `/runts-test/${id}`;
      c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'ro'] });
    } });
    const r = rt.run(['run', '--bundle', b, id], { timeoutMs: 30_000 });
    t.equal(r.code, 0, r.stderr);
    t.notMatch(r.stdout, new RegExp(`^${FAKE}$`, 'm'), `the container's /sys/fs/cgroup has no ${FAKE}`);
    t.match(r.stdout, /^memory$/m, 'control: it has memory');
    t.same(fs.readdirSync(fake), [], 'nothing was created in the plain directory');
  });

  t.test(`a limit for ${FAKE} is refused as not mounted, not written into the plain directory`, { skip: FAKE === 'hugetlb' || FAKE === 'net_cls' ? false : `no limit field for ${FAKE}` }, async (t) => {
    const id = uniqueId('plain');
    const b = makeBundle({ args: ['true'], mutate: (c) => {
      c.linux.cgroupsPath = `/runts-test/${id}`;
      c.linux.resources = FAKE === 'hugetlb' ? { hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] } : { network: { classID: 1 } };
    } });
    const r = rt.run(['run', '--bundle', b, id], { timeoutMs: 30_000 });
    t.not(r.code, 0, 'refused');
    t.match(r.stderr, new RegExp(`${FAKE} cgroup controller is not mounted`), r.stderr);
    t.same(fs.readdirSync(fake), [], 'nothing was created in the plain directory');
  });

  t.test('the engine harness tells a cgroup (runts\'s leftover) from a plain directory (the engine\'s)', async (t) => {
    const name = uniqueId('sweep');
    const real = `/sys/fs/cgroup/memory/${name}`;
    const plain = [`${fake}/${name}`, `${fake}/${name}/libpod-x`];
    t.teardown(() => { fs.rmSync(plain[0]!, { recursive: true, force: true }); try { fs.rmdirSync(real); } catch { /* gone */ } });
    fs.mkdirSync(real);
    fs.mkdirSync(plain[1]!, { recursive: true });
    t.same(cgroupDirs(name), [real], 'only the directory in a mounted hierarchy is a cgroup');
    t.same(plainCgroupDirs(name), [plain[1], plain[0]], 'the plain directories, deepest first');
  });
}
