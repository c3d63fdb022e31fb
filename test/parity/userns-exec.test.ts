/**
 * Differential (runc 1.1.5): exec into a container with its own user
 * namespace runs as the mapped user with the container's view (runts failed
 * with setns(mount) EPERM: the exec stage lost its capabilities when nsboot
 * exec'd node as a uid the joined namespace does not map).
 */
import * as fs from 'node:fs';
import t from 'tap';
import { makeBusyboxRootfs, tmpdir } from '../helpers/rootfs.js';
import { type Cfg, Differential, differential, findProcesses, makeBundle, uniqueId } from '../helpers/differential.js';

differential({ x64: true }, (d) => {
  const rts = [d.runts, d.runc];
  const rootfs = fs.realpathSync(makeBusyboxRootfs(tmpdir('parity-userns-rootfs-')));
  const userns = (c: Cfg) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  };
  const PROBE = 'id; cat /proc/self/uid_map /proc/self/gid_map; grep -E "^(Cap(Eff|Bnd)|NoNewPrivs|Seccomp):" /proc/self/status; hostname; readlink /proc/1/exe; ls /';

  t.test('exec into a container with a user namespace', async (t) => {
    const b = makeBundle({ rootfs, args: ['sleep', '60'], mutate: userns });
    const seen: Record<string, { code: number | null; out: string; err: string }[]> = {};
    for (const rt of rts) {
      const id = uniqueId('usernsexec');
      const r = rt.run(['run', '-d', '--bundle', b, id]);
      t.equal(r.code, 0, `${rt.name} run -d: ${r.stderr}`);
      const res = [];
      for (const extra of [[], ['--user', '1000:1000']]) {
        const e = rt.run(['exec', ...extra, id, 'sh', '-c', PROBE]);
        res.push({ code: e.code, out: e.stdout, err: e.stderr });
      }
      seen[rt.name] = res;
      const d = rt.run(['delete', '--force', id]);
      t.equal(d.code, 0, `${rt.name} delete: ${d.stderr}`);
      t.same(findProcesses(id), [], 'nothing left');
    }
    const [ours, theirs] = [seen.runts!, seen.runc!];
    for (let i = 0; i < 2; i++) {
      t.equal(theirs[i]!.code, 0, `runc exec ran: ${theirs[i]!.err}`);
      t.equal(ours[i]!.code, theirs[i]!.code, `runts exec ran: ${ours[i]!.err}`);
      t.equal(ours[i]!.out, theirs[i]!.out, `exec #${i}: the process saw the same`);
    }
    t.match(theirs[0]!.out, /uid=0\(root\) gid=0\(root\)/);
    t.match(theirs[0]!.out, /^\s+0\s+100000\s+65536$/m, 'in the container user namespace');
    t.match(theirs[1]!.out, /uid=1000 gid=1000/);
  });
});
