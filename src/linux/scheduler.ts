/**
 * process.scheduler → sched_setattr(2) (x86_64 syscall 314) on the calling
 * thread, with struct sched_attr (SCHED_ATTR_SIZE_VER1, 56 bytes):
 *
 *   u32 size; u32 sched_policy; u64 sched_flags; s32 sched_nice;
 *   u32 sched_priority; u64 sched_runtime; u64 sched_deadline;
 *   u64 sched_period; u32 sched_util_min; u32 sched_util_max;
 *
 * The spec has no utilization values: with SCHED_FLAG_UTIL_CLAMP_MIN/MAX the
 * clamp is reset to the system default (-1), not set to 0 (which for MAX
 * would throttle the container to nothing).
 *
 * Applied in the init stage after the startContainer hooks (those are forked
 * from the init, and a SCHED_DEADLINE task may not fork), before seccomp and
 * before capabilities drop (real-time policies and negative nice values need
 * CAP_SYS_NICE). The policy stays across execve; children inherit it unless
 * SCHED_FLAG_RESET_ON_FORK is given.
 */
import { ConfigError, SyscallError } from '../common/errors.js';
import type { Process } from '../spec/types.js';
import { syscall } from './libc.js';
import { EBUSY, EPERM, SYS } from './abi.js';

export const SCHED_POLICIES: Readonly<Record<string, number>> = {
  SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6,
};

export const SCHED_FLAGS: Readonly<Record<string, number>> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

export const SCHED_ATTR_SIZE = 56;
const UTIL_CLAMP_RESET = 0xffffffff;

export interface SchedulerPlan {
  policy: string;
  /** sched_policy */
  policyValue: number;
  /** sched_flags */
  flags: number;
  nice: number;
  priority: number;
  /** Nanoseconds (uint64 as a decimal string: JSON cannot carry all of them as numbers). */
  runtime: string;
  deadline: string;
  period: string;
}

function u64(at: string, v: number | undefined): string {
  if (v === undefined) return '0';
  if (!Number.isInteger(v) || v < 0) throw new ConfigError(at, `must be a non-negative integer (nanoseconds), got ${JSON.stringify(v)}`);
  return BigInt(v).toString();
}

export function planScheduler(p: Process | undefined, base = '/process'): SchedulerPlan | undefined {
  const s = p?.scheduler;
  if (!s) return undefined;
  const at = `${base}/scheduler`;
  const policyValue = Object.hasOwn(SCHED_POLICIES, s.policy) ? SCHED_POLICIES[s.policy] : undefined;
  if (policyValue === undefined) {
    throw new ConfigError(`${at}/policy`, `unknown scheduling policy ${JSON.stringify(s.policy)}; must be one of ${Object.keys(SCHED_POLICIES).join(', ')}`);
  }
  if (s.policy === 'SCHED_ISO') throw new ConfigError(`${at}/policy`, 'SCHED_ISO is reserved but not implemented by the Linux kernel');
  let flags = 0;
  (s.flags ?? []).forEach((f, i) => {
    const v = Object.hasOwn(SCHED_FLAGS, f) ? SCHED_FLAGS[f] : undefined;
    if (v === undefined) throw new ConfigError(`${at}/flags/${i}`, `unknown scheduler flag ${JSON.stringify(f)}; must be one of ${Object.keys(SCHED_FLAGS).join(', ')}`);
    flags |= v;
  });
  const nice = s.nice ?? 0;
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) throw new ConfigError(`${at}/nice`, `must be between -20 and 19, got ${JSON.stringify(s.nice)}`);
  const priority = s.priority ?? 0;
  const realtime = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
  if (realtime && (!Number.isInteger(priority) || priority < 1 || priority > 99)) {
    throw new ConfigError(`${at}/priority`, `must be between 1 and 99 for ${s.policy}, got ${JSON.stringify(s.priority)}`);
  }
  if (!realtime && priority !== 0) throw new ConfigError(`${at}/priority`, `must be 0 for ${s.policy}, got ${priority}`);
  const plan: SchedulerPlan = {
    policy: s.policy, policyValue, flags, nice, priority,
    runtime: u64(`${at}/runtime`, s.runtime), deadline: u64(`${at}/deadline`, s.deadline), period: u64(`${at}/period`, s.period),
  };
  if (s.policy === 'SCHED_DEADLINE') {
    const [r, d, pd] = [BigInt(plan.runtime), BigInt(plan.deadline), BigInt(plan.period)];
    if (r === 0n || d === 0n) throw new ConfigError(at, 'SCHED_DEADLINE needs non-zero "runtime" and "deadline"');
    if (r > d) throw new ConfigError(`${at}/runtime`, `must be <= deadline (${d}), got ${r}`);
    if (pd !== 0n && d > pd) throw new ConfigError(`${at}/deadline`, `must be <= period (${pd}), got ${d}`);
  }
  return plan;
}

/** The struct sched_attr for a plan (pure; exported for tests). */
export function schedAttr(p: SchedulerPlan): Buffer {
  const b = Buffer.alloc(SCHED_ATTR_SIZE);
  b.writeUInt32LE(SCHED_ATTR_SIZE, 0);
  b.writeUInt32LE(p.policyValue, 4);
  b.writeBigUInt64LE(BigInt(p.flags), 8);
  b.writeInt32LE(p.nice, 16);
  b.writeUInt32LE(p.priority, 20);
  b.writeBigUInt64LE(BigInt(p.runtime), 24);
  b.writeBigUInt64LE(BigInt(p.deadline), 32);
  b.writeBigUInt64LE(BigInt(p.period), 40);
  b.writeUInt32LE(p.flags & SCHED_FLAGS.SCHED_FLAG_UTIL_CLAMP_MIN! ? UTIL_CLAMP_RESET : 0, 48);
  b.writeUInt32LE(p.flags & SCHED_FLAGS.SCHED_FLAG_UTIL_CLAMP_MAX! ? UTIL_CLAMP_RESET : 0, 52);
  return b;
}

/** sched_setattr(0, &attr, 0): the calling thread. */
export function setScheduler(p: SchedulerPlan): void {
  try {
    syscall(SYS.sched_setattr, `sched_setattr(${p.policy})`, 'int', 0, 'void *', schedAttr(p), 'unsigned int', 0);
  } catch (e) {
    const realtime = p.policy === 'SCHED_FIFO' || p.policy === 'SCHED_RR';
    if (e instanceof SyscallError && e.code === EPERM && realtime) {
      e.message += ': with CONFIG_RT_GROUP_SCHED the container\'s cpu cgroup needs real-time bandwidth (linux.resources.cpu.realtimeRuntime)';
    } else if (e instanceof SyscallError && (e.code === EBUSY || e.code === EPERM) && p.policy === 'SCHED_DEADLINE') {
      e.message += ': the deadline bandwidth was refused (admission control, or a cpuset narrower than the root domain)';
    }
    throw e;
  }
}
