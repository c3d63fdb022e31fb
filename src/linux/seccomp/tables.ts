/**
 * Seccomp names and numbers: the spec's strings (for `runts features` and for
 * validation) and the kernel's values the compiler emits.
 *
 * Kernel values are from include/uapi/linux/seccomp.h, include/uapi/linux/audit.h
 * and include/uapi/linux/elf-em.h; they are ABI and do not change.
 */

import { SYSCALL_NAMES_OTHER_ARCHES, SYSCALLS_I386, SYSCALLS_X32, SYSCALLS_X86_64, SYSCALL_TABLE_SOURCE, X32 } from './syscall-table.generated.js';

export { SYSCALL_TABLE_SOURCE };

/** Actions in spec spelling (config-linux.md "Seccomp", libseccomp v2.6.0 list). */
export const SECCOMP_ACTIONS: readonly string[] = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
];

/** Argument operators in spec spelling. */
export const SECCOMP_OPERATORS: readonly string[] = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
];

/**
 * Architectures runts can compile for: those whose syscall table is generated
 * from a kernel table installed on this machine (see syscall-table.generated.ts).
 * Every other SCMP_ARCH_* is rejected with a ConfigError.
 */
export const SECCOMP_ARCHITECTURES: readonly string[] = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

/** Flags accepted in `linux.seccomp.flags` (spec spelling). */
export const SECCOMP_FLAGS: readonly string[] = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];

/** SECCOMP_RET_* (the filter's 32-bit return value; low 16 bits are data). */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
  ACTION_FULL: 0xffff0000,
  DATA: 0x0000ffff,
} as const;

/** SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER, flags, prog). */
export const SECCOMP_FILTER_FLAG = {
  TSYNC: 1 << 0,
  LOG: 1 << 1,
  SPEC_ALLOW: 1 << 2,
  NEW_LISTENER: 1 << 3,
  TSYNC_ESRCH: 1 << 4,
  WAIT_KILLABLE_RECV: 1 << 5,
} as const;

/** seccomp(2) operation (the syscall's number is SYS.seccomp in ../abi.ts). */
export const SECCOMP_SET_MODE_FILTER = 1;

/** AUDIT_ARCH_* = EM_* | __AUDIT_ARCH_64BIT (0x80000000) | __AUDIT_ARCH_LE (0x40000000). */
export const AUDIT_ARCH = {
  X86_64: 0xc000003e, // EM_X86_64 (62), 64-bit, little-endian
  I386: 0x40000003, // EM_386 (3), little-endian
} as const;

export const X32_SYSCALL_BIT = X32;

/** Classic BPF limit (include/uapi/linux/bpf_common.h BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** One architecture the compiler can emit a section for. */
export interface ArchInfo {
  /** Spec name, e.g. SCMP_ARCH_X86_64. */
  name: string;
  /** seccomp_data.arch value. */
  audit: number;
  /** name -> syscall number (x32 numbers include the x32 bit). */
  table: Readonly<Record<string, number>>;
  /**
   * Whether argument comparisons use the full 64-bit value. libseccomp treats
   * i386 and x32 as 32-bit ABIs (ARCH_SIZE_32) and compares only the low word
   * of an argument against the low 32 bits of the rule's value; we do the same.
   */
  args64: boolean;
  /** The range of seccomp_data.nr this section owns. */
  nrLo: number;
  nrHi: number;
}

export const ARCHES: Readonly<Record<string, ArchInfo>> = {
  SCMP_ARCH_X86_64: { name: 'SCMP_ARCH_X86_64', audit: AUDIT_ARCH.X86_64, table: SYSCALLS_X86_64, args64: true, nrLo: 0, nrHi: X32 - 1 },
  SCMP_ARCH_X32: { name: 'SCMP_ARCH_X32', audit: AUDIT_ARCH.X86_64, table: SYSCALLS_X32, args64: false, nrLo: X32, nrHi: 0xffffffff },
  SCMP_ARCH_X86: { name: 'SCMP_ARCH_X86', audit: AUDIT_ARCH.I386, table: SYSCALLS_I386, args64: false, nrLo: 0, nrHi: 0xffffffff },
};

/** The spec architecture of the running node process, or undefined if runts has no table for it. */
export function hostArch(): string | undefined {
  switch (process.arch) {
    case 'x64': return 'SCMP_ARCH_X86_64';
    case 'ia32': return 'SCMP_ARCH_X86';
    default: return undefined;
  }
}

/**
 * True when some supported architecture knows the name, or when it is a
 * syscall of another Linux architecture (pciconfig_read, riscv_hwprobe, ...:
 * SYSCALL_NAMES_OTHER_ARCHES). The latter have no number in any section of
 * the filter and are skipped silently, as libseccomp's pseudo-syscalls are,
 * so a multi-architecture profile (podman's) compiles without warnings.
 */
export function isKnownSyscall(name: string): boolean {
  return Object.values(ARCHES).some((a) => Object.hasOwn(a.table, name)) || SYSCALL_NAMES_OTHER_ARCHES.has(name);
}
