import t from 'tap';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../../src/common/errors.js';
import type { Seccomp } from '../../../src/spec/types.js';
import { Assembler, disassemble, OP } from '../../../src/linux/seccomp/bpf.js';
import { compileSeccomp, type CompiledFilter } from '../../../src/linux/seccomp/compile.js';
import { SYSCALLS_I386, SYSCALLS_X32, SYSCALLS_X86_64 } from '../../../src/linux/seccomp/syscall-table.generated.js';
import { AUDIT_ARCH, SECCOMP_FILTER_FLAG as FLAG, SECCOMP_RET as RET } from '../../../src/linux/seccomp/tables.js';
import { run } from './bpf-interp.js';

const DOCKER = '/work/shared/seccomp/docker-default.oci-amd64.json';
const X32 = 0x40000000;
const AUDIT_AARCH64 = 0xc00000b7;
const KILL_THREAD = RET.KILL_THREAD;
const ALLOW = RET.ALLOW;
const errno = (e: number): number => (RET.ERRNO | e) >>> 0;

type Abi = 'x86_64' | 'i386' | 'x32' | 'aarch64';
const TABLES: Record<Exclude<Abi, 'aarch64'>, Readonly<Record<string, number>>> = { x86_64: SYSCALLS_X86_64, i386: SYSCALLS_I386, x32: SYSCALLS_X32 };

function compile(s: Seccomp): CompiledFilter {
  return compileSeccomp(s, { nativeArch: 'SCMP_ARCH_X86_64' });
}

/** Run `f` for syscall `sys` (a name, or a raw seccomp_data.nr) made through ABI `abi`. */
function verdict(f: CompiledFilter, abi: Abi, sys: string | number, args: (bigint | number)[] = []): number {
  const arch = abi === 'i386' ? AUDIT_ARCH.I386 : abi === 'aarch64' ? AUDIT_AARCH64 : AUDIT_ARCH.X86_64;
  let nr: number;
  if (typeof sys === 'number') nr = sys;
  else {
    if (abi === 'aarch64') throw new Error('no aarch64 table');
    const table = TABLES[abi];
    if (!Object.hasOwn(table, sys)) throw new Error(`${sys} is not a ${abi} syscall`);
    nr = table[sys]!;
  }
  return run(f.program, { arch, nr, args }).ret;
}

function pointerOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.pointer;
    throw e;
  }
  return undefined;
}

// ---------------------------------------------------------------------------

t.test('the interpreter runs the hand-written program from the stack notes', async (t) => {
  const prog = [[0x20, 0, 0, 4], [0x15, 1, 0, 0xc000003e], [0x06, 0, 0, 0x80000000], [0x20, 0, 0, 0],
    [0x15, 2, 0, 83], [0x15, 1, 0, 258], [0x06, 0, 0, 0x7fff0000], [0x06, 0, 0, 0x00050001]];
  const b = Buffer.alloc(prog.length * 8);
  prog.forEach(([c, jt, jf, k], i) => { b.writeUInt16LE(c!, i * 8); b.writeUInt8(jt!, i * 8 + 2); b.writeUInt8(jf!, i * 8 + 3); b.writeUInt32LE(k!, i * 8 + 4); });
  t.equal(run(b, { arch: AUDIT_ARCH.X86_64, nr: 83 }).ret, errno(1));
  t.equal(run(b, { arch: AUDIT_ARCH.X86_64, nr: 258 }).ret, errno(1));
  t.equal(run(b, { arch: AUDIT_ARCH.X86_64, nr: 0 }).ret, ALLOW);
  t.equal(run(b, { arch: AUDIT_ARCH.I386, nr: 83 }).ret, RET.KILL_PROCESS);
  t.equal(run(b, { arch: AUDIT_ARCH.X86_64, nr: 0 }).steps, 6);
});

t.test('actions', async (t) => {
  const withRule = (action: string, extra: object = {}): CompiledFilter =>
    compile({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', syscalls: [{ names: ['getcwd'], action, ...extra }] });
  const cases: [string, object, number][] = [
    ['SCMP_ACT_KILL', {}, RET.KILL_THREAD],
    ['SCMP_ACT_KILL_THREAD', {}, RET.KILL_THREAD],
    ['SCMP_ACT_KILL_PROCESS', {}, RET.KILL_PROCESS],
    ['SCMP_ACT_TRAP', {}, RET.TRAP],
    ['SCMP_ACT_ERRNO', {}, errno(1)],
    ['SCMP_ACT_ERRNO', { errnoRet: 13 }, errno(13)],
    ['SCMP_ACT_ERRNO', { errnoRet: 0 }, errno(0)],
    ['SCMP_ACT_ERRNO', { errnoRet: 65535 }, errno(65535)],
    ['SCMP_ACT_TRACE', {}, (RET.TRACE | 1) >>> 0],
    ['SCMP_ACT_TRACE', { errnoRet: 42 }, (RET.TRACE | 42) >>> 0],
    ['SCMP_ACT_LOG', {}, RET.LOG],
    ['SCMP_ACT_NOTIFY', {}, RET.USER_NOTIF],
  ];
  for (const [action, extra, want] of cases) {
    const f = withRule(action, extra);
    t.equal(verdict(f, 'x86_64', 'getcwd'), want, `${action} ${JSON.stringify(extra)} on the rule`);
    t.equal(verdict(f, 'x86_64', 'getpid'), ALLOW, `${action}: other syscalls keep the default`);
  }
  // ALLOW as a rule under a refusing default.
  const f = compile({ defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_ALLOW' }] });
  t.equal(verdict(f, 'x86_64', 'getcwd'), ALLOW);
  t.equal(verdict(f, 'x86_64', 'getpid'), RET.KILL_PROCESS);

  // Every action as the default action (NOTIFY is refused, tested below).
  const defaults: [Seccomp, number][] = [
    [{ defaultAction: 'SCMP_ACT_ALLOW' }, ALLOW],
    [{ defaultAction: 'SCMP_ACT_LOG' }, RET.LOG],
    [{ defaultAction: 'SCMP_ACT_KILL' }, RET.KILL_THREAD],
    [{ defaultAction: 'SCMP_ACT_KILL_THREAD' }, RET.KILL_THREAD],
    [{ defaultAction: 'SCMP_ACT_KILL_PROCESS' }, RET.KILL_PROCESS],
    [{ defaultAction: 'SCMP_ACT_TRAP' }, RET.TRAP],
    [{ defaultAction: 'SCMP_ACT_ERRNO' }, errno(1)],
    [{ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 95 }, errno(95)],
    [{ defaultAction: 'SCMP_ACT_TRACE' }, (RET.TRACE | 1) >>> 0],
    [{ defaultAction: 'SCMP_ACT_TRACE', defaultErrnoRet: 7 }, (RET.TRACE | 7) >>> 0],
  ];
  for (const [s, want] of defaults) {
    const g = compile(s);
    t.equal(verdict(g, 'x86_64', 'getpid'), want, `default ${s.defaultAction} ${s.defaultErrnoRet ?? ''}`);
  }
});

t.test('defaultErrnoRet', async (t) => {
  const f = compile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }] });
  t.equal(verdict(f, 'x86_64', 'getppid'), errno(38));
  t.equal(verdict(f, 'x86_64', 'getpid'), ALLOW);
  t.equal(verdict(f, 'x86_64', 9999), errno(38), 'no ENOSYS stub needed: the default already is ENOSYS');
});

// ---------------------------------------------------------------------------
// Operators, with values straddling the 32-bit boundary.

const VALUES = [0n, 1n, 2n, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn, 0x100000000n, 0x100000001n,
  0x1ffffffffn, 0x200000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xfffffffeffffffffn, 0xffffffff00000000n,
  0xfffffffffffffffen, 0xffffffffffffffffn];
const MASK = 0xffffffffn;

function reference(op: string, a: bigint, v: bigint, v2: bigint, bits64: boolean): boolean {
  if (!bits64) { a &= MASK; v &= MASK; v2 &= MASK; }
  switch (op) {
    case 'SCMP_CMP_EQ': return a === v;
    case 'SCMP_CMP_NE': return a !== v;
    case 'SCMP_CMP_LT': return a < v;
    case 'SCMP_CMP_LE': return a <= v;
    case 'SCMP_CMP_GE': return a >= v;
    case 'SCMP_CMP_GT': return a > v;
    case 'SCMP_CMP_MASKED_EQ': return (a & v) === v2;
  }
  throw new Error(op);
}

for (const op of ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GE', 'SCMP_CMP_GT']) {
  t.test(`${op}: every (value, argument) pair from ${VALUES.length} boundary values, on x86_64, i386 and x32`, async (t) => {
    const wrong: string[] = [];
    let checked = 0;
    for (const v of VALUES) {
      for (const index of [0, 5]) {
        const f = compile({
          defaultAction: 'SCMP_ACT_ALLOW',
          architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
          syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO', errnoRet: 61, args: [{ index, op, value: v as unknown as number }] }],
        });
        for (const a of VALUES) {
          for (const abi of ['x86_64', 'i386', 'x32'] as const) {
            const args = [0n, 0n, 0n, 0n, 0n, 0n];
            args[index] = a;
            const want = reference(op, a, v, 0n, abi === 'x86_64') ? errno(61) : ALLOW;
            const got = verdict(f, abi, 'getcwd', args);
            checked++;
            if (got !== want) wrong.push(`${abi} arg${index}=0x${a.toString(16)} ${op} 0x${v.toString(16)}: got 0x${got.toString(16)}`);
          }
        }
      }
    }
    t.same(wrong, [], `${checked} comparisons agree with BigInt arithmetic`);
  });
}

t.test('SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo, 64-bit on x86_64, low word on i386/x32', async (t) => {
  const masks = [0n, 0xffn, 0xffffffffn, 0xffffffff00000000n, 0x7e020000n, 0x100000000n, 0x80000000ffffffffn, 0xffffffffffffffffn];
  const datums = [0n, 1n, 0x20000n, 0x100000000n, 0xff00000000n, 0xffffffffn];
  const wrong: string[] = [];
  let checked = 0;
  for (const m of masks) {
    for (const d of datums) {
      const f = compile({
        defaultAction: 'SCMP_ACT_ERRNO',
        architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
        syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, op: 'SCMP_CMP_MASKED_EQ', value: m as unknown as number, valueTwo: d as unknown as number }] }],
      });
      for (const a of [...VALUES, 0x20000n, 0xff00020000n, 0x1_7e020000n]) {
        for (const abi of ['x86_64', 'i386', 'x32'] as const) {
          const want = reference('SCMP_CMP_MASKED_EQ', a, m, d, abi === 'x86_64') ? ALLOW : errno(1);
          const got = verdict(f, abi, 'getcwd', [0n, 0n, a]);
          checked++;
          if (got !== want) wrong.push(`${abi} 0x${a.toString(16)} & 0x${m.toString(16)} == 0x${d.toString(16)}: got 0x${got.toString(16)}`);
        }
      }
    }
  }
  t.same(wrong, [], `${checked} masked comparisons agree with BigInt arithmetic`);
});

t.test('several args in one rule are ANDed', async (t) => {
  const f = compile({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 3, args: [
      { index: 0, op: 'SCMP_CMP_EQ', value: 1 },
      { index: 1, op: 'SCMP_CMP_GE', value: 10 },
      { index: 3, op: 'SCMP_CMP_NE', value: 0 },
    ] }],
  });
  t.equal(verdict(f, 'x86_64', 'kill', [1, 10, 0, 7]), errno(3));
  t.equal(verdict(f, 'x86_64', 'kill', [1, 99, 5, 1]), errno(3));
  t.equal(verdict(f, 'x86_64', 'kill', [2, 10, 0, 7]), ALLOW, 'arg0 differs');
  t.equal(verdict(f, 'x86_64', 'kill', [1, 9, 0, 7]), ALLOW, 'arg1 too small');
  t.equal(verdict(f, 'x86_64', 'kill', [1, 10, 0, 0]), ALLOW, 'arg3 zero');
  t.equal(verdict(f, 'x86_64', 'kill', [0x100000001n, 10, 0, 7]), ALLOW, 'arg0 high word differs');
});

t.test('one argument compared twice in a rule: each comparison is its own rule (ORed), as runc does', async (t) => {
  const f = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [
      { index: 0, op: 'SCMP_CMP_EQ', value: 0 },
      { index: 0, op: 'SCMP_CMP_EQ', value: 8 },
      { index: 0, op: 'SCMP_CMP_EQ', value: 4294967295 },
    ] }],
  });
  for (const a of [0, 8, 0xffffffff]) t.equal(verdict(f, 'x86_64', 'personality', [a]), ALLOW, `personality(${a})`);
  t.equal(verdict(f, 'x86_64', 'personality', [6]), errno(1));
});

t.test('several rules for one syscall: first match wins; redundant rules are skipped', async (t) => {
  const f = compile({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 11, args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 9 }] },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 12, args: [{ index: 1, op: 'SCMP_CMP_GE', value: 5 }] },
      { names: ['kill', 'tkill'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 14 },
      { names: ['tkill'], action: 'SCMP_ACT_ERRNO', errnoRet: 15, args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 9 }] },
    ],
  });
  t.equal(verdict(f, 'x86_64', 'kill', [1, 9]), errno(11), 'first rule');
  t.equal(verdict(f, 'x86_64', 'kill', [1, 6]), errno(12), 'second rule');
  t.equal(verdict(f, 'x86_64', 'kill', [1, 2]), errno(13), 'unconditional third rule');
  t.equal(verdict(f, 'x86_64', 'tkill', [1, 9]), errno(13), 'a rule after an unconditional one is dead');

  // runc skips a rule whose action equals the default action, so it cannot hide a later rule.
  const g = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['getcwd'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
      { names: ['getcwd', 'getpid'], action: 'SCMP_ACT_ALLOW' },
      { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 2 },
      { names: ['getppid'], action: 'SCMP_ACT_ALLOW' },
    ],
  });
  t.equal(verdict(g, 'x86_64', 'getcwd'), ALLOW, 'ERRNO(EPERM) equals the default: skipped');
  t.equal(verdict(g, 'x86_64', 'getppid'), errno(2), 'ERRNO(2) differs from the default: first match');

  // A conditional rule followed by an unconditional one: conditions first, then the unconditional action.
  const h = compile({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['personality'], action: 'SCMP_ACT_LOG', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 8 }] },
      { names: ['personality'], action: 'SCMP_ACT_KILL_PROCESS' },
    ],
  });
  t.equal(verdict(h, 'x86_64', 'personality', [8]), RET.LOG);
  t.equal(verdict(h, 'x86_64', 'personality', [9]), RET.KILL_PROCESS);
});

// ---------------------------------------------------------------------------
// Architectures.

t.test('native only: x86_64 rules; i386, x32 and other arches get KILL_THREAD (libseccomp bad-arch action)', async (t) => {
  for (const s of [{}, { architectures: [] }, { architectures: ['SCMP_ARCH_X86_64'] }]) {
    const f = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 }], ...s });
    t.same(f.architectures, ['SCMP_ARCH_X86_64']);
    t.equal(verdict(f, 'x86_64', 'mkdir'), errno(5));
    t.equal(verdict(f, 'x86_64', 'getpid'), ALLOW);
    t.equal(verdict(f, 'i386', 'mkdir'), KILL_THREAD);
    t.equal(verdict(f, 'i386', 'getpid'), KILL_THREAD);
    t.equal(verdict(f, 'x32', 'mkdir'), KILL_THREAD);
    t.equal(verdict(f, 'x32', 'getpid'), KILL_THREAD);
    t.equal(verdict(f, 'x86_64', 0xffffffff), KILL_THREAD, 'nr -1 has the x32 bit');
    t.equal(verdict(f, 'aarch64', 34), KILL_THREAD);
  }
});

t.test('x86_64 + i386 + x32: each ABI is dispatched on its own table', async (t) => {
  const f = compile({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 },
      { names: ['chown32'], action: 'SCMP_ACT_ERRNO', errnoRet: 6 },
      { names: ['rt_sigaction'], action: 'SCMP_ACT_ERRNO', errnoRet: 7 },
      { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 8, args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 38 }] },
    ],
  });
  t.same(f.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  t.equal(SYSCALLS_X86_64.mkdir, 83);
  t.equal(SYSCALLS_I386.mkdir, 39);
  t.equal(SYSCALLS_X32.mkdir, X32 + 83);
  t.equal(verdict(f, 'x86_64', 'mkdir'), errno(5));
  t.equal(verdict(f, 'i386', 'mkdir'), errno(5));
  t.equal(verdict(f, 'x32', 'mkdir'), errno(5));
  t.equal(verdict(f, 'x86_64', 39), ALLOW, 'x86_64 nr 39 (getpid) is not i386 mkdir');
  t.equal(verdict(f, 'i386', 83), ALLOW, 'i386 nr 83 (symlink) is not x86_64 mkdir');
  t.equal(verdict(f, 'i386', 'chown32'), errno(6), 'i386-only name');
  t.equal(verdict(f, 'x86_64', SYSCALLS_I386.chown32!), ALLOW, 'absent from x86_64, number means something else there');
  t.equal(SYSCALLS_X32.rt_sigaction, X32 + 512, 'x32 has its own number for rt_sigaction');
  t.equal(verdict(f, 'x32', 'rt_sigaction'), errno(7));
  t.equal(verdict(f, 'x32', X32 + 13), ALLOW, 'x32 + 13 is not rt_sigaction');
  t.equal(verdict(f, 'x86_64', 'rt_sigaction'), errno(7));
  t.equal(verdict(f, 'x32', 'socket', [38]), errno(8));
  t.equal(verdict(f, 'x32', 'socket', [0x1_00000026n]), errno(8), 'x32 compares the low word only (libseccomp ARCH_SIZE_32)');
  t.equal(verdict(f, 'x86_64', 'socket', [0x1_00000026n]), ALLOW, 'x86_64 compares all 64 bits');
  t.equal(verdict(f, 'aarch64', 83), KILL_THREAD);
});

t.test('x86 listed without x32: x32 calls get the bad-arch action', async (t) => {
  const f = compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'] });
  t.same(f.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  t.equal(verdict(f, 'x86_64', 'getpid'), ALLOW);
  t.equal(verdict(f, 'i386', 'getpid'), ALLOW);
  t.equal(verdict(f, 'x32', 'getpid'), KILL_THREAD);
});

t.test('native i386 compile (nativeArch option)', async (t) => {
  const f = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }, { nativeArch: 'SCMP_ARCH_X86' });
  t.same(f.architectures, ['SCMP_ARCH_X86']);
  t.equal(verdict(f, 'i386', 'mkdir'), errno(1));
  t.equal(verdict(f, 'x86_64', 'mkdir'), KILL_THREAD);
});

// ---------------------------------------------------------------------------
// ENOSYS for syscalls newer than the profile.

t.test('ENOSYS above the newest syscall the profile names (runc patchbpf)', async (t) => {
  const base = { syscalls: [{ names: ['openat', 'read'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 }] };
  t.equal(SYSCALLS_X86_64.openat, 257);
  for (const [defaultAction, refuse] of [['SCMP_ACT_ERRNO', errno(1)], ['SCMP_ACT_KILL_PROCESS', RET.KILL_PROCESS], ['SCMP_ACT_KILL', KILL_THREAD], ['SCMP_ACT_TRAP', RET.TRAP]] as const) {
    const f = compile({ defaultAction, ...base });
    t.equal(verdict(f, 'x86_64', 'openat'), ALLOW, `${defaultAction}: listed`);
    t.equal(verdict(f, 'x86_64', 'getpid'), refuse, `${defaultAction}: unlisted below the newest named syscall gets the default`);
    t.equal(verdict(f, 'x86_64', 258), errno(38), `${defaultAction}: 258 > 257 gets ENOSYS`);
    t.equal(verdict(f, 'x86_64', 'clone3'), errno(38), `${defaultAction}: clone3 gets ENOSYS`);
    t.equal(verdict(f, 'x86_64', 0x3fffffff), errno(38));
  }
  for (const defaultAction of ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE']) {
    const f = compile({ defaultAction, ...base });
    const want = defaultAction === 'SCMP_ACT_ALLOW' ? ALLOW : defaultAction === 'SCMP_ACT_LOG' ? RET.LOG : (RET.TRACE | 1) >>> 0;
    t.equal(verdict(f, 'x86_64', 'clone3'), want, `${defaultAction}: no stub, new syscalls get the default`);
  }
});

t.test('ENOSYS: the newest number is per ABI; redundant rules count; holes keep the default', async (t) => {
  const f = compile({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['pidfd_open'], action: 'SCMP_ACT_ERRNO' }, // 434 everywhere; redundant with the default but counts
      { names: ['rt_sigaction'], action: 'SCMP_ACT_ALLOW' }, // x32 512
      { names: ['no_such_syscall_xyz'], action: 'SCMP_ACT_ALLOW' },
    ],
  });
  t.match(f.warnings.join('\n'), /no_such_syscall_xyz/, 'unknown names are reported and ignored');
  t.equal(verdict(f, 'x86_64', 'pidfd_open'), errno(1));
  t.equal(verdict(f, 'x86_64', 'clone3'), errno(38), '435 > 434');
  t.equal(verdict(f, 'x86_64', 'pidfd_getfd'), errno(38));
  t.equal(verdict(f, 'x86_64', 'mount'), errno(1), 'a hole below 434 keeps EPERM');
  t.equal(verdict(f, 'i386', 'clone3'), errno(38));
  t.equal(verdict(f, 'i386', 'mount'), errno(1));
  t.equal(verdict(f, 'i386', 0xffffffff), errno(38));
  t.equal(verdict(f, 'x32', 'rt_sigaction'), ALLOW);
  t.equal(verdict(f, 'x32', 'clone3'), errno(1), 'x32 newest is 512 (rt_sigaction), so x32 clone3 (435) is a hole');
  t.equal(verdict(f, 'x32', X32 + 513), errno(38));
  t.equal(verdict(f, 'x86_64', 0xffffffff), errno(38), 'nr -1 is an x32 number above 512');
});

t.test('ENOSYS: no stub for an ABI where no name resolves', async (t) => {
  const f = compile({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86'], syscalls: [{ names: ['chown32'], action: 'SCMP_ACT_ALLOW' }] });
  t.equal(verdict(f, 'i386', 'chown32'), ALLOW);
  t.equal(verdict(f, 'i386', 'clone3'), errno(38));
  t.equal(verdict(f, 'x86_64', 'clone3'), errno(1), 'x86_64 knows none of the names: no stub');
});

// ---------------------------------------------------------------------------
// Flags and the listener.

t.test('flags', async (t) => {
  const f = (flags: string[], notify = false): CompiledFilter => compile({
    defaultAction: 'SCMP_ACT_ALLOW', flags, ...(notify ? { listenerPath: '/run/a.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] } : {}),
  });
  t.equal(f([]).flags, 0);
  t.equal(f(['SECCOMP_FILTER_FLAG_TSYNC']).flags, FLAG.TSYNC);
  t.equal(f(['SECCOMP_FILTER_FLAG_LOG']).flags, FLAG.LOG);
  t.equal(f(['SECCOMP_FILTER_FLAG_SPEC_ALLOW']).flags, FLAG.SPEC_ALLOW);
  t.equal(f(['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_LOG']).flags, FLAG.LOG | FLAG.SPEC_ALLOW);
  const n = f([], true);
  t.equal(n.flags, FLAG.NEW_LISTENER);
  t.equal(n.notify, true);
  t.equal(f([]).notify, false);
  t.equal(f(['SECCOMP_FILTER_FLAG_TSYNC'], true).flags, FLAG.TSYNC | FLAG.NEW_LISTENER | FLAG.TSYNC_ESRCH, 'TSYNC with a listener needs TSYNC_ESRCH');
  t.equal(f(['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'], true).flags, FLAG.NEW_LISTENER | FLAG.WAIT_KILLABLE_RECV);
  const w = f(['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']);
  t.equal(w.flags, 0, 'WAIT_KILLABLE_RECV without a listener is dropped');
  t.match(w.warnings.join(), /WAIT_KILLABLE_RECV/);
});

// ---------------------------------------------------------------------------
// Validation.

t.test('invalid profiles are ConfigErrors with a JSON pointer', async (t) => {
  const ok = { names: ['getpid'], action: 'SCMP_ACT_ALLOW' };
  const cases: [string, Seccomp, string][] = [
    ['unknown default action', { defaultAction: 'SCMP_ACT_BOGUS' }, '/linux/seccomp/defaultAction'],
    ['NOTIFY as default action', { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/a' }, '/linux/seccomp/defaultAction'],
    ['defaultErrnoRet with KILL', { defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 }, '/linux/seccomp/defaultErrnoRet'],
    ['defaultErrnoRet with ALLOW', { defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 }, '/linux/seccomp/defaultErrnoRet'],
    ['unknown action', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [ok, ok, ok, { names: ['mkdir'], action: 'SCMP_ACT_NOPE' }] }, '/linux/seccomp/syscalls/3/action'],
    ['errnoRet with a non-errno action', { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [ok, { names: ['mkdir'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] }, '/linux/seccomp/syscalls/1/errnoRet'],
    ['errnoRet with KILL_PROCESS', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL_PROCESS', errnoRet: 1 }] }, '/linux/seccomp/syscalls/0/errnoRet'],
    ['errnoRet too large', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 65536 }] }, '/linux/seccomp/syscalls/0/errnoRet'],
    ['errnoRet negative', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: -1 }] }, '/linux/seccomp/syscalls/0/errnoRet'],
    ['unknown operator', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 1, op: 'SCMP_CMP_SOMETIMES' }] }] }, '/linux/seccomp/syscalls/0/args/1/op'],
    ['arg index 6', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, '/linux/seccomp/syscalls/0/args/0/index'],
    ['negative value', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }] }, '/linux/seccomp/syscalls/0/args/0/value'],
    ['value 2^64 (what 18446744073709551615 parses to)', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 18446744073709551615, op: 'SCMP_CMP_EQ' }] }] }, '/linux/seccomp/syscalls/0/args/0/value'],
    ['fractional valueTwo', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, valueTwo: 0.5, op: 'SCMP_CMP_MASKED_EQ' }] }] }, '/linux/seccomp/syscalls/0/args/0/valueTwo'],
    ['empty names', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }, '/linux/seccomp/syscalls/0/names'],
    ['empty name', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', ''], action: 'SCMP_ACT_ERRNO' }] }, '/linux/seccomp/syscalls/0/names/1'],
    ['unknown architecture', { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_Z80'] }, '/linux/seccomp/architectures/1'],
    ['unknown flag', { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_FAST'] }, '/linux/seccomp/flags/1'],
    ['NEW_LISTENER is not a config flag', { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }, '/linux/seccomp/flags/0'],
    ['NOTIFY without listenerPath', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, '/linux/seccomp/listenerPath'],
    ['listenerMetadata without listenerPath', { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' }, '/linux/seccomp/listenerMetadata'],
  ];
  for (const [what, s, pointer] of cases) t.equal(pointerOf(() => compile(s)), pointer, what);
  t.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, { nativeArch: 'SCMP_ARCH_MIPS' }), /native architecture/);
  // A bigint value is accepted (for callers that parse JSON losslessly).
  const f = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0xffffffffffffffffn as unknown as number, op: 'SCMP_CMP_EQ' }] }] });
  t.equal(verdict(f, 'x86_64', 'kill', [-1n]), errno(1));
  t.equal(verdict(f, 'x86_64', 'kill', [0xffffffffn]), ALLOW);
});

t.test('architectures of other ABI families are accepted and left out, as libseccomp dispatches them never on x86', async (t) => {
  const rules = [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }];
  const x86 = compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: rules });
  const multi = compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM', 'SCMP_ARCH_S390X'], syscalls: rules });
  t.same(multi.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  t.same(multi.program, x86.program, 'the same program as the x86-only profile');
  t.same(multi.warnings, []);
  t.equal(verdict(multi, 'x86_64', 'mkdir', []), errno(13));
  t.equal(verdict(multi, 'i386', 'mkdir', []), errno(13));
  const only = compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_AARCH64'] });
  t.same(only.architectures, ['SCMP_ARCH_X86_64'], 'only another family listed: the native one stays');
  t.equal(pointerOf(() => compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_Z80'] })), '/linux/seccomp/architectures/1');
});

t.test('too many instructions is a clear error', async (t) => {
  const names = Object.keys(SYSCALLS_X86_64).slice(0, 200);
  const args = [0, 1, 2, 3, 4, 5].map((index) => ({ index, op: 'SCMP_CMP_GT', value: 0x100000000 + index }));
  const s: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: names.map((n) => ({ names: [n], action: 'SCMP_ACT_ERRNO', args })) };
  t.equal(pointerOf(() => compile(s)), '/linux/seccomp');
  t.throws(() => compile(s), /more than the kernel's limit of 4096/);
});

// ---------------------------------------------------------------------------
// Layout: long jumps, logarithmic dispatch.

t.test('assembler: jumps beyond 255 instructions become ja long jumps', async (t) => {
  const a = new Assembler();
  const far = a.label();
  const near = a.label();
  a.ld(0);
  a.jmp('jeq', 7, far, near);
  a.place(near);
  a.jmp('jgt', 3, far, far); // both targets far
  for (let i = 0; i < 300; i++) a.ret(1000 + i);
  a.place(far);
  a.ret(42);
  const { program, longJumps } = a.assemble();
  t.equal(longJumps, 3);
  t.equal(run(program, { arch: 0, nr: 7 }).ret, 42);
  t.equal(run(program, { arch: 0, nr: 5 }).ret, 42);
  t.equal(run(program, { arch: 0, nr: 2 }).ret, 42);
  t.match(disassemble(program).join('\n'), /ja /);
});

t.test('big argument handlers force long jumps and stay correct', async (t) => {
  const names = ['read', 'write', 'close', 'fstat', 'lseek', 'mmap', 'mprotect', 'munmap', 'brk', 'ioctl', 'pread64', 'pwrite64',
    'readv', 'writev', 'access', 'pipe', 'select', 'sched_yield', 'mremap', 'msync', 'mincore', 'madvise', 'dup', 'dup2', 'pause',
    'nanosleep', 'getitimer', 'alarm', 'setitimer', 'getpid', 'sendfile', 'socket', 'connect', 'accept', 'sendto', 'recvfrom'];
  const syscalls = names.map((n, i) => ({
    names: [n], action: 'SCMP_ACT_ERRNO', errnoRet: 100 + i,
    args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 0x100000000 + i }, { index: 1, op: 'SCMP_CMP_LE', value: 0x200000000 + i }, { index: 2, op: 'SCMP_CMP_MASKED_EQ', value: 0xff00ff, valueTwo: i }],
  }));
  const f = compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls });
  let ja = 0;
  for (let i = 0; i < f.instructions; i++) if (f.program.readUInt16LE(i * 8) === OP.JA) ja++;
  t.ok(ja > 0, `${ja} long jumps in ${f.instructions} instructions`);
  const wrong: string[] = [];
  names.forEach((n, i) => {
    for (const abi of ['x86_64', 'i386', 'x32'] as const) {
      if (!Object.hasOwn(TABLES[abi], n)) continue;
      const hit = abi === 'x86_64' ? [0x100000000n + BigInt(i), 0x200000000n, BigInt(i)] : [BigInt(i), BigInt(i), BigInt(i)];
      const miss = abi === 'x86_64' ? [BigInt(i), 0n, BigInt(i)] : [BigInt(i), BigInt(i), BigInt(i) | 0x10000n];
      if (verdict(f, abi, n, hit) !== errno(100 + i)) wrong.push(`${abi} ${n} hit`);
      if (verdict(f, abi, n, miss) !== ALLOW) wrong.push(`${abi} ${n} miss`);
    }
  });
  t.same(wrong, []);
});

t.test("Docker's default profile", async (t) => {
  const profile = JSON.parse(readFileSync(DOCKER, 'utf8')) as Seccomp;
  const f = compile(profile);
  t.same(f.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  t.equal(f.flags, 0);
  t.ok(f.instructions < 1000, `${f.instructions} instructions (libseccomp: ~1000 for this profile)`);
  t.same(f.warnings, [], 'every name of the profile is known (cachestat, mseal, riscv_hwprobe, ...)');

  // Names with argument rules, and the errno rule.
  const conditional = new Set<string>();
  for (const sc of profile.syscalls ?? []) if (sc.args?.length || sc.action !== 'SCMP_ACT_ALLOW') sc.names.forEach((n) => conditional.add(n));
  const allowed = new Set<string>();
  for (const sc of profile.syscalls ?? []) if (sc.action === 'SCMP_ACT_ALLOW' && !sc.args?.length) sc.names.forEach((n) => allowed.add(n));

  for (const abi of ['x86_64', 'i386', 'x32'] as const) {
    const table = TABLES[abi];
    const wrong: string[] = [];
    let maxSteps = 0;
    let maxNamed = 0;
    for (const n of [...allowed, ...conditional]) if (Object.hasOwn(table, n)) maxNamed = Math.max(maxNamed, table[n]!);
    for (const [name, nr] of Object.entries(table)) {
      const r = run(f.program, { arch: abi === 'i386' ? AUDIT_ARCH.I386 : AUDIT_ARCH.X86_64, nr });
      maxSteps = Math.max(maxSteps, r.steps);
      if (allowed.has(name)) {
        if (r.ret !== ALLOW) wrong.push(`${name} not allowed: 0x${r.ret.toString(16)}`);
        if (r.loadedArgs) wrong.push(`${name} loads arguments: the kernel could not cache it`);
      } else if (!conditional.has(name)) {
        const want = nr > maxNamed ? errno(38) : errno(1);
        if (r.ret !== want) wrong.push(`${name} (${nr}) unlisted: got 0x${r.ret.toString(16)}, want 0x${want.toString(16)}`);
      }
    }
    t.same(wrong, [], `${abi}: every listed syscall is allowed, every unlisted one refused`);
    // 1 (ld arch) + up to 3 arch jumps + ld nr + x32 split + ENOSYS test + tree depth + ret.
    t.ok(maxSteps <= 20, `${abi}: at most ${maxSteps} instructions run for any syscall (a linear chain would need hundreds)`);
    // Numbers after every syscall the profile names, and garbage numbers.
    const base = abi === 'x32' ? X32 : 0;
    t.equal(verdict(f, abi, maxNamed + 1), errno(38), `${abi}: newer than the profile -> ENOSYS`);
    t.equal(verdict(f, abi, base + 1000), errno(38));
  }

  t.equal(verdict(f, 'x86_64', 'clone3'), errno(38), 'clone3 rule: ERRNO(ENOSYS)');
  t.equal(verdict(f, 'x86_64', 'cachestat'), ALLOW, 'cachestat (451, Linux 6.5) is in the table and allowed');
  t.equal(verdict(f, 'x86_64', 'removexattrat'), ALLOW, 'removexattrat (466, Linux 6.13): the newest name of the profile');
  t.equal(verdict(f, 'x86_64', 'open_tree_attr'), errno(38), 'open_tree_attr (467, Linux 6.15) is newer than the profile: ENOSYS');
  t.equal(verdict(f, 'x86_64', 'file_setattr'), errno(38), 'file_setattr (469, Linux 6.17): ENOSYS');
  t.equal(verdict(f, 'x86_64', 'swapoff'), errno(1));
  t.equal(verdict(f, 'x86_64', 'mount'), errno(1));
  t.equal(verdict(f, 'i386', 'mount'), errno(1));
  t.equal(verdict(f, 'x86_64', 'socket', [1, 1, 0]), ALLOW, 'AF_UNIX');
  t.equal(verdict(f, 'x86_64', 'socket', [38, 5, 0]), errno(1), 'AF_ALG');
  t.equal(verdict(f, 'x86_64', 'socket', [39, 5, 0]), ALLOW);
  t.equal(verdict(f, 'x86_64', 'socket', [40, 5, 0]), errno(1), 'AF_VSOCK');
  t.equal(verdict(f, 'x86_64', 'socket', [41, 5, 0]), ALLOW);
  t.equal(verdict(f, 'x86_64', 'socket', [0x100000001n, 1, 0]), ALLOW, 'socket: 64-bit GT 40');
  t.equal(verdict(f, 'i386', 'socket', [0x100000026n, 1, 0]), errno(1), 'i386 compares only the low word (38)');
  for (const p of [0, 8, 0x20000, 0x20008, 0xffffffff]) t.equal(verdict(f, 'x86_64', 'personality', [p]), ALLOW, `personality(0x${p.toString(16)})`);
  t.equal(verdict(f, 'x86_64', 'personality', [6]), errno(1));
  t.equal(verdict(f, 'x86_64', 'clone', [0x11]), ALLOW, 'clone without namespace flags');
  t.equal(verdict(f, 'x86_64', 'clone', [0x10000000 /* CLONE_NEWUSER */ | 0x11]), errno(1));
  t.equal(verdict(f, 'x32', 'clone', [0x20000 /* CLONE_NEWNS */]), errno(1));
  t.equal(verdict(f, 'i386', 'socketcall', [1]), ALLOW, 'socketcall is listed unconditionally');
});
