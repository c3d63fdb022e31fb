/**
 * Typed errors. Every failure that reaches the user is a RuntsError whose
 * message says what failed, where (a path or a JSON pointer) and, for a
 * failed system call, the errno name.
 */

import { writeFileSync } from 'node:fs';

// node:os is not in node's start-up snapshot (~1 ms to load): only when an errno is named
// eslint-disable-next-line @typescript-eslint/no-require-imports
const errnoTable = (): Record<string, number> => (require('node:os') as typeof import('node:os')).constants.errno as Record<string, number>;
let errnoNames: Map<number, string> | undefined;

/** Short lower-case descriptions, in the wording Go (and so runc) prints. */
const errnoText: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ESRCH: 'no such process',
  EINTR: 'interrupted system call',
  EIO: 'input/output error',
  ENXIO: 'no such device or address',
  E2BIG: 'argument list too long',
  ENOEXEC: 'exec format error',
  EBADF: 'bad file descriptor',
  ECHILD: 'no child processes',
  EAGAIN: 'resource temporarily unavailable',
  ENOMEM: 'cannot allocate memory',
  EACCES: 'permission denied',
  EFAULT: 'bad address',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  EXDEV: 'invalid cross-device link',
  ENODEV: 'no such device',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EINVAL: 'invalid argument',
  ENFILE: 'too many open files in system',
  EMFILE: 'too many open files',
  ENOTTY: 'inappropriate ioctl for device',
  ETXTBSY: 'text file busy',
  EFBIG: 'file too large',
  ENOSPC: 'no space left on device',
  ESPIPE: 'illegal seek',
  EROFS: 'read-only file system',
  EPIPE: 'broken pipe',
  ERANGE: 'numerical result out of range',
  ENAMETOOLONG: 'file name too long',
  ENOSYS: 'function not implemented',
  ENOTEMPTY: 'directory not empty',
  ELOOP: 'too many levels of symbolic links',
  EOPNOTSUPP: 'operation not supported',
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'connection timed out',
  ENOTSOCK: 'socket operation on non-socket',
  EOVERFLOW: 'value too large for defined data type',
};

export function errnoName(errno: number): string {
  errnoNames ??= new Map(Object.entries(errnoTable()).map(([name, num]) => [num, name]));
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

export function errnoNumber(name: string): number | undefined {
  const n = errnoTable()[name];
  return typeof n === 'number' ? n : undefined;
}

export function errnoDescription(name: string): string {
  return errnoText[name] ?? name.toLowerCase();
}

export interface ErrorDetails {
  /** The operation that failed: a syscall name or a lifecycle step. */
  op?: string;
  /** A file system path involved, when there is one. */
  path?: string;
  /** A JSON pointer into config.json, when the error is about the config. */
  pointer?: string;
  /** The errno name (EPERM, ENOENT, ...) for failed system calls. */
  errno?: string;
  cause?: unknown;
}

export class RuntsError extends Error {
  readonly op?: string;
  readonly path?: string;
  readonly pointer?: string;
  readonly errno?: string;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'RuntsError';
    this.op = details.op;
    this.path = details.path;
    this.pointer = details.pointer;
    this.errno = details.errno;
  }

  /** Plain data, so an error can cross the parent/child protocol. */
  toJSON(): ErrorRecord {
    return { message: this.message, op: this.op, path: this.path, pointer: this.pointer, errno: this.errno };
  }

  static fromJSON(rec: ErrorRecord): RuntsError {
    return new RuntsError(rec.message, rec);
  }
}

export interface ErrorRecord {
  message: string;
  op?: string;
  path?: string;
  pointer?: string;
  errno?: string;
}

/** A failed system call: "mount /proc: EPERM (operation not permitted)". */
export class SyscallError extends RuntsError {
  readonly code: number;

  constructor(op: string, errno: number, path?: string, context?: string) {
    const name = errnoName(errno);
    const where = path === undefined ? '' : ` ${path}`;
    const ctx = context ? `${context}: ` : '';
    super(`${ctx}${op}${where}: ${name} (${errnoDescription(name)})`, { op, path, errno: name });
    this.name = 'SyscallError';
    this.code = errno;
  }
}

/** Config errors carry the JSON pointer of the offending value. */
export class ConfigError extends RuntsError {
  constructor(pointer: string, message: string) {
    super(`config.json ${pointer || '/'}: ${message}`, { pointer: pointer || '/' });
    this.name = 'ConfigError';
  }
}

/** Turn anything thrown into a one-line message. */
export function describeError(e: unknown): string {
  if (e instanceof RuntsError) return e.message;
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const path = (e as NodeJS.ErrnoException).path;
    const syscall = (e as NodeJS.ErrnoException).syscall;
    if (code && syscall) return `${syscall}${path ? ' ' + path : ''}: ${code} (${errnoDescription(code)})`;
    return e.message;
  }
  return String(e);
}

/**
 * For the library (src/api/runtime.ts), which spawns the CLI for some
 * operations: the error that ends a command, as JSON in $RUNTS_ERROR_FILE,
 * so that its caller gets the typed error (class, op, path, errno, pointer).
 */
export function recordError(e: unknown): void {
  const file = process.env.RUNTS_ERROR_FILE;
  if (!file) return;
  const rec = e instanceof RuntsError ? { name: e.name, ...e.toJSON() } : { name: 'RuntsError', message: describeError(e) };
  try {
    writeFileSync(file, JSON.stringify(rec), { mode: 0o600 });
  } catch { /* the caller falls back to stderr */ }
}
