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
import { AT, O, ONLCR, PTY_SLAVE_MAJOR_MAX, PTY_SLAVE_MAJOR_MIN, TCGETS, TCSETS, TIOC } from '../linux/abi.js';

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

export interface ConsoleOptions {
  size?: { height: number; width: number };
  /**
   * The process's uid: the slave is chowned to it (its group is left as the
   * devpts mount made it, gid= option or the creator's), so the process can
   * use its terminal, as runc's fixStdioPermissions does for init and exec.
   */
  uid?: number;
  /** Clear ONLCR before the master leaves: runts relays this pty itself, as runc's does. */
  clearOnlcr?: boolean;
  /** Runs with the verified slave fd first: the init passes mountConsole to bind it onto /dev/console. */
  withSlave?: (slaveFd: number) => void;
}

/** Chown the slave to uid, keeping its group; a uid or group the user namespace does not map is left alone (as runc). */
function chownSlave(slave: number, uid: number): void {
  const gid = fs.fstatSync(slave).gid;
  try {
    libc.fchownat(slave, '', uid, gid, AT.EMPTY_PATH, 'the pty slave');
  } catch (e) {
    const errno = (e as RuntsError).errno;
    if (errno !== 'EINVAL' && errno !== 'EPERM') throw e;
  }
}

/**
 * Send the master to the console socket, then make the slave our terminal.
 * Before that: the size, the owner, the modes, and `withSlave` (mountConsole,
 * src/linux/rootfs/console-mount.ts, binds the slave onto /dev/console after pivot_root).
 */
export function setupConsole(consoleFd: number, o: ConsoleOptions = {}): void {
  const pty = openPty();
  if (o.size) setWinsize(pty.master, o.size);
  if (o.uid !== undefined) chownSlave(pty.slave, o.uid);
  if (o.clearOnlcr) {
    const t = Buffer.alloc(36);
    libc.ioctl(pty.slave, TCGETS, 'void *', t, 'ioctl(TCGETS)');
    t.writeUInt32LE((t.readUInt32LE(4) & ~ONLCR) >>> 0, 4);
    libc.ioctl(pty.slave, TCSETS, 'void *', t, 'ioctl(TCSETS)');
  }
  o.withSlave?.(pty.slave);
  libc.sendFd(consoleFd, Buffer.from(pty.name), pty.master);
  libc.close(pty.master);
  libc.close(consoleFd);
  libc.setsid();
  libc.ioctl(pty.slave, TIOC.SCTTY, 'int', 0, 'ioctl(TIOCSCTTY)');
  for (const fd of [0, 1, 2]) libc.dup3(pty.slave, fd, 0);
  libc.close(pty.slave);
}
