/**
 * The one typed layer between runts and libc (through koffi).
 *
 * Every wrapper reads errno immediately after the call and throws a
 * SyscallError naming the call, the path and the errno name. Nothing else in
 * runts calls koffi directly. koffi is loaded on first use, so commands that
 * need no system calls beyond what node offers never pay for it.
 *
 * Never fork from here: a fork from a multithreaded node process crashes in
 * the child (docs/protocol.md, "Processes"). Everything that forks lives in csrc/.
 */

import { SyscallError } from '../common/errors.js';
import { loadKoffi } from './koffi-load.js';

// koffi is CommonJS with a native part; load it on first use.
type Koffi = any; // eslint-disable-line @typescript-eslint/no-explicit-any
let koffiMod: Koffi | undefined;
function koffi(): Koffi {
  koffiMod ??= loadKoffi();
  return koffiMod;
}

// ---------------------------------------------------------------------------
// Constants (x86_64 Linux; the generic values are the same on arm64 except
// where noted by syscall numbers).

export const O = {
  RDONLY: 0o0, WRONLY: 0o1, RDWR: 0o2, CREAT: 0o100, EXCL: 0o200, NOCTTY: 0o400,
  TRUNC: 0o1000, APPEND: 0o2000, NONBLOCK: 0o4000, DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000, CLOEXEC: 0o2000000, PATH: 0o10000000,
} as const;

export const AT = {
  FDCWD: -100, SYMLINK_NOFOLLOW: 0x100, REMOVEDIR: 0x200, SYMLINK_FOLLOW: 0x400,
  NO_AUTOMOUNT: 0x800, EMPTY_PATH: 0x1000, RECURSIVE: 0x8000,
} as const;

export const RESOLVE = {
  NO_XDEV: 0x01, NO_MAGICLINKS: 0x02, NO_SYMLINKS: 0x04, BENEATH: 0x08, IN_ROOT: 0x10, CACHED: 0x20,
} as const;

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64,
  DIRSYNC: 128, NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192,
  REC: 16384, SILENT: 32768, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19,
  SHARED: 1 << 20, RELATIME: 1 << 21, STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
} as const;

export const MOUNT_ATTR = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, _ATIME: 0x70, RELATIME: 0x0,
  NOATIME: 0x10, STRICTATIME: 0x20, NODIRATIME: 0x80, IDMAP: 0x100000, NOSYMFOLLOW: 0x200000,
} as const;

export const OPEN_TREE = { CLONE: 1, CLOEXEC: O.CLOEXEC } as const;
export const MOVE_MOUNT = { F_SYMLINKS: 1, F_AUTOMOUNTS: 2, F_EMPTY_PATH: 4, T_SYMLINKS: 0x10, T_AUTOMOUNTS: 0x20, T_EMPTY_PATH: 0x40 } as const;
export const FSCONFIG = { SET_FLAG: 0, SET_STRING: 1, SET_BINARY: 2, SET_PATH: 3, SET_PATH_EMPTY: 4, SET_FD: 5, CMD_CREATE: 6, CMD_RECONFIGURE: 7 } as const;
export const FSOPEN_CLOEXEC = 1;
export const FSMOUNT_CLOEXEC = 1;
export const MNT_DETACH = 2;
export const CLOSE_RANGE_CLOEXEC = 4;
export const F = { DUPFD_CLOEXEC: 1030, GETFD: 1, SETFD: 2, GETFL: 3, SETFL: 4, FD_CLOEXEC: 1 } as const;
export const PR = {
  SET_PDEATHSIG: 1, SET_DUMPABLE: 4, SET_KEEPCAPS: 8, SET_NAME: 15, CAPBSET_READ: 23, CAPBSET_DROP: 24,
  SET_CHILD_SUBREAPER: 36, SET_NO_NEW_PRIVS: 38, CAP_AMBIENT: 47,
} as const;
export const S_IF = { MT: 0o170000, SOCK: 0o140000, LNK: 0o120000, REG: 0o100000, BLK: 0o60000, DIR: 0o40000, CHR: 0o20000, FIFO: 0o10000 } as const;
export const LOCK = { SH: 1, EX: 2, NB: 4, UN: 8 } as const;
export const POLL = { IN: 1, PRI: 2, OUT: 4, ERR: 8, HUP: 16, NVAL: 32 } as const;
export const TIOC = { SCTTY: 0x540e, SWINSZ: 0x5414, GWINSZ: 0x5413, SPTLCK: 0x40045431, GPTN: 0x80045430, GPTPEER: 0x5441 } as const;
export const AF_UNIX = 1;
export const SOCK = { STREAM: 1, DGRAM: 2, SEQPACKET: 5, CLOEXEC: O.CLOEXEC, NONBLOCK: O.NONBLOCK } as const;
export const SOL_SOCKET = 1;
export const SCM_RIGHTS = 1;
export const WNOHANG = 1;

/** x86_64 syscall numbers used directly (glibc 2.36 lacks wrappers for these). */
export const SYS = { openat2: 437, seccomp: 317, capget: 125, capset: 126, sched_setattr: 314, ioprio_set: 251, set_mempolicy: 238, bpf: 321 } as const;

// ---------------------------------------------------------------------------
// Bindings

interface Bound {
  [name: string]: (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}
let fns: Bound | undefined;
let rlimitT: unknown;

function lib(): Bound {
  if (fns) return fns;
  const k = koffi();
  const c = k.load('libc.so.6');
  rlimitT = k.struct('runts_rlimit', { rlim_cur: 'uint64_t', rlim_max: 'uint64_t' });
  const protos: Record<string, string> = {
    mount: 'int mount(const char *src, const char *dst, const char *fstype, unsigned long flags, const char *data)',
    umount2: 'int umount2(const char *target, int flags)',
    pivot_root: 'int pivot_root(const char *new_root, const char *put_old)',
    open_tree: 'int open_tree(int dfd, const char *path, unsigned int flags)',
    move_mount: 'int move_mount(int from_dfd, const char *from_path, int to_dfd, const char *to_path, unsigned int flags)',
    fsopen: 'int fsopen(const char *fsname, unsigned int flags)',
    fsconfig: 'int fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)',
    fsmount: 'int fsmount(int fd, unsigned int flags, unsigned int attr_flags)',
    mount_setattr: 'int mount_setattr(int dfd, const char *path, unsigned int flags, void *attr, size_t size)',
    open: 'int open(const char *path, int flags, ...)',
    openat: 'int openat(int dirfd, const char *path, int flags, ...)',
    close: 'int close(int fd)',
    close_range: 'int close_range(unsigned int first, unsigned int last, int flags)',
    dup3: 'int dup3(int oldfd, int newfd, int flags)',
    fcntl: 'int fcntl(int fd, int cmd, ...)',
    ioctl: 'int ioctl(int fd, unsigned long req, ...)',
    read: 'intptr_t read(int fd, void *buf, size_t n)',
    write: 'intptr_t write(int fd, const void *buf, size_t n)',
    mkdirat: 'int mkdirat(int dirfd, const char *path, uint32_t mode)',
    mknodat: 'int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)',
    symlinkat: 'int symlinkat(const char *target, int dirfd, const char *path)',
    unlinkat: 'int unlinkat(int dirfd, const char *path, int flags)',
    fchownat: 'int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)',
    fchmod: 'int fchmod(int fd, uint32_t mode)',
    mkfifo: 'int mkfifo(const char *path, uint32_t mode)',
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
    syscall: 'long syscall(long nr, ...)',
    execve: 'int execve(const char *path, const char **argv, const char **envp)',
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
    getpid: 'int getpid()',
    kill: 'int kill(int pid, int sig)',
    waitpid: 'int waitpid(int pid, _Out_ int *status, int options)',
    pidfd_open: 'int pidfd_open(int pid, unsigned int flags)',
    pidfd_send_signal: 'int pidfd_send_signal(int pidfd, int sig, void *info, unsigned int flags)',
    flock: 'int flock(int fd, int op)',
    unlockpt: 'int unlockpt(int fd)',
  };
  // Bind everything before publishing: a failure must not leave a half-bound table.
  const bound: Bound = {};
  for (const [name, proto] of Object.entries(protos)) bound[name] = c.func(proto);
  fns = bound;
  return fns;
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
  return check('open', lib().open(path, flags | O.CLOEXEC, 'uint32_t', mode), path);
}

export function openat(dirfd: number, path: string, flags: number, mode = 0, shownPath?: string): number {
  return check('openat', lib().openat(dirfd, path, flags | O.CLOEXEC, 'uint32_t', mode), shownPath ?? path);
}

/** openat2(2): the kernel resolves `path` under `dirfd` with the given RESOLVE_ flags. */
export function openat2(dirfd: number, path: string, flags: number, resolve: number, mode = 0, shownPath?: string): number {
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(flags | O.CLOEXEC), 0);
  how.writeBigUInt64LE(BigInt(mode), 8);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  const rc = lib().syscall(SYS.openat2, 'int', dirfd, 'const char *', path, 'void *', how, 'size_t', 24);
  return check('openat2', rc, shownPath ?? path);
}

export function close(fd: number): void {
  lib().close(fd);
}

export function closeRangeCloexec(first: number): void {
  check('close_range', lib().close_range(first, 0xffffffff, CLOSE_RANGE_CLOEXEC));
}

export function dup3(oldfd: number, newfd: number, flags = 0): number {
  return check('dup3', lib().dup3(oldfd, newfd, flags));
}

export function setCloexec(fd: number, on: boolean): void {
  check('fcntl(F_SETFD)', lib().fcntl(fd, F.SETFD, 'int', on ? F.FD_CLOEXEC : 0));
}

export function setNonblock(fd: number, on: boolean): void {
  const fl = check('fcntl(F_GETFL)', lib().fcntl(fd, F.GETFL, 'int', 0));
  check('fcntl(F_SETFL)', lib().fcntl(fd, F.SETFL, 'int', on ? fl | O.NONBLOCK : fl & ~O.NONBLOCK));
}

export function mkdirat(dirfd: number, path: string, mode: number, shownPath?: string): void {
  check('mkdirat', lib().mkdirat(dirfd, path, mode), shownPath ?? path);
}

export function mknodat(dirfd: number, path: string, mode: number, major: number, minor: number, shownPath?: string): void {
  const dev = makedev(major, minor);
  check('mknodat', lib().mknodat(dirfd, path, mode, dev), shownPath ?? path);
}

export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major), mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

export function symlinkat(target: string, dirfd: number, path: string, shownPath?: string): void {
  check('symlinkat', lib().symlinkat(target, dirfd, path), shownPath ?? path);
}

export function unlinkat(dirfd: number, path: string, flags = 0, shownPath?: string): void {
  check('unlinkat', lib().unlinkat(dirfd, path, flags), shownPath ?? path);
}

export function fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number, shownPath?: string): void {
  check('fchownat', lib().fchownat(dirfd, path, uid >>> 0, gid >>> 0, flags), shownPath ?? path);
}

export function fchmod(fd: number, mode: number, shownPath?: string): void {
  check('fchmod', lib().fchmod(fd, mode), shownPath);
}

export function mkfifo(path: string, mode: number): void {
  check('mkfifo', lib().mkfifo(path, mode), path);
}

export function flock(fd: number, op: number, path?: string): boolean {
  const rc = lib().flock(fd, op);
  if (rc === -1) {
    const e = errno();
    if (e === 11 /* EWOULDBLOCK */ && op & LOCK.NB) return false;
    throw new SyscallError('flock', e, path);
  }
  return true;
}

export function read(fd: number, buf: Buffer): number {
  return check('read', lib().read(fd, buf, buf.length));
}

export function write(fd: number, buf: Buffer): number {
  return check('write', lib().write(fd, buf, buf.length));
}

export function ioctl(fd: number, req: number, argType: string, arg: unknown, what?: string): number {
  return check(what ?? `ioctl(0x${req.toString(16)})`, lib().ioctl(fd, req, argType, arg));
}

export function poll(fds: { fd: number; events: number }[], timeoutMs: number): number[] {
  const buf = Buffer.alloc(8 * fds.length);
  fds.forEach((p, i) => { buf.writeInt32LE(p.fd, i * 8); buf.writeInt16LE(p.events, i * 8 + 4); });
  for (;;) {
    const rc = lib().poll(buf, fds.length, timeoutMs);
    if (rc === -1) {
      const e = errno();
      if (e === 4 /* EINTR */) continue;
      throw new SyscallError('poll', e);
    }
    return fds.map((_, i) => buf.readInt16LE(i * 8 + 6));
  }
}

// ---------------------------------------------------------------------------
// Mounts

export function mount(src: string | null, dst: string, fstype: string | null, flags: number, data: string | null): void {
  check('mount', lib().mount(src, dst, fstype, flags, data), dst);
}

export function umount2(target: string, flags: number): void {
  check('umount2', lib().umount2(target, flags), target);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check('pivot_root', lib().pivot_root(newRoot, putOld), newRoot);
}

export function openTree(dirfd: number, path: string, flags: number, shownPath?: string): number {
  return check('open_tree', lib().open_tree(dirfd, path, flags | OPEN_TREE.CLOEXEC), shownPath ?? path);
}

export function moveMount(fromFd: number, fromPath: string, toFd: number, toPath: string, flags: number, shownPath?: string): void {
  check('move_mount', lib().move_mount(fromFd, fromPath, toFd, toPath, flags), shownPath ?? toPath);
}

export function fsopen(fstype: string): number {
  return check('fsopen', lib().fsopen(fstype, FSOPEN_CLOEXEC), fstype);
}

export function fsconfig(fd: number, cmd: number, key: string | null, value: string | null, aux = 0, what?: string): void {
  check('fsconfig', lib().fsconfig(fd, cmd, key, value, aux), what ?? (key ?? undefined));
}

export function fsmount(fd: number, attrFlags: number, what?: string): number {
  return check('fsmount', lib().fsmount(fd, FSMOUNT_CLOEXEC, attrFlags), what);
}

export interface MountAttr { set: number; clr: number; propagation: number; usernsFd?: number }

export function mountSetattr(dirfd: number, path: string, flags: number, attr: MountAttr, shownPath?: string): void {
  const buf = Buffer.alloc(32);
  buf.writeBigUInt64LE(BigInt(attr.set), 0);
  buf.writeBigUInt64LE(BigInt(attr.clr), 8);
  buf.writeBigUInt64LE(BigInt(attr.propagation), 16);
  buf.writeBigUInt64LE(BigInt(attr.usernsFd ?? 0), 24);
  check('mount_setattr', lib().mount_setattr(dirfd, path, flags, buf, 32), shownPath ?? path);
}

// ---------------------------------------------------------------------------
// Process attributes

export function chdir(path: string): void { check('chdir', lib().chdir(path), path); }
export function fchdir(fd: number, shownPath?: string): void { check('fchdir', lib().fchdir(fd), shownPath); }
export function chroot(path: string): void { check('chroot', lib().chroot(path), path); }

export function getcwd(): string {
  const buf = Buffer.alloc(4096);
  const p = lib().getcwd(buf, buf.length);
  if (p === null) throw new SyscallError('getcwd', errno());
  return buf.subarray(0, buf.indexOf(0)).toString();
}

export function sethostname(name: string): void {
  const b = Buffer.from(name);
  check('sethostname', lib().sethostname(name, b.length), name);
}

export function setdomainname(name: string): void {
  const b = Buffer.from(name);
  check('setdomainname', lib().setdomainname(name, b.length), name);
}

export function setrlimit(resource: number, soft: bigint, hard: bigint, name: string): void {
  check('setrlimit', lib().prlimit(0, resource, { rlim_cur: soft, rlim_max: hard }, null), name);
}

export function getrlimit(resource: number): { soft: bigint; hard: bigint } {
  const out: { rlim_cur?: bigint | number; rlim_max?: bigint | number } = {};
  check('getrlimit', lib().prlimit(0, resource, null, out));
  return { soft: BigInt(out.rlim_cur ?? 0), hard: BigInt(out.rlim_max ?? 0) };
}

export function setgroups(gids: number[]): void {
  check('setgroups', lib().setgroups(gids.length, gids.length ? Uint32Array.from(gids) : null));
}

export function setresuid(uid: number): void { check('setresuid', lib().setresuid(uid, uid, uid)); }
export function setresgid(gid: number): void { check('setresgid', lib().setresgid(gid, gid, gid)); }
export function umask(mask: number): number { return lib().umask(mask); }

/** prctl with unsigned long arguments. */
export function prctl(option: number, a2 = 0, a3 = 0, a4 = 0, a5 = 0, what = `prctl(${option})`): number {
  return check(what, lib().prctl(option, 'unsigned long', a2, 'unsigned long', a3, 'unsigned long', a4, 'unsigned long', a5));
}

/** Raw syscall with (type, value) pairs, for calls glibc does not wrap. */
export function syscall(nr: number, what: string, ...typedArgs: unknown[]): number {
  return check(what, lib().syscall(nr, ...typedArgs));
}

export function setsid(): number { return check('setsid', lib().setsid()); }
export function getpid(): number { return lib().getpid(); }

export function execve(path: string, argv: string[], envp: string[]): never {
  lib().execve(path, [...argv, null], [...envp, null]);
  throw new SyscallError('execve', errno(), path);
}

// ---------------------------------------------------------------------------
// Signals and children

export function kill(pid: number, sig: number): void { check('kill', lib().kill(pid, sig), String(pid)); }

export function pidfdOpen(pid: number): number {
  return check('pidfd_open', lib().pidfd_open(pid, 0), String(pid));
}

export function pidfdSendSignal(pidfd: number, sig: number): void {
  check('pidfd_send_signal', lib().pidfd_send_signal(pidfd, sig, null, 0));
}

/** waitpid; returns null when WNOHANG and the child has not changed state. */
export function waitpid(pid: number, options: number): { pid: number; status: number } | null {
  const st = [0];
  for (;;) {
    const rc = lib().waitpid(pid, st, options);
    if (rc === -1) {
      const e = errno();
      if (e === 4) continue;
      throw new SyscallError('waitpid', e, String(pid));
    }
    if (rc === 0) return null;
    return { pid: rc, status: st[0]! };
  }
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
  if (p.length >= 108) throw new SyscallError('socket', 36 /* ENAMETOOLONG */, path);
  const b = Buffer.alloc(2 + p.length + 1);
  b.writeUInt16LE(AF_UNIX, 0);
  p.copy(b, 2);
  return b;
}

export function socket(type: number): number {
  return check('socket', lib().socket(AF_UNIX, type | SOCK.CLOEXEC, 0));
}

export function socketpair(type: number): [number, number] {
  const sv = [0, 0];
  const out = new Int32Array(2);
  check('socketpair', lib().socketpair(AF_UNIX, type | SOCK.CLOEXEC, 0, out));
  sv[0] = out[0]!; sv[1] = out[1]!;
  return [sv[0], sv[1]];
}

export function connectUnix(fd: number, path: string): void {
  const a = sockaddrUn(path);
  check('connect', lib().connect(fd, a, a.length), path);
}

export function bindUnix(fd: number, path: string): void {
  const a = sockaddrUn(path);
  check('bind', lib().bind(fd, a, a.length), path);
}

export function listen(fd: number, backlog: number): void { check('listen', lib().listen(fd, backlog)); }

export function accept(fd: number): number {
  for (;;) {
    const rc = lib().accept4(fd, null, null, SOCK.CLOEXEC);
    if (rc === -1) {
      const e = errno();
      if (e === 4) continue;
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
  check('sendmsg', lib().sendmsg(sock, msg, 0x4000 /* MSG_NOSIGNAL */));
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
  const n = check('recvmsg', lib().recvmsg(sock, msg, O.CLOEXEC /* MSG_CMSG_CLOEXEC */));
  const controllen = Number(msg.readBigUInt64LE(40));
  let fd: number | null = null;
  if (controllen >= 20 && cmsg.readInt32LE(8) === SOL_SOCKET && cmsg.readInt32LE(12) === SCM_RIGHTS) fd = cmsg.readInt32LE(16);
  return { data: data.subarray(0, n), fd };
}

export function unlockpt(fd: number): void { check('unlockpt', lib().unlockpt(fd)); }

/** Exposed for modules that need a koffi struct type (rlimits etc.). */
export function rlimitType(): unknown { lib(); return rlimitT; }

// ---------------------------------------------------------------------------
// Extension points: modules with needs of their own (seccomp, cgroups, ...)
// bind extra libc functions here rather than loading koffi themselves.

/** Bind one more libc function from a C prototype string (koffi syntax). */
export function bindLibc(proto: string): (...args: any[]) => any { // eslint-disable-line @typescript-eslint/no-explicit-any
  lib();
  return koffi().load('libc.so.6').func(proto);
}

/** Throw a SyscallError for a -1 result; read errno at once after the call. */
export function checked(op: string, rc: number | bigint, path?: string): number {
  return check(op, rc, path);
}

/** koffi itself, for struct and pointer types. */
export function koffiModule(): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  return koffi();
}
