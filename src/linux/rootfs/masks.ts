/** linux.readonlyPaths and linux.maskedPaths, applied after the pivot. */

import { RuntsError } from '../../common/errors.js';
import { close, mountSetattr, moveMount, openTree } from '../libc.js';
import { AT, MOUNT_ATTR as ATTR, OPEN_TREE } from '../abi.js';
import { EMPTY, MOVE_FDS, closeQuietly, createFilesystem, withContext } from './mount-api.js';
import { describeStat, fdStat, openInRoot, tryOpenInRoot, type FdStat } from './resolve.js';

export function readonlyPaths(rootfd: number, paths: string[]): void {
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

export function maskPaths(rootfd: number, paths: string[]): void {
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
