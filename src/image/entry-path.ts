/**
 * What a layer entry's name means, decided without the file system: the
 * path components below the rootfs (or a refusal), and whether the entry is
 * a whiteout, an opaque-directory marker or ordinary content. Pure; the
 * applier (apply.ts) acts on the result through fds.
 */
import { RuntsError } from '../common/errors.js';

export const MAX_PATH_BYTES = 4096;
export const MAX_NAME_BYTES = 255;

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

export class HostileEntryError extends RuntsError {
  constructor(name: string, why: string) {
    super(`layer entry ${JSON.stringify(name)}: ${why}`, { op: 'unpack', path: name });
    this.name = 'HostileEntryError';
  }
}

/**
 * The components of an entry name below the root: "./a//b/" -> ["a", "b"],
 * "/etc/x" -> ["etc", "x"] (a leading "/" is taken as the root, as tar does),
 * "." -> [] (the root itself). ".." anywhere, NUL, or over-long names or
 * components are refused.
 */
export function entryComponents(name: string): string[] {
  if (name.includes('\0')) throw new HostileEntryError(name, 'contains a NUL byte');
  if (Buffer.byteLength(name) > MAX_PATH_BYTES) throw new HostileEntryError(name.slice(0, 64) + '...', `name longer than ${MAX_PATH_BYTES} bytes`);
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') throw new HostileEntryError(name, 'contains ".." (would leave the rootfs)');
    if (Buffer.byteLength(c) > MAX_NAME_BYTES) throw new HostileEntryError(name, `a component is longer than ${MAX_NAME_BYTES} bytes`);
    out.push(c);
  }
  return out;
}

export type EntryKind =
  | { kind: 'content'; comps: string[] }
  /** Remove parent/name from the lower layers. */
  | { kind: 'whiteout'; comps: string[] }
  /** Hide everything the lower layers have in this directory. */
  | { kind: 'opaque'; comps: string[] }
  /** Other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): skipped. */
  | { kind: 'ignore'; comps: string[] };

export function classifyEntry(name: string): EntryKind {
  const comps = entryComponents(name);
  const base = comps[comps.length - 1];
  if (base === undefined || !base.startsWith(WHITEOUT_PREFIX)) return { kind: 'content', comps };
  const dir = comps.slice(0, -1);
  if (base === OPAQUE_MARKER) return { kind: 'opaque', comps: dir };
  if (base.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) return { kind: 'ignore', comps };
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') throw new HostileEntryError(name, 'whiteout of nothing, "." or ".."');
  return { kind: 'whiteout', comps: [...dir, target] };
}

/** xattrs an image may set: file capabilities and the user namespace. Everything else (trusted.*, security.selinux, system.*) is dropped. */
export function xattrAllowed(name: string): boolean {
  return name === 'security.capability' || (name.startsWith('user.') && name.length > 5);
}
