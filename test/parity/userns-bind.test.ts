/**
 * Differential (runc 1.1.5): a container with its own user namespace (root
 * mapped to 100000) and bind mounts whose sources its mapped root cannot
 * reach (below a 0700 root-owned host directory). runc opens the sources with
 * the runtime's own rights before entering the namespace and mounts them;
 * runts's init opened them from inside and failed open_tree with EACCES. Now
 * the CLI makes the trees on the host (src/container/bind-trees.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { hostMountsUnder, makeBusyboxRootfs, tmpdir } from '../helpers/rootfs.js';
import { type Cfg, Differential, differential, findProcesses, makeBundle, uniqueId } from '../helpers/differential.js';

differential({ x64: true }, (d) => {
  const rts = [d.runts, d.runc];
  const rootfs = fs.realpathSync(makeBusyboxRootfs(tmpdir('parity-userns-rootfs-')));
  // destinations exist: the mapped root may not create them in a root-owned rootfs (runc neither)
  fs.mkdirSync(path.join(rootfs, 'data'));
  fs.mkdirSync(path.join(rootfs, 'data2'));
  fs.writeFileSync(path.join(rootfs, 'single'), '');
  const userns = (c: Cfg) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  };
  const top = fs.realpathSync(tmpdir('parity-userns-private-'));
  const secret = path.join(top, 'secret');
  fs.mkdirSync(path.join(secret, 'data', 'sub'), { recursive: true, mode: 0o755 });
  fs.chmodSync(secret, 0o700);
  fs.writeFileSync(path.join(secret, 'data', 'file'), 'hello\n', { mode: 0o644 });
  fs.writeFileSync(path.join(secret, 'single'), 'single file\n', { mode: 0o644 });

  t.test('bind sources under a 0700 root-owned host directory', async (t) => {
    const script = 'cat /data/file /single; ls /data2; stat -c "%n %u:%g %a" /data /data/file /single; touch /data/x 2>&1; grep -E " /(data|data2|single) " /proc/self/mountinfo | cut -d" " -f5,6';
    const b = makeBundle({ rootfs, args: ['sh', '-c', script], mutate: (c) => {
      userns(c);
      c.mounts.push({ destination: '/data', type: 'bind', source: path.join(secret, 'data'), options: ['rbind', 'ro'] });
      c.mounts.push({ destination: '/data2', type: 'bind', source: path.join(secret, 'data'), options: ['bind', 'nosuid'] });
      c.mounts.push({ destination: '/single', type: 'bind', source: path.join(secret, 'single'), options: ['bind'] });
    } });
    const [ours, theirs] = rts.map((rt) => rt.run(['run', '--bundle', b, uniqueId('usernsbind')]));
    t.equal(theirs!.code, 0, `runc ran it: ${theirs!.stderr}`);
    t.equal(ours!.code, theirs!.code, `runts ran it: ${ours!.stderr}`);
    t.match(theirs!.stdout, /^hello\nsingle file\n/);
    t.equal(ours!.stdout, theirs!.stdout, 'the container saw the same');
    t.match(ours!.stdout, /Read-only file system/, 'the ro option holds on the premade tree');
    t.match(ours!.stdout, /^\/data2 rw,nosuid/m, 'and nosuid');
  });

  t.test('a source that does not exist: the same refusal, nothing left', async (t) => {
    const b = makeBundle({ rootfs, args: ['true'], mutate: (c) => {
      userns(c);
      c.mounts.push({ destination: '/data', type: 'bind', source: path.join(secret, 'missing'), options: ['rbind'] });
    } });
    const ids = rts.map(() => uniqueId('usernsmissing'));
    const [ours, theirs] = rts.map((rt, i) => rt.run(['run', '--bundle', b, ids[i]!]));
    t.not(theirs!.code, 0, 'runc refuses it');
    t.not(ours!.code, 0, 'runts refuses it');
    t.match(ours!.stderr, new RegExp(`mount ${path.join(secret, 'missing')} to /data: open_tree .*ENOENT`), ours!.stderr);
    t.same(rts[0]!.ids(), [], 'no state left');
    t.same(findProcesses(ids[0]!), [], 'no process left');
    t.same(hostMountsUnder(rootfs), [], 'no mount on the host');
  });
});
