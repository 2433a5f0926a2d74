/*
 * Keypad out, sim backend: appends to <state_dir>/sim/keys.out the records a
 * reader of the uinput device's evdev node would receive.  keys.out is a
 * fixed interface (DESIGN.md section 9): tests outside the project read it.
 */
#include "keypad_out_impl.h"

#include "../services/common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct keypad_sim {
	struct keypad_out base;
	int fd;
};

static void set_event(struct input_event *ev, const struct timespec *ts, unsigned type, unsigned code, int value)
{
	memset(ev, 0, sizeof(*ev));
	ev->input_event_sec = ts->tv_sec;
	ev->input_event_usec = ts->tv_nsec / 1000;
	ev->type = (uint16_t)type;
	ev->code = (uint16_t)code;
	ev->value = value;
}

static int sim_press(struct keypad_out *k, unsigned code)
{
	struct keypad_sim *s = (struct keypad_sim *)k;
	struct input_event ev[4];
	struct timespec down, up;
	ssize_t n;

	/*
	 * evdev stamps each frame (events up to a SYN_REPORT) with the
	 * CLOCK_REALTIME time it was reported, so the press and the release
	 * frames each get their own stamp.
	 */
	clock_gettime(CLOCK_REALTIME, &down);
	set_event(&ev[0], &down, EV_KEY, code, 1);
	set_event(&ev[1], &down, EV_SYN, SYN_REPORT, 0);
	clock_gettime(CLOCK_REALTIME, &up);
	set_event(&ev[2], &up, EV_KEY, code, 0);
	set_event(&ev[3], &up, EV_SYN, SYN_REPORT, 0);

	/*
	 * One write() of the whole press on an O_APPEND file: appends are
	 * atomic for regular files, so a reader never sees half a press and
	 * two writers never interleave theirs.  A short write cannot be
	 * completed without splitting the press, so it is an error.
	 */
	do
		n = write(s->fd, ev, sizeof(ev));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int r = -errno;

		log_err("sim keypad: writing keys.out: %s", strerror(-r));
		return r;
	}
	if ((size_t)n != sizeof(ev)) {
		log_err("sim keypad: short write to keys.out (%zd of %zu bytes)", n, sizeof(ev));
		return -EIO;
	}
	return 0;
}

static void sim_close(struct keypad_out *k)
{
	struct keypad_sim *s = (struct keypad_sim *)k;

	close(s->fd);
	free(s);
}

static const struct keypad_out_ops sim_ops = {
	.press = sim_press,
	.close = sim_close,
};

/* Opens <state_dir>/sim/keys.out; the sim directory is created if needed and
 * must be a real directory, keys.out a regular file (neither a symlink). */
static int open_keys_out(const char *state_dir, int *out)
{
	struct stat st;
	int dfd, sfd, fd, r;

	dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		log_err("sim keypad: state directory %s: %s", state_dir, strerror(-r));
		return r;
	}
	if (mkdirat(dfd, "sim", 0755) < 0 && errno != EEXIST) {
		r = -errno;
		log_err("sim keypad: cannot create %s/sim: %s", state_dir, strerror(-r));
		close(dfd);
		return r;
	}
	sfd = openat(dfd, "sim", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = sfd < 0 ? -errno : 0;
	close(dfd);
	if (r) {
		log_err("sim keypad: %s/sim: %s", state_dir, strerror(-r));
		return r;
	}
	/* O_NONBLOCK: a FIFO planted as keys.out must fail here, not block the
	 * executor in open(); it has no effect on a regular file. */
	fd = openat(sfd, "keys.out", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	r = fd < 0 ? -errno : 0;
	close(sfd);
	if (r) {
		log_err("sim keypad: %s/sim/keys.out: %s", state_dir, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_err("sim keypad: %s/sim/keys.out is not a regular file", state_dir);
		close(fd);
		return -EINVAL;
	}
	*out = fd;
	return 0;
}

int keypad_out_open_sim(const struct keymap *km, const char *state_dir, struct keypad_out **out)
{
	struct keypad_sim *s;
	int r;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r = open_keys_out(state_dir, &s->fd);
	if (r) {
		free(s);
		return r;
	}
	keypad_out_base_init(&s->base, &sim_ops, km);
	log_info("sim keypad: %zu keys, presses appended to %s/sim/keys.out", km->n, state_dir);
	*out = &s->base;
	return 0;
}
