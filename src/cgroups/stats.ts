/**
 * Container resource statistics, shaped like runc's `runc events --stats`
 * JSON (types.Stats in runc's types/events.go): field names match, and the
 * fields Go marks `omitempty` are left out when zero or empty.
 *
 * Counters above 2^53 (an "unlimited" limit is 2^63-4096 on v1, 2^64-1 when
 * runc reports v2 "max") lose precision as JS numbers; they are only ever
 * "no limit" markers.
 */

import { readdirSync } from 'node:fs';
import { hugePageSizeName, parseCpuList } from './convert.js';
import { tryRead } from './fsutil.js';

export interface MemoryEntry { limit: number; usage?: number; max?: number; failcnt: number }
export interface BlkioEntry { major?: number; minor?: number; op?: string; value?: number }

export interface CgroupStats {
  cpu: {
    usage: { total?: number; percpu?: number[]; percpu_kernel?: number[]; percpu_user?: number[]; kernel: number; user: number };
    throttling: { periods?: number; throttledPeriods?: number; throttledTime?: number };
  };
  cpuset: {
    cpus?: number[]; cpu_exclusive: number; mems?: number[]; mem_hardwall: number; mem_exclusive: number;
    memory_migrate: number; memory_spread_page: number; memory_spread_slab: number; memory_pressure: number;
    sched_load_balance: number; sched_relax_domain_level: number;
  };
  memory: {
    cache?: number; usage: MemoryEntry; swap: MemoryEntry; kernel: MemoryEntry; kernelTCP: MemoryEntry;
    raw?: Record<string, number>;
  };
  pids: { current?: number; limit?: number };
  blkio: {
    ioServiceBytesRecursive?: BlkioEntry[]; ioServicedRecursive?: BlkioEntry[]; ioQueueRecursive?: BlkioEntry[];
    ioServiceTimeRecursive?: BlkioEntry[]; ioWaitTimeRecursive?: BlkioEntry[]; ioMergedRecursive?: BlkioEntry[];
    ioTimeRecursive?: BlkioEntry[]; sectorsRecursive?: BlkioEntry[];
  };
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
}

/** 2^64-1: what runc reports for a v2 "max". */
const MAX_U64 = 18446744073709551615;
const USER_HZ = 100;

function setIf<T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined): void {
  if (v === undefined || v === 0 || (Array.isArray(v) && v.length === 0)) return;
  o[k] = v;
}

function numOf(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === 'max') return MAX_U64;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines → map (memory.stat, cpu.stat, cpuacct.stat, memory.events). Pure. */
export function parseKeyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

function listOf(text: string | undefined): number[] {
  return (text ?? '').split(/\s+/).filter(Boolean).map(Number);
}

function emptyStats(): CgroupStats {
  const entry = (): MemoryEntry => ({ limit: 0, failcnt: 0 });
  return {
    cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
    cpuset: {
      cpu_exclusive: 0, mem_hardwall: 0, mem_exclusive: 0, memory_migrate: 0, memory_spread_page: 0,
      memory_spread_slab: 0, memory_pressure: 0, sched_load_balance: 0, sched_relax_domain_level: 0,
    },
    memory: { usage: entry(), swap: entry(), kernel: entry(), kernelTCP: entry() },
    pids: {},
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

function hugePageSizes(): string[] {
  try {
    return readdirSync('/sys/kernel/mm/hugepages')
      .map((n) => /^hugepages-(\d+)kB$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => hugePageSizeName(Number(m[1])));
  } catch {
    return [];
  }
}

function memEntryV1(dir: string, prefix: string): MemoryEntry {
  const e: MemoryEntry = { limit: numOf(tryRead(`${dir}/${prefix}.limit_in_bytes`)) ?? 0, failcnt: numOf(tryRead(`${dir}/${prefix}.failcnt`)) ?? 0 };
  setIf(e, 'usage', numOf(tryRead(`${dir}/${prefix}.usage_in_bytes`)));
  setIf(e, 'max', numOf(tryRead(`${dir}/${prefix}.max_usage_in_bytes`)));
  return e;
}

/** "8:0 Read 1234" lines of a v1 blkio file (the "Total" line is skipped). Pure. */
export function parseBlkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(f[0] ?? '');
    if (!dev) continue;
    const e: BlkioEntry = {};
    setIf(e, 'major', Number(dev[1]));
    setIf(e, 'minor', Number(dev[2]));
    if (f.length === 3) {
      e.op = f[1];
      setIf(e, 'value', Number(f[2]));
    } else setIf(e, 'value', Number(f[1]));
    out.push(e);
  }
  return out;
}

/** v1: `paths` maps controller → directory. */
export function statsV1(paths: Record<string, string>): CgroupStats {
  const s = emptyStats();
  const cpu = paths.cpu, acct = paths.cpuacct;
  if (cpu) {
    const st = parseKeyValues(tryRead(`${cpu}/cpu.stat`));
    setIf(s.cpu.throttling, 'periods', st.nr_periods);
    setIf(s.cpu.throttling, 'throttledPeriods', st.nr_throttled);
    setIf(s.cpu.throttling, 'throttledTime', st.throttled_time);
  }
  if (acct) {
    setIf(s.cpu.usage, 'total', numOf(tryRead(`${acct}/cpuacct.usage`)));
    setIf(s.cpu.usage, 'percpu', listOf(tryRead(`${acct}/cpuacct.usage_percpu`)));
    setIf(s.cpu.usage, 'percpu_kernel', listOf(tryRead(`${acct}/cpuacct.usage_percpu_sys`)));
    setIf(s.cpu.usage, 'percpu_user', listOf(tryRead(`${acct}/cpuacct.usage_percpu_user`)));
    const st = parseKeyValues(tryRead(`${acct}/cpuacct.stat`));
    // cpuacct.stat counts USER_HZ ticks; runc reports nanoseconds.
    s.cpu.usage.user = ((st.user ?? 0) * 1e9) / USER_HZ;
    s.cpu.usage.kernel = ((st.system ?? 0) * 1e9) / USER_HZ;
  }
  const cs = paths.cpuset;
  if (cs) {
    setIf(s.cpuset, 'cpus', parseCpuList(tryRead(`${cs}/cpuset.cpus`) ?? ''));
    setIf(s.cpuset, 'mems', parseCpuList(tryRead(`${cs}/cpuset.mems`) ?? ''));
    const flags: [keyof CgroupStats['cpuset'], string][] = [
      ['cpu_exclusive', 'cpuset.cpu_exclusive'], ['mem_hardwall', 'cpuset.mem_hardwall'], ['mem_exclusive', 'cpuset.mem_exclusive'],
      ['memory_migrate', 'cpuset.memory_migrate'], ['memory_spread_page', 'cpuset.memory_spread_page'],
      ['memory_spread_slab', 'cpuset.memory_spread_slab'], ['memory_pressure', 'cpuset.memory_pressure'],
      ['sched_load_balance', 'cpuset.sched_load_balance'], ['sched_relax_domain_level', 'cpuset.sched_relax_domain_level'],
    ];
    for (const [k, f] of flags) (s.cpuset as unknown as Record<string, number>)[k] = numOf(tryRead(`${cs}/${f}`)) ?? 0;
  }
  const mem = paths.memory;
  if (mem) {
    const raw = parseKeyValues(tryRead(`${mem}/memory.stat`));
    setIf(s.memory, 'cache', raw.cache);
    if (Object.keys(raw).length) s.memory.raw = raw;
    s.memory.usage = memEntryV1(mem, 'memory');
    s.memory.swap = memEntryV1(mem, 'memory.memsw');
    s.memory.kernel = memEntryV1(mem, 'memory.kmem');
    s.memory.kernelTCP = memEntryV1(mem, 'memory.kmem.tcp');
  }
  const pids = paths.pids;
  if (pids) {
    setIf(s.pids, 'current', numOf(tryRead(`${pids}/pids.current`)));
    const max = tryRead(`${pids}/pids.max`)?.trim();
    if (max && max !== 'max') setIf(s.pids, 'limit', Number(max));
  }
  const blk = paths.blkio;
  if (blk) {
    // runc prefers the CFQ files, then BFQ, then the throttle ones.
    const pick = (name: string) => {
      for (const f of [`blkio.${name}_recursive`, `blkio.bfq.${name}_recursive`, `blkio.throttle.${name}_recursive`]) {
        const e = parseBlkioV1(tryRead(`${blk}/${f}`));
        if (e.length) return e;
      }
      return [];
    };
    setIf(s.blkio, 'ioServiceBytesRecursive', pick('io_service_bytes'));
    setIf(s.blkio, 'ioServicedRecursive', pick('io_serviced'));
    setIf(s.blkio, 'ioQueueRecursive', parseBlkioV1(tryRead(`${blk}/blkio.io_queued_recursive`)));
    setIf(s.blkio, 'ioServiceTimeRecursive', parseBlkioV1(tryRead(`${blk}/blkio.io_service_time_recursive`)));
    setIf(s.blkio, 'ioWaitTimeRecursive', parseBlkioV1(tryRead(`${blk}/blkio.io_wait_time_recursive`)));
    setIf(s.blkio, 'ioMergedRecursive', parseBlkioV1(tryRead(`${blk}/blkio.io_merged_recursive`)));
    setIf(s.blkio, 'ioTimeRecursive', parseBlkioV1(tryRead(`${blk}/blkio.time_recursive`)));
    setIf(s.blkio, 'sectorsRecursive', parseBlkioV1(tryRead(`${blk}/blkio.sectors_recursive`)));
  }
  const h = paths.hugetlb;
  if (h) {
    for (const size of hugePageSizes()) {
      const e: { usage?: number; max?: number; failcnt: number } = { failcnt: numOf(tryRead(`${h}/hugetlb.${size}.failcnt`)) ?? 0 };
      setIf(e, 'usage', numOf(tryRead(`${h}/hugetlb.${size}.usage_in_bytes`)));
      setIf(e, 'max', numOf(tryRead(`${h}/hugetlb.${size}.max_usage_in_bytes`)));
      s.hugetlb[size] = e;
    }
  }
  return s;
}

/** v2: everything is in one directory. */
export function statsV2(dir: string): CgroupStats {
  const s = emptyStats();
  const cpu = parseKeyValues(tryRead(`${dir}/cpu.stat`));
  setIf(s.cpu.usage, 'total', cpu.usage_usec !== undefined ? cpu.usage_usec * 1000 : undefined);
  s.cpu.usage.user = (cpu.user_usec ?? 0) * 1000;
  s.cpu.usage.kernel = (cpu.system_usec ?? 0) * 1000;
  setIf(s.cpu.throttling, 'periods', cpu.nr_periods);
  setIf(s.cpu.throttling, 'throttledPeriods', cpu.nr_throttled);
  setIf(s.cpu.throttling, 'throttledTime', cpu.throttled_usec !== undefined ? cpu.throttled_usec * 1000 : undefined);

  setIf(s.cpuset, 'cpus', parseCpuList(tryRead(`${dir}/cpuset.cpus.effective`) ?? ''));
  setIf(s.cpuset, 'mems', parseCpuList(tryRead(`${dir}/cpuset.mems.effective`) ?? ''));

  const raw = parseKeyValues(tryRead(`${dir}/memory.stat`));
  if (Object.keys(raw).length) s.memory.raw = raw;
  setIf(s.memory, 'cache', raw.file);
  const events = parseKeyValues(tryRead(`${dir}/memory.events`));
  const usage = numOf(tryRead(`${dir}/memory.current`));
  if (usage !== undefined) {
    s.memory.usage = { limit: numOf(tryRead(`${dir}/memory.max`)) ?? 0, failcnt: events.max ?? 0 };
    setIf(s.memory.usage, 'usage', usage);
    setIf(s.memory.usage, 'max', numOf(tryRead(`${dir}/memory.peak`)));
    const swapUsage = numOf(tryRead(`${dir}/memory.swap.current`));
    if (swapUsage !== undefined) {
      // runc reports v1-style memory+swap figures.
      const swapMax = numOf(tryRead(`${dir}/memory.swap.max`)) ?? 0;
      const limit = s.memory.usage.limit;
      s.memory.swap = { limit: swapMax === MAX_U64 || limit === MAX_U64 ? MAX_U64 : swapMax + limit, failcnt: 0 };
      setIf(s.memory.swap, 'usage', swapUsage + usage);
    }
  }

  setIf(s.pids, 'current', numOf(tryRead(`${dir}/pids.current`)));
  const pmax = tryRead(`${dir}/pids.max`)?.trim();
  if (pmax && pmax !== 'max') setIf(s.pids, 'limit', Number(pmax));

  const io = tryRead(`${dir}/io.stat`);
  if (io) {
    const bytes: BlkioEntry[] = [], ios: BlkioEntry[] = [];
    for (const line of io.split('\n')) {
      const f = line.trim().split(/\s+/);
      const dev = /^(\d+):(\d+)$/.exec(f[0] ?? '');
      if (!dev) continue;
      const kv = Object.fromEntries(f.slice(1).map((p) => p.split('=')));
      const entry = (op: string, v: string | undefined, into: BlkioEntry[]) => {
        if (v === undefined) return;
        const e: BlkioEntry = { op };
        setIf(e, 'major', Number(dev[1]));
        setIf(e, 'minor', Number(dev[2]));
        setIf(e, 'value', Number(v));
        into.push(e);
      };
      entry('Read', kv.rbytes, bytes);
      entry('Write', kv.wbytes, bytes);
      entry('Discard', kv.dbytes, bytes);
      entry('Read', kv.rios, ios);
      entry('Write', kv.wios, ios);
      entry('Discard', kv.dios, ios);
    }
    setIf(s.blkio, 'ioServiceBytesRecursive', bytes);
    setIf(s.blkio, 'ioServicedRecursive', ios);
  }

  for (const size of hugePageSizes()) {
    const cur = numOf(tryRead(`${dir}/hugetlb.${size}.current`));
    if (cur === undefined) continue;
    const ev = parseKeyValues(tryRead(`${dir}/hugetlb.${size}.events`));
    const e: { usage?: number; max?: number; failcnt: number } = { failcnt: ev.max ?? 0 };
    setIf(e, 'usage', cur);
    s.hugetlb[size] = e;
  }
  return s;
}
