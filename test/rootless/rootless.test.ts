/**
 * Rootless runts (issue 15), run by a real unprivileged user made for this
 * test (test/rootless/user.ts): spec --rootless, run, the lifecycle, exec,
 * ps, list under $XDG_RUNTIME_DIR, a terminal over a console socket, a
 * subordinate-id range through newuidmap/newgidmap, cgroups (skipped
 * without limits, refused with limits the user cannot apply, used where
 * root gave the user a v1 cgroup), the refusals, and that the user cannot
 * reach anything outside its own state: root's containers and host files
 * stay untouched. Nothing is left behind (processes, state, cgroups, mounts).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { SOCK } from '../../src/linux/abi.js';
import * as libc from '../../src/linux/libc.js';
import { detectCgroups } from '../../src/cgroups/detect.js';
import { RUNC, uniqueId, waitFor } from '../helpers/cli.js';
import { runWithFiles } from '../helpers/run-files.js';
import { hostMountsUnder, makeBusyboxRootfs } from '../helpers/rootfs.js';
import { makeBundle, Runts } from '../helpers/runts.js';
import { readPtyUntil } from '../helpers/wait.js';
import { type TestUser, withTestUser } from './user.js';

type Cfg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

withTestUser(t, tests);

/** A bundle of the user's: `runts spec --rootless` (run as the user) over its own busybox rootfs, then `mutate`. */
function userBundle(user: TestUser, name: string, mutate: (c: Cfg) => void): string {
  const dir = user.dir(name);
  makeBusyboxRootfs(path.join(dir, 'rootfs'));
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
  const r = user.runts(['spec', '--rootless', '--bundle', dir]);
  if (r.code !== 0) throw new Error(`spec --rootless: ${r.stderr}`);
  const file = path.join(dir, 'config.json');
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Cfg;
  c.process.terminal = false;
  mutate(c);
  fs.writeFileSync(file, JSON.stringify(c, null, 2));
  return dir;
}

function tests(user: TestUser): void {
  const state = path.join(user.xdg, 'runts');

  t.test('spec --rootless writes what runc spec --rootless writes', async (t) => {
    const a = user.dir('spec-runts');
    t.equal(user.runts(['spec', '--rootless'], { cwd: a }).code, 0);
    const mine = JSON.parse(fs.readFileSync(path.join(a, 'config.json'), 'utf8')) as Cfg;
    t.same(mine.linux.uidMappings, [{ containerID: 0, hostID: user.uid, size: 1 }], 'the caller\'s own uid, mapped to 0');
    t.same(mine.linux.gidMappings, [{ containerID: 0, hostID: user.gid, size: 1 }]);
    t.test('the same as runc\'s', { skip: RUNC ? false : 'runc is not installed: nothing to compare with' }, async (t) => {
      const b = user.dir('spec-runc');
      t.equal(user.run(RUNC!, ['spec', '--rootless'], { cwd: b }).code, 0);
      const theirs = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8')) as Cfg;
      t.same({ ...mine, ociVersion: undefined }, { ...theirs, ociVersion: undefined }, 'field for field, but ociVersion');
    });
  });

  t.test('run: a busybox shell as the mapped root, state under $XDG_RUNTIME_DIR', async (t) => {
    const bundle = userBundle(user, 'run', (c) => {
      c.process.args = ['sh', '-c', 'id -u; cat /proc/self/uid_map; cat /proc/self/setgroups; ls /dev; ls /run/state-dir-seen 2>&1; echo done'];
    });
    const id = uniqueId('rootless-run');
    const r = user.runts(['run', '--bundle', bundle, id]);
    t.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    t.equal(lines[0], '0', 'uid 0 in the container');
    t.match(lines[1], new RegExp(`^\\s*0\\s+${user.uid}\\s+1$`), 'the caller\'s uid mapped to 0');
    t.equal(lines[2], 'deny', 'setgroups denied before the gid map was written (single own-id mapping)');
    t.match(r.stdout, /\bnull\b[\s\S]*\bzero\b/, 'the default devices are there (bind-mounted from the host)');
    t.match(r.stderr, /rootless: the container runs without a cgroup of its own/, 'no writable cgroup, no limits: a warning, not an error');
    t.same(fs.readdirSync(state), [], 'run removed its state from $XDG_RUNTIME_DIR/runts');
    t.equal(fs.statSync(state).uid, user.uid, 'the state root is the user\'s');
  });

  t.test('create, start, state, list, ps, exec, kill, delete', async (t) => {
    const bundle = userBundle(user, 'life', (c) => { c.process.args = ['sleep', '1000']; });
    const id = uniqueId('rootless-life');
    const create = user.runts(['create', '--bundle', bundle, id]);
    t.equal(create.code, 0, create.stderr);
    try {
      t.ok(fs.existsSync(path.join(state, id, 'state.json')), 'state in $XDG_RUNTIME_DIR/runts/<id>');
      let st = JSON.parse(user.runts(['state', id]).stdout) as Cfg;
      t.equal(st.status, 'created');
      t.equal(fs.statSync(`/proc/${st.pid}`).uid, user.uid, 'the init runs as the user on the host');
      t.equal(user.runts(['start', id]).code, 0);
      st = JSON.parse(user.runts(['state', id]).stdout) as Cfg;
      t.equal(st.status, 'running');
      const list = user.runts(['list', '--format', 'json']);
      t.same((JSON.parse(list.stdout) as Cfg[]).map((s) => s.id), [id], 'list reads $XDG_RUNTIME_DIR/runts');
      t.match(user.runts(['list']).stdout, new RegExp(`${id}\\s+${st.pid}\\s+running[\\s\\S]*${user.name}`));

      const exec = user.runts(['exec', id, 'sh', '-c', 'id -u; cat /proc/self/uid_map; sleep 1000 & echo $!']);
      t.equal(exec.code, 0, exec.stderr);
      t.match(exec.stdout, new RegExp(`^0\\n\\s*0\\s+${user.uid}\\s+1\\n`), 'exec joins the user namespace as its root');

      const ps = user.runts(['ps', '--format', 'json', id]);
      t.equal(ps.code, 0, ps.stderr);
      const pids = JSON.parse(ps.stdout) as number[];
      t.ok(pids.includes(st.pid), 'ps (no cgroup: the pid namespace) lists the init');
      t.ok(pids.length >= 2, `and the process exec left behind: ${pids}`);
      const table = user.runts(['ps', id]);
      t.match(table.stdout, /PID[\s\S]*sleep 1000/);

      const pause = user.runts(['pause', id]);
      t.not(pause.code, 0);
      t.match(pause.stderr, /cannot pause container ".*": it has no cgroup \(rootless, and no cgroup its user may write/, 'pause needs a cgroup, and says so');
      t.equal(user.runts(['kill', id, 'KILL']).code, 0);
      for (let i = 0; i < 100 && JSON.parse(user.runts(['state', id]).stdout).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
      t.equal(JSON.parse(user.runts(['state', id]).stdout).status, 'stopped');
      for (const p of pids) t.notOk(fs.existsSync(`/proc/${p}`) && fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(' ')[2] !== 'Z', `pid ${p} is gone`);
    } finally {
      const del = user.runts(['delete', '--force', id]);
      t.equal(del.code, 0, del.stderr);
    }
    t.notOk(fs.existsSync(path.join(state, id)), 'delete removed the state');
  });

  t.test('a terminal over a console socket', async (t) => {
    const bundle = userBundle(user, 'tty', (c) => {
      c.process.terminal = true;
      c.process.args = ['sh', '-c', 'tty; [ -t 0 ] && echo stdin-is-tty; echo done'];
    });
    const sockPath = path.join(user.dir('sock'), 'console.sock');
    const listener = libc.socket(SOCK.STREAM);
    libc.bindUnix(listener, sockPath);
    libc.listen(listener, 1);
    fs.chownSync(sockPath, user.uid, user.gid);
    const id = uniqueId('rootless-tty');
    const [file, ...args] = user.argv(user.runtsPath, ['create', '--bundle', bundle, '--console-socket', sockPath, id]);
    const create = spawn(file!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    create.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number>((res) => create.on('exit', (c) => res(c ?? -1)));
    const conn = libc.accept(listener);
    const { data, fd } = libc.recvFd(conn);
    t.match(data.toString(), /^\/dev\/pts\/[0-9]+$/);
    t.equal(await exited, 0, err);
    try {
      t.equal(user.runts(['start', id]).code, 0);
      const out = readPtyUntil(fd!, 'done');
      t.match(out, /\/dev\/pts\/0/, 'the container\'s own devpts');
      t.match(out, /stdin-is-tty/);
    } finally {
      libc.close(fd!);
      libc.close(conn);
      libc.close(listener);
      t.equal(user.runts(['delete', '--force', id]).code, 0);
    }
  });

  t.test('a subordinate range (/etc/subuid, /etc/subgid) through newuidmap/newgidmap', async (t) => {
    const bundle = userBundle(user, 'subid', (c) => {
      c.linux.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: user.subuid, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: user.gid, size: 1 }, { containerID: 1, hostID: user.subgid, size: 65536 }];
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.args = ['sh', '-c', 'id -u; id -g; cat /proc/self/uid_map'];
    });
    const id = uniqueId('rootless-subid');
    const r = user.runts(['run', '--bundle', bundle, id]);
    t.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    t.equal(lines[0], '1000', 'uid 1000 of the container: a subordinate uid');
    t.equal(lines[1], '1000');
    t.match(r.stdout, new RegExp(`\\s1\\s+${user.subuid}\\s+65536`), 'the range is in the map');

    // a range the user was not granted: newuidmap's refusal, named
    const other = userBundle(user, 'subid-bad', (c) => {
      c.linux.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: 1, size: 100 }];
      c.process.args = ['true'];
    });
    const bad = user.runts(['run', '--bundle', other, uniqueId('rootless-subid-bad')]);
    t.not(bad.code, 0);
    t.match(bad.stderr, /rootless: newuidmap .* failed .*\/etc\/subuid/);
    t.same(fs.readdirSync(state), [], 'nothing left in the state root');
  });

  t.test('cgroups: limits that cannot be applied fail clearly; a cgroup root gave the user is used', async (t) => {
    const id = uniqueId('rootless-cg');
    const limited = userBundle(user, 'cg', (c) => {
      c.linux.resources = { pids: { limit: 42 } };
      c.linux.cgroupsPath = `/${id}/c`;
      c.process.args = ['cat', '/sys/fs/cgroup/pids/pids.max'];
    });
    const r = user.runts(['run', '--bundle', limited, id]);
    t.not(r.code, 0);
    t.match(r.stderr, /rootless: config\.json \/linux\/resources: limits are configured but cannot be applied: the cgroup pids \(.*\) is not writable by uid/);
    t.same(fs.readdirSync(state), [], 'nothing left in the state root');

    const pids = detectCgroups().v1.find((h) => h.controllers.includes('pids'));
    t.test('a v1 cgroup root made and chowned for the user', { skip: pids ? false : 'no cgroup v1 pids hierarchy here (a v2 host needs a delegated subtree: not set up by this test)' }, async (t) => {
    const parent = path.join(pids!.mountpoint, id);
    fs.mkdirSync(parent);
    try {
      for (const f of [parent, path.join(parent, 'cgroup.procs')]) fs.chownSync(f, user.uid, user.gid);
      const ok = user.runts(['run', '--bundle', limited, id]);
      t.equal(ok.code, 0, ok.stderr);
      t.equal(ok.stdout.trim(), '42', 'pids.limit applied in the cgroup the user was given');
      t.match(ok.stderr, /rootless: the container runs without cgroups in/, 'the other hierarchies are skipped with a warning');
      t.same(fs.readdirSync(parent).filter((f) => fs.statSync(path.join(parent, f)).isDirectory()), [], 'the container\'s cgroup is removed');
    } finally {
      fs.rmdirSync(parent);
    }
    });
  });

  t.test('cgroup v2: a delegated subtree the runtime runs in is used; one it does not run in is skipped', async (t) => {
    const v2 = detectCgroups().v2;
    if (!v2) return t.pass('no cgroup2 hierarchy on this host: nothing to delegate');
    const id = uniqueId('rootless-v2');
    const sub = path.join(v2.mountpoint, id);
    fs.mkdirSync(sub);
    try {
      for (const f of ['', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) fs.chownSync(path.join(sub, f), user.uid, user.gid);
      const bundle = userBundle(user, 'v2', (c) => {
        c.linux.cgroupsPath = `/${id}/c`;
        c.process.args = ['cat', '/proc/self/cgroup'];
      });
      // the user's runts outside the subtree: a move needs the root cgroup's cgroup.procs
      const outside = user.runts(['run', '--bundle', bundle, id]);
      t.equal(outside.code, 0, outside.stderr);
      t.match(outside.stdout, /^0::\/$/m, 'not moved');
      t.match(outside.stderr, /rootless: the container runs without a cgroup of its own/);
      // root puts the shell into the subtree, then becomes the user and runs runts there
      const inside = runWithFiles('sh', ['-c', 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', 'sh', sub, ...user.argv(user.runtsPath, ['run', '--bundle', bundle, id])]);
      t.equal(inside.code, 0, inside.stderr);
      t.match(inside.stdout, new RegExp(`^0::/${id}/c$`, 'm'), 'the init was moved into the delegated cgroup');
      t.notOk(fs.existsSync(path.join(sub, 'c')), 'and the cgroup removed with the container');
    } finally {
      fs.rmdirSync(sub);
    }
  });

  t.test('refusals name the field and the reason', async (t) => {
    const noUserns = userBundle(user, 'no-userns', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: Cfg) => n.type !== 'user');
      delete c.linux.uidMappings;
      delete c.linux.gidMappings;
      c.process.args = ['true'];
    });
    const r = user.runts(['run', '--bundle', noUserns, uniqueId('rootless-refuse')]);
    t.not(r.code, 0);
    t.match(r.stderr, /rootless: config\.json \/linux\/namespaces: a rootless container needs a user namespace/);
    const idmap = userBundle(user, 'idmap', (c) => {
      c.mounts.push({ destination: '/mnt', type: 'bind', source: '/tmp', options: ['bind', 'idmap'] });
      c.process.args = ['true'];
    });
    const r2 = user.runts(['run', '--bundle', idmap, uniqueId('rootless-refuse')]);
    t.match(r2.stderr, /rootless: config\.json \/mounts\/\d+: idmapped mounts need CAP_SYS_ADMIN in the initial user namespace/);
    const oom = userBundle(user, 'oom', (c) => { c.process.oomScoreAdj = -500; c.process.args = ['true']; });
    const r3 = user.runts(['run', '--bundle', oom, uniqueId('rootless-refuse')]);
    t.not(r3.code, 0);
    t.match(r3.stderr, /oom_score_adj: EACCES \(process\.oomScoreAdj -500; rootless: lowering it .* needs CAP_SYS_RESOURCE in the initial user namespace\)/);
    const sysctl = userBundle(user, 'sysctl', (c) => { c.linux.sysctl = { 'net.ipv4.ip_forward': '1' }; c.process.args = ['true']; });
    t.match(user.runts(['run', '--bundle', sysctl, uniqueId('rootless-refuse')]).stderr, /\/linux\/sysctl\/net\.ipv4\.ip_forward: .* needs a network namespace/, 'a host sysctl is refused');
    const noXdg = user.run('env', ['-u', 'XDG_RUNTIME_DIR', user.runtsPath, 'list']);
    t.not(noXdg.code, 0);
    t.match(noXdg.stderr, /XDG_RUNTIME_DIR is not set: give the state directory with --root/);
    t.same(fs.readdirSync(state), [], 'nothing left in the state root');
  });

  t.test('the user cannot reach root\'s containers or the host\'s files', async (t) => {
    const rt = new Runts();
    const id = uniqueId('rootless-roots');
    const bundle = makeBundle({ args: ['sleep', '1000'] });
    t.equal(rt.run(['create', '--bundle', bundle, id]).code, 0);
    try {
      const pid = Number(rt.state(id).pid);
      for (const args of [['list'], ['state', id], ['kill', id, 'KILL'], ['delete', '--force', id], ['exec', id, 'true']]) {
        const r = user.runts(['--root', rt.root, ...args]);
        t.not(r.code, 0, `${args[0]} on root's state fails`);
      }
      const other = user.runts(['--root', '/run/runts', 'list']);
      t.not(other.code, 0, 'root\'s default state root is not the user\'s');
      t.equal(rt.state(id).status, 'created', 'root\'s container is untouched');
      t.ok(fs.existsSync(`/proc/${pid}`));
    } finally {
      rt.run(['delete', '--force', id]);
      fs.rmSync(rt.root, { recursive: true, force: true });
    }
    // the container's root is the user: host files stay as they are, even bind-mounted read-write
    const victim = fs.mkdtempSync(path.join('/tmp', 'rootless-victim-'));
    fs.writeFileSync(path.join(victim, 'f'), 'root\'s\n', { mode: 0o644 });
    try {
      const b = userBundle(user, 'host-files', (c) => {
        c.mounts.push({ destination: '/victim', type: 'bind', source: victim, options: ['rbind', 'rw'] });
        c.process.args = ['sh', '-c', 'echo x >> /victim/f; rm -f /victim/f; touch /victim/new; chown 0 /victim/f; echo end'];
      });
      const r = user.runts(['run', '--bundle', b, uniqueId('rootless-host')]);
      t.equal(r.code, 0, r.stderr);
      t.match(r.stderr, /Permission denied|Operation not permitted/);
      t.equal(fs.readFileSync(path.join(victim, 'f'), 'utf8'), 'root\'s\n', 'the host file is unchanged');
      t.same(fs.readdirSync(victim), ['f'], 'nothing created or removed');
    } finally {
      fs.rmSync(victim, { recursive: true, force: true });
    }
  });

  t.test('nothing is left behind', async (t) => {
    t.same(fs.readdirSync(state), [], 'no state');
    // a container killed by the last delete may still be a zombie for a moment, until its parent (the host's init) reaps it
    waitFor(() => user.processes().length === 0, 5000);
    const left = user.processes().map((p) => {
      try {
        return `${p}: ${fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(' ').slice(1, 4).join(' ')} ${fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').trim()}`;
      } catch {
        return `${p}: (gone)`;
      }
    });
    t.same(left, [], 'no process of the user');
    t.same(hostMountsUnder(user.home), [], 'no mount under the user\'s bundles');
    const leftovers = execFileSync('sh', ['-c', 'find /sys/fs/cgroup -maxdepth 3 -type d -name "rootless-*" 2>/dev/null || true'], { encoding: 'utf8' }).trim();
    t.equal(leftovers, '', 'no cgroup');
  });
}
