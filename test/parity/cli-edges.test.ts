/**
 * issue 12, differential: CLI edges scripts and engines rely on, runc 1.1.5
 * against runts, same commands: exit codes, and runc's key phrases inside
 * runts's messages.
 */
import * as fs from 'node:fs';
import t from 'tap';
import { differential, firstLine, makeBundle, type Result, type Runtime } from '../helpers/differential.js';

differential((d) => {
  const sleeper = makeBundle({ args: ['sleep', '600'] });

  const codes = (r: { runc: Result; runts: Result }) => [r.runc.code, r.runts.code];

  t.test('delete --force of a container that does not exist succeeds; plain delete fails', async (t) => {
    const force = d.both(['delete', '--force', 'no-such-container']);
    t.same(codes(force), [0, 0], `delete --force: ${firstLine(force.runts.stderr)}`);
    t.equal(force.runts.stderr, '', 'and says nothing');
    const plain = d.both(['delete', 'no-such-container']);
    t.same(codes(plain), [1, 1], 'plain delete: an error');
    t.match(plain.runts.stderr, /does not exist/);
  });

  t.test('kill with signal 0 checks existence: running, created, stopped (with and without --all)', async (t) => {
    const r = await d.each(async (rt: Runtime) => {
      const out: Record<string, number | null> = {};
      const id = d.id('sig0');
      rt.run(['run', '-d', '--bundle', sleeper, id]);
      out.running = rt.run(['kill', id, '0']).code;
      out.runningAll = rt.run(['kill', '-a', id, '0']).code;
      out.alive = (await rt.waitStatus(id, 'running', 1000)) ? 1 : 0;
      rt.run(['kill', id, 'KILL']);
      await rt.waitStatus(id, 'stopped');
      out.stopped = rt.run(['kill', id, '0']).code;
      out.stoppedAll = rt.run(['kill', '-a', id, '0']).code;
      rt.run(['delete', id]);
      const created = d.id('sig0c');
      rt.run(['create', '--bundle', sleeper, created]);
      out.created = rt.run(['kill', created, '0']).code;
      rt.run(['delete', '--force', created]);
      out.missing = rt.run(['kill', 'no-such-container', '0']).code;
      return out;
    });
    t.same(r.runc, { running: 0, runningAll: 0, alive: 1, stopped: 1, stoppedAll: 0, created: 0, missing: 1 }, 'runc');
    t.same(r.runts, r.runc, 'runts as runc');
  });

  t.test('exec --cgroup: a path out of the container\'s cgroup is refused before anything runs', async (t) => {
    const r = await d.each(async (rt: Runtime) => {
      const id = d.id('subcg');
      rt.run(['run', '-d', '--bundle', sleeper, id]);
      const out: Record<string, Result> = {};
      for (const sub of ['..', 'a/../..', '../x', 'no-such-sub']) {
        out[sub] = rt.run(['exec', '--cgroup', sub, id, 'sh', '-c', 'echo RAN > /dev/shm/ran']);
      }
      const ran = rt.run(['exec', id, 'cat', '/dev/shm/ran']);
      rt.run(['delete', '--force', id]);
      return { out, ran: ran.stdout };
    });
    for (const sub of ['..', 'a/../..', '../x']) {
      t.equal(r.runc.out[sub]!.code, 255, `runc refuses ${sub}`);
      t.match(r.runc.out[sub]!.stderr, /is not a sub cgroup path/);
      t.equal(r.runts.out[sub]!.code, r.runc.out[sub]!.code, `runts refuses ${sub}`);
      t.match(r.runts.out[sub]!.stderr, `${sub} is not a sub cgroup path`, 'with runc\'s phrase');
    }
    t.equal(r.runts.out['no-such-sub']!.code, r.runc.out['no-such-sub']!.code, 'a sub-cgroup that does not exist fails under both');
    t.equal(r.runc.ran, '', 'runc: the command never ran');
    t.equal(r.runts.ran, '', 'runts: the command never ran');
  });

  t.test('exec in a paused container: refused with runc\'s phrase', async (t) => {
    const r = await d.each(async (rt: Runtime) => {
      const id = d.id('paused');
      rt.run(['run', '-d', '--bundle', sleeper, id]);
      rt.run(['pause', id]);
      const x = rt.run(['exec', id, 'true']);
      rt.run(['resume', id]);
      rt.run(['delete', '--force', id]);
      return x;
    });
    t.same(codes(r), [255, 255], 'the same exit status');
    t.match(r.runc.stderr, /cannot exec in a paused container/);
    t.match(r.runts.stderr, /cannot exec in a paused container/, 'runc\'s phrase in runts\'s message');
  });

  t.test('linux.resources.unified on a cgroup v1 host: "invalid configuration"', { skip: fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'a cgroup v2 host' : false }, async (t) => {
    const b = makeBundle({ args: ['true'], mutate: (c) => { c.linux.resources = { unified: { 'pids.max': '10' } }; } });
    const r = await d.each((rt) => rt.run(['run', '--bundle', b, d.id('unified')]));
    t.same(codes(r), [1, 1], 'both refuse it');
    t.match(r.runc.stderr, /invalid configuration/);
    t.match(r.runts.stderr, /invalid configuration/, 'with runc\'s phrase');
  });
});
