/**
 * A streaming tar reader (POSIX ustar, pax extended headers, GNU long names)
 * for OCI layers. It only parses: bytes go in with push(), entries and their
 * data come out through a TarSink, synchronously, in order. Nothing here
 * touches the file system, so a hostile archive can only produce a bounded
 * parse error. Sparse files, multi-volume archives and GNU dump directories
 * are refused.
 */
import { RuntsError } from '../common/errors.js';

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  /** The name as stored (pax "path" or GNU long name applied); not normalized. */
  name: string;
  /** Hard link or symlink target, as stored. */
  linkname: string;
  type: EntryType;
  /** Permission bits with setuid/setgid/sticky (mode & 07777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (pax may give a fraction). */
  mtime: number;
  devmajor: number;
  devminor: number;
  /** From pax SCHILY.xattr.NAME (and LIBARCHIVE.xattr.NAME, base64) records. */
  xattrs: Map<string, Buffer>;
}

export interface TarSink {
  entry(e: TarEntry): void;
  /** File contents of the current entry (regular files only), in order. */
  data(chunk: Buffer): void;
  /** The current entry is complete. */
  end(): void;
}

export interface TarLimits {
  /** Largest pax or GNU long-name record accepted. */
  maxMetaBytes: number;
  /** Largest single entry size. */
  maxEntrySize: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = { maxMetaBytes: 1 << 20, maxEntrySize: 2 ** 40 };

export class TarError extends RuntsError {
  constructor(message: string) {
    super(`tar: ${message}`, { op: 'tar' });
    this.name = 'TarError';
  }
}

const BLOCK = 512;

/** A numeric header field: octal text, or GNU base-256 when the high bit of the first byte is set. */
export function parseNumeric(b: Buffer, field: string): number {
  if (b.length > 0 && b[0]! & 0x80) {
    if (b[0] === 0xff) throw new TarError(`negative value in the ${field} field`);
    let v = b[0]! & 0x7f;
    for (let i = 1; i < b.length; i++) {
      v = v * 256 + b[i]!;
      if (v > Number.MAX_SAFE_INTEGER) throw new TarError(`${field} field too large`);
    }
    return v;
  }
  let s = b.toString('latin1');
  const nul = s.indexOf('\0');
  if (nul >= 0) s = s.slice(0, nul);
  s = s.trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarError(`bad octal number ${JSON.stringify(s)} in the ${field} field`);
  const v = parseInt(s, 8);
  if (v > Number.MAX_SAFE_INTEGER) throw new TarError(`${field} field too large`);
  return v;
}

function cstring(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
}

function checksumOk(h: Buffer): boolean {
  const stored = parseNumeric(h.subarray(148, 156), 'chksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === stored;
}

/** Parse pax records "LEN KEY=VALUE\n"; values stay bytes (xattrs are binary). */
export function parsePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    if (buf[off] === 0) break; // padding
    const sp = buf.indexOf(0x20, off);
    if (sp < 0 || sp - off > 20) throw new TarError('malformed pax record (no length)');
    const lenText = buf.subarray(off, sp).toString('latin1');
    if (!/^[0-9]+$/.test(lenText)) throw new TarError(`malformed pax record length ${JSON.stringify(lenText)}`);
    const len = Number(lenText);
    const end = off + len;
    if (len <= sp - off + 1 || end > buf.length || buf[end - 1] !== 0x0a) throw new TarError('malformed pax record (bad length)');
    const eq = buf.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= end) throw new TarError('malformed pax record (no "=")');
    out.set(buf.subarray(sp + 1, eq).toString('utf8'), buf.subarray(eq + 1, end - 1));
    off = end;
  }
  return out;
}

function typeOf(flag: number): EntryType | 'pax' | 'global' | 'longname' | 'longlink' | undefined {
  switch (String.fromCharCode(flag)) {
    case '0': case '\0': case '7': return 'file';
    case '1': return 'link';
    case '2': return 'symlink';
    case '3': return 'char';
    case '4': return 'block';
    case '5': return 'dir';
    case '6': return 'fifo';
    case 'x': return 'pax';
    case 'g': return 'global';
    case 'L': return 'longname';
    case 'K': return 'longlink';
    default: return undefined;
  }
}

function paxNumber(v: Buffer, key: string, fraction = false): number {
  const s = v.toString('latin1');
  if (!(fraction ? /^-?[0-9]+(\.[0-9]+)?$/ : /^[0-9]+$/).test(s)) throw new TarError(`bad pax ${key} ${JSON.stringify(s)}`);
  const n = Number(s);
  if (!Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER) throw new TarError(`pax ${key} out of range`);
  return n;
}

type State = 'header' | 'data' | 'meta' | 'pad' | 'done';

export class TarReader {
  private state: State = 'header';
  private hdr = Buffer.alloc(BLOCK);
  private hdrFill = 0;
  private remaining = 0;
  private padding = 0;
  private meta: Buffer[] = [];
  private metaKind: 'pax' | 'global' | 'longname' | 'longlink' = 'pax';
  private pax = new Map<string, Buffer>();
  private global = new Map<string, Buffer>();
  private longName?: string;
  private longLink?: string;
  private zeroBlocks = 0;
  /** Entries seen, for callers' bounds and messages. */
  entries = 0;

  constructor(private readonly sink: TarSink, private readonly limits: TarLimits = DEFAULT_TAR_LIMITS) {}

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      switch (this.state) {
        case 'done':
          return; // trailing bytes after the end-of-archive blocks are ignored, like tar does
        case 'header': {
          const n = Math.min(BLOCK - this.hdrFill, chunk.length - off);
          chunk.copy(this.hdr, this.hdrFill, off, off + n);
          this.hdrFill += n;
          off += n;
          if (this.hdrFill === BLOCK) {
            this.hdrFill = 0;
            this.header();
          }
          break;
        }
        case 'data':
        case 'meta': {
          // an entry's contents go to the sink; a pax/GNU header's are kept to be parsed
          const n = Math.min(this.remaining, chunk.length - off);
          const part = chunk.subarray(off, off + n);
          const data = this.state === 'data';
          if (data) this.sink.data(part);
          else this.meta.push(Buffer.from(part));
          off += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            if (data) this.finishData();
            else this.finishMeta();
          }
          break;
        }
        case 'pad': {
          const n = Math.min(this.padding, chunk.length - off);
          off += n;
          this.padding -= n;
          if (this.padding === 0) this.state = 'header';
          break;
        }
      }
    }
  }

  /** The input ended: it must end on an entry boundary. */
  finish(): void {
    if (this.state === 'done') return;
    if (this.state === 'header' && this.hdrFill === 0 && this.meta.length === 0 && this.pax.size === 0 && !this.longName && !this.longLink) return;
    throw new TarError(`unexpected end of archive after ${this.entries} entries`);
  }

  private header(): void {
    const h = this.hdr;
    if (h.every((b) => b === 0)) {
      if (++this.zeroBlocks === 2) this.state = 'done';
      return;
    }
    this.zeroBlocks = 0;
    if (!checksumOk(h)) throw new TarError(`header checksum mismatch (entry ${this.entries + 1})`);
    const kind = typeOf(h[156]!);
    if (kind === undefined) {
      throw new TarError(`unsupported entry type ${JSON.stringify(String.fromCharCode(h[156]!))} (entry ${this.entries + 1}: ${cstring(h.subarray(0, 100))})`);
    }
    const size = parseNumeric(h.subarray(124, 136), 'size');
    if (kind === 'pax' || kind === 'global' || kind === 'longname' || kind === 'longlink') {
      if (size > this.limits.maxMetaBytes) throw new TarError(`${kind} header of ${size} bytes is over the limit of ${this.limits.maxMetaBytes}`);
      this.metaKind = kind;
      this.meta = [];
      this.remaining = size;
      this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
      this.state = 'meta';
      if (size === 0) this.finishMeta();
      return;
    }
    this.entries++;
    const magic = h.subarray(257, 263).toString('latin1');
    let name = cstring(h.subarray(0, 100));
    if (magic === 'ustar\0') {
      const prefix = cstring(h.subarray(345, 500));
      if (prefix) name = `${prefix}/${name}`;
    }
    const p = new Map([...this.global, ...this.pax]);
    const e: TarEntry = {
      name: p.has('path') ? p.get('path')!.toString('utf8') : this.longName ?? name,
      linkname: p.has('linkpath') ? p.get('linkpath')!.toString('utf8') : this.longLink ?? cstring(h.subarray(157, 257)),
      type: kind,
      mode: parseNumeric(h.subarray(100, 108), 'mode') & 0o7777,
      uid: p.has('uid') ? paxNumber(p.get('uid')!, 'uid') : parseNumeric(h.subarray(108, 116), 'uid'),
      gid: p.has('gid') ? paxNumber(p.get('gid')!, 'gid') : parseNumeric(h.subarray(116, 124), 'gid'),
      size: p.has('size') ? paxNumber(p.get('size')!, 'size') : size,
      mtime: p.has('mtime') ? paxNumber(p.get('mtime')!, 'mtime', true) : parseNumeric(h.subarray(136, 148), 'mtime'),
      devmajor: kind === 'char' || kind === 'block' ? parseNumeric(h.subarray(329, 337), 'devmajor') : 0,
      devminor: kind === 'char' || kind === 'block' ? parseNumeric(h.subarray(337, 345), 'devminor') : 0,
      xattrs: new Map(),
    };
    for (const [k, v] of p) {
      if (k.startsWith('SCHILY.xattr.')) e.xattrs.set(k.slice(13), v);
      else if (k.startsWith('LIBARCHIVE.xattr.')) e.xattrs.set(decodeURIComponent(k.slice(17)), Buffer.from(v.toString('latin1'), 'base64'));
    }
    this.pax = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    if (e.name === '') throw new TarError(`entry ${this.entries} has an empty name`);
    // only regular files carry data; a hard link's or a directory's size field is not data
    const dataSize = e.type === 'file' ? e.size : 0;
    if (dataSize > this.limits.maxEntrySize) throw new TarError(`${e.name}: ${dataSize} bytes is over the per-entry limit of ${this.limits.maxEntrySize}`);
    this.sink.entry(e);
    this.remaining = dataSize;
    this.padding = (BLOCK - (dataSize % BLOCK)) % BLOCK;
    if (dataSize === 0) this.finishData();
    else this.state = 'data';
  }

  private finishData(): void {
    this.sink.end();
    this.state = this.padding ? 'pad' : 'header';
  }

  private finishMeta(): void {
    const buf = Buffer.concat(this.meta);
    this.meta = [];
    if (this.metaKind === 'pax') this.pax = parsePax(buf);
    else if (this.metaKind === 'global') for (const [k, v] of parsePax(buf)) this.global.set(k, v);
    else if (this.metaKind === 'longname') this.longName = cstring(buf);
    else this.longLink = cstring(buf);
    this.state = this.padding ? 'pad' : 'header';
  }
}
