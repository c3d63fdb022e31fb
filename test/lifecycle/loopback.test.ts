/**
 * A container with a network namespace of its own gets `lo` up, as with runc
 * and crun: 127.0.0.1 routes (a connect to a closed port is refused, not
 * "network unreachable"). A joined network namespace is left as it was.
 * Differential: runc shows the same.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import t from 'tap';
import { cannotRunContainers, RUNC } from '../helpers/cli.js';
import { tmpdir } from '../helpers/rootfs.js';
import { makeBundle, Runts, uniqueId } from '../helpers/runts.js';
import { runWithFiles } from '../helpers/run-files.js';

const runc = RUNC;
// flags of lo (IFF_UP = 0x1), then what a connect to a closed loopback port says
const PROBE = 'cat /sys/class/net/lo/flags; nc 127.0.0.1 9 </dev/null 2>&1; true';

const why = cannotRunContainers();
if (why) {
  t.plan(0, why);
} else {
  const rt = new Runts();
  const runcRoot = tmpdir('runts-loopback-runc-');
  t.teardown(() => { rt.cleanup(); fs.rmSync(runcRoot, { recursive: true, force: true }); });

  const runBoth = (mutate?: (c: Record<string, any>) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const b = makeBundle({ args: ['sh', '-c', PROBE], mutate });
    const ours = rt.run(['run', '--bundle', b, uniqueId('lo')], { timeoutMs: 30_000 });
    const theirs = runc ? runWithFiles(runc, ['--root', runcRoot, 'run', '--bundle', b, uniqueId('lo-runc')], { timeoutMs: 30_000 }) : undefined;
    return { ours, theirs };
  };

  t.test('a new network namespace has lo up: 127.0.0.1 routes', async (t) => {
    const { ours, theirs } = runBoth();
    t.equal(ours.code, 0, ours.stderr);
    const [flags] = ours.stdout.split('\n');
    t.ok(Number(flags) & 0x1, `lo is IFF_UP (flags ${flags})`);
    t.match(ours.stdout, /refused/i, 'a connect to a closed port on 127.0.0.1 is refused');
    t.notMatch(ours.stdout, /unreachable/i, 'not "network unreachable"');
    if (theirs) t.equal(ours.stdout, theirs.stdout, 'runc shows the same');
  });

  t.test('with a user namespace too, lo comes up (the init owns the new network namespace)', async (t) => {
    const { ours, theirs } = runBoth((c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/sys');
      c.mounts.push({ destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'ro'] });
    });
    t.equal(ours.code, 0, ours.stderr);
    t.match(ours.stdout, /refused/i, 'a connect to a closed port on 127.0.0.1 is refused');
    if (theirs) t.equal(ours.stdout.split('\n').slice(1).join('\n'), theirs.stdout.split('\n').slice(1).join('\n'), 'runc shows the same');
  });

  t.test('a joined network namespace is left as it was (lo down stays down)', async (t) => {
    const holder = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
    t.teardown(() => { holder.kill('SIGKILL'); });
    const nsPath = `/proc/${holder.pid}/ns/net`;
    // wait until the holder is in its own namespace (unshare has exec'd sleep)
    for (let i = 0; i < 500 && fs.readFileSync(`/proc/${holder.pid}/cmdline`, 'utf8').startsWith('unshare'); i++) spawnSync('sleep', ['0.01']);
    t.not(fs.readlinkSync(nsPath), fs.readlinkSync('/proc/self/ns/net'), 'the holder has its own network namespace');
    // the host's /sys shows the host's namespace: ask ip in the holder's
    const loUp = () => /<[^>]*\bUP\b[^>]*>/.test(spawnSync('nsenter', ['--net=' + nsPath, 'ip', '-o', 'link', 'show', 'lo'], { encoding: 'utf8' }).stdout);
    t.notOk(loUp(), 'lo is down in it before');
    const { ours, theirs } = runBoth((c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: nsPath } : n));
    });
    t.equal(ours.code, 0, ours.stderr);
    const [flags] = ours.stdout.split('\n');
    t.equal(Number(flags) & 0x1, 0, `the container sees lo down (flags ${flags})`);
    t.notOk(loUp(), 'and lo is still down after');
    if (theirs) t.equal(ours.stdout, theirs.stdout, 'runc shows the same');
  });
}
