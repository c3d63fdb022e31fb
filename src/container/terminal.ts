/**
 * `runts run` / `runts exec -t` with a terminal and no --console-socket:
 * runts itself receives the pty master and connects it to its own stdio, as
 * runc does.
 *
 * Output is read from the master (non-blocking, through the event loop) and
 * written to our stdout. When the process has exited, the stop function
 * drains the master synchronously until it is empty (EAGAIN) or the other
 * side is gone (EIO): a program that writes and exits at once (`echo`) has
 * its output in the pty buffer at that moment, and it must not be lost.
 *
 * As runc does: the container's pty has ONLCR cleared (its "\n" stays "\n",
 * so a pipe gets the program's bytes), and our own terminal (stdin, when it
 * is one) is put in raw mode like containerd/console's SetRaw: cfmakeraw but
 * with output processing kept (the screen shows "\r\n"); the saved modes are
 * restored on stop and at exit.
 */
import * as fs from 'node:fs';
import { setWinsize } from '../init/console.js';
import * as libc from '../linux/libc.js';
import {
  BRKINT, CS8, CSIZE, EAGAIN, ECHO, ECHONL, EIO, ICANON, ICRNL, IEXTEN, IGNBRK, IGNCR, INLCR, ISIG, ISTRIP, IXON,
  ONLCR, OPOST, PARENB, PARMRK, POLL, TCGETS, TCSETS,
} from '../linux/abi.js';

// node:tty (with net and stream: ~5 ms) only for a terminal: exec and run import this file
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tty = (): typeof import('node:tty') => require('node:tty') as typeof import('node:tty');

export function receiveMaster(sock: number): number {
  const { fd } = libc.recvFd(sock);
  if (fd === null) throw new Error('console socket: no pty master received');
  return fd;
}

/** struct termios (kernel layout, 36 bytes) of fd, or undefined when fd is not a terminal. */
function getTermios(fd: number): Buffer | undefined {
  if (!tty().isatty(fd)) return undefined;
  const t = Buffer.alloc(36);
  try {
    libc.ioctl(fd, TCGETS, 'void *', t, 'ioctl(TCGETS)');
  } catch {
    return undefined;
  }
  return t;
}

/**
 * cfmakeraw(3) on a kernel termios buffer (c_iflag, c_oflag, c_cflag,
 * c_lflag, c_line, c_cc[19]), but OPOST kept, as containerd/console's SetRaw.
 */
export function makeRaw(t: Buffer): Buffer {
  const r = Buffer.from(t);
  r.writeUInt32LE((r.readUInt32LE(0) & ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON)) >>> 0, 0);
  r.writeUInt32LE((r.readUInt32LE(4) | OPOST) >>> 0, 4);
  r.writeUInt32LE(((r.readUInt32LE(8) & ~(CSIZE | PARENB)) | CS8) >>> 0, 8);
  r.writeUInt32LE((r.readUInt32LE(12) & ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN)) >>> 0, 12);
  r[17 + 6] = 1; // c_cc[VMIN]
  r[17 + 5] = 0; // c_cc[VTIME]
  return r;
}

function errnoOf(e: unknown): number | undefined {
  const x = e as { errno?: number; code?: string };
  if (typeof x.errno === 'number') return Math.abs(x.errno);
  if (x.code === 'EAGAIN') return EAGAIN;
  if (x.code === 'EIO') return EIO;
  return undefined;
}

/** Write all of `buf` to a possibly non-blocking fd; false when it cannot take more. */
function writeAll(fd: number, buf: Buffer): boolean {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (e) {
      if (errnoOf(e) !== EAGAIN) return false;
      libc.poll([{ fd, events: POLL.OUT }], 1000);
    }
  }
  return true;
}

/**
 * Pump bytes between our stdio and the pty master; returns the stop
 * function, to call once the process has exited: it drains what the process
 * wrote, then lets go of the master and of our terminal.
 */
export function forwardTerminal(master: number): () => void {
  const saved = getTermios(0);
  const restore = () => { if (saved) { try { libc.ioctl(0, TCSETS, 'void *', saved, 'ioctl(TCSETS)'); } catch { /* gone */ } } };
  let resize: (() => void) | undefined;
  if (saved) {
    libc.ioctl(0, TCSETS, 'void *', makeRaw(saved), 'ioctl(TCSETS)');
    process.on('exit', restore);
    if (process.stdout.isTTY) {
      resize = () => {
        const [width, height] = process.stdout.getWindowSize?.() ?? [80, 24];
        try { setWinsize(master, { height, width }); } catch { /* container gone */ }
      };
      resize();
      process.stdout.on('resize', resize);
    }
  }
  const ptyModes = getTermios(master);
  if (ptyModes) {
    ptyModes.writeUInt32LE((ptyModes.readUInt32LE(4) & ~ONLCR) >>> 0, 4);
    libc.ioctl(master, TCSETS, 'void *', ptyModes, 'ioctl(TCSETS)');
  }
  libc.setNonblock(master, true);
  const stdin = process.stdin;
  const onData = (d: Buffer) => { writeAll(master, d); };
  stdin.on('data', onData);

  const out = new (tty().ReadStream)(master);
  let open = true; // the stream owns the fd and closes it on error/destroy
  const toStdout = (d: Buffer) => { writeAll(1, d); };
  out.on('data', toStdout);
  out.on('error', () => { /* EIO: the other side is gone */ });
  out.on('close', () => { open = false; });

  return () => {
    stdin.off('data', onData);
    stdin.pause();
    if (resize) process.stdout.off('resize', resize);
    if (open) {
      // what the event loop has read but not handed out yet (read() emits
      // 'data' too: the listener goes first), then what is still in the pty
      out.off('data', toStdout);
      for (let c = out.read() as Buffer | null; c !== null; c = out.read() as Buffer | null) toStdout(c);
      const buf = Buffer.alloc(65536);
      for (;;) {
        let n: number;
        try {
          n = fs.readSync(master, buf, 0, buf.length, null);
        } catch {
          break; // EAGAIN: empty (something else still holds the slave); EIO: the other side is gone
        }
        if (n <= 0) break;
        toStdout(buf.subarray(0, n));
      }
      out.destroy();
    }
    restore();
    process.off('exit', restore);
  };
}
