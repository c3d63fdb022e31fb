/**
 * `runts image unpack LAYOUT[:REF] BUNDLE`: pick the image, verify and apply
 * its layers (into BUNDLE/rootfs, or into the shared store and an overlayfs
 * on BUNDLE/rootfs with --shared), then write BUNDLE/config.json and the
 * bundle's record BUNDLE/.runts-image/info.json (what `image remove` and
 * `image mount` read). A failed unpack leaves nothing: what it made is removed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntsError } from '../common/errors.js';
import { logDebug } from '../common/log.js';
import { O } from '../linux/abi.js';
import { close, open } from '../linux/libc.js';
import { tryOpenInRoot } from '../linux/rootfs/resolve.js';
import { DEFAULT_APPLY_LIMITS, LayerApplier, type ApplyLimits } from './apply.js';
import { bundlePaths, writeInfo, type BundleInfo } from './bundle.js';
import { imageToSpec, parseGroup, parsePasswd, resolveUser } from './convert.js';
import { applyLayer } from './layer.js';
import { hostPlatform, Layout, parseConfig, parseIndex, parseManifest, selectManifest, splitImageArg, type Descriptor, type ImageConfig, type Manifest } from './layout.js';
import { mountOverlay, unmountOverlay } from './overlay.js';
import { Progress, timed } from './progress.js';
import { LayerStore } from './store.js';

export interface UnpackOptions {
  image: string;
  bundle: string;
  /** The shared store's directory, or undefined for a plain rootfs. */
  shared?: string;
  limits?: ApplyLimits;
  progress?: Progress;
}

interface Image { layout: Layout; ref?: string; manifestDesc: Descriptor; manifest: Manifest; config: ImageConfig }

export function readImage(arg: string): Image {
  const { dir, ref } = splitImageArg(arg);
  const layout = new Layout(dir);
  const manifestDesc = selectManifest(layout.index().manifests, ref, hostPlatform(),
    (d) => parseIndex(layout.json(d, 'index'), `index ${d.digest}`).manifests);
  const manifest = parseManifest(layout.json(manifestDesc, 'manifest'), `manifest ${manifestDesc.digest}`);
  const config = parseConfig(layout.json(manifest.config, 'config'), `config ${manifest.config.digest}`);
  if (config.os !== undefined && config.os !== 'linux') throw new RuntsError(`the image is for ${config.os}, not linux`, { op: 'unpack' });
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new RuntsError(`the manifest has ${manifest.layers.length} layers, the config ${config.rootfs.diff_ids.length} diff_ids`, { op: 'unpack' });
  }
  return { layout, ref, manifestDesc, manifest, config };
}

/** A text file of the image (symlinks resolved inside the rootfs), or '' when it is missing or not a regular file. */
function readImageFile(rootfd: number, p: string): string {
  const fd = tryOpenInRoot(rootfd, p);
  if (fd === null) return '';
  try {
    if (!fs.fstatSync(fd).isFile()) return '';
    const rfd = fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const buf = Buffer.alloc(4 << 20);
      let n = 0;
      for (let r; n < buf.length && (r = fs.readSync(rfd, buf, n, buf.length - n, null)) > 0;) n += r;
      return buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(rfd);
    }
  } finally {
    close(fd);
  }
}

function maxTarBytes(limits: ApplyLimits): number {
  return limits.maxTotalBytes + 2 ** 30;
}

async function applyFlat(img: Image, rootfs: string, limits: ApplyLimits, progress: Progress): Promise<void> {
  const rootfd = open(rootfs, O.PATH | O.DIRECTORY | O.NOFOLLOW);
  let total = 0;
  try {
    const n = img.manifest.layers.length;
    for (const [i, desc] of img.manifest.layers.entries()) {
      progress.start();
      const applier = new LayerApplier(rootfd, 'flatten', limits, total, i === 0);
      await applyLayer({
        blobPath: img.layout.blobPath(desc), desc, diffId: img.config.rootfs.diff_ids[i]!, maxTarBytes: maxTarBytes(limits),
        onProgress: (r, s) => progress.update(i, n, desc.digest, r, s),
      }, applier);
      total = applier.totalBytes;
      progress.layerDone(i, n, desc.digest, desc.size, 'unpacked', applier.stats.entries);
    }
  } finally {
    close(rootfd);
  }
}

/** Every layer in the store (extracted once, verified, then published); their ids, bottom first. Lock held. */
async function ensureLayers(img: Image, store: LayerStore, limits: ApplyLimits, progress: Progress): Promise<string[]> {
  const ids: string[] = [];
  const n = img.manifest.layers.length;
  for (const [i, desc] of img.manifest.layers.entries()) {
    const diffId = img.config.rootfs.diff_ids[i]!;
    const hex = /^sha256:([a-f0-9]{64})$/.exec(diffId)?.[1];
    if (!hex) throw new RuntsError(`config diff_ids[${i}]: unsupported digest ${JSON.stringify(diffId)} (sha256 only)`, { op: 'unpack' });
    ids.push(hex);
    progress.start();
    if (store.has(hex)) {
      progress.layerDone(i, n, desc.digest, desc.size, 'cached', 0);
      continue;
    }
    const tmp = store.tempDir();
    try {
      const rootfd = open(tmp, O.PATH | O.DIRECTORY | O.NOFOLLOW);
      const applier = new LayerApplier(rootfd, 'overlay', limits);
      try {
        await applyLayer({
          blobPath: img.layout.blobPath(desc), desc, diffId, maxTarBytes: maxTarBytes(limits),
          onProgress: (r, s) => progress.update(i, n, desc.digest, r, s),
        }, applier);
      } finally {
        close(rootfd);
      }
      store.publish(tmp, hex);
      progress.layerDone(i, n, desc.digest, desc.size, 'unpacked', applier.stats.entries);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }
  return ids;
}

/** Make the bundle dir (or check that an existing one has none of what unpack writes). */
function prepareBundle(bundle: string): { created: boolean } {
  const st = fs.lstatSync(bundle, { throwIfNoEntry: false });
  const p = bundlePaths(bundle);
  if (st) {
    if (!st.isDirectory()) throw new RuntsError(`bundle ${bundle} exists and is not a directory`, { op: 'unpack', path: bundle, errno: 'ENOTDIR' });
    for (const f of [p.config, p.rootfs, p.meta]) {
      if (fs.lstatSync(f, { throwIfNoEntry: false })) throw new RuntsError(`${f} exists: unpack into a new or empty bundle directory (runts image remove ${bundle} first)`, { op: 'unpack', path: f, errno: 'EEXIST' });
    }
    return { created: false };
  }
  fs.mkdirSync(bundle, { mode: 0o711 });
  return { created: true };
}

export async function unpackImage(opts: UnpackOptions): Promise<void> {
  const t0 = performance.now();
  const limits = opts.limits ?? DEFAULT_APPLY_LIMITS;
  const progress = opts.progress ?? new Progress();
  const img = timed('read the image layout', () => readImage(opts.image));
  const bundle = path.resolve(opts.bundle);
  const p = bundlePaths(bundle);
  const { created } = prepareBundle(bundle);
  let mounted = false;
  let store: LayerStore | undefined;
  try {
    fs.mkdirSync(p.meta, { mode: 0o700 });
    fs.mkdirSync(p.rootfs, { mode: 0o755 });
    const info: BundleInfo = { version: 1, layout: img.layout.dir, ref: img.ref, manifest: img.manifestDesc.digest };
    if (opts.shared !== undefined) {
      store = new LayerStore(opts.shared);
      store.lock();
      const layers = await ensureLayers(img, store, limits, progress);
      info.shared = { store: store.dir, layers };
      store.addRef({ bundle, layers });
      fs.mkdirSync(p.upper, { mode: 0o755 });
      fs.mkdirSync(p.work, { mode: 0o700 });
      timed('mount the overlay', () => mountOverlay({ lowers: layers.map((l) => store!.layerDir(l)), upper: p.upper, work: p.work, target: p.rootfs }));
      mounted = true;
    } else {
      await applyFlat(img, p.rootfs, limits, progress);
    }
    const rootfd = open(p.rootfs, O.PATH | O.DIRECTORY | O.NOFOLLOW);
    let spec;
    try {
      // the image's files are read only when there is a User to resolve (a broken /etc/passwd does not matter otherwise)
      const u = img.config.config?.User;
      const user = u ? resolveUser(u, parsePasswd(readImageFile(rootfd, '/etc/passwd')), parseGroup(readImageFile(rootfd, '/etc/group'))) : resolveUser(u, [], []);
      spec = imageToSpec({ config: img.config, manifest: img.manifestDesc, ref: img.ref, user });
    } finally {
      close(rootfd);
    }
    fs.writeFileSync(p.config, JSON.stringify(spec, null, '\t') + '\n', { mode: 0o644 });
    writeInfo(bundle, info);
  } catch (e) {
    try {
      if (mounted) unmountOverlay(p.rootfs);
      if (store) store.dropRef(bundle);
      if (created) fs.rmSync(bundle, { recursive: true, force: true });
      else for (const f of [p.config, p.rootfs, p.meta]) fs.rmSync(f, { recursive: true, force: true });
    } catch (c) {
      logDebug(`image: cleanup after a failed unpack: ${(c as Error).message}`);
    }
    throw e;
  } finally {
    store?.unlock();
  }
  logDebug(`image: unpack ${opts.image} -> ${bundle}: ${(performance.now() - t0).toFixed(1)} ms`);
}
