/**
 * Run OCI hooks: `path` executed with `args` (args[0] is argv[0]), only the
 * hook's own `env`, the container state JSON on stdin, and `timeout`
 * seconds after which the hook's whole process tree is killed.
 *
 * Working directory, as runc gives it: the bundle for the hooks the runtime
 * runs from create, start and run (prestart, createRuntime, poststart, and
 * poststop after run), the container's rootfs for createContainer (the init
 * runs them before pivot_root; hooks that bind files into the image use
 * relative paths), and the caller's for poststop from delete. A directory
 * that no longer exists leaves the runtime's own.
 */
import type * as ChildProcessModule from 'node:child_process';
import * as fs from 'node:fs';
import { RuntsError } from '../common/errors.js';
import { killTree } from '../linux/proctree.js';
import type { Hook, HookName, State } from '../spec/types.js';

export class HookError extends RuntsError {}

// node:child_process (with net, dgram, stream: ~10 ms) only when a hook runs: the init stage loads this file
let cp: typeof ChildProcessModule | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const childProcess = (): typeof ChildProcessModule => (cp ??= require('node:child_process') as typeof ChildProcessModule);

function tail(s: string): string {
  const t = s.trim();
  return t.length > 500 ? '…' + t.slice(-500) : t;
}

export interface HookOptions {
  /** Working directory of the hook (default: the runtime's). */
  cwd?: string;
}

function usableDir(dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  try { return fs.statSync(dir).isDirectory() ? dir : undefined; } catch { return undefined; }
}

export function runHook(phase: HookName, index: number, hook: Hook, state: State, opts: HookOptions = {}): Promise<void> {
  const what = `${phase} hook #${index} (${hook.path})`;
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const kv of hook.env ?? []) {
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const args = hook.args ?? [hook.path];
    const child = childProcess().spawn(hook.path, args.slice(1), {
      argv0: args[0] ?? hook.path,
      env,
      cwd: usableDir(opts.cwd),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.stdin.on('error', () => { /* the hook may not read its stdin */ });
    const timer = hook.timeout
      ? setTimeout(() => { timedOut = true; if (child.pid) killTree(child.pid); }, hook.timeout * 1000)
      : undefined;
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      reject(new HookError(`${what}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`, { op: phase, path: hook.path, errno: e.code }));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      // Whatever the hook left running in its process group goes too.
      if (child.pid) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none left */ } }
      if (timedOut) return reject(new HookError(`${what}: timed out after ${hook.timeout} s`, { op: phase, path: hook.path }));
      if (code === 0) return resolve();
      const how = signal ? `killed by ${signal}` : `exited with status ${code}`;
      const text = tail(out);
      reject(new HookError(`${what}: ${how}${text ? ': ' + text : ''}`, { op: phase, path: hook.path }));
    });
    child.stdin.end(JSON.stringify(state));
  });
}

/** Run the hooks of one phase in order; the first failure stops and throws. */
export async function runHooks(phase: HookName, hooks: Hook[] | undefined, state: State, opts: HookOptions = {}): Promise<void> {
  let i = 0;
  for (const h of hooks ?? []) await runHook(phase, i++, h, state, opts);
}

/** Run every hook even if some fail; return the failures (for poststop). */
export async function runHooksCollectingErrors(phase: HookName, hooks: Hook[] | undefined, state: State, opts: HookOptions = {}): Promise<Error[]> {
  const errs: Error[] = [];
  let i = 0;
  for (const h of hooks ?? []) {
    try { await runHook(phase, i, h, state, opts); } catch (e) { errs.push(e as Error); }
    i++;
  }
  return errs;
}

/**
 * How long a step that runs these hooks may take: `baseMs` plus every hook's
 * timeout, or undefined (no bound) when a hook has none — a hook without a
 * timeout may legitimately run as long as it likes.
 */
export function stepTimeoutMs(baseMs: number, hooks: Hook[] | undefined): number | undefined {
  let ms = baseMs;
  for (const h of hooks ?? []) {
    if (!h.timeout) return undefined;
    ms += h.timeout * 1000;
  }
  return ms;
}
