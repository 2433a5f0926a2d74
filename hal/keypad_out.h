/*
 * Keypad out: the keys aurid presses.  Linux backend: a libevdev uinput
 * device named "aurid remote keypad" declaring only the keymap's codes.
 * Sim backend: appends the same struct input_event records the kernel would
 * deliver to <state_dir>/sim/keys.out.  A press is: key 1, SYN, key 0, SYN.
 */
#ifndef AURID_KEYPAD_OUT_H
#define AURID_KEYPAD_OUT_H

#include "keymap.h"

struct keypad_out;

/* uinput_fd: an open /dev/uinput handed over by the supervisor (linux). */
int keypad_out_open_linux(const struct keymap *km, int uinput_fd, struct keypad_out **out);
/* Creates <state_dir>/sim/ (0755) and opens keys.out for appending. */
int keypad_out_open_sim(const struct keymap *km, const char *state_dir, struct keypad_out **out);
/* Presses and releases one key code; 0 or -errno. */
int keypad_out_press(struct keypad_out *k, unsigned code);
void keypad_out_close(struct keypad_out *k);

#endif
