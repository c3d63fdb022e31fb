/** /dev/console: the empty file prepareRootfs leaves, and the pty bound onto it after the pivot. */

import { RuntsError, SyscallError } from '../../common/errors.js';
import { close, moveMount, open, openTree, unlinkat } from '../libc.js';
import { AT, ENOENT, EROFS, O, OPEN_TREE, PTY_SLAVE_MAJOR_MAX, PTY_SLAVE_MAJOR_MIN } from '../abi.js';
import { EMPTY, MOVE_FDS, withContext } from './mount-api.js';
import { createBeneath, describeStat, fdStat, mkdirAllInRoot, openBeneath, tryOpenInRoot, type FdStat } from './resolve.js';

/**
 * The mount point for the console: an empty regular file /dev/console (a
 * character device already there is used as is). Anything else the image put
 * there (a symlink, a fifo, an empty directory) is removed first, never
 * followed (CVE-2025-52565).
 */
export function createConsoleTarget(rootfd: number): void {
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
