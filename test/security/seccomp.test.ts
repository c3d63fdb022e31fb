/**
 * Seccomp in real containers: Docker's default profile loads and a busybox
 * shell works under it (both no_new_privs orders), a blocked syscall returns
 * the configured errno, and SCMP_ACT_NOTIFY hands a real listener fd with the
 * container process state to an agent at listenerPath (this test process
 * plays the agent and answers the notifications).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from '../helpers/rootfs.js';
import { makeBundle, uniqueId, withRunts } from '../helpers/runts.js';
import { accept, bindUnix, close, ioctl, listen, poll, recvFd, socket } from '../../src/linux/libc.js';
import { POLL, SOCK } from '../../src/linux/abi.js';
import { SYSCALLS_X86_64 as NR } from '../../src/linux/seccomp/syscall-table.generated.js';
import { assertNothingLeft, runSh, type Cfg } from './helpers.js';

const DOCKER = JSON.parse(fs.readFileSync('/work/shared/seccomp/docker-default.oci-amd64.json', 'utf8'));

/** SECCOMP_IOCTL_NOTIF_RECV / _SEND: _IOWR('!', 0|1, struct seccomp_notif (80) / seccomp_notif_resp (24)). */
const NOTIF_RECV = 0xc0502100;
const NOTIF_SEND = 0xc0182101;

withRunts({ x64: true }, (rt) => {

  for (const nnp of [true, false]) {
    t.test(`Docker's default profile: a busybox shell works (noNewPrivileges ${nnp})`, async (t) => {
      const r = runSh(rt, 'ls / >/dev/null && echo ok; grep -E "^(Seccomp|Seccomp_filters|NoNewPrivs):" /proc/self/status; unshare -m true 2>&1; echo unshare=$?', (c) => {
        c.linux.seccomp = DOCKER;
        c.process.noNewPrivileges = nnp;
      });
      t.equal(r.code, 0, r.stderr.split('\n').filter((l) => !l.includes('warning: seccomp')).join('\n') || 'exit status');
      t.match(r.stdout, /^ok$/m);
      t.match(r.stdout, /^Seccomp:\s+2$/m, 'filter mode');
      t.match(r.stdout, /^Seccomp_filters:\s+1$/m, 'exactly one filter');
      t.match(r.stdout, new RegExp(`^NoNewPrivs:\\s+${nnp ? 1 : 0}$`, 'm'));
      t.match(r.stdout, /Operation not permitted/, 'unshare(2) is refused with EPERM (defaultErrnoRet 1)');
      t.match(r.stdout, /^unshare=1$/m);
    });
  }

  t.test('a blocked syscall returns the configured errno', async (t) => {
    const r = runSh(rt, 'mkdir /tmp/x 2>&1; echo rc=$?; touch /tmp/y && echo touched', (c) => {
      c.root.readonly = false;
      c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 95 /* EOPNOTSUPP */ }],
      };
    });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /Not supported|Operation not supported/, 'strerror(EOPNOTSUPP)');
    t.match(r.stdout, /rc=1/);
    t.match(r.stdout, /touched/, 'other syscalls are allowed');
  });

  t.test('bad seccomp values: specific errors, nothing left behind', async (t) => {
    const cases: [string, (c: Cfg) => void, RegExp][] = [
      ['NOTIFY on write (runc refuses it)', (c) => {
        c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/nonexistent.sock', syscalls: [{ names: ['getpid', 'write'], action: 'SCMP_ACT_NOTIFY' }] };
      }, /\/linux\/seccomp\/syscalls\/0\/names\/1.*cannot be used for the write syscall/],
      ['NOTIFY on sendmsg (runts hands the fd over with it)', (c) => {
        c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/nonexistent.sock', syscalls: [{ names: ['sendmsg'], action: 'SCMP_ACT_NOTIFY' }] };
      }, /\/linux\/seccomp\/syscalls\/0\/names\/0.*sendmsg/],
      ['NOTIFY as the default action', (c) => {
        c.linux.seccomp = { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/nonexistent.sock' };
      }, /\/linux\/seccomp\/defaultAction/],
      ['no agent listening at listenerPath', (c) => {
        c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/nonexistent/agent.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
      }, /seccomp agent at \/nonexistent\/agent\.sock.*ENOENT/],
      ['unknown action', (c) => {
        c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_BOGUS' }] };
      }, /\/linux\/seccomp\/syscalls\/0\/action/],
    ];
    for (const [what, mutate, want] of cases) {
      const r = runSh(rt, 'true', mutate);
      t.not(r.code, 0, what);
      t.match(r.stderr, want, what);
      assertNothingLeft(t, rt, r.id);
    }
  });

  for (const nnp of [true, false]) t.test(`SCMP_ACT_NOTIFY: the agent gets a listener fd and the state, and can answer (noNewPrivileges ${nnp})`, async (t) => {
    const dir = tmpdir('runts-agent-');
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const sockPath = path.join(dir, 'agent.sock');
    const lsock = socket(SOCK.STREAM);
    bindUnix(lsock, sockPath);
    listen(lsock, 1);
    t.teardown(() => close(lsock));

    const id = uniqueId('notify');
    const bundle = makeBundle({
      args: ['sh', '-c', 'mkdir /tmp/notified; echo rc=$?; ls -d /tmp/notified 2>&1; ls /proc/self/fd | tr "\\n" " "; echo; grep ^Seccomp: /proc/self/status'],
      mutate: (c) => {
        c.root.readonly = false;
        c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
        c.annotations = { 'org.example/test': 'notify' };
        c.process.noNewPrivileges = nnp;
        c.linux.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          listenerPath: sockPath,
          listenerMetadata: 'meta-42',
          syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
        };
      },
    });
    const child = rt.spawn(['run', '--bundle', bundle, id]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));

    // The init connects before pivot_root (during create) ...
    const [ready] = poll([{ fd: lsock, events: POLL.IN }], 30_000);
    t.ok(ready, 'the init connected to the agent socket');
    const conn = accept(lsock);
    // ... and sends once the filter is loaded (during start).
    const [got] = poll([{ fd: conn, events: POLL.IN }], 30_000);
    t.ok(got, 'the state arrived');
    const { data, fd } = recvFd(conn, 65536);
    close(conn);
    t.ok(fd !== null, 'an fd came with it (SCM_RIGHTS)');
    const notifyFd = fd!;
    t.equal(fs.readlinkSync(`/proc/self/fd/${notifyFd}`), 'anon_inode:seccomp notify', 'it is a seccomp notify fd');
    const msg = JSON.parse(data.toString());
    t.same(msg.fds, ['seccompFd']);
    t.equal(msg.ociVersion, '1.3.0');
    t.equal(msg.metadata, 'meta-42');
    t.equal(msg.state.id, id);
    t.equal(msg.state.status, 'created', 'the filter is loaded after start, before the user program runs');
    t.equal(msg.state.bundle, bundle);
    t.same(msg.state.annotations, { 'org.example/test': 'notify' });
    t.equal(msg.pid, msg.state.pid);
    t.ok(msg.pid > 1 && fs.existsSync(`/proc/${msg.pid}`), `pid ${msg.pid} is the init as the runtime (host) sees it`);
    t.not(fs.readlinkSync(`/proc/${msg.pid}/ns/pid`), fs.readlinkSync('/proc/self/ns/pid'), 'and it lives in the container pid namespace');

    // Answer every notification: mkdir "succeeds" without doing anything.
    const seen: number[] = [];
    for (;;) {
      const [rev] = poll([{ fd: notifyFd, events: POLL.IN }], 30_000);
      if (!rev || rev & (POLL.HUP | POLL.ERR)) break; // no task uses the filter any more
      const req = Buffer.alloc(80);
      try {
        ioctl(notifyFd, NOTIF_RECV, 'void *', req, 'SECCOMP_IOCTL_NOTIF_RECV');
      } catch { continue; } // the task went away (ENOENT)
      seen.push(req.readInt32LE(16));
      const resp = Buffer.alloc(24);
      req.copy(resp, 0, 0, 8); // id
      try { ioctl(notifyFd, NOTIF_SEND, 'void *', resp, 'SECCOMP_IOCTL_NOTIF_SEND'); } catch { /* task gone */ }
    }
    close(notifyFd);
    const code = await exited;
    fs.rmSync(bundle, { recursive: true, force: true });
    t.equal(code, 0, stderr);
    t.ok(seen.length >= 1 && seen.every((nr) => nr === NR.mkdir || nr === NR.mkdirat), `notified of mkdir (${seen.join(',')})`);
    t.match(stdout, /rc=0/, 'the agent answered success');
    t.match(stdout, /No such file or directory/, 'and nothing was really created');
    t.match(stdout, /^0 1 2 3 $/m, 'neither the agent socket nor the listener fd leaked into the container');
    t.match(stdout, /^Seccomp:\s+2$/m);
  });
});
