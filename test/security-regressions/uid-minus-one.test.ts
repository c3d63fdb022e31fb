/**
 * (uid_t)-1: uid or gid 4294967295 means "leave unchanged" to setresuid,
 * setresgid and setgroups' callers, so a process configured with it kept
 * the runtime's uid/gid 0 (issue 11: `process.user.uid` 4294967295 ran the
 * process as root). runc 1.1.5 refuses it (it takes only 0..2^31-1); the
 * differential check below shows that.
 * runts must refuse it, with the JSON pointer, at every entry point:
 * config.json (uid, gid, additionalGids), `exec --user`, `exec
 * --additional-gids`, `exec --process` (uid, gid, additionalGids) — and
 * refuse an id the container's user namespace does not map. Nothing may run.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { check, onTeardown, skipFile } from '../../conformance/lib/check.js';
import { cannotRun, cleanEnv, makeBundle, Runtime, tmpdir, uniqueId } from '../../conformance/lib/runtime.js';

const RUNC = '/usr/sbin/runc';
const why = cannotRun();
if (why) skipFile(why);
else tests();

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function tests(): void {
  const rt = new Runtime();
  onTeardown(() => rt.cleanup());
  const scratch = tmpdir('uidm1-');
  fs.chmodSync(scratch, 0o755); // reachable by a container's unprivileged or mapped uids
  onTeardown(() => fs.rmSync(scratch, { recursive: true, force: true }));

  /** A container whose process would write its ids to a file on the host; returns what was written, if anything. */
  function bundleWritingIds(mutate: (c: Json) => void, tag: string): { dir: string; out: string } {
    const out = path.join(scratch, `${tag}-out`);
    fs.mkdirSync(out, { recursive: true });
    const b = makeBundle({
      args: ['sh', '-c', 'echo "$(id -u) $(id -g)" > /tmp/ids'],
      mutate: (c) => {
        c.mounts.push({ destination: '/tmp', type: 'bind', source: out, options: ['rbind', 'rw'] });
        mutate(c);
      },
    });
    return { dir: b.dir, out: path.join(out, 'ids') };
  }

  const configCases: [string, (c: Json) => void, string][] = [
    ['process.user.uid', (c) => { c.process.user.uid = 4294967295; }, '/process/user/uid'],
    ['process.user.gid', (c) => { c.process.user.gid = 4294967295; }, '/process/user/gid'],
    ['process.user.additionalGids', (c) => { c.process.user.additionalGids = [5, 4294967295]; }, '/process/user/additionalGids/1'],
  ];
  for (const [what, mutate, pointer] of configCases) {
    check(`(uid_t)-1 in ${what} is refused by create (it would run as 0)`, [], async (t) => {
      const b = bundleWritingIds(mutate, `cfg-${pointer.split('/').pop()}`);
      const id = uniqueId('uidm1');
      const before = fs.readdirSync(rt.root).sort();
      const r = rt.run(['run', '--bundle', b.dir, id]);
      t.not(r.code, 0, 'run fails');
      t.match(r.stderr, `config.json ${pointer}: `, 'the error names the JSON pointer');
      t.match(r.stderr, /\(([ug])id_t\)-1/, 'and says why');
      t.notOk(fs.existsSync(b.out), 'the process did not run');
      t.same(fs.readdirSync(rt.root).sort(), before, 'nothing under --root');
      t.not(rt.run(['state', id]).code, 0, 'no container');
    });
  }

  check('differential: runc refuses uid 4294967295 too (nothing runs)', [], async (t) => {
    if (!fs.existsSync(RUNC)) return t.comment(`${RUNC} not installed: nothing to compare`);
    const b = bundleWritingIds((c) => { c.process.user.uid = 4294967295; }, 'runc');
    const root = tmpdir('uidm1-runc-');
    try {
      const r = spawnSync(RUNC, ['--root', root, 'run', '--bundle', b.dir, uniqueId('uidm1runc')], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
      t.not(r.status, 0, `runc fails: ${r.stderr.trim().split('\n').pop()}`);
      t.notOk(fs.existsSync(b.out), 'runc: the process did not run');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  check('an id outside the container user namespace mappings is refused by create', [], async (t) => {
    const b = bundleWritingIds((c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }];
      c.process.user.uid = 1000;
    }, 'unmapped');
    const id = uniqueId('uidm1');
    const r = rt.run(['run', '--bundle', b.dir, id]);
    t.not(r.code, 0, 'run fails');
    t.match(r.stderr, 'config.json /process/user/uid: uid 1000 is not mapped in the container\'s user namespace');
    t.notOk(fs.existsSync(b.out), 'the process did not run');
  });

  check('(uid_t)-1 is refused by exec --user, --additional-gids and --process', [], async (t) => {
    const out = path.join(scratch, 'exec-out');
    fs.mkdirSync(out, { recursive: true });
    fs.chmodSync(out, 0o777);
    const b = makeBundle({
      args: ['sleep', '600'],
      mutate: (c) => { c.mounts.push({ destination: '/tmp', type: 'bind', source: out, options: ['rbind', 'rw'] }); },
    });
    const id = uniqueId('uidm1x');
    t.equal(rt.run(['run', '-d', '--bundle', b.dir, id]).code, 0, 'container runs');
    const marker = (n: string) => ['sh', '-c', `id > /tmp/${n}`];
    const procFile = (n: string, user: Json): string => {
      const f = path.join(scratch, `process-${n}.json`);
      fs.writeFileSync(f, JSON.stringify({ args: marker(n), cwd: '/', user, env: ['PATH=/bin'] }));
      return f;
    };
    const cases: [string, string[], RegExp][] = [
      ['user-uid', ['--user', '4294967295'], /--user/],
      ['user-gid', ['--user', '0:4294967295'], /--user/],
      ['groups', ['--additional-gids', '4294967295'], /--additional-gids/],
      ['groups-short', ['-g', '4294967295'], /--additional-gids/],
      ['proc-uid', ['--process', procFile('proc-uid', { uid: 4294967295, gid: 0 })], /--process .*: \/user\/uid: uid 4294967295 is \(uid_t\)-1/],
      ['proc-gid', ['--process', procFile('proc-gid', { uid: 0, gid: 4294967295 })], /--process .*: \/user\/gid: gid 4294967295 is \(gid_t\)-1/],
      ['proc-groups', ['--process', procFile('proc-groups', { uid: 0, gid: 0, additionalGids: [4294967295] })], /--process .*: \/user\/additionalGids\/0: gid 4294967295/],
    ];
    for (const [n, flags, message] of cases) {
      const r = rt.run(['exec', ...flags, id, ...(flags[0] === '--process' ? [] : marker(n))]);
      t.not(r.code, 0, `exec ${flags.join(' ')} fails`);
      t.match(r.stderr, message, `exec ${flags[0]}: the error names the value (${r.stderr.trim()})`);
      t.notOk(fs.existsSync(path.join(out, n)), `exec ${flags[0]}: nothing ran`);
    }
    const ok = rt.run(['exec', '--user', '4294967294:4294967294', id, ...marker('control')]);
    t.equal(ok.code, 0, `control: uid 4294967294 is accepted (${ok.stderr.trim()})`);
    t.match(fs.readFileSync(path.join(out, 'control'), 'utf8'), /uid=4294967294 gid=4294967294/, 'control: the marker is written');
    t.equal(rt.run(['delete', '--force', id]).code, 0);
  });

  check('exec ids outside the container user namespace mappings are refused', [], async (t) => {
    const out = path.join(scratch, 'userns-out');
    fs.mkdirSync(out, { recursive: true });
    fs.chmodSync(out, 0o777);
    const b = makeBundle({
      args: ['sleep', '600'],
      mutate: (c) => {
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }];
        c.mounts.push({ destination: '/tmp', type: 'bind', source: out, options: ['rbind', 'rw'] });
      },
    });
    const id = uniqueId('uidm1n');
    const r0 = rt.run(['run', '-d', '--bundle', b.dir, id]);
    if (r0.code !== 0) return t.fail(`container with a user namespace runs: ${r0.stderr}`);
    const f = path.join(scratch, 'process-unmapped.json');
    fs.writeFileSync(f, JSON.stringify({ args: ['sh', '-c', 'id > /tmp/p'], cwd: '/', user: { uid: 5000, gid: 0 } }));
    const cases: [string[], string, RegExp][] = [
      [['--user', '5000'], 'u', /exec --user 5000: uid 5000 is not mapped in the container's user namespace/],
      [['--additional-gids', '5000'], 'g', /exec --additional-gids 5000: gid 5000 is not mapped/],
      [['--process', f], 'p', /--process .*: \/user\/uid: uid 5000 is not mapped/],
    ];
    for (const [flags, n, message] of cases) {
      const r = rt.run(['exec', ...flags, id, ...(flags[0] === '--process' ? [] : ['sh', '-c', `id > /tmp/${n}`])]);
      t.not(r.code, 0, `exec ${flags[0]} fails`);
      t.match(r.stderr, message, `${flags[0]}: ${r.stderr.trim()}`);
      t.notOk(fs.existsSync(path.join(out, n)), `${flags[0]}: nothing ran`);
    }
    t.equal(rt.run(['delete', '--force', id]).code, 0);
  });
}
