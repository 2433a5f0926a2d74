/*
 * Inside the keypad-out HAL: what the backends share.  Not for callers; they
 * see only keypad_out.h.
 */
#ifndef AURID_KEYPAD_OUT_IMPL_H
#define AURID_KEYPAD_OUT_IMPL_H

#include "keypad_out.h"

#include <linux/input.h>
#include <stdint.h>

struct keypad_out_ops {
	int (*press)(struct keypad_out *k, unsigned code);
	void (*close)(struct keypad_out *k);     /* frees k */
};

/* The first member of each backend's own struct. */
struct keypad_out {
	const struct keypad_out_ops *ops;
	uint8_t declared[(KEY_MAX + 8) / 8];     /* bit per code in the keymap */
};

/* Sets ops and copies the keymap's codes into declared. */
void keypad_out_base_init(struct keypad_out *k, const struct keypad_out_ops *ops, const struct keymap *km);

#endif
