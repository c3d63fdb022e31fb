/**
 * `delete`: remove a stopped container (or, with --force, any container):
 * kill what is left, remove the cgroup, run poststop hooks, remove the state.
 * Idempotent, so it also cleans up after a create that was SIGKILLed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cgroupManagerFromRecord } from '../cgroups/manager.js';
import { DEFAULT_CGROUP_PARENT } from '../cgroups/paths.js';
import { describeError, RuntsError } from '../common/errors.js';
import { logWarning } from '../common/log.js';
import { runHooksCollectingErrors } from '../hooks/run.js';
import { isAlive } from '../linux/proctree.js';
import type { Spec } from '../spec/types.js';
import { deriveStatus } from '../state/status.js';
import { type Lock, notFound, type Store } from '../state/store.js';
import { cgroupProcesses } from './cgroup-procs.js';
import { removeHostRootfsMount } from './host-rootfs.js';
import { killAndWait, waitGone } from './wait.js';

/**
 * runts's own default parent (/runts) is shared by containers; whoever
 * deletes the last one removes it. rmdir fails (harmlessly) while another
 * container's cgroup is still inside.
 */
function removeEmptyDefaultParents(paths: Record<string, string>): void {
  for (const p of new Set(Object.values(paths))) {
    const parent = path.dirname(p);
    if (path.basename(parent) !== DEFAULT_CGROUP_PARENT.replace(/^\//, '')) continue;
    try { fs.rmdirSync(parent); } catch { /* not empty, or already gone */ }
  }
}

/**
 * The container's lock. With --force, a `create` that has held it for the
 * whole wait (hung, e.g. in a hook without a timeout) is killed — its
 * record says what to undo — and the lock taken after it.
 */
function lockForDelete(store: Store, id: string, force: boolean): Lock {
  try {
    return store.lock(id, force ? LOCK_WAIT_FORCE_MS : undefined);
  } catch (e) {
    const rec = force && e instanceof RuntsError && e.op === 'flock' ? store.read(id) : null;
    const creator = rec?.phase === 'creating' ? rec.creator : undefined;
    if (!creator || !isAlive(creator.pid, creator.startTime)) throw e;
    logWarning(`container "${id}": its create (runts pid ${creator.pid}) has held the lock for ${LOCK_WAIT_FORCE_MS / 1000} s: killing it`);
    killAndWait(creator.pid, creator.startTime);
    return store.lock(id, 5_000);
  }
}

const LOCK_WAIT_FORCE_MS = 30_000;

const isNotFound = (e: unknown) => e instanceof RuntsError && e.op === 'lookup' && e.errno === 'ENOENT';

/** `hookCwd`: the poststop hooks' working directory (run: the bundle, as runc; delete: the caller's). */
export async function deleteContainer(store: Store, id: string, force: boolean, hookCwd?: string): Promise<void> {
  // what a killed create (or delete) left where no container can be found is reachable from the id
  if (force && !store.read(id) && store.removeLeftovers(id)) return;
  // As runc: `delete --force` of a container that does not exist succeeds
  // (engines call it blindly while cleaning up); plain `delete` is an error.
  let lock: Lock;
  try {
    lock = lockForDelete(store, id, force);
  } catch (e) {
    if (force && isNotFound(e)) return;
    throw e;
  }
  try {
    const rec = store.read(id);
    if (!rec) {
      if (force) return;
      throw notFound(id);
    }
    const status = deriveStatus(store, rec);
    if (status !== 'stopped' && !force) {
      throw new RuntsError(`cannot delete container "${id}" that is not stopped: it is ${status} (use --force)`, { op: 'delete' });
    }
    // A paused (frozen v1) task does not act on SIGKILL until thawed: kill
    // everything in the cgroup, then thaw (as runc's kill of a paused container).
    if (status === 'paused' && rec.cgroup) {
      try {
        const cg = cgroupManagerFromRecord(rec.cgroup);
        cg.killAll(9);
        cg.thaw(); // killAll's cgroup.kill path (cgroup2 dir of a hybrid host) does not thaw the v1 freezer
      } catch (e) {
        logWarning(describeError(e));
      }
    }
    if (rec.init) {
      if (!killAndWait(rec.init.pid, rec.init.startTime)) {
        throw new RuntsError(`container "${id}": init process ${rec.init.pid} did not die after SIGKILL`, { op: 'delete' });
      }
    }
    // Without a private pid namespace the init's death does not end the
    // other processes of the container: kill what is left in its cgroup.
    for (const pid of cgroupProcesses(rec)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      waitGone(pid, undefined, 2000);
    }
    // no mount namespace: the container's mounts under the rootfs are in the host's
    // (a mount stacked on it by someone else fails a plain delete; --force goes on with a warning)
    if (rec.hostRootfsMount) {
      try { removeHostRootfsMount(rec.rootfs, rec.hostRootfsMount); } catch (e) { if (!force) throw e; logWarning(describeError(e)); }
    }
    if (rec.cgroup) {
      cgroupManagerFromRecord(rec.cgroup).destroy();
      removeEmptyDefaultParents(rec.cgroup.paths);
    }
    if (rec.phase === 'created') {
      let spec: Spec | undefined;
      try { spec = store.config(id) as Spec; } catch { /* no config: no hooks */ }
      const errs = await runHooksCollectingErrors('poststop', spec?.hooks?.poststop, {
        ociVersion: rec.ociVersion, id, status: 'stopped', bundle: rec.bundle, annotations: rec.annotations,
      }, { cwd: hookCwd });
      for (const e of errs) logWarning(describeError(e));
    }
    store.remove(id);
  } finally {
    lock.release();
  }
}
