/** Semantic checks of the config.md fields: version, root, process, mounts, hooks, annotations (see semantic.ts). */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { errnoDescription } from '../common/errors.js';
import { capabilityNumber } from '../linux/capability-names.js';
import { RLIMITS, rlimitNumber } from './rlimits.js';
import type { Mount, Process } from './types.js';
import { type Ctx, checkPath, error, hasNul, ptr, show, warn } from './semantic-helpers.js';
import { checkMappings } from './semantic-linux.js';

// ---------------------------------------------------------------------------
// Version, root, process

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** The highest spec minor version of major 1 that runts supports. */
export const MAX_SUPPORTED_MINOR = 3;

export function checkVersion(c: Ctx): void {
  const v = c.spec.ociVersion;
  const m = SEMVER.exec(v);
  if (!m) return error(c, '/ociVersion', `must be a SemVer 2.0.0 version such as "1.3.0", got ${show(v)}`);
  if (Number(m[1]) !== 1 || Number(m[2]) > MAX_SUPPORTED_MINOR) {
    error(c, '/ociVersion', `unsupported version ${show(v)}: runts supports 1.0.0 to 1.${MAX_SUPPORTED_MINOR}.x`);
  }
}

export function checkRoot(c: Ctx): void {
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

export function checkProcess(c: Ctx): void {
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

export function checkMounts(c: Ctx): void {
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

export function checkHooks(c: Ctx): void {
  for (const kind of HOOK_KINDS) {
    (c.spec.hooks?.[kind] ?? []).forEach((h, i) => checkPath(c, ptr('hooks', kind, i, 'path'), h.path));
  }
}

export function checkAnnotations(c: Ctx): void {
  if (c.spec.annotations && Object.hasOwn(c.spec.annotations, '')) error(c, '/annotations', 'keys must not be empty');
}
