/**
 * The trusted procfs handle (src/linux/procfs.ts) on the real kernel: both
 * ways of getting one, the verification of the root, the RESOLVE_ rules for
 * files below it, and that a mount over a /proc file (CVE-2019-16884,
 * CVE-2025-52881) is not seen through it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { SyscallError } from '../../src/common/errors.js';
import { close, open, openat2 } from '../../src/linux/libc.js';
import { O } from '../../src/linux/abi.js';
import { PROCFS_RESOLVE, ProcfsHandle, verifyProcfs } from '../../src/linux/procfs.js';
import { tmpdir } from '../helpers/rootfs.js';

const ROOT = path.resolve(__dirname, '../..');

if (process.getuid?.() !== 0) {
  t.plan(0, 'needs root (fsopen/open_tree need CAP_SYS_ADMIN)');
} else {
  for (const how of ['fsopen', 'open_tree'] as const) {
    t.test(`${how}: a verified procfs root; files read beneath it`, async (t) => {
      const h = ProcfsHandle.open(how);
      t.teardown(() => h.close());
      t.equal(h.source, how);
      t.doesNotThrow(() => verifyProcfs(h.fd, 'handle', true));
      t.equal(h.readFile('sys/kernel/ostype'), 'Linux\n');
      t.match(h.readFile('self/status'), new RegExp(`\\nPid:\\s+${process.pid}\\n`), 'self is this process (same pid namespace)');
      t.match(h.readFile('thread-self/status'), new RegExp(`\\nTgid:\\s+${process.pid}\\n`), 'thread-self resolves (a plain symlink, not a magic link)');
      const st = fs.fstatSync(h.fd);
      t.ok(st.isDirectory());
      t.equal(fs.readlinkSync(`/proc/self/fd/${h.fd}`), '/', 'a detached mount: its path is /');
    });
  }

  t.test('openat2 rules: no .., no absolute paths, no magic links, no other mounts', async (t) => {
    const h = ProcfsHandle.open();
    t.teardown(() => h.close());
    const errno = (fn: () => unknown) => {
      try { fn(); return 'ok'; } catch (e) { return e instanceof SyscallError ? e.errno : (e as Error).message; }
    };
    // Straight to the kernel (the path check in openFile would stop these first).
    t.equal(errno(() => openat2(h.fd, '../etc/passwd', O.RDONLY, PROCFS_RESOLVE)), 'EXDEV', '.. above the root');
    t.equal(errno(() => openat2(h.fd, '/etc/passwd', O.RDONLY, PROCFS_RESOLVE)), 'EXDEV', 'absolute path');
    t.equal(errno(() => openat2(h.fd, 'self/root/etc/passwd', O.RDONLY, PROCFS_RESOLVE)), 'ELOOP', 'magic link /proc/self/root');
    t.equal(errno(() => openat2(h.fd, 'self/fd/0', O.RDONLY, PROCFS_RESOLVE)), 'ELOOP', 'magic link /proc/self/fd/N');
    t.equal(errno(() => openat2(h.fd, 'self/cwd/x', O.RDONLY, PROCFS_RESOLVE)), 'ELOOP', 'magic link /proc/self/cwd');
    // And the wrapper's own checks.
    for (const bad of ['', '/proc/self/status', 'self/../self/status', 'sys//kernel', './self']) {
      t.throws(() => h.openFile(bad, O.RDONLY), /invalid procfs path/, JSON.stringify(bad));
    }
    const fd = h.openFile('sys/net/core/somaxconn', O.RDONLY);
    t.doesNotThrow(() => verifyProcfs(fd, 'somaxconn'));
    close(fd);
  });

  t.test('verifyProcfs refuses other filesystems and non-root inodes', async (t) => {
    const tmp = open(tmpdir(), O.PATH | O.DIRECTORY);
    t.throws(() => verifyProcfs(tmp, 'tmp'), /is not on procfs/);
    close(tmp);
    const self = open('/proc/self', O.PATH | O.DIRECTORY);
    t.throws(() => verifyProcfs(self, '/proc/self', true), /is not the root of a procfs/);
    t.doesNotThrow(() => verifyProcfs(self, '/proc/self'));
    close(self);
  });

  t.test('a mount over a /proc file is not seen through the handle', async (t) => {
    const dir = tmpdir();
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const fake = path.join(dir, 'fake');
    fs.writeFileSync(fake, 'Hacked\n');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', '/usr/bin/env', '-u', 'NODE_OPTIONS', process.execPath, '--import', 'tsx',
      path.join(ROOT, 'test/security/fixtures/procfs-child.ts'), fake], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
    t.equal(out.path, 'Hacked\n', 'the path-based read sees the bind mount');
    t.equal(out.fsopen, 'Linux\n', 'a private procfs instance has no mounts on it');
    t.equal(out.open_tree, 'Linux\n', 'a non-recursive clone of /proc leaves the mount behind');
    t.not(out.write, 'ok', 'ostype is read-only, the write was not redirected to the fake file');
    t.equal(fs.readFileSync(fake, 'utf8'), 'Hacked\n', 'the fake file is untouched');
    t.equal(out.xdev, 'EXDEV', 'RESOLVE_NO_XDEV refuses to cross the mount below a plain /proc fd');
  });
}
