/**
 * Semantic checks of config.json that the JSON schema cannot express. They
 * run after the schema passed, so every present field has the right shape.
 * Each problem is a ConfigError carrying the JSON pointer of the value.
 *
 * Covered, with the pointer reported (quotes are from the v1.3.0 spec):
 *
 * config.md
 * - /ociVersion: "MUST be in SemVer v2.0.0 format"; compatibility holds only
 *   within a major version and up to the runtime's minor, so runts accepts
 *   1.0.0 .. 1.3.x (pre-releases such as 1.0.2-dev included) and rejects 0.x, 2.x, 1.4+.
 * - /root: "On all other platforms [than Windows], this field is REQUIRED";
 *   /root/path: "A directory MUST exist at the path declared by the field"
 *   (absolute, or relative to the bundle), unless opts.checkRootfs is false.
 * - /mounts/N/destination: Linux "SHOULD be an absolute path ... MAY be a
 *   relative path, in which case it MUST be interpreted as relative to '/'"
 *   => a relative one is a WARNING (deprecated), an empty one an error.
 * - /mounts/N: uidMappings "MUST be specified along with gidMappings" and vice versa;
 *   "idmap"/"ridmap" without mount mappings and without a user namespace: "an error MUST be returned".
 * - /process: "REQUIRED when start is called" (opts.requireProcess, default true).
 * - /process/args: "at least one entry is REQUIRED (non-Windows)" (commandLine is Windows-only).
 * - /process/cwd: "This value MUST be an absolute path."
 * - /process/user: POSIX uid and gid are REQUIRED.
 * - /process/rlimits/N/type: "MUST generate an error for any values which cannot
 *   be mapped to a relevant kernel interface" (RLIMITS table); "duplicated entries
 *   with same type ... MUST generate an error". soft > hard cannot be applied (setrlimit EINVAL).
 * - /process/capabilities/SET/N: names not in capability-names.ts. NOTE: config.md
 *   says such values "MUST be logged as a warning" and runtimes "SHOULD NOT fail";
 *   runts rejects them by default (as runc 1.1 does); opts.unknownCapabilities='warn'
 *   gives the spec's behaviour.
 * - /hooks/KIND/N/path: "path MUST be absolute".
 * - /annotations: "Keys MUST NOT be an empty string."
 * - "Runtimes MUST generate an error when invalid or unsupported values are
 *   encountered": values the kernel would reject: umask > 0o777, oomScoreAdj
 *   outside -1000..1000, ioPriority priority outside 0..7 (and missing; it is
 *   REQUIRED), scheduler nice/priority/deadline ranges, env entries without "=",
 *   NUL characters in paths, args and env.
 *
 * config-linux.md
 * - /linux/namespaces/N/type: unknown types; "duplicated namespaces with same
 *   type ... MUST generate an error". /linux/namespaces/N/path: "MUST be an absolute path".
 * - /linux/uidMappings, /linux/gidMappings: runtime policy (the spec has no MUST
 *   here): required when a new user namespace is created, rejected without a
 *   user namespace or when the user namespace is joined by path (they cannot be
 *   applied then); size >= 1, no overlapping ranges, at most 340 ranges (kernel rules).
 * - /hostname, /domainname: config.md allows the container UTS namespace to be
 *   the runtime's, but setting it there would rename the host, so (like runc) a
 *   uts entry (new or joined) is required.
 * - /linux/timeOffsets: only with a new time namespace; clocks "boottime" and
 *   "monotonic" (time_namespaces(7)); nanosecs < 1e9.
 * - /linux/devices/N: major, minor "REQUIRED unless type is p"; path is a "full path" (absolute).
 * - /linux/sysctl/KEY: syntactically valid names, and only namespaced sysctls
 *   (net.* with a network namespace, IPC ones with an ipc namespace,
 *   kernel.hostname/domainname with a uts namespace; a namespace joined by
 *   path must not be the runtime's own); others would change the host.
 * - /linux/cgroupsPath: "Runtimes MAY consider certain cgroupsPath values to be
 *   invalid, and MUST generate an error": NUL characters and ".." components.
 * - /linux/resources: device rules type a/c/b and access from "rwm";
 *   blockIO weightDevice "MUST specify at least one of weight or leafWeight";
 *   rdma "MUST specify at least one of the hcaHandles or hcaObjects"; cpu quota
 *   "MUST be no smaller than burst"; memory swap >= limit, swappiness <= 100;
 *   unified keys must be plain cgroup file names.
 * - /linux/seccomp: listenerMetadata "MUST NOT be set if listenerPath is not set";
 *   (default)errnoRet with an action without errno: "MUST print and error and fail";
 *   SCMP_ACT_NOTIFY needs listenerPath; empty syscall names.
 * - /linux/maskedPaths, /linux/readonlyPaths: "The values MUST be absolute paths".
 * - /linux/rootfsPropagation: the schema's enum (shared, slave, private, unbindable) covers it.
 * - /linux/personality: domain REQUIRED; "Currently no flag values are supported".
 * - /linux/intelRdt: schemata lines "MUST NOT contain newlines"; closID must be
 *   "/" or one directory name (it names a resctrl directory).
 * - /linux/memoryPolicy: mode REQUIRED; nodes list syntax and the set_mempolicy(2)
 *   rules on which modes take nodes.
 * - /linux/netDevices: need a network namespace; interface names valid for the kernel.
 */
import type { ConfigError } from '../common/errors.js';
import type { Spec } from './types.js';
import {
  checkAnnotations, checkHooks, checkMounts, checkProcess, checkRoot, checkVersion,
} from './semantic-config.js';
import type { Ctx } from './semantic-helpers.js';
import {
  checkCgroupsPath, checkDevices, checkIntelRdt, checkMaskedAndReadonly, checkMemoryPolicy, checkNetDevices,
  checkPersonality, checkResources, checkSeccomp, checkSysctl, checkTimeOffsets, checkUserNamespace, checkUts,
  collectNamespaces,
} from './semantic-linux.js';

// The checks live in semantic-config.ts (config.md) and semantic-linux.ts
// (config-linux.md), their shared context in semantic-helpers.ts.
export { MAX_SUPPORTED_MINOR } from './semantic-config.js';
export { ptr } from './semantic-helpers.js';
export { sysctlNamespace } from './semantic-linux.js';

export interface SemanticOptions {
  /** Check that root.path names an existing directory (default true). */
  checkRootfs?: boolean;
  /** Require `process`, which create/run need (default true). */
  requireProcess?: boolean;
  /** How to treat capability names runts does not know (default 'error'). */
  unknownCapabilities?: 'error' | 'warn';
}

export interface SemanticProblems {
  errors: ConfigError[];
  warnings: ConfigError[];
}

/** Run every semantic check on a schema-valid config. */
export function semanticProblems(spec: Spec, bundleDir: string, opts: SemanticOptions = {}): SemanticProblems {
  const c: Ctx = {
    spec,
    linux: spec.linux ?? {},
    bundleDir,
    opts: { checkRootfs: true, requireProcess: true, unknownCapabilities: 'error', ...opts },
    errors: [],
    warnings: [],
    namespaces: new Map(),
  };
  collectNamespaces(c);
  for (const check of CHECKS) check(c);
  return { errors: c.errors, warnings: c.warnings };
}

// ---------------------------------------------------------------------------

const CHECKS: ((c: Ctx) => void)[] = [
  checkVersion,
  checkRoot,
  checkProcess,
  checkMounts,
  checkHooks,
  checkAnnotations,
  checkUserNamespace,
  checkUts,
  checkTimeOffsets,
  checkDevices,
  checkSysctl,
  checkCgroupsPath,
  checkResources,
  checkSeccomp,
  checkMaskedAndReadonly,
  checkPersonality,
  checkIntelRdt,
  checkMemoryPolicy,
  checkNetDevices,
];
