/**
 * The last steps before the user program, shared by the container init
 * (after `start`) and by `exec`. All of the runtime's own work comes before
 * the seccomp filter, so a container starts under any profile that allows
 * what its own program needs:
 *
 *   bounding set (keepcaps on) → cwd, tried as the runtime → uid/gid/groups →
 *   cwd as the user if the first try was refused → signal dispositions →
 *   runtime fds close-on-exec → announce "exec" (when no hook follows) →
 *   noNewPrivileges:  capabilities → no_new_privs → FILTER
 *   otherwise:        FILTER → capabilities (loading a filter without
 *                     no_new_privs needs CAP_SYS_ADMIN: when the container
 *                     does not keep it, it is held in the effective set
 *                     just for that call; when it does, the filter goes last)
 *   → startContainer hooks (as runc: under the filter, with the container's
 *   credentials) → announce "exec" → execve
 *
 * After the filter only capset (without no_new_privs and without
 * CAP_SYS_ADMIN), the startContainer hooks and execve remain: runc does
 * the hooks and execve there too (and, without no_new_privs, all of its
 * credential switching). Until the filter, the process keeps more
 * capabilities than the container gets, and it stays non-dumpable (execve
 * resets that).
 */
import { RuntsError, SyscallError } from '../common/errors.js';
import * as libc from '../linux/libc.js';
import { EACCES, EPERM, PR, SIGKILL, SIGSTOP } from '../linux/abi.js';
import { applyCapSets, type CapSets, dropBounding } from '../linux/capabilities.js';
import type { State } from '../spec/types.js';
import type { ProcessPlan, SeccompPlan } from '../plan/process.js';
import { prepareExecFds, setCredentials, verifyCwd } from './process.js';
import { loadSeccompPlan } from './security.js';

const CAP_SYS_ADMIN = 21;

export interface FinalizeOptions {
  process: ProcessPlan;
  seccomp?: SeccompPlan;
  userns: boolean;
  preservedFds: number;
  /** The state a seccomp agent receives with the listener fd (SCMP_ACT_NOTIFY). */
  state: State;
  /** The resolved executable. */
  file: string;
  /** The program's environment: process.env of the plan with HOME added (process.ts withHome). */
  env: string[];
  /** Tells the runtime that execve follows; called once, after the last step that may fail for a reason worth reporting. */
  beforeExec?: () => void;
  /** The startContainer hooks (init only): run after the filter, just before execve. */
  hooks?: () => Promise<void>;
}

/**
 * node ignores SIGPIPE and SIGXFSZ, and an ignored disposition survives
 * execve: give the user program default dispositions for every signal (as
 * runc does). Caught signals are reset by execve itself.
 */
export function resetSignals(): void {
  for (let sig = 1; sig <= 64; sig++) {
    if (sig === SIGKILL || sig === SIGSTOP || sig === 32 || sig === 33) continue; // glibc-internal RT signals
    libc.setSignalDefault(sig);
  }
}

/**
 * chdir to process.cwd while still the runtime (a cwd the container's user
 * cannot reach but root can, as runc). True when done; false when the
 * kernel refused it for permissions, so it is tried again as the user.
 */
function cwdAsRuntime(cwd: string): boolean {
  try {
    libc.chdir(cwd);
    return true;
  } catch (e) {
    if (e instanceof SyscallError && (e.code === EACCES || e.code === EPERM)) return false;
    throw cwdError(cwd, e);
  }
}

function cwdError(cwd: string, e: unknown): Error {
  const errno = e instanceof RuntsError ? e.errno : undefined;
  return new RuntsError(`chdir to cwd (${JSON.stringify(cwd)}) set in config.json failed: ${(e as Error).message}`, { op: 'chdir', path: cwd, errno, cause: e });
}

/** The capability sets with CAP_SYS_ADMIN held in permitted and effective (to load a filter without no_new_privs). */
function withSysAdmin(c: CapSets): CapSets {
  const add = (s: number[]) => (s.includes(CAP_SYS_ADMIN) ? s : [...s, CAP_SYS_ADMIN]);
  return { ...c, effective: add(c.effective), permitted: add(c.permitted), ambient: [] };
}

export async function finalizeAndExec(o: FinalizeOptions): Promise<never> {
  const p = o.process;
  const caps = p.capabilities;
  dropBounding(caps, p.lastCap);
  const cwdDone = cwdAsRuntime(p.cwd);
  setCredentials(p, o.userns);
  if (!cwdDone) {
    try { libc.chdir(p.cwd); } catch (e) { throw cwdError(p.cwd, e); }
  }
  verifyCwd(p.cwd);
  resetSignals();
  prepareExecFds(o.preservedFds);
  // Without hooks nothing the runtime reports on can fail after this point
  // (the filter's own load failure is still sent, after "exec"); the filter
  // may forbid the write, so announce before it.
  if (!o.hooks) o.beforeExec?.();

  if (o.seccomp && !p.noNewPrivileges) {
    if (caps.effective.includes(CAP_SYS_ADMIN)) {
      applyCapSets(caps);
      loadSeccompPlan(o.seccomp, o.state);
    } else {
      applyCapSets(withSysAdmin(caps));
      loadSeccompPlan(o.seccomp, o.state);
      applyCapSets(caps);
    }
  } else {
    applyCapSets(caps);
    if (p.noNewPrivileges) libc.prctl(PR.SET_NO_NEW_PRIVS, 1, 0, 0, 0, 'prctl(PR_SET_NO_NEW_PRIVS)');
    if (o.seccomp) loadSeccompPlan(o.seccomp, o.state);
  }

  if (o.hooks) {
    await o.hooks();
    o.beforeExec?.();
  }
  return libc.execve(o.file, p.args, o.env);
}
