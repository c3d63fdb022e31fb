/**
 * A create that hangs (here in a createRuntime hook without a timeout, which
 * the spec allows) holds the container's lock. `delete --force` waits for it
 * (30 s), then kills that create and removes everything its record names.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import t from 'tap';
import { cleanEnv, findCgroups, findProcesses, makeBundle, RUNTS, uniqueId, withRunts } from '../helpers/runts.js';
import { waitFor } from '../helpers/wait.js';

withRunts((rt) => {
  t.setTimeout(120_000);
  t.test('delete --force of a container whose create hangs', async (t) => {
    const id = uniqueId('hung');
    const marker = `${process.pid}.4242`;
    const b = makeBundle({ args: ['true'], mutate: (c) => {
      c.linux.cgroupsPath = `/runts-test/${id}`;
      c.hooks = { createRuntime: [{ path: '/bin/busybox', args: ['sleep', marker] }] };
    } });
    const create = spawn(RUNTS, ['--root', rt.root, 'create', '--bundle', b, id], { stdio: 'ignore', env: cleanEnv() });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => create.once('exit', (_code, sig) => resolve(sig)));
    t.teardown(() => { for (const p of findProcesses(marker)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } } });
    t.ok(waitFor(() => findProcesses(marker).length > 0, 20_000), 'the create is stuck in its hook');
    const init = Number(JSON.parse(fs.readFileSync(`${rt.root}/${id}/state.json`, 'utf8')).init?.pid);
    t.ok(init > 0, 'the init exists');
    const started = Date.now();
    const r = rt.run(['delete', '--force', id], { timeoutMs: 60_000 });
    t.equal(r.code, 0, `delete --force succeeds (${r.stderr.trim()})`);
    t.ok(Date.now() - started >= 29_000, 'after waiting for the lock');
    t.match(r.stderr, /has held the lock .* killing it/, 'and says it killed the create');
    t.equal(await exited, 'SIGKILL', 'the create was killed');
    t.notOk(fs.existsSync(`/proc/${init}`) && !/\) Z /.test(fs.readFileSync(`/proc/${init}/stat`, 'utf8')), 'its init is gone');
    t.same(findCgroups(id), [], 'no cgroup left');
    t.not(rt.run(['state', id]).code, 0, 'the container does not exist');
  });
});
