/**
 * The root-filesystem plan: a pure translation of config.json (mounts,
 * devices, masked/readonly paths, propagation, the mount label) into plain
 * data that the init stage applies inside the container's mount namespace
 * (src/linux/rootfs/setup.ts).
 *
 * Nothing here touches the system. The plan is JSON-serialisable: it crosses
 * the process boundary between the runts parent and the init stage.
 *
 * Option semantics follow config.md "Linux mount options" and runc's parser:
 * later options win, unknown options become filesystem data (key[=value]),
 * bind sources are resolved against the bundle directory.
 */

import * as path from 'node:path';
import { ConfigError, RuntsError } from '../common/errors.js';
import type { Device, IDMapping, Mount, Spec } from '../spec/types.js';
import { mountNsMode } from './namespaces.js';
import {
  REMOUNT_FLAGS, SHARED_SUPERBLOCK, cleanContainerPath, parseMountOptions, parsePropagation, type ParsedOptions,
} from '../linux/rootfs/mount-options.js';
import {
  type CgroupBind, type CgroupSpec, type DevSymlink, type DeviceNode, type IdmapSpec, type MountStep,
  type Propagation, type RootfsOptions, type RootfsPlan,
} from '../linux/rootfs/plan-types.js';
import { MOUNT_ATTR as ATTR } from '../linux/abi.js';

// The shapes (src/linux/rootfs/plan-types.ts, shared with setup.ts, which
// applies the plan) and the option parser (mount-options.ts); importers of
// this planner get them from here too.
export * from '../linux/rootfs/plan-types.js';
export {
  MOUNT_OPTIONS, REMOUNT_FLAGS, SHARED_SUPERBLOCK, cleanContainerPath, parseMountOptions, parsePropagation,
  type ParsedOptions,
} from '../linux/rootfs/mount-options.js';

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
  // despite a config without cgroupns; what is mounted here is only the
  // container's own cgroup (none for a rootless one without a cgroup).
  const readonly = parsed.readonly === true;
  if (mode === 'v2') {
    const bind: CgroupBind = { name: '', source: paths[''] ?? null };
    return { mode, namespace: opts.cgroupns, strategy: opts.cgroupns ? 'fresh' : 'bind', binds: [bind], readonly, symlinks: [] };
  }
  // no paths: a rootless container without a cgroup (src/cgroups/rootless.ts) gets an empty tmpfs
  const names = Object.keys(paths);
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

/** Filesystems that never get a context= option (runc mounts them without the label). */
const NO_CONTEXT_FS = new Set(['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2']);

/**
 * linux.mountLabel (planned by src/linux/lsm.ts planMountLabel) as a
 * `context=<label>` option of a fresh filesystem: not on proc, sysfs,
 * mqueue, cgroup, nor on bind mounts (runc's rules); a context= of the
 * config's own wins. With the new mount API the value goes to fsconfig as
 * one string, so it is not quoted.
 */
function withMountLabel(step: MountStep, label: string | undefined): MountStep {
  if (!label || step.kind !== 'fs' || NO_CONTEXT_FS.has(step.fstype)) return step;
  if (step.data.some((d) => d.key === 'context')) return step;
  return { ...step, data: [...step.data, { key: 'context', value: label }] };
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

  const mounts = (spec.mounts ?? []).map((m, i) => withMountLabel(planMount(m, i, spec, opts), opts.mountLabel));

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

  // absolute and without NUL: validated (src/spec/semantic-linux.ts checkMaskedAndReadonly)
  const paths = (list: string[] | undefined): string[] => (list ?? []).map(cleanContainerPath);

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
    bindDevices: opts.bindDevices ?? opts.userns,
    devices,
    devSymlinks: symlinks,
    devReadonly,
    console: setupDev && spec.process?.terminal === true,
    maskedPaths: paths(spec.linux?.maskedPaths),
    readonlyPaths: paths(spec.linux?.readonlyPaths),
  };
}
