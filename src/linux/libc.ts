/**
 * The one typed layer between runts and libc, and the only module that loads
 * koffi. Every libc function runts calls is bound here, from the prototype
 * table below, on its first call: a command binds only what it uses, and
 * commands that need no system calls beyond what node offers never load koffi.
 * The constants these calls take are in abi.ts.
 *
 * Every wrapper reads errno immediately after the call and throws a
 * SyscallError naming the call, the path and the errno name; the few that
 * return the raw result instead (for callers that treat -1 themselves) say so.
 *
 * Never fork from here: a fork from a multithreaded node process crashes in
 * the child (docs/protocol.md, "Processes"). Everything that forks lives in csrc/.
 */

import { join } from 'node:path';
import { SyscallError } from '../common/errors.js';
import {
  AF_UNIX, CLOSE_RANGE_CLOEXEC, EINTR, ENAMETOOLONG, EWOULDBLOCK, F, FSMOUNT_CLOEXEC, FSOPEN_CLOEXEC, LOCK,
  MSG_CMSG_CLOEXEC, MSG_NOSIGNAL, O, OPEN_TREE, SCM_RIGHTS, SOCK, SOL_SOCKET, SYS,
} from './abi.js';

// ---------------------------------------------------------------------------
// koffi, loaded on first use: the fast way when the build recorded where its
// native module is (scripts/build.mjs defines __RUNTS_KOFFI_NATIVE__: the path
// of the koffi.node that `require('koffi')` loaded at build time, relative to
// dist/ (where the bundles are), and koffi's version). Loading that file by
// absolute path skips koffi's package resolution, its ELF probe of node and
// node:module (about 9 ms in every init and exec stage). runts uses only the
// native functions (load, struct, errno, address), which the package's
// JavaScript exports unchanged; its own version check is made here. When the
// file is missing or its version differs, or outside a build (tsx), the
// package is loaded as usual.

declare const __RUNTS_KOFFI_NATIVE__: { path: string; version: string } | undefined;

type Koffi = any; // eslint-disable-line @typescript-eslint/no-explicit-any
let koffiMod: Koffi | undefined;

function loadKoffi(): Koffi {
  const native = typeof __RUNTS_KOFFI_NATIVE__ === 'undefined' ? undefined : __RUNTS_KOFFI_NATIVE__;
  if (native) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const m = require(join(__dirname, native.path));
      if (m?.version === native.version) return m;
    } catch { /* the package's own way, below */ }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('koffi');
}

function koffi(): Koffi {
  koffiMod ??= loadKoffi();
  return koffiMod;
}

// ---------------------------------------------------------------------------
// Bindings: every libc function runts calls, by koffi prototype

const PROTOS = {
  mount: 'int mount(const char *src, const char *dst, const char *fstype, unsigned long flags, const char *data)',
  umount2: 'int umount2(const char *target, int flags)',
  pivot_root: 'int pivot_root(const char *new_root, const char *put_old)',
  open_tree: 'int open_tree(int dfd, const char *path, unsigned int flags)',
  move_mount: 'int move_mount(int from_dfd, const char *from_path, int to_dfd, const char *to_path, unsigned int flags)',
  fsopen: 'int fsopen(const char *fsname, unsigned int flags)',
  fsconfig: 'int fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)',
  fsmount: 'int fsmount(int fd, unsigned int flags, unsigned int attr_flags)',
  fspick: 'int fspick(int dirfd, const char *path, unsigned int flags)',
  mount_setattr: 'int mount_setattr(int dfd, const char *path, unsigned int flags, void *attr, size_t size)',
  statx: 'int statx(int dirfd, const char *path, int flags, unsigned int mask, void *buf)',
  fstatfs: 'int fstatfs(int fd, void *buf)',
  open: 'int open(const char *path, int flags, ...)',
  openat: 'int openat(int dirfd, const char *path, int flags, ...)',
  close: 'int close(int fd)',
  close_range: 'int close_range(unsigned int first, unsigned int last, int flags)',
  dup3: 'int dup3(int oldfd, int newfd, int flags)',
  pipe2: 'int pipe2(_Out_ int *fds, int flags)',
  fcntl: 'int fcntl(int fd, int cmd, ...)',
  ioctl: 'int ioctl(int fd, unsigned long req, ...)',
  read: 'intptr_t read(int fd, void *buf, size_t n)',
  write: 'intptr_t write(int fd, const void *buf, size_t n)',
  getdents64: 'intptr_t getdents64(int fd, void *buf, size_t n)',
  readlinkat: 'long readlinkat(int dirfd, const char *path, void *buf, size_t n)',
  mkdirat: 'int mkdirat(int dirfd, const char *path, uint32_t mode)',
  mknodat: 'int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)',
  symlinkat: 'int symlinkat(const char *target, int dirfd, const char *path)',
  unlinkat: 'int unlinkat(int dirfd, const char *path, int flags)',
  fchownat: 'int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)',
  fchmod: 'int fchmod(int fd, uint32_t mode)',
  fchmodat: 'int fchmodat(int dirfd, const char *path, uint32_t mode, int flags)',
  utimensat: 'int utimensat(int dirfd, const char *path, const void *times, int flags)',
  linkat: 'int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)',
  lsetxattr: 'int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)',
  fsetxattr: 'int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)',
  llistxattr: 'intptr_t llistxattr(const char *path, void *list, size_t size)',
  lgetxattr: 'intptr_t lgetxattr(const char *path, const char *name, void *value, size_t size)',
  flock: 'int flock(int fd, int op)',
  chdir: 'int chdir(const char *path)',
  fchdir: 'int fchdir(int fd)',
  chroot: 'int chroot(const char *path)',
  getcwd: 'char *getcwd(_Out_ char *buf, size_t size)',
  sethostname: 'int sethostname(const char *name, size_t len)',
  setdomainname: 'int setdomainname(const char *name, size_t len)',
  prlimit: 'int prlimit(int pid, int res, const runts_rlimit *nl, _Out_ runts_rlimit *ol)',
  setgroups: 'int setgroups(size_t n, const uint32_t *list)',
  setresuid: 'int setresuid(uint32_t r, uint32_t e, uint32_t s)',
  setresgid: 'int setresgid(uint32_t r, uint32_t e, uint32_t s)',
  umask: 'uint32_t umask(uint32_t mask)',
  prctl: 'int prctl(int option, ...)',
  personality: 'int personality(unsigned long persona)',
  sched_setaffinity: 'int sched_setaffinity(int pid, size_t len, const void *mask)',
  unshare: 'int unshare(int flags)',
  setns: 'int setns(int fd, int nstype)',
  syscall: 'long syscall(long nr, ...)',
  execve: 'int execve(const char *path, const char **argv, const char **envp)',
  signal: 'void *signal(int sig, void *handler)',
  socket: 'int socket(int domain, int type, int proto)',
  socketpair: 'int socketpair(int domain, int type, int proto, _Out_ int *sv)',
  connect: 'int connect(int fd, const void *addr, uint32_t len)',
  bind: 'int bind(int fd, const void *addr, uint32_t len)',
  listen: 'int listen(int fd, int backlog)',
  accept4: 'int accept4(int fd, void *addr, void *len, int flags)',
  sendmsg: 'intptr_t sendmsg(int fd, const void *msg, int flags)',
  recvmsg: 'intptr_t recvmsg(int fd, void *msg, int flags)',
  poll: 'int poll(void *fds, unsigned long n, int timeout)',
  setsid: 'int setsid()',
  waitpid: 'int waitpid(int pid, _Out_ int *status, int options)',
  waitid: 'int waitid(int idtype, uint32_t id, _Out_ uint8_t *info, int options)',
  pidfd_open: 'int pidfd_open(int pid, unsigned int flags)',
  pidfd_send_signal: 'int pidfd_send_signal(int pidfd, int sig, void *info, unsigned int flags)',
  unlockpt: 'int unlockpt(int fd)',
} as const;

type Fn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
let libcHandle: { func(proto: string): Fn } | undefined;
const bound: { [K in keyof typeof PROTOS]?: Fn } = {};

/** The libc function `name`, bound on its first use. */
function lib<K extends keyof typeof PROTOS>(name: K): Fn {
  let f = bound[name];
  if (!f) {
    if (!libcHandle) {
      const k = koffi();
      const handle = k.load('libc.so.6');
      k.struct('runts_rlimit', { rlim_cur: 'uint64_t', rlim_max: 'uint64_t' });
      libcHandle = handle;
    }
    f = bound[name] = libcHandle!.func(PROTOS[name]);
  }
  return f!;
}

function errno(): number {
  return koffi().errno() as number;
}

/** Call, and throw a SyscallError on a -1 result. errno is read at once. */
function check(op: string, rc: number | bigint, path?: string): number {
  if (rc === -1 || rc === -1n) throw new SyscallError(op, errno(), path);
  return Number(rc);
}

export function address(buf: Buffer): bigint {
  return koffi().address(buf) as bigint;
}

// ---------------------------------------------------------------------------
// Files and descriptors

export function open(path: string, flags: number, mode = 0): number {
  return check('open', lib('open')(path, flags | O.CLOEXEC, 'uint32_t', mode), path);
}

export function openat(dirfd: number, path: string, flags: number, mode = 0, shownPath?: string): number {
  return check('openat', lib('openat')(dirfd, path, flags | O.CLOEXEC, 'uint32_t', mode), shownPath ?? path);
}

/** openat2(2): the kernel resolves `path` under `dirfd` with the given RESOLVE_ flags. */
export function openat2(dirfd: number, path: string, flags: number, resolve: number, mode = 0, shownPath?: string): number {
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(flags | O.CLOEXEC), 0);
  how.writeBigUInt64LE(BigInt(mode), 8);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  const rc = lib('syscall')(SYS.openat2, 'int', dirfd, 'const char *', path, 'void *', how, 'size_t', 24);
  return check('openat2', rc, shownPath ?? path);
}

export function close(fd: number): void {
  lib('close')(fd);
}

export function closeRangeCloexec(first: number): void {
  check('close_range', lib('close_range')(first, 0xffffffff, CLOSE_RANGE_CLOEXEC));
}

export function dup3(oldfd: number, newfd: number, flags = 0): number {
  return check('dup3', lib('dup3')(oldfd, newfd, flags));
}

export function setCloexec(fd: number, on: boolean): void {
  check('fcntl(F_SETFD)', lib('fcntl')(fd, F.SETFD, 'int', on ? F.FD_CLOEXEC : 0));
}

export function setNonblock(fd: number, on: boolean): void {
  const fl = check('fcntl(F_GETFL)', lib('fcntl')(fd, F.GETFL, 'int', 0));
  check('fcntl(F_SETFL)', lib('fcntl')(fd, F.SETFL, 'int', on ? fl | O.NONBLOCK : fl & ~O.NONBLOCK));
}

export function mkdirat(dirfd: number, path: string, mode: number, shownPath?: string): void {
  check('mkdirat', lib('mkdirat')(dirfd, path, mode), shownPath ?? path);
}

export function mknodat(dirfd: number, path: string, mode: number, major: number, minor: number, shownPath?: string): void {
  const dev = makedev(major, minor);
  check('mknodat', lib('mknodat')(dirfd, path, mode, dev), shownPath ?? path);
}

function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major), mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

export function symlinkat(target: string, dirfd: number, path: string, shownPath?: string): void {
  check('symlinkat', lib('symlinkat')(target, dirfd, path), shownPath ?? path);
}

export function unlinkat(dirfd: number, path: string, flags = 0, shownPath?: string): void {
  check('unlinkat', lib('unlinkat')(dirfd, path, flags), shownPath ?? path);
}

export function fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number, shownPath?: string): void {
  check('fchownat', lib('fchownat')(dirfd, path, uid >>> 0, gid >>> 0, flags), shownPath ?? path);
}

export function fchmod(fd: number, mode: number, shownPath?: string): void {
  check('fchmod', lib('fchmod')(fd, mode), shownPath);
}

export function fchmodat(dirfd: number, path: string, mode: number, flags: number, shownPath?: string): void {
  check('fchmodat', lib('fchmodat')(dirfd, path, mode, flags), shownPath ?? path);
}

/** utimensat(2); `times` is struct timespec[2] (atime, mtime). */
export function utimensat(dirfd: number, path: string, times: Buffer, flags: number, shownPath?: string): void {
  check('utimensat', lib('utimensat')(dirfd, path, times, flags), shownPath ?? path);
}

/** getdents64(2) into `buf`; returns the bytes filled (0 at the end). */
export function linkat(oldDirfd: number, oldPath: string, newDirfd: number, newPath: string, flags: number, shownPath?: string): void {
  check('linkat', lib('linkat')(oldDirfd, oldPath, newDirfd, newPath, flags), shownPath ?? newPath);
}

export function lsetxattr(path: string, key: string, value: Buffer, shownPath?: string): void {
  check('lsetxattr', lib('lsetxattr')(path, key, value, value.length, 0), `${shownPath ?? path} (${key})`);
}

export function fsetxattr(fd: number, key: string, value: Buffer, shownPath?: string): void {
  check('fsetxattr', lib('fsetxattr')(fd, key, value, value.length, 0), `${shownPath ?? `fd ${fd}`} (${key})`);
}

/** llistxattr(2): the raw result (names, NUL-separated, into `buf`; -1 on error, errno unread). */
export function llistxattrRaw(path: string, buf: Buffer): number { return Number(lib('llistxattr')(path, buf, buf.length)); }
/** lgetxattr(2): the raw result (-1 on error, errno unread). */
export function lgetxattrRaw(path: string, key: string, buf: Buffer): number { return Number(lib('lgetxattr')(path, key, buf, buf.length)); }

export function getdents64(fd: number, buf: Buffer, shownPath?: string): number {
  return check('getdents64', lib('getdents64')(fd, buf, buf.length), shownPath);
}

/** readlinkat(2) into `buf`; returns the length of the target. */
export function readlinkat(dirfd: number, path: string, buf: Buffer, shownPath?: string): number {
  return check('readlinkat', lib('readlinkat')(dirfd, path, buf, buf.length), shownPath ?? path);
}

/** fstatfs(2) into `buf` (struct statfs, 120 bytes on x86_64 / arm64). */
export function fstatfs(fd: number, buf: Buffer, shownPath?: string): void {
  check('fstatfs', lib('fstatfs')(fd, buf), shownPath);
}

/** statx(2) into `buf` (struct statx, 256 bytes). */
export function statx(dirfd: number, path: string, flags: number, mask: number, buf: Buffer, shownPath?: string): void {
  check('statx', lib('statx')(dirfd, path, flags, mask, buf), shownPath ?? path);
}

/** pipe2(2): [read end, write end]. */
export function pipe2(flags: number): [number, number] {
  const fds = new Int32Array(2);
  check('pipe2', lib('pipe2')(fds, flags));
  return [fds[0]!, fds[1]!];
}

export function flock(fd: number, op: number, path?: string): boolean {
  const rc = lib('flock')(fd, op);
  if (rc === -1) {
    const e = errno();
    if (e === EWOULDBLOCK && op & LOCK.NB) return false;
    throw new SyscallError('flock', e, path);
  }
  return true;
}

export function read(fd: number, buf: Buffer): number {
  return check('read', lib('read')(fd, buf, buf.length));
}

export function write(fd: number, buf: Buffer): number {
  return check('write', lib('write')(fd, buf, buf.length));
}

export function ioctl(fd: number, req: number, argType: string, arg: unknown, what?: string): number {
  return check(what ?? `ioctl(0x${req.toString(16)})`, lib('ioctl')(fd, req, argType, arg));
}

export function poll(fds: { fd: number; events: number }[], timeoutMs: number): number[] {
  const buf = Buffer.alloc(8 * fds.length);
  fds.forEach((p, i) => { buf.writeInt32LE(p.fd, i * 8); buf.writeInt16LE(p.events, i * 8 + 4); });
  for (;;) {
    const rc = lib('poll')(buf, fds.length, timeoutMs);
    if (rc === -1) {
      const e = errno();
      if (e === EINTR) continue;
      throw new SyscallError('poll', e);
    }
    return fds.map((_, i) => buf.readInt16LE(i * 8 + 6));
  }
}

// ---------------------------------------------------------------------------
// Mounts

export function mount(src: string | null, dst: string, fstype: string | null, flags: number, data: string | null): void {
  check('mount', lib('mount')(src, dst, fstype, flags, data), dst);
}

export function umount2(target: string, flags: number): void {
  check('umount2', lib('umount2')(target, flags), target);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check('pivot_root', lib('pivot_root')(newRoot, putOld), newRoot);
}

export function openTree(dirfd: number, path: string, flags: number, shownPath?: string): number {
  return check('open_tree', lib('open_tree')(dirfd, path, flags | OPEN_TREE.CLOEXEC), shownPath ?? path);
}

export function moveMount(fromFd: number, fromPath: string, toFd: number, toPath: string, flags: number, shownPath?: string): void {
  check('move_mount', lib('move_mount')(fromFd, fromPath, toFd, toPath, flags), shownPath ?? toPath);
}

export function fsopen(fstype: string): number {
  return check('fsopen', lib('fsopen')(fstype, FSOPEN_CLOEXEC), fstype);
}

export function fsconfig(fd: number, cmd: number, key: string | null, value: string | null, aux = 0, what?: string): void {
  check('fsconfig', lib('fsconfig')(fd, cmd, key, value, aux), what ?? (key ?? undefined));
}

export function fsmount(fd: number, attrFlags: number, what?: string): number {
  return check('fsmount', lib('fsmount')(fd, FSMOUNT_CLOEXEC, attrFlags), what);
}

export function fspick(dirfd: number, path: string, flags: number, shownPath?: string): number {
  return check('fspick', lib('fspick')(dirfd, path, flags), shownPath ?? path);
}

interface MountAttr { set: number; clr: number; propagation: number; usernsFd?: number }

export function mountSetattr(dirfd: number, path: string, flags: number, attr: MountAttr, shownPath?: string): void {
  const buf = Buffer.alloc(32);
  buf.writeBigUInt64LE(BigInt(attr.set), 0);
  buf.writeBigUInt64LE(BigInt(attr.clr), 8);
  buf.writeBigUInt64LE(BigInt(attr.propagation), 16);
  buf.writeBigUInt64LE(BigInt(attr.usernsFd ?? 0), 24);
  check('mount_setattr', lib('mount_setattr')(dirfd, path, flags, buf, 32), shownPath ?? path);
}

// ---------------------------------------------------------------------------
// Process attributes

export function chdir(path: string): void { check('chdir', lib('chdir')(path), path); }
export function fchdir(fd: number, shownPath?: string): void { check('fchdir', lib('fchdir')(fd), shownPath); }
export function chroot(path: string): void { check('chroot', lib('chroot')(path), path); }

export function getcwd(): string {
  const buf = Buffer.alloc(4096);
  const p = lib('getcwd')(buf, buf.length);
  if (p === null) throw new SyscallError('getcwd', errno());
  return buf.subarray(0, buf.indexOf(0)).toString();
}

export function sethostname(name: string): void {
  const b = Buffer.from(name);
  check('sethostname', lib('sethostname')(name, b.length), name);
}

export function setdomainname(name: string): void {
  const b = Buffer.from(name);
  check('setdomainname', lib('setdomainname')(name, b.length), name);
}

export function setrlimit(resource: number, soft: bigint, hard: bigint, name: string): void {
  check('setrlimit', lib('prlimit')(0, resource, { rlim_cur: soft, rlim_max: hard }, null), name);
}

export function setgroups(gids: number[]): void {
  check('setgroups', lib('setgroups')(gids.length, gids.length ? Uint32Array.from(gids) : null));
}

export function setresuid(uid: number): void { check('setresuid', lib('setresuid')(uid, uid, uid)); }
export function setresgid(gid: number): void { check('setresgid', lib('setresgid')(gid, gid, gid)); }
export function umask(mask: number): number { return lib('umask')(mask); }

/** unshare(2) on the calling thread. */
export function unshare(flags: number, what: string): void { check(what, lib('unshare')(flags)); }
export function setns(fd: number, nstype: number, what: string, shownPath?: string): void {
  check(what, lib('setns')(fd, nstype), shownPath);
}

/** personality(2), unchecked: the previous persona, or -1 with errno for checked(). */
export function personality(persona: number): number { return lib('personality')(persona); }

/** sched_setaffinity(2) of `pid` (0: the calling thread) to the CPUs set in `mask`. */
export function schedSetaffinity(pid: number, mask: Buffer, shownPath?: string): void {
  check('sched_setaffinity', lib('sched_setaffinity')(pid, mask.length, mask), shownPath);
}

/** prctl with unsigned long arguments. */
export function prctl(option: number, a2 = 0, a3 = 0, a4 = 0, a5 = 0, what = `prctl(${option})`): number {
  return check(what, lib('prctl')(option, 'unsigned long', a2, 'unsigned long', a3, 'unsigned long', a4, 'unsigned long', a5));
}

/** Raw syscall with (type, value) pairs, for calls glibc does not wrap. */
export function syscall(nr: number, what: string, ...typedArgs: unknown[]): number {
  return check(what, lib('syscall')(nr, ...typedArgs));
}

/** Raw syscall, unchecked: the result as the kernel gave it, for checked(). */
export function syscallRaw(nr: number, ...typedArgs: unknown[]): number | bigint {
  return lib('syscall')(nr, ...typedArgs);
}

export function setsid(): number { return check('setsid', lib('setsid')()); }

export function execve(path: string, argv: string[], envp: string[]): never {
  lib('execve')(path, [...argv, null], [...envp, null]);
  throw new SyscallError('execve', errno(), path);
}

// ---------------------------------------------------------------------------
// Signals and children

/** signal(sig, SIG_DFL): the default disposition; the result is not checked. */
export function setSignalDefault(sig: number): void { lib('signal')(sig, null); }

export function pidfdOpen(pid: number): number {
  return check('pidfd_open', lib('pidfd_open')(pid, 0), String(pid));
}

export function pidfdSendSignal(pidfd: number, sig: number): void {
  check('pidfd_send_signal', lib('pidfd_send_signal')(pidfd, sig, null, 0));
}

/** waitpid; returns null when WNOHANG and the child has not changed state. */
export function waitpid(pid: number, options: number): { pid: number; status: number } | null {
  const st = [0];
  for (;;) {
    const rc = lib('waitpid')(pid, st, options);
    if (rc === -1) {
      const e = errno();
      if (e === EINTR) continue;
      throw new SyscallError('waitpid', e, String(pid));
    }
    if (rc === 0) return null;
    return { pid: rc, status: st[0]! };
  }
}

/** waitid(2) into `info` (siginfo_t, 128 bytes), unchecked: 0, or -1 with errno. */
export function waitid(idtype: number, id: number, info: Buffer, options: number): number {
  return lib('waitid')(idtype, id, info, options);
}

/** Decode a wait status the way a shell does: exit code, or 128+signal. */
export function exitCodeOf(status: number): number {
  const sig = status & 0x7f;
  if (sig === 0) return (status >> 8) & 0xff;
  return 128 + sig;
}

// ---------------------------------------------------------------------------
// Sockets

function sockaddrUn(path: string): Buffer {
  const p = Buffer.from(path);
  if (p.length >= 108) throw new SyscallError('socket', ENAMETOOLONG, path);
  const b = Buffer.alloc(2 + p.length + 1);
  b.writeUInt16LE(AF_UNIX, 0);
  p.copy(b, 2);
  return b;
}

export function socket(type: number): number {
  return check('socket', lib('socket')(AF_UNIX, type | SOCK.CLOEXEC, 0));
}

/** socket(2) of any domain; the caller passes SOCK.CLOEXEC in `type`. */
export function socketIn(domain: number, type: number, proto: number, what: string): number {
  return check(what, lib('socket')(domain, type, proto));
}

export function socketpair(type: number): [number, number] {
  const sv = [0, 0];
  const out = new Int32Array(2);
  check('socketpair', lib('socketpair')(AF_UNIX, type | SOCK.CLOEXEC, 0, out));
  sv[0] = out[0]!; sv[1] = out[1]!;
  return [sv[0], sv[1]];
}

export function connectUnix(fd: number, path: string): void {
  const a = sockaddrUn(path);
  check('connect', lib('connect')(fd, a, a.length), path);
}

export function bindUnix(fd: number, path: string): void {
  const a = sockaddrUn(path);
  check('bind', lib('bind')(fd, a, a.length), path);
}

export function listen(fd: number, backlog: number): void { check('listen', lib('listen')(fd, backlog)); }

export function accept(fd: number): number {
  for (;;) {
    const rc = lib('accept4')(fd, null, null, SOCK.CLOEXEC);
    if (rc === -1) {
      const e = errno();
      if (e === EINTR) continue;
      throw new SyscallError('accept', e);
    }
    return rc;
  }
}

/** sendmsg with one SCM_RIGHTS fd and `data` as the normal payload. */
export function sendFd(sock: number, data: Buffer, fd: number): void {
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(address(data), 0);
  iov.writeBigUInt64LE(BigInt(data.length), 8);
  const cmsg = Buffer.alloc(24); // CMSG_SPACE(sizeof(int)) = 24
  cmsg.writeBigUInt64LE(20n, 0); // cmsg_len = CMSG_LEN(4)
  cmsg.writeInt32LE(SOL_SOCKET, 8);
  cmsg.writeInt32LE(SCM_RIGHTS, 12);
  cmsg.writeInt32LE(fd, 16);
  const msg = Buffer.alloc(56);
  msg.writeBigUInt64LE(0n, 0); // msg_name
  msg.writeUInt32LE(0, 8); // msg_namelen
  msg.writeBigUInt64LE(address(iov), 16);
  msg.writeBigUInt64LE(1n, 24);
  msg.writeBigUInt64LE(address(cmsg), 32);
  msg.writeBigUInt64LE(BigInt(cmsg.length), 40);
  msg.writeInt32LE(0, 48);
  check('sendmsg', lib('sendmsg')(sock, msg, MSG_NOSIGNAL));
}

/** recvmsg of one message that may carry one fd. */
export function recvFd(sock: number, maxData = 4096): { data: Buffer; fd: number | null } {
  const data = Buffer.alloc(maxData);
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(address(data), 0);
  iov.writeBigUInt64LE(BigInt(data.length), 8);
  const cmsg = Buffer.alloc(64);
  const msg = Buffer.alloc(56);
  msg.writeBigUInt64LE(address(iov), 16);
  msg.writeBigUInt64LE(1n, 24);
  msg.writeBigUInt64LE(address(cmsg), 32);
  msg.writeBigUInt64LE(BigInt(cmsg.length), 40);
  const n = check('recvmsg', lib('recvmsg')(sock, msg, MSG_CMSG_CLOEXEC));
  const controllen = Number(msg.readBigUInt64LE(40));
  let fd: number | null = null;
  if (controllen >= 20 && cmsg.readInt32LE(8) === SOL_SOCKET && cmsg.readInt32LE(12) === SCM_RIGHTS) fd = cmsg.readInt32LE(16);
  return { data: data.subarray(0, n), fd };
}

export function unlockpt(fd: number): void { check('unlockpt', lib('unlockpt')(fd)); }


/** Throw a SyscallError for a -1 result; read errno at once after the call. */
export function checked(op: string, rc: number | bigint, path?: string): number {
  return check(op, rc, path);
}
