/**
 * A container without a mount namespace of its own (no {"type":"mount"} in
 * linux.namespaces) mounts in the runtime's: the init binds the rootfs onto
 * itself (a private mount of its own), mounts everything under it and chroots
 * into it (src/linux/rootfs/mountns.ts). Those mounts outlive the container
 * (runc leaves them behind); runts removes them at `delete`.
 *
 * The record names the self-bind before it exists: the mount it will sit on
 * (the mount holding the rootfs when create starts). A mount whose mountpoint
 * is the rootfs and whose parent is that mount is the container's. Unmounting
 * it (MNT_DETACH) takes everything under it along, so a SIGKILLed create or
 * container leaves nothing that `delete --force` cannot remove.
 */
import * as fs from 'node:fs';
import { RuntsError } from '../common/errors.js';
import * as libc from '../linux/libc.js';
import { MNT_DETACH, O, UMOUNT_NOFOLLOW } from '../linux/abi.js';
import { type MountInfo, parseMountinfo } from '../linux/rootfs/mountinfo.js';

export interface HostRootfsMount {
  /** Mount id (/proc/self/mountinfo) of the mount holding the rootfs before the container's self-bind. */
  parentMountId: number;
}

/** The mount id of the mount an fd is on (fdinfo "mnt_id"). */
function mountIdOf(fd: number): number {
  const m = /^mnt_id:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  if (!m) throw new RuntsError(`/proc/self/fdinfo/${fd} has no mnt_id`, { op: 'read', path: `/proc/self/fdinfo/${fd}` });
  return Number(m[1]);
}

/** Before create makes anything: what the record must say to find the container's mounts later. */
export function hostRootfsMountRecord(rootfs: string): HostRootfsMount {
  const fd = libc.open(rootfs, O.PATH | O.DIRECTORY);
  try {
    return { parentMountId: mountIdOf(fd) };
  } finally {
    libc.close(fd);
  }
}

/** The container's self-bind at `rootfs`, if it is still mounted, and the mounts stacked on it there. */
function containerStack(mounts: MountInfo[], rootfs: string, rec: HostRootfsMount): { ours: MountInfo; top: MountInfo | undefined } | null {
  const at = mounts.filter((m) => m.mountpoint === rootfs);
  const ours = at.find((m) => m.parent === rec.parentMountId);
  if (!ours) return null;
  // The top of the stack at the rootfs is the mount there that nothing else there sits on.
  let top = at.find((m) => !at.some((o) => o.parent === m.id));
  // It must be ours or sit on ours: umount2 of the path removes the top one only.
  for (let m = top; m && m.id !== ours.id; m = at.find((o) => o.id === m!.parent)) {
    if (!at.some((o) => o.id === m!.parent)) { top = undefined; break; }
  }
  return { ours, top };
}

/**
 * Unmount the container's self-bind of the rootfs, and with it every mount
 * under it. Nothing else is touched: a mount at the rootfs that is not the
 * container's (or covers it) is left alone, with an error.
 */
export function removeHostRootfsMount(rootfs: string, rec: HostRootfsMount): void {
  for (let i = 0; i < 64; i++) {
    const stack = containerStack(parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')), rootfs, rec);
    if (!stack) return;
    if (!stack.top) {
      throw new RuntsError(`the container's mount at ${rootfs} (mount id ${stack.ours.id}) is covered by a mount that is not the container's: left in place`,
        { op: 'umount2', path: rootfs, errno: 'EBUSY' });
    }
    // the path must lead to that top mount (not to a stack elsewhere, after the mounts above it changed)
    const fd = libc.open(rootfs, O.PATH | O.DIRECTORY | O.NOFOLLOW);
    let id: number;
    try { id = mountIdOf(fd); } finally { libc.close(fd); }
    if (id !== stack.top.id) {
      throw new RuntsError(`${rootfs} does not lead to the container's mount (mount id ${stack.ours.id}): left in place`, { op: 'umount2', path: rootfs, errno: 'EBUSY' });
    }
    libc.umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW);
  }
  throw new RuntsError(`cannot unmount the container's mounts at ${rootfs}`, { op: 'umount2', path: rootfs });
}
