/*
 * Keypad in, linux backend: libevdev on the evdev node of the physical
 * keypad.  The supervisor found and opened the node (it needs privilege);
 * here it is only read, and grabbed while the consent prompt is visible.
 */
#include "keypad_in_impl.h"

#include "../services/common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <libevdev/libevdev.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Events handled per keypad_in_read() call at most; the rest waits for the
 * next call, so a chattering device cannot starve the executor's loop. */
#define KEYPAD_IN_LINUX_BATCH 256

#define KEY_LONGS (KEY_CNT / (8 * sizeof(unsigned long)) + 1)

struct keypad_in_linux {
	struct keypad_in base;
	struct libevdev *dev;
	bool grabbed;                           /* EVIOCGRAB is ours */
	/* Released by the caller while a key pressed under the grab was still
	 * down: the grab is kept until that key is up (see linux_grab). */
	bool ungrab_pending;
	/* Keys pressed while grabbed and not yet released: the phone's UI
	 * never saw them go down, so it must not see them come up. */
	unsigned long hidden[KEY_LONGS];
};

static void hidden_set(struct keypad_in_linux *l, unsigned code, bool down)
{
	unsigned long bit = 1UL << (code % (8 * sizeof(unsigned long)));

	if (code > KEY_MAX)
		return;
	if (down)
		l->hidden[code / (8 * sizeof(unsigned long))] |= bit;
	else
		l->hidden[code / (8 * sizeof(unsigned long))] &= ~bit;
}

static bool hidden_any(const struct keypad_in_linux *l)
{
	for (size_t i = 0; i < KEY_LONGS; i++)
		if (l->hidden[i])
			return true;
	return false;
}

/* Gives the keypad back to everyone now. */
static int ungrab_now(struct keypad_in_linux *l)
{
	int r;

	l->ungrab_pending = false;
	r = libevdev_grab(l->dev, LIBEVDEV_UNGRAB);
	if (r)
		log_err("keypad: ungrab: %s", strerror(-r));
	else
		l->grabbed = false;
	return r;
}

/* libevdev's own messages (a SYN_DROPPED it could not keep up with, a
 * device bug) go to aurid's log rather than straight to stderr. */
static void __attribute__((format(printf, 7, 0)))
evdev_log(const struct libevdev *dev, enum libevdev_log_priority prio, void *data,
	  const char *file, int line, const char *func, const char *format, va_list args)
{
	char msg[256];
	size_t len;

	(void)dev;
	(void)data;
	(void)file;
	(void)line;
	(void)func;
	vsnprintf(msg, sizeof(msg), format, args);
	len = strlen(msg);
	if (len > 0 && msg[len - 1] == '\n')
		msg[len - 1] = '\0';
	log_msg(prio == LIBEVDEV_LOG_ERROR ? LOG_LVL_WARN : LOG_LVL_DEBUG, "keypad: libevdev: %s", msg);
}

/*
 * After SYN_DROPPED the kernel's buffer overflowed: some events are gone.
 * libevdev discards what is queued and offers the difference between its
 * view and the device's state as synthetic events.  Those are state, not
 * presses (a key found down may have been pressed long ago, or by the
 * phone's own UI before the prompt), so they are read and dropped.
 */
static int linux_resync(struct keypad_in_linux *l)
{
	struct input_event ev;
	int r;

	log_warn("keypad: the kernel dropped events (SYN_DROPPED); presses in between are lost");
	do
		r = libevdev_next_event(l->dev, LIBEVDEV_READ_FLAG_SYNC, &ev);
	while (r == LIBEVDEV_READ_STATUS_SYNC);
	/* A release lost in the drop must not keep the grab for ever: only
	 * keys still down stay hidden. */
	for (unsigned code = 0; code <= KEY_MAX; code++)
		if (!libevdev_get_event_value(l->dev, EV_KEY, code))
			hidden_set(l, code, false);
	if (r == -EAGAIN || r == LIBEVDEV_READ_STATUS_SUCCESS)
		return 0;
	log_err("keypad: resync after SYN_DROPPED: %s", strerror(-r));
	return r;
}

/* Is input left in libevdev's queue (or the kernel's)? */
static bool linux_more(struct keypad_in_linux *l)
{
	return libevdev_has_event_pending(l->dev) > 0;
}

static int read_events(struct keypad_in *k, unsigned *codes, size_t max, size_t *n)
{
	struct keypad_in_linux *l = (struct keypad_in_linux *)k;
	struct input_event ev;
	int r;

	for (int i = 0; i < KEYPAD_IN_LINUX_BATCH; i++) {
		if (*n == max) {
			k->more = linux_more(l);
			return 0;
		}
		r = libevdev_next_event(l->dev, LIBEVDEV_READ_FLAG_NORMAL, &ev);
		if (r == -EAGAIN) {
			k->more = false;
			return 0;
		}
		if (r == -EINTR)
			continue;
		if (r < 0) {
			/* -ENODEV: the keypad was unplugged. */
			log_err("keypad: read: %s", strerror(-r));
			return r;
		}
		if (r == LIBEVDEV_READ_STATUS_SYNC) {
			r = linux_resync(l);
			if (r)
				return r;
			continue;
		}
		if (ev.type == EV_KEY && l->grabbed && ev.value != 2)
			hidden_set(l, ev.code, ev.value == 1);
		if (keypad_in_filter(k, &ev))
			codes[(*n)++] = ev.code;
	}
	k->more = linux_more(l);
	return 0;
}

static int linux_read(struct keypad_in *k, unsigned *codes, size_t max, size_t *n)
{
	struct keypad_in_linux *l = (struct keypad_in_linux *)k;
	int r = read_events(k, codes, max, n);

	/* The last hidden key came up: the keypad is the phone's again. */
	if (r == 0 && l->ungrab_pending && !hidden_any(l))
		ungrab_now(l);
	return r;
}

static int linux_grab(struct keypad_in *k, bool grab)
{
	struct keypad_in_linux *l = (struct keypad_in_linux *)k;
	int r;

	if (grab) {
		l->ungrab_pending = false;
		r = libevdev_grab(l->dev, LIBEVDEV_GRAB);
		if (r)
			log_err("keypad: grab: %s", strerror(-r));
		else
			l->grabbed = true;
		return r;
	}
	/*
	 * The key that answered the prompt is usually still down.  Letting go
	 * now would hand its release to the phone's UI, the release of a press
	 * it never saw (measured in QEMU, tests/hil), and a UI that acts on
	 * key-up would take it as a press of OK or Cancel.  So the grab is kept
	 * until every key pressed under it is up; linux_read lets go then.
	 * Keys that were down before the grab are not waited for: the UI saw
	 * them go down, and a held key (a hook switch) must not keep the grab.
	 */
	if (l->grabbed && hidden_any(l)) {
		l->ungrab_pending = true;
		return 0;
	}
	return ungrab_now(l);
}

static void linux_close(struct keypad_in *k)
{
	struct keypad_in_linux *l = (struct keypad_in_linux *)k;

	/* Closing the fd would release a grab anyway, but the supervisor
	 * may hold another reference to the same open file. */
	libevdev_grab(l->dev, LIBEVDEV_UNGRAB);
	libevdev_free(l->dev);
	close(k->fd);
	free(l);
}

static const struct keypad_in_ops linux_ops = {
	.read = linux_read,
	.grab = linux_grab,
	.close = linux_close,
};

int keypad_in_open_linux(int fd, struct keypad_in **out)
{
	struct keypad_in_linux *l;
	int fl, r;

	*out = NULL;
	if (fd < 0)
		return -EBADF;
	l = calloc(1, sizeof(*l));
	if (!l) {
		r = -ENOMEM;
		goto fail;
	}
	/* Reading must never block the executor's loop, whatever the
	 * supervisor's flags were. */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		r = -errno;
		log_err("keypad: fd %d: %s", fd, strerror(-r));
		goto fail;
	}
	l->dev = libevdev_new();
	if (!l->dev) {
		r = -ENOMEM;
		goto fail;
	}
	libevdev_set_device_log_function(l->dev, evdev_log, LIBEVDEV_LOG_INFO, NULL);
	r = libevdev_set_fd(l->dev, fd);
	if (r) {
		log_err("keypad: fd %d is not an evdev input device: %s", fd, strerror(-r));
		goto fail;
	}
	if (!libevdev_has_event_type(l->dev, EV_KEY)) {
		log_err("keypad: \"%s\" has no keys", libevdev_get_name(l->dev));
		r = -EINVAL;
		goto fail;
	}
	/*
	 * A grab belongs to the open file, not to a process: one left by an
	 * executor that died with the prompt visible lives on while the
	 * supervisor holds the file, and would keep every key from the phone.
	 * EINVAL here just means there was none.
	 */
	if (ioctl(fd, EVIOCGRAB, (void *)0) == 0)
		log_warn("keypad: released a grab left by an earlier run");
	keypad_in_base_init(&l->base, &linux_ops, fd);
	log_info("keypad: reading \"%s\" (bus 0x%x, vendor 0x%04x, product 0x%04x)",
		 libevdev_get_name(l->dev), (unsigned)libevdev_get_id_bustype(l->dev),
		 (unsigned)libevdev_get_id_vendor(l->dev), (unsigned)libevdev_get_id_product(l->dev));
	*out = &l->base;
	return 0;
fail:
	if (l)
		libevdev_free(l->dev);
	free(l);
	close(fd);
	return r;
}
