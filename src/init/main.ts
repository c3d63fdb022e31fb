/**
 * The init stage: runs inside the container's namespaces (node exec'd by
 * csrc/nsboot.c), receives a resolved plan on the sync socket and turns it
 * into a container. Order of steps (docs/protocol.md):
 *
 *   plan → trusted procfs + seccomp agent connection (security.ts) →
 *   [join a mount namespace given by path] → rootfs mounts → [createRuntime hooks, host side] →
 *   createContainer hooks → pivot_root → masked/readonly paths, ro root →
 *   hostname → sysctl → console → rlimits → mempolicy, scheduler, ioprio →
 *   executable lookup → ready → wait for start → personality, LSM exec
 *   labels → credentials, cwd, capabilities, seccomp, startContainer hooks,
 *   execve (finalize.ts has that order and why)
 *
 * The process is non-dumpable throughout, so no container process can ptrace
 * it or open its /proc files; execve of the user program resets that.
 */
// first: announces 'booted' before the rest of the bundle loads
import './announce-boot.js';
import { describeError, RuntsError } from '../common/errors.js';
import { runHooks } from '../hooks/run.js';
import * as libc from '../linux/libc.js';
import { CLONE_NEWCGROUP, O, POLL, PR } from '../linux/abi.js';
import { setLinkUp } from '../linux/netlink.js';
import { signalNumber } from '../linux/signals.js';
import { idmappingKey } from '../linux/rootfs/plan-types.js';
import { joinMountNamespace } from '../linux/rootfs/mountns.js';
import { enterRootfs, finishRootfs, mountConsole, prepareRootfs } from '../linux/rootfs/setup.js';
import { BOOT_ENV, STEP_TIMEOUT_MS, takeBootFd } from '../protocol/boot-env.js';
import { Channel } from '../protocol/channel.js';
import { setupConsole } from './console.js';
import { joinSessionKeyring } from '../linux/keyring.js';
import { finalizeAndExec } from './finalize.js';
import type { IDMapping } from '../spec/types.js';
import { deepFreeze } from '../plan/freeze.js';
import type { InitPlan } from '../plan/init.js';
import { lookPath, makeCwd, setHostnames, setRlimits, withHome } from './process.js';
import { applyCreateAttrs, applyStartAttrs, applySysctl, prepareSecurity } from './security.js';


function report(chan: Channel | undefined, e: unknown): void {
  const rec = e instanceof RuntsError ? e.toJSON() : { message: describeError(e) };
  try {
    chan?.send({ type: 'error', error: rec });
  } catch {
    process.stderr.write(`runts init: ${rec.message}\n`);
  }
}

/**
 * An fd of the user namespace the CLI made for an idmapped mount with these
 * mappings (plan.idmapUserns; a dup: prepareRootfs closes what it gets).
 */
function idmapUsernsFd(plan: InitPlan, uid: IDMapping[], gid: IDMapping[]): number {
  const key = idmappingKey(uid, gid);
  const h = plan.idmapUserns?.find((u) => idmappingKey(u.uidMappings, u.gidMappings) === key);
  if (!h) throw new RuntsError(`idmapped mount: no user namespace was prepared for the mappings ${key} (uid/gid)`, { op: 'mount_setattr(MOUNT_ATTR_IDMAP)' });
  return libc.open(`/proc/self/fd/${h.fd}`, O.RDONLY | O.CLOEXEC);
}

/** Everything up to "ready": the container exists, the user program does not run yet. Returns the program and its environment. */
async function create(plan: InitPlan, chan: Channel): Promise<{ file: string; env: string[] }> {
  if (plan.unshareCgroupns) libc.unshare(CLONE_NEWCGROUP, 'unshare(CLONE_NEWCGROUP)');
  if (plan.loopbackUp) setLinkUp('lo');
  prepareSecurity(plan);
  if (plan.mountnsFd !== undefined) joinMountNamespace(plan.mountnsFd);
  prepareRootfs(plan.rootfs, {
    idmapUserns: (uid, gid) => idmapUsernsFd(plan, uid, gid),
    bindTree: (index) => plan.bindTrees?.find((t) => t.index === index)?.fd,
  });
  chan.send({ type: 'hooks', phase: 'createRuntime' });
  chan.expect('ok');
  // cwd: the rootfs, as runc (hooks bind files into the image by relative paths)
  await runHooks('createContainer', plan.hooks.createContainer, plan.state, { cwd: plan.rootfs.rootfs });
  enterRootfs(plan.rootfs);
  // a missing process.cwd is made in the container (0755, as runc), before the root may go read-only
  if (!plan.noProcess) makeCwd(plan.process.cwd);
  finishRootfs(plan.rootfs);
  setHostnames(plan);
  if (plan.newKeyring) joinSessionKeyring(plan.id);
  applySysctl(plan);
  if (plan.stderrFd !== undefined) { libc.dup3(plan.stderrFd, 2, 0); libc.close(plan.stderrFd); }
  if (plan.process.terminal) {
    if (plan.consoleFd === undefined) throw new RuntsError('process.terminal is true but no console socket was given');
    setupConsole(plan.consoleFd, { size: plan.process.consoleSize, uid: plan.process.uid, withSlave: plan.rootfs.console ? mountConsole : undefined });
  }
  setRlimits(plan.process);
  applyCreateAttrs(plan);
  if (plan.noProcess) return { file: '', env: [] };
  const env = withHome(plan.process.env, plan.process.uid);
  return { file: lookPath(plan.process.args[0] ?? '', env), env };
}

/** Wait for `runts start` on the listening socket; signals still work meanwhile. */
async function waitForStart(listenFd: number): Promise<Channel> {
  for (;;) {
    const [rev] = libc.poll([{ fd: listenFd, events: POLL.IN }], 200);
    if (rev) break;
    // Let node run signal handlers (runts kill of a created container).
    await new Promise((r) => setImmediate(r));
  }
  const conn = libc.accept(listenFd);
  libc.close(listenFd);
  const chan = new Channel(conn, 'runts start');
  chan.expect('start', 10_000);
  return chan;
}

async function main(): Promise<void> {
  libc.prctl(PR.SET_DUMPABLE, 0, 0, 0, 0, 'prctl(PR_SET_DUMPABLE)');
  const syncFd = takeBootFd(BOOT_ENV.SYNC_FD);
  const listenFd = takeBootFd(BOOT_ENV.START_FD);
  const sync = new Channel(syncFd, 'runts');

  // A created container that gets a catchable signal just ends, as with runc.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) {
    process.on(sig, () => process.exit(128 + (signalNumber(sig) ?? 15)));
  }

  let plan: InitPlan;
  let program: { file: string; env: string[] };
  try {
    // read-only here too: the init applies its plan, it does not change it
    plan = deepFreeze(sync.expect('plan', STEP_TIMEOUT_MS).plan);
    program = await create(plan, sync);
    sync.send({ type: 'ready' });
    sync.close();
  } catch (e) {
    report(sync, e);
    process.exit(1);
  }

  const start = await waitForStart(listenFd);
  try {
    if (plan.noProcess) throw new RuntsError('cannot start the container: config.json has no process to run (config.md: process is required when start is called)', { op: 'start', pointer: '/process' });
    applyStartAttrs(plan);
    const hooks = plan.hooks.startContainer;
    await finalizeAndExec({
      process: plan.process,
      seccomp: plan.seccomp,
      userns: plan.userns,
      preservedFds: plan.preservedFds,
      state: plan.state,
      ...program,
      beforeExec: () => start.send({ type: 'exec' }),
      hooks: hooks.length > 0 ? () => runHooks('startContainer', hooks, plan.state) : undefined,
    });
  } catch (e) {
    report(start, e);
    process.exit(1);
  }
}

main().catch((e) => {
  process.stderr.write(`runts init: ${describeError(e)}\n`);
  process.exit(1);
});
