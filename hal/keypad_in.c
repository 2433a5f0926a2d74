/*
 * Keypad in, the part common to both backends: which events count as a
 * press, and the calls that only dispatch to the backend.
 */
#include "keypad_in_impl.h"

#include <errno.h>

/* keypad_in_discard() reads at most this many batches, so a device that
 * never stops sending cannot hold the executor in it. */
#define KEYPAD_IN_DISCARD_BATCHES 64

void keypad_in_base_init(struct keypad_in *k, const struct keypad_in_ops *ops, int fd)
{
	k->ops = ops;
	k->fd = fd;
	k->more = false;
	k->dropping = false;
}

bool keypad_in_filter(struct keypad_in *k, const struct input_event *ev)
{
	if (ev->type == EV_SYN && ev->code == SYN_DROPPED) {
		k->dropping = true;
		return false;
	}
	if (k->dropping) {
		if (ev->type == EV_SYN && ev->code == SYN_REPORT)
			k->dropping = false;
		return false;
	}
	/* Releases (0) and autorepeat (2) are not presses: holding OK down
	 * must answer the prompt once, not once per repeat. */
	return ev->type == EV_KEY && ev->value == 1 && ev->code != 0 && ev->code <= KEY_MAX;
}

int keypad_in_read(struct keypad_in *k, unsigned *codes, size_t max, size_t *n)
{
	*n = 0;
	if (max > 0 && !codes)
		return -EINVAL;
	return k->ops->read(k, codes, max, n);
}

bool keypad_in_pending(const struct keypad_in *k)
{
	return k->more;
}

int keypad_in_discard(struct keypad_in *k)
{
	unsigned codes[32];
	size_t n;
	int r;

	for (int i = 0; i < KEYPAD_IN_DISCARD_BATCHES; i++) {
		r = keypad_in_read(k, codes, sizeof(codes) / sizeof(codes[0]), &n);
		if (r)
			return r;
		if (!k->more)
			break;
	}
	return 0;
}

int keypad_in_grab(struct keypad_in *k, bool grab)
{
	return k->ops->grab(k, grab);
}

int keypad_in_fd(const struct keypad_in *k)
{
	return k->fd;
}

void keypad_in_close(struct keypad_in *k)
{
	if (k)
		k->ops->close(k);
}
