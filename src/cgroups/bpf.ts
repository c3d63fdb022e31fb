/**
 * cgroup v2 device control: a BPF_PROG_TYPE_CGROUP_DEVICE program generated
 * from the device rules, loaded with bpf(BPF_PROG_LOAD) and attached to the
 * container's cgroup directory with bpf(BPF_PROG_ATTACH).
 *
 * The rules are first reduced with the v1 emulator (devices.ts), like runc
 * does, so v1 and v2 containers see the same devices. The program then checks
 * each exception in turn and falls through to the default verdict.
 *
 * Program context (struct bpf_cgroup_dev_ctx): u32 access_type at 0
 * (device type in the low 16 bits: BPF_DEVCG_DEV_BLOCK 1, CHAR 2; access in
 * the high 16 bits: MKNOD 1, READ 2, WRITE 4), u32 major at 4, u32 minor at 8.
 * Return 1 to allow, 0 to deny.
 */

import { closeSync, openSync, constants } from 'node:fs';
import { errnoNumber, RuntsError, SyscallError } from '../common/errors.js';
import { address, checked, syscallRaw } from '../linux/libc.js';
import { SYS } from '../linux/abi.js';
import { emulateDevices, type DeviceState } from './devices.js';
import type { DeviceCgroup } from '../spec/types.js';

// eBPF opcodes (linux/bpf.h, linux/bpf_common.h).
export const BPF = {
  LDX_MEM_W: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  ALU64_MOV_X: 0xbf,
  ALU64_MOV_K: 0xb7,
  ALU64_AND_K: 0x57,
  ALU64_RSH_K: 0x77,
  JMP_JEQ_K: 0x15,
  JMP_JNE_K: 0x55,
  JMP_JA: 0x05,
  EXIT: 0x95,
} as const;

export interface Insn { code: number; dst: number; src: number; off: number; imm: number }

const ins = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });

const DEV_TYPE: Record<'b' | 'c', number> = { b: 1, c: 2 };
const ACC_BITS: Record<string, number> = { m: 1, r: 2, w: 4 };
const accBits = (a: string) => [...a].reduce((n, c) => n | (ACC_BITS[c] ?? 0), 0);

/**
 * Build the program for an emulated device state. Registers:
 * r2 = device type, r3 = access, r4 = major, r5 = minor, r0 = scratch/result.
 */
export function deviceProgramFromState(state: DeviceState): Insn[] {
  const p: Insn[] = [
    ins(BPF.LDX_MEM_W, 2, 1, 0), // r2 = ctx->access_type
    ins(BPF.ALU64_AND_K, 2, 0, 0, 0xffff), // r2 &= 0xffff  (type)
    ins(BPF.LDX_MEM_W, 3, 1, 0), // r3 = ctx->access_type
    ins(BPF.ALU64_RSH_K, 3, 0, 0, 16), // r3 >>= 16 (access)
    ins(BPF.LDX_MEM_W, 4, 1, 4), // r4 = ctx->major
    ins(BPF.LDX_MEM_W, 5, 1, 8), // r5 = ctx->minor
  ];
  const verdict = state.defaultAllow ? 0 : 1; // what a matching exception returns
  for (const e of state.exceptions) {
    const block: Insn[] = [];
    // Each "skip" jump is patched to land just after this block.
    const skips: number[] = [];
    if (e.type !== 'a') {
      skips.push(block.length);
      block.push(ins(BPF.JMP_JNE_K, 2, 0, 0, DEV_TYPE[e.type]));
    }
    const acc = accBits(e.access);
    if (state.defaultAllow) {
      // deny-list: the exception applies if any requested bit is in it
      if (acc !== 7) {
        block.push(ins(BPF.ALU64_MOV_X, 0, 3));
        block.push(ins(BPF.ALU64_AND_K, 0, 0, 0, acc));
        skips.push(block.length);
        block.push(ins(BPF.JMP_JEQ_K, 0, 0, 0, 0));
      }
    } else if (acc !== 7) {
      // allow-list: the exception applies only if it covers every requested bit
      block.push(ins(BPF.ALU64_MOV_X, 0, 3));
      block.push(ins(BPF.ALU64_AND_K, 0, 0, 0, 7 & ~acc));
      skips.push(block.length);
      block.push(ins(BPF.JMP_JNE_K, 0, 0, 0, 0));
    }
    if (e.major >= 0) {
      skips.push(block.length);
      block.push(ins(BPF.JMP_JNE_K, 4, 0, 0, e.major | 0));
    }
    if (e.minor >= 0) {
      skips.push(block.length);
      block.push(ins(BPF.JMP_JNE_K, 5, 0, 0, e.minor | 0));
    }
    block.push(ins(BPF.ALU64_MOV_K, 0, 0, 0, verdict));
    block.push(ins(BPF.EXIT));
    for (const i of skips) block[i]!.off = block.length - i - 1;
    p.push(...block);
  }
  p.push(ins(BPF.ALU64_MOV_K, 0, 0, 0, state.defaultAllow ? 1 : 0));
  p.push(ins(BPF.EXIT));
  return p;
}

/** The program for an OCI device list (applied on top of deny-all). Pure. */
export function deviceProgram(devices: DeviceCgroup[]): Insn[] {
  return deviceProgramFromState(emulateDevices(devices));
}

/** 8-byte little-endian encoding of each instruction. Pure. */
export function encodeProgram(prog: Insn[]): Buffer {
  const b = Buffer.alloc(prog.length * 8);
  prog.forEach((x, i) => {
    b.writeUInt8(x.code, i * 8);
    b.writeUInt8((x.src << 4) | (x.dst & 0x0f), i * 8 + 1);
    b.writeInt16LE(x.off, i * 8 + 2);
    b.writeInt32LE(x.imm | 0, i * 8 + 4);
  });
  return b;
}

// bpf(2) commands and constants.
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 2;
const ATTR_SIZE = 128;

function bpf(cmd: number, attr: Buffer, what: string, path?: string): number {
  const rc = syscallRaw(SYS.bpf, 'int', cmd, 'void *', attr, 'unsigned int', attr.length);
  return checked(what, rc, path); // errno is read at once
}

function openDir(dir: string): number {
  try {
    return openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new SyscallError('open', errnoNumber(code) ?? 5, dir);
  }
}

/** Load a device program; returns its fd. The verifier log is included in errors. */
export function loadDeviceProgram(prog: Insn[], forPath?: string): number {
  const insns = encodeProgram(prog);
  const license = Buffer.from('Apache\0');
  const log = Buffer.alloc(64 * 1024);
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0);
  attr.writeUInt32LE(prog.length, 4);
  attr.writeBigUInt64LE(address(insns), 8);
  attr.writeBigUInt64LE(address(license), 16);
  attr.writeUInt32LE(1, 24); // log_level
  attr.writeUInt32LE(log.length, 28);
  attr.writeBigUInt64LE(address(log), 32);
  attr.write('runts_dev', 48); // prog_name (16 bytes max)
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 68); // expected_attach_type
  try {
    return bpf(BPF_PROG_LOAD, attr, 'bpf(BPF_PROG_LOAD)', forPath);
  } catch (e) {
    const text = log.subarray(0, Math.max(0, log.indexOf(0))).toString().trim();
    if (text && e instanceof RuntsError) throw new RuntsError(`${e.message}; verifier: ${text.split('\n').slice(-3).join(' | ')}`, { op: e.op, path: e.path, errno: e.errno });
    throw e;
  }
}

/** IDs of the device programs attached directly to a cgroup. */
export function queryDevicePrograms(cgroupFd: number, path?: string): number[] {
  const ids = Buffer.alloc(4 * 64);
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(cgroupFd, 0);
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 4);
  attr.writeBigUInt64LE(address(ids), 16);
  attr.writeUInt32LE(64, 24);
  bpf(BPF_PROG_QUERY, attr, 'bpf(BPF_PROG_QUERY)', path);
  const n = attr.readUInt32LE(24);
  return Array.from({ length: n }, (_, i) => ids.readUInt32LE(i * 4));
}

/**
 * Attach a device program to a cgroup directory, replacing the ones runts
 * attached before (new first, then the old ones detached, so there is no
 * window without a filter). BPF_F_ALLOW_MULTI as in runc: programs attached
 * to descendant cgroups run too and cannot loosen this one.
 */
export function attachDeviceFilter(dir: string, devices: DeviceCgroup[]): void {
  const prog = deviceProgram(devices);
  const dirFd = openDir(dir);
  try {
    const old = queryDevicePrograms(dirFd, dir);
    const progFd = loadDeviceProgram(prog, dir);
    try {
      const attr = Buffer.alloc(ATTR_SIZE);
      attr.writeUInt32LE(dirFd, 0);
      attr.writeUInt32LE(progFd, 4);
      attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
      attr.writeUInt32LE(BPF_F_ALLOW_MULTI, 12);
      bpf(BPF_PROG_ATTACH, attr, 'bpf(BPF_PROG_ATTACH)', dir);
    } finally {
      closeSync(progFd);
    }
    for (const id of old) {
      const g = Buffer.alloc(ATTR_SIZE);
      g.writeUInt32LE(id, 0);
      const oldFd = bpf(BPF_PROG_GET_FD_BY_ID, g, 'bpf(BPF_PROG_GET_FD_BY_ID)', dir);
      try {
        const d = Buffer.alloc(ATTR_SIZE);
        d.writeUInt32LE(dirFd, 0);
        d.writeUInt32LE(oldFd, 4);
        d.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
        bpf(BPF_PROG_DETACH, d, 'bpf(BPF_PROG_DETACH)', dir);
      } finally {
        closeSync(oldFd);
      }
    }
  } finally {
    closeSync(dirFd);
  }
}
