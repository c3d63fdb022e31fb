/**
 * The mounts of a RootfsPlan, in config order: bind mounts, fresh
 * filesystems, cgroup mounts and remounts, each onto a destination opened
 * inside the root and verified before the move_mount.
 */

import * as fs from 'node:fs';
import { RuntsError, SyscallError } from '../../common/errors.js';
import type { IDMapping } from '../../spec/types.js';
import { close, mountSetattr, moveMount, openTree, symlinkat } from '../libc.js';
import { AT, EBUSY, EEXIST, EPERM, FS_MAGIC, MOUNT_ATTR, OPEN_TREE } from '../abi.js';
import { copyUpInto } from './copyup.js';
import {
  EMPTY, MOVE_FDS, applyAttrs, createFilesystem, fsmountAttrs, mountOf, reconfigureFilesystem, setPropagation, withContext,
} from './mount-api.js';
import { isUnder, parseMountinfo } from './mountinfo.js';
import { SHARED_SUPERBLOCK, cleanContainerPath } from './mount-options.js';
import { type CgroupBind, type MountStep, type RootfsPlan } from './plan-types.js';
import {
  createFileInRoot, describeStat, fdPath, fdStat, fdStatfs, mkdirAllInRoot, openInRoot, tryOpenInRoot, type FdStat,
} from './resolve.js';

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

/**
 * Filesystems created by the current prepareRootfs (mount id -> filesystem type): a "remount"
 * entry may reconfigure the superblock of these only, never of a filesystem shared with the host.
 * prepareRootfs clears it.
 */
export const freshMounts = new Map<number, string>();

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
    const attrs = fsmountAttrs(step.attr) & ~(copy ? MOUNT_ATTR.RDONLY : 0);
    const mfd = createFilesystem(step.fstype, step.source, sbFlags, data, attrs);
    try {
      if (copy) {
        withContext(`tmpcopyup ${step.destination}`, () => {
          copyUpInto(dest, mfd, step.destination, data.some((d) => d.key === 'uid' || d.key === 'gid'));
          if (sbFlags.length !== step.sbFlags.length) reconfigureFilesystem(mfd, ['ro'], [], step.destination);
          if (step.attr.set & MOUNT_ATTR.RDONLY) applyAttrs(mfd, { set: MOUNT_ATTR.RDONLY, clr: 0 }, false, step.destination);
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
    attr: ro ? { set: step.attr.set | MOUNT_ATTR.RDONLY, clr: step.attr.clr & ~MOUNT_ATTR.RDONLY } : step.attr,
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
    attr: { set: MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC, clr: 0 }, recAttr: { set: 0, clr: 0 },
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
    applyAttrs(tfd, { set: MOUNT_ATTR.RDONLY, clr: 0 }, false, step.destination);
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

export function doMount(rootfd: number, plan: RootfsPlan, step: MountStep, env: PrepareEnv): void {
  if (step.remount) { remountStep(rootfd, plan, step); return; }
  switch (step.kind) {
    case 'bind': close(bindMount(rootfd, plan, step, env)); break;
    case 'fs': close(fsMount(rootfd, plan, step, env)); break;
    case 'cgroup': cgroupMount(rootfd, plan, step, env); break;
  }
}
