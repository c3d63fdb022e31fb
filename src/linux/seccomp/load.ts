/**
 * Loading a compiled filter into the kernel, and handing a SCMP_ACT_NOTIFY
 * listener fd to the seccomp agent.
 *
 * Precondition for loadSeccomp(): the calling thread has no_new_privs set
 * (prctl(PR_SET_NO_NEW_PRIVS, 1)) or has CAP_SYS_ADMIN in its user namespace;
 * otherwise the kernel answers EACCES. The init stage decides the order (runc
 * sets no_new_privs first when process.noNewPrivileges is true, and otherwise
 * loads the filter while it still has CAP_SYS_ADMIN, before dropping
 * capabilities). Without SECCOMP_FILTER_FLAG_TSYNC only the calling thread is
 * filtered; node's other threads are not, which is fine when the next step is
 * execve() (it ends them), and is why seccomp must be loaded from the thread
 * that will execve (node's main thread).
 */

import { RuntsError } from '../../common/errors.js';
import { address, close, connectUnix, sendFd, socket, syscall } from '../libc.js';
import { EFAULT, SOCK, SYS } from '../abi.js';
import type { State } from '../../spec/types.js';
import type { CompiledFilter } from './compile.js';
import { hostArch, SECCOMP_FILTER_FLAG, SECCOMP_SET_MODE_FILTER } from './tables.js';

function seccompNr(nativeArch: string): number {
  const host = hostArch();
  if (host !== 'SCMP_ARCH_X86_64') throw new RuntsError(`seccomp: loading filters is only implemented on x86_64, not ${process.arch}`);
  if (nativeArch !== host) throw new RuntsError(`seccomp: the filter was compiled for ${nativeArch}, but this is ${host}`);
  return SYS.seccomp;
}

/**
 * seccomp(SECCOMP_SET_MODE_FILTER, f.flags, &prog) on the calling thread.
 * Returns the listener fd when the filter uses SCMP_ACT_NOTIFY
 * (SECCOMP_FILTER_FLAG_NEW_LISTENER), otherwise undefined. The fd is
 * close-on-exec (the kernel creates it O_CLOEXEC).
 */
export function loadSeccomp(f: CompiledFilter): number | undefined {
  const nr = seccompNr(f.nativeArch);
  if (f.program.length !== f.instructions * 8 || f.instructions === 0 || f.instructions > 0xffff) {
    throw new RuntsError('seccomp: malformed compiled filter');
  }
  // struct sock_fprog { unsigned short len; /* 6 bytes padding */ struct sock_filter *filter; }
  const fprog = Buffer.alloc(16);
  fprog.writeUInt16LE(f.instructions, 0);
  fprog.writeBigUInt64LE(address(f.program), 8);
  const rc = syscall(nr, 'seccomp', 'unsigned int', SECCOMP_SET_MODE_FILTER, 'unsigned int', f.flags, 'void *', fprog);
  return f.flags & SECCOMP_FILTER_FLAG.NEW_LISTENER ? rc : undefined;
}

/**
 * Which seccomp filter flags this kernel knows, probed the way libseccomp does:
 * seccomp(SECCOMP_SET_MODE_FILTER, flag, NULL) fails with EFAULT (bad pointer)
 * for a known flag and EINVAL for an unknown one. Nothing is loaded.
 * Returns spec names, for `runts features` "supportedFlags".
 */
export function probeSeccompFlags(): string[] {
  const nr = SYS.seccomp;
  if (hostArch() !== 'SCMP_ARCH_X86_64') return [];
  const probe: [string, number][] = [
    ['SECCOMP_FILTER_FLAG_TSYNC', SECCOMP_FILTER_FLAG.TSYNC],
    ['SECCOMP_FILTER_FLAG_LOG', SECCOMP_FILTER_FLAG.LOG],
    ['SECCOMP_FILTER_FLAG_SPEC_ALLOW', SECCOMP_FILTER_FLAG.SPEC_ALLOW],
    // Only valid together with NEW_LISTENER.
    ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV | SECCOMP_FILTER_FLAG.NEW_LISTENER],
  ];
  const out: string[] = [];
  for (const [name, flags] of probe) {
    try {
      syscall(nr, 'seccomp probe', 'unsigned int', SECCOMP_SET_MODE_FILTER, 'unsigned int', flags, 'void *', null);
    } catch (e) {
      if ((e as { code?: number }).code === EFAULT) out.push(name);
      continue;
    }
    // A NULL program cannot load; success would be a kernel surprise.
    throw new RuntsError('seccomp: probing flags unexpectedly loaded a filter');
  }
  return out;
}

/** The "container process state" of config-linux.md, sent to the seccomp agent. */
export interface ContainerProcessState {
  ociVersion: string;
  fds: string[];
  pid: number;
  metadata?: string;
  state: State;
}

/**
 * Send the listener fd to the seccomp agent listening on `listenerPath`, as
 * config-linux.md and runc do: connect an AF_UNIX SOCK_STREAM socket, send the
 * container process state JSON as the payload of one sendmsg() that carries
 * the fd as SCM_RIGHTS (fds: ["seccompFd"]), then close the connection. One
 * connection per state; any failure throws (the spec says the runtime MUST
 * generate an error).
 *
 * Call it from a process that is not under the new filter, or whose filter
 * does not notify socket/connect/sendmsg/close: a notified syscall would wait
 * for the very agent that has not received the fd yet.
 */
export function sendSeccompListener(listenerPath: string, fd: number, state: State, metadata?: string): void {
  if (state.pid === undefined) throw new RuntsError('seccomp: the container state has no pid to send to the seccomp agent');
  const msg: ContainerProcessState = {
    ociVersion: state.ociVersion,
    fds: ['seccompFd'],
    pid: state.pid,
    ...(metadata !== undefined && metadata !== '' ? { metadata } : {}),
    state,
  };
  const sock = socket(SOCK.STREAM);
  try {
    connectUnix(sock, listenerPath);
    sendFd(sock, Buffer.from(JSON.stringify(msg)), fd);
  } catch (e) {
    throw new RuntsError(`seccomp: sending the listener fd to ${listenerPath}: ${(e as Error).message}`, { path: listenerPath, cause: e });
  } finally {
    close(sock);
  }
}
