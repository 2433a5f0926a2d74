/*
 * Screenshots: the visible page of the framebuffer copied into a sealed
 * memfd that goes to the front-end, which encodes it.  The executor never
 * parses an image format; the front-end never touches the device.
 */
#include "executor.h"

#include "../../hal/fb.h"
#include "../common/log.h"
#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SCREENSHOT_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

/* A sealed memfd holding the visible page as XRGB8888. */
static int capture_memfd(struct fb *fb, int *fd_out)
{
	size_t len = (size_t)fb->width * fb->height * 4;
	uint32_t *map;
	int fd, r;

	fd = memfd_create("aurid-screenshot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) < 0) {
		r = -errno;
		goto fail;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	r = fb_capture(fb, map, (size_t)fb->width * fb->height);   /* in words */
	/* F_SEAL_WRITE needs every writable mapping gone first. */
	munmap(map, len);
	if (r)
		goto fail;
	if (fcntl(fd, F_ADD_SEALS, SCREENSHOT_SEALS) < 0) {
		r = -errno;
		goto fail;
	}
	*fd_out = fd;
	return 0;
fail:
	close(fd);
	return r;
}

void screenshot_run(struct executor *ex, struct exec_req *r)
{
	struct ipc_screenshot_res shot;
	int fd = -1, err;

	memset(&shot, 0, sizeof(shot));
	err = capture_memfd(ex->fb, &fd);
	if (err) {
		log_err("screen capture failed: %s", strerror(-err));
		exec_req_end(r, 500, "failed", 0, "the screen could not be captured");
		return;
	}
	shot.status = 200;
	snprintf(shot.reason, sizeof(shot.reason), "ok");
	shot.width = ex->fb->width;
	shot.height = ex->fb->height;
	shot.stride = ex->fb->width * 4;
	shot.captured = (int64_t)time(NULL);
	snprintf(shot.model, sizeof(shot.model), "%s", ex->cfg.model);
	exec_req_finish_screenshot(r, &shot, fd);
}
