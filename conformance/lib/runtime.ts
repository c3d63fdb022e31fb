/**
 * Drive an OCI runtime through its command line only, the way an engine does.
 * The runtime under test is runts (dist/runts.cjs); CONFORMANCE_RUNTIME=/path
 * points the same suite at another runc-compatible binary (e.g. /usr/sbin/runc)
 * to check the tests themselves against a reference implementation.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, hostMountsUnder, makeBusyboxRootfs, sharedRootfs, tmpdir as helperTmpdir } from '../../test/helpers/rootfs.js';
import { cleanEnv, runWithFiles, type Result, type RunFilesOpts } from '../../test/helpers/run-files.js';

export const RUNTS = path.resolve(__dirname, '../../dist/runts.cjs');
export const RUNTIME = process.env.CONFORMANCE_RUNTIME ? path.resolve(process.env.CONFORMANCE_RUNTIME) : RUNTS;
export const RUNTIME_NAME = path.basename(RUNTIME) === 'runts.cjs' ? 'runts' : path.basename(RUNTIME);
export const IS_RUNTS = RUNTIME === RUNTS;

/** Why these tests cannot run here, or false. */
export function cannotRun(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!fs.existsSync(BUSYBOX)) return 'needs busybox-static';
  if (!fs.existsSync(RUNTIME)) return `runtime ${RUNTIME} not built (node scripts/build.mjs)`;
  return false;
}

export { cleanEnv };

export function tmpdir(prefix = 'conf-'): string {
  return helperTmpdir(prefix);
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

export type { Result };

export interface RunOpts extends RunFilesOpts {
  /** Run the runtime through this executable (e.g. a node binary) instead of directly. */
  via?: string;
  /** A command that execs its arguments ("$@"): runs before the runtime, e.g. to change an inherited attribute. */
  prefix?: string[];
  /** Global flags instead of ['--root', root]. */
  global?: string[];
}

type JsonObject = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export class Runtime {
  readonly root: string;
  constructor(root?: string) {
    this.root = root ?? tmpdir('conf-root-');
  }

  argv(args: string[], opts: RunOpts = {}): { file: string; args: string[] } {
    const full = [...(opts.global ?? ['--root', this.root]), ...args];
    const cmd = opts.via ? [opts.via, RUNTIME, ...full] : [RUNTIME, ...full];
    const all = [...(opts.prefix ?? []), ...cmd];
    return { file: all[0]!, args: all.slice(1) };
  }

  /**
   * Run the runtime to completion; stdout and stderr go to files (a container
   * created here inherits them and may outlive the command).
   */
  run(args: string[], opts: RunOpts = {}): Result {
    const { file, args: argv } = this.argv(args, opts);
    return runWithFiles(file, argv, opts);
  }

  /** Start the runtime without waiting. */
  spawn(args: string[], opts: RunOpts & { stdio?: StdioOptions } = {}): ChildProcess {
    const { file, args: argv } = this.argv(args, opts);
    return spawn(file, argv, { env: cleanEnv(opts.env), stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'] });
  }

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
    const dir = tmpdir('conf-ctr-');
    const outFd = fs.openSync(path.join(dir, 'out'), 'w+');
    const errFd = fs.openSync(path.join(dir, 'err'), 'w+');
    let create: Result;
    let start: Result | undefined;
    let del: Result | undefined;
    try {
      const { file, args: argv } = this.argv(['create', '--bundle', bundle, id], opts);
      const r = spawnSync(file, argv, { stdio: ['ignore', outFd, errFd, ...(opts.extraFds ?? [])], timeout: opts.timeoutMs ?? 60_000, env: cleanEnv(opts.env) });
      create = { code: r.status, signal: r.signal, stdout: '', stderr: fs.readFileSync(path.join(dir, 'err'), 'utf8') };
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

  /** Remove every container left under this root. */
  cleanup(): void {
    let ids: string[] = [];
    const r = this.run(['list', '--format', 'json']);
    try { ids = (JSON.parse(r.stdout || '[]') as { id: string }[] | null ?? []).map((c) => c.id); } catch { /* none */ }
    for (const id of ids) this.run(['delete', '--force', id]);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

let seq = 0;
export function uniqueId(prefix = 'c'): string {
  return `${prefix}-${process.pid}-${++seq}`;
}

export const DEFAULT_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'];

/** A minimal valid Linux config over a busybox rootfs (runc spec's mounts, no resources). */
export function baseConfig(rootfs: string, args: string[]): JsonObject {
  return {
    ociVersion: '1.3.0',
    root: { path: rootfs, readonly: true },
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: [...DEFAULT_ENV],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    hostname: 'conformance',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

export interface Bundle { dir: string; config: JsonObject; rootfs: string; configPath: string }

export interface BundleOpts {
  args?: string[];
  mutate?: (cfg: JsonObject, b: { dir: string; rootfs: string }) => void;
  /** A private rootfs (inside the bundle) that the test may modify; default: a shared read-only one. */
  privateRootfs?: boolean | ((rootfs: string) => void);
}

const bundles: string[] = [];
/** Remove every bundle made so far (check.ts calls it at the end of a test file). */
export function cleanupBundles(): void {
  for (const d of bundles.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}
process.on('exit', cleanupBundles);

/** Write a bundle dir with config.json. */
export function makeBundle(opts: BundleOpts = {}): Bundle {
  const dir = tmpdir('conf-bundle-');
  bundles.push(dir);
  let rootfs = sharedRootfs();
  if (opts.privateRootfs) {
    rootfs = path.join(dir, 'rootfs');
    fs.mkdirSync(rootfs);
    makeBusyboxRootfs(rootfs);
    if (typeof opts.privateRootfs === 'function') opts.privateRootfs(rootfs);
  }
  const config = baseConfig(rootfs, opts.args ?? ['true']);
  opts.mutate?.(config, { dir, rootfs });
  const configPath = path.join(dir, 'config.json');
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  return { dir, config, rootfs, configPath };
}

export function rewriteConfig(b: Bundle): void {
  fs.writeFileSync(b.configPath, JSON.stringify(b.config, null, 2));
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

/** Processes whose command line mentions `needle` (not this one). */
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

export { hostMountsUnder };

/** Namespace inode strings of this process, e.g. { net: 'net:[4026531840]' }. */
export function hostNamespaces(pid: number | 'self' = 'self'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ns of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts']) {
    try { out[ns] = fs.readlinkSync(`/proc/${pid}/ns/${ns}`); } catch { /* no such ns */ }
  }
  return out;
}
