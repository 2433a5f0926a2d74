/*
 * Keypad out, sim backend: appends to <state_dir>/sim/keys.out the records a
 * reader of the uinput device's evdev node would receive.  keys.out is a
 * fixed interface (DESIGN.md section 9): tests outside the project read it.
 */
#include "keypad_out_impl.h"
#include "sim.h"

#include "../services/common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct keypad_sim {
	struct keypad_out base;
	int fd;
};

static int sim_press(struct keypad_out *k, unsigned code)
{
	struct keypad_sim *s = (struct keypad_sim *)k;
	struct input_event ev[4];
	ssize_t n;

	sim_press_events(ev, code);

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

int keypad_out_open_sim(const struct keymap *km, const char *state_dir, struct keypad_out **out)
{
	struct keypad_sim *s;
	int r;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* O_APPEND: see sim_press(). */
	r = sim_file_open(state_dir, "keys.out", O_WRONLY | O_APPEND, "sim keypad", &s->fd);
	if (r) {
		free(s);
		return r;
	}
	keypad_out_base_init(&s->base, &sim_ops, km);
	log_info("sim keypad: %zu keys, presses appended to %s/sim/keys.out", km->n, state_dir);
	*out = &s->base;
	return 0;
}
