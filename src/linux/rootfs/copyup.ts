/**
 * "tmpcopyup" (runc, crun): the content of a directory of the container's
 * rootfs is copied into the tmpfs that is about to be mounted over it.
 *
 * The source is the image (hostile): it is walked fd by fd, one component at
 * a time, with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) and O_PATH|O_NOFOLLOW, so a symlink
 * is never followed (it is copied as a symlink), nothing outside the
 * directory is reached, and mounts below it are not entered (they would be
 * hidden by the tmpfs anyway). A regular file is opened for reading only
 * after its O_PATH fd says it is one (re-opened through that fd, so it
 * cannot be swapped for a device or a fifo in between).
 *
 * The target is the new tmpfs while it is still detached (the fd fsmount(2)
 * returned): no other process can see it, so names created there are used
 * as they are.
 *
 * Copied: directories, regular files, symlinks, fifos, sockets and device
 * nodes, with owner, permission bits (setuid/setgid/sticky included) and
 * access/modification times. Not copied: extended attributes (ACLs, file
 * capabilities, SELinux labels) and hard links (each name gets its own copy).
 */

import * as fs from 'node:fs';
import { RuntsError, SyscallError } from '../../common/errors.js';
import { close, fchmod, fchmodat, fchownat, getdents64, mkdirat, mknodat, open, openat, openat2, symlinkat, utimensat } from '../libc.js';
import { AT, EXDEV, O, RESOLVE, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK } from '../abi.js';
import { readlinkFd } from './resolve.js';

/** One component below a verified directory: no symlinks, no magic links, no mount crossing. */
const SRC_RESOLVE = RESOLVE.BENEATH | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS | RESOLVE.NO_XDEV;

/** The names in a directory (getdents64 on an fd opened for reading), without "." and "..". */
function listDir(fd: number, shown: string): string[] {
  const buf = Buffer.alloc(32 * 1024);
  const names: string[] = [];
  for (;;) {
    const n = getdents64(fd, buf, shown);
    if (n === 0) return names;
    for (let off = 0; off < n;) {
      // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[]
      const reclen = buf.readUInt16LE(off + 16);
      const start = off + 19;
      let end = buf.indexOf(0, start);
      if (end < 0 || end > off + reclen) end = off + reclen;
      const raw = buf.subarray(start, end);
      off += reclen;
      const name = raw.toString('utf8');
      if (name === '.' || name === '..') continue;
      if (!Buffer.from(name, 'utf8').equals(raw)) {
        throw new RuntsError(`tmpcopyup: ${shown} holds a file name that is not valid UTF-8 (${JSON.stringify(raw.toString('latin1'))}); runts cannot copy it`,
          { op: 'getdents64', path: shown });
      }
      names.push(name);
    }
  }
}

/** struct timespec[2] (atime, mtime) for utimensat. */
function timesOf(st: fs.BigIntStats): Buffer {
  const b = Buffer.alloc(32);
  b.writeBigInt64LE(st.atimeNs / 1_000_000_000n, 0);
  b.writeBigInt64LE(st.atimeNs % 1_000_000_000n, 8);
  b.writeBigInt64LE(st.mtimeNs / 1_000_000_000n, 16);
  b.writeBigInt64LE(st.mtimeNs % 1_000_000_000n, 24);
  return b;
}

function setTimes(dirfd: number, name: string, st: fs.BigIntStats, shown: string): void {
  utimensat(dirfd, name, timesOf(st), name === '' ? AT.EMPTY_PATH : AT.SYMLINK_NOFOLLOW, shown);
}

/** chmod of a name we created in the private, detached tmpfs (never a symlink). */
function chmodAt(dirfd: number, name: string, mode: number, shown: string): void {
  fchmodat(dirfd, name, mode, 0, shown);
}

/** Owner, then mode (chown clears setuid/setgid), then times. */
function setMeta(dstDir: number, name: string, st: fs.BigIntStats, shown: string, isLink: boolean): void {
  fchownat(dstDir, name, Number(st.uid), Number(st.gid), AT.SYMLINK_NOFOLLOW, shown);
  if (!isLink) chmodAt(dstDir, name, Number(st.mode) & 0o7777, shown);
  setTimes(dstDir, name, st, shown);
}

function copyRegular(pathFd: number, st: fs.BigIntStats, dstDir: number, name: string, shown: string): void {
  // Re-open the very inode the O_PATH fd refers to (the host's /proc, before pivot_root).
  const src = open(`/proc/self/fd/${pathFd}`, O.RDONLY | O.NOCTTY | O.CLOEXEC);
  try {
    const again = fs.fstatSync(src, { bigint: true });
    if (again.ino !== st.ino || again.dev !== st.dev || (Number(again.mode) & S_IFMT) !== S_IFREG) {
      throw new RuntsError(`tmpcopyup: ${shown} changed while it was copied`, { op: 'open', path: shown });
    }
    const dst = openat(dstDir, name, O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW | O.CLOEXEC, 0o600, shown);
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (;;) {
        const n = fs.readSync(src, buf, 0, buf.length, null);
        if (n <= 0) break;
        for (let w = 0; w < n;) w += fs.writeSync(dst, buf, w, n - w);
      }
      fchownat(dst, '', Number(st.uid), Number(st.gid), AT.EMPTY_PATH, shown);
      fchmod(dst, Number(st.mode) & 0o7777, shown);
    } finally {
      close(dst);
    }
    setTimes(dstDir, name, st, shown);
  } finally {
    close(src);
  }
}

/** Copy every entry of the directory `srcDir` (opened for reading) into `dstDir` (an fd of the detached tmpfs). */
function copyEntries(srcDir: number, dstDir: number, shown: string): void {
  for (const name of listDir(srcDir, shown)) {
    const where = shown === '/' ? `/${name}` : `${shown}/${name}`;
    let pfd: number;
    try {
      pfd = openat2(srcDir, name, O.PATH | O.NOFOLLOW | O.CLOEXEC, SRC_RESOLVE, 0, where);
    } catch (e) {
      // A mount point below the directory: its content is not the rootfs's, and the tmpfs hides it.
      if (e instanceof SyscallError && e.code === EXDEV) continue;
      throw e;
    }
    try {
      const st = fs.fstatSync(pfd, { bigint: true });
      const mode = Number(st.mode);
      const perm = mode & 0o7777;
      switch (mode & S_IFMT) {
        case S_IFDIR: {
          mkdirat(dstDir, name, 0o700, where);
          const sub = openat(pfd, '.', O.RDONLY | O.DIRECTORY | O.CLOEXEC, 0, where);
          try {
            const dsub = openat(dstDir, name, O.PATH | O.DIRECTORY | O.NOFOLLOW | O.CLOEXEC, 0, where);
            try { copyEntries(sub, dsub, where); } finally { close(dsub); }
          } finally {
            close(sub);
          }
          setMeta(dstDir, name, st, where, false);
          break;
        }
        case S_IFREG:
          copyRegular(pfd, st, dstDir, name, where);
          break;
        case S_IFLNK:
          symlinkat(readlinkFd(pfd, where), dstDir, name, where);
          setMeta(dstDir, name, st, where, true);
          break;
        case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK: {
          const rdev = st.rdev;
          const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
          const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
          mknodat(dstDir, name, (mode & S_IFMT) | perm, major, minor, where);
          setMeta(dstDir, name, st, where, false);
          break;
        }
        default:
          throw new RuntsError(`tmpcopyup: ${where} is an unknown kind of file (mode 0${mode.toString(8)})`, { op: 'fstat', path: where });
      }
    } finally {
      close(pfd);
    }
  }
}

/**
 * Copy the content of the rootfs directory `srcPathFd` (an O_PATH fd, already
 * verified to be a directory inside the rootfs) into the detached tmpfs
 * `mountFd`; the tmpfs root gets the directory's owner (unless `keepOwner`)
 * and times. `shown` is the container path, for messages.
 */
export function copyUpInto(srcPathFd: number, mountFd: number, shown: string, keepOwner: boolean): void {
  const src = openat(srcPathFd, '.', O.RDONLY | O.DIRECTORY | O.CLOEXEC, 0, shown);
  try {
    const st = fs.fstatSync(src, { bigint: true });
    copyEntries(src, mountFd, shown);
    if (!keepOwner) fchownat(mountFd, '', Number(st.uid), Number(st.gid), AT.EMPTY_PATH, shown);
    setTimes(mountFd, '', st, shown);
  } finally {
    close(src);
  }
}
