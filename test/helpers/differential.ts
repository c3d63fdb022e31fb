/**
 * Differential tests: the same bundle and the same command run by runc and by
 * runts, each with its own --root, so a test can compare what the container
 * sees and what the caller gets (exit code, output, key phrases of errors).
 *
 *   const d = new Differential();           // skip the file when !d.available()
 *   t.teardown(() => d.cleanup());
 *   const bundle = makeBundle({ args: [...] });
 *   const r = d.both(['run', '--bundle', bundle, d.id('x')]);
 *   t.equal(r.runts.code, r.runc.code);
 *
 * `id()` gives one container id used by both runtimes (their roots differ).
 * Commands run with their output in temp files (see run-files.ts): a
 * container may outlive the command that made it.
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import { haveBusybox, tmpdir } from './rootfs.js';
import { cleanEnv, runWithFiles, type Result, type RunFilesOpts } from './run-files.js';
import { RUNTS, uniqueId } from './runts.js';

export { makeBundle, uniqueId } from './runts.js';
export type { Result } from './run-files.js';

export const RUNC: string | undefined = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));

export type RuntimeName = 'runc' | 'runts';

/** One runtime binary with a private --root. */
export class Runtime {
  readonly root: string;
  constructor(readonly name: RuntimeName, readonly bin: string) {
    this.root = tmpdir(`runts-diff-${name}-`);
  }

  /** The argv (after the binary) for `args` under this runtime's root. */
  argv(args: string[]): string[] {
    return ['--root', this.root, ...args];
  }

  /** Run to completion; output through temp files. */
  run(args: string[], opts: RunFilesOpts = {}): Result {
    return runWithFiles(this.bin, this.argv(args), opts);
  }

  /** Start without waiting (stdio defaults to ignore/pipe/pipe). */
  spawn(args: string[], opts: SpawnOptions = {}) {
    return spawn(this.bin, this.argv(args), { stdio: ['ignore', 'pipe', 'pipe'], ...opts, env: cleanEnv((opts.env as Record<string, string>) ?? {}) });
  }

  /** Run a shell command line where `$RT` is this runtime (e.g. under `script -qc`). */
  shell(cmdline: string, opts: { timeoutMs?: number; input?: string } = {}): Result {
    const rt = [this.bin, '--root', this.root].map(shq).join(' ');
    const r = spawnSync('/bin/sh', ['-c', cmdline], {
      env: cleanEnv({ RT: rt }), encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, input: opts.input ?? '',
    });
    return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /**
   * Run a shell command line (`$RT` is this runtime) inside a terminal made
   * by script(1), its exit status being the command's. script's stdin stays
   * open until the command is done (at EOF script would type into the
   * terminal). Only the command's output is returned, as the terminal shows it.
   */
  inTerminal(cmdline: string, opts: { timeoutMs?: number } = {}): Promise<Result> {
    const rt = [this.bin, '--root', this.root].map(shq).join(' ');
    return new Promise((resolve) => {
      const c = spawn('script', ['-qec', cmdline, '/dev/null'], { env: cleanEnv({ RT: rt, TERM: 'xterm' }), stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      c.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      c.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const timer = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      c.on('close', (code, signal) => {
        clearTimeout(timer);
        c.stdin.destroy();
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  /** `state ID` parsed, or undefined when the runtime does not know the container. */
  state(id: string): Record<string, unknown> | undefined {
    const r = this.run(['state', id]);
    if (r.code !== 0) return undefined;
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  /** Wait until `id` is in `status` (or `ms` pass); returns whether it is. */
  async waitStatus(id: string, status: string, ms = 10_000): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (this.state(id)?.status === status) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.state(id)?.status === status;
  }

  /** Force-delete every container under this root, then remove the root. */
  cleanup(): void {
    let ids: string[] = [];
    try { ids = fs.readdirSync(this.root).filter((n) => !n.startsWith('.')); } catch { /* no root */ }
    for (const id of ids) {
      // a paused container must be resumed before runc can kill it
      this.run(['resume', id]);
      this.run(['delete', '--force', id]);
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

export interface Pair<T> { runc: T; runts: T }

export class Differential {
  readonly runc: Runtime;
  readonly runts: Runtime;

  constructor() {
    this.runc = new Runtime('runc', RUNC ?? '/usr/sbin/runc');
    this.runts = new Runtime('runts', RUNTS);
  }

  /** Why this machine cannot run differential tests, or undefined when it can. */
  static cannotRun(): string | undefined {
    if (process.getuid?.() !== 0) return 'needs root';
    if (!haveBusybox()) return 'needs busybox-static';
    if (!RUNC) return 'runc is not installed (apt-get install runc): nothing to compare with';
    if (!fs.existsSync(RUNTS)) return `runts is not built (${RUNTS}): run node scripts/build.mjs`;
    return undefined;
  }

  get all(): Runtime[] { return [this.runc, this.runts]; }

  /** A container id for one comparison (the same for both runtimes). */
  id(prefix = 'diff'): string { return uniqueId(prefix); }

  /** The same command under both runtimes, runc first. */
  both(args: string[], opts: RunFilesOpts = {}): Pair<Result> {
    return { runc: this.runc.run(args, opts), runts: this.runts.run(args, opts) };
  }

  /** Run `fn` for each runtime, runc first; collect the results. */
  async each<T>(fn: (rt: Runtime) => T | Promise<T>): Promise<Pair<T>> {
    const runc = await fn(this.runc);
    const runts = await fn(this.runts);
    return { runc, runts };
  }

  cleanup(): void {
    for (const rt of this.all) rt.cleanup();
  }
}

/** Shell-quote one word. */
export function shq(s: string): string {
  return /^[A-Za-z0-9_./=:,@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Only the first line of an error text, for messages in assertions. */
export function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim() !== '') ?? '';
}
