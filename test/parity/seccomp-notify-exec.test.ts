/**
 * Differential (runc 1.1.5): SCMP_ACT_NOTIFY in `exec`. A container whose
 * profile notifies mkdir runs detached; `exec` starts a process under the
 * same profile, and its listener fd reaches the agent at listenerPath with
 * the container process state (runc's seccomp agent protocol), with and
 * without noNewPrivileges. The agent answers mkdir with success without
 * doing anything, so the process sees rc=0 and no directory. With no agent
 * listening, exec fails with a clear error and leaves no process behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { sharedRootfs, tmpdir } from '../helpers/rootfs.js';
import { SYSCALLS_X86_64 as NR } from '../../src/linux/seccomp/syscall-table.generated.js';
import { Agent } from './agent.js';
import { type Cfg, Differential, differential, makeBundle, type Runtime, uniqueId } from '../helpers/differential.js';

differential({ x64: true }, (d) => {
  const rts = [d.runts, d.runc];
  const rootfs = sharedRootfs();
  const PROBE = 'mkdir /tmp/notified; echo rc=$?; ls -d /tmp/notified 2>&1; ls /proc/self/fd | tr "\\n" " "; echo; grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status';

  const profile = (c: Cfg, sock: string, nnp: boolean) => {
    c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
    c.process.noNewPrivileges = nnp;
    c.annotations = { 'org.example/test': 'notify-exec' };
    c.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: sock,
      listenerMetadata: 'meta-exec',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    };
  };

  /** What the caller and the agent saw, in terms that do not depend on pids or paths. */
  const shape = (m: Record<string, any>, initPid: number, b: string, id: string) => ({ // eslint-disable-line @typescript-eslint/no-explicit-any
    keys: Object.keys(m).sort(),
    fds: m.fds,
    metadata: m.metadata,
    pid: m.pid === initPid ? 'init' : m.pid > 0 ? 'other' : m.pid,
    state: { ...m.state, pid: m.state?.pid === initPid ? 'init' : m.state?.pid === m.pid ? 'msg.pid' : m.state?.pid, bundle: m.state?.bundle === b ? '<bundle>' : m.state?.bundle, id: m.state?.id === id ? '<id>' : m.state?.id },
  });

  const pids = (rt: Runtime, id: string): number[] => {
    const r = rt.run(['ps', '--format', 'json', id]);
    return r.code === 0 ? (JSON.parse(r.stdout) as number[]) : [];
  };

  for (const nnp of [true, false]) t.test(`exec under a NOTIFY profile hands the listener fd to the agent (noNewPrivileges ${nnp})`, async (t) => {
    const seen: Record<string, any> = {}; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const rt of rts) {
      const dir = tmpdir('parity-agent-');
      const agent = new Agent(path.join(dir, 'agent.sock'));
      const b = makeBundle({ rootfs, args: ['sleep', '60'], mutate: (c) => profile(c, agent.path, nnp) });
      const id = uniqueId('notifyexec');
      try {
        const run = await rt.runAsync(['run', '-d', '--bundle', b, id], () => agent.pump());
        t.equal(run.code, 0, `${rt.name} run -d: ${run.stderr}`);
        const initPid = Number((JSON.parse(rt.run(['state', id]).stdout) as { pid: number }).pid);
        const ex = await rt.runAsync(['exec', id, 'sh', '-c', PROBE], () => agent.pump());
        const left = pids(rt, id);
        seen[rt.name] = {
          code: ex.code, stdout: ex.stdout, stderr: ex.stderr,
          messages: agent.messages.map((m) => ({ fdKind: m.fdKind, ...shape(m.msg, initPid, b, id) })),
          syscalls: [...new Set(agent.syscalls)].every((nr) => nr === NR.mkdir || nr === NR.mkdirat),
          notified: agent.syscalls.length > 0,
          left: left.filter((p) => p !== initPid).length,
        };
      } finally {
        rt.run(['delete', '--force', id]);
        agent.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    const [ours, theirs] = [seen.runts, seen.runc];
    t.equal(theirs.code, 0, `runc exec ran: ${theirs.stderr}`);
    t.equal(ours.code, theirs.code, `runts exec ran: ${ours.stderr}`);
    t.match(theirs.stdout, /^rc=0$/m, 'runc: the agent answered mkdir');
    t.equal(ours.stdout, theirs.stdout, 'the exec\'d process saw the same');
    t.ok(ours.notified && ours.syscalls, 'runts: the agent was notified of mkdir only');
    t.equal(ours.messages.length, 2, 'two messages: the init\'s and the exec\'s');
    t.equal(ours.messages[1]?.fdKind, 'anon_inode:seccomp notify');
    // Deliberate differences, left out: ociVersion (runc 1.1.5 sends its own
    // spec version, 1.0.2-dev; runts the container's), and the init's message
    // says "created" (runts loads the init's filter after start, runc during create).
    const comparable = (ms: any[]) => ms.map((m, i) => ({ ...m, state: { ...m.state, ociVersion: undefined, ...(i === 0 ? { status: undefined } : {}) } })); // eslint-disable-line @typescript-eslint/no-explicit-any
    t.same(comparable(ours.messages), comparable(theirs.messages), 'the agent got the same messages (pids and paths by role)');
    t.equal(ours.messages[1]?.state.status, 'running', 'the exec\'s message: the container is running');
    t.equal(ours.messages[1]?.pid, 'other', 'pid: the exec\'d process');
    t.equal(ours.messages[1]?.state.pid, 'init', 'state.pid: the container\'s init');
    t.equal(ours.left, 0, 'no exec process left');
  });

  t.test('exec under a NOTIFY profile with no agent listening', async (t) => {
    const seen: Record<string, any> = {}; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const rt of rts) {
      const dir = tmpdir('parity-agent-');
      const agent = new Agent(path.join(dir, 'agent.sock'));
      const b = makeBundle({ rootfs, args: ['sleep', '60'], mutate: (c) => profile(c, agent.path, true) });
      const id = uniqueId('notifynoagent');
      try {
        const run = await rt.runAsync(['run', '-d', '--bundle', b, id], () => agent.pump());
        t.equal(run.code, 0, `${rt.name} run -d: ${run.stderr}`);
        agent.close(); // the agent went away: nothing listens at listenerPath any more
        const before = pids(rt, id);
        const ex = rt.run(['exec', id, 'sh', '-c', 'echo should-not-run']);
        seen[rt.name] = { code: ex.code, stdout: ex.stdout, stderr: ex.stderr, before, after: pids(rt, id) };
      } finally {
        rt.run(['delete', '--force', id]);
        agent.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    const [ours, theirs] = [seen.runts, seen.runc];
    t.not(theirs.code, 0, `runc refuses: ${theirs.stderr.trim()}`);
    t.not(ours.code, 0, 'runts refuses');
    t.equal(ours.stdout, '', 'the command did not run');
    t.match(ours.stderr, /seccomp agent at .*agent\.sock.*(ENOENT|ECONNREFUSED)/, `a clear error: ${ours.stderr.trim()}`);
    t.same(ours.after, ours.before, 'no process left in the container');
  });
});
