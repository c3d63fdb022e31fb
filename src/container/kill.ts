/** `kill`: signal the container init (race-free through a pidfd), or every process with --all. */
import { RuntsError } from '../common/errors.js';
import * as libc from '../linux/libc.js';
import { isAlive } from '../linux/proctree.js';
import { deriveStatus } from '../state/status.js';
import type { ContainerRecord, Store } from '../state/store.js';
import { cgroupProcesses } from './cgroup-procs.js';

export function signalInit(rec: ContainerRecord, sig: number): void {
  const init = rec.init!;
  const pidfd = libc.pidfdOpen(init.pid);
  try {
    // The pidfd pins the process: if its start time still matches, the
    // signal cannot reach a recycled pid.
    if (!isAlive(init.pid, init.startTime)) throw new RuntsError(`container "${rec.id}" is not running`, { op: 'kill' });
    libc.pidfdSendSignal(pidfd, sig);
  } finally {
    libc.close(pidfd);
  }
}

export function killContainer(store: Store, id: string, sig: number, all: boolean): void {
  const rec = store.mustRead(id);
  const status = deriveStatus(store, rec);
  if (status === 'stopped' && !all) throw new RuntsError(`cannot kill container "${id}": container not running`, { op: 'kill' });
  if (status === 'creating') throw new RuntsError(`cannot kill container "${id}": it is still being created`, { op: 'kill' });
  if (all) {
    // Every process of the container's cgroup, then the init (runc's kill --all).
    for (const pid of cgroupProcesses(rec)) {
      try { process.kill(pid, sig); } catch { /* gone */ }
    }
    if (status !== 'stopped') { try { signalInit(rec, sig); } catch { /* already gone */ } }
    return;
  }
  signalInit(rec, sig);
}
