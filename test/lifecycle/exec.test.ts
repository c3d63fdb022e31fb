/**
 * `runts exec`: the new process joins the container (namespaces, cgroup,
 * root), gets its own credentials and the container's confinement, returns
 * its exit status, and the runtime leaks nothing into it.
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { have } from '../helpers/cli.js';
import { readPtyUntil } from '../helpers/wait.js';
import * as libc from '../../src/linux/libc.js';
import { SOCK } from '../../src/linux/abi.js';
import { tmpdir } from '../helpers/rootfs.js';
import { cleanEnv, makeBundle, RUNTS, uniqueId, withRunts } from '../helpers/runts.js';

withRunts((rt) => {
  const id = uniqueId('exec');
  const bundle = makeBundle({ args: ['sleep', '1000'], mutate: (c) => {
    c.process.env.push('FROM_CONFIG=yes');
    c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat', 'mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] };
  } });
  t.before(() => {
    const r = rt.run(['run', '-d', '--bundle', bundle, id]);
    if (r.code !== 0) throw new Error(`run -d failed: ${r.stderr}`);
  });
  const initPid = () => rt.state(id).pid as number;
  const exec = (args: string[]) => rt.run(['exec', ...args]);

  t.test('exit status, stdout and stderr of the command', async (t) => {
    const r = exec([id, 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    t.equal(r.code, 7);
    t.equal(r.stdout, 'out\n');
    t.equal(r.stderr, 'err\n');
    t.equal(exec([id, 'true']).code, 0);
  });

  t.test('namespace identity: the same inodes as the init\'s', async (t) => {
    const pid = initPid();
    const kinds = ['mnt', 'pid', 'net', 'ipc', 'uts'];
    const r = exec([id, 'sh', '-c', kinds.map((k) => `readlink /proc/self/ns/${k}`).join('; ')]);
    t.equal(r.code, 0, r.stderr);
    t.same(r.stdout.trim().split('\n'), kinds.map((k) => fs.readlinkSync(`/proc/${pid}/ns/${k}`)));
  });

  t.test('the container\'s root, cgroup and pid namespace', async (t) => {
    const r = exec([id, 'sh', '-c', 'ls /; echo pid=$$; cat /proc/self/cgroup']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^bin$/m, 'sees the container rootfs');
    t.notMatch(r.stdout, /^work$|^node_modules$/m);
    const pidLine = /pid=([0-9]+)/.exec(r.stdout)![1];
    t.ok(Number(pidLine) > 1, 'a pid in the container pid namespace');
    const initCg = fs.readFileSync(`/proc/${initPid()}/cgroup`, 'utf8').split('\n').filter((l) => l.includes(':memory:'))[0];
    t.ok(initCg && r.stdout.includes(initCg.split(':')[2]!), `joins the init's memory cgroup (${initCg})`);
  });

  t.test('env, cwd, user and groups from flags, the rest from the config', async (t) => {
    const r = exec(['--env', 'EXTRA=1', '--cwd', '/tmp', '--user', '1000:1001', '--additional-gids', '5', id,
      'sh', '-c', 'echo "$FROM_CONFIG $EXTRA"; pwd; id -u; id -g; grep ^Groups: /proc/self/status']);
    t.equal(r.code, 0, r.stderr);
    const [env, cwd, uid, gid, groups] = r.stdout.trim().split('\n');
    t.equal(env, 'yes 1');
    t.equal(cwd, '/tmp');
    t.equal(uid, '1000');
    t.equal(gid, '1001');
    t.match(groups, /^Groups:\s+5\s*$/);
  });

  t.test('--user must be numeric', async (t) => {
    for (const bad of ['root', '1000:root', '10a', '1:2:3', '-1']) {
      const r = exec(['--user', bad, id, 'true']);
      t.equal(r.code, 255, `--user ${bad} is refused`);
      t.match(r.stderr, /--user/);
    }
  });

  t.test('capabilities from the config, --cap adds; no_new_privs; seccomp of the container', async (t) => {
    const r = exec([id, 'sh', '-c', 'grep -E "^Cap(Eff|Bnd)|NoNewPrivs|^Seccomp:" /proc/self/status; mkdir /tmp/x 2>&1; echo rc=$?']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /CapEff:\s+0000000000000020/, 'CAP_KILL only');
    t.match(r.stdout, /CapBnd:\s+0000000000000021/, 'bounding: CAP_CHOWN + CAP_KILL');
    t.match(r.stdout, /NoNewPrivs:\s+1/);
    t.match(r.stdout, /Seccomp:\s+2/);
    t.match(r.stdout, /Permission denied[\s\S]*rc=1/, 'the container\'s seccomp filter applies (mkdir → EACCES)');
    const c = exec(['--cap', 'CAP_NET_RAW', id, 'grep', '^CapEff', '/proc/self/status']);
    t.match(c.stdout, /CapEff:\s+0000000000002020/, '--cap adds CAP_NET_RAW');
  });

  t.test('--process FILE', async (t) => {
    const dir = tmpdir();
    const file = path.join(dir, 'process.json');
    fs.writeFileSync(file, JSON.stringify({ args: ['sh', '-c', 'echo "$P"; pwd; id -u; exit 3'], env: ['P=from-process-json', 'PATH=/bin'], cwd: '/etc', user: { uid: 42, gid: 42 } }));
    const r = exec(['--process', file, id]);
    t.equal(r.code, 3, r.stderr);
    t.same(r.stdout.trim().split('\n'), ['from-process-json', '/etc', '42']);
    fs.writeFileSync(file, JSON.stringify({ args: ['true'], cwd: '/', user: { uid: 'x' } }));
    const bad = exec(['--process', file, id]);
    t.equal(bad.code, 255);
    t.match(bad.stderr, /user\/uid/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  t.test('--detach with --pid-file (conmon/containerd style, flags in either order)', async (t) => {
    const dir = tmpdir();
    const pidFile = path.join(dir, 'exec.pid');
    const r = exec(['--pid-file', pidFile, '--detach', id, 'sleep', '30']);
    t.equal(r.code, 0, r.stderr);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    t.ok(fs.existsSync(`/proc/${pid}`), 'the detached process runs');
    t.equal(fs.readlinkSync(`/proc/${pid}/ns/pid`), fs.readlinkSync(`/proc/${initPid()}/ns/pid`));
    process.kill(pid, 'SIGKILL');
    const procFile = path.join(dir, 'p.json');
    fs.writeFileSync(procFile, JSON.stringify({ args: ['sleep', '30'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } }));
    const r2 = exec(['--process', procFile, '--detach', '--pid-file', pidFile, id]);
    t.equal(r2.code, 0, r2.stderr);
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  t.test('missing command: runc\'s wording and 255', async (t) => {
    const r = exec([id, 'no-such-command']);
    t.equal(r.code, 255);
    t.match(r.stderr, /exec: "no-such-command": executable file not found in \$PATH/);
    const r2 = exec([id, '/no/such']);
    t.match(r2.stderr, /stat \/no\/such: no such file or directory/);
  });

  t.test('a command killed by a signal: 128+signal', async (t) => {
    const r = exec([id, 'sh', '-c', 'kill -TERM $$']);
    t.equal(r.code, 143);
  });

  t.test('no runtime fd leaks into the exec\'d process, cwd inside the container', async (t) => {
    const r = exec([id, 'sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "; echo; readlink /proc/self/cwd; readlink /proc/self/root']);
    t.equal(r.code, 0, r.stderr);
    const [fds, cwd, root] = r.stdout.trim().split('\n');
    t.equal(fds!.trim(), '0 1 2 3', 'only stdio (and the fd ls opens)');
    t.equal(cwd, '/');
    t.equal(root, '/');
  });

  t.test('the exec stage is not dumpable and its node cannot be opened for writing', async (t) => {
    // A startContainer-like probe: while an exec runs, look at the other
    // processes of the container from inside it.
    const nodeHash = crypto.createHash('sha256').update(fs.readFileSync(process.execPath)).digest('hex');
    const r = exec([id, 'sh', '-c', 'for p in /proc/[0-9]*; do [ -e $p/exe ] && (exec 3>>$p/exe) 2>/dev/null && echo OPENED $p; done; echo scanned']);
    t.equal(r.code, 0, r.stderr);
    t.notMatch(r.stdout, /OPENED/, 'no process exe opened for writing');
    t.equal(crypto.createHash('sha256').update(fs.readFileSync(process.execPath)).digest('hex'), nodeHash, 'host node unchanged');
  });

  t.test('exec with a tty over --console-socket', async (t) => {
    const dir = tmpdir();
    const sockPath = path.join(dir, 'console.sock');
    const listener = libc.socket(SOCK.STREAM);
    libc.bindUnix(listener, sockPath);
    libc.listen(listener, 1);
    const child = rt.spawn(['exec', '--tty', '--detach', '--console-socket', sockPath, id, 'sh', '-c', 'tty; echo tty-ok; sleep 1']);
    const conn = libc.accept(listener);
    const { data, fd } = libc.recvFd(conn);
    t.match(data.toString(), /^\/dev\/pts\/[0-9]+$/);
    const code = await new Promise<number>((res) => child.on('exit', (c) => res(c ?? -1)));
    t.equal(code, 0);
    const out = readPtyUntil(fd!, 'tty-ok');
    t.match(out, /\/dev\/pts\/[0-9]+/);
    t.match(out, /tty-ok/);
    libc.close(fd!); libc.close(conn); libc.close(listener);
    const noSock = exec(['--tty', '--detach', id, 'true']);
    t.equal(noSock.code, 255);
    t.match(noSock.stderr, /console-socket/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  t.test('exec into a stopped or unknown container fails clearly', async (t) => {
    const sid = uniqueId('stopped');
    t.equal(rt.run(['run', '--keep', '--bundle', makeBundle({ args: ['true'] }), sid]).code, 0);
    const r = exec([sid, 'true']);
    t.equal(r.code, 255);
    t.match(r.stderr, /stopped/);
    const u = exec(['no-such-container', 'true']);
    t.equal(u.code, 255);
    t.match(u.stderr, /does not exist/);
    t.equal(rt.run(['delete', sid]).code, 0);
  });

  t.test('stdin passes through', async (t) => {
    const r = spawnSync(RUNTS, ['--root', rt.root, 'exec', id, 'sh', '-c', 'read x; echo "got:$x"'], { input: 'hello\n', encoding: 'utf8', env: cleanEnv() });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, 'got:hello\n');
  });

  t.test('low pids limits: the runtime\'s own processes are not counted, nsboot is reaped', async (t) => {
    const lid = uniqueId('pidlim');
    // pids.max 1: only the init; node's threads and the bootstrap must not count against it
    const c = rt.run(['run', '-d', '--bundle', makeBundle({ args: ['sleep', '1000'], mutate: (c) => { c.linux.resources = { pids: { limit: 1 } }; } }), lid]);
    t.equal(c.code, 0, `create with pids.max 1 (${c.stderr.trim()})`);
    const cgOf = (pid: number) => fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /:pids:/.test(l))!.split(':')[2]!;
    const current = () => fs.readFileSync(`/sys/fs/cgroup/pids${cgOf(rt.state(lid).pid as number)}/pids.current`, 'utf8').trim();
    t.equal(current(), '1', 'pids.current is 1: no zombie bootstrap left in the cgroup');
    const e = rt.run(['exec', lid, 'sh', '-c', 'echo in; sleep 0 & wait']);
    t.equal(e.stdout, 'in\n', 'an exec runs (it joins over the limit, like a migration)');
    t.match(e.stderr, /can't fork|Resource temporarily unavailable/, `but cannot fork inside: the limit holds (${e.stderr.trim()})`);
    t.equal(current(), '1', 'and leaves nothing counted behind');
    t.equal(rt.run(['delete', '--force', lid]).code, 0);
  });

  t.test('exec --ignore-paused into a paused container: runs frozen until resume', async (t) => {
    const pid = uniqueId('paused');
    t.equal(rt.run(['run', '-d', '--bundle', makeBundle({ args: ['sleep', '1000'] }), pid]).code, 0);
    t.equal(rt.run(['pause', pid]).code, 0);
    const refused = exec([pid, 'true']);
    t.equal(refused.code, 255, 'without --ignore-paused: refused');
    t.match(refused.stderr, /paused/);
    const pidFile = path.join(tmpdir('runts-pf-'), 'pid');
    const r = rt.run(['exec', '--ignore-paused', '--detach', '--pid-file', pidFile, pid, 'sleep', '999'], { timeoutMs: 20_000 });
    t.equal(r.code, 0, `exec --ignore-paused --detach returns (${r.stderr.trim()})`);
    const p = Number(fs.readFileSync(pidFile, 'utf8'));
    const state = () => /State:\s+(\S)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))![1];
    const frozen = fs.readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(`/${pid}`);
    t.ok(frozen, 'the process is in the container\'s cgroup');
    t.equal(state(), 'D', 'and frozen with it');
    t.equal(rt.run(['resume', pid]).code, 0);
    t.not(state(), 'D', 'resume thaws it');
    t.equal(rt.run(['delete', '--force', pid]).code, 0);
  });

  const online = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  const noAffinity = online === '0' ? 'needs at least 2 CPUs' : !have('taskset') ? 'needs taskset (util-linux)' : false;
  t.test('CPU affinity: a pinned caller does not pin the container; execCPUAffinity initial (nsboot) and final', { skip: noAffinity }, async (t) => {
    const aid = uniqueId('affinity');
    const pinned = (args: string[]) => spawnSync('taskset', ['-c', '0', RUNTS, '--root', rt.root, ...args], { encoding: 'utf8', env: cleanEnv() });
    // run -d: the container keeps runts's stdio, so no pipes here (spawnSync would wait for their EOF)
    const r = spawnSync('taskset', ['-c', '0', RUNTS, '--root', rt.root, 'run', '-d', '--bundle', makeBundle({ args: ['sleep', '1000'] }), aid], { stdio: 'ignore', env: cleanEnv() });
    t.equal(r.status, 0, 'run -d under taskset -c 0');
    const allowed = (out: string) => /Cpus_allowed_list:\s*(\S+)/.exec(out)?.[1];
    const pid = rt.state(aid).pid as number;
    t.equal(allowed(fs.readFileSync(`/proc/${pid}/status`, 'utf8')), online, `the init is not pinned like runts's caller (taskset -c 0): ${online}`);
    t.equal(allowed(pinned(['exec', aid, 'cat', '/proc/self/status']).stdout), online, 'nor is an exec');
    const dir = tmpdir('runts-aff-');
    const procFile = (aff: Record<string, string>) => {
      const f = path.join(dir, `${crypto.randomUUID()}.json`);
      fs.writeFileSync(f, JSON.stringify({ args: ['cat', '/proc/self/status'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'], execCPUAffinity: aff }));
      return f;
    };
    t.equal(allowed(rt.run(['exec', '--process', procFile({ final: '1' }), aid]).stdout), '1', 'final: the process runs on CPU 1');
    t.equal(allowed(rt.run(['exec', '--process', procFile({ initial: '1' }), aid]).stdout), online, 'initial only: after the cgroup join, every CPU of the cpuset again');
    if (have('strace')) {
      const tr = spawnSync('strace', ['-f', '-qq', '-e', 'trace=sched_setaffinity', '-o', path.join(dir, 'trace'), RUNTS, '--root', rt.root, 'exec', '--process', procFile({ initial: '1', final: '0' }), aid], { encoding: 'utf8', env: cleanEnv() });
      t.equal(allowed(tr.stdout), '0', 'initial 1 + final 0: runs on CPU 0');
      const trace = fs.readFileSync(path.join(dir, 'trace'), 'utf8');
      const calls = trace.split('\n').filter((l) => l.includes('sched_setaffinity(0'));
      t.match(calls[0] ?? '', /\[1\]\)\s*= 0/, `the first affinity call (nsboot, before the cgroup join) sets CPU 1: ${calls[0]}`);
      t.match(calls[calls.length - 1] ?? '', /\[0\]\)\s*= 0/, 'the last sets CPU 0 (final)');
    } else {
      t.comment('strace missing: initial is not observed directly');
    }
    t.equal(rt.run(['delete', '--force', aid]).code, 0);
  });
});
