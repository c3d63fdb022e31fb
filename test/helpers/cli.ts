/**
 * The one harness that drives an OCI runtime through its command line, the
 * way an engine does: a private --root per instance, output through temp
 * files (a container created by a command inherits its stdio and may outlive
 * it), and a teardown that removes every container left under the root.
 * test/helpers/runts.ts (runts), test/helpers/differential.ts (runts and
 * runc side by side) and conformance/lib/runtime.ts (runts, or any
 * runc-compatible binary) are this class with a binary and a root.
 */
import { spawn, spawnSync, type ChildProcess, type ChildProcessByStdio, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { haveBusybox, hostMountsUnder, tmpdir } from './rootfs.js';
import { cleanEnv, runWithFiles, type Result, type RunFilesOpts } from './run-files.js';

export const RUNTS = path.resolve(__dirname, '../../dist/runts.cjs');
export const RUNC: string | undefined = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));

export { cleanEnv, hostMountsUnder, type Result, type RunFilesOpts };

type JsonObject = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Why containers cannot be run here with `runtime` (and runc, when asked),
 * or false: root, a static busybox, the binaries.
 */
export function cannotRunContainers(runtime = RUNTS, opts: { runc?: boolean } = {}): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!haveBusybox()) return 'needs busybox-static';
  if (opts.runc && !RUNC) return 'runc is not installed (apt-get install runc): nothing to compare with';
  if (!fs.existsSync(runtime)) {
    return runtime === RUNTS ? `runts is not built (${RUNTS}): run node scripts/build.mjs` : `runtime ${runtime} not found`;
  }
  return false;
}

/** A command on this host's PATH. */
export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export interface RunOpts extends RunFilesOpts {
  /** Run the runtime through this executable (e.g. a node binary) instead of directly. */
  via?: string;
  /** A command that execs its arguments ("$@"): runs before the runtime, e.g. to change an inherited attribute. */
  prefix?: string[];
  /** Global flags instead of ['--root', root]. */
  global?: string[];
}

/**
 * Temp names made here never contain a runtime's name: tests look for the
 * runtime's own handles (fds, mounts) by its name and must not find ours.
 */
export class Cli {
  readonly root: string;
  constructor(readonly bin: string, root?: string, readonly name = path.basename(bin)) {
    this.root = root ?? tmpdir('cli-root-');
  }

  /** The command line (file and arguments) of `args` under this runtime's root. */
  argv(args: string[], opts: RunOpts = {}): { file: string; args: string[] } {
    const full = [...(opts.global ?? ['--root', this.root]), ...args];
    const cmd = opts.via ? [opts.via, this.bin, ...full] : [this.bin, ...full];
    const all = [...(opts.prefix ?? []), ...cmd];
    return { file: all[0]!, args: all.slice(1) };
  }

  /** Run to completion; stdout and stderr go through temp files. */
  run(args: string[], opts: RunOpts = {}): Result {
    const { file, args: argv } = this.argv(args, opts);
    return runWithFiles(file, argv, opts);
  }

  /** Start without waiting (for commands that block: run, create with a console socket); stdout and stderr piped. */
  spawn(args: string[], opts?: RunOpts): ChildProcessByStdio<null, Readable, Readable>;
  /** The same with the given stdio. */
  spawn(args: string[], opts: RunOpts & { stdio: StdioOptions }): ChildProcess;
  spawn(args: string[], opts: RunOpts & { stdio?: StdioOptions } = {}): ChildProcess {
    const { file, args: argv } = this.argv(args, opts);
    return spawn(file, argv, { env: cleanEnv(opts.env), stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'] });
  }

  /** The same as run, from another working directory (the caller's cwd). */
  runIn(cwd: string, args: string[], opts: RunFilesOpts = {}): Result {
    return runWithFiles('/usr/bin/env', ['-C', cwd, this.bin, '--root', this.root, ...args], opts);
  }

  /**
   * Run without blocking this process (it may have to answer the runtime, as
   * a seccomp agent does): `tick` is called every few ms until the command exits.
   */
  async runAsync(args: string[], tick: () => void, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const dir = tmpdir('cli-out-');
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

  /** `state ID` parsed; throws when the runtime fails. */
  state(id: string): JsonObject {
    const r = this.run(['state', id]);
    if (r.code !== 0) throw new Error(`state ${id} failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as JsonObject;
  }

  /** The state, or null when the runtime says the container does not exist. */
  stateOrNull(id: string): JsonObject | null {
    const r = this.run(['state', id]);
    return r.code === 0 ? JSON.parse(r.stdout) as JsonObject : null;
  }

  /** Wait until `id` is in `status` (or `ms` pass); returns whether it is. */
  async waitStatus(id: string, status: string, ms = 10_000): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (this.stateOrNull(id)?.status === status) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.stateOrNull(id)?.status === status;
  }

  /** Wait until the container's process has exited and the runtime reports it stopped. */
  waitStopped(id: string, ms = 15_000): boolean {
    const st = this.stateOrNull(id);
    if (!st) return false;
    if (st.status === 'stopped') return true;
    const pid = Number(st.pid);
    if (pid > 0) waitFor(() => processGone(pid), ms, 10);
    return waitFor(() => this.stateOrNull(id)?.status === 'stopped', 3000, 30);
  }

  /**
   * The engine sequence: create (stdout/stderr of the container go to files),
   * start, wait for the exit, delete. Returns what each step said.
   */
  lifecycle(bundle: string, id: string, opts: RunOpts = {}): { create: Result; start?: Result; delete?: Result; stdout: string; stderr: string } {
    const dir = tmpdir('cli-ctr-');
    const outFd = fs.openSync(path.join(dir, 'out'), 'w+');
    const errFd = fs.openSync(path.join(dir, 'err'), 'w+');
    let start: Result | undefined;
    let del: Result | undefined;
    try {
      const { file, args: argv } = this.argv(['create', '--bundle', bundle, id], opts);
      const r = spawnSync(file, argv, { stdio: ['ignore', outFd, errFd, ...(opts.extraFds ?? [])], timeout: opts.timeoutMs ?? 60_000, env: cleanEnv(opts.env) });
      const create: Result = { code: r.status, signal: r.signal, stdout: '', stderr: fs.readFileSync(path.join(dir, 'err'), 'utf8') };
      if (create.code === 0) {
        start = this.run(['start', id]);
        if (start.code === 0) this.waitStopped(id);
        del = this.run(['delete', '--force', id]);
      }
      return {
        create, start, delete: del,
        stdout: fs.readFileSync(path.join(dir, 'out'), 'utf8'),
        stderr: fs.readFileSync(path.join(dir, 'err'), 'utf8'),
      };
    } finally {
      fs.closeSync(outFd);
      fs.closeSync(errFd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Containers still known under this root (their state directories). */
  ids(): string[] {
    try {
      return fs.readdirSync(this.root).filter((n) => !n.startsWith('.') && fs.statSync(path.join(this.root, n)).isDirectory());
    } catch {
      return [];
    }
  }

  /** Force-delete every container under this root (a paused one is resumed first, runc needs that), remove the root. */
  cleanup(): void {
    for (const id of this.ids()) {
      this.run(['delete', '--force', id]);
      if (fs.existsSync(path.join(this.root, id))) {
        this.run(['resume', id]);
        this.run(['delete', '--force', id]);
      }
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

let seq = 0;
/** A container id unique in this test process. */
export function uniqueId(prefix = 'c'): string {
  return `${prefix}-${process.pid}-${++seq}`;
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function waitFor(pred: () => boolean, ms = 10_000, step = 20): boolean {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    sleepMs(step);
  }
  return pred();
}

/** A process is gone or a zombie (its parent has not reaped it yet). */
export function processGone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/** cgroup dirs anywhere under /sys/fs/cgroup whose name contains `needle`. */
export function findCgroups(needle: string): string[] {
  const r = spawnSync('find', ['/sys/fs/cgroup', '-type', 'd', '-name', `*${needle}*`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

/** Remove every cgroup directory named `name` (and what is below it) in every hierarchy. */
export function removeCgroups(name: string): void {
  spawnSync('sh', ['-c', 'find /sys/fs/cgroup -depth -type d -path "*/$1*" -exec rmdir {} + 2>/dev/null; true', 'sh', name]);
}

/** Live processes (not this one, not zombies) whose command line mentions `needle`. */
export function findProcesses(needle: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(needle) && !processGone(Number(p))) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

/** Namespace inode strings of a process, e.g. { net: 'net:[4026531840]' }. */
export function hostNamespaces(pid: number | 'self' = 'self'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ns of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts']) {
    try { out[ns] = fs.readlinkSync(`/proc/${pid}/ns/${ns}`); } catch { /* no such ns */ }
  }
  return out;
}

/** Shell-quote one word. */
export function shq(s: string): string {
  return /^[A-Za-z0-9_./=:,@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
