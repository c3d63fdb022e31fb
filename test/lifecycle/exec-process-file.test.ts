/**
 * `exec --process FILE` reads its file as create reads config.json (issue
 * 11): invalid UTF-8 is refused with the byte offset before parsing, sizes
 * are bounded before the schema, integers are checked against their C type;
 * nothing runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { check, onTeardown, withRuntime } from '../../conformance/lib/check.js';
import { makeBundle, tmpdir, uniqueId } from '../../conformance/lib/runtime.js';

withRuntime((rt) => {
  const scratch = tmpdir('execproc-');
  onTeardown(() => fs.rmSync(scratch, { recursive: true, force: true }));

  check('exec --process: invalid UTF-8, huge paths and out-of-type integers are refused; nothing runs', [], async (t) => {
    const out = path.join(scratch, 'out');
    fs.mkdirSync(out, { mode: 0o777 });
    const b = makeBundle({ args: ['sleep', '600'], mutate: (c) => { c.mounts.push({ destination: '/tmp', type: 'bind', source: out, options: ['rbind', 'rw'] }); } });
    const id = uniqueId('execproc');
    t.equal(rt.run(['run', '-d', '--bundle', b.dir, id]).code, 0, 'container runs');
    const proc = (n: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ args: ['sh', '-c', `touch /tmp/${n}`], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'], ...extra });
    const [before, after] = proc('utf8').replace('"cwd":"/"', '"cwd":"/@@"').split('@@') as [string, string];
    const cases: [string, Buffer, string | RegExp][] = [
      ['utf8', Buffer.concat([Buffer.from(before), Buffer.from([0xc0, 0xae, 0xc0, 0xae]), Buffer.from(after)]),
        `invalid UTF-8 at byte offset ${Buffer.byteLength(before)} (bytes 0xc0 0xae 0xc0 0xae)`],
      ['longcwd', Buffer.from(proc('longcwd', { cwd: `/${'c'.repeat(10 * 1024 * 1024)}` })), /: \/cwd: path too long \(10485761 bytes/],
      ['rlimit', Buffer.from(proc('rlimit', { rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 2 }] }).replace('"hard":2', '"hard":18446744073709551616')),
        /: \/rlimits\/0\/hard: must fit in a uint64/],
    ];
    for (const [n, content, message] of cases) {
      const f = path.join(scratch, `${n}.json`);
      fs.writeFileSync(f, content);
      const r = rt.run(['exec', '--process', f, id]);
      t.not(r.code, 0, `${n}: exec fails`);
      t.match(r.stderr, message, `${n}: ${r.stderr.trim().slice(0, 200)}`);
      t.notOk(fs.existsSync(path.join(out, n)), `${n}: nothing ran`);
    }
    const ok = path.join(scratch, 'ok.json');
    fs.writeFileSync(ok, proc('ok'));
    t.equal(rt.run(['exec', '--process', ok, id]).code, 0, 'control: a valid process file runs');
    t.ok(fs.existsSync(path.join(out, 'ok')), 'control: it ran');
    t.equal(rt.run(['delete', '--force', id]).code, 0);
  });
});
