/*
 * Keypad in: the phone's physical keypad, read only to answer the consent
 * prompt.  Linux backend: libevdev on an evdev fd (aurid.hal.keypad_device,
 * opened by the supervisor: a path, or a device name searched for in
 * /dev/input), grabbed (EVIOCGRAB) only while the prompt is visible so the
 * phone's UI does not also see the answer; SYN_DROPPED handled by resyncing.
 * Sim backend: the FIFO <state_dir>/sim/keypad.in receiving struct
 * input_event records (write them to press physical keys).
 *
 * Both report only presses (EV_KEY with value 1), never releases or
 * autorepeat, and never a press synthesised from a state resync: a press
 * the kernel dropped is lost, not invented.
 */
#ifndef AURID_KEYPAD_IN_H
#define AURID_KEYPAD_IN_H

#include <stdbool.h>
#include <stddef.h>

struct keypad_in;

/* fd: an evdev node the supervisor opened (O_RDONLY|O_NONBLOCK).  The
 * keypad owns it from this call on, even on failure (it is closed then, and
 * by keypad_in_close() otherwise).  A grab left on the open file by an
 * executor that died with the prompt visible is released here. */
int keypad_in_open_linux(int fd, struct keypad_in **out);
/* Creates <state_dir>/sim/ (0755 less the umask, like keypad_out) and the
 * FIFO keypad.in (0620 whatever the umask) if missing, and opens the FIFO
 * O_RDWR|O_NONBLOCK so it never sees EOF when writers come and go.  -EEXIST
 * if something other than a FIFO is at that path; the sim directory must
 * not be a symlink. */
int keypad_in_open_sim(const char *state_dir, struct keypad_in **out);
/* NULL is allowed. */
void keypad_in_close(struct keypad_in *k);
/* The fd to poll for input. */
int keypad_in_fd(const struct keypad_in *k);
/* Takes (true) or releases (false) the keypad for this process alone:
 * while grabbed the phone's own UI sees none of its keys.  Linux: EVIOCGRAB,
 * -EBUSY if another process holds it; a release while a key pressed under
 * the grab is still down (the answer itself) takes effect when that key
 * comes up, as keypad_in_read() sees it, so the UI never gets the release
 * of a press it did not see.  Sim: nothing to take; returns 0. */
int keypad_in_grab(struct keypad_in *k, bool grab);
/* Reads what is pending; *codes gets the key codes pressed (value 1), in
 * order, at most max; 0 or -errno.  Partial records are kept for later.
 * It stops early when max codes are collected or after a bounded amount of
 * input; keypad_in_pending() then says whether to call it again. */
int keypad_in_read(struct keypad_in *k, unsigned *codes, size_t max, size_t *n);
/* True when input is buffered inside this process, where poll() on the fd
 * cannot see it: call keypad_in_read() again before polling. */
bool keypad_in_pending(const struct keypad_in *k);
/* Reads and drops everything pending.  Call it as the prompt appears: a key
 * pressed before the prompt was visible must not answer it. */
int keypad_in_discard(struct keypad_in *k);
/* Sim only: writes one press (key 1, SYN, key 0, SYN) into the FIFO, in
 * one write, as a person pressing a physical key would (aurictl sim press).
 * -ENXIO when nobody reads the FIFO (aurid-exec is not running), -EAGAIN
 * when it is full, -EINVAL for a code that is not a key. */
int keypad_in_sim_press(const char *state_dir, unsigned code);

#endif
