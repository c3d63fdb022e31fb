/**
 * The container's mount namespace (issue 10, runtime-tools linux_uid_mappings,
 * linux_ns_nopath, linux_ns_path, linux_ns_itype):
 *  - a new one, with a user namespace, for a bundle under a 0700 directory the
 *    container's mapped root cannot traverse (the rootfs is reached through the
 *    init's working directory, entered by the runtime on the host);
 *  - one given by path (joined by the init's main thread; the rootfs resolved there);
 *  - none: the container shares the host's; its mounts go under the rootfs only,
 *    it is chrooted there, and delete (also after a SIGKILLed create) removes them.
 * Differential with runc where running runc is harmless here (runc without a
 * mount namespace makes the host's / rslave: never run it that way).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { hostMountsUnder, makeBusyboxRootfs, tmpdir } from '../helpers/rootfs.js';
import { baseConfig, cleanEnv, findProcesses, RUNTS, uniqueId, withRunts } from '../helpers/runts.js';
import { waitFor } from '../helpers/wait.js';
import { RUNC } from '../helpers/cli.js';

type Config = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function writeBundle(dir: string, rootfs: string, args: string[], mutate: (c: Config) => void): string {
  fs.mkdirSync(dir, { recursive: true });
  const cfg = baseConfig(rootfs, args);
  mutate(cfg);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  return dir;
}

function runcRun(root: string, bundle: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(RUNC!, ['--root', root, 'run', '--bundle', bundle, uniqueId('runc')], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function nsLinks(pid: number | 'self'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of fs.readdirSync(`/proc/${pid}/ns`)) out[n] = fs.readlinkSync(`/proc/${pid}/ns/${n}`);
  return out;
}

/** `unshare -m sleep`, private propagation: a mount namespace to join. Returns the sleeping process. */
function mountNamespaceHolder(t: Test): { pid: number; child: ChildProcess } {
  const marker = `${process.pid}.${Math.floor(Math.random() * 1e6)}`;
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--fork', 'sleep', marker], { stdio: 'ignore', detached: true });
  t.teardown(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } });
  let pid = 0;
  waitFor(() => {
    pid = findProcesses(marker).find((p) => fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sleep' && fs.readlinkSync(`/proc/${p}/ns/mnt`) !== fs.readlinkSync('/proc/self/ns/mnt')) ?? 0;
    return pid > 0;
  }, 10_000);
  return { pid, child };
}

/** The optional fields (shared:N, master:N) of the host's / mount. */
function rootPropagation(): string {
  const f = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')).filter((x) => x[4] === '/').pop() ?? [];
  return f.slice(6, f.indexOf('-')).join(' ');
}

withRunts((rt) => {
  t.setTimeout(240_000);

  t.test('user namespace: a bundle inside a 0700 directory the mapped root cannot traverse', async (t) => {
    const hidden = tmpdir('runts-0700-');
    fs.chmodSync(hidden, 0o700);
    const rootfs = makeBusyboxRootfs(path.join(hidden, 'bundle', 'rootfs'));
    const probe = 'id -u; cat /proc/self/uid_map; ls /bin/busybox';
    const bundle = writeBundle(path.join(hidden, 'bundle'), rootfs, ['sh', '-c', probe], (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    const r = rt.run(['run', '--bundle', bundle, uniqueId('hidden')]);
    t.equal(r.code, 0, `runts runs it (${r.stderr.trim()})`);
    t.match(r.stdout, /^0\n\s*0\s+100000\s+65536\n\/bin\/busybox$/m, 'as mapped root, in its rootfs');
    t.same(hostMountsUnder(hidden), [], 'no mount left');
    if (!RUNC) return;
    // Differential: the same container seen by runc. runc 1.1.5 itself cannot reach a rootfs
    // under a 0700 directory (its init mounts by path as the mapped root); compare on the
    // same bundle made reachable, and report what runc does with the hidden one.
    const runcRoot = tmpdir('runts-runc-root-');
    const hiddenRunc = runcRun(runcRoot, bundle);
    if (hiddenRunc.code !== 0) t.comment(`runc on the 0700 bundle: exit ${hiddenRunc.code}: ${hiddenRunc.err.trim()}`);
    fs.chmodSync(hidden, 0o755);
    const theirs = runcRun(runcRoot, bundle);
    fs.chmodSync(hidden, 0o700);
    t.equal(theirs.code, 0, `runc runs the reachable bundle (${theirs.err.trim()})`);
    t.equal(r.stdout, theirs.out, 'runts (0700) sees what runc (reachable) sees');
  });

  t.test('a mount namespace given by path is joined; the rootfs is the one in that namespace', async (t) => {
    const dir = tmpdir('runts-mntpath-');
    const rootfs = makeBusyboxRootfs(path.join(dir, 'rootfs'));
    const probe = 'readlink /proc/self/ns/mnt; grep -c " /joined " /proc/self/mountinfo; cat /joined/only-there';
    const check = (t: Test, run: (bundle: string) => { code: number | null; out: string; err: string }, who: string): string => {
      const holder = mountNamespaceHolder(t);
      t.ok(holder.pid > 0, 'the namespace holder runs');
      // a private mount made in that namespace only, inside the rootfs
      fs.mkdirSync(path.join(rootfs, 'joined'), { recursive: true });
      const m = spawnSync('nsenter', ['-t', String(holder.pid), '-m', 'sh', '-c',
        `mount -t tmpfs -o size=1m joined-tmpfs ${rootfs}/joined && echo ${who} > ${rootfs}/joined/only-there`], { encoding: 'utf8' });
      t.equal(m.status, 0, `mounted in the namespace (${m.stderr})`);
      t.same(hostMountsUnder(rootfs), [], 'not in the host\'s');
      const bundle = writeBundle(path.join(dir, `bundle-${who}`), rootfs, ['sh', '-c', probe], (c) => {
        c.linux.namespaces = c.linux.namespaces.filter((n: Config) => n.type !== 'mount');
        c.linux.namespaces.push({ type: 'mount', path: `/proc/${holder.pid}/ns/mnt` });
      });
      const want = fs.readlinkSync(`/proc/${holder.pid}/ns/mnt`);
      const r = run(bundle);
      t.equal(r.code, 0, `${who} runs it (${r.err.trim()})`);
      t.equal(r.out, `${want}\n1\n${who}\n`, `${who}: the container is in that namespace and sees its private mount`);
      process.kill(-holder.child.pid!, 'SIGKILL');
      return r.out.replace(/\n[a-z]+\n$/, '\n');
    };
    const ours = check(t, (b) => { const r = rt.run(['run', '--bundle', b, uniqueId('mntpath')]); return { code: r.code, out: r.stdout, err: r.stderr }; }, 'runts');
    t.same(hostMountsUnder(rootfs), [], 'nothing left in the host\'s namespace');
    if (!RUNC) return;
    const runcRoot = tmpdir('runts-runc-root-');
    const theirs = check(t, (b) => runcRun(runcRoot, b), 'runc');
    t.equal(ours.split('\n')[1], theirs.split('\n')[1], 'runc: same view of the joined namespace\'s mount');
  });

  t.test('no mount namespace (no namespaces at all): the host\'s, chroot into the rootfs, mounts removed at delete', async (t) => {
    const dir = tmpdir('runts-nons-');
    const rootfs = makeBusyboxRootfs(path.join(dir, 'rootfs'));
    fs.writeFileSync(path.join(rootfs, 'marker'), 'rootfs\n');
    const probe = 'for n in cgroup ipc mnt net pid time user uts; do echo "$n $(readlink /proc/self/ns/$n)"; done; cat /marker; stat -c %i /';
    const bundle = writeBundle(path.join(dir, 'bundle'), rootfs, ['sh', '-c', probe], (c) => {
      c.linux.namespaces = [];
      delete c.hostname;
    });
    const id = uniqueId('nons');
    const hostRoot = rootPropagation();
    const cr = rt.run(['create', '--bundle', bundle, id], { env: {} });
    t.equal(cr.code, 0, `create (${cr.stderr.trim()})`);
    const mounted = hostMountsUnder(rootfs);
    t.ok(mounted.includes(`${rootfs}/proc`) && mounted.includes(`${rootfs}/dev/pts`), `its mounts are in the host's namespace, under the rootfs (${mounted.join(' ')})`);
    const rootLine = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === rootfs) ?? '';
    t.notMatch(rootLine, /shared:|master:/, 'the rootfs self-bind is private: nothing under it propagates');
    t.equal(rootPropagation(), hostRoot, 'the host\'s / keeps its propagation');
    const st = rt.run(['start', id]);
    t.equal(st.code, 0, st.stderr);
    t.ok(waitFor(() => (rt.state(id) as { status: string }).status === 'stopped', 10_000), 'the container ran');
    const del = rt.run(['delete', id]);
    t.equal(del.code, 0, `delete (${del.stderr.trim()})`);
    t.same(hostMountsUnder(rootfs), [], 'delete removed every mount under the rootfs');

    // the container's view, through run (its stdout is ours)
    const r = rt.run(['run', '--bundle', bundle, uniqueId('nons')]);
    t.equal(r.code, 0, r.stderr);
    const host = nsLinks('self');
    for (const n of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts']) {
      t.match(r.stdout, new RegExp(`^${n} ${host[n]!.replace(/[[\]]/g, '\\$&')}$`, 'm'), `${n}: the host's namespace`);
    }
    t.match(r.stdout, /^rootfs$/m, 'its / is the rootfs');
    t.match(r.stdout, new RegExp(`^${fs.statSync(rootfs).ino}$`, 'm'), 'the rootfs directory itself');
    t.same(hostMountsUnder(rootfs), [], 'run (create, start, delete) leaves no mount');
  });

  t.test('no mount namespace: delete --force after a SIGKILLed create removes the mounts', async (t) => {
    const dir = tmpdir('runts-nons-kill-');
    const rootfs = makeBusyboxRootfs(path.join(dir, 'rootfs'));
    const marker = `${process.pid}.5151`;
    const bundle = writeBundle(path.join(dir, 'bundle'), rootfs, ['true'], (c) => {
      c.linux.namespaces = [];
      delete c.hostname;
      c.hooks = { createRuntime: [{ path: '/bin/busybox', args: ['sleep', marker] }] };
    });
    const id = uniqueId('nonskill');
    const create = spawn(RUNTS, ['--root', rt.root, 'create', '--bundle', bundle, id], { stdio: 'ignore', env: cleanEnv() });
    const exited = new Promise<void>((res) => create.once('exit', () => res()));
    t.teardown(() => { for (const p of findProcesses(marker)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } } });
    t.ok(waitFor(() => findProcesses(marker).length > 0, 20_000), 'the create runs its createRuntime hook (mounts done)');
    t.ok(hostMountsUnder(rootfs).length >= 2, 'the mounts exist');
    create.kill('SIGKILL');
    await exited;
    const r = rt.run(['delete', '--force', id]);
    t.equal(r.code, 0, `delete --force (${r.stderr.trim()})`);
    t.same(hostMountsUnder(rootfs), [], 'no mount left under the rootfs');
    t.not(rt.run(['state', id]).code, 0, 'the container is gone');
  });

  t.test('no mount namespace: refused where runc refuses', async (t) => {
    const dir = tmpdir('runts-nons-refuse-');
    const rootfs = makeBusyboxRootfs(path.join(dir, 'rootfs'));
    const masked = writeBundle(path.join(dir, 'masked'), rootfs, ['true'], (c) => {
      c.linux.namespaces = [{ type: 'pid' }];
      delete c.hostname;
      c.linux.maskedPaths = ['/proc/kcore'];
    });
    const r = rt.run(['run', '--bundle', masked, uniqueId('masked')]);
    t.not(r.code, 0, 'maskedPaths without a mount namespace fail');
    t.match(r.stderr, /unable to restrict sys entries without a private MNT namespace/, r.stderr.trim());
    if (RUNC) {
      const theirs = runcRun(tmpdir('runts-runc-root-'), masked); // runc refuses while validating, before any mount
      t.not(theirs.code, 0, 'runc refuses too');
      t.match(theirs.err, /unable to restrict sys entries without a private MNT namespace/, 'with the same words');
    }
    const plain = writeBundle(path.join(dir, 'plain'), rootfs, ['true'], (c) => { c.linux.namespaces = [{ type: 'pid' }]; delete c.hostname; });
    const np = rt.run(['run', '--no-pivot', '--bundle', plain, uniqueId('nopivot')]);
    t.not(np.code, 0, '--no-pivot without a mount namespace fails (it would move the host\'s root)');
    t.match(np.stderr, /no-pivot without a private MNT namespace/);
    const userns = writeBundle(path.join(dir, 'userns'), rootfs, ['true'], (c) => {
      c.linux.namespaces = [{ type: 'pid' }, { type: 'user' }];
      delete c.hostname;
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts = [];
    });
    const un = rt.run(['run', '--bundle', userns, uniqueId('usernomnt')]);
    t.not(un.code, 0, 'a new user namespace without a mount namespace fails (runc too, at its first mount: EPERM)');
    t.match(un.stderr, /a new user namespace needs a mount namespace of its own/, un.stderr.trim());
    t.match(un.stderr, /\/linux\/namespaces/, 'naming the field');
    t.same(hostMountsUnder(rootfs), [], 'nothing was mounted');
  });
});
