/*
 * hilguest: the guest side of the hardware-in-the-loop test, one static
 * binary with a verb per job.  It runs in the QEMU guest's initramfs next to
 * busybox and talks to the host only through lines on the serial console
 * that start with "HIL:".
 *
 *   hilguest fbinfo [FB]            HIL:FB line: geometry and colour bitfields
 *   hilguest paint [FB]             draws the test background ("the phone's UI")
 *   hilguest kdmode [TTY]           HIL:KDMODE text|graphics of the active VT
 *   hilguest evread TAG NAME [SECONDS [READY]]
 *                                   waits for the evdev device called NAME,
 *                                   creates the file READY once it has it open,
 *                                   then prints its key events as HIL:TAG lines
 *
 * The background pattern encodes each pixel's coordinates (R = x & 0xff,
 * G = y & 0xff, B = high nibbles of x and y), so the host can generate the
 * same picture and any pixel out of place shows where it went wrong.  It is
 * written through the channel bitfields the driver reports, never through
 * an assumed layout, exactly like aurid's own fb code must.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/input.h>
#include <linux/kd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* One write() per line: the console is shared with aurid's log and the
 * kernel's, and a line split in two could hide a marker from the host. */
static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, (size_t)n) < 0)
		return;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fb_get(const char *dev, int *fd, struct fb_var_screeninfo *var, struct fb_fix_screeninfo *fix)
{
	*fd = open(dev, O_RDWR | O_CLOEXEC);
	if (*fd < 0) {
		say("HIL:ERROR open %s: %s", dev, strerror(errno));
		return -1;
	}
	if (ioctl(*fd, FBIOGET_VSCREENINFO, var) < 0 || ioctl(*fd, FBIOGET_FSCREENINFO, fix) < 0) {
		say("HIL:ERROR %s screen info: %s", dev, strerror(errno));
		close(*fd);
		return -1;
	}
	return 0;
}

static int cmd_fbinfo(const char *dev)
{
	struct fb_var_screeninfo v;
	struct fb_fix_screeninfo f;
	int fd;

	if (fb_get(dev, &fd, &v, &f))
		return 1;
	say("HIL:FB id=%.16s xres=%u yres=%u xres_virtual=%u yres_virtual=%u yoffset=%u bpp=%u "
	    "red=%u/%u green=%u/%u blue=%u/%u transp=%u/%u line_length=%u smem_len=%u visual=%u",
	    f.id, v.xres, v.yres, v.xres_virtual, v.yres_virtual, v.yoffset, v.bits_per_pixel,
	    v.red.offset, v.red.length, v.green.offset, v.green.length, v.blue.offset, v.blue.length,
	    v.transp.offset, v.transp.length, f.line_length, f.smem_len, f.visual);
	close(fd);
	return 0;
}

/* The 8-bit channel value c in a field of the given length at its offset:
 * its top bits, as a panel driver stores it. */
static uint32_t chan(uint32_t c, const struct fb_bitfield *b)
{
	if (b->length == 0)
		return 0;
	return (b->length <= 8 ? c >> (8 - b->length) : c << (b->length - 8)) << b->offset;
}

static int cmd_paint(const char *dev)
{
	struct fb_var_screeninfo v;
	struct fb_fix_screeninfo f;
	unsigned bytes;
	uint8_t *map;
	int fd;

	if (fb_get(dev, &fd, &v, &f))
		return 1;
	bytes = v.bits_per_pixel / 8;
	if (bytes < 2 || bytes > 4 || (uint64_t)(v.yoffset + v.yres) * f.line_length > f.smem_len) {
		say("HIL:ERROR cannot paint %u bpp", v.bits_per_pixel);
		close(fd);
		return 1;
	}
	map = mmap(NULL, f.smem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		say("HIL:ERROR mmap %s: %s", dev, strerror(errno));
		close(fd);
		return 1;
	}
	for (unsigned y = 0; y < v.yres; y++) {
		uint8_t *row = map + (size_t)(v.yoffset + y) * f.line_length;

		for (unsigned x = 0; x < v.xres; x++) {
			uint32_t r = x & 0xff, g = y & 0xff, b = ((x >> 8) << 4 | (y >> 8)) & 0xff;
			uint32_t px = chan(r, &v.red) | chan(g, &v.green) | chan(b, &v.blue);

			if (v.transp.length)
				px |= ((1u << v.transp.length) - 1) << v.transp.offset;
			for (unsigned i = 0; i < bytes; i++)
				row[x * bytes + i] = (uint8_t)(px >> (8 * i));
		}
	}
	/* DRM's fbdev emulation pushes its shadow buffer on fsync; drivers
	 * without the method answer EINVAL. */
	if (fsync(fd) < 0 && errno != EINVAL)
		say("HIL:ERROR fsync %s: %s", dev, strerror(errno));
	munmap(map, f.smem_len);
	close(fd);
	say("HIL:PAINTED %ux%u", v.xres, v.yres);
	return 0;
}

static int cmd_kdmode(const char *tty)
{
	int fd = open(tty, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	int mode = -1;

	if (fd < 0 || ioctl(fd, KDGETMODE, &mode) < 0) {
		say("HIL:KDMODE error (%s: %s)", tty, strerror(errno));
		return 1;
	}
	close(fd);
	say("HIL:KDMODE %s", mode == KD_GRAPHICS ? "graphics" : mode == KD_TEXT ? "text" : "other");
	return 0;
}

/* Opens the first /dev/input/eventN whose evdev name is name; -1 if none. */
static int evdev_open_by_name(const char *name, char *node, size_t nodelen)
{
	DIR *d = opendir("/dev/input");
	struct dirent *de;
	int found = -1;

	if (!d)
		return -1;
	while (found < 0 && (de = readdir(d))) {
		char path[300], got[256] = "";
		int fd;

		if (strncmp(de->d_name, "event", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/input/%s", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (ioctl(fd, EVIOCGNAME(sizeof(got) - 1), got) >= 0 && strcmp(got, name) == 0) {
			snprintf(node, nodelen, "%s", path);
			found = fd;
		} else {
			close(fd);
		}
	}
	closedir(d);
	return found;
}

static int cmd_evread(const char *tag, const char *name, double timeout, const char *ready)
{
	struct input_event ev[64];
	struct input_id id;
	char node[300];
	double end = now_s() + timeout;
	int fd;

	while ((fd = evdev_open_by_name(name, node, sizeof(node))) < 0) {
		if (now_s() > end) {
			say("HIL:%s timeout: no input device named \"%s\"", tag, name);
			return 1;
		}
		usleep(20000);
	}
	memset(&id, 0, sizeof(id));
	ioctl(fd, EVIOCGID, &id);
	say("HIL:%s ready node=%s name=\"%s\" bus=0x%x vendor=0x%x product=0x%x", tag, node, name,
	    id.bustype, id.vendor, id.product);
	if (ready) {
		int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (rfd >= 0)
			close(rfd);
	}
	for (;;) {
		ssize_t n = read(fd, ev, sizeof(ev));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			say("HIL:%s end: %s", tag, n < 0 ? strerror(errno) : "EOF");
			return n < 0 ? 1 : 0;
		}
		for (size_t i = 0; i < (size_t)n / sizeof(ev[0]); i++) {
			/* Keys and SYN_REPORT; the rest (MSC_SCAN) says nothing here. */
			if (ev[i].type == EV_KEY || (ev[i].type == EV_SYN && ev[i].code == SYN_REPORT))
				say("HIL:%s event time=%ld.%06ld type=%u code=%u value=%d", tag,
				    (long)ev[i].input_event_sec, (long)ev[i].input_event_usec, ev[i].type,
				    ev[i].code, ev[i].value);
		}
	}
}

int main(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";

	if (strcmp(verb, "fbinfo") == 0)
		return cmd_fbinfo(argc > 2 ? argv[2] : "/dev/fb0");
	if (strcmp(verb, "paint") == 0)
		return cmd_paint(argc > 2 ? argv[2] : "/dev/fb0");
	if (strcmp(verb, "kdmode") == 0)
		return cmd_kdmode(argc > 2 ? argv[2] : "/dev/tty0");
	if (strcmp(verb, "evread") == 0 && argc > 3)
		return cmd_evread(argv[2], argv[3], argc > 4 ? atof(argv[4]) : 30, argc > 5 ? argv[5] : NULL);
	fprintf(stderr, "usage: hilguest fbinfo|paint [FB] | kdmode [TTY] | evread TAG NAME [S [READY]]\n");
	return 2;
}
