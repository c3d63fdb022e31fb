/**
 * podman (and older containerd/Docker) write linux.devices[].fileMode with
 * the file-type bits (8630 = S_IFCHR|0666), above the schema's 511; runc
 * runs such configs. runts must too (issue 11: `podman run --privileged`
 * and `--device` failed): the node is made with the permission bits,
 * `runts validate` says so as a warning (exit 0), and `--debug` logs it.
 * Compared with runc on the same bundle.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { check, withRuntime } from '../../conformance/lib/check.js';
import { cleanEnv, makeBundle, tmpdir, uniqueId } from '../../conformance/lib/runtime.js';

const RUNC = '/usr/sbin/runc';
withRuntime((rt) => {
  const bundle = () => makeBundle({
    args: ['sh', '-c', 'stat -c "%a %F %t:%T" /dev/engnull /dev/engblk'],
    mutate: (c) => {
      c.linux.devices = [
        { path: '/dev/engnull', type: 'c', major: 1, minor: 3, fileMode: 8630, uid: 0, gid: 0 },
        { path: '/dev/engblk', type: 'b', major: 7, minor: 0, fileMode: 24960, uid: 0, gid: 0 },
      ];
    },
  });

  check('devices with fileMode 8630 / 24960 (type bits included) run, with the permission bits', [], async (t) => {
    const b = bundle();
    const r = rt.run(['--debug', 'run', '--bundle', b.dir, uniqueId('engdev')]);
    t.equal(r.code, 0, `run succeeds (${r.stderr.trim().split('\n').pop()})`);
    t.equal(r.stdout.trim(), '666 character special file 1:3\n600 block special file 7:0', 'the nodes have the permission bits and their type');
    t.match(r.stderr, 'linux/devices/0/fileMode: engine deviation from the schema: 8630 (0o20666) includes the file-type bits', '--debug logs the deviation');
    if (fs.existsSync(RUNC)) {
      const root = tmpdir('engdev-runc-');
      try {
        const rc = spawnSync(RUNC, ['--root', root, 'run', '--bundle', b.dir, uniqueId('engdevrunc')], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
        t.equal(rc.status, 0, `runc runs it too (${(rc.stderr ?? '').trim()})`);
        t.equal(rc.stdout.trim(), r.stdout.trim(), 'and its nodes look the same');
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    }
  });

  check('runts validate reports the deviation as a warning and exits 0', [], async (t) => {
    const b = bundle();
    const r = rt.run(['validate', '--bundle', b.dir]);
    t.equal(r.code, 0, 'exit 0');
    t.match(r.stdout, 'config.json: valid');
    t.match(r.stderr, 'warning: config.json /linux/devices/0/fileMode: engine deviation from the schema: 8630 (0o20666)');
    t.match(r.stderr, 'warning: config.json /linux/devices/1/fileMode: engine deviation from the schema: 24960 (0o60600)');
  });

  check('fileMode with other high bits is still refused', [], async (t) => {
    const b = makeBundle({ mutate: (c) => { c.linux.devices = [{ path: '/dev/engx', type: 'c', major: 1, minor: 3, fileMode: 0o24666 }]; } });
    const r = rt.run(['validate', '--bundle', b.dir]);
    t.not(r.code, 0);
    t.match(r.stderr, 'config.json /linux/devices/0/fileMode: must be <= 511, got 10678');
  });
});
