/**
 * The one place that starts the bootstrap (csrc/nsboot.c), for `create` and
 * `exec` (docs/protocol.md): the stage's environment, node's command line,
 * and the fds it gets.
 */
import type * as ChildProcessModule from 'node:child_process';
import * as libc from '../linux/libc.js';
import { BOOT_ENV, STAGE_PATH } from '../protocol/boot-env.js';

export interface LaunchOptions {
  /** nsboot's own options (before the stage's environment and `--`). */
  nsbootArgs: string[];
  /** The stage's environment: BOOT_ENV fds (PATH is added). */
  env: Partial<Record<(typeof BOOT_ENV)[keyof typeof BOOT_ENV], number>>;
  /** node's command line after `node`: its flags and the stage's bundle. */
  node: string[];
  /** fds the child gets, by position (0-2, preserved fds, then the runtime's, in the protocol's order). */
  stdio: (number | 'inherit')[];
  /** How many fds after 0-2 the caller preserves (LISTEN_FDS / --preserve-fds). */
  preservedFds: number;
  /** nsboot's working directory (create: the rootfs, see docs/protocol.md). */
  cwd?: string;
}

/** The spawned nsboot, as create and exec use it. */
export interface Spawned {
  /** undefined when it could not be started. */
  readonly pid: number | undefined;
  /** Started and not yet seen to exit. */
  readonly running: boolean;
  /** SIGKILL it (a failed create or exec). */
  kill(): void;
}

export interface Launched {
  child: Spawned;
  /** Resolves when nsboot has exited (reap it: its zombie would stay, re-parented to an init that may not reap). */
  gone: Promise<void>;
}

/**
 * Spawn nsboot. Fds runts inherited from its caller (not preserved) are
 * marked close-on-exec first, so they reach neither nsboot, the stage, nor
 * the hooks it runs; the fds in `stdio` are dup'ed into place by the spawn.
 * A failure to start is reported through the sync socket's EOF.
 */
export function launchNsboot(nsboot: string, o: LaunchOptions): Launched {
  const env = [`PATH=${STAGE_PATH}`, ...Object.entries(o.env).map(([k, v]) => `${k}=${v}`)];
  const args = [...o.nsbootArgs, ...env.flatMap((e) => ['-e', e]), '--', process.execPath, 'node', ...o.node];
  libc.closeRangeCloexec(3 + o.preservedFds);
  return spawnWithFds(nsboot, args, o.stdio, o.cwd);
}

// libuv's process handle, as node's child_process uses it (lib/internal/child_process.js)
interface ProcessHandle {
  pid?: number;
  onexit: (exitStatus: number, signal: string) => void;
  spawn(options: object): number;
  kill(signal: number): number;
  close(): void;
}

/** node's process_wrap binding; undefined where this node has none (child_process is used then). */
function processWrap(): (new () => ProcessHandle) | undefined {
  const quiet = process.noDeprecation;
  process.noDeprecation = true; // process.binding warns only with --pending-deprecation
  try {
    const P = (process as unknown as { binding(name: string): { Process?: unknown } }).binding('process_wrap').Process;
    return typeof P === 'function' ? (P as new () => ProcessHandle) : undefined;
  } catch {
    return undefined;
  } finally {
    process.noDeprecation = quiet;
  }
}

/** Whether spawnWithFds uses libuv's process handle here (else child_process). */
export const hasProcessHandle = (): boolean => processWrap() !== undefined;

const SIGKILL = 9;

/**
 * Start `file` with `args`, an empty environment and exactly the fds of
 * `stdio`, and watch for its exit. node's child_process would load net,
 * stream and dgram (~5 ms of every create and exec) for pipes the runtime
 * never asks for: this drives libuv's process handle the way child_process
 * does (the same spawn), falling back to child_process where the binding is
 * not there.
 */
export function spawnWithFds(file: string, args: string[], stdio: (number | 'inherit')[], cwd?: string): Launched {
  const Process = processWrap();
  if (!Process) return spawnWithChildProcess(file, args, stdio, cwd);
  let exited!: () => void;
  const gone = new Promise<void>((res) => { exited = res; });
  const handle = new Process();
  const child = { pid: undefined as number | undefined, running: false, kill: () => {} };
  handle.onexit = () => {
    child.running = false;
    handle.close();
    exited();
  };
  const err = handle.spawn({
    file,
    args: [file, ...args],
    cwd,
    envPairs: [],
    stdio: stdio.map((s, i) => (s === 'inherit' ? { type: 'inherit', fd: i } : { type: 'fd', fd: s })),
    detached: false,
    windowsHide: false,
    windowsVerbatimArguments: false,
  });
  if (err !== 0) {
    // not started (ENOENT, EACCES, EAGAIN...): the caller sees the sync socket's EOF
    handle.close();
    exited();
    return { child, gone };
  }
  child.pid = handle.pid;
  child.running = true;
  child.kill = () => { if (child.running) handle.kill(SIGKILL); };
  return { child, gone };
}

function spawnWithChildProcess(file: string, args: string[], stdio: (number | 'inherit')[], cwd?: string): Launched {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cp = require('node:child_process') as typeof ChildProcessModule;
  const c = cp.spawn(file, args, { stdio, env: {}, cwd });
  c.on('error', () => { /* reported through the sync socket's EOF */ });
  const gone = new Promise<void>((res) => { c.once('exit', () => res()); });
  const child: Spawned = {
    get pid() { return c.pid; },
    get running() { return c.pid !== undefined && c.exitCode === null && c.signalCode === null; },
    kill: () => { try { c.kill('SIGKILL'); } catch { /* gone */ } },
  };
  return { child, gone };
}
