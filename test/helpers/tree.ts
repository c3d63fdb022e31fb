/**
 * A file tree as plain data, for comparing two unpacks: every name with its
 * type, permission bits, owner, size, link target, content hash, device
 * number, xattrs and (optionally) mtime. Nothing is followed.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lgetxattrRaw, llistxattrRaw } from '../../src/linux/libc.js';

export function xattrsOf(p: string): Record<string, string> {
  const buf = Buffer.alloc(65536);
  const n = llistxattrRaw(p, buf);
  if (n <= 0) return {};
  const out: Record<string, string> = {};
  for (const name of buf.subarray(0, n).toString('latin1').split('\0').filter(Boolean).sort()) {
    if (name === 'security.selinux') continue;
    const v = Buffer.alloc(65536);
    const m = lgetxattrRaw(p, name, v);
    out[name] = m >= 0 ? v.subarray(0, m).toString('base64') : '?';
  }
  return out;
}

function typeOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

export interface TreeOptions { mtimes?: boolean; xattrs?: boolean }

export function snapshot(root: string, opts: TreeOptions = {}): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    const p = path.join(root, rel);
    const st = fs.lstatSync(p);
    const t = typeOf(st);
    const parts = [t, (st.mode & 0o7777).toString(8), `${st.uid}:${st.gid}`];
    if (t === 'file') parts.push(`size=${st.size}`, createHash('sha256').update(fs.readFileSync(p)).digest('hex').slice(0, 16));
    if (t === 'symlink') parts.push(`-> ${fs.readlinkSync(p)}`);
    if (t === 'char' || t === 'block') parts.push(`rdev=${st.rdev}`);
    if (opts.xattrs !== false) {
      const x = xattrsOf(p);
      if (Object.keys(x).length) parts.push(JSON.stringify(x));
    }
    if (opts.mtimes && rel !== '.') parts.push(`mtime=${Math.floor(st.mtimeMs / 1000)}`);
    out.set(rel, parts.join(' '));
    if (t === 'dir') for (const c of fs.readdirSync(p).sort()) walk(rel === '.' ? c : `${rel}/${c}`);
  };
  walk('.');
  return out;
}

/** Lines that differ, for a readable assertion message. */
export function treeDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  const diff: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(k) !== b.get(k)) diff.push(`${k}: ${a.get(k) ?? '(missing)'} != ${b.get(k) ?? '(missing)'}`);
  }
  return diff.sort();
}
