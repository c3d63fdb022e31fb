/**
 * A small classic-BPF interpreter for seccomp programs, written for the tests
 * independently of the compiler. It checks the program the way the kernel's
 * seccomp_check_filter()/bpf_check_classic() would for the instructions it
 * knows (opcode whitelist, aligned loads inside struct seccomp_data, forward
 * jumps inside the program, last instruction a return), then runs it over a
 * seccomp_data built from (arch, nr, args).
 */

export interface SeccompData {
  arch: number;
  nr: number;
  ip?: bigint;
  /** Up to six 64-bit arguments; missing ones are 0. */
  args?: (bigint | number)[];
}

export interface RunResult {
  /** The filter's 32-bit return value. */
  ret: number;
  /** Instructions executed, including the final ret. */
  steps: number;
  /** True when an argument word or the instruction pointer was loaded. */
  loadedArgs: boolean;
}

const LD_W_ABS = 0x20, ALU_AND_K = 0x54, JA = 0x05, JEQ_K = 0x15, JGT_K = 0x25, JGE_K = 0x35, JSET_K = 0x45, RET_K = 0x06;
const LD_W_MEM = 0x60, ST = 0x02, LDX_W_MEM = 0x61, STX = 0x03, TAX = 0x07, TXA = 0x87, LD_IMM = 0x00, RET_A = 0x16;

export function seccompData(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeInt32LE(d.nr | 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(d.ip ?? 0n, 8);
  const args = d.args ?? [];
  for (let i = 0; i < 6; i++) b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(args[i] ?? 0)), 16 + 8 * i);
  return b;
}

/** Validate like the kernel; throws on a program the kernel would refuse. */
export function check(program: Buffer): void {
  if (program.length % 8 !== 0) throw new Error('program length is not a multiple of 8');
  const n = program.length / 8;
  if (n === 0 || n > 4096) throw new Error(`bad program length ${n}`);
  for (let pc = 0; pc < n; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case LD_W_ABS:
        if (k % 4 !== 0 || k >= 64) throw new Error(`pc ${pc}: load offset ${k} outside seccomp_data`);
        break;
      case JA:
        if (pc + 1 + k >= n) throw new Error(`pc ${pc}: ja out of range`);
        break;
      case JEQ_K: case JGT_K: case JGE_K: case JSET_K:
        if (pc + 1 + jt >= n || pc + 1 + jf >= n) throw new Error(`pc ${pc}: jump out of range`);
        break;
      case ALU_AND_K: case RET_K: case RET_A: case LD_W_MEM: case ST: case LDX_W_MEM: case STX: case TAX: case TXA: case LD_IMM:
        if ((code === LD_W_MEM || code === ST || code === LDX_W_MEM || code === STX) && k >= 16) throw new Error(`pc ${pc}: scratch index ${k}`);
        break;
      default:
        throw new Error(`pc ${pc}: opcode 0x${code.toString(16)} not allowed in seccomp`);
    }
  }
  const last = program.readUInt16LE((n - 1) * 8);
  if (last !== RET_K && last !== RET_A) throw new Error('last instruction is not a return');
}

export function run(program: Buffer, d: SeccompData): RunResult {
  check(program);
  const data = seccompData(d);
  const mem = new Uint32Array(16);
  let A = 0, X = 0, pc = 0, steps = 0, loadedArgs = false;
  const n = program.length / 8;
  for (;;) {
    if (pc >= n) throw new Error('ran off the end of the program');
    if (++steps > 100000) throw new Error('too many steps');
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    pc++;
    switch (code) {
      case LD_W_ABS:
        if (k >= 8) loadedArgs = true;
        A = data.readUInt32LE(k);
        break;
      case LD_IMM: A = k; break;
      case LD_W_MEM: A = mem[k]!; break;
      case LDX_W_MEM: X = mem[k]!; break;
      case ST: mem[k] = A; break;
      case STX: mem[k] = X; break;
      case TAX: X = A; break;
      case TXA: A = X; break;
      case ALU_AND_K: A = (A & k) >>> 0; break;
      case JA: pc += k; break;
      case JEQ_K: pc += A === k ? jt : jf; break;
      case JGT_K: pc += A > k ? jt : jf; break;
      case JGE_K: pc += A >= k ? jt : jf; break;
      case JSET_K: pc += (A & k) !== 0 ? jt : jf; break;
      case RET_K: return { ret: k >>> 0, steps, loadedArgs };
      case RET_A: return { ret: A >>> 0, steps, loadedArgs };
      default: throw new Error(`unknown opcode 0x${code.toString(16)}`);
    }
  }
}
