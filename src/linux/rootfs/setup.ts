/**
 * Applying a RootfsPlan inside the container's new mount namespace.
 *
 * Three phases, called by the init stage in order:
 *   prepareRootfs(plan)  mounts, devices, /dev links        (before pivot; hooks may run after it)
 *   enterRootfs(plan)    pivot_root (or MS_MOVE + chroot)
 *   finishRootfs(plan)   readonly paths, masked paths, read-only /dev and /, rootfsPropagation
 *
 * Every container path is resolved with openat2(RESOLVE_IN_ROOT) relative to
 * an fd of the root (resolve.ts), and every mount goes from fd to fd:
 * open_tree/fsmount -> mount_setattr -> move_mount. Nothing is mounted by a
 * path string inside the rootfs. Host paths (the rootfs itself, bind
 * sources, host device nodes) come from the bundle's config and are trusted.
 *
 * The caller must run in node's main thread, in the container's mount namespace
 * (node exec'd inside a new one, or the main thread joined it: mountns.ts).
 */

import * as fs from 'node:fs';
import { RuntsError, SyscallError } from '../../common/errors.js';
import type { IDMapping } from '../../spec/types.js';
import {
  AT, FSCONFIG, MNT_DETACH, MOUNT_ATTR, MOVE_MOUNT, MS, O, OPEN_TREE,
  bindLibc, chdir, checked, chroot, close, fchdir, fchownat, fsconfig, fsmount, fsopen, mknodat, mount, mountSetattr,
  moveMount, open, openTree, pivotRoot, read, symlinkat, umask, umount2, unlinkat,
} from '../libc.js';
import { copyUpInto } from './copyup.js';
import { makeParentPrivate, openRootfs } from './mountns.js';
import { isUnder, parseMountinfo } from './mountinfo.js';
import {
  ATTR, SHARED_SUPERBLOCK, cleanContainerPath,
  type AttrChange, type CgroupBind, type DeviceNode, type DevSymlink, type MountStep, type Propagation, type RootfsPlan,
} from './plan.js';
import {
  FS_MAGIC, ST, basename, createBeneath, createFileInRoot, describeStat, dirname, fdPath, fdStat, fdStatfs,
  mkdirAllInRoot, openBeneath, openInRoot, tryOpenInRoot, type FdStat,
} from './resolve.js';

const EPERM = 1;
const ENOENT = 2;
const EEXIST = 17;
const EBUSY = 16;
const EINVAL = 22;
const EISDIR = 21;

const EMPTY = AT.EMPTY_PATH;
const MOVE_FDS = MOVE_MOUNT.F_EMPTY_PATH | MOVE_MOUNT.T_EMPTY_PATH;

export interface PrepareEnv {
  /**
   * For idmapped mounts: return an fd of a user namespace whose uid_map and
   * gid_map are the given mappings ("containerID hostID size" lines). runts
   * closes it after use. The init stage cannot create one itself (that needs
   * a fork); without this callback an idmapped mount is an error.
   */
  idmapUserns?: (uidMappings: IDMapping[], gidMappings: IDMapping[]) => number;
  /**
   * A bind mount's tree made by the runtime on the host (a detached tree fd,
   * already idmapped when the mount is) for the mount at this config index, if
   * any: used instead of open_tree(source) + idmap, which a process inside the
   * container's user namespace may not be allowed to do. runts closes it.
   */
  bindTree?: (index: number) => number | undefined;
}

/** The rootfs mount (an fd of the self-bind) carried from prepareRootfs to enterRootfs. */
let preparedRoot: { rootfs: string; fd: number } | null = null;

/**
 * Filesystems created by the current prepareRootfs (mount id -> filesystem type): a "remount"
 * entry may reconfigure the superblock of these only, never of a filesystem shared with the host.
 */
let freshMounts = new Map<number, string>();

// ---------------------------------------------------------------------------
// Errors

interface Detailed { detail?: string }

/** Run `fn`; failures are reported as "<ctx>: <op> <path>: <ERRNO> (<text>)". */
function withContext<T>(ctx: string, fn: () => T): T {
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

function closeQuietly(fd: number | null | undefined): void {
  if (fd !== null && fd !== undefined && fd >= 0) close(fd);
}

// ---------------------------------------------------------------------------
// Small mount helpers

function msPropagation(p: Propagation): number {
  const t = { private: MS.PRIVATE, shared: MS.SHARED, slave: MS.SLAVE, unbindable: MS.UNBINDABLE }[p.type];
  return t | (p.recursive ? MS.REC : 0);
}

function setPropagation(fd: number, p: Propagation, shown: string): void {
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
function applyAttrs(fd: number, change: AttrChange, recursive: boolean, shown: string): void {
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

function applyIdmap(fd: number, step: MountStep, env: PrepareEnv): void {
  if (!step.idmap) return;
  if (!env.idmapUserns) {
    throw new RuntsError('idmapped mount: the init stage has no user namespace with the mount\'s mappings (PrepareEnv.idmapUserns not given)');
  }
  const ns = env.idmapUserns(step.idmap.uidMappings, step.idmap.gidMappings);
  try {
    mountSetattr(fd, '', EMPTY | (step.idmap.recursive ? AT.RECURSIVE : 0),
      { set: MOUNT_ATTR.IDMAP, clr: 0, propagation: 0, usernsFd: ns }, step.destination);
  } finally {
    close(ns);
  }
}

const STATX_MNT_ID = 0x1000;
const STATX_ATTR_MOUNT_ROOT = 0x2000;
let statxFn: ((dirfd: number, path: string, flags: number, mask: number, buf: Buffer) => number) | undefined;

/** statx(2) of an fd: its mount id and whether it is the root of a mount. */
function mountOf(fd: number, shown: string): { mntId: number; mountRoot: boolean } {
  statxFn ??= bindLibc('int statx(int dirfd, const char *path, int flags, unsigned int mask, void *buf)');
  const buf = Buffer.alloc(256);
  checked('statx', statxFn(fd, '', EMPTY | AT.SYMLINK_NOFOLLOW, STATX_MNT_ID, buf), shown);
  const attrs = buf.readBigUInt64LE(8);
  const attrsMask = buf.readBigUInt64LE(56);
  if (!(attrsMask & BigInt(STATX_ATTR_MOUNT_ROOT))) {
    throw new RuntsError('statx does not report STATX_ATTR_MOUNT_ROOT (Linux < 5.8)', { op: 'statx', path: shown, errno: 'ENOSYS' });
  }
  return { mntId: Number(buf.readBigUInt64LE(144)), mountRoot: (attrs & BigInt(STATX_ATTR_MOUNT_ROOT)) !== 0n };
}

const FSPICK_CLOEXEC = 0x1;
const FSPICK_EMPTY_PATH = 0x8;
let fspickFn: ((dirfd: number, path: string, flags: number) => number) | undefined;

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
function createFilesystem(fstype: string, source: string | null, sbFlags: string[], data: { key: string; value: string | null }[], attrFlags: number): number {
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
function reconfigureFilesystem(fd: number, sbFlags: string[], data: { key: string; value: string | null }[], shown: string): void {
  fspickFn ??= bindLibc('int fspick(int dirfd, const char *path, unsigned int flags)');
  const fsfd = checked('fspick', fspickFn(fd, '', FSPICK_CLOEXEC | FSPICK_EMPTY_PATH), shown);
  try {
    fsConfigureAll(fsfd, sbFlags, data);
    fsConfigure(fsfd, FSCONFIG.CMD_RECONFIGURE, null, null, 'reconfigure');
  } finally {
    close(fsfd);
  }
}

/** fsmount's attr_flags take set bits and one atime value. */
function fsmountAttrs(a: AttrChange): number {
  return a.set & (ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC | ATTR.NODIRATIME | ATTR.NOSYMFOLLOW | ATTR.ATIME_MASK);
}

// ---------------------------------------------------------------------------
// Destinations

/** runc's list of /proc entries that may be mounted over (lxcfs). */
const PROC_MOUNT_ALLOWED = new Set([
  '/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime',
  '/proc/loadavg', '/proc/slabinfo', '/proc/net/dev', '/proc/sys/kernel/ns_last_pid',
]);

/**
 * Where did the destination fd really land? (readlink of /proc/self/fd/N on the
 * host's procfs, before pivot.) Verifies it is inside the rootfs and applies
 * runc's rules for mounts on and under /proc.
 */
function checkDestination(plan: RootfsPlan, destfd: number, step: MountStep, srcFd: number | null): void {
  const real = fdPath(destfd);
  if (!isUnder(real, plan.rootfs)) {
    throw new RuntsError(`mount destination ${step.destination} resolved outside the rootfs (${real})`, { path: step.destination });
  }
  const rel = real === plan.rootfs ? '/' : real.slice(plan.rootfs.length);
  // A remount mounts nothing new: it cannot hide anything under /proc.
  if (step.remount || !isUnder(rel, '/proc')) return;
  if (rel === '/proc') {
    if (step.kind === 'fs' && step.fstype === 'proc') return;
    if (step.kind === 'bind' && srcFd !== null && fdStatfs(srcFd).magic === FS_MAGIC.PROC) return;
    throw new RuntsError(`"${rel}" cannot be mounted because it is not of type proc`, { path: step.destination });
  }
  if (PROC_MOUNT_ALLOWED.has(rel)) return;
  throw new RuntsError(`"${rel}" cannot be mounted because it is inside /proc`, { path: step.destination });
}

/** Open (creating if needed) a directory destination. proc and sysfs must land on an ordinary directory (CVE-2023-27561, CVE-2025-54867). */
function dirDestination(rootfd: number, step: MountStep): { fd: number; existed: FdStat | null } {
  const strict = step.kind === 'fs' && (step.fstype === 'proc' || step.fstype === 'sysfs');
  const fd = tryOpenInRoot(rootfd, step.destination, { nofollow: strict });
  if (fd !== null) {
    let st: FdStat;
    try {
      st = fdStat(fd);
    } catch (e) { close(fd); throw e; }
    if (st.type !== 'dir') {
      close(fd);
      if (strict) throw new RuntsError(`filesystem "${step.fstype}" must be mounted on ordinary directory`, { path: step.destination });
      throw new RuntsError(`mount destination ${step.destination} is ${describeStat(st)}, not a directory`, { path: step.destination });
    }
    return { fd, existed: st };
  }
  return { fd: mkdirAllInRoot(rootfd, step.destination, 0o755), existed: null };
}

function fileDestination(rootfd: number, step: MountStep): number {
  const fd = createFileInRoot(rootfd, step.destination, 0o644);
  let st: FdStat;
  try {
    st = fdStat(fd);
  } catch (e) { close(fd); throw e; }
  if (st.type === 'dir' || st.type === 'lnk') {
    close(fd);
    throw new RuntsError(`mount destination ${step.destination} is ${describeStat(st)}, but the source is not a directory`, { path: step.destination });
  }
  return fd;
}

// ---------------------------------------------------------------------------
// Mounts

/** Bind mount: open_tree(CLONE) of the host source, attributes, move_mount onto the verified destination. Returns the attached mount fd. */
function bindMount(rootfd: number, plan: RootfsPlan, step: MountStep, env: PrepareEnv): number {
  const premade = env.bindTree?.(step.index);
  const tree = premade ?? openTree(AT.FDCWD, step.source!, OPEN_TREE.CLONE | (step.recursive ? AT.RECURSIVE : 0));
  try {
    const sst = fdStat(tree);
    const dest = sst.type === 'dir' ? dirDestination(rootfd, step).fd : fileDestination(rootfd, step);
    try {
      checkDestination(plan, dest, step, tree);
      applyAttrs(tree, step.attr, false, step.destination);
      applyAttrs(tree, step.recAttr, true, step.destination);
      if (premade === undefined) applyIdmap(tree, step, env);
      moveMount(tree, '', dest, '', MOVE_FDS, step.destination);
    } finally {
      close(dest);
    }
    for (const p of step.propagation) setPropagation(tree, p, step.destination);
    return tree;
  } catch (e) {
    close(tree);
    throw e;
  }
}

/** A fresh filesystem: fsopen/fsconfig/fsmount, then move_mount onto the verified destination. Returns the attached mount fd. */
function fsMount(rootfd: number, plan: RootfsPlan, step: MountStep, env: PrepareEnv): number {
  const { fd: dest, existed } = dirDestination(rootfd, step);
  try {
    checkDestination(plan, dest, step, null);
    const data = [...step.data];
    // runc: a tmpfs over an existing directory keeps that directory's mode unless mode= is given.
    if (step.fstype === 'tmpfs' && existed && !data.some((d) => d.key === 'mode')) {
      data.unshift({ key: 'mode', value: existed.perm.toString(8).padStart(4, '0') });
    }
    // tmpcopyup: the new tmpfs is filled while it is detached and writable, then made read-only if asked.
    const copy = step.copyUp && existed !== null;
    const sbFlags = copy ? step.sbFlags.filter((f) => f !== 'ro') : step.sbFlags;
    const attrs = fsmountAttrs(step.attr) & ~(copy ? ATTR.RDONLY : 0);
    const mfd = createFilesystem(step.fstype, step.source, sbFlags, data, attrs);
    try {
      if (copy) {
        withContext(`tmpcopyup ${step.destination}`, () => {
          copyUpInto(dest, mfd, step.destination, data.some((d) => d.key === 'uid' || d.key === 'gid'));
          if (sbFlags.length !== step.sbFlags.length) reconfigureFilesystem(mfd, ['ro'], [], step.destination);
          if (step.attr.set & ATTR.RDONLY) applyAttrs(mfd, { set: ATTR.RDONLY, clr: 0 }, false, step.destination);
        });
      }
      applyAttrs(mfd, step.recAttr, true, step.destination);
      applyIdmap(mfd, step, env);
      moveMount(mfd, '', dest, '', MOVE_FDS, step.destination);
      freshMounts.set(mountOf(mfd, step.destination).mntId, step.fstype);
      for (const p of step.propagation) setPropagation(mfd, p, step.destination);
      return mfd;
    } catch (e) {
      close(mfd);
      throw e;
    }
  } finally {
    close(dest);
  }
}

/** The container's cgroup v2 directory when no path was given: from /proc/self/cgroup and mountinfo (host procfs, before pivot). */
function ownCgroup2Dir(): string {
  const line = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  if (!line) throw new RuntsError('cannot find the cgroup v2 path of the init process in /proc/self/cgroup');
  const mi = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).filter((m) => m.fstype === 'cgroup2');
  const top = mi.find((m) => m.root === '/') ?? mi[0];
  if (!top) throw new RuntsError('no cgroup2 filesystem is mounted on the host');
  const rel = line.slice(3);
  if (!isUnder(rel, top.root)) throw new RuntsError(`the init process's cgroup ${rel} is not visible under ${top.mountpoint}`);
  const sub = top.root === '/' ? rel : rel.slice(top.root.length);
  return cleanContainerPath(top.mountpoint + '/' + sub);
}

function cgroupBindStep(step: MountStep, b: CgroupBind, source: string): MountStep {
  const ro = step.cgroup!.readonly;
  return {
    ...step,
    kind: 'bind', fstype: 'bind', source, recursive: true,
    destination: b.name ? cleanContainerPath(`${step.destination}/${b.name}`) : step.destination,
    attr: ro ? { set: step.attr.set | ATTR.RDONLY, clr: step.attr.clr & ~ATTR.RDONLY } : step.attr,
    sbFlags: [], data: [], cgroup: null, idmap: null,
  };
}

function cgroupMount(rootfd: number, plan: RootfsPlan, step: MountStep, env: PrepareEnv): void {
  const cg = step.cgroup!;
  if (cg.strategy === 'fresh' || cg.strategy === 'bind') {
    const b = cg.binds[0]!;
    if (cg.strategy === 'fresh') {
      try {
        close(fsMount(rootfd, plan, { ...step, kind: 'fs', fstype: 'cgroup2', source: step.source ?? 'cgroup2', sbFlags: [], cgroup: null }, env));
        return;
      } catch (e) {
        // runc: cgroup2 cannot be mounted (e.g. a user namespace without its own cgroupns): bind instead.
        if (!(e instanceof SyscallError && (e.code === EPERM || e.code === EBUSY))) throw e;
      }
    }
    close(bindMount(rootfd, plan, cgroupBindStep(step, b, b.source ?? ownCgroup2Dir()), env));
    return;
  }
  // v1 / hybrid: a tmpfs holding one bind per hierarchy (runc's layout).
  const tmpfsStep: MountStep = {
    ...step, kind: 'fs', fstype: 'tmpfs', source: 'tmpfs', cgroup: null, sbFlags: [],
    attr: { set: ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC, clr: 0 }, recAttr: { set: 0, clr: 0 },
    data: [{ key: 'mode', value: '0755' }], idmap: null,
  };
  const tfd = fsMount(rootfd, plan, tmpfsStep, env);
  try {
    for (const b of cg.binds) {
      if (!b.source) throw new RuntsError(`no cgroup path for hierarchy ${b.name}`);
      close(bindMount(rootfd, plan, cgroupBindStep(step, b, b.source), env));
    }
    if (cg.symlinks.length) {
      const dir = openInRoot(rootfd, step.destination, { directory: true });
      try {
        for (const l of cg.symlinks) {
          try { symlinkat(l.target, dir, l.name, `${step.destination}/${l.name}`); } catch (e) {
            if (!(e instanceof SyscallError && e.code === EEXIST)) throw e;
          }
        }
      } finally { close(dir); }
    }
    // the tmpfs itself stays read-only (runts's hardening: nothing in it is for writing)
    applyAttrs(tfd, { set: ATTR.RDONLY, clr: 0 }, false, step.destination);
  } finally {
    close(tfd);
  }
}

/**
 * "remount" (runc's MS_REMOUNT): change the mount already at the destination. Its per-mount flags
 * become exactly the ones given (step.attr clears the others; the atime mode stays unless given);
 * the superblock (ro/rw, sync, size=, ...) is reconfigured only for a filesystem an earlier entry of
 * this config created, never for one shared with the host (a bind, proc, sysfs, ...).
 */
function remountStep(rootfd: number, plan: RootfsPlan, step: MountStep): void {
  const fd = tryOpenInRoot(rootfd, step.destination);
  if (fd === null) {
    throw new RuntsError(`remount ${step.destination}: no such file or directory in the container (nothing is mounted there)`,
      { op: 'remount', path: step.destination, errno: 'ENOENT' });
  }
  try {
    checkDestination(plan, fd, step, null);
    const m = mountOf(fd, step.destination);
    if (!m.mountRoot) {
      throw new RuntsError(`remount ${step.destination}: nothing is mounted there (a remount changes an existing mount; mount it in an earlier entry)`,
        { op: 'remount', path: step.destination, errno: 'EINVAL' });
    }
    const fresh = freshMounts.get(m.mntId);
    if (step.kind === 'fs' && fresh !== undefined && !SHARED_SUPERBLOCK.has(fresh)) {
      // A security label cannot change on a remount: leave the LSM's context= alone.
      reconfigureFilesystem(fd, step.sbFlags, step.data.filter((d) => d.key !== 'context'), step.destination);
    }
    applyAttrs(fd, step.attr, false, step.destination);
    applyAttrs(fd, step.recAttr, true, step.destination);
    for (const p of step.propagation) setPropagation(fd, p, step.destination);
  } finally {
    close(fd);
  }
}

function doMount(rootfd: number, plan: RootfsPlan, step: MountStep, env: PrepareEnv): void {
  if (step.remount) { remountStep(rootfd, plan, step); return; }
  switch (step.kind) {
    case 'bind': close(bindMount(rootfd, plan, step, env)); break;
    case 'fs': close(fsMount(rootfd, plan, step, env)); break;
    case 'cgroup': cgroupMount(rootfd, plan, step, env); break;
  }
}

// ---------------------------------------------------------------------------
// Devices and /dev links

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

function matchesDevice(st: FdStat, d: DeviceNode): boolean {
  if (d.type === 'p') return st.type === 'fifo';
  const type = d.type === 'c' ? 'chr' : 'blk';
  return st.type === type && st.rdevMajor === d.major && st.rdevMinor === d.minor;
}

function deviceName(d: DeviceNode): string {
  return d.type === 'p' ? 'p' : `${d.type} ${d.major}:${d.minor}`;
}

function createDevice(rootfd: number, plan: RootfsPlan, d: DeviceNode): void {
  const parent = mkdirAllInRoot(rootfd, dirname(d.path), 0o755);
  try {
    const name = basename(d.path);
    let fd: number | null = null;
    try {
      fd = openBeneath(parent, name, d.path);
    } catch (e) {
      if (!(e instanceof SyscallError && e.code === ENOENT)) throw e;
    }
    if (fd !== null) {
      // config-linux.md: a file at path that does not match the requested device is an error.
      let st: FdStat;
      try { st = fdStat(fd); } finally { close(fd); }
      if (matchesDevice(st, d)) return;
      if (!(plan.bindDevices && st.type === 'reg' && st.size === 0)) {
        throw new RuntsError(`${d.path} already exists and is ${describeStat(st)}, not the requested device ${deviceName(d)}`, { path: d.path });
      }
    }
    if (plan.bindDevices && d.type !== 'p') {
      bindDevice(parent, name, d);
      return;
    }
    const typeBits = d.type === 'c' ? S_IFCHR : d.type === 'b' ? S_IFBLK : S_IFIFO;
    mknodat(parent, name, typeBits | d.mode, d.major, d.minor, d.path);
    const nfd = openBeneath(parent, name, d.path);
    try {
      const st = fdStat(nfd);
      if (!matchesDevice(st, d)) throw new RuntsError(`${d.path} changed under us: it is ${describeStat(st)}`, { path: d.path });
      if (st.uid !== d.uid || st.gid !== d.gid) fchownat(nfd, '', d.uid, d.gid, EMPTY, d.path);
    } finally {
      close(nfd);
    }
  } finally {
    close(parent);
  }
}

/** With a user namespace mknod is impossible: bind the host's node (same path on the host, like runc) onto an empty file. */
function bindDevice(parent: number, name: string, d: DeviceNode): void {
  const tree = openTree(AT.FDCWD, d.path, OPEN_TREE.CLONE);
  try {
    const hst = fdStat(tree);
    if (!matchesDevice(hst, d)) throw new RuntsError(`host ${d.path} is ${describeStat(hst)}, not the requested device ${deviceName(d)}`, { path: d.path });
    const dest = createBeneath(parent, name, d.path, 0o000);
    try {
      const st = fdStat(dest);
      if (st.type !== 'reg') throw new RuntsError(`${d.path} is ${describeStat(st)}, cannot bind the host device onto it`, { path: d.path });
      moveMount(tree, '', dest, '', MOVE_FDS, d.path);
    } finally {
      close(dest);
    }
  } finally {
    close(tree);
  }
}

function createDevSymlink(rootfd: number, l: DevSymlink): void {
  if (l.ifHostPathExists !== null && !fs.existsSync(l.ifHostPathExists)) return;
  const parent = mkdirAllInRoot(rootfd, dirname(l.path), 0o755);
  try {
    const name = basename(l.path);
    if (l.replace) {
      try {
        unlinkat(parent, name, 0, l.path);
      } catch (e) {
        if (e instanceof SyscallError && e.code === EISDIR) unlinkat(parent, name, AT.REMOVEDIR, l.path);
        else if (!(e instanceof SyscallError && e.code === ENOENT)) throw e;
      }
    }
    try {
      symlinkat(l.target, parent, name, l.path);
    } catch (e) {
      if (!(e instanceof SyscallError && e.code === EEXIST)) throw e;
    }
  } finally {
    close(parent);
  }
}

// ---------------------------------------------------------------------------
// /dev/console

const EROFS = 30;

/**
 * The mount point for the console: an empty regular file /dev/console (a
 * character device already there is used as is). Anything else the image put
 * there (a symlink, a fifo, an empty directory) is removed first, never
 * followed (CVE-2025-52565).
 */
function createConsoleTarget(rootfd: number): void {
  const parent = mkdirAllInRoot(rootfd, '/dev', 0o755);
  try {
    let fd: number | null = null;
    try {
      fd = openBeneath(parent, 'console', '/dev/console');
    } catch (e) {
      if (!(e instanceof SyscallError && e.code === ENOENT)) throw e;
    }
    if (fd !== null) {
      let st: FdStat;
      try { st = fdStat(fd); } finally { close(fd); }
      if (st.type === 'reg' || st.type === 'chr') return;
      unlinkat(parent, 'console', st.type === 'dir' ? AT.REMOVEDIR : 0, '/dev/console');
    }
    let made: number;
    try {
      made = createBeneath(parent, 'console', '/dev/console', 0o666);
    } catch (e) {
      // A read-only image without /dev/console: there is nowhere to mount the console.
      if (e instanceof SyscallError && e.code === EROFS) return;
      throw e;
    }
    let st: FdStat;
    try { st = fdStat(made); } finally { close(made); }
    if (st.type !== 'reg') throw new RuntsError(`/dev/console is ${describeStat(st)}, not the empty file runts created`, { op: 'openat', path: '/dev/console' });
  } finally {
    close(parent);
  }
}

const PTY_SLAVE_MAJOR_MIN = 136;
const PTY_SLAVE_MAJOR_MAX = 143;

/**
 * After pivot_root: bind-mount the pty slave `slaveFd` (an open fd of the
 * container's own devpts, from TIOCGPTPEER) onto /dev/console. The source is
 * the fd itself (open_tree on it), never a /dev/pts path; the target is
 * resolved inside the root without following a symlink and must be the
 * regular file (or character device) prepareRootfs left there. Without a
 * /dev/console (a read-only image) nothing is mounted.
 */
export function mountConsole(slaveFd: number): void {
  withContext('bind mount the pty onto /dev/console', () => {
    const pst = fdStat(slaveFd);
    if (pst.type !== 'chr' || pst.rdevMajor < PTY_SLAVE_MAJOR_MIN || pst.rdevMajor > PTY_SLAVE_MAJOR_MAX) {
      throw new RuntsError(`the console is ${describeStat(pst)}, not a devpts slave`, { op: 'open_tree', path: '/dev/console' });
    }
    const rootfd = open('/', O.PATH | O.DIRECTORY);
    try {
      const dest = tryOpenInRoot(rootfd, '/dev/console', { nofollow: true });
      if (dest === null) return;
      try {
        const st = fdStat(dest);
        if (st.type !== 'reg' && st.type !== 'chr') {
          throw new RuntsError(`/dev/console is ${describeStat(st)}: refusing to mount the console on it`, { op: 'move_mount', path: '/dev/console' });
        }
        const tree = openTree(slaveFd, '', OPEN_TREE.CLONE | OPEN_TREE.CLOEXEC | EMPTY, '/dev/console');
        try {
          const tst = fdStat(tree);
          if (tst.type !== 'chr' || tst.rdevMajor !== pst.rdevMajor || tst.rdevMinor !== pst.rdevMinor) {
            throw new RuntsError(`the console mount is ${describeStat(tst)}, not the pty ${pst.rdevMajor}:${pst.rdevMinor}`, { op: 'open_tree', path: '/dev/console' });
          }
          moveMount(tree, '', dest, '', MOVE_FDS, '/dev/console');
        } finally {
          close(tree);
        }
      } finally {
        close(dest);
      }
    } finally {
      close(rootfd);
    }
  });
}

// ---------------------------------------------------------------------------
// Phase 1: prepare

/**
 * Before pivot_root: set / propagation, bind the rootfs onto itself, apply
 * every mount in config order, then devices, /dev/ptmx and /dev links.
 */
export function prepareRootfs(plan: RootfsPlan, env: PrepareEnv = {}): void {
  if (preparedRoot) { closeQuietly(preparedRoot.fd); preparedRoot = null; }
  freshMounts = new Map();
  const host = plan.mountns === 'host';
  const dir = openRootfs(plan.rootfs, plan.mountns);

  // With no mount namespace of its own, the host's / and the mount holding the rootfs stay as they are.
  if (!host) {
    withContext('preparing rootfs', () => {
      mount(null, '/', null, msPropagation(plan.rootPropagation), null);
      makeParentPrivate(plan.rootfs);
    });
  }

  let rootfd = -1;
  withContext(`bind mount rootfs ${plan.rootfs}`, () => {
    try {
      const tree = openTree(dir, '', OPEN_TREE.CLONE | AT.RECURSIVE | EMPTY, plan.rootfs);
      try {
        // in the host's namespace: a private mount of our own, so nothing mounted under it propagates anywhere
        if (host) mountSetattr(tree, '', EMPTY | AT.RECURSIVE, { set: 0, clr: 0, propagation: MS.PRIVATE }, plan.rootfs);
        moveMount(tree, '', dir, '', MOVE_FDS, plan.rootfs);
      } catch (e) { close(tree); throw e; }
      rootfd = tree; // now the attached self-bind: the container's "/" from here on
    } finally {
      close(dir);
    }
  });

  try {
    for (const step of plan.mounts) {
      withContext(`mount ${step.source ?? step.fstype} to ${step.destination}`, () => doMount(rootfd, plan, step, env));
    }
    if (plan.setupDev) {
      const old = umask(0);
      try {
        for (const d of plan.devices) withContext(`create device ${d.path}`, () => createDevice(rootfd, plan, d));
        if (plan.console) withContext('create /dev/console', () => createConsoleTarget(rootfd));
      } finally {
        umask(old);
      }
      for (const l of plan.devSymlinks) withContext(`symlink ${l.path} -> ${l.target}`, () => createDevSymlink(rootfd, l));
    }
  } catch (e) {
    close(rootfd);
    throw e;
  }
  preparedRoot = { rootfs: plan.rootfs, fd: rootfd };
}

// ---------------------------------------------------------------------------
// Phase 2: enter

/** runc's msMoveRoot preparation: hide the host's full proc/sysfs mounts that stay reachable below a chroot. */
function hideHostProcSys(rootfs: string): void {
  const mounts = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  // Deepest first, so nested mounts go before their parents.
  const targets = mounts
    .filter((m) => m.root === '/' && (m.fstype === 'proc' || m.fstype === 'sysfs') && !isUnder(m.mountpoint, rootfs))
    .map((m) => m.mountpoint)
    .sort((a, b) => b.length - a.length);
  for (const p of [...new Set(targets)]) {
    try {
      mount(null, p, null, MS.SLAVE | MS.REC, null); // the unmount must not propagate to the host
    } catch (e) {
      if (e instanceof SyscallError && e.code === ENOENT) continue;
      throw e;
    }
    try {
      umount2(p, MNT_DETACH);
    } catch (e) {
      if (!(e instanceof SyscallError && (e.code === EINVAL || e.code === EPERM))) throw e;
      mount('tmpfs', p, 'tmpfs', 0, null); // cannot unmount (locked): cover it
    }
  }
}

/** pivot_root into the rootfs (or, with noPivot, move it onto / and chroot). The cwd is / afterwards. */
export function enterRootfs(plan: RootfsPlan): void {
  let rootfd: number;
  if (preparedRoot && preparedRoot.rootfs === plan.rootfs) {
    rootfd = preparedRoot.fd;
  } else {
    if (preparedRoot) closeQuietly(preparedRoot.fd);
    rootfd = withContext('jailing process inside rootfs', () => open(plan.rootfs, O.PATH | O.DIRECTORY));
  }
  preparedRoot = null;
  try {
    withContext('jailing process inside rootfs', () => {
      if (plan.mountns === 'host') {
        // runc without a mount namespace: chroot (pivot_root would pivot the host's root)
        fchdir(rootfd, plan.rootfs);
        chroot('.');
      } else if (!plan.noPivot) {
        const oldroot = open('/', O.PATH | O.DIRECTORY);
        try {
          if (plan.rootPropagation.type === 'shared') {
            // pivot_root refuses shared mounts (the old root, the new root): both are private
            // for the switch; rootfsPropagation is applied to the new / in finishRootfs.
            mountSetattr(oldroot, '', EMPTY, { set: 0, clr: 0, propagation: MS.PRIVATE }, '/');
            mountSetattr(rootfd, '', EMPTY, { set: 0, clr: 0, propagation: MS.PRIVATE }, plan.rootfs);
          }
          // pivot_root(".", "."): no put_old directory needed; the old root ends up stacked on
          // top of the new one. Our cwd stays on the new root, so address the old one by fd.
          fchdir(rootfd, plan.rootfs);
          pivotRoot('.', '.');
          // The detach below must not propagate to the host.
          mountSetattr(oldroot, '', EMPTY | AT.RECURSIVE, { set: 0, clr: 0, propagation: MS.SLAVE }, 'old root');
          fchdir(oldroot, 'old root');
          umount2('.', MNT_DETACH);
        } finally {
          close(oldroot);
        }
      } else {
        fchdir(rootfd, plan.rootfs);
        hideHostProcSys(plan.rootfs);
        moveMount(rootfd, '', AT.FDCWD, '/', MOVE_MOUNT.F_EMPTY_PATH, '/');
        chroot('.');
      }
      chdir('/');
    });
  } finally {
    close(rootfd);
  }
}

// ---------------------------------------------------------------------------
// Phase 3: finish

function readonlyPaths(rootfd: number, paths: string[]): void {
  for (const p of paths) {
    withContext(`make ${p} read-only`, () => {
      const fd = tryOpenInRoot(rootfd, p);
      if (fd === null) return; // spec: nothing to protect
      try {
        const tree = openTree(fd, '', OPEN_TREE.CLONE | AT.RECURSIVE | EMPTY, p);
        try {
          mountSetattr(tree, '', EMPTY | AT.RECURSIVE, { set: ATTR.RDONLY, clr: 0, propagation: 0 }, p);
          moveMount(tree, '', fd, '', MOVE_FDS, p);
        } finally {
          close(tree);
        }
      } finally {
        close(fd);
      }
    });
  }
}

/** The container's /dev/null, opened without following a symlink and verified to be char 1:3 (CVE-2025-31133). */
function openDevNull(rootfd: number): number {
  const fd = openInRoot(rootfd, '/dev/null', { nofollow: true });
  let st: FdStat;
  try { st = fdStat(fd); } catch (e) { close(fd); throw e; }
  if (st.type !== 'chr' || st.rdevMajor !== 1 || st.rdevMinor !== 3) {
    close(fd);
    throw new RuntsError(`/dev/null is ${describeStat(st)}, not the null device (char 1:3): refusing to use it to mask paths (CVE-2025-31133)`, { path: '/dev/null' });
  }
  return fd;
}

function maskPaths(rootfd: number, paths: string[]): void {
  const devNull = withContext('mask paths', () => openDevNull(rootfd));
  let tmpfs: number | null = null; // the one masking tmpfs, once attached; later directories get clones of it
  try {
    for (const p of paths) {
      withContext(`mask ${p}`, () => {
        const fd = tryOpenInRoot(rootfd, p);
        if (fd === null) return;
        try {
          const st = fdStat(fd);
          if (st.type === 'dir') {
            if (tmpfs === null) {
              const mfd = createFilesystem('tmpfs', 'tmpfs', ['ro'], [{ key: 'mode', value: '0755' }, { key: 'size', value: '4k' }],
                ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC);
              try { moveMount(mfd, '', fd, '', MOVE_FDS, p); } catch (e) { close(mfd); throw e; }
              tmpfs = mfd;
            } else {
              const clone = openTree(tmpfs, '', OPEN_TREE.CLONE | EMPTY, p);
              try { moveMount(clone, '', fd, '', MOVE_FDS, p); } finally { close(clone); }
            }
          } else {
            const clone = openTree(devNull, '', OPEN_TREE.CLONE | EMPTY, '/dev/null');
            try {
              mountSetattr(clone, '', EMPTY, { set: ATTR.RDONLY | ATTR.NOSUID | ATTR.NOEXEC, clr: 0, propagation: 0 }, p);
              moveMount(clone, '', fd, '', MOVE_FDS, p);
            } finally {
              close(clone);
            }
          }
        } finally {
          close(fd);
        }
      });
    }
  } finally {
    closeQuietly(tmpfs);
    close(devNull);
  }
}

/**
 * After the pivot: readonly paths, masked paths (both resolved inside the
 * root; missing paths are skipped), a read-only /dev if asked, the read-only
 * root (the root mount only, like runc) and linux.rootfsPropagation.
 */
export function finishRootfs(plan: RootfsPlan): void {
  const rootfd = withContext('finishing rootfs', () => open('/', O.PATH | O.DIRECTORY));
  try {
    readonlyPaths(rootfd, plan.readonlyPaths);
    if (plan.maskedPaths.length) maskPaths(rootfd, plan.maskedPaths);
    if (plan.devReadonly) {
      withContext('remount /dev read-only', () => {
        const fd = openInRoot(rootfd, '/dev', { directory: true });
        try { mountSetattr(fd, '', EMPTY, { set: ATTR.RDONLY, clr: 0, propagation: 0 }, '/dev'); } finally { close(fd); }
      });
    }
    if (plan.readonlyRoot) {
      withContext('setting rootfs as readonly', () => mountSetattr(rootfd, '', EMPTY, { set: ATTR.RDONLY, clr: 0, propagation: 0 }, '/'));
    }
    if (plan.rootfsPropagation) {
      const p = plan.rootfsPropagation;
      withContext('unable to apply root propagation flags', () => setPropagation(rootfd, p, '/'));
    }
  } finally {
    close(rootfd);
  }
}
