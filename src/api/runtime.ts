/**
 * `Runtime`: the library's one class. Two kinds of operation (README.md, "Using runts from Node"):
 * - in the caller's process, the ones that only read state or make one short
 *   syscall: state, list, kill, pause, resume (the functions of
 *   src/state and src/container the CLI calls);
 * - through the CLI (dist/runts.cjs, a child process with the caller's node),
 *   the ones that must not run inside a long-lived, multi-threaded caller:
 *   create and exec spawn nsboot after marking every inherited fd
 *   close-on-exec and block on the init's socket; run makes its process a
 *   child subreaper, installs signal handlers and waits; start, delete and
 *   update run hooks or block on the init; events polls until the container
 *   stops. Their errors come back typed through $RUNTS_ERROR_FILE
 *   (recordError in src/common/errors.ts).
 */
import { spawn, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, type ErrorRecord, errnoNumber, RuntsError, SyscallError } from '../common/errors.js';
import { packageRoot } from '../common/paths.js';
import type { Process, Resources, State } from '../spec/types.js';
import { Store } from '../state/store.js';
import { stateRoot } from '../container/rootless.js';

export interface RuntimeOptions {
  /** State directory (the CLI's --root); default /run/runts. */
  root?: string;
  /** The runts CLI to spawn; default this package's dist/runts.cjs, run with this process's node. */
  runts?: string;
  /** The CLI's --log file (its --log-format json lines). */
  log?: string;
  debug?: boolean;
}

/** A stdio setting as node's child_process takes it, for the container's process (run, exec). */
export type StdioOption = StdioOptions;

export interface CreateOptions {
  /** The bundle directory (holding config.json); default the current directory. */
  bundle?: string;
  /** An AF_UNIX socket path that receives the pty master (process.terminal). */
  consoleSocket?: string;
  pidFile?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** Pass fds 3..3+N-1 of the spawned CLI (give them in `stdio`). */
  preserveFds?: number;
  /**
   * The container process's stdio (create: it inherits the CLI's, as from runc; default 'ignore', /dev/null).
   * Only the error, not the CLI's other messages, comes back then.
   */
  stdio?: StdioOption;
}

export interface RunOptions extends CreateOptions {
  /** The container process's stdio (default 'inherit'). 'pipe' collects into RunResult.stdout/stderr. */
  stdio?: StdioOption;
  /** Stream the container's output here as it comes (implies a pipe for that stream). */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Aborting sends SIGTERM to the run, which forwards it to the container. */
  signal?: AbortSignal;
  /** Keep the stopped container (default: deleted after it exits). */
  keep?: boolean;
  /** Return once the container started (exitCode 0) instead of waiting. */
  detach?: boolean;
}

export interface RunResult {
  /** The container's exit status (128+N when killed by signal N), as `runts run` exits. */
  exitCode: number;
  /** The collected output, when its stdio was 'pipe'. */
  stdout?: Buffer;
  stderr?: Buffer;
}

export interface ExecOptions {
  stdio?: StdioOption;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  signal?: AbortSignal;
  detach?: boolean;
  consoleSocket?: string;
  pidFile?: string;
  /** A sub-cgroup of the container's to run the process in. */
  cgroup?: string;
  ignorePaused?: boolean;
}

export type ExecResult = RunResult;

export interface KillOptions { all?: boolean }
export interface DeleteOptions { force?: boolean }
export interface EventsOptions {
  /** Stats interval as a Go duration ("5s", "500ms"); default 5s. */
  interval?: string;
}

/** One line of `runts events`: stats at each interval, oom when the kernel OOM-killed in the container. */
export interface ContainerEvent {
  type: 'stats' | 'oom' | string;
  id: string;
  data?: Record<string, unknown>;
}

const ERROR_CLASSES: Record<string, typeof RuntsError> = { SyscallError, ConfigError } as unknown as Record<string, typeof RuntsError>;

/** The typed error a spawned CLI recorded (or one built from its stderr). */
function reviveError(rec: ErrorRecord & { name?: string }, op: string): RuntsError {
  const e = new RuntsError(rec.message, { ...rec, op: rec.op ?? op });
  const cls = rec.name ? ERROR_CLASSES[rec.name] : undefined;
  if (cls) {
    Object.setPrototypeOf(e, cls.prototype);
    e.name = rec.name!;
    if (cls === (SyscallError as unknown) && rec.errno) (e as unknown as { code?: number }).code = errnoNumber(rec.errno);
  }
  return e;
}

function lastErrorLine(stderr: string): string | undefined {
  const lines = stderr.split('\n').filter((l) => l.startsWith('runts: ') && !l.startsWith('runts: warning:') && !l.startsWith('runts: debug:'));
  return lines.at(-1)?.slice('runts: '.length);
}

interface CliResult { code: number; stdout?: Buffer; stderr?: Buffer }

export class Runtime {
  readonly root: string;
  private readonly cli: string;

  constructor(private readonly opts: RuntimeOptions = {}) {
    this.root = stateRoot(opts.root);
    this.cli = opts.runts ?? path.join(packageRoot(), 'dist', 'runts.cjs');
  }

  private store(): Store {
    return new Store(this.root);
  }

  private globals(): string[] {
    const g = ['--root', this.root];
    if (this.opts.log) g.push('--log', this.opts.log, '--log-format', 'json');
    if (this.opts.debug) g.push('--debug');
    return g;
  }

  /**
   * Run the CLI. Without `stdio` (the lifecycle commands) its output goes to
   * temp files, never pipes: a container it creates inherits them and may
   * outlive it. With `stdio` (run, exec: the container's process) the
   * caller's choice is used, and pipes are drained unless detached. Typed
   * errors come back through $RUNTS_ERROR_FILE.
   */
  private async spawnCli(op: string, args: string[], o: {
    stdio?: StdioOption; stdin?: string; stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream; signal?: AbortSignal;
    /** the command's own exit code is a result (run, exec), not a failure */
    exitIsResult?: boolean;
    detach?: boolean;
  } = {}): Promise<CliResult> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-api-'));
    const errFile = path.join(tmp, 'error.json');
    const fds: number[] = [];
    try {
      let base: unknown[];
      const own = o.stdio === undefined;
      if (own) {
        const file = (name: string) => { const fd = fs.openSync(path.join(tmp, name), 'w+', 0o600); fds.push(fd); return fd; };
        base = [o.stdin !== undefined ? 'pipe' : 'ignore', file('stdout'), file('stderr')];
      } else {
        base = typeof o.stdio === 'string' ? [o.stdio, o.stdio, o.stdio] : [...(o.stdio as unknown[])];
        while (base.length < 3) base.push('ignore');
        if (o.stdout) base[1] = 'pipe';
        if (o.stderr) base[2] = 'pipe';
      }
      const child = spawn(process.execPath, [this.cli, ...this.globals(), ...args], {
        stdio: base as StdioOptions,
        env: { ...process.env, RUNTS_ERROR_FILE: errFile },
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const ends: Promise<void>[] = [];
      const drain = (s: NodeJS.ReadableStream | null, to: NodeJS.WritableStream | undefined, into: Buffer[]) => {
        if (!s) return;
        s.on('data', (b: Buffer) => (to ? to.write(b) : into.push(b)));
        ends.push(new Promise<void>((res) => { s.once('end', res); s.once('error', () => res()); s.once('close', res); }));
      };
      drain(child.stdout, o.stdout, out);
      drain(child.stderr, o.stderr, err);
      if (o.stdin !== undefined) child.stdin?.end(o.stdin);
      const onAbort = () => { child.kill('SIGTERM'); };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      const code = await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (c, sig) => resolve(c ?? 128 + (os.constants.signals[sig as NodeJS.Signals] ?? 0)));
      }).finally(() => o.signal?.removeEventListener('abort', onAbort));
      // the process's output ends with it, unless it was detached (then what came so far)
      if (!o.detach) await Promise.all(ends);
      else { child.stdout?.destroy(); child.stderr?.destroy(); }
      const stdout = own ? fs.readFileSync(path.join(tmp, 'stdout')) : child.stdout && !o.stdout ? Buffer.concat(out) : undefined;
      const stderr = own ? fs.readFileSync(path.join(tmp, 'stderr')) : child.stderr && !o.stderr ? Buffer.concat(err) : undefined;
      let rec: (ErrorRecord & { name?: string }) | undefined;
      try {
        rec = JSON.parse(fs.readFileSync(errFile, 'utf8'));
      } catch { /* no typed error recorded */ }
      if (rec) throw reviveError(rec, op);
      if (code !== 0 && !o.exitIsResult) {
        throw new RuntsError(lastErrorLine(stderr?.toString() ?? '') ?? `runts ${op} exited with status ${code}`, { op });
      }
      return { code, stdout, stderr };
    } finally {
      for (const fd of fds) fs.closeSync(fd);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  private static createArgs(o: CreateOptions): string[] {
    const a = ['--bundle', path.resolve(o.bundle ?? process.cwd())];
    if (o.consoleSocket) a.push('--console-socket', o.consoleSocket);
    if (o.pidFile) a.push('--pid-file', o.pidFile);
    if (o.noPivot) a.push('--no-pivot');
    if (o.noNewKeyring) a.push('--no-new-keyring');
    if (o.preserveFds) a.push('--preserve-fds', String(o.preserveFds));
    return a;
  }

  /**
   * `runts create`: the container is `created`, its process waits for start().
   * Its stdio is `o.stdio` (default /dev/null), or the pty sent to `consoleSocket`.
   */
  async create(id: string, o: CreateOptions = {}): Promise<void> {
    // never pipes: the container keeps them open after the CLI exits
    await this.spawnCli('create', ['create', ...Runtime.createArgs(o), '--', id], { stdio: o.stdio ?? 'ignore', detach: true });
  }

  /** `runts start`. */
  async start(id: string): Promise<void> {
    await this.spawnCli('start', ['start', '--', id]);
  }

  /**
   * `runts run`: create, start, wait; the container's stdio is `stdio`
   * (default inherited from this process). Resolves to its exit status.
   */
  async run(id: string, o: RunOptions = {}): Promise<RunResult> {
    const args = ['run', ...Runtime.createArgs(o)];
    if (o.detach) args.push('--detach');
    if (o.keep) args.push('--keep');
    const r = await this.spawnCli('run', [...args, '--', id], { stdio: o.stdio ?? 'inherit', stdout: o.stdout, stderr: o.stderr, signal: o.signal, exitIsResult: true, detach: o.detach });
    return { exitCode: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  /** `runts exec --process`: run `process` (the spec's Process) in the container; resolves to its exit status. */
  async exec(id: string, proc: Process, o: ExecOptions = {}): Promise<ExecResult> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-api-exec-'));
    try {
      const file = path.join(tmp, 'process.json');
      fs.writeFileSync(file, JSON.stringify(proc), { mode: 0o600 });
      const args = ['exec', '--process', file];
      if (o.detach) args.push('--detach');
      if (o.consoleSocket) args.push('--console-socket', o.consoleSocket);
      if (o.pidFile) args.push('--pid-file', o.pidFile);
      if (o.cgroup) args.push('--cgroup', o.cgroup);
      if (o.ignorePaused) args.push('--ignore-paused');
      const r = await this.spawnCli('exec', [...args, '--', id], { stdio: o.stdio ?? 'inherit', stdout: o.stdout, stderr: o.stderr, signal: o.signal, exitIsResult: true, detach: o.detach });
      return { exitCode: r.code, stdout: r.stdout, stderr: r.stderr };
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** The state JSON of runtime.md (read in this process). */
  async state(id: string): Promise<State> {
    const { stateOf } = await import('../state/status.js');
    const s = this.store();
    return stateOf(s, s.mustRead(id));
  }

  /** Every container under the root (read in this process). */
  async list(): Promise<State[]> {
    const { listContainers } = await import('../container/list.js');
    return listContainers(this.store());
  }

  /** Signal the container's init (or, with all, every process in its cgroup): in this process, through a pidfd. */
  async kill(id: string, signal: string | number = 'SIGTERM', o: KillOptions = {}): Promise<void> {
    const { killContainer } = await import('../container/kill.js');
    const { parseSignal } = await import('../linux/signals.js');
    killContainer(this.store(), id, typeof signal === 'number' ? signal : parseSignal(signal), o.all === true);
  }

  /** `runts delete [--force]` (runs poststop hooks, removes cgroups). */
  async delete(id: string, o: DeleteOptions = {}): Promise<void> {
    await this.spawnCli('delete', ['delete', ...(o.force ? ['--force'] : []), '--', id]);
  }

  /** Freeze the container's cgroup (in this process). */
  async pause(id: string): Promise<void> {
    const { pauseContainer } = await import('../container/pause.js');
    pauseContainer(this.store(), id);
  }

  async resume(id: string): Promise<void> {
    const { resumeContainer } = await import('../container/pause.js');
    resumeContainer(this.store(), id);
  }

  /** `runts update --resources -`: apply the spec's LinuxResources to the running container. */
  async update(id: string, resources: Resources): Promise<void> {
    await this.spawnCli('update', ['update', '--resources', '-', '--', id], { stdin: JSON.stringify(resources) });
  }

  /** One stats event now (`runts events --stats`). */
  async stats(id: string): Promise<ContainerEvent> {
    const r = await this.spawnCli('events', ['events', '--stats', '--', id]);
    return JSON.parse(r.stdout!.toString()) as ContainerEvent;
  }

  /**
   * `runts events`: stats every interval and oom events, until the container
   * stops or the loop is left (the CLI is then stopped).
   */
  async *events(id: string, o: EventsOptions = {}): AsyncGenerator<ContainerEvent, void, undefined> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-api-'));
    const errFile = path.join(tmp, 'error.json');
    const child = spawn(process.execPath, [this.cli, ...this.globals(), 'events', '--interval', o.interval ?? '5s', '--', id], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUNTS_ERROR_FILE: errFile },
    });
    const stderr: Buffer[] = [];
    child.stderr!.on('data', (b: Buffer) => stderr.push(b));
    const closed = new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? 1)));
    try {
      let rest = '';
      for await (const chunk of child.stdout!) {
        rest += (chunk as Buffer).toString();
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, nl);
          rest = rest.slice(nl + 1);
          if (line.trim()) yield JSON.parse(line) as ContainerEvent;
        }
      }
      const code = await closed;
      let rec: (ErrorRecord & { name?: string }) | undefined;
      try { rec = JSON.parse(fs.readFileSync(errFile, 'utf8')); } catch { /* none */ }
      if (rec) throw reviveError(rec, 'events');
      if (code !== 0) throw new RuntsError(lastErrorLine(Buffer.concat(stderr).toString()) ?? `runts events exited with status ${code}`, { op: 'events' });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await closed;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
}
