/**
 * runtime.md operations and lifecycle, driven through the CLI only:
 * create / start / state / kill / delete, the state machine, errors that
 * leave nothing behind, and config.json changes after create.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateState } from '../src/spec/validate.js';
import { check, onTeardown, withRuntime } from './lib/check.js';
import {
  findCgroups, findProcesses, hostMountsUnder, makeBundle, processGone, removeCgroups, rewriteConfig, sleepMs, tmpdir, uniqueId, waitFor,
} from './lib/runtime.js';

withRuntime((rt) => {
  const out = tmpdir('conf-life-out-');
  onTeardown(() => fs.rmSync(out, { recursive: true, force: true }));

  /** A bundle whose process appends `word` to <out>/<file> (bound at /out). */
  const marking = (file: string, script: string, mutate?: (c: Record<string, any>) => void) => makeBundle({ // eslint-disable-line @typescript-eslint/no-explicit-any
    args: ['sh', '-c', script.replace(/MARK/g, `/out/${file}`)],
    mutate: (c) => {
      c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
      mutate?.(c);
    },
  });

  check('create applies the config without running the process; start runs it', [
    'runtime.md#scope-of-a-container/1', 'runtime.md#lifecycle/1', 'runtime.md#lifecycle/3', 'runtime.md#lifecycle/13',
    'runtime.md#create/3', 'runtime.md#create/4', 'runtime.md#create/5', 'runtime.md#start/3', 'runtime.md#operations/1',
  ], async (t) => {
    const id = uniqueId('cs');
    const mark = `mark-${id}`;
    const b = marking(mark, 'echo ran > MARK; exec sleep 30', (c) => {
      c.hostname = 'created-host';
      c.mounts.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    });
    const c = rt.run(['create', '--bundle', b.dir, id]);
    t.equal(c.code, 0, `create: ${c.stderr}`);
    const st = rt.state(id);
    t.equal(st.status, 'created');
    const pid = Number(st.pid);
    t.ok(pid > 0 && !processGone(pid), 'the container process exists after create');
    t.notOk(fs.existsSync(path.join(out, mark)), 'the user program has not run after create');
    t.not(fs.readlinkSync(`/proc/${pid}/ns/net`), fs.readlinkSync('/proc/self/ns/net'), 'the network namespace exists after create');
    const mi = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
    t.match(mi, / \/data rw\S*( \S+)* - tmpfs /, 'the /data mount exists after create');
    const uts = spawnSync('nsenter', ['--target', String(pid), '--uts', 'hostname'], { encoding: 'utf8' });
    t.equal(uts.stdout.trim(), 'created-host', 'the hostname is set after create');
    t.not(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0], 'sh', 'the container process is not process.args yet');

    const s = rt.run(['start', id]);
    t.equal(s.code, 0, `start: ${s.stderr}`);
    t.ok(waitFor(() => fs.existsSync(path.join(out, mark))), 'the user program ran after start');
    t.equal(rt.state(id).status, 'running');
    t.equal(Number(rt.state(id).pid), pid, 'the same process (pid) runs the user program');
    t.match(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^sleep\x0030/, 'process.args is what runs');
    t.equal(rt.run(['kill', id, 'KILL']).code, 0);
    t.ok(rt.waitStopped(id), 'stopped after KILL');
    t.equal(rt.run(['delete', id]).code, 0);
  });

  check('state JSON matches the state schema in created, running and stopped', [
    'runtime.md#state/1', 'runtime.md#state/2', 'runtime.md#state/4', 'runtime.md#state/5', 'runtime.md#state/6', 'runtime.md#state/7', 'runtime.md#state/8',
    'runtime.md#query-state/3', 'command-line-interface.md#state/2',
  ], async (t) => {
    const id = uniqueId('st');
    const b = makeBundle({ args: ['sleep', '30'], mutate: (c) => { c.annotations = { 'org.example.key': 'value', 'com.example.empty': '' }; } });
    t.equal(rt.run(['create', '--bundle', b.dir, id]).code, 0);
    const seen: string[] = [];
    const checkState = (want: string) => {
      const r = rt.run(['state', id]);
      t.equal(r.code, 0, `state (${want}) exits 0`);
      const st = JSON.parse(r.stdout) as Record<string, unknown>;
      t.doesNotThrow(() => validateState(st), `state (${want}) validates against schema/state-schema.json`);
      t.equal(st.status, want);
      t.equal(st.id, id);
      t.match(st.ociVersion, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/, 'ociVersion is a SemVer version');
      t.equal(st.bundle, b.dir, 'bundle is the absolute bundle path');
      t.ok(path.isAbsolute(String(st.bundle)));
      t.same(st.annotations, b.config.annotations, 'annotations from config.json');
      if (want === 'created' || want === 'running') t.ok(Number(st.pid) > 0 && !processGone(Number(st.pid)), `pid is the live container process when ${want}`);
      seen.push(String(st.status));
    };
    checkState('created');
    t.equal(rt.run(['start', id]).code, 0);
    checkState('running');
    t.equal(rt.run(['kill', id, 'KILL']).code, 0);
    t.ok(rt.waitStopped(id));
    checkState('stopped');
    t.ok(seen.every((s) => ['creating', 'created', 'running', 'stopped'].includes(s)), 'only the spec\'s states were reported');
    t.equal(rt.run(['delete', id]).code, 0);
  });

  check('operations without a container id fail', [
    'runtime.md#query-state/1', 'runtime.md#start/1', 'runtime.md#kill/1', 'runtime.md#delete/1', 'runtime.md#create/1',
  ], async (t) => {
    const b = makeBundle();
    for (const args of [['state'], ['start'], ['kill'], ['delete'], ['create', '--bundle', b.dir], ['create']]) {
      const r = rt.run(args);
      t.not(r.code, 0, `${args.join(' ')} without an id exits non-zero`);
    }
    const r = rt.run(['list', '--format', 'json']);
    t.same(JSON.parse(r.stdout || '[]') ?? [], [], 'nothing was created');
    const nob = rt.run(['create', '--bundle', path.join(out, 'no-such-bundle'), uniqueId('nob')]);
    t.not(nob.code, 0, 'create with a bundle path that does not exist fails');
  });

  check('operations on an unknown container fail', ['runtime.md#query-state/2', 'runtime.md#kill/2', 'runtime.md#start/2', 'runtime.md#delete/2'], async (t) => {
    for (const args of [['state'], ['start'], ['kill'], ['delete']]) {
      const r = rt.run([...args, 'no-such-container']);
      t.not(r.code, 0, `${args.join(' ')} no-such-container exits non-zero`);
    }
  });

  check('kill --all of an unknown container fails', ['runtime.md#kill/2'], async (t) => {
    const r = rt.run(['kill', '--all', 'no-such-container', 'KILL']);
    t.not(r.code, 0, 'kill --all no-such-container exits non-zero');
  });

  check('ids are unique: a second create with the same id fails and leaves the first alone', ['runtime.md#state/3', 'runtime.md#create/2', 'runtime.md#errors/1'], async (t) => {
    const id = uniqueId('dup');
    const b = makeBundle({ args: ['sleep', '30'] });
    t.equal(rt.run(['create', '--bundle', b.dir, id]).code, 0);
    const before = rt.state(id);
    const cgBefore = findCgroups(id);
    const dup = rt.run(['create', '--bundle', makeBundle({ args: ['true'] }).dir, id]);
    t.not(dup.code, 0, 'the second create fails');
    const after = rt.state(id);
    t.same(after, before, 'the first container is unchanged');
    t.same(findCgroups(id), cgBefore, 'its cgroups are unchanged');
    t.equal(rt.run(['start', id]).code, 0, 'and it can still be started');
    t.equal(rt.state(id).status, 'running');
    t.equal(rt.run(['delete', '--force', id]).code, 0);
  });

  check('invalid container ids are refused and nothing is created', ['runtime.md#create/2'], async (t) => {
    const b = makeBundle();
    const before = fs.readdirSync(rt.root);
    for (const id of ['', '..', '.', 'a/b', '../escape', 'a b', 'x\ny']) {
      const r = rt.run(['create', '--bundle', b.dir, id]);
      t.not(r.code, 0, `create ${JSON.stringify(id)} fails`);
    }
    t.same(fs.readdirSync(rt.root), before, 'nothing new under --root');
    t.notOk(fs.existsSync(path.join(path.dirname(rt.root), 'escape')), 'nothing created next to --root');
    t.same(findCgroups('escape'), [], 'no cgroup');
  });

  check('start of a container that is not created fails without effect', ['runtime.md#start/2'], async (t) => {
    const id = uniqueId('st2');
    const b = makeBundle({ args: ['sleep', '30'] });
    t.equal(rt.run(['create', '--bundle', b.dir, id]).code, 0);
    t.equal(rt.run(['start', id]).code, 0);
    const running = rt.state(id);
    const again = rt.run(['start', id]);
    t.not(again.code, 0, 'start of a running container fails');
    t.same(rt.state(id), running, 'the running container is unchanged');
    t.equal(rt.run(['kill', id, 'KILL']).code, 0);
    t.ok(rt.waitStopped(id));
    const stopped = rt.run(['start', id]);
    t.not(stopped.code, 0, 'start of a stopped container fails');
    t.equal(rt.state(id).status, 'stopped', 'the stopped container is unchanged');
    t.equal(rt.run(['delete', id]).code, 0);
  });

  check('kill of a stopped container fails and changes nothing', ['runtime.md#kill/2'], async (t) => {
    const id = uniqueId('ks');
    t.equal(rt.run(['create', '--bundle', makeBundle({ args: ['true'] }).dir, id]).code, 0);
    t.equal(rt.run(['start', id]).code, 0);
    t.ok(rt.waitStopped(id));
    const before = rt.state(id);
    for (const sig of ['TERM', 'KILL']) t.not(rt.run(['kill', id, sig]).code, 0, `kill ${sig} of a stopped container fails`);
    t.same(rt.state(id), before, 'the state is unchanged');
    t.equal(rt.run(['delete', id]).code, 0, 'and it can be deleted normally');
  });

  check('kill delivers signals to the container process (TERM, KILL, others)', [
    'runtime.md#kill/3', 'command-line-interface.md#kill/1', 'command-line-interface.md#kill/2',
  ], async (t) => {
    const id = uniqueId('sig');
    const mark = `sig-${id}`;
    const b = marking(mark, 'trap "echo USR1 >> MARK" USR1; trap "echo TERM >> MARK; exit 3" TERM; echo ready >> MARK; while :; do sleep 0.05; done');
    t.equal(rt.run(['create', '--bundle', b.dir, id]).code, 0);
    const created = rt.run(['kill', id, 'USR1']);
    t.equal(created.code, 0, 'kill of a created container is accepted');
    rt.run(['delete', '--force', id]);
    fs.rmSync(path.join(out, mark), { force: true });

    const id2 = uniqueId('sig');
    const b2 = marking(mark, 'trap "echo USR1 >> MARK" USR1; trap "echo TERM >> MARK; exit 3" TERM; echo ready >> MARK; while :; do sleep 0.05; done');
    t.equal(rt.run(['create', '--bundle', b2.dir, id2]).code, 0);
    t.equal(rt.run(['start', id2]).code, 0);
    const file = path.join(out, mark);
    t.ok(waitFor(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes('ready')), 'the process is up');
    t.equal(rt.run(['kill', id2, 'USR1']).code, 0, 'kill USR1');
    t.ok(waitFor(() => fs.readFileSync(file, 'utf8').includes('USR1')), 'the process got SIGUSR1');
    t.equal(rt.state(id2).status, 'running', 'still running after a handled signal');
    t.equal(rt.run(['kill', id2]).code, 0, 'kill with the default signal (TERM)');
    t.ok(waitFor(() => fs.readFileSync(file, 'utf8').includes('TERM')), 'the process got SIGTERM and ran its handler');
    t.ok(rt.waitStopped(id2), 'it exited');
    t.equal(rt.run(['delete', id2]).code, 0);

    const id3 = uniqueId('sig');
    const b3 = makeBundle({ args: ['sh', '-c', 'trap "" TERM; while :; do sleep 0.05; done'] });
    t.equal(rt.run(['create', '--bundle', b3.dir, id3]).code, 0);
    t.equal(rt.run(['start', id3]).code, 0);
    const pid = Number(rt.state(id3).pid);
    t.equal(rt.run(['kill', id3, 'TERM']).code, 0);
    sleepMs(300);
    t.equal(rt.state(id3).status, 'running', 'TERM can be ignored (POSIX semantics)');
    t.equal(rt.run(['kill', id3, 'KILL']).code, 0);
    t.ok(waitFor(() => processGone(pid)), 'KILL cannot be ignored');
    t.ok(rt.waitStopped(id3));
    t.equal(rt.run(['delete', id3]).code, 0);
  });

  check('delete of a created or running container fails without side effects', ['runtime.md#delete/2', 'runtime.md#errors/1'], async (t) => {
    const id = uniqueId('del');
    const b = makeBundle({ args: ['sleep', '30'] });
    t.equal(rt.run(['create', '--bundle', b.dir, id]).code, 0);
    const created = rt.state(id);
    const cg = findCgroups(id);
    t.not(rt.run(['delete', id]).code, 0, 'delete of a created container fails');
    t.same(rt.state(id), created, 'still created, same pid');
    t.same(findCgroups(id), cg, 'cgroups still there');
    t.equal(rt.run(['start', id]).code, 0, 'and it can still be started');
    const running = rt.state(id);
    t.not(rt.run(['delete', id]).code, 0, 'delete of a running container fails');
    t.same(rt.state(id), running, 'still running, same pid');
    t.ok(!processGone(Number(running.pid)), 'the process is alive');
    t.same(findCgroups(id), cg, 'cgroups still there');
    t.equal(rt.run(['delete', '--force', id]).code, 0);
  });

  check('delete removes what create made and nothing else', [
    'runtime.md#delete/3', 'runtime.md#delete/4', 'runtime.md#lifecycle/16',
  ], async (t) => {
    const id = uniqueId('rm');
    const parent = `conf-parent-${process.pid}`;
    const sibling = `/sys/fs/cgroup/memory/${parent}/sibling`;
    fs.mkdirSync(sibling, { recursive: true });
    t.teardown(() => removeCgroups(parent));
    const vol = tmpdir('conf-vol-');
    fs.writeFileSync(path.join(vol, 'keep'), 'volume data\n');
    t.teardown(() => fs.rmSync(vol, { recursive: true, force: true }));
    const b = makeBundle({ args: ['sh', '-c', 'echo x > /vol/written; sleep 0.2'], mutate: (c) => {
      c.linux.cgroupsPath = `/${parent}/${id}`;
      c.mounts.push({ destination: '/vol', type: 'bind', source: vol, options: ['rbind', 'rw'] });
      c.mounts.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs' });
    } });
    t.equal(rt.run(['create', '--bundle', b.dir, id]).code, 0);
    t.ok(fs.existsSync(`/sys/fs/cgroup/memory/${parent}/${id}`), 'create made the cgroup');
    t.equal(rt.run(['start', id]).code, 0);
    t.ok(rt.waitStopped(id));
    const d = rt.run(['delete', id]);
    t.equal(d.code, 0, d.stderr);
    t.notOk(fs.existsSync(`/sys/fs/cgroup/memory/${parent}/${id}`), 'the container cgroup is gone');
    t.same(findCgroups(id), [], 'no cgroup of the container in any hierarchy');
    t.ok(fs.existsSync(sibling), 'a pre-existing sibling cgroup is untouched');
    t.ok(fs.existsSync(`/sys/fs/cgroup/memory/${parent}`), 'the pre-existing parent cgroup is kept');
    t.equal(fs.readFileSync(path.join(vol, 'keep'), 'utf8'), 'volume data\n', 'the bind-mounted volume is untouched');
    t.equal(fs.readFileSync(path.join(vol, 'written'), 'utf8'), 'x\n', 'and keeps what the container wrote');
    t.ok(fs.existsSync(path.join(b.dir, 'config.json')), 'the bundle is not deleted');
    t.same(hostMountsUnder(b.dir), [], 'no mounts left under the bundle');
    t.same(findProcesses(id), [], 'no process left');
    t.not(rt.run(['state', id]).code, 0, 'the container no longer exists');
    const again = rt.run(['create', '--bundle', b.dir, id]);
    t.equal(again.code, 0, 'the id can be used again');
    rt.run(['delete', '--force', id]);
  });

  check('changes to config.json after create do not affect the container', ['runtime.md#lifecycle/4', 'runtime.md#create/4'], async (t) => {
    const id = uniqueId('chg');
    const mark = `chg-${id}`;
    const b = marking(mark, 'echo "original $(hostname)" > MARK');
    t.equal(rt.run(['create', '--bundle', b.dir, id]).code, 0);
    b.config.process.args = ['sh', '-c', `echo changed > /out/${mark}`];
    b.config.hostname = 'changed-host';
    rewriteConfig(b);
    t.equal(rt.run(['start', id]).code, 0);
    t.ok(rt.waitStopped(id));
    t.equal(fs.readFileSync(path.join(out, mark), 'utf8'), 'original conformance\n', 'the process and hostname are the ones from create time');
    t.equal(rt.run(['delete', id]).code, 0);
  });

  check('a failed create leaves the environment as if it had not been attempted', [
    'runtime.md#errors/1', 'runtime.md#lifecycle/2', 'runtime.md#create/6',
  ], async (t) => {
    const rootBefore = fs.readdirSync(rt.root).sort();
    const cases: [string, (c: Record<string, any>) => void][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
      ['bind source missing', (c) => c.mounts.push({ destination: '/x', type: 'bind', source: '/no/such/source', options: ['bind'] })],
      ['unknown filesystem type', (c) => c.mounts.push({ destination: '/x', type: 'nosuchfs', source: 'none' })],
      ['missing executable', (c) => { c.process.args = ['/no/such/binary']; }],
      ['namespace path that does not exist', (c) => c.linux.namespaces.push({ type: 'cgroup', path: '/no/such/ns' })],
      ['cgroup limit the kernel rejects', (c) => { c.linux.resources = { memory: { limit: 1, swap: 1 } }; }],
    ];
    for (const [what, mutate] of cases) {
      const id = uniqueId('fail');
      const b = makeBundle({ args: ['true'], mutate });
      const mountsBefore = hostMountsUnder('/').length;
      const r = rt.run(['create', '--bundle', b.dir, id]);
      if (r.code === 0) {
        // a runtime may detect some of these only at start: then start must fail
        const s = rt.run(['start', id]);
        t.not(s.code, 0, `${what}: create or start fails`);
        rt.run(['delete', '--force', id]);
        continue;
      }
      t.not(r.code, 0, `${what}: create fails (${r.stderr.trim().split('\n').pop()})`);
      t.not(rt.run(['state', id]).code, 0, `${what}: no container`);
      t.same(findCgroups(id), [], `${what}: no cgroup`);
      t.same(findProcesses(id), [], `${what}: no process`);
      t.equal(hostMountsUnder('/').length, mountsBefore, `${what}: no host mount`);
      t.same(fs.readdirSync(rt.root).sort(), rootBefore, `${what}: nothing under --root`);
    }
  });

  check('unknown properties and annotation keys are ignored', ['config.md#extensibility/1', 'config.md#annotations/14'], async (t) => {
    const id = uniqueId('ext');
    const mark = `ext-${id}`;
    const b = marking(mark, 'echo ok > MARK', (c) => {
      c['org.example.future'] = { nested: [1, 2, 3] };
      c.process['org.example.processExtra'] = true;
      c.linux['org.example.linuxExtra'] = 'x';
      c.mounts[0]['org.example.mountExtra'] = 1;
      c.annotations = { 'org.example.unknown': 'v', 'io.other.key': 'w' };
    });
    const r = rt.lifecycle(b.dir, id);
    t.equal(r.create.code, 0, `create accepts unknown properties: ${r.create.stderr}`);
    t.equal(r.start?.code, 0, 'start');
    t.equal(fs.readFileSync(path.join(out, mark), 'utf8'), 'ok\n', 'the container ran');
  });

  check('process is required to start a container', ['runtime.md#start/4', 'config.md#process/1'], async (t) => {
    // config.md: process is REQUIRED when start is called, so create works without it (runtime-tools "start")
    const id = uniqueId('nop');
    const b = makeBundle({ mutate: (c) => { delete c.process; } });
    const c = rt.run(['create', '--bundle', b.dir, id]);
    t.equal(c.code, 0, `create without process succeeds: ${c.stderr}`);
    t.equal(JSON.parse(rt.run(['state', id]).stdout).status, 'created');
    const s = rt.run(['start', id]);
    t.not(s.code, 0, 'start without process fails');
    t.match(s.stderr, /no process to run/);
    t.not(JSON.parse(rt.run(['state', id]).stdout).status, 'running', 'nothing runs');
    t.equal(rt.run(['delete', '--force', id]).code, 0);
    t.not(rt.run(['state', id]).code, 0, 'gone after delete');
  });
});
