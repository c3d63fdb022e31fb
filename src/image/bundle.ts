/**
 * A bundle made by `runts image unpack`: where its parts are, its record
 * (BUNDLE/.runts-image/info.json), and `image remove` / `image mount` /
 * `image prune` on it. Only a directory with that record is ever removed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntsError } from '../common/errors.js';
import { isOverlayMounted, mountOverlay, rootUser, unmountOverlay } from './overlay.js';
import { LayerStore, type StoreRef } from './store.js';

export interface BundleInfo {
  version: 1;
  layout: string;
  ref?: string;
  manifest: string;
  shared?: { store: string; layers: string[] };
}

export function bundlePaths(bundle: string) {
  const meta = path.join(bundle, '.runts-image');
  return {
    config: path.join(bundle, 'config.json'),
    rootfs: path.join(bundle, 'rootfs'),
    meta,
    info: path.join(meta, 'info.json'),
    upper: path.join(meta, 'upper'),
    work: path.join(meta, 'work'),
  };
}

export function writeInfo(bundle: string, info: BundleInfo): void {
  fs.writeFileSync(bundlePaths(bundle).info, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
}

export function readInfo(bundle: string): BundleInfo | undefined {
  let text: string;
  try {
    text = fs.readFileSync(bundlePaths(bundle).info, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as BundleInfo;
    return v && v.version === 1 ? v : undefined;
  } catch {
    return undefined;
  }
}

function mustInfo(bundle: string): BundleInfo {
  const info = readInfo(bundle);
  if (!info) throw new RuntsError(`${bundle} is not a bundle made by runts image unpack (no ${bundlePaths(bundle).info})`, { op: 'image', path: bundle, errno: 'ENOENT' });
  return info;
}

/** Unmount (shared), delete the bundle, drop its store ref. */
export function removeBundle(bundleArg: string): void {
  const bundle = path.resolve(bundleArg);
  const info = mustInfo(bundle);
  const p = bundlePaths(bundle);
  if (fs.existsSync(p.rootfs)) {
    const pid = rootUser(p.rootfs);
    if (pid !== undefined) {
      throw new RuntsError(`${bundle} is in use: process ${pid} (a container running from it) has it as its root; delete the container first`, { op: 'image', path: bundle, errno: 'EBUSY' });
    }
  }
  if (info.shared) {
    unmountOverlay(p.rootfs);
  } else {
    const r = fs.lstatSync(p.rootfs, { throwIfNoEntry: false });
    if (r && r.dev !== fs.lstatSync(bundle).dev) throw new RuntsError(`${p.rootfs} has a mount on it; unmount it first`, { op: 'image', path: p.rootfs, errno: 'EBUSY' });
  }
  fs.rmSync(bundle, { recursive: true, force: true });
  if (info.shared) {
    const store = new LayerStore(info.shared.store);
    if (fs.existsSync(store.dir)) {
      store.lock();
      try { store.dropRef(bundle); } finally { store.unlock(); }
    }
  }
}

/** Mount a shared bundle's overlay again (after a reboot); nothing when it is mounted. */
export function mountBundle(bundleArg: string): boolean {
  const bundle = path.resolve(bundleArg);
  const info = mustInfo(bundle);
  const p = bundlePaths(bundle);
  if (!info.shared) throw new RuntsError(`${bundle} was not unpacked with --shared: its rootfs is a plain directory`, { op: 'image', path: bundle });
  if (isOverlayMounted(p.rootfs)) return false;
  const store = new LayerStore(info.shared.store);
  store.lock();
  try {
    for (const l of info.shared.layers) {
      if (!store.has(l)) throw new RuntsError(`layer ${l} is no longer in the store ${store.dir}; unpack the image again`, { op: 'image', path: store.layerDir(l), errno: 'ENOENT' });
    }
    store.addRef({ bundle, layers: info.shared.layers });
    mountOverlay({ lowers: info.shared.layers.map((l) => store.layerDir(l)), upper: p.upper, work: p.work, target: p.rootfs });
  } finally {
    store.unlock();
  }
  return true;
}

/** A ref still counts while its bundle exists and records this store and these layers. */
function bundleStillUses(store: LayerStore, ref: StoreRef): boolean {
  const info = readInfo(ref.bundle);
  return info?.shared?.store === store.dir && info.shared.layers.join() === ref.layers.join();
}

export function pruneStore(dir: string): { layers: string[]; refs: number; temps: number } {
  const store = new LayerStore(dir);
  if (!fs.existsSync(store.dir)) return { layers: [], refs: 0, temps: 0 };
  store.lock();
  try {
    return store.prune((ref) => bundleStillUses(store, ref));
  } finally {
    store.unlock();
  }
}
