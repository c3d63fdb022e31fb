/**
 * containerd 1.6 (runc v2 shim, driven by ctr) with runts as the runc binary:
 * a private containerd (root, state, sockets in a temp dir, no CRI), started
 * and stopped here; an OCI image archive built from a busybox rootfs and
 * imported with `ctr image import` (no registry). shared/notes/engines.md has
 * the argv the shim uses (always --root, --log, --log-format json).
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { check } from '../lib/check.js';
import { CHECKER_SOURCE, parseReport } from '../lib/checker.js';
import { compareCapabilities, compareCwd, compareEnv, compareMounts, compareNoNewPrivileges, compareRlimits, compareRoot, compareUser } from '../lib/compare.js';
import { hostNamespaces, waitFor } from '../lib/runtime.js';
import { Containerd, engineMissing, freezerState, NS_SCRIPT, parseNs } from './lib.js';

// installing the packages (setup.sh) may take minutes when CI did not run it first
t.setTimeout(15 * 60_000);
const why = engineMissing(['containerd', 'ctr', 'containerd-shim-runc-v2']);
if (why) t.plan(0, `containerd: ${why}`);
else tests();

function tests(): void {
  const cd = new Containerd();
  let left: string[] | null = null;
  t.teardown(() => { left ??= cd.teardown(); });
  let seq = 0;
  const nextId = () => `c${process.pid}-${++seq}`;
  const checker = (probes: string[] = []) => ['sh', '-c', CHECKER_SOURCE, 'checker', ...probes];
  const runRm = (flags: string[], cmd: string[], id = nextId()) => ({ id, r: cd.ctr(['run', '--rm', ...cd.runtimeFlags, ...flags, cd.image, id, ...cmd]) });
  /** The shim's calls for one task id, without the 4 global flags. */
  const callsFor = (id: string) => cd.wrapper.calls().filter((a) => a.includes(id)).map((a) => a.slice(6));
  const exec = (id: string, execId: string, cmd: string[], input?: string) => cd.ctr(['task', 'exec', '--fifo-dir', cd.fifoDir, '--exec-id', execId, id, ...cmd], { input });
  const status = (id: string) => cd.ctr(['task', 'ls']).stdout.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[0] === id)?.[2] ?? 'gone';

  check('containerd: start a private daemon and import a local image', [], async (t) => {
    const up = cd.start();
    t.ok(up, `containerd is up on its own socket${up ? '' : `: ${cd.log().trim().split('\n').slice(-3).join(' | ')}`}`);
    const r = cd.importImage();
    t.equal(r.code, 0, `ctr image import: ${r.stderr.trim()}`);
    t.match(cd.ctr(['image', 'ls', '-q']).stdout, cd.image, 'the image is listed');
  });

  check('ctr run --rm: the shim calls create, start, delete with the 4 global flags', [], async (t) => {
    const { id, r } = runRm([], ['sh', '-c', 'echo hello from runts']);
    t.equal(r.code, 0, r.stderr.trim());
    t.equal(r.stdout, 'hello from runts\n', 'the output reached ctr');
    const mine = cd.wrapper.calls().filter((a) => a.includes(id));
    const glob = (a: string[]) => a[0] === '--root' && a[2] === '--log' && a[4] === '--log-format' && a[5] === 'json';
    t.ok(mine.length >= 3 && mine.every(glob), `every call starts with --root R --log F --log-format json (${mine.length} calls)`);
    t.ok(mine.some((a) => a[6] === 'create' && a.includes('--bundle') && a.includes('--pid-file')), 'create --bundle B --pid-file P ID');
    t.ok(mine.some((a) => a[6] === 'start'), 'start ID');
    t.ok(mine.some((a) => a[6] === 'delete'), 'delete ID');
    t.equal(cd.ctr(['container', 'ls', '-q']).stdout.trim(), '', 'no container left');
  });

  check('ctr run: the container process matches the config.json containerd wrote', [], async (t) => {
    const { id, r } = runRm(['--mount', 'type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro'], checker());
    t.equal(r.code, 0, r.stderr.trim().slice(0, 300));
    const cfg = cd.wrapper.configs().get(id);
    if (!t.ok(cfg, 'config.json captured')) return;
    const rep = parseReport(r.stdout);
    t.ok(rep.complete, 'the checker ran to the end');
    compareUser(t, rep, cfg!);
    compareCwd(t, rep, cfg!);
    compareEnv(t, rep, cfg!);
    compareRlimits(t, rep, cfg!);
    compareCapabilities(t, rep, cfg!);
    compareNoNewPrivileges(t, rep, cfg!);
    compareRoot(t, rep, cfg!);
    compareMounts(t, rep, cfg!);
    t.equal(rep.cgroups.memory, cfg!.linux.cgroupsPath, `the process is in cgroupsPath ${cfg!.linux.cgroupsPath}`);
  });

  check('ctr run: exit status; --read-only; --cap-drop/--cap-add; --memory-limit', [], async (t) => {
    t.equal(runRm([], ['sh', '-c', 'exit 42']).r.code, 42, 'the exit status of the process');
    const ro = runRm(['--read-only'], ['sh', '-c', 'touch /x 2>&1; echo end']);
    t.equal(ro.r.code, 0, ro.r.stderr.trim());
    t.match(ro.r.stdout, /Read-only file system/, '--read-only: the root is read-only');
    t.equal(cd.wrapper.configs().get(ro.id)?.root?.readonly, true, 'ctr asked for root.readonly');
    const caps = runRm(['--cap-drop', 'CAP_CHOWN', '--cap-add', 'CAP_SYS_PTRACE'], checker());
    const cc = cd.wrapper.configs().get(caps.id);
    t.ok(cc && !cc.process.capabilities.bounding.includes('CAP_CHOWN') && cc.process.capabilities.bounding.includes('CAP_SYS_PTRACE'), 'ctr asked for -CHOWN +SYS_PTRACE');
    if (cc) compareCapabilities(t, parseReport(caps.r.stdout), cc);
    const mem = runRm(['--memory-limit', String(64 << 20), '--mount', 'type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro'], ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']).r;
    t.equal(mem.stdout.trim(), String(64 << 20), '--memory-limit');
  });

  check('ctr run: lo is up in the task\'s own network namespace, 127.0.0.1 routes', [], async (t) => {
    const { id, r } = runRm([], ['sh', '-c', 'cat /sys/class/net/lo/flags; nc 127.0.0.1 9 </dev/null 2>&1; true']);
    t.equal(r.code, 0, r.stderr.trim());
    const net = (cd.wrapper.configs().get(id)?.linux?.namespaces ?? []).find((n: { type: string }) => n.type === 'network');
    t.ok(net && !net.path, 'containerd asked for a new network namespace');
    const [flags] = r.stdout.split('\n');
    t.ok(Number(flags) & 1, `lo is IFF_UP (flags ${flags})`);
    t.match(r.stdout, /refused/i, 'a connect to a closed port on 127.0.0.1 is refused, not unreachable');
  });

  check('ctr run -t: a terminal through the shim\'s console socket', [], async (t) => {
    // ctr needs a terminal on its own stdin: run it under script(1)
    const id = nextId();
    const cmd = ['ctr', '--address', cd.sock, '-n', cd.ns, 'run', '--rm', '-t', ...cd.runtimeFlags, cd.image, id, 'tty'].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000, input: '' });
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /\/dev\/pts\/\d+/, 'the process has a pty');
    t.ok(cd.wrapper.calls().some((a) => a.includes(id) && a.includes('--console-socket')), 'create got --console-socket');
  });

  check('ctr task: exec, ps, pause/resume, kill, delete of a detached container', [], async (t) => {
    const id = nextId();
    const r = cd.ctr(['run', '-d', ...cd.runtimeFlags, cd.image, id, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']);
    t.equal(r.code, 0, r.stderr.trim());
    const e = exec(id, 'e1', ['sh', '-c', 'echo exec-ok; exit 3']);
    t.equal(e.stdout, 'exec-ok\n', `ctr task exec: ${e.stderr.trim()}`);
    t.equal(e.code, 3, 'the exec\'s exit status');
    const ei = exec(id, 'e2', ['sh', '-c', 'cat; echo end'], 'to the exec\n');
    t.equal(ei.stdout, 'to the exec\nend\n', `ctr task exec: stdin reaches the process (${ei.stderr.trim()})`);
    t.ok(callsFor(id).some((a) => a[0] === 'exec' && a[1] === '--process' && a[3] === '--detach' && a[4] === '--pid-file' && a[6] === id), 'shim: exec --process F --detach --pid-file P ID');
    const ps = cd.ctr(['task', 'ps', id]);
    t.equal(ps.code, 0, `ctr task ps: ${ps.stderr.trim()}`);
    t.match(ps.stdout, /^\d+\s/m, 'ps lists the container\'s pids');
    const pid = cd.pid(id);
    t.equal(cd.ctr(['task', 'pause', id]).code, 0, 'pause');
    t.equal(status(id), 'PAUSED', 'ctr: PAUSED');
    t.equal(freezerState(pid), 'FROZEN', 'the task\'s cgroup is frozen');
    t.equal(cd.ctr(['task', 'resume', id]).code, 0, 'resume');
    t.equal(status(id), 'RUNNING', 'ctr: RUNNING');
    t.equal(freezerState(pid), 'THAWED', 'the task\'s cgroup is thawed');
    t.equal(cd.ctr(['task', 'kill', id]).code, 0, 'kill (SIGTERM)');
    t.ok(waitFor(() => status(id) === 'STOPPED', 10_000, 100), 'STOPPED after its TERM trap');
    t.equal(cd.ctr(['task', 'rm', id]).code, 0, 'task rm');
    t.equal(cd.ctr(['container', 'rm', id]).code, 0, 'container rm');
    const calls = cd.wrapper.calls().filter((a) => a.includes(id)).map((a) => a[6]);
    for (const c of ['create', 'start', 'exec', 'ps', 'pause', 'resume', 'kill', 'delete']) t.ok(calls.includes(c), `the shim called ${c}`);
  });

  check('ctr task kill -a / rm -f of a running container', [], async (t) => {
    const id = nextId();
    t.equal(cd.ctr(['run', '-d', ...cd.runtimeFlags, cd.image, id, 'sleep', '300']).code, 0);
    t.equal(cd.ctr(['task', 'rm', '-f', id]).code, 0, 'task rm -f');
    t.ok(callsFor(id).some((a) => a.join(' ') === `kill --all ${id} 9`), 'shim: kill --all ID 9');
    t.equal(cd.ctr(['container', 'rm', id]).code, 0, 'container rm');
  });

  check('ctr run --with-ns pid:/proc/<pid>/ns/pid: a task in another task\'s pid namespace', [], async (t) => {
    const a = nextId();
    const d = cd.ctr(['run', '-d', ...cd.runtimeFlags, cd.image, a, 'sleep', '300']);
    t.equal(d.code, 0, d.stderr.trim());
    const aPid = cd.pid(a);
    const aNs = hostNamespaces(aPid);
    const { id: b, r } = runRm(['--with-ns', `pid:/proc/${aPid}/ns/pid`], ['sh', '-c', `${NS_SCRIPT}; ps`]);
    t.equal(r.code, 0, r.stderr.trim());
    const seen = parseNs(r.stdout).ns;
    const pidNs = (cd.wrapper.configs().get(b)?.linux?.namespaces ?? []).find((n: { type: string }) => n.type === 'pid');
    t.equal(pidNs?.path, `/proc/${aPid}/ns/pid`, 'config: pid namespace joined by path');
    t.equal(seen.pid, aNs.pid, `inside: the other task's pid namespace (${aNs.pid})`);
    t.not(seen.mnt, aNs.mnt, 'inside: a mount namespace of its own');
    t.match(r.stdout, /^\s*1\s.*sleep 300/m, 'the other task\'s process is visible, as pid 1');
    t.ok(callsFor(b).some((x) => x.join(' ') === `kill --all ${b} 9`), 'shim: kill --all ID 9 when the task (sharing a pid namespace) exited');
    t.equal(status(a), 'RUNNING', 'the owner of the pid namespace still runs (kill --all stayed in the exited task\'s cgroup)');
    t.equal(cd.pid(a), aPid, 'same init process');
    t.equal(cd.ctr(['task', 'rm', '-f', a]).code, 0, 'task rm -f');
    t.equal(cd.ctr(['container', 'rm', a]).code, 0, 'container rm');
  });

  check('containerd: nothing is left behind after the daemon stops (processes, mounts, cgroups, runts state, shim sockets)', [], async (t) => {
    left = cd.teardown();
    t.same(left, [], 'no process, mount, cgroup, runts state or socket of the daemon, its shims or its containers is left');
  });
}
