/**
 * issue 12, differential (cgroup v1 here): a configured cgroup that exists
 * and is frozen is refused at once; one with processes in it warns and the
 * container runs; the cgroup mount is writable unless its options say ro
 * (with and without a cgroup namespace); device rule access letters other
 * than rwm are ignored. runc 1.1.5 and runts, same bundles.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import t from 'tap';
import { detectCgroups } from '../../src/cgroups/detect.js';
import { differential, makeBundle, type Runtime } from '../helpers/differential.js';

differential({ skip: detectCgroups().mode === 'v2' ? 'the frozen/not-empty cases are written for a cgroup v1 host' : undefined }, (d) => {
  const host = detectCgroups();
  const hierarchies = [...host.v1.map((h) => h.mountpoint), ...(host.v2 ? [host.v2.mountpoint] : [])];
  const made: string[] = [];
  t.teardown(() => {
    for (const dir of made.reverse()) {
      try { fs.writeFileSync(`${dir}/freezer.state`, 'THAWED'); } catch { /* not a freezer dir */ }
      try { fs.rmdirSync(dir); } catch { /* gone or busy */ }
    }
  });
  /** A cgroup named `name` in every v1 hierarchy (what a configured cgroupsPath points at). */
  const makeCgroup = (name: string) => {
    for (const h of hierarchies) {
      const dir = `${h}/${name}`;
      fs.mkdirSync(dir);
      made.push(dir);
    }
    return `/${name}`;
  };

  t.test('a frozen configured cgroup is refused at once, with runc\'s phrase', async (t) => {
    const r = await d.each((rt: Runtime) => {
      const cg = makeCgroup(`runts-parity-frozen-${rt.name}-${process.pid}`);
      fs.writeFileSync(`/sys/fs/cgroup/freezer${cg}/freezer.state`, 'FROZEN');
      const b = makeBundle({ args: ['echo', 'ran'], mutate: (c) => { c.linux.cgroupsPath = cg; } });
      const id = d.id('frozen');
      const res = rt.run(['run', '-d', '--bundle', b, id], { timeoutMs: 30_000 });
      const left = rt.stateOrNull(id) !== null;
      fs.writeFileSync(`/sys/fs/cgroup/freezer${cg}/freezer.state`, 'THAWED');
      rt.run(['delete', '--force', id]);
      return { ...res, left };
    });
    t.equal(r.runc.code, 1, 'runc refuses it');
    t.match(r.runc.stderr, /container's cgroup unexpectedly frozen/);
    t.equal(r.runts.code, r.runc.code, `runts refuses it too (no hang: ${r.runts.signal ?? 'exited'})`);
    t.match(r.runts.stderr, /container's cgroup unexpectedly frozen/, 'with runc\'s phrase');
    t.equal(r.runts.left, false, 'and leaves no container behind');
  });

  t.test('a configured cgroup with a process in it: a warning, and the container runs', async (t) => {
    const r = await d.each(async (rt: Runtime) => {
      const cg = makeCgroup(`runts-parity-busy-${rt.name}-${process.pid}`);
      const squatter = spawn('sleep', ['600'], { stdio: 'ignore' });
      const gone = new Promise((res) => squatter.once('exit', res));
      try {
        await new Promise((res) => squatter.once('spawn', res));
        // every hierarchy that takes it (cpuset needs cpus first; runc's cpuset dir is its own)
        for (const h of hierarchies) { try { fs.writeFileSync(`${h}${cg}/cgroup.procs`, String(squatter.pid)); } catch { /* cpuset */ } }
        const b = makeBundle({ args: ['echo', 'ran'], mutate: (c) => { c.linux.cgroupsPath = cg; } });
        return rt.run(['run', '--bundle', b, d.id('busy')]);
      } finally {
        squatter.kill('SIGKILL');
        await gone;
      }
    });
    t.same([r.runc.code, r.runc.stdout], [0, 'ran\n'], 'runc runs it');
    t.same([r.runts.code, r.runts.stdout], [0, 'ran\n'], 'runts runs it');
    t.match(r.runts.stderr, /container's cgroup is not empty: 1 process\(es\) found/, 'with runc\'s warning');
  });

  t.test('the cgroup mount is writable unless asked ro, with or without a cgroup namespace', async (t) => {
    const probe = 'grep " /sys/fs/cgroup/pids " /proc/self/mountinfo | cut -d" " -f6 | cut -d, -f1; mkdir /sys/fs/cgroup/pids/sub 2>/dev/null && echo MKDIR-OK && rmdir /sys/fs/cgroup/pids/sub';
    const cases: [boolean, string[]][] = [];
    for (const cgns of [false, true]) for (const ro of [false, true]) cases.push([cgns, ro ? ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] : ['nosuid', 'noexec', 'nodev', 'relatime']]);
    const r = await d.each((rt: Runtime) => cases.map(([cgns, options]) => {
      const b = makeBundle({ args: ['sh', '-c', probe], mutate: (c) => {
        if (cgns) c.linux.namespaces.push({ type: 'cgroup' });
        c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options });
      } });
      return rt.run(['run', '--bundle', b, d.id('cgmnt')]).stdout;
    }));
    t.same(r.runc, ['rw\nMKDIR-OK\n', 'ro\n', 'rw\nMKDIR-OK\n', 'ro\n'], 'runc: rw unless asked ro');
    t.same(r.runts, r.runc, 'runts as runc');
  });

  t.test('device rule access with a letter outside rwm: the letter is ignored', async (t) => {
    const b = makeBundle({ args: ['sh', '-c', 'echo "<7>runts parity test: access rwa" > /dev/kmsg && echo WROTE'], mutate: (c) => {
      c.linux.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o600 }];
      c.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'rwa' }] };
    } });
    const r = await d.each((rt) => rt.run(['run', '--bundle', b, d.id('rwa')]));
    t.same([r.runc.code, r.runc.stdout], [0, 'WROTE\n'], `runc: ${r.runc.stderr}`);
    t.same([r.runts.code, r.runts.stdout], [0, 'WROTE\n'], `runts: ${r.runts.stderr}`);
    t.match(r.runts.stderr, /unknown access letters in "rwa" are ignored/, 'runts warns');
  });
});
