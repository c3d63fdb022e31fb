/**
 * The shared layer store (`--shared`, default /var/lib/runts/layers): each
 * layer unpacked once, by diff_id, into STORE/<hex>, never written again
 * (overlayfs only reads lower dirs). A layer is extracted into
 * STORE/.tmp-<random> and renamed into place only after its digests were
 * verified, so a STORE/<hex> that exists is complete. STORE/.refs/<key>.json
 * records which bundle uses which layers; `runts image prune` removes refs
 * whose bundle is gone and then every layer no ref names. STORE/.lock
 * (flock) serializes unpacks, removals and prunes.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntsError } from '../common/errors.js';
import { LOCK, O } from '../linux/abi.js';
import { close, flock, open } from '../linux/libc.js';

export const DEFAULT_STORE = '/var/lib/runts/layers';

export interface StoreRef { bundle: string; layers: string[] }

const HEX = /^[a-f0-9]{64}$/;

export class LayerStore {
  readonly dir: string;
  private lockFd?: number;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /** Create the store (0700: the layer trees keep the image's modes; only root walks into them). */
  init(): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.join(this.dir, '.refs'), { mode: 0o700, recursive: true });
  }

  lock(): void {
    this.init();
    const fd = open(path.join(this.dir, '.lock'), O.RDWR | O.CREAT | O.NOFOLLOW, 0o600);
    flock(fd, LOCK.EX, path.join(this.dir, '.lock'));
    this.lockFd = fd;
  }

  unlock(): void {
    if (this.lockFd !== undefined) close(this.lockFd);
    this.lockFd = undefined;
  }

  layerDir(hex: string): string {
    if (!HEX.test(hex)) throw new RuntsError(`bad layer id ${JSON.stringify(hex)}`);
    return path.join(this.dir, hex);
  }

  has(hex: string): boolean {
    return fs.lstatSync(this.layerDir(hex), { throwIfNoEntry: false })?.isDirectory() === true;
  }

  /** A fresh private directory to extract a layer into. */
  tempDir(): string {
    const d = path.join(this.dir, `.tmp-${randomBytes(8).toString('hex')}`);
    fs.mkdirSync(d, { mode: 0o755 });
    return d;
  }

  /** Publish a verified layer tree; someone else's copy wins when there already is one. */
  publish(tmp: string, hex: string): void {
    try {
      fs.renameSync(tmp, this.layerDir(hex));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  private refFile(bundle: string): string {
    return path.join(this.dir, '.refs', createHash('sha256').update(bundle).digest('hex').slice(0, 32) + '.json');
  }

  addRef(ref: StoreRef): void {
    const f = this.refFile(ref.bundle);
    fs.writeFileSync(f + '.tmp', JSON.stringify(ref) + '\n', { mode: 0o600 });
    fs.renameSync(f + '.tmp', f);
  }

  dropRef(bundle: string): void {
    fs.rmSync(this.refFile(bundle), { force: true });
  }

  refs(): { file: string; ref: StoreRef | undefined }[] {
    const dir = path.join(this.dir, '.refs');
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => {
      const file = path.join(dir, n);
      try {
        const v = JSON.parse(fs.readFileSync(file, 'utf8')) as StoreRef;
        return { file, ref: typeof v.bundle === 'string' && Array.isArray(v.layers) ? v : undefined };
      } catch {
        return { file, ref: undefined };
      }
    });
  }

  /** Layer ids present in the store. */
  layers(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs.readdirSync(this.dir).filter((n) => HEX.test(n));
  }

  /**
   * Drop refs whose bundle no longer uses this store, then remove unreferenced
   * layers and stale temporary dirs. Call with the lock held.
   */
  prune(stillUses: (ref: StoreRef) => boolean): { layers: string[]; refs: number; temps: number } {
    const used = new Set<string>();
    let refs = 0;
    for (const { file, ref } of this.refs()) {
      if (ref && stillUses(ref)) ref.layers.forEach((l) => used.add(l));
      else { fs.rmSync(file, { force: true }); refs++; }
    }
    const removed: string[] = [];
    for (const hex of this.layers()) {
      if (used.has(hex)) continue;
      fs.rmSync(this.layerDir(hex), { recursive: true, force: true });
      removed.push(hex);
    }
    let temps = 0;
    for (const n of fs.readdirSync(this.dir)) {
      if (n.startsWith('.tmp-')) { fs.rmSync(path.join(this.dir, n), { recursive: true, force: true }); temps++; }
    }
    return { layers: removed, refs, temps };
  }
}
