/**
 * Rootless podman with runts as its runtime (issue 15): as the unprivileged
 * test user (test/rootless/user.ts), with that user's own storage, podman
 * runs runts inside its rootless user namespace (as root of it). The test
 * first checks that rootless podman works here with runc, and is skipped,
 * with podman's words, when it does not. No registry: `--rootfs` over a
 * busybox rootfs; `--network host` (slirp4netns needs /dev/net/tun).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { have, RUNC } from '../helpers/cli.js';
import { makeBusyboxRootfs } from '../helpers/rootfs.js';
import { type TestUser, withTestUser } from './user.js';

withTestUser(t, tests, {
  extraWhy: (!have('podman') ? 'podman is not installed' : false) || (!RUNC ? 'runc is not installed (the check that rootless podman works here uses it)' : false),
  beforeRemove: (user) => user.run('podman', ['system', 'reset', '--force'], { timeoutMs: 120_000 }),
});

function tests(user: TestUser): void {
  const rootfs = path.join(user.dir('podman'), 'rootfs');
  makeBusyboxRootfs(rootfs);
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, path.dirname(rootfs)]);
  const podman = (runtime: string, args: string[]) => user.run('podman', [
    '--runtime', runtime, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...args,
  ], { timeoutMs: 180_000 });
  const probe = podman(RUNC!, ['run', '--rm', '--network', 'host', '--rootfs', rootfs, 'true']);
  const cannot = probe.code === 0 ? false
    : `rootless podman does not work here even with runc: ${probe.stderr.trim().split('\n').filter((l) => !/level=warning/.test(l)).join(' ').slice(0, 300)}`;

  t.test('podman run and exec as an ordinary user, runts as the runtime', { skip: cannot }, async (t) => {
    const run = podman(user.runtsPath, ['run', '--rm', '--network', 'host', '--rootfs', rootfs, 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
    t.equal(run.code, 0, run.stderr);
    const lines = run.stdout.split('\n');
    t.equal(lines[0], '0', 'root in the container');
    t.match(run.stdout, new RegExp(`^\\s*0\\s+${user.uid}\\s+1$`, 'm'), 'the user\'s uid is the container\'s root');
    t.match(run.stdout, new RegExp(`^\\s*1\\s+${user.subuid}\\s+65536$`, 'm'), 'and its subordinate range the rest');

    const detached = podman(user.runtsPath, ['run', '-d', '--network', 'host', '--rootfs', rootfs, 'sleep', '1000']);
    t.equal(detached.code, 0, detached.stderr);
    const id = detached.stdout.trim().split('\n').pop()!;
    try {
      const exec = podman(user.runtsPath, ['exec', id, 'sh', '-c', 'echo exec-ok; id -u']);
      t.equal(exec.code, 0, exec.stderr);
      t.equal(exec.stdout, 'exec-ok\n0\n');
      const top = podman(user.runtsPath, ['top', id]);
      t.match(top.stdout, /sleep 1000/);
    } finally {
      const rm = podman(user.runtsPath, ['rm', '--force', '--time', '0', id]);
      t.equal(rm.code, 0, rm.stderr);
    }
    const left = path.join(user.xdg, 'runts');
    t.same(fs.existsSync(left) ? fs.readdirSync(left) : [], [], 'no runts state left under $XDG_RUNTIME_DIR/runts');
  });
}
