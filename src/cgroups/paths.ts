/**
 * linux.cgroupsPath → one directory per hierarchy. Pure (the caller passes
 * the host layout and, for relative paths, the runtime's own cgroups).
 *
 * Behaviour (runc's cgroupfs driver, libcontainer/cgroups/fs/paths.go and
 * fs2/defaultpath.go, unless noted):
 *
 *  - Absolute path ("/a/b"): relative to each hierarchy's mount point, as the
 *    spec requires: /sys/fs/cgroup/memory/a/b on v1, /sys/fs/cgroup/a/b on v2.
 *  - Relative path ("a/b"): like runc, relative to the cgroup the runtime
 *    process itself is in (read from /proc/self/cgroup). On v1 (and for the
 *    unified hierarchy of a hybrid host) that is the runtime's own cgroup in
 *    each hierarchy; on pure v2 it is the PARENT of the runtime's own cgroup,
 *    because the v2 "no internal processes" rule would stop controllers from
 *    being enabled below a cgroup that has processes (runc's comment: "The
 *    current user scope most probably has tasks in it already").
 *  - Absent or "": runc uses the container id as a relative path (so the
 *    cgroup lands below whatever cgroup invoked runc). runts deliberately
 *    uses the absolute `/runts/<id>` instead: the location then does not
 *    depend on the caller's cgroup (a shell session, a test harness or a
 *    supervisor that may itself be limited, frozen or cleaned up), which
 *    keeps containers out of other software's cgroups. Engines always pass
 *    cgroupsPath, so this only affects direct use.
 *  - ".." components: runc silently clamps them at the root
 *    (LexicallyCleanPath). runts normalises ".." that stay inside the path
 *    ("a/../b" = "b") but rejects any that would climb above the hierarchy
 *    root (or, for a relative path, above its base), since such a path is
 *    almost certainly a mistake or an attack.
 *  - "slice:prefix:name" is the systemd driver's syntax; runts has only the
 *    cgroupfs driver, so such a path is rejected with an explicit message.
 */

import { RuntsError } from '../common/errors.js';
import type { HostCgroups } from './detect.js';

export const DEFAULT_CGROUP_PARENT = '/runts';

export interface CleanedCgroupsPath {
  absolute: boolean;
  /** Normalised components, never empty, never "." or "..". */
  segments: string[];
}

function pathError(cgroupsPath: string, why: string): RuntsError {
  return new RuntsError(`config.json /linux/cgroupsPath: invalid cgroupsPath ${JSON.stringify(cgroupsPath)}: ${why}`, {
    pointer: '/linux/cgroupsPath',
  });
}

/** Validate and normalise a cgroupsPath. Pure. */
export function cleanCgroupsPath(cgroupsPath: string): CleanedCgroupsPath {
  if (cgroupsPath.includes('\0')) throw pathError(cgroupsPath, 'contains a NUL byte');
  if (/^[^/:]*:[^/:]*:[^/:]+$/.test(cgroupsPath)) {
    throw pathError(cgroupsPath,
      'this is the systemd cgroup driver\'s "slice:prefix:name" form, but runts only has the cgroupfs driver ' +
      '(the systemd driver is not supported); use a path such as "/machine/<id>"');
  }
  const absolute = cgroupsPath.startsWith('/');
  const segments: string[] = [];
  for (const part of cgroupsPath.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (segments.length === 0) {
        throw pathError(cgroupsPath, absolute
          ? '".." climbs above the cgroup hierarchy root'
          : '".." climbs above the base cgroup of a relative path');
      }
      segments.pop();
      continue;
    }
    segments.push(part);
  }
  if (segments.length === 0) throw pathError(cgroupsPath, 'it must name a cgroup below the hierarchy root');
  return { absolute, segments };
}

/** The cgroupsPath used when the config has none: /runts/<id>. */
export function defaultCgroupsPath(id: string): string {
  if (!id || id === '.' || id === '..' || id.includes('/') || id.includes('\0')) {
    throw new RuntsError(`invalid container id ${JSON.stringify(id)} for a cgroup name`);
  }
  return `${DEFAULT_CGROUP_PARENT}/${id}`;
}

function join(...parts: string[]): string {
  const segs: string[] = [];
  for (const p of parts) for (const s of p.split('/')) if (s) segs.push(s);
  return '/' + segs.join('/');
}

/** `path` relative to `root` (both cgroup paths inside one hierarchy), or undefined if outside. */
function under(root: string, path: string): string | undefined {
  if (root === '/' || root === '') return path;
  if (path === root) return '/';
  if (path.startsWith(root + '/')) return path.slice(root.length);
  return undefined;
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/**
 * The container's cgroup directory for each controller: v1 controllers by
 * name (co-mounted controllers share a directory; named hierarchies appear as
 * "name=systemd"), and "" for the cgroup2 hierarchy (v2 or hybrid). Pure.
 *
 * `own` returns the runtime's own cgroups (parseProcCgroup of
 * /proc/self/cgroup); it is only called for relative paths.
 */
export function resolveCgroupPaths(
  host: HostCgroups,
  id: string,
  cgroupsPath: string | undefined,
  own: () => Record<string, string>,
): Record<string, string> {
  const { absolute, segments } = cleanCgroupsPath(cgroupsPath ? cgroupsPath : defaultCgroupsPath(id));
  const inner = segments.join('/');
  const paths: Record<string, string> = {};
  let ownMap: Record<string, string> | undefined;
  const base = (key: string, mountRoot: string, parent: boolean): string => {
    if (absolute) return '/';
    ownMap ??= own();
    const mine = ownMap[key];
    if (mine === undefined) {
      throw new RuntsError(`cannot resolve relative cgroupsPath ${JSON.stringify(cgroupsPath)}: the runtime process is in no cgroup of the ${key || 'cgroup2'} hierarchy`, { pointer: '/linux/cgroupsPath' });
    }
    const rel = under(mountRoot, mine);
    if (rel === undefined) {
      throw new RuntsError(`cannot resolve relative cgroupsPath ${JSON.stringify(cgroupsPath)}: the runtime's own ${key || 'cgroup2'} cgroup ${mine} is outside the mounted part of the hierarchy (${mountRoot})`, { pointer: '/linux/cgroupsPath' });
    }
    return parent ? parentOf(rel) : rel;
  };
  for (const h of host.v1) {
    const dir = join(h.mountpoint, base(h.controllers[0]!, h.root, false), inner);
    for (const c of h.controllers) paths[c] = dir;
  }
  if (host.v2) paths[''] = join(host.v2.mountpoint, base('', host.v2.root, host.mode === 'v2'), inner);
  return paths;
}
