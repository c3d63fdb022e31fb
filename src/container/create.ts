/**
 * `create`: validate, record, build cgroups, start the bootstrap, hand the
 * init its plan, run the runtime hooks, wait for ready. Any failure undoes
 * everything (process, cgroup, state dir) before the error is reported.
 * Every step that creates something is written to state.json first, so a
 * SIGKILLed create is cleaned up by `delete --force`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { containerDeviceRules } from '../cgroups/devices.js';
import { cgroupManager, type CgroupManager } from '../cgroups/manager.js';
import { checkPreexistingCgroup } from '../cgroups/preexisting.js';
import { describeError, RuntsError } from '../common/errors.js';
import { logDebugAt, logWarning } from '../common/log.js';
import { initNodeFlags, initPath, nsbootPath } from '../common/paths.js';
import { runHooks, runHooksCollectingErrors, stepTimeoutMs } from '../hooks/run.js';
import * as libc from '../linux/libc.js';
import { O, PR, SOCK } from '../linux/abi.js';
import { idMapText } from '../linux/namespaces.js';
import { procStat } from '../linux/proctree.js';
import { STEP_TIMEOUT_MS } from '../protocol/boot-env.js';
import { Channel } from '../protocol/channel.js';
import type { Resources, Spec, State } from '../spec/types.js';
import { loadConfig, validateContainerId } from '../spec/validate.js';
import { type ContainerRecord, type Lock, Store, writeAtomic } from '../state/store.js';
import { checkRootfsOnHost } from '../linux/rootfs/mountns.js';
import { planCreate, withListenFds } from '../plan/create.js';
import { createFdLayout, placeFds } from '../plan/fds.js';
import { gatherHostFacts } from '../plan/host-facts.js';
import { buildInitPlan, initNeedsLsm } from '../plan/init.js';
import { prepareBindTrees } from './bind-trees.js';
import { hostRootfsMountRecord, removeHostRootfsMount } from './host-rootfs.js';
import { explainDeath, StderrTap } from './init-death.js';
import { IdmapHolders } from './idmap-userns.js';
import { launchNsboot, type Spawned } from './launch.js';
import { writeMapsWithHelpers } from './rootless-maps.js';
import { rootlessCgroupManager, rootlessResources } from '../cgroups/rootless.js';
import { killAndWait } from './wait.js';

export interface CreateOptions {
  id: string;
  bundle: string;
  /** A connected console socket fd (the CLI connects --console-socket). */
  consoleFd?: number;
  pidFile?: string;
  noPivot?: boolean;
  /** Do not give the container a session keyring of its own. */
  noNewKeyring?: boolean;
  /** Extra fds passed at 3, 4, …: LISTEN_FDS + --preserve-fds. */
  preserveFds?: number;
  /** Of the preserved fds, how many came from LISTEN_FDS (socket activation). */
  listenFds?: number;
  /** `run` without --console-socket: use consoleFd only if process.terminal. */
  consoleOnlyIfTerminal?: boolean;
  /** --rootless (src/container/rootless.ts): cgroups only where the user may write them. */
  rootless?: boolean;
}

export interface Created {
  rec: ContainerRecord;
  spec: Spec;
  lock: Lock;
}


/**
 * linux.resources with the device rules runc always adds (the default
 * allow-list after the config's own rules, which start from deny-all).
 * linux.devices entries are created, not allowed: the rules decide.
 */
export function cgroupResources(spec: Spec): Resources {
  const r = spec.linux?.resources ?? {};
  return { ...r, devices: containerDeviceRules(r.devices, (spec.linux?.devices ?? []).map((d) => d.path)) };
}

function writeIdMaps(pid: number, spec: Spec): void {
  fs.writeFileSync(`/proc/${pid}/uid_map`, idMapText(spec.linux?.uidMappings));
  fs.writeFileSync(`/proc/${pid}/gid_map`, idMapText(spec.linux?.gidMappings));
}

/** Bind and listen on <dir>/init.sock in the host; the init gets the fd. */
function startListener(dir: string): number {
  const fd = libc.socket(SOCK.STREAM);
  const dirfd = libc.open(dir, O.PATH | O.DIRECTORY);
  try {
    libc.bindUnix(fd, `/proc/self/fd/${dirfd}/init.sock`);
  } finally {
    libc.close(dirfd);
  }
  libc.listen(fd, 1);
  return fd;
}

function hostState(rec: ContainerRecord, status: State['status']): State {
  return { ociVersion: rec.ociVersion, id: rec.id, status, pid: rec.init?.pid, bundle: rec.bundle, annotations: rec.annotations };
}

export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  writeAtomic(abs, String(pid), 0o644);
}

/** Undo a failed or abandoned create. */
function undo(store: Store, rec: ContainerRecord, cg: CgroupManager | undefined, child: Spawned | undefined): void {
  if (child?.running) child.kill();
  if (rec.init) killAndWait(rec.init.pid, rec.init.startTime);
  if (rec.hostRootfsMount) { try { removeHostRootfsMount(rec.rootfs, rec.hostRootfsMount); } catch (e) { logWarning(describeError(e)); } }
  if (cg) { try { cg.destroy(); } catch { /* best effort: delete --force retries */ } }
  store.remove(rec.id);
}

export async function createContainer(store: Store, opts: CreateOptions): Promise<Created> {
  validateContainerId(opts.id);
  const bundle = path.resolve(opts.bundle);
  // process is REQUIRED only when start is called (config.md): create works without it, start refuses
  const loaded = loadConfig(bundle, { requireProcess: false, onWarning: (w) => logWarning(w.message) });
  logDebugAt('create: config validated');
  const spec = withListenFds(loaded, opts.listenFds);
  // every decision that needs no effect first: refusals, console, nsboot's arguments (src/plan/)
  const facts = gatherHostFacts({ lsm: initNeedsLsm(spec), cgroups: true });
  const cp = planCreate(spec, { bundle, console: opts.consoleFd !== undefined, consoleOnlyIfTerminal: opts.consoleOnlyIfTerminal, preserveFds: opts.preserveFds, listenFds: opts.listenFds, noPivot: opts.noPivot }, facts.rootless);
  const consoleFd = cp.console ? opts.consoleFd : undefined;
  const ns = cp.namespaces;
  const preserved = cp.preservedFds;
  const me = procStat(process.pid)!;
  const rootfs = cp.rootfs;
  const mountns = ns.mountns;
  // nsboot starts in the rootfs (the init opens it as its cwd), except when the rootfs is in a joined mount namespace
  if (mountns !== 'join') checkRootfsOnHost(rootfs);
  const idMaps = cp.idMaps;
  const rec: ContainerRecord = {
    id: opts.id,
    ociVersion: spec.ociVersion,
    bundle,
    rootfs,
    created: new Date().toISOString(),
    owner: os.userInfo().username,
    annotations: spec.annotations ?? {},
    phase: 'creating',
    creator: { pid: process.pid, startTime: me.startTime },
    pidns: ns.pidns,
    // no mount namespace: the record names the rootfs self-bind before the init makes it
    ...(mountns === 'host' ? { hostRootfsMount: hostRootfsMountRecord(rootfs) } : {}),
  };
  const lock = store.createExclusive(rec, spec);
  const dir = store.dir(opts.id);
  let cg: CgroupManager | undefined;
  let child: Spawned | undefined;
  let idmap: IdmapHolders | undefined;
  let chan: Channel | undefined;
  let tap: StderrTap | undefined;
  const fds: number[] = [];
  try {
    cg = opts.rootless ? rootlessCgroupManager(opts.id, spec, logWarning) : cgroupManager(opts.id, spec.linux?.cgroupsPath);
    if (cg) {
      // The record names every cgroup dir before it is made (crash safety).
      cg.create((cgrec) => { rec.cgroup = cgrec; store.write(rec); });
      checkPreexistingCgroup(cg, logWarning);
      // device rules need privilege in the initial user namespace: only real root applies them
      cg.set(opts.rootless && !(facts.rootless.euid === 0 && facts.rootless.initialUserns) ? rootlessResources(spec) : cgroupResources(spec));
    }
    logDebugAt('create: cgroups ready');

    const [mine, theirs] = libc.socketpair(SOCK.STREAM);
    fds.push(mine, theirs);
    const listenFd = startListener(dir);
    fds.push(listenFd);
    // until ready the child's stderr is a pipe we pass on and keep the tail of (init-death.ts)
    tap = StderrTap.open();
    if (tap) fds.push(tap.writeFd);
    // user namespaces for idmapped mounts, made before the init exists: it inherits their fds
    if (cp.idmaps.length > 0) {
      idmap = new IdmapHolders();
      await idmap.start(cp.idmaps);
    }
    // the init, as the mapped root, may not reach every source nor idmap a host filesystem: make the bind mounts here
    // (not rootless: an ordinary user may not clone mounts of the host's mount namespace; the init binds with the same rights)
    const cliBinds = ns.userns && facts.rootless.euid === 0;
    const trees = cliBinds ? prepareBindTrees(cp.bindTrees, idmap?.userns ?? []) : [];
    for (const t of trees) fds.push(t.fd);
    const holders = cliBinds ? [] : idmap?.userns ?? [];
    let mountnsHostFd: number | undefined;
    if (ns.mountnsPath) {
      mountnsHostFd = libc.open(ns.mountnsPath, O.RDONLY);
      fds.push(mountnsHostFd);
    }
    // where each fd goes in the child (src/plan/fds.ts)
    const layout = createFdLayout({ preserved, console: consoleFd !== undefined, bindTrees: trees.length, idmapUserns: holders.length, mountns: mountnsHostFd !== undefined, stderr: tap !== undefined });
    const stdio = placeFds(layout, tap?.writeFd, [
      [layout.sync, theirs], [layout.start, listenFd], [layout.console, consoleFd], [layout.mountns, mountnsHostFd], [layout.stderr, tap ? 2 : undefined],
      ...trees.map((t, i) => [layout.bindTrees[i], t.fd] as [number, number]),
      ...holders.map((u, i) => [layout.idmapUserns[i], u.fd] as [number, number]),
    ]);
    // the init, orphaned when nsboot exits, becomes our child: its exit status says why it died
    libc.prctl(PR.SET_CHILD_SUBREAPER, 1, 0, 0, 0, 'prctl(PR_SET_CHILD_SUBREAPER)');
    const launched = launchNsboot(nsbootPath(), {
      nsbootArgs: ns.nsbootArgs,
      env: layout.env,
      node: [...initNodeFlags(), initPath()],
      stdio,
      preservedFds: preserved,
      cwd: mountns === 'join' ? undefined : rootfs,
    });
    child = launched.child;
    const nsbootGone = launched.gone;
    // the child has its copies: theirs, the listener, the bind mount trees
    for (const fd of fds) if (fd !== mine) libc.close(fd);
    fds.length = 0;
    fds.push(mine);
    chan = new Channel(mine, 'the container init');
    if (tap) chan.watch(tap.readFd, tap.onData);

    if (ns.userns && idMaps.kind !== 'self') {
      chan.expect('userns', STEP_TIMEOUT_MS);
      if (idMaps.kind === 'helpers') writeMapsWithHelpers(child.pid!, idMaps);
      else writeIdMaps(child.pid!, spec);
      chan.send({ type: 'ok' });
    }
    const pid = chan.expect('pid', STEP_TIMEOUT_MS).pid;
    logDebugAt(`create: init pid ${pid}`);
    const st = procStat(pid);
    rec.init = { pid, startTime: st?.startTime ?? '' };
    store.write(rec);
    const oom = spec.process?.oomScoreAdj;
    if (oom !== undefined) {
      try {
        fs.writeFileSync(`/proc/${pid}/oom_score_adj`, String(oom));
      } catch (e) {
        const rootless = facts.rootless.euid !== 0 ? '; rootless: lowering it below the caller\'s own needs CAP_SYS_RESOURCE in the initial user namespace' : '';
        throw new RuntsError(`write /proc/${pid}/oom_score_adj: ${(e as NodeJS.ErrnoException).code} (process.oomScoreAdj ${oom}${rootless})`, { op: 'write', path: `/proc/${pid}/oom_score_adj`, errno: (e as NodeJS.ErrnoException).code });
      }
    }

    // The plan is made while the init's node boots.
    const plan = buildInitPlan(spec, {
      id: opts.id,
      bundle,
      stateDir: dir,
      noPivot: opts.noPivot === true,
      noNewKeyring: opts.noNewKeyring === true,
      preservedFds: preserved,
      initPid: pid,
      cgroup: cg?.record,
      fds: {
        console: layout.console,
        stderr: layout.stderr,
        mountns: layout.mountns,
        bindTrees: trees.map((t, i) => ({ index: t.index, fd: layout.bindTrees[i]! })),
        ...(idmap ? { idmapUserns: holders.map((u, i) => ({ fd: layout.idmapUserns[i]!, uidMappings: u.uidMappings, gidMappings: u.gidMappings })) } : {}),
      },
      warn: logWarning,
    }, facts);
    logDebugAt('create: plan ready');
    // The init joins its cgroups once node has booted, not from birth: the
    // container's limits (pids.max, memory) must not count the runtime's own
    // node threads and start-up heap (migration moves neither).
    chan.expect('booted', STEP_TIMEOUT_MS);
    logDebugAt('create: init booted');
    cg?.apply(pid);
    chan.send({ type: 'plan', plan });
    chan.expect('hooks', STEP_TIMEOUT_MS);
    await idmap?.stop(); // the mounts are done
    logDebugAt('create: rootfs ready');
    // "created": the runtime environment exists (after lifecycle step 2, runtime.md; crun and the runtime-tools suite agree; runc says "creating")
    const state = hostState(rec, 'created');
    await runHooks('prestart', spec.hooks?.prestart, state, { cwd: rec.bundle });
    await runHooks('createRuntime', spec.hooks?.createRuntime, state, { cwd: rec.bundle });
    chan.send({ type: 'ok' });
    chan.expect('ready', stepTimeoutMs(STEP_TIMEOUT_MS, spec.hooks?.createContainer));
    logDebugAt('create: init ready');
    chan.drainSide();
    chan.close();
    fds.length = 0;
    if (tap) libc.close(tap.readFd);
    rec.phase = 'created';
    store.write(rec);
    if (opts.pidFile) writePidFile(opts.pidFile, pid);
    await nsbootGone; // long exited: reaped here, off the critical path
    return { rec, spec, lock };
  } catch (err) {
    const e = explainDeath(err, { nsboot: child?.pid, init: rec.init?.pid }, tap, () => chan?.drainSide());
    for (const fd of fds) libc.close(fd);
    if (tap) libc.close(tap.readFd);
    await idmap?.stop();
    undo(store, rec, cg, child);
    lock.release();
    // runtime.md lifecycle: a failing prestart/createRuntime/createContainer
    // hook stops the container and the lifecycle continues at delete (done
    // above) and the poststop hooks, whose failures are only warnings.
    if (e instanceof RuntsError && CREATE_HOOKS.has(e.op ?? '')) {
      const errs = await runHooksCollectingErrors('poststop', spec.hooks?.poststop, { ...hostState(rec, 'stopped'), pid: undefined }, { cwd: rec.bundle });
      for (const err of errs) logWarning(describeError(err));
    }
    throw e;
  }
}

const CREATE_HOOKS = new Set(['prestart', 'createRuntime', 'createContainer']);
