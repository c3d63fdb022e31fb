/**
 * Is a container's cgroup frozen by its own freezer (v1 freezer.state, v2
 * cgroup.freeze)? One small read: `state` and `list` ask it for every
 * container (src/state/status.ts) without loading the cgroup manager.
 */
import { RuntsError } from '../common/errors.js';
import { sleepMs, tryRead } from './fsutil.js';
import type { CgroupRecord } from './manager.js';

export function cgroupFrozen(record: CgroupRecord): boolean {
  if (record.mode === 'v2') {
    const dir = record.paths[''];
    if (!dir) throw new RuntsError('the container has no cgroup v2 directory', { op: 'cgroup' });
    return tryRead(`${dir}/cgroup.freeze`)?.trim() === '1';
  }
  const dir = record.paths.freezer;
  if (!dir) return false;
  for (let i = 0; ; i++) {
    const st = tryRead(`${dir}/freezer.state`)?.trim();
    if (st === undefined || st === 'THAWED') return false;
    if (st === 'FROZEN') {
      // frozen by an ancestor only: not paused itself
      const self = tryRead(`${dir}/freezer.self_freezing`)?.trim();
      return self === undefined || self === '1';
    }
    if (i > 5000) throw new RuntsError(`${dir}/freezer.state stays ${st}`, { path: `${dir}/freezer.state` });
    sleepMs(1); // FREEZING: wait for a stable state
  }
}
