/**
 * Reading a JSON document's bytes before anything parses them: its size is
 * bounded and it must be valid UTF-8 (config.md: "UTF-8 encoded JSON").
 * Node's 'utf8' decoding silently turns invalid bytes into U+FFFD, so an
 * overlong encoding of "." (0xC0 0xAE) or a stray 0xFF would otherwise pass
 * unseen; here they are refused with the byte offset of the first bad byte.
 */
import * as fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { RuntsError, errnoDescription } from '../common/errors.js';

/** config.json (and an exec --process file) may be at most this large: real configs are a few KiB to ~100 KiB. */
export const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

/**
 * Offset of the first byte that is not part of a well-formed UTF-8 sequence
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or -1.
 */
export function utf8ErrorOffset(buf: Uint8Array): number {
  if (isUtf8(buf)) return -1;
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) len = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i; // 0x80..0xc1 (continuation or overlong lead), 0xf5..0xff
    for (let k = 1; k < len; k++) {
      const c = buf[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += len;
  }
  return -1;
}

/** A short hex rendering of the bytes around an offset, for the error message. */
function bytesAt(buf: Uint8Array, offset: number): string {
  return Array.from(buf.subarray(offset, Math.min(buf.length, offset + 4)), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
}

/** Decode a document's bytes, refusing invalid UTF-8 with the byte offset. */
export function decodeUtf8(buf: Uint8Array, label: string, file?: string): string {
  const bad = utf8ErrorOffset(buf);
  if (bad >= 0) {
    throw new RuntsError(`${label}: invalid UTF-8 at byte offset ${bad} (bytes ${bytesAt(buf, bad)}): the spec requires UTF-8`, { path: file });
  }
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8');
}

/** Read a JSON document's text: at most MAX_CONFIG_BYTES (checked before reading it all), valid UTF-8. */
export function readDocumentText(file: string, label: string, maxBytes = MAX_CONFIG_BYTES): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r'); // libuv opens with O_CLOEXEC
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new RuntsError(`${label}: ${errnoDescription(code)}`, { op: 'open', path: file, errno: code, cause: e });
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new RuntsError(`${label}: not a regular file`, { op: 'open', path: file });
    if (st.size > maxBytes) {
      throw new RuntsError(`${label}: too large (${st.size} bytes; runts accepts at most ${maxBytes} bytes)`, { path: file, errno: 'EFBIG' });
    }
    // the file may grow after fstat: the read is bounded too
    return decodeUtf8(readBounded(fd, label, maxBytes, file), label, file);
  } catch (e) {
    if (e instanceof RuntsError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new RuntsError(`${label}: ${errnoDescription(code)}`, { op: 'read', path: file, errno: code, cause: e });
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Read fd to its end, but at most one byte past maxBytes: a larger input is
 * refused without being held. A non-blocking fd (a pipe on stdin) is waited on.
 */
function readBounded(fd: number, label: string, maxBytes: number, file?: string): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(1 << 20, maxBytes + 1 - total) || 1);
    let got: number;
    try {
      got = fs.readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); continue; }
      if (code === 'EOF') break;
      throw e;
    }
    if (got === 0) break;
    chunks.push(chunk.subarray(0, got));
    total += got;
    if (total > maxBytes) throw new RuntsError(`${label}: too large (more than ${maxBytes} bytes)`, { path: file, errno: 'EFBIG' });
  }
  return Buffer.concat(chunks, total);
}

/** A JSON document on the standard input: bounded and valid UTF-8, as readDocumentText. */
export function readStdinText(label: string, maxBytes = MAX_CONFIG_BYTES): string {
  try {
    return decodeUtf8(readBounded(0, label, maxBytes), label);
  } catch (e) {
    if (e instanceof RuntsError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new RuntsError(`${label}: cannot read the standard input: ${errnoDescription(code)}`, { op: 'read', errno: code, cause: e });
  }
}
