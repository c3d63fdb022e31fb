/**
 * SCMP_ACT_NOTIFY: handing the seccomp listener fd to the agent at
 * linux.seccomp.listenerPath from the init stage.
 *
 * runc's init sends the fd to runc on its sync pipe and runc (host side, not
 * under the filter) connects to the agent. In runts the filter is loaded
 * after `runts start` reached the init, when no host-side runts process is
 * waiting for it any more, so the init sends the fd itself:
 *
 *   1. before pivot_root (listenerPath is a host path), the init connects an
 *      AF_UNIX SOCK_STREAM socket (close-on-exec) to listenerPath and keeps
 *      it; the agent sees a connection that stays silent until step 3;
 *   2. the filter is loaded (seccomp(2) returns the listener fd, O_CLOEXEC);
 *   3. at once one sendmsg(2) carries the container process state JSON
 *      (config-linux.md) with the listener fd as SCM_RIGHTS
 *      (fds: ["seccompFd"]); then the connection and the init's copy of the
 *      listener fd are closed ("exactly one state per connection").
 *
 * Constraint: between 2 and 3 the init is under the filter and the agent has
 * no fd yet, so a notified syscall there would wait forever. Step 3 is one
 * sendmsg(2) (plus close(2), which the agent can already answer), so
 * SCMP_ACT_NOTIFY on `sendmsg` is refused, and on `write` too (runc and youki
 * refuse that one: their init writes to its sync pipe at that point).
 * Syscalls node's own runtime may make at any moment (futex, mmap, munmap,
 * madvise, mprotect) should not be notified either: the filter only covers
 * the main thread (unless SECCOMP_FILTER_FLAG_TSYNC) but a garbage
 * collection step between 2 and 3 could still hang.
 */
import { ConfigError, RuntsError } from '../common/errors.js';
import type { Seccomp, State } from '../spec/types.js';
import { close, connectUnix, sendFd, socket } from './libc.js';
import { SOCK } from './abi.js';
import type { ContainerProcessState } from './seccomp/load.js';

/** Syscalls that must not be SCMP_ACT_NOTIFY (see above). */
export const NOTIFY_FORBIDDEN: readonly string[] = ['write', 'sendmsg'];

/** Refuse profiles that would deadlock the hand-over of the listener fd. */
export function checkNotifyRules(s: Seccomp): void {
  (s.syscalls ?? []).forEach((sc, i) => {
    if (sc?.action !== 'SCMP_ACT_NOTIFY') return;
    (sc.names ?? []).forEach((n, j) => {
      if (NOTIFY_FORBIDDEN.includes(n)) {
        throw new ConfigError(`/linux/seccomp/syscalls/${i}/names/${j}`,
          `SCMP_ACT_NOTIFY cannot be used for the ${n} syscall: the runtime needs it to hand the listener fd to the seccomp agent`);
      }
    });
  });
}

/**
 * The message for the agent (pure): pid is the filtered process's pid as the
 * runtime sees it; the state's pid is the container's (the init's): the same
 * process for the init, the init's host pid (`state.pid` as given) for an
 * exec'd process, as runc sends them.
 */
export function containerProcessState(state: State, hostPid: number, metadata?: string, exec = false): ContainerProcessState {
  return {
    ociVersion: state.ociVersion,
    fds: ['seccompFd'],
    pid: hostPid,
    ...(metadata ? { metadata } : {}),
    state: { ...state, pid: exec ? state.pid : hostPid },
  };
}

/** Connect to the agent (step 1). The socket is close-on-exec. */
export function connectSeccompAgent(listenerPath: string): number {
  const sock = socket(SOCK.STREAM);
  try {
    connectUnix(sock, listenerPath);
  } catch (e) {
    close(sock);
    throw new RuntsError(`seccomp: connecting to the seccomp agent at ${listenerPath} (linux.seccomp.listenerPath): ${(e as Error).message}`, {
      op: 'connect', path: listenerPath, pointer: '/linux/seccomp/listenerPath', errno: (e as { errno?: string }).errno, cause: e,
    });
  }
  return sock;
}

/** Step 3: send state + fd in one sendmsg, then close both fds (also on failure). */
export function handOverListener(sock: number, listenerFd: number, msg: ContainerProcessState, listenerPath: string): void {
  try {
    sendFd(sock, Buffer.from(JSON.stringify(msg)), listenerFd);
  } catch (e) {
    throw new RuntsError(`seccomp: sending the listener fd to the seccomp agent at ${listenerPath}: ${(e as Error).message}`, {
      op: 'sendmsg', path: listenerPath, pointer: '/linux/seccomp/listenerPath', errno: (e as { errno?: string }).errno, cause: e,
    });
  } finally {
    close(sock);
    close(listenerFd);
  }
}
