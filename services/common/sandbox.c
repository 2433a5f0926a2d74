/*
 * Syscall sandboxes, after OpenSSH's sandbox-seccomp-filter.c (check the
 * architecture first, kill by default, list what a role needs) and Linux's
 * samples/landlock/sandboxer.c (use the Landlock ABI the kernel has, and say
 * which).  The allow-lists were made by tracing each child through the whole
 * test suite; a syscall missing here kills the child with SIGSYS, and the
 * supervisor logs that and restarts it.  In a test build,
 * AURID_SANDBOX_DEBUG=1 names the syscall before dying.
 */
#include "sandbox.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/input.h>
#include <linux/landlock.h>
#include <linux/uinput.h>
#include <malloc.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define P_EXEC (1u << SANDBOX_EXEC)
#define P_HTTP (1u << SANDBOX_HTTP)
#define P_SIP (1u << SANDBOX_SIP)
#define P_FRONT (P_HTTP | P_SIP)
#define P_ALL (P_EXEC | P_HTTP | P_SIP)

/*
 * Syscalls allowed without looking at their arguments.  Names, not
 * numbers: libseccomp resolves them for the native architecture and one
 * the architecture does not have (open on arm64) is skipped.  Those that
 * take a path (openat, mkdirat...) are left to Landlock in aurid-exec;
 * socket, clone, mmap and mprotect, openat in aurid-sip and ioctl are
 * checked by argument below.
 */
struct sandbox_rule {
	const char *name;
	unsigned profiles;
};

static const struct sandbox_rule sandbox_allow[] = {
	/* Memory: malloc, thread stacks, mapped screenshots and SQLite's shm
	 * (mmap and mprotect are below: never executable). */
	{ "brk", P_ALL }, { "munmap", P_ALL }, { "mremap", P_ALL }, { "madvise", P_ALL },
	/* Threads (libuv's pool, the resolver) and their locks; clone is below. */
	{ "futex", P_ALL }, { "set_robust_list", P_ALL }, { "rseq", P_ALL },
	{ "sched_yield", P_ALL }, { "sched_getaffinity", P_ALL }, { "gettid", P_ALL },
	{ "getpid", P_ALL }, { "exit", P_ALL }, { "exit_group", P_ALL },
	/* Signals: libuv's and libre's signal handling, abort(). */
	{ "rt_sigaction", P_ALL }, { "rt_sigprocmask", P_ALL }, { "rt_sigreturn", P_ALL },
	{ "sigaltstack", P_ALL }, { "tgkill", P_ALL }, { "restart_syscall", P_ALL },
	/* Time. */
	{ "clock_gettime", P_ALL }, { "clock_nanosleep", P_ALL }, { "nanosleep", P_ALL },
	{ "gettimeofday", P_ALL }, { "clock_getres", P_ALL },
	/* Event loops: libuv (epoll, eventfd, pipes) and libre (epoll or poll). */
	{ "epoll_create1", P_ALL }, { "epoll_create", P_SIP }, { "epoll_ctl", P_ALL }, { "epoll_wait", P_ALL },
	{ "epoll_pwait", P_ALL }, { "poll", P_ALL }, { "ppoll", P_ALL }, { "select", P_ALL },
	{ "pselect6", P_ALL }, { "eventfd2", P_ALL }, { "pipe2", P_ALL },
	/* I/O on descriptors already held or received. */
	{ "read", P_ALL }, { "write", P_ALL }, { "readv", P_ALL }, { "writev", P_ALL },
	{ "pread64", P_ALL }, { "pwrite64", P_ALL }, { "close", P_ALL }, { "fcntl", P_ALL },
	{ "fstat", P_ALL }, { "newfstatat", P_ALL }, { "statx", P_ALL }, { "lseek", P_ALL },
	{ "dup", P_ALL }, { "dup3", P_ALL }, { "getrandom", P_ALL }, { "getrlimit", P_ALL },
	{ "prlimit64", P_ALL }, { "getuid", P_ALL }, { "geteuid", P_ALL }, { "getgid", P_ALL },
	{ "getegid", P_ALL }, { "sysinfo", P_ALL },  /* sysinfo: glibc's qsort */
	/* Sockets already made: the channels (SCM_RIGHTS), accepted connections,
	 * SIP's UDP and TCP, the syslog datagram socket. */
	{ "accept4", P_ALL }, { "accept", P_ALL }, { "recvfrom", P_ALL }, { "recvmsg", P_ALL },
	{ "recvmmsg", P_ALL }, { "sendto", P_ALL }, { "sendmsg", P_ALL }, { "sendmmsg", P_ALL },
	{ "shutdown", P_ALL }, { "getsockopt", P_ALL }, { "setsockopt", P_ALL },
	{ "getsockname", P_ALL }, { "getpeername", P_ALL }, { "socketpair", P_EXEC },
	/* The syslog socket reconnects after syslogd restarts; libre connects
	 * TCP to the registrar; glibc's resolver connects its UDP sockets. */
	{ "connect", P_EXEC | P_SIP }, { "bind", P_SIP },
	/* aurid-exec: SQLite in state_dir, the simulated phone's files, the
	 * generated HTTPS key, the time zone.  Landlock says where. */
	{ "openat", P_EXEC }, { "open", P_EXEC }, { "mkdirat", P_EXEC }, { "unlinkat", P_EXEC },
	{ "unlink", P_EXEC }, { "renameat", P_EXEC }, { "renameat2", P_EXEC }, { "rename", P_EXEC },
	{ "fsync", P_EXEC }, { "fdatasync", P_EXEC }, { "ftruncate", P_EXEC }, { "fchmod", P_EXEC },
	{ "fchown", P_EXEC }, { "getdents64", P_EXEC }, { "readlink", P_EXEC },
	{ "readlinkat", P_EXEC }, { "stat", P_EXEC }, { "lstat", P_EXEC }, { "access", P_EXEC },
	{ "faccessat", P_EXEC }, { "faccessat2", P_EXEC }, { "mknodat", P_EXEC },
	{ "flock", P_EXEC }, { "getcwd", P_EXEC }, { "memfd_create", P_EXEC },
	{ "fallocate", P_EXEC }, { "uname", P_EXEC }, { "umask", P_EXEC }, { "msync", P_EXEC },
	/* aurid-sip: libre's fd_setsize; the resolver's /etc files (Landlock). */
	{ "stat", P_SIP }, { "uname", P_SIP },
};

/*
 * The sanitizer runtime, in a sanitizer build only: LeakSanitizer at exit
 * reads /proc/self/maps and /proc/self/task, stops the other threads from a
 * helper task it clones without CLONE_THREAD and ptraces them.
 */
#ifdef AURID_SANITIZE
static const char *const sandbox_allow_sanitizer[] = {
	"clone", "ptrace", "wait4", "waitid", "prctl", "getdents64",
	"readlink", "readlinkat", "getppid", "kill", "sched_getparam", "setrlimit",
	"getpgid", "getrusage",
};
#endif

/* Landlock ABI values newer than the kernel headers this may build with. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define SANDBOX_LL_NET_BIND_TCP (1ULL << 0)
#define SANDBOX_LL_NET_CONNECT_TCP (1ULL << 1)
#define SANDBOX_LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define SANDBOX_LL_SCOPE_SIGNAL (1ULL << 1)

/* struct landlock_ruleset_attr as of ABI 6; older kernels take the longer
 * struct as long as the fields they do not know are zero. */
struct sandbox_ll_ruleset {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

/* struct landlock_net_port_attr (ABI 4), packed as the kernel's. */
struct sandbox_ll_net_port {
	uint64_t allowed_access;
	uint64_t port;
} __attribute__((packed));
#define SANDBOX_LL_RULE_NET_PORT 2

#define LL_FS_FILE (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
		    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
		    LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define LL_FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* Beneath state_dir: SQLite's journal, the simulated phone's files and
 * FIFO, the generated key written through a rename.  No devices, no
 * symlinks, nothing executable. */
#define LL_FS_STATE (LL_FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
		     LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
		     LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
		     LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SOCK)

/* Read by glibc's getaddrinfo on aurid-sip's resolver thread, every 60 s. */
static const char *const sandbox_sip_resolver_files[] = {
	"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/host.conf",
};

/* Read by glibc's localtime() in aurid-exec (audit timestamps) when the
 * time zone file changes. */
static const char *const sandbox_exec_time_files[] = {
	"/etc/localtime", "/usr/share/zoneinfo",
};

const char *sandbox_profile_name(enum sandbox_profile p)
{
	static const char *const names[SANDBOX_NPROFILES] = { "exec", "http", "sip" };

	return (unsigned)p < SANDBOX_NPROFILES ? names[p] : "?";
}

int sandbox_check_unprivileged(char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[64];
	int n;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0) {
		snprintf(err, errlen, "getresuid: %s", strerror(errno));
		return -EPERM;
	}
	if (ru == 0 || eu == 0 || su == 0) {
		snprintf(err, errlen, "running as root (uid %u/%u/%u): the supervisor did not drop it",
			 (unsigned)ru, (unsigned)eu, (unsigned)su);
		return -EPERM;
	}
	if (rg == 0 || eg == 0 || sg == 0) {
		snprintf(err, errlen, "running with gid 0 (%u/%u/%u)", (unsigned)rg, (unsigned)eg, (unsigned)sg);
		return -EPERM;
	}
	n = getgroups(64, groups);
	for (int i = 0; i < n; i++) {
		if (groups[i] == 0) {
			snprintf(err, errlen, "root's group 0 is among the supplementary groups");
			return -EPERM;
		}
	}
	/* The kernel must refuse the way back (it would not, with CAP_SETUID). */
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1 || setegid(0) != -1) {
		snprintf(err, errlen, "root could be regained");
		return -EPERM;
	}
	return 0;
}

int sandbox_landlock_abi(void)
{
#ifdef __NR_landlock_create_ruleset
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi > 0 ? (int)abi : 0;
#else
	return 0;
#endif
}

/* --- seccomp --- */

static int sandbox_add(scmp_filter_ctx ctx, const char *name, uint32_t action, unsigned n,
		       const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;  /* not a syscall of this architecture */
	return seccomp_rule_add_array(ctx, action, nr, n, cmp);
}

static int sandbox_add_plain(scmp_filter_ctx ctx, const char *name)
{
	return sandbox_add(ctx, name, SCMP_ACT_ALLOW, 0, NULL);
}

/* socket() by argument: the family, and the type without its flags. */
static int sandbox_add_socket(scmp_filter_ctx ctx, int family, int type)
{
	const uint32_t flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
	struct scmp_arg_cmp cmp[2] = {
		SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family),
		SCMP_A1(SCMP_CMP_MASKED_EQ, (scmp_datum_t)(uint32_t)~flags, (scmp_datum_t)type),
	};

	return sandbox_add(ctx, "socket", SCMP_ACT_ALLOW, type < 0 ? 1 : 2, cmp);
}

static int sandbox_add_sockets(scmp_filter_ctx ctx, enum sandbox_profile p, unsigned tcp_port)
{
	int r = 0;

	switch (p) {
	case SANDBOX_EXEC:
		/* Unix sockets: syslog's datagram socket is made at start,
		 * but a later reconnect may need a new one.  TCP only with a
		 * telephony link (hal/telephony_baresip.c: aurid.telephony =
		 * baresip:HOST:PORT), which reconnects; seccomp cannot read
		 * connect()'s address, Landlock (ABI 4) pins the port. */
		r = sandbox_add_socket(ctx, AF_UNIX, -1);
		if (!r && tcp_port)
			r = sandbox_add_socket(ctx, AF_INET, SOCK_STREAM);
		if (!r && tcp_port)
			r = sandbox_add_socket(ctx, AF_INET6, SOCK_STREAM);
		break;
	case SANDBOX_SIP:
		/* libre opens a TCP connection to the registrar or proxy when
		 * registering over TCP, and answers over new TCP connections;
		 * glibc's resolver asks DNS over UDP (and TCP for long answers)
		 * and sorts several answers (RFC 3484) by connecting a UDP
		 * socket to each. */
		if (!r)
			r = sandbox_add_socket(ctx, AF_INET, SOCK_STREAM);
		if (!r)
			r = sandbox_add_socket(ctx, AF_INET, SOCK_DGRAM);
		if (!r)
			r = sandbox_add_socket(ctx, AF_INET6, SOCK_STREAM);
		if (!r)
			r = sandbox_add_socket(ctx, AF_INET6, SOCK_DGRAM);
		/* glibc also tries nscd (AF_UNIX) and the interface list
		 * (AF_NETLINK) and does without either: refuse, do not kill. */
		if (!r) {
			struct scmp_arg_cmp unix_cmp = SCMP_A0(SCMP_CMP_EQ, AF_UNIX);
			struct scmp_arg_cmp nl_cmp = SCMP_A0(SCMP_CMP_EQ, AF_NETLINK);

			r = sandbox_add(ctx, "socket", SCMP_ACT_ERRNO(EACCES), 1, &unix_cmp);
			if (!r)
				r = sandbox_add(ctx, "socket", SCMP_ACT_ERRNO(EACCES), 1, &nl_cmp);
		}
		break;
	default:
		/* aurid-http has its listening sockets and accepts: nothing new. */
		break;
	}
	return r;
}

static int sandbox_add_openat_ro(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp ro = SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY);

	return sandbox_add(ctx, "openat", SCMP_ACT_ALLOW, 1, &ro);
}

/*
 * Memory is never made executable once the sandbox is on (as OpenSSH's
 * privsep child): mmap and mprotect only with PROT_READ, PROT_WRITE or
 * neither.  Everything executable was mapped before: the binary and its
 * libraries; a late dlopen() dies here instead of running new code.
 */
static int sandbox_add_memory(scmp_filter_ctx ctx)
{
	static const char *const calls[] = { "mmap", "mmap2", "mprotect" };
	struct scmp_arg_cmp prot = SCMP_A2(SCMP_CMP_MASKED_EQ, ~(scmp_datum_t)(PROT_READ | PROT_WRITE), 0);
	int r = 0;

	for (size_t i = 0; !r && i < sizeof(calls) / sizeof(calls[0]); i++)
		r = sandbox_add(ctx, calls[i], SCMP_ACT_ALLOW, 1, &prot);
	return r;
}

/*
 * ioctl: on any descriptor, only what libuv, libre and isatty() use; in
 * aurid-exec on a real phone, also the device requests the HAL makes after
 * start, each on its own device's descriptor: the framebuffer's two
 * FBIOGET_* (a capture), evdev's grab and its read-only requests (libevdev's
 * resync after SYN_DROPPED reads the key, LED, switch and axis state with
 * size-encoded EVIOCG* numbers), and uinput's UI_DEV_DESTROY at exit.
 */
static int sandbox_add_ioctls(scmp_filter_ctx ctx, const struct sandbox_devices *dev)
{
	static const unsigned long any_fd[] = { FIONBIO, FIOCLEX, FIONCLEX, FIONREAD, TCGETS };
	const scmp_datum_t dir_type = (scmp_datum_t)_IOC_DIRMASK << _IOC_DIRSHIFT | (scmp_datum_t)_IOC_TYPEMASK
				      << _IOC_TYPESHIFT;
	int r = 0;

	for (size_t i = 0; !r && i < sizeof(any_fd) / sizeof(any_fd[0]); i++) {
		struct scmp_arg_cmp cmp = SCMP_A1(SCMP_CMP_EQ, any_fd[i]);

		r = sandbox_add(ctx, "ioctl", SCMP_ACT_ALLOW, 1, &cmp);
	}
	if (r || !dev)
		return r;
	if (dev->fb_fd >= 0) {
		struct scmp_arg_cmp v[2] = { SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)dev->fb_fd),
					     SCMP_A1(SCMP_CMP_EQ, FBIOGET_VSCREENINFO) };
		struct scmp_arg_cmp f[2] = { SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)dev->fb_fd),
					     SCMP_A1(SCMP_CMP_EQ, FBIOGET_FSCREENINFO) };

		r = sandbox_add(ctx, "ioctl", SCMP_ACT_ALLOW, 2, v);
		if (!r)
			r = sandbox_add(ctx, "ioctl", SCMP_ACT_ALLOW, 2, f);
	}
	if (!r && dev->evdev_fd >= 0) {
		struct scmp_arg_cmp grab[2] = { SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)dev->evdev_fd),
						SCMP_A1(SCMP_CMP_EQ, EVIOCGRAB) };
		struct scmp_arg_cmp read[2] = {
			SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)dev->evdev_fd),
			SCMP_A1(SCMP_CMP_MASKED_EQ, dir_type,
				(scmp_datum_t)_IOC_READ << _IOC_DIRSHIFT | (scmp_datum_t)'E' << _IOC_TYPESHIFT),
		};

		r = sandbox_add(ctx, "ioctl", SCMP_ACT_ALLOW, 2, grab);
		if (!r)
			r = sandbox_add(ctx, "ioctl", SCMP_ACT_ALLOW, 2, read);
	}
	if (!r && dev->uinput_fd >= 0) {
		struct scmp_arg_cmp destroy[2] = { SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)dev->uinput_fd),
						   SCMP_A1(SCMP_CMP_EQ, UI_DEV_DESTROY) };

		r = sandbox_add(ctx, "ioctl", SCMP_ACT_ALLOW, 2, destroy);
	}
	return r;
}

static int sandbox_add_args(scmp_filter_ctx ctx, enum sandbox_profile p, const struct sandbox_paths *paths)
{
	unsigned tcp_port = paths ? paths->tcp_connect_port : 0;
	/* clone's flags are its first argument, but the second on s390. */
#if defined(__s390__) || defined(__s390x__)
	struct scmp_arg_cmp thread = SCMP_A1(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
#else
	struct scmp_arg_cmp thread = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
#endif
	int r;

	/* Threads, never processes.  clone3 passes its flags in memory,
	 * which seccomp cannot read: ENOSYS makes glibc fall back to clone. */
	r = sandbox_add(ctx, "clone", SCMP_ACT_ALLOW, 1, &thread);
	if (!r)
		r = sandbox_add(ctx, "clone3", SCMP_ACT_ERRNO(ENOSYS), 0, NULL);
	if (!r)
		r = sandbox_add_sockets(ctx, p, tcp_port);
	if (!r)
		r = sandbox_add_memory(ctx);
	if (!r)
		r = sandbox_add_ioctls(ctx, p == SANDBOX_EXEC && paths ? paths->devices : NULL);
	/* aurid-sip reads the resolver's files (which ones: Landlock), never
	 * writes or creates one. */
	if (!r && p == SANDBOX_SIP)
		r = sandbox_add_openat_ro(ctx);
	return r;
}

/* The filter for profile p, not yet loaded.  0 or -errno. */
static int sandbox_seccomp_build(enum sandbox_profile p, const struct sandbox_paths *paths, scmp_filter_ctx *out)
{
	uint32_t native = seccomp_arch_native();
	uint32_t deflt = SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx;
	int r = 0;

#ifdef AURID_TEST_HOOKS
	/* Name the syscall, then die of it (see sandbox_debug_sigsys). */
	const char *dbg = getenv("AURID_SANDBOX_DEBUG");

	if (dbg && strcmp(dbg, "1") == 0)
		deflt = SCMP_ACT_TRAP;
#endif
	*out = NULL;
	ctx = seccomp_init(deflt);
	if (!ctx)
		return -ENOMEM;
	/*
	 * The architecture first: seccomp_init's filter holds the native one
	 * only, and a syscall made through another ABI (i386's int 0x80 on
	 * x86_64, x32) has other numbers; it kills the process.
	 */
	if (seccomp_arch_exist(ctx, native) != 0)
		r = -EINVAL;
	if (!r)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* Every thread, also libuv's pool if it already runs. */
	if (!r)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!r)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	for (size_t i = 0; !r && i < sizeof(sandbox_allow) / sizeof(sandbox_allow[0]); i++) {
		/* A name listed twice for one profile is harmless. */
		if (!(sandbox_allow[i].profiles & (1u << p)))
			continue;
		r = sandbox_add_plain(ctx, sandbox_allow[i].name);
		if (r == -EEXIST)
			r = 0;
	}
	if (!r)
		r = sandbox_add_args(ctx, p, paths);
#ifdef AURID_SANITIZE
	for (size_t i = 0; !r && i < sizeof(sandbox_allow_sanitizer) / sizeof(sandbox_allow_sanitizer[0]); i++) {
		r = sandbox_add_plain(ctx, sandbox_allow_sanitizer[i]);
		if (r == -EEXIST)
			r = 0;
	}
	/* Read-only, and Landlock keeps it to /proc. */
	if (!r && p == SANDBOX_HTTP)
		r = sandbox_add_openat_ro(ctx);
#endif
	if (r) {
		seccomp_release(ctx);
		return r < 0 ? r : -EINVAL;
	}
	*out = ctx;
	return 0;
}

/* --- Landlock --- */

static int sandbox_ll_add(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct landlock_path_beneath_attr pb = { 0 };
	struct stat st;
	int fd, r = 0;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	/* A file takes only the rights that make sense for a file. */
	if (!S_ISDIR(st.st_mode))
		access &= LL_FS_FILE;
	pb.allowed_access = access & handled;
	pb.parent_fd = fd;
	if (pb.allowed_access &&
	    syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		r = -errno;
out:
	close(fd);
	return r;
}

/* The rights this ABI knows, as sandboxer.c does: newer rights unhandled. */
static void sandbox_ll_handled(int abi, enum sandbox_profile p, struct sandbox_ll_ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	if (abi >= 2)
		rs->handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		rs->handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		rs->handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	/* No TCP bind or connect in aurid-exec and aurid-http (aurid-sip
	 * connects to the registrar over TCP, to a port it learns late). */
	if (abi >= 4 && p != SANDBOX_SIP)
		rs->handled_access_net = SANDBOX_LL_NET_BIND_TCP | SANDBOX_LL_NET_CONNECT_TCP;
	/* No signals to processes outside, no abstract unix sockets. */
	if (abi >= 6)
		rs->scoped = SANDBOX_LL_SCOPE_ABSTRACT_UNIX | SANDBOX_LL_SCOPE_SIGNAL;
}

static int sandbox_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Landlock restricts the calling thread and the threads it starts later,
 * so it goes on before any thread runs. */
static int sandbox_landlock(int abi, enum sandbox_profile p, const struct sandbox_paths *paths,
			    char *why, size_t whylen)
{
	struct sandbox_ll_ruleset rs;
	int fd, r = 0, n;

	n = sandbox_threads();
	if (n != 1) {
		snprintf(why, whylen, "landlock: %d threads already run (it covers new ones only)", n);
		return n < 0 ? n : -EBUSY;
	}
	sandbox_ll_handled(abi, p, &rs);
	fd = (int)syscall(__NR_landlock_create_ruleset, &rs, sizeof(rs), 0);
	if (fd < 0) {
		r = -errno;
		snprintf(why, whylen, "landlock_create_ruleset: %s", strerror(errno));
		return r;
	}
	for (size_t i = 0; !r && paths && i < SANDBOX_PATHS_MAX; i++) {
		const char *rw = paths->rw[i], *ro = paths->ro[i];

		if (rw && (r = sandbox_ll_add(fd, rw, LL_FS_STATE, rs.handled_access_fs)) != 0)
			snprintf(why, whylen, "landlock: %s: %s", rw, strerror(-r));
		if (!r && ro && (r = sandbox_ll_add(fd, ro, LL_FS_READ, rs.handled_access_fs)) != 0)
			snprintf(why, whylen, "landlock: %s: %s", ro, strerror(-r));
	}
	for (size_t i = 0; !r && p == SANDBOX_SIP && i < sizeof(sandbox_sip_resolver_files) / sizeof(sandbox_sip_resolver_files[0]); i++)
		if ((r = sandbox_ll_add(fd, sandbox_sip_resolver_files[i], LL_FS_READ, rs.handled_access_fs)) != 0)
			snprintf(why, whylen, "landlock: %s: %s", sandbox_sip_resolver_files[i], strerror(-r));
	for (size_t i = 0; !r && p == SANDBOX_EXEC && i < sizeof(sandbox_exec_time_files) / sizeof(sandbox_exec_time_files[0]); i++)
		if ((r = sandbox_ll_add(fd, sandbox_exec_time_files[i], LL_FS_READ, rs.handled_access_fs)) != 0)
			snprintf(why, whylen, "landlock: %s: %s", sandbox_exec_time_files[i], strerror(-r));
#ifdef AURID_SANITIZE
	/* LeakSanitizer reads /proc/self/maps and /proc/self/task at exit. */
	if (!r && (r = sandbox_ll_add(fd, "/proc", LL_FS_READ, rs.handled_access_fs)) != 0)
		snprintf(why, whylen, "landlock: /proc: %s", strerror(-r));
#endif
	/* The telephony link's port is the one TCP connect allowed. */
	if (!r && rs.handled_access_net && paths && paths->tcp_connect_port) {
		struct sandbox_ll_net_port np = {
			.allowed_access = SANDBOX_LL_NET_CONNECT_TCP,
			.port = paths->tcp_connect_port,
		};

		if (syscall(__NR_landlock_add_rule, fd, SANDBOX_LL_RULE_NET_PORT, &np, 0) < 0) {
			r = -errno;
			snprintf(why, whylen, "landlock: TCP port %u: %s", paths->tcp_connect_port, strerror(errno));
		}
	}
	if (!r && syscall(__NR_landlock_restrict_self, fd, 0) < 0) {
		r = -errno;
		snprintf(why, whylen, "landlock_restrict_self: %s", strerror(errno));
	}
	close(fd);
	return r;
}

#ifdef AURID_TEST_HOOKS
/* AURID_SANDBOX_DEBUG=1: the filter traps instead of killing; say which
 * syscall it was, then die of SIGSYS all the same. */
static void sandbox_debug_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char buf[128];
	char *name;
	int n;

	(void)ctx;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, si->si_syscall);
	n = snprintf(buf, sizeof(buf), "sandbox: forbidden syscall %d (%s)\n", si->si_syscall,
		     name ? name : "?");
	if (n > 0)
		(void)!write(STDERR_FILENO, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	signal(sig, SIG_DFL);
	raise(sig);
}
#endif

/* The Landlock ABI sandbox_enter applied, for the test hook (which may no
 * longer ask the kernel). */
static int sandbox_abi_applied;

int sandbox_enter(enum sandbox_profile p, const struct sandbox_paths *paths, char *level, size_t levellen)
{
	scmp_filter_ctx ctx;
	char why[256] = "";
	int abi, r;

	if ((unsigned)p >= SANDBOX_NPROFILES)
		return -EINVAL;
	/*
	 * What glibc would otherwise open later, done now: the time zone
	 * (strftime calls tzset, which reads /etc/localtime once), and in
	 * aurid-http, where any open kills, the arena heaps: glibc opens
	 * /proc/sys/vm/overcommit_memory the first time it shrinks a
	 * thread's arena, so the worker threads share the main one.
	 */
	tzset();
	if (p == SANDBOX_HTTP)
		mallopt(M_ARENA_MAX, 1);
#ifdef AURID_TEST_HOOKS
	if (getenv("AURID_SANDBOX_DEBUG")) {
		struct sigaction sa = { .sa_sigaction = sandbox_debug_sigsys, .sa_flags = SA_SIGINFO };

		sigaction(SIGSYS, &sa, NULL);
	}
#endif
	/* seccomp and Landlock both need it without CAP_SYS_ADMIN; it also
	 * keeps a setuid binary from gaining anything, were one reachable. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		snprintf(level, levellen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return r;
	}
	abi = sandbox_landlock_abi();
	if (abi > 0) {
		r = sandbox_landlock(abi, p, paths, why, sizeof(why));
		if (r) {
			snprintf(level, levellen, "%s", why);
			return r;
		}
		sandbox_abi_applied = abi;
	}
	r = sandbox_seccomp_build(p, paths, &ctx);
	if (r) {
		snprintf(level, levellen, "seccomp: cannot build the %s filter: %s", sandbox_profile_name(p),
			 strerror(-r));
		return r;
	}
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r) {
		snprintf(level, levellen, "seccomp: cannot load the %s filter: %s", sandbox_profile_name(p),
			 strerror(-r));
		return r;
	}
	if (abi > 0)
		snprintf(level, levellen, "seccomp allow-list (%s) + landlock ABI %d", sandbox_profile_name(p), abi);
	else
		snprintf(level, levellen, "seccomp allow-list (%s) only: this kernel has no landlock",
			 sandbox_profile_name(p));
	return 0;
}

void sandbox_test_hook(enum sandbox_profile p)
{
#ifdef AURID_TEST_HOOKS
	const char *v = getenv("AURID_SANDBOX_TEST");
	int fd;

	if (!v || strcmp(v, sandbox_profile_name(p)) != 0)
		return;
	log_warn("AURID_SANDBOX_TEST=%s: trying a forbidden syscall, expect SIGSYS", v);
	switch (p) {
	case SANDBOX_EXEC:
		/* A UDP socket: the executor's only network use is the
		 * telephony link's TCP, when configured. */
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		break;
	default:
		/*
		 * aurid-http may not open at all; aurid-sip (and aurid-http in
		 * a sanitizer build, for LeakSanitizer's /proc reads) may open
		 * read-only, and then Landlock refuses what is not theirs.
		 * Opening for writing is refused by seccomp in every build.
		 */
		fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && sandbox_abi_applied > 0) {
			log_err("AURID_SANDBOX_TEST: landlock let /etc/passwd be read");
			_exit(70);
		}
		if (fd >= 0)
			close(fd);
		fd = open("/etc/passwd", O_WRONLY | O_CLOEXEC);
		break;
	}
	log_err("AURID_SANDBOX_TEST: still alive after a forbidden syscall (fd %d, %s)", fd, strerror(errno));
	_exit(70);
#else
	(void)p;
#endif
}

int sandbox_child(enum sandbox_profile p, const struct sandbox_paths *paths, char *level, size_t levellen)
{
	char msg[320];
	int r;

	r = sandbox_check_unprivileged(msg, sizeof(msg));
	if (r) {
		log_err("privilege drop: %s: refusing to run", msg);
		return r;
	}
	r = sandbox_enter(p, paths, msg, sizeof(msg));
	if (r) {
		log_err("sandbox: %s: refusing to run", msg);
		return r;
	}
	snprintf(level, levellen, "%s", msg);
	sandbox_test_hook(p);
	return 0;
}
