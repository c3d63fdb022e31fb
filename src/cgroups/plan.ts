/**
 * linux.resources → "file plans": the ordered list of (controller, file,
 * value) writes that put a cgroup into the requested state. Pure: whatever
 * the plan depends on in the host (current limits, which optional files
 * exist) comes in through PlanContext, filled by the manager.
 *
 * Zero values follow runc: for memory limit/reservation/swap/kernel/
 * kernelTCP, cpu shares/quota/period/realtime*, blockIO weight/leafWeight a
 * value of 0 means "leave alone" (docker update sends 0 for every field it
 * does not change). pids.limit is the exception the spec calls out: 0 is a
 * real limit and -1 (any negative) means "max".
 *
 * Values the kernel cannot honour produce an error naming the field (here)
 * or the file (when the write fails), except kernel/kernelTCP memory, which
 * the spec marks NOT RECOMMENDED: they are written only where the file
 * exists (kernel memory limits are ignored by kernels ≥ 5.16 anyway).
 */

import { RuntsError } from '../common/errors.js';
import type { Resources } from '../spec/types.js';
import { blkioWeightToIoWeight, cpuSharesToWeight, memorySwapToV2, parsePageSize } from './convert.js';
import { devicesV1Writes } from './devices.js';

export interface PlanEntry {
  /** v1 controller whose hierarchy holds the file; "" for cgroup v2. */
  controller: string;
  file: string;
  value: string;
  /** The config field this write comes from, for error messages. */
  source: string;
  /** Skip silently when the file does not exist on this kernel. */
  optional?: boolean;
  /** Ignore any error from this write. */
  bestEffort?: boolean;
  /** Read the file back and fail if the kernel stored a different value (cpu.shares clamping). */
  verify?: boolean;
  /** On EINVAL, retry once after the other writes of the same controller (period/quota/burst ordering). */
  retryOnEinval?: boolean;
}

export type V1PlanEntry = PlanEntry;
export interface V2PlanEntry extends PlanEntry { controller: '' }

export interface PlanContext {
  /** This is an update of a running container (`runts update`). */
  update?: boolean;
  /**
   * Current memory limit in bytes (v1 memory.limit_in_bytes; v2 memory.max,
   * -1 for "max"). v1: orders the limit and memsw writes so that memsw ≥
   * limit holds after each write. v2: lets an update change swap alone.
   */
  currentMemoryLimit?: number;
  /** v1: memory.memsw.limit_in_bytes exists (swap accounting on). Default true. */
  swapAccounting?: boolean;
  /** v1: which weight file the blkio hierarchy has (CFQ blkio.weight, BFQ blkio.bfq.weight, or none). Default blkio.weight. */
  blkioWeightFile?: 'blkio.weight' | 'blkio.bfq.weight' | null;
  /** v2: io.bfq.weight exists (BFQ scheduler), so weights are written raw to it. */
  bfq?: boolean;
  /** v2: controllers available in the container's cgroup (cgroup.controllers); checks unified keys when given. */
  controllers?: string[];
}

const R = 'linux.resources';

function invalid(field: string, why: string): RuntsError {
  const pointer = '/' + field.replace(/\./g, '/');
  return new RuntsError(`config.json ${pointer}: ${why}`, { pointer });
}

/** Decimal text of an integer, exact even beyond 2^53 (as far as JSON kept it). */
function num(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(Math.trunc(n)).toString();
}

function int(field: string, v: number | undefined): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(field, `must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

function devNum(field: string, d: { major: number; minor: number }): string {
  if (!Number.isInteger(d.major) || !Number.isInteger(d.minor) || d.major < 0 || d.minor < 0) {
    throw invalid(field, `invalid device ${d.major}:${d.minor}`);
  }
  return `${d.major}:${d.minor}`;
}

function checkBurst(r: Resources): void {
  const q = r.cpu?.quota, b = r.cpu?.burst;
  if (q !== undefined && b !== undefined && q > 0 && b > q) {
    throw invalid(`${R}.cpu.burst`, `burst (${b}) must not be larger than quota (${q})`);
  }
}

/** The plan for cgroup v1. Devices go to the devices hierarchy as devices.deny/devices.allow writes. */
export function planV1(r: Resources, ctx: PlanContext = {}): V1PlanEntry[] {
  const out: V1PlanEntry[] = [];
  const add = (controller: string, file: string, value: string, source: string, extra: Partial<PlanEntry> = {}) =>
    out.push({ ...extra, controller, file, value, source });

  // cpuset
  if (r.cpu?.cpus) add('cpuset', 'cpuset.cpus', r.cpu.cpus, `${R}.cpu.cpus`);
  if (r.cpu?.mems) add('cpuset', 'cpuset.mems', r.cpu.mems, `${R}.cpu.mems`);

  // devices
  if (r.devices) {
    for (const w of devicesV1Writes(r.devices)) add('devices', w.file, w.value, `${R}.devices`);
  }

  // memory
  const m = r.memory;
  if (m) {
    const limit = int(`${R}.memory.limit`, m.limit) ?? 0;
    let swap = int(`${R}.memory.swap`, m.swap) ?? 0;
    if (limit < -1) throw invalid(`${R}.memory.limit`, `invalid value ${limit} (bytes, or -1 for unlimited)`);
    if (swap < -1) throw invalid(`${R}.memory.swap`, `invalid value ${swap} (bytes, or -1 for unlimited)`);
    // runc: an unlimited memory limit with swap unset also lifts the memsw limit,
    // which would otherwise stay below the new memory limit.
    if (limit === -1 && swap === 0 && ctx.swapAccounting !== false) swap = -1;
    if (limit > 0 && swap > 0 && swap < limit) {
      throw invalid(`${R}.memory.swap`, `${swap} is below memory.limit ${limit}; on cgroup v1 swap is the memory+swap limit`);
    }
    const lim = limit !== 0 ? { controller: 'memory', file: 'memory.limit_in_bytes', value: num(limit), source: `${R}.memory.limit` } : undefined;
    const sw = swap !== 0 ? { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: num(swap), source: `${R}.memory.swap` } : undefined;
    // Order so that memsw >= limit holds after every write (runc's setMemoryAndSwap):
    // raise memsw first when it is unlimited or above the current limit.
    const cur = ctx.currentMemoryLimit;
    if (lim && sw && (swap === -1 || (cur !== undefined && cur !== -1 && cur < swap))) out.push(sw, lim);
    else {
      if (lim) out.push(lim);
      if (sw) out.push(sw);
    }
    const res = int(`${R}.memory.reservation`, m.reservation) ?? 0;
    if (res !== 0) add('memory', 'memory.soft_limit_in_bytes', num(res), `${R}.memory.reservation`);
    const kernel = int(`${R}.memory.kernel`, m.kernel) ?? 0;
    if (kernel !== 0) add('memory', 'memory.kmem.limit_in_bytes', num(kernel), `${R}.memory.kernel`, { optional: true, bestEffort: true });
    const tcp = int(`${R}.memory.kernelTCP`, m.kernelTCP) ?? 0;
    if (tcp !== 0) add('memory', 'memory.kmem.tcp.limit_in_bytes', num(tcp), `${R}.memory.kernelTCP`, { optional: true });
    const swappiness = int(`${R}.memory.swappiness`, m.swappiness);
    if (swappiness !== undefined && swappiness >= 0) {
      if (swappiness > 100) throw invalid(`${R}.memory.swappiness`, `${swappiness} is out of range 0-100`);
      add('memory', 'memory.swappiness', String(swappiness), `${R}.memory.swappiness`);
    }
    if (m.disableOOMKiller === true) add('memory', 'memory.oom_control', '1', `${R}.memory.disableOOMKiller`);
    if (m.useHierarchy !== undefined) add('memory', 'memory.use_hierarchy', m.useHierarchy ? '1' : '0', `${R}.memory.useHierarchy`);
  }

  // cpu
  const c = r.cpu;
  if (c) {
    checkBurst(r);
    // idle first: the kernel refuses a weight for a group that is still SCHED_IDLE.
    const idle = int(`${R}.cpu.idle`, c.idle);
    if (idle !== undefined) add('cpu', 'cpu.idle', num(idle), `${R}.cpu.idle`);
    const shares = int(`${R}.cpu.shares`, c.shares) ?? 0;
    if (shares !== 0) add('cpu', 'cpu.shares', num(shares), `${R}.cpu.shares`, { verify: true });
    const period = int(`${R}.cpu.period`, c.period) ?? 0;
    const quota = int(`${R}.cpu.quota`, c.quota) ?? 0;
    const burst = int(`${R}.cpu.burst`, c.burst);
    if (burst !== undefined) add('cpu', 'cpu.cfs_burst_us', num(burst), `${R}.cpu.burst`, { retryOnEinval: quota !== 0 });
    if (period !== 0) add('cpu', 'cpu.cfs_period_us', num(period), `${R}.cpu.period`, { retryOnEinval: quota !== 0 });
    if (quota !== 0) add('cpu', 'cpu.cfs_quota_us', num(quota), `${R}.cpu.quota`);
    const rtPeriod = int(`${R}.cpu.realtimePeriod`, c.realtimePeriod) ?? 0;
    const rtRuntime = int(`${R}.cpu.realtimeRuntime`, c.realtimeRuntime) ?? 0;
    if (rtPeriod !== 0) add('cpu', 'cpu.rt_period_us', num(rtPeriod), `${R}.cpu.realtimePeriod`);
    if (rtRuntime !== 0) add('cpu', 'cpu.rt_runtime_us', num(rtRuntime), `${R}.cpu.realtimeRuntime`);
  }

  // pids
  const pl = int(`${R}.pids.limit`, r.pids?.limit);
  if (pl !== undefined) add('pids', 'pids.max', pl < 0 ? 'max' : num(pl), `${R}.pids.limit`);

  // blkio
  const b = r.blockIO;
  if (b) {
    const wfile = ctx.blkioWeightFile === undefined || ctx.blkioWeightFile === null ? 'blkio.weight' : ctx.blkioWeightFile;
    const wdfile = wfile === 'blkio.bfq.weight' ? 'blkio.bfq.weight_device' : 'blkio.weight_device';
    const weight = int(`${R}.blockIO.weight`, b.weight) ?? 0;
    if (weight !== 0) add('blkio', wfile, num(weight), `${R}.blockIO.weight`);
    const leaf = int(`${R}.blockIO.leafWeight`, b.leafWeight) ?? 0;
    if (leaf !== 0) add('blkio', 'blkio.leaf_weight', num(leaf), `${R}.blockIO.leafWeight`);
    (b.weightDevice ?? []).forEach((d, i) => {
      const f = `${R}.blockIO.weightDevice.${i}`;
      if (d.weight === undefined && d.leafWeight === undefined) throw invalid(f, 'needs weight or leafWeight');
      if (d.weight !== undefined) add('blkio', wdfile, `${devNum(f, d)} ${num(d.weight)}`, f);
      if (d.leafWeight !== undefined) add('blkio', 'blkio.leaf_weight_device', `${devNum(f, d)} ${num(d.leafWeight)}`, f);
    });
    const thr: [keyof typeof b, string][] = [
      ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
      ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
      ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
      ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
    ];
    for (const [key, file] of thr) {
      ((b[key] as { major: number; minor: number; rate: number }[] | undefined) ?? []).forEach((d, i) => {
        const f = `${R}.blockIO.${key}.${i}`;
        add('blkio', file, `${devNum(f, d)} ${num(d.rate)}`, f);
      });
    }
  }

  // hugetlb
  (r.hugepageLimits ?? []).forEach((h, i) => {
    const f = `${R}.hugepageLimits.${i}`;
    parsePageSize(h.pageSize);
    add('hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, num(h.limit), f);
    add('hugetlb', `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`, num(h.limit), f, { optional: true });
  });

  // network
  const n = r.network;
  if (n?.classID !== undefined) add('net_cls', 'net_cls.classid', num(n.classID), `${R}.network.classID`);
  (n?.priorities ?? []).forEach((p, i) => {
    if (!p.name || /\s/.test(p.name)) throw invalid(`${R}.network.priorities.${i}.name`, `invalid interface name ${JSON.stringify(p.name)}`);
    add('net_prio', 'net_prio.ifpriomap', `${p.name} ${num(p.priority)}`, `${R}.network.priorities.${i}`);
  });

  // rdma
  for (const [dev, v] of Object.entries(r.rdma ?? {})) add('rdma', 'rdma.max', rdmaLine(dev, v), `${R}.rdma.${dev}`);

  if (r.unified && Object.keys(r.unified).length > 0) {
    // runc's words first: scripts match "invalid configuration"
    throw invalid(`${R}.unified`, 'invalid configuration: cannot use unified on cgroup v1 (cgroup v2 parameters were given, but this host uses cgroup v1)');
  }
  return out;
}

function rdmaLine(dev: string, v: { hcaHandles?: number; hcaObjects?: number }): string {
  const f = `${R}.rdma.${dev}`;
  if (!dev || /\s/.test(dev)) throw invalid(f, `invalid device name ${JSON.stringify(dev)}`);
  if (v.hcaHandles === undefined && v.hcaObjects === undefined) throw invalid(f, 'needs hcaHandles or hcaObjects');
  const parts = [dev];
  if (v.hcaHandles !== undefined) parts.push(`hca_handle=${num(v.hcaHandles)}`);
  if (v.hcaObjects !== undefined) parts.push(`hca_object=${num(v.hcaObjects)}`);
  return parts.join(' ');
}

/** Checks for unified keys: a plain file name, CONTROLLER.PARAMETER, controller available. */
export function checkUnifiedKey(key: string, controllers?: string[]): void {
  const f = `${R}.unified`;
  if (key.includes('/') || key.includes('\0') || key === '.' || key === '..' || key === '') {
    throw invalid(f, `key ${JSON.stringify(key)} must be a file name in the container's cgroup (no slashes)`);
  }
  const dot = key.indexOf('.');
  if (dot <= 0 || dot === key.length - 1) throw invalid(f, `key ${JSON.stringify(key)} must have the form CONTROLLER.PARAMETER`);
  const ctl = key.slice(0, dot);
  if (controllers && ctl !== 'cgroup' && !controllers.includes(ctl)) {
    throw invalid(f, `key ${JSON.stringify(key)}: controller "${ctl}" is not available in the container's cgroup (available: ${controllers.join(' ') || 'none'})`);
  }
}

/**
 * The plan for cgroup v2 (every file is in the one container directory).
 * Device rules are not files on v2: the manager attaches a BPF program.
 * Order as runc's fs2 manager: pids, memory, io, cpu, cpuset, hugetlb, rdma,
 * then unified (last, so it can override converted values).
 */
export function planV2(r: Resources, ctx: PlanContext = {}): V2PlanEntry[] {
  const out: V2PlanEntry[] = [];
  const add = (file: string, value: string, source: string, extra: Partial<PlanEntry> = {}) =>
    out.push({ ...extra, controller: '', file, value, source });

  // pids
  const pl = int(`${R}.pids.limit`, r.pids?.limit);
  if (pl !== undefined) add('pids.max', pl < 0 ? 'max' : num(pl), `${R}.pids.limit`);

  // memory
  const m = r.memory;
  if (m) {
    const limit = int(`${R}.memory.limit`, m.limit) ?? 0;
    const swap = int(`${R}.memory.swap`, m.swap) ?? 0;
    if (limit < -1) throw invalid(`${R}.memory.limit`, `invalid value ${limit} (bytes, or -1 for unlimited)`);
    // An update may change swap alone: convert against the current limit.
    const base = limit === 0 && swap > 0 && ctx.currentMemoryLimit !== undefined ? ctx.currentMemoryLimit : limit;
    const v2swap = memorySwapToV2(swap, base);
    if (v2swap === -1) add('memory.swap.max', 'max', `${R}.memory.swap`);
    else if (v2swap > 0 || (v2swap === 0 && swap > 0)) add('memory.swap.max', num(v2swap), `${R}.memory.swap`);
    if (limit !== 0) add('memory.max', limit === -1 ? 'max' : num(limit), `${R}.memory.limit`);
    const res = int(`${R}.memory.reservation`, m.reservation) ?? 0;
    if (res !== 0) add('memory.low', res === -1 ? 'max' : num(res), `${R}.memory.reservation`);
    // kernel / kernelTCP: no cgroup v2 file; the spec marks them NOT RECOMMENDED, so they are ignored.
    const swappiness = int(`${R}.memory.swappiness`, m.swappiness);
    if (swappiness !== undefined && swappiness >= 0) {
      throw invalid(`${R}.memory.swappiness`, 'not supported on cgroup v2 (there is no per-cgroup swappiness)');
    }
    if (m.disableOOMKiller === true) {
      throw invalid(`${R}.memory.disableOOMKiller`, 'not supported on cgroup v2 (the OOM killer cannot be disabled per cgroup)');
    }
    if (m.useHierarchy === false) throw invalid(`${R}.memory.useHierarchy`, 'cgroup v2 accounting is always hierarchical');
  }

  // io
  const b = r.blockIO;
  if (b) {
    const weight = int(`${R}.blockIO.weight`, b.weight) ?? 0;
    if (weight !== 0) {
      if (ctx.bfq) add('io.bfq.weight', num(weight), `${R}.blockIO.weight`);
      else add('io.weight', num(blkioWeightToIoWeight(weight)), `${R}.blockIO.weight`);
    }
    if ((int(`${R}.blockIO.leafWeight`, b.leafWeight) ?? 0) !== 0) {
      throw invalid(`${R}.blockIO.leafWeight`, 'not supported on cgroup v2');
    }
    (b.weightDevice ?? []).forEach((d, i) => {
      const f = `${R}.blockIO.weightDevice.${i}`;
      if (d.leafWeight !== undefined && d.leafWeight !== 0) throw invalid(`${f}.leafWeight`, 'not supported on cgroup v2');
      if (d.weight === undefined) return;
      if (ctx.bfq) add('io.bfq.weight', `${devNum(f, d)} ${num(d.weight)}`, f);
      else add('io.weight', `${devNum(f, d)} ${num(blkioWeightToIoWeight(d.weight))}`, f);
    });
    const thr: [keyof typeof b, string][] = [
      ['throttleReadBpsDevice', 'rbps'], ['throttleWriteBpsDevice', 'wbps'],
      ['throttleReadIOPSDevice', 'riops'], ['throttleWriteIOPSDevice', 'wiops'],
    ];
    for (const [key, name] of thr) {
      ((b[key] as { major: number; minor: number; rate: number }[] | undefined) ?? []).forEach((d, i) => {
        const f = `${R}.blockIO.${key}.${i}`;
        // v1 removes a throttle with rate 0; on v2 that is "max".
        add('io.max', `${devNum(f, d)} ${name}=${d.rate === 0 ? 'max' : num(d.rate)}`, f);
      });
    }
  }

  // cpu
  const c = r.cpu;
  if (c) {
    checkBurst(r);
    const idle = int(`${R}.cpu.idle`, c.idle);
    if (idle !== undefined) add('cpu.idle', num(idle), `${R}.cpu.idle`);
    const shares = int(`${R}.cpu.shares`, c.shares) ?? 0;
    if (shares !== 0) add('cpu.weight', num(cpuSharesToWeight(shares)), `${R}.cpu.shares`);
    const quota = int(`${R}.cpu.quota`, c.quota) ?? 0;
    const period = int(`${R}.cpu.period`, c.period) ?? 0;
    const burst = int(`${R}.cpu.burst`, c.burst);
    if (burst !== undefined) add('cpu.max.burst', num(burst), `${R}.cpu.burst`, { retryOnEinval: quota !== 0 || period !== 0 });
    if (quota !== 0 || period !== 0) {
      let v = quota > 0 ? num(quota) : 'max';
      if (period !== 0) v += ` ${num(period)}`;
      add('cpu.max', v, quota !== 0 ? `${R}.cpu.quota` : `${R}.cpu.period`);
    }
    if ((c.realtimeRuntime ?? 0) !== 0 || (c.realtimePeriod ?? 0) !== 0) {
      throw invalid(`${R}.cpu.realtimeRuntime`, 'realtime CPU limits are not supported on cgroup v2');
    }
    if (c.cpus) add('cpuset.cpus', c.cpus, `${R}.cpu.cpus`);
    if (c.mems) add('cpuset.mems', c.mems, `${R}.cpu.mems`);
  }

  // hugetlb
  (r.hugepageLimits ?? []).forEach((h, i) => {
    const f = `${R}.hugepageLimits.${i}`;
    parsePageSize(h.pageSize);
    add(`hugetlb.${h.pageSize}.max`, num(h.limit), f);
    add(`hugetlb.${h.pageSize}.rsvd.max`, num(h.limit), f, { optional: true });
  });

  // rdma
  for (const [dev, v] of Object.entries(r.rdma ?? {})) add('rdma.max', rdmaLine(dev, v), `${R}.rdma.${dev}`);

  // network (net_cls / net_prio exist only in v1)
  if (r.network && (r.network.classID !== undefined || (r.network.priorities ?? []).length > 0)) {
    throw invalid(`${R}.network`, 'net_cls/net_prio are cgroup v1 controllers and do not exist on cgroup v2');
  }

  // unified: written as given, one write per line (io.max and friends parse one line per write)
  for (const [k, v] of Object.entries(r.unified ?? {})) {
    checkUnifiedKey(k, ctx.controllers);
    const lines = String(v).split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) add(k, String(v), `${R}.unified.${k}`);
    for (const l of lines) add(k, l, `${R}.unified.${k}`);
  }
  return out;
}
