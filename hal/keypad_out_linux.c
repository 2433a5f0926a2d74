/*
 * Keypad out, linux backend: a uinput device made with libevdev.  The
 * supervisor opened /dev/uinput (it needs privilege); the device is created
 * here, from the keymap, so the phone's software sees a keyboard that has
 * exactly the keys aurid may press.
 */
#include "keypad_out_impl.h"

#include "../services/common/log.h"

#include <errno.h>
#include <libevdev/libevdev-uinput.h>
#include <libevdev/libevdev.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEYPAD_OUT_NAME "aurid remote keypad"

struct keypad_linux {
	struct keypad_out base;
	struct libevdev_uinput *uidev;
	int fd;
};

static int linux_press(struct keypad_out *k, unsigned code)
{
	struct keypad_linux *l = (struct keypad_linux *)k;
	int r, r2;

	r = libevdev_uinput_write_event(l->uidev, EV_KEY, code, 1);
	if (r) {
		log_err("uinput keypad: press of code %u: %s", code, strerror(-r));
		return r;
	}
	r = libevdev_uinput_write_event(l->uidev, EV_SYN, SYN_REPORT, 0);
	/* The key may be down now, so always try to release it: a key left
	 * held would auto-repeat in the phone's software until the next press. */
	r2 = libevdev_uinput_write_event(l->uidev, EV_KEY, code, 0);
	if (r2 == 0)
		r2 = libevdev_uinput_write_event(l->uidev, EV_SYN, SYN_REPORT, 0);
	if (r || r2)
		log_err("uinput keypad: press of code %u: %s", code, strerror(r ? -r : -r2));
	return r ? r : r2;
}

static void linux_close(struct keypad_out *k)
{
	struct keypad_linux *l = (struct keypad_linux *)k;

	/* Not opened with LIBEVDEV_UINPUT_OPEN_MANAGED: destroy removes the
	 * device but leaves the fd, which is ours to close. */
	libevdev_uinput_destroy(l->uidev);
	close(l->fd);
	free(l);
}

static const struct keypad_out_ops linux_ops = {
	.press = linux_press,
	.close = linux_close,
};

/* Describes the device: its name, EV_KEY and only the keymap's codes. */
static int describe(const struct keymap *km, struct libevdev **out)
{
	struct libevdev *dev = libevdev_new();
	int r;

	if (!dev)
		return -ENOMEM;
	libevdev_set_name(dev, KEYPAD_OUT_NAME);
	libevdev_set_id_bustype(dev, BUS_VIRTUAL);
	r = libevdev_enable_event_type(dev, EV_KEY);
	for (size_t i = 0; r == 0 && i < km->n; i++)
		r = libevdev_enable_event_code(dev, EV_KEY, km->e[i].code, NULL);
	if (r) {
		libevdev_free(dev);
		return -EINVAL;
	}
	*out = dev;
	return 0;
}

int keypad_out_open_linux(const struct keymap *km, int uinput_fd, struct keypad_out **out)
{
	struct keypad_linux *l;
	struct libevdev *dev;
	const char *node;
	int r;

	*out = NULL;
	if (uinput_fd < 0)
		return -EBADF;
	l = calloc(1, sizeof(*l));
	if (!l) {
		close(uinput_fd);
		return -ENOMEM;
	}
	l->fd = uinput_fd;
	r = describe(km, &dev);
	if (r) {
		log_err("uinput keypad: cannot describe the device: %s", strerror(-r));
		goto fail;
	}
	/* libevdev copies what it needs; the description can go right away. */
	r = libevdev_uinput_create_from_device(dev, uinput_fd, &l->uidev);
	libevdev_free(dev);
	if (r) {
		log_err("uinput keypad: cannot create \"%s\": %s", KEYPAD_OUT_NAME, strerror(-r));
		goto fail;
	}
	keypad_out_base_init(&l->base, &linux_ops, km);
	node = libevdev_uinput_get_devnode(l->uidev);
	log_info("uinput keypad: \"%s\" with %zu keys at %s", KEYPAD_OUT_NAME, km->n, node ? node : "(node unknown)");
	*out = &l->base;
	return 0;
fail:
	close(uinput_fd);
	free(l);
	return r;
}
