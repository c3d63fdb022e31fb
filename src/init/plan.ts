/**
 * The init plan: everything the init stage needs, resolved from config.json
 * on the host side (pure; unit-tested without root). It crosses the sync
 * socket as JSON, so it is plain data.
 */
import { RuntsError } from '../common/errors.js';
import { type CapSets, grantableCapabilities, lastCap, resolveCapabilities } from '../linux/capabilities.js';
import { compileSeccomp } from '../linux/seccomp/compile.js';
import { planRootfs, type RootfsPlan } from '../linux/rootfs/plan.js';
import { RLIMITS } from '../spec/rlimits.js';
import { planExecAffinity, type ExecAffinityPlan } from '../linux/affinity.js';
import { planIoPriority, type IoPriorityPlan } from '../linux/iopriority.js';
import { applyMountLabel, detectLsm, planMountLabel, planProcessLsm, type LsmStatus } from '../linux/lsm.js';
import { planMemoryPolicy, type MemoryPolicyPlan } from '../linux/mempolicy.js';
import { planPersonality } from '../linux/personality.js';
import { planScheduler, type SchedulerPlan } from '../linux/scheduler.js';
import { checkNotifyRules } from '../linux/seccomp-agent.js';
import { planSysctls, type SysctlWrite } from '../linux/sysctl.js';
import type { Hook, Spec, State } from '../spec/types.js';

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

export interface InitPlan {
  id: string;
  /** Host path of the state dir; the init binds init.sock there before pivot_root. */
  stateDir: string;
  rootfs: RootfsPlan;
  hostname?: string;
  domainname?: string;
  process: ProcessPlan;
  hooks: { createContainer: Hook[]; startContainer: Hook[] };
  /** State JSON for hooks run inside the container (pid as the container sees it). */
  state: State;
  /** Number of preserved fds (LISTEN_FDS + --preserve-fds) at 3 … 3+n-1. */
  preservedFds: number;
  /** The config has no process (allowed until start, config.md): `start` fails and nothing runs. */
  noProcess?: boolean;
  /**
   * Create the cgroup namespace here, not in nsboot: the CLI has put the
   * init in its cgroups by now, so the namespace is rooted at them (runc
   * too joins, then unshares). CLONE_NEWCGROUP is allowed to a
   * multithreaded process; it applies to the calling thread, which execs.
   */
  unshareCgroupns: boolean;
  /**
   * fds (inherited from nsboot's spawn) of user namespaces whose maps are the
   * idmapped mounts' mappings (src/container/idmap-userns.ts), filled in by the
   * CLI; closed with every other runtime fd before the user process runs.
   */
  /**
   * Container with its own user namespace: every bind mount's tree made by
   * the CLI on the host (mount index → inherited fd of the detached tree,
   * already idmapped when the mount is; src/container/bind-trees.ts).
   */
  bindTrees?: { index: number; fd: number }[];
  idmapUserns?: { fd: number; uidMappings: { containerID: number; hostID: number; size: number }[]; gidMappings: { containerID: number; hostID: number; size: number }[] }[];
  /** fd of the runtime's real stderr: until the init puts it back at 2, its stderr is the CLI's pipe (src/container/init-death.ts). */
  stderrFd?: number;
  /** fd (inherited from nsboot's spawn) of a mount namespace given by path: the init's main thread joins it (src/linux/rootfs/mountns.ts). */
  mountnsFd?: number;
  /** fd of the connected console socket, when process.terminal. */
  consoleFd?: number;
  /** The container has its own user namespace. */
  userns: boolean;
  /** Join a new session keyring named after the container (not with --no-new-keyring). */
  newKeyring: boolean;
  seccomp?: SeccompPlan;
  /** linux.sysctl, written through the trusted procfs handle after pivot_root. */
  sysctl?: SysctlWrite[];
  /** linux.personality as a persona value. */
  personality?: number;
  /** linux.memoryPolicy. */
  memoryPolicy?: MemoryPolicyPlan;
  /** A new network namespace (not a joined one): bring `lo` up, as runc and crun do (src/linux/netlink.ts). */
  loopbackUp: boolean;
}

export interface PlanContext {
  id: string;
  bundle: string;
  stateDir: string;
  noPivot: boolean;
  noNewKeyring?: boolean;
  preservedFds: number;
  consoleFd?: number;
  /** pid of the init as seen inside the container (1 with a new pid ns). */
  containerPid: number;
  cgroupPaths?: Record<string, string>;
  cgroupMode?: 'v1' | 'v2' | 'hybrid';
  warn?: (msg: string) => void;
  /** Which LSMs are enabled (default: detected on this host, only if a label is configured). */
  lsm?: LsmStatus;
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

function hasNewNamespace(spec: Spec, type: string): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === type && !n.path);
}

function hasNamespace(spec: Spec, type: string): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === type);
}

/**
 * JSON numbers lose precision near 2^64: anything that large is RLIM_INFINITY.
 * The decimal is the double's exact value (String() would print 2^60 as 1152921504606847000).
 */
function rlimitValue(n: number): string {
  return n >= 2 ** 64 - 1 ? '18446744073709551615' : BigInt(n).toString();
}

export function planProcess(spec: Spec, warn: (msg: string) => void = () => {}, lsm: () => LsmStatus = detectLsm): ProcessPlan {
  // Without process (allowed until start: config.md), a stand-in that start refuses (InitPlan.noProcess).
  const p = spec.process ?? { cwd: '/', user: { uid: 0, gid: 0 }, args: [] };
  const rlimits = (p.rlimits ?? []).map((r, i) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new RuntsError(`config.json /process/rlimits/${i}/type: unknown rlimit "${r.type}"`, { pointer: `/process/rlimits/${i}/type` });
    return { name: r.type, resource, soft: rlimitValue(r.soft), hard: rlimitValue(r.hard) };
  });
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
    capabilities: resolveCapabilities(p.capabilities, lastCap(), warn, { grantable: grantableCapabilities(spec.linux?.namespaces) }),
    lastCap: lastCap(),
    oomScoreAdj: p.oomScoreAdj,
    scheduler: planScheduler(p),
    ioPriority: planIoPriority(p),
    execCPUAffinity: planExecAffinity(p),
    ...planProcessLsm(p, lsm),
  };
}

export function buildInitPlan(spec: Spec, ctx: PlanContext): InitPlan {
  let lsmStatus = ctx.lsm;
  const lsm = () => (lsmStatus ??= detectLsm());
  const userns = hasNamespace(spec, 'user');
  const rootfs = planRootfs(spec, {
    bundle: ctx.bundle,
    noPivot: ctx.noPivot,
    userns,
    cgroupns: hasNewNamespace(spec, 'cgroup'),
    cgroupPaths: ctx.cgroupPaths,
    cgroupMode: ctx.cgroupMode,
  });
  applyMountLabel(rootfs, planMountLabel(spec, lsm, ctx.warn));
  return {
    id: ctx.id,
    stateDir: ctx.stateDir,
    rootfs,
    hostname: spec.hostname,
    domainname: spec.domainname,
    process: planProcess(spec, ctx.warn, lsm),
    hooks: { createContainer: spec.hooks?.createContainer ?? [], startContainer: spec.hooks?.startContainer ?? [] },
    state: { ociVersion: spec.ociVersion, id: ctx.id, status: 'created', pid: ctx.containerPid, bundle: ctx.bundle, annotations: spec.annotations ?? {} },
    preservedFds: ctx.preservedFds,
    ...(spec.process ? {} : { noProcess: true }),
    unshareCgroupns: hasNewNamespace(spec, 'cgroup'),
    consoleFd: ctx.consoleFd,
    userns,
    newKeyring: ctx.noNewKeyring !== true,
    seccomp: planSeccomp(spec, ctx.warn ?? (() => {})),
    sysctl: planSysctls(spec),
    personality: planPersonality(spec),
    memoryPolicy: planMemoryPolicy(spec),
    loopbackUp: hasNewNamespace(spec, 'network'),
  };
}
