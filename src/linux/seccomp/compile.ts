/**
 * Compile an OCI `linux.seccomp` object into a classic-BPF seccomp program,
 * without libseccomp. Pure: no system calls, no I/O.
 *
 * Program layout (see README.md next to this file for the long version):
 *
 *   ld [arch]; jeq AUDIT_ARCH_X86_64 -> S64; jeq AUDIT_ARCH_I386 -> S32; ret BAD_ARCH
 *   S64: ld [nr]; jge 0x40000000 -> X32 section (or ret BAD_ARCH when x32 is not listed)
 *        [jgt <newest syscall named in the profile> -> ret ERRNO(ENOSYS)]
 *        balanced jge tree over the syscall numbers -> leaves (ret, or argument checks)
 *   S32: the same for i386
 *
 * Semantics, and where they come from:
 *
 * - Actions: SCMP_ACT_KILL is KILL_THREAD (as libseccomp and runc). ERRNO and
 *   TRACE take `errnoRet` (default EPERM; for TRACE it is the data the tracer
 *   reads with PTRACE_GETEVENTMSG; runc also defaults TRACE to EPERM). Any
 *   other action with `errnoRet`, or `defaultErrnoRet` with a default action
 *   other than ERRNO/TRACE, is an error (the spec: "the runtime MUST print an
 *   error and fail"). SCMP_ACT_NOTIFY is refused as the default action (runc
 *   refuses it too: every syscall, including the ones needed to hand the
 *   listener fd over, would wait for an agent that does not have it yet).
 *
 * - Architectures: the native architecture is always in the filter (libseccomp
 *   adds it in seccomp_init and runc never removes it); `architectures` adds
 *   more. Listed architectures of other ABI families (SCMP_ARCH_AARCH64,
 *   SCMP_ARCH_ARM, ... next to the x86 ones in a multi-arch profile) are
 *   accepted and left out: libseccomp adds sections for them that an x86
 *   kernel never dispatches to, so the filter behaves the same; a name that is
 *   no SCMP_ARCH_* at all is an error (runc: "invalid arch").
 *   A syscall from any other architecture gets BAD_ARCH_ACTION, which is
 *   KILL_THREAD: libseccomp's default "bad arch" action is SCMP_ACT_KILL and
 *   runc does not change it. On x86_64, x32 syscalls share AUDIT_ARCH_X86_64
 *   and are told apart by bit 0x40000000 of the number: with SCMP_ARCH_X32
 *   listed they are dispatched on the x32 table, otherwise they get
 *   BAD_ARCH_ACTION, as libseccomp does (its x86_64 section starts with
 *   "jge 0x40000000 -> bad arch").
 *
 * - Rules: a syscall's rules are tried in profile order and the first whose
 *   argument checks all pass decides; when none passes, the default action
 *   applies. A rule without args matches always, so later rules for that
 *   syscall are dead and dropped. This is "first match wins", which the OCI
 *   discussion (runtime-spec PR #1159) describes for runc and crun. libseccomp
 *   really merges rules: a later unconditional rule for a syscall that already
 *   has only conditional rules replaces them in libseccomp, whereas here the
 *   earlier conditional rules still come first. Two details follow runc
 *   exactly: a rule whose action (with its errno) equals the default action is
 *   skipped before anything else (runc: "This rule is redundant, silently skip
 *   it"), so it never hides a later rule; and when one rule compares the same
 *   argument index more than once, runc (and youki) turn each comparison into
 *   a rule of its own, i.e. they are ORed (libseccomp allows one comparison per
 *   argument per rule). Otherwise the comparisons of one rule are ANDed.
 *
 * - Arguments: on 64-bit ABIs (x86_64) a value is compared as two 32-bit
 *   halves, high word first, unsigned. libseccomp treats i386 and x32 as
 *   32-bit ABIs and compares only the low word against the low 32 bits of the
 *   value; so do we. MASKED_EQ is (arg & value) == valueTwo, the datum not
 *   masked, exactly as libseccomp generates it.
 *
 * - Syscall names: a name that is in none of runts' tables is ignored, as runc
 *   does ("unknown seccomp syscall ignored": libseccomp cannot resolve it, so it
 *   is assumed not to exist on this kernel), and reported in `warnings`. A
 *   name that exists on some architectures only (chown32, ...) is used where it
 *   exists and skipped elsewhere, as libseccomp's pseudo-syscall numbers do;
 *   that includes names of non-x86 architectures (pciconfig_read,
 *   riscv_hwprobe, ...: SYSCALL_NAMES_OTHER_ARCHES), which are skipped
 *   everywhere without a warning.
 *
 * - ENOSYS for new syscalls (runc libcontainer/seccomp/patchbpf): with a
 *   default action that refuses (anything but ALLOW, LOG and TRACE; TRACE
 *   counts as allowing because a tracer must cope with new syscalls itself),
 *   a syscall whose number is above the highest number that any rule of the
 *   profile names on that architecture returns ENOSYS instead of the default
 *   action. The reason is that programs treat ENOSYS as "this kernel is too
 *   old" and fall back (glibc's clone3 -> clone, faccessat2 -> faccessat),
 *   while EPERM looks like a real refusal and breaks them. The highest number
 *   is taken per architecture (x86_64 and x32 separately) over every name of
 *   every rule, whatever its action and including names whose rule was skipped
 *   as redundant. Like runc this is a plain "greater than" test, so holes in
 *   the table below that number keep the default action. There is no stub when
 *   the default action already is ERRNO(ENOSYS), or for an architecture none of
 *   whose names resolve. Unlike runc, the stub also covers the native
 *   architecture when `architectures` is empty (runc only looks at the listed
 *   architectures, so an empty list gets no stub at all).
 */

import { ConfigError, RuntsError } from '../../common/errors.js';
import type { Seccomp } from '../../spec/types.js';
import { Assembler, Label, SECCOMP_DATA } from './bpf.js';
import {
  ARCHES,
  AUDIT_ARCH,
  type ArchInfo,
  BPF_MAXINSNS,
  SECCOMP_ACTIONS,
  SECCOMP_FILTER_FLAG,
  SECCOMP_OPERATORS,
  SECCOMP_RET,
  SYSCALL_TABLE_SOURCE,
  X32_SYSCALL_BIT,
  hostArch,
  isKnownSyscall,
} from './tables.js';
import { ENOSYS, EPERM } from '../abi.js';

export interface CompiledFilter {
  /** struct sock_filter[], little endian, ready for struct sock_fprog. */
  program: Buffer;
  /** Number of instructions (program.length / 8). */
  instructions: number;
  /** SECCOMP_FILTER_FLAG_* to pass to seccomp(SECCOMP_SET_MODE_FILTER). */
  flags: number;
  /** True when a rule uses SCMP_ACT_NOTIFY: loading returns a listener fd. */
  notify: boolean;
  /** The architecture the filter was compiled for (spec name). */
  nativeArch: string;
  /** All architectures the filter dispatches, native first. */
  architectures: string[];
  /** Things that were accepted but ignored (unknown syscall names, ...). */
  warnings: string[];
}

export interface CompileOptions {
  /** Spec name of the native architecture; defaults to the running process's. */
  nativeArch?: string;
}

/** What a syscall from an architecture outside the filter gets (libseccomp's default). */
export const BAD_ARCH_ACTION = SECCOMP_RET.KILL_THREAD;

/** All SCMP_ARCH_* the spec lists (libseccomp 2.6.0). */
const SPEC_ARCHES = new Set([
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
]);

const FLAG_VALUES: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP_FILTER_FLAG.TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV,
};

const P = '/linux/seccomp';
const U64_MAX = (1n << 64n) - 1n;
const ALLOWING = new Set(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE']);

interface ArgCond { arg: number; op: string; value: bigint; valueTwo: bigint }
interface Entry { conds: ArgCond[]; ret: number }
type Handler = { kind: 'ret'; k: number } | { kind: 'args'; entries: Entry[]; fallback: number };
interface Segment { start: number; end: number; h: Handler }

interface Rule {
  names: string[];
  ret: number;
  redundant: boolean;
  /** Alternatives (ORed); each is a list of ANDed comparisons. [[]] = unconditional. */
  alternatives: ArgCond[][];
}

export function compileSeccomp(s: Seccomp, opts: CompileOptions = {}): CompiledFilter {
  if (s === null || typeof s !== 'object') throw new ConfigError(P, 'must be an object');
  const warnings: string[] = [];

  // ---- default action
  if (s.defaultAction === 'SCMP_ACT_NOTIFY') {
    throw new ConfigError(`${P}/defaultAction`, 'SCMP_ACT_NOTIFY cannot be the default action');
  }
  const defaultRet = actionRet(s.defaultAction, s.defaultErrnoRet, `${P}/defaultAction`, `${P}/defaultErrnoRet`);

  // ---- flags
  let flags = 0;
  if (s.flags !== undefined && s.flags !== null) {
    if (!Array.isArray(s.flags)) throw new ConfigError(`${P}/flags`, 'must be an array');
    s.flags.forEach((f, i) => {
      const v = typeof f === 'string' && Object.hasOwn(FLAG_VALUES, f) ? FLAG_VALUES[f] : undefined;
      if (v === undefined) {
        throw new ConfigError(`${P}/flags/${i}`, `unknown seccomp flag ${JSON.stringify(f)}; known: ${Object.keys(FLAG_VALUES).join(', ')}`);
      }
      flags |= v;
    });
  }

  // ---- architectures: native first, then the listed ones
  const native = opts.nativeArch ?? hostArch();
  if (native === undefined || !Object.hasOwn(ARCHES, native) || native === 'SCMP_ARCH_X32') {
    throw new RuntsError(`seccomp: no syscall table for the native architecture ${native ?? process.arch}`);
  }
  const arches: string[] = [native];
  if (s.architectures !== undefined && s.architectures !== null) {
    if (!Array.isArray(s.architectures)) throw new ConfigError(`${P}/architectures`, 'must be an array');
    s.architectures.forEach((a, i) => {
      if (typeof a !== 'string' || !SPEC_ARCHES.has(a)) {
        throw new ConfigError(`${P}/architectures/${i}`, `unknown architecture ${JSON.stringify(a)}`);
      }
      // Another ABI (SCMP_ARCH_AARCH64 next to the x86 ones in a multi-arch
      // profile): libseccomp adds a section this kernel never dispatches to;
      // leaving it out has the same effect.
      if (!Object.hasOwn(ARCHES, a)) return;
      if (!arches.includes(a)) arches.push(a);
    });
  }

  // ---- rules
  const rules: Rule[] = [];
  let notify = false;
  const syscalls = s.syscalls ?? [];
  if (!Array.isArray(syscalls)) throw new ConfigError(`${P}/syscalls`, 'must be an array');
  syscalls.forEach((sc, i) => {
    const ptr = `${P}/syscalls/${i}`;
    if (sc === null || typeof sc !== 'object') throw new ConfigError(ptr, 'must be an object');
    if (!Array.isArray(sc.names) || sc.names.length === 0) throw new ConfigError(`${ptr}/names`, 'must contain at least one syscall name');
    sc.names.forEach((n, j) => {
      if (typeof n !== 'string' || n === '') throw new ConfigError(`${ptr}/names/${j}`, 'must be a non-empty syscall name');
    });
    const ret = actionRet(sc.action, sc.errnoRet, `${ptr}/action`, `${ptr}/errnoRet`);
    if (sc.action === 'SCMP_ACT_NOTIFY') notify = true;
    const conds: ArgCond[] = [];
    if (sc.args !== undefined && sc.args !== null) {
      if (!Array.isArray(sc.args)) throw new ConfigError(`${ptr}/args`, 'must be an array');
      sc.args.forEach((a, k) => conds.push(parseArg(a, `${ptr}/args/${k}`)));
    }
    const counts = new Map<number, number>();
    for (const c of conds) counts.set(c.arg, (counts.get(c.arg) ?? 0) + 1);
    const repeated = [...counts.values()].some((n) => n > 1);
    const alternatives = conds.length === 0 ? [[]] : repeated ? conds.map((c) => [c]) : [conds];
    rules.push({ names: sc.names, ret, redundant: ret === defaultRet, alternatives });
  });

  const unknown = new Set<string>();
  for (const r of rules) for (const n of r.names) if (!isKnownSyscall(n)) unknown.add(n);
  for (const n of unknown) {
    warnings.push(`syscall ${JSON.stringify(n)} is not in runts' syscall tables (Linux ${SYSCALL_TABLE_SOURCE.linux}); its rules are ignored`);
  }

  // ---- listener
  if (s.listenerMetadata !== undefined && s.listenerMetadata !== null && !s.listenerPath) {
    throw new ConfigError(`${P}/listenerMetadata`, 'must not be set without listenerPath');
  }
  if (notify && !s.listenerPath) {
    throw new ConfigError(`${P}/listenerPath`, 'SCMP_ACT_NOTIFY is used, so listenerPath must be set');
  }
  if (notify) {
    flags |= SECCOMP_FILTER_FLAG.NEW_LISTENER;
    // The kernel refuses TSYNC together with NEW_LISTENER (a thread that fails
    // to sync would leave no way to return both an fd and its tid) unless
    // TSYNC_ESRCH says "report failure as ESRCH"; libseccomp adds it the same way.
    if (flags & SECCOMP_FILTER_FLAG.TSYNC) flags |= SECCOMP_FILTER_FLAG.TSYNC_ESRCH;
  } else if (flags & SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV) {
    // The kernel accepts this flag only with NEW_LISTENER; without a NOTIFY rule it means nothing.
    flags &= ~SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV;
    warnings.push('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: no rule uses SCMP_ACT_NOTIFY');
  }

  // ---- ENOSYS stub applies?
  const enosysRet = (SECCOMP_RET.ERRNO | ENOSYS) >>> 0;
  const stub = !ALLOWING.has(s.defaultAction) && defaultRet !== enosysRet;

  // ---- per-architecture rule tables
  const sections = new Map<string, { arch: ArchInfo; byNr: Map<number, Entry[]>; maxNr?: number }>();
  for (const a of arches) {
    const arch = ARCHES[a]!;
    const byNr = new Map<number, Entry[]>();
    let maxNr: number | undefined;
    for (const r of rules) {
      for (const name of r.names) {
        if (!Object.hasOwn(arch.table, name)) continue;
        const nr = arch.table[name]!;
        if (maxNr === undefined || nr > maxNr) maxNr = nr;
        if (r.redundant) continue;
        let list = byNr.get(nr);
        if (!list) byNr.set(nr, (list = []));
        for (const alt of r.alternatives) {
          if (list.length > 0 && list[list.length - 1]!.conds.length === 0) break; // shadowed
          list.push({ conds: alt, ret: r.ret });
        }
      }
    }
    sections.set(a, { arch, byNr, maxNr });
  }

  // ---- emit
  const asm = new Assembler();
  const groups = new Map<number, string[]>();
  for (const a of arches) {
    const g = groups.get(ARCHES[a]!.audit);
    if (g) g.push(a); else groups.set(ARCHES[a]!.audit, [a]);
  }
  asm.ld(SECCOMP_DATA.ARCH);
  const groupLabels = new Map<number, Label>();
  for (const audit of groups.keys()) {
    const l = asm.label(`arch-${audit.toString(16)}`);
    const next = asm.label();
    groupLabels.set(audit, l);
    asm.jmp('jeq', audit, l, next);
    asm.place(next);
  }
  asm.ret(BAD_ARCH_ACTION);

  const emitSection = (name: string): void => {
    const sec = sections.get(name)!;
    let hi = sec.arch.nrHi;
    if (stub && sec.maxNr !== undefined) {
      const lEnosys = asm.label('enosys');
      const lTree = asm.label();
      asm.jmp('jgt', sec.maxNr, lEnosys, lTree);
      asm.place(lEnosys);
      asm.ret(enosysRet);
      asm.place(lTree);
      hi = sec.maxNr;
    }
    const segs = segments(sec.byNr, defaultRet, sec.arch.nrLo, hi);
    emitTree(asm, segs, 0, segs.length - 1, sec.arch.args64);
  };

  for (const [audit, names] of groups) {
    asm.place(groupLabels.get(audit)!);
    asm.ld(SECCOMP_DATA.NR);
    if (audit === AUDIT_ARCH.X86_64) {
      // x32 calls have bit 30 set in nr (every such nr is >= 0x40000000).
      const lo = names.includes('SCMP_ARCH_X86_64');
      const hi = names.includes('SCMP_ARCH_X32');
      const lLo = asm.label('x86_64');
      const lHi = asm.label('x32');
      asm.jmp('jge', X32_SYSCALL_BIT, lHi, lLo);
      if (lo && hi) {
        asm.place(lLo);
        emitSection('SCMP_ARCH_X86_64');
        asm.place(lHi);
        emitSection('SCMP_ARCH_X32');
      } else if (lo) {
        asm.place(lHi); // the short branch first, so neither jump needs a long jump
        asm.ret(BAD_ARCH_ACTION);
        asm.place(lLo);
        emitSection('SCMP_ARCH_X86_64');
      } else {
        asm.place(lLo);
        asm.ret(BAD_ARCH_ACTION);
        asm.place(lHi);
        emitSection('SCMP_ARCH_X32');
      }
    } else {
      emitSection(names[0]!);
    }
  }

  const { program, instructions } = asm.assemble();
  if (instructions > BPF_MAXINSNS) {
    throw new ConfigError(P, `the compiled seccomp filter has ${instructions} instructions, more than the kernel's limit of ${BPF_MAXINSNS}`);
  }
  return { program, instructions, flags, notify, nativeArch: native, architectures: arches, warnings };
}

// ---------------------------------------------------------------------------

function actionRet(action: unknown, errnoRet: unknown, ptrAction: string, ptrErrno: string): number {
  if (typeof action !== 'string' || !SECCOMP_ACTIONS.includes(action)) {
    throw new ConfigError(ptrAction, `unknown seccomp action ${JSON.stringify(action)}; expected one of ${SECCOMP_ACTIONS.join(', ')}`);
  }
  const hasErrno = errnoRet !== undefined && errnoRet !== null;
  if (hasErrno) {
    if (action !== 'SCMP_ACT_ERRNO' && action !== 'SCMP_ACT_TRACE') {
      throw new ConfigError(ptrErrno, `an errno return is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${action}`);
    }
    if (typeof errnoRet !== 'number' || !Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > SECCOMP_RET.DATA) {
      throw new ConfigError(ptrErrno, `must be an integer from 0 to ${SECCOMP_RET.DATA}, got ${JSON.stringify(errnoRet)}`);
    }
  }
  const data = hasErrno ? (errnoRet as number) : EPERM;
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS': return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP': return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_ERRNO': return (SECCOMP_RET.ERRNO | data) >>> 0;
    case 'SCMP_ACT_TRACE': return (SECCOMP_RET.TRACE | data) >>> 0;
    case 'SCMP_ACT_ALLOW': return SECCOMP_RET.ALLOW;
    case 'SCMP_ACT_LOG': return SECCOMP_RET.LOG;
    case 'SCMP_ACT_NOTIFY': return SECCOMP_RET.USER_NOTIF;
  }
  throw new ConfigError(ptrAction, `unknown seccomp action ${JSON.stringify(action)}`);
}

function u64(v: unknown, ptr: string): bigint {
  let b: bigint | undefined;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
  if (b === undefined || b < 0n || b > U64_MAX) {
    const hint = typeof v === 'number' && v >= 2 ** 64 ? ' (JSON numbers above 2^53 are not exact; 2^64-1 reads as 2^64)' : '';
    throw new ConfigError(ptr, `must be an unsigned 64-bit integer, got ${typeof v === 'bigint' ? v.toString() : JSON.stringify(v)}${hint}`);
  }
  return b;
}

function parseArg(a: unknown, ptr: string): ArgCond {
  if (a === null || typeof a !== 'object') throw new ConfigError(ptr, 'must be an object');
  const o = a as { index?: unknown; value?: unknown; valueTwo?: unknown; op?: unknown };
  if (typeof o.index !== 'number' || !Number.isInteger(o.index) || o.index < 0 || o.index > 5) {
    throw new ConfigError(`${ptr}/index`, `must be a syscall argument index from 0 to 5, got ${JSON.stringify(o.index)}`);
  }
  if (typeof o.op !== 'string' || !SECCOMP_OPERATORS.includes(o.op)) {
    throw new ConfigError(`${ptr}/op`, `unknown seccomp operator ${JSON.stringify(o.op)}; expected one of ${SECCOMP_OPERATORS.join(', ')}`);
  }
  const value = u64(o.value, `${ptr}/value`);
  const valueTwo = o.valueTwo === undefined || o.valueTwo === null ? 0n : u64(o.valueTwo, `${ptr}/valueTwo`);
  return { arg: o.index, op: o.op, value, valueTwo };
}

/** The handler for one syscall number, from its rules in order. */
function handlerFor(entries: Entry[], defaultRet: number): Handler {
  const first = entries[0]!;
  if (first.conds.length === 0) return { kind: 'ret', k: first.ret };
  const last = entries[entries.length - 1]!;
  const fallback = last.conds.length === 0 ? last.ret : defaultRet;
  const conditional = last.conds.length === 0 ? entries.slice(0, -1) : entries;
  // Checks whose outcome equals the fallback change nothing when they are last.
  while (conditional.length > 0 && conditional[conditional.length - 1]!.ret === fallback) conditional.pop();
  if (conditional.length === 0) return { kind: 'ret', k: fallback };
  return { kind: 'args', entries: conditional, fallback };
}

/** Split [lo, hi] into runs with one handler each; neighbours with the same plain return are merged. */
function segments(byNr: Map<number, Entry[]>, defaultRet: number, lo: number, hi: number): Segment[] {
  const out: Segment[] = [];
  const push = (start: number, end: number, h: Handler): void => {
    const prev = out[out.length - 1];
    if (prev && prev.h.kind === 'ret' && h.kind === 'ret' && prev.h.k === h.k && prev.end + 1 === start) prev.end = end;
    else out.push({ start, end, h });
  };
  let cur = lo;
  for (const nr of [...byNr.keys()].sort((a, b) => a - b)) {
    if (nr < lo || nr > hi) throw new RuntsError(`seccomp: internal error: syscall ${nr} outside [${lo}, ${hi}]`);
    if (nr > cur) push(cur, nr - 1, { kind: 'ret', k: defaultRet });
    push(nr, nr, handlerFor(byNr.get(nr)!, defaultRet));
    cur = nr + 1;
  }
  if (cur <= hi) push(cur, hi, { kind: 'ret', k: defaultRet });
  return out;
}

/** A balanced binary search over segment starts: one `jge` per level. */
function emitTree(asm: Assembler, segs: Segment[], i: number, j: number, args64: boolean): void {
  if (i === j) {
    emitHandler(asm, segs[i]!.h, args64);
    return;
  }
  const m = (i + j + 1) >> 1;
  const left = asm.label();
  const right = asm.label();
  asm.jmp('jge', segs[m]!.start, right, left);
  asm.place(left);
  emitTree(asm, segs, i, m - 1, args64);
  asm.place(right);
  emitTree(asm, segs, m, j, args64);
}

function emitHandler(asm: Assembler, h: Handler, args64: boolean): void {
  if (h.kind === 'ret') {
    asm.ret(h.k);
    return;
  }
  for (const e of h.entries) {
    const next = asm.label('next-rule');
    for (const c of e.conds) emitCond(asm, c, args64, next);
    asm.ret(e.ret);
    asm.place(next);
  }
  asm.ret(h.fallback);
}

const lo32 = (v: bigint): number => Number(v & 0xffffffffn);
const hi32 = (v: bigint): number => Number((v >> 32n) & 0xffffffffn);

/** Emit one comparison: falls through when it holds, jumps to `fail` when not. */
function emitCond(asm: Assembler, c: ArgCond, args64: boolean, fail: Label): void {
  const LO = SECCOMP_DATA.argLo(c.arg);
  const HI = SECCOMP_DATA.argHi(c.arg);

  if (c.op === 'SCMP_CMP_MASKED_EQ') {
    // (arg & mask) == datum, word by word. Returns false when the word can never match.
    const word = (off: number, mask: number, datum: number): boolean => {
      if (mask === 0) {
        if (datum === 0) return true; // (x & 0) == 0 always holds
        asm.ja(fail);
        return false;
      }
      const ok = asm.label();
      asm.ld(off);
      if (mask !== 0xffffffff) asm.and(mask);
      asm.jmp('jeq', datum, ok, fail);
      asm.place(ok);
      return true;
    };
    if (!args64 || word(HI, hi32(c.value), hi32(c.valueTwo))) word(LO, lo32(c.value), lo32(c.valueTwo));
    return;
  }

  const pass = asm.label('pass');
  const vl = lo32(c.value);
  if (args64) {
    const vh = hi32(c.value);
    const loWord = asm.label('lo-word');
    asm.ld(HI);
    switch (c.op) {
      case 'SCMP_CMP_EQ':
        asm.jmp('jeq', vh, loWord, fail);
        asm.place(loWord); asm.ld(LO); asm.jmp('jeq', vl, pass, fail);
        break;
      case 'SCMP_CMP_NE':
        asm.jmp('jeq', vh, loWord, pass);
        asm.place(loWord); asm.ld(LO); asm.jmp('jeq', vl, fail, pass);
        break;
      case 'SCMP_CMP_GT':
      case 'SCMP_CMP_GE': {
        const eqHi = asm.label();
        asm.jmp('jgt', vh, pass, eqHi);
        asm.place(eqHi); asm.jmp('jeq', vh, loWord, fail);
        asm.place(loWord); asm.ld(LO); asm.jmp(c.op === 'SCMP_CMP_GT' ? 'jgt' : 'jge', vl, pass, fail);
        break;
      }
      case 'SCMP_CMP_LT':
      case 'SCMP_CMP_LE': {
        const eqHi = asm.label();
        asm.jmp('jgt', vh, fail, eqHi);
        asm.place(eqHi); asm.jmp('jeq', vh, loWord, pass);
        // LT: fail when lo >= v; LE: fail when lo > v.
        asm.place(loWord); asm.ld(LO); asm.jmp(c.op === 'SCMP_CMP_LT' ? 'jge' : 'jgt', vl, fail, pass);
        break;
      }
      default:
        throw new RuntsError(`seccomp: internal error: operator ${c.op}`);
    }
  } else {
    asm.ld(LO);
    switch (c.op) {
      case 'SCMP_CMP_EQ': asm.jmp('jeq', vl, pass, fail); break;
      case 'SCMP_CMP_NE': asm.jmp('jeq', vl, fail, pass); break;
      case 'SCMP_CMP_GT': asm.jmp('jgt', vl, pass, fail); break;
      case 'SCMP_CMP_GE': asm.jmp('jge', vl, pass, fail); break;
      case 'SCMP_CMP_LT': asm.jmp('jge', vl, fail, pass); break;
      case 'SCMP_CMP_LE': asm.jmp('jgt', vl, fail, pass); break;
      default:
        throw new RuntsError(`seccomp: internal error: operator ${c.op}`);
    }
  }
  asm.place(pass);
}
