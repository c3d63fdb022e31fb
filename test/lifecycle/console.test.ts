/**
 * process.terminal with --console-socket: the pty master arrives over the
 * socket (SCM_RIGHTS), the container's stdio is the pty slave and it has a
 * controlling terminal.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { readPtyUntil } from '../helpers/wait.js';
import * as libc from '../../src/linux/libc.js';
import { SOCK } from '../../src/linux/abi.js';
import { tmpdir } from '../helpers/rootfs.js';
import { makeBundle, uniqueId, withRunts } from '../helpers/runts.js';

withRunts((rt) => {
  t.test('the pty master is delivered over the console socket', async (t) => {
    const dir = tmpdir();
    const sockPath = path.join(dir, 'console.sock');
    const listener = libc.socket(SOCK.STREAM);
    libc.bindUnix(listener, sockPath);
    libc.listen(listener, 1);

    const id = uniqueId('tty');
    const bundle = makeBundle({ args: ['sh', '-c', 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-tty; ps -o pid,tty | head -3; stty size; echo done'], mutate: (c) => {
      c.process.terminal = true;
      c.process.consoleSize = { height: 33, width: 101 };
    } });
    const create = rt.spawn(['create', '--bundle', bundle, '--console-socket', sockPath, id]);
    const conn = libc.accept(listener);
    const { data, fd } = libc.recvFd(conn);
    t.ok(fd !== null, 'received an fd');
    t.match(data.toString(), /^\/dev\/pts\/[0-9]+$/, 'payload is the pty name, as runc sends it');
    const code = await new Promise<number>((res) => create.on('exit', (c) => res(c ?? -1)));
    t.equal(code, 0, 'create succeeded');
    const st = fs.fstatSync(fd!);
    t.ok(st.isCharacterDevice(), 'the fd is a character device');
    t.equal(Math.floor(st.rdev / 256), 5, 'major 5: the ptmx');
    t.equal(rt.run(['start', id]).code, 0);

    const out = readPtyUntil(fd!, 'done');
    t.match(out, /\/dev\/pts\/0/, 'the container sees its own pts/0');
    t.match(out, /stdio-is-tty/);
    t.match(out, /33 101/, 'consoleSize applied');
    libc.close(fd!);
    libc.close(conn);
    libc.close(listener);
    for (let i = 0; i < 100 && rt.state(id).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 20));
    t.equal(rt.run(['delete', '-f', id]).code, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
