/**
 * A private, throw-away dockerd (Debian's docker.io 20.10) with runts added as
 * a runtime: its own data root, exec root, pidfile, trust key, unix socket and
 * managed containerd (state under the exec root, root under the data root),
 * no bridge and no iptables (host networking is not touched), vfs storage and
 * a cgroup parent of its own. The image is a busybox rootfs tar given to
 * `docker import` (no registry). The docker CLI gets its own config dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpdir, waitFor } from '../lib/runtime.js';
import { type Exec, makeWrapper, rootfsTar, run, stopDaemon, sweep, type Wrapper } from './lib.js';

export class Docker {
  readonly dir: string;
  readonly wrapper: Wrapper;
  readonly sock: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cgroupParent = `conf-docker-${process.pid}`;
  readonly image = 'conf-busybox:latest';
  /** Where dockerd points every runtime's --root (runtime-runc/moby, for runts too). */
  readonly stateRoot: string;
  private daemon: ChildProcess | null = null;
  private left: string[] | null = null;
  /**
   * Host-wide paths dockerd 20.10 and its containerd 1.6 use whatever the flags say:
   * plugin sockets, the shims' sockets, ctr's fifo dir, and /etc/docker for the
   * libtrust key.json (no flag moves it in 20.10). New entries are removed, and the
   * directories when they did not exist before; all but a new key.json are reported.
   */
  private static readonly fixedDirs = ['/run/docker/plugins', '/run/docker', '/run/containerd/s', '/run/containerd/fifo', '/run/containerd', '/etc/docker'];
  private readonly before: Map<string, string[] | null>;

  constructor() {
    this.dir = tmpdir('conf-docker-');
    this.wrapper = makeWrapper(this.dir);
    this.sock = path.join(this.dir, 'docker.sock');
    this.stateRoot = path.join(this.dir, 'exec/runtime-runc/moby');
    this.before = new Map(Docker.fixedDirs.map((d) => [d, fs.existsSync(d) ? fs.readdirSync(d) : null]));
    // an empty daemon.json: /etc/docker/daemon.json must not apply
    fs.writeFileSync(path.join(this.dir, 'daemon.json'), '{}\n');
    this.env = { ...process.env, DOCKER_HOST: `unix://${this.sock}`, DOCKER_CONFIG: path.join(this.dir, 'cli') };
    delete this.env.NODE_OPTIONS;
    process.once('exit', () => { this.teardown(); });
  }

  start(): boolean {
    const d = this.dir;
    const log = fs.openSync(path.join(d, 'dockerd.log'), 'w');
    this.daemon = spawn('dockerd', [
      '--config-file', path.join(d, 'daemon.json'),
      '--data-root', path.join(d, 'data'),
      '--exec-root', path.join(d, 'exec'),
      '--pidfile', path.join(d, 'dockerd.pid'),
      '-H', `unix://${this.sock}`,
      '--bridge', 'none', '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--userland-proxy=false',
      '--storage-driver', 'vfs',
      '--cgroup-parent', this.cgroupParent,
      '--add-runtime', `runts=${this.wrapper.path}`,
      '--default-runtime', 'runts',
    ], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    return waitFor(() => fs.existsSync(this.sock) && this.docker(['version']).code === 0, 60_000, 200);
  }

  docker(args: string[], opts: { timeoutMs?: number; input?: string } = {}): Exec {
    return run('docker', args, { env: this.env, ...opts });
  }

  importImage(): Exec {
    return this.docker(['import', '--change', 'CMD ["sh"]', rootfsTar(this.dir), this.image]);
  }

  /** The host pid of a running container's init. */
  pid(name: string): number {
    return Number(this.docker(['inspect', '-f', '{{.State.Pid}}', name]).stdout.trim());
  }

  /** docker inspect -f FORMAT NAME, trimmed. */
  inspect(name: string, format: string): string {
    return this.docker(['inspect', '-f', format, name]).stdout.trim();
  }

  log(): string {
    try { return fs.readFileSync(path.join(this.dir, 'dockerd.log'), 'utf8'); } catch { return ''; }
  }

  /** Remove every container and the image, stop dockerd (and its containerd), then sweep; what was still there is reported. Runs once. */
  teardown(): string[] {
    if (this.left) return this.left;
    this.left = [];
    const left: string[] = [];
    if (this.daemon) {
      const ids = this.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) this.docker(['rm', '-f', ...ids], { timeoutMs: 60_000 });
      this.docker(['rmi', '-f', this.image]);
      left.push(...stopDaemon(this.daemon, 'dockerd', 30_000));
    }
    left.push(...sweep({ dir: this.dir, cgroupName: this.cgroupParent, stateRoot: this.stateRoot, ids: [...this.wrapper.configs().keys()], settleMs: 15_000 }));
    for (const [d, had] of this.before) {
      if (!fs.existsSync(d)) continue;
      const added = fs.readdirSync(d).filter((f) => !had?.includes(f) && !Docker.fixedDirs.includes(path.join(d, f)));
      const reported = added.filter((f) => !(d === '/etc/docker' && f === 'key.json'));
      if (reported.length) left.push(`${d}: ${reported.join(' ')}`);
      for (const f of added) fs.rmSync(path.join(d, f), { force: true, recursive: true });
      if (had === null) try { fs.rmdirSync(d); } catch { /* not empty */ }
    }
    this.left = left;
    return left;
  }
}
