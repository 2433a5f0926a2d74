/*
 * Fonts: the embedded PSF2 font against its own header, glyph lookup through
 * the Unicode table (and without one), scaled drawing pixel by pixel, and
 * refusal of every malformed font: hand-made corruptions, every truncation of
 * the real font, and random mutations of it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hal/font.h"
#include "services/common/embedded.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct fb_format XRGB8888 = { 32, { 16, 8 }, { 8, 8 }, { 0, 8 }, { 0, 0 } };
static const struct fb_format RGB565 = { 16, { 11, 5 }, { 5, 6 }, { 0, 5 }, { 0, 0 } };

#define FG 0xffffffu
#define BG 0x000080u
#define UNTOUCHED 0x00ee00u

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool bit(const struct font *f, const uint8_t *g, unsigned x, unsigned y)
{
	return g[y * ((f->width + 7) / 8) + x / 8] & (0x80 >> (x % 8));
}

static struct fb *memfb(const struct fb_format *fmt, unsigned w, unsigned h)
{
	struct fb *fb = calloc(1, sizeof(*fb));

	assert_non_null(fb);
	fb->fd = -1;
	fb->width = w;
	fb->height = h;
	fb->line_length = w * (fmt->bpp / 8) + 8;
	fb->map_len = (size_t)fb->line_length * h;
	fb->map = malloc(fb->map_len);
	assert_non_null(fb->map);
	memset(fb->map, 0xee, fb->map_len);
	fb->fmt = *fmt;
	assert_int_equal(fb_validate(fb), 0);
	fb_fill(fb, 0, 0, (int)w, (int)h, UNTOUCHED);
	return fb;
}

static void memfb_free(struct fb *fb)
{
	free(fb->map);
	free(fb);
}

static uint32_t get(struct fb *fb, unsigned x, unsigned y)
{
	return fb_pixel_to_rgb(&fb->fmt, fb->map + (size_t)y * fb->line_length + (size_t)x * (fb->fmt.bpp / 8));
}

/* Silences the refusal log lines of the loops that provoke thousands. */
static int quiet(void)
{
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	assert_true(saved >= 0 && null >= 0);
	dup2(null, STDERR_FILENO);
	close(null);
	return saved;
}

static void loud(int saved)
{
	dup2(saved, STDERR_FILENO);
	close(saved);
}

/* ---- the embedded font ---- */

static void test_embedded_font(void **state)
{
	struct font f;
	const uint8_t *g;
	unsigned set = 0;

	(void)state;
	assert_int_equal(font_load_default(&f), 0);
	/* What the header says, read here independently. */
	assert_true(aurid_font_psf_len > 32);
	assert_int_equal(f.nglyphs, le32(aurid_font_psf + 16));
	assert_int_equal(f.bytes_per_glyph, le32(aurid_font_psf + 20));
	assert_int_equal(f.height, le32(aurid_font_psf + 24));
	assert_int_equal(f.width, le32(aurid_font_psf + 28));
	assert_ptr_equal(f.glyphs, aurid_font_psf + le32(aurid_font_psf + 8));
	print_message("embedded font: %u glyphs of %ux%u\n", f.nglyphs, f.width, f.height);

	g = font_glyph(&f, 'A');
	for (unsigned i = 0; i < f.bytes_per_glyph; i++)
		set += (unsigned)__builtin_popcount(g[i]);
	assert_true(set > 10);
	g = font_glyph(&f, ' ');
	for (unsigned i = 0; i < f.bytes_per_glyph; i++)
		assert_int_equal(g[i], 0);
	/* Distinct letters, distinct glyphs; the font's own '?' for what is
	 * not printable ASCII. */
	assert_int_not_equal(f.ascii['A'], f.ascii['B']);
	assert_memory_not_equal(font_glyph(&f, 'A'), font_glyph(&f, 'B'), f.bytes_per_glyph);
	assert_ptr_equal(font_glyph(&f, 0xc3), font_glyph(&f, '?'));
	assert_ptr_equal(font_glyph(&f, '\n'), font_glyph(&f, '?'));
	assert_ptr_equal(font_glyph(&f, 0x7f), font_glyph(&f, '?'));
	for (unsigned c = 0; c < 128; c++)
		assert_true(f.ascii[c] < f.nglyphs);
}

static void check_draw(const struct font *f, const struct fb_format *fmt, unsigned scale, int x0, int y0)
{
	struct fb *fb = memfb(fmt, 64, 64);
	const uint8_t *g = font_glyph(f, 'A');
	const long long s = scale ? scale : 1;

	font_draw(f, fb, x0, y0, scale, "A", FG, BG);
	for (int y = 0; y < 64; y++) {
		for (int x = 0; x < 64; x++) {
			long long gx = (long long)x - x0, gy = (long long)y - y0;
			uint32_t want = UNTOUCHED;
			uint8_t px[4];

			if (gx >= 0 && gy >= 0 && gx < f->width * s && gy < f->height * s)
				want = bit(f, g, (unsigned)(gx / s), (unsigned)(gy / s)) ? FG : BG;
			/* As the format shows it. */
			fb_rgb_to_pixel(fmt, want, px);
			want = fb_pixel_to_rgb(fmt, px);
			if (get(fb, (unsigned)x, (unsigned)y) != want)
				fail_msg("scale %u at %d,%d: pixel %d,%d is %06x, expected %06x", scale, x0, y0, x, y,
					 get(fb, (unsigned)x, (unsigned)y), want);
		}
	}
	memfb_free(fb);
}

static void test_draw_scaled(void **state)
{
	struct font f;

	(void)state;
	assert_int_equal(font_load_default(&f), 0);
	check_draw(&f, &XRGB8888, 2, 0, 0);
	check_draw(&f, &XRGB8888, 1, 5, 7);
	check_draw(&f, &XRGB8888, 3, 2, 1);
	check_draw(&f, &XRGB8888, 0, 3, 3);     /* 0 is 1 */
	check_draw(&f, &RGB565, 2, 11, 13);
	/* Clipped on every side. */
	check_draw(&f, &XRGB8888, 2, -7, -9);
	check_draw(&f, &XRGB8888, 2, 55, 50);
	check_draw(&f, &XRGB8888, 4, -100, 0);
	check_draw(&f, &XRGB8888, 1, 64, 64);
	check_draw(&f, &XRGB8888, 2, -2147483647 - 1, 2147483647);
}

static void test_draw_text(void **state)
{
	struct font f;
	struct fb *a, *b;

	(void)state;
	assert_int_equal(font_load_default(&f), 0);
	assert_int_equal(font_text_width(&f, 1, ""), 0);
	assert_int_equal(font_text_width(&f, 1, "AB"), 2 * f.width);
	assert_int_equal(font_text_width(&f, 3, "AB"), 6 * f.width);
	assert_int_equal(font_text_width(&f, 0, "AB"), 2 * f.width);
	/* A UTF-8 sequence is one character. */
	assert_int_equal(font_text_width(&f, 1, "\xc3\xa9"), f.width);
	assert_int_equal(font_text_width(&f, 1, "x\xe2\x82\xacy"), 3 * f.width);

	/* "A\xc3\xa9B" draws as "A?B"; each glyph where the width says. */
	a = memfb(&XRGB8888, 200, 60);
	b = memfb(&XRGB8888, 200, 60);
	font_draw(&f, a, 3, 4, 2, "A\xc3\xa9" "B\n", FG, BG);
	font_draw(&f, b, 3, 4, 2, "A", FG, BG);
	font_draw(&f, b, 3 + (int)font_text_width(&f, 2, "A"), 4, 2, "?", FG, BG);
	font_draw(&f, b, 3 + (int)font_text_width(&f, 2, "A?"), 4, 2, "B", FG, BG);
	font_draw(&f, b, 3 + (int)font_text_width(&f, 2, "A?B"), 4, 2, "?", FG, BG);
	assert_memory_equal(a->map, b->map, a->map_len);
	memfb_free(a);
	memfb_free(b);
}

/* ---- hand-made fonts ---- */

/* A PSF2 font of n glyphs w x h, glyph i filled with byte (i + 1), then
 * table (tlen bytes) if not NULL. */
static uint8_t *make_psf(unsigned n, unsigned w, unsigned h, const uint8_t *table, size_t tlen, size_t *len)
{
	const unsigned charsize = h * ((w + 7) / 8);
	uint8_t *p;

	*len = 32 + (size_t)n * charsize + tlen;
	p = calloc(1, *len);
	assert_non_null(p);
	memcpy(p, "\x72\xb5\x4a\x86", 4);
	put_le32(p + 4, 0);
	put_le32(p + 8, 32);
	put_le32(p + 12, table ? 1 : 0);
	put_le32(p + 16, n);
	put_le32(p + 20, charsize);
	put_le32(p + 24, h);
	put_le32(p + 28, w);
	for (unsigned i = 0; i < n; i++)
		memset(p + 32 + (size_t)i * charsize, (int)(i + 1), charsize);
	if (table)
		memcpy(p + 32 + (size_t)n * charsize, table, tlen);
	return p;
}

static void test_font_without_table(void **state)
{
	struct font f;
	uint8_t *p;
	size_t len;

	(void)state;
	p = make_psf(70, 12, 3, NULL, 0, &len);
	assert_int_equal(font_load(&f, p, len), 0);
	assert_int_equal(f.width, 12);
	assert_int_equal(f.bytes_per_glyph, 6);
	/* Glyph i is code point i. */
	assert_int_equal(f.ascii['A'], 'A');
	assert_int_equal(font_glyph(&f, 'A')[0], 'A' + 1);
	/* Beyond the 70 glyphs: '?' (63). */
	assert_int_equal(f.ascii['z'], '?');
	free(p);
}

static void test_font_with_table(void **state)
{
	/* Glyph 0: "A" and U+00C4 (two bytes); glyph 1: a sequence holding
	 * "B" (not a single character: ignored); glyph 2: "?" "A" (A is
	 * already taken by glyph 0); glyph 3: U+20AC. */
	static const uint8_t table[] = {
		'A', 0xc3, 0x84, 0xff,
		0xfe, 'B', 0xcc, 0x81, 0xff,
		'?', 'A', 0xff,
		0xe2, 0x82, 0xac, 0xff,
	};
	struct font f;
	struct fb *fb;
	uint8_t *p;
	size_t len;

	(void)state;
	p = make_psf(4, 9, 2, table, sizeof(table), &len);
	assert_int_equal(font_load(&f, p, len), 0);
	assert_int_equal(f.ascii['A'], 0);
	assert_int_equal(f.ascii['?'], 2);
	assert_int_equal(f.ascii['B'], 2);
	assert_int_equal(f.ascii['z'], 2);

	/* 9 pixels wide: the 9th column is bit 7 of each row's second byte.
	 * Glyph 0 is all 0x01 bytes: column 7 set, column 8 (0x80 of the
	 * second byte) clear, column 15 set but outside the glyph. */
	fb = memfb(&XRGB8888, 20, 4);
	font_draw(&f, fb, 0, 0, 1, "A", FG, BG);
	for (unsigned y = 0; y < 2; y++)
		for (unsigned x = 0; x < 9; x++)
			assert_int_equal(get(fb, x, y), x == 7 ? FG : BG);
	assert_int_equal(get(fb, 9, 0), UNTOUCHED);
	assert_int_equal(get(fb, 0, 2), UNTOUCHED);
	memfb_free(fb);
	free(p);
}

static void expect_refused(const uint8_t *p, size_t len, const char *what)
{
	struct font f;
	int r = font_load(&f, p, len);

	if (r != -EINVAL)
		fail_msg("%s: font_load returned %d, expected -EINVAL", what, r);
}

static void test_corrupt_fonts(void **state)
{
	static const uint8_t good_table[] = { 'A', 0xff, 'B', 0xff };
	uint8_t *p, *q;
	size_t len;
	struct font f;

	(void)state;
	p = make_psf(2, 8, 4, good_table, sizeof(good_table), &len);
	assert_int_equal(font_load(&f, p, len), 0);
	q = malloc(len);
	assert_non_null(q);

#define MUTATE(what, stmt)                    \
	do {                                  \
		memcpy(q, p, len);            \
		stmt;                         \
		expect_refused(q, len, what); \
	} while (0)

	expect_refused(NULL, 0, "no data");
	expect_refused(p, 31, "short header");
	expect_refused(p, 0, "empty");
	MUTATE("bad magic", q[0] = 0x36);
	MUTATE("version 1", put_le32(q + 4, 1));
	MUTATE("header size 31", put_le32(q + 8, 31));
	MUTATE("header past the end", put_le32(q + 8, (uint32_t)len + 1));
	MUTATE("header size huge", put_le32(q + 8, 0xffffffff));
	MUTATE("no glyphs", put_le32(q + 16, 0));
	MUTATE("glyph count overflowing", put_le32(q + 16, 0xffffffff));
	MUTATE("one glyph too many", put_le32(q + 16, 3));
	MUTATE("charsize not height * row bytes", put_le32(q + 20, 5));
	MUTATE("charsize huge", (put_le32(q + 20, 0x80000000), put_le32(q + 24, 0x80000000)));
	MUTATE("height 0", (put_le32(q + 24, 0), put_le32(q + 20, 0)));
	MUTATE("width 0", put_le32(q + 28, 0));
	MUTATE("width 65", (put_le32(q + 28, 65), put_le32(q + 20, 4 * 9)));
	MUTATE("height 129", (put_le32(q + 24, 129), put_le32(q + 20, 129)));
	expect_refused(p, len - 1, "table without its last separator");
	MUTATE("stray continuation byte", q[len - 2] = 0x80);
	MUTATE("0xf8 lead byte", q[len - 2] = 0xf8);
	MUTATE("sequence cut by the separator", q[len - 2] = 0xe2);
#undef MUTATE
	free(q);
	free(p);

	/* Glyph data one byte short (no table to hide it). */
	p = make_psf(3, 10, 5, NULL, 0, &len);
	assert_int_equal(font_load(&f, p, len), 0);
	expect_refused(p, len - 1, "glyphs one byte short");
	free(p);
}

/* Tables complete in every other way, each with one UTF-8 error. */
static void test_bad_utf8_tables(void **state)
{
	static const struct {
		const char *what;
		uint8_t table[8];
		size_t len;
	} cases[] = {
		{ "continuation byte 'x'", { 0xc3, 'x', 0xff, 'B', 0xff }, 5 },
		{ "second continuation byte missing", { 0xe2, 0x82, 'A', 0xff, 'B', 0xff }, 6 },
		{ "stray continuation byte", { 0x80, 0xff, 'B', 0xff }, 4 },
		{ "0xf8 lead byte", { 'A', 0xff, 0xf8, 0x80, 0x80, 0x80, 0xff }, 7 },
		{ "character cut by the end", { 'A', 0xff, 'B', 0xf0, 0x9f, 0x98 }, 6 },
	};
	static const uint8_t fine[] = { 0xc3, 0xa9, 'A', 0xff, 0xf0, 0x9f, 0x98, 0x80, 0xff };
	struct font f;
	uint8_t *p;
	size_t len;

	(void)state;
	p = make_psf(2, 8, 8, fine, sizeof(fine), &len);
	assert_int_equal(font_load(&f, p, len), 0);
	assert_int_equal(f.ascii['A'], 0);
	free(p);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = make_psf(2, 8, 8, cases[i].table, cases[i].len, &len);
		expect_refused(p, len, cases[i].what);
		free(p);
	}
}

static void test_every_truncation_refused(void **state)
{
	struct font f;
	int saved;

	(void)state;
	saved = quiet();
	for (size_t len = 0; len < aurid_font_psf_len; len++) {
		/* A copy of exactly len bytes, so ASan sees any read past it. */
		uint8_t *p = malloc(len ? len : 1);
		int r;

		assert_non_null(p);
		memcpy(p, aurid_font_psf, len);
		r = font_load(&f, p, len);
		free(p);
		if (r != -EINVAL) {
			loud(saved);
			fail_msg("the font cut to %zu of %zu bytes was accepted (%d)", len, aurid_font_psf_len, r);
		}
	}
	loud(saved);
}

static void test_random_mutations(void **state)
{
	const size_t len = aurid_font_psf_len;
	uint8_t *p = malloc(len);
	unsigned ok = 0;
	int saved;

	(void)state;
	assert_non_null(p);
	srand(11);
	saved = quiet();
	for (int i = 0; i < 3000; i++) {
		struct font f;
		int r;

		memcpy(p, aurid_font_psf, len);
		for (int k = 1 + rand() % 4; k > 0; k--) {
			/* Mostly the header and the table, where sizes live. */
			size_t at = rand() % 2 ? (size_t)rand() % 32 : len - 1 - (size_t)rand() % 4096;

			p[at] = (uint8_t)rand();
		}
		r = font_load(&f, p, len);
		if (r == 0) {
			ok++;
			assert_true(f.glyphs >= p);
			assert_true(f.glyphs + (size_t)f.nglyphs * f.bytes_per_glyph <= p + len);
			for (unsigned c = 0; c < 128; c++)
				assert_true(f.ascii[c] < f.nglyphs);
		} else {
			assert_int_equal(r, -EINVAL);
		}
	}
	loud(saved);
	print_message("%u of 3000 mutated fonts still parsed (glyph changes)\n", ok);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_font),
		cmocka_unit_test(test_draw_scaled),
		cmocka_unit_test(test_draw_text),
		cmocka_unit_test(test_font_without_table),
		cmocka_unit_test(test_font_with_table),
		cmocka_unit_test(test_corrupt_fonts),
		cmocka_unit_test(test_bad_utf8_tables),
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_random_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
