/**
 * When the init dies before `ready`, create says why: the exit status or the
 * signal, and the last words it wrote to stderr — not a bare `exited before
 * sending "ready"`. The init is made to die from a createContainer hook (run
 * by the init, in the container's namespaces before pivot_root; no pid
 * namespace, so the hook's $PPID is the init's host pid).
 */
import t from 'tap';
import { findCgroups, makeBundle, uniqueId, withRunts } from '../helpers/runts.js';

withRunts((rt) => {
  const createWithHook = (script: string) => {
    const id = uniqueId('death');
    const b = makeBundle({ args: ['true'], mutate: (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
      c.linux.cgroupsPath = `/runts-test/${id}`;
      c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', script] }] };
    } });
    const r = rt.run(['create', '--bundle', b, id], { timeoutMs: 60_000 });
    return { id, r };
  };

  t.test('killed by a signal: the error names it and the last words on stderr', async (t) => {
    const { id, r } = createWithHook('echo "the init says goodbye" >> /proc/$PPID/fd/2; kill -KILL $PPID');
    t.not(r.code, 0, 'create fails');
    t.match(r.stderr, /the container init exited before sending "ready"/, 'at the step it died in');
    t.match(r.stderr, /the init \(pid [0-9]+\) was killed by signal SIGKILL/, 'names the signal');
    t.match(r.stderr, /last words on stderr: "the init says goodbye"/, 'carries its stderr tail');
    t.not(rt.run(['state', id]).code, 0, 'the container does not exist');
    t.same(findCgroups(id), [], 'no cgroup left');
  });

  t.test('exited: the error names the status', async (t) => {
    // SIGTERM to a created init ends it with 128+15, as with runc
    // the hook waits until the init is gone (its fds are closed), so the init cannot reach ready first
    const { id, r } = createWithHook('kill -TERM $PPID; while [ -e /proc/$PPID/fd/0 ]; do usleep 1000; done');
    t.not(r.code, 0, 'create fails');
    t.match(r.stderr, /the init \(pid [0-9]+\) exited with status 143/, 'names the status');
    t.same(findCgroups(id), [], 'no cgroup left');
  });

  t.test('what the init writes to stderr before ready still reaches the caller at once, and after ready the container has the real stderr', async (t) => {
    const id = uniqueId('stderr');
    const b = makeBundle({ args: ['sh', '-c', 'echo container-stderr >&2; ls -l /proc/self/fd/2 >&2'], mutate: (c) => {
      c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo from-the-hook-phase >> /proc/$PPID/fd/2'] }] };
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
    } });
    const r = rt.run(['run', '--bundle', b, id], { timeoutMs: 60_000 });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, /from-the-hook-phase/, 'the init\'s stderr before ready is passed on');
    t.match(r.stderr, /container-stderr/, 'the container writes to the caller\'s stderr');
    t.notMatch(r.stderr, /pipe:/, 'its fd 2 is not the runtime\'s pipe');
  });
});
