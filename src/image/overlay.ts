/**
 * The overlayfs rootfs of a --shared bundle: the store's layer trees as
 * lower dirs (topmost first), BUNDLE/.runts-image/upper and work as the
 * bundle's own writable layer. Mounted with fsopen/fsconfig("lowerdir+")
 * (no page-size limit on the option string) and moved onto BUNDLE/rootfs.
 */
import * as fs from 'node:fs';
import { RuntsError, SyscallError } from '../common/errors.js';
import { EBUSY, EINVAL, MOVE_MOUNT, O } from '../linux/abi.js';
import { close, moveMount, open, umount2 } from '../linux/libc.js';
import { createFilesystem } from '../linux/rootfs/mount-api.js';
import { fdStatfs } from '../linux/rootfs/resolve.js';

export const OVERLAYFS_MAGIC = 0x794c7630;

export interface OverlayDirs {
  /** Layer trees, bottom layer first (the image's order). */
  lowers: string[];
  upper: string;
  work: string;
  target: string;
}

/** Is an overlayfs mounted on `dir` (its root)? */
export function isOverlayMounted(dir: string): boolean {
  const fd = open(dir, O.PATH | O.DIRECTORY | O.NOFOLLOW);
  try {
    return fdStatfs(fd, dir).magic === OVERLAYFS_MAGIC;
  } finally {
    close(fd);
  }
}

export function mountOverlay(d: OverlayDirs): void {
  if (d.lowers.length === 0) throw new RuntsError('an image without layers cannot be --shared', { op: 'mount' });
  const data = [
    ...[...d.lowers].reverse().map((l) => ({ key: 'lowerdir+', value: l })),
    { key: 'upperdir', value: d.upper },
    { key: 'workdir', value: d.work },
  ];
  const mfd = createFilesystem('overlay', 'runts-image', [], data, 0);
  try {
    const tfd = open(d.target, O.PATH | O.DIRECTORY | O.NOFOLLOW);
    try {
      moveMount(mfd, '', tfd, '', MOVE_MOUNT.F_EMPTY_PATH | MOVE_MOUNT.T_EMPTY_PATH, d.target);
    } finally {
      close(tfd);
    }
  } finally {
    close(mfd);
  }
}

/** Unmount the overlay at `dir`; false when nothing was mounted there. A busy mount (a running container) is an error. */
export function unmountOverlay(dir: string): boolean {
  if (!isOverlayMounted(dir)) return false;
  try {
    umount2(dir, 0);
  } catch (e) {
    if (e instanceof SyscallError && e.code === EINVAL) return false;
    if (e instanceof SyscallError && e.code === EBUSY) {
      throw new RuntsError(`${dir} is busy: is a container still running from this bundle? (runts delete it first)`, { op: 'umount2', path: dir, errno: 'EBUSY' });
    }
    throw e;
  }
  return true;
}

/**
 * A process whose root directory is `rootfs` (a container running from the
 * bundle), or undefined. Compared by device and inode, which a container's
 * own copy of the mount keeps (for an overlay: its superblock's root); a
 * mount namespace that merely copied the host's mounts does not count, as
 * its processes have other roots.
 */
export function rootUser(rootfs: string): number | undefined {
  const st = fs.statSync(rootfs);
  for (const name of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      const r = fs.statSync(`/proc/${name}/root`);
      if (r.dev === st.dev && r.ino === st.ino) return Number(name);
    } catch {
      /* gone, or a kernel thread */
    }
  }
  return undefined;
}
