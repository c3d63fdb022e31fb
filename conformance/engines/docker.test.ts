/**
 * Docker (Debian's docker.io 20.10, its managed containerd 1.6 and the runc v2
 * shim) with runts as an added runtime and the default one: a private dockerd
 * (conformance/engines/docker.ts) started and stopped here, a busybox image
 * from `docker import`. Every run uses --network none (the daemon has no
 * bridge). runc, through the same docker (--runtime runc), is the reference
 * where it can run the same container.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import t from 'tap';
import { capabilityNumber } from '../../src/linux/capability-names.js';
import { check } from '../lib/check.js';
import { makeBundle, Runtime, tmpdir, waitFor } from '../lib/runtime.js';
import { Docker } from './docker.js';
import { cgroupOf, engineMissing, freezerState } from './lib.js';

t.setTimeout(15 * 60_000);
const why = engineMissing(['dockerd', 'docker', 'containerd', 'containerd-shim-runc-v2']);
if (why) t.plan(0, `docker: ${why}`);
else tests();

/** The capability bits of a name list, as /proc/<pid>/status shows them. */
function capMask(names: string[]): bigint {
  let m = 0n;
  for (const n of names) { const c = capabilityNumber(n); if (c !== undefined) m |= 1n << BigInt(c); }
  return m;
}

function statusField(text: string, field: string): bigint {
  const m = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(text);
  return m ? BigInt(`0x${m[1]}`) : -1n;
}

function tests(): void {
  const dk = new Docker();
  let left: string[] | null = null;
  t.teardown(() => { left ??= dk.teardown(); });
  let seq = 0;
  const nextName = () => `conf${process.pid}-${++seq}`;
  const docker = (args: string[], opts: { input?: string; timeoutMs?: number } = {}) => dk.docker(args, opts);
  /** docker run --rm --network none [flags] IMAGE cmd..., named */
  const runRm = (flags: string[], cmd: string[], opts: { input?: string } = {}) => {
    const name = nextName();
    return { name, r: docker(['run', '--rm', '--name', name, '--network', 'none', ...flags, dk.image, ...cmd], opts) };
  };
  const runDetached = (flags: string[], cmd: string[]) => {
    const name = nextName();
    const r = docker(['run', '-d', '--name', name, '--network', 'none', ...flags, dk.image, ...cmd]);
    return { name, r, id: r.stdout.trim() };
  };
  /** The runtime calls for a container id, without the 4 global flags. */
  const callsFor = (id: string) => dk.wrapper.calls().filter((a) => a.includes(id)).map((a) => a.slice(6));
  /** The config.json of a container, by name (runts's calls are keyed by the full id). */
  const configOf = (id: string) => dk.wrapper.configs().get(id);
  const memoryDir = (pid: number, ctl: string) => `/sys/fs/cgroup/${ctl}${cgroupOf(pid, ctl)}`;

  check('docker: start a private daemon (own data root, exec root, socket, containerd) and import a local image', [], async (t) => {
    const up = dk.start();
    if (!t.ok(up, `dockerd is up on its own socket${up ? '' : `: ${dk.log().trim().split('\n').slice(-3).join(' | ')}`}`)) return;
    const r = dk.importImage();
    t.equal(r.code, 0, `docker import: ${r.stderr.trim()}`);
    t.match(docker(['info', '-f', '{{.DefaultRuntime}}']).stdout, /runts/, 'runts is the default runtime');
  });

  check('docker run --rm: output, exit status; the shim calls create, start, delete on runts', [], async (t) => {
    const { r } = runRm([], ['sh', '-c', 'echo hello from runts']);
    t.equal(r.code, 0, r.stderr.trim());
    t.equal(r.stdout, 'hello from runts\n', 'the output reached docker');
    t.equal(runRm([], ['sh', '-c', 'exit 42']).r.code, 42, 'the exit status of the process');
    const d = runDetached([], ['true']);
    t.equal(d.r.code, 0, d.r.stderr.trim());
    t.ok(waitFor(() => dk.inspect(d.name, '{{.State.Status}}') === 'exited', 20_000, 100), 'the container ran');
    const calls = callsFor(d.id).map((a) => a[0]);
    for (const c of ['create', 'start']) t.ok(calls.includes(c), `the shim called ${c}`);
    t.ok(dk.wrapper.calls().filter((a) => a.includes(d.id)).every((a) => a[0] === '--root' && a[1] === dk.stateRoot), `every call names --root ${dk.stateRoot}`);
    t.equal(docker(['rm', d.name]).code, 0, 'docker rm');
    t.ok(callsFor(d.id).some((a) => a[0] === 'delete'), 'the shim called delete');
  });

  check('docker exec (with -i) into a running container', [], async (t) => {
    const d = runDetached([], ['sleep', '300']);
    t.equal(d.r.code, 0, d.r.stderr.trim());
    const e = docker(['exec', d.name, 'sh', '-c', 'echo exec-ok; exit 3']);
    t.equal(e.stdout, 'exec-ok\n', `docker exec: ${e.stderr.trim()}`);
    t.equal(e.code, 3, 'the exec\'s exit status');
    const ei = docker(['exec', '-i', d.name, 'sh', '-c', 'cat; echo end'], { input: 'to the exec\n' });
    t.equal(ei.stdout, 'to the exec\nend\n', `docker exec -i: stdin reaches the process (${ei.stderr.trim()})`);
    t.ok(callsFor(d.id).some((a) => a[0] === 'exec' && a.includes('--process')), 'the shim called exec --process');
    t.equal(docker(['rm', '-f', d.name]).code, 0, 'docker rm -f');
  });

  check('docker run -i and -t', [], async (t) => {
    const i = runRm(['-i'], ['sh', '-c', 'cat; echo end'], { input: 'to the container\n' });
    t.equal(i.r.stdout, 'to the container\nend\n', `-i: stdin reaches the process (${i.r.stderr.trim()})`);
    const name = nextName();
    // the docker CLI wants a terminal of its own for -t: run it under script(1)
    const cmd = ['docker', 'run', '--rm', '-t', '--name', name, '--network', 'none', dk.image, 'tty'].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000, input: '', env: dk.env });
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /\/dev\/pts\/\d+/, '-t: the process has a pty');
  });

  check('docker run --privileged: the capabilities docker asks for, as runc grants them', [], async (t) => {
    const probe = ['sh', '-c', 'grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status; ls /dev | grep -c .'];
    const cidfile = `${dk.dir}/privileged.cid`;
    const { name, r } = runRm(['--privileged', '--cidfile', cidfile], probe);
    t.equal(r.code, 0, r.stderr.trim());
    const cfg = configOf(fs.readFileSync(cidfile, 'utf8').trim());
    if (!t.ok(cfg, `config.json captured (${name})`)) return;
    // runts grants what the config lists, less what its own bounding set lacks (this machine has no CAP_SYS_RESOURCE)
    const hostBnd = statusField(fs.readFileSync('/proc/self/status', 'utf8'), 'CapBnd');
    const asked = capMask(cfg!.process.capabilities.effective);
    t.equal(statusField(r.stdout, 'CapEff').toString(16), (asked & hostBnd).toString(16), `CapEff = what docker asked for (${asked.toString(16)}) within the host's bounding set (${hostBnd.toString(16)})`);
    t.equal(statusField(r.stdout, 'CapBnd').toString(16), (capMask(cfg!.process.capabilities.bounding) & hostBnd).toString(16), 'CapBnd likewise');
    t.ok(Number(r.stdout.trim().split('\n').pop()) > 20, 'the host\'s devices are there');
    // the same docker with runc: equal where runc can run it; runc refuses caps outside its bounding set
    const rc = docker(['run', '--rm', '--runtime', 'runc', '--network', 'none', '--privileged', dk.image, ...probe]);
    if (rc.code === 0) {
      t.equal(statusField(r.stdout, 'CapEff').toString(16), statusField(rc.stdout, 'CapEff').toString(16), 'CapEff equals runc\'s');
      t.equal(statusField(r.stdout, 'CapBnd').toString(16), statusField(rc.stdout, 'CapBnd').toString(16), 'CapBnd equals runc\'s');
    } else {
      t.not(asked & ~hostBnd, 0n, `runc failed only because docker asks for capabilities the host lacks: ${rc.stderr.trim().split('\n')[0]}`);
      t.match(rc.stderr, /apply caps: operation not permitted/, 'runc: unable to apply caps (EPERM)');
      // so compare runc and runts on docker's capability lists less what the host lacks, outside docker
      const grantable = (l: string[]) => l.filter((n) => (hostBnd >> BigInt(capabilityNumber(n) ?? 63)) & 1n);
      const b = makeBundle({ args: ['grep', '-E', '^Cap(Prm|Eff|Bnd)', '/proc/self/status'], mutate: (c) => {
        c.process.noNewPrivileges = false;
        c.process.capabilities = Object.fromEntries(Object.entries(cfg!.process.capabilities as Record<string, string[]>).map(([k, v]) => [k, grantable(v)]));
      } });
      const root = tmpdir('conf-docker-runc-');
      const viaRunc = spawnSync('runc', ['--root', root, 'run', '--bundle', b.dir, `${name}-runc`], { encoding: 'utf8', timeout: 60_000 });
      const viaRunts = new Runtime().run(['run', '--bundle', b.dir, `${name}-runts`]);
      fs.rmSync(root, { recursive: true, force: true });
      t.equal(viaRunc.status, 0, `runc runs docker's lists without the host's missing capabilities: ${viaRunc.stderr}`);
      t.equal(statusField(viaRunts.stdout, 'CapEff').toString(16), statusField(viaRunc.stdout, 'CapEff').toString(16), 'runts and runc grant the same CapEff for them');
      t.equal(statusField(r.stdout, 'CapEff').toString(16), statusField(viaRunc.stdout, 'CapEff').toString(16), 'which is what the docker container got');
    }
  });

  check('docker run --device: the device node, readable', [], async (t) => {
    const { r } = runRm(['--device', '/dev/zero:/dev/conf-zero'], ['sh', '-c', 'ls -l /dev/conf-zero; head -c 4 /dev/conf-zero | od -An -tx1']);
    t.equal(r.code, 0, r.stderr.trim());
    t.match(r.stdout, /^c.* 1,\s+5 .*\/dev\/conf-zero$/m, 'a char device 1:5');
    t.match(r.stdout, /00 00 00 00/, 'it reads zeros (the cgroup allows it)');
  });

  check('docker run --network none: lo is up, 127.0.0.1 routes', [], async (t) => {
    const { r } = runRm([], ['sh', '-c', 'cat /sys/class/net/lo/flags; ls /sys/class/net; nc 127.0.0.1 9 </dev/null 2>&1; true']);
    t.equal(r.code, 0, r.stderr.trim());
    const [flags] = r.stdout.split('\n');
    t.ok(Number(flags) & 1, `lo is IFF_UP (flags ${flags})`);
    t.match(r.stdout, /refused/i, 'a connect to a closed port on 127.0.0.1 is refused, not unreachable');
    t.notMatch(r.stdout, /^eth/m, 'no other interface');
  });

  check('docker run --read-only and --user', [], async (t) => {
    const ro = runRm(['--read-only'], ['sh', '-c', 'touch /x 2>&1; echo end']);
    t.equal(ro.r.code, 0, ro.r.stderr.trim());
    t.match(ro.r.stdout, /Read-only file system/, '--read-only: the root is read-only');
    const u = runRm(['--user', '1000:1001'], ['id']);
    t.equal(u.r.code, 0, u.r.stderr.trim());
    t.match(u.r.stdout, /^uid=1000 gid=1001/, '--user 1000:1001');
  });

  check('docker run --memory --pids-limit, then docker update: the cgroup files', [], async (t) => {
    const d = runDetached(['--memory', '64m', '--pids-limit', '33'], ['sleep', '300']);
    t.equal(d.r.code, 0, d.r.stderr.trim());
    const pid = dk.pid(d.name);
    t.match(cgroupOf(pid, 'memory'), new RegExp(`/${dk.cgroupParent}/${d.id}$`), 'the container is in <cgroup parent>/<id> (under dockerd\'s own cgroup)');
    const read = (ctl: string, f: string) => fs.readFileSync(`${memoryDir(pid, ctl)}/${f}`, 'utf8').trim();
    t.equal(read('memory', 'memory.limit_in_bytes'), String(64 << 20), '--memory 64m');
    t.equal(read('pids', 'pids.max'), '33', '--pids-limit 33');
    const u = docker(['update', '--memory', '128m', '--memory-swap', '256m', '--pids-limit', '50', d.name]);
    t.equal(u.code, 0, `docker update: ${u.stderr.trim()}`);
    t.equal(read('memory', 'memory.limit_in_bytes'), String(128 << 20), 'update --memory 128m');
    t.equal(read('memory', 'memory.memsw.limit_in_bytes'), String(256 << 20), 'update --memory-swap 256m');
    t.equal(read('pids', 'pids.max'), '50', 'update --pids-limit 50');
    t.ok(callsFor(d.id).some((a) => a[0] === 'update'), 'the shim called update');
    t.equal(docker(['rm', '-f', d.name]).code, 0, 'docker rm -f');
  });

  check('docker pause / unpause: the freezer', [], async (t) => {
    const d = runDetached([], ['sleep', '300']);
    t.equal(d.r.code, 0, d.r.stderr.trim());
    const pid = dk.pid(d.name);
    t.equal(docker(['pause', d.name]).code, 0, 'pause');
    t.equal(dk.inspect(d.name, '{{.State.Status}}'), 'paused', 'docker: paused');
    t.equal(freezerState(pid), 'FROZEN', 'the cgroup is frozen');
    t.equal(docker(['unpause', d.name]).code, 0, 'unpause');
    t.equal(dk.inspect(d.name, '{{.State.Status}}'), 'running', 'docker: running');
    t.equal(freezerState(pid), 'THAWED', 'the cgroup is thawed');
    t.equal(docker(['rm', '-f', d.name]).code, 0, 'docker rm -f');
  });

  check('docker run --restart on-failure:2: restarted twice, then exited', [], async (t) => {
    const d = runDetached(['--restart', 'on-failure:2'], ['sh', '-c', 'exit 3']);
    t.equal(d.r.code, 0, d.r.stderr.trim());
    t.ok(waitFor(() => dk.inspect(d.name, '{{.RestartCount}} {{.State.Status}}') === '2 exited', 60_000, 200), `restart count 2, exited (${dk.inspect(d.name, '{{.RestartCount}} {{.State.Status}}')})`);
    t.equal(dk.inspect(d.name, '{{.State.ExitCode}}'), '3', 'exit code 3');
    t.equal(callsFor(d.id).filter((a) => a[0] === 'create').length, 3, 'three creates of the same id');
    t.equal(docker(['rm', '-f', d.name]).code, 0, 'docker rm');
  });

  check('docker run --health-cmd: unhealthy, then healthy (runts exec)', [], async (t) => {
    const d = runDetached(['--health-cmd', 'test -e /tmp/ok', '--health-interval', '1s', '--health-retries', '1'], ['sleep', '300']);
    t.equal(d.r.code, 0, d.r.stderr.trim());
    const health = () => dk.inspect(d.name, '{{.State.Health.Status}}');
    t.ok(waitFor(() => health() === 'unhealthy', 30_000, 200), `unhealthy while the check fails (${health()})`);
    t.equal(docker(['exec', d.name, 'touch', '/tmp/ok']).code, 0);
    t.ok(waitFor(() => health() === 'healthy', 30_000, 200), `healthy once it passes (${health()})`);
    t.equal(docker(['rm', '-f', d.name]).code, 0, 'docker rm -f');
  });

  check('docker stop: TERM, then KILL after --stop-timeout', [], async (t) => {
    const trap = runDetached([], ['sh', '-c', 'trap "exit 7" TERM; sleep 300 & wait']);
    t.equal(trap.r.code, 0, trap.r.stderr.trim());
    t.equal(docker(['stop', trap.name]).code, 0, 'docker stop');
    t.equal(dk.inspect(trap.name, '{{.State.ExitCode}}'), '7', 'the TERM trap ran: exit 7');
    const deaf = runDetached(['--stop-timeout', '1'], ['sh', '-c', 'trap "" TERM; while :; do sleep 1; done']);
    t.equal(deaf.r.code, 0, deaf.r.stderr.trim());
    t.equal(docker(['stop', deaf.name]).code, 0, 'docker stop');
    t.equal(dk.inspect(deaf.name, '{{.State.ExitCode}}'), '137', 'TERM ignored: killed (137)');
    t.ok(callsFor(deaf.id).some((a) => a[0] === 'kill' && a.includes('9')), 'the shim sent KILL');
    t.equal(docker(['rm', trap.name, deaf.name]).code, 0, 'docker rm');
  });

  check('docker run --init: docker-init is pid 1', [], async (t) => {
    const { r } = runRm(['--init'], ['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; echo $$']);
    t.equal(r.code, 0, r.stderr.trim());
    t.match(r.stdout, /^\/sbin\/docker-init -- sh/m, 'pid 1 is docker-init');
    t.notMatch(r.stdout, /^1$/m, 'the command is not pid 1');
  });

  check('docker: nothing is left behind after the daemon stops (processes, mounts, cgroups, runts state, sockets)', [], async (t) => {
    left = dk.teardown();
    t.same(left, [], 'no process, mount, cgroup, runts state or socket of the daemon, its containerd, shims or containers is left');
  });
}
