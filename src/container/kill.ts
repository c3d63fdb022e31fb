/** `kill`: signal the container init (race-free through a pidfd), or every process with --all. */
import { cgroupManagerFromRecord } from '../cgroups/manager.js';
import { RuntsError } from '../common/errors.js';
import * as libc from '../linux/libc.js';
import { isAlive } from '../linux/proctree.js';
import { deriveStatus } from '../state/status.js';
import type { ContainerRecord, Store } from '../state/store.js';
import { cgroupProcesses } from './cgroup-procs.js';
import { SIGKILL } from '../linux/abi.js';

export function signalInit(rec: ContainerRecord, sig: number): void {
  const init = rec.init!;
  const notRunning = () => new RuntsError(`cannot kill container "${rec.id}": container not running`, { op: 'kill', errno: 'ESRCH' });
  let pidfd: number;
  try {
    pidfd = libc.pidfdOpen(init.pid);
  } catch (e) {
    // the init exited between the state check and here
    if ((e as RuntsError).errno === 'ESRCH') throw notRunning();
    throw e;
  }
  try {
    // The pidfd pins the process: if its start time still matches, the
    // signal cannot reach a recycled pid.
    if (!isAlive(init.pid, init.startTime)) throw notRunning();
    try {
      libc.pidfdSendSignal(pidfd, sig);
    } catch (e) {
      if ((e as RuntsError).errno === 'ESRCH') throw notRunning(); // exited after the check (a zombie's pidfd)
      throw e;
    }
  } finally {
    libc.close(pidfd);
  }
}

/**
 * Every process of the container's cgroup (runc's signalAllProcesses): the
 * manager's killAll (cgroup.kill for SIGKILL where there is a cgroup2 dir,
 * else freeze → signal each pid → thaw). A paused container is already
 * frozen: each pid is signalled; SIGKILL then thaws (a frozen v1 task only
 * dies once thawed), other signals stay pending until `resume`.
 */
function signalAll(rec: ContainerRecord, sig: number, paused: boolean): void {
  if (!rec.cgroup) {
    for (const pid of cgroupProcesses(rec)) { try { process.kill(pid, sig); } catch { /* gone */ } }
    return;
  }
  const mgr = cgroupManagerFromRecord(rec.cgroup);
  if (!paused) return mgr.killAll(sig);
  for (const pid of mgr.pids()) { try { process.kill(pid, sig); } catch { /* gone */ } }
  if (sig === SIGKILL) mgr.thaw();
}

export function killContainer(store: Store, id: string, sig: number, all: boolean): void {
  // runc: with --all, no error when the container is stopped; an unknown id is an error.
  const rec = store.mustRead(id);
  const status = deriveStatus(store, rec);
  if (status === 'stopped' && !all) throw new RuntsError(`cannot kill container "${id}": container not running`, { op: 'kill' });
  if (status === 'creating') throw new RuntsError(`cannot kill container "${id}": it is still being created`, { op: 'kill' });
  // runc ≥ 1.2: SIGKILL to a container without its own pid namespace kills
  // every process of its cgroup (the init's death would not end them).
  if (all || (sig === SIGKILL && !rec.pidns)) {
    signalAll(rec, sig, status === 'paused');
    return;
  }
  signalInit(rec, sig);
  // A frozen (paused) v1 task does not act on SIGKILL until thawed: thaw after signalling, as runc.
  if (sig === SIGKILL && status === 'paused' && rec.cgroup) cgroupManagerFromRecord(rec.cgroup).thaw();
}
