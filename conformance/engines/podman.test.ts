/**
 * podman 4.3 (with conmon) drives runts as its OCI runtime: a private podman
 * (storage, runroot, locks, events, cgroup parent in a temp dir), an image
 * imported from a busybox rootfs tar (no registry), and the checker as the
 * container process, compared with the config.json podman handed to runts.
 * shared/notes/engines.md has the argv podman and conmon use.
 */
import * as fs from 'node:fs';
import t from 'tap';
import { check, type TestT } from '../lib/check.js';
import { CHECKER_SOURCE, parseReport } from '../lib/checker.js';
import {
  compareCapabilities, compareCwd, compareDefaultDevices, compareDevSymlinks, compareEnv, compareMaskedPaths, compareMounts, compareNoNewPrivileges,
  compareReadonlyPaths, compareRlimits, compareRoot, compareUser,
} from '../lib/compare.js';
import { hostNamespaces, waitFor } from '../lib/runtime.js';
import { cgroupOf, engineMissing, freezerState, NS_SCRIPT, parseNs, Podman } from './lib.js';

// installing the packages (setup.sh) may take minutes when CI did not run it first
t.setTimeout(15 * 60_000);
const why = engineMissing(['podman', 'conmon']);
if (why) t.plan(0, `podman: ${why}`);
else tests();

function tests(): void {
  const pm = new Podman();
  let left: string[] | null = null;
  t.teardown(() => { left ??= pm.teardown(); });

  /** The id podman gave the newest container (from the wrapper's create log). */
  const lastCreate = () => {
    const c = pm.wrapper.calls().filter((a) => a.includes('create'));
    return c[c.length - 1]?.[c[c.length - 1]!.length - 1] ?? '';
  };
  /** The calls for one container id. */
  const callsFor = (id: string) => pm.wrapper.calls().filter((a) => a.includes(id));
  const fullId = (name: string) => pm.podman(['inspect', '-f', '{{.Id}}', name]).stdout.trim();
  const checker = (probes: string[] = []) => ['sh', '-c', CHECKER_SOURCE, 'checker', ...probes];
  const err = (r: { stderr: string }) => r.stderr.trim().split('\n').filter((l) => !/seccomp: syscall .* is not in runts' syscall tables/.test(l)).slice(-3).join(' | ');
  const PROC_NS: Record<string, string> = { net: 'network', ipc: 'ipc', uts: 'uts', pid: 'pid', mnt: 'mount' };
  /** The namespace entries of a captured config.json, by /proc/<pid>/ns name. */
  const nsEntries = (cfg: Record<string, any> | undefined) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const out: Record<string, { path?: string } | undefined> = {};
    for (const [proc, type] of Object.entries(PROC_NS)) out[proc] = (cfg?.linux?.namespaces ?? []).find((n: { type: string }) => n.type === type);
    return out;
  };

  check('podman: import a local image (no registry)', [], async (t) => {
    const r = pm.importImage();
    t.equal(r.code, 0, `podman import: ${err(r)}`);
    const images = pm.podman(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout;
    t.match(images, /localhost\/conf-busybox:latest/, 'the image is listed');
    t.match(images, /localhost\/conf-pause:latest/, 'the pod infra image (same rootfs, an entrypoint that waits for TERM) is listed');
  });

  check('podman run --rm: conmon create, podman start and delete --force, with the argv podman uses', [], async (t) => {
    const r = pm.podman(pm.runArgs(['--rm'], ['sh', '-c', 'echo hello from runts']));
    t.equal(r.code, 0, err(r));
    t.equal(r.stdout, 'hello from runts\n', 'the output reached podman');
    const id = lastCreate();
    const mine = callsFor(id);
    t.match(mine.map((a) => a.join(' ')).join('\n'), /^--log-format=json --log \S+ create --bundle \S+ --pid-file \S+ [0-9a-f]{64}$/m, 'conmon: --log-format=json --log F create --bundle B --pid-file P ID');
    t.ok(mine.some((a) => a[0] === 'start'), 'podman: start ID');
    t.ok(mine.some((a) => a[0] === 'delete' && a[1] === '--force'), 'podman: delete --force ID');
    t.equal(pm.podman(['ps', '-aq']).stdout.trim(), '', 'no container left');
    t.notOk(fs.existsSync(`${pm.wrapper.root}/${id}`), 'runts removed its state');
  });

  check('podman run: the container process matches the config.json podman wrote', [], async (t) => {
    const r = pm.podman(pm.runArgs(['--rm'], checker(['path:/proc/kcore', 'path:/proc/keys', 'path:/sys/firmware'])));
    t.equal(r.code, 0, err(r));
    const captured = pm.wrapper.configs().get(lastCreate());
    if (!t.ok(captured, 'config.json captured')) return;
    const cfg = captured!;
    const rep = parseReport(r.stdout);
    t.ok(rep.complete, 'the checker ran to the end');
    compareUser(t, rep, cfg);
    compareCwd(t, rep, cfg);
    compareEnv(t, rep, cfg);
    compareRlimits(t, rep, cfg);
    compareCapabilities(t, rep, cfg);
    compareNoNewPrivileges(t, rep, cfg);
    compareRoot(t, rep, cfg);
    compareMounts(t, rep, cfg);
    compareMaskedPaths(t, rep, cfg);
    compareReadonlyPaths(t, rep, cfg);
    compareDefaultDevices(t, rep);
    compareDevSymlinks(t, rep);
    t.equal(rep.status.Seccomp, cfg.linux?.seccomp ? '2' : '0', 'seccomp as configured');
    t.same([...rep.fds.keys()].sort(), [0, 1, 2], 'only stdio open');
  });

  check('podman run: exit codes, and 127 for a missing executable', [], async (t) => {
    t.equal(pm.podman(pm.runArgs(['--rm'], ['sh', '-c', 'exit 42'])).code, 42, 'the exit status of the process');
    const missing = pm.podman(pm.runArgs(['--rm'], ['/no/such/binary']));
    t.equal(missing.code, 127, `a missing executable gives 127 (${err(missing)})`);
    t.equal(pm.podman(['ps', '-aq']).stdout.trim(), '', 'no container left');
  });

  check('podman run --network none: lo is up in the new network namespace, 127.0.0.1 routes', [], async (t) => {
    const r = pm.podman(pm.runArgs(['--rm', '--network', 'none'], ['sh', '-c', 'cat /sys/class/net/lo/flags; nc 127.0.0.1 9 </dev/null 2>&1; true']));
    t.equal(r.code, 0, err(r));
    const net = nsEntries(pm.wrapper.configs().get(lastCreate())).net;
    t.ok(net && !net.path, 'podman asked for a new network namespace');
    const [flags] = r.stdout.split('\n');
    t.ok(Number(flags) & 1, `lo is IFF_UP (flags ${flags})`);
    t.match(r.stdout, /refused/i, 'a connect to a closed port on 127.0.0.1 is refused, not unreachable');
  });

  check('podman run -t: a terminal through the console socket', [], async (t) => {
    const r = pm.podman(pm.runArgs(['--rm', '-t'], ['sh', '-c', 'tty; [ -t 0 ] && echo stdin-tty; [ -t 1 ] && echo stdout-tty']));
    t.equal(r.code, 0, err(r));
    t.match(r.stdout, /^\/dev\/pts\/\d+\r?\n/, 'the process has a pty');
    t.match(r.stdout, /stdin-tty/, 'stdin is the terminal');
    t.match(r.stdout, /stdout-tty/, 'stdout is the terminal');
    const create = callsFor(lastCreate()).find((a) => a.includes('create'));
    t.ok(create?.includes('--console-socket'), 'conmon: create ... --console-socket S ID');
  });

  check('podman run -i: stdin reaches the container', [], async (t) => {
    const r = pm.podman(pm.runArgs(['--rm', '-i'], ['sh', '-c', 'cat; echo end']), { input: 'line one\nline two\n' });
    t.equal(r.code, 0, err(r));
    t.equal(r.stdout, 'line one\nline two\nend\n', 'the container read stdin to its end');
  });

  check('podman run --user and --cap-drop/--cap-add', [], async (t) => {
    const r = pm.podman(pm.runArgs(['--rm', '--user', '1000:1001', '--cap-drop', 'all', '--cap-add', 'NET_RAW', '--cap-add', 'CHOWN'], checker()));
    t.equal(r.code, 0, err(r));
    const cfg = pm.wrapper.configs().get(lastCreate());
    if (!t.ok(cfg, 'config.json captured')) return;
    const rep = parseReport(r.stdout);
    t.equal(rep.status.Uid?.split('\t')[0], '1000', 'uid 1000');
    t.equal(rep.status.Gid?.split('\t')[0], '1001', 'gid 1001');
    t.same([...cfg!.process.capabilities.bounding].sort(), ['CAP_CHOWN', 'CAP_NET_RAW'], 'podman asked for CHOWN and NET_RAW');
    compareCapabilities(t, rep, cfg!);
  });

  check('podman run --read-only', [], async (t) => {
    const r = pm.podman(pm.runArgs(['--rm', '--read-only'], ['sh', '-c', 'touch /x 2>&1; touch /tmp/ok && echo tmp-writable']));
    t.equal(r.code, 0, `podman run --read-only: ${err(r)}`);
    t.match(r.stdout, /Read-only file system/, 'the root is read-only');
    t.match(r.stdout, /tmp-writable/, '/tmp is podman\'s writable tmpfs');
  });

  check('podman run --read-only --read-only-tmpfs=false', [], async (t) => {
    const r = pm.podman(pm.runArgs(['--rm', '--read-only', '--read-only-tmpfs=false'], ['sh', '-c', 'touch /x 2>&1; echo end']));
    t.equal(r.code, 0, err(r));
    t.match(r.stdout, /Read-only file system/, 'the root is read-only');
    t.equal(pm.wrapper.configs().get(lastCreate())?.root?.readonly, true, 'podman asked for root.readonly');
  });

  check('podman run with resource limits (rlimits lowered in containers.conf, memory, pids, cpu)', [], async (t) => {
    // with --ulimit podman drops default_ulimits and adds RLIMIT_NPROC at the host maximum, which this
    // machine cannot grant (no CAP_SYS_RESOURCE): name nproc explicitly
    const r = pm.podman(pm.runArgs(['--rm', '--memory', '64m', '--pids-limit', '50', '--cpu-shares', '512', '--ulimit', 'nofile=500:600', '--ulimit', 'nproc=1024:1024'],
      ['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.shares; ulimit -n; ulimit -Hn']));
    t.equal(r.code, 0, err(r));
    t.equal(r.stdout, '67108864\n50\n512\n500\n600\n', 'memory 64m, pids 50, cpu shares 512, nofile 500/600');
  });

  check('podman run --cgroupns private: a cgroup namespace rooted at the container\'s cgroup', [], async (t) => {
    const name = `cgns-${process.pid}`;
    const d = pm.podman(pm.runArgs(['-d', '--name', name, '--cgroupns', 'private'], ['sleep', '300']));
    t.equal(d.code, 0, err(d));
    const cfg = pm.wrapper.configs().get(fullId(name));
    t.ok(cfg?.linux?.namespaces?.some((n: { type: string; path?: string }) => n.type === 'cgroup' && !n.path), 'podman asked for a new cgroup namespace');
    const pid = pm.pid(name);
    t.equal(cgroupOf(pid), cfg?.linux?.cgroupsPath, `the init is in cgroupsPath ${cfg?.linux?.cgroupsPath}`);
    t.not(hostNamespaces(pid).cgroup, hostNamespaces().cgroup, 'a cgroup namespace of its own');
    const inside = pm.podman(['exec', name, 'cat', '/proc/self/cgroup']);
    t.equal(inside.code, 0, err(inside));
    const paths = inside.stdout.split('\n').filter(Boolean).map((l) => l.slice(l.indexOf(':/') + 1));
    t.ok(paths.length > 0 && paths.every((p) => p === '/'), `inside, every hierarchy shows "/" (${[...new Set(paths)].join(' ')})`);
    pm.podman(['rm', '-f', '-t', '0', name]);
  });

  check('podman run -d, stop (TERM then KILL), kill -s, rm', [], async (t) => {
    const name = `stop-${process.pid}`;
    const d = pm.podman(pm.runArgs(['-d', '--name', name], ['sh', '-c', 'trap "echo got-usr1" USR1; trap "exit 0" TERM; while :; do sleep 0.1; done']));
    t.equal(d.code, 0, err(d));
    t.equal(pm.podman(['kill', '-s', 'USR1', name]).code, 0, 'podman kill -s USR1');
    t.ok(waitFor(() => /got-usr1/.test(pm.podman(['logs', name]).stdout), 5_000, 100), 'USR1 reached the process');
    t.equal(pm.podman(['stop', '-t', '5', name]).code, 0, 'podman stop');
    t.equal(pm.podman(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name]).stdout.trim(), 'exited 0', 'exited through its TERM trap');
    const id = fullId(name);
    const mine = callsFor(id).map((a) => a.join(' '));
    t.ok(mine.includes(`kill ${id} 10`), 'podman: kill ID 10');
    t.ok(mine.includes(`kill ${id} 15`), 'podman: kill ID 15');
    t.equal(pm.podman(['rm', name]).code, 0, 'podman rm');
    t.ok(callsFor(id).some((a) => a[0] === 'delete'), 'podman: delete ID');
    t.equal(pm.podman(['ps', '-aq', '--filter', `name=${name}`]).stdout.trim(), '', 'removed');
    const name2 = `stopk-${process.pid}`;
    const d2 = pm.podman(pm.runArgs(['-d', '--name', name2], ['sleep', '300']));
    t.equal(d2.code, 0, err(d2));
    t.equal(pm.podman(['stop', '-t', '1', name2]).code, 0, 'stop of a process that ignores TERM (pid 1)');
    t.match(pm.podman(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name2]).stdout, /exited 137/, 'exited by SIGKILL (137)');
    const id2 = fullId(name2);
    t.ok(callsFor(id2).some((a) => a.join(' ') === `kill ${id2} 9`), 'podman escalated: kill ID 9');
    pm.podman(['rm', name2]);
  });

  check('podman exec (with and without -t, -i, --user) in a running container', [], async (t) => {
    const name = `exec-${process.pid}`;
    const d = pm.podman(pm.runArgs(['-d', '--name', name], ['sleep', '300']));
    t.equal(d.code, 0, `podman run -d: ${err(d)}`);
    const e = pm.podman(['exec', name, 'sh', '-c', 'echo exec-ok; id -u']);
    t.equal(e.code, 0, err(e));
    t.equal(e.stdout, 'exec-ok\n0\n', 'the exec\'s output');
    const et = pm.podman(['exec', '-t', name, 'sh', '-c', 'tty; [ -t 0 ] && echo stdin-tty']);
    t.match(et.stdout, /^\/dev\/pts\/\d+\r?\n/, `exec -t gets a pty (${err(et)})`);
    t.match(et.stdout, /stdin-tty/, 'exec -t: stdin is the terminal');
    const ei = pm.podman(['exec', '-i', name, 'sh', '-c', 'cat; echo end'], { input: 'to the exec\n' });
    t.equal(ei.stdout, 'to the exec\nend\n', `exec -i: stdin reaches the process (${err(ei)})`);
    const eu = pm.podman(['exec', '--user', '1000', name, 'id', '-u']);
    t.equal(eu.stdout.trim(), '1000', 'exec --user');
    t.equal(pm.podman(['exec', name, 'sh', '-c', 'exit 7']).code, 7, 'exec exit status');
    const execs = callsFor(fullId(name)).filter((a) => a.includes('exec')).map((a) => a.join(' '));
    t.ok(execs.some((c) => / exec --pid-file \S+ --process \S+ --detach [0-9a-f]{64}$/.test(c)), 'conmon: exec --pid-file P --process F --detach ID');
    t.ok(execs.some((c) => / exec --pid-file \S+ --process \S+ --detach --tty --console-socket \S+ [0-9a-f]{64}$/.test(c)), 'conmon: exec ... --detach --tty --console-socket S ID');
    pm.podman(['rm', '-f', '-t', '0', name]);
  });

  check('podman pause / unpause and update', [], async (t) => {
    const name = `pause-${process.pid}`;
    const d = pm.podman(pm.runArgs(['-d', '--name', name], ['sleep', '300']));
    t.equal(d.code, 0, err(d));
    const pid = pm.pid(name);
    t.equal(pm.podman(['pause', name]).code, 0, 'pause');
    t.equal(pm.podman(['inspect', '-f', '{{.State.Status}}', name]).stdout.trim(), 'paused', 'podman: paused');
    t.equal(freezerState(pid), 'FROZEN', 'the container\'s cgroup is frozen');
    t.equal(pm.podman(['unpause', name]).code, 0, 'unpause');
    t.equal(pm.podman(['inspect', '-f', '{{.State.Status}}', name]).stdout.trim(), 'running', 'podman: running');
    t.equal(freezerState(pid), 'THAWED', 'the container\'s cgroup is thawed');
    const u = pm.podman(['update', '--memory', '128m', '--cpu-quota', '25000', '--cpu-period', '100000', name]);
    t.equal(u.code, 0, `update: ${err(u)}`);
    const v = pm.podman(['exec', name, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us']);
    t.equal(v.stdout, '134217728\n25000\n', 'the new limits are in the cgroup');
    const id = fullId(name);
    const mine = callsFor(id);
    t.ok(mine.some((a) => a[0] === 'update' && a[1]?.startsWith('--resources=')), 'podman: update --resources=FILE ID');
    t.ok(mine.some((a) => a.join(' ') === `pause ${id}`) && mine.some((a) => a.join(' ') === `resume ${id}`), 'podman: pause ID, resume ID');
    pm.podman(['rm', '-f', '-t', '0', name]);
  });

  /**
   * A pod (local infra image) and two members: one detached (inspected with
   * exec), one --rm. Returns what the members saw and the infra's namespaces.
   */
  const podCase = (t: TestT, pod: string, share: string[]) => {
    const c = pm.podman(pm.podArgs(['--name', pod, ...(share.length ? ['--share', share.join(',')] : [])]));
    t.equal(c.code, 0, `pod create: ${err(c)}`);
    const s = pm.podman(['pod', 'start', pod]);
    t.equal(s.code, 0, `pod start (the infra container): ${err(s)}`);
    const infraId = pm.podman(['pod', 'inspect', '-f', '{{.InfraContainerID}}', pod]).stdout.trim();
    const infraPid = pm.pid(infraId);
    t.ok(infraPid > 0, `the infra container runs (pid ${infraPid})`);
    const infraNs = hostNamespaces(infraPid);
    const m1 = `${pod}-m1`;
    const r1 = pm.podman(['run', '-d', '--pod', pod, '--name', m1, pm.image, 'sleep', '300']);
    t.equal(r1.code, 0, `member 1 (run -d --pod): ${err(r1)}`);
    const in1 = pm.podman(['exec', m1, 'sh', '-c', NS_SCRIPT]);
    t.equal(in1.code, 0, `exec in member 1: ${err(in1)}`);
    const r2 = pm.podman(['run', '--rm', '--pod', pod, pm.image, 'sh', '-c', `${NS_SCRIPT}; ps`]);
    t.equal(r2.code, 0, `member 2 (run --rm --pod): ${err(r2)}`);
    const cfg1 = pm.wrapper.configs().get(fullId(m1));
    const cfg2 = pm.wrapper.configs().get(lastCreate());
    const m1Pid = pm.pid(m1);
    t.equal(cgroupOf(m1Pid), cfg1?.linux?.cgroupsPath, `member 1 is in its cgroupsPath ${cfg1?.linux?.cgroupsPath}`);
    return { infraPid, infraNs, infraHostname: pm.podman(['exec', infraId, 'hostname']).stdout.trim(), members: [parseNs(in1.stdout), parseNs(r2.stdout)], cfgs: [cfg1, cfg2], ps: r2.stdout, m1Pid };
  };

  const assertShared = (t: TestT, owner: string, ownerPid: number, ownerNs: Record<string, string>, cfg: Record<string, any> | undefined, seen: Record<string, string>, shared: string[]) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const entries = nsEntries(cfg);
    for (const proc of ['net', 'ipc', 'uts', 'pid', 'mnt']) {
      if (shared.includes(proc)) {
        t.equal(entries[proc]?.path, `/proc/${ownerPid}/ns/${proc}`, `config: ${PROC_NS[proc]} namespace joined by path /proc/<${owner}>/ns/${proc}`);
        t.equal(seen[proc], ownerNs[proc], `inside: the ${owner}'s ${proc} namespace (${ownerNs[proc]})`);
      } else {
        t.ok(entries[proc] && !entries[proc]!.path, `config: a new ${PROC_NS[proc]} namespace`);
        t.ok(seen[proc] && seen[proc] !== ownerNs[proc], `inside: a ${proc} namespace of its own (${seen[proc]})`);
      }
    }
  };

  check('podman pod (default --share ipc,net,uts): members join the infra container\'s namespaces by path', [], async (t) => {
    const pod = `pod-${process.pid}`;
    const r = podCase(t, pod, []);
    for (const [i, m] of r.members.entries()) {
      t.comment(`member ${i + 1}`);
      assertShared(t, 'infra', r.infraPid, r.infraNs, r.cfgs[i], m.ns, ['net', 'ipc', 'uts']);
      t.equal(m.hostname, r.infraHostname, `the pod's hostname (${r.infraHostname}) through the shared uts namespace`);
    }
    t.not(r.members[0]!.ns.pid, r.members[1]!.ns.pid, 'the members do not share a pid namespace');
    const rm = pm.podman(['pod', 'rm', '-f', '-t', '0', pod]);
    t.equal(rm.code, 0, `pod rm -f: ${err(rm)}`);
  });

  check('podman pod --share pid,ipc,net,uts: members see the infra process and each other', [], async (t) => {
    const pod = `podpid-${process.pid}`;
    const r = podCase(t, pod, ['pid', 'ipc', 'net', 'uts']);
    for (const [i, m] of r.members.entries()) {
      t.comment(`member ${i + 1}`);
      assertShared(t, 'infra', r.infraPid, r.infraNs, r.cfgs[i], m.ns, ['net', 'ipc', 'uts', 'pid']);
    }
    t.match(r.ps, /sleep 2147483647/, 'member 2 sees the infra container\'s process');
    t.match(r.ps, /sleep 300/, 'member 2 sees member 1\'s process');
    t.match(r.ps, /^\s*1\s.*sh -c trap/m, 'the infra process is pid 1 of the shared pid namespace');
    const stop = pm.podman(['pod', 'stop', '-t', '5', pod]);
    t.equal(stop.code, 0, `pod stop: ${err(stop)}`);
    t.match(pm.podman(['pod', 'inspect', '-f', '{{.State}}', pod]).stdout, /Exited/, 'the pod exited');
    const rm = pm.podman(['pod', 'rm', '-f', '-t', '0', pod]);
    t.equal(rm.code, 0, `pod rm -f: ${err(rm)}`);
  });

  check('podman run --pid/--ipc/--uts container:X: namespaces of another container by path', [], async (t) => {
    const x = `nsx-${process.pid}`;
    const d = pm.podman(pm.runArgs(['-d', '--name', x], ['sleep', '300']));
    t.equal(d.code, 0, err(d));
    const xPid = pm.pid(x);
    const xNs = hostNamespaces(xPid);
    const r = pm.podman(pm.runArgs(['--rm', '--pid', `container:${x}`, '--ipc', `container:${x}`, '--uts', `container:${x}`], ['sh', '-c', `${NS_SCRIPT}; ps`]));
    t.equal(r.code, 0, err(r));
    const seen = parseNs(r.stdout);
    assertShared(t, 'X', xPid, xNs, pm.wrapper.configs().get(lastCreate()), seen.ns, ['pid', 'ipc', 'uts']);
    t.match(r.stdout, /^\s*1\s.*sleep 300/m, 'X\'s process is visible, as pid 1 of the shared pid namespace');
    t.equal(pm.podman(['inspect', '-f', '{{.State.Status}}', x]).stdout.trim(), 'running', 'X still runs after the joiner exited and was deleted');
    t.equal(pm.pid(x), xPid, 'X\'s init is the same process');
    pm.podman(['rm', '-f', '-t', '0', x]);
  });

  check('podman: nothing is left behind (processes, mounts, cgroups, runts state)', [], async (t) => {
    left = pm.teardown();
    t.same(left, [], 'no process, mount, cgroup or runts state of the engine or its containers is left');
  });
}
