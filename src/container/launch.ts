/**
 * The one place that starts the bootstrap (csrc/nsboot.c), for `create` and
 * `exec` (docs/protocol.md): the stage's environment, node's command line,
 * and the fds it gets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
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

export interface Launched {
  child: ChildProcess;
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
  const child = spawn(nsboot, args, { stdio: o.stdio, env: {}, cwd: o.cwd });
  child.on('error', () => { /* reported through the sync socket's EOF */ });
  const gone = new Promise<void>((res) => { child.once('exit', () => res()); });
  return { child, gone };
}
