/*
 * Inside the keypad-in HAL: what the backends share.  Not for callers; they
 * see only keypad_in.h.
 */
#ifndef AURID_KEYPAD_IN_IMPL_H
#define AURID_KEYPAD_IN_IMPL_H

#include "keypad_in.h"

#include <linux/input.h>

struct keypad_in_ops {
	/* *n is 0 on entry; sets k->more before returning 0. */
	int (*read)(struct keypad_in *k, unsigned *codes, size_t max, size_t *n);
	int (*grab)(struct keypad_in *k, bool grab);
	void (*close)(struct keypad_in *k);     /* frees k, closes fd */
};

/* The first member of each backend's own struct. */
struct keypad_in {
	const struct keypad_in_ops *ops;
	int fd;
	bool more;                              /* see keypad_in_pending() */
	bool dropping;                          /* after SYN_DROPPED, until SYN_REPORT */
};

void keypad_in_base_init(struct keypad_in *k, const struct keypad_in_ops *ops, int fd);

/*
 * Is ev a press to report?  Only EV_KEY value 1 of a key code counts.
 * After a SYN_DROPPED record everything up to and including the next
 * SYN_REPORT is ignored, as the evdev documentation asks of a client (the
 * frame is incomplete).  libevdev does this itself, so only the sim ever
 * passes a SYN_DROPPED here.
 */
bool keypad_in_filter(struct keypad_in *k, const struct input_event *ev);

#endif
