/** Shared helpers for the cgroup tests (not a test file itself). */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';

export const CGROUP_ROOT = '/sys/fs/cgroup';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Every cgroup hierarchy mount point on this host (v1 and cgroup2). */
export function hierarchyMounts(): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype === 'cgroup' || fstype === 'cgroup2') out.push(line.slice(0, sep).split(' ')[4]!);
  }
  return out;
}

/** A fresh, unique top-level cgroup name for one test. */
let seq = 0;
export function testPrefix(name: string): string {
  return `runts-test-${process.pid}-${name}-${seq++}`;
}

/** Directories named `prefix` (at any hierarchy's top level) and everything below them, deepest first. */
export function leftovers(prefix: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    found.push(d);
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(`${d}/${e.name}`);
  };
  for (const m of hierarchyMounts()) {
    const top = `${m}/${prefix}`;
    if (existsSync(top) && statSync(top).isDirectory()) walk(top);
  }
  return found.reverse();
}

/** Safety net: remove whatever a failed test left under `prefix`. */
export function removeLeftovers(prefix: string): void {
  for (const d of leftovers(prefix)) {
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(d);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
        // thaw a frozen v1 freezer / v2 cgroup so tasks can leave, then retry
        try { writeFileSync(`${d}/freezer.state`, 'THAWED'); } catch { /* not a freezer dir */ }
        try { writeFileSync(`${d}/cgroup.freeze`, '0'); } catch { /* not v2 */ }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawn a helper process; it is killed (SIGKILL) by `kill()` in teardown. */
export function spawnChild(cmd: string, args: string[], stdin: 'pipe' | 'ignore' = 'ignore'): Child {
  const proc = spawn(cmd, args, { stdio: [stdin, 'pipe', 'ignore'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })));
  return { proc, pid: proc.pid!, exited };
}

export function spawnSleep(): Child {
  return spawnChild('sleep', ['1000']);
}

export async function killChild(c: Child): Promise<void> {
  if (c.proc.exitCode === null && c.proc.signalCode === null) {
    try { c.proc.kill('SIGKILL'); } catch { /* gone */ }
  }
  await c.exited;
}

export function readTrim(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

export function procState(pid: number): string {
  return /State:\s+(\S)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
}

export function procCgroup(pid: number): string {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collect a child's stdout as text. */
export function collect(c: Child): () => string {
  let buf = '';
  c.proc.stdout?.on('data', (d: Buffer) => { buf += d.toString(); });
  return () => buf;
}

/** The part of a tap Test the helpers use. */
export interface HasTeardown {
  teardown(fn: () => unknown): void;
}
