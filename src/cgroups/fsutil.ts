/**
 * Small synchronous helpers for cgroupfs files. Every failure becomes a
 * SyscallError naming the operation, the full path and the errno.
 */

import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeSync, constants } from 'node:fs';
import { errnoNumber, SyscallError } from '../common/errors.js';
import { sleepMs } from '../common/sleep.js';

export function syscallErrorFrom(e: unknown, op: string, path: string, context?: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  const n = code ? errnoNumber(code) : undefined;
  return n === undefined ? e : new SyscallError(op, n, path, context);
}

export function errnoOf(e: unknown): string | undefined {
  if (e instanceof SyscallError) return e.errno;
  return (e as NodeJS.ErrnoException)?.code;
}

/**
 * Write one value with a single write(2), as cgroupfs parses each write on
 * its own. O_WRONLY without O_CREAT/O_TRUNC: several cgroup files are
 * write-only, and a missing file must fail with ENOENT, not be created.
 */
export function writeCgroupFile(path: string, value: string, context?: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY);
  } catch (e) {
    throw syscallErrorFrom(e, 'open', path, context);
  }
  try {
    writeSync(fd, value);
  } catch (e) {
    throw syscallErrorFrom(e, 'write', path, context);
  } finally {
    closeSync(fd);
  }
}

export function readCgroupFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw syscallErrorFrom(e, 'read', path);
  }
}

/** Read, or undefined when the file does not exist (ENOENT/ENODEV/EOPNOTSUPP). */
export function tryRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code;
    if (c === 'ENOENT' || c === 'ENODEV' || c === 'EOPNOTSUPP' || c === 'ENOTSUP') return undefined;
    throw syscallErrorFrom(e, 'read', path);
  }
}

export function exists(path: string): boolean {
  return existsSync(path);
}

export function mkdirOne(path: string): 'created' | 'existed' {
  try {
    mkdirSync(path, 0o755);
    return 'created';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return 'existed';
    throw syscallErrorFrom(e, 'mkdir', path);
  }
}

/** Synchronous sleep (the manager's API is synchronous). */
export { sleepMs };

/**
 * rmdir, retrying EBUSY (tasks still exiting) with exponential backoff, as
 * runc does (1 ms doubling, 10 tries ≈ 1 s). ENOENT counts as success.
 */
export function rmdirRetry(path: string, tries = 10): void {
  let delay = 1;
  for (let i = 0; ; i++) {
    try {
      rmdirSync(path);
      return;
    } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      if (c === 'ENOENT') return;
      if (c === 'EBUSY' && i < tries) {
        sleepMs(delay);
        delay *= 2;
        continue;
      }
      throw syscallErrorFrom(e, 'rmdir', path);
    }
  }
}

/** Sub-directories (child cgroups) of a cgroup directory; [] if it is gone. */
export function childDirs(path: string): string[] {
  try {
    return readdirSync(path, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `${path}/${d.name}`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw syscallErrorFrom(e, 'readdir', path);
  }
}

/** Remove a cgroup and every child cgroup below it (deepest first). */
export function removeTree(path: string): void {
  for (const c of childDirs(path)) removeTree(c);
  rmdirRetry(path);
}
