/**
 * The init stage's security and process-attribute steps (issue 3), called by
 * main.ts at these moments:
 *
 *   prepareSecurity      first thing after the plan arrives, before any
 *                        container mount: open the trusted procfs handle (if
 *                        anything will be written under /proc) and, for
 *                        SCMP_ACT_NOTIFY, note the init's pid as the runtime
 *                        sees it and connect to the seccomp agent (a host
 *                        path, unreachable after pivot_root);
 *   applySysctl          after pivot_root, finishRootfs and the hostnames;
 *   applyCreateAttrs     last step of create, before "ready" (runc sets the
 *                        scheduler and I/O priority there too): memory
 *                        policy, scheduler, I/O priority. A failure fails
 *                        `create`, which undoes everything. The CPU
 *                        affinity is reset to the cpuset's (the init does
 *                        not keep a pinning of runts's caller);
 *   applyStartAttrs      after the startContainer hooks (which must not run
 *                        with the container's persona or LSM labels), before
 *                        the seccomp filter (both orders, so a profile cannot
 *                        block these calls) and before capabilities drop:
 *                        personality, then the LSM exec labels; closes the
 *                        procfs handle. (A SCHED_DEADLINE policy, set at
 *                        create, gets SCHED_FLAG_RESET_ON_FORK when there are
 *                        startContainer hooks: a deadline task may not fork,
 *                        and the hooks run after the capabilities are gone);
 *   loadSeccompPlan      loads the filter; with NOTIFY, hands the listener fd
 *                        to the agent right away (src/linux/seccomp-agent.ts);
 *   prepareExecSeccompAgent  the exec stage's prepareSecurity for NOTIFY.
 *
 * Every fd opened here is close-on-exec and closed before execve when done.
 */
import * as fs from 'node:fs';
import { RuntsError } from '../common/errors.js';
import { setFinalAffinity } from '../linux/affinity.js';
import { applyLsmWrites, lsmWrites } from '../linux/lsm.js';
import { setMemoryPolicy } from '../linux/mempolicy.js';
import { setPersonality } from '../linux/personality.js';
import { ProcfsHandle } from '../linux/procfs.js';
import { SCHED_FLAGS, setScheduler } from '../linux/scheduler.js';
import { setIoPriority } from '../linux/iopriority.js';
import { connectSeccompAgent, containerProcessState, handOverListener } from '../linux/seccomp-agent.js';
import { loadSeccomp } from '../linux/seccomp/load.js';
import { applySysctls } from '../linux/sysctl.js';
import type { State } from '../spec/types.js';
import type { InitPlan, ProcessPlan, SeccompPlan } from '../plan/init.js';

let procfs: ProcfsHandle | undefined;
let agent: { fd: number; hostPid: number; exec?: boolean } | undefined;

function trustedProcfs(): ProcfsHandle {
  if (!procfs) throw new RuntsError('internal error: the trusted procfs handle was not opened before pivot_root');
  return procfs;
}

export function prepareSecurity(plan: InitPlan): void {
  if ((plan.sysctl?.length ?? 0) > 0 || lsmWrites(plan.process).length > 0) procfs = ProcfsHandle.open();
  const notify = plan.seccomp?.notify;
  if (notify) {
    const hostPid = runtimePid();
    agent = { fd: connectSeccompAgent(notify.listenerPath), hostPid };
  }
}

/**
 * `runts exec` with SCMP_ACT_NOTIFY (src/init/exec-main.ts): connect to the
 * agent while the exec stage is still in the host's mount namespace
 * (listenerPath is a host path) and note its host pid; loadSeccompPlan then
 * hands the listener fd over exactly as for the init. No agent listening:
 * a clear error before anything of the process exists in the container.
 */
export function prepareExecSeccompAgent(s: SeccompPlan | undefined): void {
  if (!s?.notify) return;
  agent = { fd: connectSeccompAgent(s.notify.listenerPath), hostPid: runtimePid(), exec: true };
}

/**
 * The init's pid as the runtime sees it (the agent's "pid"): /proc is still
 * the runtime's procfs here, the container's mounts do not exist yet, and
 * /proc/self of that procfs names this process in the runtime's pid namespace.
 */
function runtimePid(): number {
  try {
    const pid = Number(fs.readlinkSync('/proc/self'));
    if (Number.isInteger(pid) && pid > 0) return pid;
  } catch { /* below */ }
  throw new RuntsError('seccomp: cannot tell the container process pid for the seccomp agent (readlink /proc/self failed)', { op: 'readlink', path: '/proc/self' });
}

export function applySysctl(plan: InitPlan): void {
  if (plan.sysctl?.length) applySysctls(plan.sysctl, trustedProcfs());
}

/**
 * A deadline policy would stop the init from forking the startContainer
 * hooks, which run after the container's capabilities (without
 * CAP_SYS_NICE, the policy could not be set then): it is set at create with
 * SCHED_FLAG_RESET_ON_FORK added, so the hooks start as normal tasks.
 */
export function deadlineNeedsResetOnFork(plan: InitPlan): boolean {
  const s = plan.process.scheduler;
  return s?.policy === 'SCHED_DEADLINE' && (s.flags & SCHED_FLAGS.SCHED_FLAG_RESET_ON_FORK!) === 0 && plan.hooks.startContainer.length > 0;
}

export function applyCreateAttrs(plan: InitPlan): void {
  const p = plan.process;
  // the init is in its cgroups by now: every CPU of the cpuset, not the caller's pinning (runc ≥ 1.2)
  setFinalAffinity(undefined);
  if (plan.memoryPolicy) setMemoryPolicy(plan.memoryPolicy);
  if (p.scheduler) {
    const reset = deadlineNeedsResetOnFork(plan) ? SCHED_FLAGS.SCHED_FLAG_RESET_ON_FORK! : 0;
    setScheduler({ ...p.scheduler, flags: p.scheduler.flags | reset });
  }
  if (p.ioPriority) setIoPriority(p.ioPriority);
}

export function applyStartAttrs(plan: InitPlan): void {
  const p = plan.process;
  if (plan.personality !== undefined) setPersonality(plan.personality);
  const writes = lsmWrites(p);
  if (writes.length > 0) applyLsmWrites(writes, trustedProcfs());
  procfs?.close();
  procfs = undefined;
}

/**
 * For `runts exec` (src/init/exec-main.ts, once the CLI has put the stage in
 * the container's cgroup, before its seccomp filter and credential switch):
 * execCPUAffinity.final (or a reset to every CPU of the cpuset), scheduler,
 * I/O priority and the LSM exec labels of the exec'd process.
 * execCPUAffinity.initial was set by nsboot (-a) before the cgroup join.
 */
export function applyExecAttrs(p: ProcessPlan): void {
  setFinalAffinity(p.execCPUAffinity?.final);
  if (p.scheduler) setScheduler(p.scheduler);
  if (p.ioPriority) setIoPriority(p.ioPriority);
  const writes = lsmWrites(p);
  if (writes.length === 0) return;
  const h = ProcfsHandle.open();
  try {
    applyLsmWrites(writes, h);
  } finally {
    h.close();
  }
}

/** Load the filter on this thread; with NOTIFY, send the listener fd to the agent at once. */
export function loadSeccompPlan(s: SeccompPlan, state: State): void {
  const program = Buffer.from(s.program, 'base64');
  if (s.notify && !agent) throw new RuntsError('seccomp: SCMP_ACT_NOTIFY is used but the seccomp agent is not connected');
  // Everything the hand-over needs is ready before the filter goes on.
  const msg = s.notify && agent ? containerProcessState(state, agent.hostPid, s.notify.metadata, agent.exec) : undefined;
  const fd = loadSeccomp({ program, instructions: s.instructions, flags: s.flags, notify: s.notify !== undefined, nativeArch: s.nativeArch, architectures: [], warnings: [] });
  if (!s.notify || !msg || !agent) return;
  const sock = agent.fd;
  agent = undefined;
  if (fd === undefined) throw new RuntsError('seccomp: the filter uses SCMP_ACT_NOTIFY but the kernel returned no listener fd');
  handOverListener(sock, fd, msg, s.notify.listenerPath);
}
