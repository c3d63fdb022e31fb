/**
 * Drive the built runts binary (dist/runts.cjs) the way an engine does, with
 * a private --root per test file (test/helpers/cli.ts), over bundles made from
 * the kernel tests' base config (test/helpers/config.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { cannotRunContainers, Cli, RUNTS } from './cli.js';
import { runtsConfig, type Cfg } from './config.js';
import { sharedRootfs, tmpdir } from './rootfs.js';

export { cleanEnv, findCgroups, findProcesses, RUNTS, uniqueId, type Result } from './cli.js';

/** runts with a private --root. */
export class Runts extends Cli {
  constructor() {
    super(RUNTS, tmpdir('runts-root-'), 'runts');
  }
}

export interface BundleOptions {
  args?: string[];
  mutate?: (cfg: Cfg) => void;
  rootfs?: string;
}

/** A minimal, valid Linux config over the shared busybox rootfs. */
export function baseConfig(rootfs: string, args: string[]): Cfg {
  return runtsConfig(rootfs, args);
}

const bundles: string[] = [];
process.on('exit', () => { for (const b of bundles) fs.rmSync(b, { recursive: true, force: true }); });

/** Write a bundle dir with config.json; returns its path. */
export function makeBundle(opts: BundleOptions = {}): string {
  const dir = tmpdir('runts-bundle-');
  bundles.push(dir);
  const cfg = baseConfig(opts.rootfs ?? sharedRootfs(), opts.args ?? ['/bin/true']);
  opts.mutate?.(cfg);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  return dir;
}

/**
 * The body of a kernel test file that runs containers: `tests` gets runts
 * with a private root, removed at the end; the file is skipped, with the
 * reason, where containers cannot run (not root, no static busybox, not built).
 */
export function withRunts(tests: (rt: Runts) => void): void;
export function withRunts(opts: { x64?: boolean }, tests: (rt: Runts) => void): void;
export function withRunts(a: { x64?: boolean } | ((rt: Runts) => void), b?: (rt: Runts) => void): void {
  const [opts, tests] = typeof a === 'function' ? [{}, a] : [a, b!];
  const why = cannotRunContainers() || (opts.x64 && process.arch !== 'x64' ? 'x86_64 only' : false);
  if (why) {
    t.plan(0, why);
    return;
  }
  const rt = new Runts();
  t.teardown(() => rt.cleanup());
  tests(rt);
}
