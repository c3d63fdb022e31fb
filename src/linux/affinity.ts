/**
 * process.execCPUAffinity: CPU lists ("0-3,7") → sched_setaffinity(2) masks.
 *
 * config.md: "This setting is not applicable to the container's init
 * process." `initial` is the affinity of the runtime's process that joins the
 * container (before it enters the container's cgroup), `final` the one of
 * the exec'd process after it did (empty/omitted: leave it to the kernel and
 * the cgroup's cpuset). So `runts create/run` only validate it (a bad list is
 * a ConfigError with its pointer) and do not apply it to the init, as runc;
 * `runts exec` applies it: `initial` in nsboot (-a, from its first
 * instruction), `final` in the exec stage once it is in the cgroup
 * (setFinalAffinity; the init gets the same reset).
 */
import { ConfigError } from '../common/errors.js';
import type { Process } from '../spec/types.js';
import { readFileSync } from 'node:fs';
import { schedSetaffinity } from './libc.js';

/** Upper bound for CPU numbers (the kernel's NR_CPUS maximum). */
export const MAX_CPUS = 8192;

/**
 * Parse a CPU (or NUMA node) list: comma-separated numbers and a-b ranges,
 * spaces around items allowed. Returns the sorted, de-duplicated numbers.
 */
export function parseCpuList(text: string, pointer: string, what = 'CPU', limit = MAX_CPUS): number[] {
  const out = new Set<number>();
  const items = text.split(',');
  for (const raw of items) {
    const item = raw.trim();
    const m = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!m) throw new ConfigError(pointer, `invalid ${what} list ${JSON.stringify(text)}: bad item ${JSON.stringify(item)} (want e.g. "0-3,7")`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new ConfigError(pointer, `invalid ${what} list ${JSON.stringify(text)}: range ${item} is reversed`);
    if (b >= limit) throw new ConfigError(pointer, `invalid ${what} list ${JSON.stringify(text)}: ${what} ${b} is out of range (< ${limit})`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** A little-endian bitmask of unsigned longs (cpu_set_t / nodemask layout). */
export function bitmask(bits: number[], minBits = 64): Buffer {
  const max = bits.length ? Math.max(...bits) : 0;
  const words = Math.max(Math.ceil((max + 1) / 64), Math.ceil(minBits / 64));
  const b = Buffer.alloc(words * 8);
  for (const n of bits) b[n >> 3]! |= 1 << (n & 7);
  return b;
}

export interface ExecAffinityPlan { initial?: number[]; final?: number[] }

export function planExecAffinity(p: Process | undefined, base = '/process'): ExecAffinityPlan | undefined {
  const a = p?.execCPUAffinity;
  if (!a) return undefined;
  const out: ExecAffinityPlan = {};
  for (const key of ['initial', 'final'] as const) {
    const v = a[key];
    if (v === undefined || v.trim() === '') continue;
    out[key] = parseCpuList(v, `${base}/execCPUAffinity/${key}`);
  }
  return out.initial || out.final ? out : undefined;
}

/** sched_setaffinity(0, …): the calling thread. */
export function setAffinity(cpus: number[]): void {
  const mask = bitmask(cpus);
  schedSetaffinity(0, mask, cpus.join(','));
}

/** Every CPU the kernel may ever bring online (/sys/devices/system/cpu/possible), or CPUs 0..1023. */
function possibleCpus(): number[] {
  try {
    return parseCpuList(readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim(), '/sys/devices/system/cpu/possible');
  } catch {
    return Array.from({ length: 1024 }, (_, i) => i);
  }
}

/**
 * The affinity a container process ends with: execCPUAffinity.final when
 * given, otherwise every CPU — which the kernel narrows to the cgroup's
 * cpuset — so the process neither keeps `initial` nor inherits a pinning of
 * the runtime's caller (`taskset -c 0 runts exec …`), as runc ≥ 1.2 does.
 */
export function setFinalAffinity(final: number[] | undefined): void {
  if (final) return setAffinity(final);
  try { setAffinity(possibleCpus()); } catch { /* best effort: the inherited affinity stays */ }
}
