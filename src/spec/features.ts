/**
 * `runts features` (features.md / features-linux.md): generated from the
 * tables the code itself uses, never written out by hand.
 */
import { COMMIT, VERSION } from '../common/version.js';
import { CAPABILITIES } from '../linux/capability-names.js';
import { MPOL_FLAGS, MPOL_MODES } from '../linux/mempolicy.js';
import { NAMESPACES } from '../linux/namespaces.js';
import { MOUNT_OPTIONS } from '../linux/rootfs/mount-options.js';
import { SECCOMP_ACTIONS, SECCOMP_ARCHITECTURES, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../linux/seccomp/tables.js';
import { OCI_VERSION } from './types.js';

export const HOOK_NAMES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

/**
 * Config annotations that change what runts does (features.md): none. runts
 * reads no annotation of config.json; it only copies them into the state and
 * the hooks' state. Kept as a table so that the first one is declared here.
 */
export const POTENTIALLY_UNSAFE_ANNOTATIONS: readonly string[] = [];

export function features(): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_NAMES],
    mountOptions: [...MOUNT_OPTIONS],
    potentiallyUnsafeConfigAnnotations: [...POTENTIALLY_UNSAFE_ANNOTATIONS],
    linux: {
      namespaces: NAMESPACES.map((n) => n.type),
      capabilities: [...CAPABILITIES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: {
        enabled: true,
        actions: [...SECCOMP_ACTIONS],
        operators: [...SECCOMP_OPERATORS],
        archs: [...SECCOMP_ARCHITECTURES],
        knownFlags: [...SECCOMP_FLAGS],
        supportedFlags: [...SECCOMP_FLAGS],
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      // no resctrl support: a config's linux.intelRdt is refused
      intelRdt: { enabled: false, schemata: false, monitoring: false },
      // set_mempolicy(2) in the init (src/linux/mempolicy.ts)
      memoryPolicy: { modes: Object.keys(MPOL_MODES), flags: Object.keys(MPOL_FLAGS) },
      // id-mapped mounts (uidMappings/gidMappings of a mount); recursive read-only is the mount option "rro" above
      mountExtensions: { idmap: { enabled: true } },
      // create refuses linux.netDevices (src/container/create.ts)
      netDevices: { enabled: false },
    },
    annotations: {
      'org.opencontainers.runtime-spec.features': OCI_VERSION,
      'io.github.runts.version': VERSION,
      'io.github.runts.commit': COMMIT,
      // rootless mode (src/container/rootless.ts, src/cgroups/rootless.ts; README "Rootless")
      'io.github.runts.rootless': 'supported: --rootless auto|true|false; state in $XDG_RUNTIME_DIR/runts; a user namespace mapping the caller\'s own uid/gid (maps written by nsboot) or subordinate ranges (newuidmap/newgidmap, /etc/subuid, /etc/subgid); device nodes bind-mounted from the host; cgroups only where the user may write them (v1 path made and chowned by root, v2 delegated subtree), skipped with a warning when no limit needs them',
      'io.github.runts.rootless.refused': 'a config without its own user namespace (or mount namespace); idmapped mounts; limits in linux.resources whose cgroups the user cannot write; device cgroup rules (not applied); anything else the kernel refuses an unprivileged user (joining others\' namespaces, raising rlimits, lowering oomScoreAdj, host sysctls) fails with its errno',
    },
  };
}
