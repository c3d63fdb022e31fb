/**
 * The generated syscall tables (scripts/gen-syscall-tables.mjs): they cover
 * the running kernel (the syscalls Linux 6.2 … 6.17 added have their
 * numbers on every x86 ABI, cross-checked with the kernel's own symbols in
 * /proc/kallsyms), and every name podman's default seccomp profile uses for
 * amd64 is known, so a podman container gets no "not in runts' syscall tables"
 * warnings.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import t from 'tap';
import type { Seccomp } from '../../../src/spec/types.js';
import { compileSeccomp } from '../../../src/linux/seccomp/compile.js';
import {
  SYSCALL_NAMES_OTHER_ARCHES,
  SYSCALL_TABLE_SOURCE,
  SYSCALLS_I386,
  SYSCALLS_X32,
  SYSCALLS_X86_64,
  X32,
} from '../../../src/linux/seccomp/syscall-table.generated.js';
import { isKnownSyscall } from '../../../src/linux/seccomp/tables.js';

/** Added after the Linux 6.1 headers the tables used to come from; numbers from syscall_64.tbl / syscall_32.tbl. */
const NEWER_THAN_6_1: [name: string, nr: number, linux: string][] = [
  ['cachestat', 451, '6.5'],
  ['fchmodat2', 452, '6.6'],
  ['map_shadow_stack', 453, '6.6'],
  ['futex_wake', 454, '6.7'],
  ['futex_wait', 455, '6.7'],
  ['futex_requeue', 456, '6.7'],
  ['statmount', 457, '6.8'],
  ['listmount', 458, '6.8'],
  ['lsm_get_self_attr', 459, '6.8'],
  ['lsm_set_self_attr', 460, '6.8'],
  ['lsm_list_modules', 461, '6.8'],
  ['mseal', 462, '6.10'],
  ['setxattrat', 463, '6.13'],
  ['getxattrat', 464, '6.13'],
  ['listxattrat', 465, '6.13'],
  ['removexattrat', 466, '6.13'],
  ['open_tree_attr', 467, '6.15'],
  ['file_getattr', 468, '6.17'],
  ['file_setattr', 469, '6.17'],
];

const version = (v: string): number[] => (/^(\d+)\.(\d+)/.exec(v) ?? ['', '0', '0']).slice(1, 3).map(Number);
const atLeast = (a: number[], b: number[]): boolean => a[0]! > b[0]! || (a[0] === b[0] && a[1]! >= b[1]!);

t.test('the tables are at least as new as the running kernel', async (t) => {
  const kernel = version(os.release());
  t.ok(atLeast(version(SYSCALL_TABLE_SOURCE.linux), kernel),
    `tables from Linux ${SYSCALL_TABLE_SOURCE.linux} (${SYSCALL_TABLE_SOURCE.package}), kernel ${os.release()}: regenerate with scripts/gen-syscall-tables.mjs --deb <newer linux-libc-dev>`);
});

t.test('syscalls added after Linux 6.1 are in every x86 table', async (t) => {
  for (const [name, nr, linux] of NEWER_THAN_6_1) {
    t.equal(SYSCALLS_X86_64[name], nr, `x86_64 ${name} = ${nr} (Linux ${linux})`);
    // Since 4.20 (424, pidfd_send_signal) new syscalls get the same number on every architecture.
    t.equal(SYSCALLS_I386[name], nr, `i386 ${name} = ${nr}`);
    t.equal(SYSCALLS_X32[name], X32 + nr, `x32 ${name} = X32 + ${nr}`);
  }
  t.equal(SYSCALLS_X86_64.uretprobe, 335, 'x86_64-only uretprobe (6.11) in its own range');
});

/** The __x64_sys_* symbols of the running kernel, or why there are none. */
function kernelSyscalls(): Set<string> | string {
  try {
    const syms = new Set([...fs.readFileSync('/proc/kallsyms', 'utf8').matchAll(/ __x64_sys_(\w+)$/gm)].map((m) => m[1]!));
    return syms.size > 0 ? syms : '/proc/kallsyms lists no __x64_sys_ symbols (kallsyms disabled?)';
  } catch (e) {
    return `/proc/kallsyms is not readable (${(e as Error).message})`;
  }
}
const syms = kernelSyscalls();

t.test('cross-check with the running kernel: __x64_sys_<name> in /proc/kallsyms', { skip: typeof syms === 'string' ? syms : false }, async (t) => {
  if (typeof syms === 'string') return;
  const kernel = version(os.release());
  for (const [name, nr, linux] of NEWER_THAN_6_1) {
    if (!atLeast(kernel, version(linux))) continue;
    t.ok(syms.has(name), `${name} (${nr}, Linux ${linux}) is implemented by this kernel (${os.release()})`);
  }
});

t.test('names of other architectures are known but have no x86 number', async (t) => {
  for (const n of ['pciconfig_read', 'swapcontext', 'riscv_hwprobe', 's390_runtime_instr', 'arm_fadvise64_64', 'set_tls', 'timerfd']) {
    t.ok(SYSCALL_NAMES_OTHER_ARCHES.has(n), n);
    t.ok(isKnownSyscall(n), `${n} is known`);
    t.notOk(Object.hasOwn(SYSCALLS_X86_64, n) || Object.hasOwn(SYSCALLS_I386, n) || Object.hasOwn(SYSCALLS_X32, n), `${n} has no x86 number`);
  }
  t.notOk(isKnownSyscall('no_such_syscall_xyz'));
  const f = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['pciconfig_read', 'mkdir'], action: 'SCMP_ACT_ERRNO' }] }, { nativeArch: 'SCMP_ARCH_X86_64' });
  t.same(f.warnings, [], 'no warning for a syscall of another architecture');
});

/** podman's own profile format (containers/common pkg/seccomp), as far as the conversion to OCI needs it. */
interface PodmanProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls: { names: string[]; action: string; args?: unknown[] | null; errnoRet?: number; includes?: { arches?: string[] }; excludes?: { arches?: string[] } }[];
}

const PODMAN_PROFILE = '/usr/share/containers/seccomp.json';

const podmanSkip = fs.existsSync(PODMAN_PROFILE) ? false : `${PODMAN_PROFILE} does not exist (podman / containers-common not installed)`;

t.test("podman's default profile: every name used for amd64 is known", { skip: podmanSkip }, async (t) => {
  const p = JSON.parse(fs.readFileSync(PODMAN_PROFILE, 'utf8')) as PodmanProfile;
  // podman keeps an entry for amd64 unless includes.arches leaves amd64 out or excludes.arches names it.
  // includes/excludes.caps are ignored here (all entries are kept): a superset of any real container's profile.
  const forAmd64 = p.syscalls.filter((s) => (!s.includes?.arches?.length || s.includes.arches.includes('amd64')) && !s.excludes?.arches?.includes('amd64'));
  t.ok(forAmd64.length > 10, `${forAmd64.length} of ${p.syscalls.length} entries apply to amd64`);
  const names = [...new Set(forAmd64.flatMap((s) => s.names))];
  t.same(names.filter((n) => !isKnownSyscall(n)), [], `all ${names.length} names are known to runts`);

  const x86 = p.archMap?.find((a) => a.architecture === 'SCMP_ARCH_X86_64');
  const oci: Seccomp = {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures: x86 ? [x86.architecture, ...(x86.subArchitectures ?? [])] : ['SCMP_ARCH_X86_64'],
    syscalls: forAmd64.map((s) => ({
      names: s.names,
      action: s.action,
      ...(s.args?.length ? { args: s.args } : {}),
      ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}),
    })),
  } as Seccomp;
  const f = compileSeccomp(oci, { nativeArch: 'SCMP_ARCH_X86_64' });
  t.same(f.warnings, [], 'the converted profile compiles without warnings');
  t.ok(f.instructions > 100, `${f.instructions} instructions`);
});
