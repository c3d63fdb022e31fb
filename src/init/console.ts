/**
 * The container's terminal: a pty allocated from the container's own devpts,
 * the master sent over the console socket (SCM_RIGHTS, payload = pty name,
 * as runc does), the slave made stdio and controlling terminal.
 *
 * The peer is obtained with TIOCGPTPEER from the verified ptmx fd, never by
 * a path the container could swap (CVE-2025-52565). For the container's init
 * (not exec) the slave is also bind-mounted onto /dev/console by its fd
 * (config-linux.md "Default Devices", as runc does).
 */
import * as fs from 'node:fs';
import { RuntsError } from '../common/errors.js';
import * as libc from '../linux/libc.js';
import { O, TIOC } from '../linux/libc.js';

const PTY_SLAVE_MAJOR_MIN = 136;
const PTY_SLAVE_MAJOR_MAX = 143;

// JS shifts are mod 32: the high bits of dev_t are reached by division.
function major(rdev: number): number { return ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff); }
function minor(rdev: number): number { return (rdev & 0xff) | ((rdev >> 12) & 0xfff00); }

export interface Pty { master: number; slave: number; name: string }

export function openPty(): Pty {
  const master = libc.open('/dev/ptmx', O.RDWR | O.NOCTTY);
  const mst = fs.fstatSync(master);
  if (!mst.isCharacterDevice() || major(mst.rdev) !== 5 || minor(mst.rdev) !== 2) {
    throw new RuntsError(`/dev/ptmx is not the devpts ptmx device (char 5:2)`, { op: 'open', path: '/dev/ptmx' });
  }
  libc.unlockpt(master);
  const slave = libc.ioctl(master, TIOC.GPTPEER, 'int', O.RDWR | O.NOCTTY | O.CLOEXEC, 'ioctl(TIOCGPTPEER)');
  const sst = fs.fstatSync(slave);
  const maj = major(sst.rdev);
  if (!sst.isCharacterDevice() || maj < PTY_SLAVE_MAJOR_MIN || maj > PTY_SLAVE_MAJOR_MAX) {
    throw new RuntsError('pty peer is not a devpts slave', { op: 'ioctl(TIOCGPTPEER)' });
  }
  const n = Buffer.alloc(4);
  libc.ioctl(master, TIOC.GPTN, 'void *', n, 'ioctl(TIOCGPTN)');
  return { master, slave, name: `/dev/pts/${n.readUInt32LE(0)}` };
}

export function setWinsize(fd: number, size: { height: number; width: number }): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(size.height, 0);
  ws.writeUInt16LE(size.width, 2);
  libc.ioctl(fd, TIOC.SWINSZ, 'void *', ws, 'ioctl(TIOCSWINSZ)');
}

/**
 * Send the master to the console socket, then make the slave our terminal.
 * `withSlave` runs first with the verified slave fd: the init passes mountConsole
 * (src/linux/rootfs/setup.ts) to bind it onto /dev/console after pivot_root.
 */
export function setupConsole(consoleFd: number, size?: { height: number; width: number }, withSlave?: (slaveFd: number) => void): void {
  const pty = openPty();
  if (size) setWinsize(pty.master, size);
  withSlave?.(pty.slave);
  libc.sendFd(consoleFd, Buffer.from(pty.name), pty.master);
  libc.close(pty.master);
  libc.close(consoleFd);
  libc.setsid();
  libc.ioctl(pty.slave, TIOC.SCTTY, 'int', 0, 'ioctl(TIOCSCTTY)');
  for (const fd of [0, 1, 2]) libc.dup3(pty.slave, fd, 0);
  libc.close(pty.slave);
}
