/**
 * Drive an OCI runtime through its command line only, the way an engine does
 * (test/helpers/cli.ts). The runtime under test is runts (dist/runts.cjs);
 * CONFORMANCE_RUNTIME=/path points the same suite at another runc-compatible
 * binary (e.g. /usr/sbin/runc) to check the tests themselves against a
 * reference implementation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cannotRunContainers, Cli, RUNTS } from '../../test/helpers/cli.js';
import { conformanceConfig, type Cfg } from '../../test/helpers/config.js';
import { makeBusyboxRootfs, sharedRootfs, tmpdir as helperTmpdir } from '../../test/helpers/rootfs.js';

export {
  cleanEnv, findCgroups, findProcesses, hostMountsUnder, hostNamespaces, processGone, removeCgroups, RUNTS, sleepMs,
  uniqueId, waitFor, type Result, type RunOpts,
} from '../../test/helpers/cli.js';

export const RUNTIME = process.env.CONFORMANCE_RUNTIME ? path.resolve(process.env.CONFORMANCE_RUNTIME) : RUNTS;
export const RUNTIME_NAME = path.basename(RUNTIME) === 'runts.cjs' ? 'runts' : path.basename(RUNTIME);
export const IS_RUNTS = RUNTIME === RUNTS;

/** Why these tests cannot run here, or false. */
export function cannotRun(): string | false {
  return cannotRunContainers(RUNTIME);
}

export function tmpdir(prefix = 'conf-'): string {
  return helperTmpdir(prefix);
}

type JsonObject = Cfg;

/** The runtime under test with a private --root. */
export class Runtime extends Cli {
  constructor(root?: string) {
    super(RUNTIME, root ?? tmpdir('conf-root-'), RUNTIME_NAME);
  }
}

export const DEFAULT_ENV = conformanceConfig('', []).process.env as string[];

/** A minimal valid Linux config over a busybox rootfs (`runts spec`'s, no resources: test/helpers/config.ts). */
export function baseConfig(rootfs: string, args: string[]): JsonObject {
  return conformanceConfig(rootfs, args);
}

export interface Bundle { dir: string; config: JsonObject; rootfs: string; configPath: string }

export interface BundleOpts {
  args?: string[];
  mutate?: (cfg: JsonObject, b: { dir: string; rootfs: string }) => void;
  /** A private rootfs (inside the bundle) that the test may modify; default: a shared read-only one. */
  privateRootfs?: boolean | ((rootfs: string) => void);
}

const bundles: string[] = [];
/** Remove every bundle made so far (check.ts calls it at the end of a test file). */
export function cleanupBundles(): void {
  for (const d of bundles.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}
process.on('exit', cleanupBundles);

/** Write a bundle dir with config.json. */
export function makeBundle(opts: BundleOpts = {}): Bundle {
  const dir = tmpdir('conf-bundle-');
  bundles.push(dir);
  let rootfs = sharedRootfs();
  if (opts.privateRootfs) {
    rootfs = path.join(dir, 'rootfs');
    fs.mkdirSync(rootfs);
    makeBusyboxRootfs(rootfs);
    if (typeof opts.privateRootfs === 'function') opts.privateRootfs(rootfs);
  }
  const config = baseConfig(rootfs, opts.args ?? ['true']);
  opts.mutate?.(config, { dir, rootfs });
  const configPath = path.join(dir, 'config.json');
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  return { dir, config, rootfs, configPath };
}

export function rewriteConfig(b: Bundle): void {
  fs.writeFileSync(b.configPath, JSON.stringify(b.config, null, 2));
}
