/**
 * The new mount API as the rootfs setup uses it (fsopen/fsconfig/fsmount,
 * fspick, mount_setattr, statx of a mount), and the error context every step
 * of setup.ts adds ("<ctx>: <op> <path>: <ERRNO> (<text>)").
 */

import { RuntsError, SyscallError } from '../../common/errors.js';
import { close, fsconfig, fsmount, fsopen, fspick, mountSetattr, read, statx } from '../libc.js';
import {
  AT, EPERM, FSCONFIG, FSPICK_CLOEXEC, FSPICK_EMPTY_PATH, MOUNT_ATTR as ATTR, MOVE_MOUNT, MS, ST, STATX_ATTR_MOUNT_ROOT, STATX_MNT_ID,
} from '../abi.js';
import type { AttrChange, Propagation } from './plan-types.js';
import { fdStatfs } from './resolve.js';

export const EMPTY = AT.EMPTY_PATH;
export const MOVE_FDS = MOVE_MOUNT.F_EMPTY_PATH | MOVE_MOUNT.T_EMPTY_PATH;

// ---------------------------------------------------------------------------
// Errors

interface Detailed { detail?: string }

/** Run `fn`; failures are reported as "<ctx>: <op> <path>: <ERRNO> (<text>)". */
export function withContext<T>(ctx: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw addContext(ctx, e);
  }
}

function addContext(ctx: string, e: unknown): unknown {
  if (e instanceof SyscallError) {
    const w = new SyscallError(e.op ?? 'syscall', e.code, e.path, ctx);
    const detail = (e as Detailed).detail;
    if (detail) { w.message += detail; (w as Detailed).detail = detail; }
    return w;
  }
  if (e instanceof RuntsError) {
    return new RuntsError(`${ctx}: ${e.message}`, { op: e.op, path: e.path, pointer: e.pointer, errno: e.errno, cause: e });
  }
  return e;
}

export function closeQuietly(fd: number | null | undefined): void {
  if (fd !== null && fd !== undefined && fd >= 0) close(fd);
}

// ---------------------------------------------------------------------------
// Small mount helpers

export function msPropagation(p: Propagation): number {
  const t = { private: MS.PRIVATE, shared: MS.SHARED, slave: MS.SLAVE, unbindable: MS.UNBINDABLE }[p.type];
  return t | (p.recursive ? MS.REC : 0);
}

export function setPropagation(fd: number, p: Propagation, shown: string): void {
  mountSetattr(fd, '', EMPTY | (p.recursive ? AT.RECURSIVE : 0), { set: 0, clr: 0, propagation: msPropagation(p) & ~MS.REC }, shown);
}

/** The attributes a mount currently has, from statfs f_flags, as MOUNT_ATTR_* bits. */
function currentAttrs(fd: number): { bits: number; atime: number } {
  const f = fdStatfs(fd).flags;
  let bits = 0;
  if (f & ST.RDONLY) bits |= ATTR.RDONLY;
  if (f & ST.NOSUID) bits |= ATTR.NOSUID;
  if (f & ST.NODEV) bits |= ATTR.NODEV;
  if (f & ST.NOEXEC) bits |= ATTR.NOEXEC;
  if (f & ST.NODIRATIME) bits |= ATTR.NODIRATIME;
  if (f & ST.NOSYMFOLLOW) bits |= ATTR.NOSYMFOLLOW;
  const atime = f & ST.NOATIME ? ATTR.NOATIME : f & ST.RELATIME ? ATTR.RELATIME : ATTR.STRICTATIME;
  return { bits, atime };
}

/**
 * mount_setattr with set/clr. In a user namespace some flags of mounts that came
 * from the host are locked; like runc, keep locked flags rather than fail when
 * the config asks to clear them (EPERM -> retry without touching them).
 */
export function applyAttrs(fd: number, change: AttrChange, recursive: boolean, shown: string): void {
  if (!change.set && !change.clr) return;
  const flags = EMPTY | (recursive ? AT.RECURSIVE : 0);
  try {
    mountSetattr(fd, '', flags, { set: change.set, clr: change.clr, propagation: 0 }, shown);
  } catch (e) {
    if (!(e instanceof SyscallError && e.code === EPERM)) throw e;
    const cur = currentAttrs(fd);
    let { set, clr } = change;
    clr &= ~(cur.bits & ~ATTR.ATIME_MASK);
    if ((clr & ATTR.ATIME_MASK) && (set & ATTR.ATIME_MASK) !== cur.atime) {
      clr &= ~ATTR.ATIME_MASK;
      set &= ~ATTR.ATIME_MASK;
    }
    if (set === change.set && clr === change.clr) throw e;
    if (!set && !clr) return;
    mountSetattr(fd, '', flags, { set, clr, propagation: 0 }, shown);
  }
}

/** statx(2) of an fd: its mount id and whether it is the root of a mount. */
export function mountOf(fd: number, shown: string): { mntId: number; mountRoot: boolean } {
  const buf = Buffer.alloc(256);
  statx(fd, '', EMPTY | AT.SYMLINK_NOFOLLOW, STATX_MNT_ID, buf, shown);
  const attrs = buf.readBigUInt64LE(8);
  const attrsMask = buf.readBigUInt64LE(56);
  if (!(attrsMask & BigInt(STATX_ATTR_MOUNT_ROOT))) {
    throw new RuntsError('statx does not report STATX_ATTR_MOUNT_ROOT (Linux < 5.8)', { op: 'statx', path: shown, errno: 'ENOSYS' });
  }
  return { mntId: Number(buf.readBigUInt64LE(144)), mountRoot: (attrs & BigInt(STATX_ATTR_MOUNT_ROOT)) !== 0n };
}

/** Read the fs_context log of an fsopen fd ("e tmpfs: Bad value for 'size'"). */
function fsLog(fsfd: number): string {
  const lines: string[] = [];
  const buf = Buffer.alloc(512);
  for (let i = 0; i < 8; i++) {
    let n: number;
    try { n = read(fsfd, buf); } catch { break; }
    if (n <= 0) break;
    lines.push(buf.subarray(0, n).toString().replace(/\0/g, '').trim().replace(/^[ewi] /, ''));
  }
  return lines.join('; ');
}

/** fsconfig on an fs_context fd; a failure carries the kernel's log. */
function fsConfigure(fsfd: number, cmd: number, key: string | null, value: string | null, what: string): void {
  try {
    fsconfig(fsfd, cmd, key, value, 0, what);
  } catch (e) {
    const log = fsLog(fsfd);
    if (log && e instanceof SyscallError) (e as Detailed).detail = ` (kernel: ${log})`;
    throw e;
  }
}

function fsConfigureAll(fsfd: number, sbFlags: string[], data: { key: string; value: string | null }[]): void {
  for (const f of sbFlags) fsConfigure(fsfd, FSCONFIG.SET_FLAG, f, null, f);
  for (const d of data) {
    if (d.value === null) fsConfigure(fsfd, FSCONFIG.SET_FLAG, d.key, null, d.key);
    else fsConfigure(fsfd, FSCONFIG.SET_STRING, d.key, d.value, `${d.key}=${d.value}`);
  }
}

/** fsopen + fsconfig + fsmount: a detached mount of a fresh filesystem (O_CLOEXEC fd). */
export function createFilesystem(fstype: string, source: string | null, sbFlags: string[], data: { key: string; value: string | null }[], attrFlags: number): number {
  const fsfd = fsopen(fstype);
  try {
    if (source !== null && source !== '') fsConfigure(fsfd, FSCONFIG.SET_STRING, 'source', source, 'source');
    fsConfigureAll(fsfd, sbFlags, data);
    fsConfigure(fsfd, FSCONFIG.CMD_CREATE, null, null, 'create');
    return fsmount(fsfd, attrFlags, fstype);
  } finally {
    close(fsfd);
  }
}

/** fspick + fsconfig + FSCONFIG_CMD_RECONFIGURE: change the superblock of the filesystem mounted at `fd` (a mount root). */
export function reconfigureFilesystem(fd: number, sbFlags: string[], data: { key: string; value: string | null }[], shown: string): void {
  const fsfd = fspick(fd, '', FSPICK_CLOEXEC | FSPICK_EMPTY_PATH, shown);
  try {
    fsConfigureAll(fsfd, sbFlags, data);
    fsConfigure(fsfd, FSCONFIG.CMD_RECONFIGURE, null, null, 'reconfigure');
  } finally {
    close(fsfd);
  }
}

/** fsmount's attr_flags take set bits and one atime value. */
export function fsmountAttrs(a: AttrChange): number {
  return a.set & (ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC | ATTR.NODIRATIME | ATTR.NOSYMFOLLOW | ATTR.ATIME_MASK);
}
