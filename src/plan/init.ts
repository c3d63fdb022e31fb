/**
 * The init plan: everything the init stage needs, resolved from config.json
 * on the host side (pure: host facts come in as HostFacts, the fds the CLI
 * opened as numbers of the fd layout, fds.ts). It crosses the sync socket
 * as JSON, so it is plain data, and it is frozen once built.
 */
import { type CgroupMode, type RootfsPlan } from '../linux/rootfs/plan-types.js';
import { planMountLabel } from '../linux/lsm.js';
import { planMemoryPolicy, type MemoryPolicyPlan } from '../linux/mempolicy.js';
import { planPersonality } from '../linux/personality.js';
import { planSysctls, type SysctlWrite } from '../linux/sysctl.js';
import type { Hook, IDMapping, Spec, State } from '../spec/types.js';
import { freezePlan } from './freeze.js';
import type { CgroupHierarchy, HostFacts } from './host-facts.js';
import { hasNamespace, hasNewNamespace } from './namespaces.js';
import { lsmOf, planProcess, planSeccomp, processNeedsLsm, type ProcessPlan, type SeccompPlan } from './process.js';
import { planRootfs } from './rootfs.js';

export type { ProcessPlan, SeccompPlan } from './process.js';

export interface IdmapUsernsFd { fd: number; uidMappings: IDMapping[]; gidMappings: IDMapping[] }

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
   * Container with its own user namespace: every bind mount's tree made by
   * the CLI on the host (mount index → inherited fd of the detached tree,
   * already idmapped when the mount is; src/container/bind-trees.ts).
   */
  bindTrees?: { index: number; fd: number }[];
  /**
   * fds (inherited from nsboot's spawn) of user namespaces whose maps are the
   * idmapped mounts' mappings (src/container/idmap-userns.ts); closed with
   * every other runtime fd before the user process runs.
   */
  idmapUserns?: IdmapUsernsFd[];
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

/** The container's cgroups as the CLI made them (src/cgroups/manager.ts CgroupRecord). */
export interface CgroupInput { mode: CgroupMode; paths: Record<string, string> }

export interface PlanContext {
  id: string;
  bundle: string;
  stateDir: string;
  noPivot: boolean;
  noNewKeyring?: boolean;
  preservedFds: number;
  /** The init's pid as the CLI sees it (the container sees 1 with a new pid namespace). */
  initPid: number;
  cgroup?: CgroupInput;
  /** Where the CLI put the runtime fds (the numbers of fds.ts createFdLayout). */
  fds?: {
    console?: number;
    stderr?: number;
    mountns?: number;
    bindTrees?: { index: number; fd: number }[];
    /** Present when idmap user namespaces were made (empty when they went into bind trees). */
    idmapUserns?: IdmapUsernsFd[];
  };
  warn?: (msg: string) => void;
}

/** The config names a profile or label: the create plan needs HostFacts.lsm. */
export function initNeedsLsm(spec: Spec): boolean {
  return processNeedsLsm(spec.process) || !!spec.linux?.mountLabel;
}

/**
 * What the container's /sys/fs/cgroup shows: for v1, one entry per host
 * hierarchy named like the host's mount point (`cpu,cpuacct`, `systemd`),
 * pointing at the container's cgroup in it; for v2, '' → its cgroup. In
 * hybrid mode the unified tree is left out, as runc does.
 */
export function cgroupMountPaths(rec: CgroupInput, hierarchies: readonly CgroupHierarchy[]): Record<string, string> {
  if (rec.mode === 'v2') return { '': rec.paths[''] ?? Object.values(rec.paths)[0]! };
  const out: Record<string, string> = {};
  for (const h of hierarchies) {
    const dir = h.controllers.map((c) => rec.paths[c]).find((d) => d !== undefined);
    if (dir) out[h.mountpoint.slice(h.mountpoint.lastIndexOf('/') + 1)] = dir;
  }
  return out;
}

/** The init plan, deep-frozen. */
export function buildInitPlan(spec: Spec, ctx: PlanContext, facts: HostFacts): InitPlan {
  const warn = ctx.warn ?? (() => {});
  const userns = hasNamespace(spec, 'user');
  const rootfs = planRootfs(spec, {
    bundle: ctx.bundle,
    noPivot: ctx.noPivot,
    userns,
    // a runtime already in a user namespace (rootless podman's) cannot mknod either: bind the host's nodes, as runc
    bindDevices: userns || !facts.rootless.initialUserns,
    cgroupns: hasNewNamespace(spec, 'cgroup'),
    cgroupPaths: ctx.cgroup ? cgroupMountPaths(ctx.cgroup, facts.cgroupV1 ?? []) : undefined,
    cgroupMode: ctx.cgroup?.mode ?? facts.cgroupMode,
    mountLabel: planMountLabel(spec, lsmOf(facts), warn),
  });
  const fds = ctx.fds ?? {};
  const plan: InitPlan = {
    id: ctx.id,
    stateDir: ctx.stateDir,
    rootfs,
    hostname: spec.hostname,
    domainname: spec.domainname,
    process: planProcess(spec, facts, { warn }),
    hooks: { createContainer: spec.hooks?.createContainer ?? [], startContainer: spec.hooks?.startContainer ?? [] },
    state: { ociVersion: spec.ociVersion, id: ctx.id, status: 'created', pid: hasNewNamespace(spec, 'pid') ? 1 : ctx.initPid, bundle: ctx.bundle, annotations: spec.annotations ?? {} },
    preservedFds: ctx.preservedFds,
    ...(spec.process ? {} : { noProcess: true }),
    unshareCgroupns: hasNewNamespace(spec, 'cgroup'),
    consoleFd: fds.console,
    userns,
    newKeyring: ctx.noNewKeyring !== true,
    seccomp: planSeccomp(spec, warn),
    sysctl: planSysctls(spec),
    personality: planPersonality(spec),
    memoryPolicy: planMemoryPolicy(spec),
    loopbackUp: hasNewNamespace(spec, 'network'),
    ...(fds.stderr !== undefined ? { stderrFd: fds.stderr } : {}),
    ...(fds.idmapUserns ? { idmapUserns: fds.idmapUserns } : {}),
    ...(fds.bindTrees?.length ? { bindTrees: fds.bindTrees } : {}),
    ...(fds.mountns !== undefined ? { mountnsFd: fds.mountns } : {}),
  };
  return freezePlan(plan);
}
