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
import { parseCgroupMounts } from '../../src/cgroups/detect.js';
import { hostMountsUnder, makeBusyboxRootfs } from '../../test/helpers/rootfs.js';
import { have } from '../../test/helpers/cli.js';
import { processGone, RUNTS, tmpdir, waitFor } from '../lib/runtime.js';

export interface Exec { code: number | null; stdout: string; stderr: string }

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Exec {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: opts.env, timeout: opts.timeoutMs ?? 120_000, input: opts.input, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export { have };

/**
 * Why the engine commands cannot be used here, or false. Missing packages are
 * installed by conformance/engines/setup.sh (apt-get, Debian's podman/conmon/
 * containerd) unless CONFORMANCE_NO_INSTALL is set; the skip reason then names
 * the packages and the last line setup.sh printed (e.g. apt's error).
 */
export function engineMissing(cmds: string[]): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!fs.existsSync(RUNTS)) return 'runts not built (node scripts/build.mjs)';
  let missing = cmds.filter((c) => !have(c));
  if (missing.length === 0) return false;
  if (process.env.CONFORMANCE_NO_INSTALL) return `${missing.join(', ')} not installed (CONFORMANCE_NO_INSTALL is set: sh conformance/engines/setup.sh installs them)`;
  const r = run('sh', [path.join(__dirname, 'setup.sh')], { timeoutMs: 600_000 });
  missing = cmds.filter((c) => !have(c));
  if (missing.length === 0) return false;
  const lastLine = (x: string) => x.split('\n').map((l) => l.trim()).filter(Boolean).pop();
  const last = lastLine(r.stderr) ?? lastLine(r.stdout) ?? '';
  if (r.code === 0) return `${missing.join(', ')} not installed: conformance/engines/setup.sh ran but did not provide them`;
  return `${missing.join(', ')} not installed: conformance/engines/setup.sh could not install the Debian packages (exit ${r.code ?? 'timeout'}${last ? `: ${last}` : ''})`;
}

export interface Wrapper {
  /** Absolute path of the runtime binary the engine is given. */
  path: string;
  /** runts's --root when the engine gives none. */
  root: string;
  /** Every runtime invocation so far, one argv (without the wrapper) per entry, in order. */
  calls(): string[][];
  /** The config.json of every create so far, keyed by container id. */
  configs(): Map<string, Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * A shell wrapper named `name` that logs and execs runts (or `target`, e.g.
 * [/usr/sbin/runc] to check a suite against runc). The basename matters
 * for podman: only runtimes listed in runtime_supports_json get --log-format json.
 * Each call is one file (NUL-separated argv) named by its start time, so calls
 * made at the same time (conmon and podman) cannot interleave.
 */
export function makeWrapper(dir: string, name = 'runts', target: string[] = [process.execPath, RUNTS]): Wrapper {
  const bin = path.join(dir, 'bin');
  const log = path.join(dir, 'calls');
  const cfgs = path.join(dir, 'configs');
  const root = path.join(dir, 'runts-root');
  for (const d of [bin, log, cfgs]) fs.mkdirSync(d, { recursive: true });
  const p = path.join(bin, name);
  fs.writeFileSync(p, `#!/bin/sh
# log the call: one file per call, NUL-separated argv
printf '%s\\0' "$@" > "${log}/$(date +%s%N).$$"
# keep the config.json of each create
bundle=""; prev=""; id=""; cmd=""
for a in "$@"; do
  case "$prev" in --bundle|-b) bundle="$a" ;; esac
  case "$a" in create) cmd=create ;; esac
  prev="$a"; id="$a"
done
if [ "$cmd" = create ] && [ -n "$bundle" ]; then cp "$bundle/config.json" "${cfgs}/$id.json" 2>/dev/null; fi
unset NODE_OPTIONS NODE_EXTRA_CA_CERTS
case " $* " in *" --root "*) exec ${target.join(' ')} "$@" ;; esac
exec ${target.join(' ')} --root ${root} "$@"
`, { mode: 0o755 });
  return {
    path: p,
    root,
    calls: () => {
      let files: string[] = [];
      try { files = fs.readdirSync(log); } catch { return []; }
      const key = (f: string) => { const [ns, pid] = f.split('.'); return [BigInt(ns!), Number(pid)] as const; };
      files.sort((a, b) => { const [x, y] = [key(a), key(b)]; return x[0] === y[0] ? x[1] - y[1] : x[0] < y[0] ? -1 : 1; });
      return files.map((f) => {
        const parts = fs.readFileSync(path.join(log, f), 'utf8').split('\0');
        parts.pop(); // after the last NUL
        return parts;
      });
    },
    configs: () => {
      const m = new Map<string, Record<string, any>>(); // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const f of fs.readdirSync(cfgs)) m.set(f.replace(/\.json$/, ''), JSON.parse(fs.readFileSync(path.join(cfgs, f), 'utf8')));
      return m;
    },
  };
}

/** What runts still keeps in a state root (one entry per container it knows, and temporary create dirs). */
export function stateLeft(root: string): string[] {
  try { return fs.readdirSync(root); } catch { return []; }
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

/**
 * An OCI image-layout archive (one uncompressed layer) of a rootfs tar, named `name` for containerd;
 * `imageConfig` replaces the image config's default (PATH, Cmd sh, WorkingDir /), `label` names the archive
 * and its layout dir when one temp dir holds several.
 */
export function ociArchive(dir: string, layerTar: string, name: string, imageConfig?: Record<string, unknown>, label = 'image'): string {
  const layout = path.join(dir, label === 'image' ? 'oci-layout-dir' : `oci-layout-${label}`);
  fs.mkdirSync(layout, { recursive: true });
  const layer = blob(layout, fs.readFileSync(layerTar));
  const config = blob(layout, Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux',
    config: imageConfig ?? { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], WorkingDir: '/' },
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
  const out = path.join(dir, `${label}.oci.tar`);
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
      if (cmd.includes(needle) && !isZombie(Number(p))) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch { return true; }
}

/**
 * Processes (not zombies) in a cgroup named `name` or below it, in any
 * hierarchy: the containers' own processes, which mention no temp path.
 */
export function processesInCgroup(name: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cg = fs.readFileSync(`/proc/${p}/cgroup`, 'utf8');
      if (cg.split('\n').some((l) => `${l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1)}/`.includes(`/${name}/`)) && !isZombie(Number(p))) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

/** "pid (command line)" for a report. */
export function describeProcesses(pids: number[]): string {
  return pids.map((p) => {
    let cmd = '?';
    try { cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' '); } catch { /* gone */ }
    return `${p} (${cmd.length > 100 ? `${cmd.slice(0, 100)}...` : cmd})`;
  }).join(', ');
}


export function unmountAll(prefix: string): void {
  for (const m of hostMountsUnder(prefix).reverse()) spawnSync('umount', ['-l', m]);
}

/** Directories under /sys/fs/cgroup named exactly `name`, and everything below them; deepest first. */
function dirsNamed(name: string): string[] {
  const r = spawnSync('find', ['/sys/fs/cgroup', '-type', 'd', '(', '-path', `*/${name}`, '-o', '-path', `*/${name}/*`, ')'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).sort((a, b) => b.split('/').length - a.split('/').length);
}

/** Whether `dir` is inside a mounted cgroup/cgroup2 hierarchy (by mountinfo), not a plain directory on the tmpfs. */
function inHierarchy(dir: string, mountpoints: string[]): boolean {
  return mountpoints.some((m) => dir === m || dir.startsWith(m === '/' ? '/' : `${m}/`));
}

function cgroupMountpoints(): string[] {
  return parseCgroupMounts(fs.readFileSync('/proc/self/mountinfo', 'utf8')).map((m) => m.mountpoint);
}

/** Cgroup directories named exactly `name`, and everything below them, in every mounted hierarchy; deepest first. */
export function cgroupDirs(name: string): string[] {
  const mps = cgroupMountpoints();
  return dirsNamed(name).filter((d) => inHierarchy(d, mps));
}

/**
 * Plain directories named `name` (and below) on a v1 host's /sys/fs/cgroup
 * tmpfs, outside every mounted hierarchy: an engine's, made where it took a
 * directory such as hugetlb or net_cls for a hierarchy. runts trusts only
 * mountinfo and never makes these (test/cgroups/plain-dirs.test.ts).
 */
export function plainCgroupDirs(name: string): string[] {
  const mps = cgroupMountpoints();
  return dirsNamed(name).filter((d) => !inHierarchy(d, mps));
}

/**
 * Everything left after an engine's own cleanup, then removed: processes
 * (after `settleMs` for the engine's exit handlers to finish), runts state,
 * mounts under the temp dir, cgroups under `cgroupName` (apart from the
 * engine's own, `engineCgroup`), and the temp dir. Returns what was left.
 */
export function sweep(o: { dir: string; cgroupName: string; engineCgroup?: RegExp; stateRoot: string; ids: string[]; settleMs: number }): string[] {
  const left: string[] = [];
  const busy = () => [...new Set([...processesMentioning(o.dir), ...processesInCgroup(o.cgroupName)])].sort((a, b) => a - b);
  waitFor(() => busy().length === 0, o.settleMs, 100);
  const procs = busy();
  if (procs.length) left.push(`processes: ${describeProcesses(procs)}`);
  for (const p of procs) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
  if (procs.length) waitFor(() => busy().length === 0, 5_000, 50);
  const state = stateLeft(o.stateRoot);
  if (state.length) left.push(`runts state in ${o.stateRoot}: ${state.join(' ')}`);
  for (const id of state) run(process.execPath, [RUNTS, '--root', o.stateRoot, 'delete', '--force', id], { timeoutMs: 30_000 });
  // runts's default root must not be used at all (every call names a --root)
  const stray = o.ids.filter((id) => fs.existsSync(path.join('/run/runts', id)));
  if (stray.length) left.push(`runts state in /run/runts: ${stray.join(' ')}`);
  const mounts = hostMountsUnder(o.dir);
  if (mounts.length) left.push(`mounts: ${mounts.join(' ')}`);
  unmountAll(o.dir);
  const cgs = cgroupDirs(o.cgroupName);
  const containers = cgs.filter((d) => !d.endsWith(`/${o.cgroupName}`) && !(o.engineCgroup?.test(d)));
  if (containers.length) left.push(`cgroups: ${containers.join(' ')}`);
  for (const d of cgs) try { fs.rmdirSync(d); } catch { /* reported below */ }
  const stuck = cgroupDirs(o.cgroupName);
  if (stuck.length) left.push(`cgroups that cannot be removed: ${stuck.join(' ')}`);
  // the engine's plain directories on the tmpfs are not runts's leftovers: removed, not reported
  for (const d of plainCgroupDirs(o.cgroupName)) try { fs.rmdirSync(d); } catch { /* not empty: removed with its parent below */ }
  for (const d of plainCgroupDirs(o.cgroupName)) fs.rmSync(d, { recursive: true, force: true });
  try { fs.rmSync(o.dir, { recursive: true, force: true }); } catch (e) { left.push(`temp dir ${o.dir}: ${(e as Error).message}`); }
  return left;
}

/**
 * A private podman: storage (vfs), runroot, tmp, locks, events, cgroup parent
 * and runtime state under a temp dir. The image is imported from a tar (no
 * registry); the pod infra image is the same rootfs with an entrypoint that
 * waits for TERM (Debian's podman has no catatonit to build its own).
 */
export class Podman {
  readonly dir: string;
  readonly wrapper: Wrapper;
  readonly env: NodeJS.ProcessEnv;
  readonly cgroupParent: string;
  readonly image = 'localhost/conf-busybox:latest';
  readonly infraImage = 'localhost/conf-pause:latest';
  private left: string[] | null = null;
  /** `podman import` writes containers/image's blob-info cache here for root, whatever the storage config says */
  private static readonly blobCache = '/var/lib/containers/cache/blob-info-cache-v1.boltdb';
  private readonly hadVarLib = fs.existsSync('/var/lib/containers');
  constructor() {
    this.dir = tmpdir('conf-podman-');
    this.wrapper = makeWrapper(this.dir);
    this.cgroupParent = `conf-podman-${process.pid}`;
    const d = this.dir;
    fs.writeFileSync(path.join(d, 'containers.conf'), `[containers]
# this machine lacks CAP_SYS_RESOURCE: podman's default 1048576 rlimits cannot be set (shared/notes/engines.md)
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"
# podman's own default on a cgroup v1 or hybrid host ("private" only on a pure v2 host); --cgroupns private is tested explicitly
cgroupns = "host"
[engine]
runtime = "runts"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${d}/events.log"
tmp_dir = "${d}/tmp"
volume_path = "${d}/volumes"
# file locks under tmp_dir instead of the host-wide /dev/shm/libpod_lock
lock_type = "file"
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
    // even when the test file dies before tap's teardown
    process.once('exit', () => { this.teardown(); });
  }

  podman(args: string[], opts: { timeoutMs?: number; input?: string } = {}): Exec {
    return run('podman', args, { env: this.env, ...opts });
  }

  /** podman run with the private cgroup parent. */
  runArgs(flags: string[], cmd: string[]): string[] {
    return ['run', '--cgroup-parent', `/${this.cgroupParent}`, ...flags, this.image, ...cmd];
  }

  /** podman pod create with the private cgroup parent and the local infra image. */
  podArgs(flags: string[]): string[] {
    return ['pod', 'create', '--cgroup-parent', `/${this.cgroupParent}`, '--infra-image', this.infraImage, ...flags];
  }

  /** The host pid of a running container's init. */
  pid(name: string): number {
    return Number(this.podman(['inspect', '-f', '{{.State.Pid}}', name]).stdout.trim());
  }

  /** The container image and the pod infra image, both from the same busybox tar. */
  importImage(): Exec {
    const tar = rootfsTar(this.dir);
    const r = this.podman(['import', tar, this.image]);
    if (r.code !== 0) return r;
    const entry = JSON.stringify(['sh', '-c', 'trap "exit 0" TERM INT; sleep 2147483647 & wait']);
    return this.podman(['import', '--change', `ENTRYPOINT ${entry}`, tar, this.infraImage]);
  }

  /**
   * Remove every pod and container, then everything podman and runts made;
   * what was still there is reported. Runs once (tap teardown, or exit).
   */
  teardown(): string[] {
    if (this.left) return this.left;
    this.left = [];
    this.podman(['pod', 'rm', '--all', '--force', '--time', '0'], { timeoutMs: 60_000 });
    this.podman(['rm', '--all', '--force', '--time', '0'], { timeoutMs: 60_000 });
    // conmon runs "podman container cleanup" when a container exits: it finishes on its own.
    // podman's own cgroups are removed, not reported: its conmon cgroup (<parent>/conmon) and a pod's cgroup
    // (<parent>/<pod id>). On this hybrid host podman 4.3 removes a pod's cgroup in the controller hierarchies only;
    // in name=systemd and unified the runtime created it as the parent of the members' cgroups (runc never removes
    // it, runts removes it when it is empty at the delete of the container that created it). Containers' own
    // cgroups (<parent>/[<pod id>/]libpod-<id>) are reported.
    this.left = sweep({ dir: this.dir, cgroupName: this.cgroupParent, engineCgroup: new RegExp(`/${this.cgroupParent}/(conmon|[0-9a-f]{64})$`), stateRoot: this.wrapper.root, ids: [...this.wrapper.configs().keys()], settleMs: 15_000 });
    if (!this.hadVarLib) {
      fs.rmSync(Podman.blobCache, { force: true });
      for (const d of [path.dirname(Podman.blobCache), '/var/lib/containers']) try { fs.rmdirSync(d); } catch { /* not ours, or not empty */ }
    }
    return this.left;
  }
}

/**
 * The entries of host-wide directories a private containerd uses whatever its
 * config says (shim sockets, fifos, libcni's cache), taken before it starts:
 * sweep() then removes and reports what was added there, each directory that
 * did not exist before, and /run/containerd when the daemon made it.
 */
export class HostDirSnapshot {
  private readonly run = fs.existsSync('/run/containerd');
  private readonly dirs: Map<string, string[] | null>;
  constructor(dirs: readonly string[]) {
    this.dirs = new Map(dirs.map((d) => [d, fs.existsSync(d) ? fs.readdirSync(d) : null]));
  }

  /** One line per directory with additions; `notAdded(dir, name)` names entries that are not the daemon's (e.g. a listed subdirectory). */
  sweep(notAdded: (dir: string, name: string) => boolean = () => false): string[] {
    const left: string[] = [];
    for (const [d, had] of this.dirs) {
      if (!fs.existsSync(d)) continue;
      const added = fs.readdirSync(d).filter((f) => !had?.includes(f) && !notAdded(d, f));
      if (added.length) left.push(`${d}: ${added.join(' ')}`);
      for (const f of added) fs.rmSync(path.join(d, f), { force: true, recursive: true });
      if (had === null) try { fs.rmdirSync(d); } catch { /* not empty */ }
    }
    if (!this.run) try { fs.rmdirSync('/run/containerd'); } catch { /* not empty */ }
    return left;
  }
}

/** SIGTERM a private daemon and wait (synchronously: /proc, not the ChildProcess, sees it go), then SIGKILL; what went wrong, as lines. */
export function stopDaemon(daemon: ChildProcess, name = 'containerd', termMs = 10_000): string[] {
  const pid = daemon.pid!;
  daemon.kill('SIGTERM');
  if (waitFor(() => processGone(pid), termMs, termMs > 10_000 ? 100 : 50)) return [];
  daemon.kill('SIGKILL');
  waitFor(() => processGone(pid), 5_000, 50);
  return [`${name} did not stop on SIGTERM`];
}

/** The part of a private containerd's config.toml every suite shares: its own root, state, opt dir and sockets. */
export function containerdConfigBase(dir: string, sock: string, extra = ''): string {
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
${extra}[grpc]
  address = "${sock}"
[ttrpc]
  address = "${sock}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"
`;
}

/**
 * A private containerd (own root, state, opt dir, sockets; no CRI) and ctr with
 * its IO fifos in the temp dir. The runc v2 shims still put their sockets in
 * /run/containerd/s (fixed in containerd 1.6): new entries there (and in ctr's
 * default fifo dir) are reported, and the directories are removed when they did
 * not exist before.
 */
export class Containerd {
  readonly dir: string;
  readonly wrapper: Wrapper;
  readonly ns = `conf${process.pid}`;
  readonly image = 'docker.io/library/conf-busybox:latest';
  private daemon: ChildProcess | null = null;
  readonly sock: string;
  /** runts's --root for the shim (the runc option Root) */
  readonly runcRoot: string;
  readonly fifoDir: string;
  private left: string[] | null = null;
  /** Host-wide directories containerd 1.6 uses whatever its config says: shim sockets, ctr's default fifo dir. */
  private readonly before = new HostDirSnapshot(['/run/containerd/s', '/run/containerd/fifo']);
  constructor() {
    this.dir = tmpdir('conf-containerd-');
    this.wrapper = makeWrapper(this.dir);
    this.sock = path.join(this.dir, 'containerd.sock');
    this.runcRoot = path.join(this.dir, 'runc-root');
    this.fifoDir = path.join(this.dir, 'fifo');
    fs.writeFileSync(path.join(this.dir, 'config.toml'), containerdConfigBase(this.dir, this.sock, 'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'));
    process.once('exit', () => { this.teardown(); });
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
    return ['--runc-binary', this.wrapper.path, '--runc-root', this.runcRoot, '--snapshotter', 'native', '--fifo-dir', this.fifoDir];
  }

  /** The host pid of a task's init (ctr task ls). */
  pid(id: string): number {
    const line = this.ctr(['task', 'ls']).stdout.split('\n').find((l) => l.split(/\s+/)[0] === id);
    return Number(line?.split(/\s+/)[1] ?? NaN);
  }

  importImage(): Exec {
    const tar = rootfsTar(this.dir);
    return this.ctr(['image', 'import', '--snapshotter', 'native', ociArchive(this.dir, tar, this.image)]);
  }

  log(): string {
    try { return fs.readFileSync(path.join(this.dir, 'containerd.log'), 'utf8'); } catch { return ''; }
  }

  /** Remove every task, container and the image, stop the daemon, then sweep; what was still there is reported. Runs once. */
  teardown(): string[] {
    if (this.left) return this.left;
    this.left = [];
    const left: string[] = [];
    if (this.daemon) {
      for (const line of this.ctr(['task', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
        this.ctr(['task', 'kill', '-a', '-s', 'KILL', line]);
        this.ctr(['task', 'rm', '-f', line]);
      }
      for (const line of this.ctr(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) this.ctr(['container', 'rm', line]);
      this.ctr(['image', 'rm', this.image]);
      // everything here is synchronous: the ChildProcess never sees the exit, /proc does (gone or a zombie)
      left.push(...stopDaemon(this.daemon));
    }
    left.push(...sweep({ dir: this.dir, cgroupName: this.ns, stateRoot: path.join(this.runcRoot, this.ns), ids: [...this.wrapper.configs().keys()], settleMs: 10_000 }));
    left.push(...this.before.sweep());
    this.left = left;
    return left;
  }
}

/** A shell snippet printing "<ns> <readlink /proc/self/ns/ns>" per namespace, then the hostname. */
export const NS_SCRIPT = 'for n in net ipc uts pid mnt; do echo "ns $n $(readlink /proc/self/ns/$n)"; done; echo "hostname $(hostname)"';

/** The namespaces NS_SCRIPT printed, e.g. { net: 'net:[4026532]', ... }, and the hostname. */
export function parseNs(out: string): { ns: Record<string, string>; hostname: string } {
  const ns: Record<string, string> = {};
  let hostname = '';
  for (const l of out.split('\n')) {
    const m = /^ns (\w+) (\S+)$/.exec(l.trim());
    if (m) ns[m[1]!] = m[2]!;
    const h = /^hostname (.*)$/.exec(l.trim());
    if (h) hostname = h[1]!;
  }
  return { ns, hostname };
}

/** The freezer state of a process's cgroup: FROZEN or THAWED (v1 freezer.state, v2 cgroup.freeze). */
export function freezerState(pid: number): string {
  try {
    const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
    const v1 = lines.find((l) => /^\d+:freezer:/.test(l));
    if (v1) return fs.readFileSync(`/sys/fs/cgroup/freezer${v1.slice(v1.indexOf(':/') + 1)}/freezer.state`, 'utf8').trim();
    const v2 = lines.find((l) => l.startsWith('0::'));
    return fs.readFileSync(`/sys/fs/cgroup${v2!.slice(3)}/cgroup.freeze`, 'utf8').trim() === '1' ? 'FROZEN' : 'THAWED';
  } catch (e) {
    return `unknown (${(e as Error).message})`;
  }
}

/** The cgroup path of a process in one v1 hierarchy (e.g. "memory"), or the v2 path. */
export function cgroupOf(pid: number, controller = 'memory'): string {
  try {
    const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
    const l = lines.find((x) => x.split(':')[1]?.split(',').includes(controller)) ?? lines.find((x) => x.startsWith('0::'));
    return l ? l.slice(l.indexOf(':/') + 1) : '';
  } catch { return ''; }
}
