/**
 * A new session keyring for the container (runc does the same unless
 * --no-new-keyring): without it, every container shares the session keyring
 * of whoever started the runtime, and keys leak between them.
 */
import { SyscallError } from '../common/errors.js';
import { SYS } from './abi.js';
import { syscall } from './libc.js';

const KEYCTL_JOIN_SESSION_KEYRING = 1;
const KEYCTL_SETPERM = 5;
const KEYCTL_DESCRIBE = 6;
/** Possessor: all; user: view, read, search, link — what runc adds (0x080d0000 | existing). */
const EXTRA_PERM = 0x080d0000;

function call(what: string, ...args: unknown[]): number {
  return syscall(SYS.keyctl, what, ...args);
}

/** Join a new session keyring named `name`; ENOSYS (no keyring support) is not an error. */
export function joinSessionKeyring(name: string): number | undefined {
  let id: number;
  try {
    id = call('keyctl(KEYCTL_JOIN_SESSION_KEYRING)', 'int', KEYCTL_JOIN_SESSION_KEYRING, 'str', name);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === 'ENOSYS') return undefined;
    throw e;
  }
  const buf = Buffer.alloc(512);
  const n = call('keyctl(KEYCTL_DESCRIBE)', 'int', KEYCTL_DESCRIBE, 'int', id, 'void *', buf, 'size_t', buf.length);
  // "type;uid;gid;perm;description"
  const perm = parseInt(buf.subarray(0, Math.max(0, n - 1)).toString().split(';')[3] ?? '0', 16) >>> 0;
  call('keyctl(KEYCTL_SETPERM)', 'int', KEYCTL_SETPERM, 'int', id, 'uint32_t', (perm | EXTRA_PERM) >>> 0);
  return id;
}
