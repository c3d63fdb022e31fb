/**
 * The last steps of the init stage: hostname, rlimits, credentials, cwd,
 * executable lookup and execve, with every runtime fd closed on exec.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntsError } from '../common/errors.js';
import * as libc from '../linux/libc.js';
import type { InitPlan, ProcessPlan } from '../plan/init.js';

export function setHostnames(plan: InitPlan): void {
  if (plan.hostname !== undefined) libc.sethostname(plan.hostname);
  if (plan.domainname !== undefined) libc.setdomainname(plan.domainname);
}

export function setRlimits(p: ProcessPlan): void {
  for (const r of p.rlimits) libc.setrlimit(r.resource, BigInt(r.soft), BigInt(r.hard), r.name);
}

export function setCredentials(p: ProcessPlan, userns: boolean): void {
  try {
    libc.setgroups(p.additionalGids);
  } catch (e) {
    // With a user namespace whose setgroups is denied, only an empty list is allowed.
    if (!(userns && p.additionalGids.length === 0)) throw e;
  }
  libc.setresgid(p.gid);
  libc.setresuid(p.uid);
  if (p.umask !== undefined) libc.umask(p.umask);
}

/**
 * Make process.cwd if it is missing (runc does, after pivot_root: every path
 * resolves inside the container's root). A failure names the cwd.
 */
export function makeCwd(cwd: string): void {
  try {
    fs.mkdirSync(cwd, { recursive: true, mode: 0o755 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RuntsError(`process.cwd ${cwd}: cannot create it in the container: ${code ?? (e as Error).message}`, { op: 'mkdir', path: cwd, errno: code, pointer: '/process/cwd' });
  }
}

/** After the chdir to process.cwd: verify we really are inside the container (CVE-2024-21626). */
export function verifyCwd(cwd: string): void {
  const real = libc.getcwd();
  if (!real.startsWith('/')) {
    throw new RuntsError(`process.cwd ${cwd} is outside the container (getcwd: ${real})`, { op: 'chdir', path: cwd });
  }
}

function envValue(env: string[], key: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) {
    const kv = env[i]!;
    if (kv.startsWith(key + '=')) return kv.slice(key.length + 1);
  }
  return undefined;
}

function isExecutableFile(p: string): 'ok' | 'dir' | 'noexec' | NodeJS.ErrnoException {
  try {
    const st = fs.statSync(p);
    if (st.isDirectory()) return 'dir';
    if ((st.mode & 0o111) === 0) return 'noexec';
    return 'ok';
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
}

/**
 * Resolve args[0] the way runc (Go's exec.LookPath) does, with the same
 * error texts, which engines map to exit codes 127/126.
 */
export function lookPath(file: string, env: string[]): string {
  if (file === '') throw new RuntsError('exec: "": executable file not found in $PATH', { op: 'exec' });
  if (file.includes('/')) {
    const r = isExecutableFile(file);
    if (r === 'ok') return file;
    if (r === 'dir') throw new RuntsError(`exec: "${file}": is a directory`, { op: 'exec', path: file, errno: 'EISDIR' });
    if (r === 'noexec') throw new RuntsError(`exec: "${file}": permission denied`, { op: 'exec', path: file, errno: 'EACCES' });
    const text = r.code === 'ENOENT' ? 'no such file or directory' : r.code === 'EACCES' ? 'permission denied' : r.message;
    throw new RuntsError(`exec: "${file}": stat ${file}: ${text}`, { op: 'exec', path: file, errno: r.code });
  }
  const PATH = envValue(env, 'PATH') ?? '';
  for (const dir of PATH.split(':')) {
    const cand = path.join(dir === '' ? '.' : dir, file);
    if (isExecutableFile(cand) === 'ok') return cand;
  }
  throw new RuntsError(`exec: "${file}": executable file not found in $PATH`, { op: 'exec', path: file, errno: 'ENOENT' });
}

/**
 * Hand the container exactly stdio and the preserved fds: node marks fds
 * 0-15 FD_CLOEXEC at start-up; undo that for what the container must get and
 * set it on everything else (close_range), so every runtime fd closes at exec.
 */
export function prepareExecFds(preservedFds: number): void {
  for (let fd = 0; fd < 3 + preservedFds; fd++) {
    try { libc.setCloexec(fd, false); } catch { /* a closed stdio fd stays closed */ }
  }
  libc.closeRangeCloexec(3 + preservedFds);
}

/**
 * HOME, when the config does not set it: the user's home directory from the
 * container's /etc/passwd, or "/" (runc does the same). Called after
 * pivot_root, so /etc/passwd is the container's.
 */
export function withHome(env: string[], uid: number): string[] {
  if (env.some((kv) => kv.startsWith('HOME='))) return env;
  let home = '/';
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 6 && Number(f[2]) === uid && f[2] !== '') { home = f[5] || '/'; break; }
    }
  } catch { /* no passwd file: "/" */ }
  return [...env, `HOME=${home}`];
}
