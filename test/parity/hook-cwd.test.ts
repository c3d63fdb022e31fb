/**
 * Differential (runc 1.1.5): the working directory each hook phase gets.
 * runc runs createContainer hooks from the container's rootfs (it chdirs
 * there before running them, so hooks that bind files into the image use
 * relative paths like ./lib/...); the host-side hooks inherit the runtime's
 * cwd, which is the bundle for create/run (runc chdirs to --bundle) and the
 * caller's for delete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { makeBusyboxRootfs, tmpdir } from '../helpers/rootfs.js';
import { Differential, differential, makeBundle, uniqueId } from '../helpers/differential.js';

const HOST_PHASES = ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop'] as const;

differential({ x64: true }, (d) => {
  const rts = [d.runts, d.runc];
  // runc refuses a rootfs path with a symlink in it: use the real path
  const rootfs = fs.realpathSync(makeBusyboxRootfs(tmpdir('parity-hooks-rootfs-')));

  for (const how of ['create, start, delete --force', 'run'] as const) t.test(`each hook phase runs in the same directory as under runc (${how})`, async (t) => {
    const seen: Record<string, Record<string, string>> = {};
    for (const rt of rts) {
      const out = fs.realpathSync(tmpdir(`parity-hooks-out-${rt.name}-`));
      const caller = fs.realpathSync(tmpdir('parity-hooks-caller-'));
      const hook = (phase: string, dir = out) => ({ path: '/bin/sh', args: ['sh', '-c', `pwd > ${dir}/${phase}`] });
      const b = fs.realpathSync(makeBundle({ rootfs, args: ['true'], mutate: (c) => {
        c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind'] });
        c.process.cwd = '/out';
        c.hooks = Object.fromEntries(HOST_PHASES.map((p) => [p, [hook(p)]]));
        c.hooks.startContainer = [hook('startContainer', '/out')];
      } }));
      const id = uniqueId('hookcwd');
      // the user program (true) exits at once
      const steps = how === 'run' ? [['run', '--bundle', b, id]] : [['create', '--bundle', b, id], ['start', id], ['delete', '--force', id]];
      for (const args of steps) {
        const r = rt.runIn(caller, args);
        t.equal(r.code, 0, `${rt.name} ${args[0]}: ${r.stderr}`);
      }
      const got: Record<string, string> = {};
      for (const p of [...HOST_PHASES, 'startContainer']) {
        const v = fs.existsSync(path.join(out, p)) ? fs.readFileSync(path.join(out, p), 'utf8').trim() : '(not run)';
        got[p] = v.replace(b, '<bundle>').replace(rootfs, '<rootfs>').replace(caller, '<caller>');
      }
      seen[rt.name] = got;
    }
    t.equal(seen.runc!.createContainer, '<rootfs>', 'runc: createContainer hooks run in the rootfs');
    for (const p of HOST_PHASES) t.equal(seen.runts![p], seen.runc![p], `${p}: runts ${seen.runts![p]}, runc ${seen.runc![p]}`);
    // runc runs them after its chdir to process.cwd (finalizeNamespace), and so does runts (src/init/finalize.ts)
    t.equal(seen.runts!.startContainer, seen.runc!.startContainer, `startContainer: runts ${seen.runts!.startContainer}, runc ${seen.runc!.startContainer}`);
  });
});
