/**
 * The last steps before the user program, shared by the container init and
 * by `exec`, in runc's order:
 *
 *   [seccomp if no_new_privs is off] → bounding set → uid/gid/groups →
 *   capabilities → cwd → fds → no_new_privs → [seccomp if on] → execve
 *
 * Until the final step the process keeps more capabilities than the
 * container gets, and it stays non-dumpable (execve resets that).
 */
import * as libc from '../linux/libc.js';
import { PR } from '../linux/libc.js';
import { applyCapSets, dropBounding } from '../linux/capabilities.js';
import type { State } from '../spec/types.js';
import type { ProcessPlan, SeccompPlan } from './plan.js';
import { enterCwd, prepareExecFds, setCredentials } from './process.js';
import { loadSeccompPlan } from './security.js';

export interface FinalizeOptions {
  process: ProcessPlan;
  seccomp?: SeccompPlan;
  userns: boolean;
  preservedFds: number;
  /** The state a seccomp agent receives with the listener fd (SCMP_ACT_NOTIFY). */
  state: State;
  /** The resolved executable. */
  file: string;
  /** Called after the last step that may fail for a reason worth reporting. */
  beforeExec?: () => void;
}

/**
 * node ignores SIGPIPE and SIGXFSZ, and an ignored disposition survives
 * execve: give the user program default dispositions for every signal (as
 * runc does). Caught signals are reset by execve itself.
 */
export function resetSignals(): void {
  const signal = libc.bindLibc('void *signal(int sig, void *handler)');
  for (let sig = 1; sig <= 64; sig++) {
    if (sig === 9 || sig === 19 || sig === 32 || sig === 33) continue; // SIGKILL, SIGSTOP, glibc-internal RT signals
    signal(sig, null);
  }
}

export function finalizeAndExec(o: FinalizeOptions): never {
  const p = o.process;
  if (o.seccomp && !p.noNewPrivileges) loadSeccompPlan(o.seccomp, o.state);
  dropBounding(p.capabilities, p.lastCap);
  setCredentials(p, o.userns);
  applyCapSets(p.capabilities);
  enterCwd(p.cwd);
  o.beforeExec?.();
  resetSignals();
  prepareExecFds(o.preservedFds);
  if (p.noNewPrivileges) libc.prctl(PR.SET_NO_NEW_PRIVS, 1, 0, 0, 0, 'prctl(PR_SET_NO_NEW_PRIVS)');
  if (o.seccomp && p.noNewPrivileges) loadSeccompPlan(o.seccomp, o.state);
  return libc.execve(o.file, p.args, p.env);
}
