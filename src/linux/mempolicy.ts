/**
 * linux.memoryPolicy → set_mempolicy(2) (x86_64 syscall 238):
 *
 *   set_mempolicy(mode | flags, nodemask, maxnode)
 *
 * The task policy belongs to the calling thread, survives execve and is
 * inherited by children, so setting it on the init's main thread (the one
 * that execs) covers the container. Applied after the startContainer hooks,
 * before the seccomp filter.
 *
 * Planning checks what the kernel would refuse with a bare EINVAL: nodes
 * with MPOL_DEFAULT/MPOL_LOCAL, no nodes with the modes that need them,
 * MPOL_F_STATIC_NODES together with MPOL_F_RELATIVE_NODES,
 * MPOL_F_NUMA_BALANCING other than with MPOL_BIND/MPOL_PREFERRED_MANY.
 * Nodes that do not exist are left to the kernel (EINVAL, reported with the
 * node list).
 */
import { ConfigError } from '../common/errors.js';
import type { Spec } from '../spec/types.js';
import { bitmask, parseCpuList } from './affinity.js';
import { syscall } from './libc.js';
import { SYS } from './abi.js';

export const MPOL_MODES: Readonly<Record<string, number>> = {
  MPOL_DEFAULT: 0, MPOL_PREFERRED: 1, MPOL_BIND: 2, MPOL_INTERLEAVE: 3, MPOL_LOCAL: 4, MPOL_PREFERRED_MANY: 5, MPOL_WEIGHTED_INTERLEAVE: 6,
};
export const MPOL_FLAGS: Readonly<Record<string, number>> = {
  MPOL_F_STATIC_NODES: 1 << 15, MPOL_F_RELATIVE_NODES: 1 << 14, MPOL_F_NUMA_BALANCING: 1 << 13,
};
/** The kernel's MAX_NUMNODES ceiling (CONFIG_NODES_SHIFT ≤ 10). */
export const MAX_NODES = 1024;

const NO_NODES = new Set(['MPOL_DEFAULT', 'MPOL_LOCAL']);
const NEED_NODES = new Set(['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY']);

export interface MemoryPolicyPlan {
  mode: string;
  /** mode | flags, the first argument of set_mempolicy. */
  modeValue: number;
  nodes: number[];
}

export function planMemoryPolicy(spec: Spec): MemoryPolicyPlan | undefined {
  const mp = spec.linux?.memoryPolicy;
  if (!mp) return undefined;
  const at = '/linux/memoryPolicy';
  if (mp.mode === undefined) throw new ConfigError(at, 'missing required property "mode"');
  const mode = Object.hasOwn(MPOL_MODES, mp.mode) ? MPOL_MODES[mp.mode] : undefined;
  if (mode === undefined) throw new ConfigError(`${at}/mode`, `unknown memory policy mode ${JSON.stringify(mp.mode)}; must be one of ${Object.keys(MPOL_MODES).join(', ')}`);
  let flags = 0;
  const names = mp.flags ?? [];
  names.forEach((f, i) => {
    const v = Object.hasOwn(MPOL_FLAGS, f) ? MPOL_FLAGS[f] : undefined;
    if (v === undefined) throw new ConfigError(`${at}/flags/${i}`, `unknown memory policy flag ${JSON.stringify(f)}; must be one of ${Object.keys(MPOL_FLAGS).join(', ')}`);
    flags |= v;
  });
  if (names.includes('MPOL_F_STATIC_NODES') && names.includes('MPOL_F_RELATIVE_NODES')) {
    throw new ConfigError(`${at}/flags`, 'MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES cannot be combined');
  }
  if (names.includes('MPOL_F_NUMA_BALANCING') && mp.mode !== 'MPOL_BIND' && mp.mode !== 'MPOL_PREFERRED_MANY') {
    throw new ConfigError(`${at}/flags`, `MPOL_F_NUMA_BALANCING works only with MPOL_BIND or MPOL_PREFERRED_MANY, not ${mp.mode}`);
  }
  const text = (mp.nodes ?? '').trim();
  const nodes = text === '' ? [] : parseCpuList(text, `${at}/nodes`, 'node', MAX_NODES);
  if (NO_NODES.has(mp.mode) && nodes.length > 0) throw new ConfigError(`${at}/nodes`, `must be empty with mode ${mp.mode}`);
  if (NO_NODES.has(mp.mode) && (flags & (MPOL_FLAGS.MPOL_F_STATIC_NODES! | MPOL_FLAGS.MPOL_F_RELATIVE_NODES!))) {
    throw new ConfigError(`${at}/flags`, `node flags make no sense with mode ${mp.mode}`);
  }
  if (NEED_NODES.has(mp.mode) && nodes.length === 0) throw new ConfigError(at, `missing required property "nodes" (mode ${mp.mode} needs at least one node)`);
  return { mode: mp.mode, modeValue: (mode | flags) >>> 0, nodes };
}

/** The nodemask and maxnode arguments (pure; exported for tests). */
export function nodemaskArgs(nodes: number[]): { mask: Buffer | null; maxnode: number } {
  if (nodes.length === 0) return { mask: null, maxnode: 0 };
  const mask = bitmask(nodes);
  // get_nodes() starts with --maxnode (an ABI off-by-one libnuma also
  // compensates for): bits + 1 makes the kernel read the whole buffer.
  return { mask, maxnode: mask.length * 8 + 1 };
}

export function setMemoryPolicy(p: MemoryPolicyPlan): void {
  const { mask, maxnode } = nodemaskArgs(p.nodes);
  const nodes = p.nodes.length ? ` nodes ${p.nodes.join(',')}` : '';
  syscall(SYS.set_mempolicy, `set_mempolicy(${p.mode}${nodes})`, 'int', p.modeValue, 'void *', mask, 'unsigned long', maxnode);
}
