/**
 * The state directory: <root>/<id>/ holds
 *   state.json   the container record (written atomically: tmp + rename)
 *   config.json  the config as it was at create time (hooks at start/delete use it)
 *   init.sock    the init's start socket while the container is `created`
 *
 * Exactly one of two racing creates wins: a create builds its directory under
 * a temporary name, with state.json inside, and renames it to <id>; rename
 * fails for the loser because <id> exists and is not empty.
 * Mutating commands (create, start, delete) hold an flock on the directory.
 * Readers (state, list) take no lock and treat a vanished file as "gone".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntsError, SyscallError } from '../common/errors.js';
import { sleepMs } from '../common/sleep.js';
import * as libc from '../linux/libc.js';
import { LOCK, O } from '../linux/abi.js';
import type { CgroupRecord } from '../cgroups/manager.js';
import type { HostRootfsMount } from '../container/host-rootfs.js';

const CONTAINER_ID = /^[A-Za-z0-9_+-][A-Za-z0-9_+.-]*$/;

export interface ContainerRecord {
  id: string;
  ociVersion: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  /** 'creating' until the init said ready. */
  phase: 'creating' | 'created';
  /** The runts process doing the create, to tell a live create from a dead one. */
  creator: { pid: number; startTime: string };
  /** The container init, as soon as it exists. */
  init?: { pid: number; startTime: string };
  /** Cgroups, recorded before they are created. */
  cgroup?: CgroupRecord;
  /** The init has its own pid namespace (kill --all is then implied by killing the init). */
  pidns: boolean;
  /** No mount namespace: the rootfs self-bind in the host's, recorded before it is made (src/container/host-rootfs.ts). */
  hostRootfsMount?: HostRootfsMount;
}

export class Lock {
  constructor(private fd: number) {}
  release(): void {
    if (this.fd >= 0) libc.close(this.fd);
    this.fd = -1;
  }
}

export class Store {
  constructor(readonly root: string) {}

  /** Every command reaches a container only through here: ids are checked (no `/`, `..`). */
  dir(id: string): string {
    if (!CONTAINER_ID.test(id) || id.length > 1024) {
      throw new RuntsError(`invalid container id ${JSON.stringify(id)}: must match [A-Za-z0-9_+-][A-Za-z0-9_+.-]* (max 1024)`, { op: 'lookup' });
    }
    return path.join(this.root, id);
  }

  private ensureRoot(): void {
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
  }

  /** Create <root>/<id> with its first state.json, atomically; returns the held lock. */
  createExclusive(rec: ContainerRecord, config: unknown): Lock {
    this.ensureRoot();
    this.dir(rec.id);
    removeLeftovers(this.root, rec.id);
    const tmp = fs.mkdtempSync(path.join(this.root, tempPrefix(rec.id)));
    let fd = -1;
    try {
      // locked at once: an unlocked temp dir is a killed create's leftover (removeLeftovers)
      fd = libc.open(tmp, O.RDONLY | O.DIRECTORY);
      libc.flock(fd, LOCK.EX, tmp);
      fs.chmodSync(tmp, 0o700);
      writeAtomic(path.join(tmp, 'config.json'), JSON.stringify(config));
      writeAtomic(path.join(tmp, 'state.json'), JSON.stringify(rec));
      try {
        fs.renameSync(tmp, this.dir(rec.id));
      } catch (e) {
        libc.close(fd);
        fd = -1;
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
          throw new RuntsError(`container with id "${rec.id}" already exists`, { op: 'create', path: this.dir(rec.id), errno: 'EEXIST' });
        }
        throw e;
      }
      return new Lock(fd);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (fd >= 0) libc.close(fd);
      throw e;
    }
  }

  /**
   * Remove what a killed command left for this id where no container can be
   * found (delete --force and create call it): unlocked temp dirs of a create
   * killed before its rename, and <id>/ without state.json (a delete killed
   * between its two removals). Returns whether anything was removed.
   */
  removeLeftovers(id: string): boolean {
    this.dir(id);
    return removeLeftovers(this.root, id);
  }

  /** Lock an existing container for a mutating command (waits up to timeoutMs). */
  lock(id: string, timeoutMs = 30_000): Lock {
    let fd: number;
    try {
      fd = libc.open(this.dir(id), O.RDONLY | O.DIRECTORY);
    } catch (e) {
      if (e instanceof SyscallError && e.errno === 'ENOENT') throw notFound(id);
      throw e;
    }
    const deadline = Date.now() + timeoutMs;
    while (!libc.flock(fd, LOCK.EX | LOCK.NB, this.dir(id))) {
      if (Date.now() > deadline) {
        libc.close(fd);
        throw new RuntsError(`container "${id}" is locked by another runts command (waited ${timeoutMs / 1000} s)`, { op: 'flock', path: this.dir(id) });
      }
      sleepMs(20);
    }
    return new Lock(fd);
  }

  /** The record, or null when the container does not exist (or is being removed). */
  read(id: string): ContainerRecord | null {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir(id), 'state.json'), 'utf8')) as ContainerRecord;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      if (e instanceof SyntaxError) throw new RuntsError(`state of container "${id}" is corrupt: ${e.message}`, { path: path.join(this.dir(id), 'state.json') });
      throw e;
    }
  }

  mustRead(id: string): ContainerRecord {
    const rec = this.read(id);
    if (!rec) throw notFound(id);
    return rec;
  }

  write(rec: ContainerRecord): void {
    writeAtomic(path.join(this.dir(rec.id), 'state.json'), JSON.stringify(rec));
  }

  config(id: string): unknown {
    return JSON.parse(fs.readFileSync(path.join(this.dir(id), 'config.json'), 'utf8'));
  }

  /** Ids of all containers (hidden in-progress directories skipped). */
  ids(): string[] {
    try {
      return fs.readdirSync(this.root).filter((n) => !n.startsWith('.')).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  /** Remove the state dir: state.json first, so readers see "gone" at once. */
  remove(id: string): void {
    const dir = this.dir(id);
    fs.rmSync(path.join(dir, 'state.json'), { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The temp dir name of a create of `id`, before mkdtemp's 6 random
 * characters: `.new-<id>-` (a file name holds at most 255 bytes, so a long id is
 * replaced by its hash). No id contains '#', so a prefix names exactly one id.
 */
export function tempPrefix(id: string): string {
  // node:crypto only here (~5 ms to load): every command reads the store
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tag = id.length <= 200 ? id : `#${(require('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(id).digest('hex')}`;
  return `.new-${tag}-`;
}

/** Remove `dir` if nobody holds its lock (a live create or delete does). */
function removeIfUnlocked(dir: string): boolean {
  let fd: number;
  try {
    fd = libc.open(dir, O.RDONLY | O.DIRECTORY | O.NOFOLLOW);
  } catch {
    return false; // gone, or not a directory
  }
  try {
    if (!libc.flock(fd, LOCK.EX | LOCK.NB, dir)) return false;
    fs.rmSync(dir, { recursive: true, force: true });
    return true;
  } finally {
    libc.close(fd);
  }
}

function removeLeftovers(root: string, id: string): boolean {
  const prefix = tempPrefix(id);
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return false;
  }
  let removed = false;
  for (const n of names) {
    if (n.length === prefix.length + 6 && n.startsWith(prefix)) removed = removeIfUnlocked(path.join(root, n)) || removed;
  }
  const dir = path.join(root, id);
  if (names.includes(id) && !fs.existsSync(path.join(dir, 'state.json'))) removed = removeIfUnlocked(dir) || removed;
  return removed;
}

export function notFound(id: string): RuntsError {
  return new RuntsError(`container "${id}" does not exist`, { op: 'lookup', errno: 'ENOENT' });
}

/** Write a file so that readers see either the old or the new content. */
export function writeAtomic(file: string, data: string, mode = 0o600): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data, { mode });
  fs.renameSync(tmp, file);
}
