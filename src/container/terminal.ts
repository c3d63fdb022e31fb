/**
 * `runts run` with process.terminal and no --console-socket: runts itself
 * receives the pty master and connects it to its own terminal, as runc does.
 */
import * as fs from 'node:fs';
import * as libc from '../linux/libc.js';
import { setWinsize } from '../init/console.js';

export function receiveMaster(sock: number): number {
  const { fd } = libc.recvFd(sock);
  if (fd === null) throw new Error('console socket: no pty master received');
  return fd;
}

/** Pump bytes between our stdio and the pty master; returns a stop function. */
export function forwardTerminal(master: number): () => void {
  const stdin = process.stdin;
  const isTty = stdin.isTTY === true;
  if (isTty) {
    stdin.setRawMode(true);
    const resize = () => {
      const [width, height] = process.stdout.getWindowSize?.() ?? [80, 24];
      try { setWinsize(master, { height, width }); } catch { /* container gone */ }
    };
    resize();
    process.stdout.on('resize', resize);
  }
  const onData = (d: Buffer) => { try { fs.writeSync(master, d); } catch { /* closed */ } };
  stdin.on('data', onData);
  const out = fs.createReadStream('', { fd: master, autoClose: false });
  out.on('data', (d) => { try { fs.writeSync(1, d as Buffer); } catch { /* closed */ } });
  out.on('error', () => { /* EIO when the slave side closes */ });
  return () => {
    stdin.off('data', onData);
    if (isTty) stdin.setRawMode(false);
    stdin.pause();
    out.destroy();
  };
}
