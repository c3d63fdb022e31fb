/**
 * The command-line surface of runts, as data: every command, flag and alias,
 * with runc's names. The fast parser (parse.ts) and the help text (help.ts,
 * built with yargs on demand) are both generated from this one table.
 */

export type FlagType = 'boolean' | 'string' | 'number' | 'strings';

export interface FlagSpec {
  name: string;
  aliases?: string[];
  type: FlagType;
  describe: string;
  default?: string | number | boolean;
  choices?: string[];
}

export interface CommandSpec {
  name: string;
  describe: string;
  /** Positional arguments, for the usage line: e.g. "<container-id> [signal]". */
  positionals: string;
  minArgs: number;
  /** undefined: no limit. */
  maxArgs?: number;
  /** After this many positionals, everything else is positional (exec). */
  restAfter?: number;
  flags: FlagSpec[];
  /** Not built yet: the command exits with this explanation. */
  pending?: string;
}

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'root', type: 'string', describe: 'root directory for storage of container state (this should be located in tmpfs); default /run/runts, or $XDG_RUNTIME_DIR/runts when not run as root' },
  { name: 'log', type: 'string', describe: 'set the log file to write runts logs to (default is stderr only)' },
  { name: 'log-format', type: 'string', default: 'text', choices: ['text', 'json'], describe: 'set the log format' },
  { name: 'debug', type: 'boolean', describe: 'enable debug logging' },
  { name: 'systemd-cgroup', type: 'boolean', describe: 'enable systemd cgroup support (not supported: runts has no systemd driver)' },
  { name: 'rootless', type: 'string', default: 'auto', describe: 'rootless mode: true, false or auto (auto: when not root in the initial user namespace); cgroups that cannot be made are skipped when no limits are configured' },
  { name: 'criu', type: 'string', describe: 'path to the criu binary (checkpoint/restore are not supported)' },
  { name: 'help', aliases: ['h'], type: 'boolean', describe: 'show help' },
  { name: 'version', aliases: ['v'], type: 'boolean', describe: 'print the version' },
];

const BUNDLE: FlagSpec = { name: 'bundle', aliases: ['b'], type: 'string', describe: 'path to the root of the bundle directory, defaults to the current directory' };
const CONSOLE_SOCKET: FlagSpec = { name: 'console-socket', type: 'string', describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console\'s pseudoterminal' };
const PID_FILE: FlagSpec = { name: 'pid-file', type: 'string', describe: 'specify the file to write the process id to' };
const PRESERVE_FDS: FlagSpec = { name: 'preserve-fds', type: 'number', default: 0, describe: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)' };

const CREATE_FLAGS: FlagSpec[] = [
  BUNDLE, CONSOLE_SOCKET, PID_FILE,
  { name: 'no-pivot', type: 'boolean', describe: 'do not use pivot root to jail process inside rootfs (MS_MOVE + chroot instead)' },
  { name: 'no-new-keyring', type: 'boolean', describe: 'do not create a new session keyring for the container' },
  PRESERVE_FDS,
];

export const COMMANDS: CommandSpec[] = [
  { name: 'create', describe: 'create a container', positionals: '<container-id>', minArgs: 1, maxArgs: 1, flags: CREATE_FLAGS },
  {
    name: 'run', describe: 'create and run a container', positionals: '<container-id>', minArgs: 1, maxArgs: 1,
    flags: [
      ...CREATE_FLAGS,
      { name: 'detach', aliases: ['d'], type: 'boolean', describe: 'detach from the container\'s process' },
      { name: 'keep', type: 'boolean', describe: 'do not delete the container after it exits' },
      { name: 'no-subreaper', type: 'boolean', describe: 'accepted for runc compatibility; runts is a subreaper only while it waits' },
    ],
  },
  { name: 'start', describe: 'executes the user defined process in a created container', positionals: '<container-id>', minArgs: 1, maxArgs: 1, flags: [] },
  { name: 'state', describe: 'output the state of a container', positionals: '<container-id>', minArgs: 1, maxArgs: 1, flags: [] },
  {
    name: 'kill', describe: 'kill sends the specified signal (default: SIGTERM) to the container\'s init process', positionals: '<container-id> [signal]', minArgs: 1, maxArgs: 2,
    flags: [
      { name: 'all', aliases: ['a'], type: 'boolean', describe: 'send the specified signal to all processes inside the container' },
      { name: 'signal', aliases: ['s'], type: 'string', describe: 'the signal to send (the OCI CLI spec\'s form; same as the [signal] argument)' },
    ],
  },
  {
    name: 'delete', describe: 'delete any resources held by the container often used with detached container', positionals: '<container-id>', minArgs: 1, maxArgs: 1,
    flags: [{ name: 'force', aliases: ['f'], type: 'boolean', describe: 'forcibly delete the container if it is still running (uses SIGKILL)' }],
  },
  {
    name: 'list', describe: 'lists containers started by runts with the given root', positionals: '', minArgs: 0, maxArgs: 0,
    flags: [
      { name: 'format', aliases: ['f'], type: 'string', default: 'table', choices: ['table', 'json'], describe: 'select one of: table or json' },
      { name: 'quiet', aliases: ['q'], type: 'boolean', describe: 'display only container IDs' },
    ],
  },
  {
    name: 'spec', describe: 'create a new specification file', positionals: '', minArgs: 0, maxArgs: 0,
    flags: [BUNDLE, { name: 'rootless', type: 'boolean', describe: 'generate a configuration for a rootless container' }],
  },
  { name: 'features', describe: 'show the enabled features', positionals: '', minArgs: 0, maxArgs: 0, flags: [] },
  {
    name: 'validate', describe: 'validate a bundle\'s config.json (schema and semantic checks) without creating anything', positionals: '', minArgs: 0, maxArgs: 0,
    flags: [BUNDLE],
  },
  {
    name: 'exec', describe: 'execute new process inside the container', positionals: '<container-id> <command> [command options]', minArgs: 1, restAfter: 1,
    flags: [
      CONSOLE_SOCKET, PID_FILE,
      { name: 'cwd', type: 'string', describe: 'current working directory in the container' },
      { name: 'env', aliases: ['e'], type: 'strings', describe: 'set environment variables' },
      { name: 'tty', aliases: ['t'], type: 'boolean', describe: 'allocate a pseudo-TTY' },
      { name: 'user', aliases: ['u'], type: 'string', describe: 'UID (format: <uid>[:<gid>])' },
      { name: 'additional-gids', aliases: ['g'], type: 'strings', describe: 'additional gids' },
      { name: 'process', aliases: ['p'], type: 'string', describe: 'path to the process.json' },
      { name: 'detach', aliases: ['d'], type: 'boolean', describe: 'detach from the container\'s process' },
      { name: 'process-label', type: 'string', describe: 'set the asm process label for the process commonly used with selinux' },
      { name: 'apparmor', type: 'string', describe: 'set the apparmor profile for the process' },
      { name: 'no-new-privs', type: 'boolean', describe: 'set the no new privileges value for the process' },
      { name: 'cap', aliases: ['c'], type: 'strings', describe: 'add a capability to the bounding set for the process' },
      PRESERVE_FDS,
      { name: 'cgroup', type: 'strings', describe: 'run the process in an (existing) sub-cgroup(s)' },
      { name: 'ignore-paused', type: 'boolean', describe: 'allow exec in a paused container' },
    ],
  },
  {
    name: 'ps', describe: 'ps displays the processes running inside a container', positionals: '<container-id> [ps options]', minArgs: 1, restAfter: 1,
    flags: [{ name: 'format', aliases: ['f'], type: 'string', default: 'table', choices: ['table', 'json'], describe: 'select one of: table or json' }],
  },
  { name: 'pause', describe: 'pause suspends all processes inside the container', positionals: '<container-id>', minArgs: 1, maxArgs: 1, flags: [] },
  { name: 'resume', describe: 'resumes all processes that have been previously paused', positionals: '<container-id>', minArgs: 1, maxArgs: 1, flags: [] },
  {
    name: 'events', describe: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics', positionals: '<container-id>', minArgs: 1, maxArgs: 1,
    flags: [
      { name: 'interval', type: 'string', default: '5s', describe: 'set the stats collection interval' },
      { name: 'stats', type: 'boolean', describe: 'display the container\'s stats then exit' },
    ],
  },
  {
    name: 'update', describe: 'update container resource constraints', positionals: '<container-id>', minArgs: 1, maxArgs: 1,
    flags: [
      { name: 'resources', aliases: ['r'], type: 'string', describe: 'path to the file containing the resources to update or \'-\' to read from the standard input (a LinuxResources JSON; all other options are then ignored)' },
      { name: 'blkio-weight', type: 'number', describe: 'Specifies per cgroup weight, range is from 10 to 1000' },
      { name: 'cpu-period', type: 'string', describe: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default' },
      { name: 'cpu-quota', type: 'string', describe: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period' },
      { name: 'cpu-burst', type: 'string', describe: 'CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period' },
      { name: 'cpu-share', aliases: ['cpu-shares'], type: 'string', describe: 'CPU shares (relative weight vs. other containers)' },
      { name: 'cpu-rt-period', type: 'string', describe: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default' },
      { name: 'cpu-rt-runtime', type: 'string', describe: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period' },
      { name: 'cpuset-cpus', type: 'string', describe: 'CPU(s) to use' },
      { name: 'cpuset-mems', type: 'string', describe: 'Memory node(s) to use' },
      { name: 'cpu-idle', type: 'string', describe: 'set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE' },
      { name: 'kernel-memory', type: 'string', describe: '(obsoleted; do not use)' },
      { name: 'kernel-memory-tcp', type: 'string', describe: '(obsoleted; do not use)' },
      { name: 'memory', type: 'string', describe: 'Memory limit (in bytes; suffixes k, m, g, t, p; -1 for unlimited)' },
      { name: 'memory-reservation', type: 'string', describe: 'Memory reservation or soft_limit (in bytes)' },
      { name: 'memory-swap', type: 'string', describe: 'Total memory usage (memory + swap); set \'-1\' to enable unlimited swap' },
      { name: 'pids-limit', type: 'number', describe: 'Maximum number of pids allowed in the container (-1 for unlimited)' },
      { name: 'l3-cache-schema', type: 'string', describe: 'The string of Intel RDT/CAT L3 cache schema (not supported: runts has no intelRdt)' },
      { name: 'mem-bw-schema', type: 'string', describe: 'The string of Intel RDT/MBA memory bandwidth schema (not supported: runts has no intelRdt)' },
    ],
  },
  {
    name: 'image', describe: 'OCI images (runts only, not runc): "unpack LAYOUT[:REF] BUNDLE" makes a bundle from an image layout; "remove BUNDLE", "mount BUNDLE" (a --shared bundle after a reboot), "prune" (unused shared layers)',
    positionals: '<unpack|remove|mount|prune> [arguments]', minArgs: 1, maxArgs: 3,
    flags: [
      { name: 'shared', type: 'boolean', describe: 'unpack: keep the layers in the shared read-only store and mount an overlayfs rootfs with a per-bundle writable layer' },
      { name: 'store', type: 'string', describe: 'the shared layer store (default /var/lib/runts/layers)' },
    ],
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
