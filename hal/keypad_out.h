/*
 * Keypad out: the keys aurid presses.  Linux backend: a libevdev uinput
 * device named "aurid remote keypad" declaring only the keymap's codes.
 * Sim backend: appends the same struct input_event records the kernel would
 * deliver to <state_dir>/sim/keys.out.  A press is: key 1, SYN, key 0, SYN.
 */
#ifndef AURID_KEYPAD_OUT_H
#define AURID_KEYPAD_OUT_H

#include "keymap.h"

#include <stdbool.h>

struct keypad_out;

/* uinput_fd: an open /dev/uinput handed over by the supervisor (linux).
 * The keypad owns it from this call on, even on failure (it is closed then,
 * and by keypad_out_close() otherwise). */
int keypad_out_open_linux(const struct keymap *km, int uinput_fd, struct keypad_out **out);
/* Creates <state_dir>/sim/ (0755) and opens keys.out for appending. */
int keypad_out_open_sim(const struct keymap *km, const char *state_dir, struct keypad_out **out);
/* Presses and releases one key code; 0 or -errno.  -EINVAL for a code the
 * keymap does not declare (the kernel would drop it), in both backends. */
int keypad_out_press(struct keypad_out *k, unsigned code);
/* Is code one of the keymap's (declared on the device)? */
bool keypad_out_declares(const struct keypad_out *k, unsigned code);
/* NULL is allowed. */
void keypad_out_close(struct keypad_out *k);

#endif
