/*
 * Framebuffer pixel code shared by the fbdev and sim backends: format checks,
 * conversion between 0x00RRGGBB and the device's pixels, capture, drawing,
 * save/restore, flush and close.
 */
#include "fb.h"

#include "../services/common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct fb_saved {
	size_t offset;                /* of its first byte in the mapping */
	unsigned line_length;         /* of the framebuffer it came from */
	size_t row_bytes;
	unsigned rows;
	uint8_t data[];
};

static uint32_t field_mask(unsigned length)
{
	return length >= 32 ? UINT32_MAX : (UINT32_C(1) << length) - 1;
}

static int check_field(const char *name, const struct fb_bitfield *b, unsigned bpp, bool optional)
{
	if (b->length == 0 && optional)
		return 0;
	if (b->length == 0 || b->length > 16 || b->offset >= bpp || b->length > bpp - b->offset) {
		log_err("fb: unsupported %s bitfield (offset %u, length %u) in a %u bpp pixel",
			name, b->offset, b->length, bpp);
		return -EINVAL;
	}
	return 0;
}

int fb_validate(const struct fb *fb)
{
	const struct fb_format *f = &fb->fmt;
	const struct fb_bitfield *fields[] = { &f->red, &f->green, &f->blue, &f->transp };
	uint32_t used = 0;
	uint64_t row, need;

	if (f->bpp != 16 && f->bpp != 24 && f->bpp != 32) {
		log_err("fb: unsupported depth %u bpp (16, 24 or 32)", f->bpp);
		return -EINVAL;
	}
	if (check_field("red", &f->red, f->bpp, false) || check_field("green", &f->green, f->bpp, false) ||
	    check_field("blue", &f->blue, f->bpp, false) || check_field("transp", &f->transp, f->bpp, true))
		return -EINVAL;
	/* Overlapping channels would make every colour wrong, not just odd. */
	for (unsigned i = 0; i < 4; i++) {
		uint32_t m;

		if (fields[i]->length == 0)
			continue;
		m = field_mask(fields[i]->length) << fields[i]->offset;
		if (used & m) {
			log_err("fb: colour bitfields overlap (r %u/%u g %u/%u b %u/%u a %u/%u)",
				f->red.offset, f->red.length, f->green.offset, f->green.length,
				f->blue.offset, f->blue.length, f->transp.offset, f->transp.length);
			return -EINVAL;
		}
		used |= m;
	}
	if (fb->width == 0 || fb->height == 0 || fb->width > FB_MAX_DIM || fb->height > FB_MAX_DIM) {
		log_err("fb: unsupported resolution %ux%u", fb->width, fb->height);
		return -EINVAL;
	}
	row = (uint64_t)fb->width * (f->bpp / 8);
	if (fb->line_length < row) {
		log_err("fb: line_length %u is shorter than a row of %ux%u bpp (%llu bytes)",
			fb->line_length, fb->width, f->bpp, (unsigned long long)row);
		return -EINVAL;
	}
	need = ((uint64_t)fb->yoffset + fb->height) * fb->line_length;
	if (!fb->map || need > fb->map_len) {
		log_err("fb: visible page (yoffset %u, %u rows of %u bytes) ends past the %zu mapped bytes",
			fb->yoffset, fb->height, fb->line_length, fb->map_len);
		return -EINVAL;
	}
	return 0;
}

/*
 * Widens a from-bit value to `to` bits (to > from) by repeating its bits from
 * the top: 5-bit 0x1f -> 0xff, 0x10 -> 0x84.  Plain shifting would make white
 * 0xf8f8f8 and no 16 bpp pixel could ever read back as white.
 */
static uint32_t widen(uint32_t v, unsigned from, unsigned to)
{
	uint32_t r = 0;

	if (from == 0)
		return 0;
	for (int shift = (int)to - (int)from; shift > -(int)from; shift -= (int)from)
		r |= shift >= 0 ? v << shift : v >> -shift;
	return r & field_mask(to);
}

/* A field fb_validate would refuse reads as 0 and is never written: the
 * conversions are public and must not loop or shift out of range on one. */
static bool field_ok(const struct fb_bitfield *b)
{
	return b->length > 0 && b->length <= 16 && b->offset < 32 && b->length <= 32 - b->offset;
}

/* The channel's 8-bit value: its top 8 bits, or all of them widened. */
static uint32_t chan_get(uint32_t px, const struct fb_bitfield *b)
{
	uint32_t v;

	if (!field_ok(b))
		return 0;
	v = (px >> b->offset) & field_mask(b->length);
	return b->length >= 8 ? v >> (b->length - 8) : widen(v, b->length, 8);
}

static uint32_t chan_put(uint32_t c8, const struct fb_bitfield *b)
{
	uint32_t v;

	if (!field_ok(b))
		return 0;
	v = b->length <= 8 ? c8 >> (8 - b->length) : widen(c8, 8, b->length);
	return v << b->offset;
}

static uint32_t load_px(const uint8_t *p, unsigned bytes)
{
	uint32_t v = p[0] | (uint32_t)p[1] << 8;

	if (bytes > 2)
		v |= (uint32_t)p[2] << 16;
	if (bytes > 3)
		v |= (uint32_t)p[3] << 24;
	return v;
}

static void store_px(uint8_t *p, uint32_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes && i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t fb_pixel_to_rgb(const struct fb_format *fmt, const uint8_t *px)
{
	uint32_t v = load_px(px, fmt->bpp / 8);

	return chan_get(v, &fmt->red) << 16 | chan_get(v, &fmt->green) << 8 | chan_get(v, &fmt->blue);
}

static uint32_t rgb_to_value(const struct fb_format *fmt, uint32_t rgb)
{
	uint32_t v = chan_put((rgb >> 16) & 0xff, &fmt->red) | chan_put((rgb >> 8) & 0xff, &fmt->green) |
		     chan_put(rgb & 0xff, &fmt->blue);

	if (field_ok(&fmt->transp))
		v |= field_mask(fmt->transp.length) << fmt->transp.offset;
	return v;
}

void fb_rgb_to_pixel(const struct fb_format *fmt, uint32_t rgb, uint8_t *px)
{
	store_px(px, rgb_to_value(fmt, rgb), fmt->bpp / 8);
}

static bool is_field(const struct fb_bitfield *b, unsigned offset, unsigned length)
{
	return b->offset == offset && b->length == length;
}

/* R 16/8, G 8/8, B 0/8: the common layout, where a pixel already is 0x..RRGGBB. */
static bool is_rgb888(const struct fb_format *f)
{
	return is_field(&f->red, 16, 8) && is_field(&f->green, 8, 8) && is_field(&f->blue, 0, 8);
}

/*
 * Capture lookup tables: for each channel, its value (top 8 bits at most) ->
 * its 8-bit value already in place in 0x00RRGGBB.  Building them costs 768
 * entries, nothing beside a frame, and turns any 16 bpp layout into three
 * loads per pixel.
 */
struct chan_lut {
	unsigned shift;
	uint32_t mask;
	uint32_t lut[256];
};

static void lut_init(struct chan_lut *c, const struct fb_bitfield *b, unsigned out_shift)
{
	unsigned bits = b->length < 8 ? b->length : 8;

	c->shift = b->offset + b->length - bits;
	c->mask = field_mask(bits);
	for (uint32_t i = 0; i <= c->mask; i++)
		c->lut[i] = widen(i, bits, 8) << out_shift;
}

static inline uint32_t lut_px(const struct chan_lut *l, uint32_t v)
{
	return l[0].lut[(v >> l[0].shift) & l[0].mask] | l[1].lut[(v >> l[1].shift) & l[1].mask] |
	       l[2].lut[(v >> l[2].shift) & l[2].mask];
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FB_HOST_LE 1
#else
#define FB_HOST_LE 0
#endif

/*
 * XRGB8888 rows are already the output format except for the X byte, which
 * the driver (or a test writing fb.raw) may have left non-zero.  Copying and
 * masking 16 bytes at a time runs at memcpy speed; the frame is read once.
 */
static void copy_xrgb_row(uint32_t *dst, const uint8_t *src, size_t n)
{
	const uint32_t __attribute__((vector_size(16))) m = { 0xffffff, 0xffffff, 0xffffff, 0xffffff };
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint32_t __attribute__((vector_size(16))) a, b;

		memcpy(&a, src + 4 * i, sizeof(a));
		memcpy(&b, src + 4 * i + 16, sizeof(b));
		a &= m;
		b &= m;
		memcpy(dst + i, &a, sizeof(a));
		memcpy(dst + i + 4, &b, sizeof(b));
	}
	for (; i < n; i++) {
		uint32_t v;

		memcpy(&v, src + 4 * i, sizeof(v));
		dst[i] = v & 0xffffff;
	}
}

static const uint8_t *visible_row(const struct fb *fb, unsigned y)
{
	return fb->map + ((size_t)fb->yoffset + y) * fb->line_length;
}

int fb_capture(struct fb *fb, uint32_t *out, size_t out_len)
{
	const struct fb_format *f = &fb->fmt;
	const unsigned w = fb->width, h = fb->height;
	struct chan_lut l[3];
	int r;

	r = fb_refresh(fb);
	if (r)
		return r;
	if (w == 0 || h == 0)
		return -EINVAL;
	if (out_len / w < h)
		return -ENOSPC;

	if (f->bpp == 32 && is_rgb888(f) && FB_HOST_LE) {
		for (unsigned y = 0; y < h; y++)
			copy_xrgb_row(out + (size_t)y * w, visible_row(fb, y), w);
		return 0;
	}
	if (f->bpp == 24 && is_rgb888(f)) {
		for (unsigned y = 0; y < h; y++) {
			const uint8_t *s = visible_row(fb, y);
			uint32_t *d = out + (size_t)y * w;

			for (unsigned x = 0; x < w; x++, s += 3)
				d[x] = s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16;
		}
		return 0;
	}

	lut_init(&l[0], &f->red, 16);
	lut_init(&l[1], &f->green, 8);
	lut_init(&l[2], &f->blue, 0);
	for (unsigned y = 0; y < h; y++) {
		const uint8_t *s = visible_row(fb, y);
		uint32_t *d = out + (size_t)y * w;

		switch (f->bpp) {
		case 16:
			for (unsigned x = 0; x < w; x++, s += 2)
				d[x] = lut_px(l, s[0] | (uint32_t)s[1] << 8);
			break;
		case 24:
			for (unsigned x = 0; x < w; x++, s += 3)
				d[x] = lut_px(l, s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16);
			break;
		default:
			for (unsigned x = 0; x < w; x++, s += 4)
				d[x] = lut_px(l, load_px(s, 4));
			break;
		}
	}
	return 0;
}

/* Clips a rectangle to the screen in 64-bit arithmetic, so no int overflows;
 * false if nothing is left. */
static bool clip(const struct fb *fb, int *x, int *y, int *w, int *h)
{
	long long x0 = *x, y0 = *y, x1, y1;

	if (*w <= 0 || *h <= 0)
		return false;
	x1 = x0 + *w;
	y1 = y0 + *h;
	if (x0 < 0)
		x0 = 0;
	if (y0 < 0)
		y0 = 0;
	if (x1 > fb->width)
		x1 = fb->width;
	if (y1 > fb->height)
		y1 = fb->height;
	if (x0 >= x1 || y0 >= y1)
		return false;
	*x = (int)x0;
	*y = (int)y0;
	*w = (int)(x1 - x0);
	*h = (int)(y1 - y0);
	return true;
}

static uint8_t *pixel_at(const struct fb *fb, int x, int y)
{
	return fb->map + ((size_t)fb->yoffset + (unsigned)y) * fb->line_length + (size_t)x * (fb->fmt.bpp / 8);
}

void fb_fill(struct fb *fb, int x, int y, int w, int h, uint32_t rgb)
{
	const size_t bpp = fb->fmt.bpp / 8;
	size_t row_bytes, done;
	uint8_t *first;

	if (!clip(fb, &x, &y, &w, &h))
		return;
	row_bytes = (size_t)w * bpp;
	first = pixel_at(fb, x, y);
	/* One pixel, then the row doubles itself, then rows are copies of it:
	 * a handful of memcpy calls whatever the depth. */
	fb_rgb_to_pixel(&fb->fmt, rgb, first);
	for (done = bpp; done < row_bytes; done *= 2)
		memcpy(first + done, first, done < row_bytes - done ? done : row_bytes - done);
	for (int i = 1; i < h; i++)
		memcpy(first + (size_t)i * fb->line_length, first, row_bytes);
}

void fb_put(struct fb *fb, int x, int y, uint32_t rgb)
{
	if (x < 0 || y < 0 || (unsigned)x >= fb->width || (unsigned)y >= fb->height)
		return;
	fb_rgb_to_pixel(&fb->fmt, rgb, pixel_at(fb, x, y));
}

int fb_save(struct fb *fb, int x, int y, int w, int h, struct fb_saved **out)
{
	struct fb_saved *s;
	size_t row_bytes = 0;
	unsigned rows = 0;

	*out = NULL;
	if (clip(fb, &x, &y, &w, &h)) {
		row_bytes = (size_t)w * (fb->fmt.bpp / 8);
		rows = (unsigned)h;
	}
	s = malloc(sizeof(*s) + row_bytes * rows);
	if (!s)
		return -ENOMEM;
	s->offset = rows ? (size_t)(pixel_at(fb, x, y) - fb->map) : 0;
	s->line_length = fb->line_length;
	s->row_bytes = row_bytes;
	s->rows = rows;
	for (unsigned i = 0; i < rows; i++)
		memcpy(s->data + i * row_bytes, fb->map + s->offset + (size_t)i * fb->line_length, row_bytes);
	*out = s;
	return 0;
}

void fb_restore(struct fb *fb, const struct fb_saved *s)
{
	if (!s || !s->rows)
		return;
	/* Only onto the framebuffer it came from (same row size, still inside
	 * the mapping): anything else is a caller's bug, and writing would
	 * scribble over the screen or past it. */
	if (s->line_length != fb->line_length ||
	    s->offset + (size_t)(s->rows - 1) * fb->line_length + s->row_bytes > fb->map_len) {
		log_err("fb: saved region does not belong to this framebuffer; not restored");
		return;
	}
	for (unsigned i = 0; i < s->rows; i++)
		memcpy(fb->map + s->offset + (size_t)i * fb->line_length, s->data + i * s->row_bytes, s->row_bytes);
}

void fb_saved_free(struct fb_saved *s)
{
	free(s);
}

void fb_flush(struct fb *fb)
{
	if (fb->fd < 0)
		return;
	if (fb->sim) {
		if (msync(fb->map, fb->map_len, MS_SYNC) < 0)
			log_warn("fb: msync of fb.raw: %s", strerror(errno));
		return;
	}
	/* Drivers without an fsync method answer EINVAL: nothing to push. */
	if (fsync(fb->fd) < 0 && errno != EINVAL && errno != EROFS)
		log_warn("fb: fsync: %s", strerror(errno));
}

void fb_close(struct fb *fb)
{
	if (!fb)
		return;
	if (fb->map)
		munmap(fb->map - fb->map_pad, fb->map_len + fb->map_pad);
	if (fb->fd >= 0)
		close(fb->fd);
	free(fb);
}
