/** Where runts's own files are: found by walking up to our package.json. */
import * as fs from 'node:fs';
import * as path from 'node:path';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'runts') return (root = dir);
      } catch { /* keep looking */ }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('runts: cannot find the runts package root');
    dir = up;
  }
}

export const nsbootPath = (): string => path.join(packageRoot(), 'build', 'Release', 'nsboot');
declare const __RUNTS_INIT_NODE_FLAGS__: string[] | undefined;
/** node's flags for the init stage, set by scripts/build.mjs (its code cache is made under them). */
export const initNodeFlags = (): string[] => (typeof __RUNTS_INIT_NODE_FLAGS__ === 'undefined' ? [] : __RUNTS_INIT_NODE_FLAGS__);
export const initPath = (): string => path.join(packageRoot(), 'dist', 'init.cjs');
export const execInitPath = (): string => path.join(packageRoot(), 'dist', 'exec-init.cjs');
