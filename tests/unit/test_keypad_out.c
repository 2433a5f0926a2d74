/*
 * Keypad out: the sim backend's keys.out records (a fixed interface), its
 * file handling, concurrent writers; the linux backend when /dev/uinput is
 * writable here (skipped otherwise).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hal/keypad_out.h"
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libevdev/libevdev.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct fixture {
	char dir[64];
	char sim[96];
	char keys_out[128];
	struct keymap km;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (!f)
		return -1;
	umask(022);
	if (tu_tmpdir(f->dir, sizeof(f->dir), "keypad") || keymap_load(&f->km, NULL, err, sizeof(err)) != 0) {
		free(f);
		return -1;
	}
	snprintf(f->sim, sizeof(f->sim), "%s/sim", f->dir);
	snprintf(f->keys_out, sizeof(f->keys_out), "%s/keys.out", f->sim);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int r = tu_rmtree(f->dir);

	free(f);
	return r;
}

/* Reads keys.out whole; *n gets the number of records. */
static struct input_event *read_events(const char *path, size_t *n)
{
	struct stat st;
	struct input_event *ev;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	/* Whole records only: a reader never sees part of one. */
	assert_int_equal(st.st_size % (off_t)sizeof(struct input_event), 0);
	ev = malloc((size_t)st.st_size + 1);
	assert_non_null(ev);
	assert_int_equal(read(fd, ev, (size_t)st.st_size), st.st_size);
	close(fd);
	*n = (size_t)st.st_size / sizeof(struct input_event);
	return ev;
}

static int64_t ev_usec(const struct input_event *e)
{
	return (int64_t)e->input_event_sec * 1000000 + (int64_t)e->input_event_usec;
}

static int64_t now_usec(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void expect_event(const struct input_event *e, unsigned type, unsigned code, int value)
{
	if (e->type != type || e->code != code || e->value != value)
		fail_msg("event {type %u, code %u, value %d}, expected {%u, %u, %d}",
			 e->type, e->code, e->value, type, code, value);
}

/* ev[0..3] is one whole press of code. */
static void expect_press(const struct input_event *ev, unsigned code)
{
	expect_event(&ev[0], EV_KEY, code, 1);
	expect_event(&ev[1], EV_SYN, SYN_REPORT, 0);
	expect_event(&ev[2], EV_KEY, code, 0);
	expect_event(&ev[3], EV_SYN, SYN_REPORT, 0);
}

static void test_sim_press_records(void **state)
{
	struct fixture *f = *state;
	struct keypad_out *k = NULL;
	struct input_event *ev;
	struct stat st;
	int64_t before, after;
	unsigned ok, five;
	size_t n;

	assert_int_equal(keymap_lookup(&f->km, "OK", &ok), 0);
	assert_int_equal(keymap_lookup(&f->km, "5", &five), 0);
	assert_int_equal(keypad_out_open_sim(&f->km, f->dir, &k), 0);
	assert_non_null(k);

	/* The directory and the file exist, with the modes of the interface. */
	assert_int_equal(lstat(f->sim, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(lstat(f->keys_out, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_size, 0);

	before = now_usec();
	assert_int_equal(keypad_out_press(k, ok), 0);
	after = now_usec();
	ev = read_events(f->keys_out, &n);
	assert_int_equal(n, 4);
	expect_press(ev, KEY_OK);
	/* Wall-clock stamps, as evdev gives by default; release after press. */
	for (int i = 0; i < 4; i++)
		assert_true(ev_usec(&ev[i]) >= before && ev_usec(&ev[i]) <= after);
	assert_true(ev_usec(&ev[0]) == ev_usec(&ev[1]));
	assert_true(ev_usec(&ev[2]) == ev_usec(&ev[3]));
	assert_true(ev_usec(&ev[0]) <= ev_usec(&ev[2]));
	free(ev);

	/* Presses append, in order. */
	assert_int_equal(keypad_out_press(k, five), 0);
	assert_int_equal(keypad_out_press(k, ok), 0);
	ev = read_events(f->keys_out, &n);
	assert_int_equal(n, 12);
	expect_press(&ev[0], KEY_OK);
	expect_press(&ev[4], KEY_NUMERIC_5);
	expect_press(&ev[8], KEY_OK);
	free(ev);
	keypad_out_close(k);

	/* Reopening appends: keys.out keeps every key aurid ever injected. */
	assert_int_equal(keypad_out_open_sim(&f->km, f->dir, &k), 0);
	assert_int_equal(keypad_out_press(k, five), 0);
	keypad_out_close(k);
	ev = read_events(f->keys_out, &n);
	assert_int_equal(n, 16);
	expect_press(&ev[12], KEY_NUMERIC_5);
	free(ev);
}

static void test_sim_undeclared_code(void **state)
{
	struct fixture *f = *state;
	struct keypad_out *k;
	struct stat st;

	/*
	 * A code outside the keymap is refused, not written: the uinput
	 * device would not declare it and the kernel would drop it, so the
	 * sim must not pretend it was delivered.
	 */
	assert_int_equal(keypad_out_open_sim(&f->km, f->dir, &k), 0);
	assert_true(keypad_out_declares(k, KEY_OK));
	assert_false(keypad_out_declares(k, KEY_A));
	assert_false(keypad_out_declares(k, 0));
	assert_false(keypad_out_declares(k, KEY_MAX));
	assert_false(keypad_out_declares(k, 0xffffffffu));
	assert_int_equal(keypad_out_press(k, KEY_A), -EINVAL);
	assert_int_equal(keypad_out_press(k, 0), -EINVAL);
	assert_int_equal(keypad_out_press(k, KEY_MAX), -EINVAL);
	assert_int_equal(keypad_out_press(k, 0xffffffffu), -EINVAL);
	keypad_out_close(k);
	assert_int_equal(stat(f->keys_out, &st), 0);
	assert_int_equal(st.st_size, 0);
}

static void test_sim_custom_keymap(void **state)
{
	struct fixture *f = *state;
	struct keymap km;
	struct keypad_out *k;
	struct input_event *ev;
	char err[256];
	size_t n;

	/* Only the given map's codes are declared. */
	assert_int_equal(keymap_parse(&km, "A KEY_A\nB 48\n", "t", err, sizeof(err)), 0);
	assert_int_equal(keypad_out_open_sim(&km, f->dir, &k), 0);
	assert_int_equal(keypad_out_press(k, KEY_OK), -EINVAL);
	assert_int_equal(keypad_out_press(k, KEY_B), 0);
	keypad_out_close(k);
	ev = read_events(f->keys_out, &n);
	assert_int_equal(n, 4);
	expect_press(ev, KEY_B);
	free(ev);
}

static void test_sim_refuses_odd_files(void **state)
{
	struct fixture *f = *state;
	struct keypad_out *k = (struct keypad_out *)1;
	char target[256], missing[300];
	struct stat st;

	/* keys.out as a symlink: not followed, the target is not created. */
	snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
	assert_int_equal(mkdir(f->sim, 0755), 0);
	assert_int_equal(symlink(target, f->keys_out), 0);
	assert_true(keypad_out_open_sim(&f->km, f->dir, &k) < 0);
	assert_null(k);
	assert_int_equal(lstat(target, &st), -1);
	unlink(f->keys_out);

	/* keys.out as a FIFO: refused at once rather than blocking in open(). */
	assert_int_equal(mkfifo(f->keys_out, 0644), 0);
	assert_true(keypad_out_open_sim(&f->km, f->dir, &k) < 0);
	unlink(f->keys_out);

	/* sim as a symlink to a directory: refused. */
	assert_int_equal(rmdir(f->sim), 0);
	assert_int_equal(mkdir(target, 0755), 0);
	assert_int_equal(symlink(target, f->sim), 0);
	assert_true(keypad_out_open_sim(&f->km, f->dir, &k) < 0);
	snprintf(missing, sizeof(missing), "%s/keys.out", target);
	assert_int_equal(lstat(missing, &st), -1);
	unlink(f->sim);

	/* A missing state directory is not created by the keypad. */
	snprintf(missing, sizeof(missing), "%s/missing", f->dir);
	assert_int_equal(keypad_out_open_sim(&f->km, missing, &k), -ENOENT);
	assert_int_equal(lstat(missing, &st), -1);

	keypad_out_close(NULL);
}

#define WRITERS 4
#define PRESSES 300

/* Writers in separate processes, each with its own open keys.out: every
 * press stays whole and each writer's presses keep their order. */
static void test_sim_concurrent_writers(void **state)
{
	static const char *const names[WRITERS] = { "1", "2", "3", "OK" };
	struct fixture *f = *state;
	struct input_event *ev;
	unsigned codes[WRITERS];
	int seen[WRITERS] = { 0 };
	size_t n;

	for (int w = 0; w < WRITERS; w++)
		assert_int_equal(keymap_lookup(&f->km, names[w], &codes[w]), 0);
	for (int w = 0; w < WRITERS; w++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			struct keypad_out *k;
			int bad = 0;

			if (keypad_out_open_sim(&f->km, f->dir, &k) != 0)
				_exit(1);
			for (int i = 0; i < PRESSES; i++)
				bad |= keypad_out_press(k, codes[w]) != 0;
			keypad_out_close(k);
			_exit(bad);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;

		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ev = read_events(f->keys_out, &n);
	assert_int_equal(n, (size_t)WRITERS * PRESSES * 4);
	for (size_t i = 0; i < n; i += 4) {
		int w;

		for (w = 0; w < WRITERS; w++)
			if (ev[i].code == codes[w])
				break;
		assert_true(w < WRITERS);
		expect_press(&ev[i], codes[w]);
		seen[w]++;
	}
	for (int w = 0; w < WRITERS; w++)
		assert_int_equal(seen[w], PRESSES);
	free(ev);
}

static void test_linux_bad_fd(void **state)
{
	struct fixture *f = *state;
	struct keypad_out *k = (struct keypad_out *)1;
	int fd;

	assert_int_equal(keypad_out_open_linux(&f->km, -1, &k), -EBADF);
	assert_null(k);

	/* Not a uinput device: refused, and the fd (owned by the keypad from
	 * the call on) is closed. */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	k = (struct keypad_out *)1;
	assert_true(keypad_out_open_linux(&f->km, fd, &k) < 0);
	assert_null(k);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

/* Finds the evdev node of the device named name (udev may take a moment). */
static int open_evdev_by_name(const char *name, struct libevdev **out)
{
	for (int tries = 0; tries < 40; tries++) {
		DIR *d = opendir("/dev/input");
		struct dirent *de;

		while (d && (de = readdir(d)) != NULL) {
			char path[300];
			struct libevdev *dev;
			int fd;

			if (strncmp(de->d_name, "event", 5) != 0)
				continue;
			snprintf(path, sizeof(path), "/dev/input/%s", de->d_name);
			fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
			if (fd < 0)
				continue;
			if (libevdev_new_from_fd(fd, &dev) == 0) {
				if (strcmp(libevdev_get_name(dev), name) == 0) {
					closedir(d);
					*out = dev;
					return fd;
				}
				libevdev_free(dev);
			}
			close(fd);
		}
		if (d)
			closedir(d);
		usleep(50 * 1000);
	}
	return -1;
}

static void test_linux_uinput(void **state)
{
	struct fixture *f = *state;
	struct keypad_out *k;
	struct libevdev *dev;
	struct input_event got[4];
	int ufd, efd, n = 0;

	/* Needs the uinput driver and the right to use it. */
	if (access("/dev/uinput", W_OK) != 0) {
		print_message("/dev/uinput is not writable here: the uinput backend is not tested\n");
		skip();
	}
	ufd = open("/dev/uinput", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	assert_true(ufd >= 0);
	assert_int_equal(keypad_out_open_linux(&f->km, ufd, &k), 0);

	efd = open_evdev_by_name("aurid remote keypad", &dev);
	if (efd < 0) {
		/* No evdev node to read back (no devtmpfs/udev): presses still work. */
		print_message("no /dev/input node for the device: checking presses only\n");
		assert_int_equal(keypad_out_press(k, KEY_OK), 0);
		keypad_out_close(k);
		return;
	}
	/* It declares the keymap's codes and nothing else. */
	assert_true(libevdev_has_event_code(dev, EV_KEY, KEY_OK));
	assert_true(libevdev_has_event_code(dev, EV_KEY, KEY_MACRO1));
	assert_false(libevdev_has_event_code(dev, EV_KEY, KEY_A));
	assert_false(libevdev_has_event_type(dev, EV_REL));

	assert_int_equal(keypad_out_press(k, KEY_OK), 0);
	while (n < 4) {
		struct pollfd p = { .fd = efd, .events = POLLIN };
		struct input_event e;
		int r;

		/* libevdev reads every event the kernel has at once: what is in
		 * its queue is invisible to poll(). */
		if (libevdev_has_event_pending(dev) == 0)
			assert_true(poll(&p, 1, 2000) == 1);
		r = libevdev_next_event(dev, LIBEVDEV_READ_FLAG_NORMAL, &e);
		if (r == -EAGAIN)
			continue;
		assert_int_equal(r, LIBEVDEV_READ_STATUS_SUCCESS);
		got[n++] = e;
	}
	expect_press(got, KEY_OK);
	libevdev_free(dev);
	close(efd);
	keypad_out_close(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sim_press_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_undeclared_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_custom_keymap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_refuses_odd_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_concurrent_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux_bad_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux_uinput, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
