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
 * Readers (state, list) take no lock and treat a vanished file as "gone" (reader.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntsError, SyscallError } from '../common/errors.js';
import { sleepMs } from '../common/sleep.js';
import * as libc from '../linux/libc.js';
import { LOCK, O } from '../linux/abi.js';
import { type ContainerRecord, notFound, StoreReader } from './reader.js';

export { type ContainerRecord, DEFAULT_ROOT, notFound } from './reader.js';

export class Lock {
  constructor(private fd: number) {}
  release(): void {
    if (this.fd >= 0) libc.close(this.fd);
    this.fd = -1;
  }
}

export class Store extends StoreReader {
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

  write(rec: ContainerRecord): void {
    writeAtomic(path.join(this.dir(rec.id), 'state.json'), JSON.stringify(rec));
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

/** Write a file so that readers see either the old or the new content. */
export function writeAtomic(file: string, data: string, mode = 0o600): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data, { mode });
  fs.renameSync(tmp, file);
}
