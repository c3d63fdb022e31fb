/**
 * The kernel ABI values runts passes to and reads from system calls (x86_64
 * Linux; the generic values are the same on arm64 except the syscall
 * numbers). Plain constants: no koffi is loaded here, so the pure planners and
 * the CLI's cheap commands import them freely. Each value is defined once,
 * here; errno and signal numbers are node's own (os.constants), not copies.
 * The bindings that take them live in libc.ts.
 */
import { constants } from 'node:os';

// ---------------------------------------------------------------------------
// errno and signal numbers, as node knows them

export const {
  EPERM, ENOENT, EINTR, EIO, EAGAIN, EWOULDBLOCK, EACCES, EFAULT, EBUSY, EEXIST, EXDEV, ENOTDIR, EISDIR,
  EINVAL, EROFS, ENAMETOOLONG, ENOSYS, ELOOP, ENOTSUP,
} = constants.errno;

export const { SIGKILL, SIGSTOP } = constants.signals;

// ---------------------------------------------------------------------------
// Files and descriptors

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

/** File type bits of st_mode. */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

export const CLOSE_RANGE_CLOEXEC = 4;
export const F = { DUPFD_CLOEXEC: 1030, GETFD: 1, SETFD: 2, GETFL: 3, SETFL: 4, FD_CLOEXEC: 1 } as const;
export const LOCK = { SH: 1, EX: 2, NB: 4, UN: 8 } as const;
export const POLL = { IN: 1, PRI: 2, OUT: 4, ERR: 8, HUP: 16, NVAL: 32 } as const;

/** statx(2) mask and attribute bits. */
export const STATX_MNT_ID = 0x1000;
export const STATX_ATTR_MOUNT_ROOT = 0x2000;

/** f_type of statfs(2) for the filesystems runts checks. */
export const FS_MAGIC = { PROC: 0x9fa0, SYSFS: 0x62656572, DEVPTS: 0x1cd1, TMPFS: 0x01021994, CGROUP2: 0x63677270 } as const;
/** f_flags of statfs(2). */
export const ST = { RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, NOATIME: 1024, NODIRATIME: 2048, RELATIME: 4096, NOSYMFOLLOW: 8192 } as const;

// ---------------------------------------------------------------------------
// Mounts: mount(2) flags, the mount API (open_tree, move_mount, fsopen,
// fsconfig, fsmount, fspick, mount_setattr) and MOUNT_ATTR_* bits

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64,
  DIRSYNC: 128, NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192,
  REC: 16384, SILENT: 32768, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19,
  SHARED: 1 << 20, RELATIME: 1 << 21, STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
} as const;

/** MOUNT_ATTR_* bits of mount_setattr(2) / fsmount(2); ATIME_MASK is MOUNT_ATTR__ATIME. */
export const MOUNT_ATTR = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8,
  ATIME_MASK: 0x70, RELATIME: 0x0, NOATIME: 0x10, STRICTATIME: 0x20,
  NODIRATIME: 0x80, IDMAP: 0x100000, NOSYMFOLLOW: 0x200000,
} as const;

export const OPEN_TREE = { CLONE: 1, CLOEXEC: O.CLOEXEC } as const;
export const MOVE_MOUNT = { F_SYMLINKS: 1, F_AUTOMOUNTS: 2, F_EMPTY_PATH: 4, T_SYMLINKS: 0x10, T_AUTOMOUNTS: 0x20, T_EMPTY_PATH: 0x40 } as const;
export const FSCONFIG = { SET_FLAG: 0, SET_STRING: 1, SET_BINARY: 2, SET_PATH: 3, SET_PATH_EMPTY: 4, SET_FD: 5, CMD_CREATE: 6, CMD_RECONFIGURE: 7 } as const;
export const FSOPEN_CLOEXEC = 1;
export const FSMOUNT_CLOEXEC = 1;
export const FSPICK_CLOEXEC = 0x1;
export const FSPICK_EMPTY_PATH = 0x8;
export const MNT_DETACH = 2;
export const UMOUNT_NOFOLLOW = 8;

// ---------------------------------------------------------------------------
// Namespaces (clone(2), unshare(2), setns(2) flags)

export const CLONE_NEWTIME = 0x00000080;
export const CLONE_FS = 0x00000200;
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

// ---------------------------------------------------------------------------
// Processes

export const PR = {
  SET_PDEATHSIG: 1, SET_DUMPABLE: 4, SET_KEEPCAPS: 8, SET_NAME: 15, CAPBSET_READ: 23, CAPBSET_DROP: 24,
  SET_CHILD_SUBREAPER: 36, SET_NO_NEW_PRIVS: 38, CAP_AMBIENT: 47,
} as const;
export const WNOHANG = 1;
/** waitid(2): idtype, options and the si_code of an exit. */
export const P_PID = 1, WEXITED = 4, WNOWAIT = 0x01000000, CLD_EXITED = 1;

/** x86_64 syscall numbers used directly (glibc 2.36 lacks wrappers for these). */
export const SYS = {
  openat2: 437, seccomp: 317, capget: 125, capset: 126, sched_setattr: 314, ioprio_set: 251, set_mempolicy: 238, bpf: 321,
  keyctl: 250,
} as const;

// ---------------------------------------------------------------------------
// Terminals

export const TIOC = { SCTTY: 0x540e, SWINSZ: 0x5414, GWINSZ: 0x5413, SPTLCK: 0x40045431, GPTN: 0x80045430, GPTPEER: 0x5441 } as const;
export const TCGETS = 0x5401;
export const TCSETS = 0x5402;
/** struct termios bits: c_iflag, c_oflag, c_cflag, c_lflag. */
export const IGNBRK = 0o1, BRKINT = 0o2, PARMRK = 0o10, ISTRIP = 0o40, INLCR = 0o100, IGNCR = 0o200, ICRNL = 0o400, IXON = 0o2000;
export const OPOST = 0o1, ONLCR = 0o4;
export const CSIZE = 0o60, PARENB = 0o400, CS8 = 0o60;
export const ECHO = 0o10, ECHONL = 0o100, ICANON = 0o2, ISIG = 0o1, IEXTEN = 0o100000;
/** The majors of pty slaves (Unix98 ptys: 136-143). */
export const PTY_SLAVE_MAJOR_MIN = 136;
export const PTY_SLAVE_MAJOR_MAX = 143;

// ---------------------------------------------------------------------------
// Sockets

export const AF_UNIX = 1;
export const AF_NETLINK = 16;
export const SOCK = { STREAM: 1, DGRAM: 2, RAW: 3, SEQPACKET: 5, CLOEXEC: O.CLOEXEC, NONBLOCK: O.NONBLOCK } as const;
export const SOL_SOCKET = 1;
export const SCM_RIGHTS = 1;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CMSG_CLOEXEC = O.CLOEXEC;
