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
import { waitFor } from '../lib/runtime.js';
import { Containerd, engineMissing } from './lib.js';

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

  check('containerd: start a private daemon and import a local image', [], async (t) => {
    t.ok(cd.start(), `containerd is up on its own socket${cd.log() ? '' : ''}`);
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
    const ro = runRm(['--read-only'], ['sh', '-c', 'touch /x 2>&1; echo end']).r;
    t.match(ro.stdout, /Read-only file system/, '--read-only');
    const caps = runRm(['--cap-drop', 'CAP_CHOWN', '--cap-add', 'CAP_SYS_PTRACE'], checker());
    const cc = cd.wrapper.configs().get(caps.id);
    t.ok(cc && !cc.process.capabilities.bounding.includes('CAP_CHOWN') && cc.process.capabilities.bounding.includes('CAP_SYS_PTRACE'), 'ctr asked for -CHOWN +SYS_PTRACE');
    if (cc) compareCapabilities(t, parseReport(caps.r.stdout), cc);
    const mem = runRm(['--memory-limit', String(64 << 20), '--mount', 'type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro'], ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']).r;
    t.equal(mem.stdout.trim(), String(64 << 20), '--memory-limit');
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
    const e = cd.ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo exec-ok']);
    t.equal(e.stdout, 'exec-ok\n', `ctr task exec: ${e.stderr.trim()}`);
    t.ok(cd.wrapper.calls().some((a) => a[6] === 'exec' && a[7] === '--process' && a.includes('--detach') && a.includes('--pid-file')), 'shim: exec --process F --detach --pid-file P ID');
    const ps = cd.ctr(['task', 'ps', id]);
    t.equal(ps.code, 0, `ctr task ps: ${ps.stderr.trim()}`);
    t.match(ps.stdout, /^\d+\s/m, 'ps lists the container\'s pids');
    t.equal(cd.ctr(['task', 'pause', id]).code, 0, 'pause');
    t.match(cd.ctr(['task', 'ls']).stdout, new RegExp(`${id}\\s+\\d+\\s+PAUSED`), 'PAUSED');
    t.equal(cd.ctr(['task', 'resume', id]).code, 0, 'resume');
    t.match(cd.ctr(['task', 'ls']).stdout, new RegExp(`${id}\\s+\\d+\\s+RUNNING`), 'RUNNING');
    t.equal(cd.ctr(['task', 'kill', id]).code, 0, 'kill (SIGTERM)');
    t.ok(waitFor(() => /STOPPED/.test(cd.ctr(['task', 'ls']).stdout), 10_000, 100), 'STOPPED after its TERM trap');
    t.equal(cd.ctr(['task', 'rm', id]).code, 0, 'task rm');
    t.equal(cd.ctr(['container', 'rm', id]).code, 0, 'container rm');
    const calls = cd.wrapper.calls().filter((a) => a.includes(id)).map((a) => a[6]);
    for (const c of ['create', 'start', 'exec', 'ps', 'pause', 'resume', 'kill', 'delete']) t.ok(calls.includes(c), `the shim called ${c}`);
  });

  check('ctr task kill -a / rm -f of a running container', [], async (t) => {
    const id = nextId();
    t.equal(cd.ctr(['run', '-d', ...cd.runtimeFlags, cd.image, id, 'sleep', '300']).code, 0);
    t.equal(cd.ctr(['task', 'rm', '-f', id]).code, 0, 'task rm -f');
    t.ok(cd.wrapper.calls().some((a) => a.includes(id) && a[6] === 'kill' && a[7] === '--all'), 'shim: kill --all ID 9');
    t.equal(cd.ctr(['container', 'rm', id]).code, 0, 'container rm');
  });

  check('containerd: nothing is left behind after the daemon stops (processes, mounts, cgroups)', [], async (t) => {
    left = cd.teardown();
    t.same(left, [], 'no process, mount or cgroup of the daemon, its shims or its containers is left');
  });
}
