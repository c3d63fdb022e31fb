/**
 * Rootless runts: the decisions for a runtime run by an ordinary user (or
 * by root inside a user namespace that is not the initial one, as rootless
 * podman does). Pure: every host fact comes in through RootlessFacts, filled
 * by hostRootlessFacts() (the only function here that reads the host).
 *
 * As runc (utils_linux.go, libcontainer/specconv ToRootless, nsexec.c):
 *  - `--rootless auto` (the default) means rootless when the caller is not
 *    root, or is root in a user namespace that is not the initial one;
 *  - the default --root is $XDG_RUNTIME_DIR/runts when the caller is not root;
 *  - a rootless container needs a user namespace of its own with uid/gid
 *    mappings; a single mapping of the caller's own uid/gid is written by
 *    nsboot itself (setgroups "deny" first), anything else goes through the
 *    setuid helpers newuidmap/newgidmap (package uidmap), which check the
 *    ranges against /etc/subuid and /etc/subgid.
 *
 * What needs privilege in the initial user namespace is refused before
 * anything is made, naming the field and the reason (rootlessRefusals).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntsError } from '../common/errors.js';
import { hasNamespace, hasNewNamespace } from '../plan/namespaces.js';
import type { IDMapping, Spec } from '../spec/types.js';

export interface RootlessFacts {
  euid: number;
  egid: number;
  /** The caller is in the initial user namespace (/proc/self/uid_map is "0 0 4294967295"). */
  initialUserns: boolean;
  /** $XDG_RUNTIME_DIR, if set. */
  xdgRuntimeDir?: string;
  /** $USER, if set. */
  user?: string;
}

/** The facts of this process. */
export function hostRootlessFacts(): RootlessFacts {
  return {
    euid: process.geteuid?.() ?? 0,
    egid: process.getegid?.() ?? 0,
    initialUserns: isInitialUserns(readOr('/proc/self/uid_map', '0 0 4294967295')),
    xdgRuntimeDir: process.env.XDG_RUNTIME_DIR || undefined,
    user: process.env.USER,
  };
}

function readOr(file: string, dflt: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return dflt;
  }
}

/** A uid_map text is the initial namespace's identity mapping of all 2^32-1 ids. Pure. */
export function isInitialUserns(uidMap: string): boolean {
  const lines = uidMap.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length === 1 && lines[0]!.split(/\s+/).join(' ') === '0 0 4294967295';
}

/** `--rootless auto|true|false` → rootless or not. Pure. */
export function rootlessMode(flag: string | undefined, facts: RootlessFacts): boolean {
  const v = (flag ?? 'auto').toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  if (v !== 'auto') throw new RuntsError(`--rootless: invalid value ${JSON.stringify(flag)} (want true, false or auto)`);
  return facts.euid !== 0 || !facts.initialUserns;
}

export const ROOT_STATE_DIR = '/run/runts';

/**
 * The state root when --root is not given: /run/runts for root, else
 * $XDG_RUNTIME_DIR/runts (runc: $XDG_RUNTIME_DIR/runc). As runc, root of a
 * user namespace that is not the initial one (rootless podman runs its
 * runtime so) uses XDG_RUNTIME_DIR too when it is set and $USER is not
 * "root". Without XDG_RUNTIME_DIR a user must say where: /run/runts is
 * root's. Pure.
 */
export function defaultStateRoot(facts: RootlessFacts): string {
  if (facts.euid === 0 && (facts.initialUserns || !facts.xdgRuntimeDir || facts.user === 'root')) return ROOT_STATE_DIR;
  if (facts.xdgRuntimeDir && path.isAbsolute(facts.xdgRuntimeDir)) return path.join(facts.xdgRuntimeDir, 'runts');
  throw new RuntsError(
    'runts is not run as root and XDG_RUNTIME_DIR is not set: give the state directory with --root DIR (a directory of yours, ideally on tmpfs), or set XDG_RUNTIME_DIR',
    { op: 'state root' });
}

/** The state root for a --root flag (or the library's root option): as given, else the default above; absolute. */
export function stateRoot(flag: unknown): string {
  return path.resolve(flag === undefined ? defaultStateRoot(hostRootlessFacts()) : String(flag));
}

/** How the uid/gid maps of the container's new user namespace are written. */
export type MapMethod =
  /** the CLI writes /proc/<pid>/{uid,gid}_map (it is root in its user namespace) */
  | { kind: 'cli' }
  /** nsboot writes its own maps: one mapping each, of the caller's own uid and gid (setgroups "deny" first) */
  | { kind: 'self'; uidLine: string; gidLine: string }
  /** the CLI runs newuidmap/newgidmap with these arguments (after the pid) */
  | { kind: 'helpers'; newuidmap: string[]; newgidmap: string[] };

function helperArgs(maps: readonly IDMapping[]): string[] {
  return maps.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)]);
}

/** The map method for a container with a new user namespace. Pure. */
export function mapMethod(spec: Spec, facts: RootlessFacts): MapMethod {
  if (facts.euid === 0) return { kind: 'cli' };
  const u = spec.linux?.uidMappings ?? [];
  const g = spec.linux?.gidMappings ?? [];
  const own = (maps: readonly IDMapping[], id: number) => maps.length === 1 && maps[0]!.hostID === id && maps[0]!.size === 1;
  if (own(u, facts.euid) && own(g, facts.egid)) {
    return { kind: 'self', uidLine: `${u[0]!.containerID} ${facts.euid} 1`, gidLine: `${g[0]!.containerID} ${facts.egid} 1` };
  }
  return { kind: 'helpers', newuidmap: helperArgs(u), newgidmap: helperArgs(g) };
}

/**
 * What a rootless container cannot have, as errors naming the field and the
 * reason (the first one found). `mountns` is the mount namespace mode
 * (src/linux/rootfs/mountns.ts). Pure.
 */
export function rootlessRefusals(spec: Spec, facts: RootlessFacts, mountns: 'new' | 'join' | 'host'): RuntsError | undefined {
  // root of a user namespace (rootless podman's runtime) has its namespace's privilege: the kernel decides
  if (facts.euid === 0) return undefined;
  const linux = spec.linux ?? {};
  const err = (pointer: string, why: string) => new RuntsError(`rootless: config.json ${pointer}: ${why}`, { pointer });
  if (!hasNamespace(spec, 'user')) {
    return err('/linux/namespaces', 'a rootless container needs a user namespace ({"type": "user"}): without one, making namespaces and mounts needs privilege in the initial user namespace (runts spec --rootless writes one)');
  }
  if (hasNewNamespace(spec, 'user')) {
    if (!linux.uidMappings?.length) return err('/linux/uidMappings', 'a new user namespace needs uidMappings (at least the caller\'s own uid)');
    if (!linux.gidMappings?.length) return err('/linux/gidMappings', 'a new user namespace needs gidMappings (at least the caller\'s own gid)');
  }
  if (mountns === 'host') {
    return err('/linux/namespaces', 'a rootless container needs a mount namespace of its own: mounting in the host\'s mount namespace needs privilege in the initial user namespace');
  }
  const m = (spec.mounts ?? []).findIndex((x) => (x.options ?? []).some((o) => o === 'idmap' || o === 'ridmap') || x.uidMappings || x.gidMappings);
  if (m >= 0) return err(`/mounts/${m}`, 'idmapped mounts need CAP_SYS_ADMIN in the initial user namespace (mount_setattr MOUNT_ATTR_IDMAP)');
  return undefined;
}

/**
 * nsboot's arguments for the map method: `-u` (the handshake) stays for the
 * CLI and the helpers (`-h`: nsboot stays dumpable for them); `self`
 * replaces it with the lines nsboot writes. Pure.
 */
export function withMapMethod(args: string[], m: MapMethod): string[] {
  if (m.kind === 'cli') return args;
  if (m.kind === 'helpers') return [...args, '-h'];
  return [...args.filter((a) => a !== '-u'), '-m', m.uidLine, '-g', m.gidLine];
}
