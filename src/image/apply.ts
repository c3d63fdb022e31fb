/**
 * Applying one layer's tar entries to a directory tree through fds: the
 * TarSink behind unpacking. Every parent directory is resolved with
 * openat2(RESOLVE_IN_ROOT) below the fd of the tree's root (symlinks a lower
 * layer left behave as if the root were "/", nothing outside is reachable)
 * and every change is one *at() call on one component below that verified
 * parent, never following a symlink in the last component. Two modes:
 *  - 'flatten': whiteouts and opaque markers delete what the lower layers
 *    left in the same tree (a plain bundle rootfs);
 *  - 'overlay': the tree holds this layer alone (a shared store layer), and
 *    whiteouts become what overlayfs reads: a 0:0 character device for a
 *    removed name, the trusted.overlay.opaque xattr for an opaque directory.
 */
import * as fs from 'node:fs';
import { RuntsError, SyscallError } from '../common/errors.js';
import { AT, EEXIST, ENOTDIR, ENOTSUP, EPERM, O, RESOLVE, S_IFBLK, S_IFCHR, S_IFIFO } from '../linux/abi.js';
import { close, fchownat, mkdirat, mknodat, openat, openat2, symlinkat, unlinkat } from '../linux/libc.js';
import { mkdirAllInRoot, tryOpenInRoot } from '../linux/rootfs/resolve.js';
import { classifyEntry, HostileEntryError, xattrAllowed } from './entry-path.js';
import { linkFd, lstatAt, readdirFd, setTimesAt, setTimesFd, setXattrAt, setXattrFd } from './fs-ops.js';
import type { TarEntry, TarSink } from './tar.js';

export interface ApplyLimits {
  /** Entries in one layer. */
  maxEntries: number;
  /** Bytes of file contents over all layers of one unpack. */
  maxTotalBytes: number;
}

export const DEFAULT_APPLY_LIMITS: ApplyLimits = { maxEntries: 1_000_000, maxTotalBytes: 64 * 2 ** 30 };

export interface ApplyStats { entries: number; bytes: number; skippedXattrs: number }

const IN_ROOT = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS;
const DIR_CACHE_MAX = 256;

function shownOf(comps: string[]): string {
  return '/' + comps.join('/');
}

/** (uid_t)-1 and (gid_t)-1 mean "unchanged" to chown: never reachable from an image. */
const ID_MAX = 0xfffffffe;

function checkNumbers(e: TarEntry): void {
  if (e.uid > ID_MAX || e.gid > ID_MAX) throw new HostileEntryError(e.name, `owner ${e.uid}:${e.gid} is out of range (at most ${ID_MAX})`);
  if (e.devmajor > 0xffffffff || e.devminor > 0xffffffff) throw new HostileEntryError(e.name, `device number ${e.devmajor}:${e.devminor} is out of range`);
}

export class LayerApplier implements TarSink {
  private dirs = new Map<string, number>();
  /** Paths this layer created: its own whiteouts and opaque markers leave them alone (flatten mode). */
  private mine = new Set<string>();
  /** Directory mtimes, set when the layer is done (children change them). */
  private dirTimes: { comps: string[]; mtime: number }[] = [];
  /**
   * The mtime each directory had before this layer changed something in it:
   * restored when the layer is done (umoci does the same), so only the
   * directories a layer lists take its mtimes.
   */
  private touched = new Map<string, number>();
  /** Directories this layer made: empty but for this layer's own entries. */
  private madeDirs = new Set<string>();
  private file?: { fd: number; shown: string; e: TarEntry };
  private total = 0;
  /** Something was removed: cached directory fds may name dead directories; dropped at the next lookup. */
  private stale = false;
  readonly stats: ApplyStats = { entries: 0, bytes: 0, skippedXattrs: 0 };

  constructor(
    private readonly rootfd: number,
    private readonly mode: 'flatten' | 'overlay',
    private readonly limits: ApplyLimits = DEFAULT_APPLY_LIMITS,
    /** Bytes already written by earlier layers of the same unpack. */
    totalSoFar = 0,
    /** The tree is empty (the first layer, or a layer of its own): nothing of a lower layer is in the way. */
    private readonly emptyStart = mode === 'overlay',
  ) {
    this.total = totalSoFar;
  }

  get totalBytes(): number { return this.total; }

  entry(e: TarEntry): void {
    if (++this.stats.entries > this.limits.maxEntries) {
      throw new RuntsError(`layer has more than ${this.limits.maxEntries} entries`, { op: 'unpack' });
    }
    checkNumbers(e);
    const k = classifyEntry(e.name);
    if (k.kind === 'ignore') return;
    if (k.kind === 'whiteout') return this.whiteout(k.comps, e);
    if (k.kind === 'opaque') return this.opaque(k.comps, e);
    const comps = k.comps;
    if (comps.length === 0) {
      if (e.type !== 'dir') throw new HostileEntryError(e.name, `names the root itself but is a ${e.type}, not a directory`);
      return this.rootDir(e);
    }
    const key = comps.join('/');
    const parent = this.parent(comps);
    const name = comps[comps.length - 1]!;
    const shown = shownOf(comps);
    // on a tree that started empty, only this layer's own entries can be in the way: no lstat for the others
    // (an EEXIST then, through a symlinked parent, takes the slow way below)
    const fresh = (this.emptyStart || this.madeDirs.has(comps.slice(0, -1).join('/'))) && !this.mine.has(key);
    this.mine.add(key);
    try {
      this.create(parent, name, shown, comps, e, fresh);
    } catch (err) {
      if (!(fresh && err instanceof SyscallError && err.code === EEXIST)) throw err;
      this.create(parent, name, shown, comps, e, false);
    }
  }

  private create(parent: number, name: string, shown: string, comps: string[], e: TarEntry, fresh: boolean): void {
    const existing = fresh ? undefined : lstatAt(parent, name);
    if (existing && !(e.type === 'dir' && existing.isDirectory())) this.remove(parent, name, shown, existing);
    switch (e.type) {
      case 'dir': return this.dir(parent, name, shown, comps, e, existing?.isDirectory() === true);
      case 'file': return this.regular(parent, name, shown, e);
      case 'symlink': return this.symlink(parent, name, shown, e);
      case 'link': return this.hardlink(parent, name, shown, e);
      case 'char': case 'block': case 'fifo': return this.special(parent, name, shown, e);
    }
  }

  data(chunk: Buffer): void {
    const f = this.file!;
    this.total += chunk.length;
    this.stats.bytes += chunk.length;
    if (this.total > this.limits.maxTotalBytes) {
      throw new RuntsError(`the image's files are larger than the limit of ${this.limits.maxTotalBytes} bytes`, { op: 'unpack', path: f.shown });
    }
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(f.fd, chunk, off, chunk.length - off);
  }

  end(): void {
    const f = this.file;
    if (!f) return;
    this.file = undefined;
    try {
      fs.fchownSync(f.fd, f.e.uid, f.e.gid);
      fs.fchmodSync(f.fd, f.e.mode);
      this.xattrsFd(f.fd, f.shown, f.e);
      setTimesFd(f.fd, f.e.mtime);
    } finally {
      close(f.fd);
    }
  }

  /** Directory mtimes, deepest first; then every cached fd is closed. */
  finish(): void {
    this.abort();
    const listed = new Set(this.dirTimes.map((d) => d.comps.join('/')));
    const restore = [...this.touched].filter(([k]) => !listed.has(k)).map(([k, mtime]) => ({ comps: k === '' ? [] : k.split('/'), mtime }));
    this.touched.clear();
    this.dirTimes.sort((a, b) => b.comps.length - a.comps.length);
    for (const { comps, mtime } of [...restore, ...this.dirTimes]) {
      const fd = tryOpenInRoot(this.rootfd, shownOf(comps), { nofollow: true });
      if (fd === null) continue;
      try {
        if (fs.fstatSync(fd).isDirectory()) setTimesAt(fd, '', mtime, shownOf(comps));
      } finally {
        close(fd);
      }
    }
    this.dirTimes = [];
  }

  /** Close what is open (after an error too). */
  abort(): void {
    if (this.file) { close(this.file.fd); this.file = undefined; }
    this.clearDirs();
  }

  private clearDirs(): void {
    for (const fd of this.dirs.values()) close(fd);
    this.dirs.clear();
  }

  /** O_PATH fd of the parent directory of comps, made (0755, root) when missing; cached. */
  private parent(comps: string[]): number {
    const key = comps.slice(0, -1).join('/');
    if (this.stale) { this.clearDirs(); this.stale = false; }
    const hit = this.dirs.get(key);
    if (hit !== undefined) return hit;
    if (this.dirs.size >= DIR_CACHE_MAX) this.clearDirs();
    let fd: number;
    try {
      fd = mkdirAllInRoot(this.rootfd, '/' + key);
    } catch (e) {
      if (e instanceof RuntsError && e.errno === 'ENOTDIR') {
        throw new HostileEntryError(shownOf(comps), `a parent is not a directory: ${e.message}`);
      }
      throw e;
    }
    this.dirs.set(key, fd);
    this.touch(key, fd);
    return fd;
  }

  private touch(key: string, fd: number): void {
    if (this.touched.has(key)) return;
    const st = fs.fstatSync(fd, { bigint: true });
    if ((Number(st.mode) & 0o170000) === 0o040000) this.touched.set(key, Number(st.mtimeNs) / 1e9);
  }

  /** Remove one name below a verified directory; a directory with everything in it, fd by fd. */
  private remove(dirFd: number, name: string, shown: string, st?: fs.Stats): void {
    const s = st ?? lstatAt(dirFd, name);
    if (!s) return;
    this.stale = true;
    if (s.isDirectory()) {
      const fd = openat(dirFd, name, O.RDONLY | O.DIRECTORY | O.NOFOLLOW, 0, shown);
      try {
        for (const child of readdirFd(fd)) this.remove(fd, child, `${shown}/${child}`);
      } finally {
        close(fd);
      }
      unlinkat(dirFd, name, AT.REMOVEDIR, shown);
    } else {
      unlinkat(dirFd, name, 0, shown);
    }
  }

  private rootDir(e: TarEntry): void {
    const fd = openat2(this.rootfd, '.', O.RDONLY | O.DIRECTORY, IN_ROOT, 0, '/');
    try {
      fs.fchownSync(fd, e.uid, e.gid);
      fs.fchmodSync(fd, e.mode);
      this.xattrsFd(fd, '/', e);
    } finally {
      close(fd);
    }
    this.dirTimes.push({ comps: [], mtime: e.mtime });
  }

  private dir(parent: number, name: string, shown: string, comps: string[], e: TarEntry, exists: boolean): void {
    if (!exists) {
      mkdirat(parent, name, 0o700, shown);
      this.madeDirs.add(comps.join('/'));
    }
    const fd = openat(parent, name, O.RDONLY | O.DIRECTORY | O.NOFOLLOW, 0, shown);
    try {
      fs.fchownSync(fd, e.uid, e.gid);
      fs.fchmodSync(fd, e.mode);
      this.xattrsFd(fd, shown, e);
    } finally {
      close(fd);
    }
    this.dirTimes.push({ comps, mtime: e.mtime });
  }

  private regular(parent: number, name: string, shown: string, e: TarEntry): void {
    const fd = openat(parent, name, O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW | O.NOCTTY, 0o600, shown);
    this.file = { fd, shown, e };
  }

  private symlink(parent: number, name: string, shown: string, e: TarEntry): void {
    if (e.linkname === '' || e.linkname.includes('\0')) throw new HostileEntryError(e.name, 'symlink with an empty or NUL-containing target');
    symlinkat(e.linkname, parent, name, shown);
    this.metaAt(parent, name, shown, e, false);
  }

  private hardlink(parent: number, name: string, shown: string, e: TarEntry): void {
    const target = classifyEntry(e.linkname);
    if (target.kind !== 'content' || target.comps.length === 0) throw new HostileEntryError(e.name, `hard link to ${JSON.stringify(e.linkname)}`);
    const tshown = shownOf(target.comps);
    // the target itself is never followed: a link to a symlink links the symlink
    const tfd = tryOpenInRoot(this.rootfd, tshown, { nofollow: true });
    if (tfd === null) throw new HostileEntryError(e.name, `hard link to ${tshown}, which does not exist${this.mode === 'overlay' ? ' in this layer' : ''}`);
    try {
      if (fs.fstatSync(tfd).isDirectory()) throw new HostileEntryError(e.name, `hard link to the directory ${tshown}`);
      linkFd(tfd, parent, name, shown);
    } finally {
      close(tfd);
    }
  }

  private special(parent: number, name: string, shown: string, e: TarEntry): void {
    const type = e.type === 'char' ? S_IFCHR : e.type === 'block' ? S_IFBLK : S_IFIFO;
    mknodat(parent, name, type | 0o600, e.devmajor, e.devminor, shown);
    this.metaAt(parent, name, shown, e, true);
  }

  /** Owner, mode, xattrs and mtime of a non-directory that is not opened (symlinks, devices, fifos). */
  private metaAt(parent: number, name: string, shown: string, e: TarEntry, chmod: boolean): void {
    fchownat(parent, name, e.uid, e.gid, AT.SYMLINK_NOFOLLOW, shown);
    if (chmod) {
      // an O_PATH fd of exactly this node (no follow), then chmod through its kernel name
      const fd = openat(parent, name, O.PATH | O.NOFOLLOW, 0, shown);
      try { fs.chmodSync(`/proc/self/fd/${fd}`, e.mode); } finally { close(fd); }
    }
    for (const [k, v] of e.xattrs) {
      if (!xattrAllowed(k)) { this.stats.skippedXattrs++; continue; }
      try {
        setXattrAt(parent, name, k, v, shown);
      } catch (err) {
        // user.* xattrs are not allowed on symlinks and special files
        if (err instanceof SyscallError && (err.code === EPERM || err.code === ENOTSUP)) { this.stats.skippedXattrs++; continue; }
        throw err;
      }
    }
    setTimesAt(parent, name, e.mtime, shown);
  }

  private xattrsFd(fd: number, shown: string, e: TarEntry): void {
    for (const [k, v] of e.xattrs) {
      if (!xattrAllowed(k)) { this.stats.skippedXattrs++; continue; }
      try {
        setXattrFd(fd, k, v, shown);
      } catch (err) {
        if (err instanceof SyscallError && err.code === ENOTSUP) { this.stats.skippedXattrs++; continue; }
        throw err;
      }
    }
  }

  /** A whiteout: the name goes away (flatten) or becomes a 0:0 character device (overlay). */
  private whiteout(comps: string[], e: TarEntry): void {
    const key = comps.join('/');
    const shown = shownOf(comps);
    const name = comps[comps.length - 1]!;
    if (this.mode === 'overlay') {
      const parent = this.parent(comps);
      const existing = lstatAt(parent, name);
      if (existing) this.remove(parent, name, shown, existing);
      mknodat(parent, name, S_IFCHR | 0o600, 0, 0, shown);
      fchownat(parent, name, e.uid, e.gid, AT.SYMLINK_NOFOLLOW, shown);
      return;
    }
    if (this.mine.has(key)) return;
    const parent = this.lowerDir(comps.slice(0, -1));
    if (parent === null) return; // nothing below to hide
    try {
      this.touch(comps.slice(0, -1).join('/'), parent);
      this.remove(parent, name, shown);
    } finally {
      close(parent);
    }
  }

  /** A directory of the lower layers for a whiteout or an opaque marker, or null when there is none (missing, or not a directory). */
  private lowerDir(comps: string[]): number | null {
    try {
      return tryOpenInRoot(this.rootfd, shownOf(comps), { directory: true });
    } catch (e) {
      if (e instanceof SyscallError && e.code === ENOTDIR) return null;
      throw e;
    }
  }

  /** An opaque directory: what the lower layers have in it is hidden. */
  private opaque(comps: string[], e: TarEntry): void {
    const shown = shownOf(comps);
    if (this.mode === 'overlay') {
      const pfd = mkdirAllInRoot(this.rootfd, shown);
      this.stale = true;
      let fd: number;
      try { fd = openat(pfd, '.', O.RDONLY | O.DIRECTORY, 0, shown); } finally { close(pfd); }
      try {
        setXattrFd(fd, 'trusted.overlay.opaque', Buffer.from('y'), shown);
      } finally {
        close(fd);
      }
      void e;
      return;
    }
    const dir = this.lowerDir(comps);
    if (dir === null) return;
    const prefix = comps.length ? comps.join('/') + '/' : '';
    try {
      this.touch(comps.join('/'), dir);
      for (const child of readdirFd(dir)) {
        if (!this.mine.has(prefix + child)) this.remove(dir, child, `${shown === '/' ? '' : shown}/${child}`);
      }
    } finally {
      close(dir);
    }
  }
}
