/**
 * `runts run` end to end: what the kernel shows inside a real container.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { findCgroups, makeBundle, uniqueId, withRunts } from '../helpers/runts.js';

withRunts((rt) => {
  const sh = (script: string, mutate?: (c: Record<string, any>) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const id = uniqueId('run');
    const bundle = makeBundle({ args: ['sh', '-c', script], mutate });
    const r = rt.run(['run', '--bundle', bundle, id]);
    fs.rmSync(bundle, { recursive: true, force: true });
    return { ...r, id };
  };

  t.test('exit status of the container process is the exit status of run', async (t) => {
    t.equal(sh('exit 0').code, 0);
    t.equal(sh('exit 3').code, 3);
    // pid 1 of a pid namespace cannot SIGKILL itself: kill it from outside, as an engine does.
    const id = uniqueId('sigkill');
    const run = rt.spawn(['run', '--bundle', makeBundle({ args: ['sleep', '30'] }), id]);
    for (let i = 0; i < 200 && rt.run(['state', id]).stdout.indexOf('"running"') < 0; i++) await new Promise((r) => setTimeout(r, 25));
    t.equal(rt.run(['kill', id, 'KILL']).code, 0);
    const code = await new Promise<number | null>((res) => run.on('exit', (c) => res(c)));
    t.equal(code, 137, 'killed by SIGKILL: 128+9');
  });

  t.test('namespaces differ from the host', async (t) => {
    const r = sh('for n in pid mnt uts ipc net; do readlink /proc/self/ns/$n; done');
    t.equal(r.code, 0, r.stderr);
    const inside = r.stdout.trim().split('\n');
    const host = ['pid', 'mnt', 'uts', 'ipc', 'net'].map((n) => fs.readlinkSync(`/proc/self/ns/${n}`));
    t.equal(inside.length, 5);
    inside.forEach((v, i) => t.not(v, host[i], `${['pid', 'mnt', 'uts', 'ipc', 'net'][i]} namespace is private`));
  });

  t.test('pid 1, hostname, uid/gid, env, cwd', async (t) => {
    const r = sh('echo pid=$$; hostname; id -u; id -g; echo "foo=$FOO"; pwd', (c) => {
      c.process.env.push('FOO=bar baz');
      c.process.cwd = '/tmp';
      c.hostname = 'box-1';
    });
    t.equal(r.code, 0, r.stderr);
    t.same(r.stdout.trim().split('\n'), ['pid=1', 'box-1', '0', '0', 'foo=bar baz', '/tmp']);
  });

  t.test('non-root user with additional groups and umask', async (t) => {
    const r = sh('id -u; id -g; grep ^Groups: /proc/self/status; umask', (c) => {
      c.process.user = { uid: 1000, gid: 1001, additionalGids: [5, 7], umask: 0o027 };
    });
    t.equal(r.code, 0, r.stderr);
    const [uid, gid, groups, umask] = r.stdout.trim().split('\n');
    t.equal(uid, '1000');
    t.equal(gid, '1001');
    t.match(groups, /^Groups:\s+5 7\s*$/);
    t.equal(umask, '0027');
  });

  t.test('read-only root, writable tmpfs mounts with their options', async (t) => {
    const r = sh('touch /x 2>&1; echo rc=$?; touch /dev/shm/ok && echo shm-writable; grep -E " / | /dev/shm | /sys | /proc " /proc/self/mountinfo');
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /Read-only file system/);
    t.match(r.stdout, /rc=1/);
    t.match(r.stdout, /shm-writable/);
    const lines = r.stdout.split('\n');
    const root = lines.find((l) => l.split(' ')[4] === '/');
    t.ok(root && /\bro\b/.test(root.split(' ')[5]!), `root mount is ro: ${root}`);
    const shm = lines.find((l) => l.split(' ')[4] === '/dev/shm');
    t.ok(shm && /nosuid/.test(shm) && /nodev/.test(shm) && /noexec/.test(shm), `shm options: ${shm}`);
    const sys = lines.find((l) => l.split(' ')[4] === '/sys');
    t.ok(sys && /\bro\b/.test(sys.split(' ')[5]!), `sysfs is ro: ${sys}`);
  });

  t.test('default devices and /dev symlinks', async (t) => {
    const r = sh('for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done; for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done');
    t.equal(r.code, 0, r.stderr);
    const want: Record<string, string> = { null: '1:3', zero: '1:5', full: '1:7', random: '1:8', urandom: '1:9', tty: '5:0' };
    for (const [name, dev] of Object.entries(want)) {
      const [maj, min] = dev.split(':').map((n) => Number(n).toString(16));
      t.match(r.stdout, new RegExp(`/dev/${name} character special file ${maj}:${min} 666`), `/dev/${name} is ${dev} rw-rw-rw-`);
    }
    t.match(r.stdout, /pts\/ptmx/);
    t.match(r.stdout, /\/proc\/self\/fd\n/);
  });

  t.test('rlimits', async (t) => {
    const r = sh('grep "Max open files" /proc/self/limits', (c) => {
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 768 }];
    });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /Max open files\s+512\s+768\s+files/);
  });

  t.test('only stdio reaches the container: no runtime fd leaks', async (t) => {
    const r = sh('ls /proc/self/fd | sort -n | tr "\\n" " "');
    t.equal(r.code, 0, r.stderr);
    // 0 1 2 and the fd ls itself opens for the directory (3)
    t.equal(r.stdout.trim(), '0 1 2 3');
  });

  t.test('no_new_privs as configured', async (t) => {
    t.match(sh('grep NoNewPrivs /proc/self/status').stdout, /NoNewPrivs:\s+1/);
    t.match(sh('grep NoNewPrivs /proc/self/status', (c) => { c.process.noNewPrivileges = false; }).stdout, /NoNewPrivs:\s+0/);
  });

  t.test('a session keyring of its own, unless --no-new-keyring', async (t) => {
    const r = sh('grep -c "keyring   run-" /proc/keys; readlink /proc/self/ns/user');
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, new RegExp(`keyring\\s+${r.id}: empty|^1$`, 'm'), 'the container joined a keyring named after its id');
    const id = uniqueId('nokey');
    const bundle = makeBundle({ args: ['sh', '-c', 'grep -c "keyring   nokey-" /proc/keys || true'] });
    const n = rt.run(['run', '--no-new-keyring', '--bundle', bundle, id]);
    t.equal(n.code, 0, n.stderr);
    t.equal(n.stdout.trim(), '0', 'no keyring of its own with --no-new-keyring');
  });

  t.test('run removes the container afterwards, --keep keeps it', async (t) => {
    const r = sh('true');
    t.equal(r.code, 0);
    t.equal(rt.run(['state', r.id]).code, 1, 'deleted after run');
    t.same(findCgroups(r.id), [], 'no cgroup left');

    const id = uniqueId('keep');
    const bundle = makeBundle({ args: ['true'] });
    t.equal(rt.run(['run', '--keep', '--bundle', bundle, id]).code, 0);
    t.equal(rt.state(id).status, 'stopped');
    t.equal(rt.run(['delete', id]).code, 0);
    t.equal(fs.existsSync(path.join(rt.root, id)), false);
  });

  t.test('run --detach returns at once and leaves a running container', async (t) => {
    const id = uniqueId('detach');
    const bundle = makeBundle({ args: ['sleep', '30'] });
    const r = rt.run(['run', '-d', '--bundle', bundle, id]);
    t.equal(r.code, 0, r.stderr);
    const st = rt.state(id);
    t.equal(st.status, 'running');
    t.ok(fs.existsSync(`/proc/${st.pid}`));
    t.equal(rt.run(['delete', '--force', id]).code, 0);
    t.equal(fs.existsSync(`/proc/${st.pid}/stat`) && !fs.readFileSync(`/proc/${st.pid}/stat`, 'utf8').includes(') Z'), false, 'process is gone');
  });
});
