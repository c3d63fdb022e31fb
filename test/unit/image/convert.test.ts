import t from 'tap';
import { imageToSpec, parseGroup, parsePasswd, resolveUser } from '../../../src/image/convert.js';
import type { Descriptor } from '../../../src/image/layout.js';

const passwd = parsePasswd('root:x:0:0:root:/root:/bin/sh\n# comment\nbroken line\napp:x:1000:1001:App:/home/app:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n');
const group = parseGroup('root:x:0:\napp:x:1001:\nwheel:x:10:app,other\naudio:x:29:app\nbad:x:zz:app\n');

t.test('passwd and group parsing skips malformed lines', async (t) => {
  t.same(passwd.map((p) => p.name), ['root', 'app', 'nobody']);
  t.same(group.map((g) => g.name), ['root', 'app', 'wheel', 'audio']);
});

t.test('User forms resolve through the image files', async (t) => {
  t.same(resolveUser(undefined, passwd, group), { uid: 0, gid: 0 });
  t.same(resolveUser('', passwd, group), { uid: 0, gid: 0 });
  t.same(resolveUser('app', passwd, group), { uid: 1000, gid: 1001, additionalGids: [10, 29], home: '/home/app' });
  t.same(resolveUser('1000', passwd, group), { uid: 1000, gid: 1001, additionalGids: [10, 29], home: '/home/app' });
  t.same(resolveUser('4242', passwd, group), { uid: 4242, gid: 0, home: undefined });
  t.same(resolveUser('app:wheel', passwd, group), { uid: 1000, gid: 10, home: '/home/app' });
  t.same(resolveUser('app:77', passwd, group), { uid: 1000, gid: 77, home: '/home/app' });
  t.same(resolveUser('5:6', passwd, group), { uid: 5, gid: 6, home: undefined });
  t.throws(() => resolveUser('ghost', passwd, group), /no user "ghost" in the image's \/etc\/passwd/);
  t.throws(() => resolveUser('app:ghosts', passwd, group), /no group "ghosts" in the image's \/etc\/group/);
  t.throws(() => resolveUser('a:b:c', passwd, group), /expected user\[:group\]/);
  t.throws(() => resolveUser(':5', passwd, group), /expected user\[:group\]/);
  t.throws(() => resolveUser('4294967295', passwd, group), /bad user/);
});

const manifest: Descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + 'a'.repeat(64), size: 1 };

t.test('image config to runtime config', async (t) => {
  const spec = imageToSpec({
    manifest, ref: 'latest', user: { uid: 1000, gid: 1001, additionalGids: [10], home: '/home/app' },
    config: {
      os: 'linux', architecture: 'amd64', created: '2026-01-01T00:00:00Z', author: 'me',
      config: {
        Entrypoint: ['/bin/entry'], Cmd: ['--flag'], Env: ['A=1', 'PATH=/bin'], WorkingDir: '/work',
        Labels: { 'com.example.x': 'y' }, StopSignal: 'SIGQUIT', ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      },
      rootfs: { type: 'layers', diff_ids: [] },
    },
  });
  t.same(spec.process!.args, ['/bin/entry', '--flag']);
  t.same(spec.process!.env, ['A=1', 'PATH=/bin', 'HOME=/home/app']);
  t.equal(spec.process!.cwd, '/work');
  t.same(spec.process!.user, { uid: 1000, gid: 1001, additionalGids: [10] });
  t.equal(spec.process!.terminal, false);
  t.same(spec.root, { path: 'rootfs', readonly: false });
  t.same(spec.annotations, {
    'com.example.x': 'y',
    'org.opencontainers.image.os': 'linux',
    'org.opencontainers.image.architecture': 'amd64',
    'org.opencontainers.image.author': 'me',
    'org.opencontainers.image.created': '2026-01-01T00:00:00Z',
    'org.opencontainers.image.stopSignal': 'SIGQUIT',
    'org.opencontainers.image.exposedPorts': '80/tcp,53/udp',
    'org.opencontainers.image.ref.name': 'latest',
    'org.opencontainers.image.manifest.digest': manifest.digest,
  });
});

t.test('defaults: Cmd only, no Env, no WorkingDir; nothing to run is an error', async (t) => {
  const spec = imageToSpec({ manifest, user: { uid: 0, gid: 0 }, config: { config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [] } } });
  t.same(spec.process!.args, ['sh']);
  t.match(spec.process!.env![0], /^PATH=/);
  t.equal(spec.process!.cwd, '/');
  t.throws(() => imageToSpec({ manifest, user: { uid: 0, gid: 0 }, config: { config: { Cmd: null, Entrypoint: null }, rootfs: { type: 'layers', diff_ids: [] } } }), /neither Entrypoint nor Cmd/);
});
