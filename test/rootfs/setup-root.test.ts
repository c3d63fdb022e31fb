/**
 * Real rootfs setup: a fixture applies a plan in fresh mount+pid namespaces
 * (unshare), pivots into a busybox rootfs and prints what the kernel shows.
 * This file: the root (no-pivot, rootfsPropagation, user namespaces, error messages, a symlinked rootfs, fd leaks).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mount, Spec } from '../../src/spec/types.js';
import { canRun, defaultSpec, mountAt, plan, runScenario, section } from './harness.js';
import { MI, bundle, mi, ok } from './setup-helpers.js';

function tests(): void {
  t.test('no-pivot: MS_MOVE + chroot', async (t) => {
    const b = bundle(t);
    const spec = defaultSpec();
    const r = runScenario(b, {
      plan: plan(spec, b, { noPivot: true }),
      script: MI + section('ls', 'ls /') + section('null', 'stat -c "%t:%T" /dev/null') + section('rootwrite', 'touch /x && echo WRITABLE || echo READONLY'),
    });
    ok(t, r);
    t.match(r.sections.ls, /^bin$/m);
    t.match(r.sections.null, /^1:3$/m);
    t.match(r.sections.rootwrite, /READONLY/);
    const m = mi(r);
    // Under chroot the old root is still in the namespace (not visible from here); what we see are our mounts.
    t.ok(m.some((e) => e.mountpoint === '/proc' && e.fstype === 'proc'));
    t.ok(mountAt(m, '/proc/sys')!.options.includes('ro'));
  });

  t.test('rootfsPropagation: shared, private, unbindable on the container /', async (t) => {
    for (const [prop, check] of [
      ['shared', (o: string[]) => o.some((x) => x.startsWith('shared:'))],
      ['private', (o: string[]) => o.length === 0],
      ['unbindable', (o: string[]) => o.includes('unbindable')],
    ] as const) {
      const b = bundle(t);
      const spec = defaultSpec();
      spec.linux!.rootfsPropagation = prop;
      for (const noPivot of [false, true]) {
        const r = runScenario(b, { plan: plan(spec, b, { noPivot }), script: MI });
        ok(t, r);
        const root = mountAt(mi(r), '/');
        t.ok(root && check(root.optional), `${prop}${noPivot ? ' (no pivot)' : ''}: ${root?.optional.join(' ')}`);
      }
    }
  });

  t.test('user namespace: host devices are bind-mounted, fresh proc/sysfs/devpts/mqueue', async (t) => {
    const b = bundle(t);
    const spec = defaultSpec();
    // gid=5 is not mapped with --map-root-user
    spec.mounts = spec.mounts!.map((m) => m.type === 'devpts' ? { ...m, options: m.options!.filter((o) => o !== 'gid=5') } : m);
    const r = runScenario(b, {
      plan: plan(spec, b, { userns: true }),
      script: MI + section('stat', 'stat -c "%n %t:%T" /dev/null /dev/zero /dev/tty') + section('null', 'echo hi > /dev/null && echo NULL-OK') + section('id', 'id -u'),
    }, ['--user', '--map-root-user', '--net', '--ipc']);
    ok(t, r);
    const m = mi(r);
    for (const d of ['null', 'zero', 'full', 'random', 'urandom', 'tty']) {
      const e = mountAt(m, `/dev/${d}`);
      t.ok(e, `/dev/${d} is a bind mount`);
      t.equal(e?.root, `/${d}`, `... of the host /dev/${d}`);
    }
    t.match(r.sections.stat, /^\/dev\/null 1:3$/m);
    t.match(r.sections.stat, /^\/dev\/tty 5:0$/m);
    t.match(r.sections.null, /NULL-OK/);
    t.ok(mountAt(m, '/')!.options.includes('ro'));
    t.equal(mountAt(m, '/sys')!.fstype, 'sysfs');
    t.equal(mountAt(m, '/proc/keys')!.root, '/null', 'masking binds the bound /dev/null');
    t.equal(r.sections.id!.trim(), '0');
  });

  t.test('user namespace: flags locked on a host mount are kept, not an error (runc)', async (t) => {
    const b = bundle(t);
    const mp = path.join(b.dir, 'locked');
    fs.mkdirSync(mp);
    t.teardown(() => { spawnSync('umount', ['-l', mp], { stdio: 'ignore' }); });
    const res = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,nosuid,noexec,size=16k', 'tmpfs', mp], { encoding: 'utf8' });
    t.equal(res.status, 0, `host ro mount ${res.stderr}`);
    const spec: Spec = {
      ociVersion: '1.3.0', root: { path: 'rootfs' },
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/locked', source: mp, options: ['rbind', 'rw', 'suid', 'exec', 'nodev', 'strictatime'] },
      ],
    };
    const r = runScenario(b, { plan: plan(spec, b, { userns: true }), script: MI }, ['--user', '--map-root-user']);
    ok(t, r);
    const e = mountAt(mi(r), '/locked')!;
    t.same(['ro', 'nosuid', 'noexec', 'nodev'].filter((o) => e.options.includes(o)), ['ro', 'nosuid', 'noexec', 'nodev'],
      'locked ro/nosuid/noexec kept, nodev still added');
  });

  t.test('error messages name the mount, the operation and the errno', async (t) => {
    const b = bundle(t);
    const cases: [Mount, RegExp][] = [
      [{ destination: '/bad', type: 'tmpfs', source: 'tmpfs', options: ['size=abc'] },
        /^mount tmpfs to \/bad: fsconfig size=abc: EINVAL \(invalid argument\)( \(kernel: tmpfs: Bad value for 'size'\))?$/],
      [{ destination: '/bad', type: 'nosuchfs', source: 'x' }, /^mount x to \/bad: fsopen nosuchfs: ENODEV \(no such device\)$/],
      [{ destination: '/bad', source: '/nonexistent-runts-src', options: ['bind'] },
        /^mount \/nonexistent-runts-src to \/bad: open_tree \/nonexistent-runts-src: ENOENT \(no such file or directory\)$/],
      [{ destination: '/etc/passwd', type: 'tmpfs', source: 'tmpfs' }, /^mount tmpfs to \/etc\/passwd: mount destination \/etc\/passwd is a regular file, not a directory$/],
      [{ destination: '/proc', type: 'proc', source: 'proc', options: ['hidepid=banana'] }, /^mount proc to \/proc: fsconfig hidepid=banana: EINVAL/],
    ];
    for (const [m, re] of cases) {
      const r = runScenario(b, { plan: plan({ ociVersion: '1.3.0', root: { path: 'rootfs' }, mounts: [m] }, b), script: 'true' });
      t.equal(r.status, 3);
      t.match(r.error, re, `${m.destination} ${m.type ?? 'bind'}`);
    }
    const r = runScenario(b, {
      plan: plan({ ociVersion: '1.3.0', root: { path: 'rootfs' }, mounts: [{ destination: '/proc', type: 'proc', source: 'proc', options: ['hidepid=banana'] }] }, b),
      script: 'true',
    });
    t.match(r.error, /kernel: .*hidepid/, 'the fs_context log is included');
  });

  t.test('a symlinked rootfs is refused (runc)', async (t) => {
    const b = bundle(t);
    fs.symlinkSync('rootfs', path.join(b.dir, 'link'));
    const r = runScenario(b, { plan: plan({ ociVersion: '1.3.0', root: { path: 'link' } }, b), script: 'true' });
    t.match(r.error, /invalid rootfs .*link: not an absolute path, or a symlink/);
  });

  t.test('fds: nothing leaks from the three phases', async (t) => {
    const b = bundle(t);
    const r = runScenario(b, { plan: plan(defaultSpec(), b), script: section('fds', 'ls /proc/self/fd | sort -n | tr "\\n" " "') });
    ok(t, r);
    // Allowed: stdio, the fd busybox ls opens for the directory it lists, and whatever the test
    // process itself passes down without O_CLOEXEC (the environment may hand us such fds).
    const inherited = fs.readdirSync('/proc/self/fdinfo').map(Number).filter((fd) => {
      if (fd <= 2) return false;
      try {
        const flags = /^flags:\s+([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
        return flags !== null && (parseInt(flags[1]!, 8) & 0o2000000) === 0;
      } catch { return false; }
    });
    const allowed = new Set([0, 1, 2, 3, ...inherited]);
    const seen = r.sections.fds!.trim().split(/\s+/).map(Number);
    t.same(seen.filter((fd) => !allowed.has(fd)), [], `no leaked fds (saw ${seen.join(' ')})`);
  });
}

const skip = canRun();
if (skip) t.plan(0, `real rootfs tests: ${skip}`);
else tests();
