/*
 * The supervisor's parts that run in one process: listen lists and real
 * sockets on loopback, the admin socket (mode, type, stale and foreign
 * files, sun_path bounds), the restart back-off, the child's argv and the
 * fd numbers it really gets, the device nodes of the linux HAL and the
 * keypad's search by name, the privilege drop and the state directory
 * (the parts that need root are skipped otherwise).
 *
 * The search by name asks each node for its evdev name (EVIOCGNAME).  This
 * program's ioctl() comes first, and answers that question for a few
 * memory devices (/dev/full, /dev/zero, /dev/urandom) made as nodes in a
 * temporary directory, so they stand for input devices; /dev/null keeps
 * the real answer (not an input device).
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/input.h>
#include <linux/kd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "services/supervisor/supervisor.h"

static const struct supervisor_kind *kind_by_role(enum ipc_role role)
{
	for (size_t i = 0; i < supervisor_nkinds; i++)
		if (supervisor_kinds[i].role == role)
			return &supervisor_kinds[i];
	return NULL;
}

static char *tmpdir_make(void)
{
	char *d = strdup("/tmp/test_supervisor.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void rm_rf(const char *path)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* Reads until EOF (with a 5 s bound so a leaked fd fails instead of hanging). */
static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t off = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		assert_int_equal(poll(&p, 1, 5000), 1);
		n = read(fd, buf + off, cap - 1 - off);
		assert_true(n >= 0);
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	return off;
}

static int wait_status(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* ---- listen lists ---- */

static void test_listen_parse(void **state)
{
	struct supervisor_addr a[SUPERVISOR_LISTEN_MAX];
	char err[256], many[1024] = "";
	size_t n = 99;

	(void)state;
	assert_int_equal(supervisor_listen_parse("k", "127.0.0.1:0, [::1]:8080", a, 16, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(a[0].sa.ss_family, AF_INET);
	assert_int_equal(a[0].len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(((struct sockaddr_in *)&a[0].sa)->sin_port), 0);
	assert_string_equal(a[0].text, "127.0.0.1:0");
	assert_int_equal(a[1].sa.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&a[1].sa)->sin6_port), 8080);
	assert_string_equal(a[1].text, "[::1]:8080");

	/* Empty means off. */
	assert_int_equal(supervisor_listen_parse("k", "", a, 16, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);

	/* Names are not resolved: only literals, and the message names key and entry. */
	assert_int_equal(supervisor_listen_parse("aurid.http.listen", "127.0.0.1:80,localhost:80",
						 a, 16, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "aurid.http.listen"));
	assert_non_null(strstr(err, "'localhost:80'"));
	assert_int_equal(supervisor_listen_parse("k", "256.0.0.1:80", a, 16, &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(supervisor_listen_parse("k", "[127.0.0.1]:80", a, 16, &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(supervisor_listen_parse("k", "[::1]", a, 16, &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(supervisor_listen_parse("k", "10.0.0.1:65536", a, 16, &n, err, sizeof(err)), -EINVAL);

	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s127.0.0.1:%d", i ? "," : "", 9000 + i);
	assert_int_equal(supervisor_listen_parse("k", many, a, 16, &n, err, sizeof(err)), -E2BIG);
}

static void test_listen_open_loopback(void **state)
{
	struct supervisor_addr a;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char err[256];
	size_t n;
	int fd, c, v;

	(void)state;
	assert_int_equal(supervisor_listen_parse("k", "127.0.0.1:0", &a, 1, &n, err, sizeof(err)), 0);
	assert_int_equal(supervisor_listen_open(&a, &fd, err, sizeof(err)), 0);
	assert_true(fd > 2);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(sin.sin_family, AF_INET);
	assert_int_equal(ntohl(sin.sin_addr.s_addr), INADDR_LOOPBACK);
	assert_true(ntohs(sin.sin_port) > 0);
	len = sizeof(v);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len), 0);
	assert_int_equal(v, 1);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, &len), 0);
	assert_int_equal(v, 1);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* It really accepts connections. */
	c = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	close(c);
	close(fd);
}

static void test_listen_bind_conflict_names_address(void **state)
{
	struct supervisor_addr a;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char err[256], text[64];
	size_t n;
	int fd, fd2;

	(void)state;
	assert_int_equal(supervisor_listen_parse("k", "127.0.0.1:0", &a, 1, &n, err, sizeof(err)), 0);
	assert_int_equal(supervisor_listen_open(&a, &fd, err, sizeof(err)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(text, sizeof(text), "127.0.0.1:%u", ntohs(sin.sin_port));
	assert_int_equal(supervisor_listen_parse("k", text, &a, 1, &n, err, sizeof(err)), 0);
	assert_int_equal(supervisor_listen_open(&a, &fd2, err, sizeof(err)), -EADDRINUSE);
	assert_int_equal(fd2, -1);
	assert_non_null(strstr(err, "cannot bind"));
	assert_non_null(strstr(err, text));
	close(fd);
}

static void test_listen_ipv6_v6only(void **state)
{
	struct supervisor_addr a;
	char err[256];
	size_t n;
	int fd, v;
	socklen_t len = sizeof(v);
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 lo = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	(void)state;
	if (probe < 0 || bind(probe, (struct sockaddr *)&lo, sizeof(lo)) < 0) {
		if (probe >= 0)
			close(probe);
		skip();
	}
	close(probe);
	assert_int_equal(supervisor_listen_parse("k", "[::1]:0", &a, 1, &n, err, sizeof(err)), 0);
	assert_int_equal(supervisor_listen_open(&a, &fd, err, sizeof(err)), 0);
	assert_int_equal(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len), 0);
	assert_int_equal(v, 1);
	close(fd);
}

/* ---- admin socket ---- */

static void test_admin_socket(void **state)
{
	char *dir = tmpdir_make();
	char path[PATH_MAX], err[256], expect[PATH_MAX];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, fd2, c, v;
	socklen_t len = sizeof(v);

	(void)state;
	assert_int_equal(supervisor_admin_open(dir, false, 0, 0, &fd, path, sizeof(path), err, sizeof(err)), 0);
	snprintf(expect, sizeof(expect), "%s/admin.sock", dir);
	assert_string_equal(path, expect);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len), 0);
	assert_int_equal(v, SOCK_SEQPACKET);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* aurictl's view: a SEQPACKET connect to the path works. */
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(c);

	/* A stale socket from a previous run is replaced. */
	close(fd);
	assert_int_equal(supervisor_admin_open(dir, false, 0, 0, &fd2, path, sizeof(path), err, sizeof(err)), 0);
	close(fd2);

	/* Anything else at that path is refused and left alone. */
	assert_int_equal(unlink(path), 0);
	c = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(c >= 0);
	assert_int_equal(write(c, "keep", 4), 4);
	close(c);
	assert_int_equal(supervisor_admin_open(dir, false, 0, 0, &fd, path, sizeof(path), err, sizeof(err)), -EEXIST);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(stat(expect, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 4);
	rm_rf(dir);
	free(dir);
}

static void test_admin_path_too_long_refused(void **state)
{
	struct sockaddr_un sun;
	char dir[PATH_MAX], path[PATH_MAX], err[256];
	/* "<dir>/admin.sock" must fit sun_path with its NUL: 107 bytes of path. */
	size_t fit = sizeof(sun.sun_path) - 1 - strlen("/admin.sock");
	int fd;

	(void)state;
	memset(dir, 0, sizeof(dir));
	dir[0] = '/';
	memset(dir + 1, 'd', fit - 1);
	assert_int_equal(supervisor_admin_path(dir, path, sizeof(path), err, sizeof(err)), 0);
	assert_int_equal(strlen(path), sizeof(sun.sun_path) - 1);

	dir[fit] = 'd';  /* one byte more would be truncated */
	assert_int_equal(supervisor_admin_path(dir, path, sizeof(path), err, sizeof(err)), -ENAMETOOLONG);
	assert_non_null(strstr(err, "longer than 107 bytes"));
	assert_int_equal(supervisor_admin_open(dir, false, 0, 0, &fd, path, sizeof(path), err, sizeof(err)),
			 -ENAMETOOLONG);
	assert_int_equal(fd, -1);
}

static void test_check_config(void **state)
{
	struct aurid_config cfg;
	char err[512];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(supervisor_check(&cfg, err, sizeof(err)), 0);

	strcpy(cfg.log_level, "loud");
	assert_int_equal(supervisor_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "aurid.log.level"));

	config_defaults(&cfg);
	strcpy(cfg.http_listen, "localhost:80");
	assert_int_equal(supervisor_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "aurid.http.listen"));

	/* aurid-sip binds unprivileged: no port below 1024; literals only. */
	config_defaults(&cfg);
	strcpy(cfg.sip_listen, "udp:0.0.0.0:506");
	assert_int_equal(supervisor_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "aurid.sip.listen"));
	assert_non_null(strstr(err, "1024"));
	strcpy(cfg.sip_listen, "tls:0.0.0.0:5061");
	assert_int_equal(supervisor_check(&cfg, err, sizeof(err)), -EINVAL);
	strcpy(cfg.sip_listen, "udp:pbx.example:5060");
	assert_int_equal(supervisor_check(&cfg, err, sizeof(err)), -EINVAL);
	strcpy(cfg.sip_listen, "UDP:[::1]:5060, tcp:127.0.0.1:5062");
	assert_int_equal(supervisor_check(&cfg, err, sizeof(err)), 0);
	cfg.sip_listen[0] = '\0';
	assert_int_equal(supervisor_check(&cfg, err, sizeof(err)), 0);

	config_defaults(&cfg);
	memset(cfg.run_dir, 'r', 200);
	cfg.run_dir[200] = '\0';
	assert_int_equal(supervisor_check(&cfg, err, sizeof(err)), -ENAMETOOLONG);
	assert_non_null(strstr(err, "aurid.run_dir"));
}

/* ---- restarts ---- */

static void test_backoff(void **state)
{
	static const unsigned expect[] = { 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000 };
	unsigned d = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		d = supervisor_backoff(d, 50);
		assert_int_equal(d, expect[i]);
	}
	/* A run of 10 s or more was a good run: start again from 100 ms. */
	assert_int_equal(supervisor_backoff(5000, 10000), 100);
	assert_int_equal(supervisor_backoff(5000, 9999), 5000);
	assert_int_equal(supervisor_backoff(400, 9999), 800);
	assert_int_equal(supervisor_backoff(0, 0), 100);
}

/* ---- argv and fds ---- */

static void test_argv_build(void **state)
{
	struct supervisor_fd fds[SUPERVISOR_FDS_MAX + 1];
	struct supervisor_argv a;

	(void)state;
	assert_int_equal(supervisor_argv_build(&a, "/x/aurid-exec", NULL, 0), 0);
	assert_int_equal(a.argc, 1);
	assert_string_equal(a.argv[0], "/x/aurid-exec");
	assert_null(a.argv[1]);

	fds[0] = (struct supervisor_fd){ "--listen-fd", 10 };
	fds[1] = (struct supervisor_fd){ "--listen-fd", 11 };
	fds[2] = (struct supervisor_fd){ "--listen-fd", 12 };
	assert_int_equal(supervisor_argv_build(&a, "/x/aurid-http", fds, 3), 0);
	assert_int_equal(a.argc, 7);
	assert_string_equal(a.argv[1], "--listen-fd");
	assert_string_equal(a.argv[2], "4");
	assert_string_equal(a.argv[3], "--listen-fd");
	assert_string_equal(a.argv[4], "5");
	assert_string_equal(a.argv[6], "6");
	assert_null(a.argv[7]);

	for (size_t i = 0; i <= SUPERVISOR_FDS_MAX; i++)
		fds[i] = (struct supervisor_fd){ "--listen-fd", 10 };
	assert_int_equal(supervisor_argv_build(&a, "/x/aurid-http", fds, SUPERVISOR_FDS_MAX + 1), -E2BIG);
}

/* The kind table decides which fd goes with which flag. */
static void test_kind_fds(void **state)
{
	static struct supervisor s;
	const struct supervisor_kind *exec = kind_by_role(IPC_ROLE_EXEC);
	const struct supervisor_kind *http = kind_by_role(IPC_ROLE_HTTP);
	struct supervisor_fd fds[SUPERVISOR_FDS_MAX];
	struct supervisor_argv a;
	size_t n;

	(void)state;
	assert_non_null(exec);
	assert_non_null(http);
	assert_string_equal(exec->binary, "aurid-exec");
	assert_string_equal(http->binary, "aurid-http");
	assert_int_equal(http->peer, IPC_ROLE_EXEC);

	memset(&s, 0, sizeof(s));
	s.admin_fd = 20;
	s.uinput_fd = s.fb_fd = s.keypad_fd = -1;  /* sim HAL */
	assert_int_equal(exec->fds(&s, fds, SUPERVISOR_FDS_MAX, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(fds[0].flag, "--admin-fd");
	assert_int_equal(fds[0].fd, 20);

	/* Linux HAL: the order, and so the numbers, the executor relies on. */
	s.uinput_fd = 21;
	s.fb_fd = 22;
	s.keypad_fd = 23;
	assert_int_equal(exec->fds(&s, fds, SUPERVISOR_FDS_MAX, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(fds[1].fd, 21);
	assert_int_equal(fds[2].fd, 22);
	assert_int_equal(fds[3].fd, 23);
	assert_int_equal(supervisor_argv_build(&a, "aurid-exec", fds, n), 0);
	assert_int_equal(a.argc, 9);
	assert_string_equal(a.argv[1], "--admin-fd");
	assert_string_equal(a.argv[2], "4");
	assert_string_equal(a.argv[3], "--uinput-fd");
	assert_string_equal(a.argv[4], "5");
	assert_string_equal(a.argv[5], "--fb-fd");
	assert_string_equal(a.argv[6], "6");
	assert_string_equal(a.argv[7], "--keypad-fd");
	assert_string_equal(a.argv[8], "7");
	assert_null(a.argv[9]);
	assert_int_equal(exec->fds(&s, fds, 3, &n), -E2BIG);

	/* The devices are the executor's alone: acquired before each start,
	 * released after it; the listening sockets stay with the supervisor. */
	assert_non_null(exec->acquire);
	assert_non_null(exec->release);
	assert_null(http->acquire);
	assert_null(http->release);

	s.nlisten = 2;
	s.listen_fds[0] = 30;
	s.listen_fds[1] = 31;
	assert_int_equal(http->fds(&s, fds, SUPERVISOR_FDS_MAX, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(fds[1].flag, "--listen-fd");
	assert_int_equal(fds[1].fd, 31);

	/* aurid-sip runs when aurid.sip.listen lists something; it binds its
	 * own sockets, so it gets no fds from here, and a channel to exec. */
	strcpy(s.cfg.sip_listen, "udp:127.0.0.1:5060,tcp:127.0.0.1:5060");
	assert_true(kind_by_role(IPC_ROLE_SIP)->wanted(&s));
	assert_int_equal(kind_by_role(IPC_ROLE_SIP)->peer, IPC_ROLE_EXEC);
	assert_int_equal(kind_by_role(IPC_ROLE_SIP)->fds(&s, fds, SUPERVISOR_FDS_MAX, &n), 0);
	assert_int_equal(n, 0);
	s.cfg.sip_listen[0] = '\0';
	assert_false(kind_by_role(IPC_ROLE_SIP)->wanted(&s));
}

static void test_find_binary(void **state)
{
	char self[PATH_MAX], path[PATH_MAX], err[512];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *base;

	(void)state;
	assert_true(n > 0);
	self[n] = '\0';
	base = strrchr(self, '/') + 1;
	/* Next to the running binary comes first. */
	assert_int_equal(supervisor_find_binary(base, path, sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(path, self);

	assert_int_equal(supervisor_find_binary("no-such-aurid-child", path, sizeof(path), err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "no-such-aurid-child"));
}

static void move_high(int p[2])
{
	for (int i = 0; i < 2; i++) {
		int fd = fcntl(p[i], F_DUPFD_CLOEXEC, 200);

		assert_true(fd >= 200);
		close(p[i]);
		p[i] = fd;
	}
}

/*
 * A real child gets its fds at 3 and 4 although the sources sit crosswise
 * on each other's targets (fd 4 must become 3 and fd 3 must become 4), and
 * fds without close-on-exec that were not passed do not arrive.
 */
static void test_spawn_fds(void **state)
{
	int a[2], b[2], leak[2];
	int save3, save4;
	char out_a[64], out_b[64];
	char *argv[] = { "sh", "-c",
		"echo three >&3; echo four >&4; exec 3>&- 4>&-; exec sleep 10", NULL };
	struct pollfd lp;
	pid_t pid;
	int fds[2];

	(void)state;
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(pipe2(b, O_CLOEXEC), 0);
	/* Out of the way of 3 and 4, which are about to be overwritten. */
	move_high(a);
	move_high(b);
	/* No close-on-exec, one low and one high: spawn must still close both. */
	assert_int_equal(pipe(leak), 0);
	assert_int_equal(dup2(leak[1], 300), 300);
	save3 = fcntl(3, F_DUPFD_CLOEXEC, 100);
	save4 = fcntl(4, F_DUPFD_CLOEXEC, 100);
	assert_int_equal(dup3(a[1], 4, O_CLOEXEC), 4);
	assert_int_equal(dup3(b[1], 3, O_CLOEXEC), 3);
	fds[0] = 4;  /* a's write end: the child's 3 */
	fds[1] = 3;  /* b's write end: the child's 4 */
	assert_int_equal(supervisor_spawn("/bin/sh", argv, fds, 2, NULL, &pid), 0);

	/* Put the test's own fds 3 and 4 back. */
	if (save3 >= 0)
		dup3(save3, 3, O_CLOEXEC), close(save3);
	else
		close(3);
	if (save4 >= 0)
		dup3(save4, 4, O_CLOEXEC), close(save4);
	else
		close(4);
	close(a[1]);
	close(b[1]);
	close(leak[1]);
	close(300);

	read_all(a[0], out_a, sizeof(out_a));
	read_all(b[0], out_b, sizeof(out_b));
	assert_string_equal(out_a, "three\n");
	assert_string_equal(out_b, "four\n");
	/* The child still runs: EOF here means it never held the leaked write end. */
	lp = (struct pollfd){ .fd = leak[0], .events = POLLIN };
	assert_int_equal(poll(&lp, 1, 0), 1);
	assert_true(lp.revents & POLLHUP);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_true(WIFSIGNALED(wait_status(pid)));
	close(a[0]);
	close(b[0]);
	close(leak[0]);
}

/* Signals the supervisor blocks (for its signalfd) or ignores are normal again in a child. */
static void test_spawn_resets_signals(void **state)
{
	char *argv[] = { "sh", "-c", "exec grep -E '^Sig(Blk|Ign)' /proc/self/status >&3", NULL };
	sigset_t block, old;
	char out[128];
	int p[2];
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old), 0);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(supervisor_spawn("/bin/sh", argv, &p[1], 1, NULL, &pid), 0);
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	close(p[1]);
	read_all(p[0], out, sizeof(out));
	close(p[0]);
	{
		/* glibc reserves SIGRTMIN-2 and SIGRTMIN-1 (32 and 33) for itself:
		 * no one can reset them, so an ignore inherited from the test's
		 * own parent may show there.  Every other signal must be clean. */
		unsigned long long blk, ign;
		unsigned long long reserved = (1ull << 31) | (1ull << 32);

		assert_int_equal(sscanf(out, "SigBlk:\t%llx\nSigIgn:\t%llx\n", &blk, &ign), 2);
		assert_true(blk == 0);
		assert_true((ign & ~reserved) == 0);
	}
	assert_int_equal(wait_status(pid), 0);
}

static void test_spawn_exec_failure_is_127(void **state)
{
	char *argv[] = { "/nonexistent/aurid-exec", NULL };
	pid_t pid;
	int st;

	(void)state;
	assert_int_equal(supervisor_spawn("/nonexistent/aurid-exec", argv, NULL, 0, NULL, &pid), 0);
	st = wait_status(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 127);
}

/* ---- devices ---- */

/* EVIOCGNAME answers for memory devices standing in for input devices. */
static const char *fake_evdev_name(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 1)
		return NULL;
	switch (minor(st.st_rdev)) {
	case 5:  /* /dev/zero */
	case 7:  /* /dev/full */
		return "aurid keypad";
	case 9:  /* /dev/urandom */
		return "AT Translated Set 2 keyboard";
	}
	return NULL;
}

/* A memory device (/dev/random, 1:8) stands for a virtual terminal: its
 * KD mode lives here, and KDSETMODE can be made to fail. */
static int fake_kd_mode = KD_TEXT;
static int fake_kd_set_errno;
static unsigned fake_kd_sets;

static bool fake_vt(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 8;
}

int ioctl(int fd, unsigned long req, ...)
{
	static int (*real)(int, unsigned long, ...);
	const char *name;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if ((req == KDGETMODE || req == KDSETMODE) && fake_vt(fd)) {
		if (req == KDGETMODE) {
			*(int *)arg = fake_kd_mode;
			return 0;
		}
		fake_kd_sets++;
		if (fake_kd_set_errno) {
			errno = fake_kd_set_errno;
			return -1;
		}
		fake_kd_mode = (int)(intptr_t)arg;
		return 0;
	}
	if (_IOC_TYPE(req) == 'E' && _IOC_DIR(req) == _IOC_READ &&
	    _IOC_NR(req) == _IOC_NR(EVIOCGNAME(0)) && (name = fake_evdev_name(fd)) != NULL) {
		size_t len = strlen(name) + 1;

		if (len > _IOC_SIZE(req))
			len = _IOC_SIZE(req);
		memcpy(arg, name, len);
		return (int)len;
	}
	if (!real)
		real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	return real(fd, req, arg);
}

static void touch(const char *dir, const char *name)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

/* Makes dir/name a character device node; false if not allowed here. */
static bool node_make(const char *dir, const char *name, unsigned minor_nr)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (mknod(p, S_IFCHR | 0600, makedev(1, minor_nr)) < 0)
		return false;
	/* A nodev mount makes the node but not its device. */
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static unsigned node_minor(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	return minor(st.st_rdev);
}

/* A directory without input devices: "not found", cleanly, naming what was seen. */
static void test_evdev_find_not_found(void **state)
{
	char *dir = tmpdir_make();
	char p[PATH_MAX], path[PATH_MAX], err[1024];
	int fd = 99;

	(void)state;
	assert_int_equal(supervisor_evdev_find(dir, "aurid keypad", &fd, path, sizeof(path), err,
					       sizeof(err)), -ENOENT);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err, "no input device named \"aurid keypad\""));
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, "no eventN nodes there"));

	touch(dir, "event0");
	touch(dir, "event1");
	touch(dir, "mouse0");
	touch(dir, "eventx");
	snprintf(p, sizeof(p), "%s/event2", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/event3", dir);
	assert_int_equal(symlink("/dev/zero", p), 0);   /* would be "aurid keypad" */
	snprintf(p, sizeof(p), "%s/event4", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(supervisor_evdev_find(dir, "aurid keypad", &fd, path, sizeof(path), err,
					       sizeof(err)), -ENOENT);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err, "event0 (not a device); event1 (not a device); event2 (not a device); "
				    "event3 (not a device); event4 (not a device)"));
	assert_null(strstr(err, "mouse0"));
	assert_null(strstr(err, "eventx"));

	/* Many nodes: the list is cut, and says so. */
	for (int i = 5; i < 100; i++) {
		char name[16];

		snprintf(name, sizeof(name), "event%d", i);
		touch(dir, name);
	}
	assert_int_equal(supervisor_evdev_find(dir, "x", &fd, path, sizeof(path), err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "...)"));

	snprintf(p, sizeof(p), "%s/missing", dir);
	assert_int_equal(supervisor_evdev_find(p, "x", &fd, path, sizeof(path), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot search"));
	assert_non_null(strstr(err, p));
	rm_rf(dir);
	free(dir);
}

/* The first match in the kernel's order wins: event2 before event10. */
static void test_evdev_find_by_name(void **state)
{
	char *dir = tmpdir_make();
	char path[PATH_MAX], expect[PATH_MAX], err[1024];
	int fd, fl;

	(void)state;
	if (!node_make(dir, "event1", 3) || !node_make(dir, "event10", 5) ||
	    !node_make(dir, "event2", 7) || !node_make(dir, "event3", 9)) {
		rm_rf(dir);
		free(dir);
		print_message("cannot make device nodes here: search by name not tested\n");
		skip();
	}
	assert_int_equal(supervisor_evdev_find(dir, "aurid keypad", &fd, path, sizeof(path), err,
					       sizeof(err)), 0);
	snprintf(expect, sizeof(expect), "%s/event2", dir);
	assert_string_equal(path, expect);
	assert_int_equal(node_minor(fd), 7);
	fl = fcntl(fd, F_GETFL);
	assert_int_equal(fl & O_ACCMODE, O_RDONLY);
	assert_true(fl & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);

	assert_int_equal(supervisor_evdev_find(dir, "AT Translated Set 2 keyboard", &fd, path,
					       sizeof(path), err, sizeof(err)), 0);
	assert_int_equal(node_minor(fd), 9);
	close(fd);

	/* Names match whole, and the message lists every device seen. */
	assert_int_equal(supervisor_evdev_find(dir, "aurid", &fd, path, sizeof(path), err, sizeof(err)),
			 -ENOENT);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err, "event1 (not an input device); event2 \"aurid keypad\"; "
				    "event3 \"AT Translated Set 2 keyboard\"; event10 \"aurid keypad\""));
	rm_rf(dir);
	free(dir);
}

static void test_keypad_open_spec(void **state)
{
	char *dir = tmpdir_make();
	char p[PATH_MAX], err[1024];
	bool nodes;
	int fd;

	(void)state;
	assert_int_equal(supervisor_keypad_open("", dir, &fd, err, sizeof(err)), -EINVAL);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err, "aurid.hal.keypad_device is empty"));
	assert_non_null(strstr(err, "aurid.hal = linux"));

	snprintf(p, sizeof(p), "%s/event7", dir);
	assert_int_equal(supervisor_keypad_open(p, dir, &fd, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "aurid.hal.keypad_device: cannot open"));
	assert_non_null(strstr(err, p));

	/* A path that opens but is not an input device is refused at once. */
	touch(dir, "event7");
	assert_int_equal(supervisor_keypad_open(p, dir, &fd, err, sizeof(err)), -ENOTTY);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err, "is not an evdev input device"));
	assert_int_equal(supervisor_keypad_open("/dev/null", dir, &fd, err, sizeof(err)), -ENOTTY);

	/* A name is searched for in the directory given. */
	assert_int_equal(supervisor_keypad_open("aurid keypad", dir, &fd, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "aurid.hal.keypad_device: no input device named \"aurid keypad\""));

	nodes = node_make(dir, "event0", 7);
	if (nodes) {
		assert_int_equal(supervisor_keypad_open("aurid keypad", dir, &fd, err, sizeof(err)), 0);
		assert_int_equal(node_minor(fd), 7);
		close(fd);
		/* A path is followed through symlinks, like /dev/input/by-id/. */
		snprintf(p, sizeof(p), "%s/by-id", dir);
		assert_int_equal(symlink("event0", p), 0);
		assert_int_equal(supervisor_keypad_open(p, dir, &fd, err, sizeof(err)), 0);
		assert_int_equal(node_minor(fd), 7);
		assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
		close(fd);
	}
	rm_rf(dir);
	free(dir);
	if (!nodes) {
		print_message("cannot make device nodes here: keypad found by name not tested\n");
		skip();
	}
}

/* The sim HAL opens nothing; the linux HAL insists on a keypad setting. */
static void test_devices_sim_and_unset(void **state)
{
	static struct supervisor s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.uinput_fd = s.fb_fd = s.keypad_fd = -1;
	config_defaults(&s.cfg);
	assert_string_equal(s.cfg.fb_device, "/dev/fb0");
	assert_string_equal(s.cfg.keypad_device, "");
	s.cfg.hal = CONFIG_HAL_SIM;
	assert_int_equal(supervisor_devices_open(&s), 0);
	assert_int_equal(s.uinput_fd, -1);
	assert_int_equal(s.fb_fd, -1);
	assert_int_equal(s.keypad_fd, -1);

	/* Said before anything is opened: it is the one thing to fix. */
	s.cfg.hal = CONFIG_HAL_LINUX;
	strcpy(s.cfg.uinput_device, "/dev/null");
	assert_int_equal(supervisor_devices_open(&s), -EINVAL);
	assert_int_equal(s.uinput_fd, -1);
	supervisor_devices_close(&s);
}

/*
 * The console VT: KD_GRAPHICS while aurid runs and its old mode back after;
 * no VT, an empty setting or a refusal is only a warning; a VT some other
 * program put into graphics mode is left to that program.
 */
static void test_console_graphics_mode(void **state)
{
	static struct supervisor s;
	char *dir = tmpdir_make();

	(void)state;
	memset(&s, 0, sizeof(s));
	config_defaults(&s.cfg);
	assert_string_equal(s.cfg.console_device, "/dev/tty0");
	if (!node_make(dir, "tty0", 8)) {
		rm_rf(dir);
		free(dir);
		print_message("cannot make device nodes here: console mode not tested\n");
		skip();
	}
	/* The sim HAL and an empty setting leave every VT alone. */
	snprintf(s.cfg.console_device, sizeof(s.cfg.console_device), "%s/tty0", dir);
	s.cfg.hal = CONFIG_HAL_SIM;
	supervisor_console_acquire(&s);
	assert_int_equal(s.console_fd, -1);
	s.cfg.hal = CONFIG_HAL_LINUX;
	s.cfg.console_device[0] = '\0';
	supervisor_console_acquire(&s);
	assert_int_equal(s.console_fd, -1);
	/* No such node, or not a VT: warned about, not fatal. */
	snprintf(s.cfg.console_device, sizeof(s.cfg.console_device), "%s/missing", dir);
	supervisor_console_acquire(&s);
	assert_int_equal(s.console_fd, -1);
	strcpy(s.cfg.console_device, "/dev/null");
	supervisor_console_acquire(&s);
	assert_int_equal(s.console_fd, -1);
	assert_int_equal(fake_kd_sets, 0);

	snprintf(s.cfg.console_device, sizeof(s.cfg.console_device), "%s/tty0", dir);
	fake_kd_mode = KD_TEXT;
	supervisor_console_acquire(&s);
	assert_true(s.console_fd >= 0);
	assert_true(fcntl(s.console_fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fake_kd_mode, KD_GRAPHICS);
	supervisor_console_release(&s);
	assert_int_equal(s.console_fd, -1);
	assert_int_equal(fake_kd_mode, KD_TEXT);
	supervisor_console_release(&s);
	assert_int_equal(fake_kd_sets, 2);

	/* Graphics already (the phone's UI): not ours to give back. */
	fake_kd_mode = KD_GRAPHICS;
	supervisor_console_acquire(&s);
	assert_int_equal(s.console_fd, -1);
	supervisor_console_release(&s);
	assert_int_equal(fake_kd_mode, KD_GRAPHICS);
	assert_int_equal(fake_kd_sets, 2);

	/* KDSETMODE refused (no CAP_SYS_TTY_CONFIG): a warning, mode unchanged. */
	fake_kd_mode = KD_TEXT;
	fake_kd_set_errno = EPERM;
	supervisor_console_acquire(&s);
	assert_int_equal(s.console_fd, -1);
	assert_int_equal(fake_kd_mode, KD_TEXT);
	fake_kd_set_errno = 0;
	rm_rf(dir);
	free(dir);
}

static void test_devices_linux(void **state)
{
	static struct supervisor s;
	const struct supervisor_kind *exec = kind_by_role(IPC_ROLE_EXEC);
	struct supervisor_fd fds[SUPERVISOR_FDS_MAX];
	char *dir = tmpdir_make();
	size_t n;
	int fl, first;

	(void)state;
	if (!node_make(dir, "event4", 5)) {
		rm_rf(dir);
		free(dir);
		print_message("cannot make device nodes here: device opening not tested\n");
		skip();
	}
	memset(&s, 0, sizeof(s));
	s.admin_fd = 20;
	s.uinput_fd = s.fb_fd = s.keypad_fd = -1;
	config_defaults(&s.cfg);
	/* Stand-ins: only the keypad is checked for being an input device. */
	touch(dir, "uinput");
	touch(dir, "fb0");
	snprintf(s.cfg.uinput_device, sizeof(s.cfg.uinput_device), "%s/uinput", dir);
	snprintf(s.cfg.fb_device, sizeof(s.cfg.fb_device), "%s/missing-fb", dir);
	snprintf(s.cfg.keypad_device, sizeof(s.cfg.keypad_device), "%s/event4", dir);

	/* A missing framebuffer is fatal; what was opened stays for free. */
	assert_int_equal(supervisor_devices_open(&s), -ENOENT);
	assert_true(s.uinput_fd >= 0);
	assert_int_equal(s.fb_fd, -1);
	assert_int_equal(s.keypad_fd, -1);
	supervisor_devices_close(&s);
	assert_int_equal(s.uinput_fd, -1);

	snprintf(s.cfg.fb_device, sizeof(s.cfg.fb_device), "%s/fb0", dir);
	assert_int_equal(supervisor_devices_open(&s), 0);
	fl = fcntl(s.uinput_fd, F_GETFL);
	assert_int_equal(fl & O_ACCMODE, O_RDWR);
	fl = fcntl(s.fb_fd, F_GETFL);
	assert_int_equal(fl & O_ACCMODE, O_RDWR);
	assert_false(fl & O_NONBLOCK);
	fl = fcntl(s.keypad_fd, F_GETFL);
	assert_int_equal(fl & O_ACCMODE, O_RDONLY);
	assert_true(fl & O_NONBLOCK);
	assert_int_equal(node_minor(s.keypad_fd), 5);
	assert_true(fcntl(s.uinput_fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(s.fb_fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(s.keypad_fd, F_GETFD) & FD_CLOEXEC);

	/* The executor's flags, in order. */
	assert_int_equal(exec->fds(&s, fds, SUPERVISOR_FDS_MAX, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(fds[1].flag, "--uinput-fd");
	assert_int_equal(fds[1].fd, s.uinput_fd);
	assert_string_equal(fds[2].flag, "--fb-fd");
	assert_int_equal(fds[2].fd, s.fb_fd);
	assert_string_equal(fds[3].flag, "--keypad-fd");
	assert_int_equal(fds[3].fd, s.keypad_fd);

	/* Open already: acquiring again keeps them; release closes them. */
	first = s.keypad_fd;
	assert_int_equal(exec->acquire(&s), 0);
	assert_int_equal(s.keypad_fd, first);
	exec->release(&s);
	assert_int_equal(s.uinput_fd, -1);
	assert_int_equal(s.fb_fd, -1);
	assert_int_equal(s.keypad_fd, -1);
	assert_int_equal(fcntl(first, F_GETFD), -1);
	/* The next start gets files of its own. */
	assert_int_equal(exec->acquire(&s), 0);
	assert_true(s.keypad_fd >= 0);
	supervisor_devices_close(&s);
	rm_rf(dir);
	free(dir);
}

/* ---- privilege drop ---- */

static void test_privdrop_lookup(void **state)
{
	struct privdrop_id id;

	(void)state;
	assert_int_equal(privdrop_lookup("root", "root", &id), 0);
	assert_int_equal(id.uid, 0);
	assert_int_equal(id.gid, 0);
	assert_string_equal(id.user, "root");
	assert_int_equal(privdrop_lookup("no-such-user-aurid", "root", &id), -ENOENT);
	assert_int_equal(privdrop_lookup("root", "no-such-group-aurid", &id), -ENOENT);
}

static const struct privdrop_id nobody = { "nobody", 65534, 65534 };

static void test_privdrop_drop_and_verify(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	if (geteuid() != 0)
		skip();
	/* Not dropped: verify must say so. */
	assert_int_equal(privdrop_verify(&nobody), -EPERM);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		uid_t r, e, s;
		gid_t g[4];

		if (privdrop_apply(&nobody, err, sizeof(err)) != 0)
			_exit(1);
		if (getresuid(&r, &e, &s) < 0 || r != 65534 || e != 65534 || s != 65534)
			_exit(2);
		if (getgroups(4, g) != 1 || g[0] != 65534)
			_exit(3);
		if (setuid(0) != -1 || setgid(0) != -1 || seteuid(0) != -1)
			_exit(4);
		if (privdrop_verify(&nobody) != 0)
			_exit(5);
		_exit(0);
	}
	st = wait_status(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_privdrop_refuses_root_target(void **state)
{
	struct privdrop_id root = { "root", 0, 0 };
	char err[256];

	(void)state;
	/* Refused before anything changes, so this is safe in-process. */
	assert_int_equal(privdrop_apply(&root, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "root"));
}

static void test_spawn_with_drop(void **state)
{
	char *argv[] = { "sh", "-c", "id -u >&3; id -g >&3; id -G >&3", NULL };
	char out[128];
	int p[2];
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(supervisor_spawn("/bin/sh", argv, &p[1], 1, &nobody, &pid), 0);
	close(p[1]);
	read_all(p[0], out, sizeof(out));
	close(p[0]);
	assert_string_equal(out, "65534\n65534\n65534\n");
	assert_int_equal(wait_status(pid), 0);
}

/* ---- directories ---- */

static void test_dir_make(void **state)
{
	char *dir = tmpdir_make();
	char path[PATH_MAX], err[256];
	struct stat st;
	mode_t old = umask(077);

	(void)state;
	snprintf(path, sizeof(path), "%s/a/b/run", dir);
	assert_int_equal(supervisor_dir_make(path, 0755, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);  /* despite the umask */
	snprintf(path, sizeof(path), "%s/a", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);

	snprintf(path, sizeof(path), "%s/state/", dir);
	assert_int_equal(supervisor_dir_make(path, 0700, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* Existing: fine, left as it is. */
	assert_int_equal(supervisor_dir_make(path, 0700, err, sizeof(err)), 0);

	snprintf(path, sizeof(path), "%s/file", dir);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(supervisor_dir_make(path, 0700, err, sizeof(err)), -ENOTDIR);
	assert_non_null(strstr(err, "not a directory"));
	rm_rf(dir);
	free(dir);
}

static void test_dir_chown_state(void **state)
{
	char *dir;
	char p[PATH_MAX], outside[PATH_MAX], err[256];
	struct stat st;

	(void)state;
	if (geteuid() != 0)
		skip();
	dir = tmpdir_make();
	snprintf(outside, sizeof(outside), "%s/outside", dir);
	close(open(outside, O_WRONLY | O_CREAT, 0600));
	snprintf(p, sizeof(p), "%s/state/sim", dir);
	assert_int_equal(supervisor_dir_make(p, 0700, err, sizeof(err)), 0);
	snprintf(p, sizeof(p), "%s/state/aurid.db", dir);
	close(open(p, O_WRONLY | O_CREAT, 0600));
	snprintf(p, sizeof(p), "%s/state/sim/fb.raw", dir);
	close(open(p, O_WRONLY | O_CREAT, 0600));
	/* What a compromised exec user could plant: a symlink and a hard link. */
	snprintf(p, sizeof(p), "%s/state/link", dir);
	assert_int_equal(symlink(outside, p), 0);
	snprintf(p, sizeof(p), "%s/state/hard", dir);
	assert_int_equal(link(outside, p), 0);

	snprintf(p, sizeof(p), "%s/state", dir);
	assert_int_equal(supervisor_dir_chown_state(p, 65534, 65534, err, sizeof(err)), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	snprintf(p, sizeof(p), "%s/state/aurid.db", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	snprintf(p, sizeof(p), "%s/state/sim", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	snprintf(p, sizeof(p), "%s/state/sim/fb.raw", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	/* The file outside stays root's through both links. */
	assert_int_equal(stat(outside, &st), 0);
	assert_int_equal(st.st_uid, 0);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_listen_open_loopback),
		cmocka_unit_test(test_listen_bind_conflict_names_address),
		cmocka_unit_test(test_listen_ipv6_v6only),
		cmocka_unit_test(test_admin_socket),
		cmocka_unit_test(test_admin_path_too_long_refused),
		cmocka_unit_test(test_check_config),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_argv_build),
		cmocka_unit_test(test_kind_fds),
		cmocka_unit_test(test_find_binary),
		cmocka_unit_test(test_spawn_fds),
		cmocka_unit_test(test_spawn_resets_signals),
		cmocka_unit_test(test_spawn_exec_failure_is_127),
		cmocka_unit_test(test_evdev_find_not_found),
		cmocka_unit_test(test_evdev_find_by_name),
		cmocka_unit_test(test_keypad_open_spec),
		cmocka_unit_test(test_devices_sim_and_unset),
		cmocka_unit_test(test_devices_linux),
		cmocka_unit_test(test_console_graphics_mode),
		cmocka_unit_test(test_privdrop_lookup),
		cmocka_unit_test(test_privdrop_drop_and_verify),
		cmocka_unit_test(test_privdrop_refuses_root_target),
		cmocka_unit_test(test_spawn_with_drop),
		cmocka_unit_test(test_dir_make),
		cmocka_unit_test(test_dir_chown_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
