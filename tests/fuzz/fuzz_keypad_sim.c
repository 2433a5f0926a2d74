/*
 * libFuzzer target for the sim keypad's FIFO (hal/keypad_in_sim.c): the
 * records anyone may write into <state_dir>/sim/keypad.in, read through
 * the real path -- keypad_in_open_sim() on a temporary state directory,
 * the FIFO it makes, read() in sim_read() -- with the bytes written in
 * pieces the input chooses and read back with batch sizes it chooses.
 *
 * Input: byte 0 = number of pieces - 1 (low 3 bits) and the batch size
 * (high 5 bits, + 1); then one byte per piece boundary; the rest is what
 * the writer writes.  Whatever the garbage (types, codes, values, half
 * records), the keys reported must be exactly the presses a reader of
 * whole records finds (a model of the rule in keypad_in.h, written here
 * from that header), in order, with nothing invented or lost between reads.
 */
#include "hal/keypad_in.h"
#include "services/common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/input.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort(), not assert(): the checks must stay in a release build. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define REC sizeof(struct input_event)
#define MAX_INPUT 16384            /* a quarter of a pipe: the writer never blocks */

static char state_dir[256];
static char fifo[300];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void cleanup(void)
{
	nftw(state_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	if (!tmp || !*tmp || strlen(tmp) > 200)
		tmp = "/tmp";
	snprintf(state_dir, sizeof(state_dir), "%s/aurid-fuzz-keypad-XXXXXX", tmp);
	if (!mkdtemp(state_dir))
		abort();
	atexit(cleanup);
	snprintf(fifo, sizeof(fifo), "%s/sim/keypad.in", state_dir);
	log_set_level("err");   /* every open logs at info */
	return 0;
}

/* The presses in whole records, by the rule keypad_in.h states. */
static size_t model(const uint8_t *p, size_t len, unsigned *codes, size_t max)
{
	bool dropping = false;
	size_t n = 0;

	for (size_t off = 0; off + REC <= len && n < max; off += REC) {
		struct input_event ev;

		memcpy(&ev, p + off, REC);
		if (ev.type == EV_SYN && ev.code == SYN_DROPPED) {
			dropping = true;
			continue;
		}
		if (dropping) {
			if (ev.type == EV_SYN && ev.code == SYN_REPORT)
				dropping = false;
			continue;
		}
		if (ev.type == EV_KEY && ev.value == 1 && ev.code != 0 && ev.code <= KEY_MAX)
			codes[n++] = ev.code;
	}
	return n;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Reads until nothing is left in the FIFO or buffered inside the keypad. */
static void drain(struct keypad_in *k, size_t batch, unsigned *got, size_t *ngot, size_t cap)
{
	unsigned codes[32];

	for (int i = 0; i < 100000 && (keypad_in_pending(k) || readable(keypad_in_fd(k))); i++) {
		size_t n = 12345;

		for (size_t j = 0; j < batch; j++)
			codes[j] = 0xdeadu;
		CHECK(keypad_in_read(k, codes, batch, &n) == 0);
		CHECK(n <= batch);
		for (size_t j = 0; j < n; j++) {
			CHECK(codes[j] != 0 && codes[j] <= KEY_MAX);
			CHECK(*ngot < cap);
			got[(*ngot)++] = codes[j];
		}
		/* Nothing is left behind in a reader that said "done". */
		if (!keypad_in_pending(k) && !readable(keypad_in_fd(k)))
			return;
	}
	CHECK(!keypad_in_pending(k) && !readable(keypad_in_fd(k)));
}

static int cmp_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	return a < b ? -1 : a > b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned want[MAX_INPUT / REC + 1], got[MAX_INPUT / REC + 1];
	size_t npieces, batch, cuts[9], nwant, ngot = 0, off = 0;
	const uint8_t *stream;
	size_t len;
	struct keypad_in *k;
	int w;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	npieces = (data[0] & 7) + 1;
	batch = (size_t)(data[0] >> 3) + 1;     /* 1..32 */
	if (size < npieces)
		return 0;
	stream = data + npieces;
	len = size - npieces;
	for (size_t i = 0; i + 1 < npieces; i++)
		cuts[i] = len ? ((size_t)data[1 + i] * 97) % (len + 1) : 0;
	cuts[npieces - 1] = len;
	qsort(cuts, npieces, sizeof(cuts[0]), cmp_size);

	CHECK(keypad_in_open_sim(state_dir, &k) == 0);
	w = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK(w >= 0);
	for (size_t i = 0; i < npieces; i++) {
		size_t n = cuts[i] - off;

		if (n)
			CHECK(write(w, stream + off, n) == (ssize_t)n);
		off = cuts[i];
		drain(k, batch, got, &ngot, sizeof(got) / sizeof(got[0]));
	}
	nwant = model(stream, len, want, sizeof(want) / sizeof(want[0]));
	CHECK(ngot == nwant);
	CHECK(memcmp(got, want, nwant * sizeof(want[0])) == 0);

	/* What is left is part of one record, kept for the next write: the
	 * rest of it, and a SYN, complete the stream as a model reader sees
	 * the whole of it. */
	if (len % REC) {
		static const struct input_event syn = { .type = EV_SYN, .code = SYN_REPORT };
		static uint8_t all[MAX_INPUT + 2 * REC];
		size_t fill = REC - len % REC, nall;

		memcpy(all, stream, len);
		memset(all + len, 0xff, fill);
		memcpy(all + len + fill, &syn, REC);
		CHECK(write(w, all + len, fill + REC) == (ssize_t)(fill + REC));
		nall = model(all, len + fill + REC, want, sizeof(want) / sizeof(want[0]));
		CHECK(nall >= nwant && nall <= nwant + 1);
		ngot = 0;
		drain(k, batch, got, &ngot, sizeof(got) / sizeof(got[0]));
		CHECK(ngot == nall - nwant);
		CHECK(memcmp(got, want + nwant, ngot * sizeof(want[0])) == 0);
	}
	close(w);
	keypad_in_close(k);
	return 0;
}
