/**
 * The one base config of the tests, derived from what `runts spec` writes
 * (src/spec/default-spec.ts, runc's defaults), over a busybox rootfs. The
 * suites differ from it, and from each other, on purpose; each difference is
 * an explicit override here:
 * - all: a read-only rootfs at a given path, no terminal, the given args;
 *   no cgroup mount, no device cgroup rule (linux.resources), no ambient
 *   capabilities (a test asks for what it checks).
 * - conformance (conformance/lib/runtime.ts: conformance/ and
 *   test/security-regressions): `runts spec` as is otherwise, hostname
 *   "conformance".
 * - runts (test/helpers/runts.ts: the kernel tests and the differential tests
 *   of test/parity): no capabilities object
 *   (runc: no capabilities at all), devpts without gid=5, no masked or
 *   read-only paths, hostname "runts-test".
 * - rootfs plan (test/rootfs/harness.ts): only the mounts, masked and
 *   read-only paths, rootfs "rootfs", no namespaces, args ["sh"].
 */
import { defaultSpec } from '../../src/spec/default-spec.js';
import type { Spec } from '../../src/spec/types.js';

export type Cfg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** `runts spec` with what every suite overrides: rootfs, args, no terminal, cgroup mount, device rule, ambient caps. */
function specBase(rootfs: string, args: string[]): Cfg {
  const { ociVersion, process: proc, hostname, mounts, linux } = structuredClone(defaultSpec()) as Cfg;
  const spec: Cfg = { ociVersion, root: { path: rootfs, readonly: true }, process: proc, hostname, mounts, linux };
  spec.process.terminal = false;
  spec.process.args = [...args];
  delete spec.process.capabilities.ambient;
  spec.mounts = spec.mounts.filter((m: Cfg) => m.type !== 'cgroup');
  delete spec.linux.resources;
  return spec;
}

/** The conformance suite's config: `runts spec` over `rootfs`, running `args`. */
export function conformanceConfig(rootfs: string, args: string[]): Cfg {
  const cfg = specBase(rootfs, args);
  cfg.hostname = 'conformance';
  return cfg;
}

/** The kernel tests' config: no capabilities, devpts without a gid, no masked or read-only paths. */
export function runtsConfig(rootfs: string, args: string[]): Cfg {
  const cfg = specBase(rootfs, args);
  cfg.hostname = 'runts-test';
  delete cfg.process.capabilities;
  const devpts = cfg.mounts.find((m: Cfg) => m.type === 'devpts');
  devpts.options = devpts.options.filter((o: string) => !o.startsWith('gid='));
  delete cfg.linux.maskedPaths;
  delete cfg.linux.readonlyPaths;
  return cfg;
}

/** The rootfs plan's input: `runts spec`'s mounts, masked and read-only paths, rootfs "rootfs", no namespaces. */
export function rootfsPlanSpec(): Spec {
  const base = specBase('rootfs', ['sh']);
  return {
    ociVersion: base.ociVersion,
    root: base.root,
    process: { cwd: '/', user: { uid: 0, gid: 0 }, args: base.process.args },
    mounts: base.mounts,
    linux: { maskedPaths: base.linux.maskedPaths, readonlyPaths: base.linux.readonlyPaths },
  } as Spec;
}
