/** Semantic checks of the config-linux.md fields (see semantic.ts). */
import { statSync } from 'node:fs';
import { NAMESPACES, namespaceKind } from '../linux/namespaces.js';
import { namespaceEntries } from '../plan/namespaces.js';
import type { IDMapping, NamespaceType, Resources, Seccomp } from './types.js';
import { type Ctx, checkPath, error, hasNul, namespaceRef, ptr, requireNamespace, show, warn } from './semantic-helpers.js';

// ---------------------------------------------------------------------------
// Namespaces and id mappings

export function collectNamespaces(c: Ctx): void {
  for (const ns of namespaceEntries(c.linux)) {
    const i = ns.index;
    const at = ptr('linux', 'namespaces', i);
    if (!namespaceKind(ns.type)) {
      const known = NAMESPACES.map((n) => JSON.stringify(n.type)).join(', ');
      error(c, `${at}/type`, `unknown namespace type ${show(ns.type)}; must be one of ${known}`);
      continue;
    }
    const prev = c.namespaces.get(ns.type as NamespaceType);
    if (prev) {
      error(c, `${at}/type`, `duplicate namespace type ${show(ns.type)}, already listed at ${ptr('linux', 'namespaces', prev.index)}`);
      continue;
    }
    c.namespaces.set(ns.type as NamespaceType, { index: i, path: ns.path || undefined });
    if (ns.path) checkPath(c, `${at}/path`, ns.path);
  }
}

export function checkUserNamespace(c: Ctx): void {
  const userns = c.namespaces.get('user');
  for (const key of ['uidMappings', 'gidMappings'] as const) {
    const maps = c.linux[key];
    const at = ptr('linux', key);
    const given = maps !== undefined && maps.length > 0;
    if (given && !userns) error(c, at, 'set, but no user namespace is requested in /linux/namespaces');
    else if (given && userns?.path) error(c, at, `cannot be applied to the user namespace joined through ${namespaceRef(userns)}`);
    else if (!given && userns && !userns.path) error(c, at, 'required when a new user namespace is created');
    checkMappings(c, maps, at);
  }
}

/** The kernel's limit on uid_map/gid_map lines. */
const MAX_ID_RANGES = 340;
const ID_SPACE = 2 ** 32;

function overlaps(a: IDMapping, b: IDMapping, key: 'containerID' | 'hostID'): boolean {
  return a[key] < b[key] + b.size && b[key] < a[key] + a.size;
}

export function checkMappings(c: Ctx, maps: IDMapping[] | undefined, at: string): void {
  if (!maps) return;
  if (maps.length > MAX_ID_RANGES) error(c, at, `must have at most ${MAX_ID_RANGES} entries, got ${maps.length}`);
  maps.forEach((m, i) => {
    if (m.size === 0) return error(c, `${at}/${i}/size`, 'must be >= 1, got 0');
    if (m.containerID + m.size > ID_SPACE || m.hostID + m.size > ID_SPACE) {
      return error(c, `${at}/${i}`, 'range goes beyond the 32-bit id space');
    }
    const j = maps.slice(0, i).findIndex((o) => o.size > 0 && (overlaps(m, o, 'containerID') || overlaps(m, o, 'hostID')));
    if (j >= 0) error(c, `${at}/${i}`, `overlaps ${at}/${j}`);
  });
}

export function checkUts(c: Ctx): void {
  for (const key of ['hostname', 'domainname'] as const) {
    if (c.spec[key]) requireNamespace(c, `/${key}`, 'uts', `setting the ${key}`, true);
  }
}

export function checkTimeOffsets(c: Ctx): void {
  const offsets = c.linux.timeOffsets;
  if (!offsets || Object.keys(offsets).length === 0) return;
  requireNamespace(c, '/linux/timeOffsets', 'time', 'timeOffsets', false);
  for (const [clock, offset] of Object.entries(offsets)) {
    const at = ptr('linux', 'timeOffsets', clock);
    if (clock !== 'boottime' && clock !== 'monotonic') {
      error(c, at, `unknown clock ${show(clock)}; must be "boottime" or "monotonic"`);
    }
    if ((offset.nanosecs ?? 0) >= 1e9) error(c, `${at}/nanosecs`, `must be < 1000000000, got ${offset.nanosecs}`);
  }
}

// ---------------------------------------------------------------------------
// Devices, sysctl, cgroups

export function checkDevices(c: Ctx): void {
  (c.linux.devices ?? []).forEach((d, i) => {
    const at = ptr('linux', 'devices', i);
    checkPath(c, `${at}/path`, d.path);
    if (d.type === 'p') return;
    for (const key of ['major', 'minor'] as const) {
      if (d[key] === undefined) error(c, at, `missing required property "${key}" (required unless type is "p")`);
    }
  });
}

const SYSCTL_NAME = /^[A-Za-z0-9_@:+-]+(?:[./][A-Za-z0-9_@:+-]+)+$/;
const IPC_SYSCTLS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.sem_next_id',
  'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

/** The namespace that isolates a sysctl, or undefined if it is global. */
export function sysctlNamespace(key: string): NamespaceType | undefined {
  const name = key.replace(/\//g, '.');
  if (name.startsWith('net.')) return 'network';
  // kernel.shm* and kernel.msg* are all IPC-namespaced (ipc/ipc_sysctl.c), e.g. shm_next_id, msg_next_id.
  if (IPC_SYSCTLS.has(name) || /^kernel\.(shm|msg)/.test(name) || name.startsWith('fs.mqueue.')) return 'ipc';
  if (name === 'kernel.hostname' || name === 'kernel.domainname') return 'uts';
  return undefined;
}

export function checkSysctl(c: Ctx): void {
  for (const key of Object.keys(c.linux.sysctl ?? {})) {
    const at = ptr('linux', 'sysctl', key);
    const ns = sysctlNamespace(key);
    if (!SYSCTL_NAME.test(key)) error(c, at, `invalid sysctl name ${show(key)}`);
    else if (!ns) error(c, at, `sysctl ${show(key)} is not namespaced: setting it would change the host`);
    else {
      requireNamespace(c, at, ns, `sysctl ${show(key)}`, true);
      const joined = c.namespaces.get(ns);
      if (joined?.path && isOwnNamespace(ns, joined.path)) {
        error(c, at, `sysctl ${show(key)} needs a private ${ns} namespace, but ${namespaceRef(joined)} is the runtime's own: setting it would change the host`);
      }
    }
  }
}

/** Is `nsPath` the namespace this process is in (runc's isHostNetNS, for every kind)? */
function isOwnNamespace(type: NamespaceType, nsPath: string): boolean {
  try {
    const a = statSync(nsPath);
    const b = statSync(`/proc/self/ns/${namespaceKind(type)!.proc}`);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false; // a missing path fails later, when the namespace is joined
  }
}

export function checkCgroupsPath(c: Ctx): void {
  const p = c.linux.cgroupsPath;
  if (!p) return;
  if (hasNul(p)) error(c, '/linux/cgroupsPath', 'must not contain a NUL character');
  else if (p.split('/').includes('..')) error(c, '/linux/cgroupsPath', `must not contain ".." components, got ${show(p)}`);
}

export function checkResources(c: Ctx): void {
  const r = c.linux.resources;
  if (!r) return;
  checkDeviceRules(c, r);
  checkBlockIO(c, r);
  checkRdma(c, r);
  checkCpu(c, r);
  checkMemory(c, r);
  checkUnified(c, r);
}

function checkDeviceRules(c: Ctx, r: Resources): void {
  (r.devices ?? []).forEach((d, i) => {
    const at = ptr('linux', 'resources', 'devices', i);
    if (d.type !== undefined && !['a', 'b', 'c'].includes(d.type)) {
      error(c, `${at}/type`, `must be one of "a", "b", "c", got ${show(d.type)}`);
    }
    // runc ignores letters other than r, w and m: a warning, unless none is left
    if (d.access !== undefined && !/[rwm]/.test(d.access)) {
      error(c, `${at}/access`, `must be a combination of "r", "w" and "m", got ${show(d.access)}`);
    } else if (d.access !== undefined && /[^rwm]/.test(d.access)) {
      warn(c, `${at}/access`, `unknown access letters in ${show(d.access)} are ignored (only "r", "w" and "m" mean something), as runc does`);
    }
  });
}

function checkBlockIO(c: Ctx, r: Resources): void {
  (r.blockIO?.weightDevice ?? []).forEach((w, i) => {
    if (w.weight === undefined && w.leafWeight === undefined) {
      error(c, ptr('linux', 'resources', 'blockIO', 'weightDevice', i), 'must specify at least one of "weight" or "leafWeight"');
    }
  });
}

function checkRdma(c: Ctx, r: Resources): void {
  for (const [dev, limits] of Object.entries(r.rdma ?? {})) {
    if (limits.hcaHandles === undefined && limits.hcaObjects === undefined) {
      error(c, ptr('linux', 'resources', 'rdma', dev), 'must specify at least one of "hcaHandles" or "hcaObjects"');
    }
  }
}

function checkCpu(c: Ctx, r: Resources): void {
  const cpu = r.cpu;
  if (cpu?.burst !== undefined && cpu.quota !== undefined && cpu.quota > 0 && cpu.burst > cpu.quota) {
    error(c, '/linux/resources/cpu/burst', `must be <= quota (${cpu.quota}), got ${cpu.burst}`);
  }
}

function checkMemory(c: Ctx, r: Resources): void {
  const mem = r.memory;
  if (!mem) return;
  const { limit, swap, swappiness } = mem;
  if (limit !== undefined && swap !== undefined && limit > 0 && swap > 0 && swap < limit) {
    error(c, '/linux/resources/memory/swap', `is the memory+swap limit and must be >= limit (${limit}) or -1, got ${swap}`);
  }
  if (swappiness !== undefined && swappiness > 100) {
    error(c, '/linux/resources/memory/swappiness', `must be between 0 and 100, got ${swappiness}`);
  }
}

function checkUnified(c: Ctx, r: Resources): void {
  for (const key of Object.keys(r.unified ?? {})) {
    if (key === '.' || key === '..' || key.includes('/') || hasNul(key)) {
      error(c, ptr('linux', 'resources', 'unified', key), `must be a cgroup file name such as "memory.max", got ${show(key)}`);
    }
  }
}

// ---------------------------------------------------------------------------
// Seccomp, paths, personality, RDT, memory policy, network devices

const ERRNO_ACTIONS = new Set(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE']);

function checkErrnoRet(c: Ctx, pointer: string, errnoRet: number | undefined, action: string): void {
  if (errnoRet !== undefined && !ERRNO_ACTIONS.has(action)) {
    error(c, pointer, `is only supported with "SCMP_ACT_ERRNO" or "SCMP_ACT_TRACE", not ${show(action)}`);
  }
}

export function checkSeccomp(c: Ctx): void {
  const s: Seccomp | undefined = c.linux.seccomp;
  if (!s) return;
  const at = '/linux/seccomp';
  if (s.listenerMetadata && !s.listenerPath) error(c, `${at}/listenerMetadata`, 'must not be set without listenerPath');
  checkErrnoRet(c, `${at}/defaultErrnoRet`, s.defaultErrnoRet, s.defaultAction);
  const syscalls = s.syscalls ?? [];
  syscalls.forEach((sc, i) => {
    checkErrnoRet(c, `${at}/syscalls/${i}/errnoRet`, sc.errnoRet, sc.action);
    sc.names.forEach((n, j) => {
      if (n === '') error(c, `${at}/syscalls/${i}/names/${j}`, 'must not be empty');
    });
  });
  const notify = s.defaultAction === 'SCMP_ACT_NOTIFY' || syscalls.some((sc) => sc.action === 'SCMP_ACT_NOTIFY');
  if (notify && !s.listenerPath) error(c, at, 'missing required property "listenerPath" (needed by SCMP_ACT_NOTIFY)');
}

export function checkMaskedAndReadonly(c: Ctx): void {
  for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
    (c.linux[key] ?? []).forEach((p, i) => checkPath(c, ptr('linux', key, i), p));
  }
}

export function checkPersonality(c: Ctx): void {
  const p = c.linux.personality;
  if (!p) return;
  if (p.domain === undefined) error(c, '/linux/personality', 'missing required property "domain"');
  if ((p.flags ?? []).length > 0) error(c, '/linux/personality/flags', `no personality flags are supported, got ${show(p.flags)}`);
}

export function checkIntelRdt(c: Ctx): void {
  const rdt = c.linux.intelRdt as { closID?: string; schemata?: string[] } | undefined;
  if (!rdt) return;
  const id = rdt.closID;
  if (id !== undefined && id !== '/' && (id === '' || id === '.' || id === '..' || id.includes('/') || hasNul(id))) {
    error(c, '/linux/intelRdt/closID', `must be "/" or a single directory name, got ${show(id)}`);
  }
  (rdt.schemata ?? []).forEach((line, i) => {
    if (line.includes('\n')) error(c, ptr('linux', 'intelRdt', 'schemata', i), 'must not contain newlines');
  });
}

const NODE_LIST = /^\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*$/;
const MODES_WITHOUT_NODES = new Set(['MPOL_DEFAULT', 'MPOL_LOCAL']);
const MODES_NEEDING_NODES = new Set(['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY']);

export function checkMemoryPolicy(c: Ctx): void {
  const mp = c.linux.memoryPolicy;
  const at = '/linux/memoryPolicy';
  if (!mp) return;
  if (mp.mode === undefined) return error(c, at, 'missing required property "mode"');
  const nodes = mp.nodes ?? '';
  if (nodes !== '' && !NODE_LIST.test(nodes)) error(c, `${at}/nodes`, `must be a node list such as "0-3,7", got ${show(nodes)}`);
  if (MODES_WITHOUT_NODES.has(mp.mode) && nodes !== '') error(c, `${at}/nodes`, `must be empty with mode ${mp.mode}`);
  if (MODES_NEEDING_NODES.has(mp.mode) && nodes === '') {
    error(c, at, `missing required property "nodes" (mode ${mp.mode} needs at least one node)`);
  }
}

/** The kernel's dev_valid_name(): 1..15 bytes, not "." or "..", no "/", ":" or whitespace. */
function validInterfaceName(name: string): boolean {
  return name.length >= 1 && name.length <= 15 && name !== '.' && name !== '..' && !/[/:\s\0]/.test(name);
}

export function checkNetDevices(c: Ctx): void {
  const devices = c.linux.netDevices;
  if (!devices || Object.keys(devices).length === 0) return;
  requireNamespace(c, '/linux/netDevices', 'network', 'moving network devices', true);
  for (const [hostName, dev] of Object.entries(devices)) {
    const at = ptr('linux', 'netDevices', hostName);
    if (!validInterfaceName(hostName)) error(c, at, `invalid interface name ${show(hostName)}`);
    if (dev.name !== undefined && !validInterfaceName(dev.name)) error(c, `${at}/name`, `invalid interface name ${show(dev.name)}`);
  }
}
