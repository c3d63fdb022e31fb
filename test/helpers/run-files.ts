/**
 * Run a command to completion with its stdout and stderr going to temp files,
 * not pipes: a container created by the command inherits them and may outlive
 * it, so a pipe would never reach EOF. Shared by the test harness
 * (test/helpers/runts.ts) and the conformance harness (conformance/lib/runtime.ts).
 */
import { spawnSync, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/**
 * The caller's environment without what must not reach runts (node options,
 * the CA bundle node would load at every start, socket activation);
 * `extra` adds variables, and an empty value removes one.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  Object.assign(env, extra);
  for (const k of Object.keys(extra)) if (extra[k] === '') delete env[k];
  return env;
}

export interface RunFilesOpts {
  /** 'ignore' (default: /dev/null), a file path whose contents become stdin, or an open fd. */
  stdin?: 'ignore' | { file: string } | { fd: number };
  env?: Record<string, string>;
  timeoutMs?: number;
  /** fds given to the command at 3, 4, ... */
  extraFds?: number[];
}

export function runWithFiles(file: string, argv: string[], opts: RunFilesOpts = {}): Result {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-out-'));
  const outFd = fs.openSync(path.join(dir, 'out'), 'w+');
  const errFd = fs.openSync(path.join(dir, 'err'), 'w+');
  let inFd: number | 'ignore' = 'ignore';
  let closeIn = false;
  if (opts.stdin && typeof opts.stdin === 'object') {
    if ('fd' in opts.stdin) inFd = opts.stdin.fd;
    else { inFd = fs.openSync(opts.stdin.file, 'r'); closeIn = true; }
  }
  try {
    const stdio: StdioOptions = [inFd, outFd, errFd, ...(opts.extraFds ?? [])];
    const r = spawnSync(file, argv, { stdio, timeout: opts.timeoutMs ?? 60_000, env: cleanEnv(opts.env) });
    return {
      code: r.status,
      signal: r.signal,
      stdout: fs.readFileSync(path.join(dir, 'out'), 'utf8'),
      stderr: fs.readFileSync(path.join(dir, 'err'), 'utf8'),
    };
  } finally {
    fs.closeSync(outFd);
    fs.closeSync(errFd);
    if (closeIn) fs.closeSync(inFd as number);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
