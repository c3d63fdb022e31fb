/**
 * The shapes of a RootfsPlan (src/plan/rootfs.ts builds it, setup.ts applies it); the
 * MOUNT_ATTR_* bits they carry are in ../abi.ts. Plain data: it crosses the
 * process boundary between the runts parent and the init stage.
 */

import type { IDMapping } from '../../spec/types.js';

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

/** Which mount namespace the rootfs is set up in (mountns.ts says what each means; src/plan/namespaces.ts decides). */
export type MountNsMode = 'new' | 'join' | 'host';

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
  /** Bind host device nodes instead of mknod (default: userns); also when runts itself runs in a user namespace. */
  bindDevices?: boolean;
  cgroupns: boolean;
  /**
   * Host directories of the container's cgroup.
   * v2: { '': dir }. v1/hybrid: hierarchy directory name under /sys/fs/cgroup (e.g. 'memory',
   * 'cpu,cpuacct', 'systemd') -> dir; hybrid: '' is the unified hierarchy (mounted at 'unified').
   */
  cgroupPaths?: Record<string, string>;
  cgroupMode?: CgroupMode;
  /** linux.mountLabel when it applies (SELinux enabled): a context= option of the fresh filesystems. */
  mountLabel?: string;
}
