/**
 * The exec stage: node exec'd by csrc/nsboot.c after it joined every
 * namespace of a running container except the mount namespace. node itself
 * cannot start inside the container's mount namespace: the kernel looks for
 * its ELF interpreter (ld-linux) and node for its libraries in the
 * container's filesystem. So node starts in the host's, loads everything,
 * and then its main thread leaves the fs_struct it shares with node's other
 * threads (unshare(CLONE_FS)), joins the container's mount namespace and
 * chroots to the init's root; execve later takes only this thread along.
 * Then it does what the container init does last: console, rlimits,
 * credentials, capabilities, cwd, no_new_privs, seccomp, execve. With
 * SCMP_ACT_NOTIFY it connects to the seccomp agent first, while still in the
 * host's mount namespace, and hands it the listener fd as the init does.
 */
// first: announces 'booted' before the rest of the bundle loads
import './announce-boot.js';
import { describeError, RuntsError } from '../common/errors.js';
import * as libc from '../linux/libc.js';
import { CLONE_FS, CLONE_NEWNS, PR } from '../linux/abi.js';
import { BOOT_ENV, STEP_TIMEOUT_MS, takeBootFd } from '../protocol/boot-env.js';
import { Channel } from '../protocol/channel.js';
import { deepFreeze } from '../plan/freeze.js';
import { setupConsole } from './console.js';
import { finalizeAndExec } from './finalize.js';
import { applyExecAttrs, prepareExecSeccompAgent } from './security.js';
import { lookPath, setRlimits, withHome } from './process.js';

/** Join the container's mount namespace and root, on this thread only. */
function enterContainerFs(mntnsFd: number, rootFd: number): void {
  libc.unshare(CLONE_FS, 'unshare(CLONE_FS)');
  libc.setns(mntnsFd, CLONE_NEWNS, 'setns(mount namespace)');
  libc.fchdir(rootFd, 'container root');
  libc.chroot('.');
  libc.chdir('/');
  libc.close(mntnsFd);
  libc.close(rootFd);
}

async function main(): Promise<void> {
  libc.prctl(PR.SET_DUMPABLE, 0, 0, 0, 0, 'prctl(PR_SET_DUMPABLE)');
  const sync = new Channel(takeBootFd(BOOT_ENV.SYNC_FD), 'runts exec');
  const mntnsFd = takeBootFd(BOOT_ENV.MNTNS_FD);
  const rootFd = takeBootFd(BOOT_ENV.ROOT_FD);
  try {
    // read-only here too: the stage applies its plan, it does not change it
    const plan = deepFreeze(sync.expect('exec-plan', STEP_TIMEOUT_MS).plan);
    // SCMP_ACT_NOTIFY: listenerPath is a host path, reached before entering the container
    prepareExecSeccompAgent(plan.seccomp);
    enterContainerFs(mntnsFd, rootFd);
    const p = plan.process;
    if (p.terminal) {
      if (plan.consoleFd === undefined) throw new RuntsError('exec --tty needs a console socket');
      setupConsole(plan.consoleFd, { size: p.consoleSize, uid: p.uid, clearOnlcr: plan.consoleRelayed });
    }
    setRlimits(p);
    const env = withHome(p.env, p.uid);
    const file = lookPath(p.args[0] ?? '', env);
    applyExecAttrs(p);
    await finalizeAndExec({
      process: p,
      seccomp: plan.seccomp,
      userns: plan.userns,
      preservedFds: plan.preservedFds,
      state: plan.state,
      file,
      env,
      beforeExec: () => sync.send({ type: 'exec' }),
    });
  } catch (e) {
    const rec = e instanceof RuntsError ? e.toJSON() : { message: describeError(e) };
    try { sync.send({ type: 'error', error: rec }); } catch { process.stderr.write(`runts exec: ${rec.message}\n`); }
    process.exit(1);
  }
}

void main();
