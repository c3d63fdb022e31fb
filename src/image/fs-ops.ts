/**
 * The few *at() calls the layer applier needs beyond src/linux/libc.ts,
 * bound through its extension point. Every one acts on one component below a
 * directory fd, never on a path string resolved from "/".
 */
import * as fs from 'node:fs';
import { AT } from '../linux/abi.js';
import { fsetxattr, linkat, lsetxattr, utimensat } from '../linux/libc.js';

/** linkat(fd, "", newdir, name, AT_EMPTY_PATH): hard-link the inode of an O_PATH fd (a symlink itself, not its target). */
export function linkFd(fd: number, newDirFd: number, name: string, shown: string): void {
  linkat(fd, '', newDirFd, name, AT.EMPTY_PATH, shown);
}

/** utimensat(dir, name, {t, t}, AT_SYMLINK_NOFOLLOW). */
export function setTimesAt(dirFd: number, name: string, seconds: number, shown: string): void {
  const buf = Buffer.alloc(32);
  const sec = Math.floor(seconds);
  const nsec = Math.round((seconds - sec) * 1e9);
  for (const off of [0, 16]) {
    buf.writeBigInt64LE(BigInt(sec), off);
    buf.writeBigInt64LE(BigInt(Math.min(nsec, 999_999_999)), off + 8);
  }
  utimensat(dirFd, name === '' ? '.' : name, buf, name === '' ? 0 : AT.SYMLINK_NOFOLLOW, shown);
}

/** futimens through node (a real fd). */
export function setTimesFd(fd: number, seconds: number): void {
  fs.futimesSync(fd, seconds, seconds);
}

/**
 * lsetxattr on one component below a directory fd, by the kernel's own name
 * of that directory (/proc/self/fd/N/NAME: the magic link is our fd; the
 * last component is not followed).
 */
export function setXattrAt(dirFd: number, name: string, key: string, value: Buffer, shown: string): void {
  lsetxattr(`/proc/self/fd/${dirFd}/${name}`, key, value, shown);
}

/** fsetxattr on an open (non-O_PATH) fd. */
export function setXattrFd(fd: number, key: string, value: Buffer, shown: string): void {
  fsetxattr(fd, key, value, shown);
}

/** lstat of one component below a directory fd, or undefined when it does not exist. */
export function lstatAt(dirFd: number, name: string): fs.Stats | undefined {
  return fs.lstatSync(`/proc/self/fd/${dirFd}/${name}`, { throwIfNoEntry: false });
}

/** Names in a directory fd (O_PATH fds too), through the kernel's name of the fd. */
export function readdirFd(dirFd: number): string[] {
  return fs.readdirSync(`/proc/self/fd/${dirFd}`);
}
