/**
 * Bad input: every malformed config, wrong state, missing executable and
 * CLI misuse gives a specific one-line error, a non-zero exit, and leaves
 * nothing behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { tmpdir } from '../helpers/rootfs.js';
import { findCgroups, findProcesses, makeBundle, uniqueId, withRunts } from '../helpers/runts.js';

withRunts((rt) => {
  function assertNothingLeft(t: Test, id: string): void {
    t.equal(fs.existsSync(path.join(rt.root, id)), false, 'no state dir');
    t.same(fs.readdirSync(rt.root).filter((n) => n.includes(id.slice(0, 20))), [], 'no temporary dir');
    t.same(findCgroups(id), [], 'no cgroup');
    t.same(findProcesses(id), [], 'no process');
  }

  const cases: [string, (c: Record<string, any>) => void, RegExp][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    ['wrong type', (c) => { c.process.user.uid = 'root'; }, /\/process\/user\/uid/],
    ['missing ociVersion', (c) => { delete c.ociVersion; }, /ociVersion/],
    ['unknown namespace', (c) => { c.linux.namespaces.push({ type: 'bogus' }); }, /\/linux\/namespaces\/5\/type/],
    ['relative cwd', (c) => { c.process.cwd = 'tmp'; }, /\/process\/cwd/],
    ['missing rootfs', (c) => { c.root.path = '/nonexistent/rootfs'; }, /\/root\/path/],
    ['empty args', (c) => { c.process.args = []; }, /\/process\/args/],
    ['unknown rlimit', (c) => { c.process.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]; }, /\/process\/rlimits\/0\/type/],
    ['duplicate namespace', (c) => { c.linux.namespaces.push({ type: 'pid' }); }, /\/linux\/namespaces/],
    ['unknown capability', (c) => { c.process.capabilities = { bounding: ['CAP_BOGUS'] }; }, /\/process\/capabilities\/bounding\/0/],
  ];
  for (const [what, mutate, pointer] of cases) {
    t.test(`invalid config (${what}) is rejected with its JSON pointer`, async (t) => {
      const id = uniqueId('bad');
      const bundle = makeBundle({ mutate });
      const r = rt.run(['create', '--bundle', bundle, id]);
      t.equal(r.code, 1);
      t.match(r.stderr, pointer);
      t.match(r.stderr, /^runts: config\.json /, 'one clear line naming config.json');
      assertNothingLeft(t, id);
    });
  }

  t.test('malformed JSON names the position', async (t) => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'config.json'), '{"ociVersion": "1.3.0",,}');
    const r = rt.run(['create', '--bundle', dir, uniqueId('json')]);
    t.equal(r.code, 1);
    t.match(r.stderr, /config\.json/);
    t.match(r.stderr, /line 1|position|column/);
  });

  t.test('missing bundle', async (t) => {
    const r = rt.run(['create', '--bundle', '/nonexistent-bundle', uniqueId('nob')]);
    t.equal(r.code, 1);
    t.match(r.stderr, /no such file or directory|ENOENT/);
  });

  for (const id of ['a/b', '..', '.', 'a b', '', 'x\ny']) {
    t.test(`invalid container id ${JSON.stringify(id)}`, async (t) => {
      const r = rt.run(['create', '--bundle', makeBundle(), '--', id]);
      t.equal(r.code, 1);
      t.match(r.stderr, /id/);
      t.same(fs.readdirSync(rt.root), []);
    });
  }

  t.test('missing executable: runc\'s wording, at create time, nothing left', async (t) => {
    const id1 = uniqueId('noexec');
    const r1 = rt.run(['create', '--bundle', makeBundle({ args: ['no-such-binary'] }), id1]);
    t.equal(r1.code, 1);
    t.match(r1.stderr, /exec: "no-such-binary": executable file not found in \$PATH/);
    assertNothingLeft(t, id1);
    const id2 = uniqueId('noexec');
    const r2 = rt.run(['create', '--bundle', makeBundle({ args: ['/no/such/binary'] }), id2]);
    t.equal(r2.code, 1);
    t.match(r2.stderr, /exec: "\/no\/such\/binary": stat \/no\/such\/binary: no such file or directory/);
    assertNothingLeft(t, id2);
  });

  t.test('a failing syscall names the operation, the path and the errno', async (t) => {
    const id = uniqueId('rlim');
    // This machine has no CAP_SYS_RESOURCE: raising the hard limit above the host's fails.
    const r = rt.run(['create', '--bundle', makeBundle({ mutate: (c) => {
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1 << 30, hard: 1 << 30 }];
    } }), id]);
    t.equal(r.code, 1);
    t.match(r.stderr, /setrlimit RLIMIT_NOFILE: (EPERM|EINVAL) \(/);
    assertNothingLeft(t, id);
  });

  t.test('terminal without console socket is refused for create', async (t) => {
    const id = uniqueId('tty');
    const r = rt.run(['create', '--bundle', makeBundle({ mutate: (c) => { c.process.terminal = true; } }), id]);
    t.equal(r.code, 1);
    t.match(r.stderr, /console-socket/);
    assertNothingLeft(t, id);
  });

  t.test('CLI misuse', async (t) => {
    const unknown = rt.run(['frobnicate']);
    t.equal(unknown.code, 1);
    t.match(unknown.stderr, /unknown command "frobnicate"/);
    const flag = rt.run(['create', '--bogus', 'x']);
    t.equal(flag.code, 1);
    t.match(flag.stderr, /flag provided but not defined: --bogus/);
    const noid = rt.run(['start']);
    t.equal(noid.code, 1);
    t.match(noid.stderr, /requires <container-id>/);
    const sysd = rt.run(['--systemd-cgroup', 'create', 'x']);
    t.equal(sysd.code, 1);
    t.match(sysd.stderr, /systemd/);
    const help = rt.run(['--help']);
    t.equal(help.code, 0);
    t.match(help.stdout, /create/);
    t.match(help.stdout, /--root/);
    const v = rt.run(['--version']);
    t.match(v.stdout, /^runts version \S+\ncommit: ([0-9a-f]{40}(-dirty)?|unknown)\nspec: 1\.3\.0\n$/, "runc's three lines");
  });

  t.test('--log with --log-format json records errors as JSON lines', async (t) => {
    const dir = tmpdir();
    const logFile = path.join(dir, 'log.json');
    const r = rt.run(['--log', logFile, '--log-format', 'json', 'state', 'does-not-exist']);
    t.equal(r.code, 1);
    const entry = JSON.parse(fs.readFileSync(logFile, 'utf8').trim().split('\n').pop()!);
    t.equal(entry.level, 'error');
    t.match(entry.msg, /does not exist/);
    t.ok(!Number.isNaN(Date.parse(entry.time)));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
