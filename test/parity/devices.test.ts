/**
 * issue 12, differential: devices listed in linux.devices are created, not
 * allowed. With linux.resources.devices = deny-all, /dev/kmsg (c 1:11) exists
 * in the container but neither the init nor an exec'd process may write to
 * it (runc: EPERM); an explicit allow rule for it makes the write work in
 * both runtimes. The same bundle under runc 1.1 and runts.
 */
import t from 'tap';
import { differential, makeBundle, type Runtime } from '../helpers/differential.js';

differential((d) => {
  const kmsg = { path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o600, uid: 0, gid: 0 };
  const write = 'echo "<7>runts parity test: devices cgroup" > /dev/kmsg && echo WROTE || echo REFUSED';
  const bundleWith = (rules: object[]) => makeBundle({
    args: ['sh', '-c', `{ ls -l /dev/kmsg | cut -c1; ${write}; } > /dev/shm/init.out 2>&1; touch /dev/shm/done; sleep 60`],
    mutate: (c) => { c.linux.devices = [kmsg]; c.linux.resources = { devices: rules }; },
  });

  /** What the init and an exec'd process get when writing /dev/kmsg. */
  function probe(rt: Runtime, bundle: string) {
    const id = d.id('kmsg');
    const run = rt.run(['run', '-d', '--bundle', bundle, id]);
    const exec = rt.run(['exec', id, 'sh', '-c', write]);
    const init = rt.run(['exec', id, 'sh', '-c', 'while [ ! -e /dev/shm/done ]; do sleep 0.1; done; cat /dev/shm/init.out']);
    rt.run(['delete', '--force', id]);
    return { run: run.code, init: init.stdout.trim().split('\n'), initErr: run.stderr, exec: exec.stdout.trim(), execErr: exec.stderr };
  }

  t.test('deny-all: /dev/kmsg is created but denied to the init and to exec', async (t) => {
    const bundle = bundleWith([{ allow: false, access: 'rwm' }]);
    const r = await d.each((rt) => probe(rt, bundle));
    t.equal(r.runc.run, 0, `runc ran: ${r.runc.initErr}`);
    t.match(r.runc.init, ['c', /Operation not permitted/, 'REFUSED'], 'runc: the node exists, the init cannot write it');
    t.equal(r.runc.exec, 'REFUSED', 'runc: exec cannot write it');
    t.match(r.runc.execErr, /Operation not permitted/);
    t.equal(r.runts.run, 0, `runts ran: ${r.runts.initErr}`);
    t.same(r.runts.init, r.runc.init, 'runts: the init sees what it sees under runc');
    t.equal(r.runts.exec, r.runc.exec, 'runts: exec is refused as under runc');
    t.match(r.runts.execErr, /Operation not permitted/, 'with EPERM');
  });

  t.test('an explicit allow rule for c 1:11 w makes it writable under both', async (t) => {
    const bundle = bundleWith([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'w' }]);
    const r = await d.each((rt) => probe(rt, bundle));
    t.same(r.runc.init, ['c', 'WROTE'], `runc: ${r.runc.initErr}`);
    t.equal(r.runc.exec, 'WROTE');
    t.same(r.runts.init, r.runc.init, `runts: ${r.runts.initErr}`);
    t.equal(r.runts.exec, r.runc.exec);
  });
});
