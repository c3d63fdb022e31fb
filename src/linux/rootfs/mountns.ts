/**
 * Which mount namespace the container's rootfs is set up in, and how the init
 * reaches the rootfs there (docs/protocol.md "The rootfs and the mount namespace").
 * The mode is decided from linux.namespaces by src/plan/namespaces.ts.
 *
 *   new   linux.namespaces has {"type":"mount"}: nsboot unshares it. nsboot is
 *         started with the rootfs as its working directory (the CLI's spawn
 *         chdir's there with the runtime's own privileges, on the host), and
 *         unshare(CLONE_NEWNS) carries the cwd over into the new namespace.
 *         The init opens "." instead of walking the rootfs path: a container
 *         with its own user namespace (mapped root) may not be allowed to
 *         traverse the bundle's parent directories (a 0700 temp dir).
 *   join  {"type":"mount","path":...}: node cannot start in a foreign mount
 *         namespace (its ELF interpreter and libraries are looked up there),
 *         so nsboot joins the other namespaces and the init's main thread
 *         joins this one (unshare(CLONE_FS) + setns); the rootfs path is then
 *         resolved in that namespace, as runc does.
 *   host  no mount namespace at all: the container shares the runtime's. The
 *         rootfs is bound onto itself (a private mount of our own, so nothing
 *         mounted under it propagates anywhere), every mount goes under it,
 *         and the init chroots into it (runc: chroot instead of pivot_root).
 *         The host's / and its mounts are never touched; `delete` unmounts
 *         the self-bind, and with it everything under it (src/container/host-rootfs.ts).
 */
import * as fs from 'node:fs';
import { RuntsError } from '../../common/errors.js';
import { close, mount, open, setns, unshare } from '../libc.js';
import { CLONE_FS, CLONE_NEWNS, MS, O } from '../abi.js';
import { mountContaining, parseMountinfo } from './mountinfo.js';
import type { MountNsMode } from './plan-types.js';
import { fdPath, fdStat } from './resolve.js';


/**
 * Join the mount namespace of `fd` on the calling (main) thread only: node's
 * threads share one fs_struct, so a plain setns(CLONE_NEWNS) fails with EINVAL;
 * unshare(CLONE_FS) first gives this thread its own. Its root and cwd become
 * the namespace's root. Only this thread survives execve; everything after
 * this must do its file I/O synchronously (libuv's pool stays outside).
 */
export function joinMountNamespace(fd: number): void {
  try {
    unshare(CLONE_FS, 'unshare(CLONE_FS)');
    setns(fd, CLONE_NEWNS, 'setns(CLONE_NEWNS)', 'linux.namespaces mount path');
  } finally {
    close(fd);
  }
}

/**
 * An O_PATH fd of the rootfs directory. In "join" mode by its path (resolved in
 * the joined namespace); otherwise the working directory nsboot was started in,
 * checked to be the rootfs.
 */
export function openRootfs(rootfs: string, mode: MountNsMode): number {
  if (mode === 'join') {
    let real: string;
    try {
      real = fs.realpathSync(rootfs);
    } catch (e) {
      throw new RuntsError(`invalid rootfs ${rootfs}: ${(e as Error).message}`, { path: rootfs, errno: (e as NodeJS.ErrnoException).code, cause: e });
    }
    if (real !== rootfs) throw new RuntsError(`invalid rootfs ${rootfs}: not an absolute path, or a symlink`, { path: rootfs });
    const fd = open(rootfs, O.PATH | O.DIRECTORY | O.NOFOLLOW | O.CLOEXEC);
    return checkedDir(fd, rootfs);
  }
  const fd = open('.', O.PATH | O.DIRECTORY | O.CLOEXEC);
  let where: string;
  try {
    where = fdPath(fd);
  } catch (e) { close(fd); throw e; }
  if (where !== rootfs) {
    close(fd);
    throw new RuntsError(`invalid rootfs ${rootfs}: the init was started in ${where}, not in the rootfs`, { path: rootfs, op: 'getcwd' });
  }
  return checkedDir(fd, rootfs);
}

function checkedDir(fd: number, rootfs: string): number {
  try {
    if (fdStat(fd).type !== 'dir') throw new RuntsError(`invalid rootfs ${rootfs}: not a directory`, { path: rootfs, errno: 'ENOTDIR' });
  } catch (e) { close(fd); throw e; }
  return fd;
}

/**
 * Host side (the CLI, before nsboot starts in it): the rootfs must be an
 * absolute path without symlinks and a directory (runc: "invalid rootfs").
 */
export function checkRootfsOnHost(rootfs: string): void {
  let real: string;
  try {
    real = fs.realpathSync(rootfs);
  } catch (e) {
    throw new RuntsError(`invalid rootfs ${rootfs}: ${(e as Error).message}`, { op: 'realpath', path: rootfs, errno: (e as NodeJS.ErrnoException).code, cause: e });
  }
  if (real !== rootfs) throw new RuntsError(`invalid rootfs ${rootfs}: not an absolute path, or a symlink`, { path: rootfs });
  if (!fs.statSync(rootfs).isDirectory()) throw new RuntsError(`invalid rootfs ${rootfs}: not a directory`, { path: rootfs, errno: 'ENOTDIR' });
}

/** runc's rootfsParentMountPrivate: the mount holding the rootfs must not be shared, or pivot_root fails and mounts leak to peers. */
export function makeParentPrivate(rootfs: string): void {
  const mounts = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  const parent = mountContaining(mounts, rootfs);
  if (parent && parent.optional.some((o) => o.startsWith('shared:'))) {
    mount(null, parent.mountpoint, null, MS.PRIVATE, null);
  }
}
