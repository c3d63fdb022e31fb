/**
 * Host cgroup layout, detected once per process from /proc/self/mountinfo.
 *
 *   v1      only cgroup (v1) hierarchies are mounted
 *   hybrid  v1 hierarchies plus a cgroup2 mount (normally /sys/fs/cgroup/unified)
 *   v2      a cgroup2 mount (normally /sys/fs/cgroup) and no v1 controller hierarchy
 *
 * The decision is made from the mount table, not by probing well-known paths,
 * so a host that mounts its hierarchies elsewhere still works. Detection costs
 * one read of mountinfo plus, when cgroup2 is mounted, one read of its
 * cgroup.controllers.
 */

import { readFileSync } from 'node:fs';
import { RuntsError } from '../common/errors.js';

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

/** One mounted cgroup v1 hierarchy (possibly several co-mounted controllers). */
export interface V1Hierarchy {
  /** Where it is mounted, e.g. /sys/fs/cgroup/cpu,cpuacct. */
  mountpoint: string;
  /** The cgroup of the hierarchy shown at the mountpoint (mountinfo field 4), usually "/". */
  root: string;
  /** Controllers bound to it, e.g. ["cpu", "cpuacct"]; named hierarchies appear as "name=systemd". */
  controllers: string[];
}

export interface V2Hierarchy {
  mountpoint: string;
  root: string;
  /** Controllers available at the mount point (its cgroup.controllers). */
  controllers: string[];
}

export interface HostCgroups {
  mode: CgroupMode;
  v1: V1Hierarchy[];
  v2?: V2Hierarchy;
}

/** Controller names of cgroup v1 (anything else in the super options is a mount option). */
const V1_CONTROLLERS = new Set([
  'cpuset', 'cpu', 'cpuacct', 'blkio', 'io', 'memory', 'devices', 'freezer', 'net_cls', 'perf_event',
  'net_prio', 'hugetlb', 'pids', 'rdma', 'misc', 'debug',
]);

/** Undo the octal escapes mountinfo uses for space, tab, newline and backslash. */
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export interface CgroupMount {
  fstype: 'cgroup' | 'cgroup2';
  mountpoint: string;
  root: string;
  /** v1 only: controllers from the super options. */
  controllers: string[];
}

/** Every cgroup/cgroup2 mount in a mountinfo text, in order. Pure. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    if (!line.includes(' cgroup')) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const fstype = right[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const root = unescapeMountinfo(left[3] ?? '/');
    const mountpoint = unescapeMountinfo(left[4] ?? '');
    const superOpts = (right[2] ?? '').split(',');
    const controllers = fstype === 'cgroup'
      ? superOpts.filter((o) => V1_CONTROLLERS.has(o) || o.startsWith('name='))
      : [];
    out.push({ fstype, mountpoint, root, controllers });
  }
  return out;
}

/**
 * Turn a mount list into the host description. Pure: the cgroup2 controller
 * list is supplied by the caller (read from <mountpoint>/cgroup.controllers).
 *
 * When one hierarchy is mounted several times (a bind mount, a container's
 * view), the mount under /sys/fs/cgroup with root "/" wins, else the first.
 */
export function hostFromMounts(mounts: CgroupMount[], v2Controllers: (mountpoint: string) => string[] = () => []): HostCgroups {
  const score = (m: CgroupMount) => (m.mountpoint.startsWith('/sys/fs/cgroup') ? 2 : 0) + (m.root === '/' ? 1 : 0);
  const byKey = new Map<string, CgroupMount>();
  let v2m: CgroupMount | undefined;
  for (const m of mounts) {
    if (m.fstype === 'cgroup2') {
      if (!v2m || score(m) > score(v2m)) v2m = m;
      continue;
    }
    if (m.controllers.length === 0) continue;
    const key = [...m.controllers].sort().join(',');
    const prev = byKey.get(key);
    if (!prev || score(m) > score(prev)) byKey.set(key, m);
  }
  const v1: V1Hierarchy[] = [...byKey.values()].map((m) => ({ mountpoint: m.mountpoint, root: m.root, controllers: m.controllers }));
  const hasV1Controllers = v1.some((h) => h.controllers.some((c) => !c.startsWith('name=')));
  const v2 = v2m ? { mountpoint: v2m.mountpoint, root: v2m.root, controllers: v2Controllers(v2m.mountpoint) } : undefined;
  if (hasV1Controllers) return { mode: v2 ? 'hybrid' : 'v1', v1, v2 };
  if (v2) return { mode: 'v2', v1: [], v2 };
  throw new RuntsError('no cgroup hierarchy is mounted (no cgroup or cgroup2 entry in /proc/self/mountinfo)', { op: 'cgroup detect', path: '/proc/self/mountinfo' });
}

function readControllers(mountpoint: string): string[] {
  try {
    return readFileSync(`${mountpoint}/cgroup.controllers`, 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

let cached: HostCgroups | undefined;

/** The host's cgroup layout, detected on first use and cached for the process. */
export function detectCgroups(refresh = false): HostCgroups {
  if (cached && !refresh) return cached;
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  cached = hostFromMounts(parseCgroupMounts(text), readControllers);
  return cached;
}

/** The hierarchy a v1 controller is bound to, if it is mounted. */
export function v1HierarchyOf(host: HostCgroups, controller: string): V1Hierarchy | undefined {
  return host.v1.find((h) => h.controllers.includes(controller));
}

/**
 * Parse a /proc/<pid>/cgroup text into controller → cgroup path. The v2 line
 * ("0::/path") is keyed by "". Co-mounted controllers each get an entry. Pure.
 */
export function parseProcCgroup(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line) continue;
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const list = line.slice(a + 1, b);
    const path = line.slice(b + 1);
    if (list === '') out[''] = path;
    else for (const c of list.split(',')) out[c] = path;
  }
  return out;
}

/** The calling process's own cgroups (from /proc/self/cgroup). */
export function ownCgroups(): Record<string, string> {
  return parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
}
