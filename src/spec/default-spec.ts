/**
 * The starter config.json written by `runts spec`: field for field what
 * `runc spec` (runc 1.1.5) writes, except that ociVersion is runts's 1.3.0.
 */
import { DEFAULT_CAPABILITIES } from '../linux/capability-names.js';
import { OCI_VERSION, type Linux, type Mount, type Process, type Spec } from './types.js';

export interface DefaultSpecOptions {
  /** A config for an unprivileged user: user namespace, no network namespace, bind-mounted /sys. */
  rootless?: boolean;
}

function defaultProcess(): Process {
  const caps = (): string[] => [...DEFAULT_CAPABILITIES];
  return {
    terminal: true,
    user: { uid: 0, gid: 0 },
    args: ['sh'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
    cwd: '/',
    capabilities: { bounding: caps(), effective: caps(), permitted: caps(), ambient: caps() },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  };
}

function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
}

const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
];

const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function defaultLinux(): Linux {
  return {
    resources: { devices: [{ allow: false, access: 'rwm' }] },
    namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    maskedPaths: [...MASKED_PATHS],
    readonlyPaths: [...READONLY_PATHS],
  };
}

/**
 * runc's rootless adjustments: map only the caller's uid and gid, join a new
 * user namespace instead of a new network namespace, drop the device cgroup
 * rules, bind-mount /sys (sysfs cannot be mounted without a network namespace
 * owned by the user) and drop the devpts gid=5 option (gid 5 is not mapped).
 */
function makeRootless(spec: Spec): void {
  const linux = spec.linux!;
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  spec.linux = {
    uidMappings: [{ containerID: 0, hostID: uid, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: gid, size: 1 }],
    namespaces: [...linux.namespaces!.filter((ns) => ns.type !== 'network'), { type: 'user' }],
    maskedPaths: linux.maskedPaths,
    readonlyPaths: linux.readonlyPaths,
  };
  spec.mounts = spec.mounts!.map((m) => {
    if (m.destination === '/sys') return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', ...m.options!] };
    if (m.type === 'devpts') return { ...m, options: m.options!.filter((o) => !o.startsWith('gid=')) };
    return m;
  });
}

/** The config `runts spec [--rootless]` writes. */
export function defaultSpec(opts: DefaultSpecOptions = {}): Spec {
  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: defaultProcess(),
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: defaultMounts(),
    linux: defaultLinux(),
  };
  if (opts.rootless) makeRootless(spec);
  return spec;
}
