/* What the sim backends share: the sim directory and files in it, a press as
 * evdev records. */
#include "sim.h"

#include "../services/common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int sim_dir_open(const char *state_dir, bool create, const char *who, int *out)
{
	int dfd, sfd, r;

	dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		if (who)
			log_err("%s: state directory %s: %s", who, state_dir, strerror(-r));
		return r;
	}
	if (create && mkdirat(dfd, "sim", 0755) < 0 && errno != EEXIST) {
		r = -errno;
		if (who)
			log_err("%s: cannot create %s/sim: %s", who, state_dir, strerror(-r));
		close(dfd);
		return r;
	}
	/* O_NOFOLLOW: a symlink named sim is refused here. */
	sfd = openat(dfd, "sim", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = sfd < 0 ? -errno : 0;
	close(dfd);
	if (r) {
		if (who)
			log_err("%s: %s/sim: %s", who, state_dir, strerror(-r));
		return r;
	}
	*out = sfd;
	return 0;
}

int sim_file_open(const char *state_dir, const char *name, int oflags, const char *who, int *out)
{
	struct stat st;
	int sfd, fd, r;

	r = sim_dir_open(state_dir, true, who, &sfd);
	if (r)
		return r;
	/* O_NONBLOCK: a FIFO planted as name must fail below, not block the
	 * caller in open(); it has no effect on a regular file. */
	fd = openat(sfd, name, oflags | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644);
	r = fd < 0 ? -errno : 0;
	close(sfd);
	if (r) {
		log_err("%s: %s/sim/%s: %s", who, state_dir, name, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_err("%s: %s/sim/%s is not a regular file", who, state_dir, name);
		close(fd);
		return -EINVAL;
	}
	*out = fd;
	return 0;
}

static void set_event(struct input_event *ev, const struct timespec *ts, unsigned type, unsigned code, int value)
{
	memset(ev, 0, sizeof(*ev));
	ev->input_event_sec = ts->tv_sec;
	ev->input_event_usec = ts->tv_nsec / 1000;
	ev->type = (uint16_t)type;
	ev->code = (uint16_t)code;
	ev->value = value;
}

void sim_press_events(struct input_event ev[4], unsigned code)
{
	struct timespec down, up;

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
}
