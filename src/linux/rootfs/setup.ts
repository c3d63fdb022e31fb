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
 *
 * This file holds the three phases and the pivot; their steps live in
 * mount-api.ts (new mount API helpers, error context), mounts.ts (config
 * mounts), devices.ts (device nodes, /dev links), console-mount.ts
 * (/dev/console) and masks.ts (readonly and masked paths).
 */

import * as fs from 'node:fs';
import { SyscallError } from '../../common/errors.js';
import { chdir, chroot, close, fchdir, mount, mountSetattr, moveMount, open, openTree, pivotRoot, umask, umount2 } from '../libc.js';
import { AT, EINVAL, ENOENT, EPERM, MNT_DETACH, MOUNT_ATTR as ATTR, MOVE_MOUNT, MS, O, OPEN_TREE } from '../abi.js';
import { createConsoleTarget } from './console-mount.js';
import { createDevSymlink, createDevice } from './devices.js';
import { maskPaths, readonlyPaths } from './masks.js';
import { EMPTY, MOVE_FDS, closeQuietly, msPropagation, setPropagation, withContext } from './mount-api.js';
import { doMount, freshMounts, type PrepareEnv } from './mounts.js';
import { makeParentPrivate, openRootfs } from './mountns.js';
import { isUnder, parseMountinfo } from './mountinfo.js';
import type { RootfsPlan } from './plan-types.js';
import { openInRoot } from './resolve.js';

export { mountConsole } from './console-mount.js';
export type { PrepareEnv } from './mounts.js';

/** The rootfs mount (an fd of the self-bind) carried from prepareRootfs to enterRootfs. */
let preparedRoot: { rootfs: string; fd: number } | null = null;

// ---------------------------------------------------------------------------
// Phase 1: prepare

/**
 * Before pivot_root: set / propagation, bind the rootfs onto itself, apply
 * every mount in config order, then devices, /dev/ptmx and /dev links.
 */
export function prepareRootfs(plan: RootfsPlan, env: PrepareEnv = {}): void {
  if (preparedRoot) { closeQuietly(preparedRoot.fd); preparedRoot = null; }
  freshMounts.clear();
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
