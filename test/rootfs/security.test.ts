/**
 * Hostile images and configs: every path the container controls is an attack
 * surface. Each test checks what happened inside the container and that the
 * host is untouched (host paths, and the test process's own mountinfo; the
 * fixture's mount namespace dies with it).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isUnder, parseMountinfo, type MountInfo } from '../../src/linux/rootfs/mountinfo.js';
import type { Spec } from '../../src/spec/types.js';
import { makeBusyboxRootfs, tmpdir } from '../helpers/rootfs.js';
import { canRun, defaultSpec, hostMountinfo, makeBundle, mountAt, plan, runScenario, section, type Bundle, type RunResult } from './harness.js';

interface TT { equal: typeof t.equal; ok: typeof t.ok; same: typeof t.same; notOk: typeof t.notOk; comment: typeof t.comment; teardown: typeof t.teardown }

const MI = section('mi', 'cat /proc/self/mountinfo');

function bundle(t: TT): Bundle {
  const b = makeBundle();
  t.teardown(b.cleanup);
  return b;
}

/** A host path that must stay untouched; removed at teardown just in case. */
function escapeTarget(t: TT, name: string): string {
  const p = path.join(os.tmpdir(), `${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  t.teardown(() => {
    spawnSync('umount', ['-R', '-l', p], { stdio: 'ignore' });
    fs.rmSync(p, { recursive: true, force: true });
  });
  return p;
}

function hostMountsUnder(prefixes: string[]): string[] {
  return hostMountinfo().filter((m) => prefixes.some((p) => isUnder(m.mountpoint, p))).map((m) => `${m.mountpoint} ${m.fstype}`);
}

/** Run and check that no host mount appeared under the given prefixes. */
function runGuarded(t: TT, b: Bundle, prefixes: string[], sc: Parameters<typeof runScenario>[1], extra: string[] = []): RunResult {
  const watch = [b.dir, ...prefixes];
  const before = hostMountsUnder(watch);
  const r = runScenario(b, sc, extra);
  t.same(hostMountsUnder(watch), before, 'no new mounts in the host namespace');
  return r;
}

function mi(r: RunResult): MountInfo[] {
  return parseMountinfo(r.sections.mi ?? '');
}

const skip = canRun();
if (skip) t.plan(0, `rootfs security tests: ${skip}`);
else tests();

function tests(): void {
  for (const fstype of ['proc', 'sysfs'] as const) {
    const dest = fstype === 'proc' ? '/proc' : '/sys';
    t.test(`${dest} as a symlink in the image (CVE-2023-27561, CVE-2025-54867)`, async (t) => {
      for (const kind of ['absolute', 'relative-escape', 'inside'] as const) {
        const b = bundle(t);
        const target = escapeTarget(t, `runts-${fstype}-escape`);
        const link = path.join(b.rootfs, dest.slice(1));
        fs.rmSync(link, { recursive: true, force: true });
        if (kind === 'absolute') {
          fs.symlinkSync('/host', link);
        } else if (kind === 'relative-escape') {
          fs.symlinkSync(`../../../../../../..${target}`, link);
        } else {
          fs.mkdirSync(path.join(b.rootfs, 'real'));
          fs.symlinkSync('/real', link);
        }
        const spec: Spec = { ociVersion: '1.3.0', root: { path: 'rootfs' }, mounts: [{ destination: dest, type: fstype, source: fstype }] };
        const r = runGuarded(t, b, [target, '/host'], { plan: plan(spec, b), script: 'true' });
        t.equal(r.error, `mount ${fstype} to ${dest}: filesystem "${fstype}" must be mounted on ordinary directory`, `${kind}: refused like runc`);
        t.notOk(fs.existsSync(target), `${kind}: nothing created at the host target`);
        t.notOk(hostMountinfo().some((m) => m.mountpoint === '/host'), `${kind}: nothing mounted on host /host`);
      }
    });
  }

  t.test('mount destination through a symlink that points out of the rootfs (CVE-2021-30465 style)', async (t) => {
    const b = bundle(t);
    const target = escapeTarget(t, 'runts-dest-escape');
    fs.writeFileSync(path.join(b.dir, 'hostfile'), 'bound\n');
    fs.symlinkSync(`/../../../../../..${target}`, path.join(b.rootfs, 'a'));
    fs.symlinkSync(`../../../../../../../../..${target}-rel`, path.join(b.rootfs, 'r'));
    t.teardown(() => fs.rmSync(`${target}-rel`, { recursive: true, force: true }));
    const spec: Spec = {
      ociVersion: '1.3.0', root: { path: 'rootfs' },
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/a/b', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/a/c/file', source: path.join(b.dir, 'hostfile'), options: ['bind'] },
        { destination: '/r/d', type: 'tmpfs', source: 'tmpfs' },
      ],
      linux: { devices: [{ path: '/a/dev0', type: 'c', major: 1, minor: 3 }] },
    };
    const r = runGuarded(t, b, [target, `${target}-rel`], {
      plan: plan(spec, b),
      script: MI + section('ls', `cat /a/c/file; ls ${target}; stat -c "%t:%T" /a/dev0`),
    });
    t.equal(r.error, null);
    const m = mi(r);
    t.equal(mountAt(m, `${target}/b`)?.fstype, 'tmpfs', 'the tmpfs landed at the symlink target inside the rootfs');
    t.ok(mountAt(m, `${target}/c/file`), 'the file bind too');
    t.equal(mountAt(m, `${target}-rel/d`)?.fstype, 'tmpfs', 'relative ".." symlink clamped at the container root');
    t.match(r.sections.ls, /^bound\nb\nc\ndev0\n1:3\n$/);
    t.ok(fs.existsSync(path.join(b.rootfs, target.slice(1), 'b')), 'created inside the rootfs');
    t.notOk(fs.existsSync(target), 'host target untouched');
    t.notOk(fs.existsSync(`${target}-rel`), 'host relative target untouched');
  });

  t.test('/dev as a symlink in the image (CVE-2026-41579)', async (t) => {
    for (const withDevMount of [true, false]) {
      const b = bundle(t);
      const target = escapeTarget(t, 'runts-dev-escape');
      fs.rmSync(path.join(b.rootfs, 'dev'), { recursive: true, force: true });
      fs.symlinkSync(`/../../../../../../..${target}`, path.join(b.rootfs, 'dev'));
      const spec = defaultSpec();
      if (!withDevMount) spec.mounts = spec.mounts!.filter((m) => m.destination !== '/dev');
      const r = runGuarded(t, b, [target], {
        plan: plan(spec, b),
        script: MI + section('dev', `ls ${target} | tr "\\n" " "; readlink /dev/ptmx; stat -c "%t:%T" /dev/null`),
      });
      t.equal(r.error, null, `setup inside the rootfs (${withDevMount ? 'with' : 'without'} a /dev mount)`);
      t.match(r.sections.dev, /null .*ptmx .*urandom .*pts\/ptmx\n1:3\n$/);
      if (withDevMount) t.equal(mountAt(mi(r), target)?.fstype, 'tmpfs', '/dev tmpfs at the target inside the rootfs');
      else t.ok(fs.lstatSync(path.join(b.rootfs, target.slice(1), 'null')).isCharacterDevice(), 'device node created inside the rootfs');
      t.notOk(fs.existsSync(target), 'host target untouched: no nodes, no links, no ptmx removal');
    }
  });

  t.test('/dev symlinked at the host /dev: fails closed, host /dev/ptmx and links untouched', async (t) => {
    // In the root, every way to name the host's /dev leads back to the symlink itself (a loop)
    // or through a procfs magic link (refused).
    const before = fs.lstatSync('/dev/ptmx');
    const stdinBefore = fs.existsSync('/dev/stdin') ? fs.readlinkSync('/dev/stdin') : null;
    for (const link of ['/../../../../../../../dev', '../../../../../../dev', '/proc/self/root/dev', '/proc/1/root/dev']) {
      const b = bundle(t);
      fs.rmSync(path.join(b.rootfs, 'dev'), { recursive: true, force: true });
      fs.symlinkSync(link, path.join(b.rootfs, 'dev'));
      const spec = defaultSpec();
      spec.mounts = spec.mounts!.filter((m) => !m.destination.startsWith('/dev'));
      const r = runGuarded(t, b, ['/dev'], { plan: plan(spec, b), script: 'true' });
      t.match(r.error, /^create device \/dev\/null: .*ELOOP|refusing to follow a procfs link/, `${link}: refused`);
      const after = fs.lstatSync('/dev/ptmx');
      t.ok(after.isCharacterDevice() && after.ino === before.ino, `${link}: host /dev/ptmx untouched`);
      t.equal(fs.existsSync('/dev/stdin') ? fs.readlinkSync('/dev/stdin') : null, stdinBefore, `${link}: host /dev links untouched`);
    }
  });

  t.test('/dev/null swapped before masking (CVE-2025-31133)', async (t) => {
    for (const attack of [
      { kind: 'replace-devnull-with-symlink' as const, target: '/proc/sys/kernel/core_pattern' },
      { kind: 'replace-devnull-with-symlink' as const, target: '/etc/passwd' },
      { kind: 'replace-devnull-with-file' as const },
    ]) {
      const b = bundle(t);
      const spec = defaultSpec();
      spec.linux!.maskedPaths = ['/proc/keys', '/proc/sysrq-trigger', '/sys/firmware'];
      spec.linux!.readonlyPaths = [];
      const r = runScenario(b, {
        plan: plan(spec, b), attack, continueOnError: true,
        script: MI + section('keys', 'head -c 40 /proc/keys | wc -c'),
      });
      t.match(r.error, /^mask paths: \/dev\/null is a (symlink|regular file), not the null device \(char 1:3\): refusing to use it to mask paths \(CVE-2025-31133\)$/,
        `${attack.kind} ${'target' in attack ? attack.target : ''}`);
      const m = mi(r);
      t.notOk(mountAt(m, '/proc/keys'), 'the masked target stays unmounted');
      t.notOk(mountAt(m, '/proc/sysrq-trigger'), 'nothing was bind-mounted from the fake /dev/null');
      t.notOk(m.some((e) => e.root === '/null'), 'no mount of the fake /dev/null anywhere');
    }
  });

  t.test('mounts on or inside /proc (runc checkProcMount)', async (t) => {
    const b = bundle(t);
    fs.writeFileSync(path.join(b.dir, 'uptime'), '1.00 1.00\n');
    const base = (m: NonNullable<Spec['mounts']>): Spec => ({ ociVersion: '1.3.0', root: { path: 'rootfs' }, mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, ...m] });
    let r = runScenario(b, { plan: plan(base([{ destination: '/proc/sys/kernel/core_pattern', source: path.join(b.dir, 'uptime'), options: ['bind'] }]), b), script: 'true' });
    t.match(r.error, /"\/proc\/sys\/kernel\/core_pattern" cannot be mounted because it is inside \/proc$/);
    r = runScenario(b, { plan: plan(base([{ destination: '/proc', type: 'tmpfs', source: 'tmpfs' }]), b), script: 'true' });
    t.match(r.error, /"\/proc" cannot be mounted because it is not of type proc$/);
    // a symlink that resolves into /proc is judged by where it lands
    fs.symlinkSync('/proc/sys/kernel', path.join(b.rootfs, 'sneaky'));
    r = runScenario(b, { plan: plan(base([{ destination: '/sneaky/core_pattern', source: path.join(b.dir, 'uptime'), options: ['bind'] }]), b), script: 'true' });
    t.match(r.error, /"\/proc\/sys\/kernel\/core_pattern" cannot be mounted because it is inside \/proc$/);
    // lxcfs-style entries are allowed
    r = runScenario(b, { plan: plan(base([{ destination: '/proc/uptime', source: path.join(b.dir, 'uptime'), options: ['bind', 'ro'] }]), b), script: 'cat /proc/uptime' });
    t.equal(r.error, null);
    t.equal(r.stdout, '1.00 1.00\n');
    // bind of a real procfs onto /proc is allowed
    r = runScenario(b, { plan: plan({ ociVersion: '1.3.0', root: { path: 'rootfs' }, mounts: [{ destination: '/proc', source: '/proc', options: ['rbind'] }] }, b), script: 'true' });
    t.equal(r.error, null, 'a procfs bind onto /proc');
  });

  t.test('dangling symlinks are followed inside the root; loops and files in the way fail', async (t) => {
    const b = bundle(t);
    const target = escapeTarget(t, 'runts-dangling');
    fs.symlinkSync(`${target}/nowhere`, path.join(b.rootfs, 'dangle'));
    fs.symlinkSync('../../../../../../..' + target + '-rel/x', path.join(b.rootfs, 'dangle-rel'));
    t.teardown(() => fs.rmSync(`${target}-rel`, { recursive: true, force: true }));
    let r = runGuarded(t, b, [target, `${target}-rel`], {
      plan: plan({
        ociVersion: '1.3.0', root: { path: 'rootfs' },
        mounts: [
          { destination: '/proc', type: 'proc', source: 'proc' },
          { destination: '/dangle/x', type: 'tmpfs', source: 'tmpfs' },
          { destination: '/dangle-rel/y', type: 'tmpfs', source: 'tmpfs' },
        ],
      }, b),
      script: MI,
    });
    t.equal(r.error, null);
    t.equal(mountAt(mi(r), `${target}/nowhere/x`)?.fstype, 'tmpfs', 'created and mounted at the in-root target');
    t.equal(mountAt(mi(r), `${target}-rel/x/y`)?.fstype, 'tmpfs', 'relative dangling link clamped at the root');
    t.ok(fs.statSync(path.join(b.rootfs, target.slice(1), 'nowhere/x')).isDirectory());
    t.notOk(fs.existsSync(target), 'nothing created on the host');
    t.notOk(fs.existsSync(`${target}-rel`), 'nothing created on the host (relative)');

    fs.symlinkSync('/loop2', path.join(b.rootfs, 'loop1'));
    fs.symlinkSync('/loop1', path.join(b.rootfs, 'loop2'));
    r = runScenario(b, {
      plan: plan({ ociVersion: '1.3.0', root: { path: 'rootfs' }, mounts: [{ destination: '/loop1/x', type: 'tmpfs', source: 'tmpfs' }] }, b),
      script: 'true',
    });
    t.match(r.error, /^mount tmpfs to \/loop1\/x: (openat2|mkdirat) \/loop\d.*: ELOOP/, 'symlink loop');
    r = runScenario(b, {
      plan: plan({ ociVersion: '1.3.0', root: { path: 'rootfs' }, mounts: [{ destination: '/etc/passwd/x', type: 'tmpfs', source: 'tmpfs' }] }, b),
      script: 'true',
    });
    t.match(r.error, /^mount tmpfs to \/etc\/passwd\/x: openat2 \/etc\/passwd\/x: ENOTDIR/);
  });

  t.test('file bind destination symlinked out of the rootfs', async (t) => {
    const b = bundle(t);
    const target = escapeTarget(t, 'runts-filebind');
    fs.writeFileSync(path.join(b.dir, 'secret'), 'payload\n');
    fs.mkdirSync(path.join(b.rootfs, 'cfg'));
    fs.symlinkSync(`/../../../../../..${target}`, path.join(b.rootfs, 'cfg/app.conf'));
    const r = runGuarded(t, b, [target], {
      plan: plan({ ociVersion: '1.3.0', root: { path: 'rootfs' }, mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/cfg/app.conf', source: 'secret', options: ['bind', 'ro'] }] }, b),
      script: `cat /cfg/app.conf; cat ${target}`,
    });
    t.equal(r.error, null);
    t.equal(r.stdout, 'payload\npayload\n');
    t.notOk(fs.existsSync(target), 'the empty bind target was created inside the rootfs, not on the host');
    t.ok(fs.existsSync(path.join(b.rootfs, target.slice(1))));
  });

  t.test('rootfs on a shared host mount: nothing propagates back (root made rslave, parent private)', async (t) => {
    const dir = tmpdir('runts-shared-');
    const mp = path.join(dir, 'mnt');
    fs.mkdirSync(mp);
    t.teardown(() => {
      spawnSync('umount', ['-R', '-l', mp], { stdio: 'ignore' });
      fs.rmSync(dir, { recursive: true, force: true });
    });
    for (const args of [['-t', 'tmpfs', 'tmpfs', mp], ['--make-shared', mp]]) {
      const res = spawnSync('mount', args, { encoding: 'utf8' });
      t.equal(res.status, 0, `mount ${args.join(' ')} ${res.stderr}`);
    }
    fs.mkdirSync(path.join(mp, 'rootfs'), { mode: 0o755 });
    const b: Bundle = { dir: mp, rootfs: makeBusyboxRootfs(path.join(mp, 'rootfs')), cleanup: () => undefined };
    for (const [name, tweak] of [
      ['default', (_s: Spec) => undefined],
      ['rootfsPropagation shared', (s: Spec) => { s.linux!.rootfsPropagation = 'shared'; }],
      ['rootfsPropagation rshared, no pivot', (s: Spec) => { s.linux!.rootfsPropagation = 'rshared'; }],
    ] as const) {
      const spec = defaultSpec();
      tweak(spec);
      const before = hostMountsUnder([mp]);
      const r = runScenario(b, { plan: plan(spec, b, { noPivot: name.includes('no pivot') }), script: MI });
      t.equal(r.error, null, name);
      t.same(hostMountsUnder([mp]), before, `${name}: host sees no container mounts`);
      const root = mountAt(mi(r), '/');
      if (name === 'default') t.ok(root?.optional.some((o) => o.startsWith('master:')), `default: the container / is a slave of the host (${root?.optional.join(' ')})`);
    }
  });

  t.test('masked and readonly paths never leave the root', async (t) => {
    const b = bundle(t);
    const target = escapeTarget(t, 'runts-mask-escape');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'f'), 'host data\n');
    fs.mkdirSync(path.join(b.rootfs, 'links'));
    fs.symlinkSync(`/../../../../..${target}`, path.join(b.rootfs, 'links/dir'));
    fs.symlinkSync(`/../../../../..${target}/f`, path.join(b.rootfs, 'links/file'));
    const spec = defaultSpec();
    spec.linux!.maskedPaths = ['/links/dir', '/links/file', '/does/not/exist', '/etc/passwd/notadir'];
    spec.linux!.readonlyPaths = [`${target}`, '/also/missing'];
    fs.mkdirSync(path.join(b.rootfs, target.slice(1)), { recursive: true });
    const r = runGuarded(t, b, [target], { plan: plan(spec, b), script: MI });
    t.equal(r.error, null, 'missing paths are skipped');
    const m = mi(r);
    t.notOk(m.some((e) => e.mountpoint === '/links/dir' || e.mountpoint === '/links/file'), 'symlinks are followed inside the root only');
    t.equal(mountAt(m, target)?.fstype, 'tmpfs', 'masked dir: the in-root target (a tmpfs over the in-root path)');
    t.same(fs.readFileSync(path.join(target, 'f'), 'utf8'), 'host data\n', 'host data untouched');
  });
}
