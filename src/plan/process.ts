/**
 * The process plan (what the init or exec stage does to become the user
 * program: ids, rlimits, capabilities, scheduler, LSM labels...) and the
 * compiled seccomp filter, from the config (pure: host facts come in as
 * HostFacts). Shared by the create (init.ts) and exec (exec.ts) plans.
 */
import { RuntsError } from '../common/errors.js';
import { type CapSets, resolveCapabilities } from '../linux/capabilities.js';
import { planExecAffinity, type ExecAffinityPlan } from '../linux/affinity.js';
import { planIoPriority, type IoPriorityPlan } from '../linux/iopriority.js';
import { planProcessLsm, type LsmStatus } from '../linux/lsm.js';
import { planScheduler, type SchedulerPlan } from '../linux/scheduler.js';
import { checkNotifyRules } from '../linux/seccomp-agent.js';
import { compileSeccomp } from '../linux/seccomp/compile.js';
import { RLIMITS } from '../spec/rlimits.js';
import type { Process, Spec } from '../spec/types.js';
import type { HostFacts } from './host-facts.js';
import { hasNamespace } from './namespaces.js';

export interface ProcessPlan {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask?: number;
  rlimits: { name: string; resource: number; soft: string; hard: string }[];
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  noNewPrivileges: boolean;
  capabilities: CapSets;
  /** Highest capability number of this kernel. */
  lastCap: number;
  oomScoreAdj?: number;
  /** process.scheduler → sched_setattr (src/linux/scheduler.ts). */
  scheduler?: SchedulerPlan;
  /** process.ioPriority → ioprio_set (src/linux/iopriority.ts). */
  ioPriority?: IoPriorityPlan;
  /** process.execCPUAffinity, validated; not applied to the container's init (config.md), only by exec. */
  execCPUAffinity?: ExecAffinityPlan;
  /** Only set when AppArmor / SELinux is enabled (else planning fails): src/linux/lsm.ts. */
  apparmorProfile?: string;
  selinuxLabel?: string;
}

/** A compiled seccomp filter, ready to load. */
export interface SeccompPlan {
  program: string /* base64 sock_filter[] */; instructions: number; flags: number; nativeArch: string;
  /** SCMP_ACT_NOTIFY is used: the listener fd goes to the agent at listenerPath (src/linux/seccomp-agent.ts). */
  notify?: { listenerPath: string; metadata?: string };
}

/** The compiled filter; with SCMP_ACT_NOTIFY, where the init or the exec stage hands the listener fd. */
export function planSeccomp(spec: Spec, warn: (msg: string) => void): SeccompPlan | undefined {
  const s = spec.linux?.seccomp;
  if (!s) return undefined;
  const f = compileSeccomp(s);
  for (const w of f.warnings) warn(`seccomp: ${w}`);
  if (f.notify) checkNotifyRules(s);
  const notify = f.notify ? { notify: { listenerPath: s.listenerPath!, ...(s.listenerMetadata ? { metadata: s.listenerMetadata } : {}) } } : {};
  return { program: f.program.toString('base64'), instructions: f.instructions, flags: f.flags, nativeArch: f.nativeArch, ...notify };
}

/** The process names an AppArmor profile or an SELinux label: HostFacts.lsm is needed. */
export function processNeedsLsm(p: Process | undefined): boolean {
  return !!(p?.apparmorProfile || p?.selinuxLabel);
}

/** HostFacts.lsm, which the caller gathered because the config needs it. */
export function lsmOf(facts: HostFacts): () => LsmStatus {
  return () => {
    if (!facts.lsm) throw new RuntsError('internal error: a profile or label is configured but the host facts say nothing of the LSMs');
    return facts.lsm;
  };
}

/**
 * JSON numbers lose precision near 2^64: anything that large is RLIM_INFINITY.
 * The decimal is the double's exact value (String() would print 2^60 as 1152921504606847000).
 */
function rlimitValue(n: number): string {
  return n >= 2 ** 64 - 1 ? '18446744073709551615' : BigInt(n).toString();
}

export interface ProcessPlanOptions {
  warn?: (msg: string) => void;
  /** process.execCPUAffinity, planned already (exec plans it once, for nsboot's -a too). */
  execCPUAffinity?: ExecAffinityPlan;
}

export function planProcess(spec: Spec, facts: HostFacts, o: ProcessPlanOptions = {}): ProcessPlan {
  const warn = o.warn ?? (() => {});
  // Without process (allowed until start: config.md), a stand-in that start refuses (InitPlan.noProcess).
  const p = spec.process ?? { cwd: '/', user: { uid: 0, gid: 0 }, args: [] };
  const rlimits = (p.rlimits ?? []).map((r, i) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new RuntsError(`config.json /process/rlimits/${i}/type: unknown rlimit "${r.type}"`, { pointer: `/process/rlimits/${i}/type` });
    return { name: r.type, resource, soft: rlimitValue(r.soft), hard: rlimitValue(r.hard) };
  });
  // What the init can grant: a new or joined user namespace gives it a full
  // bounding set; otherwise it inherits the CLI's (src/linux/capabilities.ts).
  const grantable = hasNamespace(spec, 'user') ? undefined : facts.boundingSet;
  return {
    args: p.args ?? [],
    env: p.env ?? [],
    cwd: p.cwd,
    uid: p.user.uid,
    gid: p.user.gid,
    additionalGids: p.user.additionalGids ?? [],
    umask: p.user.umask,
    rlimits,
    terminal: p.terminal === true,
    consoleSize: p.consoleSize,
    noNewPrivileges: p.noNewPrivileges === true,
    // Capabilities outside the init's bounding set are left out with a warning (config.md: SHOULD NOT fail).
    capabilities: resolveCapabilities(p.capabilities, facts.lastCap, warn, { grantable }),
    lastCap: facts.lastCap,
    oomScoreAdj: p.oomScoreAdj,
    scheduler: planScheduler(p),
    ioPriority: planIoPriority(p),
    execCPUAffinity: 'execCPUAffinity' in o ? o.execCPUAffinity : planExecAffinity(p),
    ...planProcessLsm(p, lsmOf(facts)),
  };
}
