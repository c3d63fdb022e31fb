/** Device nodes (mknod, or a bind of the host's node in a user namespace) and the /dev symlinks. */

import * as fs from 'node:fs';
import { RuntsError, SyscallError } from '../../common/errors.js';
import { close, fchownat, mknodat, moveMount, openTree, symlinkat, unlinkat } from '../libc.js';
import { AT, EEXIST, EISDIR, ENOENT, OPEN_TREE, S_IFBLK, S_IFCHR, S_IFIFO } from '../abi.js';
import { EMPTY, MOVE_FDS } from './mount-api.js';
import type { DeviceNode, DevSymlink, RootfsPlan } from './plan-types.js';
import {
  basename, createBeneath, describeStat, dirname, fdStat, mkdirAllInRoot, openBeneath, type FdStat,
} from './resolve.js';

function matchesDevice(st: FdStat, d: DeviceNode): boolean {
  if (d.type === 'p') return st.type === 'fifo';
  const type = d.type === 'c' ? 'chr' : 'blk';
  return st.type === type && st.rdevMajor === d.major && st.rdevMinor === d.minor;
}

function deviceName(d: DeviceNode): string {
  return d.type === 'p' ? 'p' : `${d.type} ${d.major}:${d.minor}`;
}

export function createDevice(rootfd: number, plan: RootfsPlan, d: DeviceNode): void {
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

export function createDevSymlink(rootfd: number, l: DevSymlink): void {
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
