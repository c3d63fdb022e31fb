import t from 'tap';
import {
  containerDeviceRules, DEFAULT_ALLOWED_DEVICES, devicesV1Writes, emulateDevices, deviceAllowed, toDeviceRule,
} from '../../../src/cgroups/devices.js';
import { cgroupResources } from '../../../src/container/create.js';
import type { Spec } from '../../../src/spec/types.js';
import { BPF, deviceProgram, encodeProgram, type Insn } from '../../../src/cgroups/bpf.js';
import type { DeviceCgroup } from '../../../src/spec/types.js';

t.test('default allow list matches runc (specconv AllowedDevices)', async (t) => {
  const s = DEFAULT_ALLOWED_DEVICES.map((d) => `${d.type} ${d.major ?? '*'}:${d.minor ?? '*'} ${d.access}`);
  t.same(s, [
    'c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:8 rwm', 'c 1:7 rwm', 'c 5:0 rwm', 'c 1:5 rwm', 'c 1:9 rwm',
    'c 136:* rwm', 'c 5:2 rwm', 'c 10:200 rwm',
  ]);
  t.ok(Object.isFrozen(DEFAULT_ALLOWED_DEVICES) && Object.isFrozen(DEFAULT_ALLOWED_DEVICES[0]));
});

t.test('validation', async (t) => {
  t.same(toDeviceRule({ allow: true, access: 'wr' }, 0), { allow: true, type: 'a', major: -1, minor: -1, access: 'rw' });
  t.throws(() => toDeviceRule({ allow: true, type: 'x', access: 'r' }, 3), /\/linux\/resources\/devices\/3: invalid device type/);
  t.throws(() => toDeviceRule({ allow: true, type: 'c', access: '' }, 0), /invalid access/);
  t.same(toDeviceRule({ allow: true, type: 'c', major: 1, minor: 11, access: 'rwa' }, 0).access, 'rw', 'unknown letters ignored, as runc');
  t.throws(() => toDeviceRule({ allow: true, type: 'c', access: 'xa' }, 0), /invalid access/);
  t.throws(() => toDeviceRule({ allow: true, type: 'c', major: -5, access: 'r' }, 0), /invalid major/);
});

t.test('v1 writes: deny-all first, then every entry in order', async (t) => {
  const w = (d: DeviceCgroup[]) => devicesV1Writes(d).map((x) => `${x.file === 'devices.allow' ? '+' : '-'}${x.value}`);
  // podman: deny all, then the runtime's defaults
  t.same(w([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]), ['-a', '+c 1:3 rwm'],
    'a leading reset replaces the initial deny-all');
  // the spec example
  t.same(w([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }, { allow: true, type: 'b', major: 8, minor: 0, access: 'r' }]),
    ['-a', '+c 10:229 rw', '+b 8:0 r']);
  // no leading reset: the list is on top of deny-all (as runc)
  t.same(w([{ allow: true, type: 'c', major: 1, minor: 5, access: 'r' }]), ['-a', '+c 1:5 r']);
  // privileged
  t.same(w([{ allow: true, access: 'rwm' }]), ['+a']);
  // a partial "a" rule is expanded (the kernel would treat "a" as everything)
  t.same(w([{ allow: true, access: 'rwm' }, { allow: false, access: 'w' }]), ['+a', '-c *:* w', '-b *:* w']);
  t.same(w([]), ['-a']);
});

t.test('emulator', async (t) => {
  t.same(emulateDevices([]), { defaultAllow: false, exceptions: [] });
  const e = emulateDevices([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'r' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'w' }]);
  t.same(e.exceptions, [{ type: 'c', major: 1, minor: 3, access: 'rw' }], 'allows merge');
  const r = emulateDevices([{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]);
  t.same(r.exceptions, [{ type: 'c', major: 1, minor: 3, access: 'rm' }], 'a deny of the same device removes access bits');
  const gone = emulateDevices([{ allow: true, type: 'c', major: 1, minor: 3, access: 'r' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }]);
  t.same(gone.exceptions, []);
  const bl = emulateDevices([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]);
  t.same(bl, { defaultAllow: true, exceptions: [{ type: 'c', major: 1, minor: 3, access: 'w' }] });
  t.equal(deviceAllowed(bl, 'c', 1, 3, 'r'), true);
  t.equal(deviceAllowed(bl, 'c', 1, 3, 'rw'), false, 'deny-list: any overlap denies');
  const wl = emulateDevices([{ allow: false, access: 'rwm' }, ...DEFAULT_ALLOWED_DEVICES]);
  t.equal(deviceAllowed(wl, 'c', 1, 3, 'rw'), true);
  t.equal(deviceAllowed(wl, 'c', 1, 3, 'rwm'), true);
  t.equal(deviceAllowed(wl, 'c', 8, 0, 'm'), true, 'mknod of anything');
  t.equal(deviceAllowed(wl, 'b', 8, 0, 'rm'), false, 'allow-list: must be fully covered');
  t.equal(deviceAllowed(wl, 'c', 136, 42, 'rw'), true, '/dev/pts/*');
});

/** A tiny eBPF interpreter for the instructions the generator uses. */
function runBpf(code: Buffer, ctx: { type: number; access: number; major: number; minor: number }): number {
  const mem = Buffer.alloc(12);
  mem.writeUInt32LE(((ctx.access << 16) | ctx.type) >>> 0, 0);
  mem.writeUInt32LE(ctx.major >>> 0, 4);
  mem.writeUInt32LE(ctx.minor >>> 0, 8);
  const reg = new Array<bigint>(11).fill(0n);
  reg[1] = -1n; // the context "pointer"; only valid as an LDX base
  const M = (1n << 64n) - 1n;
  let pc = 0;
  for (let steps = 0; steps < 10000; steps++) {
    if (pc < 0 || pc * 8 >= code.length) throw new Error(`pc ${pc} out of the program`);
    const op = code.readUInt8(pc * 8);
    const dst = code.readUInt8(pc * 8 + 1) & 0xf;
    const src = code.readUInt8(pc * 8 + 1) >> 4;
    const off = code.readInt16LE(pc * 8 + 2);
    const imm = BigInt.asUintN(64, BigInt(code.readInt32LE(pc * 8 + 4))); // sign-extended
    pc++;
    switch (op) {
      case BPF.LDX_MEM_W:
        if (reg[src] !== -1n || off < 0 || off > 8) throw new Error('bad load');
        reg[dst] = BigInt(mem.readUInt32LE(off));
        break;
      case BPF.ALU64_MOV_X: reg[dst] = reg[src]!; break;
      case BPF.ALU64_MOV_K: reg[dst] = imm; break;
      case BPF.ALU64_AND_K: reg[dst] = reg[dst]! & imm; break;
      case BPF.ALU64_RSH_K: reg[dst] = (reg[dst]! & M) >> imm; break;
      case BPF.JMP_JEQ_K: if (reg[dst] === imm) pc += off; break;
      case BPF.JMP_JNE_K: if (reg[dst] !== imm) pc += off; break;
      case BPF.JMP_JA: pc += off; break;
      case BPF.EXIT: return Number(reg[0]);
      default: throw new Error(`unexpected opcode 0x${op.toString(16)}`);
    }
  }
  throw new Error('no exit');
}

const ACCESS = ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm'];
const accBits = (a: string) => (a.includes('m') ? 1 : 0) | (a.includes('r') ? 2 : 0) | (a.includes('w') ? 4 : 0);

const RULESETS: Record<string, DeviceCgroup[]> = {
  'podman (deny all + defaults)': [{ allow: false, access: 'rwm' }, ...DEFAULT_ALLOWED_DEVICES],
  'docker (defaults + explicit deny c 10:229)': [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
    { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }],
  'spec example': [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }, { allow: true, type: 'b', major: 8, minor: 0, access: 'r' }],
  privileged: [{ allow: true, access: 'rwm' }],
  'deny-list': [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }, { allow: false, type: 'b', access: 'm' }],
  'partial a rule': [{ allow: true, access: 'rwm' }, { allow: false, access: 'w' }],
  'allow then remove': [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, access: 'rwm' }, { allow: false, type: 'c', major: 1, access: 'w' }],
  'nothing allowed': [],
  'wildcard minor': [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 136, access: 'rw' }, { allow: true, type: 'a', major: 7, minor: 1, access: 'r' }],
};

t.test('the BPF program decides exactly like the v1 emulator', async (t) => {
  for (const [name, rules] of Object.entries(RULESETS)) {
    const code = encodeProgram(deviceProgram(rules));
    const state = emulateDevices(rules);
    const wrong: string[] = [];
    let n = 0;
    for (const type of ['c', 'b'] as const) {
      for (const major of [0, 1, 5, 7, 8, 10, 136, 254]) {
        for (const minor of [0, 1, 2, 3, 5, 7, 8, 9, 200, 229, 4242]) {
          for (const acc of ACCESS) {
            n++;
            const want = deviceAllowed(state, type, major, minor, acc) ? 1 : 0;
            const got = runBpf(code, { type: type === 'b' ? 1 : 2, access: accBits(acc), major, minor });
            if (got !== want) wrong.push(`${type} ${major}:${minor} ${acc}: bpf ${got}, v1 ${want}`);
          }
        }
      }
    }
    t.same(wrong.slice(0, 5), [], `${name}: ${n} requests agree`);
  }
});

t.test('encoding', async (t) => {
  const prog: Insn[] = [{ code: BPF.ALU64_MOV_K, dst: 0, src: 0, off: 0, imm: 1 }, { code: BPF.LDX_MEM_W, dst: 2, src: 1, off: 4, imm: 0 }, { code: BPF.EXIT, dst: 0, src: 0, off: 0, imm: 0 }];
  t.equal(encodeProgram(prog).toString('hex'), 'b700000001000000' + '6112040000000000' + '9500000000000000');
  const p = deviceProgram(RULESETS['podman (deny all + defaults)']!);
  t.ok(p.length < 4096, `${p.length} instructions`);
  t.equal(p.at(-1)!.code, BPF.EXIT);
});

// issue 12: linux.devices are created, not allowed; the rules decide (runc 1.1).
t.test('a container\'s rules: linux.devices entries are not implicitly allowed (v1 writes and v2 program)', async (t) => {
  const spec = (resources: DeviceCgroup[] | undefined, devices: { path: string; type: string; major: number; minor: number }[]) =>
    ({ ociVersion: '1.3.0', linux: { devices, resources: resources ? { devices: resources } : {} } }) as unknown as Spec;
  const kmsg = { path: '/dev/kmsg', type: 'c', major: 1, minor: 11 };
  const verdicts = (s: Spec) => {
    const rules = cgroupResources(s).devices!;
    const code = encodeProgram(deviceProgram(rules));
    const state = emulateDevices(rules);
    const ask = (major: number, minor: number, acc: string) => ({
      v2: runBpf(code, { type: 2, access: accBits(acc), major, minor }),
      v1: deviceAllowed(state, 'c', major, minor, acc) ? 1 : 0,
      writes: devicesV1Writes(rules).map((w) => `${w.file} ${w.value}`),
    });
    return { kmsgW: ask(1, 11, 'w'), kmsgR: ask(1, 11, 'r'), nullRW: ask(1, 3, 'rw') };
  };
  const denyAll = verdicts(spec([{ allow: false, access: 'rwm' }], [kmsg]));
  t.same([denyAll.kmsgW.v2, denyAll.kmsgW.v1], [0, 0], 'deny-all: /dev/kmsg (c 1:11) stays denied although linux.devices creates it');
  t.notOk(denyAll.kmsgW.writes.some((w) => w.includes('1:11')), 'no v1 write mentions c 1:11');
  t.same(denyAll.kmsgW.writes.slice(0, 2), ['devices.deny a', 'devices.allow c *:* m'], 'v1: deny-all, then the allow-list');
  t.same([denyAll.nullRW.v2, denyAll.nullRW.v1], [1, 1], 'the default allow-list still applies');
  const noRules = verdicts(spec(undefined, [kmsg]));
  t.same([noRules.kmsgW.v2, noRules.kmsgW.v1], [0, 0], 'no resources.devices at all: the default allow-list only');
  const allowW = verdicts(spec([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'w' }], [kmsg]));
  t.same([allowW.kmsgW.v2, allowW.kmsgW.v1, allowW.kmsgR.v2, allowW.kmsgR.v1], [1, 1, 0, 0], 'an explicit rule decides: w allowed, r not');
  // runc drops a default entry whose node the config redefines
  const own = verdicts(spec([{ allow: false, access: 'rwm' }], [{ path: '/dev/null', type: 'c', major: 1, minor: 11 }]));
  t.same([own.nullRW.v2, own.nullRW.v1], [0, 0], 'linux.devices redefining /dev/null removes the default 1:3 rule, as runc does');
  t.same(containerDeviceRules([], ['/dev/tty']).length, DEFAULT_ALLOWED_DEVICES.length - 1);
});
