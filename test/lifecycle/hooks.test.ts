/**
 * Hooks: order, namespaces, state on stdin, env/args, failures, timeouts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from '../helpers/rootfs.js';
import { findCgroups, findProcesses, makeBundle, uniqueId, withRunts } from '../helpers/runts.js';

withRunts((rt) => {
  const dir = tmpdir('runts-hooks-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'hooks.log');

  // A hook script on the host: logs its phase, mount namespace, and stdin state.
  const hook = path.join(dir, 'hook.sh');
  fs.writeFileSync(hook, `#!/bin/sh\nstate=$(cat)\necho "$1 mnt=$(readlink /proc/self/ns/mnt) env=$HOOKVAR argv0=$0 state=$state" >> ${log}\n`, { mode: 0o755 });
  // The same script inside the rootfs for startContainer (path resolves in the container).
  const hostMnt = fs.readlinkSync('/proc/self/ns/mnt');

  const phases = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

  t.test('every hook runs once, in lifecycle order, in the right namespace', async (t) => {
    fs.rmSync(log, { force: true });
    const id = uniqueId('hooks');
    const rootfs = tmpdir('runts-hookroot-');
    const { makeBusyboxRootfs } = await import('../helpers/rootfs.js');
    makeBusyboxRootfs(rootfs);
    fs.writeFileSync(path.join(rootfs, 'hook.sh'), `#!/bin/sh\nstate=$(cat)\necho "$1 mnt=$(readlink /proc/self/ns/mnt) env=$HOOKVAR argv0=$0 state=$state" >> /out/hooks.log\n`, { mode: 0o755 });
    const bundle = makeBundle({ rootfs, args: ['true'], mutate: (c) => {
      c.mounts.push({ destination: '/out', type: 'bind', source: dir, options: ['rbind', 'rw'] });
      c.hooks = {};
      for (const p of phases) {
        const hpath = p === 'startContainer' ? '/hook.sh' : hook;
        c.hooks[p] = [{ path: hpath, args: [`${p}-argv0`, p], env: [`HOOKVAR=${p}-env`] }];
      }
    } });
    t.equal(rt.run(['create', '--bundle', bundle, id]).code, 0);
    t.equal(rt.run(['start', id]).code, 0);
    // wait for exit, then delete
    for (let i = 0; i < 100 && rt.state(id).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 20));
    t.equal(rt.run(['delete', id]).code, 0);

    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    t.same(lines.map((l) => l.split(' ')[0]), [...phases], 'hooks ran in lifecycle order, once each');
    for (const l of lines) {
      const [phase] = l.split(' ');
      const mnt = /mnt=(\S+)/.exec(l)![1];
      const inContainer = phase === 'createContainer' || phase === 'startContainer';
      if (inContainer) t.not(mnt, hostMnt, `${phase} runs in the container's mount namespace`);
      else t.equal(mnt, hostMnt, `${phase} runs in the runtime's mount namespace`);
      t.match(l, new RegExp(`env=${phase}-env `), `${phase} gets only its env`);
      const state = JSON.parse(l.slice(l.indexOf('state=') + 6));
      t.equal(state.id, id, `${phase} state has the id`);
      t.equal(state.bundle, bundle);
      const want = { prestart: 'created', createRuntime: 'created', createContainer: 'created', startContainer: 'created', poststart: 'running', poststop: 'stopped' }[phase!];
      t.equal(state.status, want, `${phase} sees status ${want}`);
      if (phase === 'createContainer' || phase === 'startContainer') t.equal(state.pid, 1, `${phase} sees the pid as the container sees it`);
      else if (phase !== 'poststop') t.ok(state.pid > 1, `${phase} sees the host pid`);
    }
    fs.rmSync(rootfs, { recursive: true, force: true });
  });

  for (const phase of ['prestart', 'createRuntime', 'createContainer'] as const) {
    t.test(`a failing ${phase} hook fails create and leaves nothing behind`, async (t) => {
      const id = uniqueId(`fail-${phase}`);
      const bundle = makeBundle({ args: ['true'], mutate: (c) => {
        c.hooks = { [phase]: [{ path: '/bin/sh', args: ['sh', '-c', 'echo hook-says-no >&2; exit 7'] }] };
      } });
      const r = rt.run(['create', '--bundle', bundle, id]);
      t.equal(r.code, 1);
      t.match(r.stderr, new RegExp(`${phase} hook #0 \\(/bin/sh\\): exited with status 7: hook-says-no`));
      t.equal(fs.existsSync(path.join(rt.root, id)), false, 'no state dir');
      t.same(findCgroups(id), [], 'no cgroup');
      t.same(findProcesses(id), [], 'no process');
    });
  }

  t.test('a failing startContainer hook fails start and stops the container', async (t) => {
    const id = uniqueId('fail-start');
    const bundle = makeBundle({ args: ['sleep', '30'], mutate: (c) => {
      c.hooks = { startContainer: [{ path: '/bin/false' }] };
    } });
    t.equal(rt.run(['create', '--bundle', bundle, id]).code, 0);
    const r = rt.run(['start', id]);
    t.equal(r.code, 1);
    t.match(r.stderr, /startContainer hook #0 \(\/bin\/false\): exited with status 1/);
    for (let i = 0; i < 100 && rt.state(id).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 20));
    t.equal(rt.state(id).status, 'stopped');
    t.equal(rt.run(['delete', id]).code, 0);
  });

  t.test('run whose start fails (startContainer hook) leaves nothing behind', async (t) => {
    const id = uniqueId('run-fail-start');
    const bundle = makeBundle({ args: ['sleep', '30'], mutate: (c) => {
      c.hooks = { startContainer: [{ path: '/bin/false' }] };
    } });
    const r = rt.run(['run', '--bundle', bundle, id]);
    t.equal(r.code, 1);
    t.match(r.stderr, /startContainer hook #0/);
    t.equal(fs.existsSync(path.join(rt.root, id)), false, 'no state dir');
    t.same(findCgroups(id), [], 'no cgroup');
    t.same(findProcesses(id), [], 'no process');
  });

  t.test('a hook timeout kills the hook\'s whole process tree', async (t) => {
    const id = uniqueId('timeout');
    const marker = `98${process.pid}`; // a unique sleep duration marks the hook's processes
    const bundle = makeBundle({ args: ['true'], mutate: (c) => {
      // The hook starts a grandchild in its own session (escaping the process group) and hangs.
      c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `setsid sleep ${marker} & sleep ${marker}`], timeout: 1 }] };
    } });
    const t0 = Date.now();
    const r = rt.run(['create', '--bundle', bundle, id]);
    t.equal(r.code, 1);
    t.match(r.stderr, /createRuntime hook #0 \(\/bin\/sh\): timed out after 1 s/);
    t.ok(Date.now() - t0 < 20_000, 'did not wait for the hook to finish');
    await new Promise((r) => setTimeout(r, 200));
    t.same(findProcesses(marker), [], 'no process of the hook tree survives');
    t.equal(fs.existsSync(path.join(rt.root, id)), false);
  });

  t.test('failing poststop hooks are warnings: the rest still run, delete succeeds', async (t) => {
    fs.rmSync(log, { force: true });
    const id = uniqueId('poststop');
    const bundle = makeBundle({ args: ['true'], mutate: (c) => {
      c.hooks = { poststop: [{ path: '/bin/false' }, { path: hook, args: ['hook', 'second-poststop'] }] };
    } });
    t.equal(rt.run(['run', '--bundle', bundle, id]).code, 0);
    t.match(fs.readFileSync(log, 'utf8'), /^second-poststop /m, 'the hook after the failing one ran');
    t.equal(fs.existsSync(path.join(rt.root, id)), false);
  });
});
