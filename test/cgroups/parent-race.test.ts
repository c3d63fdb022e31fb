/**
 * Two creates racing with deletes under one shared parent cgroup: a delete
 * removes the empty parent (as `runts delete` does with the default /runts)
 * while the other create is between its existence check and its mkdir. The
 * create must look again and succeed, never fail with ENOENT.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import t from 'tap';
import { detectCgroups } from '../../src/cgroups/detect.js';

if (process.getuid?.() !== 0) t.plan(0, 'needs root (real cgroups)');
else if (detectCgroups().v1.length === 0 && !detectCgroups().v2) t.plan(0, 'no cgroup hierarchy mounted');
else {
  const parent = `runts-race-${process.pid}`;
  const rounds = 300;
  t.teardown(() => {
    // container dirs a failed run may have left, then the parent
    for (const h of detectCgroups().v1) {
      const dir = path.join(h.mountpoint, parent);
      for (const id of ['a', 'b', 'c']) { try { fs.rmdirSync(path.join(dir, id)); } catch { /* gone */ } }
      try { fs.rmdirSync(dir); } catch { /* gone */ }
    }
  });
  t.test('concurrent create/destroy under a parent that deletes keep removing', async (t) => {
    const run = (id: string) => new Promise<string[]>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', path.join(__dirname, 'parent-race-worker.ts'), JSON.stringify({ parent, id, rounds })], { env: { ...process.env, NODE_OPTIONS: '' } },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(JSON.parse(stdout) as string[])));
    });
    const [a, b, c] = await Promise.all([run('a'), run('b'), run('c')]);
    const errors = [...a!, ...b!, ...c!];
    t.same(errors, [], `${3 * rounds} creates, none failed (first: ${errors[0] ?? 'none'})`);
  });
  t.test('nothing is left', async (t) => {
    const left = detectCgroups().v1.map((h) => path.join(h.mountpoint, parent)).filter((d) => fs.existsSync(d) && fs.readdirSync(d).some((e) => fs.statSync(path.join(d, e)).isDirectory()));
    t.same(left, [], 'no container cgroup left under the parent');
  });
}
