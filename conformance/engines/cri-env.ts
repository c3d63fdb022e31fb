/**
 * A private containerd 1.6 with its CRI plugin, set up the way a kubelet node
 * is, with runts (or RUNTS_CRI_RUNTIME, e.g. /usr/sbin/runc) as the runc v2
 * shim's BinaryName: root, state, sockets, netns handles, CNI config and IPAM
 * state in a temp dir; a unique bridge and subnet; the pod cgroups under a
 * unique kubepods-style root (cgroupfs driver); a pause image (a static C
 * binary) and busybox images built here and imported with ctr (no registry).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBusyboxRootfs } from '../../test/helpers/rootfs.js';
import { processGone, RUNTS, tmpdir, waitFor } from '../lib/runtime.js';
import { criProto, CriClient } from './cri-client.js';
import { containerdConfigBase, engineMissing, stopDaemon, have, HostDirSnapshot, makeWrapper, ociArchive, run, sweep, type Exec, type Wrapper } from './lib.js';

/** The runtime under test: runts, or the binary RUNTS_CRI_RUNTIME names (the suite's own check against runc). */
export const CRI_RUNTIME = process.env.RUNTS_CRI_RUNTIME ? path.resolve(process.env.RUNTS_CRI_RUNTIME) : RUNTS;
export const CRI_RUNTIME_NAME = CRI_RUNTIME === RUNTS ? 'runts' : path.basename(CRI_RUNTIME);

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The pause process: PID 1 of a pod with pid: POD, so it reaps; TERM/INT end it. */
const PAUSE_C = `#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void down(int s) { (void)s; _exit(0); }
static void reap(int s) { (void)s; while (waitpid(-1, 0, WNOHANG) > 0) {} }
int main(void) {
  struct sigaction a = {0};
  a.sa_handler = down;
  sigaction(SIGINT, &a, 0);
  sigaction(SIGTERM, &a, 0);
  a.sa_handler = reap;
  a.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigaction(SIGCHLD, &a, 0);
  for (;;) pause();
}
`;

/** Why the suite cannot run here, or false. */
export function criMissing(): string | false {
  const why = engineMissing(['containerd', 'ctr', 'containerd-shim-runc-v2']);
  if (why) return why;
  if (!fs.existsSync(CRI_RUNTIME)) return `the runtime ${CRI_RUNTIME} does not exist`;
  if (!criProto()) return 'the CRI api.proto is missing (../shared/cri-api/api.proto, or set RUNTS_CRI_PROTO)';
  for (const p of ['bridge', 'host-local', 'loopback']) if (!fs.existsSync(`/usr/lib/cni/${p}`)) return `the CNI plugin /usr/lib/cni/${p} is missing (Debian containernetworking-plugins)`;
  if (!have('gcc')) return 'gcc is missing (the pause image is a static C binary: Debian gcc, libc6-dev)';
  if (!have('iptables')) return 'iptables is missing (the CNI bridge plugin masquerades with it)';
  return false;
}

/** A /24 in 10.0.0.0/8 that no route on this host covers. */
function freeSubnet(): string {
  const routes = run('ip', ['-4', 'route', 'show', 'table', 'all']).stdout;
  for (let i = 0; i < 250; i++) {
    const net = `10.${200 + ((process.pid + i) % 50)}.${(process.pid + i * 7) % 250}`;
    if (!routes.includes(`${net}.`)) return net;
  }
  throw new Error('no free 10.x.y.0/24 for the CNI bridge');
}

export class CriEnv {
  readonly dir: string;
  readonly wrapper: Wrapper;
  readonly tag = `cri${process.pid}`;
  readonly sock: string;
  /** the runc options' Root: the shim calls the runtime with --root <runcRoot>/k8s.io */
  readonly runcRoot: string;
  readonly stateRoot: string;
  /** The top cgroup of the pods (the kubelet's /kubepods), unique to this run. */
  readonly kubepods: string;
  readonly bridge: string;
  /** The first three octets of the pod subnet, e.g. "10.231.17". */
  readonly net: string;
  readonly netName: string;
  readonly netnsDir: string;
  readonly logDir: string;
  readonly pauseImage = 'localhost/runts-cri/pause:1';
  readonly image = 'localhost/runts-cri/busybox:1';
  readonly userImage = 'localhost/runts-cri/busybox-user:1';
  /** CAP_SYS_RESOURCE (lowering oom_score_adj needs it; this VM lacks it). */
  readonly canLowerOomScore = (BigInt(`0x${/^CapEff:\s+(\S+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`) >> 24n & 1n) === 1n;
  client: CriClient | null = null;
  private daemon: ChildProcess | null = null;
  private left: string[] | null = null;
  /** Host-wide directories containerd 1.6 and libcni use whatever the config says: shim sockets, the CNI result cache. */
  private readonly before = new HostDirSnapshot(['/run/containerd/s', '/var/lib/cni/results', '/var/lib/cni']);

  constructor() {
    this.dir = tmpdir('conf-cri-');
    const target = CRI_RUNTIME === RUNTS ? [process.execPath, RUNTS] : [CRI_RUNTIME];
    this.wrapper = makeWrapper(this.dir, CRI_RUNTIME_NAME, target);
    this.sock = path.join(this.dir, 'containerd.sock');
    this.runcRoot = path.join(this.dir, 'runc-root');
    this.stateRoot = path.join(this.runcRoot, 'k8s.io');
    this.kubepods = `${this.tag}-kubepods`;
    this.bridge = `rt${this.tag}`.slice(0, 15);
    this.net = freeSubnet();
    this.netName = `runts-${this.tag}`;
    this.netnsDir = path.join(this.dir, 'state/io.containerd.grpc.v1.cri/netns');
    this.logDir = path.join(this.dir, 'pod-logs');
    const d = this.dir;
    fs.mkdirSync(path.join(d, 'cni/net.d'), { recursive: true });
    fs.mkdirSync(this.logDir);
    fs.writeFileSync(path.join(d, 'cni/net.d/10-runts.conflist'), JSON.stringify({
      cniVersion: '0.4.0',
      name: this.netName,
      plugins: [
        {
          type: 'bridge', bridge: this.bridge, isGateway: true, ipMasq: true, hairpinMode: true,
          ipam: { type: 'host-local', dataDir: path.join(d, 'cni/ipam'), ranges: [[{ subnet: `${this.net}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'loopback' },
      ],
    }, null, 2));
    fs.writeFileSync(path.join(d, 'config.toml'), `${containerdConfigBase(d, this.sock)}[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${this.pauseImage}"
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  # without CAP_SYS_RESOURCE an oom_score_adj below containerd's own (the sandbox's -998) cannot be written, by runc
  # or runts: containerd then clamps it to its own score, as on rootless/unprivileged nodes
  restrict_oom_score_adj = ${!this.canLowerOomScore}
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "${this.wrapper.path}"
        Root = "${this.runcRoot}"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${d}/cni/net.d"
    max_conf_num = 1
`);
    process.once('exit', () => { this.teardownSync(); });
  }

  /** Start containerd and wait for the CRI to answer Version. */
  async start(): Promise<string | null> {
    const log = fs.openSync(path.join(this.dir, 'containerd.log'), 'a');
    this.daemon = spawn('containerd', ['--config', path.join(this.dir, 'config.toml')], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    if (!waitFor(() => fs.existsSync(this.sock), 20_000, 100)) return 'containerd did not create its socket';
    this.client = new CriClient(this.sock, criProto()!);
    const end = Date.now() + 30_000;
    let last = '';
    while (Date.now() < end) {
      try {
        await this.client.rt('Version', { version: 'v1' }, 5_000);
        // the CRI plugin reports ready once its CNI config is loaded
        const st = await this.client.rt('Status', {}, 5_000);
        if ((st.status?.conditions ?? []).every((c: { status: boolean }) => c.status)) return null;
        last = JSON.stringify(st.status?.conditions);
      } catch (e) { last = (e as Error).message; }
      await new Promise((r) => setTimeout(r, 200));
    }
    return `the CRI is not ready: ${last}`;
  }

  /** Stop containerd (SIGTERM; its shims and pods keep running) and start it again on the same root and state. */
  async restart(): Promise<string | null> {
    this.client?.close();
    this.client = null;
    const pid = this.daemon?.pid;
    this.daemon?.kill('SIGTERM');
    if (pid && !waitFor(() => processGone(pid), 10_000, 50)) return 'containerd did not stop on SIGTERM';
    fs.rmSync(this.sock, { force: true });
    return this.start();
  }

  ctr(args: string[], opts: { timeoutMs?: number } = {}): Exec {
    return run('ctr', ['--address', this.sock, '-n', 'k8s.io', ...args], { ...opts, env: { ...process.env, NODE_OPTIONS: '' } });
  }

  log(): string {
    try { return fs.readFileSync(path.join(this.dir, 'containerd.log'), 'utf8'); } catch { return ''; }
  }

  /**
   * Build the three images and import them: the pause image (a static C pause at
   * /pause), busybox (root, sh), busybox-user (USER app = 1000:1000 from its
   * /etc/passwd, with a home owned by it). Returns an error text or null.
   */
  importImages(): string | null {
    const pauseDir = path.join(this.dir, 'img-pause');
    fs.mkdirSync(pauseDir, { recursive: true });
    fs.writeFileSync(path.join(this.dir, 'pause.c'), PAUSE_C);
    const cc = run('gcc', ['-static', '-Os', '-o', path.join(pauseDir, 'pause'), path.join(this.dir, 'pause.c')]);
    if (cc.code !== 0) return `gcc -static pause.c: ${cc.stderr.trim()}`;
    const bb = makeBusyboxRootfs(path.join(this.dir, 'img-busybox'));
    const user = makeBusyboxRootfs(path.join(this.dir, 'img-user'));
    fs.appendFileSync(path.join(user, 'etc/passwd'), 'app:x:1000:1000:app:/home/app:/bin/sh\n');
    fs.appendFileSync(path.join(user, 'etc/group'), 'app:x:1000:\nextra:x:1001:app\n');
    fs.mkdirSync(path.join(user, 'home/app'), { recursive: true });
    fs.chownSync(path.join(user, 'home/app'), 1000, 1000);
    const images: [string, string, string, Record<string, unknown>][] = [
      ['pause', pauseDir, this.pauseImage, { Entrypoint: ['/pause'], WorkingDir: '/' }],
      ['busybox', bb, this.image, { Env: [PATH_ENV], Cmd: ['sh'], WorkingDir: '/' }],
      ['user', user, this.userImage, { Env: [PATH_ENV], Cmd: ['sh'], WorkingDir: '/home/app', User: 'app' }],
    ];
    for (const [label, rootfs, name, config] of images) {
      const layer = path.join(this.dir, `${label}.layer.tar`);
      const t = run('tar', ['-C', rootfs, '--numeric-owner', '-cf', layer, '.']);
      if (t.code !== 0) return `tar ${label}: ${t.stderr.trim()}`;
      const r = this.ctr(['images', 'import', '--snapshotter', 'native', ociArchive(this.dir, layer, name, config, label)]);
      if (r.code !== 0) return `ctr images import ${name}: ${r.stderr.trim()}`;
    }
    return null;
  }

  /** The kubelet's pod cgroup (cgroupfs driver): /<kubepods>/burstable/pod<uid>. */
  podCgroup(uid: string): string {
    return `/${this.kubepods}/burstable/pod${uid}`;
  }

  /** iptables-save lines (nat table) that belong to this run's CNI network. */
  natRules(): string[] {
    const r = run('iptables-save', ['-t', 'nat']);
    const chains = new Set<string>();
    const lines = r.stdout.split('\n');
    for (const l of lines) {
      if (l.startsWith('-A ') && (l.includes(`"name: \\"${this.netName}\\"`) || l.includes(this.netName))) {
        const j = /-j (CNI-\S+)/.exec(l);
        if (j) chains.add(j[1]!);
      }
    }
    return lines.filter((l) => l.includes(this.netName) || [...chains].some((c) => l.startsWith(`-A ${c} `) || l.startsWith(`:${c} `)));
  }

  /** Veths on this run's bridge. */
  bridgePorts(): string[] {
    return run('ip', ['-o', 'link', 'show', 'master', this.bridge]).stdout.split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().split('@')[0]!);
  }

  /** Stop and remove every pod through the CRI (the kubelet's cleanup). */
  async removeAllPods(): Promise<void> {
    if (!this.client) return;
    try {
      const pods = (await this.client.rt('ListPodSandbox', {}, 30_000)).items ?? [];
      for (const p of pods) {
        await this.client.rt('StopPodSandbox', { pod_sandbox_id: p.id }, 60_000).catch(() => undefined);
        await this.client.rt('RemovePodSandbox', { pod_sandbox_id: p.id }, 60_000).catch(() => undefined);
      }
    } catch { /* the daemon is gone: the sweep reports what is left */ }
  }

  async teardown(): Promise<string[]> {
    if (this.left) return this.left;
    await this.removeAllPods();
    this.ctr(['images', 'rm', this.pauseImage, this.image, this.userImage]);
    return this.teardownSync();
  }

  /** Stop the daemon, then sweep; what was still there is reported. Runs once. */
  teardownSync(): string[] {
    if (this.left) return this.left;
    this.left = [];
    const left: string[] = [];
    this.client?.close();
    if (this.daemon) {
      left.push(...stopDaemon(this.daemon));
    }
    // RUNTS_CRI_LOG=FILE keeps containerd's log (the temp dir goes): the shims' and the runtime's errors are in it
    if (process.env.RUNTS_CRI_LOG) try { fs.copyFileSync(path.join(this.dir, 'containerd.log'), process.env.RUNTS_CRI_LOG); } catch { /* never started */ }
    const ports = this.bridgePorts();
    if (ports.length) left.push(`veths on ${this.bridge}: ${ports.join(' ')}`);
    const nat = this.natRules();
    if (nat.length) left.push(`iptables nat rules: ${nat.join(' | ')}`);
    deleteNatRules(nat);
    // the bridge itself stays on a node (the CNI bridge plugin never removes it): removed, not reported
    run('ip', ['link', 'del', this.bridge]);
    try {
      const netns = fs.readdirSync(this.netnsDir);
      if (netns.length) left.push(`netns handles: ${netns.join(' ')}`);
      for (const n of netns) spawnSync('umount', [path.join(this.netnsDir, n)]);
    } catch { /* never made */ }
    // the kubelet's own cgroups (the kubepods root, burstable, pod<uid>) are the test's: removed, not reported
    left.push(...sweep({
      dir: this.dir, cgroupName: this.kubepods, engineCgroup: new RegExp(`/${this.kubepods}(/burstable(/pod[^/]+)?)?$`),
      stateRoot: this.stateRoot, ids: [...this.wrapper.configs().keys()], settleMs: 10_000,
    }));
    // /var/lib/cni/results is listed (and swept) on its own
    left.push(...this.before.sweep((dir, name) => dir === '/var/lib/cni' && name === 'results'));
    this.left = left;
    return left;
  }
}

/** Delete iptables-save rule lines (-A CHAIN ...) and then their CNI-* chains. */
function deleteNatRules(lines: string[]): void {
  const chains: string[] = [];
  for (const l of lines) {
    if (l.startsWith(':')) { chains.push(l.slice(1).split(' ')[0]!); continue; }
    if (!l.startsWith('-A ')) continue;
    // iptables-save quotes comments the way the iptables command line takes them
    const args = l.slice(3).match(/"(?:\\.|[^"])*"|\S+/g) ?? [];
    run('iptables', ['-t', 'nat', '-D', ...args.map((a) => (a.startsWith('"') ? a.slice(1, -1).replace(/\\"/g, '"') : a))]);
  }
  for (const c of chains) { run('iptables', ['-t', 'nat', '-F', c]); run('iptables', ['-t', 'nat', '-X', c]); }
}
