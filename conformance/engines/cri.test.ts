/**
 * Kubernetes on runts: this file plays the kubelet. It speaks the CRI (gRPC,
 * runtime.v1) to a private containerd 1.6 whose CRI plugin runs every pod and
 * container through the runc v2 shim with runts as BinaryName (cri-env.ts),
 * and asserts what the API reports and what the kernel shows: namespaces by
 * /proc/PID/ns, cgroup files, mounts, the pod network. RUNTS_CRI_RUNTIME=
 * /usr/sbin/runc runs the same scenarios against runc (the suite's own check).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import t from 'tap';
import { check } from '../lib/check.js';
import { hostMountsUnder, processGone, waitFor } from '../lib/runtime.js';
import type { Msg } from './cri-client.js';
import { CRI_RUNTIME_NAME, criMissing, CriEnv } from './cri-env.js';
import { cgroupDirs, cgroupOf, NS_SCRIPT, parseNs } from './lib.js';

t.setTimeout(20 * 60_000);
const why = criMissing();
if (why) t.plan(0, `containerd CRI: ${why}`);
else tests();

interface Pod { id: string; cfg: Msg; pid: number; ip: string; uid: string }
interface Ctr { id: string; pid: number }

function tests(): void {
  const env = new CriEnv();
  let left: string[] | null = null;
  t.teardown(async () => { left ??= await env.teardown(); });
  const cri = () => env.client!;
  let seq = 0;
  const ns = (pid: number | 'self', n: string) => fs.readlinkSync(`/proc/${pid}/ns/${n}`);
  const text = (b: unknown) => Buffer.from((b as Uint8Array | undefined) ?? []).toString();
  const cgroupFile = (pid: number, ctl: string, file: string) => fs.readFileSync(`/sys/fs/cgroup/${ctl}${cgroupOf(pid, ctl)}/${file}`, 'utf8').trim();
  const infoOf = (r: Msg) => JSON.parse(r.info?.info ?? '{}') as Msg;

  /**
   * RunPodSandbox the way the kubelet does: cgroupfs driver, cgroup_parent /<kubepods>/burstable/pod<uid>;
   * namespace options network POD, pid CONTAINER (POD with shareProcessNamespace), ipc POD; a hostname only
   * when the pod has its own network (host-network pods keep the node's uts namespace, no hostname).
   */
  async function runPod(name: string, nsOpts: Msg = {}, extra: Msg = {}, securityContext: Msg = {}): Promise<Pod> {
    const uid = `${env.tag}-${++seq}`;
    const options = { network: 'POD', pid: 'CONTAINER', ipc: 'POD', ...nsOpts };
    const cfg = {
      metadata: { name, uid, namespace: 'runts-cri', attempt: 0 },
      hostname: options.network === 'NODE' ? '' : name,
      log_directory: path.join(env.logDir, uid),
      ...extra,
      linux: { ...extra.linux, cgroup_parent: env.podCgroup(uid), security_context: { ...securityContext, namespace_options: options } },
    };
    const r = await cri().rt('RunPodSandbox', { config: cfg });
    const st = await cri().rt('PodSandboxStatus', { pod_sandbox_id: r.pod_sandbox_id, verbose: true });
    return { id: r.pod_sandbox_id, cfg, pid: Number(infoOf(st).pid), ip: st.status.network?.ip ?? '', uid };
  }

  /**
   * CreateContainer + StartContainer in a pod; the host pid from the verbose status. Like the kubelet, the
   * container's security context repeats the pod's namespace options (containerd reads pid from there).
   */
  async function runCtr(pod: Pod, name: string, command: string[], extra: Msg = {}, attempt = 0): Promise<Ctr> {
    const linux = { ...extra.linux, security_context: { namespace_options: pod.cfg.linux.security_context.namespace_options, ...extra.linux?.security_context } };
    const config = { metadata: { name, attempt }, image: { image: env.image }, command, log_path: `${name}-${attempt}.log`, ...extra, linux };
    const c = await cri().rt('CreateContainer', { pod_sandbox_id: pod.id, config, sandbox_config: pod.cfg });
    await cri().rt('StartContainer', { container_id: c.container_id });
    return { id: c.container_id, pid: await ctrPid(c.container_id) };
  }

  async function ctrPid(id: string): Promise<number> {
    return Number(infoOf(await cri().rt('ContainerStatus', { container_id: id, verbose: true })).pid);
  }

  /**
   * /proc/PID/status once the process runs its own program: StartContainer can return while the runtime's init
   * is still on its way to execve (credentials and capabilities change at the exec).
   */
  function statusAfterExec(pid: number, comm: string): string {
    waitFor(() => { try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm; } catch { return true; } }, 10_000, 20);
    return fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  }

  async function ctrStatus(id: string): Promise<Msg> {
    return (await cri().rt('ContainerStatus', { container_id: id })).status;
  }

  async function waitExited(id: string, ms = 30_000): Promise<Msg> {
    const end = Date.now() + ms;
    let st = await ctrStatus(id);
    while (st.state !== 'CONTAINER_EXITED' && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      st = await ctrStatus(id);
    }
    return st;
  }

  async function execSync(id: string, cmd: string[], timeout = 0): Promise<{ code: number; out: string; err: string }> {
    const r = await cri().rt('ExecSync', { container_id: id, cmd, timeout });
    return { code: r.exit_code, out: text(r.stdout), err: text(r.stderr) };
  }

  /** The kubelet's pod teardown. */
  async function removePod(pod: Pod): Promise<void> {
    await cri().rt('StopPodSandbox', { pod_sandbox_id: pod.id });
    await cri().rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
  }

  /** The namespaces joined by path in a container's config.json, e.g. { network: '/proc/123/ns/net' }. */
  function joinedByPath(id: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const n of env.wrapper.configs().get(id)?.linux?.namespaces ?? []) if (n.path) out[n.type] = n.path;
    return out;
  }

  function tcpRead(host: string, port: number): Promise<string> {
    return new Promise((resolve) => {
      let data = '';
      const s = net.connect({ host, port, timeout: 5_000 });
      s.on('data', (d) => { data += d.toString(); });
      s.on('timeout', () => { s.destroy(); resolve(`timeout; got ${JSON.stringify(data)}`); });
      s.on('error', (e) => resolve(`error: ${e.message}`));
      s.on('close', () => resolve(data));
    });
  }

  check(`cri: containerd's CRI plugin is up with ${CRI_RUNTIME_NAME} as the runc v2 BinaryName, images imported`, [], async (t) => {
    const err = await env.start();
    if (!t.equal(err, null, `containerd CRI: ${err ?? 'ready'}${err ? ` | ${env.log().trim().split('\n').slice(-3).join(' | ')}` : ''}`)) return;
    const v = await cri().rt('Version', { version: 'v1' });
    t.equal(v.runtime_api_version, 'v1', `runtime ${v.runtime_name} ${v.runtime_version}, CRI v1`);
    const st = await cri().rt('Status', {});
    t.same(st.status.conditions.map((c: Msg) => [c.type, c.status]), [['RuntimeReady', true], ['NetworkReady', true]], 'RuntimeReady and NetworkReady (the CNI config is loaded)');
    t.equal(env.importImages(), null, 'the pause, busybox and busybox-user images are built and imported');
    const tags = ((await cri().img('ListImages', {})).images as Msg[]).flatMap((i) => i.repo_tags);
    for (const i of [env.pauseImage, env.image, env.userImage]) t.ok(tags.includes(i), `ListImages: ${i}`);
  });

  check('cri: a pod with its own network namespace (CNI bridge + loopback), its IP reachable from the host', [], async (t) => {
    const pod = await runPod('net');
    t.match(pod.ip, new RegExp(`^${env.net.replace(/\./g, '\\.')}\\.\\d+$`), `PodSandboxStatus: the pod IP ${pod.ip} is in the CNI subnet ${env.net}.0/24`);
    t.ok(pod.pid > 0 && !processGone(pod.pid), `the pause process runs (pid ${pod.pid})`);
    t.not(ns(pod.pid, 'net'), ns('self', 'net'), 'the pause has a network namespace of its own');
    const handle = joinedByPath(pod.id).network;
    t.ok(handle?.startsWith(env.netnsDir), `the pause joined containerd's netns handle by path (${handle})`);
    if (handle) t.equal(fs.statSync(handle).ino, fs.statSync(`/proc/${pod.pid}/ns/net`).ino, 'the handle is the pause\'s network namespace');
    t.equal(env.bridgePorts().length, 1, `one veth on the bridge ${env.bridge}`);
    const c = await runCtr(pod, 'server', ['nc', '-ll', '-p', '8080', '-e', 'echo', 'hello from the pod']);
    t.equal(ns(c.pid, 'net'), ns(pod.pid, 'net'), 'the container is in the pause\'s network namespace');
    const ip = await execSync(c.id, ['ip', '-o', 'addr']);
    t.match(ip.out, new RegExp(`eth0\\s+inet ${pod.ip.replace(/\./g, '\\.')}/24`), 'inside: eth0 has the pod IP');
    t.match(ip.out, /lo\s+inet 127\.0\.0\.1\/8/, 'inside: lo has 127.0.0.1 (the loopback plugin)');
    const files = await execSync(c.id, ['sh', '-c', 'hostname; cat /etc/hostname; grep -c . /etc/resolv.conf >/dev/null && echo resolv']);
    t.equal(files.out, 'net\nnet\nresolv\n', 'inside: the pod\'s hostname, /etc/hostname and /etc/resolv.conf from the sandbox');
    const flags = await execSync(c.id, ['cat', '/sys/class/net/lo/flags']);
    t.ok(Number(flags.out.trim()) & 1, `inside: lo is up (flags ${flags.out.trim()})`);
    let got = '';
    for (let i = 0; i < 50 && !got.includes('hello'); i++) {
      got = await tcpRead(pod.ip, 8080);
      if (!got.includes('hello')) await new Promise((r) => setTimeout(r, 100));
    }
    t.equal(got.trim(), 'hello from the pod', `the host connects to ${pod.ip}:8080 in the pod`);
    t.ok(env.natRules().length > 0, 'the bridge plugin masquerades the pod IP (iptables nat rules for this network)');
    await removePod(pod);
    t.equal(env.bridgePorts().length, 0, 'after RemovePodSandbox: no veth on the bridge');
    t.same(env.natRules(), [], 'after RemovePodSandbox: no iptables nat rule for this network');
  });

  check('cri: a pod with network NODE runs in the host\'s network namespace', [], async (t) => {
    const pod = await runPod('hostnet', { network: 'NODE' });
    t.equal(pod.ip, '', 'PodSandboxStatus: no pod IP of its own (the node\'s network)');
    t.equal(ns(pod.pid, 'net'), ns('self', 'net'), 'the pause is in the host\'s network namespace');
    t.notOk((env.wrapper.configs().get(pod.id)?.linux?.namespaces ?? []).some((n: Msg) => n.type === 'network'), 'config.json: no network namespace at all');
    t.equal(env.bridgePorts().length, 0, 'no veth on the bridge');
    const c = await runCtr(pod, 'app', ['sleep', '3600']);
    t.equal(ns(c.pid, 'net'), ns('self', 'net'), 'the container is in the host\'s network namespace');
    t.equal(ns(c.pid, 'uts'), ns('self', 'uts'), 'and in the host\'s uts namespace (no hostname from the kubelet)');
    t.equal(ns(c.pid, 'ipc'), ns(pod.pid, 'ipc'), 'but in the pod\'s ipc namespace');
    t.not(ns(c.pid, 'ipc'), ns('self', 'ipc'), 'which is not the host\'s');
    const links = await execSync(c.id, ['ls', '/sys/class/net']);
    t.match(links.out, /eth0/, 'inside: the host\'s eth0 is there');
    await removePod(pod);
  });

  check('cri: a container\'s oom_score_adj (a burstable pod\'s 500)', [], async (t) => {
    const pod = await runPod('oom-score');
    const c = await runCtr(pod, 'app', ['sleep', '3600'], { linux: { resources: { oom_score_adj: 500 } } });
    t.equal(fs.readFileSync(`/proc/${c.pid}/oom_score_adj`, 'utf8').trim(), '500', 'the container: 500');
    t.equal(env.wrapper.configs().get(c.id)?.process?.oomScoreAdj, 500, 'config.json: process.oomScoreAdj 500');
    await removePod(pod);
  });

  check('cri: the pause gets the kubelet\'s oom_score_adj -998', [], async (t) => {
    const pod = await runPod('oom-score-pause');
    t.equal(fs.readFileSync(`/proc/${pod.pid}/oom_score_adj`, 'utf8').trim(), '-998', 'the pause: -998');
    await removePod(pod);
  }, { skip: env.canLowerOomScore ? undefined : 'this machine lacks CAP_SYS_RESOURCE: no runtime can lower oom_score_adj below its own (containerd runs with restrict_oom_score_adj)' });

  check('cri: two containers in one pod share the pause\'s net/ipc/uts namespaces by path; with pid POD they see each other', [], async (t) => {
    const pod = await runPod('shared', { pid: 'POD' });
    const a = await runCtr(pod, 'a', ['sleep', '1001']);
    const b = await runCtr(pod, 'b', ['sleep', '1002']);
    for (const n of ['net', 'ipc', 'uts', 'pid']) {
      t.equal(ns(a.pid, n), ns(pod.pid, n), `a: the pause's ${n} namespace`);
      t.equal(ns(b.pid, n), ns(pod.pid, n), `b: the pause's ${n} namespace`);
    }
    t.not(ns(a.pid, 'mnt'), ns(b.pid, 'mnt'), 'each container has its own mount namespace');
    t.not(ns(a.pid, 'pid'), ns('self', 'pid'), 'the pod\'s pid namespace is not the host\'s');
    const joined = joinedByPath(a.id);
    for (const [type, f] of [['network', 'net'], ['ipc', 'ipc'], ['uts', 'uts'], ['pid', 'pid']]) t.equal(joined[type!], `/proc/${pod.pid}/ns/${f}`, `config.json of a: ${type} joined by path /proc/<pause>/ns/${f}`);
    const seen = parseNs((await execSync(b.id, ['sh', '-c', NS_SCRIPT])).out);
    t.equal(seen.hostname, 'shared', 'inside b: the pod\'s hostname');
    const ps = (await execSync(b.id, ['ps', '-o', 'pid,args'])).out;
    t.match(ps, /^\s*1\s+\/pause\s*$/m, 'inside b: the pause is pid 1');
    t.match(ps, /sleep 1001/, 'inside b: a\'s process is visible');
    const ipc = await execSync(a.id, ['sh', '-c', 'echo shared-ipc > /dev/shm/x; cat /dev/shm/x']);
    t.equal(ipc.out, 'shared-ipc\n', 'a writes /dev/shm (the pod\'s shm)');
    t.equal((await execSync(b.id, ['cat', '/dev/shm/x'])).out, 'shared-ipc\n', 'b reads what a wrote in /dev/shm');
    const other = await runPod('private-pid');
    const c = await runCtr(other, 'c', ['sleep', '1003']);
    t.not(ns(c.pid, 'pid'), ns(other.pid, 'pid'), 'pid CONTAINER (the kubelet\'s default): a pid namespace of its own');
    t.notMatch((await execSync(c.id, ['ps', '-o', 'args'])).out, /\/pause/, 'pid CONTAINER: the pause is not visible');
    t.equal(ns(c.pid, 'net'), ns(other.pid, 'net'), 'pid CONTAINER: still the pause\'s network namespace');
    await removePod(pod);
    await removePod(other);
  });

  check('cri: with pid POD, a container that exits takes its own leftover processes only (the shim\'s kill --all)', [], async (t) => {
    const pod = await runPod('killall', { pid: 'POD' });
    const stay = await runCtr(pod, 'stay', ['sleep', '2001']);
    const leave = await runCtr(pod, 'leave', ['sh', '-c', 'sleep 2002 & echo started; sleep 0.5; exit 0']);
    const st = await waitExited(leave.id);
    t.equal(st.exit_code, 0, 'the container\'s main process exited 0');
    const orphans = () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && !processGone(Number(p))).filter((p) => { try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\0' + '2002\0'; } catch { return false; } });
    t.ok(waitFor(() => orphans().length === 0, 10_000, 50), `its background child (sleep 2002) was killed with it (${orphans().join(' ') || 'none left'})`);
    t.ok(env.wrapper.calls().some((a) => a.includes(leave.id) && a.includes('kill') && a.includes('--all')), 'the shim called kill --all ID 9');
    t.notOk(processGone(stay.pid), 'the other container still runs');
    t.notOk(processGone(pod.pid), 'the pause still runs');
    t.equal((await ctrStatus(stay.id)).state, 'CONTAINER_RUNNING', 'ContainerStatus: the other is RUNNING');
    await removePod(pod);
  });

  check('cri: ExecSync (the probes\' call): exit codes, stdout and stderr, a timeout', [], async (t) => {
    const pod = await runPod('exec');
    const c = await runCtr(pod, 'app', ['sleep', '3600']);
    const ok = await execSync(c.id, ['sh', '-c', 'echo out; echo err >&2']);
    t.same(ok, { code: 0, out: 'out\n', err: 'err\n' }, 'exit 0, stdout and stderr apart');
    t.equal((await execSync(c.id, ['sh', '-c', 'exit 7'])).code, 7, 'exit 7');
    t.equal((await execSync(c.id, ['false'])).code, 1, 'false: exit 1');
    // a probe's default timeoutSeconds is 1: how long an ExecSync takes here (a comment, not an assertion; npm run bench measures speed)
    const took: number[] = [];
    for (let i = 0; i < 5; i++) { const t0 = process.hrtime.bigint(); await execSync(c.id, ['true']); took.push(Number(process.hrtime.bigint() - t0) / 1e6); }
    t.comment(`ExecSync true with ${CRI_RUNTIME_NAME}: ${took.map((x) => x.toFixed(0)).join(' ')} ms`);
    const inside = parseNs((await execSync(c.id, ['sh', '-c', NS_SCRIPT])).out);
    for (const n of ['net', 'ipc', 'uts', 'pid', 'mnt']) t.equal(inside.ns[n], ns(c.pid, n), `the exec is in the container's ${n} namespace`);
    t.equal((await execSync(c.id, ['cat', '/proc/self/cgroup'])).out.split('\n').find((l) => /:memory:/.test(l))?.split(':')[2], cgroupOf(c.pid), 'the exec is in the container\'s memory cgroup');
    let err = '';
    try { await execSync(c.id, ['sleep', '4242'], 1); } catch (e) { err = (e as Error).message; }
    t.match(err, /timeout/i, `a 1 s timeout: ExecSync fails (${err})`);
    t.ok(waitFor(() => !fs.readFileSync(`/sys/fs/cgroup/memory${cgroupOf(c.pid)}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)
      .some((p) => { try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('4242'); } catch { return false; } }), 10_000, 100), 'the timed-out exec process was killed');
    t.equal((await ctrStatus(c.id)).state, 'CONTAINER_RUNNING', 'the container still runs');
    t.ok(env.wrapper.calls().some((a) => a.includes(c.id) && a.includes('exec') && a.includes('--detach')), `${CRI_RUNTIME_NAME} exec --process F --detach --pid-file P ID`);
    await removePod(pod);
  });

  check('cri: limits in the container\'s cgroup under the pod\'s cgroup parent; UpdateContainerResources; ContainerStats', [], async (t) => {
    // the kubelet makes the pod cgroup and limits it before RunPodSandbox
    const uid = `${env.tag}-${seq + 1}`;
    const podMem = `/sys/fs/cgroup/memory${env.podCgroup(uid)}`;
    fs.mkdirSync(podMem, { recursive: true });
    fs.writeFileSync(path.join(podMem, 'memory.limit_in_bytes'), String(256 << 20));
    const pod = await runPod('limits');
    t.equal(pod.uid, uid);
    t.equal(cgroupOf(pod.pid), `${env.podCgroup(uid)}/${pod.id}`, 'the pause\'s cgroup: <cgroup_parent>/<sandbox id>');
    const c = await runCtr(pod, 'app', ['sh', '-c', 'while :; do i=0; while [ $i -lt 5000 ]; do i=$((i+1)); done; sleep 0.2; done'], {
      linux: { resources: { memory_limit_in_bytes: 64 << 20, cpu_period: 100_000, cpu_quota: 20_000, cpu_shares: 512 } },
    });
    t.equal(env.wrapper.configs().get(c.id)?.linux?.cgroupsPath, `${env.podCgroup(uid)}/${c.id}`, 'config.json: cgroupsPath <cgroup_parent>/<container id>');
    for (const ctl of ['memory', 'cpu', 'cpuset', 'pids', 'devices', 'freezer', 'blkio']) t.equal(cgroupOf(c.pid, ctl), `${env.podCgroup(uid)}/${c.id}`, `${ctl}: the container's cgroup is under the pod's`);
    t.equal(cgroupFile(c.pid, 'memory', 'memory.limit_in_bytes'), String(64 << 20), 'memory.limit_in_bytes 64 MiB');
    t.equal(cgroupFile(c.pid, 'cpu', 'cpu.cfs_quota_us'), '20000', 'cpu.cfs_quota_us 20000');
    t.equal(cgroupFile(c.pid, 'cpu', 'cpu.cfs_period_us'), '100000', 'cpu.cfs_period_us 100000');
    t.equal(cgroupFile(c.pid, 'cpu', 'cpu.shares'), '512', 'cpu.shares 512');
    t.equal(fs.readFileSync(path.join(podMem, 'memory.limit_in_bytes'), 'utf8').trim(), String(256 << 20), 'the pod\'s own limit (the kubelet\'s) is untouched');
    t.equal((await execSync(c.id, ['sh', '-c', 'cat /proc/self/cgroup'])).out.split('\n').find((l) => /:memory:/.test(l))?.split(':')[2], `${env.podCgroup(uid)}/${c.id}`, 'inside: /proc/self/cgroup names the same memory cgroup');

    await cri().rt('UpdateContainerResources', { container_id: c.id, linux: { memory_limit_in_bytes: 96 << 20, cpu_period: 100_000, cpu_quota: 50_000, cpu_shares: 256 } });
    t.equal(cgroupFile(c.pid, 'memory', 'memory.limit_in_bytes'), String(96 << 20), 'after the update: memory.limit_in_bytes 96 MiB');
    t.equal(cgroupFile(c.pid, 'cpu', 'cpu.cfs_quota_us'), '50000', 'after the update: cpu.cfs_quota_us 50000');
    t.equal(cgroupFile(c.pid, 'cpu', 'cpu.shares'), '256', 'after the update: cpu.shares 256');
    // new cpuset cgroups start empty on v1: the runtime fills the pod's levels it made from their parents
    t.equal(cgroupFile(c.pid, 'cpuset', 'cpuset.cpus'), fs.readFileSync('/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8').trim(), 'cpuset.cpus: the host\'s (inherited through the pod\'s levels)');
    await cri().rt('UpdateContainerResources', { container_id: c.id, linux: { memory_limit_in_bytes: 96 << 20, cpu_period: 100_000, cpu_quota: 50_000, cpu_shares: 256, cpuset_cpus: '0' } });
    t.equal(cgroupFile(c.pid, 'cpuset', 'cpuset.cpus'), '0', 'after an update with cpuset_cpus 0: cpuset.cpus 0');
    t.ok(env.wrapper.calls().some((a) => a.includes(c.id) && a.includes('update')), `the shim called ${CRI_RUNTIME_NAME} update`);
    const st = await ctrStatus(c.id);
    t.equal(st.resources?.linux?.memory_limit_in_bytes, 96 << 20, 'ContainerStatus reports the new memory limit');

    const stats = (await cri().rt('ContainerStats', { container_id: c.id })).stats;
    t.equal(stats.attributes.id, c.id, 'ContainerStats: the container\'s id');
    const usage = Number(cgroupFile(c.pid, 'memory', 'memory.usage_in_bytes'));
    t.ok(stats.memory.working_set_bytes.value > 0 && stats.memory.working_set_bytes.value <= usage * 2, `ContainerStats: memory working set ${stats.memory.working_set_bytes.value} (cgroup usage ${usage})`);
    const cpuNow = Number(cgroupFile(c.pid, 'cpuacct', 'cpuacct.usage'));
    t.ok(stats.cpu.usage_core_nano_seconds.value > 0 && stats.cpu.usage_core_nano_seconds.value <= cpuNow, `ContainerStats: cpu ${stats.cpu.usage_core_nano_seconds.value} ns <= cpuacct.usage ${cpuNow}`);
    const list = (await cri().rt('ListContainerStats', { filter: { pod_sandbox_id: pod.id } })).stats as Msg[];
    t.same(list.map((s) => s.attributes.id), [c.id], 'ListContainerStats of the pod: the one container');
    await removePod(pod);
    t.same(cgroupDirs(`pod${uid}`).filter((d) => !d.endsWith(`/pod${uid}`)), [], 'after RemovePodSandbox: no cgroup below the pod\'s (the pause\'s and the container\'s are gone)');
  });

  check('cri: StopContainer with a grace period: SIGTERM, then SIGKILL after the grace', [], async (t) => {
    const pod = await runPod('stop');
    const stubborn = await runCtr(pod, 'stubborn', ['sh', '-c', 'trap "echo got TERM" TERM; echo ready; while :; do sleep 0.1; done']);
    const polite = await runCtr(pod, 'polite', ['sh', '-c', 'trap "echo bye; exit 0" TERM; echo ready; while :; do sleep 0.1; done']);
    const logOf = (name: string) => { try { return fs.readFileSync(path.join(pod.cfg.log_directory, `${name}-0.log`), 'utf8'); } catch { return ''; } };
    t.ok(waitFor(() => logOf('stubborn').includes('ready') && logOf('polite').includes('ready'), 10_000, 50), 'both wrote "ready" (their TERM traps are set)');
    await cri().rt('StopContainer', { container_id: polite.id, timeout: 30 });
    const ps = await ctrStatus(polite.id);
    t.equal(ps.state, 'CONTAINER_EXITED', 'the polite container exited');
    t.equal(ps.exit_code, 0, 'exit 0 from its TERM trap (no SIGKILL needed)');
    t.match(logOf('polite'), /stdout F bye/, 'its log (CRI format) has what the trap printed');
    await cri().rt('StopContainer', { container_id: stubborn.id, timeout: 2 });
    const ss = await ctrStatus(stubborn.id);
    t.equal(ss.state, 'CONTAINER_EXITED', 'the stubborn container exited');
    t.equal(ss.exit_code, 137, 'exit 137: SIGKILL ended it');
    t.match(logOf('stubborn'), /stdout F got TERM/, 'it got SIGTERM first (its trap printed)');
    t.ok(processGone(stubborn.pid) && processGone(polite.pid), 'both processes are gone');
    const sigs = env.wrapper.calls().filter((a) => a.includes(stubborn.id) && a.includes('kill')).map((a) => a[a.length - 1]);
    t.same(sigs.slice(0, 2), ['15', '9'], `the shim called kill ID 15, then kill ID 9 (${sigs.join(' ')})`);
    t.notOk(fs.existsSync(path.join(env.stateRoot, stubborn.id)), `no ${CRI_RUNTIME_NAME} state for the exited container (the shim deleted it)`);
    const now = await runCtr(pod, 'now', ['sh', '-c', 'trap "echo got TERM" TERM; while :; do sleep 0.1; done']);
    await cri().rt('StopContainer', { container_id: now.id, timeout: 0 });
    const ns0 = await ctrStatus(now.id);
    t.same([ns0.state, ns0.exit_code], ['CONTAINER_EXITED', 137], 'timeout 0: killed at once (exit 137)');
    await cri().rt('RemoveContainer', { container_id: polite.id });
    const running = await runCtr(pod, 'running', ['sleep', '3600']);
    await cri().rt('RemoveContainer', { container_id: running.id });
    t.ok(processGone(running.pid), 'RemoveContainer of a running container kills it');
    t.notOk(fs.existsSync(path.join(env.stateRoot, running.id)), `and leaves no ${CRI_RUNTIME_NAME} state`);
    await removePod(pod);
  });

  check('cri: a container restarted in the same sandbox (create + start again after it exited)', [], async (t) => {
    const pod = await runPod('restart');
    const first = await runCtr(pod, 'app', ['sh', '-c', 'echo run; hostname; exit 3']);
    const st1 = await waitExited(first.id);
    t.equal(st1.state, 'CONTAINER_EXITED', 'attempt 0 exited');
    t.equal(st1.exit_code, 3, 'attempt 0: exit 3');
    t.match(st1.log_path, /app-0\.log$/, 'its log path');
    t.match(fs.readFileSync(st1.log_path, 'utf8'), /stdout F run\n.*stdout F restart\n/s, 'its log has its output (CRI log format)');
    const second = await runCtr(pod, 'app', ['sh', '-c', 'echo again; sleep 3600'], {}, 1);
    t.not(second.id, first.id, 'attempt 1 is a new container');
    t.equal((await ctrStatus(second.id)).state, 'CONTAINER_RUNNING', 'attempt 1 runs');
    t.equal(ns(second.pid, 'net'), ns(pod.pid, 'net'), 'attempt 1 is in the same pod network namespace');
    const list = ((await cri().rt('ListContainers', { filter: { pod_sandbox_id: pod.id } })).containers as Msg[]).map((c) => [c.metadata.attempt, c.state]).sort();
    t.same(list, [[0, 'CONTAINER_EXITED'], [1, 'CONTAINER_RUNNING']], 'ListContainers: attempt 0 exited, attempt 1 running');
    await cri().rt('RemoveContainer', { container_id: first.id });
    t.equal(((await cri().rt('ListContainers', { filter: { pod_sandbox_id: pod.id } })).containers as Msg[]).length, 1, 'RemoveContainer of attempt 0');
    await removePod(pod);
  });

  check('cri: a container whose image user is non-root (USER app from the image\'s /etc/passwd)', [], async (t) => {
    const pod = await runPod('user');
    const c = await runCtr(pod, 'app', ['sleep', '3600'], { image: { image: env.userImage } });
    const status = statusAfterExec(c.pid, 'sleep');
    t.match(status, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m, 'the process runs as uid 1000 (real, effective, saved, fs)');
    t.match(status, /^Gid:\s+1000\s+1000\s+1000\s+1000$/m, 'gid 1000');
    const user = env.wrapper.configs().get(c.id)?.process?.user ?? {};
    t.same([user.uid, user.gid], [1000, 1000], 'config.json: containerd resolved USER app to 1000:1000 from the image\'s /etc/passwd');
    const groups = /^Groups:\s*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/).filter(Boolean).map(Number).sort() ?? [];
    t.same(groups, [...new Set<number>(user.additionalGids ?? [])].sort(), `the supplementary groups are config.json's additionalGids (${groups.join(' ')})`);
    t.match(status, /^CapEff:\s+0+$/m, 'no effective capabilities for a non-root user');
    const id = await execSync(c.id, ['sh', '-c', 'id; pwd; touch /home/app/mine && echo home-writable; touch /etc/x 2>&1 || true']);
    t.match(id.out, /uid=1000\(app\) gid=1000\(app\)/, `inside: ${id.out.split('\n')[0]}`);
    t.match(id.out, /^\/home\/app$/m, 'the image\'s WorkingDir');
    t.match(id.out, /home-writable/, 'the user writes its own home');
    t.match(id.out, /Permission denied/, 'but not /etc');
    await removePod(pod);
  });

  check('cri: a read-only rootfs with an emptyDir-like bind mount', [], async (t) => {
    const pod = await runPod('ro');
    const emptyDir = path.join(env.dir, 'emptydir');
    fs.mkdirSync(emptyDir);
    const c = await runCtr(pod, 'app', ['sleep', '3600'], {
      mounts: [{ container_path: '/data', host_path: emptyDir }],
      linux: { security_context: { readonly_rootfs: true } },
    });
    t.equal(env.wrapper.configs().get(c.id)?.root?.readonly, true, 'config.json: root.readonly');
    const r = await execSync(c.id, ['sh', '-c', 'touch /x 2>&1; echo written > /data/f && echo data-ok; grep " / " /proc/self/mounts']);
    t.match(r.out, /Read-only file system/, 'the root is read-only');
    t.match(r.out, /data-ok/, '/data is writable');
    t.equal(fs.readFileSync(path.join(emptyDir, 'f'), 'utf8'), 'written\n', 'the host sees the file in the emptyDir');
    t.match(r.out, /^\S+ \/ \S+ ro[,\s]/m, '/proc/self/mounts: / is ro');
    await removePod(pod);
  });

  check('cri: a kubelet-shaped container: /etc/hosts and /dev/termination-log file mounts, a read-only config dir, env, workdir, RuntimeDefault seccomp, drop ALL + add NET_BIND_SERVICE, pod sysctls', [], async (t) => {
    const pod = await runPod('kubelet', {}, { linux: { sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shm_rmid_forced': '1' } } });
    const kd = path.join(env.dir, 'kubelet-pod');
    fs.mkdirSync(path.join(kd, 'config'), { recursive: true });
    fs.writeFileSync(path.join(kd, 'hosts'), `127.0.0.1\tlocalhost\n${pod.ip}\tkubelet\n`);
    fs.writeFileSync(path.join(kd, 'termination-log'), '');
    fs.writeFileSync(path.join(kd, 'config/key'), 'value-from-configmap\n');
    const c = await runCtr(pod, 'app', ['sleep', '3600'], {
      // KeyValue.value is bytes in this proto (string in containerd 1.6's: the same wire format); a JS string would be read as base64
      envs: [{ key: 'FOO', value: Buffer.from('bar') }], working_dir: '/tmp',
      mounts: [
        { container_path: '/etc/hosts', host_path: path.join(kd, 'hosts') },
        { container_path: '/dev/termination-log', host_path: path.join(kd, 'termination-log') },
        { container_path: '/etc/config', host_path: path.join(kd, 'config'), readonly: true },
      ],
      linux: {
        security_context: {
          seccomp: { profile_type: 'RuntimeDefault' }, capabilities: { drop_capabilities: ['ALL'], add_capabilities: ['NET_BIND_SERVICE'] },
          // the kubelet's defaults (procMount Default)
          masked_paths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'],
          readonly_paths: ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
        },
      },
    });
    const st = statusAfterExec(c.pid, 'sleep');
    t.match(st, /^Seccomp:\s+2$/m, 'RuntimeDefault: a seccomp filter (Seccomp: 2)');
    t.match(st, /^CapEff:\s+0+400$/m, 'CapEff: NET_BIND_SERVICE only');
    t.match(st, /^CapBnd:\s+0+400$/m, 'CapBnd: NET_BIND_SERVICE only');
    const r = await execSync(c.id, ['sh', '-c', 'echo "FOO=$FOO"; pwd; cat /etc/hosts; echo "the end" > /dev/termination-log; cat /etc/config/key; touch /etc/config/new 2>&1; cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shm_rmid_forced; nc -l -p 80 -w 1 2>&1 & sleep 0.3; kill $! 2>/dev/null; echo bound']);
    t.match(r.out, /^FOO=bar$/m, 'the env');
    t.match(r.out, /^\/tmp$/m, 'the working dir');
    t.match(r.out, new RegExp(`kubelet\n`), 'the kubelet\'s /etc/hosts file is mounted');
    t.equal(fs.readFileSync(path.join(kd, 'termination-log'), 'utf8'), 'the end\n', 'the host reads the termination message (a file bind mount into /dev)');
    t.match(r.out, /^value-from-configmap$/m, 'the config dir');
    t.match(r.out, /Read-only file system/, 'the config dir is read-only');
    t.match(r.out, /^0\n1$/m, 'the pod\'s sysctls (net.ipv4.ip_unprivileged_port_start 0, kernel.shm_rmid_forced 1)');
    t.notMatch(r.out, /Permission denied|in use/i, 'port 80 can be bound (NET_BIND_SERVICE)');
    const seccomp = env.wrapper.configs().get(c.id)?.linux?.seccomp;
    t.equal(seccomp?.defaultAction, 'SCMP_ACT_ERRNO', 'config.json: containerd\'s default profile');
    const cfg = env.wrapper.configs().get(c.id)!;
    const masked = ((cfg.linux.maskedPaths ?? []) as string[]).filter((m) => m.startsWith('/proc/'));
    const probe = await execSync(c.id, ['sh', '-c', `for p in ${masked.join(' ')}; do if [ -d $p ]; then echo "$p $(ls $p | wc -l)"; elif [ -e $p ]; then echo "$p $(head -c 16 $p 2>/dev/null | wc -c)"; fi; done; echo x 2>&1 > /proc/sys/kernel/domainname || echo sys-ro`]);
    t.ok(masked.length > 0, `config.json masks ${masked.join(' ')}`);
    t.ok(probe.out.split('\n').filter((l) => l.startsWith('/proc/')).every((l) => l.endsWith(' 0')), `the masked paths read as empty (${probe.out.replace(/\n/g, ', ')})`);
    t.match(probe.out, /sys-ro/, '/proc/sys is read-only');
    const blocked = await execSync(c.id, ['sh', '-c', 'unshare -r true 2>&1; echo rc=$?']);
    t.match(blocked.out, /Operation not permitted[\s\S]*rc=1/, 'unshare is refused inside');
    await removePod(pod);
  });

  check('cri: a privileged pod and container (all capabilities, host devices, no seccomp)', [], async (t) => {
    const p = await runPod('privileged', {}, {}, { privileged: true });
    const c = await runCtr(p, 'app', ['sleep', '3600'], { linux: { security_context: { privileged: true } } });
    const mine = /^CapBnd:\s+(\S+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
    const st = statusAfterExec(c.pid, 'sleep');
    t.equal(/^CapEff:\s+(\S+)$/m.exec(st)?.[1], mine, `CapEff: every capability this host has (${mine})`);
    t.match(st, /^Seccomp:\s+0$/m, 'no seccomp filter');
    const r = await execSync(c.id, ['sh', '-c', 'ls /dev; grep " /sys " /proc/self/mounts']);
    t.match(r.out, /^kmsg$/m, 'the host\'s devices are in /dev (kmsg)');
    t.match(r.out, /^loop-control$/m, 'the host\'s devices are in /dev (loop-control)');
    // one sysfs superblock per network namespace: the container's sysfs mount shares the pause's. runc mounts the
    // pause's /sys with MS_RDONLY, which makes that superblock read-only, so a privileged container's "rw" /sys is
    // read-only all the same; runts makes the pause's mount read-only (bind remount) and leaves the superblock as is.
    const sysInfo = (pid: number) => fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/sys') ?? '';
    const superRo = (l: string) => (l.split(' - ')[1]?.split(' ')[2] ?? '').split(',').includes('ro');
    const sysfs = (env.wrapper.configs().get(c.id)?.mounts ?? []).find((m: Msg) => m.destination === '/sys');
    const ro = (sysfs?.options ?? []).includes('ro') || superRo(sysInfo(p.pid));
    t.match(r.out, new RegExp(` /sys sysfs ${ro ? 'ro' : 'rw'}[,\\s]`), `/sys is ${ro ? 'read-only' : 'read-write'}: config.json asks ${JSON.stringify(sysfs?.options)}, the pod's sysfs superblock is ${superRo(sysInfo(p.pid)) ? 'read-only' : 'read-write'} (pause: ${sysInfo(p.pid).split(' - ')[1]})`);
    t.equal(superRo(sysInfo(c.pid)), superRo(sysInfo(p.pid)), 'the container\'s sysfs is the pause\'s superblock (one per network namespace)');
    await removePod(p);
  });

  check('cri: a pod with pid and ipc NODE (hostPID, hostIPC)', [], async (t) => {
    const pod = await runPod('hostpid', { pid: 'NODE', ipc: 'NODE' });
    const c = await runCtr(pod, 'app', ['sleep', '3600']);
    t.equal(ns(c.pid, 'pid'), ns('self', 'pid'), 'the container is in the host\'s pid namespace');
    t.equal(ns(c.pid, 'ipc'), ns('self', 'ipc'), 'and the host\'s ipc namespace');
    t.not(ns(c.pid, 'net'), ns('self', 'net'), 'but the pod\'s own network namespace');
    const ps = await execSync(c.id, ['sh', '-c', 'cat /proc/1/comm; echo $$ > /dev/null; ls /proc | grep -c "^[0-9]"']);
    t.notMatch(ps.out.split('\n')[0]!, /^pause$/, `inside: pid 1 is the host's init (${ps.out.split('\n')[0]})`);
    await removePod(pod);
  });

  check('cri: a container with a terminal (tty: true): the console socket, the log', [], async (t) => {
    const pod = await runPod('tty');
    const c = await runCtr(pod, 'app', ['sh', '-c', 'tty; sleep 3600'], { tty: true, stdin: true });
    const log = path.join(pod.cfg.log_directory, 'app-0.log');
    t.ok(waitFor(() => { try { return /\/dev\/pts\/\d+/.test(fs.readFileSync(log, 'utf8')); } catch { return false; } }, 10_000, 50), 'the log has the tty the process sees (/dev/pts/N)');
    t.ok(env.wrapper.calls().some((a) => a.includes(c.id) && a.includes('create') && a.includes('--console-socket')), 'create got --console-socket');
    t.equal(env.wrapper.configs().get(c.id)?.process?.terminal, true, 'config.json: process.terminal');
    await removePod(pod);
  });

  check('cri: a device from the host (devices: /dev/null as /dev/xnull)', [], async (t) => {
    const pod = await runPod('dev');
    const c = await runCtr(pod, 'app', ['sleep', '3600'], { devices: [{ container_path: '/dev/xnull', host_path: '/dev/null', permissions: 'rwm' }] });
    const r = await execSync(c.id, ['sh', '-c', 'stat -c "%t:%T %F" /dev/xnull; echo x > /dev/xnull && echo written']);
    t.match(r.out, /^1:3 character special file$/m, 'the node is c 1:3');
    t.match(r.out, /written/, 'the device cgroup allows it');
    await removePod(pod);
  });

  check('cri: an OOM-killed container: exit 137, reason OOMKilled', [], async (t) => {
    const pod = await runPod('oom');
    const c = await runCtr(pod, 'app', ['sh', '-c', 'echo start; x=$(head -c 268435456 /dev/zero | tr "\\0" x); echo survived'], { linux: { resources: { memory_limit_in_bytes: 16 << 20 } } });
    const st = await waitExited(c.id);
    t.equal(st.state, 'CONTAINER_EXITED', 'it exited');
    t.equal(st.exit_code, 137, 'exit 137 (killed)');
    t.equal(st.reason, 'OOMKilled', 'ContainerStatus reason OOMKilled (the shim saw the memory cgroup\'s OOM event)');
    await removePod(pod);
  });

  check('cri: a missing executable: StartContainer fails with the runtime\'s reason, and nothing of the container is left', [], async (t) => {
    const pod = await runPod('missing');
    const config = { metadata: { name: 'app', attempt: 0 }, image: { image: env.image }, command: ['/no/such/binary'], log_path: 'app-0.log', linux: { security_context: { namespace_options: pod.cfg.linux.security_context.namespace_options } } };
    const c = await cri().rt('CreateContainer', { pod_sandbox_id: pod.id, config, sandbox_config: pod.cfg });
    let err = '';
    try { await cri().rt('StartContainer', { container_id: c.container_id }); } catch (e) { err = (e as Error).message; }
    t.match(err, /no such file or directory|executable file not found/i, `StartContainer fails: ${err}`);
    const st = await ctrStatus(c.container_id);
    t.equal(st.state, 'CONTAINER_EXITED', 'ContainerStatus: EXITED');
    t.equal(st.reason, 'StartError', 'reason StartError (what the kubelet shows as the container\'s state)');
    t.match(st.message, /\/no\/such\/binary/, 'the message names the executable');
    t.notOk(fs.existsSync(path.join(env.stateRoot, c.container_id)), `no ${CRI_RUNTIME_NAME} state left`);
    t.same(cgroupDirs(c.container_id), [], 'no cgroup left');
    t.equal((await ctrStatus((await runCtr(pod, 'next', ['sleep', '3600'])).id)).state, 'CONTAINER_RUNNING', 'the pod still runs other containers');
    await removePod(pod);
  });

  check('cri: containerd restarts under running pods: they keep running and stay manageable', [], async (t) => {
    const pod = await runPod('survivor', { pid: 'POD' });
    const c = await runCtr(pod, 'app', ['sleep', '3600']);
    const err = await env.restart();
    t.equal(err, null, `containerd restarted: ${err ?? 'ready'}`);
    t.notOk(processGone(pod.pid) || processGone(c.pid), 'the pause and the container ran on');
    t.equal((await cri().rt('PodSandboxStatus', { pod_sandbox_id: pod.id })).status.state, 'SANDBOX_READY', 'PodSandboxStatus: READY');
    t.equal((await ctrStatus(c.id)).state, 'CONTAINER_RUNNING', 'ContainerStatus: RUNNING');
    t.equal((await execSync(c.id, ['echo', 'still here'])).out, 'still here\n', 'ExecSync works');
    await cri().rt('UpdateContainerResources', { container_id: c.id, linux: { memory_limit_in_bytes: 48 << 20 } });
    t.equal(cgroupFile(c.pid, 'memory', 'memory.limit_in_bytes'), String(48 << 20), 'UpdateContainerResources works');
    await removePod(pod);
    t.ok(processGone(pod.pid) && processGone(c.pid), 'StopPodSandbox/RemovePodSandbox end them');
    t.same([pod.id, c.id].filter((id) => fs.existsSync(path.join(env.stateRoot, id))), [], `no ${CRI_RUNTIME_NAME} state left`);
  });

  check('cri: StopPodSandbox/RemovePodSandbox leave no process, mount, cgroup, netns or runtime state', [], async (t) => {
    const portsBefore = env.bridgePorts();
    const pod = await runPod('cleanup', { pid: 'POD' });
    t.ok(fs.existsSync(path.join(env.dir, 'cni/ipam', env.netName, pod.ip)), `host-local leased ${pod.ip}`);
    const a = await runCtr(pod, 'a', ['sleep', '3600']);
    const b = await runCtr(pod, 'b', ['sh', '-c', 'sleep 3600 & sleep 3601']);
    const ids = [pod.id, a.id, b.id];
    const handle = joinedByPath(pod.id).network!;
    t.ok(fs.existsSync(handle), `the netns handle exists (${handle})`);
    t.ok(ids.every((id) => fs.existsSync(path.join(env.stateRoot, id))), `${CRI_RUNTIME_NAME} state for the pause and both containers`);
    const mountsOf = () => hostMountsUnder(env.dir).filter((m) => ids.some((id) => m.includes(id)) || m === handle);
    t.ok(mountsOf().length > 0, `mounts while running: ${mountsOf().length}`);
    await cri().rt('StopPodSandbox', { pod_sandbox_id: pod.id });
    t.ok([pod.pid, a.pid, b.pid].every((p) => processGone(p)), 'after StopPodSandbox: the pause and the containers are gone');
    t.equal((await cri().rt('PodSandboxStatus', { pod_sandbox_id: pod.id })).status.state, 'SANDBOX_NOTREADY', 'PodSandboxStatus: NOTREADY');
    t.notOk(fs.existsSync(handle), 'the netns handle is gone');
    await cri().rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
    t.same((await cri().rt('ListPodSandbox', {})).items.filter((p: Msg) => p.id === pod.id), [], 'ListPodSandbox no longer lists it');
    t.same(mountsOf(), [], 'no mount of the pod left (rootfs, shm, netns)');
    t.same(ids.filter((id) => fs.existsSync(path.join(env.stateRoot, id))), [], `no ${CRI_RUNTIME_NAME} state left`);
    t.same(cgroupDirs(`pod${pod.uid}`).filter((d) => !d.endsWith(`/pod${pod.uid}`)), [], 'no cgroup below the pod\'s');
    const procs = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => { try { return fs.readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(`pod${pod.uid}/`); } catch { return false; } });
    t.same(procs, [], 'no process in the pod\'s cgroups');
    t.same(env.bridgePorts().filter((p) => !portsBefore.includes(p)), [], 'no veth of the pod on the bridge');
    t.notOk(fs.existsSync(path.join(env.dir, 'cni/ipam', env.netName, pod.ip)), `host-local released the pod IP ${pod.ip}`);
  });

  check('cri: nothing is left behind after the daemon stops (processes, shims, mounts, netns, cgroups, veths, iptables, runtime state)', [], async (t) => {
    left = await env.teardown();
    t.same(left, [], 'nothing of containerd, its shims, CNI or the runtime is left');
  });
}
