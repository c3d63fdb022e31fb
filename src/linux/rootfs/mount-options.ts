/**
 * Mount options (config.md "Linux mount options", runc's parser): the table of
 * known names and the parser that turns a mount's options into attribute
 * changes, propagation, superblock flags and filesystem data.
 */

import { ConfigError } from '../../common/errors.js';
import type { AttrChange, DataOption, Propagation } from './plan-types.js';
import { MOUNT_ATTR as ATTR } from '../abi.js';

// ---------------------------------------------------------------------------
// Option table

type Effect =
  | { k: 'attr'; bit: number; on: boolean }
  | { k: 'rattr'; bit: number; on: boolean }
  | { k: 'atime'; mode: AtimeMode }
  | { k: 'atimeUndo'; mode: AtimeMode }
  | { k: 'ratime'; mode: AtimeMode }
  | { k: 'ratimeUndo'; mode: AtimeMode }
  | { k: 'sb'; flag: 'sync' | 'dirsync' | 'lazytime'; on: boolean }
  | { k: 'prop'; p: Propagation }
  | { k: 'bind'; recursive: boolean }
  | { k: 'idmap'; recursive: boolean }
  | { k: 'remount' }
  | { k: 'copyup' }
  | { k: 'noop' };

type AtimeMode = 'relatime' | 'noatime' | 'strictatime';

const ATIME_BITS: Record<AtimeMode, number> = { relatime: ATTR.RELATIME, noatime: ATTR.NOATIME, strictatime: ATTR.STRICTATIME };

const OPTIONS: Record<string, Effect> = {
  // read-only
  ro: { k: 'attr', bit: ATTR.RDONLY, on: true },
  rw: { k: 'attr', bit: ATTR.RDONLY, on: false },
  nosuid: { k: 'attr', bit: ATTR.NOSUID, on: true },
  suid: { k: 'attr', bit: ATTR.NOSUID, on: false },
  nodev: { k: 'attr', bit: ATTR.NODEV, on: true },
  dev: { k: 'attr', bit: ATTR.NODEV, on: false },
  noexec: { k: 'attr', bit: ATTR.NOEXEC, on: true },
  exec: { k: 'attr', bit: ATTR.NOEXEC, on: false },
  nodiratime: { k: 'attr', bit: ATTR.NODIRATIME, on: true },
  diratime: { k: 'attr', bit: ATTR.NODIRATIME, on: false },
  nosymfollow: { k: 'attr', bit: ATTR.NOSYMFOLLOW, on: true },
  symfollow: { k: 'attr', bit: ATTR.NOSYMFOLLOW, on: false },
  noatime: { k: 'atime', mode: 'noatime' },
  relatime: { k: 'atime', mode: 'relatime' },
  strictatime: { k: 'atime', mode: 'strictatime' },
  atime: { k: 'atimeUndo', mode: 'noatime' },
  norelatime: { k: 'atimeUndo', mode: 'relatime' },
  nostrictatime: { k: 'atimeUndo', mode: 'strictatime' },
  // recursive variants (mount_setattr with AT_RECURSIVE)
  rro: { k: 'rattr', bit: ATTR.RDONLY, on: true },
  rrw: { k: 'rattr', bit: ATTR.RDONLY, on: false },
  rnosuid: { k: 'rattr', bit: ATTR.NOSUID, on: true },
  rsuid: { k: 'rattr', bit: ATTR.NOSUID, on: false },
  rnodev: { k: 'rattr', bit: ATTR.NODEV, on: true },
  rdev: { k: 'rattr', bit: ATTR.NODEV, on: false },
  rnoexec: { k: 'rattr', bit: ATTR.NOEXEC, on: true },
  rexec: { k: 'rattr', bit: ATTR.NOEXEC, on: false },
  rnodiratime: { k: 'rattr', bit: ATTR.NODIRATIME, on: true },
  rdiratime: { k: 'rattr', bit: ATTR.NODIRATIME, on: false },
  rnosymfollow: { k: 'rattr', bit: ATTR.NOSYMFOLLOW, on: true },
  rsymfollow: { k: 'rattr', bit: ATTR.NOSYMFOLLOW, on: false },
  rnoatime: { k: 'ratime', mode: 'noatime' },
  rrelatime: { k: 'ratime', mode: 'relatime' },
  rstrictatime: { k: 'ratime', mode: 'strictatime' },
  ratime: { k: 'ratimeUndo', mode: 'noatime' },
  rnorelatime: { k: 'ratimeUndo', mode: 'relatime' },
  rnostrictatime: { k: 'ratimeUndo', mode: 'strictatime' },
  // superblock flags (fresh filesystems only)
  sync: { k: 'sb', flag: 'sync', on: true },
  async: { k: 'sb', flag: 'sync', on: false },
  dirsync: { k: 'sb', flag: 'dirsync', on: true },
  lazytime: { k: 'sb', flag: 'lazytime', on: true },
  nolazytime: { k: 'sb', flag: 'lazytime', on: false },
  // change the mount at the destination instead of mounting anew
  remount: { k: 'remount' },
  // accepted, no effect with the new mount API (see MOUNT_OPTIONS notes)
  defaults: { k: 'noop' },
  silent: { k: 'noop' },
  loud: { k: 'noop' },
  iversion: { k: 'noop' },
  noiversion: { k: 'noop' },
  mand: { k: 'noop' },
  nomand: { k: 'noop' },
  // bind mounts
  bind: { k: 'bind', recursive: false },
  rbind: { k: 'bind', recursive: true },
  // propagation
  private: { k: 'prop', p: { type: 'private', recursive: false } },
  rprivate: { k: 'prop', p: { type: 'private', recursive: true } },
  shared: { k: 'prop', p: { type: 'shared', recursive: false } },
  rshared: { k: 'prop', p: { type: 'shared', recursive: true } },
  slave: { k: 'prop', p: { type: 'slave', recursive: false } },
  rslave: { k: 'prop', p: { type: 'slave', recursive: true } },
  unbindable: { k: 'prop', p: { type: 'unbindable', recursive: false } },
  runbindable: { k: 'prop', p: { type: 'unbindable', recursive: true } },
  // idmapped mounts
  idmap: { k: 'idmap', recursive: false },
  ridmap: { k: 'idmap', recursive: true },
  // copy-up (tmpfs only): the destination's content is copied into the new tmpfs
  tmpcopyup: { k: 'copyup' },
};

/**
 * Every mount option name runts recognises (for `runts features`).
 * defaults, silent, loud, iversion, noiversion, mand and nomand are accepted and have no effect.
 */
export const MOUNT_OPTIONS: readonly string[] = Object.freeze(Object.keys(OPTIONS).sort());

/** Per-mount flags a remount sets or clears wholesale, as mount(2) with MS_REMOUNT does (the atime mode is kept unless given). */
export const REMOUNT_FLAGS = ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC | ATTR.NODIRATIME | ATTR.NOSYMFOLLOW;

/** Filesystems whose superblock is shared with the host (or other mounts): never set superblock flags on them. */
export const SHARED_SUPERBLOCK: ReadonlySet<string> = new Set([
  'proc', 'sysfs', 'cgroup', 'cgroup2', 'mqueue', 'devpts', 'securityfs', 'debugfs', 'tracefs',
  'bpf', 'fusectl', 'configfs', 'binfmt_misc', 'efivarfs', 'pstore', 'selinuxfs', 'hugetlbfs', 'nsfs',
]);

// ---------------------------------------------------------------------------
// Option parsing

export interface ParsedOptions {
  bind: boolean;
  recursive: boolean;
  attr: AttrChange;
  recAttr: AttrChange;
  propagation: Propagation[];
  sbFlags: string[];
  data: DataOption[];
  idmap: { recursive: boolean } | null;
  /** ro was the final word on the read-only attribute (true), rw (false), or neither (null). */
  readonly: boolean | null;
  /** "remount" was given. */
  remount: boolean;
  /** Index (in the options array) of the last "tmpcopyup", or null. */
  copyUp: number | null;
}

/** Parse a mount's options; `pointer` is the JSON pointer of the options array for errors. */
export function parseMountOptions(options: readonly string[] = [], pointer = '/mounts/0/options'): ParsedOptions {
  const attrs = new Map<number, boolean>();
  const rattrs = new Map<number, boolean>();
  let atime: AtimeMode | undefined;
  let ratime: AtimeMode | undefined;
  const sb = new Map<string, boolean>();
  const out: ParsedOptions = {
    bind: false, recursive: false, attr: { set: 0, clr: 0 }, recAttr: { set: 0, clr: 0 },
    propagation: [], sbFlags: [], data: [], idmap: null, readonly: null, remount: false, copyUp: null,
  };
  options.forEach((opt, i) => {
    if (typeof opt !== 'string') throw new ConfigError(`${pointer}/${i}`, 'mount option must be a string');
    if (opt.includes('\0')) throw new ConfigError(`${pointer}/${i}`, 'mount option contains a NUL byte');
    const eff = Object.prototype.hasOwnProperty.call(OPTIONS, opt) ? OPTIONS[opt]! : undefined;
    if (!eff) {
      if (opt === '') return; // an empty option is meaningless; runc drops it too
      const eq = opt.indexOf('=');
      out.data.push(eq < 0 ? { key: opt, value: null } : { key: opt.slice(0, eq), value: opt.slice(eq + 1) });
      return;
    }
    switch (eff.k) {
      case 'attr': attrs.delete(eff.bit); attrs.set(eff.bit, eff.on); break;
      case 'rattr': rattrs.delete(eff.bit); rattrs.set(eff.bit, eff.on); break;
      case 'atime': atime = eff.mode; break;
      case 'atimeUndo': if (atime === eff.mode) atime = undefined; break;
      case 'ratime': ratime = eff.mode; break;
      case 'ratimeUndo': if (ratime === eff.mode) ratime = undefined; break;
      case 'sb': sb.delete(eff.flag); sb.set(eff.flag, eff.on); break;
      case 'prop': out.propagation.push({ ...eff.p }); break;
      case 'bind': out.bind = true; out.recursive ||= eff.recursive; break;
      case 'idmap': out.idmap = { recursive: (out.idmap?.recursive ?? false) || eff.recursive }; break;
      case 'remount': out.remount = true; break;
      case 'copyup': out.copyUp = i; break;
      case 'noop': break;
    }
  });
  for (const [bit, on] of attrs) { if (on) out.attr.set |= bit; else out.attr.clr |= bit; }
  for (const [bit, on] of rattrs) { if (on) out.recAttr.set |= bit; else out.recAttr.clr |= bit; }
  if (atime !== undefined) { out.attr.clr |= ATTR.ATIME_MASK; out.attr.set |= ATIME_BITS[atime]; }
  if (ratime !== undefined) { out.recAttr.clr |= ATTR.ATIME_MASK; out.recAttr.set |= ATIME_BITS[ratime]; }
  if (attrs.has(ATTR.RDONLY)) out.readonly = attrs.get(ATTR.RDONLY)!;
  for (const [flag, on] of sb) {
    if (on) out.sbFlags.push(flag);
    else if (flag === 'sync') out.sbFlags.push('async');
    else if (flag === 'lazytime') out.sbFlags.push('nolazytime');
  }
  return out;
}

/** Parse a propagation name (linux.rootfsPropagation accepts the r- variants too, like runc). */
export function parsePropagation(name: string): Propagation | null {
  const eff = Object.prototype.hasOwnProperty.call(OPTIONS, name) ? OPTIONS[name] : undefined;
  return eff && eff.k === 'prop' ? { ...eff.p } : null;
}

/**
 * Lexically clean an absolute container path: "//a/./b/../c/" -> "/a/c".
 * ".." never climbs above "/" (like Go's filepath.Join(rootfs, dest), which runc uses).
 * A relative path is taken relative to "/" (deprecated by the spec, still accepted).
 */
export function cleanContainerPath(p: string): string {
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return '/' + out.join('/');
}
