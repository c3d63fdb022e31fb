/**
 * linux.sysctl in real containers: the values show in the container's
 * /proc/sys, the host's stay as they were, the writes do not depend on the
 * container's /proc (read-only /proc/sys, a /proc/sys file covered by a bind
 * mount), and bad keys fail with the key and errno, leaving nothing behind.
 */
import * as fs from 'node:fs';
import t from 'tap';
import { withRunts } from '../helpers/runts.js';
import { assertNothingLeft, runSh } from './helpers.js';

withRunts((rt) => {
  const host = (p: string) => fs.readFileSync(`/proc/sys/${p}`, 'utf8').trim();

  t.test('namespaced sysctls are set inside, the host keeps its values', async (t) => {
    const keys: Record<string, string> = {
      'net.ipv4.ip_forward': host('net/ipv4/ip_forward') === '1' ? '0' : '1',
      'net.core.somaxconn': '1234',
      'net/ipv4/conf/lo/forwarding': host('net/ipv4/conf/lo/forwarding') === '1' ? '0' : '1',
      'kernel.shmmax': '12345678',
      'kernel.msgmax': '4321',
      'kernel.shm_next_id': '77',
      'fs.mqueue.msg_max': '42',
      'kernel.domainname': 'sysctl.example',
    };
    const files = Object.keys(keys).map((k) => (k.includes('/') ? k : k.replace(/\./g, '/')));
    const before = files.map(host);
    const r = runSh(rt, `for f in ${files.join(' ')}; do cat /proc/sys/$f; done`, (c) => {
      c.linux.sysctl = keys;
    });
    t.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    t.same(lines.slice(0, files.length), Object.values(keys), 'each value is set in the container');
    t.same(files.map(host), before, 'host values unchanged');
  });

  t.test('the trusted procfs handle does not reach the container', async (t) => {
    const r = runSh(rt, 'ls /proc/self/fd | sort -n | tr "\\n" " "', (c) => { c.linux.sysctl = { 'net.core.somaxconn': '100' }; });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.trim(), '0 1 2 3', 'stdio and the fd of ls itself only');
  });

  t.test('kernel.hostname sysctl is applied after the hostname field', async (t) => {
    const r = runSh(rt, 'hostname', (c) => { c.hostname = 'from-field'; c.linux.sysctl = { 'kernel.hostname': 'from-sysctl' }; });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.trim(), 'from-sysctl');
  });

  t.test('the writes do not go through the container /proc', async (t) => {
    // runc's default spec has /proc/sys read-only; and a bind mount over a
    // /proc/sys file must not receive the value (CVE-2019-16884 style).
    const r = runSh(rt, 'cat /proc/sys/net/core/somaxconn; grep " /proc/sys " /proc/self/mountinfo | cut -d" " -f6', (c) => {
      c.linux.sysctl = { 'net.core.somaxconn': '999' };
      c.linux.readonlyPaths = ['/proc/sys'];
    });
    t.equal(r.code, 0, r.stderr);
    const [value, opts] = r.stdout.trim().split('\n');
    t.equal(value, '999');
    t.match(opts, /\bro\b/, '/proc/sys is read-only in the container');
  });

  const userns = (c: Record<string, any>) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  };

  t.test('in a user namespace (procfs from fsopen in the new pid namespace)', async (t) => {
    const r = runSh(rt, 'cat /proc/sys/net/core/somaxconn /proc/sys/kernel/shmmax', (c) => {
      userns(c);
      c.linux.sysctl = { 'net.core.somaxconn': '777', 'kernel.shmmax': '4242' };
    });
    t.equal(r.code, 0, r.stderr);
    t.same(r.stdout.trim().split('\n'), ['777', '4242']);
  });

  t.test('user namespace with the host pid namespace (fsopen refused: procfs from open_tree)', async (t) => {
    const r = runSh(rt, 'cat /proc/sys/net/core/somaxconn', (c) => {
      userns(c);
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
      c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/proc');
      c.mounts.push({ destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] });
      c.linux.sysctl = { 'net.core.somaxconn': '555' };
    });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.trim(), '555');
  });

  t.test('errors name the key and the errno; nothing is left behind', async (t) => {
    const nokey = runSh(rt, 'true', (c) => { c.linux.sysctl = { 'net.ipv4.no_such_sysctl': '1' }; });
    t.not(nokey.code, 0);
    t.match(nokey.stderr, /sysctl "net\.ipv4\.no_such_sysctl" = "1": .*\/proc\/sys\/net\/ipv4\/no_such_sysctl: ENOENT/);
    assertNothingLeft(t, rt, nokey.id);

    const badval = runSh(rt, 'true', (c) => { c.linux.sysctl = { 'net.ipv4.ip_forward': 'yes' }; });
    t.not(badval.code, 0);
    t.match(badval.stderr, /sysctl "net\.ipv4\.ip_forward" = "yes": write \/proc\/sys\/net\/ipv4\/ip_forward: EINVAL/);
    assertNothingLeft(t, rt, badval.id);
  });

  t.test('sysctls outside the container namespaces are refused by validation', async (t) => {
    const cases: [string, (c: Record<string, any>) => void, RegExp][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
      ['not namespaced', (c) => { c.linux.sysctl = { 'vm.swappiness': '10' }; }, /\/linux\/sysctl\/vm\.swappiness.*not namespaced/],
      ['net without netns', (c) => {
        c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
        c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
      }, /\/linux\/sysctl\/net\.ipv4\.ip_forward.*needs a network namespace/],
      ['ipc without ipcns', (c) => {
        c.linux.sysctl = { 'kernel.shmmax': '1' };
        c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'ipc');
      }, /\/linux\/sysctl\/kernel\.shmmax.*needs a ipc namespace/],
      ['mqueue without ipcns', (c) => {
        c.linux.sysctl = { 'fs.mqueue.msg_max': '1' };
        c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'ipc');
      }, /\/linux\/sysctl\/fs\.mqueue\.msg_max.*needs a ipc namespace/],
      ['hostname without utsns', (c) => {
        c.linux.sysctl = { 'kernel.domainname': 'x' };
        delete c.hostname;
        c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'uts');
      }, /\/linux\/sysctl\/kernel\.domainname.*needs a uts namespace/],
      ['joining the host netns by path', (c) => {
        c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
        c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: `/proc/${process.pid}/ns/net` } : n));
      }, /\/linux\/sysctl\/net\.ipv4\.ip_forward.*runtime's own/],
    ];
    for (const [what, mutate, want] of cases) {
      const r = runSh(rt, 'true', mutate);
      t.not(r.code, 0, what);
      t.match(r.stderr, want, what);
      assertNothingLeft(t, rt, r.id);
    }
  });
});
