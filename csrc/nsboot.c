/*
 * nsboot: the single-threaded bootstrap of runts.
 *
 * A multithreaded node process cannot unshare(CLONE_NEWUSER), cannot setns()
 * into user or mount namespaces and cannot fork. This small program does
 * exactly those things and nothing else, then execs the TypeScript init
 * stage (node) inside the new namespaces. The protocol with the runts CLI is
 * written down in docs/protocol.md.
 *
 * Usage:
 *   nsboot -U
 *       holds a new, empty user namespace for an idmapped mount: unshare it,
 *       print "ready\n" on stdout, then wait until stdin reaches EOF (the CLI
 *       writes /proc/<pid>/{uid,gid}_map, the init stage opens
 *       /proc/<pid>/ns/user for mount_setattr(MOUNT_ATTR_IDMAP), then the CLI
 *       closes the pipe). Dies with its parent (PR_SET_PDEATHSIG).
 *   nsboot -s SYNCFD [-a CPUS] [-n CLONEFLAGS] [-j NS=PATH]... [-u] [-t CLOCK=S.N]... [-e K=V]... -- EXE ARG0 ARGS...
 *
 *   -s FD        the sync socket shared with the CLI (messages are JSON lines)
 *   -n FLAGS     CLONE_NEW* flags (hex) of the namespaces to create
 *   -j NS=PATH   join the namespace at PATH (NS: user mnt pid net ipc uts cgroup time)
 *   -u           a new user namespace is created: ask the CLI to write the
 *                uid/gid maps, then become uid/gid 0 in it
 *   -h           (rootless, with -u) the CLI writes the maps with the setuid
 *                helpers newuidmap/newgidmap, which only act on a process
 *                owned by the caller: stay dumpable until the CLI replies
 *   -m UIDLINE   (rootless, instead of -u) write the maps of the new user
 *   -g GIDLINE   namespace itself: one line "containerID hostID 1" each, of
 *                the caller's own uid and gid; setgroups is set to "deny"
 *                first, as the kernel requires of an unprivileged writer
 *   -a CPUS      comma-separated CPU numbers: this process's affinity from
 *                its start (process.execCPUAffinity.initial of `runts exec`:
 *                the affinity before the process joins the container's
 *                cgroup; the exec stage applies `final` after it)
 *   -t CLOCK=S N offsets of a new time namespace (CLOCK: monotonic or
 *                boottime; S seconds, N nanoseconds, as one argument
 *                "monotonic=5 0"), written to /proc/self/timens_offsets
 *                after unshare and before the fork (the only moment the
 *                kernel allows it)
 *   -e K=V       environment of the init stage (nothing else is inherited)
 *   EXE          executed from a read-only, detached view of itself
 *                (open_tree + mount_setattr + execveat), so that no container
 *                process can open the runtime's interpreter for writing
 *                through /proc/<pid>/exe (CVE-2019-5736). Unprivileged
 *                (rootless), open_tree fails with EPERM in the host's mount
 *                namespace: the view is then made once the user namespace
 *                is joined or made, in a new mount namespace (the
 *                container's, or, for exec, a private one just for this):
 *                the same path, in a copy of the host's mounts this
 *                process now administers.
 *
 * Flow: open EXE read-only view and the namespace paths (host mount ns) ->
 * setns(user) + become uid/gid 0 in it -> setns(others) -> unshare(user) + map handshake
 * (or, -m/-g, writing the maps) -> unshare(others) -> [time offsets] ->
 * [rootless: the EXE view, now] -> fork (the child is in the new pid/time ns) ->
 * parent: send {"type":"pid"} and exit; child: execveat(EXE).
 *
 * Every error goes to the sync socket as {"type":"error",...} with the
 * operation, the path and the errno name, and the process exits non-zero.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define MAX_JOIN 8
#define MAX_ENV 64
#define MAX_TIME 4

static int sync_fd = -1;

/* errno names for the errors this program can hit; others print as "errno N". */
static const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case ENOEXEC: return "ENOEXEC";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS";
	case EPIPE: return "EPIPE";
	case ENOSYS: return "ENOSYS";
	case ELOOP: return "ELOOP";
	case EUSERS: return "EUSERS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPROTO: return "EPROTO";
	case ERANGE: return "ERANGE";
	default: return NULL;
	}
}

/* Write one message with a single write(2), so messages never interleave. */
static void send_msg(const char *msg)
{
	size_t len = strlen(msg), off = 0;
	while (off < len) {
		ssize_t n = write(sync_fd, msg + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		off += (size_t)n;
	}
}

/* Append s to out as a JSON string body (quotes and control characters escaped). */
static void json_str(char *out, size_t cap, const char *s)
{
	size_t o = strlen(out);
	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

static void __attribute__((noreturn)) fail(const char *op, const char *path, int err)
{
	char msg[4096] = "{\"type\":\"error\",\"error\":{\"op\":\"";
	char text[1024];
	const char *name = errno_name(err);
	char numbuf[32];

	if (!name) {
		snprintf(numbuf, sizeof numbuf, "errno %d", err);
		name = numbuf;
	}
	json_str(msg, sizeof msg, op);
	strncat(msg, "\",\"errno\":\"", sizeof msg - strlen(msg) - 1);
	json_str(msg, sizeof msg, name);
	if (path) {
		strncat(msg, "\",\"path\":\"", sizeof msg - strlen(msg) - 1);
		json_str(msg, sizeof msg, path);
	}
	snprintf(text, sizeof text, "nsboot: %s%s%s: %s (%s)", op, path ? " " : "", path ? path : "", name, strerror(err));
	strncat(msg, "\",\"message\":\"", sizeof msg - strlen(msg) - 1);
	json_str(msg, sizeof msg, text);
	strncat(msg, "\"}}\n", sizeof msg - strlen(msg) - 1);
	if (sync_fd >= 0)
		send_msg(msg);
	else
		fprintf(stderr, "%s\n", text);
	_exit(1);
}

static void __attribute__((noreturn)) usage(const char *why)
{
	errno = EINVAL;
	fail("usage", why, EINVAL);
}

struct join {
	const char *name;
	const char *path;
	int nstype;
	int fd;
};

static int nstype_of(const char *name)
{
	static const struct { const char *n; int t; } tab[] = {
		{ "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS }, { "pid", CLONE_NEWPID },
		{ "net", CLONE_NEWNET }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
		{ "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (!strcmp(tab[i].n, name))
			return tab[i].t;
	return 0;
}

/* Read one line from the sync socket (the CLI's reply), byte by byte: the
 * stream must not be over-read, as the init stage reads what follows. */
static void read_reply(char *buf, size_t cap)
{
	size_t o = 0;
	while (o + 1 < cap) {
		ssize_t n = read(sync_fd, buf + o, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("read sync socket", NULL, n == 0 ? EPIPE : errno);
		if (buf[o] == '\n')
			break;
		o++;
	}
	buf[o] = '\0';
}

/* A read-only, nosuid, nodev, detached view of `path`, as an O_PATH-like fd
 * that execveat() can run. Opened in the host mount namespace; with
 * may_defer, -1 when that is refused (rootless: made later, see EXE above). */
static int readonly_view(const char *path, int may_defer)
{
	struct mount_attr attr;
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0 && may_defer && errno == EPERM)
		return -1;
	if (fd < 0)
		fail("open_tree", path, errno);
	memset(&attr, 0, sizeof attr);
	attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
		fail("mount_setattr", path, errno);
	return fd;
}

/* "0,2,3" -> sched_setaffinity(0, ...) of this (single-threaded) process. */
static void set_affinity(const char *list)
{
	long max = -1;
	const char *p;
	char *end;
	for (p = list; *p; p = *end ? end + 1 : end) {
		long n = strtol(p, &end, 10);
		if (end == p || n < 0 || n >= 65536 || (*end && *end != ','))
			usage(list);
		if (n > max)
			max = n;
	}
	if (max < 0)
		usage(list);
	size_t size = CPU_ALLOC_SIZE(max + 1);
	cpu_set_t *set = CPU_ALLOC(max + 1);
	if (!set)
		fail("CPU_ALLOC", list, ENOMEM);
	CPU_ZERO_S(size, set);
	for (p = list; *p; p = *end ? end + 1 : end)
		CPU_SET_S((size_t)strtol(p, &end, 10), size, set);
	if (sched_setaffinity(0, size, set) < 0)
		fail("sched_setaffinity", list, errno);
	CPU_FREE(set);
}

/* "monotonic=5 0" -> "monotonic 5 0\n", one write per clock (the kernel
 * parses one line per write, and only before any process entered the ns). */
static void write_time_offsets(const char **offsets, int n)
{
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fail("open", "/proc/self/timens_offsets", errno);
	for (int i = 0; i < n; i++) {
		char buf[128];
		const char *eq = strchr(offsets[i], '=');
		int len = snprintf(buf, sizeof buf, "%.*s %s\n", (int)(eq - offsets[i]), offsets[i], eq + 1);
		if (len <= 0 || (size_t)len >= sizeof buf)
			usage(offsets[i]);
		if (write(fd, buf, (size_t)len) != len)
			fail("write /proc/self/timens_offsets", offsets[i], errno);
	}
	close(fd);
}

/* Rootless: this process's own maps, "containerID hostID 1" each (user_namespaces(7)). */
static void write_self(const char *file, const char *text)
{
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);
	if (fd < 0)
		fail("open", file, errno);
	if (write(fd, text, len) != (ssize_t)len)
		fail("write", file, errno);
	close(fd);
}

static int userns_holder(void)
{
	char c;
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() == 1)
		return 1; /* the CLI is already gone */
	if (unshare(CLONE_NEWUSER) < 0) {
		const char *name = errno_name(errno);
		dprintf(1, "error unshare(CLONE_NEWUSER): %s\n", name ? name : "unknown errno");
		return 1;
	}
	if (write(1, "ready\n", 6) != 6)
		return 1;
	for (;;) {
		ssize_t n = read(0, &c, 1);
		if (n == 0 || (n < 0 && errno != EINTR))
			return 0;
	}
}

int main(int argc, char **argv)
{
	struct join joins[MAX_JOIN];
	char *envp[MAX_ENV + 1];
	const char *offsets[MAX_TIME];
	const char *cpus = NULL;
	int njoin = 0, nenv = 0, noff = 0, want_maps = 0, helpers = 0, i;
	const char *uid_line = NULL, *gid_line = NULL;
	unsigned long clone_flags = 0;
	char **exe_argv = NULL;
	int exe_fd;
	pid_t child;
	char line[256];

	if (argc == 2 && !strcmp(argv[1], "-U"))
		return userns_holder();

	/* Nobody may ptrace us or open our /proc files while we work. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			exe_argv = &argv[i + 1];
			break;
		}
		if (a[0] != '-' || a[1] == '\0' || a[2] != '\0')
			usage(a);
		if (a[1] == 'u') {
			want_maps = 1;
			continue;
		}
		if (a[1] == 'h') {
			helpers = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage(a);
		const char *v = argv[++i];
		switch (a[1]) {
		case 's':
			sync_fd = atoi(v);
			break;
		case 'n':
			clone_flags = strtoul(v, NULL, 16);
			break;
		case 'j': {
			const char *eq = strchr(v, '=');
			char name[16];
			if (!eq || (size_t)(eq - v) >= sizeof name || njoin >= MAX_JOIN)
				usage(v);
			memcpy(name, v, (size_t)(eq - v));
			name[eq - v] = '\0';
			joins[njoin].nstype = nstype_of(name);
			if (!joins[njoin].nstype)
				usage(v);
			joins[njoin].name = v;
			joins[njoin].path = eq + 1;
			njoin++;
			break;
		}
		case 'a':
			cpus = v;
			break;
		case 'm':
			uid_line = v;
			break;
		case 'g':
			gid_line = v;
			break;
		case 't':
			if (noff >= MAX_TIME || !strchr(v, '='))
				usage(v);
			offsets[noff++] = v;
			break;
		case 'e':
			if (nenv >= MAX_ENV)
				usage(v);
			envp[nenv++] = (char *)v;
			break;
		default:
			usage(a);
		}
	}
	envp[nenv] = NULL;
	if (sync_fd < 0)
		usage("-s is required");
	if (!exe_argv || !exe_argv[0] || !exe_argv[1])
		usage("missing -- EXE ARG0");
	if (!uid_line != !gid_line || (uid_line && (want_maps || !(clone_flags & CLONE_NEWUSER))))
		usage("-m and -g go together, with a new user namespace, without -u");
	if (helpers && !want_maps)
		usage("-h goes with -u");
	/* The sync fd stays open (no CLOEXEC): the init stage inherits it. */

	/* Everything that names a host path is opened now, in the host mount ns. */
	if (cpus)
		set_affinity(cpus);
	{
		/* rootless: no right to clone a mount here; again once the user and mount namespaces exist */
		int in_userns = (clone_flags & CLONE_NEWUSER) != 0;
		for (i = 0; i < njoin; i++)
			in_userns |= joins[i].nstype == CLONE_NEWUSER;
		exe_fd = readonly_view(exe_argv[0], in_userns);
	}
	for (i = 0; i < njoin; i++) {
		joins[i].fd = open(joins[i].path, O_RDONLY | O_CLOEXEC);
		if (joins[i].fd < 0)
			fail("open namespace", joins[i].path, errno);
	}

	/* Join: the user namespace first, so the others are joined with its rights. */
	for (i = 0; i < njoin; i++) {
		if (joins[i].nstype != CLONE_NEWUSER)
			continue;
		if (setns(joins[i].fd, CLONE_NEWUSER) < 0)
			fail("setns", joins[i].path, errno);
		/*
		 * Become its root, as runc does: setns gave this process every
		 * capability in the namespace, but it still runs as a host uid the
		 * namespace may not map (host root under a 0 -> 100000 mapping), and
		 * execve would then clear them all; the next stage (joining the mount
		 * namespace, mounting) needs them. The exec/init stage sets the
		 * process's own ids later.
		 */
		if (setresgid(0, 0, 0) < 0)
			fail("setresgid", "0 in the joined user namespace", errno);
		if (setresuid(0, 0, 0) < 0)
			fail("setresuid", "0 in the joined user namespace", errno);
	}
	for (i = 0; i < njoin; i++) {
		if (joins[i].nstype != CLONE_NEWUSER && setns(joins[i].fd, joins[i].nstype) < 0)
			fail("setns", joins[i].path, errno);
		close(joins[i].fd);
	}

	if (clone_flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			fail("unshare", "user namespace", errno);
		if (uid_line) {
			char buf[64];
			/* a non-dumpable process's /proc files are root's: dumpable while writing (only the caller's own uid could use it) */
			prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
			write_self("/proc/self/setgroups", "deny");
			if ((size_t)snprintf(buf, sizeof buf, "%s\n", uid_line) >= sizeof buf)
				usage(uid_line);
			write_self("/proc/self/uid_map", buf);
			if ((size_t)snprintf(buf, sizeof buf, "%s\n", gid_line) >= sizeof buf)
				usage(gid_line);
			write_self("/proc/self/gid_map", buf);
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		}
		if (want_maps) {
			/* newuidmap/newgidmap check that the target process is the caller's: a non-dumpable one's /proc files are root's */
			if (helpers)
				prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
			send_msg("{\"type\":\"userns\"}\n");
			read_reply(line, sizeof line);
			if (helpers)
				prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
			if (strncmp(line, "{\"type\":\"ok\"", 12) != 0)
				fail("uid/gid map handshake", line, EPROTO);
		}
		if (setresgid(0, 0, 0) < 0)
			fail("setresgid", "0", errno);
		if (setresuid(0, 0, 0) < 0)
			fail("setresuid", "0", errno);
	}
	if (unshare((int)(clone_flags & ~(unsigned long)CLONE_NEWUSER)) < 0)
		fail("unshare", "namespaces", errno);
	if (noff > 0)
		write_time_offsets(offsets, noff);
	if (exe_fd < 0) {
		/* rootless exec: a private copy of the host's mounts, administered from the
		 * joined user namespace, for the view only (the exec stage joins the
		 * container's mount namespace itself) */
		if (!(clone_flags & CLONE_NEWNS) && unshare(CLONE_NEWNS) < 0)
			fail("unshare", "mount namespace for the read-only view of the runtime", errno);
		exe_fd = readonly_view(exe_argv[0], 0);
	}

	/* unshare(CLONE_NEWPID/NEWTIME) applies to children only: fork once. */
	child = fork();
	if (child < 0)
		fail("fork", NULL, errno);
	if (child == 0) {
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		syscall(SYS_execveat, exe_fd, "", &exe_argv[1], envp, AT_EMPTY_PATH);
		fail("execveat", exe_argv[0], errno);
	}
	snprintf(line, sizeof line, "{\"type\":\"pid\",\"pid\":%d}\n", (int)child);
	send_msg(line);
	return 0;
}
