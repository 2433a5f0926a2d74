/*
 * Framebuffer: the phone's screen.  Linux backend: fbdev (geometry from
 * FBIOGET_VSCREENINFO / FBIOGET_FSCREENINFO, mmap, 16/24/32 bpp with the
 * colour bitfields as the driver reports them, line_length, the visible page
 * given by yoffset, fsync after drawing).  Sim backend: <state_dir>/sim/fb.raw,
 * XRGB8888 little-endian, row-major, no header, WxH from aurid.sim.fb_geometry,
 * mmap'ed and handled by the same pixel code.
 *
 * Colours in this API are 0x00RRGGBB; the pixel code converts to and from the
 * device format.
 */
#ifndef AURID_FB_H
#define AURID_FB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fb_bitfield {
	unsigned offset;
	unsigned length;
};

struct fb_format {
	unsigned bpp;                 /* 16, 24 or 32 */
	struct fb_bitfield red, green, blue;
};

struct fb {
	int fd;
	bool sim;
	uint8_t *map;                 /* whole mapping (all pages) */
	size_t map_len;
	unsigned width, height;       /* visible resolution */
	unsigned line_length;         /* bytes per row */
	unsigned yoffset;             /* first row of the visible page */
	struct fb_format fmt;
};

/* fd: an open /dev/fbN (the supervisor opens it); taken over, closed by fb_close. */
int fb_open_linux(int fd, struct fb **out);
/* Creates <state_dir>/sim/ (if needed) and fb.raw of width*height*4 bytes
 * (kept if it already has that size, so a test can pre-fill it). */
int fb_open_sim(const char *state_dir, unsigned width, unsigned height, struct fb **out);
void fb_close(struct fb *fb);

/* Re-reads the visible page (yoffset) from the driver; no-op for sim. */
int fb_refresh(struct fb *fb);

/* Pixel conversion, exposed for the tests. */
uint32_t fb_pixel_to_rgb(const struct fb_format *fmt, const uint8_t *px);
void fb_rgb_to_pixel(const struct fb_format *fmt, uint32_t rgb, uint8_t *px);

/* Copies the visible page into out (width*height 0x00RRGGBB words, rows
 * packed, i.e. XRGB8888 little-endian).  -ENOSPC if out_len is too small. */
int fb_capture(struct fb *fb, uint32_t *out, size_t out_len);

/* Drawing on the visible page, clipped to the screen. */
void fb_fill(struct fb *fb, int x, int y, int w, int h, uint32_t rgb);
void fb_put(struct fb *fb, int x, int y, uint32_t rgb);

/* Saves / restores a rectangle in the device's own format (exact bytes). */
struct fb_saved;
int fb_save(struct fb *fb, int x, int y, int w, int h, struct fb_saved **out);
void fb_restore(struct fb *fb, const struct fb_saved *s);
void fb_saved_free(struct fb_saved *s);

/* Makes what was drawn visible (msync for sim, fsync + FBIOPAN_DISPLAY-free flush for fbdev). */
void fb_flush(struct fb *fb);

#endif
