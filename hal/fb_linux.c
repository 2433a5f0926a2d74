/*
 * Framebuffer, Linux backend: an fbdev device (/dev/fbN) opened by the
 * supervisor.  Everything the driver reports is checked before the first
 * pixel is touched; the pixel code itself is in fb.c.
 */

/* <linux/fb.h> has a struct fb_bitfield of its own: rename the kernel's for
 * this file so both can be seen. */
#define fb_bitfield fb_bitfield_kernel
#include <linux/fb.h>
#undef fb_bitfield

#include "fb.h"

#include "../services/common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int get_info(int fd, struct fb_var_screeninfo *var, struct fb_fix_screeninfo *fix)
{
	int r;

	if (ioctl(fd, FBIOGET_VSCREENINFO, var) < 0 || (fix && ioctl(fd, FBIOGET_FSCREENINFO, fix) < 0)) {
		r = -errno;
		log_err("fb: reading the screen info: %s", strerror(-r));
		return r;
	}
	return 0;
}

static int take_field(const char *name, struct fb_bitfield *to, const struct fb_bitfield_kernel *from)
{
	/* A channel stored with its bits reversed would need its own code;
	 * no panel aurid targets does that. */
	if (from->msb_right) {
		log_err("fb: %s bitfield is stored msb_right; unsupported", name);
		return -EINVAL;
	}
	to->offset = from->offset;
	to->length = from->length;
	return 0;
}

/* Fills fb's format and geometry from what the driver reports; checks the
 * parts fb_validate cannot see (pixel type, visual, non-standard formats). */
static int take_info(struct fb *fb, const struct fb_var_screeninfo *var, const struct fb_fix_screeninfo *fix)
{
	if (fix->type != FB_TYPE_PACKED_PIXELS) {
		log_err("fb: pixel type %u is not packed pixels", fix->type);
		return -EINVAL;
	}
	if (fix->visual != FB_VISUAL_TRUECOLOR && fix->visual != FB_VISUAL_DIRECTCOLOR) {
		log_err("fb: visual %u is not true colour (palette modes are unsupported)", fix->visual);
		return -EINVAL;
	}
	/* grayscale > 1 is a FOURCC code; nonstd a driver-specific layout. */
	if (var->grayscale || var->nonstd) {
		log_err("fb: non-standard pixel format (grayscale %u, nonstd %u)", var->grayscale, var->nonstd);
		return -EINVAL;
	}
	if (var->xoffset)
		log_warn("fb: horizontal panning (xoffset %u) is ignored; capture starts at column 0",
			 var->xoffset);
	if (take_field("red", &fb->fmt.red, &var->red) || take_field("green", &fb->fmt.green, &var->green) ||
	    take_field("blue", &fb->fmt.blue, &var->blue) || take_field("transp", &fb->fmt.transp, &var->transp))
		return -EINVAL;
	fb->fmt.bpp = var->bits_per_pixel;
	fb->width = var->xres;
	fb->height = var->yres;
	fb->yoffset = var->yoffset;
	fb->line_length = fix->line_length;
	/* Some old drivers leave line_length 0; the virtual width is what they
	 * mean (fbset and every fb tool make the same guess). */
	if (fb->line_length == 0 && var->bits_per_pixel % 8 == 0) {
		fb->line_length = var->xres_virtual * (var->bits_per_pixel / 8);
		log_warn("fb: driver reports line_length 0; using %u (xres_virtual %u)", fb->line_length,
			 var->xres_virtual);
	}
	return 0;
}

int fb_open_linux(int fd, struct fb **out)
{
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	struct fb *fb;
	long page = sysconf(_SC_PAGESIZE);
	void *map;
	int r;

	*out = NULL;
	fb = calloc(1, sizeof(*fb));
	if (!fb) {
		close(fd);
		return -ENOMEM;
	}
	fb->fd = fd;
	r = get_info(fd, &var, &fix);
	if (r)
		goto fail;
	r = take_info(fb, &var, &fix);
	if (r)
		goto fail;
	if (fix.smem_len == 0) {
		log_err("fb: driver reports no framebuffer memory (smem_len 0)");
		r = -EINVAL;
		goto fail;
	}
	/* The kernel maps from the page holding smem_start, so memory that does
	 * not start on a page boundary begins map_pad bytes in.  DRM drivers
	 * hide smem_start (0): no pad. */
	fb->map_pad = page > 0 ? fix.smem_start & (unsigned long)(page - 1) : 0;
	map = mmap(NULL, fix.smem_len + fb->map_pad, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		log_err("fb: mmap of %u bytes: %s", fix.smem_len, strerror(-r));
		goto fail;
	}
	fb->map = (uint8_t *)map + fb->map_pad;
	fb->map_len = fix.smem_len;
	r = fb_validate(fb);
	if (r)
		goto fail;
	log_info("fb: %ux%u %u bpp (r %u/%u g %u/%u b %u/%u a %u/%u), line %u bytes, %zu bytes mapped, page at row %u",
		 fb->width, fb->height, fb->fmt.bpp, fb->fmt.red.offset, fb->fmt.red.length, fb->fmt.green.offset,
		 fb->fmt.green.length, fb->fmt.blue.offset, fb->fmt.blue.length, fb->fmt.transp.offset,
		 fb->fmt.transp.length, fb->line_length, fb->map_len, fb->yoffset);
	*out = fb;
	return 0;
fail:
	fb_close(fb);
	return r;
}

static bool same_field(const struct fb_bitfield_kernel *k, const struct fb_bitfield *b)
{
	return k->offset == b->offset && k->length == b->length;
}

int fb_refresh(struct fb *fb)
{
	struct fb_var_screeninfo var;
	uint64_t end;
	int r;

	if (fb->sim || fb->fd < 0)
		return 0;
	r = get_info(fb->fd, &var, NULL);
	if (r)
		return r;
	/* A mode change under us would make every pixel wrong: refuse rather
	 * than draw with stale geometry.  The executor reopens or gives up. */
	if (var.xres != fb->width || var.yres != fb->height || var.bits_per_pixel != fb->fmt.bpp ||
	    !same_field(&var.red, &fb->fmt.red) || !same_field(&var.green, &fb->fmt.green) ||
	    !same_field(&var.blue, &fb->fmt.blue)) {
		log_err("fb: the display mode changed to %ux%u %u bpp", var.xres, var.yres, var.bits_per_pixel);
		return -EINVAL;
	}
	end = ((uint64_t)var.yoffset + fb->height) * fb->line_length;
	if (end > fb->map_len) {
		log_err("fb: driver reports a visible page (yoffset %u) outside the mapping", var.yoffset);
		return -EINVAL;
	}
	fb->yoffset = var.yoffset;
	return 0;
}
