/**
 * A container's status is derived, never trusted from disk: the record says
 * what was created, /proc says what is alive.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cgroupFrozen } from '../cgroups/frozen.js';
import { isAlive } from '../linux/proctree.js';
import type { State, Status } from '../spec/types.js';
import type { ContainerRecord, StoreReader } from './reader.js';

export type FrozenProbe = (rec: ContainerRecord) => boolean;

/** The container's own freezer (v1 freezer.state, v2 cgroup.freeze): one small read. */
const frozenProbe: FrozenProbe = (rec) => rec.cgroup !== undefined && cgroupFrozen(rec.cgroup);

export function deriveStatus(store: StoreReader, rec: ContainerRecord): Status {
  if (rec.phase === 'creating') {
    return isAlive(rec.creator.pid, rec.creator.startTime) ? 'creating' : 'stopped';
  }
  if (!rec.init || !isAlive(rec.init.pid, rec.init.startTime)) return 'stopped';
  try {
    if (frozenProbe(rec)) return 'paused';
  } catch {
    /* a vanished cgroup is not paused */
  }
  const dir = store.dir(rec.id);
  if (fs.existsSync(path.join(dir, 'init.sock')) || fs.existsSync(path.join(dir, 'init.sock.starting'))) return 'created';
  return 'running';
}

/** The state JSON of runtime.md, with runc's extra fields. */
export function stateOf(store: StoreReader, rec: ContainerRecord): State & Record<string, unknown> {
  const status = deriveStatus(store, rec);
  const live = status === 'created' || status === 'running' || status === 'paused';
  return {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: live && rec.init ? rec.init.pid : 0,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
    annotations: rec.annotations,
  };
}

/** `runts state ID`'s output. */
export function stateText(store: StoreReader, id: string): string {
  return JSON.stringify(stateOf(store, store.mustRead(id)), null, 2) + '\n';
}
