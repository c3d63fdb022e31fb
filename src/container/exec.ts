/**
 * `exec`: run a new process inside a running container. nsboot joins every
 * namespace of the container's init except the mount namespace (user
 * first), forks into its pid namespace and execs the exec stage
 * (dist/exec-init.cjs) from a read-only view of node, which then joins the
 * mount namespace and the init's root itself; the CLI puts the new pid in the container's cgroup before it
 * sends the plan. Without --detach, runts waits and returns the process's
 * exit status (128+signal when killed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cgroupManagerFromRecord } from '../cgroups/manager.js';
import { ConfigError, RuntsError } from '../common/errors.js';
import { logDebugAt, logWarning } from '../common/log.js';
import { execInitPath, nsbootPath } from '../common/paths.js';
import { buildExecPlan, execNeedsLsm, execProcessFromFlags, planExecLaunch, type ExecFlags } from '../plan/exec.js';
import { placeFds } from '../plan/fds.js';
import { gatherHostFacts } from '../plan/host-facts.js';
import * as libc from '../linux/libc.js';
import { O, PR, SOCK } from '../linux/abi.js';
import { isAlive } from '../linux/proctree.js';
import { STEP_TIMEOUT_MS } from '../protocol/boot-env.js';
import { Channel } from '../protocol/channel.js';
import { launchNsboot, type Spawned } from './launch.js';
import type { Process, Spec } from '../spec/types.js';
import { scanBounds } from '../spec/bounds.js';
import { userIdProblems } from '../spec/ids.js';
import { readDocumentText } from '../spec/raw-text.js';
import { detailOf, parseJsonText, schemaErrors } from '../spec/validate.js';
import { deriveStatus } from '../state/status.js';
import type { Store } from '../state/store.js';
import { writePidFile } from './create.js';
import { forwardTerminal, receiveMaster } from './terminal.js';
import { waitExit } from './wait.js';

export interface ExecOptions {
  id: string;
  flags: ExecFlags;
  processFile?: string;
  consoleFd?: number;
  pidFile?: string;
  detach: boolean;
  preserveFds: number;
  ignorePaused: boolean;
  /** Sub-cgroup to run in, relative to the container's cgroup. */
  cgroup?: string;
}

/**
 * A --process file: one `process` object of config.md, read and checked as
 * config.json is (size, UTF-8, bounds and C types, schema), and its ids
 * against the container's user namespace. Pointers are relative to the file.
 */
export function readProcessFile(file: string, spec: Pick<Spec, 'ociVersion' | 'linux'>): Process {
  const label = `--process ${file}`;
  const text = readDocumentText(file, label);
  const obj = parseJsonText(text, file, label);
  const rel = (e: ConfigError) => ({ pointer: (e.pointer ?? '/').replace(/^\/process(?=\/|$)/, '') || '/', detail: detailOf(e) });
  const fail = (e: ConfigError): never => {
    const { pointer, detail } = rel(e);
    throw new RuntsError(`${label}: ${pointer}: ${detail}`, { path: file, pointer });
  };
  const scan = scanBounds(text, ['process']);
  if (scan.errors.length) fail(scan.errors[0]!);
  const errs = schemaErrors({ ociVersion: spec.ociVersion, process: obj });
  if (errs.length || scan.typeErrors.length) fail(errs[0] ?? scan.typeErrors[0]!);
  const p = obj as Process;
  // runc: a process without a user runs as 0:0 (Go's zero value)
  p.user ??= { uid: 0, gid: 0 };
  if (!p.args?.length) throw new RuntsError(`${label}: args must not be empty`, { path: file, pointer: '/args' });
  const ids = userIdProblems(p.user, spec.linux);
  if (ids.length) fail(ids[0]!);
  return p;
}

/** The ids that `exec --user` / `--additional-gids` gave must be ones the process can get. */
function checkFlagIds(proc: Process, spec: Spec, flags: ExecFlags): void {
  const [e] = userIdProblems(proc.user, spec.linux);
  if (!e) return;
  const flag = /additionalGids/.test(e.pointer ?? '') ? `--additional-gids ${(flags.additionalGids ?? []).join(',')}` : `--user ${flags.user ?? ''}`;
  throw new RuntsError(`exec ${flag}: ${detailOf(e)}`, { op: 'exec' });
}

export async function execInContainer(store: Store, o: ExecOptions): Promise<number> {
  logDebugAt('exec: start');
  const rec = store.mustRead(o.id);
  const status = deriveStatus(store, rec);
  if (status === 'stopped') throw new RuntsError(`cannot exec in a stopped container "${o.id}"`, { op: 'exec' });
  if (status === 'creating') throw new RuntsError(`cannot exec in container "${o.id}": it is still being created`, { op: 'exec' });
  if (status === 'paused' && !o.ignorePaused) throw new RuntsError(`cannot exec in a paused container "${o.id}" (use --ignore-paused to override)`, { op: 'exec' });
  // a bad --cgroup is refused before anything starts
  const subCgroup = o.cgroup && rec.cgroup ? subCgroupDirs(rec.cgroup.paths, o.cgroup) : undefined;
  const spec = store.config(o.id) as Spec;
  const proc = o.processFile ? readProcessFile(o.processFile, spec) : execProcessFromFlags(spec.process, o.flags);
  if (!o.processFile) checkFlagIds(proc, spec, o.flags);
  if (proc.terminal && o.consoleFd === undefined && o.detach) {
    throw new RuntsError('cannot allocate a pseudo-TTY for a detached exec without --console-socket', { op: 'exec' });
  }
  if (!proc.terminal && o.consoleFd !== undefined) throw new RuntsError('--console-socket was given but the process has no terminal (use --tty)');
  if (!o.detach) libc.prctl(PR.SET_CHILD_SUBREAPER, 1, 0, 0, 0, 'prctl(PR_SET_CHILD_SUBREAPER)');

  const init = rec.init!;

  let localConsole: number | undefined;
  let consoleFd = o.consoleFd;
  if (proc.terminal && consoleFd === undefined) {
    const [mine, theirs] = libc.socketpair(SOCK.STREAM);
    localConsole = mine;
    consoleFd = theirs;
  }
  const fds: number[] = [];
  let child: Spawned | undefined;
  try {
    const [mine, theirs] = libc.socketpair(SOCK.STREAM);
    fds.push(mine, theirs);
    const mntns = libc.open(`/proc/${init.pid}/ns/mnt`, O.RDONLY);
    fds.push(mntns);
    const root = libc.open(`/proc/${init.pid}/root`, O.PATH | O.DIRECTORY);
    fds.push(root);
    if (!isAlive(init.pid, init.startTime)) throw new RuntsError(`cannot exec in container "${o.id}": its init exited`, { op: 'exec' });
    // nsboot's arguments (every namespace but the mount namespace is joined by nsboot; the exec
    // stage joins that one itself: docs/protocol.md, "exec"), the fd layout, execCPUAffinity
    const launch = planExecLaunch(spec, proc, { initPid: init.pid, preservedFds: o.preserveFds, console: consoleFd !== undefined });
    const l = launch.fds;
    const stdio = placeFds(l, undefined, [[l.sync, theirs], [l.mntns, mntns], [l.root, root], [l.console, consoleFd]]);
    const launched = launchNsboot(nsbootPath(), {
      nsbootArgs: launch.nsbootArgs,
      env: l.env,
      node: [execInitPath()],
      stdio,
      preservedFds: o.preserveFds,
    });
    child = launched.child;
    const nsbootGone = launched.gone;
    logDebugAt('exec: nsboot spawned');
    libc.close(theirs);
    libc.close(mntns);
    libc.close(root);
    if (consoleFd !== undefined && localConsole !== undefined) libc.close(consoleFd);
    fds.length = 0;
    fds.push(mine);
    const chan = new Channel(mine, 'the exec process');
    const pid = chan.expect('pid', STEP_TIMEOUT_MS).pid;
    logDebugAt(`exec: pid ${pid}`);
    // made while the exec stage's node boots
    const plan = buildExecPlan(spec, proc, gatherHostFacts({ lsm: execNeedsLsm(proc) }), {
      launch,
      consoleRelayed: localConsole !== undefined,
      state: { ociVersion: rec.ociVersion, id: o.id, status: 'running', pid: init.pid, bundle: rec.bundle, annotations: rec.annotations },
      warn: logWarning,
    });
    // The exec stage joins the container's cgroups once node has booted —
    // except in a paused container (--ignore-paused): a process joining a
    // frozen cgroup stops at once, so it joins only once it has executed the
    // command, and stays frozen until `resume`.
    const joinCgroup = (target: number) => {
      if (!rec.cgroup) return;
      if (subCgroup) joinSubCgroup(subCgroup, o.cgroup!, target);
      else cgroupManagerFromRecord(rec.cgroup).apply(target);
    };
    const paused = status === 'paused';
    logDebugAt('exec: plan ready');
    chan.expect('booted', STEP_TIMEOUT_MS);
    logDebugAt('exec: stage booted');
    if (!paused) joinCgroup(pid);
    logDebugAt('exec: in the cgroup');
    chan.send({ type: 'exec-plan', plan });
    const execd = chan.awaitExec(STEP_TIMEOUT_MS);
    logDebugAt('exec: executed');
    chan.close();
    fds.length = 0;
    if (!execd) throw new RuntsError(`exec in container "${o.id}": the process exited before executing the command`, { op: 'exec' });
    if (paused) joinCgroup(pid);
    await nsbootGone; // long exited: reaped here, off the critical path
    if (o.pidFile) writePidFile(o.pidFile, pid);
    if (o.detach) return 0;
    let stop: (() => void) | undefined;
    if (localConsole !== undefined) {
      stop = forwardTerminal(receiveMaster(localConsole));
      libc.close(localConsole);
      localConsole = undefined;
    }
    const forward = (sig: NodeJS.Signals) => () => { try { process.kill(pid, sig); } catch { /* exited */ } };
    const sigs: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
    const handlers = sigs.map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    const code = await waitExit(pid);
    for (const [s, h] of handlers) process.off(s, h);
    stop?.();
    return code;
  } catch (e) {
    for (const fd of fds) libc.close(fd);
    if (localConsole !== undefined) libc.close(localConsole);
    if (child?.running) child.kill();
    throw e;
  }
}

/**
 * --cgroup [CONTROLLERS:]PATH: an existing sub-cgroup of the container's, in
 * every hierarchy. PATH is relative to the container's cgroup (a leading "/"
 * too, as runc joins it); one that leads out is refused with runc's phrase.
 */
export function subCgroupDirs(paths: Record<string, string>, sub: string): string[] {
  const given = sub.replace(/^[^:/]*:/, '');
  const rel = path.posix.normalize(`./${given}`).replace(/^\/+/, '');
  if (given === '' || rel === '..' || rel.startsWith('../') || rel.split('/').some((c) => c === '..')) {
    throw new RuntsError(`--cgroup ${sub}: ${given} is not a sub cgroup path (it must name a cgroup below the container's)`, { op: 'exec' });
  }
  const dirs = [...new Set(Object.values(paths))].map((d) => path.join(d, rel));
  for (const dir of dirs) {
    if (!fs.existsSync(path.join(dir, 'cgroup.procs'))) {
      throw new RuntsError(`--cgroup ${sub}: ${dir} does not exist (create the sub-cgroup first)`, { op: 'exec', path: dir, errno: 'ENOENT' });
    }
  }
  return dirs;
}

function joinSubCgroup(dirs: string[], sub: string, pid: number): void {
  for (const dir of dirs) {
    const file = path.join(dir, 'cgroup.procs');
    try {
      fs.writeFileSync(file, String(pid));
    } catch (e) {
      throw new RuntsError(`--cgroup ${sub}: write ${file}: ${(e as NodeJS.ErrnoException).code}`, { path: file, errno: (e as NodeJS.ErrnoException).code });
    }
  }
}
