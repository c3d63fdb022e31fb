/** Waiting for container processes that may or may not be our children. */
import { sleepMs } from '../common/sleep.js';
import * as libc from '../linux/libc.js';
import { WNOHANG } from '../linux/abi.js';
import { isAlive } from '../linux/proctree.js';

/** Reap `pid` if it is our (zombie) child; ignore it if it is not. */
export function reapIfChild(pid: number): number | null {
  try {
    const r = libc.waitpid(pid, WNOHANG);
    return r ? libc.exitCodeOf(r.status) : null;
  } catch {
    return null; // ECHILD: not ours
  }
}

/** Wait until the process is gone or a zombie; true if it went in time. */
export function waitGone(pid: number, startTime: string | undefined, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    reapIfChild(pid);
    if (!isAlive(pid, startTime)) return true;
    if (Date.now() > deadline) return false;
    sleepMs(5);
  }
}

/** SIGKILL the process (if it is still the same one) and wait for it to go. */
export function killAndWait(pid: number, startTime: string | undefined, timeoutMs = 5000): boolean {
  if (!isAlive(pid, startTime)) return true;
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  return waitGone(pid, startTime, timeoutMs);
}

/**
 * Resolve with the exit status (128+signal when killed) of `pid`, which must
 * be our child (we are its subreaper). SIGCHLD wakes us; a slow poll covers
 * a missed signal.
 */
export function waitExit(pid: number): Promise<number> {
  return new Promise((resolve) => {
    const check = () => {
      let r: { status: number } | null = null;
      try {
        r = libc.waitpid(pid, WNOHANG);
      } catch {
        // ECHILD: not our child after all; poll /proc instead.
        if (!isAlive(pid)) r = { status: 0 };
      }
      if (r) {
        process.off('SIGCHLD', check);
        clearInterval(timer);
        resolve(libc.exitCodeOf(r.status));
      }
    };
    process.on('SIGCHLD', check);
    const timer = setInterval(check, 250);
    check();
  });
}
