/**
 * create / start / state / kill / delete / list as separate commands, the
 * state machine, pid files, preserved fds, and races.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { sleepMs, waitFor } from '../helpers/wait.js';
import { tmpdir } from '../helpers/rootfs.js';
import { cleanEnv, findCgroups, makeBundle, RUNTS, uniqueId, withRunts } from '../helpers/runts.js';


withRunts((rt) => {
  t.test('create → created, start → running, exit → stopped, delete → gone', async (t) => {
    const id = uniqueId('life');
    const out = tmpdir();
    const bundle = makeBundle({ args: ['sh', '-c', 'echo started > /out/marker; sleep 2'], mutate: (c) => {
      c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
    } });
    const pidFile = path.join(out, 'pid');
    const c = rt.run(['create', '--bundle', bundle, '--pid-file', pidFile, id]);
    t.equal(c.code, 0, c.stderr);
    const st = rt.state(id);
    t.equal(st.status, 'created');
    t.equal(st.id, id);
    t.equal(st.bundle, bundle);
    t.equal(st.ociVersion, '1.3.0');
    t.type(st.pid, 'number');
    t.equal(fs.readFileSync(pidFile, 'utf8'), String(st.pid), 'pid file holds the init pid');
    t.notOk(fs.existsSync(path.join(out, 'marker')), 'the user process has not run yet');

    const s = rt.run(['start', id]);
    t.equal(s.code, 0, s.stderr);
    t.ok(waitFor(() => fs.existsSync(path.join(out, 'marker'))), 'the user process ran');
    t.equal(rt.state(id).status, 'running');
    t.ok(waitFor(() => rt.state(id).status === 'stopped'), 'stopped after the process exits on its own');
    t.equal(rt.state(id).pid, 0);

    const d = rt.run(['delete', id]);
    t.equal(d.code, 0, d.stderr);
    const gone = rt.run(['state', id]);
    t.equal(gone.code, 1);
    t.match(gone.stderr, /does not exist/);
    t.same(findCgroups(id), []);
    fs.rmSync(out, { recursive: true, force: true });
  });

  t.test('kill: default SIGTERM, names and numbers, then stopped', async (t) => {
    for (const sig of [undefined, 'KILL', 'SIGKILL', '9', 'term']) {
      const id = uniqueId('kill');
      const bundle = makeBundle({ args: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.05; done'] });
      t.equal(rt.run(['run', '-d', '--bundle', bundle, id]).code, 0);
      const k = rt.run(['kill', id, ...(sig ? [sig] : [])]);
      t.equal(k.code, 0, `kill ${sig}: ${k.stderr}`);
      t.ok(waitFor(() => rt.state(id).status === 'stopped'), `stopped after kill ${sig ?? '(default)'}`);
      const again = rt.run(['kill', id, 'KILL']);
      t.equal(again.code, 1, 'killing a stopped container fails');
      t.match(again.stderr, /not running/);
      t.equal(rt.run(['delete', id]).code, 0);
    }
    const bad = rt.run(['kill', 'nope', 'SIGFOO']);
    t.equal(bad.code, 1);
  });

  t.test('kill of a created container ends it', async (t) => {
    const id = uniqueId('kc');
    t.equal(rt.run(['create', '--bundle', makeBundle({ args: ['true'] }), id]).code, 0);
    t.equal(rt.run(['kill', id, 'TERM']).code, 0);
    t.ok(waitFor(() => rt.state(id).status === 'stopped'));
    t.equal(rt.run(['delete', id]).code, 0);
  });

  t.test('delete of a running container needs --force', async (t) => {
    const id = uniqueId('del');
    t.equal(rt.run(['run', '-d', '--bundle', makeBundle({ args: ['sleep', '30'] }), id]).code, 0);
    const pid = rt.state(id).pid as number;
    const d = rt.run(['delete', id]);
    t.equal(d.code, 1);
    t.match(d.stderr, /not stopped: it is running/);
    t.equal(rt.state(id).status, 'running', 'a refused delete changes nothing');
    t.equal(rt.run(['delete', '--force', id]).code, 0);
    t.notOk(waitFor(() => fs.existsSync(`/proc/${pid}`), 100) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'));
    t.same(findCgroups(id), []);
  });

  t.test('list shows containers in table and json format', async (t) => {
    const id = uniqueId('list');
    t.equal(rt.run(['create', '--bundle', makeBundle({ args: ['true'] }), id]).code, 0);
    const table = rt.run(['list']);
    t.match(table.stdout, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER/);
    t.match(table.stdout, new RegExp(`${id}\\s+[0-9]+\\s+created`));
    const json = JSON.parse(rt.run(['list', '--format', 'json']).stdout) as { id: string; status: string }[];
    t.ok(json.find((c) => c.id === id && c.status === 'created'));
    t.match(rt.run(['list', '-q']).stdout, new RegExp(`^${id}$`, 'm'));
    t.equal(rt.run(['delete', '--force', id]).code, 0);
  });

  t.test('start twice, create an existing id, unknown ids: clear errors', async (t) => {
    const id = uniqueId('twice');
    const bundle = makeBundle({ args: ['sleep', '30'] });
    t.equal(rt.run(['create', '--bundle', bundle, id]).code, 0);
    const dup = rt.run(['create', '--bundle', bundle, id]);
    t.equal(dup.code, 1);
    t.match(dup.stderr, /already exists/);
    t.equal(rt.run(['start', id]).code, 0);
    const again = rt.run(['start', id]);
    t.equal(again.code, 1);
    t.match(again.stderr, /it is running, not created/);
    for (const cmd of [['state'], ['start'], ['kill'], ['delete']]) {
      const r = rt.run([...cmd, 'no-such-container']);
      t.equal(r.code, 1, `${cmd.join(' ')} of an unknown id fails`);
      t.match(r.stderr, /container "no-such-container" does not exist/);
    }
    // as runc: engines call it blindly while cleaning up (test/parity/cli-edges.test.ts)
    t.same(rt.run(['delete', '--force', 'no-such-container']).code, 0, 'delete --force of an unknown id succeeds');
    t.equal(rt.run(['delete', '-f', id]).code, 0);
  });

  t.test('two concurrent creates of one id: exactly one wins', async (t) => {
    const id = uniqueId('race');
    const bundle = makeBundle({ args: ['true'] });
    const procs = [0, 1, 2].map(() => spawn(RUNTS, ['--root', rt.root, 'create', '--bundle', bundle, id], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] }));
    const codes = await Promise.all(procs.map((p) => new Promise<number>((res) => p.on('exit', (c) => res(c ?? -1)))));
    t.equal(codes.filter((c) => c === 0).length, 1, `exactly one create succeeded: ${codes}`);
    t.equal(rt.state(id).status, 'created');
    t.same(fs.readdirSync(rt.root).filter((n) => n.startsWith('.')), [], 'no temporary dirs left');
    t.equal(rt.run(['delete', '--force', id]).code, 0);
  });

  t.test('--preserve-fds passes extra fds, and only those', async (t) => {
    const id = uniqueId('fds');
    const dir = tmpdir();
    const file = path.join(dir, 'extra');
    fs.writeFileSync(file, 'from-fd-3\n');
    const bundle = makeBundle({ args: ['sh', '-c', 'cat <&3; ls /proc/self/fd | sort -n | tr "\\n" " "'] });
    const fd = fs.openSync(file, 'r');
    const r = spawnSync(RUNTS, ['--root', rt.root, 'run', '--preserve-fds', '1', '--bundle', bundle, id], {
      env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8',
    });
    fs.closeSync(fd);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /from-fd-3/);
    t.match(r.stdout, /^0 1 2 3 4 ?$/m, 'stdio, the preserved fd and the one ls opens');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
