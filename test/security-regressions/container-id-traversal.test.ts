/**
 * Container ids name directories (state under --root, cgroups): an id with
 * "/", "..", or other path syntax must be refused by every command, so that
 * nothing outside --root is created, read, signalled or deleted. (Defence
 * pattern 6 of security-lessons.md; crun 1.28 and runc restrict ids to
 * [a-zA-Z0-9_+-][a-zA-Z0-9_+.-]*.)
 *
 * The target is a real container living under another --root, reachable as
 * "../<other root>/<id>": a runtime that does not validate ids in every
 * command reads its state, signals its process or deletes its directory.
 *
 * A NUL byte cannot be passed in argv at all (execve takes C strings), so an
 * id with NUL never reaches the runtime through the CLI; the id validator's
 * unit tests cover it (test/unit/spec/container-id.test.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { check, onTeardown, skipFile } from '../../conformance/lib/check.js';
import { cannotRun, findCgroups, makeBundle, processGone, Runtime, uniqueId } from '../../conformance/lib/runtime.js';

const why = cannotRun();
if (why) skipFile(why);
else tests();

function tests(): void {
  const rt = new Runtime();
  const other = new Runtime();
  onTeardown(() => { rt.cleanup(); other.cleanup(); });

  check('create refuses ids with path syntax; nothing is created outside --root', [], async (t) => {
    const b = makeBundle({ args: ['true'] });
    const parent = path.dirname(rt.root);
    const name = `escape-${process.pid}`;
    for (const id of [`../${name}`, `a/../../${name}`, `/tmp/${name}`, '..', '.', 'a/b', '-dash', ' space', 'x'.repeat(5000)]) {
      t.not(rt.run(['create', '--bundle', b.dir, id]).code, 0, `create ${id.length > 40 ? `${id.slice(0, 10)}...(${id.length})` : JSON.stringify(id)}: refused`);
    }
    t.same(fs.readdirSync(parent).filter((n) => n.includes(name)), [], 'nothing was created next to --root');
    t.notOk(fs.existsSync(`/tmp/${name}`), 'nothing was created at the absolute path');
    t.same(fs.readdirSync(rt.root).filter((n) => !n.startsWith('.')), [], 'nothing under --root');
    t.same(findCgroups(name), [], 'no cgroup');
  });

  check('every command refuses an id that climbs out of --root: another root\'s container is untouched', [], async (t) => {
    const id = uniqueId('target');
    t.equal(other.run(['run', '-d', '--bundle', makeBundle({ args: ['sleep', '120'] }).dir, id]).code, 0, 'a container under another --root');
    const pid = Number(other.state(id).pid);
    const stateDir = path.join(other.root, id);
    const evil = `../${path.basename(other.root)}/${id}`;
    for (const cmd of [['state'], ['start'], ['pause'], ['resume'], ['ps'], ['events', '--stats'], ['update', '--pids-limit', '10'], ['exec'], ['kill'], ['kill', '--all'], ['delete'], ['delete', '--force']]) {
      const args = cmd[0] === 'kill' ? [...cmd, evil, 'KILL'] : cmd[0] === 'exec' ? [...cmd, evil, 'true'] : [...cmd, evil];
      const r = rt.run(args);
      t.not(r.code, 0, `${cmd.join(' ')} ${evil}: refused (${(r.stderr || r.stdout).trim().split('\n')[0]})`);
      t.notOk(processGone(pid), `after ${cmd.join(' ')}: the other container's process is alive`);
      t.ok(fs.existsSync(stateDir), `after ${cmd.join(' ')}: the other container's state directory exists`);
    }
    t.equal(other.state(id).status, 'running', 'the other container is still running, unpaused');
    other.run(['delete', '--force', id]);
  });
}
