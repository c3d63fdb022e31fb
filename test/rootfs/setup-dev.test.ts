/**
 * Real rootfs setup: a fixture applies a plan in fresh mount+pid namespaces
 * (unshare), pivots into a busybox rootfs and prints what the kernel shows.
 * This file: /dev (the console, read-only /dev, /dev bound from the host, device nodes that do not match).
 */
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spec } from '../../src/spec/types.js';
import { canRun, defaultSpec, mountAt, plan, runScenario, section } from './harness.js';
import { MI, bundle, mi, ok } from './setup-helpers.js';

function tests(): void {
  t.test('/dev/console: an empty file during device setup, the pty slave bound onto it by fd', async (t) => {
    const b = bundle(t);
    const spec = defaultSpec();
    spec.process!.terminal = true;
    const r = runScenario(b, { plan: plan(spec, b), console: true, script: MI + section('console', 'stat -c "%F %t %a" /dev/console; ls -l /dev/console') });
    ok(t, r);
    const pty = /^PTY: \/dev\/pts\/(\d+)$/m.exec(r.stdout);
    t.ok(pty, 'a pty was allocated');
    t.match(r.sections.console, /^character special file 88 /m, 'char 136 (0x88): the pty slave');
    t.match(r.sections.console, new RegExp(`136, +${pty?.[1]} `), `ls -l shows 136:${pty?.[1]}`);
    const c = mountAt(mi(r), '/dev/console')!;
    t.equal(c.fstype, 'devpts', 'a bind of the container\'s devpts');
    // (the fixture's pty fds are close-on-exec: once the script runs, the pty is gone, hence "//deleted")
    t.match(c.root, new RegExp(`^/${pty?.[1]}(//deleted)?$`), 'the root of the bind is the pty');

    // without a terminal: no /dev/console
    const spec2 = defaultSpec();
    const r2 = runScenario(b, { plan: plan(spec2, b), script: section('console', 'ls /dev/console 2>&1; true') });
    ok(t, r2);
    t.match(r2.sections.console, /No such file/);
  });

  t.test('/dev/console in an image without a /dev tmpfs: a symlink there is replaced, never followed', async (t) => {
    const b = bundle(t);
    const victim = path.join(b.dir, 'victim');
    fs.writeFileSync(victim, 'host file\n');
    fs.mkdirSync(path.join(b.rootfs, 'dev/pts'), { recursive: true });
    fs.rmSync(path.join(b.rootfs, 'dev/console'), { force: true });
    fs.symlinkSync(`/../../../../../../..${victim}`, path.join(b.rootfs, 'dev/console'));
    const spec = defaultSpec();
    spec.process!.terminal = true;
    spec.root!.readonly = false;
    spec.mounts = spec.mounts!.filter((m) => m.destination !== '/dev' && m.destination !== '/dev/shm' && m.destination !== '/dev/mqueue');
    const r = runScenario(b, { plan: plan(spec, b), console: true, script: MI + section('console', 'stat -c "%F %t" /dev/console') });
    ok(t, r);
    t.match(r.sections.console, /^character special file 88$/m);
    t.equal(fs.readFileSync(victim, 'utf8'), 'host file\n', 'the host file is unchanged');
    t.ok(fs.lstatSync(path.join(b.rootfs, 'dev/console')).isFile(), 'the symlink in the image became an empty file');
    t.notOk(mi(r).some((e) => e.mountpoint === victim), 'nothing mounted on the host file');
  });

  t.test('read-only /dev: devices first, then ro', async (t) => {
    const b = bundle(t);
    const spec = defaultSpec();
    spec.mounts![1] = { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755', 'ro'] };
    spec.mounts = spec.mounts!.slice(0, 2);
    spec.linux = {};
    const r = runScenario(b, { plan: plan(spec, b), script: MI + section('null', 'stat -c "%t:%T" /dev/null; touch /dev/x || echo DEV-RO') });
    ok(t, r);
    t.ok(mountAt(mi(r), '/dev')!.options.includes('ro'));
    t.match(r.sections.null, /1:3\n.*DEV-RO/s);
  });

  t.test('/dev bound from the host: no devices or links are created (runc)', async (t) => {
    const b = bundle(t);
    const before = fs.lstatSync('/dev/ptmx');
    const spec: Spec = {
      ociVersion: '1.3.0', root: { path: 'rootfs' },
      mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/dev', source: '/dev', options: ['rbind'] }],
    };
    const r = runScenario(b, { plan: plan(spec, b), script: MI + section('ptmx', 'stat -c "%F %t:%T" /dev/ptmx') });
    ok(t, r);
    t.match(r.sections.ptmx, /character special file 5:2/, 'the host /dev/ptmx was not replaced by a symlink');
    const after = fs.lstatSync('/dev/ptmx');
    t.ok(after.isCharacterDevice() && after.ino === before.ino, 'host /dev/ptmx untouched');
  });

  t.test('existing device that does not match is an error (config-linux.md)', async (t) => {
    const b = bundle(t);
    fs.mkdirSync(path.join(b.rootfs, 'opt'), { recursive: true });
    fs.writeFileSync(path.join(b.rootfs, 'opt/dev0'), 'not a device');
    const r = runScenario(b, {
      plan: plan({ ociVersion: '1.3.0', root: { path: 'rootfs' }, linux: { devices: [{ path: '/opt/dev0', type: 'c', major: 1, minor: 3 }] } }, b),
      script: 'true',
    });
    t.match(r.error, /^create device \/opt\/dev0: \/opt\/dev0 already exists and is a regular file, not the requested device c 1:3$/);
  });
}

const skip = canRun();
if (skip) t.plan(0, `real rootfs tests: ${skip}`);
else tests();
