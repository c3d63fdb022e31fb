/**
 * Reading an OCI image layout (image-spec image-layout.md): oci-layout,
 * index.json and the JSON blobs (index, manifest, config), each bounded in
 * size and checked against its descriptor's sha256 and size before it is
 * parsed. selectManifest picks the image: by org.opencontainers.image.ref.name,
 * through nested indexes, the host's platform among several.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntsError } from '../common/errors.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  created?: string;
  author?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    StopSignal?: string;
    ExposedPorts?: Record<string, unknown> | null;
    Volumes?: Record<string, unknown> | null;
  };
  rootfs: { type: string; diff_ids: string[] };
}

export interface Manifest { config: Descriptor; layers: Descriptor[]; annotations?: Record<string, string> }

export const MAX_JSON_BLOB = 4 << 20;
export const MAX_LAYERS = 256;
export const REF_ANNOTATION = 'org.opencontainers.image.ref.name';

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);

function bad(where: string, msg: string): RuntsError {
  return new RuntsError(`${where}: ${msg}`, { op: 'unpack' });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Check a descriptor's shape (strict on the fields used, lenient on the rest). */
export function checkDescriptor(v: unknown, where: string): Descriptor {
  if (!isObj(v)) throw bad(where, 'descriptor is not an object');
  if (typeof v.mediaType !== 'string') throw bad(where, 'descriptor has no mediaType');
  if (typeof v.digest !== 'string' || !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(v.digest)) throw bad(where, `bad digest ${JSON.stringify(v.digest)}`);
  if (!/^sha256:[a-f0-9]{64}$/.test(v.digest)) throw bad(where, `unsupported digest ${v.digest} (sha256 only)`);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) throw bad(where, `bad size ${JSON.stringify(v.size)}`);
  if (v.annotations !== undefined && !isObj(v.annotations)) throw bad(where, 'annotations is not an object');
  return v as unknown as Descriptor;
}

/**
 * "DIR:REF" -> DIR and REF, where REF may hold ":" itself ("oci:localhost/busybox:latest"):
 * the first ":" whose left side is a directory with an oci-layout file splits; a path
 * that is a layout as given has no REF.
 */
export function splitImageArg(arg: string, isLayout: (p: string) => boolean = (p) => fs.existsSync(path.join(p, 'oci-layout'))): { dir: string; ref?: string } {
  if (isLayout(arg)) return { dir: arg };
  for (let i = arg.indexOf(':'); i > 0; i = arg.indexOf(':', i + 1)) {
    if (isLayout(arg.slice(0, i))) return { dir: arg.slice(0, i), ref: arg.slice(i + 1) };
  }
  return { dir: arg };
}

export class Layout {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    const marker = path.join(this.dir, 'oci-layout');
    let text: string;
    try {
      text = readBoundedFile(marker, 4096);
    } catch (e) {
      throw new RuntsError(`${dir} is not an OCI image layout (no readable oci-layout file: ${(e as Error).message})`, { op: 'unpack', path: marker });
    }
    let v: unknown;
    try { v = JSON.parse(text); } catch { throw bad(marker, 'not JSON'); }
    if (!isObj(v) || typeof v.imageLayoutVersion !== 'string' || !v.imageLayoutVersion.startsWith('1.')) {
      throw bad(marker, `unsupported imageLayoutVersion ${JSON.stringify(isObj(v) ? v.imageLayoutVersion : undefined)}`);
    }
  }

  blobPath(d: Descriptor): string {
    const [alg, hex] = d.digest.split(':');
    return path.join(this.dir, 'blobs', alg!, hex!);
  }

  index(): { manifests: Descriptor[] } {
    const file = path.join(this.dir, 'index.json');
    return parseIndex(JSON.parse(readBoundedFile(file, MAX_JSON_BLOB)), file);
  }

  /** A JSON blob, checked against its descriptor before it is parsed. */
  json(d: Descriptor, what: string): unknown {
    if (d.size > MAX_JSON_BLOB) throw bad(`${what} ${d.digest}`, `${d.size} bytes is over the limit of ${MAX_JSON_BLOB}`);
    const file = this.blobPath(d);
    const buf = readBoundedBuffer(file, d.size + 1);
    if (buf.length !== d.size) throw bad(`${what} ${d.digest}`, `blob is ${buf.length} bytes, its descriptor says ${d.size}`);
    const got = 'sha256:' + createHash('sha256').update(buf).digest('hex');
    if (got !== d.digest) throw bad(`${what} ${d.digest}`, `blob digest mismatch (the file's is ${got})`);
    try { return JSON.parse(buf.toString('utf8')); } catch { throw bad(`${what} ${d.digest}`, 'not JSON'); }
  }
}

function readBoundedBuffer(file: string, max: number): Buffer {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    if (!fs.fstatSync(fd).isFile()) throw bad(file, 'not a regular file');
    const buf = Buffer.alloc(Math.min(max, 1 << 16));
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, max - total), null);
      if (n === 0) break;
      parts.push(Buffer.from(buf.subarray(0, n)));
      total += n;
      if (total >= max) break;
    }
    return Buffer.concat(parts);
  } finally {
    fs.closeSync(fd);
  }
}

function readBoundedFile(file: string, max: number): string {
  const b = readBoundedBuffer(file, max + 1);
  if (b.length > max) throw bad(file, `larger than ${max} bytes`);
  return b.toString('utf8');
}

export function parseIndex(v: unknown, where: string): { manifests: Descriptor[] } {
  if (!isObj(v) || !Array.isArray(v.manifests)) throw bad(where, 'not an image index (no manifests array)');
  return { manifests: v.manifests.map((m, i) => checkDescriptor(m, `${where} manifests[${i}]`)) };
}

export function parseManifest(v: unknown, where: string): Manifest {
  if (!isObj(v) || v.schemaVersion !== 2) throw bad(where, 'not an image manifest (schemaVersion is not 2)');
  if (!Array.isArray(v.layers)) throw bad(where, 'no layers array');
  if (v.layers.length > MAX_LAYERS) throw bad(where, `${v.layers.length} layers is over the limit of ${MAX_LAYERS}`);
  return {
    config: checkDescriptor(v.config, `${where} config`),
    layers: v.layers.map((l, i) => checkDescriptor(l, `${where} layers[${i}]`)),
    annotations: isObj(v.annotations) ? (v.annotations as Record<string, string>) : undefined,
  };
}

export function parseConfig(v: unknown, where: string): ImageConfig {
  if (!isObj(v)) throw bad(where, 'image config is not an object');
  const rootfs = v.rootfs;
  if (!isObj(rootfs) || rootfs.type !== 'layers' || !Array.isArray(rootfs.diff_ids) || !rootfs.diff_ids.every((d) => typeof d === 'string')) {
    throw bad(where, 'rootfs must be {"type": "layers", "diff_ids": [...]}');
  }
  if (v.config !== undefined && v.config !== null && !isObj(v.config)) throw bad(where, 'config is not an object');
  return v as unknown as ImageConfig;
}

/** GOARCH names for node's process.arch. */
export function hostPlatform(): { os: string; architecture: string } {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: map[process.arch] ?? process.arch };
}

export interface Selection { manifest: Descriptor; ref?: string }

/**
 * The manifest to unpack: the index entries named `ref` (or all), nested
 * indexes followed, and among several images the one for the platform.
 */
export function selectManifest(
  manifests: Descriptor[], ref: string | undefined, platform: { os: string; architecture: string },
  readIndex: (d: Descriptor) => Descriptor[], depth = 0,
): Descriptor {
  if (depth > 4) throw bad('index', 'image indexes nested more than 4 deep');
  let cands = ref === undefined ? manifests : manifests.filter((m) => m.annotations?.[REF_ANNOTATION] === ref);
  if (cands.length === 0) {
    const names = manifests.map((m) => m.annotations?.[REF_ANNOTATION]).filter((n) => n !== undefined);
    throw bad('index.json', `no image named ${JSON.stringify(ref)} (the layout has: ${names.length ? names.join(', ') : 'no named images'})`);
  }
  cands = cands.flatMap((m) => (INDEX_TYPES.has(m.mediaType) ? readIndex(m) : [m]));
  const images = cands.filter((m) => MANIFEST_TYPES.has(m.mediaType));
  if (images.length === 0) throw bad('index', `no image manifest (media types: ${[...new Set(cands.map((m) => m.mediaType))].join(', ')})`);
  if (images.length === 1) return images[0]!;
  const forHost = images.filter((m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture);
  if (forHost.length >= 1 && new Set(forHost.map((m) => m.digest)).size === 1) return forHost[0]!;
  if (forHost.length > 1) throw bad('index', `${forHost.length} images for ${platform.os}/${platform.architecture}: name one with LAYOUT:REF`);
  if (new Set(images.map((m) => m.digest)).size === 1) return images[0]!;
  throw bad('index', `${images.length} images and none for ${platform.os}/${platform.architecture}${ref === undefined ? ': name one with LAYOUT:REF' : ''}`);
}
