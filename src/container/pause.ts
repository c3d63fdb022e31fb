/**
 * `pause` / `resume`: freeze and thaw the container's cgroup (v1 freezer,
 * or cgroup.freeze on v2). As runc: a running or created container can be
 * paused ("container not running" otherwise), only a paused one can be
 * resumed ("container not paused"). `state`/`list` report `paused` through
 * the frozen probe of src/state/status.ts.
 */
import { cgroupManagerFromRecord, type CgroupManager } from '../cgroups/manager.js';
import { RuntsError } from '../common/errors.js';
import { deriveStatus } from '../state/status.js';
import type { ContainerRecord, Store } from '../state/store.js';

export function managerOf(rec: ContainerRecord, op: string): CgroupManager {
  // only a rootless container can be without one (src/cgroups/rootless.ts)
  if (!rec.cgroup) throw new RuntsError(`cannot ${op} container "${rec.id}": it has no cgroup (rootless, and no cgroup its user may write: see README "Rootless")`, { op });
  return cgroupManagerFromRecord(rec.cgroup);
}

export function pauseContainer(store: Store, id: string): void {
  const lock = store.lock(id);
  try {
    const rec = store.mustRead(id);
    const status = deriveStatus(store, rec);
    if (status !== 'running' && status !== 'created') {
      throw new RuntsError(`cannot pause container "${id}": container not running (it is ${status})`, { op: 'pause' });
    }
    managerOf(rec, 'pause').freeze();
  } finally {
    lock.release();
  }
}

export function resumeContainer(store: Store, id: string): void {
  const lock = store.lock(id);
  try {
    const rec = store.mustRead(id);
    const status = deriveStatus(store, rec);
    if (status !== 'paused') {
      throw new RuntsError(`cannot resume container "${id}": container not paused (it is ${status})`, { op: 'resume' });
    }
    managerOf(rec, 'resume').thaw();
  } finally {
    lock.release();
  }
}
