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
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, errnoDescription } from '../common/errors.js';
import { capabilityNumber } from '../linux/capability-names.js';
import { NAMESPACES, namespaceKind } from '../linux/namespaces.js';
import { RLIMITS, rlimitNumber } from './rlimits.js';
import type { IDMapping, Linux, Mount, NamespaceType, Process, Resources, Seccomp, Spec } from './types.js';

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

interface NamespaceEntry {
  index: number;
  path?: string;
}

interface Ctx {
  spec: Spec;
  linux: Linux;
  bundleDir: string;
  opts: Required<SemanticOptions>;
  errors: ConfigError[];
  warnings: ConfigError[];
  namespaces: Map<string, NamespaceEntry>;
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
// Helpers

function escapeSegment(s: string | number): string {
  return String(s).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A JSON pointer from path segments. */
export function ptr(...segments: (string | number)[]): string {
  return segments.length === 0 ? '/' : `/${segments.map(escapeSegment).join('/')}`;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string' && v.length > 64) return `${JSON.stringify(v.slice(0, 64))}...`;
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function error(c: Ctx, pointer: string, message: string): void {
  c.errors.push(new ConfigError(pointer, message));
}

function warn(c: Ctx, pointer: string, message: string): void {
  c.warnings.push(new ConfigError(pointer, message));
}

function hasNul(s: string): boolean {
  return s.includes('\0');
}

/** NUL check, plus an absolute-path check unless relativeOk. Returns false on error. */
function checkPath(c: Ctx, pointer: string, value: string, absolute = true): boolean {
  if (hasNul(value)) error(c, pointer, 'must not contain a NUL character');
  else if (absolute && !value.startsWith('/')) error(c, pointer, `must be an absolute path, got ${show(value)}`);
  else return true;
  return false;
}

function namespaceRef(entry: NamespaceEntry): string {
  return ptr('linux', 'namespaces', entry.index, 'path');
}

/** An error for a setting that needs a namespace of `type` (new, or also joined if joinedOk). */
function requireNamespace(c: Ctx, pointer: string, type: NamespaceType, what: string, joinedOk: boolean): void {
  const ns = c.namespaces.get(type);
  if (!ns) error(c, pointer, `${what} needs a ${type} namespace in /linux/namespaces`);
  else if (ns.path && !joinedOk) error(c, pointer, `${what} cannot be applied to the ${type} namespace joined through ${namespaceRef(ns)}`);
}

// ---------------------------------------------------------------------------
// Version, root, process

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** The highest spec minor version of major 1 that runts supports. */
export const MAX_SUPPORTED_MINOR = 3;

function checkVersion(c: Ctx): void {
  const v = c.spec.ociVersion;
  const m = SEMVER.exec(v);
  if (!m) return error(c, '/ociVersion', `must be a SemVer 2.0.0 version such as "1.3.0", got ${show(v)}`);
  if (Number(m[1]) !== 1 || Number(m[2]) > MAX_SUPPORTED_MINOR) {
    error(c, '/ociVersion', `unsupported version ${show(v)}: runts supports 1.0.0 to 1.${MAX_SUPPORTED_MINOR}.x`);
  }
}

function checkRoot(c: Ctx): void {
  const root = c.spec.root;
  if (!root) return error(c, '/', 'missing required property "root" (required on Linux)');
  if (root.path === '') return error(c, '/root/path', 'must not be empty');
  if (checkPath(c, '/root/path', root.path, false) && c.opts.checkRootfs) checkRootfsDir(c, root.path);
}

function checkRootfsDir(c: Ctx, rootPath: string): void {
  const abs = path.resolve(c.bundleDir, rootPath);
  try {
    if (!statSync(abs).isDirectory()) error(c, '/root/path', `root filesystem ${abs}: not a directory`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    error(c, '/root/path', `root filesystem ${abs}: ${errnoDescription(code)}`);
  }
}

function checkProcess(c: Ctx): void {
  const proc = c.spec.process;
  if (!proc) {
    if (c.opts.requireProcess) error(c, '/', 'missing required property "process" (needed to create a container)');
    return;
  }
  checkArgs(c, proc);
  checkPath(c, '/process/cwd', proc.cwd);
  checkEnv(c, proc);
  checkUser(c, proc);
  checkRlimits(c, proc);
  checkCapabilities(c, proc);
  checkScheduler(c, proc);
  checkProcessNumbers(c, proc);
}

function checkArgs(c: Ctx, proc: Process): void {
  const args = proc.args ?? [];
  if (args.length === 0) {
    const hint = proc.commandLine !== undefined ? ' (commandLine is only used on Windows)' : '';
    return error(c, '/process/args', `must have at least one entry on Linux${hint}, got ${show(proc.args)}`);
  }
  if (args[0] === '') error(c, '/process/args/0', 'must not be empty: it names the program to run');
  args.forEach((a, i) => {
    if (hasNul(a)) error(c, ptr('process', 'args', i), 'must not contain a NUL character');
  });
}

function checkEnv(c: Ctx, proc: Process): void {
  (proc.env ?? []).forEach((entry, i) => {
    const at = ptr('process', 'env', i);
    if (hasNul(entry)) error(c, at, 'must not contain a NUL character');
    else if (!entry.includes('=')) error(c, at, `must have the form NAME=value, got ${show(entry)}`);
    else if (entry.startsWith('=')) error(c, at, `variable name must not be empty, got ${show(entry)}`);
  });
}

function checkUser(c: Ctx, proc: Process): void {
  const user = proc.user;
  if (!user) return error(c, '/process', 'missing required property "user"');
  for (const key of ['uid', 'gid'] as const) {
    if (user[key] === undefined) error(c, '/process/user', `missing required property "${key}"`);
  }
  if (user.umask !== undefined && user.umask > 0o777) {
    error(c, '/process/user/umask', `must be <= 511 (0o777), got ${user.umask}`);
  }
}

function checkRlimits(c: Ctx, proc: Process): void {
  const seen = new Map<string, number>();
  (proc.rlimits ?? []).forEach((rl, i) => {
    const at = ptr('process', 'rlimits', i);
    if (rlimitNumber(rl.type) === undefined) {
      error(c, `${at}/type`, `unknown resource ${show(rl.type)}; must be one of ${Object.keys(RLIMITS).join(', ')}`);
    }
    const first = seen.get(rl.type);
    if (first === undefined) seen.set(rl.type, i);
    else error(c, `${at}/type`, `duplicate rlimit ${show(rl.type)}, already set at ${ptr('process', 'rlimits', first)}`);
    if (rl.soft > rl.hard) error(c, at, `soft limit ${rl.soft} must be <= hard limit ${rl.hard}`);
  });
}

const CAPABILITY_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

function capabilityHint(name: string): string {
  const guess = `CAP_${name.toUpperCase().replace(/^CAP_/, '')}`;
  return capabilityNumber(guess) !== undefined ? ` (did you mean "${guess}"?)` : '';
}

function checkCapabilities(c: Ctx, proc: Process): void {
  const report = c.opts.unknownCapabilities === 'warn' ? warn : error;
  for (const set of CAPABILITY_SETS) {
    (proc.capabilities?.[set] ?? []).forEach((name, i) => {
      if (capabilityNumber(name) === undefined) {
        report(c, ptr('process', 'capabilities', set, i), `unknown capability ${show(name)}${capabilityHint(name)}`);
      }
    });
  }
}

function checkRange(c: Ctx, pointer: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && (value < min || value > max)) {
    error(c, pointer, `must be between ${min} and ${max}, got ${value}`);
  }
}

function checkScheduler(c: Ctx, proc: Process): void {
  const s = proc.scheduler;
  if (!s) return;
  checkRange(c, '/process/scheduler/nice', s.nice, -20, 19);
  const realtime = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
  const priority = s.priority ?? 0;
  if (realtime && (priority < 1 || priority > 99)) {
    error(c, '/process/scheduler/priority', `must be between 1 and 99 for ${s.policy}, got ${show(s.priority)}`);
  } else if (!realtime && priority !== 0) {
    error(c, '/process/scheduler/priority', `must be 0 for ${s.policy}, got ${priority}`);
  }
  if (s.policy === 'SCHED_DEADLINE') checkDeadline(c, s.runtime ?? 0, s.deadline ?? 0, s.period ?? 0);
}

function checkDeadline(c: Ctx, runtime: number, deadline: number, period: number): void {
  const at = '/process/scheduler';
  if (runtime === 0 || deadline === 0) error(c, at, 'SCHED_DEADLINE needs non-zero "runtime" and "deadline"');
  else if (runtime > deadline) error(c, `${at}/runtime`, `must be <= deadline (${deadline}), got ${runtime}`);
  else if (period !== 0 && deadline > period) error(c, `${at}/deadline`, `must be <= period (${period}), got ${deadline}`);
}

function checkProcessNumbers(c: Ctx, proc: Process): void {
  checkRange(c, '/process/oomScoreAdj', proc.oomScoreAdj, -1000, 1000);
  const io = proc.ioPriority;
  if (io && io.priority === undefined) error(c, '/process/ioPriority', 'missing required property "priority"');
  checkRange(c, '/process/ioPriority/priority', io?.priority, 0, 7);
}

// ---------------------------------------------------------------------------
// Mounts, hooks, annotations

function checkMounts(c: Ctx): void {
  (c.spec.mounts ?? []).forEach((m, i) => {
    const at = ptr('mounts', i);
    checkMountDestination(c, m, at);
    checkMountOptions(c, m, at);
    checkMountMappings(c, m, at);
  });
}

function checkMountDestination(c: Ctx, m: Mount, at: string): void {
  const dest = m.destination;
  if (dest === '') return error(c, `${at}/destination`, 'must not be empty');
  if (!checkPath(c, `${at}/destination`, dest, false)) return;
  if (!dest.startsWith('/')) {
    warn(c, `${at}/destination`, `relative destination ${show(dest)} is deprecated; it is taken relative to "/"`);
  }
}

function checkMountOptions(c: Ctx, m: Mount, at: string): void {
  const options = m.options ?? [];
  options.forEach((o, j) => {
    if (o === '') error(c, `${at}/options/${j}`, 'must not be an empty string');
    else if (hasNul(o)) error(c, `${at}/options/${j}`, 'must not contain a NUL character');
  });
  const bind = options.includes('bind') || options.includes('rbind');
  if (bind && !m.source) error(c, at, 'missing required property "source" (required for bind mounts)');
  const copyUp = options.lastIndexOf('tmpcopyup');
  if (copyUp >= 0 && (bind || m.type !== 'tmpfs')) {
    error(c, `${at}/options/${copyUp}`, `mount option "tmpcopyup" is only valid for tmpfs mounts, not ${bind ? 'a bind mount' : `type ${show(m.type ?? '')}`}`);
  }
  if (m.source !== undefined) checkPath(c, `${at}/source`, m.source, false);
}

function checkMountMappings(c: Ctx, m: Mount, at: string): void {
  const hasUid = m.uidMappings !== undefined;
  const hasGid = m.gidMappings !== undefined;
  if (hasUid && !hasGid) error(c, at, 'uidMappings must be specified along with gidMappings');
  if (hasGid && !hasUid) error(c, at, 'gidMappings must be specified along with uidMappings');
  checkMappings(c, m.uidMappings, `${at}/uidMappings`);
  checkMappings(c, m.gidMappings, `${at}/gidMappings`);
  const options = m.options ?? [];
  const idmap = options.find((o) => o === 'idmap' || o === 'ridmap');
  if (idmap && !hasUid && !hasGid && !c.namespaces.has('user')) {
    error(c, `${at}/options`, `"${idmap}" needs uidMappings and gidMappings on the mount or a user namespace`);
  }
  if (!idmap && (hasUid || hasGid)) warn(c, `${at}/options`, 'mount id mappings should come with the "idmap" or "ridmap" option');
  const bind = options.includes('bind') || options.includes('rbind') || m.type === 'bind';
  if ((idmap || hasUid || hasGid) && !bind && c.namespaces.has('user')) {
    // The kernel lets only a process privileged over the filesystem's user namespace idmap
    // a mount: the CLI makes idmapped bind mounts on the host for such a container, but a
    // new filesystem is made by the init, inside the container's user namespace.
    error(c, idmap ? `${at}/options` : at, 'an idmapped mount that is not a bind mount is not supported by runts in a container with its own user namespace');
  }
}

const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

function checkHooks(c: Ctx): void {
  for (const kind of HOOK_KINDS) {
    (c.spec.hooks?.[kind] ?? []).forEach((h, i) => checkPath(c, ptr('hooks', kind, i, 'path'), h.path));
  }
}

function checkAnnotations(c: Ctx): void {
  if (c.spec.annotations && Object.hasOwn(c.spec.annotations, '')) error(c, '/annotations', 'keys must not be empty');
}

// ---------------------------------------------------------------------------
// Namespaces and id mappings

function collectNamespaces(c: Ctx): void {
  (c.linux.namespaces ?? []).forEach((ns, i) => {
    const at = ptr('linux', 'namespaces', i);
    if (!namespaceKind(ns.type)) {
      const known = NAMESPACES.map((n) => JSON.stringify(n.type)).join(', ');
      return error(c, `${at}/type`, `unknown namespace type ${show(ns.type)}; must be one of ${known}`);
    }
    const prev = c.namespaces.get(ns.type);
    if (prev) {
      return error(c, `${at}/type`, `duplicate namespace type ${show(ns.type)}, already listed at ${ptr('linux', 'namespaces', prev.index)}`);
    }
    c.namespaces.set(ns.type, { index: i, path: ns.path || undefined });
    if (ns.path) checkPath(c, `${at}/path`, ns.path);
  });
}

function checkUserNamespace(c: Ctx): void {
  const userns = c.namespaces.get('user');
  for (const key of ['uidMappings', 'gidMappings'] as const) {
    const maps = c.linux[key];
    const at = ptr('linux', key);
    const given = maps !== undefined && maps.length > 0;
    if (given && !userns) error(c, at, 'set, but no user namespace is requested in /linux/namespaces');
    else if (given && userns?.path) error(c, at, `cannot be applied to the user namespace joined through ${namespaceRef(userns)}`);
    else if (!given && userns && !userns.path) error(c, at, 'required when a new user namespace is created');
    checkMappings(c, maps, at);
  }
}

/** The kernel's limit on uid_map/gid_map lines. */
const MAX_ID_RANGES = 340;
const ID_SPACE = 2 ** 32;

function overlaps(a: IDMapping, b: IDMapping, key: 'containerID' | 'hostID'): boolean {
  return a[key] < b[key] + b.size && b[key] < a[key] + a.size;
}

function checkMappings(c: Ctx, maps: IDMapping[] | undefined, at: string): void {
  if (!maps) return;
  if (maps.length > MAX_ID_RANGES) error(c, at, `must have at most ${MAX_ID_RANGES} entries, got ${maps.length}`);
  maps.forEach((m, i) => {
    if (m.size === 0) return error(c, `${at}/${i}/size`, 'must be >= 1, got 0');
    if (m.containerID + m.size > ID_SPACE || m.hostID + m.size > ID_SPACE) {
      return error(c, `${at}/${i}`, 'range goes beyond the 32-bit id space');
    }
    const j = maps.slice(0, i).findIndex((o) => o.size > 0 && (overlaps(m, o, 'containerID') || overlaps(m, o, 'hostID')));
    if (j >= 0) error(c, `${at}/${i}`, `overlaps ${at}/${j}`);
  });
}

function checkUts(c: Ctx): void {
  for (const key of ['hostname', 'domainname'] as const) {
    if (c.spec[key]) requireNamespace(c, `/${key}`, 'uts', `setting the ${key}`, true);
  }
}

function checkTimeOffsets(c: Ctx): void {
  const offsets = c.linux.timeOffsets;
  if (!offsets || Object.keys(offsets).length === 0) return;
  requireNamespace(c, '/linux/timeOffsets', 'time', 'timeOffsets', false);
  for (const [clock, offset] of Object.entries(offsets)) {
    const at = ptr('linux', 'timeOffsets', clock);
    if (clock !== 'boottime' && clock !== 'monotonic') {
      error(c, at, `unknown clock ${show(clock)}; must be "boottime" or "monotonic"`);
    }
    if ((offset.nanosecs ?? 0) >= 1e9) error(c, `${at}/nanosecs`, `must be < 1000000000, got ${offset.nanosecs}`);
  }
}

// ---------------------------------------------------------------------------
// Devices, sysctl, cgroups

function checkDevices(c: Ctx): void {
  (c.linux.devices ?? []).forEach((d, i) => {
    const at = ptr('linux', 'devices', i);
    checkPath(c, `${at}/path`, d.path);
    if (d.type === 'p') return;
    for (const key of ['major', 'minor'] as const) {
      if (d[key] === undefined) error(c, at, `missing required property "${key}" (required unless type is "p")`);
    }
  });
}

const SYSCTL_NAME = /^[A-Za-z0-9_@:+-]+(?:[./][A-Za-z0-9_@:+-]+)+$/;
const IPC_SYSCTLS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.sem_next_id',
  'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

/** The namespace that isolates a sysctl, or undefined if it is global. */
export function sysctlNamespace(key: string): NamespaceType | undefined {
  const name = key.replace(/\//g, '.');
  if (name.startsWith('net.')) return 'network';
  // kernel.shm* and kernel.msg* are all IPC-namespaced (ipc/ipc_sysctl.c), e.g. shm_next_id, msg_next_id.
  if (IPC_SYSCTLS.has(name) || /^kernel\.(shm|msg)/.test(name) || name.startsWith('fs.mqueue.')) return 'ipc';
  if (name === 'kernel.hostname' || name === 'kernel.domainname') return 'uts';
  return undefined;
}

function checkSysctl(c: Ctx): void {
  for (const key of Object.keys(c.linux.sysctl ?? {})) {
    const at = ptr('linux', 'sysctl', key);
    const ns = sysctlNamespace(key);
    if (!SYSCTL_NAME.test(key)) error(c, at, `invalid sysctl name ${show(key)}`);
    else if (!ns) error(c, at, `sysctl ${show(key)} is not namespaced: setting it would change the host`);
    else {
      requireNamespace(c, at, ns, `sysctl ${show(key)}`, true);
      const joined = c.namespaces.get(ns);
      if (joined?.path && isOwnNamespace(ns, joined.path)) {
        error(c, at, `sysctl ${show(key)} needs a private ${ns} namespace, but ${namespaceRef(joined)} is the runtime's own: setting it would change the host`);
      }
    }
  }
}

/** Is `nsPath` the namespace this process is in (runc's isHostNetNS, for every kind)? */
function isOwnNamespace(type: NamespaceType, nsPath: string): boolean {
  try {
    const a = statSync(nsPath);
    const b = statSync(`/proc/self/ns/${namespaceKind(type)!.proc}`);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false; // a missing path fails later, when the namespace is joined
  }
}

function checkCgroupsPath(c: Ctx): void {
  const p = c.linux.cgroupsPath;
  if (!p) return;
  if (hasNul(p)) error(c, '/linux/cgroupsPath', 'must not contain a NUL character');
  else if (p.split('/').includes('..')) error(c, '/linux/cgroupsPath', `must not contain ".." components, got ${show(p)}`);
}

function checkResources(c: Ctx): void {
  const r = c.linux.resources;
  if (!r) return;
  checkDeviceRules(c, r);
  checkBlockIO(c, r);
  checkRdma(c, r);
  checkCpu(c, r);
  checkMemory(c, r);
  checkUnified(c, r);
}

function checkDeviceRules(c: Ctx, r: Resources): void {
  (r.devices ?? []).forEach((d, i) => {
    const at = ptr('linux', 'resources', 'devices', i);
    if (d.type !== undefined && !['a', 'b', 'c'].includes(d.type)) {
      error(c, `${at}/type`, `must be one of "a", "b", "c", got ${show(d.type)}`);
    }
    // runc ignores letters other than r, w and m: a warning, unless none is left
    if (d.access !== undefined && !/[rwm]/.test(d.access)) {
      error(c, `${at}/access`, `must be a combination of "r", "w" and "m", got ${show(d.access)}`);
    } else if (d.access !== undefined && /[^rwm]/.test(d.access)) {
      warn(c, `${at}/access`, `unknown access letters in ${show(d.access)} are ignored (only "r", "w" and "m" mean something), as runc does`);
    }
  });
}

function checkBlockIO(c: Ctx, r: Resources): void {
  (r.blockIO?.weightDevice ?? []).forEach((w, i) => {
    if (w.weight === undefined && w.leafWeight === undefined) {
      error(c, ptr('linux', 'resources', 'blockIO', 'weightDevice', i), 'must specify at least one of "weight" or "leafWeight"');
    }
  });
}

function checkRdma(c: Ctx, r: Resources): void {
  for (const [dev, limits] of Object.entries(r.rdma ?? {})) {
    if (limits.hcaHandles === undefined && limits.hcaObjects === undefined) {
      error(c, ptr('linux', 'resources', 'rdma', dev), 'must specify at least one of "hcaHandles" or "hcaObjects"');
    }
  }
}

function checkCpu(c: Ctx, r: Resources): void {
  const cpu = r.cpu;
  if (cpu?.burst !== undefined && cpu.quota !== undefined && cpu.quota > 0 && cpu.burst > cpu.quota) {
    error(c, '/linux/resources/cpu/burst', `must be <= quota (${cpu.quota}), got ${cpu.burst}`);
  }
}

function checkMemory(c: Ctx, r: Resources): void {
  const mem = r.memory;
  if (!mem) return;
  const { limit, swap, swappiness } = mem;
  if (limit !== undefined && swap !== undefined && limit > 0 && swap > 0 && swap < limit) {
    error(c, '/linux/resources/memory/swap', `is the memory+swap limit and must be >= limit (${limit}) or -1, got ${swap}`);
  }
  if (swappiness !== undefined && swappiness > 100) {
    error(c, '/linux/resources/memory/swappiness', `must be between 0 and 100, got ${swappiness}`);
  }
}

function checkUnified(c: Ctx, r: Resources): void {
  for (const key of Object.keys(r.unified ?? {})) {
    if (key === '.' || key === '..' || key.includes('/') || hasNul(key)) {
      error(c, ptr('linux', 'resources', 'unified', key), `must be a cgroup file name such as "memory.max", got ${show(key)}`);
    }
  }
}

// ---------------------------------------------------------------------------
// Seccomp, paths, personality, RDT, memory policy, network devices

const ERRNO_ACTIONS = new Set(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE']);

function checkErrnoRet(c: Ctx, pointer: string, errnoRet: number | undefined, action: string): void {
  if (errnoRet !== undefined && !ERRNO_ACTIONS.has(action)) {
    error(c, pointer, `is only supported with "SCMP_ACT_ERRNO" or "SCMP_ACT_TRACE", not ${show(action)}`);
  }
}

function checkSeccomp(c: Ctx): void {
  const s: Seccomp | undefined = c.linux.seccomp;
  if (!s) return;
  const at = '/linux/seccomp';
  if (s.listenerMetadata && !s.listenerPath) error(c, `${at}/listenerMetadata`, 'must not be set without listenerPath');
  checkErrnoRet(c, `${at}/defaultErrnoRet`, s.defaultErrnoRet, s.defaultAction);
  const syscalls = s.syscalls ?? [];
  syscalls.forEach((sc, i) => {
    checkErrnoRet(c, `${at}/syscalls/${i}/errnoRet`, sc.errnoRet, sc.action);
    sc.names.forEach((n, j) => {
      if (n === '') error(c, `${at}/syscalls/${i}/names/${j}`, 'must not be empty');
    });
  });
  const notify = s.defaultAction === 'SCMP_ACT_NOTIFY' || syscalls.some((sc) => sc.action === 'SCMP_ACT_NOTIFY');
  if (notify && !s.listenerPath) error(c, at, 'missing required property "listenerPath" (needed by SCMP_ACT_NOTIFY)');
}

function checkMaskedAndReadonly(c: Ctx): void {
  for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
    (c.linux[key] ?? []).forEach((p, i) => checkPath(c, ptr('linux', key, i), p));
  }
}

function checkPersonality(c: Ctx): void {
  const p = c.linux.personality;
  if (!p) return;
  if (p.domain === undefined) error(c, '/linux/personality', 'missing required property "domain"');
  if ((p.flags ?? []).length > 0) error(c, '/linux/personality/flags', `no personality flags are supported, got ${show(p.flags)}`);
}

function checkIntelRdt(c: Ctx): void {
  const rdt = c.linux.intelRdt as { closID?: string; schemata?: string[] } | undefined;
  if (!rdt) return;
  const id = rdt.closID;
  if (id !== undefined && id !== '/' && (id === '' || id === '.' || id === '..' || id.includes('/') || hasNul(id))) {
    error(c, '/linux/intelRdt/closID', `must be "/" or a single directory name, got ${show(id)}`);
  }
  (rdt.schemata ?? []).forEach((line, i) => {
    if (line.includes('\n')) error(c, ptr('linux', 'intelRdt', 'schemata', i), 'must not contain newlines');
  });
}

const NODE_LIST = /^\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*$/;
const MODES_WITHOUT_NODES = new Set(['MPOL_DEFAULT', 'MPOL_LOCAL']);
const MODES_NEEDING_NODES = new Set(['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY']);

function checkMemoryPolicy(c: Ctx): void {
  const mp = c.linux.memoryPolicy;
  const at = '/linux/memoryPolicy';
  if (!mp) return;
  if (mp.mode === undefined) return error(c, at, 'missing required property "mode"');
  const nodes = mp.nodes ?? '';
  if (nodes !== '' && !NODE_LIST.test(nodes)) error(c, `${at}/nodes`, `must be a node list such as "0-3,7", got ${show(nodes)}`);
  if (MODES_WITHOUT_NODES.has(mp.mode) && nodes !== '') error(c, `${at}/nodes`, `must be empty with mode ${mp.mode}`);
  if (MODES_NEEDING_NODES.has(mp.mode) && nodes === '') {
    error(c, at, `missing required property "nodes" (mode ${mp.mode} needs at least one node)`);
  }
}

/** The kernel's dev_valid_name(): 1..15 bytes, not "." or "..", no "/", ":" or whitespace. */
function validInterfaceName(name: string): boolean {
  return name.length >= 1 && name.length <= 15 && name !== '.' && name !== '..' && !/[/:\s\0]/.test(name);
}

function checkNetDevices(c: Ctx): void {
  const devices = c.linux.netDevices;
  if (!devices || Object.keys(devices).length === 0) return;
  requireNamespace(c, '/linux/netDevices', 'network', 'moving network devices', true);
  for (const [hostName, dev] of Object.entries(devices)) {
    const at = ptr('linux', 'netDevices', hostName);
    if (!validInterfaceName(hostName)) error(c, at, `invalid interface name ${show(hostName)}`);
    if (dev.name !== undefined && !validInterfaceName(dev.name)) error(c, `${at}/name`, `invalid interface name ${show(dev.name)}`);
  }
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
