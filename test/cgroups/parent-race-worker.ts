/**
 * Child process of parent-race.test.ts: create and destroy a container cgroup under
 * a shared parent N times, removing the parent when it is empty (what
 * `runts delete` does for the default /runts parent). Reports failures.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cgroupManager } from '../../src/cgroups/manager.js';

const { parent, id, rounds } = JSON.parse(process.argv[2]!) as { parent: string; id: string; rounds: number };
const errors: string[] = [];
for (let i = 0; i < rounds; i++) {
  const m = cgroupManager(id, `/${parent}/${id}`);
  try {
    m.create();
  } catch (e) {
    errors.push((e as Error).message);
    continue;
  }
  m.destroy();
  for (const d of new Set(Object.values(m.record.paths))) {
    try { fs.rmdirSync(path.dirname(d)); } catch { /* not empty, or gone */ }
  }
}
process.stdout.write(JSON.stringify(errors));
