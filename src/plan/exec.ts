/**
 * The plan of `runts exec`: the new process, resolved on the host from the
 * container's config.json and the exec flags or --process file (pure: host
 * facts come in as HostFacts). runc's rules: the container's process is the
 * default for env, cwd, user, capabilities, rlimits, no_new_privs and
 * apparmor; flags override or add.
 *
 * Two steps, so that the plan is made while the exec stage's node boots:
 * planExecLaunch (before the spawn: nsboot's arguments, the fd layout,
 * execCPUAffinity) and buildExecPlan (after it; reuses the launch's
 * decisions). What depends only on the container's config (the compiled
 * seccomp filter, the namespaces) is execBase(): plain data that could be
 * kept with the container instead of being made again at each exec.
 */
import { RuntsError } from '../common/errors.js';
import { planExecAffinity, type ExecAffinityPlan } from '../linux/affinity.js';
import type { Process, Spec, State } from '../spec/types.js';
import { execFdLayout, type ExecFdLayout } from './fds.js';
import { freezePlan } from './freeze.js';
import type { HostFacts } from './host-facts.js';
import { execJoinArgs, hasNamespace } from './namespaces.js';
import { planProcess, planSeccomp, processNeedsLsm, type ProcessPlan, type SeccompPlan } from './process.js';

export interface ExecFlags {
  args: string[];
  env?: string[];
  cwd?: string;
  user?: string;
  additionalGids?: string[];
  tty?: boolean;
  caps?: string[];
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
}

export interface ExecPlan {
  process: ProcessPlan;
  seccomp?: SeccompPlan;
  userns: boolean;
  preservedFds: number;
  consoleFd?: number;
  /** runts relays the pty itself (no --console-socket): ONLCR is cleared before the master leaves. */
  consoleRelayed?: boolean;
  apparmorProfile?: string;
  selinuxLabel?: string;
  /** The container's state, for hooks and seccomp agents. */
  state: State;
}

/** `--user UID[:GID]`: strictly numeric (CVE-2026-30892 was a lenient parser). */
export function parseUser(text: string): { uid: number; gid?: number } {
  const m = /^([0-9]+)(?::([0-9]+))?$/.exec(text);
  if (!m) throw new RuntsError(`--user ${JSON.stringify(text)}: must be UID or UID:GID (numbers only)`);
  const uid = Number(m[1]);
  const gid = m[2] === undefined ? undefined : Number(m[2]);
  if (uid > 0xfffffffe || (gid !== undefined && gid > 0xfffffffe)) throw new RuntsError(`--user ${text}: out of range`);
  return { uid, gid };
}

function parseGid(text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > 0xfffffffe) throw new RuntsError(`--additional-gids ${JSON.stringify(text)}: must be a number`);
  return Number(text);
}

/** The exec'd process, from the container's process and the flags (runc's merge rules). */
export function execProcessFromFlags(container: Process | undefined, f: ExecFlags): Process {
  // a container created without process (config.md: required only by start): exec as root in /
  container ??= { cwd: '/', user: { uid: 0, gid: 0 } };
  if (f.args.length === 0) throw new RuntsError('exec: a command is required (runts exec [flags] <id> <command> [args...], or --process FILE)');
  const p: Process = {
    ...container,
    args: f.args,
    terminal: f.tty === true,
    env: [...(container.env ?? []), ...(f.env ?? [])],
    cwd: f.cwd ?? container.cwd,
    user: { ...container.user },
    capabilities: container.capabilities ? structuredClone(container.capabilities) : undefined,
  };
  delete p.consoleSize;
  if (f.user !== undefined) {
    const u = parseUser(f.user);
    p.user = { ...p.user, uid: u.uid, gid: u.gid ?? p.user.gid };
  }
  if (f.additionalGids?.length) p.user.additionalGids = f.additionalGids.map(parseGid);
  if (f.noNewPrivs) p.noNewPrivileges = true;
  if (f.apparmor !== undefined) p.apparmorProfile = f.apparmor;
  if (f.processLabel !== undefined) p.selinuxLabel = f.processLabel;
  for (const cap of f.caps ?? []) {
    const c = (p.capabilities ??= {});
    for (const set of ['bounding', 'effective', 'permitted'] as const) (c[set] ??= []).push(cap);
    // Ambient needs inheritable: only when the process has some (runc's rule).
    if ((c.inheritable ?? []).length > 0) (c.ambient ??= []).push(cap);
  }
  return p;
}

/** The exec'd process names an AppArmor profile or an SELinux label: HostFacts.lsm is needed. */
export function execNeedsLsm(proc: Process): boolean {
  return processNeedsLsm(proc);
}

/** What every exec in this container shares: decided from the container's config alone. */
export interface ExecBase {
  seccomp?: SeccompPlan;
  userns: boolean;
}

export function execBase(spec: Spec, warn: (m: string) => void = () => {}): ExecBase {
  return { seccomp: planSeccomp(spec, warn), userns: hasNamespace(spec, 'user') };
}

/** What `exec` needs before nsboot starts. */
export interface ExecLaunch {
  /** nsboot's options: sync fd, -a initial CPUs, no new namespaces, the joins. */
  nsbootArgs: string[];
  fds: ExecFdLayout;
  /** process.execCPUAffinity, planned once: `initial` for nsboot, `final` in the process plan. */
  affinity?: ExecAffinityPlan;
}

export function planExecLaunch(spec: Spec, proc: Process, o: { initPid: number; preservedFds: number; console: boolean }): ExecLaunch {
  const fds = execFdLayout({ preserved: o.preservedFds, console: o.console });
  const affinity = planExecAffinity(proc);
  // execCPUAffinity.initial: nsboot's (and so the exec stage's) affinity from its start, before the cgroup join
  const initialCpus = affinity?.initial ? ['-a', affinity.initial.join(',')] : [];
  return freezePlan({ nsbootArgs: ['-s', String(fds.sync), ...initialCpus, '-n', '0', ...execJoinArgs(spec, o.initPid)], fds, affinity });
}

/** The exec plan, deep-frozen. */
export function buildExecPlan(
  spec: Spec, proc: Process, facts: HostFacts,
  ctx: { launch: ExecLaunch; base?: ExecBase; consoleRelayed?: boolean; state: State; warn?: (m: string) => void },
): ExecPlan {
  if (!proc.cwd?.startsWith('/')) throw new RuntsError(`exec: cwd ${JSON.stringify(proc.cwd)} must be an absolute path`, { pointer: '/cwd' });
  const merged: Spec = { ...spec, process: proc };
  const process = planProcess(merged, facts, { warn: ctx.warn, execCPUAffinity: ctx.launch.affinity });
  const base = ctx.base ?? execBase(spec, ctx.warn);
  return freezePlan({
    process,
    seccomp: base.seccomp,
    userns: base.userns,
    preservedFds: ctx.launch.fds.preserved,
    consoleFd: ctx.launch.fds.console,
    consoleRelayed: ctx.consoleRelayed,
    apparmorProfile: proc.apparmorProfile,
    selinuxLabel: proc.selinuxLabel,
    state: ctx.state,
  });
}
