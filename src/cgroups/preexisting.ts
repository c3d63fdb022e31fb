/**
 * Checks on a container cgroup that already existed before `create` (a
 * configured cgroupsPath an engine or a user made): runc's behaviour.
 *  - frozen (v1 freezer.state not THAWED, by itself or an ancestor; v2
 *    cgroup.freeze or the effective "frozen 1" of cgroup.events): the init
 *    would stop on joining it and create would hang, so it is refused at
 *    once, with runc's phrase "container's cgroup unexpectedly frozen";
 *  - not empty: other processes would share the container's limits and be
 *    killed with it; a warning (runc's phrase), the container still starts.
 */
import { RuntsError } from '../common/errors.js';
import { tryRead } from './fsutil.js';
import type { CgroupManager } from './manager.js';

/** Why the container's cgroup counts as frozen, or undefined. */
export function frozenBecause(paths: Record<string, string>, mode: string): string | undefined {
  if (mode === 'v2' || paths[''] !== undefined) {
    const dir = paths[''];
    if (dir) {
      if (tryRead(`${dir}/cgroup.freeze`)?.trim() === '1') return `${dir}/cgroup.freeze is 1`;
      if (/^frozen 1$/m.test(tryRead(`${dir}/cgroup.events`) ?? '')) return `${dir} is frozen (cgroup.events: frozen 1, by an ancestor)`;
    }
  }
  const fz = paths.freezer;
  if (fz) {
    const st = tryRead(`${fz}/freezer.state`)?.trim();
    if (st !== undefined && st !== 'THAWED') return `${fz}/freezer.state is ${st}`;
  }
  return undefined;
}

/** Refuse a frozen cgroup; warn about one that has processes in it. */
export function checkPreexistingCgroup(cg: CgroupManager, warn: (m: string) => void): void {
  const why = frozenBecause(cg.record.paths, cg.record.mode);
  if (why) {
    throw new RuntsError(`container's cgroup unexpectedly frozen: ${why} (thaw it, or use another cgroupsPath)`, { op: 'create' });
  }
  const n = cg.pids().length;
  if (n > 0) warn(`container's cgroup is not empty: ${n} process(es) found (they will share its limits and be killed with the container)`);
}
