/*
 * Framebuffer, sim backend: <state_dir>/sim/fb.raw, XRGB8888 little-endian,
 * row-major, no header, mmap'ed and drawn on by the same pixel code as
 * /dev/fb0.  fb.raw is a fixed interface (DESIGN.md section 9): tests outside
 * the project write patterns into it and read the screen from it.
 */
#include "fb.h"
#include "sim.h"

#include "../services/common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int fb_open_sim(const char *state_dir, unsigned width, unsigned height, struct fb **out)
{
	struct fb *fb;
	struct stat st;
	uint64_t len = (uint64_t)width * height * 4;     /* at most 1 GiB: fits a size_t */
	void *map;
	int r;

	*out = NULL;
	if (width == 0 || height == 0 || width > FB_MAX_DIM || height > FB_MAX_DIM) {
		log_err("sim fb: unsupported geometry %ux%u", width, height);
		return -EINVAL;
	}
	fb = calloc(1, sizeof(*fb));
	if (!fb)
		return -ENOMEM;
	fb->fd = -1;
	fb->sim = true;
	r = sim_file_open(state_dir, "fb.raw", O_RDWR, "sim fb", &fb->fd);
	if (r)
		goto fail;
	/* Only a file of another size is truncated: one of the right size may
	 * hold a test's pattern, which must survive the open. */
	if (fstat(fb->fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if ((uint64_t)st.st_size != len) {
		if (st.st_size)
			log_info("sim fb: fb.raw had %lld bytes, resized to %llu for %ux%u",
				 (long long)st.st_size, (unsigned long long)len, width, height);
		if (ftruncate(fb->fd, (off_t)len) < 0) {
			r = -errno;
			log_err("sim fb: resizing fb.raw: %s", strerror(-r));
			goto fail;
		}
	}
	map = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fb->fd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		log_err("sim fb: mmap of fb.raw: %s", strerror(-r));
		goto fail;
	}
	fb->map = map;
	fb->map_len = (size_t)len;
	fb->width = width;
	fb->height = height;
	fb->line_length = width * 4;
	fb->yoffset = 0;
	fb->fmt = (struct fb_format){
		.bpp = 32,
		.red = { 16, 8 },
		.green = { 8, 8 },
		.blue = { 0, 8 },
	};
	r = fb_validate(fb);
	if (r)
		goto fail;
	log_info("sim fb: %ux%u XRGB8888 in %s/sim/fb.raw", width, height, state_dir);
	*out = fb;
	return 0;
fail:
	fb_close(fb);
	return r;
}
