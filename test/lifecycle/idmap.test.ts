/**
 * Idmapped mounts (config.md mounts: "idmap"/"ridmap" with uidMappings and
 * gidMappings): the CLI makes a user namespace with the mount's mappings
 * (`nsboot -U`), the init gives it to mount_setattr(MOUNT_ATTR_IDMAP). Checked
 * through the kernel: ownership seen inside, ownership of files created
 * inside as seen on the host, no helper process left.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { tmpdir } from '../helpers/rootfs.js';
import { findProcesses, makeBundle, uniqueId, withRunts } from '../helpers/runts.js';

withRunts((rt) => {
  const vol = tmpdir('runts-idmap-');
  t.teardown(() => fs.rmSync(vol, { recursive: true, force: true }));
  fs.writeFileSync(path.join(vol, 'root-file'), 'x');
  fs.mkdirSync(path.join(vol, 'sub'));
  fs.writeFileSync(path.join(vol, 'sub', 'user-file'), 'y');
  fs.chownSync(path.join(vol, 'sub', 'user-file'), 5, 6);
  fs.chmodSync(vol, 0o777);
  const maps = { uidMappings: [{ containerID: 0, hostID: 1000, size: 100 }], gidMappings: [{ containerID: 0, hostID: 2000, size: 100 }] };
  const nsbootHolders = () => findProcesses('nsboot').filter((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes('-U'));

  t.test('a bind mount with idmap: on-disk ids are shifted by the mount\'s mappings, both ways', async (t) => {
    const id = uniqueId('idmap');
    const b = makeBundle({
      args: ['sh', '-c', 'stat -c "%u:%g %n" /data/root-file /data/sub/user-file; touch /data/made-inside && stat -c "%u:%g" /data/made-inside'],
      mutate: (c) => {
        c.process.user = { uid: 1000, gid: 2000 };
        c.mounts.push({ destination: '/data', type: 'bind', source: vol, options: ['rbind', 'idmap'], ...maps });
      },
    });
    const r = rt.run(['run', '--bundle', b, id]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^1000:2000 \/data\/root-file$/m, 'a file owned by 0:0 on disk is 1000:2000 inside');
    t.match(r.stdout, /^1005:2006 \/data\/sub\/user-file$/m, 'a file owned by 5:6 on disk is 1005:2006 inside');
    t.match(r.stdout, /^1000:2000$/m, 'a file created inside by 1000:2000 ...');
    const st = fs.statSync(path.join(vol, 'made-inside'));
    t.same([st.uid, st.gid], [0, 0], '... is owned by 0:0 on disk');
    t.same(nsbootHolders(), [], 'no user-namespace holder is left');
  });

  t.test('idmap without ridmap: a submount of the volume keeps its ids; ridmap shifts it too', async (t) => {
    const inner = tmpdir('runts-idmap-inner-');
    t.teardown(() => { spawnSync('umount', ['-l', path.join(vol, 'sub')]); fs.rmSync(inner, { recursive: true, force: true }); });
    fs.writeFileSync(path.join(inner, 'inner-file'), 'z');
    fs.chmodSync(inner, 0o755); // the test container has no capabilities: no DAC override
    t.equal(spawnSync('mount', ['--bind', inner, path.join(vol, 'sub')]).status, 0, 'a submount in the volume');
    for (const [opt, want] of [['idmap', '0'], ['ridmap', '1000']] as const) {
      const r = rt.run(['run', '--bundle', makeBundle({
        args: ['stat', '-c', '%u', '/data/sub/inner-file'],
        mutate: (c) => { c.mounts.push({ destination: '/data', type: 'bind', source: vol, options: ['rbind', opt], ...maps }); },
      }), uniqueId(opt)]);
      t.equal(r.code, 0, r.stderr);
      t.equal(r.stdout.trim(), want, `${opt}: the submount's root-owned file shows as ${want}`);
    }
  });

  t.test('overlapping mount mappings are refused with their JSON pointer, and nothing is left', async (t) => {
    const id = uniqueId('badmap');
    const r = rt.run(['run', '--bundle', makeBundle({
      args: ['true'],
      mutate: (c) => {
        // overlapping ranges (the kernel would refuse this uid_map with EINVAL)
        c.mounts.push({ destination: '/data', type: 'bind', source: vol, options: ['rbind', 'idmap'],
          uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 5, hostID: 3000, size: 10 }], gidMappings: maps.gidMappings });
      },
    }), id]);
    t.not(r.code, 0, 'create fails');
    t.match(r.stderr, /\/mounts\/\d+\/uidMappings\/1: overlaps/, `the error names the mapping (${r.stderr.trim()})`);
    t.not(rt.run(['state', id]).code, 0, 'no container');
    t.same(nsbootHolders(), [], 'no holder left');
  });

  t.test('a container with its own user namespace: the CLI makes the idmapped bind mount on the host', async (t) => {
    const userns = (c: Record<string, any>) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    };
    const script = (name: string) => `stat -c "%u:%g" /data/root-file; touch /data/${name} && echo made; ls /proc/self/fd | wc -l`;
    const plain = rt.run(['run', '--bundle', makeBundle({ args: ['sh', '-c', script('made-plain')], mutate: (c) => {
      userns(c);
      c.mounts.push({ destination: '/data', type: 'bind', source: vol, options: ['rbind'] });
    } }), uniqueId('usernsplain')]);
    t.equal(plain.code, 0, plain.stderr);
    t.match(plain.stdout, /^65534:65534$/m, 'control: without idmap, host root\'s file is unmapped (65534) inside');
    const r = rt.run(['run', '--bundle', makeBundle({ args: ['sh', '-c', script('made-in-userns')], mutate: (c) => {
      userns(c);
      c.mounts.push({ destination: '/data', type: 'bind', source: vol, options: ['rbind', 'idmap'] });
    } }), uniqueId('usernsidmap')]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^0:0$/m, 'with idmap (the container\'s mappings), the file is 0:0 inside');
    t.match(r.stdout, /^made$/m, 'container root can write through the mount');
    const st = fs.statSync(path.join(vol, 'made-in-userns'));
    t.same([st.uid, st.gid], [0, 0], 'and its file is 0:0 on disk');
    t.match(r.stdout, /^4$/m, 'no mount-tree fd leaks into the container (ls sees 0-2 and its own)');
    t.same(nsbootHolders(), [], 'no holder left');
  });
});
