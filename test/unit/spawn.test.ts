/**
 * spawnWithFds (src/container/launch.ts), which starts nsboot through
 * libuv's process handle instead of node's child_process: the child gets
 * exactly the fds asked for at their positions, an empty environment, the
 * working directory, and its exit and a kill are seen. No root needed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { hasProcessHandle, spawnWithFds } from '../../src/container/launch.js';

t.test('this node has the process handle (else child_process and its ~5 ms are back)', async (t) => {
  t.ok(hasProcessHandle());
});

t.test('fds by position, empty environment, cwd, exit', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-spawn-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const out = fs.openSync(path.join(dir, 'out'), 'w');
  const extra = fs.openSync(path.join(dir, 'extra'), 'w');
  // fd 3 of the child is `extra`, fd 1 is `out`; fd 4 is not passed
  const script = 'echo "env=$(env | grep -cv "^PWD=\\|^SHLVL=\\|^_=")"; echo "cwd=$(pwd)"; echo three >&3; (echo four >&4) 2>/dev/null || echo "no fd 4"; exit 7';
  const { child, gone } = spawnWithFds('/bin/sh', ['-c', script], ['inherit', out, 'inherit', extra], dir);
  fs.closeSync(out);
  fs.closeSync(extra);
  t.type(child.pid, 'number');
  t.equal(child.running, true);
  await gone;
  t.equal(child.running, false);
  t.equal(fs.readFileSync(path.join(dir, 'out'), 'utf8'), `env=0\ncwd=${fs.realpathSync(dir)}\nno fd 4\n`);
  t.equal(fs.readFileSync(path.join(dir, 'extra'), 'utf8'), 'three\n');
});

t.test('kill, and a file that cannot be started', async (t) => {
  const { child, gone } = spawnWithFds('/bin/sleep', ['100'], ['inherit', 'inherit', 'inherit']);
  t.equal(child.running, true);
  child.kill();
  await gone;
  t.equal(child.running, false);
  t.throws(() => process.kill(child.pid!, 0), { code: 'ESRCH' }, 'killed and reaped');

  const missing = spawnWithFds('/nonexistent/nsboot', [], ['inherit', 'inherit', 'inherit']);
  t.equal(missing.child.pid, undefined);
  t.equal(missing.child.running, false);
  await missing.gone;
  missing.child.kill(); // nothing to kill: no error
});
