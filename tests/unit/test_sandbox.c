/*
 * sandbox: each profile, entered in a forked child, allows what its process
 * does and kills (SIGSYS) or refuses what it must not.  The child reports
 * through its exit status: 0 when every step went as expected, else the
 * number of the step that did not.
 */
#include "services/common/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fb.h>
#include <linux/input.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define DIES (-1)

/* The device descriptors aurid-exec's filter is built for, or NULL. */
static const struct sandbox_devices *devices;

/* Runs body in a child inside profile p (dir read-write for Landlock);
 * the child's exit status, or DIES when SIGSYS killed it. */
static int in_sandbox(enum sandbox_profile p, int (*body)(const char *dir), const char *dir)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sandbox_paths paths = { .rw = { dir }, .devices = devices };
		char level[256];

		if (sandbox_enter(p, &paths, level, sizeof(level)) != 0) {
			fprintf(stderr, "sandbox_enter: %s\n", level);
			_exit(100);
		}
		_exit(body(dir));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		assert_int_equal(WTERMSIG(status), SIGSYS);
		return DIES;
	}
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static const char *tmpdir(void)
{
	static char dir[64];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/aurid-sandbox-XXXXXX");
		assert_non_null(mkdtemp(dir));
	}
	return dir;
}

static int everyday(const char *dir)
{
	struct timespec ts;
	void *m = malloc(1 << 20);

	(void)dir;
	if (!m || getpid() <= 0 || clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 1;
	free(m);
	return 0;
}

static void *thread_main(void *arg)
{
	return arg;
}

static int threads(const char *dir)
{
	pthread_t t;
	void *ret = NULL;

	(void)dir;
	/* glibc tries clone3 first; the filter answers ENOSYS and it uses clone. */
	if (pthread_create(&t, NULL, thread_main, (void *)1) != 0 || pthread_join(t, &ret) != 0)
		return 1;
	return ret == (void *)1 ? 0 : 2;
}

static int open_passwd(const char *dir)
{
	(void)dir;
	return open("/etc/passwd", O_RDONLY | O_CLOEXEC) >= 0 ? 0 : errno == EACCES ? 3 : 4;
}

static int open_passwd_write(const char *dir)
{
	(void)dir;
	open("/etc/passwd", O_WRONLY | O_CLOEXEC);
	return 5;
}

static int inet_stream(const char *dir)
{
	(void)dir;
	return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) >= 0 ? 0 : 6;
}

static int inet_dgram(const char *dir)
{
	(void)dir;
	return socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) >= 0 ? 0 : 7;
}

static int unix_dgram(const char *dir)
{
	(void)dir;
	if (socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) >= 0)
		return 0;
	return errno == EACCES ? 8 : 9;
}

static int packet_socket(const char *dir)
{
	(void)dir;
	socket(AF_PACKET, SOCK_RAW, 0);
	return 10;
}

static int state_file(const char *dir)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/db", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1)
		return 11;
	close(fd);
	return unlink(path) == 0 ? 0 : 12;
}

static int map_exec(const char *dir)
{
	(void)dir;
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return 14;
}

static int protect_exec(const char *dir)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)dir;
	if (m == MAP_FAILED)
		return 15;
	mprotect(m, 4096, PROT_READ | PROT_EXEC);
	return 16;
}

static int map_read_write(const char *dir)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)dir;
	if (m == MAP_FAILED || mprotect(m, 4096, PROT_READ) != 0 || mprotect(m, 4096, PROT_NONE) != 0)
		return 17;
	return 0;
}

/* The device requests, on descriptor 100 (the "framebuffer" and the
 * "keypad" of the test) and on 101 (another one). */
static int fb_ioctl_on(int fd)
{
	struct fb_var_screeninfo v;

	/* A pipe is no framebuffer: ENOTTY, but not killed. */
	return ioctl(fd, FBIOGET_VSCREENINFO, &v) < 0 && errno == ENOTTY ? 0 : 18;
}

static int fb_ioctl_100(const char *dir)
{
	(void)dir;
	return fb_ioctl_on(100);
}

static int fb_ioctl_101(const char *dir)
{
	(void)dir;
	return fb_ioctl_on(101);
}

static int evdev_reads_100(const char *dir)
{
	unsigned char keys[KEY_MAX / 8 + 1];

	(void)dir;
	if (ioctl(100, EVIOCGKEY(sizeof(keys)), keys) == 0 || errno != ENOTTY)
		return 19;
	if (ioctl(100, EVIOCGRAB, (void *)1) == 0 || errno != ENOTTY)
		return 20;
	return 0;
}

static int evdev_writes_100(const char *dir)
{
	struct input_absinfo abs = { 0 };

	(void)dir;
	/* EVIOCSABS writes the device: the HAL never does. */
	ioctl(100, EVIOCSABS(ABS_X), &abs);
	return 21;
}

static int tty_probe(const char *dir)
{
	(void)dir;
	return isatty(100) == 0 ? 0 : 22;
}

#ifndef AURID_SANITIZE
static int forks(const char *dir)
{
	pid_t pid;

	(void)dir;
	pid = fork();
	if (pid == 0)
		_exit(0);
	return 13;
}
#endif

static void test_every_profile_runs_the_basics(void **state)
{
	(void)state;
	for (int p = 0; p < SANDBOX_NPROFILES; p++) {
		assert_int_equal(in_sandbox(p, everyday, tmpdir()), 0);
		assert_int_equal(in_sandbox(p, threads, tmpdir()), 0);
	}
}

static void test_http_opens_nothing_and_makes_no_socket(void **state)
{
	(void)state;
#ifdef AURID_SANITIZE
	/* LeakSanitizer's /proc reads need read-only opens; Landlock refuses the rest. */
	if (sandbox_landlock_abi() > 0)
		assert_int_equal(in_sandbox(SANDBOX_HTTP, open_passwd, tmpdir()), 3);
#else
	assert_int_equal(in_sandbox(SANDBOX_HTTP, open_passwd, tmpdir()), DIES);
#endif
	assert_int_equal(in_sandbox(SANDBOX_HTTP, open_passwd_write, tmpdir()), DIES);
	assert_int_equal(in_sandbox(SANDBOX_HTTP, inet_stream, tmpdir()), DIES);
	assert_int_equal(in_sandbox(SANDBOX_HTTP, unix_dgram, tmpdir()), DIES);
}

static void test_sip_sockets_and_files(void **state)
{
	(void)state;
	assert_int_equal(in_sandbox(SANDBOX_SIP, inet_stream, tmpdir()), 0);
	assert_int_equal(in_sandbox(SANDBOX_SIP, inet_dgram, tmpdir()), 0);
	/* glibc's nscd probe: refused, not killed. */
	assert_int_equal(in_sandbox(SANDBOX_SIP, unix_dgram, tmpdir()), 8);
	assert_int_equal(in_sandbox(SANDBOX_SIP, packet_socket, tmpdir()), DIES);
	assert_int_equal(in_sandbox(SANDBOX_SIP, open_passwd_write, tmpdir()), DIES);
	if (sandbox_landlock_abi() > 0)
		assert_int_equal(in_sandbox(SANDBOX_SIP, open_passwd, tmpdir()), 3);
}

static void test_exec_unix_sockets_and_its_state_dir(void **state)
{
	(void)state;
	assert_int_equal(in_sandbox(SANDBOX_EXEC, unix_dgram, tmpdir()), 0);
	assert_int_equal(in_sandbox(SANDBOX_EXEC, inet_stream, tmpdir()), DIES);
	assert_int_equal(in_sandbox(SANDBOX_EXEC, state_file, tmpdir()), 0);
	if (sandbox_landlock_abi() > 0)
		assert_int_equal(in_sandbox(SANDBOX_EXEC, open_passwd, tmpdir()), 3);
}

static void test_no_profile_forks(void **state)
{
	(void)state;
#ifndef AURID_SANITIZE
	/* (LeakSanitizer clones a helper task: a sanitizer build allows clone.) */
	for (int p = 0; p < SANDBOX_NPROFILES; p++)
		assert_int_equal(in_sandbox(p, forks, tmpdir()), DIES);
#endif
}

static void test_nothing_becomes_executable(void **state)
{
	(void)state;
	for (int p = 0; p < SANDBOX_NPROFILES; p++) {
		assert_int_equal(in_sandbox(p, map_read_write, tmpdir()), 0);
		assert_int_equal(in_sandbox(p, map_exec, tmpdir()), DIES);
		assert_int_equal(in_sandbox(p, protect_exec, tmpdir()), DIES);
	}
}

static void test_device_ioctls_only_on_their_devices(void **state)
{
	static const struct sandbox_devices held = { .evdev_fd = 100, .uinput_fd = -1, .fb_fd = 100 };
	int pfd[2];

	(void)state;
	/* Descriptors 100 and 101 exist (a pipe), so only the filter decides. */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(dup2(pfd[0], 100), 100);
	assert_int_equal(dup2(pfd[1], 101), 101);
	/* Without devices (the sim HAL): no device request on any descriptor. */
	devices = NULL;
	assert_int_equal(in_sandbox(SANDBOX_EXEC, tty_probe, tmpdir()), 0);
	assert_int_equal(in_sandbox(SANDBOX_EXEC, fb_ioctl_100, tmpdir()), DIES);
	assert_int_equal(in_sandbox(SANDBOX_EXEC, evdev_reads_100, tmpdir()), DIES);
	/* With them: each device's requests on its own descriptor only. */
	devices = &held;
	assert_int_equal(in_sandbox(SANDBOX_EXEC, tty_probe, tmpdir()), 0);
	assert_int_equal(in_sandbox(SANDBOX_EXEC, fb_ioctl_100, tmpdir()), 0);
	assert_int_equal(in_sandbox(SANDBOX_EXEC, evdev_reads_100, tmpdir()), 0);
	assert_int_equal(in_sandbox(SANDBOX_EXEC, fb_ioctl_101, tmpdir()), DIES);
	assert_int_equal(in_sandbox(SANDBOX_EXEC, evdev_writes_100, tmpdir()), DIES);
	/* The front-ends never get them. */
	assert_int_equal(in_sandbox(SANDBOX_HTTP, fb_ioctl_100, tmpdir()), DIES);
	assert_int_equal(in_sandbox(SANDBOX_SIP, evdev_reads_100, tmpdir()), DIES);
	devices = NULL;
	close(100);
	close(101);
	close(pfd[0]);
	close(pfd[1]);
}

static void test_root_is_refused(void **state)
{
	char err[128];

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(sandbox_check_unprivileged(err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "root"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_profile_runs_the_basics),
		cmocka_unit_test(test_http_opens_nothing_and_makes_no_socket),
		cmocka_unit_test(test_sip_sockets_and_files),
		cmocka_unit_test(test_exec_unix_sockets_and_its_state_dir),
		cmocka_unit_test(test_no_profile_forks),
		cmocka_unit_test(test_nothing_becomes_executable),
		cmocka_unit_test(test_device_ioctls_only_on_their_devices),
		cmocka_unit_test(test_root_is_refused),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	rmdir(tmpdir());
	return r;
}
