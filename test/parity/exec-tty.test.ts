/**
 * issue 12, differential: the container's pty belongs to the process's uid
 * (runc's fixStdioPermissions: the uid changes, the group stays what devpts
 * gave), for the init and for `exec -t`, uid 0 or not; and
 * `exec -t -d -p process.json --console-socket S` works, also with a
 * process.json that has no user (runc runs it as 0:0).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import * as libc from '../../src/linux/libc.js';
import { SOCK } from '../../src/linux/abi.js';
import { tmpdir } from '../helpers/rootfs.js';
import { readPtyUntil } from '../helpers/wait.js';
import { differential, makeBundle, type Runtime } from '../helpers/differential.js';

differential((d) => {
  const owner = 'stat -c "tty-owner %u %g" $(tty); id -u';
  // runc clears ONLCR racing with the process (test/parity/terminal.test.ts): line ends are not compared here
  const lines = (s: string) => s.replace(/\r+\n/g, '\n');

  t.test('run: the init\'s pty is owned by its uid, the group is devpts\'s', async (t) => {
    for (const [uid, gid] of [[1000, 1001], [0, 0]]) {
      const b = makeBundle({ args: ['sh', '-c', owner], mutate: (c) => {
        c.process.terminal = true;
        c.process.user = { uid, gid };
        c.mounts.find((m: { destination: string }) => m.destination === '/dev/pts').options.push('gid=5');
      } });
      const r = await d.each(async (rt) => lines((await rt.inTerminal(`$RT run --bundle ${b} ${d.id('ttyown')}`)).stdout));
      t.equal(r.runc, `tty-owner ${uid} 5\n${uid}\n`, `runc, uid ${uid}`);
      t.equal(r.runts, r.runc, `runts, uid ${uid}: as runc`);
    }
  });

  t.test('exec -t --user: the pty is owned by the exec\'d process\'s uid', async (t) => {
    const b = makeBundle({ args: ['sleep', '600'] });
    const r = await d.each(async (rt) => {
      const id = d.id('ttyexec');
      t.equal(rt.run(['run', '-d', '--bundle', b, id]).code, 0, `${rt.name} run -d`);
      const out = [];
      for (const u of ['1000:1001', '0:0', '65534:65534']) out.push(await rt.inTerminal(`$RT exec -t --user ${u} ${id} sh -c '${owner}'`));
      rt.run(['delete', '--force', id]);
      return out.map((x) => lines(x.stdout));
    });
    // no gid= on this devpts: the pty's group is the creator's (0)
    t.same(r.runc, ['tty-owner 1000 0\n1000\n', 'tty-owner 0 0\n0\n', 'tty-owner 65534 0\n65534\n'], 'runc');
    t.same(r.runts, r.runc, 'runts as runc');
  });

  t.test('exec -t -d -p process.json --console-socket: the master arrives, with or without a user', async (t) => {
    const dir = tmpdir('runts-parity-tty-');
    const b = makeBundle({ args: ['sleep', '600'] });
    const variants: Record<string, object> = {
      'uid 1000': { terminal: true, user: { uid: 1000, gid: 1000 }, args: ['sh', '-c', `${owner}; echo done`], cwd: '/', env: ['PATH=/bin'] },
      'no user': { terminal: true, args: ['sh', '-c', `${owner}; echo done`], cwd: '/', env: ['PATH=/bin'] },
    };
    async function execDetached(rt: Runtime, id: string, name: string, proc: object) {
      const file = path.join(dir, `${rt.name}-${name.replace(/ /g, '')}.json`);
      fs.writeFileSync(file, JSON.stringify(proc));
      const sock = path.join(dir, `${rt.name}-${name.replace(/ /g, '')}.sock`);
      const listener = libc.socket(SOCK.STREAM);
      libc.bindUnix(listener, sock);
      libc.listen(listener, 1);
      try {
        const r = rt.run(['exec', '-t', '-d', '-p', file, '--console-socket', sock, id], { timeoutMs: 30_000 });
        if (r.code !== 0) return { code: r.code, err: r.stderr, out: '' };
        const conn = libc.accept(listener);
        const { fd } = libc.recvFd(conn);
        libc.close(conn);
        const out = fd === null ? '' : readPtyUntil(fd, 'done', 10_000);
        if (fd !== null) libc.close(fd);
        return { code: r.code, err: r.stderr, out: out.replace(/\r/g, '') };
      } finally {
        libc.close(listener);
      }
    }
    const r = await d.each(async (rt) => {
      const id = d.id('ttyp');
      t.equal(rt.run(['run', '-d', '--bundle', b, id]).code, 0, `${rt.name} run -d`);
      const out: Record<string, { code: number | null; err: string; out: string }> = {};
      for (const [name, proc] of Object.entries(variants)) out[name] = await execDetached(rt, id, name, proc);
      rt.run(['delete', '--force', id]);
      return out;
    });
    t.same(r.runc['uid 1000'], { code: 0, err: '', out: 'tty-owner 1000 0\n1000\ndone\n' }, 'runc, uid 1000');
    t.same(r.runc['no user'], { code: 0, err: '', out: 'tty-owner 0 0\n0\ndone\n' }, 'runc, no user: 0:0');
    t.same(r.runts, r.runc, 'runts as runc');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
