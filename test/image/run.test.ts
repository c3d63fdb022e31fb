/**
 * Unpacked images run: `runts run` of a plain bundle and of --shared
 * bundles; two bundles over the same store layers write only to their own
 * upper dirs; `image mount` brings a shared rootfs back after its mount is
 * gone (as after a reboot); `image remove` and `image prune` leave nothing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { makeTar, writeLayout, type TarItem } from '../helpers/oci-image.js';
import { hostMountsUnder, tmpdir } from '../helpers/rootfs.js';
import { uniqueId, withRunts } from '../helpers/runts.js';

function busyboxLayers(): TarItem[][] {
  return [[
    { name: 'bin/', type: 'dir', mode: 0o755 },
    { name: 'bin/busybox', body: fs.readFileSync('/bin/busybox'), mode: 0o755 },
    ...['sh', 'cat', 'echo', 'id', 'ls', 'rm', 'test', 'sleep'].map((a): TarItem => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
    { name: 'etc/', type: 'dir', mode: 0o755 },
    { name: 'etc/passwd', body: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' },
    { name: 'etc/group', body: 'root:x:0:\napp:x:1000:\n' },
    { name: 'etc/old', body: 'from layer 1\n' },
    { name: 'data/', type: 'dir', mode: 0o777 },
  ], [
    { name: 'etc/.wh.old', body: '' },
    { name: 'etc/motd', body: 'hello from layer 2\n' },
  ]];
}

withRunts((rt) => {
  const T = tmpdir('image-run-');
  const layout = path.join(T, 'oci');
  writeLayout(layout, { layers: busyboxLayers().map((items) => ({ tar: makeTar(items) })), config: { Cmd: ['sh', '-c', 'id -u; cat /etc/motd'], User: 'app' } });
  const store = path.join(T, 'store');
  t.teardown(() => {
    for (const b of ['plain', 'a', 'b']) rt.run(['image', 'remove', path.join(T, b)]);
  });

  const setArgs = (bundle: string, args: string[], user = { uid: 0, gid: 0 }) => {
    const f = path.join(bundle, 'config.json');
    const c = JSON.parse(fs.readFileSync(f, 'utf8'));
    c.process.args = args;
    c.process.user = user;
    fs.writeFileSync(f, JSON.stringify(c));
  };

  t.test('two --shared unpacks at once into one store: both succeed, each layer once', async (t) => {
    const s2 = path.join(T, 'store-concurrent');
    const bundles = [path.join(T, 'c1'), path.join(T, 'c2')];
    const runs = bundles.map((b) => new Promise<number | null>((resolve) => {
      const c = rt.spawn(['image', 'unpack', '--shared', '--store', s2, `${layout}:latest`, b]);
      c.on('exit', (code) => resolve(code));
    }));
    t.same(await Promise.all(runs), [0, 0]);
    t.equal(fs.readdirSync(s2).filter((n) => /^[0-9a-f]{64}$/.test(n)).length, 2);
    t.same(fs.readdirSync(s2).filter((n) => n.startsWith('.tmp-')), []);
    for (const b of bundles) t.equal(rt.run(['image', 'remove', b]).code, 0);
    t.equal(rt.run(['image', 'prune', '--store', s2]).stdout, 'removed 2 layer(s), 0 stale ref(s), 0 temporary dir(s)\n');
  });

  t.test('a plain bundle runs the image\'s command as the image\'s user', async (t) => {
    const bundle = path.join(T, 'plain');
    let r = rt.run(['--debug', 'image', 'unpack', `${layout}:latest`, bundle]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, /image: layer 1\/2 sha256:[0-9a-f]{64} unpacked: \d+ bytes, \d+ entries, [0-9.]+ ms/, '--debug: per-layer timings');
    t.match(r.stderr, /image: layer 2\/2 /);
    r = rt.run(['image', 'remove', bundle]);
    t.equal(r.code, 0, r.stderr);
    r = rt.run(['image', 'unpack', `${layout}:latest`, bundle]);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stderr, '', 'quiet when stderr is not a terminal');
    const tty = await rt.inTerminal(`$RT image unpack ${layout}:latest ${path.join(T, 'tty')} && $RT image remove ${path.join(T, 'tty')}`);
    t.equal(tty.code, 0, tty.stderr);
    t.match(tty.stdout, /layer 1\/2 sha256:[0-9a-f]{12}… +[0-9.]+ MiB unpacked/, 'on a terminal: progress per layer');
    t.match(tty.stdout, /layer 2\/2 sha256:[0-9a-f]{12}… +[0-9.]+ MiB unpacked/);
    r = rt.run(['run', '-b', bundle, uniqueId('image-plain')]);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, '1000\nhello from layer 2\n');
    setArgs(bundle, ['sh', '-c', 'test -e /etc/old && echo old-visible; echo done']);
    r = rt.run(['run', '-b', bundle, uniqueId('image-plain')]);
    t.equal(r.stdout, 'done\n', 'the whiteout hid layer 1\'s /etc/old');
    setArgs(bundle, ['sleep', '1000']);
    const id = uniqueId('image-plain-busy');
    r = rt.run(['run', '-d', '-b', bundle, id]);
    t.equal(r.code, 0, r.stderr);
    r = rt.run(['image', 'remove', bundle]);
    t.match(r.stderr, /is in use: process \d+ \(a container running from it\) has it as its root/, 'remove refuses while a container runs from the bundle');
    t.ok(fs.existsSync(path.join(bundle, 'rootfs/bin/busybox')));
    t.equal(rt.run(['delete', '--force', id]).code, 0);
    r = rt.run(['image', 'remove', bundle]);
    t.equal(r.code, 0, r.stderr);
    t.notOk(fs.existsSync(bundle));
  });

  t.test('two --shared bundles share the store layers; writes stay in each bundle\'s upper dir', async (t) => {
    const a = path.join(T, 'a');
    const b = path.join(T, 'b');
    for (const bundle of [a, b]) {
      const r = rt.run(['image', 'unpack', '--shared', '--store', store, `${layout}:latest`, bundle]);
      t.equal(r.code, 0, r.stderr);
    }
    const layers = fs.readdirSync(store).filter((n) => /^[0-9a-f]{64}$/.test(n));
    t.equal(layers.length, 2, 'each layer once in the store');
    t.same(hostMountsUnder(T).sort(), [path.join(a, 'rootfs'), path.join(b, 'rootfs')], 'each rootfs is a mount');
    let r = rt.run(['run', '-b', a, uniqueId('image-shared')]);
    t.equal(r.stdout, '1000\nhello from layer 2\n', r.stderr);
    setArgs(a, ['sh', '-c', 'echo from-a > /data/x && rm /etc/motd && echo ok']);
    r = rt.run(['run', '-b', a, uniqueId('image-shared')]);
    t.equal(r.stdout, 'ok\n', r.stderr);
    setArgs(b, ['sh', '-c', 'cat /data/x 2>/dev/null || echo no-x; cat /etc/motd']);
    r = rt.run(['run', '-b', b, uniqueId('image-shared')]);
    t.equal(r.stdout, 'no-x\nhello from layer 2\n', 'b sees neither a\'s new file nor a\'s removal');
    t.equal(fs.readFileSync(path.join(a, '.runts-image/upper/data/x'), 'utf8'), 'from-a\n', 'a\'s write is in a\'s upper dir');
    t.ok(fs.lstatSync(path.join(a, '.runts-image/upper/etc/motd')).isCharacterDevice(), 'a\'s removal is a whiteout in a\'s upper dir');
    for (const l of layers) {
      t.notOk(fs.existsSync(path.join(store, l, 'data/x')), 'nothing written into the store');
    }
    t.ok(fs.existsSync(path.join(store, layers.find((l) => fs.existsSync(path.join(store, l, 'etc/motd')))!, 'etc/motd')), 'the store still has /etc/motd');

    // after a reboot the mounts are gone; `image mount` brings the rootfs back with its writes
    const um = spawnSync('umount', [path.join(a, 'rootfs')]);
    t.equal(um.status, 0, 'unmounted by hand');
    t.same(fs.readdirSync(path.join(a, 'rootfs')), [], 'without its mount the rootfs is an empty dir');
    r = rt.run(['image', 'mount', a]);
    t.equal(r.code, 0, r.stderr);
    setArgs(a, ['cat', '/data/x']);
    r = rt.run(['run', '-b', a, uniqueId('image-shared')]);
    t.equal(r.stdout, 'from-a\n', 'the writes survive a remount');
    r = rt.run(['image', 'mount', a]);
    t.equal(r.code, 0, 'mount of a mounted bundle is a no-op');

    // a running container keeps its bundle: remove refuses
    setArgs(a, ['sleep', '1000']);
    const id = uniqueId('image-busy');
    r = rt.run(['run', '-d', '-b', a, id]);
    t.equal(r.code, 0, r.stderr);
    r = rt.run(['image', 'remove', a]);
    t.not(r.code, 0);
    t.match(r.stderr, /is in use: process \d+ \(a container running from it\) has it as its root/);
    t.ok(fs.existsSync(path.join(a, '.runts-image/upper/data/x')), 'nothing removed');
    r = rt.run(['delete', '--force', id]);
    t.equal(r.code, 0, r.stderr);

    // remove a: b still uses the layers, prune keeps them
    r = rt.run(['image', 'remove', a]);
    t.equal(r.code, 0, r.stderr);
    t.notOk(fs.existsSync(a));
    r = rt.run(['image', 'prune', '--store', store]);
    t.equal(r.stdout, 'removed 0 layer(s), 0 stale ref(s), 0 temporary dir(s)\n');
    // a bundle deleted by hand (not with image remove): its ref is stale
    const um2 = spawnSync('umount', [path.join(b, 'rootfs')]);
    t.equal(um2.status, 0);
    fs.rmSync(b, { recursive: true });
    r = rt.run(['image', 'prune', '--store', store]);
    t.equal(r.stdout, 'removed 2 layer(s), 1 stale ref(s), 0 temporary dir(s)\n');
    t.same(fs.readdirSync(store).sort(), ['.lock', '.refs']);
    t.same(fs.readdirSync(path.join(store, '.refs')), []);
    t.same(hostMountsUnder(T), [], 'no mount left');
  });
});
