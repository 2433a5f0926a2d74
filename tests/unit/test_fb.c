/*
 * Framebuffer: pixel conversion against hand-computed values for every
 * layout a driver may report, capture of synthetic framebuffers (row
 * padding, a second page), clipping, save/restore, the sim backend's fb.raw
 * (a fixed interface), the fbdev backend's refusals, and the capture speed
 * beside a plain memcpy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hal/fb.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct fb_format RGB565 = { 16, { 11, 5 }, { 5, 6 }, { 0, 5 }, { 0, 0 } };
static const struct fb_format BGR565 = { 16, { 0, 5 }, { 5, 6 }, { 11, 5 }, { 0, 0 } };
static const struct fb_format RGB555 = { 16, { 10, 5 }, { 5, 5 }, { 0, 5 }, { 0, 0 } };
static const struct fb_format ARGB4444 = { 16, { 8, 4 }, { 4, 4 }, { 0, 4 }, { 12, 4 } };
static const struct fb_format RGB888 = { 24, { 16, 8 }, { 8, 8 }, { 0, 8 }, { 0, 0 } };
static const struct fb_format BGR888 = { 24, { 0, 8 }, { 8, 8 }, { 16, 8 }, { 0, 0 } };
static const struct fb_format XRGB8888 = { 32, { 16, 8 }, { 8, 8 }, { 0, 8 }, { 0, 0 } };
static const struct fb_format ARGB8888 = { 32, { 16, 8 }, { 8, 8 }, { 0, 8 }, { 24, 8 } };
static const struct fb_format XBGR8888 = { 32, { 0, 8 }, { 8, 8 }, { 16, 8 }, { 0, 0 } };
static const struct fb_format RGBX8888 = { 32, { 24, 8 }, { 16, 8 }, { 8, 8 }, { 0, 0 } };
static const struct fb_format XRGB2101010 = { 32, { 20, 10 }, { 10, 10 }, { 0, 10 }, { 0, 0 } };

static const struct fb_format *const all_formats[] = {
	&RGB565, &BGR565, &RGB555, &ARGB4444, &RGB888, &BGR888,
	&XRGB8888, &ARGB8888, &XBGR8888, &RGBX8888, &XRGB2101010,
};
#define NFORMATS (sizeof(all_formats) / sizeof(all_formats[0]))

/* ---- helpers ---- */

static uint32_t px_to_rgb(const struct fb_format *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	return fb_pixel_to_rgb(f, b);
}

static uint32_t rgb_to_px(const struct fb_format *f, uint32_t rgb)
{
	uint8_t b[4] = { 0xcc, 0xcc, 0xcc, 0xcc };
	uint32_t v = 0;

	fb_rgb_to_pixel(f, rgb, b);
	for (unsigned i = 0; i < f->bpp / 8; i++)
		v |= (uint32_t)b[i] << (8 * i);
	/* Bytes past the pixel are not touched. */
	for (unsigned i = f->bpp / 8; i < 4; i++)
		assert_int_equal(b[i], 0xcc);
	return v;
}

/* What the screen shows for rgb: rgb quantised to the format. */
static uint32_t quantise(const struct fb_format *f, uint32_t rgb)
{
	return px_to_rgb(f, rgb_to_px(f, rgb));
}

/* A memory framebuffer: pages pages of height rows, line_length bytes each,
 * every byte 0xee, visible page `page`. */
static struct fb *memfb(const struct fb_format *f, unsigned w, unsigned h, unsigned line_length, unsigned pages,
			unsigned page)
{
	struct fb *fb = calloc(1, sizeof(*fb));

	assert_non_null(fb);
	fb->fd = -1;
	fb->map_len = (size_t)line_length * h * pages;
	fb->map = malloc(fb->map_len);
	assert_non_null(fb->map);
	memset(fb->map, 0xee, fb->map_len);
	fb->width = w;
	fb->height = h;
	fb->line_length = line_length;
	fb->yoffset = page * h;
	fb->fmt = *f;
	assert_int_equal(fb_validate(fb), 0);
	return fb;
}

static void memfb_free(struct fb *fb)
{
	free(fb->map);
	free(fb);
}

static uint8_t *px_addr(struct fb *fb, unsigned x, unsigned y)
{
	return fb->map + ((size_t)fb->yoffset + y) * fb->line_length + (size_t)x * (fb->fmt.bpp / 8);
}

static uint32_t pattern(unsigned x, unsigned y)
{
	return ((x * 7) & 0xff) << 16 | ((y * 13 + x) & 0xff) << 8 | (((x + y) * 5) & 0xff);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- conversion by hand ---- */

static void test_rgb565_by_hand(void **state)
{
	(void)state;
	/* Pure channels widen to full intensity (bit replication). */
	assert_int_equal(px_to_rgb(&RGB565, 0xf800), 0xff0000);
	assert_int_equal(px_to_rgb(&RGB565, 0x07e0), 0x00ff00);
	assert_int_equal(px_to_rgb(&RGB565, 0x001f), 0x0000ff);
	assert_int_equal(px_to_rgb(&RGB565, 0xffff), 0xffffff);
	assert_int_equal(px_to_rgb(&RGB565, 0x0000), 0x000000);
	/* 0x8410: r 10000 -> 10000100, g 100000 -> 10000010, b 10000 ->
	 * 10000100.  The 6-bit green repeats only its top 2 bits. */
	assert_int_equal(px_to_rgb(&RGB565, 0x8410), 0x848284);
	/* 0x0821: each channel 1 -> r 00001000, g 00000100, b 00001000. */
	assert_int_equal(px_to_rgb(&RGB565, 0x0821), 0x080408);
	/* 0x7bef: r 01111 -> 01111011, g 011111 -> 01111101, b 01111 -> 0x7b. */
	assert_int_equal(px_to_rgb(&RGB565, 0x7bef), 0x7b7d7b);

	/* Narrowing keeps the top bits: 0x12 -> 00010, 0x34 -> 001101, 0x56 -> 01010. */
	assert_int_equal(rgb_to_px(&RGB565, 0x123456), (2u << 11) | (13u << 5) | 10u);
	assert_int_equal(rgb_to_px(&RGB565, 0xff0000), 0xf800);
	assert_int_equal(rgb_to_px(&RGB565, 0x00ff00), 0x07e0);
	assert_int_equal(rgb_to_px(&RGB565, 0x0000ff), 0x001f);
	assert_int_equal(rgb_to_px(&RGB565, 0xffffff), 0xffff);
	/* Little-endian in memory: 0xf800 is 00 f8. */
	{
		uint8_t b[2];

		fb_rgb_to_pixel(&RGB565, 0xff0000, b);
		assert_int_equal(b[0], 0x00);
		assert_int_equal(b[1], 0xf8);
	}
}

static void test_other_16bpp_layouts_by_hand(void **state)
{
	(void)state;
	/* BGR565: red in the low 5 bits, blue in the high 5. */
	assert_int_equal(px_to_rgb(&BGR565, 0x001f), 0xff0000);
	assert_int_equal(px_to_rgb(&BGR565, 0xf800), 0x0000ff);
	assert_int_equal(px_to_rgb(&BGR565, 0x07e0), 0x00ff00);
	assert_int_equal(px_to_rgb(&BGR565, 0x8410), 0x848284);
	assert_int_equal(rgb_to_px(&BGR565, 0x123456), (10u << 11) | (13u << 5) | 2u);
	/* RGB555: 0x4210 is 10000 in every channel -> 0x84 each. */
	assert_int_equal(px_to_rgb(&RGB555, 0x4210), 0x848484);
	assert_int_equal(px_to_rgb(&RGB555, 0x7c00), 0xff0000);
	assert_int_equal(px_to_rgb(&RGB555, 0x8000), 0x000000); /* the unused top bit */
	assert_int_equal(rgb_to_px(&RGB555, 0xffffff), 0x7fff);
	/* ARGB4444: 4-bit 0x9 -> 0x99; alpha written opaque, ignored on reading. */
	assert_int_equal(px_to_rgb(&ARGB4444, 0x0936), 0x993366);
	assert_int_equal(px_to_rgb(&ARGB4444, 0xf936), 0x993366);
	assert_int_equal(rgb_to_px(&ARGB4444, 0x993366), 0xf936);
}

static void test_24_and_32bpp_by_hand(void **state)
{
	uint8_t b[4];

	(void)state;
	/* 24 bpp RGB: bytes B G R. */
	b[0] = 0x56, b[1] = 0x34, b[2] = 0x12;
	assert_int_equal(fb_pixel_to_rgb(&RGB888, b), 0x123456);
	/* 24 bpp BGR: bytes R G B. */
	b[0] = 0x12, b[1] = 0x34, b[2] = 0x56;
	assert_int_equal(fb_pixel_to_rgb(&BGR888, b), 0x123456);
	memset(b, 0, sizeof(b));
	fb_rgb_to_pixel(&BGR888, 0xa1b2c3, b);
	assert_int_equal(b[0], 0xa1);
	assert_int_equal(b[1], 0xb2);
	assert_int_equal(b[2], 0xc3);

	/* XRGB8888: bytes B G R X; the X byte never leaks into the colour. */
	b[0] = 0x56, b[1] = 0x34, b[2] = 0x12, b[3] = 0xab;
	assert_int_equal(fb_pixel_to_rgb(&XRGB8888, b), 0x123456);
	assert_int_equal(rgb_to_px(&XRGB8888, 0xff123456), 0x00123456);
	/* ARGB8888: alpha written opaque. */
	assert_int_equal(rgb_to_px(&ARGB8888, 0x123456), 0xff123456);
	/* XBGR8888: bytes R G B X. */
	b[0] = 0x12, b[1] = 0x34, b[2] = 0x56, b[3] = 0x00;
	assert_int_equal(fb_pixel_to_rgb(&XBGR8888, b), 0x123456);
	assert_int_equal(rgb_to_px(&XBGR8888, 0x123456), 0x00563412);
	/* RGBX8888: bytes X B G R. */
	assert_int_equal(px_to_rgb(&RGBX8888, 0x123456ff), 0x123456);
	/* 10-bit channels: the top 8 bits on reading, widened on writing. */
	assert_int_equal(px_to_rgb(&XRGB2101010, 0x3ff00000), 0xff0000);
	assert_int_equal(px_to_rgb(&XRGB2101010, (0x203u << 20) | (0x0ffu << 10) | 0x004u), 0x803f01);
	assert_int_equal(rgb_to_px(&XRGB2101010, 0x800000), 0x202u << 20);
}

static void test_round_trips(void **state)
{
	(void)state;
	/* Every 16-bit pixel survives pixel -> rgb -> pixel (the unused bit of
	 * 555 reads as 0). */
	for (uint32_t v = 0; v < 0x10000; v++) {
		assert_int_equal(rgb_to_px(&RGB565, px_to_rgb(&RGB565, v)), v);
		assert_int_equal(rgb_to_px(&BGR565, px_to_rgb(&BGR565, v)), v);
		assert_int_equal(rgb_to_px(&RGB555, px_to_rgb(&RGB555, v)), v & 0x7fff);
	}
	/* rgb -> pixel -> rgb: exact at 8 bits, within the lost bits below. */
	srand(7);
	for (int i = 0; i < 20000; i++) {
		uint32_t rgb = ((uint32_t)rand() ^ (uint32_t)rand() << 12) & 0xffffff;

		for (unsigned k = 0; k < NFORMATS; k++) {
			const struct fb_format *f = all_formats[k];
			uint32_t q = quantise(f, rgb);

			if (f->red.length >= 8 && f->green.length >= 8 && f->blue.length >= 8) {
				assert_int_equal(q, rgb);
				continue;
			}
			for (int sh = 0; sh <= 16; sh += 8) {
				int a = (int)(rgb >> sh & 0xff), c = (int)(q >> sh & 0xff);

				assert_true(abs(a - c) < 16);
			}
			/* Quantising is idempotent. */
			assert_int_equal(quantise(f, q), q);
		}
	}
}

static void test_validate(void **state)
{
	uint8_t buf[64 * 4 * 8];
	struct fb fb = { .fd = -1, .map = buf, .map_len = sizeof(buf), .width = 64, .height = 8,
			 .line_length = 64 * 4, .fmt = XRGB8888 };
	struct fb bad;

	(void)state;
	assert_int_equal(fb_validate(&fb), 0);
	for (unsigned k = 0; k < NFORMATS; k++) {
		bad = fb;
		bad.fmt = *all_formats[k];
		assert_int_equal(fb_validate(&bad), 0);
	}
	bad = fb, bad.fmt.bpp = 8;
	assert_int_equal(fb_validate(&bad), -EINVAL);
	bad = fb, bad.fmt.bpp = 15;
	assert_int_equal(fb_validate(&bad), -EINVAL);
	bad = fb, bad.fmt = RGB565, bad.fmt.green.offset = 6; /* overlaps red */
	assert_int_equal(fb_validate(&bad), -EINVAL);
	bad = fb, bad.fmt = RGB565, bad.fmt.red.offset = 12; /* 12 + 5 > 16 */
	assert_int_equal(fb_validate(&bad), -EINVAL);
	bad = fb, bad.fmt.blue.length = 0;
	assert_int_equal(fb_validate(&bad), -EINVAL);
	bad = fb, bad.fmt.red.offset = 40;
	assert_int_equal(fb_validate(&bad), -EINVAL);
	bad = fb, bad.fmt.red.offset = UINT_MAX; /* offset + length wraps */
	assert_int_equal(fb_validate(&bad), -EINVAL);
	bad = fb, bad.fmt.transp = (struct fb_bitfield){ 20, 8 }; /* overlaps red */
	assert_int_equal(fb_validate(&bad), -EINVAL);
	/* An absent alpha may say anything about where it would be. */
	bad = fb, bad.fmt.transp = (struct fb_bitfield){ 40, 0 };
	assert_int_equal(fb_validate(&bad), 0);
	bad = fb, bad.line_length = 64 * 4 - 1;
	assert_int_equal(fb_validate(&bad), -EINVAL);
	bad = fb, bad.yoffset = 1; /* the page would end past the buffer */
	assert_int_equal(fb_validate(&bad), -EINVAL);
	bad = fb, bad.yoffset = UINT_MAX;
	assert_int_equal(fb_validate(&bad), -EINVAL);
	bad = fb, bad.height = 9;
	assert_int_equal(fb_validate(&bad), -EINVAL);
	bad = fb, bad.width = 0;
	assert_int_equal(fb_validate(&bad), -EINVAL);
	bad = fb, bad.map = NULL;
	assert_int_equal(fb_validate(&bad), -EINVAL);
	/* 16 bpp: the same buffer holds two pages of 64x8 at 128 bytes a row. */
	bad = fb, bad.fmt = RGB565, bad.line_length = 128, bad.yoffset = 8;
	assert_int_equal(fb_validate(&bad), 0);
}

/* ---- capture ---- */

/* Draws the pattern on the visible page and a decoy on the other pages and
 * in the row padding; captures; compares with the pattern quantised. */
static void check_capture(const struct fb_format *f, unsigned w, unsigned h, unsigned pad)
{
	const unsigned bpp = f->bpp / 8;
	struct fb *fb = memfb(f, w, h, w * bpp + pad, 2, 1);
	uint32_t *out = malloc((size_t)w * h * 4);

	assert_non_null(out);
	/* Page 0 red: a capture of the wrong page fails. */
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++)
			fb_rgb_to_pixel(f, 0xff0000, fb->map + (size_t)y * fb->line_length + x * bpp);
	for (unsigned y = 0; y < h; y++) {
		for (unsigned x = 0; x < w; x++) {
			uint8_t *p = px_addr(fb, x, y);

			fb_rgb_to_pixel(f, pattern(x, y), p);
			/* Bits outside the channels hold garbage the
			 * capture must not pass on. */
			if (f == &XRGB8888 || f == &XBGR8888)
				p[3] = (uint8_t)(0xa5 ^ x);
		}
	}
	memset(out, 0x5a, (size_t)w * h * 4);
	assert_int_equal(fb_capture(fb, out, (size_t)w * h), 0);
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++)
			if (out[(size_t)y * w + x] != quantise(f, pattern(x, y)))
				fail_msg("%u bpp r%u/%u: pixel %u,%u is %06x, expected %06x", f->bpp, f->red.offset,
					 f->red.length, x, y, out[(size_t)y * w + x], quantise(f, pattern(x, y)));
	free(out);
	memfb_free(fb);
}

static void test_capture_synthetic(void **state)
{
	(void)state;
	for (unsigned k = 0; k < NFORMATS; k++) {
		/* Odd widths and padding: unaligned rows, loop tails. */
		check_capture(all_formats[k], 37, 23, 13);
		check_capture(all_formats[k], 1, 3, 1);
		check_capture(all_formats[k], 64, 5, 0);
		check_capture(all_formats[k], 300, 4, 64);
	}
}

static void test_capture_buffer_size(void **state)
{
	struct fb *fb = memfb(&XRGB8888, 40, 30, 160, 1, 0);
	uint32_t *out = calloc(40 * 30, 4);

	(void)state;
	assert_non_null(out);
	assert_int_equal(fb_capture(fb, out, 40 * 30 - 1), -ENOSPC);
	assert_int_equal(fb_capture(fb, out, 0), -ENOSPC);
	assert_int_equal(fb_capture(fb, out, 40 * 30), 0);
	free(out);
	memfb_free(fb);
}

/* ---- drawing ---- */

/* Fills rect on a fresh 16 bpp framebuffer (second page visible, padded rows)
 * and checks every byte of the mapping: the clipped rectangle has the colour,
 * all else is untouched. */
static void check_fill(int x, int y, int w, int h, int ex, int ey, int ew, int eh)
{
	struct fb *fb = memfb(&RGB565, 50, 40, 50 * 2 + 6, 2, 1);
	uint8_t *before = malloc(fb->map_len);

	assert_non_null(before);
	memcpy(before, fb->map, fb->map_len);
	fb_fill(fb, x, y, w, h, 0x00ff00);
	for (size_t off = 0; off < fb->map_len; off++) {
		size_t row = off / fb->line_length, col = off % fb->line_length;
		bool inside = row >= fb->yoffset + (size_t)ey && row < fb->yoffset + (size_t)(ey + eh) &&
			      col >= (size_t)ex * 2 && col < (size_t)(ex + ew) * 2 && ew > 0 && eh > 0;

		if (inside)
			assert_int_equal(fb->map[off], (col % 2) ? 0x07 : 0xe0);
		else if (fb->map[off] != before[off])
			fail_msg("fill %d,%d %dx%d changed byte %zu (row %zu, column byte %zu)", x, y, w, h, off, row,
				 col);
	}
	free(before);
	memfb_free(fb);
}

static void test_fill_clipping(void **state)
{
	(void)state;
	check_fill(3, 4, 10, 5, 3, 4, 10, 5);
	check_fill(0, 0, 50, 40, 0, 0, 50, 40);
	check_fill(-3, -2, 10, 5, 0, 0, 7, 3);
	check_fill(45, 38, 10, 10, 45, 38, 5, 2);
	check_fill(-100, 10, 1000, 1, 0, 10, 50, 1);
	check_fill(49, 39, 1, 1, 49, 39, 1, 1);
	check_fill(50, 0, 5, 5, 0, 0, 0, 0);
	check_fill(0, 40, 5, 5, 0, 0, 0, 0);
	check_fill(-5, -5, 5, 5, 0, 0, 0, 0);
	check_fill(3, 3, 0, 5, 0, 0, 0, 0);
	check_fill(3, 3, -4, 5, 0, 0, 0, 0);
	check_fill(INT_MIN, INT_MIN, INT_MAX, INT_MAX, 0, 0, 0, 0);
	check_fill(10, 10, INT_MAX, INT_MAX, 10, 10, 40, 30);
	check_fill(INT_MAX, INT_MAX, INT_MAX, INT_MAX, 0, 0, 0, 0);
	check_fill(-1, -1, INT_MAX, INT_MAX, 0, 0, 50, 40);
}

static void test_fill_every_depth(void **state)
{
	(void)state;
	for (unsigned k = 0; k < NFORMATS; k++) {
		const struct fb_format *f = all_formats[k];
		struct fb *fb = memfb(f, 33, 9, 33 * (f->bpp / 8) + 3, 1, 0);
		uint32_t out[33 * 9];

		fb_fill(fb, 0, 0, 33, 9, 0x000000);
		fb_fill(fb, 2, 1, 29, 7, 0x3399cc);
		fb_put(fb, 0, 0, 0xffffff);
		fb_put(fb, 33, 0, 0xffffff);
		fb_put(fb, -1, 0, 0xffffff);
		fb_put(fb, 0, 9, 0xffffff);
		assert_int_equal(fb_capture(fb, out, 33 * 9), 0);
		for (unsigned y = 0; y < 9; y++) {
			for (unsigned x = 0; x < 33; x++) {
				uint32_t want = x >= 2 && x < 31 && y >= 1 && y < 8 ? quantise(f, 0x3399cc) : 0;

				if (x == 0 && y == 0)
					want = 0xffffff;
				assert_int_equal(out[y * 33 + x], want);
			}
		}
		memfb_free(fb);
	}
}

static void test_save_restore(void **state)
{
	struct fb *fb = memfb(&RGB888, 40, 20, 40 * 3 + 5, 3, 1);
	uint8_t *before = malloc(fb->map_len);
	struct fb_saved *s, *empty;

	(void)state;
	assert_non_null(before);
	for (size_t i = 0; i < fb->map_len; i++)
		fb->map[i] = (uint8_t)(i * 31 + 7);
	memcpy(before, fb->map, fb->map_len);

	/* Partly off screen: the visible part is saved. */
	assert_int_equal(fb_save(fb, 30, -4, 20, 14, &s), 0);
	fb_fill(fb, -10, -10, 100, 100, 0x123456);
	assert_memory_not_equal(fb->map, before, fb->map_len);
	/* The visible page moves on before the restore: the bytes go back
	 * where they came from. */
	fb->yoffset = 40;
	fb_fill(fb, 0, 0, 40, 20, 0xabcdef);
	fb_restore(fb, s);
	fb->yoffset = 20;
	for (size_t off = 0; off < fb->map_len; off++) {
		size_t row = off / fb->line_length, col = off % fb->line_length;
		bool saved = row >= 20 && row < 30 && col >= 30 * 3 && col < 40 * 3;
		bool page1 = row >= 20 && row < 40 && col < 40 * 3;
		bool page2 = row >= 40 && col < 40 * 3;

		if (saved || (!page1 && !page2))
			assert_int_equal(fb->map[off], before[off]);
		else if (page1)
			assert_int_equal(fb->map[off], ((const uint8_t[]){ 0x56, 0x34, 0x12 })[col % 3]);
		else
			assert_int_equal(fb->map[off], ((const uint8_t[]){ 0xef, 0xcd, 0xab })[col % 3]);
	}
	fb_saved_free(s);

	/* Whole screen, byte for byte. */
	memcpy(fb->map, before, fb->map_len);
	assert_int_equal(fb_save(fb, 0, 0, 40, 20, &s), 0);
	fb_fill(fb, 0, 0, 40, 20, 0);
	fb_restore(fb, s);
	assert_memory_equal(fb->map, before, fb->map_len);
	fb_saved_free(s);

	/* Off screen: empty, and restoring it does nothing. */
	assert_int_equal(fb_save(fb, 100, 100, 5, 5, &empty), 0);
	assert_non_null(empty);
	fb_restore(fb, empty);
	assert_memory_equal(fb->map, before, fb->map_len);
	fb_saved_free(empty);
	fb_saved_free(NULL);
	fb_restore(fb, NULL);
	free(before);
	memfb_free(fb);
}

static void test_restore_refuses_other_framebuffer(void **state)
{
	struct fb *big = memfb(&XRGB8888, 100, 100, 400, 1, 0);
	struct fb *small = memfb(&XRGB8888, 10, 10, 40, 1, 0);
	struct fb *same_stride = memfb(&XRGB8888, 100, 2, 400, 1, 0);
	uint8_t *before = malloc(small->map_len);
	struct fb_saved *s;

	(void)state;
	assert_non_null(before);
	memcpy(before, small->map, small->map_len);
	assert_int_equal(fb_save(big, 50, 50, 40, 40, &s), 0);
	fb_restore(small, s);        /* other line_length */
	assert_memory_equal(small->map, before, small->map_len);
	fb_restore(same_stride, s);  /* would write past its mapping */
	fb_saved_free(s);
	free(before);
	memfb_free(big);
	memfb_free(small);
	memfb_free(same_stride);
}

/* ---- sim backend ---- */

struct sim_fixture {
	char dir[64];
	char sim[96];
	char raw[128];
};

static int sim_setup(void **state)
{
	struct sim_fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	umask(022);
	if (tu_tmpdir(f->dir, sizeof(f->dir), "fb")) {
		free(f);
		return -1;
	}
	snprintf(f->sim, sizeof(f->sim), "%s/sim", f->dir);
	snprintf(f->raw, sizeof(f->raw), "%s/fb.raw", f->sim);
	*state = f;
	return 0;
}

static int sim_teardown(void **state)
{
	struct sim_fixture *f = *state;
	int r = tu_rmtree(f->dir);

	free(f);
	return r;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *b;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	assert_non_null(b);
	assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

static void test_sim_creates_fb_raw(void **state)
{
	struct sim_fixture *f = *state;
	struct stat st;
	struct fb *fb;
	uint8_t *data;
	size_t len;

	assert_int_equal(fb_open_sim(f->dir, 480, 272, &fb), 0);
	assert_int_equal(stat(f->sim, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(f->raw, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_size, 480 * 272 * 4);
	assert_true(fb->sim);
	assert_int_equal(fb->width, 480);
	assert_int_equal(fb->height, 272);
	assert_int_equal(fb->line_length, 480 * 4);
	assert_int_equal(fb->yoffset, 0);
	assert_int_equal(fb->fmt.bpp, 32);
	assert_int_equal(fb->fmt.red.offset, 16);
	assert_int_equal(fb->fmt.green.offset, 8);
	assert_int_equal(fb->fmt.blue.offset, 0);
	assert_int_equal(fb_refresh(fb), 0);

	/* What is drawn is what a reader of the file sees: XRGB8888 LE,
	 * row-major, no header. */
	fb_fill(fb, 10, 20, 3, 2, 0x123456);
	fb_flush(fb);
	data = read_file(f->raw, &len);
	assert_int_equal(len, 480 * 272 * 4);
	for (unsigned y = 0; y < 272; y++) {
		for (unsigned x = 0; x < 480; x++) {
			const uint8_t *p = data + ((size_t)y * 480 + x) * 4;
			bool in = x >= 10 && x < 13 && y >= 20 && y < 22;
			uint8_t want[4] = { 0x56, 0x34, 0x12, 0 };

			if (in)
				assert_memory_equal(p, want, 4);
			else
				assert_memory_equal(p, "\0\0\0\0", 4);
		}
	}
	free(data);
	fb_close(fb);
	fb_close(NULL);
}

static void test_sim_captures_prefilled_pattern(void **state)
{
	struct sim_fixture *f = *state;
	const unsigned w = 320, h = 240;
	uint8_t *raw = malloc((size_t)w * h * 4);
	uint32_t *out = malloc((size_t)w * h * 4);
	struct fb *fb;

	assert_non_null(raw);
	assert_non_null(out);
	assert_int_equal(mkdir(f->sim, 0755), 0);
	for (unsigned y = 0; y < h; y++) {
		for (unsigned x = 0; x < w; x++) {
			uint32_t c = pattern(x, y);
			uint8_t *p = raw + ((size_t)y * w + x) * 4;

			p[0] = (uint8_t)c, p[1] = (uint8_t)(c >> 8), p[2] = (uint8_t)(c >> 16);
			p[3] = 0xff; /* as an RGBX writer leaves it */
		}
	}
	tu_write_file(f->raw, raw, (size_t)w * h * 4);
	assert_int_equal(fb_open_sim(f->dir, w, h, &fb), 0);
	assert_int_equal(fb_capture(fb, out, (size_t)w * h), 0);
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++)
			assert_int_equal(out[(size_t)y * w + x], pattern(x, y));
	fb_close(fb);

	/* A file of another size is resized (and then holds zeros). */
	assert_int_equal(fb_open_sim(f->dir, 64, 32, &fb), 0);
	{
		struct stat st;

		assert_int_equal(stat(f->raw, &st), 0);
		assert_int_equal(st.st_size, 64 * 32 * 4);
	}
	fb_close(fb);
	free(raw);
	free(out);
}

static void test_sim_fill_and_save_restore(void **state)
{
	struct sim_fixture *f = *state;
	struct fb *fb;
	struct fb_saved *s;
	uint8_t *before, *after;
	size_t len, len2;

	assert_int_equal(fb_open_sim(f->dir, 200, 100, &fb), 0);
	for (unsigned y = 0; y < 100; y++)
		for (unsigned x = 0; x < 200; x++)
			fb_put(fb, (int)x, (int)y, pattern(x, y));
	/* An X byte a writer left non-zero is part of the exact bytes. */
	fb->map[5 * 4 + 3] = 0x77;
	fb_flush(fb);
	before = read_file(f->raw, &len);

	assert_int_equal(fb_save(fb, 150, 80, 100, 100, &s), 0);
	fb_fill(fb, 150, 80, 100, 100, 0xffffff);
	fb_flush(fb);
	after = read_file(f->raw, &len2);
	for (unsigned y = 0; y < 100; y++) {
		for (unsigned x = 0; x < 200; x++) {
			size_t o = ((size_t)y * 200 + x) * 4;

			if (x >= 150 && y >= 80)
				assert_memory_equal(after + o, "\xff\xff\xff\0", 4);
			else
				assert_memory_equal(after + o, before + o, 4);
		}
	}
	free(after);
	fb_restore(fb, s);
	fb_flush(fb);
	after = read_file(f->raw, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(after, before, len);
	fb_saved_free(s);
	free(after);
	free(before);
	fb_close(fb);
}

static void test_sim_refuses_links_and_bad_geometry(void **state)
{
	struct sim_fixture *f = *state;
	char target[128], path[160];
	struct fb *fb = (struct fb *)1;

	/* A symlinked sim directory. */
	snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
	assert_int_equal(mkdir(target, 0755), 0);
	assert_int_equal(symlink(target, f->sim), 0);
	assert_true(fb_open_sim(f->dir, 64, 32, &fb) < 0);
	assert_null(fb);
	snprintf(path, sizeof(path), "%s/fb.raw", target);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(unlink(f->sim), 0);

	/* A symlinked fb.raw. */
	assert_int_equal(mkdir(f->sim, 0755), 0);
	assert_int_equal(symlink(path, f->raw), 0);
	assert_true(fb_open_sim(f->dir, 64, 32, &fb) < 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(unlink(f->raw), 0);

	/* A FIFO (or anything not a regular file). */
	assert_int_equal(mkfifo(f->raw, 0644), 0);
	assert_int_equal(fb_open_sim(f->dir, 64, 32, &fb), -EINVAL);
	assert_int_equal(unlink(f->raw), 0);

	assert_int_equal(fb_open_sim(f->dir, 0, 32, &fb), -EINVAL);
	assert_int_equal(fb_open_sim(f->dir, 64, 0, &fb), -EINVAL);
	assert_int_equal(fb_open_sim(f->dir, 100000, 100000, &fb), -EINVAL);
	assert_true(fb_open_sim("/nonexistent/aurid", 64, 32, &fb) < 0);
}

/* ---- fbdev backend ---- */

static void test_linux_refuses_non_fb(void **state)
{
	struct fb *fb = (struct fb *)1;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	assert_true(fb_open_linux(fd, &fb) < 0);
	assert_null(fb);
	/* Owned from the call on, even on failure: already closed. */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

static void test_linux_real_device(void **state)
{
	struct fb *fb;
	uint32_t *out;
	int fd = open("/dev/fb0", O_RDWR | O_CLOEXEC);

	(void)state;
	if (fd < 0) {
		print_message("/dev/fb0 is not available here: the fbdev backend is tested by tests/hil\n");
		skip();
	}
	assert_int_equal(fb_open_linux(fd, &fb), 0);
	out = malloc((size_t)fb->width * fb->height * 4);
	assert_non_null(out);
	assert_int_equal(fb_capture(fb, out, (size_t)fb->width * fb->height), 0);
	free(out);
	fb_close(fb);
}

/* ---- speed ---- */

static double best_of(int runs, void (*fn)(void *), void *arg)
{
	double best = 1e9;

	for (int i = 0; i < runs; i++) {
		double t = now();

		fn(arg);
		t = now() - t;
		if (t < best)
			best = t;
	}
	return best;
}

struct bench {
	struct fb *fb;
	uint32_t *out;
	size_t len;
};

static void run_capture(void *arg)
{
	struct bench *b = arg;

	assert_int_equal(fb_capture(b->fb, b->out, b->len / 4), 0);
}

static void run_memcpy(void *arg)
{
	struct bench *b = arg;

	memcpy(b->out, b->fb->map, b->len);
	/* Keep the copy: the compiler may not drop it. */
	__asm__ __volatile__("" : : "r"(b->out) : "memory");
}

static void test_capture_speed(void **state)
{
	static const unsigned sizes[][2] = { { 480, 272 }, { 1280, 800 } };

	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		const unsigned w = sizes[i][0], h = sizes[i][1];
		struct fb *fb32 = memfb(&XRGB8888, w, h, w * 4, 1, 0);
		struct fb *fb16 = memfb(&RGB565, w, h, w * 2, 1, 0);
		struct bench b = { fb32, malloc((size_t)w * h * 4), (size_t)w * h * 4 };
		double tm, tc, t16;

		assert_non_null(b.out);
		for (size_t k = 0; k < fb32->map_len; k++)
			fb32->map[k] = (uint8_t)(k * 13);
		tm = best_of(30, run_memcpy, &b);
		tc = best_of(30, run_capture, &b);
		b.fb = fb16;
		t16 = best_of(30, run_capture, &b);
		print_message("capture %ux%u: XRGB8888 %.3f ms, memcpy of the frame %.3f ms (%.2fx); "
			      "RGB565 %.3f ms\n",
			      w, h, tc * 1e3, tm * 1e3, tc / tm, t16 * 1e3);
		free(b.out);
		memfb_free(fb32);
		memfb_free(fb16);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rgb565_by_hand),
		cmocka_unit_test(test_other_16bpp_layouts_by_hand),
		cmocka_unit_test(test_24_and_32bpp_by_hand),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_capture_synthetic),
		cmocka_unit_test(test_capture_buffer_size),
		cmocka_unit_test(test_fill_clipping),
		cmocka_unit_test(test_fill_every_depth),
		cmocka_unit_test(test_save_restore),
		cmocka_unit_test(test_restore_refuses_other_framebuffer),
		cmocka_unit_test_setup_teardown(test_sim_creates_fb_raw, sim_setup, sim_teardown),
		cmocka_unit_test_setup_teardown(test_sim_captures_prefilled_pattern, sim_setup, sim_teardown),
		cmocka_unit_test_setup_teardown(test_sim_fill_and_save_restore, sim_setup, sim_teardown),
		cmocka_unit_test_setup_teardown(test_sim_refuses_links_and_bad_geometry, sim_setup, sim_teardown),
		cmocka_unit_test(test_linux_refuses_non_fb),
		cmocka_unit_test(test_linux_real_device),
		cmocka_unit_test(test_capture_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
