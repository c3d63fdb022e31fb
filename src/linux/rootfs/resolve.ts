/**
 * Safe path resolution inside the container's root filesystem.
 *
 * Every path under the rootfs is controlled by the container image (or by a
 * container sharing a volume), so it is resolved by the kernel with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) relative to an fd of the
 * root: symlinks (absolute or with "..") stay inside the root, and
 * /proc/self/fd-style magic links are refused. Directories and files are
 * created one component at a time, relative to an fd of the already verified
 * parent, never by a path string. There is no fallback without openat2.
 */

import * as fs from 'node:fs';
import { RuntsError, SyscallError } from '../../common/errors.js';
import { close, fstatfs, mkdirat, openat, openat2, readlinkat } from '../libc.js';
import { EEXIST, ELOOP, ENOENT, ENOSYS, ENOTDIR, FS_MAGIC, O, RESOLVE } from '../abi.js';
import { cleanContainerPath } from './mount-options.js';

/** Resolution inside the root: symlinks are resolved as if the root were "/", magic links refused. */
export const IN_ROOT = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS;
/** One component below a verified directory, no symlinks at all. */
const BENEATH_NO_LINKS = RESOLVE.BENEATH | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS;

export type FileType = 'dir' | 'reg' | 'lnk' | 'chr' | 'blk' | 'fifo' | 'sock' | 'unknown';

export interface FdStat {
  type: FileType;
  /** Permission bits (mode & 07777). */
  perm: number;
  uid: number;
  gid: number;
  /** For device nodes: the device number of the node. */
  rdevMajor: number;
  rdevMinor: number;
  size: number;
}

function fileType(mode: number): FileType {
  switch (mode & 0o170000) {
    case 0o040000: return 'dir';
    case 0o100000: return 'reg';
    case 0o120000: return 'lnk';
    case 0o020000: return 'chr';
    case 0o060000: return 'blk';
    case 0o010000: return 'fifo';
    case 0o140000: return 'sock';
    default: return 'unknown';
  }
}

/** fstat(2) of an fd (O_PATH fds work too). */
export function fdStat(fd: number): FdStat {
  const st = fs.fstatSync(fd, { bigint: true });
  const mode = Number(st.mode);
  const rdev = st.rdev;
  return {
    type: fileType(mode),
    perm: mode & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    rdevMajor: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    rdevMinor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
    size: Number(st.size),
  };
}

export function describeStat(st: FdStat): string {
  switch (st.type) {
    case 'chr': return `a character device ${st.rdevMajor}:${st.rdevMinor}`;
    case 'blk': return `a block device ${st.rdevMajor}:${st.rdevMinor}`;
    case 'dir': return 'a directory';
    case 'reg': return 'a regular file';
    case 'lnk': return 'a symlink';
    case 'fifo': return 'a fifo';
    case 'sock': return 'a socket';
    default: return 'an unknown kind of file';
  }
}

export interface FdStatfs {
  /** f_type, the filesystem magic. */
  magic: number;
  /** f_flags (ST_RDONLY, ST_NOSUID, ...): the mount's flags. */
  flags: number;
}

/** fstatfs(2) of an fd (works on O_PATH fds). */
export function fdStatfs(fd: number, shownPath?: string): FdStatfs {
  const buf = Buffer.alloc(120); // struct statfs on x86_64 / arm64
  fstatfs(fd, buf, shownPath);
  return { magic: Number(buf.readBigInt64LE(0)), flags: Number(buf.readBigInt64LE(80)) };
}

/** The path the kernel gives for an fd (readlink /proc/self/fd/N). Only meaningful with a trusted /proc. */
export function fdPath(fd: number): string {
  return fs.readlinkSync(`/proc/self/fd/${fd}`);
}

function noOpenat2(): RuntsError {
  return new RuntsError(
    'openat2(2) is not available (Linux < 5.6, or blocked by a seccomp filter): runts will not resolve container paths without RESOLVE_IN_ROOT',
    { op: 'openat2', errno: 'ENOSYS' },
  );
}

/** openat2 that turns ENOSYS into a clear refusal. */
function openat2Checked(dirfd: number, p: string, flags: number, resolve: number, shown: string): number {
  try {
    return openat2(dirfd, p, flags, resolve, 0, shown);
  } catch (e) {
    if (e instanceof SyscallError && e.code === ENOSYS) throw noOpenat2();
    throw e;
  }
}

export interface OpenInRootOptions {
  /** Do not follow a symlink in the last component (an O_PATH fd of the link itself is returned). */
  nofollow?: boolean;
  /** Fail with ENOTDIR unless the result is a directory. */
  directory?: boolean;
}

/**
 * Open `p` (a container path) inside the root as an O_PATH|O_CLOEXEC fd.
 * Symlinks are resolved as if rootfd were "/", so nothing outside the root is ever reached.
 */
export function openInRoot(rootfd: number, p: string, opts: OpenInRootOptions = {}): number {
  const clean = cleanContainerPath(p);
  const flags = O.PATH | (opts.nofollow ? O.NOFOLLOW : 0) | (opts.directory ? O.DIRECTORY : 0);
  return openat2Checked(rootfd, clean === '/' ? '.' : clean.slice(1), flags, IN_ROOT, clean);
}

/** openInRoot, but null when the path (or a parent) does not exist or a parent is not a directory. */
export function tryOpenInRoot(rootfd: number, p: string, opts: OpenInRootOptions = {}): number | null {
  try {
    return openInRoot(rootfd, p, opts);
  } catch (e) {
    // ENOTDIR without `directory`: a parent is not a directory, so the path does not exist either.
    if (e instanceof SyscallError && (e.code === ENOENT || (e.code === ENOTDIR && !opts.directory))) return null;
    throw e;
  }
}

/** Open one component `name` right below the verified directory `dirfd`, without following any symlink. */
export function openBeneath(dirfd: number, name: string, shown: string, extraFlags = 0): number {
  return openat2Checked(dirfd, name, O.PATH | O.NOFOLLOW | extraFlags, BENEATH_NO_LINKS, shown);
}

function tryOpenBeneath(dirfd: number, name: string, shown: string): number | null {
  try {
    return openBeneath(dirfd, name, shown);
  } catch (e) {
    if (e instanceof SyscallError && e.code === ENOENT) return null;
    throw e;
  }
}

const MAX_LINKS = 40;

/** readlinkat(fd, "") of an O_PATH|O_NOFOLLOW fd of a symlink. */
export function readlinkFd(fd: number, shown: string): string {
  const buf = Buffer.alloc(4096);
  const n = readlinkat(fd, '', buf, shown);
  return buf.subarray(0, n).toString();
}

/** The target of a symlink in the container; procfs links (magic or not) are never followed by hand. */
function readContainerLink(fd: number, shown: string): string {
  if (fdStatfs(fd, shown).magic === FS_MAGIC.PROC) {
    throw new RuntsError(`${shown} in the container: refusing to follow a procfs link`, { path: shown });
  }
  return readlinkFd(fd, shown);
}

/** Reopen a resolved (symlink-free) path from the root; a symlink that appeared since is refused. */
function reopenResolved(rootfd: number, comps: string[]): number {
  const shown = '/' + comps.join('/');
  return openat2Checked(rootfd, comps.length ? comps.join('/') : '.', O.PATH | O.DIRECTORY, IN_ROOT | RESOLVE.NO_SYMLINKS, shown);
}

export interface Resolved {
  /** O_PATH fd of the directory. */
  fd: number;
  /** Its path inside the container, without symlinks. */
  path: string;
}

/**
 * The component-by-component walk behind mkdirAllInRoot: every step is an
 * openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) of one name below the fd of the
 * verified parent; missing directories are made with mkdirat() on that fd.
 * Symlinks (dangling ones too) are read and followed by hand, as if the root
 * were "/": absolute targets restart at the root, ".." never climbs above it.
 */
export function walkMkdirAll(rootfd: number, p: string, mode = 0o755): Resolved {
  const todo = p.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let links = 0;
  let cur = reopenResolved(rootfd, []);
  try {
    while (todo.length) {
      const c = todo.shift()!;
      if (c === '.') continue;
      if (c === '..') {
        if (resolved.length) {
          resolved.pop();
          const up = reopenResolved(rootfd, resolved);
          close(cur);
          cur = up;
        }
        continue;
      }
      const shown = '/' + [...resolved, c].join('/');
      let fd = tryOpenBeneath(cur, c, shown);
      if (fd === null) {
        try {
          mkdirat(cur, c, mode, shown);
        } catch (e) {
          if (!(e instanceof SyscallError && e.code === EEXIST)) throw e;
          // lost a race: look again (bounded like symlinks)
          if (++links > MAX_LINKS) throw new SyscallError('mkdirat', ELOOP, shown);
          todo.unshift(c);
          continue;
        }
        fd = openBeneath(cur, c, shown);
      }
      let st: FdStat;
      try { st = fdStat(fd); } catch (e) { close(fd); throw e; }
      if (st.type === 'dir') {
        close(cur);
        cur = fd;
        resolved.push(c);
        continue;
      }
      if (st.type === 'lnk') {
        let target: string;
        try { target = readContainerLink(fd, shown); } finally { close(fd); }
        if (++links > MAX_LINKS) throw new SyscallError('mkdirat', ELOOP, shown);
        if (target.startsWith('/')) {
          resolved.length = 0;
          const top = reopenResolved(rootfd, []);
          close(cur);
          cur = top;
        }
        todo.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
        continue;
      }
      close(fd);
      throw new RuntsError(`mkdir ${shown} in the container: it exists and is ${describeStat(st)}`, { op: 'mkdirat', path: shown, errno: 'ENOTDIR' });
    }
    return { fd: cur, path: '/' + resolved.join('/') };
  } catch (e) {
    close(cur);
    throw e;
  }
}

/**
 * Make sure the directory `p` exists inside the root and return an O_PATH fd
 * of it (the caller closes it). Existing paths are opened with
 * openat2(RESOLVE_IN_ROOT); missing components are created one at a time
 * relative to the fd of the verified parent (walkMkdirAll), following
 * symlinks, dangling ones included, without ever leaving the root.
 */
export function mkdirAllInRoot(rootfd: number, p: string, mode = 0o755): number {
  const fast = tryOpenInRoot(rootfd, p, { directory: true });
  if (fast !== null) return fast;
  return walkMkdirAll(rootfd, cleanContainerPath(p), mode).fd;
}

export function dirname(p: string): string {
  const c = cleanContainerPath(p);
  const i = c.lastIndexOf('/');
  return i <= 0 ? '/' : c.slice(0, i);
}

export function basename(p: string): string {
  const c = cleanContainerPath(p);
  return c.slice(c.lastIndexOf('/') + 1);
}

/**
 * Make sure a non-directory exists at `p` (for file bind mounts): an existing
 * file is used as is (symlinks followed inside the root); otherwise the
 * parents are created and an empty file is created with
 * openat(O_CREAT|O_EXCL|O_NOFOLLOW) in the verified parent. A dangling
 * symlink is followed inside the root and the file created at its target.
 * Returns an O_PATH fd; the caller checks its type.
 */
export function createFileInRoot(rootfd: number, p: string, mode = 0o644): number {
  const existing = tryOpenInRoot(rootfd, p);
  if (existing !== null) return existing;
  let target = cleanContainerPath(p);
  for (let links = 0; ; links++) {
    if (target === '/') throw new RuntsError('cannot create a file at /');
    if (links > MAX_LINKS) throw new SyscallError('openat', ELOOP, cleanContainerPath(p));
    const parent = walkMkdirAll(rootfd, dirname(target));
    try {
      const name = basename(target);
      const shown = cleanContainerPath(`${parent.path}/${name}`);
      const fd = createBeneath(parent.fd, name, shown, mode);
      let st: FdStat;
      try { st = fdStat(fd); } catch (e) { close(fd); throw e; }
      if (st.type !== 'lnk') return fd;
      let link: string;
      try { link = readContainerLink(fd, shown); } finally { close(fd); }
      target = cleanContainerPath(link.startsWith('/') ? link : `${parent.path}/${link}`);
    } finally {
      close(parent.fd);
    }
  }
}

/** Create an empty file `name` in the verified directory `dirfd` (or find what is there) and return an O_PATH fd of it. */
export function createBeneath(dirfd: number, name: string, shown: string, mode = 0o644): number {
  const existing = tryOpenBeneath(dirfd, name, shown);
  if (existing !== null) return existing;
  try {
    close(openat(dirfd, name, O.RDONLY | O.CREAT | O.EXCL | O.NOFOLLOW | O.NOCTTY, mode, shown));
  } catch (e) {
    if (!(e instanceof SyscallError && e.code === EEXIST)) throw e;
  }
  return openBeneath(dirfd, name, shown);
}
