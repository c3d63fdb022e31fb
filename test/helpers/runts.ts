/**
 * Drive the built runts binary (dist/runts.cjs) the way an engine does, with
 * a private --root per test file, and check that nothing is left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sharedRootfs, tmpdir } from './rootfs.js';
import { cleanEnv, runWithFiles, type Result, type RunFilesOpts } from './run-files.js';

export const RUNTS = path.resolve(__dirname, '../../dist/runts.cjs');

export { cleanEnv, type Result } from './run-files.js';

export class Runts {
  readonly root: string;
  constructor() {
    this.root = tmpdir('runts-root-');
  }

  /**
   * Run runts to completion. Output is captured through temp files, not pipes:
   * a container created here inherits runts's stdio and may outlive it.
   */
  run(args: string[], opts: RunFilesOpts = {}): Result {
    return runWithFiles(RUNTS, ['--root', this.root, ...args], opts);
  }

  /** Start runts without waiting (for commands that block: run, create with a console socket). */
  spawn(args: string[], env: Record<string, string> = {}) {
    return spawn(RUNTS, ['--root', this.root, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  }

  state(id: string): Record<string, unknown> {
    const r = this.run(['state', id]);
    if (r.code !== 0) throw new Error(`state ${id} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  /** Remove every container left under this root (test teardown). */
  cleanup(): void {
    let ids: string[] = [];
    try { ids = fs.readdirSync(this.root).filter((n) => !n.startsWith('.')); } catch { /* no root */ }
    for (const id of ids) this.run(['delete', '--force', id]);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

export interface BundleOptions {
  args?: string[];
  mutate?: (cfg: Record<string, any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  rootfs?: string;
}

/** A minimal, valid Linux config over the shared busybox rootfs. */
export function baseConfig(rootfs: string, args: string[]): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return {
    ociVersion: '1.3.0',
    root: { path: rootfs, readonly: true },
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    hostname: 'runts-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    },
  };
}

/** Write a bundle dir with config.json; returns its path. */
const bundles: string[] = [];
process.on('exit', () => { for (const b of bundles) fs.rmSync(b, { recursive: true, force: true }); });

export function makeBundle(opts: BundleOptions = {}): string {
  const dir = tmpdir('runts-bundle-');
  bundles.push(dir);
  const cfg = baseConfig(opts.rootfs ?? sharedRootfs(), opts.args ?? ['/bin/true']);
  opts.mutate?.(cfg);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  return dir;
}

let seq = 0;
export function uniqueId(prefix = 't'): string {
  return `${prefix}-${process.pid}-${++seq}`;
}

/** cgroup dirs anywhere under /sys/fs/cgroup whose name contains `needle`. */
export function findCgroups(needle: string): string[] {
  const r = spawnSync('find', ['/sys/fs/cgroup', '-type', 'd', '-name', `*${needle}*`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

/** Processes whose command line mentions `needle`. */
export function findProcesses(needle: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(needle)) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}
