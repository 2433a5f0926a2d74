/*
 * Keypad in: the phone's physical keypad, read only to answer the consent
 * prompt.  Linux backend: libevdev on an evdev fd (aurid.hal.keypad_device,
 * opened by the supervisor: a path, or a device name searched for in
 * /dev/input), grabbed (EVIOCGRAB) only while the prompt is visible so the
 * phone's UI does not also see the answer; SYN_DROPPED handled by resyncing.
 * Sim backend: the FIFO <state_dir>/sim/keypad.in receiving struct
 * input_event records (write them to press physical keys).
 */
#ifndef AURID_KEYPAD_IN_H
#define AURID_KEYPAD_IN_H

#include <stdbool.h>
#include <stddef.h>

struct keypad_in;

int keypad_in_open_linux(int fd, struct keypad_in **out);
/* Creates the FIFO (0620? see .c) if missing and opens it O_RDWR|O_NONBLOCK
 * so it never sees EOF when writers come and go. */
int keypad_in_open_sim(const char *state_dir, struct keypad_in **out);
void keypad_in_close(struct keypad_in *k);
/* The fd to poll for input. */
int keypad_in_fd(const struct keypad_in *k);
int keypad_in_grab(struct keypad_in *k, bool grab);
/* Reads what is pending; *codes gets the key codes pressed (value 1), in
 * order, at most max; 0 or -errno.  Partial records are kept for later. */
int keypad_in_read(struct keypad_in *k, unsigned *codes, size_t max, size_t *n);
/* Sim only: writes one press (key 1, SYN, key 0, SYN) into the FIFO, as a
 * person pressing a physical key would (aurictl sim press). */
int keypad_in_sim_press(const char *state_dir, unsigned code);

#endif
