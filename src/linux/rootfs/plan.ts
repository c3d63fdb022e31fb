/**
 * The root-filesystem plan: a pure translation of config.json (mounts,
 * devices, masked/readonly paths, propagation) into plain data that the init
 * stage applies inside the container's mount namespace (setup.ts).
 *
 * Nothing here touches the system. The plan is JSON-serialisable: it crosses
 * the process boundary between the runts parent and the init stage.
 *
 * Option semantics follow config.md "Linux mount options" and runc's parser:
 * later options win, unknown options become filesystem data (key[=value]),
 * bind sources are resolved against the bundle directory.
 */

import * as path from 'node:path';
import { ConfigError, RuntsError } from '../../common/errors.js';
import type { Device, IDMapping, Mount, Spec } from '../../spec/types.js';
import { mountNsMode, type MountNsMode } from './mountns.js';

// ---------------------------------------------------------------------------
// Constants (copies of the kernel ABI values, kept here so the plan stays
// free of the koffi layer).

/** MOUNT_ATTR_* bits of mount_setattr(2) / fsmount(2). */
export const ATTR = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8,
  ATIME_MASK: 0x70, RELATIME: 0x0, NOATIME: 0x10, STRICTATIME: 0x20,
  NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000,
} as const;

export type PropagationType = 'private' | 'shared' | 'slave' | 'unbindable';

export interface Propagation {
  type: PropagationType;
  /** Apply to the whole mount tree (the r- variants, MS_REC / AT_RECURSIVE). */
  recursive: boolean;
}

/** mount_setattr(2) attribute change: MOUNT_ATTR_* bits to set and to clear. */
export interface AttrChange { set: number; clr: number }

export interface DataOption {
  key: string;
  /** null for a flag option ("newinstance"); a string for key=value ("size=64k", "key=" is ""). */
  value: string | null;
}

/**
 * "c:h:s,…/c:h:s,…": names an idmapping; mounts with equal mappings share one
 * user namespace (src/container/idmap-userns.ts makes it, the init finds it).
 */
export function idmappingKey(uidMappings: readonly IDMapping[], gidMappings: readonly IDMapping[]): string {
  const f = (m: readonly IDMapping[]) => m.map((x) => `${x.containerID}:${x.hostID}:${x.size}`).join(',');
  return `${f(uidMappings)}/${f(gidMappings)}`;
}

export interface IdmapSpec {
  /** ridmap: apply the idmapping to every mount of an rbind tree. */
  recursive: boolean;
  uidMappings: IDMapping[];
  gidMappings: IDMapping[];
}

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

export interface CgroupBind {
  /** Subdirectory under the mount destination ('' = the destination itself, v2 bind). */
  name: string;
  /** Host directory of the container's cgroup; null: derive from /proc/self/cgroup at apply time (v2 only). */
  source: string | null;
}

export interface CgroupSpec {
  mode: CgroupMode;
  /** The container has its own cgroup namespace. */
  namespace: boolean;
  /**
   * v2 with cgroupns: a fresh cgroup2 mount ('fresh'), falling back to a bind of binds[0] on EPERM/EBUSY.
   * v2 without cgroupns: a bind of the container's cgroup dir ('bind').
   * v1/hybrid: a tmpfs at the destination with one bind per hierarchy ('tmpfs+binds').
   */
  strategy: 'fresh' | 'bind' | 'tmpfs+binds';
  binds: CgroupBind[];
  /** The binds are read-only when the options say ro (as runc); the v1 tmpfs holding them is always read-only (hardening). */
  readonly: boolean;
  /** v1: symlinks for co-mounted controllers, e.g. cpu -> cpu,cpuacct. */
  symlinks: { name: string; target: string }[];
}

export interface MountStep {
  kind: 'bind' | 'fs' | 'cgroup';
  /** Position in config.json "mounts", for error messages. */
  index: number;
  /** Absolute, lexically cleaned path inside the container. */
  destination: string;
  /**
   * bind: absolute host path (relative config sources resolved against the bundle);
   * fs: the source string handed to the filesystem (fsconfig "source"), or null.
   */
  source: string | null;
  /** fs: the filesystem type; bind: "bind"; cgroup: "cgroup". */
  fstype: string;
  /** bind: rbind (clone the whole tree under the source). */
  recursive: boolean;
  /** Non-recursive attributes (top mount only). */
  attr: AttrChange;
  /** Recursive attributes (rro, rnosuid, ...), applied with AT_RECURSIVE. */
  recAttr: AttrChange;
  /** Propagation changes, in option order, applied after the mount is attached. */
  propagation: Propagation[];
  /** Superblock flags for fsconfig (fresh filesystems only): ro, sync, async, dirsync, lazytime, nolazytime. */
  sbFlags: string[];
  /** Filesystem-specific options, in order. */
  data: DataOption[];
  idmap: IdmapSpec | null;
  cgroup: CgroupSpec | null;
  /** The options as written in the config, for messages. */
  options: string[];
  /**
   * "remount": change the mount already at the destination instead of mounting anew (runc's MS_REMOUNT).
   * Its per-mount flags are replaced as mount(2) does (attr.clr holds every flag not asked for; the atime
   * mode is kept unless given); a filesystem created by an earlier entry also gets its superblock
   * reconfigured (sbFlags, data). Nothing is created.
   */
  remount: boolean;
  /** "tmpcopyup" (tmpfs only): copy what the rootfs has at the destination into the new tmpfs before it is attached. */
  copyUp: boolean;
}

export interface DeviceNode {
  /** Absolute, cleaned path inside the container. */
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  /** Permission bits (fileMode without S_IFMT). */
  mode: number;
  uid: number;
  gid: number;
}

export interface DevSymlink {
  /** Absolute path of the link inside the container. */
  path: string;
  target: string;
  /** Remove whatever is at path first (runc does this for /dev/ptmx). */
  replace: boolean;
  /** Only create the link if this host path exists at apply time (runc: /dev/core needs /proc/kcore). */
  ifHostPathExists: string | null;
}

export interface RootfsPlan {
  /** Absolute host path of the container's root filesystem. */
  rootfs: string;
  readonlyRoot: boolean;
  /** Applied to / of the new mount namespace before anything else (runc: rslave unless rootfsPropagation is set). */
  rootPropagation: Propagation;
  /** linux.rootfsPropagation, applied to the container's / after everything else; null when unset. */
  rootfsPropagation: Propagation | null;
  noPivot: boolean;
  mountns: MountNsMode; // the mount namespace the rootfs is set up in (mountns.ts)
  userns: boolean;
  mounts: MountStep[];
  /** False when /dev is bind-mounted from the host (runc: no device nodes, ptmx or /dev links then). */
  setupDev: boolean;
  /** Bind-mount host device nodes instead of mknod (container has its own user namespace). */
  bindDevices: boolean;
  devices: DeviceNode[];
  devSymlinks: DevSymlink[];
  /** A read-only /dev mount is mounted read-write and made read-only in finishRootfs, after the devices exist. */
  devReadonly: boolean;
  /**
   * process.terminal with a /dev of our own: create an empty regular file /dev/console during device
   * setup; the init bind-mounts the pty slave (by its fd) onto it after pivot_root (config-linux.md
   * "Default Devices").
   */
  console: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
}

export interface RootfsOptions {
  /** Absolute path of the bundle directory. */
  bundle: string;
  noPivot: boolean;
  /** The container has its own user namespace: mknod is impossible, bind host devices instead. */
  userns: boolean;
  cgroupns: boolean;
  /**
   * Host directories of the container's cgroup.
   * v2: { '': dir }. v1/hybrid: hierarchy directory name under /sys/fs/cgroup (e.g. 'memory',
   * 'cpu,cpuacct', 'systemd') -> dir; hybrid: '' is the unified hierarchy (mounted at 'unified').
   */
  cgroupPaths?: Record<string, string>;
  cgroupMode?: CgroupMode;
}

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

// ---------------------------------------------------------------------------
// Devices

/** The spec's default devices (config-linux.md "Default Devices"), in runc's order. */
export const DEFAULT_DEVICES: readonly DeviceNode[] = Object.freeze([
  { path: '/dev/null', type: 'c', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, mode: 0o666, uid: 0, gid: 0 },
] as DeviceNode[]);

/** runtime-linux.md "Dev symbolic links", plus /dev/core like runc. */
export const DEFAULT_DEV_SYMLINKS: readonly DevSymlink[] = Object.freeze([
  { path: '/dev/fd', target: '/proc/self/fd', replace: false, ifHostPathExists: null },
  { path: '/dev/stdin', target: '/proc/self/fd/0', replace: false, ifHostPathExists: null },
  { path: '/dev/stdout', target: '/proc/self/fd/1', replace: false, ifHostPathExists: null },
  { path: '/dev/stderr', target: '/proc/self/fd/2', replace: false, ifHostPathExists: null },
  { path: '/dev/core', target: '/proc/kcore', replace: false, ifHostPathExists: '/proc/kcore' },
]);

function planDevice(d: Device, i: number): DeviceNode {
  const ptr = `/linux/devices/${i}`;
  if (typeof d.path !== 'string' || d.path === '') throw new ConfigError(`${ptr}/path`, 'device path is required');
  if (!d.path.startsWith('/')) throw new ConfigError(`${ptr}/path`, 'device path must be absolute');
  let type: DeviceNode['type'];
  switch (d.type) {
    case 'c': case 'u': type = 'c'; break;
    case 'b': type = 'b'; break;
    case 'p': type = 'p'; break;
    default: throw new ConfigError(`${ptr}/type`, `unknown device type ${JSON.stringify(d.type)} (want c, b, u or p)`);
  }
  if (type !== 'p' && (d.major === undefined || d.minor === undefined)) {
    throw new ConfigError(ptr, `device ${d.path}: major and minor are required for type ${d.type}`);
  }
  const p = cleanContainerPath(d.path);
  if (p === '/') throw new ConfigError(`${ptr}/path`, 'device path must not be /');
  return {
    path: p, type, major: type === 'p' ? 0 : d.major!, minor: type === 'p' ? 0 : d.minor!,
    mode: d.fileMode === undefined ? 0o666 : d.fileMode & 0o7777, uid: d.uid ?? 0, gid: d.gid ?? 0,
  };
}

// ---------------------------------------------------------------------------
// The plan

function checkMappings(m: IDMapping[] | undefined, ptr: string): IDMapping[] {
  if (!m) return [];
  m.forEach((e, i) => {
    for (const k of ['containerID', 'hostID', 'size'] as const) {
      if (!Number.isInteger(e[k]) || e[k] < 0 || e[k] > 0xffffffff) throw new ConfigError(`${ptr}/${i}/${k}`, `${k} must be an unsigned 32-bit integer`);
    }
    if (e.size === 0) throw new ConfigError(`${ptr}/${i}/size`, 'size must be positive');
  });
  return m.map((e) => ({ containerID: e.containerID, hostID: e.hostID, size: e.size }));
}

export function planMount(m: Mount, i: number, spec: Spec, opts: RootfsOptions): MountStep {
  const ptr = `/mounts/${i}`;
  if (typeof m.destination !== 'string' || m.destination === '') throw new ConfigError(`${ptr}/destination`, 'mount destination is required');
  for (const [k, v] of [['destination', m.destination], ['source', m.source], ['type', m.type]] as const) {
    if (typeof v === 'string' && v.includes('\0')) throw new ConfigError(`${ptr}/${k}`, `mount ${k} contains a NUL byte`);
  }
  const parsed = parseMountOptions(m.options ?? [], `${ptr}/options`);
  const destination = cleanContainerPath(m.destination);
  if (destination === '/' && !parsed.remount) throw new ConfigError(`${ptr}/destination`, 'mounting over the container\'s / is not supported (use root.path)');
  // A mount is a bind mount if it has bind or rbind in the options (config.md); like crun we
  // also take type "bind" as a bind (there is no filesystem of that name).
  const isBind = parsed.bind || m.type === 'bind';

  // idmapped mounts (config.md "idmap", "ridmap", uidMappings/gidMappings)
  let idmap: IdmapSpec | null = null;
  const hasMaps = (m.uidMappings?.length ?? 0) > 0 || (m.gidMappings?.length ?? 0) > 0;
  if (hasMaps && (!m.uidMappings?.length || !m.gidMappings?.length)) {
    throw new ConfigError(ptr, 'uidMappings and gidMappings must be specified together');
  }
  if (parsed.idmap || hasMaps) {
    const recursive = parsed.idmap?.recursive ?? false;
    if (hasMaps) {
      idmap = { recursive, uidMappings: checkMappings(m.uidMappings, `${ptr}/uidMappings`), gidMappings: checkMappings(m.gidMappings, `${ptr}/gidMappings`) };
    } else if (opts.userns && spec.linux?.uidMappings?.length && spec.linux?.gidMappings?.length) {
      idmap = {
        recursive,
        uidMappings: checkMappings(spec.linux.uidMappings, '/linux/uidMappings'),
        gidMappings: checkMappings(spec.linux.gidMappings, '/linux/gidMappings'),
      };
    } else {
      throw new ConfigError(`${ptr}/options`, opts.userns
        ? 'idmap needs uidMappings/gidMappings on the mount or in linux.uidMappings/gidMappings'
        : 'idmap needs uidMappings and gidMappings on the mount when the container has no user namespace');
    }
  }

  if (parsed.copyUp !== null) {
    const cptr = `${ptr}/options/${parsed.copyUp}`;
    if (isBind || m.type !== 'tmpfs') {
      throw new ConfigError(cptr, `mount option "tmpcopyup" is only valid for tmpfs mounts, not ${isBind ? 'a bind mount' : `type ${JSON.stringify(m.type ?? '')}`}`);
    }
    if (parsed.remount) throw new ConfigError(cptr, 'mount option "tmpcopyup" cannot be combined with "remount" (a remount creates no new tmpfs)');
  }

  const step: MountStep = {
    kind: 'fs', index: i, destination, source: null, fstype: m.type ?? '', recursive: false,
    attr: parsed.attr, recAttr: parsed.recAttr, propagation: parsed.propagation,
    sbFlags: [], data: parsed.data, idmap, cgroup: null, options: [...(m.options ?? [])],
    remount: parsed.remount, copyUp: parsed.copyUp !== null,
  };

  if (parsed.remount) {
    // runc passes MS_REMOUNT to mount(2): the mount already at the destination gets exactly the
    // flags given (those not given are cleared), its atime mode stays unless one is given.
    if (idmap) throw new ConfigError(`${ptr}/options`, '"remount" cannot be combined with idmap (an idmapping can only be set on a new mount)');
    step.attr = { set: parsed.attr.set, clr: (REMOUNT_FLAGS & ~parsed.attr.set) | (parsed.attr.clr & ATTR.ATIME_MASK) };
    step.kind = isBind ? 'bind' : 'fs';
    step.fstype = isBind ? 'bind' : m.type ?? '';
    step.source = typeof m.source === 'string' && m.source !== '' ? (isBind ? path.resolve(opts.bundle, m.source) : m.source) : null;
    // Superblock flags: only applied (in setup) to a filesystem an earlier entry of this config created.
    step.sbFlags = isBind || SHARED_SUPERBLOCK.has(step.fstype) ? [] : [parsed.readonly === true ? 'ro' : 'rw', ...parsed.sbFlags];
    if (isBind) step.data = [];
    return step;
  }

  if (isBind) {
    if (typeof m.source !== 'string' || m.source === '') throw new ConfigError(`${ptr}/source`, 'a bind mount needs a source');
    step.kind = 'bind';
    step.fstype = 'bind';
    step.source = path.resolve(opts.bundle, m.source);
    step.recursive = parsed.recursive;
    return step;
  }

  if (!m.type) throw new ConfigError(`${ptr}/type`, 'mount type is required unless the mount is a bind mount');

  if (m.type === 'cgroup') {
    step.kind = 'cgroup';
    step.source = m.source ?? null;
    step.cgroup = planCgroup(parsed, opts, ptr);
    return step;
  }

  step.source = m.source ?? null;
  const sbFlags = [...parsed.sbFlags];
  if (parsed.readonly === true && !SHARED_SUPERBLOCK.has(m.type)) sbFlags.unshift('ro');
  step.sbFlags = SHARED_SUPERBLOCK.has(m.type) ? [] : sbFlags;
  return step;
}

function planCgroup(parsed: ParsedOptions, opts: RootfsOptions, ptr: string): CgroupSpec {
  const mode = opts.cgroupMode ?? 'v2';
  const paths = opts.cgroupPaths ?? {};
  // As runc: read-only when the config says "ro" (engines do), writable
  // otherwise — nested cgroup managers (systemd, docker-in-docker) need it.
  // CVE-2023-25809 was a rootless runc mounting the host's cgroup dirs rw
  // despite a config without cgroupns; runts does not run rootless, and
  // what is mounted here is only the container's own cgroup.
  const readonly = parsed.readonly === true;
  if (mode === 'v2') {
    const bind: CgroupBind = { name: '', source: paths[''] ?? null };
    return { mode, namespace: opts.cgroupns, strategy: opts.cgroupns ? 'fresh' : 'bind', binds: [bind], readonly, symlinks: [] };
  }
  const names = Object.keys(paths);
  if (names.length === 0) throw new RuntsError(`${ptr}: a cgroup ${mode} mount needs the container's cgroup paths (RootfsOptions.cgroupPaths)`);
  const binds: CgroupBind[] = [];
  const symlinks: { name: string; target: string }[] = [];
  for (const name of names) {
    const sub = name === '' ? 'unified' : name;
    if (sub.includes('/') || sub === '.' || sub === '..') throw new RuntsError(`${ptr}: bad cgroup hierarchy name ${JSON.stringify(name)}`);
    binds.push({ name: sub, source: paths[name]! });
    if (sub.includes(',')) {
      for (const part of sub.split(',')) if (part && !names.includes(part)) symlinks.push({ name: part, target: sub });
    }
  }
  return { mode, namespace: opts.cgroupns, strategy: 'tmpfs+binds', binds, readonly, symlinks };
}

/** Build the plan. Throws ConfigError (with a JSON pointer) for configs runts cannot honour. */
export function planRootfs(spec: Spec, opts: RootfsOptions): RootfsPlan {
  if (!path.isAbsolute(opts.bundle)) throw new RuntsError(`bundle path ${JSON.stringify(opts.bundle)} is not absolute`);
  if (!spec.root || typeof spec.root.path !== 'string' || spec.root.path === '') throw new ConfigError('/root/path', 'root.path is required');
  const rootfs = path.resolve(opts.bundle, spec.root.path);

  let rootfsPropagation: Propagation | null = null;
  const rp = spec.linux?.rootfsPropagation;
  if (rp !== undefined && rp !== '') {
    rootfsPropagation = parsePropagation(rp);
    if (!rootfsPropagation) throw new ConfigError('/linux/rootfsPropagation', `rootfsPropagation=${rp} is not supported`);
  }

  const mounts = (spec.mounts ?? []).map((m, i) => planMount(m, i, spec, opts));

  // runc: when /dev is bind-mounted (from the host), devices, ptmx and /dev links are left alone.
  const setupDev = !mounts.some((m) => m.kind === 'bind' && !m.remount && m.destination === '/dev');
  // The last entry at /dev decides (a later "remount" changes the mount of an earlier one).
  const devMounts = mounts.filter((m) => m.destination === '/dev' && (m.kind === 'fs' || m.remount));
  const devMount = devMounts[devMounts.length - 1];
  const devReadonly = setupDev && devMount !== undefined && (devMount.attr.set & ATTR.RDONLY) !== 0;
  if (devReadonly) {
    // The device nodes are created after the mounts: mount /dev writable and make it read-only at the end.
    for (const d of devMounts) {
      d.attr = { set: d.attr.set & ~ATTR.RDONLY, clr: d.attr.clr & ~ATTR.RDONLY };
      d.sbFlags = d.sbFlags.filter((f) => f !== 'ro');
    }
  }

  const devices: DeviceNode[] = [];
  const symlinks: DevSymlink[] = [];
  if (setupDev) {
    const configured = (spec.linux?.devices ?? []).map(planDevice);
    const paths = new Set(configured.map((d) => d.path));
    for (const d of DEFAULT_DEVICES) if (!paths.has(d.path)) devices.push({ ...d });
    devices.push(...configured);
    // /dev/ptmx -> pts/ptmx (config-linux.md "Default Devices"; runc replaces whatever is there).
    if (!paths.has('/dev/ptmx')) symlinks.push({ path: '/dev/ptmx', target: 'pts/ptmx', replace: true, ifHostPathExists: null });
    for (const l of DEFAULT_DEV_SYMLINKS) if (!paths.has(l.path)) symlinks.push({ ...l });
  }

  const paths = (list: string[] | undefined, ptr: string): string[] => (list ?? []).map((p, i) => {
    if (typeof p !== 'string' || !p.startsWith('/')) throw new ConfigError(`${ptr}/${i}`, 'path must be absolute');
    if (p.includes('\0')) throw new ConfigError(`${ptr}/${i}`, 'path contains a NUL byte');
    return cleanContainerPath(p);
  });

  return {
    rootfs,
    readonlyRoot: spec.root.readonly === true,
    // runc applies rootfsPropagation to the host's / first too; "unbindable" there would make the
    // rootfs impossible to bind onto itself, so it is private until finishRootfs makes / unbindable.
    rootPropagation: !rootfsPropagation ? { type: 'slave', recursive: true }
      : rootfsPropagation.type === 'unbindable' ? { type: 'private', recursive: rootfsPropagation.recursive }
        : { ...rootfsPropagation },
    rootfsPropagation,
    noPivot: opts.noPivot,
    mountns: mountNsMode(spec),
    userns: opts.userns,
    mounts,
    setupDev,
    bindDevices: opts.userns,
    devices,
    devSymlinks: symlinks,
    devReadonly,
    console: setupDev && spec.process?.terminal === true,
    maskedPaths: paths(spec.linux?.maskedPaths, '/linux/maskedPaths'),
    readonlyPaths: paths(spec.linux?.readonlyPaths, '/linux/readonlyPaths'),
  };
}
