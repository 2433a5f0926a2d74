/*
 * Keypad in: the sim FIFO (a fixed interface) and its record parsing,
 * sim presses read back, odd files refused; the linux backend against a
 * fake evdev device (this program's own ioctl() answers libevdev's queries
 * for one pipe, whose read end stands for the evdev node), which reaches
 * SYN_DROPPED and grabs on any machine; and against a real uinput device
 * when /dev/uinput is writable here (skipped otherwise).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hal/keypad_in.h"
#include "testutil.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libevdev/libevdev-uinput.h>
#include <libevdev/libevdev.h>
#include <limits.h>
#include <linux/input.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REC sizeof(struct input_event)

struct fixture {
	char dir[64];
	char sim[96];
	char fifo[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	/* The supervisor's umask: the FIFO's mode must not depend on it. */
	umask(077);
	if (tu_tmpdir(f->dir, sizeof(f->dir), "keypad-in")) {
		free(f);
		return -1;
	}
	snprintf(f->sim, sizeof(f->sim), "%s/sim", f->dir);
	snprintf(f->fifo, sizeof(f->fifo), "%s/keypad.in", f->sim);
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

static struct input_event ev_make(unsigned type, unsigned code, int value)
{
	struct input_event e;

	memset(&e, 0, sizeof(e));
	e.type = (uint16_t)type;
	e.code = (uint16_t)code;
	e.value = value;
	return e;
}

/* Appends a whole press (key 1, SYN, key 0, SYN) to ev at *n. */
static void add_press(struct input_event *ev, size_t *n, unsigned code)
{
	ev[(*n)++] = ev_make(EV_KEY, code, 1);
	ev[(*n)++] = ev_make(EV_SYN, SYN_REPORT, 0);
	ev[(*n)++] = ev_make(EV_KEY, code, 0);
	ev[(*n)++] = ev_make(EV_SYN, SYN_REPORT, 0);
}

static void write_all(int fd, const void *buf, size_t len)
{
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
}

/* A writer on the FIFO, as a test outside the project would open it. */
static int fifo_writer(const struct fixture *f)
{
	int fd = open(f->fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* Reads as an event loop would, until neither the keypad nor poll() says
 * there is more; returns how many codes arrived. */
static size_t read_codes(struct keypad_in *k, unsigned *codes, size_t cap)
{
	size_t total = 0;

	do {
		size_t n = 99;

		assert_int_equal(keypad_in_read(k, codes + total, cap - total, &n), 0);
		total += n;
	} while ((keypad_in_pending(k) || readable(keypad_in_fd(k), 0)) && total < cap);
	return total;
}

static void expect_codes(const unsigned *got, size_t n, const unsigned *want, size_t nwant)
{
	if (n != nwant)
		fail_msg("%zu codes read, expected %zu", n, nwant);
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i])
			fail_msg("code %zu is %u, expected %u", i, got[i], want[i]);
}

/* ---- sim ---- */

static void test_sim_fifo_created(void **state)
{
	struct fixture *f = *state;
	struct keypad_in *k = NULL;
	unsigned codes[4];
	struct stat st;
	size_t n = 99;
	int fd, fl;

	assert_int_equal(keypad_in_open_sim(f->dir, &k), 0);
	assert_non_null(k);
	assert_int_equal(lstat(f->sim, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 022, 0);          /* 0755 less the umask */
	/* The FIFO's mode is the interface's, whatever the umask. */
	assert_int_equal(lstat(f->fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0620);

	/* Non-blocking and close-on-exec; nothing to read yet. */
	fd = keypad_in_fd(k);
	assert_true(fd > 2);
	fl = fcntl(fd, F_GETFL);
	assert_true(fl & O_NONBLOCK);
	assert_int_equal(fl & O_ACCMODE, O_RDWR);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_false(readable(fd, 0));
	assert_int_equal(keypad_in_read(k, codes, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_false(keypad_in_pending(k));
	assert_int_equal(keypad_in_grab(k, true), 0);
	assert_int_equal(keypad_in_grab(k, false), 0);
	keypad_in_close(k);

	/* Reopening uses the FIFO that is there. */
	assert_int_equal(lstat(f->fifo, &st), 0);
	assert_int_equal(keypad_in_open_sim(f->dir, &k), 0);
	keypad_in_close(k);
	keypad_in_close(NULL);
}

/* No EOF when writers come and go: the keypad holds a write end itself. */
static void test_sim_writers_come_and_go(void **state)
{
	static const unsigned want[] = { KEY_1, KEY_2 };
	struct fixture *f = *state;
	struct keypad_in *k;
	struct input_event ev[8];
	unsigned codes[8];
	size_t n = 0;
	int w;

	assert_int_equal(keypad_in_open_sim(f->dir, &k), 0);
	w = fifo_writer(f);
	add_press(ev, &n, KEY_1);
	write_all(w, ev, 4 * REC);
	close(w);
	assert_true(readable(keypad_in_fd(k), 1000));
	assert_int_equal(read_codes(k, codes, 8), 1);
	/* The last writer left: no POLLHUP storm, nothing to read. */
	assert_false(readable(keypad_in_fd(k), 0));
	assert_int_equal(read_codes(k, codes, 8), 0);

	w = fifo_writer(f);
	n = 0;
	add_press(ev, &n, KEY_2);
	write_all(w, ev, 4 * REC);
	close(w);
	codes[0] = KEY_1;
	assert_int_equal(read_codes(k, codes + 1, 7), 1);
	expect_codes(codes, 2, want, 2);
	keypad_in_close(k);
}

/* Records split anywhere across writes come out whole and in order. */
static void test_sim_split_records(void **state)
{
	static const unsigned want[] = { KEY_OK, KEY_1, KEY_CANCEL, KEY_9, KEY_OK, KEY_0 };
	static const size_t chunks[] = { 1, 7, 23, 2, 24, 25, 48, 3, 5, 11, 13, 17, 19, 60, 1000 };
	struct fixture *f = *state;
	struct input_event ev[4 * 6];
	unsigned codes[16];
	const unsigned char *p;
	size_t n = 0, got = 0, left;
	struct keypad_in *k;
	int w;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		add_press(ev, &n, want[i]);
	assert_int_equal(keypad_in_open_sim(f->dir, &k), 0);
	w = fifo_writer(f);
	p = (const unsigned char *)ev;
	left = n * REC;
	for (size_t c = 0; left > 0; c++) {
		size_t len = chunks[c % (sizeof(chunks) / sizeof(chunks[0]))];

		if (len > left)
			len = left;
		write_all(w, p, len);
		p += len;
		left -= len;
		/* Read after every chunk: a partial record must wait. */
		got += read_codes(k, codes + got, 16 - got);
	}
	close(w);
	expect_codes(codes, got, want, sizeof(want) / sizeof(want[0]));
	assert_false(keypad_in_pending(k));
	keypad_in_close(k);
}

static void test_sim_ignores_non_presses(void **state)
{
	static const unsigned want[] = { KEY_A, KEY_6, KEY_7 };
	struct fixture *f = *state;
	struct input_event ev[32];
	struct keypad_in *k;
	unsigned codes[8];
	size_t n = 0;
	int w;

	ev[n++] = ev_make(EV_MSC, MSC_SCAN, 30);
	ev[n++] = ev_make(EV_KEY, KEY_A, 1);            /* the one press */
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	ev[n++] = ev_make(EV_KEY, KEY_A, 2);            /* autorepeat */
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	ev[n++] = ev_make(EV_KEY, KEY_A, 0);            /* release */
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	ev[n++] = ev_make(EV_REL, REL_X, 1);
	ev[n++] = ev_make(EV_LED, LED_NUML, 1);
	ev[n++] = ev_make(EV_SW, SW_LID, 1);
	ev[n++] = ev_make(EV_KEY, 0, 1);                /* KEY_RESERVED */
	ev[n++] = ev_make(EV_KEY, KEY_MAX + 1, 1);      /* not a key code */
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	/* The kernel lost events: the rest of this frame is not trusted. */
	ev[n++] = ev_make(EV_SYN, SYN_DROPPED, 0);
	ev[n++] = ev_make(EV_KEY, KEY_5, 1);
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	ev[n++] = ev_make(EV_KEY, KEY_6, 1);
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	ev[n++] = ev_make(EV_KEY, KEY_7, 1);            /* a press without SYN yet */
	assert_int_equal(keypad_in_open_sim(f->dir, &k), 0);
	w = fifo_writer(f);
	write_all(w, ev, n * REC);
	close(w);
	expect_codes(codes, read_codes(k, codes, 8), want, 3);
	keypad_in_close(k);
}

/* A reader that stops at max keeps the rest, and says so. */
static void test_sim_max_and_pending(void **state)
{
	struct fixture *f = *state;
	struct input_event ev[4 * 10];
	unsigned codes[16];
	struct keypad_in *k;
	size_t n = 0, got = 0, m;
	int w, calls = 0;

	for (unsigned i = 0; i < 10; i++)
		add_press(ev, &n, KEY_1 + i);
	assert_int_equal(keypad_in_open_sim(f->dir, &k), 0);
	w = fifo_writer(f);
	write_all(w, ev, n * REC);
	close(w);
	assert_int_equal(keypad_in_read(k, codes, 3, &m), 0);
	assert_int_equal(m, 3);
	assert_true(keypad_in_pending(k));
	got = 3;
	/* The fd may no longer be readable: what is left sits in the keypad. */
	while (keypad_in_pending(k) || readable(keypad_in_fd(k), 0)) {
		assert_int_equal(keypad_in_read(k, codes + got, 3, &m), 0);
		got += m;
		assert_true(++calls < 20);
	}
	assert_int_equal(got, 10);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(codes[i], KEY_1 + i);
	assert_int_equal(keypad_in_read(k, codes, 0, &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(keypad_in_read(k, NULL, 1, &m), -EINVAL);
	keypad_in_close(k);
}

/* Keys pressed before the prompt are dropped; a record cut in two by the
 * discard still comes out whole afterwards. */
static void test_sim_discard(void **state)
{
	struct fixture *f = *state;
	struct input_event ev[4 * 40 + 1];
	const unsigned char *half;
	unsigned codes[8];
	struct keypad_in *k;
	size_t n = 0;
	int w;

	for (int i = 0; i < 40; i++)
		add_press(ev, &n, KEY_OK);
	ev[n++] = ev_make(EV_KEY, KEY_CANCEL, 1);
	assert_int_equal(keypad_in_open_sim(f->dir, &k), 0);
	w = fifo_writer(f);
	half = (const unsigned char *)&ev[n - 1];
	write_all(w, ev, (n - 1) * REC + 10);
	assert_int_equal(keypad_in_discard(k), 0);
	assert_false(keypad_in_pending(k));
	assert_int_equal(read_codes(k, codes, 8), 0);
	write_all(w, half + 10, REC - 10);
	close(w);
	assert_int_equal(read_codes(k, codes, 8), 1);
	assert_int_equal(codes[0], KEY_CANCEL);
	keypad_in_close(k);
}

/* A writer that floods the FIFO cannot keep one read call going; the
 * press after the flood still arrives. */
static void test_sim_flood_bounded(void **state)
{
	struct fixture *f = *state;
	struct input_event *ev;
	unsigned codes[4];
	struct keypad_in *k;
	size_t cap = 65536 / REC, n, total = 0;
	int w, calls = 0;

	ev = calloc(cap, REC);
	assert_non_null(ev);
	for (n = 0; n < cap - 1; n++)
		ev[n] = ev_make(EV_MSC, MSC_SCAN, (int)n);
	ev[n++] = ev_make(EV_KEY, KEY_OK, 1);
	assert_int_equal(keypad_in_open_sim(f->dir, &k), 0);
	w = fifo_writer(f);
	write_all(w, ev, n * REC);
	close(w);
	free(ev);
	do {
		size_t m;

		assert_int_equal(keypad_in_read(k, codes, 4, &m), 0);
		total += m;
		calls++;
	} while (readable(keypad_in_fd(k), 0) || keypad_in_pending(k));
	assert_true(calls > 1);
	assert_int_equal(total, 1);
	assert_int_equal(codes[0], KEY_OK);
	keypad_in_close(k);
}

static void test_sim_press_read_back(void **state)
{
	static const unsigned want[] = { KEY_OK, KEY_CANCEL, KEY_5 };
	struct fixture *f = *state;
	struct input_event ev[5];
	struct timespec before, after;
	unsigned codes[8];
	struct keypad_in *k;
	int raw;

	/* No reader: the press fails at once instead of waiting. */
	assert_int_equal(keypad_in_sim_press(f->dir, KEY_OK), -ENOENT);
	assert_int_equal(keypad_in_open_sim(f->dir, &k), 0);
	keypad_in_close(k);
	assert_int_equal(keypad_in_sim_press(f->dir, KEY_OK), -ENXIO);

	/* The records themselves: key 1, SYN, key 0, SYN, in one write. */
	raw = open(f->fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(raw >= 0);
	clock_gettime(CLOCK_REALTIME, &before);
	assert_int_equal(keypad_in_sim_press(f->dir, KEY_OK), 0);
	clock_gettime(CLOCK_REALTIME, &after);
	assert_int_equal(read(raw, ev, sizeof(ev)), (ssize_t)(4 * REC));
	close(raw);
	assert_int_equal(ev[0].type, EV_KEY);
	assert_int_equal(ev[0].code, KEY_OK);
	assert_int_equal(ev[0].value, 1);
	assert_int_equal(ev[1].type, EV_SYN);
	assert_int_equal(ev[1].code, SYN_REPORT);
	assert_int_equal(ev[2].type, EV_KEY);
	assert_int_equal(ev[2].code, KEY_OK);
	assert_int_equal(ev[2].value, 0);
	assert_int_equal(ev[3].type, EV_SYN);
	assert_int_equal(ev[3].code, SYN_REPORT);
	assert_true(ev[0].input_event_sec >= before.tv_sec && ev[3].input_event_sec <= after.tv_sec);

	/* Through the keypad, in order. */
	assert_int_equal(keypad_in_open_sim(f->dir, &k), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(keypad_in_sim_press(f->dir, want[i]), 0);
	assert_true(readable(keypad_in_fd(k), 1000));
	expect_codes(codes, read_codes(k, codes, 8), want, 3);

	/* Codes that are not keys are refused, not truncated to 16 bits. */
	assert_int_equal(keypad_in_sim_press(f->dir, 0), -EINVAL);
	assert_int_equal(keypad_in_sim_press(f->dir, KEY_MAX + 1), -EINVAL);
	assert_int_equal(keypad_in_sim_press(f->dir, 0x10000u + KEY_OK), -EINVAL);
	assert_int_equal(read_codes(k, codes, 8), 0);
	keypad_in_close(k);
}

#define WRITERS 4
#define PRESSES 100

/* Presses from several processes at once stay whole. */
static void test_sim_press_concurrent(void **state)
{
	static const unsigned keys[WRITERS] = { KEY_1, KEY_2, KEY_3, KEY_OK };
	struct fixture *f = *state;
	unsigned codes[WRITERS * PRESSES + 1];
	int seen[WRITERS] = { 0 };
	struct keypad_in *k;
	size_t got;

	assert_int_equal(keypad_in_open_sim(f->dir, &k), 0);
	for (int w = 0; w < WRITERS; w++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			int bad = 0;

			for (int i = 0; i < PRESSES; i++)
				bad |= keypad_in_sim_press(f->dir, keys[w]) != 0;
			_exit(bad);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int st;

		assert_true(wait(&st) > 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	got = read_codes(k, codes, WRITERS * PRESSES + 1);
	assert_int_equal(got, WRITERS * PRESSES);
	for (size_t i = 0; i < got; i++) {
		int w;

		for (w = 0; w < WRITERS && codes[i] != keys[w]; w++)
			;
		assert_true(w < WRITERS);
		seen[w]++;
	}
	for (int w = 0; w < WRITERS; w++)
		assert_int_equal(seen[w], PRESSES);
	keypad_in_close(k);
}

static void test_sim_refuses_odd_files(void **state)
{
	struct fixture *f = *state;
	struct keypad_in *k = (struct keypad_in *)1;
	char other[256], missing[300];
	struct stat st;
	int fd;

	/* A regular file at the path: refused, left as it was. */
	assert_int_equal(mkdir(f->sim, 0755), 0);
	fd = open(f->fifo, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	write_all(fd, "keep", 4);
	close(fd);
	assert_int_equal(keypad_in_open_sim(f->dir, &k), -EEXIST);
	assert_null(k);
	assert_int_equal(keypad_in_sim_press(f->dir, KEY_OK), -EEXIST);
	assert_int_equal(lstat(f->fifo, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 4);
	unlink(f->fifo);

	/* A directory there: refused too. */
	assert_int_equal(mkdir(f->fifo, 0755), 0);
	assert_int_equal(keypad_in_open_sim(f->dir, &k), -EEXIST);
	rmdir(f->fifo);

	/* A symlink to a FIFO elsewhere: not followed. */
	snprintf(other, sizeof(other), "%s/elsewhere", f->dir);
	assert_int_equal(mkfifo(other, 0600), 0);
	assert_int_equal(symlink(other, f->fifo), 0);
	assert_int_equal(keypad_in_open_sim(f->dir, &k), -EEXIST);
	assert_true(keypad_in_sim_press(f->dir, KEY_OK) < 0);
	unlink(f->fifo);
	unlink(other);

	/* sim as a symlink to a directory: refused, nothing made there. */
	assert_int_equal(rmdir(f->sim), 0);
	assert_int_equal(mkdir(other, 0755), 0);
	assert_int_equal(symlink(other, f->sim), 0);
	assert_true(keypad_in_open_sim(f->dir, &k) < 0);
	assert_null(k);
	snprintf(missing, sizeof(missing), "%s/keypad.in", other);
	assert_int_equal(lstat(missing, &st), -1);
	unlink(f->sim);

	/* A missing state directory is not created by the keypad. */
	snprintf(missing, sizeof(missing), "%s/missing", f->dir);
	assert_int_equal(keypad_in_open_sim(missing, &k), -ENOENT);
	assert_int_equal(keypad_in_sim_press(missing, KEY_OK), -ENOENT);
	assert_int_equal(lstat(missing, &st), -1);
}

/* ---- linux, against a fake evdev device ---- */

/*
 * libevdev learns about a device only through ioctl() and reads its events
 * with read().  This program's ioctl() comes before the C library's for
 * libevdev too, so for the one fd in fake.fd it answers as the evdev
 * driver would for a small keypad; every other fd gets the real ioctl().
 */
struct fake_evdev {
	int fd;                                 /* read end of a pipe, or -1 */
	bool grabbed;
	int grab_calls;
	unsigned long down[KEY_CNT / (8 * sizeof(long)) + 1];   /* EVIOCGKEY */
};

static struct fake_evdev fake = { .fd = -1 };

static const unsigned fake_keys[] = {
	KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9, KEY_0, KEY_OK, KEY_CANCEL,
};

#define LONG_BITS (8 * sizeof(long))

static void bit_set(void *arg, size_t size, unsigned bit)
{
	unsigned long *bits = arg;

	if ((bit / LONG_BITS + 1) * sizeof(long) <= size)
		bits[bit / LONG_BITS] |= 1UL << (bit % LONG_BITS);
}

static int fake_ioctl(unsigned long req, void *arg)
{
	size_t size = _IOC_SIZE(req);
	unsigned nr = _IOC_NR(req);
	const char *name = "aurid test keypad";

	if (_IOC_TYPE(req) != 'E')
		goto notty;
	if (req == EVIOCGRAB) {
		bool want = arg != NULL;

		fake.grab_calls++;
		/* What evdev answers: a second grab is busy, an ungrab
		 * without a grab is invalid. */
		if (want == fake.grabbed) {
			errno = want ? EBUSY : EINVAL;
			return -1;
		}
		fake.grabbed = want;
		return 0;
	}
	if (_IOC_DIR(req) != _IOC_READ)
		goto notty;
	if (req == EVIOCGVERSION) {
		*(int *)arg = EV_VERSION;
		return 0;
	}
	if (req == EVIOCGID) {
		*(struct input_id *)arg = (struct input_id){ BUS_HOST, 0x1234, 0x5678, 1 };
		return 0;
	}
	if (nr == _IOC_NR(EVIOCGNAME(0))) {
		size_t len = strlen(name) + 1 < size ? strlen(name) + 1 : size;

		memcpy(arg, name, len);
		return (int)len;
	}
	if (nr == _IOC_NR(EVIOCGPHYS(0)) || nr == _IOC_NR(EVIOCGUNIQ(0))) {
		errno = ENOENT;
		return -1;
	}
	memset(arg, 0, size);
	if (nr == _IOC_NR(EVIOCGKEY(0))) {
		memcpy(arg, fake.down, size < sizeof(fake.down) ? size : sizeof(fake.down));
		return (int)size;
	}
	if (nr == _IOC_NR(EVIOCGPROP(0)) || nr == _IOC_NR(EVIOCGLED(0)) ||
	    nr == _IOC_NR(EVIOCGSW(0)) || nr == _IOC_NR(EVIOCGSND(0)))
		return (int)size;
	if (nr >= _IOC_NR(EVIOCGBIT(0, 0)) && nr <= _IOC_NR(EVIOCGBIT(EV_MAX, 0))) {
		unsigned type = nr - _IOC_NR(EVIOCGBIT(0, 0));

		if (type == 0) {
			bit_set(arg, size, EV_SYN);
			bit_set(arg, size, EV_KEY);
			bit_set(arg, size, EV_MSC);
		} else if (type == EV_KEY) {
			for (size_t i = 0; i < sizeof(fake_keys) / sizeof(fake_keys[0]); i++)
				bit_set(arg, size, fake_keys[i]);
		} else if (type == EV_MSC) {
			bit_set(arg, size, MSC_SCAN);
		}
		return (int)size;
	}
notty:
	errno = ENOTTY;
	return -1;
}

int ioctl(int fd, unsigned long req, ...)
{
	static int (*real)(int, unsigned long, ...);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fake.fd >= 0 && fd == fake.fd)
		return fake_ioctl(req, arg);
	if (!real)
		real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	return real(fd, req, arg);
}

/* A keypad on the fake device; *w gets the pipe's write end. */
static struct keypad_in *fake_open(int *w)
{
	struct keypad_in *k = NULL;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fake.fd = p[0];
	assert_int_equal(keypad_in_open_linux(p[0], &k), 0);
	assert_non_null(k);
	assert_int_equal(keypad_in_fd(k), p[0]);
	assert_true(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	*w = p[1];
	return k;
}

static void fake_close(struct keypad_in *k, int w)
{
	keypad_in_close(k);
	close(w);
	fake = (struct fake_evdev){ .fd = -1 };
}

static void test_linux_bad_fd(void **state)
{
	struct keypad_in *k = (struct keypad_in *)1;
	int fd;

	(void)state;
	assert_int_equal(keypad_in_open_linux(-1, &k), -EBADF);
	assert_null(k);

	/* Not an input device: refused, and the fd (owned by the keypad from
	 * the call on) is closed. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	k = (struct keypad_in *)1;
	assert_int_equal(keypad_in_open_linux(fd, &k), -ENOTTY);
	assert_null(k);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

static void test_linux_fake_presses(void **state)
{
	static const unsigned want[] = { KEY_OK, KEY_1, KEY_CANCEL };
	struct input_event ev[32];
	unsigned codes[8];
	struct keypad_in *k;
	size_t n = 0;
	int w;

	(void)state;
	k = fake_open(&w);
	ev[n++] = ev_make(EV_MSC, MSC_SCAN, 0x28);
	ev[n++] = ev_make(EV_KEY, KEY_OK, 1);
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	ev[n++] = ev_make(EV_KEY, KEY_OK, 2);
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	ev[n++] = ev_make(EV_KEY, KEY_OK, 0);
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	add_press(ev, &n, KEY_1);
	ev[n++] = ev_make(EV_KEY, KEY_A, 1);            /* not on this device */
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	add_press(ev, &n, KEY_CANCEL);
	write_all(w, ev, n * REC);
	assert_true(readable(keypad_in_fd(k), 1000));
	expect_codes(codes, read_codes(k, codes, 8), want, 3);
	assert_false(keypad_in_pending(k));
	fake_close(k, w);
}

/* Input left in libevdev's queue is invisible to poll(): pending says so. */
static void test_linux_fake_max_and_discard(void **state)
{
	struct input_event ev[4 * 10];
	unsigned codes[16];
	struct keypad_in *k;
	size_t n = 0, m, got;
	int w;

	(void)state;
	k = fake_open(&w);
	for (unsigned i = 0; i < 10; i++)
		add_press(ev, &n, fake_keys[i]);
	write_all(w, ev, n * REC);
	assert_int_equal(keypad_in_read(k, codes, 4, &m), 0);
	assert_int_equal(m, 4);
	assert_true(keypad_in_pending(k));
	assert_false(readable(keypad_in_fd(k), 0));  /* libevdev took it all */
	got = 4 + read_codes(k, codes + 4, 12);
	assert_int_equal(got, 10);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(codes[i], fake_keys[i]);

	/* Pressed before the prompt: discarded. */
	write_all(w, ev, n * REC);
	assert_int_equal(keypad_in_discard(k), 0);
	assert_false(keypad_in_pending(k));
	assert_int_equal(read_codes(k, codes, 16), 0);
	fake_close(k, w);
}

/*
 * After SYN_DROPPED libevdev offers the device's state as events: here
 * KEY_1 up and KEY_OK down.  Neither is a press the person made now, so
 * nothing is reported; presses after the resync are.
 */
static void test_linux_fake_syn_dropped(void **state)
{
	static const unsigned want[] = { KEY_1, KEY_3 };
	struct input_event ev[16];
	unsigned codes[8];
	struct keypad_in *k;
	size_t n = 0, got;
	int w;

	(void)state;
	k = fake_open(&w);
	fake.down[KEY_OK / LONG_BITS] |= 1UL << (KEY_OK % LONG_BITS);
	ev[n++] = ev_make(EV_KEY, KEY_1, 1);
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	ev[n++] = ev_make(EV_SYN, SYN_DROPPED, 0);
	ev[n++] = ev_make(EV_KEY, KEY_2, 1);            /* after the loss: dropped */
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	write_all(w, ev, n * REC);
	got = read_codes(k, codes, 8);
	n = 0;
	add_press(ev, &n, KEY_3);
	write_all(w, ev, n * REC);
	got += read_codes(k, codes + got, 8 - got);
	expect_codes(codes, got, want, 2);
	fake_close(k, w);
}

static void test_linux_fake_grab(void **state)
{
	struct keypad_in *k;
	int w, p[2];

	(void)state;
	k = fake_open(&w);
	assert_false(fake.grabbed);
	assert_int_equal(keypad_in_grab(k, true), 0);
	assert_true(fake.grabbed);
	assert_int_equal(keypad_in_grab(k, true), 0);   /* already ours */
	assert_int_equal(keypad_in_grab(k, false), 0);
	assert_false(fake.grabbed);
	assert_int_equal(keypad_in_grab(k, true), 0);
	/* Closing with the prompt still up gives the keypad back. */
	keypad_in_close(k);
	assert_false(fake.grabbed);
	close(w);

	/* A grab left on the open file by an executor that died is released. */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fake = (struct fake_evdev){ .fd = p[0], .grabbed = true };
	assert_int_equal(keypad_in_open_linux(p[0], &k), 0);
	assert_false(fake.grabbed);
	fake_close(k, p[1]);

	/* Another process holds it: EBUSY reaches the caller. */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fake = (struct fake_evdev){ .fd = p[0] };
	assert_int_equal(keypad_in_open_linux(p[0], &k), 0);
	fake.grabbed = true;
	assert_int_equal(keypad_in_grab(k, true), -EBUSY);
	fake_close(k, p[1]);
}

/*
 * The key that answers the prompt is still down when the prompt closes:
 * the grab is kept until it comes up, so the phone's UI never gets a
 * release without its press.  A key that was down before the grab is not
 * waited for (the UI saw it go down; it may be a hook switch held for a
 * whole call).
 */
static void test_linux_fake_ungrab_waits_for_release(void **state)
{
	struct input_event ev[8];
	unsigned codes[8];
	struct keypad_in *k;
	size_t n = 0;
	int w;

	(void)state;
	k = fake_open(&w);
	assert_int_equal(keypad_in_grab(k, true), 0);
	ev[n++] = ev_make(EV_KEY, KEY_OK, 1);
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	write_all(w, ev, n * REC);
	assert_int_equal(read_codes(k, codes, 8), 1);
	assert_int_equal(codes[0], KEY_OK);
	assert_int_equal(keypad_in_grab(k, false), 0);
	assert_true(fake.grabbed);                      /* OK is still down */
	n = 0;
	ev[n++] = ev_make(EV_KEY, KEY_OK, 2);           /* autorepeat: still down */
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	write_all(w, ev, n * REC);
	assert_int_equal(read_codes(k, codes, 8), 0);
	assert_true(fake.grabbed);
	n = 0;
	ev[n++] = ev_make(EV_KEY, KEY_OK, 0);
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	write_all(w, ev, n * REC);
	assert_int_equal(read_codes(k, codes, 8), 0);
	assert_false(fake.grabbed);

	/* A new prompt while the release is awaited keeps the grab. */
	assert_int_equal(keypad_in_grab(k, true), 0);
	n = 0;
	add_press(ev, &n, KEY_1);
	ev[n++] = ev_make(EV_KEY, KEY_CANCEL, 1);
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	write_all(w, ev, n * REC);
	assert_int_equal(read_codes(k, codes, 8), 2);
	assert_int_equal(keypad_in_grab(k, false), 0);
	assert_int_equal(keypad_in_grab(k, true), 0);
	assert_true(fake.grabbed);
	n = 0;
	ev[n++] = ev_make(EV_KEY, KEY_CANCEL, 0);
	ev[n++] = ev_make(EV_SYN, SYN_REPORT, 0);
	write_all(w, ev, n * REC);
	assert_int_equal(read_codes(k, codes, 8), 0);
	assert_true(fake.grabbed);                      /* that prompt is up */
	assert_int_equal(keypad_in_grab(k, false), 0);
	assert_false(fake.grabbed);
	fake_close(k, w);

	/* Down before the grab (the UI saw it): not waited for. */
	fake.down[KEY_5 / LONG_BITS] |= 1UL << (KEY_5 % LONG_BITS);
	k = fake_open(&w);
	assert_int_equal(keypad_in_grab(k, true), 0);
	assert_int_equal(keypad_in_grab(k, false), 0);
	assert_false(fake.grabbed);
	fake_close(k, w);
}

/* ---- linux, against a real uinput device ---- */

static void uinput_press(struct libevdev_uinput *ui, unsigned code)
{
	assert_int_equal(libevdev_uinput_write_event(ui, EV_KEY, code, 1), 0);
	assert_int_equal(libevdev_uinput_write_event(ui, EV_SYN, SYN_REPORT, 0), 0);
	assert_int_equal(libevdev_uinput_write_event(ui, EV_KEY, code, 0), 0);
	assert_int_equal(libevdev_uinput_write_event(ui, EV_SYN, SYN_REPORT, 0), 0);
}

static void test_linux_uinput(void **state)
{
	struct libevdev *desc;
	struct libevdev_uinput *ui;
	struct keypad_in *k;
	const char *node;
	unsigned codes[8];
	struct input_event e;
	int fd, other, tries;
	size_t n;

	(void)state;
	/* Needs the uinput driver and the right to use it. */
	if (access("/dev/uinput", W_OK) != 0) {
		print_message("/dev/uinput is not writable here: the evdev backend is tested "
			      "against the fake device only\n");
		skip();
	}
	desc = libevdev_new();
	assert_non_null(desc);
	libevdev_set_name(desc, "aurid test physical keypad");
	libevdev_set_id_bustype(desc, BUS_VIRTUAL);
	for (size_t i = 0; i < sizeof(fake_keys) / sizeof(fake_keys[0]); i++)
		assert_int_equal(libevdev_enable_event_code(desc, EV_KEY, fake_keys[i], NULL), 0);
	assert_int_equal(libevdev_uinput_create_from_device(desc, LIBEVDEV_UINPUT_OPEN_MANAGED, &ui), 0);
	libevdev_free(desc);
	node = libevdev_uinput_get_devnode(ui);
	fd = -1;
	/* udev may need a moment to make the node accessible. */
	for (tries = 0; node && fd < 0 && tries < 40; tries++) {
		fd = open(node, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			usleep(50 * 1000);
	}
	if (fd < 0) {
		libevdev_uinput_destroy(ui);
		print_message("no evdev node for the uinput device: not tested\n");
		skip();
	}
	assert_int_equal(keypad_in_open_linux(fd, &k), 0);

	uinput_press(ui, KEY_OK);
	uinput_press(ui, KEY_CANCEL);
	assert_true(readable(keypad_in_fd(k), 2000));
	n = read_codes(k, codes, 8);
	if (n < 2 && readable(keypad_in_fd(k), 1000))
		n += read_codes(k, codes + n, 8 - n);
	assert_int_equal(n, 2);
	assert_int_equal(codes[0], KEY_OK);
	assert_int_equal(codes[1], KEY_CANCEL);

	/* While grabbed, another reader (the phone's UI) sees nothing. */
	other = open(node, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(other >= 0);
	assert_int_equal(keypad_in_grab(k, true), 0);
	uinput_press(ui, KEY_5);
	assert_true(readable(keypad_in_fd(k), 2000));
	assert_int_equal(read_codes(k, codes, 8), 1);
	assert_int_equal(codes[0], KEY_5);
	assert_int_equal(read(other, &e, sizeof(e)), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(keypad_in_grab(k, false), 0);
	uinput_press(ui, KEY_6);
	assert_true(readable(other, 2000));
	close(other);

	keypad_in_close(k);
	libevdev_uinput_destroy(ui);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sim_fifo_created, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_writers_come_and_go, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_split_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_ignores_non_presses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_max_and_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_discard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_flood_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_press_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_press_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_refuses_odd_files, setup, teardown),
		cmocka_unit_test(test_linux_bad_fd),
		cmocka_unit_test(test_linux_fake_presses),
		cmocka_unit_test(test_linux_fake_max_and_discard),
		cmocka_unit_test(test_linux_fake_syn_dropped),
		cmocka_unit_test(test_linux_fake_grab),
		cmocka_unit_test(test_linux_fake_ungrab_waits_for_release),
		cmocka_unit_test(test_linux_uinput),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
