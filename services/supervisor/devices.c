/*
 * The device nodes aurid-exec needs and may not open itself (they need
 * privilege): /dev/uinput for the keys aurid presses, the framebuffer for
 * the consent prompt and screenshots, and the physical keypad's evdev node
 * for the person's answer.  Linux HAL only; the sim HAL's stand-ins are
 * files the executor makes in its state directory.  Also the console VT,
 * which the supervisor itself keeps in KD_GRAPHICS while aurid runs.
 */
#include "supervisor.h"

#include "services/common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <linux/kd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * O_NOCTTY: a node that turns out to be a terminal must not become the
 * supervisor's controlling terminal.  O_NONBLOCK for the keypad: the
 * executor polls it from its event loop.
 */
#define KEYPAD_FLAGS (O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
#define FB_FLAGS     (O_RDWR | O_CLOEXEC | O_NOCTTY)
#define UINPUT_FLAGS (O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)

#define KEYPAD_EMPTY "aurid.hal.keypad_device is empty: with aurid.hal = linux set it to " \
	"the physical keypad, as a path (/dev/input/eventN, /dev/input/by-id/...) or as " \
	"its input device name (N: Name=\"...\" in /proc/bus/input/devices)"

/* The evdev name of fd into name; -ENOTTY (or another -errno) if fd is
 * not an evdev device. */
static int evdev_name(int fd, char *name, size_t len)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ENOTTY;
	memset(name, 0, len);
	if (ioctl(fd, EVIOCGNAME(len - 1), name) < 0)
		return -errno;
	return 0;
}

/* "event12" -> 12; anything else is not an evdev node name. */
static bool event_number(const char *s, unsigned *n)
{
	char *end;
	unsigned long v;

	if (strncmp(s, "event", 5) != 0 || s[5] < '0' || s[5] > '9')
		return false;
	errno = 0;
	v = strtoul(s + 5, &end, 10);
	if (errno || *end || v > 100000)
		return false;
	*n = (unsigned)v;
	return true;
}

static int event_filter(const struct dirent *de)
{
	unsigned n;

	return event_number(de->d_name, &n);
}

/* event2 before event10: probe order is the kernel's, not the alphabet's. */
static int event_compare(const struct dirent **a, const struct dirent **b)
{
	unsigned x = 0, y = 0;

	event_number((*a)->d_name, &x);
	event_number((*b)->d_name, &y);
	return x < y ? -1 : x > y;
}

/* Appends "node what" to the list of devices seen, for the message if none
 * matches; a list cut short ends in "...". */
static void seen_add(char *seen, size_t len, const char *node, const char *what)
{
	size_t used = strlen(seen);
	int n;

	if (used + 4 >= len)
		return;
	n = snprintf(seen + used, len - used, "%s%s %s", used ? "; " : "", node, what);
	if (n < 0 || (size_t)n >= len - used)
		memcpy(seen + len - 4, "...", 4);
}

int supervisor_evdev_find(const char *dir, const char *name, int *fd, char *path, size_t pathlen,
			  char *err, size_t errlen)
{
	struct dirent **list = NULL;
	char seen[512] = "";
	int dfd, n, r = -ENOENT;

	*fd = -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot search %s for an input device named \"%s\": %s", dir, name,
			 strerror(-r));
		return r;
	}
	n = scandir(dir, &list, event_filter, event_compare);
	if (n < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot read %s: %s", dir, strerror(-r));
		close(dfd);
		return r;
	}
	for (int i = 0; i < n && r == -ENOENT; i++) {
		const char *node = list[i]->d_name;
		char got[256], what[260];
		struct stat st;
		int f;

		/* Only character devices are opened: opening some other kind
		 * of file could block or have effects of its own. */
		if (fstatat(dfd, node, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISCHR(st.st_mode)) {
			seen_add(seen, sizeof(seen), node, "(not a device)");
			continue;
		}
		f = openat(dfd, node, KEYPAD_FLAGS | O_NOFOLLOW);
		if (f < 0) {
			snprintf(what, sizeof(what), "(%s)", strerror(errno));
			seen_add(seen, sizeof(seen), node, what);
			continue;
		}
		if (evdev_name(f, got, sizeof(got)) < 0) {
			seen_add(seen, sizeof(seen), node, "(not an input device)");
			close(f);
			continue;
		}
		if (strcmp(got, name) != 0) {
			snprintf(what, sizeof(what), "\"%s\"", got);
			seen_add(seen, sizeof(seen), node, what);
			close(f);
			continue;
		}
		r = snprintf(path, pathlen, "%s/%s", dir, node) < (int)pathlen ? 0 : -ENAMETOOLONG;
		if (r) {
			snprintf(err, errlen, "%s/%s: path too long", dir, node);
			close(f);
		} else {
			*fd = f;
		}
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	close(dfd);
	if (r == -ENOENT)
		snprintf(err, errlen, "no input device named \"%s\" in %s (%s)", name, dir,
			 seen[0] ? seen : "no eventN nodes there");
	return r;
}

int supervisor_keypad_open(const char *spec, const char *dir, int *fd, char *err, size_t errlen)
{
	char path[PATH_MAX], name[256], msg[768];
	int f, r;

	*fd = -1;
	if (spec[0] == '\0') {
		snprintf(err, errlen, "%s", KEYPAD_EMPTY);
		return -EINVAL;
	}
	if (spec[0] != '/') {
		r = supervisor_evdev_find(dir, spec, &f, path, sizeof(path), msg, sizeof(msg));
		if (r) {
			snprintf(err, errlen, "aurid.hal.keypad_device: %s", msg);
			return r;
		}
		log_info("keypad: \"%s\" is %s", spec, path);
		*fd = f;
		return 0;
	}
	f = open(spec, KEYPAD_FLAGS);
	if (f < 0) {
		r = -errno;
		snprintf(err, errlen, "aurid.hal.keypad_device: cannot open %s: %s", spec, strerror(-r));
		return r;
	}
	/* Refused here, once and clearly, rather than by each executor run. */
	r = evdev_name(f, name, sizeof(name));
	if (r) {
		snprintf(err, errlen, "aurid.hal.keypad_device: %s is not an evdev input device (%s)",
			 spec, strerror(-r));
		close(f);
		return r;
	}
	log_info("keypad: %s is \"%s\"", spec, name);
	*fd = f;
	return 0;
}

/* Opens path into *fd unless it is open already; key names it in the log. */
static int open_node(const char *key, const char *path, int flags, int *fd)
{
	int r;

	if (*fd >= 0)
		return 0;
	if (path[0] == '\0') {
		log_err("%s is empty: with aurid.hal = linux it must name a device node", key);
		return -EINVAL;
	}
	*fd = open(path, flags);
	if (*fd < 0) {
		r = -errno;
		log_err("%s: cannot open %s: %s", key, path, strerror(-r));
		return r;
	}
	return 0;
}

int supervisor_devices_open(struct supervisor *s)
{
	const struct aurid_config *cfg = &s->cfg;
	char err[1024];
	int r;

	if (cfg->hal == CONFIG_HAL_SIM)
		return 0;
	/* A missing setting is said first: it is the one thing to fix. */
	if (cfg->keypad_device[0] == '\0') {
		log_err("%s", KEYPAD_EMPTY);
		return -EINVAL;
	}
	r = open_node("aurid.hal.uinput_device", cfg->uinput_device, UINPUT_FLAGS, &s->uinput_fd);
	if (r == 0)
		r = open_node("aurid.hal.fb_device", cfg->fb_device, FB_FLAGS, &s->fb_fd);
	if (r == 0 && s->keypad_fd < 0) {
		r = supervisor_keypad_open(cfg->keypad_device, SUPERVISOR_INPUT_DIR, &s->keypad_fd,
					   err, sizeof(err));
		if (r)
			log_err("%s", err);
	}
	return r;
}

void supervisor_devices_close(struct supervisor *s)
{
	int *fds[] = { &s->uinput_fd, &s->fb_fd, &s->keypad_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/*
 * The kernel's framebuffer console draws on the same framebuffer as the
 * prompt: its cursor blinks at the text position (measured in QEMU: 127
 * pixels of the screen overwritten, tests/hil), and kernel messages scroll
 * over everything.  KD_GRAPHICS stops both until the mode is given back.
 * The supervisor holds the VT, not the executor: it needs privilege, and
 * it must outlive executor restarts.
 */
void supervisor_console_acquire(struct supervisor *s)
{
	const char *path = s->cfg.console_device;
	int fd, mode = KD_TEXT;

	s->console_fd = -1;
	if (s->cfg.hal == CONFIG_HAL_SIM || path[0] == '\0')
		return;
	/* O_NOCTTY: never the supervisor's controlling terminal. */
	fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("aurid.hal.console: cannot open %s (%s); the kernel's console may draw over "
			 "the screen", path, strerror(errno));
		return;
	}
	if (ioctl(fd, KDGETMODE, &mode) < 0) {
		log_warn("aurid.hal.console: %s is not a virtual terminal (%s); left alone", path,
			 strerror(errno));
		close(fd);
		return;
	}
	if (mode == KD_GRAPHICS) {
		/* Someone (the phone's UI) has it already: theirs to give back. */
		log_info("aurid.hal.console: %s is in graphics mode already", path);
		close(fd);
		return;
	}
	if (ioctl(fd, KDSETMODE, KD_GRAPHICS) < 0) {
		log_warn("aurid.hal.console: cannot put %s into graphics mode (%s); the kernel's "
			 "console may draw over the screen", path, strerror(errno));
		close(fd);
		return;
	}
	s->console_fd = fd;
	s->console_mode = mode;
	log_info("aurid.hal.console: %s in graphics mode while aurid runs", path);
}

void supervisor_console_release(struct supervisor *s)
{
	if (s->console_fd < 0)
		return;
	if (ioctl(s->console_fd, KDSETMODE, s->console_mode) < 0)
		log_warn("aurid.hal.console: cannot give %s its text mode back: %s", s->cfg.console_device,
			 strerror(errno));
	close(s->console_fd);
	s->console_fd = -1;
}
