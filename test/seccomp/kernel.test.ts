/**
 * Real-kernel tests: each case spawns a child node process (node cannot fork)
 * that loads a compiled filter on its own main thread and reports what some
 * syscalls return (fixtures/seccomp-child.ts). Default actions are chosen so
 * node keeps running until the child has printed its results.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { accept, bindUnix, close, listen, poll, recvFd, socket } from '../../src/linux/libc.js';
import { POLL, SOCK } from '../../src/linux/abi.js';
import { probeSeccompFlags } from '../../src/linux/seccomp/load.js';
import { SYSCALLS_X86_64 as NR } from '../../src/linux/seccomp/syscall-table.generated.js';
import { SECCOMP_FILTER_FLAG as FLAG } from '../../src/linux/seccomp/tables.js';

const ROOT = resolve(__dirname, '../..');
const FIXTURE = join(ROOT, 'test/seccomp/fixtures/seccomp-child.ts');
const DOCKER = JSON.parse(readFileSync('/work/shared/seccomp/docker-default.oci-amd64.json', 'utf8'));
const AT_FDCWD = -100;

if (process.arch !== 'x64') {
  t.plan(0, 'seccomp loading is implemented for x86_64 only');
  process.exit(0);
}

interface ChildOut {
  fd?: number;
  flags: number;
  warnings: string[];
  results: ({ rc: number } | { errno: number })[];
  status: Record<string, string>;
  threads: Record<string, string>[];
}

function child(job: object): { code: number | null; signal: NodeJS.Signals | null; out?: ChildOut; stderr: string } {
  // A clean environment: no NODE_OPTIONS/tap hooks (tap's signal-exit would catch SIGSYS),
  // no NODE_EXTRA_CA_CERTS (costs ~50 ms per node start).
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
  // tap's processinfo adds NODE_OPTIONS=--import=<its hook> to every child's environment; env -u drops it.
  const r = spawnSync('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, '--import', 'tsx', FIXTURE, JSON.stringify(job)], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.trim().split('\n').filter(Boolean).at(-1);
  return { code: r.status, signal: r.signal, out: line ? (JSON.parse(line) as ChildOut) : undefined, stderr: r.stderr };
}

const call = (nr: number, ...args: [string, string | number | null][]): object => ({ nr, args });

const tmp = mkdtempSync(join(tmpdir(), 'runts-seccomp-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

t.test('a blocked syscall returns the configured errno; allowed ones work', async (t) => {
  const dir = join(tmp, 'blocked');
  const r = child({
    profile: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat', 'mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 99 }] },
    calls: [call(NR.mkdirat!, ['int', AT_FDCWD], ['str', dir], ['uint32_t', 0o755]), call(NR.getppid!)],
  });
  t.equal(r.code, 0, r.stderr);
  t.same(r.out?.results, [{ errno: 99 }, { rc: process.pid }]);
  t.notOk(existsSync(dir), 'mkdirat did not run');
  t.equal(r.out?.status.Seccomp, '2', '/proc/self/status: Seccomp: 2 (filter mode)');
  t.equal(r.out?.status.Seccomp_filters, '1', '/proc/self/status: Seccomp_filters: 1');
  t.equal(r.out?.status.NoNewPrivs, '1');
  const others = (r.out?.threads ?? []).filter((s) => s.Seccomp === '0');
  t.ok(others.length > 0, `without TSYNC only the calling thread is filtered (${others.length} of ${r.out?.threads.length} threads are not)`);
});

t.test('argument filters match only the right 64-bit value', async (t) => {
  // getppid ignores its arguments, but seccomp sees the registers, so any value is safe to pass.
  const r = child({
    profile: {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 77, args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 0x100000005 }] },
        { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 78, args: [{ index: 0, op: 'SCMP_CMP_GT', value: 0xffffffff }, { index: 2, op: 'SCMP_CMP_MASKED_EQ', value: 0xf0, valueTwo: 0x30 }] },
      ],
    },
    calls: [
      call(NR.getppid!, ['uint64_t', '5n']),
      call(NR.getppid!, ['uint64_t', '4294967301n']),
      call(NR.getppid!, ['uint64_t', '4294967302n'], ['uint64_t', '0n'], ['uint64_t', '63n']),
      call(NR.getppid!, ['uint64_t', '4294967302n'], ['uint64_t', '0n'], ['uint64_t', '64n']),
      call(NR.getppid!, ['uint64_t', '4294967295n'], ['uint64_t', '0n'], ['uint64_t', '48n']),
    ],
  });
  t.equal(r.code, 0, r.stderr);
  t.same(r.out?.results, [{ rc: process.pid }, { errno: 77 }, { errno: 78 }, { rc: process.pid }, { rc: process.pid }]);
});

t.test('SCMP_ACT_KILL_PROCESS kills the child with SIGSYS', async (t) => {
  const r = child({ profile: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_KILL_PROCESS' }] }, calls: [call(NR.getppid!)] });
  t.equal(r.signal, 'SIGSYS');
  t.equal(r.out, undefined, 'nothing printed after the killed call');
});

t.test('SCMP_ACT_TRAP raises SIGSYS (node has no handler, so it dies of it)', async (t) => {
  const r = child({ profile: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_TRAP' }] }, calls: [call(NR.getppid!)] });
  t.equal(r.signal, 'SIGSYS');
});

t.test('SCMP_ACT_LOG and SCMP_ACT_TRACE (no tracer: ENOSYS)', async (t) => {
  const r = child({
    profile: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_LOG' }, { names: ['getpgid'], action: 'SCMP_ACT_TRACE', errnoRet: 5 }] },
    calls: [call(NR.getppid!), call(NR.getpgid!, ['int', 0])],
  });
  t.equal(r.code, 0, r.stderr);
  t.same(r.out?.results, [{ rc: process.pid }, { errno: 38 }]);
});

t.test('SECCOMP_FILTER_FLAG_TSYNC loads and filters every thread', async (t) => {
  const r = child({
    profile: { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'], syscalls: [{ names: ['swapoff'], action: 'SCMP_ACT_ERRNO' }] },
    calls: [call(NR.swapoff!, ['str', '/nonexistent-runts'])],
  });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.out?.flags, FLAG.TSYNC | FLAG.LOG | FLAG.SPEC_ALLOW);
  t.same(r.out?.results, [{ errno: 1 }]);
  const threads = r.out?.threads ?? [];
  t.ok(threads.length > 1);
  t.same(threads.filter((s) => s.Seccomp !== '2'), [], `all ${threads.length} threads have Seccomp: 2`);
});

t.test("Docker's default profile loads and node keeps working", async (t) => {
  const r = child({
    profile: DOCKER,
    calls: [
      call(NR.getppid!),
      call(NR.swapoff!, ['str', '/nonexistent-runts']), // not allowed: EPERM (root would get ENOENT)
      call(NR.cachestat!, ['int', -1], ['void *', null], ['void *', null], ['unsigned int', 0]), // cachestat (6.5): allowed, the kernel says EBADF
      call(NR.clone3!, ['void *', null], ['size_t', 0]), // explicit rule: ENOSYS
      call(NR.personality!, ['unsigned long', 0xffffffff]), // allowed query
      call(NR.personality!, ['unsigned long', 6]), // PER_BSD: refused
      call(NR.socket!, ['int', 38], ['int', 5], ['int', 0]), // AF_ALG: refused
      call(NR.socket!, ['int', 1], ['int', 1 | 0o2000000], ['int', 0]), // AF_UNIX: allowed
      // open_tree_attr (467, Linux 6.15) exists on this kernel but is newer than every name of the
      // profile: the filter answers ENOSYS (unfiltered, this kernel answers EFAULT for the NULL path).
      call(NR.open_tree_attr!, ['int', -1], ['void *', null], ['unsigned int', 0], ['void *', null], ['size_t', 0]),
    ],
  });
  t.equal(r.code, 0, r.stderr);
  const res = r.out?.results ?? [];
  t.same(res[0], { rc: process.pid });
  t.same(res[1], { errno: 1 }, 'swapoff: EPERM');
  t.same(res[2], { errno: 9 }, 'cachestat: in the table and allowed, so the kernel answers (EBADF)');
  t.same(res[3], { errno: 38 }, 'clone3: ENOSYS');
  t.ok('rc' in (res[4] ?? {}), 'personality(0xffffffff) allowed');
  t.same(res[5], { errno: 1 }, 'personality(PER_BSD): EPERM');
  t.same(res[6], { errno: 1 }, 'socket(AF_ALG): EPERM');
  t.ok('rc' in (res[7] ?? {}), 'socket(AF_UNIX) allowed');
  t.same(res[8], { errno: 38 }, 'open_tree_attr, newer than the profile: ENOSYS from the filter');
  t.equal(r.out?.status.Seccomp, '2');
});

t.test('SCMP_ACT_NOTIFY: the listener fd and the container process state reach the agent socket', async (t) => {
  const path = join(tmp, 'agent.sock');
  const lsock = socket(SOCK.STREAM);
  t.teardown(() => close(lsock));
  bindUnix(lsock, path);
  listen(lsock, 4);
  const state = { ociVersion: '1.3.0', id: 'ctr-1', status: 'creating', pid: 4242, bundle: '/bundles/ctr-1', annotations: { a: 'b' } };
  const r = child({
    profile: {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: path,
      listenerMetadata: 'MKNOD=/dev/null',
      flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      syscalls: [{ names: ['swapoff'], action: 'SCMP_ACT_NOTIFY' }],
    },
    listener: { path, state, metadata: 'MKNOD=/dev/null' },
  });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.out?.flags, FLAG.TSYNC | FLAG.NEW_LISTENER | FLAG.TSYNC_ESRCH | FLAG.WAIT_KILLABLE_RECV);
  t.type(r.out?.fd, 'number', 'loadSeccomp returned the listener fd');
  const [rev] = poll([{ fd: lsock, events: POLL.IN }], 5000);
  t.ok((rev ?? 0) & POLL.IN, 'the child connected');
  if (!((rev ?? 0) & POLL.IN)) return;
  const conn = accept(lsock);
  try {
    const { data, fd } = recvFd(conn, 65536);
    const msg = JSON.parse(data.toString());
    t.same(msg, { ociVersion: '1.3.0', fds: ['seccompFd'], pid: 4242, metadata: 'MKNOD=/dev/null', state });
    t.type(fd, 'number');
    if (fd !== null) {
      t.equal(readlinkSync(`/proc/self/fd/${fd}`), 'anon_inode:seccomp notify');
      close(fd);
    }
  } finally {
    close(conn);
  }
});

t.test('without no_new_privs, CAP_SYS_ADMIN is needed', async (t) => {
  const r = child({ noNewPrivs: false, profile: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['swapoff'], action: 'SCMP_ACT_ERRNO' }] } });
  if (process.getuid?.() === 0) {
    t.equal(r.code, 0, r.stderr);
    t.equal(r.out?.status.NoNewPrivs, '0');
    t.equal(r.out?.status.Seccomp, '2', 'root loads a filter without no_new_privs');
  } else {
    t.not(r.code, 0);
    t.match(r.stderr, /EACCES/);
  }
});

t.test('probeSeccompFlags finds the flags this kernel supports', async (t) => {
  const flags = probeSeccompFlags();
  t.ok(flags.includes('SECCOMP_FILTER_FLAG_TSYNC'));
  t.ok(flags.includes('SECCOMP_FILTER_FLAG_LOG'));
  t.ok(flags.includes('SECCOMP_FILTER_FLAG_SPEC_ALLOW'));
  t.ok(flags.includes('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'), 'Linux >= 5.19');
  t.equal(readFileSync('/proc/self/status', 'utf8').match(/^Seccomp:\s*(\d)/m)?.[1], '0', 'probing loaded nothing');
});
