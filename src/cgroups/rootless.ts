/**
 * Cgroups of a rootless container (src/container/rootless.ts). An ordinary
 * user can only use cgroup directories it may write: on v1 a path root made
 * and chowned for it, on v2 a delegated subtree it owns. As runc's rootless
 * cgroup manager: hierarchies the user cannot use are skipped with a
 * warning, never an error, as long as no limit needs them; a configured
 * limit that cannot be applied is an error naming the limit and the
 * directory. The device rules never apply (no device cgroup without
 * privilege; in a user namespace nodes are bind-mounted, never created).
 *
 * rootlessCgroupChoice is pure; usableCgroupDir and rootlessCgroupManager
 * read the host.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntsError } from '../common/errors.js';
import type { Resources, Spec } from '../spec/types.js';
import { detectCgroups, ownCgroups } from './detect.js';
import { cgroupManager, cgroupManagerFromRecord, type CgroupManager } from './manager.js';
import { planV1 } from './plan.js';

export interface RootlessCgroupChoice {
  /** The paths to use (controller → dir), possibly none. */
  keep: Record<string, string>;
  /** Hierarchies skipped: controller ("" for cgroup2) → dir. */
  skipped: Record<string, string>;
  /** Set when a configured limit cannot be applied. */
  error?: string;
}

/**
 * Which of the container's cgroup paths a rootless container uses. `usable`
 * says, per path key, whether the user can make and enter that directory;
 * `needed` are the path keys the configured limits write to. Pure.
 */
export function rootlessCgroupChoice(paths: Record<string, string>, usable: Record<string, boolean>, needed: string[]): RootlessCgroupChoice {
  const keep: Record<string, string> = {};
  const skipped: Record<string, string> = {};
  for (const [k, dir] of Object.entries(paths)) (usable[k] ? keep : skipped)[k] = dir;
  const missing = needed.filter((k) => !(k in keep));
  if (missing.length > 0) {
    const what = missing.map((k) => `${k || 'cgroup2'} (${paths[k] ?? 'not mounted'})`).join(', ');
    return {
      keep, skipped,
      error: `rootless: config.json /linux/resources: limits are configured but cannot be applied: the cgroup${missing.length > 1 ? 's' : ''} ${what} ${missing.length > 1 ? 'are' : 'is'} not writable by uid ${process.geteuid?.() ?? '?'} ` +
        '(on cgroup v1 root must create the directory and chown it to the user; on cgroup v2 the user needs a delegated subtree); remove the limits or give the user the cgroup',
    };
  }
  return { keep, skipped };
}

/** The resources a rootless container applies: the config's, without device rules. Pure. */
export function rootlessResources(spec: Spec): Resources {
  const r = { ...(spec.linux?.resources ?? {}) };
  delete r.devices;
  return r;
}

/** The path keys the configured limits write to ("" for cgroup v2). Pure. */
export function neededCgroupKeys(resources: Resources, mode: 'v1' | 'v2' | 'hybrid'): string[] {
  if (!hasLimits(resources)) return [];
  if (mode === 'v2') return [''];
  const { unified, ...v1 } = resources;
  const keys = [...new Set(planV1(v1, {}).map((e) => e.controller))];
  if (unified && Object.keys(unified).length > 0) keys.push('');
  return [...new Set(keys)];
}

/**
 * The user can make (or enter) `dir`: the directory, or the closest
 * existing ancestor it would be made in, is writable, and an existing
 * directory's cgroup.procs too.
 */
export function usableCgroupDir(dir: string): boolean {
  try {
    let d = dir;
    while (!fs.existsSync(d)) {
      const up = path.dirname(d);
      if (up === d) return false;
      d = up;
    }
    fs.accessSync(d, fs.constants.W_OK);
    if (d === dir) fs.accessSync(path.join(d, 'cgroup.procs'), fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * cgroup v2 moves a process only when the writer may write cgroup.procs of
 * the common ancestor of the process's cgroup and the target (cgroup-v2.rst,
 * "Delegation Containment"): the runtime must itself be inside the delegated
 * subtree. That ancestor's directory, for the runtime's own cgroup `own`
 * (its /proc/self/cgroup path) and the target `dir`; undefined when `own`
 * is outside the mounted part of the hierarchy. Pure.
 */
export function v2CommonAncestor(mountpoint: string, mountRoot: string, own: string, dir: string): string | undefined {
  const root = mountRoot === '/' ? '' : mountRoot;
  if (root && own !== root && !own.startsWith(root + '/')) return undefined;
  const ownDir = path.join(mountpoint, own.slice(root.length));
  const a = ownDir.split('/');
  const b = dir.split('/');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const common = a.slice(0, i).join('/') || '/';
  return common.length < mountpoint.length ? mountpoint : common;
}

/**
 * The manager of a rootless container's cgroups (only the usable ones), or
 * undefined when there are none; warns about skipped hierarchies; throws
 * when a configured limit cannot be applied.
 */
export function rootlessCgroupManager(id: string, spec: Spec, warn: (msg: string) => void): CgroupManager | undefined {
  const host = detectCgroups();
  const full = cgroupManager(id, spec.linux?.cgroupsPath, { host });
  const paths = full.record.paths;
  const usable: Record<string, boolean> = {};
  for (const [k, dir] of Object.entries(paths)) usable[k] = usableCgroupDir(dir);
  if (usable[''] && host.v2) {
    // the init (the runtime's child, in its cgroup) must be movable into the cgroup2 dir
    const own = ownCgroups()[''];
    const top = own === undefined ? undefined : v2CommonAncestor(host.v2.mountpoint, host.v2.root, own, paths['']!);
    usable[''] = top !== undefined && usableCgroupDir(top);
  }
  const choice = rootlessCgroupChoice(paths, usable, neededCgroupKeys(rootlessResources(spec), host.mode));
  if (choice.error) throw new RuntsError(choice.error, { pointer: '/linux/resources', op: 'cgroup' });
  const skipped = [...new Set(Object.values(choice.skipped))];
  if (skipped.length > 0) {
    const which = Object.keys(choice.keep).length === 0 ? 'a cgroup of its own' : `cgroups in ${Object.keys(choice.skipped).map((k) => k || 'cgroup2').join(', ')}`;
    warn(`rootless: the container runs without ${which}: ${skipped.length === 1 ? skipped[0] : `${skipped[0]} and ${skipped.length - 1} more`} not writable by uid ${process.geteuid?.()} (no configured limit needs them)`);
  }
  if (Object.keys(choice.keep).length === 0) return undefined;
  return cgroupManagerFromRecord({ ...full.record, paths: choice.keep, created: [] });
}

/** linux.resources sets a limit (anything but device rules). Pure. */
export function hasLimits(resources: Resources | undefined): boolean {
  if (!resources) return false;
  return Object.entries(resources).some(([k, v]) => {
    if (k === 'devices' || v === undefined || v === null) return false;
    if (Array.isArray(v)) return v.length > 0;
    if (typeof v === 'object') return Object.values(v as object).some((x) => x !== undefined && x !== null);
    return true;
  });
}
