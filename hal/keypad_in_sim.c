/*
 * Keypad in, sim backend: the FIFO <state_dir>/sim/keypad.in stands for the
 * physical keypad's evdev node.  Whoever plays the person at the desk
 * (aurictl sim press, a test) writes the struct input_event records the
 * kernel would deliver.  keypad.in is a fixed interface (DESIGN.md
 * section 9): tests outside the project write into it.
 */
#include "keypad_in_impl.h"
#include "sim.h"

#include "../services/common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYPAD_IN_FIFO "keypad.in"
#define KEYPAD_IN_FIFO_MODE 0620
/* read() calls per keypad_in_read() at most: a writer that never stops
 * cannot hold the executor; what it wrote stays in the FIFO, which poll()
 * still reports. */
#define KEYPAD_IN_SIM_READS 16

#define REC sizeof(struct input_event)

struct keypad_in_sim {
	struct keypad_in base;
	size_t len;                             /* bytes in buf */
	unsigned char buf[64 * REC];            /* records, then part of one */
};

static int sim_read(struct keypad_in *k, unsigned *codes, size_t max, size_t *n)
{
	struct keypad_in_sim *s = (struct keypad_in_sim *)k;
	int reads = 0;

	for (;;) {
		size_t off = 0;
		ssize_t got;

		/* Whole records first; a writer may split one across writes. */
		while (s->len - off >= REC && *n < max) {
			struct input_event ev;

			memcpy(&ev, s->buf + off, REC);
			off += REC;
			if (keypad_in_filter(k, &ev))
				codes[(*n)++] = ev.code;
		}
		memmove(s->buf, s->buf + off, s->len - off);
		s->len -= off;
		if (*n == max) {
			k->more = s->len >= REC;
			return 0;
		}
		/* Only part of a record is left here now; more is in the FIFO
		 * or nothing is, and poll() sees either. */
		k->more = false;
		if (reads++ == KEYPAD_IN_SIM_READS)
			return 0;
		got = read(k->fd, s->buf + s->len, sizeof(s->buf) - s->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EAGAIN)
			return 0;
		if (got < 0) {
			int r = -errno;

			log_err("sim keypad: reading keypad.in: %s", strerror(-r));
			return r;
		}
		if (got == 0)
			return 0;       /* cannot happen: we hold a write end too */
		s->len += (size_t)got;
	}
}

static int sim_grab(struct keypad_in *k, bool grab)
{
	/* No phone UI reads the FIFO, so there is nobody to keep keys from. */
	(void)k;
	(void)grab;
	return 0;
}

static void sim_close(struct keypad_in *k)
{
	close(k->fd);
	free(k);
}

static const struct keypad_in_ops sim_ops = {
	.read = sim_read,
	.grab = sim_grab,
	.close = sim_close,
};

/* The FIFO in sfd, made if missing (mode 0620 whatever the umask).
 * Anything else at that path, a symlink included, is refused. */
static int open_fifo(int sfd, int *out)
{
	bool made = false;
	struct stat st;
	int fd, r;

	if (mkfifoat(sfd, KEYPAD_IN_FIFO, KEYPAD_IN_FIFO_MODE) == 0)
		made = true;
	else if (errno != EEXIST)
		return -errno;
	/* Look before opening: opening some other kind of node could have
	 * effects of its own. */
	if (fstatat(sfd, KEYPAD_IN_FIFO, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISFIFO(st.st_mode))
		return -EEXIST;
	fd = openat(sfd, KEYPAD_IN_FIFO, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	/* It may have been replaced between the look and the open. */
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		close(fd);
		return -EEXIST;
	}
	if (made && fchmod(fd, KEYPAD_IN_FIFO_MODE) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

int keypad_in_open_sim(const char *state_dir, struct keypad_in **out)
{
	struct keypad_in_sim *s;
	int sfd, fd = -1, r;

	*out = NULL;
	r = sim_dir_open(state_dir, true, NULL, &sfd);
	if (r) {
		log_err("sim keypad: %s/sim: %s", state_dir, strerror(-r));
		return r;
	}
	r = open_fifo(sfd, &fd);
	close(sfd);
	if (r) {
		log_err("sim keypad: %s/sim/" KEYPAD_IN_FIFO ": %s", state_dir,
			r == -EEXIST ? "exists and is not a FIFO" : strerror(-r));
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	keypad_in_base_init(&s->base, &sim_ops, fd);
	log_info("sim keypad: physical keys are read from %s/sim/" KEYPAD_IN_FIFO, state_dir);
	*out = &s->base;
	return 0;
}

int keypad_in_sim_press(const char *state_dir, unsigned code)
{
	struct input_event ev[4];
	struct stat st;
	ssize_t n;
	int sfd, fd, r;

	if (code == 0 || code > KEY_MAX)
		return -EINVAL;
	r = sim_dir_open(state_dir, false, NULL, &sfd);
	if (r)
		return r;
	/* O_NONBLOCK: with no reader the open fails (ENXIO) instead of
	 * waiting for one, and a full FIFO fails the write (EAGAIN). */
	fd = openat(sfd, KEYPAD_IN_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	r = fd < 0 ? -errno : 0;
	close(sfd);
	if (r)
		return r;
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		close(fd);
		return -EEXIST;
	}
	sim_press_events(ev, code);
	/*
	 * One write of less than PIPE_BUF bytes is atomic: the reader never
	 * sees half a press, and presses from several writers never
	 * interleave.
	 */
	_Static_assert(sizeof(ev) <= 512, "a press must fit PIPE_BUF");
	do
		n = write(fd, ev, sizeof(ev));
	while (n < 0 && errno == EINTR);
	r = n < 0 ? -errno : (size_t)n == sizeof(ev) ? 0 : -EIO;
	close(fd);
	return r;
}
