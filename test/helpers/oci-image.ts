/**
 * Hand-made OCI images for the image tests: a small tar writer (ustar with
 * pax records for long names, xattrs and big numbers) and an OCI image
 * layout writer (blobs by sha256, manifest, config, index.json).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

export interface TarItem {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string | Buffer>;
  /** Force a pax "path" record even for short names. */
  paxPath?: boolean;
}

const TYPEFLAG = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' } as const;

function octal(n: number, len: number): string {
  return n.toString(8).padStart(len - 1, '0') + '\0';
}

function header(name: string, flag: string, size: number, it: Partial<TarItem>): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write(octal(it.mode ?? 0o644, 8), 100);
  h.write(octal(Math.min(it.uid ?? 0, 0o7777777), 8), 108);
  h.write(octal(Math.min(it.gid ?? 0, 0o7777777), 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(it.mtime ?? 1_700_000_000, 12), 136);
  h.write('        ', 148);
  h.write(flag, 156);
  h.write((it.linkname ?? '').slice(0, 100), 157, 'utf8');
  h.write('ustar\x0000', 257, 'latin1');
  h.write(octal(it.devmajor ?? 0, 8), 329);
  h.write(octal(it.devminor ?? 0, 8), 337);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

function pad(b: Buffer): Buffer {
  const rest = (512 - (b.length % 512)) % 512;
  return rest ? Buffer.concat([b, Buffer.alloc(rest)]) : b;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

export function makeTar(items: TarItem[], opts: { noEnd?: boolean } = {}): Buffer {
  const out: Buffer[] = [];
  for (const it of items) {
    const type = it.type ?? 'file';
    const body = type === 'file' ? Buffer.from(it.body ?? '') : Buffer.alloc(0);
    const recs: Buffer[] = [];
    if (it.paxPath || Buffer.byteLength(it.name) > 100) recs.push(paxRecord('path', Buffer.from(it.name)));
    if (it.linkname && Buffer.byteLength(it.linkname) > 100) recs.push(paxRecord('linkpath', Buffer.from(it.linkname)));
    for (const k of ['uid', 'gid'] as const) {
      if ((it[k] ?? 0) > 0o7777777) recs.push(paxRecord(k, Buffer.from(String(it[k]))));
    }
    for (const [k, v] of Object.entries(it.xattrs ?? {})) recs.push(paxRecord(`SCHILY.xattr.${k}`, Buffer.isBuffer(v) ? v : Buffer.from(v)));
    if (recs.length) {
      const pax = Buffer.concat(recs);
      out.push(header('PaxHeaders/x', 'x', pax.length, {}), pad(pax));
    }
    out.push(header(it.name, TYPEFLAG[type], body.length, it));
    if (body.length) out.push(pad(body));
  }
  if (!opts.noEnd) out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

export type Compression = 'none' | 'gzip' | 'zstd';

const LAYER_MT: Record<Compression, string> = {
  none: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

export function compress(tar: Buffer, c: Compression): Buffer {
  if (c === 'gzip') return zlib.gzipSync(tar);
  if (c === 'zstd') {
    const r = spawnSync('zstd', ['-q', '-c'], { input: tar, maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`zstd: ${r.stderr}`);
    return r.stdout;
  }
  return tar;
}

function sha(b: Buffer): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

export interface LayoutOptions {
  layers: { tar: Buffer; compression?: Compression }[];
  config?: Record<string, unknown>;
  ref?: string;
  /** Change things after the layout is written (corrupt a blob, ...). */
  diffIds?: string[];
}

export interface WrittenLayout { dir: string; layerBlobs: string[]; manifest: string; config: string }

function writeBlob(dir: string, b: Buffer): string {
  const d = sha(b);
  fs.writeFileSync(path.join(dir, 'blobs', 'sha256', d.slice(7)), b);
  return d;
}

export function writeLayout(dir: string, o: LayoutOptions): WrittenLayout {
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const layerDescs = o.layers.map((l) => {
    const c = l.compression ?? 'gzip';
    const blob = compress(l.tar, c);
    return { mediaType: LAYER_MT[c], digest: writeBlob(dir, blob), size: blob.length };
  });
  const config = {
    architecture: 'amd64', os: 'linux',
    config: { Cmd: ['/bin/sh'], ...(o.config ?? {}) },
    rootfs: { type: 'layers', diff_ids: o.diffIds ?? o.layers.map((l) => sha(l.tar)) },
  };
  const cb = Buffer.from(JSON.stringify(config));
  const manifest = {
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: writeBlob(dir, cb), size: cb.length },
    layers: layerDescs,
  };
  const mb = Buffer.from(JSON.stringify(manifest));
  const md = writeBlob(dir, mb);
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: mb.length, annotations: { 'org.opencontainers.image.ref.name': o.ref ?? 'latest' } }],
  }));
  return { dir, layerBlobs: layerDescs.map((d) => path.join(dir, 'blobs', 'sha256', d.digest.slice(7))), manifest: md, config: manifest.config.digest };
}
