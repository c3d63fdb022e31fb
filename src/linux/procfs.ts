/**
 * A trusted procfs handle for the init stage (CVE-2019-16884, CVE-2019-19921,
 * CVE-2025-52881: a container-controlled /proc, or a mount raced over one of
 * its files, redirects the runtime's writes, e.g. an LSM label into
 * /proc/sysrq-trigger).
 *
 * The handle is a private procfs instance nobody else can see or mount over:
 *
 *   1. fsopen("proc") → fsconfig(CREATE) → fsmount(nosuid,nodev,noexec): a
 *      detached mount of a new procfs superblock for the caller's pid
 *      namespace. Needs CAP_SYS_ADMIN over the pid namespace's user namespace.
 *   2. else open_tree("/proc", OPEN_TREE_CLONE) without AT_RECURSIVE: a
 *      detached copy of the top /proc mount only (nothing mounted on top of
 *      or below it comes along). Used when the pid namespace belongs to
 *      another user namespace (a joined pid namespace with a new user one).
 *
 * Either way the root is verified (fstatfs f_type == PROC_SUPER_MAGIC and
 * inode == PROC_ROOT_INO), and every file below it is opened with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS) and
 * verified to be on procfs again. There is no path-string fallback.
 *
 * Open the handle early in the init stage (before the container's mounts
 * exist); it stays valid across pivot_root because it is an fd. Its fd is
 * close-on-exec, and runts closes it before execve anyway.
 */
import * as fs from 'node:fs';
import { RuntsError, SyscallError } from '../common/errors.js';
import { close, fsconfig, fsmount, fsopen, openTree, openat2, read, write } from './libc.js';
import { AT, FS_MAGIC, FSCONFIG, MOUNT_ATTR, O, OPEN_TREE, RESOLVE } from './abi.js';
import { fdStatfs } from './rootfs/resolve.js';

export const PROC_ROOT_INO = 1;

/** How every file is opened below the handle. */
export const PROCFS_RESOLVE = RESOLVE.BENEATH | RESOLVE.NO_XDEV | RESOLVE.NO_MAGICLINKS;

export type ProcfsSource = 'fsopen' | 'open_tree';

/** Throw unless `fd` is on procfs (and, for the root, is the procfs root inode). */
export function verifyProcfs(fd: number, shown: string, root = false): void {
  const { magic } = fdStatfs(fd, shown);
  if (magic !== FS_MAGIC.PROC) {
    throw new RuntsError(`${shown} is not on procfs (f_type 0x${magic.toString(16)}, want 0x${FS_MAGIC.PROC.toString(16)})`, { path: shown });
  }
  if (root) {
    const ino = fs.fstatSync(fd).ino;
    if (ino !== PROC_ROOT_INO) throw new RuntsError(`${shown} is not the root of a procfs (inode ${ino}, want ${PROC_ROOT_INO})`, { path: shown });
  }
}

/** Valid relative procfs paths: no absolute paths, no empty, "." or ".." components. */
export function checkProcPath(rel: string): void {
  if (rel === '' || rel.startsWith('/') || rel.split('/').some((c) => c === '' || c === '.' || c === '..') || rel.includes('\0')) {
    throw new RuntsError(`invalid procfs path ${JSON.stringify(rel)}`, { path: rel });
  }
}

export class ProcfsHandle {
  private closed = false;

  private constructor(readonly fd: number, readonly source: ProcfsSource) {}

  /**
   * A new private procfs (fsopen), else a detached clone of /proc
   * (open_tree). `only` restricts to one method (tests).
   */
  static open(only?: ProcfsSource): ProcfsHandle {
    let first: unknown;
    if (only !== 'open_tree') {
      try {
        return ProcfsHandle.fromFd(ProcfsHandle.newInstance(), 'fsopen');
      } catch (e) {
        if (only === 'fsopen') throw e;
        first = e;
      }
    }
    try {
      return ProcfsHandle.fromFd(openTree(AT.FDCWD, '/proc', OPEN_TREE.CLONE), 'open_tree');
    } catch (e) {
      const why = (x: unknown) => (x instanceof Error ? x.message : String(x));
      if (only) throw e;
      throw new RuntsError(`cannot get a trusted procfs handle: fsopen("proc"): ${why(first)}; open_tree("/proc"): ${why(e)}`, { op: 'fsopen', path: '/proc' });
    }
  }

  private static newInstance(): number {
    const fsfd = fsopen('proc');
    try {
      fsconfig(fsfd, FSCONFIG.CMD_CREATE, null, null, 0, 'proc');
      return fsmount(fsfd, MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC, 'proc');
    } finally {
      close(fsfd);
    }
  }

  private static fromFd(fd: number, source: ProcfsSource): ProcfsHandle {
    try {
      verifyProcfs(fd, `/proc (${source})`, true);
    } catch (e) {
      close(fd);
      throw e;
    }
    return new ProcfsHandle(fd, source);
  }

  /**
   * Open `rel` (e.g. "sys/net/ipv4/ip_forward", "thread-self/attr/exec")
   * beneath the handle and check that it is on procfs. Returns the fd
   * (close-on-exec); the caller closes it.
   */
  openFile(rel: string, flags: number): number {
    if (this.closed) throw new RuntsError('the trusted procfs handle is closed');
    checkProcPath(rel);
    const shown = `/proc/${rel}`;
    const fd = openat2(this.fd, rel, flags | O.NOFOLLOW, PROCFS_RESOLVE, 0, shown);
    try {
      verifyProcfs(fd, shown);
    } catch (e) {
      close(fd);
      throw e;
    }
    return fd;
  }

  /** One write(2) of `content` at offset 0 (what sysctl and attr files expect). */
  writeFile(rel: string, content: string | Buffer): void {
    const fd = this.openFile(rel, O.WRONLY);
    try {
      const buf = typeof content === 'string' ? Buffer.from(content) : content;
      let n: number;
      try {
        n = write(fd, buf);
      } catch (e) {
        if (e instanceof SyscallError) throw new SyscallError('write', e.code, `/proc/${rel}`);
        throw e;
      }
      if (n !== buf.length) throw new RuntsError(`write /proc/${rel}: short write (${n} of ${buf.length} bytes)`, { op: 'write', path: `/proc/${rel}` });
    } finally {
      close(fd);
    }
  }

  readFile(rel: string, max = 65536): string {
    const fd = this.openFile(rel, O.RDONLY);
    try {
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const buf = Buffer.alloc(Math.min(8192, max - total));
        if (buf.length === 0) break;
        const n = read(fd, buf);
        if (n === 0) break;
        chunks.push(buf.subarray(0, n));
        total += n;
      }
      return Buffer.concat(chunks).toString();
    } finally {
      close(fd);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    close(this.fd);
  }
}
