/**
 * `update [flags] <id>`: change the cgroup limits of a live container, as
 * `runc update`:
 *  - `-r/--resources FILE|-`: a LinuxResources JSON document (`-` reads it
 *    from stdin; docker sends it that way, podman as a file). All other
 *    resource flags are then ignored. The document is checked against the
 *    spec's LinuxResources schema; errors name the JSON pointer in it.
 *  - otherwise runc's flags (--memory 100m, --cpu-quota, --pids-limit ...),
 *    with runc's parsing: sizes like docker's RAMInBytes (k/m/g/t/p, binary
 *    multiples) or -1 for unlimited, integers like Go's strconv.
 * Zero values mean "leave alone" (docker sends 0 for everything it does not
 * change) except pids.limit (runtime-spec 1.3: 0 is a real limit, -1 is
 * "max"). Devices cannot be updated (ignored, as runc). Kernel memory
 * limits are ignored with a warning (runc ≥ 1.2). Intel RDT schemas are
 * refused: runts has no intelRdt support.
 *
 * The new values are written with the cgroup manager's set(…, {update:true})
 * and then merged into linux.resources of the config.json saved in the
 * container's state dir, so later commands see the current limits.
 */
import * as path from 'node:path';
import { RuntsError } from '../common/errors.js';
import { logWarning } from '../common/log.js';
import type { Resources, Spec } from '../spec/types.js';
import { deriveStatus } from '../state/status.js';
import { writeAtomic, type Store } from '../state/store.js';
import { managerOf } from './pause.js';

type Flags = Record<string, string | number | boolean | string[] | undefined>;

// ---------------------------------------------------------------------------
// Value parsing (runc / Go semantics)

const MULT: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const MAX_INT64 = 9223372036854775807;

/** docker/go-units RAMInBytes: "1024", "100m", "1.5g", "2 GiB", "512kb"; binary multiples. */
export function ramInBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (!m) throw new RuntsError(`invalid size: '${text}'`);
  const v = Math.trunc(Number(m[1]) * MULT[(m[2] ?? '').toLowerCase()]!);
  if (!Number.isFinite(v) || v > MAX_INT64) throw new RuntsError(`invalid size: '${text}'`);
  return v;
}

/** A memory flag: -1 (unlimited) or a size. */
export function parseMemoryFlag(flag: string, text: string): number {
  if (text === '-1') return -1;
  try {
    return ramInBytes(text);
  } catch (e) {
    throw new RuntsError(`invalid value for ${flag}: ${(e as Error).message}`);
  }
}

/** strconv.ParseUint / ParseInt (base 10, 64 bits), with Go's error wording. */
export function parseGoInt(flag: string, text: string, unsigned: boolean): number {
  const fn = unsigned ? 'ParseUint' : 'ParseInt';
  const ok = unsigned ? /^\+?[0-9]+$/.test(text) : /^[+-]?[0-9]+$/.test(text);
  if (!ok) throw new RuntsError(`invalid value for ${flag}: strconv.${fn}: parsing ${JSON.stringify(text)}: invalid syntax`);
  const big = BigInt(text.replace(/^\+/, ''));
  const [lo, hi] = unsigned ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
  if (big < lo || big > hi) throw new RuntsError(`invalid value for ${flag}: strconv.${fn}: parsing ${JSON.stringify(text)}: value out of range`);
  return Number(big);
}

const RESOURCE_FLAGS = [
  'blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-burst', 'cpu-share', 'cpu-rt-period', 'cpu-rt-runtime',
  'cpuset-cpus', 'cpuset-mems', 'cpu-idle', 'kernel-memory', 'kernel-memory-tcp', 'memory',
  'memory-reservation', 'memory-swap', 'pids-limit',
];

/** The LinuxResources that runc's update flags describe (only what was given). */
export function resourcesFromFlags(flags: Flags): Resources {
  const str = (name: string): string | undefined => {
    const v = flags[name];
    return v === undefined || v === '' ? undefined : String(v);
  };
  const memory: NonNullable<Resources['memory']> = {};
  const cpu: NonNullable<Resources['cpu']> = {};
  const r: Resources = {};

  const weight = flags['blkio-weight'];
  if (weight !== undefined && Number(weight) !== 0) {
    const w = Number(weight);
    // runc converts to uint16.
    if (!Number.isInteger(w) || w < 0 || w > 65535) throw new RuntsError(`invalid value for blkio-weight: ${weight} is out of range (10-1000)`);
    r.blockIO = { weight: w };
  }
  if (str('cpuset-cpus') !== undefined) cpu.cpus = str('cpuset-cpus');
  if (str('cpuset-mems') !== undefined) cpu.mems = str('cpuset-mems');
  if (str('cpu-idle') !== undefined) cpu.idle = parseGoInt('cpu-idle', str('cpu-idle')!, false);
  const uints: [string, 'burst' | 'period' | 'realtimePeriod' | 'shares'][] = [
    ['cpu-burst', 'burst'], ['cpu-period', 'period'], ['cpu-rt-period', 'realtimePeriod'], ['cpu-share', 'shares'],
  ];
  for (const [flag, key] of uints) {
    const v = str(flag);
    if (v !== undefined) cpu[key] = parseGoInt(flag, v, true);
  }
  const ints: [string, 'quota' | 'realtimeRuntime'][] = [['cpu-quota', 'quota'], ['cpu-rt-runtime', 'realtimeRuntime']];
  for (const [flag, key] of ints) {
    const v = str(flag);
    if (v !== undefined) cpu[key] = parseGoInt(flag, v, false);
  }
  const mems: [string, 'limit' | 'swap' | 'reservation'][] = [['memory', 'limit'], ['memory-swap', 'swap'], ['memory-reservation', 'reservation']];
  for (const [flag, key] of mems) {
    const v = str(flag);
    if (v !== undefined) memory[key] = parseMemoryFlag(flag, v);
  }
  for (const flag of ['kernel-memory', 'kernel-memory-tcp']) {
    const v = str(flag);
    if (v !== undefined) {
      parseMemoryFlag(flag, v);
      logWarning(`Setting --${flag} is ignored and will be removed`);
    }
  }
  if (flags['pids-limit'] !== undefined) r.pids = { limit: Number(flags['pids-limit']) };
  if (Object.keys(memory).length) r.memory = memory;
  if (Object.keys(cpu).length) r.cpu = cpu;
  return r;
}

// ---------------------------------------------------------------------------
// The JSON document

/** Go's decoder treats null as "absent": drop null members so the schema sees what Go would. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
    return out;
  }
  return v;
}

/** Parse and check a LinuxResources document; `label` names it in errors. */
export async function parseResourcesJson(text: string, label: string): Promise<Resources> {
  const { jsonErrorOffset, lineColumn, schemaErrors, detailOf } = await import('../spec/validate.js');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const { line, column } = lineColumn(text, jsonErrorOffset(text));
    const reason = (e as Error).message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '');
    throw new RuntsError(`${label}: invalid JSON at line ${line}, column ${column}: ${reason}`);
  }
  doc = dropNulls(doc);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new RuntsError(`${label} /: must be a LinuxResources object, got ${Array.isArray(doc) ? 'an array' : JSON.stringify(doc)}`, { pointer: '/' });
  }
  // The standalone validators cover whole configs: check the document as
  // the linux.resources of a minimal config and map the pointers back.
  const prefix = '/linux/resources';
  const rel = (p: string | undefined) => (p && p.startsWith(prefix) ? p.slice(prefix.length) || '/' : p || '/');
  // sizes and every integer against its C type, by its literal digits (as config.json: src/spec/bounds.ts)
  const { scanBounds } = await import('../spec/bounds.js');
  const scan = scanBounds(text, ['linux', 'resources']);
  const bad = scan.errors[0] ?? scan.typeErrors[0];
  if (bad) throw new RuntsError(`${label} ${rel(bad.pointer)}: ${detailOf(bad)}`, { pointer: rel(bad.pointer) });
  const errs = schemaErrors({ ociVersion: '1.3.0', linux: { resources: doc } });
  if (errs.length) {
    const first = errs[0]!;
    const more = errs.length > 1 ? ` (and ${errs.length - 1} more error${errs.length > 2 ? 's' : ''})` : '';
    throw new RuntsError(`${label} ${rel(first.pointer)}: ${detailOf(first)}${more}`, { pointer: rel(first.pointer) });
  }
  return doc as Resources;
}

/** The --resources document: bounded in size and valid UTF-8, as config.json is (src/spec/raw-text.ts). */
async function readInput(file: string): Promise<string> {
  const { readDocumentText, readStdinText } = await import('../spec/raw-text.js');
  const label = `--resources ${file === '-' ? '(stdin)' : file}`;
  return file === '-' ? readStdinText(label) : readDocumentText(file, label);
}

// ---------------------------------------------------------------------------
// Merging into the saved config

const ZERO_KEEPS_MEMORY = ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP'] as const;
const ZERO_KEEPS_CPU = ['shares', 'quota', 'period', 'realtimeRuntime', 'realtimePeriod'] as const;

type Dev = { major: number; minor: number };
function mergeByDevice<T extends Dev>(old: T[] | undefined, upd: T[] | undefined, drop: (d: T) => boolean): T[] | undefined {
  if (!upd) return old;
  const out = [...(old ?? [])];
  for (const d of upd) {
    const i = out.findIndex((o) => o.major === d.major && o.minor === d.minor);
    if (i >= 0) out.splice(i, 1);
    if (!drop(d)) out.push(d);
  }
  return out;
}

/**
 * The resources after an update: `upd` on top of `old`, where the values the
 * kernel was told to "leave alone" (0, "") keep the old ones. Pure.
 */
export function mergeResources(old: Resources, upd: Resources): Resources {
  const r: Resources = JSON.parse(JSON.stringify(old ?? {})) as Resources;
  if (upd.memory) {
    const m: Record<string, unknown> = { ...(r.memory ?? {}) };
    for (const [k, v] of Object.entries(upd.memory)) {
      if (v === undefined) continue;
      if ((ZERO_KEEPS_MEMORY as readonly string[]).includes(k) && v === 0) continue;
      m[k] = v;
    }
    r.memory = m as Resources['memory'];
  }
  if (upd.cpu) {
    const c: Record<string, unknown> = { ...(r.cpu ?? {}) };
    for (const [k, v] of Object.entries(upd.cpu)) {
      if (v === undefined) continue;
      if ((ZERO_KEEPS_CPU as readonly string[]).includes(k) && v === 0) continue;
      if ((k === 'cpus' || k === 'mems') && v === '') continue;
      c[k] = v;
    }
    r.cpu = c as Resources['cpu'];
  }
  if (upd.pids && upd.pids.limit !== undefined) r.pids = { limit: upd.pids.limit };
  if (upd.blockIO) {
    const b = { ...(r.blockIO ?? {}) };
    const u = upd.blockIO;
    if (u.weight !== undefined && u.weight !== 0) b.weight = u.weight;
    if (u.leafWeight !== undefined && u.leafWeight !== 0) b.leafWeight = u.leafWeight;
    b.weightDevice = mergeByDevice(b.weightDevice, u.weightDevice, () => false);
    for (const k of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const) {
      b[k] = mergeByDevice(b[k], u[k], (d) => d.rate === 0);
    }
    for (const k of Object.keys(b) as (keyof typeof b)[]) if (b[k] === undefined) delete b[k];
    if (r.blockIO || Object.keys(b).length) r.blockIO = b;
  }
  if (upd.hugepageLimits) {
    const h = [...(r.hugepageLimits ?? [])];
    for (const l of upd.hugepageLimits) {
      const i = h.findIndex((o) => o.pageSize === l.pageSize);
      if (i >= 0) h[i] = l;
      else h.push(l);
    }
    r.hugepageLimits = h;
  }
  if (upd.network) {
    const n = { ...(r.network ?? {}) };
    if (upd.network.classID !== undefined) n.classID = upd.network.classID;
    if (upd.network.priorities) {
      const p = [...(n.priorities ?? [])];
      for (const x of upd.network.priorities) {
        const i = p.findIndex((o) => o.name === x.name);
        if (i >= 0) p[i] = x;
        else p.push(x);
      }
      n.priorities = p;
    }
    r.network = n;
  }
  if (upd.rdma) r.rdma = { ...(r.rdma ?? {}), ...upd.rdma };
  if (upd.unified) r.unified = { ...(r.unified ?? {}), ...upd.unified };
  return r;
}

// ---------------------------------------------------------------------------

export async function updateContainer(store: Store, id: string, flags: Flags): Promise<void> {
  // Intel RDT: runts has no resctrl support, so any schema is refused (runc's
  // wording when the feature is not enabled), before anything is changed.
  if (flags['l3-cache-schema']) {
    throw new RuntsError('Intel RDT/CAT: l3 cache schema is not enabled (runts does not support linux.intelRdt)', { op: 'update' });
  }
  if (flags['mem-bw-schema']) {
    throw new RuntsError('Intel RDT/MBA: memory bandwidth schema is not enabled (runts does not support linux.intelRdt)', { op: 'update' });
  }

  let upd: Resources;
  const file = flags.resources === undefined || flags.resources === '' ? undefined : String(flags.resources);
  if (file !== undefined) {
    const ignored = RESOURCE_FLAGS.filter((f) => flags[f] !== undefined);
    if (ignored.length) logWarning(`--resources is given: ignoring ${ignored.map((f) => `--${f}`).join(', ')}`);
    upd = await parseResourcesJson(await readInput(file), file === '-' ? 'resources (stdin)' : `resources ${file}`);
  } else {
    upd = resourcesFromFlags(flags);
  }

  // Not updatable (runc skips devices on update); kernel memory is obsolete.
  delete upd.devices;
  if (upd.memory && ((upd.memory.kernel ?? 0) !== 0 || (upd.memory.kernelTCP ?? 0) !== 0)) {
    logWarning('Kernel memory settings are ignored and will be removed');
  }
  if (upd.memory) {
    delete upd.memory.kernel;
    delete upd.memory.kernelTCP;
    // runc: an unlimited memory limit without an explicit swap lifts swap too.
    if (upd.memory.limit === -1 && upd.memory.swap === undefined) upd.memory.swap = -1;
  }

  const lock = store.lock(id);
  try {
    const rec = store.mustRead(id);
    const status = deriveStatus(store, rec);
    if (status === 'stopped' || status === 'creating') {
      throw new RuntsError(`cannot update container "${id}": container not running (it is ${status})`, { op: 'update' });
    }
    const cfgFile = path.join(store.dir(id), 'config.json');
    const spec = store.config(id) as Spec;
    const old = spec.linux?.resources ?? {};

    // Quota and period are one value on cgroup v2 (cpu.max): when only one
    // of them changes, send the other one's current value along.
    const apply: Resources = JSON.parse(JSON.stringify(upd)) as Resources;
    if (apply.cpu) {
      const q = apply.cpu.quota ?? 0, p = apply.cpu.period ?? 0;
      if (q === 0 && p !== 0 && (old.cpu?.quota ?? 0) !== 0) apply.cpu.quota = old.cpu!.quota;
      if (p === 0 && q !== 0 && (old.cpu?.period ?? 0) !== 0) apply.cpu.period = old.cpu!.period;
    }
    managerOf(rec, 'update').set(apply, { update: true });

    const next: Spec = { ...spec, linux: { ...(spec.linux ?? {}), resources: mergeResources(old, upd) } };
    writeAtomic(cfgFile, JSON.stringify(next));
  } finally {
    lock.release();
  }
}
