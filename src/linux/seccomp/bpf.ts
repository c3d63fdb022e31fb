/**
 * A tiny classic-BPF assembler for seccomp filters.
 *
 * Code is built as a list of instructions whose jump targets are labels. The
 * assembler lays the program out and resolves labels to offsets. Classic BPF
 * conditional jumps have 8-bit offsets (jt/jf <= 255) and may only jump
 * forwards; when a target is further away, the assembler puts a `ja` (32-bit
 * offset) right after the conditional jump and points the jump at it, then
 * lays out again until every offset fits.
 *
 * Only the instructions the seccomp compiler needs exist here, and all of them
 * are in the set the kernel's seccomp action cache can emulate (ld [nr]/[arch],
 * jeq/jgt/jge/jset #k, and #k, ja, ret #k), apart from loads of argument words.
 */

import { RuntsError } from '../../common/errors.js';

// Opcode parts (include/uapi/linux/bpf_common.h).
export const BPF = {
  LD: 0x00, ALU: 0x04, JMP: 0x05, RET: 0x06,
  W: 0x00, ABS: 0x20, K: 0x00,
  AND: 0x50,
  JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40,
} as const;

export const OP = {
  LD_W_ABS: BPF.LD | BPF.W | BPF.ABS, // 0x20
  AND_K: BPF.ALU | BPF.AND | BPF.K, // 0x54
  JA: BPF.JMP | BPF.JA, // 0x05
  JEQ_K: BPF.JMP | BPF.JEQ | BPF.K, // 0x15
  JGT_K: BPF.JMP | BPF.JGT | BPF.K, // 0x25
  JGE_K: BPF.JMP | BPF.JGE | BPF.K, // 0x35
  JSET_K: BPF.JMP | BPF.JSET | BPF.K, // 0x45
  RET_K: BPF.RET | BPF.K, // 0x06
} as const;

/** struct seccomp_data offsets (little-endian layout). */
export const SECCOMP_DATA = {
  NR: 0,
  ARCH: 4,
  IP: 8,
  /** Offset of the low 32-bit word of args[i]; the high word is 4 bytes further. */
  argLo: (i: number): number => 16 + 8 * i,
  argHi: (i: number): number => 16 + 8 * i + 4,
  SIZE: 64,
} as const;

export type Cond = 'jeq' | 'jgt' | 'jge' | 'jset';

const condOp: Record<Cond, number> = { jeq: OP.JEQ_K, jgt: OP.JGT_K, jge: OP.JGE_K, jset: OP.JSET_K };

export class Label {
  private static next = 0;
  readonly id = Label.next++;
  constructor(readonly name = '') {}
}

type Item =
  | { kind: 'ld'; off: number }
  | { kind: 'and'; k: number }
  | { kind: 'ret'; k: number }
  | { kind: 'jmp'; cond: Cond; k: number; t: Label; f: Label }
  | { kind: 'ja'; target: Label }
  | { kind: 'label'; label: Label };

export interface Assembled {
  program: Buffer;
  instructions: number;
  /** Number of `ja` long jumps the assembler had to insert. */
  longJumps: number;
}

export class Assembler {
  private items: Item[] = [];

  label(name?: string): Label {
    return new Label(name);
  }

  place(label: Label): void {
    this.items.push({ kind: 'label', label });
  }

  ld(off: number): void {
    if (off % 4 !== 0 || off < 0 || off >= SECCOMP_DATA.SIZE) throw new RuntsError(`seccomp: bad load offset ${off}`);
    this.items.push({ kind: 'ld', off });
  }

  and(k: number): void {
    this.items.push({ kind: 'and', k: k >>> 0 });
  }

  ret(k: number): void {
    this.items.push({ kind: 'ret', k: k >>> 0 });
  }

  /** Conditional jump: to `t` when `A <cond> k`, else to `f`. Both must be placed later. */
  jmp(cond: Cond, k: number, t: Label, f: Label): void {
    this.items.push({ kind: 'jmp', cond, k: k >>> 0, t, f });
  }

  ja(target: Label): void {
    this.items.push({ kind: 'ja', target });
  }

  /** Lay out, fix long jumps, encode as struct sock_filter[] (host = little endian). */
  assemble(): Assembled {
    let items = this.items;
    let longJumps = 0;
    for (;;) {
      const { pos, labelPos } = layout(items);
      const expanded: Item[] = [];
      let changed = false;
      for (let i = 0; i < items.length; i++) {
        const it = items[i]!;
        if (it.kind !== 'jmp') {
          expanded.push(it);
          continue;
        }
        const p = pos[i]!;
        const offT = where(labelPos, it.t) - p - 1;
        const offF = where(labelPos, it.f) - p - 1;
        if (offT < 0 || offF < 0) throw new RuntsError('seccomp: internal error: backward jump');
        if (offT <= 255 && offF <= 255) {
          expanded.push(it);
          continue;
        }
        changed = true;
        const jt = offT > 255 ? new Label('long-t') : it.t;
        const jf = offF > 255 ? new Label('long-f') : it.f;
        expanded.push({ ...it, t: jt, f: jf });
        if (jt !== it.t) { expanded.push({ kind: 'label', label: jt }, { kind: 'ja', target: it.t }); longJumps++; }
        if (jf !== it.f) { expanded.push({ kind: 'label', label: jf }, { kind: 'ja', target: it.f }); longJumps++; }
      }
      items = expanded;
      if (!changed) break;
    }
    const { pos, labelPos, count } = layout(items);
    const program = Buffer.alloc(count * 8);
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (it.kind === 'label') continue;
      const p = pos[i]!;
      let code = 0, jt = 0, jf = 0, k = 0;
      switch (it.kind) {
        case 'ld': code = OP.LD_W_ABS; k = it.off; break;
        case 'and': code = OP.AND_K; k = it.k; break;
        case 'ret': code = OP.RET_K; k = it.k; break;
        case 'ja': code = OP.JA; k = where(labelPos, it.target) - p - 1; break;
        case 'jmp':
          code = condOp[it.cond];
          k = it.k;
          jt = where(labelPos, it.t) - p - 1;
          jf = where(labelPos, it.f) - p - 1;
          break;
      }
      if (k < 0) throw new RuntsError('seccomp: internal error: backward jump');
      program.writeUInt16LE(code, p * 8);
      program.writeUInt8(jt, p * 8 + 2);
      program.writeUInt8(jf, p * 8 + 3);
      program.writeUInt32LE(k >>> 0, p * 8 + 4);
    }
    if (count === 0 || items.filter((x) => x.kind !== 'label').at(-1)!.kind !== 'ret') {
      throw new RuntsError('seccomp: internal error: program does not end with ret');
    }
    return { program, instructions: count, longJumps };
  }
}

function layout(items: Item[]): { pos: number[]; labelPos: Map<Label, number>; count: number } {
  const pos: number[] = new Array(items.length);
  const labelPos = new Map<Label, number>();
  let n = 0;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    pos[i] = n;
    if (it.kind === 'label') {
      if (labelPos.has(it.label)) throw new RuntsError('seccomp: internal error: label placed twice');
      labelPos.set(it.label, n);
    } else {
      n++;
    }
  }
  return { pos, labelPos, count: n };
}

function where(labelPos: Map<Label, number>, l: Label): number {
  const p = labelPos.get(l);
  if (p === undefined) throw new RuntsError(`seccomp: internal error: label ${l.name || l.id} never placed`);
  return p;
}

/** Decode a program into readable lines (for debugging and tests). */
export function disassemble(program: Buffer): string[] {
  const out: string[] = [];
  const n = program.length / 8;
  for (let i = 0; i < n; i++) {
    const code = program.readUInt16LE(i * 8);
    const jt = program.readUInt8(i * 8 + 2);
    const jf = program.readUInt8(i * 8 + 3);
    const k = program.readUInt32LE(i * 8 + 4);
    const hex = '0x' + k.toString(16);
    const at = (o: number): number => i + 1 + o;
    let s: string;
    switch (code) {
      case OP.LD_W_ABS: s = `ld [${k}]`; break;
      case OP.AND_K: s = `and #${hex}`; break;
      case OP.RET_K: s = `ret #${hex}`; break;
      case OP.JA: s = `ja ${at(k)}`; break;
      case OP.JEQ_K: s = `jeq #${hex} ${at(jt)} ${at(jf)}`; break;
      case OP.JGT_K: s = `jgt #${hex} ${at(jt)} ${at(jf)}`; break;
      case OP.JGE_K: s = `jge #${hex} ${at(jt)} ${at(jf)}`; break;
      case OP.JSET_K: s = `jset #${hex} ${at(jt)} ${at(jf)}`; break;
      default: s = `??? code=0x${code.toString(16)}`;
    }
    out.push(`${String(i).padStart(4)}: ${s}`);
  }
  return out;
}
