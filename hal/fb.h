/*
 * Framebuffer: the phone's screen.  Linux backend: fbdev (geometry from
 * FBIOGET_VSCREENINFO / FBIOGET_FSCREENINFO, mmap, 16/24/32 bpp with the
 * colour bitfields as the driver reports them, line_length, the visible page
 * given by yoffset, fsync after drawing).  Sim backend: <state_dir>/sim/fb.raw,
 * XRGB8888 little-endian, row-major, no header, WxH from aurid.sim.fb_geometry,
 * mmap'ed and handled by the same pixel code.
 *
 * Colours in this API are 0x00RRGGBB; the pixel code converts to and from the
 * device format.  A device pixel is a little-endian value of bpp bits (every
 * target is little-endian, and the sim file is defined so); each channel is
 * taken from its bitfield, never from an assumed layout.
 *
 * A memory framebuffer (tests) is a struct fb filled by hand with fd = -1:
 * fb_refresh and fb_flush do nothing on it, and it must not be fb_close'd.
 */
#ifndef AURID_FB_H
#define AURID_FB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest width or height accepted (any phone panel is far smaller);
 * it keeps every coordinate and row size within an int. */
#define FB_MAX_DIM 16384

struct fb_bitfield {
	unsigned offset;              /* lowest bit of the channel in the pixel value */
	unsigned length;              /* bits; 0 only for transp (no alpha) */
};

struct fb_format {
	unsigned bpp;                 /* 16, 24 or 32 */
	struct fb_bitfield red, green, blue;
	/* Alpha, if the driver has one: written as opaque (all ones) so a
	 * panel that blends by alpha shows what is drawn; ignored on reading. */
	struct fb_bitfield transp;
};

struct fb {
	int fd;                       /* -1: memory framebuffer */
	bool sim;
	uint8_t *map;                 /* pixel memory, all pages; row r at map + r * line_length */
	size_t map_len;               /* bytes valid from map */
	size_t map_pad;               /* bytes mapped before map (fbdev memory not page-aligned), usually 0 */
	unsigned width, height;       /* visible resolution */
	unsigned line_length;         /* bytes per row */
	unsigned yoffset;             /* first row of the visible page */
	struct fb_format fmt;
};

/* fd: an open /dev/fbN (the supervisor opens it).  The framebuffer owns it
 * from this call on, even on failure (it is closed then, and by fb_close
 * otherwise).  -EINVAL (logged) for a geometry or format it cannot handle. */
int fb_open_linux(int fd, struct fb **out);
/* Creates <state_dir>/sim/ (0755, if needed; a symlink is refused) and fb.raw
 * of width*height*4 bytes (kept if it already has that size, so a test can
 * pre-fill it). */
int fb_open_sim(const char *state_dir, unsigned width, unsigned height, struct fb **out);
/* NULL is allowed. */
void fb_close(struct fb *fb);

/* Checks a framebuffer's format and geometry: bpp 16/24/32, each channel
 * 1..16 bits inside the pixel and not overlapping another, line_length holds
 * a row, the visible page lies inside map_len.  0 or -EINVAL (logged).  The
 * open functions call it; tests call it on memory framebuffers. */
int fb_validate(const struct fb *fb);

/* Re-reads the visible page (yoffset) from the driver; no-op for sim and
 * memory framebuffers.  -EINVAL (logged, yoffset kept) if the driver now
 * reports a page outside the mapping or another mode. */
int fb_refresh(struct fb *fb);

/* Pixel conversion, exposed for the tests.  A channel shorter than 8 bits is
 * widened by repeating its high bits (5-bit 0x1f -> 0xff, 0x10 -> 0x84), so
 * pixel -> rgb -> pixel is the identity. */
uint32_t fb_pixel_to_rgb(const struct fb_format *fmt, const uint8_t *px);
void fb_rgb_to_pixel(const struct fb_format *fmt, uint32_t rgb, uint8_t *px);

/* fb_refresh, then copies the visible page into out: width*height 0x00RRGGBB
 * words, rows packed (i.e. XRGB8888 little-endian, stride width*4).  out_len
 * counts uint32_t words; -ENOSPC if it is below width*height. */
int fb_capture(struct fb *fb, uint32_t *out, size_t out_len);

/* Drawing on the visible page, clipped to the screen (any int is safe). */
void fb_fill(struct fb *fb, int x, int y, int w, int h, uint32_t rgb);
void fb_put(struct fb *fb, int x, int y, uint32_t rgb);

/*
 * Saves / restores a rectangle in the device's own format (exact bytes).  The
 * rectangle is clipped to the screen (it may end up empty) and remembered at
 * its place in the mapping: fb_restore writes it back to the page it was
 * saved from, even if the visible page changed since.  The caller owns the
 * saved region and releases it with fb_saved_free (NULL allowed).
 */
struct fb_saved;
int fb_save(struct fb *fb, int x, int y, int w, int h, struct fb_saved **out);
void fb_restore(struct fb *fb, const struct fb_saved *s);
void fb_saved_free(struct fb_saved *s);

/* Makes what was drawn visible: fsync(fd) for fbdev (DRM's fbdev emulation
 * pushes its shadow buffer then; other drivers ignore it), msync(MS_SYNC) of
 * the mapping for sim.  No pan, no mode change. */
void fb_flush(struct fb *fb);

#endif
