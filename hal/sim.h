/*
 * Inside the HAL: what the sim backends (fb_sim.c, keypad_in_sim.c,
 * keypad_out_sim.c) share.  Not for callers.
 */
#ifndef AURID_HAL_SIM_H
#define AURID_HAL_SIM_H

#include <linux/input.h>
#include <stdbool.h>

/* Opens <state_dir>/sim as a directory; with create, makes it first if
 * missing (0755 less the umask).  It must be a real directory: a symlink
 * there is refused, so a planted link cannot redirect the sim files.  who
 * ("sim fb"), when not NULL, starts a log line naming the step that failed;
 * with NULL nothing is logged.  0 and the directory's fd in *out, or -errno. */
int sim_dir_open(const char *state_dir, bool create, const char *who, int *out);

/* Opens <state_dir>/sim/<name>, the sim directory made and checked as by
 * sim_dir_open(); name is created (0644 less the umask) if missing and must
 * be a regular file, not a symlink, so a planted link cannot redirect the
 * writes.  oflags: O_RDWR, O_WRONLY | O_APPEND ...  Failures are logged,
 * each line starting with who (not NULL here).  0 and the fd in *out, or
 * -errno (-EINVAL: not a regular file). */
int sim_file_open(const char *state_dir, const char *name, int oflags, const char *who, int *out);

/* One press of code as evdev reports it: key 1, SYN, key 0, SYN, the press
 * and the release frames each stamped with CLOCK_REALTIME when made. */
void sim_press_events(struct input_event ev[4], unsigned code);

#endif
