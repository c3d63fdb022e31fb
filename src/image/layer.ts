/**
 * One layer blob through the pipeline: read the blob (its sha256 and size
 * checked against the descriptor), decompress it by media type (gzip with
 * node's zlib, zstd with fzstd), hash the tar stream (the config's diff_id)
 * and feed it to the tar reader and the applier. The whole layer is applied
 * before the digests are known to match; callers throw the result away when
 * they do not (unpack.ts removes the bundle, store.ts the temporary dir).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { Decompress } from 'fzstd';
import { RuntsError } from '../common/errors.js';
import type { LayerApplier } from './apply.js';
import type { Descriptor } from './layout.js';
import { TarReader } from './tar.js';

export type Compression = 'none' | 'gzip' | 'zstd';

const LAYER_TYPES: Record<string, Compression> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'none',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
};

export function layerCompression(mediaType: string, where: string): Compression {
  const c = LAYER_TYPES[mediaType];
  if (c === undefined) throw new RuntsError(`${where}: unsupported layer media type ${JSON.stringify(mediaType)}`, { op: 'unpack' });
  return c;
}

/** zstd through fzstd (pure JavaScript; node 20 has no zstd). */
class ZstdDecompress extends Transform {
  private d?: { push(chunk: Uint8Array, final?: boolean): void };

  constructor() {
    super();
    this.d = new Decompress((blk: Uint8Array) => {
      if (blk.length) this.push(Buffer.from(blk.buffer, blk.byteOffset, blk.length));
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try { this.d!.push(chunk); } catch (e) { cb(new RuntsError(`zstd: ${(e as Error).message}`, { op: 'zstd' })); return; }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    try { this.d!.push(new Uint8Array(0), true); } catch (e) { cb(new RuntsError(`zstd: ${(e as Error).message} (truncated stream?)`, { op: 'zstd' })); return; }
    cb();
  }
}

export interface LayerJob {
  blobPath: string;
  desc: Descriptor;
  /** "sha256:<hex>" from the config's rootfs.diff_ids. */
  diffId: string;
  /** Bound on the uncompressed tar stream. */
  maxTarBytes: number;
  onProgress?: (read: number, size: number) => void;
}

function digestHex(d: string, where: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(d);
  if (!m) throw new RuntsError(`${where}: unsupported digest ${JSON.stringify(d)} (sha256 only)`, { op: 'unpack' });
  return m[1]!;
}

/** Apply one layer; throws when the blob's digest or size, or the diff_id, does not match. */
export async function applyLayer(job: LayerJob, applier: LayerApplier): Promise<void> {
  const where = `layer ${job.desc.digest}`;
  const blobHex = digestHex(job.desc.digest, where);
  const diffHex = digestHex(job.diffId, `${where} diff_id`);
  const compression = layerCompression(job.desc.mediaType, where);
  const blobHash = createHash('sha256');
  const tarHash = createHash('sha256');
  let read = 0;
  let tarBytes = 0;
  const tar = new TarReader(applier);
  const fd = fs.openSync(job.blobPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new RuntsError(`${where}: ${job.blobPath} is not a regular file`, { op: 'unpack', path: job.blobPath });
  }
  const src = fs.createReadStream('', { fd, highWaterMark: 1 << 20 });
  const meter = new Transform({
    transform(chunk: Buffer, _e, cb) {
      read += chunk.length;
      if (read > job.desc.size) { cb(new RuntsError(`${where}: blob is larger than its descriptor's size ${job.desc.size}`, { op: 'unpack', path: job.blobPath })); return; }
      blobHash.update(chunk);
      job.onProgress?.(read, job.desc.size);
      cb(null, chunk);
    },
  });
  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _e, cb) {
      try {
        tarBytes += chunk.length;
        if (tarBytes > job.maxTarBytes) throw new RuntsError(`${where}: uncompressed layer is larger than the limit of ${job.maxTarBytes} bytes`, { op: 'unpack' });
        tarHash.update(chunk);
        tar.push(chunk);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    final(cb) {
      try { tar.finish(); cb(); } catch (e) { cb(e as Error); }
    },
  });
  const stages: NodeJS.ReadWriteStream[] = [];
  if (compression === 'gzip') stages.push(zlib.createGunzip({ chunkSize: 2 << 20, highWaterMark: 8 << 20 } as zlib.ZlibOptions));
  if (compression === 'zstd') stages.push(new ZstdDecompress());
  try {
    await pipeline([src, meter, ...stages, sink]);
  } catch (e) {
    applier.abort();
    if (e instanceof RuntsError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code?.startsWith('Z_')) throw new RuntsError(`${where}: gzip: ${(e as Error).message}`, { op: 'gunzip' });
    throw e;
  }
  try {
    checkDigests();
  } catch (e) {
    applier.abort();
    throw e;
  }
  applier.finish();

  function checkDigests(): void {
    if (read !== job.desc.size) throw new RuntsError(`${where}: blob is ${read} bytes, its descriptor says ${job.desc.size}`, { op: 'unpack', path: job.blobPath });
    const gotBlob = blobHash.digest('hex');
    if (gotBlob !== blobHex) throw new RuntsError(`${where}: blob digest mismatch (the file's sha256 is ${gotBlob})`, { op: 'unpack', path: job.blobPath });
    const gotDiff = tarHash.digest('hex');
    if (gotDiff !== diffHex) throw new RuntsError(`${where}: diff_id mismatch: the config says ${job.diffId}, the uncompressed layer is sha256:${gotDiff}`, { op: 'unpack' });
  }
}
