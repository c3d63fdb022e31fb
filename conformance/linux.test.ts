/**
 * config-linux.md: namespaces, devices, device cgroup, cgroups path and
 * resources, sysctl, seccomp (incl. the notify listener), masked and
 * read-only paths, rootfs propagation; runtime-linux.md: /dev symlinks.
 * What the container sees comes from the checker running as its process.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as libc from '../src/linux/libc.js';
import { POLL, SOCK } from '../src/linux/abi.js';
import { check, onTeardown, withRuntime } from './lib/check.js';
import {
  compareDefaultDevices, compareDevices, compareDevSymlinks, compareMaskedPaths, compareNamespaces, compareReadonlyPaths, hostContext,
} from './lib/compare.js';
import { runChecker } from './lib/harness.js';
import { findCgroups, makeBundle, removeCgroups, tmpdir, uniqueId, waitFor } from './lib/runtime.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

withRuntime((rt) => {
  const dir = tmpdir('conf-linux-');
  onTeardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ctx = hostContext();

  check('namespaces: a new one for each listed type without path, the runtime\'s for the others', [
    'config-linux.md#namespaces/5', 'config-linux.md#namespaces/6',
  ], async (t) => {
    const r = runChecker(rt, { mutate: (c) => {
      c.linux.namespaces = [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'cgroup' }];
    } });
    t.equal(r.create.code, 0, r.create.stderr);
    compareNamespaces(t, r.report, r.bundle.config, ctx.hostNs);
    t.equal(r.report.namespaces.net, ctx.hostNs.net, 'network not listed: the host\'s');
    t.equal(r.report.namespaces.ipc, ctx.hostNs.ipc, 'ipc not listed: the host\'s');
    t.equal(r.report.pid, 1, 'the process is pid 1 of its new pid namespace');
    t.equal(r.report.first('hostname'), 'conformance', 'hostname set in the new uts namespace');
    const r2 = runChecker(rt, { mutate: (c) => {
      c.linux.namespaces = [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }, { type: 'network' }, { type: 'time' }];
      c.domainname = 'conformance.example';
    } });
    t.equal(r2.create.code, 0, r2.create.stderr);
    compareNamespaces(t, r2.report, r2.bundle.config, ctx.hostNs);
    t.equal(r2.report.first('domainname'), 'conformance.example', 'domainname set');
    t.equal(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), ctx.host.hostname, 'the host\'s hostname is unchanged');
  });

  check('namespaces: a user namespace with uid/gid mappings', ['config-linux.md#namespaces/5'], async (t) => {
    const r = runChecker(rt, {
      probes: ['run:cat /proc/self/uid_map /proc/self/gid_map'],
      mutate: (c) => {
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
        c.root.readonly = false;
      },
    });
    t.equal(r.create.code, 0, r.create.stderr);
    t.equal(r.start?.code, 0, r.start?.stderr ?? '');
    compareNamespaces(t, r.report, r.bundle.config, ctx.hostNs);
    t.match(r.report.run('cat /proc/self/uid_map /proc/self/gid_map').out, /^\s*0\s+200000\s+65536\n\s*0\s+200000\s+65536$/, 'the mappings are the configured ones');
  });

  check('namespaces: joined by path', ['config-linux.md#namespaces/3', 'config-linux.md#namespaces/2'], async (t) => {
    const holder = spawn('unshare', ['--net', '--uts', '--ipc', 'sleep', '120'], { stdio: 'ignore' });
    t.teardown(() => { holder.kill('SIGKILL'); });
    t.ok(waitFor(() => { try { return fs.readlinkSync(`/proc/${holder.pid}/ns/net`) !== ctx.hostNs.net; } catch { return false; } }), 'a process holding new namespaces');
    const r = runChecker(rt, { mutate: (c) => {
      c.linux.namespaces = [{ type: 'pid' }, { type: 'mount' },
        { type: 'network', path: `/proc/${holder.pid}/ns/net` }, { type: 'uts', path: `/proc/${holder.pid}/ns/uts` }, { type: 'ipc', path: `/proc/${holder.pid}/ns/ipc` }];
      c.hostname = 'joined-uts';
    } });
    t.equal(r.create.code, 0, r.create.stderr);
    compareNamespaces(t, r.report, r.bundle.config, ctx.hostNs);
    const holderUts = spawnSync('nsenter', ['--target', String(holder.pid), '--uts', 'hostname'], { encoding: 'utf8' }).stdout.trim();
    t.equal(holderUts, 'joined-uts', 'the hostname was set in the joined uts namespace');

    // a second container joins the first one's pid namespace
    const a = uniqueId('nsA');
    t.equal(rt.run(['create', '--bundle', makeBundle({ args: ['sleep', '60'] }).dir, a]).code, 0);
    const apid = Number(rt.state(a).pid);
    const r2 = runChecker(rt, { mutate: (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: Json) => n.type !== 'pid');
      c.linux.namespaces.push({ type: 'pid', path: `/proc/${apid}/ns/pid` });
    } });
    t.equal(r2.create.code, 0, r2.create.stderr);
    t.equal(r2.report.namespaces.pid, fs.readlinkSync(`/proc/${apid}/ns/pid`), 'joined the other container\'s pid namespace');
    t.not(r2.report.pid, 1, 'and is not its pid 1');
    rt.run(['delete', '--force', a]);
  });

  check('namespaces: a path that is not a namespace of that type is an error', ['config-linux.md#namespaces/4'], async (t) => {
    const holder = spawn('unshare', ['--ipc', 'sleep', '60'], { stdio: 'ignore' });
    t.teardown(() => { holder.kill('SIGKILL'); });
    waitFor(() => fs.existsSync(`/proc/${holder.pid}/ns/ipc`));
    for (const p of [`/proc/${holder.pid}/ns/ipc`, '/etc/hostname']) {
      const id = uniqueId('nswrong');
      const b = makeBundle({ mutate: (c) => {
        c.linux.namespaces = c.linux.namespaces.filter((n: Json) => n.type !== 'network');
        c.linux.namespaces.push({ type: 'network', path: p });
      } });
      const r = rt.run(['create', '--bundle', b.dir, id]);
      t.not(r.code, 0, `network namespace path ${p}: create fails`);
      t.not(rt.run(['state', id]).code, 0, 'nothing was created');
      t.same(findCgroups(id), [], 'no cgroup');
    }
  });

  check('devices: linux.devices exist with their type, numbers, mode and owner, and can be used', [
    'config-linux.md#devices/1', 'config-linux.md#devices/2', 'config-linux.md#devices/3', 'config-linux.md#devices/5',
  ], async (t) => {
    const r = runChecker(rt, {
      probes: ['path:/dev/deep/er/mynull', 'run:head -c 3 /dev/myzero | wc -c', 'run:echo hi > /dev/mynull && echo wrote'],
      mutate: (c) => {
        c.linux.devices = [
          { path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o620, uid: 0, gid: 1001 },
          { path: '/dev/theirnull', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 1000, gid: 1001 },
          { path: '/dev/myzero', type: 'u', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
          { path: '/dev/myloop', type: 'b', major: 7, minor: 200, fileMode: 0o600 },
          { path: '/dev/myfifo', type: 'p', fileMode: 0o640, uid: 5, gid: 6 },
          { path: '/dev/deep/er/mynull', type: 'c', major: 1, minor: 3 },
        ];
      },
    });
    t.equal(r.create.code, 0, r.create.stderr);
    compareDevices(t, r.report, r.bundle.config);
    t.equal(r.report.run('head -c 3 /dev/myzero | wc -c').out, '3', 'the device can be read (the device cgroup allows it)');
    t.equal(r.report.run('echo hi > /dev/mynull && echo wrote').out, 'wrote', 'the device can be written');
  });

  check('devices: an existing file that does not match the device is an error; a matching one is fine', ['config-linux.md#devices/4'], async (t) => {
    const setup = (rootfs: string) => {
      fs.mkdirSync(path.join(rootfs, 'mydevs'));
      fs.writeFileSync(path.join(rootfs, 'mydevs/file'), 'not a device\n');
      spawnSync('mknod', [path.join(rootfs, 'mydevs/null'), 'c', '1', '3']);
    };
    const bad = makeBundle({ privateRootfs: setup, mutate: (c) => { c.linux.devices = [{ path: '/mydevs/file', type: 'c', major: 1, minor: 3 }]; } });
    const id = uniqueId('devbad');
    const r = rt.run(['create', '--bundle', bad.dir, id]);
    t.not(r.code, 0, 'a regular file where a char device is wanted: create fails');
    t.equal(fs.readFileSync(path.join(bad.rootfs, 'mydevs/file'), 'utf8'), 'not a device\n', 'the file is untouched');
    t.not(rt.run(['state', id]).code, 0, 'nothing was created');
    const wrong = makeBundle({ privateRootfs: setup, mutate: (c) => { c.linux.devices = [{ path: '/mydevs/null', type: 'c', major: 1, minor: 5 }]; } });
    t.not(rt.run(['create', '--bundle', wrong.dir, uniqueId('devbad')]).code, 0, 'a char device with other numbers: create fails');
    const ok = makeBundle({ privateRootfs: setup, args: ['true'], mutate: (c) => { c.linux.devices = [{ path: '/mydevs/null', type: 'c', major: 1, minor: 3 }]; } });
    const r2 = rt.lifecycle(ok.dir, uniqueId('devok'));
    t.equal(r2.create.code, 0, `a matching device node is accepted: ${r2.create.stderr}`);
  });

  check('default devices and /dev symlinks', ['config-linux.md#default-devices/1', 'runtime-linux.md#dev-symbolic-links/1'], async (t) => {
    const r = runChecker(rt, { probes: ['run:head -c 1 /dev/zero | wc -c; head -c 1 /dev/urandom | wc -c; head -c 1 /dev/random | wc -c; echo x > /dev/null && echo null-ok; echo x > /dev/full'] });
    t.equal(r.create.code, 0, r.create.stderr);
    compareDefaultDevices(t, r.report);
    compareDevSymlinks(t, r.report);
    const run = r.report.run('head -c 1 /dev/zero | wc -c; head -c 1 /dev/urandom | wc -c; head -c 1 /dev/random | wc -c; echo x > /dev/null && echo null-ok; echo x > /dev/full');
    t.match(run.out, /^1\n1\n1\nnull-ok\n.*No space left on device/, 'the default devices work (device cgroup allows them)');
  });

  check('device cgroup: rules are applied in the listed order', ['config-linux.md#allowed-device-list/1'], async (t) => {
    const setup = (rootfs: string) => {
      fs.mkdirSync(path.join(rootfs, 'devs'));
      spawnSync('mknod', [path.join(rootfs, 'devs/loop200'), 'b', '7', '200']);
    };
    const probe = 'run:head -c 1 /devs/loop200 > /dev/null 2>/dev/shm/err; cat /dev/shm/err';
    const cases: [string, Json[], boolean][] = [
      ['deny all', [{ allow: false, access: 'rwm' }], false],
      ['deny all, then allow b 7:200 r', [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 7, minor: 200, access: 'r' }], true],
      ['allow b 7:200 r, then deny b 7:200', [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 7, minor: 200, access: 'r' }, { allow: false, type: 'b', major: 7, minor: 200, access: 'rwm' }], false],
    ];
    for (const [what, devices, allowed] of cases) {
      const r = runChecker(rt, { privateRootfs: setup, probes: [probe], mutate: (c) => { c.linux.resources = { devices }; } });
      t.equal(r.create.code, 0, `${what}: ${r.create.stderr}`);
      const out = r.report.run(probe.slice(4)).out;
      if (allowed) t.notMatch(out, /Operation not permitted/, `${what}: open is not refused by the cgroup (${out || 'ok'})`);
      else t.match(out, /Operation not permitted/, `${what}: open is refused`);
    }
  });

  check('cgroupsPath: absolute paths are relative to the cgroup mount point, and stable', [
    'config-linux.md#cgroups-path/1', 'config-linux.md#cgroups-path/2', 'config-linux.md#cgroups-path/3',
  ], async (t) => {
    const p = `/conf-cg-${process.pid}/stable`;
    t.teardown(() => { removeCgroups(`conf-cg-${process.pid}`); removeCgroups(`conf-rel-${process.pid}`); });
    const seen: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = runChecker(rt, { mutate: (c) => { c.linux.cgroupsPath = p; } });
      t.equal(r.create.code, 0, r.create.stderr);
      for (const ctrl of ['memory', 'pids', 'cpu', 'devices']) t.equal(r.report.cgroups[ctrl], p, `run ${i + 1}: ${ctrl} cgroup is ${p}`);
      seen.push(r.report.cgroups.memory!);
    }
    t.equal(seen[0], seen[1], 'the same cgroupsPath gives the same cgroup');
    const rel = `conf-rel-${process.pid}`;
    const r = runChecker(rt, { mutate: (c) => { c.linux.cgroupsPath = rel; } });
    t.equal(r.create.code, 0, r.create.stderr);
    t.match(r.report.cgroups.memory, new RegExp(`/${rel}$`), `a relative path is placed somewhere the runtime chooses (${r.report.cgroups.memory})`);
  });

  check('cgroup resources are applied: memory, pids, cpu', ['runtime.md#create/4'], async (t) => {
    const files = ['memory/memory.limit_in_bytes', 'memory/memory.soft_limit_in_bytes', 'pids/pids.max', 'cpu/cpu.shares', 'cpu/cpu.cfs_quota_us', 'cpu/cpu.cfs_period_us'];
    const probe = `run:for f in ${files.join(' ')}; do echo "$f=$(cat /sys/fs/cgroup/$f)"; done`;
    const r = runChecker(rt, { probes: [probe], mutate: (c) => {
      c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] });
      c.linux.resources = {
        memory: { limit: 64 << 20, reservation: 32 << 20 },
        pids: { limit: 77 },
        cpu: { shares: 512, quota: 25000, period: 100000 },
      };
    } });
    t.equal(r.create.code, 0, r.create.stderr);
    const out = r.report.run(probe.slice(4)).out;
    t.match(out, `memory/memory.limit_in_bytes=${64 << 20}`, 'memory.limit');
    t.match(out, `memory/memory.soft_limit_in_bytes=${32 << 20}`, 'memory.reservation');
    t.match(out, 'pids/pids.max=77', 'pids.limit');
    t.match(out, 'cpu/cpu.shares=512', 'cpu.shares');
    t.match(out, 'cpu/cpu.cfs_quota_us=25000', 'cpu.quota');
    t.match(out, 'cpu/cpu.cfs_period_us=100000', 'cpu.period');
  });

  check('sysctl values are applied in the container\'s namespaces', ['runtime.md#create/4', 'runtime.md#create/6'], async (t) => {
    const before = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    const r = runChecker(rt, {
      probes: ['sysctl:net.ipv4.ip_forward', 'sysctl:net.ipv4.ping_group_range', 'sysctl:kernel.msgmax'],
      mutate: (c) => { c.linux.sysctl = { 'net.ipv4.ip_forward': before === '1' ? '0' : '1', 'net.ipv4.ping_group_range': '0 0', 'kernel.msgmax': '12345' }; },
    });
    t.equal(r.create.code, 0, r.create.stderr);
    t.equal(r.report.first('sysctl:net.ipv4.ip_forward'), before === '1' ? '0' : '1', 'net.ipv4.ip_forward');
    t.match(r.report.first('sysctl:net.ipv4.ping_group_range'), /^0\s+0$/, 'net.ipv4.ping_group_range');
    t.equal(r.report.first('sysctl:kernel.msgmax'), '12345', 'kernel.msgmax (ipc namespace)');
    t.equal(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), before, 'the host value is unchanged');
  });

  check('masked paths read as empty; read-only paths are read-only', ['runtime.md#create/4'], async (t) => {
    const r = runChecker(rt, {
      privateRootfs: (rootfs) => {
        fs.mkdirSync(path.join(rootfs, 'secret-dir'));
        fs.writeFileSync(path.join(rootfs, 'secret-dir/key'), 'secret\n');
        fs.writeFileSync(path.join(rootfs, 'secret-file'), 'secret\n');
        fs.mkdirSync(path.join(rootfs, 'ro-dir'));
      },
      probes: ['path:/secret-dir', 'path:/secret-file', 'path:/proc/kcore', 'path:/proc/keys', 'path:/sys/firmware', 'write:/ro-dir/x', 'write:/proc/sys/kernel/hostname', 'write:/rw-probe'],
      mutate: (c) => {
        c.root.readonly = false;
        c.linux.maskedPaths = [...c.linux.maskedPaths, '/secret-dir', '/secret-file', '/does-not-exist'];
        c.linux.readonlyPaths = [...c.linux.readonlyPaths, '/ro-dir', '/also-missing'];
      },
    });
    t.equal(r.create.code, 0, r.create.stderr);
    compareMaskedPaths(t, r.report, r.bundle.config);
    compareReadonlyPaths(t, r.report, r.bundle.config);
    t.match(r.report.data('write:/ro-dir/x').join(' '), /Read-only file system/, 'writing in a read-only path fails with EROFS');
    t.notOk(r.report.ok('write:/proc/sys/kernel/hostname'), '/proc/sys is read-only');
    t.ok(r.report.ok('write:/rw-probe'), 'the rest of the (read-write) root is writable');
  });

  check('a new cgroup namespace is rooted at the container\'s cgroup', ['config-linux.md#namespaces/5'], async (t) => {
    const r = runChecker(rt, { mutate: (c) => { c.linux.namespaces.push({ type: 'cgroup' }); } });
    t.equal(r.create.code, 0, r.create.stderr);
    for (const ctrl of ['memory', 'pids', 'cpu', 'devices', '']) {
      t.equal(r.report.cgroups[ctrl], '/', `/proc/self/cgroup of ${ctrl || 'the unified hierarchy'} is "/" (${r.report.cgroups[ctrl]})`);
    }
  });

  check('rootfsPropagation is applied to the container\'s root mount', ['runtime.md#create/4'], async (t) => {
    // the rootfs must live on a shared mount for slave/shared to show
    const shared = tmpdir('conf-shared-');
    t.teardown(() => { spawnSync('umount', ['-l', shared]); fs.rmSync(shared, { recursive: true, force: true }); });
    t.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', shared]).status, 0, 'a tmpfs for the rootfs');
    t.equal(spawnSync('mount', ['--make-shared', shared]).status, 0, 'made shared');
    const rootfs = path.join(shared, 'rootfs');
    fs.mkdirSync(rootfs);
    spawnSync('cp', ['-a', `${makeBundle({ privateRootfs: true }).rootfs}/.`, rootfs]);
    // slave: runc also shows a plain private root here (the root is made private for pivot_root first), so only "not shared" is required
    for (const [prop, want] of [[undefined, /master:\d+/], ['private', /^$/], ['slave', /^(master:\d+)?$/], ['shared', /shared:\d+/], ['unbindable', /unbindable/]] as const) {
      const r = runChecker(rt, { mutate: (c) => { c.root.path = rootfs; if (prop) c.linux.rootfsPropagation = prop; } });
      t.equal(r.create.code, 0, `${prop}: ${r.create.stderr}`);
      const root = r.report.mountAt('/');
      t.match(root?.optional.join(' ') ?? 'missing', want, `rootfsPropagation ${prop ?? 'unset (runc: rslave)'}: / has "${root?.optional.join(' ')}"`);
    }
  });

  check('seccomp: the filter is installed and its rules apply', ['runtime.md#create/4'], async (t) => {
    const r = runChecker(rt, {
      probes: ['run:mkdir /dev/shm/x', 'run:chmod 700 /dev/shm', 'run:touch /dev/shm/ok && echo touched'],
      mutate: (c) => {
        c.linux.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
          syscalls: [
            { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
            { names: ['chmod', 'fchmodat', 'fchmodat2'], action: 'SCMP_ACT_ERRNO' },
          ],
        };
      },
    });
    t.equal(r.create.code, 0, r.create.stderr);
    t.equal(r.report.status.Seccomp, '2', 'seccomp filter mode');
    t.match(r.report.run('mkdir /dev/shm/x').out, /Permission denied/, 'mkdir fails with errnoRet 13 (EACCES)');
    t.match(r.report.run('chmod 700 /dev/shm').out, /Operation not permitted/, 'chmod fails with the default errno EPERM');
    t.equal(r.report.run('touch /dev/shm/ok && echo touched').out, 'touched', 'other syscalls work');
  });

  check('seccomp: Docker\'s default profile', ['runtime.md#create/4'], async (t) => {
    const profile = JSON.parse(fs.readFileSync('/work/shared/seccomp/docker-default.oci-amd64.json', 'utf8')) as Json;
    const r = runChecker(rt, { probes: ['run:unshare -U true', 'run:echo alive'], mutate: (c) => { c.linux.seccomp = profile; } });
    t.equal(r.create.code, 0, r.create.stderr);
    t.ok(r.report.complete, 'the checker runs under the profile');
    t.equal(r.report.status.Seccomp, '2', 'seccomp filter mode');
    t.match(r.report.run('unshare -U true').out, /Operation not permitted/, 'unshare(CLONE_NEWUSER) is refused');
  });

  check('seccomp notify: the container process state and the listener fd go to listenerPath', [
    'config-linux.md#seccomp/3', 'config-linux.md#seccomp/4', 'config-linux.md#seccomp/5', 'config-linux.md#seccomp/7',
    'config-linux.md#the-container-process-state/1', 'config-linux.md#the-container-process-state/2', 'config-linux.md#the-container-process-state/3',
    'config-linux.md#the-container-process-state/4', 'config-linux.md#the-container-process-state/5',
  ], async (t) => {
    const sockPath = path.join(dir, `notify-${process.pid}.sock`);
    const listener = libc.socket(SOCK.STREAM);
    libc.bindUnix(listener, sockPath);
    libc.listen(listener, 1);
    t.teardown(() => libc.close(listener));
    const id = uniqueId('notify');
    const b = makeBundle({ args: ['sh', '-c', 'mkdir /dev/shm/blocked 2>&1; echo after'], mutate: (c) => {
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW', listenerPath: sockPath, listenerMetadata: 'conformance-metadata',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      };
    } });
    // the state may be sent during create or during start: drive both while polling the listener
    // The state may be sent during create or during start: run both while serving the listener.
    const received: { data: string; fd: number | null; closed: boolean }[] = [];
    let conn: number | null = null;
    let cur = { data: '', fd: null as number | null, closed: false };
    let phase: 'create' | 'created' | 'start' | 'done' = 'create';
    let child = rt.spawn(['create', '--bundle', b.dir, id], { stdio: ['ignore', 'ignore', 'ignore'] });
    let exited = false;
    child.on('exit', () => { exited = true; });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && phase !== 'done') {
      const [lev] = libc.poll([{ fd: listener, events: POLL.IN }], 0);
      if (lev) {
        if (conn !== null) received.push(cur);
        conn = libc.accept(listener);
        cur = { data: '', fd: null, closed: false };
      }
      if (conn !== null) {
        const [cev] = libc.poll([{ fd: conn, events: POLL.IN }], 0);
        if (cev) {
          const m = libc.recvFd(conn, 65536);
          if (m.fd !== null) cur.fd = m.fd;
          if (m.data.length === 0) { cur.closed = true; libc.close(conn); conn = null; received.push(cur); }
          else cur.data += m.data.toString();
        }
      }
      if (exited) {
        if (phase === 'create') {
          phase = 'created';
          child = rt.spawn(['start', id], { stdio: ['ignore', 'ignore', 'ignore'] });
          exited = false;
          child.on('exit', () => { exited = true; });
          phase = 'start';
        } else if (phase === 'start' && received.length > 0) phase = 'done';
      }
      if (received.length > 0 && received[0]!.closed && phase === 'start' && exited) phase = 'done';
      await new Promise((res) => setTimeout(res, 10));
    }
    if (conn !== null) { received.push(cur); libc.close(conn); }
    t.equal(received.length, 1, 'exactly one connection with one state');
    const msg = received[0];
    if (!msg) return;
    t.ok(msg.fd !== null, 'a file descriptor arrived with SCM_RIGHTS');
    t.ok(msg.closed, 'the runtime closed the connection after sending the state');
    t.comment(`state payload: ${msg.data}`);
    let st: Json = {};
    try { st = JSON.parse(msg.data) as Json; } catch { t.fail(`the payload is JSON: ${msg.data}`); }
    t.match(st.ociVersion, /^\d+\.\d+\.\d+/, 'ociVersion');
    t.same(st.fds, ['seccompFd'], 'fds names the one fd: seccompFd');
    t.ok(Number(st.pid) > 0, 'pid as seen by the runtime');
    t.equal(st.metadata, 'conformance-metadata', 'listenerMetadata is passed');
    t.equal(st.state?.id, id, 'state.id');
    t.equal(st.state?.bundle, b.dir, 'state.bundle');
    // closing the listener fd makes the blocked syscall fail (ENOSYS) and the container go on
    if (msg.fd !== null) libc.close(msg.fd);
    if (rt.stateOrNull(id)?.status === 'created') rt.run(['start', id]);
    t.ok(rt.waitStopped(id), 'the container finishes once the listener fd is closed');
    rt.run(['delete', '--force', id]);
  });

  check('seccomp notify: an unreachable listenerPath is an error', ['config-linux.md#seccomp/6'], async (t) => {
    const id = uniqueId('notify-bad');
    const b = makeBundle({ args: ['true'], mutate: (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: path.join(dir, 'no-such.sock'), syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
    } });
    const r = rt.lifecycle(b.dir, id);
    t.ok(r.create.code !== 0 || r.start?.code !== 0, 'create or start fails');
    if (r.create.code === 0) t.notOk(rt.stateOrNull(id)?.status === 'running', 'the container does not run');
  });

  check('netDevices: a host interface is moved in, renamed, up, with its addresses (or refused as unsupported)', [
    'config-linux.md#network-devices/1', 'config-linux.md#network-devices/5', 'config-linux.md#network-devices/6',
  ], async (t) => {
    const host = `cfv${process.pid % 100000}`;
    const peer = `cfp${process.pid % 100000}`;
    const add = spawnSync('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer], { encoding: 'utf8' });
    if (add.status !== 0) { t.comment(`cannot create a veth pair here: ${add.stderr}`); t.pass('skipped: no veth'); return; }
    t.teardown(() => { spawnSync('ip', ['link', 'del', host]); spawnSync('ip', ['link', 'del', peer]); });
    spawnSync('ip', ['addr', 'add', '10.199.77.1/24', 'dev', host]);
    const probe = 'run:ip -o link show; ip -o addr show';
    const r = runChecker(rt, { probes: [probe], mutate: (c) => { c.linux.netDevices = { [host]: { name: 'ceth0' } }; } });
    if (r.create.code !== 0) {
      // not supported: refusing is what config.md#valid-values asks for; the interface must stay on the host
      t.match(r.create.stderr, /netDevices/, `refused with an error: ${r.create.stderr.trim()}`);
      t.equal(spawnSync('ip', ['link', 'show', host]).status, 0, 'the interface is still on the host');
      return;
    }
    const out = r.report.run('ip -o link show; ip -o addr show').out;
    t.match(out, /ceth0/, 'the interface is in the container under its new name');
    t.match(out, /ceth0.*state (UP|LOWERLAYERDOWN)|ceth0.*<[^>]*\bUP\b/, 'it is up');
    t.match(out, /ceth0\s+inet 10\.199\.77\.1\/24/, 'its address came along');
  });

  check('update with checkBeforeUpdate refuses a memory limit below the current usage', ['config-linux.md#memory/1'], async (t) => {
    const id = uniqueId('mupd');
    const b = makeBundle({ args: ['sh', '-c', 'head -c 30000000 /dev/zero > /dev/shm/fill; sleep 60'] });
    t.equal(rt.run(['run', '-d', '--bundle', b.dir, id]).code, 0);
    const cg = findCgroups(id).find((d) => d.includes('/memory/'));
    t.ok(cg && waitFor(() => Number(fs.readFileSync(`${cg}/memory.usage_in_bytes`, 'utf8')) > 25_000_000), 'the container uses ~30 MB');
    const before = fs.readFileSync(`${cg}/memory.limit_in_bytes`, 'utf8').trim();
    const file = path.join(dir, `${id}.json`);
    fs.writeFileSync(file, JSON.stringify({ memory: { limit: 8 << 20, checkBeforeUpdate: true } }));
    const r = rt.run(['update', '--resources', file, id]);
    t.not(r.code, 0, `update is rejected: ${r.stderr.trim()}`);
    t.equal(fs.readFileSync(`${cg}/memory.limit_in_bytes`, 'utf8').trim(), before, 'the limit is unchanged');
    t.equal(rt.state(id).status, 'running', 'the container still runs');
    rt.run(['delete', '--force', id]);
  });

  check('unified: keys are written to the unified hierarchy (or refused on a cgroup v1 host)', ['config-linux.md#unified/2'], async (t) => {
    const probe = 'run:cat /sys/fs/cgroup/unified/cgroup.max.descendants';
    const r = runChecker(rt, { probes: [probe], mutate: (c) => {
      c.linux.resources = { unified: { 'cgroup.max.descendants': '7' } };
      c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] });
    } });
    if (r.create.code !== 0) { t.match(r.create.stderr, /unified|v2|cgroup/i, `refused with an error: ${r.create.stderr.trim()}`); return; }
    t.equal(r.report.run(probe.slice(4)).out, '7', 'cgroup.max.descendants of the container\'s unified cgroup is 7');
  });

  check('time namespace offsets', ['runtime.md#create/4'], async (t) => {
    const r = runChecker(rt, { mutate: (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { monotonic: { secs: 86400, nanosecs: 0 }, boottime: { secs: 172800, nanosecs: 0 } };
    } });
    t.equal(r.create.code, 0, r.create.stderr);
    const offs = r.report.data('timens_offsets').join('\n');
    t.match(offs, /monotonic\s+86400\s+0/, 'monotonic offset');
    t.match(offs, /boottime\s+172800\s+0/, 'boottime offset');
  });

});
