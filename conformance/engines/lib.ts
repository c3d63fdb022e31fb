/**
 * Engines driving runts: a private, throw-away podman (with conmon) and
 * containerd (runc v2 shim, driven by ctr), each in a temp dir with its own
 * storage, state, sockets and cgroup parent, and a runts wrapper that logs
 * every call (argv and the config.json of each create) and keeps runts's state
 * under the temp dir (podman passes no --root).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBusyboxRootfs } from '../../test/helpers/rootfs.js';
import { RUNTS, tmpdir, waitFor } from '../lib/runtime.js';

export interface Exec { code: number | null; stdout: string; stderr: string }

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Exec {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: opts.env, timeout: opts.timeoutMs ?? 120_000, input: opts.input, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** The engine packages, installed by conformance/engines/setup.sh when missing; why they cannot be used, or false. */
export function engineMissing(cmds: string[]): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!fs.existsSync(RUNTS)) return 'runts not built (node scripts/build.mjs)';
  let missing = cmds.filter((c) => !have(c));
  if (missing.length > 0 && !process.env.CONFORMANCE_NO_INSTALL) {
    run('sh', [path.join(__dirname, 'setup.sh')], { timeoutMs: 600_000 });
    missing = cmds.filter((c) => !have(c));
  }
  return missing.length > 0 ? `${missing.join(', ')} not installed and conformance/engines/setup.sh could not install them` : false;
}

export interface Wrapper {
  /** Absolute path of the runtime binary the engine is given. */
  path: string;
  /** runts's --root when the engine gives none. */
  root: string;
  /** Every runtime invocation so far, one argv (without the wrapper) per entry. */
  calls(): string[][];
  /** The config.json of every create so far, keyed by container id. */
  configs(): Map<string, Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * A shell wrapper named `name` that logs and execs runts. The basename matters
 * for podman: only runtimes listed in runtime_supports_json get --log-format json.
 */
export function makeWrapper(dir: string, name = 'runts'): Wrapper {
  const bin = path.join(dir, 'bin');
  const log = path.join(dir, 'calls');
  const cfgs = path.join(dir, 'configs');
  const root = path.join(dir, 'runts-root');
  fs.mkdirSync(bin, { recursive: true });
  fs.mkdirSync(cfgs, { recursive: true });
  const p = path.join(bin, name);
  fs.writeFileSync(p, `#!/bin/sh
# log the call (NUL-separated argv, one call per line)
printf '%s\\0' "$@" >> ${log}; echo >> ${log}
# keep the config.json of each create
bundle=""; prev=""; id=""; cmd=""
for a in "$@"; do
  case "$prev" in --bundle|-b) bundle="$a" ;; esac
  case "$a" in create) cmd=create ;; esac
  prev="$a"; id="$a"
done
if [ "$cmd" = create ] && [ -n "$bundle" ]; then cp "$bundle/config.json" "${cfgs}/$id.json" 2>/dev/null; fi
unset NODE_OPTIONS NODE_EXTRA_CA_CERTS
case " $* " in *" --root "*) exec ${process.execPath} ${RUNTS} "$@" ;; esac
exec ${process.execPath} ${RUNTS} --root ${root} "$@"
`, { mode: 0o755 });
  return {
    path: p,
    root,
    calls: () => {
      let text = '';
      try { text = fs.readFileSync(log, 'utf8'); } catch { return []; }
      return text.split('\n').filter(Boolean).map((l) => l.split('\0').filter((x, i, a) => i < a.length - 1 || x !== ''));
    },
    configs: () => {
      const m = new Map<string, Record<string, any>>(); // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const f of fs.readdirSync(cfgs)) m.set(f.replace(/\.json$/, ''), JSON.parse(fs.readFileSync(path.join(cfgs, f), 'utf8')));
      return m;
    },
  };
}

/** A tar of a fresh busybox rootfs. */
export function rootfsTar(dir: string): string {
  const rootfs = path.join(dir, 'image-rootfs');
  fs.mkdirSync(rootfs);
  makeBusyboxRootfs(rootfs);
  const tar = path.join(dir, 'rootfs.tar');
  const r = run('tar', ['-C', rootfs, '--numeric-owner', '-cf', tar, '.']);
  if (r.code !== 0) throw new Error(`tar: ${r.stderr}`);
  return tar;
}

function blob(dir: string, data: Buffer): { digest: string; size: number } {
  const hex = createHash('sha256').update(data).digest('hex');
  fs.mkdirSync(path.join(dir, 'blobs/sha256'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'blobs/sha256', hex), data);
  return { digest: `sha256:${hex}`, size: data.length };
}

/** An OCI image-layout archive (one uncompressed layer) of a rootfs tar, named `name` for containerd. */
export function ociArchive(dir: string, layerTar: string, name: string): string {
  const layout = path.join(dir, 'oci-layout-dir');
  fs.mkdirSync(layout, { recursive: true });
  const layer = blob(layout, fs.readFileSync(layerTar));
  const config = blob(layout, Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  })));
  const manifest = blob(layout, Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
  })));
  fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() },
    }],
  }));
  const out = path.join(dir, 'image.oci.tar');
  const r = run('tar', ['-C', layout, '-cf', out, '.']);
  if (r.code !== 0) throw new Error(`tar: ${r.stderr}`);
  return out;
}

/** Processes (not zombies) whose command line mentions `needle`. */
export function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.includes(needle) && !/\) Z /.test(fs.readFileSync(`/proc/${p}/stat`, 'utf8'))) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

/** Mount points (host namespace) under a prefix. */
export function mountsUnder(prefix: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[4]!)
    .filter((m) => m === prefix || m.startsWith(`${prefix}/`));
}

export function unmountAll(prefix: string): void {
  for (const m of mountsUnder(prefix).reverse()) spawnSync('umount', ['-l', m]);
}

/** A private podman: storage, runroot, tmp, events, cgroup parent and runtime under `dir`. */
export class Podman {
  readonly dir: string;
  readonly wrapper: Wrapper;
  readonly env: NodeJS.ProcessEnv;
  readonly cgroupParent: string;
  readonly image = 'localhost/conf-busybox:latest';
  constructor() {
    this.dir = tmpdir('conf-podman-');
    this.wrapper = makeWrapper(this.dir);
    this.cgroupParent = `conf-podman-${process.pid}`;
    const d = this.dir;
    fs.writeFileSync(path.join(d, 'containers.conf'), `[containers]
# this machine lacks CAP_SYS_RESOURCE: podman's default 1048576 rlimits cannot be set (shared/notes/engines.md)
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"
cgroupns = "host"
[engine]
runtime = "runts"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${d}/events.log"
tmp_dir = "${d}/tmp"
volume_path = "${d}/volumes"
runtime_supports_json = ["runts", "crun", "runc"]
[engine.runtimes]
runts = ["${this.wrapper.path}"]
`);
    fs.writeFileSync(path.join(d, 'storage.conf'), `[storage]
driver = "vfs"
runroot = "${d}/run"
graphroot = "${d}/storage"
`);
    this.env = { ...process.env, CONTAINERS_CONF: path.join(d, 'containers.conf'), CONTAINERS_STORAGE_CONF: path.join(d, 'storage.conf'), CONTAINERS_REGISTRIES_CONF: path.join(d, 'registries.conf') };
    fs.writeFileSync(path.join(d, 'registries.conf'), 'unqualified-search-registries = []\n');
    delete this.env.NODE_OPTIONS;
  }

  podman(args: string[], opts: { timeoutMs?: number; input?: string } = {}): Exec {
    return run('podman', args, { env: this.env, ...opts });
  }

  /** podman run with the private cgroup parent. */
  runArgs(flags: string[], cmd: string[]): string[] {
    return ['run', '--cgroup-parent', `/${this.cgroupParent}`, ...flags, this.image, ...cmd];
  }

  importImage(): Exec {
    return this.podman(['import', rootfsTar(this.dir), this.image]);
  }

  /** Remove every container, then everything podman and runts made; what is left is reported. */
  teardown(): string[] {
    this.podman(['rm', '--all', '--force', '--time', '0'], { timeoutMs: 60_000 });
    const left: string[] = [];
    const procs = processesMentioning(this.dir);
    if (procs.length) left.push(`processes: ${procs.join(' ')}`);
    for (const p of procs) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    const mounts = mountsUnder(this.dir);
    if (mounts.length) left.push(`mounts: ${mounts.join(' ')}`);
    unmountAll(this.dir);
    // podman's own conmon cgroup (<parent>/conmon) is podman's, not a container's: removed, not reported
    const cg = spawnSync('find', ['/sys/fs/cgroup', '-mindepth', '2', '-type', 'd', '-path', `*/${this.cgroupParent}/*`], { encoding: 'utf8' }).stdout.split('\n')
      .filter((d) => d && !d.endsWith('/conmon'));
    if (cg.length) left.push(`cgroups: ${cg.join(' ')}`);
    spawnSync('sh', ['-c', `find /sys/fs/cgroup -depth -type d -path "*/${this.cgroupParent}*" -exec rmdir {} + 2>/dev/null; true`]);
    fs.rmSync(this.dir, { recursive: true, force: true });
    return left;
  }
}

/** A private containerd (own root, state, sockets; no CRI) and ctr. */
export class Containerd {
  readonly dir: string;
  readonly wrapper: Wrapper;
  readonly ns = `conf${process.pid}`;
  readonly image = 'docker.io/library/conf-busybox:latest';
  private daemon: ChildProcess | null = null;
  readonly sock: string;
  /** runts's --root for the shim (the runc option Root) */
  readonly runcRoot: string;
  constructor() {
    this.dir = tmpdir('conf-containerd-');
    this.wrapper = makeWrapper(this.dir);
    this.sock = path.join(this.dir, 'containerd.sock');
    this.runcRoot = path.join(this.dir, 'runc-root');
    fs.writeFileSync(path.join(this.dir, 'config.toml'), `version = 2
root = "${this.dir}/root"
state = "${this.dir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "${this.sock}"
[ttrpc]
  address = "${this.sock}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
`);
  }

  start(): boolean {
    const log = fs.openSync(path.join(this.dir, 'containerd.log'), 'w');
    this.daemon = spawn('containerd', ['--config', path.join(this.dir, 'config.toml')], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    return waitFor(() => fs.existsSync(this.sock) && this.ctr(['version']).code === 0, 20_000, 100);
  }

  ctr(args: string[], opts: { timeoutMs?: number; input?: string } = {}): Exec {
    return run('ctr', ['--address', this.sock, '-n', this.ns, ...args], { ...opts, env: { ...process.env, NODE_OPTIONS: '' } });
  }

  /** ctr run flags that make the runc v2 shim use runts. */
  get runtimeFlags(): string[] {
    return ['--runc-binary', this.wrapper.path, '--runc-root', this.runcRoot, '--snapshotter', 'native'];
  }

  importImage(): Exec {
    const tar = rootfsTar(this.dir);
    return this.ctr(['image', 'import', '--snapshotter', 'native', ociArchive(this.dir, tar, this.image)]);
  }

  log(): string {
    try { return fs.readFileSync(path.join(this.dir, 'containerd.log'), 'utf8'); } catch { return ''; }
  }

  teardown(): string[] {
    const left: string[] = [];
    if (this.daemon) {
      for (const line of this.ctr(['task', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
        this.ctr(['task', 'kill', '-a', '-s', 'KILL', line]);
        this.ctr(['task', 'rm', '-f', line]);
      }
      for (const line of this.ctr(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) this.ctr(['container', 'rm', line]);
      this.ctr(['image', 'rm', this.image]);
      this.daemon.kill('SIGTERM');
      waitFor(() => this.daemon!.exitCode !== null || this.daemon!.signalCode !== null, 10_000, 50);
      if (this.daemon.exitCode === null && this.daemon.signalCode === null) this.daemon.kill('SIGKILL');
    }
    const procs = processesMentioning(this.dir);
    if (procs.length) left.push(`processes: ${procs.join(' ')}`);
    for (const p of procs) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    const mounts = mountsUnder(this.dir);
    if (mounts.length) left.push(`mounts: ${mounts.join(' ')}`);
    unmountAll(this.dir);
    const cg = spawnSync('find', ['/sys/fs/cgroup', '-mindepth', '2', '-type', 'd', '-path', `*/${this.ns}/*`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    if (cg.length) left.push(`cgroups: ${cg.join(' ')}`);
    spawnSync('sh', ['-c', `find /sys/fs/cgroup -depth -type d -path "*/${this.ns}*" -exec rmdir {} + 2>/dev/null; true`]);
    fs.rmSync(this.dir, { recursive: true, force: true });
    return left;
  }
}
