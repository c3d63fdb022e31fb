/**
 * Real rootfs setup: a fixture applies a plan in fresh mount+pid namespaces
 * (unshare), pivots into a busybox rootfs and prints what the kernel shows.
 * This file: config mounts (the default config, bind mounts, tmpfs, tmpcopyup, remount, cgroup mounts, idmapped binds).
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mount, Spec } from '../../src/spec/types.js';
import { canRun, defaultSpec, mountAt, plan, runScenario, section } from './harness.js';
import { MI, bundle, mi, ok } from './setup-helpers.js';

function tests(): void {
  t.test('default config: mounts, read-only root, devices, /dev links, masked and readonly paths', async (t) => {
    const b = bundle(t);
    const spec = defaultSpec();
    spec.linux!.devices = [
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 1000, gid: 1001 },
      { path: '/dev/loop-test', type: 'b', major: 7, minor: 0, fileMode: 0o640 },
      { path: '/run/test.fifo', type: 'p', fileMode: 0o620 },
      { path: '/opt/devices/null2', type: 'c', major: 1, minor: 3 },
    ];
    const r = runScenario(b, {
      plan: plan(spec, b),
      script: MI
        + section('dev', 'ls -ln /dev /dev/pts')
        + section('stat', 'stat -c "%n %F %t:%T %a %u:%g" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/fuse /dev/loop-test /run/test.fifo /opt/devices/null2')
        + section('links', 'for l in fd stdin stdout stderr ptmx core; do echo "$l $(readlink /dev/$l)"; done')
        + section('rootwrite', 'touch /newfile && echo WRITABLE || echo READONLY')
        + section('keys', 'wc -c < /proc/keys')
        + section('firmware', 'ls -A /sys/firmware | wc -l; touch /sys/firmware/x && echo WRITABLE || echo READONLY')
        + section('procsys', 'echo 1 > /proc/sys/kernel/ns_last_pid && echo WRITABLE || echo READONLY')
        + section('shm', 'touch /dev/shm/x && echo WRITABLE')
        + section('cwd', 'pwd'),
    });
    ok(t, r);
    const m = mi(r);
    const root = mountAt(m, '/')!;
    t.ok(root.options.includes('ro'), 'root is read-only');
    t.equal(root.root, b.rootfs, 'root is the bundle rootfs');
    t.match(r.sections.rootwrite, /READONLY/);

    const proc = mountAt(m, '/proc')!;
    t.equal(proc.fstype, 'proc');
    const dev = mountAt(m, '/dev')!;
    t.equal(dev.fstype, 'tmpfs');
    t.ok(dev.options.includes('nosuid'));
    t.notOk(dev.options.includes('relatime'), 'strictatime');
    t.ok(dev.superOptions.includes('size=65536k') && dev.superOptions.includes('mode=755'), 'tmpfs data');
    const pts = mountAt(m, '/dev/pts')!;
    t.equal(pts.fstype, 'devpts');
    t.ok(pts.options.includes('noexec') && pts.options.includes('nosuid'));
    t.ok(pts.superOptions.includes('ptmxmode=666') && pts.superOptions.includes('mode=620') && pts.superOptions.includes('gid=5'));
    const shm = mountAt(m, '/dev/shm')!;
    t.same(['nosuid', 'nodev', 'noexec'].filter((o) => shm.options.includes(o)), ['nosuid', 'nodev', 'noexec']);
    t.ok(shm.superOptions.includes('size=65536k'));
    t.match(r.sections.shm, /WRITABLE/);
    t.equal(mountAt(m, '/dev/mqueue')!.fstype, 'mqueue');
    const sys = mountAt(m, '/sys')!;
    t.equal(sys.fstype, 'sysfs');
    t.ok(sys.options.includes('ro'), 'sysfs ro');
    t.ok(sys.superOptions.includes('rw'), 'but its (shared) superblock was left alone');

    const stat = r.sections.stat!;
    t.match(stat, /^\/dev\/null character special file 1:3 666 0:0$/m);
    t.match(stat, /^\/dev\/zero character special file 1:5 666 0:0$/m);
    t.match(stat, /^\/dev\/full character special file 1:7 666 0:0$/m);
    t.match(stat, /^\/dev\/random character special file 1:8 666 0:0$/m);
    t.match(stat, /^\/dev\/urandom character special file 1:9 666 0:0$/m);
    t.match(stat, /^\/dev\/tty character special file 5:0 666 0:0$/m);
    t.match(stat, /^\/dev\/fuse character special file a:e5 600 1000:1001$/m, 'config device with mode and owner');
    t.match(stat, /^\/dev\/loop-test block special file 7:0 640 0:0$/m);
    t.match(stat, /^\/run\/test.fifo fifo 0:0 620 0:0$/m);
    t.match(stat, /^\/opt\/devices\/null2 character special file 1:3 666 0:0$/m, 'a device outside /dev');

    const links = r.sections.links!;
    t.match(links, /^fd \/proc\/self\/fd$/m);
    t.match(links, /^stdin \/proc\/self\/fd\/0$/m);
    t.match(links, /^stdout \/proc\/self\/fd\/1$/m);
    t.match(links, /^stderr \/proc\/self\/fd\/2$/m);
    t.match(links, /^ptmx pts\/ptmx$/m);
    if (fs.existsSync('/proc/kcore')) t.match(links, /^core \/proc\/kcore$/m);
    else t.match(links, /^core $/m, 'no /dev/core without /proc/kcore, like runc');

    // masked: a file gets the container's /dev/null, a directory an empty read-only tmpfs
    const keys = mountAt(m, '/proc/keys')!;
    t.equal(keys.root, '/null', '/proc/keys masked by /dev/null');
    t.equal(keys.fstype, 'tmpfs', '... the /dev tmpfs');
    t.equal(r.sections.keys!.trim(), '0', 'masked file reads empty');
    const fw = mountAt(m, '/sys/firmware')!;
    t.equal(fw.fstype, 'tmpfs');
    t.ok(fw.options.includes('ro'));
    t.match(r.sections.firmware, /^0\nREADONLY/m, 'masked dir is empty and read-only');
    const acpi = mountAt(m, '/proc/acpi');
    if (acpi) t.equal(`${acpi.major}:${acpi.minor}`, `${fw.major}:${fw.minor}`, 'one tmpfs instance for all masked directories');
    t.notOk(mountAt(m, '/proc/kcore') && !fs.existsSync('/proc/kcore'), 'missing masked paths are skipped');

    // readonly paths
    for (const p of ['/proc/sys', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sysrq-trigger']) {
      const e = mountAt(m, p);
      if (!e) { t.notOk(fs.existsSync(p), `${p} skipped only if missing`); continue; }
      t.ok(e.options.includes('ro'), `${p} read-only`);
      t.equal(e.fstype, 'proc');
    }
    t.match(r.sections.procsys, /READONLY/);
    t.equal(r.sections.cwd!.trim(), '/');
  });

  t.test('bind mounts: dir, file, relative source, ro vs rro on an rbind, propagation options', async (t) => {
    const b = bundle(t);
    fs.mkdirSync(path.join(b.dir, 'vol/sub'), { recursive: true });
    fs.writeFileSync(path.join(b.dir, 'vol/hello'), 'hello from the host\n');
    fs.writeFileSync(path.join(b.dir, 'hostfile.txt'), 'file bind\n');
    fs.mkdirSync(path.join(b.rootfs, 'data'));
    const spec: Spec = {
      ociVersion: '1.3.0', root: { path: 'rootfs' },
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/vol', type: 'none', source: 'vol', options: ['bind', 'ro', 'nosuid', 'nodev'] },
        { destination: '/etc/hostfile', type: 'none', source: path.join(b.dir, 'hostfile.txt'), options: ['bind', 'ro'] },
        { destination: '/data/inner', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
        // rbind of a directory that now has a submount (the tmpfs above, seen from our namespace)
        { destination: '/view-ro', source: 'rootfs/data', options: ['rbind', 'ro'] },
        { destination: '/view-rro', source: 'rootfs/data', options: ['rbind', 'rro'] },
        { destination: '/view-nonrec', source: 'rootfs/data', options: ['bind'] },
        { destination: '/shared', type: 'tmpfs', source: 'tmpfs', options: ['shared'] },
        { destination: '/unbindable', type: 'tmpfs', source: 'tmpfs', options: ['runbindable'] },
        { destination: '/nosym', type: 'tmpfs', source: 'tmpfs', options: ['nosymfollow', 'noatime', 'nodiratime'] },
      ],
    };
    const r = runScenario(b, {
      plan: plan(spec, b),
      script: MI
        + section('vol', 'cat /vol/hello; ls /vol; touch /vol/x && echo WRITABLE || echo READONLY')
        + section('file', 'cat /etc/hostfile')
        + section('inner', 'touch /data/inner/x && echo inner-rw; touch /view-ro/inner/y && echo view-ro-inner-rw; touch /view-rro/inner/z || echo view-rro-inner-ro; ls /view-nonrec/inner | wc -l'),
    });
    ok(t, r);
    const m = mi(r);
    const vol = mountAt(m, '/vol')!;
    t.same(['ro', 'nosuid', 'nodev'].filter((o) => vol.options.includes(o)), ['ro', 'nosuid', 'nodev'], 'bind attributes');
    t.equal(vol.root, path.join(b.dir, 'vol'), 'relative source resolved against the bundle');
    t.match(r.sections.vol, /hello from the host\nhello\nsub\n.*READONLY/s);
    t.equal(r.sections.file, 'file bind\n');
    t.ok(mountAt(m, '/etc/hostfile')!.options.includes('ro'));
    t.ok(fs.existsSync(path.join(b.rootfs, 'etc/hostfile')), 'the file destination was created in the rootfs');
    t.ok(mountAt(m, '/view-ro')!.options.includes('ro'));
    t.ok(mountAt(m, '/view-ro/inner')!.options.includes('rw'), 'ro is not recursive (runc)');
    t.ok(mountAt(m, '/view-rro/inner')!.options.includes('ro'), 'rro is recursive');
    t.notOk(mountAt(m, '/view-nonrec/inner'), 'bind (not rbind) leaves submounts out');
    t.match(r.sections.inner, /inner-rw\nview-ro-inner-rw\n.*view-rro-inner-ro\n0\n/s);
    t.ok(mountAt(m, '/shared')!.optional.some((o) => o.startsWith('shared:')), 'shared propagation');
    t.ok(mountAt(m, '/unbindable')!.optional.includes('unbindable'), 'unbindable propagation');
    const ns = mountAt(m, '/nosym')!;
    t.same(['nosymfollow', 'noatime', 'nodiratime'].filter((o) => ns.options.includes(o)), ['nosymfollow', 'noatime', 'nodiratime']);
  });

  t.test('tmpfs options: size=, mode=, and the mode of an existing directory is kept', async (t) => {
    const b = bundle(t);
    fs.mkdirSync(path.join(b.rootfs, 'keep'), { mode: 0o750 });
    fs.chmodSync(path.join(b.rootfs, 'keep'), 0o750);
    const spec: Spec = {
      ociVersion: '1.3.0', root: { path: 'rootfs' },
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=2m'] },
        { destination: '/keep', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/new/dir', type: 'tmpfs', source: 'tmpfs', options: ['mode=700', 'size=1m', 'nr_inodes=100', 'ro'] },
      ],
    };
    const r = runScenario(b, { plan: plan(spec, b), script: MI + section('modes', 'stat -c "%n %a" /tmp /keep /new/dir') });
    ok(t, r);
    const m = mi(r);
    t.ok(mountAt(m, '/tmp')!.superOptions.includes('size=2048k'));
    t.match(r.sections.modes, /^\/tmp 1777$/m, 'existing /tmp (1777) keeps its mode');
    t.match(r.sections.modes, /^\/keep 750$/m);
    t.match(r.sections.modes, /^\/new\/dir 700$/m, 'mode= given');
    const nd = mountAt(m, '/new/dir')!;
    t.ok(nd.superOptions.includes('nr_inodes=100') && nd.superOptions.includes('size=1024k'));
    t.ok(nd.options.includes('ro') && nd.superOptions.includes('ro'), 'read-only mount and superblock');
  });

  t.test('tmpcopyup: the directory\'s content is copied into the tmpfs, symlinks are never followed', async (t) => {
    const b = bundle(t);
    const secret = path.join(b.dir, 'host-secret');
    fs.writeFileSync(secret, 'HOST SECRET\n');
    const src = path.join(b.rootfs, 'cu');
    fs.mkdirSync(path.join(src, 'sub/deep'), { recursive: true });
    fs.chmodSync(src, 0o751);
    fs.chownSync(src, 1234, 1235);
    fs.chmodSync(path.join(src, 'sub'), 0o777); // runc #3991: modes survive the umask
    fs.chownSync(path.join(src, 'sub'), 1000, 1001);
    fs.writeFileSync(path.join(src, 'plain'), 'plain content\n');
    fs.chmodSync(path.join(src, 'plain'), 0o640);
    fs.chownSync(path.join(src, 'plain'), 1000, 1001);
    fs.writeFileSync(path.join(src, 'suid'), '#!/bin/sh\n');
    fs.chownSync(path.join(src, 'suid'), 1000, 1001);
    fs.chmodSync(path.join(src, 'suid'), 0o4755);
    fs.writeFileSync(path.join(src, 'sub/deep/f'), 'deep\n');
    fs.writeFileSync(path.join(src, 'big'), Buffer.alloc(3 * 1024 * 1024 + 17, 'x'));
    fs.utimesSync(path.join(src, 'plain'), 1_000_000_000, 1_000_000_000);
    fs.utimesSync(path.join(src, 'sub'), 1_100_000_000, 1_100_000_000);
    fs.symlinkSync('plain', path.join(src, 'rel-link'));
    fs.symlinkSync(`/../../../../../../..${secret}`, path.join(src, 'abs-escape'));
    fs.symlinkSync(`../../../../../../../..${path.dirname(secret)}`, path.join(src, 'dir-escape'));
    fs.symlinkSync('/nonexistent', path.join(src, 'dangling'));
    fs.lchownSync(path.join(src, 'rel-link'), 1000, 1001);
    spawnSync('mkfifo', ['-m', '0620', path.join(src, 'fifo')]);
    spawnSync('mknod', ['-m', '0600', path.join(src, 'nulldev'), 'c', '1', '3']);
    // a mount below the directory: not entered (its content is not the rootfs\'s)
    fs.mkdirSync(path.join(src, 'mnt'));
    fs.writeFileSync(path.join(src, 'mnt/under'), 'under the earlier mount\n');
    // the top directory reached through a symlink in the rootfs
    fs.symlinkSync('cu', path.join(b.rootfs, 'cu-link'));
    const spec: Spec = {
      ociVersion: '1.3.0', root: { path: 'rootfs' },
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/cu/mnt', type: 'tmpfs', source: 'tmpfs', options: ['size=16k'] },
        { destination: '/cu-link', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'nosuid', 'nodev', 'size=8m', 'tmpcopyup'] },
        { destination: '/ro-copy', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'tmpcopyup'] },
        { destination: '/empty-new', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] },
      ],
    };
    fs.mkdirSync(path.join(b.rootfs, 'ro-copy'));
    fs.writeFileSync(path.join(b.rootfs, 'ro-copy/file'), 'in ro copy\n');
    const r = runScenario(b, {
      plan: plan(spec, b),
      script: MI
        + section('stat', 'cd /cu && stat -c "%n %F %a %u:%g" . sub sub/deep plain suid fifo nulldev rel-link; stat -c "%t:%T" nulldev')
        + section('times', 'stat -c "%n %Y" /cu/plain /cu/sub')
        + section('content', 'cat /cu/plain /cu/sub/deep/f /cu/rel-link; wc -c < /cu/big')
        + section('links', 'for l in rel-link abs-escape dir-escape dangling; do echo "$l $(readlink /cu/$l)"; done')
        + section('escape', 'cat /cu/abs-escape 2>&1; ls /cu/dir-escape/ 2>&1 | grep -c host-secret')
        + section('mnt', 'cat /cu/mnt/under 2>/dev/null || echo not-copied')
        + section('write', 'echo changed > /cu/plain && cat /cu/plain; touch /ro-copy/x 2>&1; cat /ro-copy/file; ls -A /empty-new | wc -l'),
    });
    ok(t, r);
    const m = mi(r);
    const cu = mountAt(m, '/cu')!;
    t.equal(cu.fstype, 'tmpfs', 'a tmpfs at /cu (the symlink /cu-link resolved inside the rootfs)');
    t.ok(cu.options.includes('nosuid') && cu.options.includes('nodev') && cu.options.includes('rw'));
    t.ok(cu.superOptions.includes('size=8192k'));
    t.equal(m.filter((e) => e.mountpoint === '/cu').length, 1, 'one mount at /cu, attached once');
    const st = r.sections.stat!;
    t.match(st, /^\. directory 751 1234:1235$/m, 'the tmpfs root gets the directory\'s mode and owner');
    t.match(st, /^sub directory 777 1000:1001$/m, 'subdirectory mode and owner');
    t.match(st, /^sub\/deep directory 755 0:0$/m);
    t.match(st, /^plain regular file 640 1000:1001$/m);
    t.match(st, /^suid regular file 4755 1000:1001$/m, 'setuid bit survives the chown');
    t.match(st, /^fifo fifo 620 0:0$/m);
    t.match(st, /^nulldev character special file 600 0:0$/m);
    t.match(st, /^rel-link symbolic link 777 1000:1001$/m, 'symlink owner');
    t.match(st, /^1:3$/m, 'device numbers');
    t.match(r.sections.times, /^\/cu\/plain 1000000000$/m, 'file mtime');
    t.match(r.sections.times, /^\/cu\/sub 1100000000$/m, 'directory mtime (set after its content)');
    t.equal(r.sections.content, 'plain content\ndeep\nplain content\n3145745\n');
    t.match(r.sections.links, new RegExp(`^abs-escape /\\.\\./\\.\\./\\.\\./\\.\\./\\.\\./\\.\\./\\.\\.${secret.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'),
      'an absolute symlink is copied as a symlink');
    t.match(r.sections.links, /^rel-link plain$/m);
    t.match(r.sections.links, /^dangling \/nonexistent$/m);
    t.notMatch(r.sections.escape, /HOST SECRET/, 'nothing of the host file was copied');
    t.match(r.sections.escape, /^0$/m, 'the host directory was not copied');
    t.equal(r.sections.mnt!.trim(), 'not-copied', 'a mount point below the directory is not copied');
    t.match(r.sections.write, /^changed$/m, 'the copy is writable');
    t.match(r.sections.write, /Read-only file system/, 'ro + tmpcopyup: read-only after the copy');
    t.match(r.sections.write, /^in ro copy$/m, 'ro + tmpcopyup: content copied');
    t.match(r.sections.write, /^0$/m, 'tmpcopyup on a new directory: an empty tmpfs');
    const ro = mountAt(m, '/ro-copy')!;
    t.ok(ro.options.includes('ro') && ro.superOptions.includes('ro'), 'read-only mount and superblock');
    t.equal(fs.readFileSync(path.join(src, 'plain'), 'utf8'), 'plain content\n', 'the rootfs file is unchanged');
    t.equal(fs.readFileSync(secret, 'utf8'), 'HOST SECRET\n');
  });

  t.test('tmpcopyup on a path whose parent is a symlink out of the rootfs stays inside', async (t) => {
    const b = bundle(t);
    const outside = path.join(b.dir, 'outside');
    fs.mkdirSync(path.join(outside, 'data'), { recursive: true });
    fs.writeFileSync(path.join(outside, 'data/host-file'), 'HOST\n');
    fs.symlinkSync(`/../../../../../../..${outside}`, path.join(b.rootfs, 'esc'));
    const spec: Spec = {
      ociVersion: '1.3.0', root: { path: 'rootfs' },
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/esc/data', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] },
      ],
    };
    const r = runScenario(b, { plan: plan(spec, b), script: MI + section('ls', `ls -A /esc/data | wc -l; ls -d ${outside}/data 2>/dev/null | wc -l`) });
    ok(t, r);
    t.equal(r.sections.ls, '0\n1\n', 'the tmpfs is at <rootfs>' + outside + '/data, empty: the host directory was not copied');
    t.same(fs.readdirSync(path.join(outside, 'data')), ['host-file'], 'the host directory is untouched');
    t.ok(fs.existsSync(path.join(b.rootfs, outside, 'data')), 'the destination was created inside the rootfs');
  });

  t.test('remount changes the flags of the mount at the destination', async (t) => {
    const b = bundle(t);
    fs.mkdirSync(path.join(b.dir, 'vol'));
    fs.mkdirSync(path.join(b.dir, 'vol2'));
    const spec: Spec = {
      ociVersion: '1.3.0', root: { path: 'rootfs' },
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/r', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'nodev', 'noatime'] },
        { destination: '/r', type: 'tmpfs', source: 'tmpfs', options: ['remount', 'ro', 'nosuid', 'size=2m'] },
        { destination: '/v', source: 'vol', options: ['bind'] },
        { destination: '/v', options: ['bind', 'remount', 'ro', 'noexec'] },
        // a remount entry claiming tmpfs over a bind of a host filesystem: only the mount's flags change
        { destination: '/w', source: 'vol2', options: ['rbind'] },
        { destination: '/w', type: 'tmpfs', options: ['remount', 'ro'] },
        { destination: '/', options: ['remount', 'nodev'] },
      ],
    };
    const r = runScenario(b, { plan: plan(spec, b), script: MI + section('w', 'touch /r/x 2>&1; touch /v/x 2>&1; touch /w/x 2>&1; true') });
    ok(t, r);
    const m = mi(r);
    for (const mp of ['/r', '/v', '/w']) t.equal(m.filter((e) => e.mountpoint === mp).length, 1, `one mount at ${mp}`);
    const rr = mountAt(m, '/r')!;
    t.same(['ro', 'nosuid'].filter((o) => rr.options.includes(o)), ['ro', 'nosuid'], '/r: ro, nosuid');
    t.notOk(rr.options.includes('nodev'), '/r: nodev was not asked for again, so it is cleared (mount(2) semantics)');
    t.ok(rr.options.includes('noatime'), '/r: the atime mode is kept');
    t.ok(rr.superOptions.includes('ro') && rr.superOptions.includes('size=2048k'), `/r: superblock reconfigured (${rr.superOptions.join(',')})`);
    const v = mountAt(m, '/v')!;
    t.ok(v.options.includes('ro') && v.options.includes('noexec'), '/v: the bind is now ro,noexec');
    t.equal(v.root, path.join(b.dir, 'vol'));
    const w = mountAt(m, '/w')!;
    t.ok(w.options.includes('ro'), '/w: read-only mount');
    t.ok(w.superOptions.includes('rw'), '/w: the host filesystem\'s superblock is left alone');
    t.equal((r.sections.w!.match(/Read-only file system/g) ?? []).length, 3, `writes fail: ${r.sections.w}`);
    t.ok(mountAt(m, '/')!.options.includes('nodev'), 'a remount of /: the container\'s root is now nodev');

    const missing = runScenario(b, {
      plan: plan({ ociVersion: '1.3.0', root: { path: 'rootfs' }, mounts: [{ destination: '/etc', type: 'tmpfs', options: ['remount', 'ro'] }] }, b),
      script: 'true',
    });
    t.match(missing.error, /^mount tmpfs to \/etc: remount \/etc: nothing is mounted there/);
    const noent = runScenario(b, {
      plan: plan({ ociVersion: '1.3.0', root: { path: 'rootfs' }, mounts: [{ destination: '/nope', type: 'tmpfs', options: ['remount'] }] }, b),
      script: 'true',
    });
    t.match(noent.error, /remount \/nope: no such file or directory/);
    t.notOk(fs.existsSync(path.join(b.rootfs, 'nope')), 'a remount creates nothing');
  });

  t.test('cgroup mounts', async (t) => {
    const b = bundle(t);
    const dirs: Record<string, string> = {};
    for (const n of ['cpu,cpuacct', 'memory', 'unified']) {
      dirs[n] = path.join(b.dir, 'cg', n);
      fs.mkdirSync(dirs[n]!, { recursive: true });
      fs.writeFileSync(path.join(dirs[n]!, 'marker'), `${n}\n`);
    }
    const cgMount: Mount = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] };
    const base = (): Spec => ({
      ociVersion: '1.3.0', root: { path: 'rootfs' },
      mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro'] }, cgMount],
    });

    // v1 / hybrid: tmpfs + one bind per hierarchy, symlinks for co-mounted controllers, all read-only
    let r = runScenario(b, {
      plan: plan(base(), b, { cgroupMode: 'hybrid', cgroupPaths: { 'cpu,cpuacct': dirs['cpu,cpuacct']!, memory: dirs.memory!, '': dirs.unified! } }),
      script: MI + section('ls', 'ls /sys/fs/cgroup; readlink /sys/fs/cgroup/cpu; cat /sys/fs/cgroup/memory/marker /sys/fs/cgroup/unified/marker /sys/fs/cgroup/cpu/marker')
        + section('w', 'touch /sys/fs/cgroup/memory/x || echo RO; mkdir /sys/fs/cgroup/new || echo TMPFS-RO'),
    });
    ok(t, r);
    let m = mi(r);
    const tm = mountAt(m, '/sys/fs/cgroup')!;
    t.equal(tm.fstype, 'tmpfs');
    t.ok(tm.options.includes('ro') && tm.options.includes('nosuid') && tm.options.includes('noexec'));
    t.equal(mountAt(m, '/sys/fs/cgroup/memory')!.root, dirs.memory);
    t.ok(mountAt(m, '/sys/fs/cgroup/memory')!.options.includes('ro'));
    t.equal(mountAt(m, '/sys/fs/cgroup/unified')!.root, dirs.unified);
    t.equal(r.sections.ls, 'cpu\ncpu,cpuacct\ncpuacct\nmemory\nunified\ncpu,cpuacct\nmemory\nunified\ncpu,cpuacct\n');
    t.match(r.sections.w, /RO\n.*TMPFS-RO/s);

    // v2 without cgroupns: a read-only bind of the container's own cgroup directory
    r = runScenario(b, {
      plan: plan(base(), b, { cgroupMode: 'v2', cgroupPaths: { '': dirs.unified! } }),
      script: MI + section('ls', 'cat /sys/fs/cgroup/marker'),
    });
    ok(t, r);
    m = mi(r);
    t.equal(mountAt(m, '/sys/fs/cgroup')!.root, dirs.unified);
    t.ok(mountAt(m, '/sys/fs/cgroup')!.options.includes('ro'));
    t.equal(r.sections.ls, 'unified\n');

    // v2 with cgroupns: a fresh cgroup2 mount
    r = runScenario(b, {
      plan: plan(base(), b, { cgroupMode: 'v2', cgroupns: true }),
      script: MI + section('ls', 'ls /sys/fs/cgroup | grep -c cgroup.procs'),
    }, ['--cgroup']);
    ok(t, r);
    const cg2 = mountAt(mi(r), '/sys/fs/cgroup')!;
    t.equal(cg2.fstype, 'cgroup2');
    t.ok(cg2.options.includes('ro') && cg2.options.includes('nosuid'));
    t.equal(r.sections.ls!.trim(), '1');
  });

  t.test('idmapped bind mount (mount_setattr MOUNT_ATTR_IDMAP)', async (t) => {
    const b = bundle(t);
    fs.mkdirSync(path.join(b.dir, 'owned'));
    fs.writeFileSync(path.join(b.dir, 'owned/f'), 'x');
    fs.chownSync(path.join(b.dir, 'owned/f'), 0, 0);
    // A process whose user namespace maps 0 (inside) <-> 1000 (outside), i.e. uid_map "0 1000 1".
    // (newuidmap is not needed: as root we write the maps of the helper's namespace ourselves.)
    const helper = spawn('unshare', ['--user', 'sleep', '60'], { stdio: 'ignore' });
    t.teardown(() => { helper.kill('SIGKILL'); });
    const ours = fs.readlinkSync('/proc/self/ns/user');
    let ready = false;
    for (let i = 0; i < 200 && !ready; i++) {
      try { ready = fs.readlinkSync(`/proc/${helper.pid}/ns/user`) !== ours; } catch { /* starting */ }
      if (!ready) await new Promise((res) => setTimeout(res, 10));
    }
    t.ok(ready, 'helper user namespace');
    fs.writeFileSync(`/proc/${helper.pid}/uid_map`, '0 1000 1\n');
    fs.writeFileSync(`/proc/${helper.pid}/gid_map`, '0 1000 1\n');
    const maps = { uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] };
    const spec: Spec = {
      ociVersion: '1.3.0', root: { path: 'rootfs' },
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/mapped', source: 'owned', options: ['bind', 'idmap'], ...maps },
        { destination: '/plain', source: 'owned', options: ['bind'] },
      ],
    };
    const r = runScenario(b, { plan: plan(spec, b), idmapPid: helper.pid, script: MI + section('own', 'stat -c "%n %u:%g" /mapped/f /plain/f') });
    ok(t, r);
    t.match(r.stdout, /IDMAP_REQUEST: \{"uid":\[\{"containerID":0,"hostID":1000,"size":1\}\],"gid":/, 'mappings handed to the callback');
    t.ok(mountAt(mi(r), '/mapped')!.options.includes('idmapped'), 'mountinfo shows idmapped');
    t.match(r.sections.own, /^\/mapped\/f 1000:1000$/m);
    t.match(r.sections.own, /^\/plain\/f 0:0$/m);

    // Without a user namespace provider the plan cannot be honoured: a clear error.
    const r2 = runScenario(b, { plan: plan(spec, b), script: 'true' });
    t.match(r2.error, /^mount .*owned to \/mapped: idmapped mount: .*PrepareEnv.idmapUserns/);
  });
}

const skip = canRun();
if (skip) t.plan(0, `real rootfs tests: ${skip}`);
else tests();
