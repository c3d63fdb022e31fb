/**
 * Differential testing against runc (local helper for test/parity-b; to be
 * merged with test/helpers/differential.ts): one bundle, the same command
 * line under runts and runc, each with its own --root.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanEnv, runWithFiles, type Result, type RunFilesOpts } from '../helpers/run-files.js';
import { haveBusybox, tmpdir } from '../helpers/rootfs.js';
import { baseConfig, findProcesses, RUNTS } from '../helpers/runts.js';

export type Cfg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));

/** Why this machine cannot run the differential tests, or undefined. */
export function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!haveBusybox()) return 'needs busybox-static';
  if (!RUNC) return 'runc is not installed (apt-get install runc): nothing to compare with';
  if (process.arch !== 'x64') return 'x86_64 only';
  return undefined;
}

export class Runtime {
  readonly root: string;
  constructor(readonly name: 'runts' | 'runc', readonly bin: string) {
    this.root = tmpdir(`parity-${name}-root-`);
  }

  run(args: string[], opts: RunFilesOpts = {}): Result {
    return runWithFiles(this.bin, ['--root', this.root, ...args], opts);
  }

  /**
   * Run without blocking this process (it may have to answer the runtime, as
   * a seccomp agent does): `tick` is called every few ms until the command exits.
   */
  async runAsync(args: string[], tick: () => void, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const dir = tmpdir('parity-out-');
    const out = fs.openSync(path.join(dir, 'out'), 'w+');
    const err = fs.openSync(path.join(dir, 'err'), 'w+');
    try {
      const child = spawn(this.bin, ['--root', this.root, ...args], { stdio: ['ignore', out, err], env: cleanEnv() });
      let code: number | null | undefined;
      child.on('exit', (c) => { code = c; });
      const deadline = Date.now() + timeoutMs;
      while (code === undefined) {
        tick();
        if (Date.now() > deadline) { child.kill('SIGKILL'); await new Promise((r) => child.once('exit', r)); break; }
        await new Promise((r) => setTimeout(r, 5));
      }
      tick();
      return { code: code ?? null, stdout: fs.readFileSync(path.join(dir, 'out'), 'utf8'), stderr: fs.readFileSync(path.join(dir, 'err'), 'utf8') };
    } finally {
      fs.closeSync(out);
      fs.closeSync(err);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The same, from another working directory (the caller's cwd). */
  runIn(cwd: string, args: string[], opts: RunFilesOpts = {}): Result {
    return runWithFiles('/usr/bin/env', ['-C', cwd, this.bin, '--root', this.root, ...args], opts);
  }

  /** Containers still known under this root. */
  ids(): string[] {
    try { return fs.readdirSync(this.root).filter((n) => !n.startsWith('.') && fs.statSync(path.join(this.root, n)).isDirectory()); } catch { return []; }
  }

  cleanup(): void {
    for (const id of this.ids()) this.run(['delete', '--force', id]);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** runts and runc, removed at teardown. */
export function runtimes(): [Runtime, Runtime] {
  return [new Runtime('runts', RUNTS), new Runtime('runc', RUNC!)];
}

/** A bundle dir (config.json from baseConfig + mutate), removed at exit. */
export function bundle(rootfs: string, args: string[], mutate?: (c: Cfg) => void): string {
  const dir = tmpdir('parity-bundle-');
  const cfg = baseConfig(rootfs, args);
  mutate?.(cfg);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  return dir;
}

let seq = 0;
export function newId(prefix: string): string {
  return `${prefix}-${process.pid}-${++seq}`;
}

/** No process left whose command line names the id (runc's and runts's inits carry it). */
export function processesOf(id: string): number[] {
  return findProcesses(id);
}
