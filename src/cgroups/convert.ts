/**
 * Conversions from the v1-shaped OCI values to cgroup v2 files. Pure.
 */

import { RuntsError } from '../common/errors.js';

/**
 * cpu.shares (v1, 2..262144, default 1024) → cpu.weight (v2, 1..10000,
 * default 100).
 *
 * Same formula as runc's ConvertCPUSharesToCgroupV2Value in current
 * opencontainers/cgroups (runc PR #4785, used by runc ≥ 1.3.x and expected by
 * Kubernetes): a quadratic in log2(shares) that maps the minimum, the default
 * and the maximum exactly (2→1, 1024→100, 262144→10000):
 *     weight = ceil(10^((l² + 125·l) / 612 − 7/34)),  l = log2(shares)
 * Older runc used the linear 1 + (shares−2)·9999/262142, which maps the
 * default 1024 to 39; see LEGACY_cpuSharesToWeight.
 * 0 means "unset" and stays 0.
 */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  return Math.ceil(Math.pow(10, exponent));
}

/** The pre-2025 linear conversion (runc ≤ 1.2), kept for reference and tests. */
export function LEGACY_cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/**
 * blkio.weight (10..1000) → io.weight (1..10000), linear as in runc's
 * ConvertBlkIOToIOWeightValue. 0 means unset.
 */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * OCI memory.swap is the v1 memory+swap limit (memsw); cgroup v2's
 * memory.swap.max limits swap alone. Same rules as runc's
 * ConvertMemorySwapToCgroupV2Value:
 *   limit −1 and swap unset (0)  → −1 (both unlimited)
 *   swap −1 or 0                 → as is ("max" / leave alone)
 *   limit −1                     → swap as is
 *   limit 0 (unknown)            → error
 *   swap < limit                 → error
 *   otherwise                    → swap − limit
 * Returns −1 for "max", 0 for "leave alone" (or "no swap" when swap == limit,
 * which the caller distinguishes with swap > 0).
 */
export function memorySwapToV2(swap: number, limit: number): number {
  if (limit === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (swap < -1) throw new RuntsError(`linux.resources.memory.swap: invalid value ${swap}`, { pointer: '/linux/resources/memory/swap' });
  if (limit === -1) return swap;
  if (limit === 0) {
    throw new RuntsError('linux.resources.memory.swap: cannot set a swap limit on cgroup v2 without a memory limit (memory.swap is memory+swap)', { pointer: '/linux/resources/memory/swap' });
  }
  if (limit < 0) throw new RuntsError(`linux.resources.memory.limit: invalid value ${limit}`, { pointer: '/linux/resources/memory/limit' });
  if (swap < limit) {
    throw new RuntsError(`linux.resources.memory.swap (${swap}) must be >= memory.limit (${limit}): it is the memory+swap limit`, { pointer: '/linux/resources/memory/swap' });
  }
  return swap - limit;
}

/** "2MB" → 2097152 (base 1024, as the spec says). Pure. */
export function parsePageSize(pageSize: string): number {
  const m = /^(\d+)(KB|MB|GB|TB|PB)$/.exec(pageSize);
  if (!m) throw new RuntsError(`linux.resources.hugepageLimits: invalid pageSize ${JSON.stringify(pageSize)} (expected <size><K|M|G>B, e.g. 2MB)`, { pointer: '/linux/resources/hugepageLimits' });
  const mult = { KB: 1, MB: 2, GB: 3, TB: 4, PB: 5 }[m[2] as 'KB'];
  return Number(m[1]) * 1024 ** mult;
}

/** Hugepage sizes as cgroup file names use them: hugepages-2048kB → "2MB". */
export function hugePageSizeName(kb: number): string {
  if (kb >= 1 << 20) return `${kb >> 20}GB`;
  if (kb >= 1 << 10) return `${kb >> 10}MB`;
  return `${kb}KB`;
}

/** Expand a cpuset list "0-3,7" into [0,1,2,3,7]. Pure. */
export function parseCpuList(s: string): number[] {
  const out: number[] = [];
  for (const part of s.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-');
    const lo = Number(a), hi = b === undefined ? lo : Number(b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) continue;
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}
