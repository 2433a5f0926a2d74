/*
 * The consent prompt as the user sees it: drawn only inside its rectangle,
 * opaque, holding exactly the text it should (counted in glyph pixels of each
 * colour), OK left and Cancel right, scaled to the screen, and gone without a
 * trace when it closes, on the sim framebuffer and on 16 bpp, after redraws
 * and page flips.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hal/prompt.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct fb_format XRGB8888 = { 32, { 16, 8 }, { 8, 8 }, { 0, 8 }, { 0, 0 } };
static const struct fb_format RGB565 = { 16, { 11, 5 }, { 5, 6 }, { 0, 5 }, { 0, 0 } };

static struct font font;

static int group_setup(void **state)
{
	(void)state;
	return font_load_default(&font);
}

/* ---- helpers ---- */

static struct fb *memfb(const struct fb_format *f, unsigned w, unsigned h, unsigned pad, unsigned pages)
{
	struct fb *fb = calloc(1, sizeof(*fb));

	assert_non_null(fb);
	fb->fd = -1;
	fb->width = w;
	fb->height = h;
	fb->line_length = w * (f->bpp / 8) + pad;
	fb->map_len = (size_t)fb->line_length * h * pages;
	fb->map = malloc(fb->map_len);
	assert_non_null(fb->map);
	memset(fb->map, 0, fb->map_len);
	fb->fmt = *f;
	assert_int_equal(fb_validate(fb), 0);
	return fb;
}

static void memfb_free(struct fb *fb)
{
	free(fb->map);
	free(fb);
}

static uint32_t get(const struct fb *fb, int x, int y)
{
	return fb_pixel_to_rgb(&fb->fmt, fb->map + ((size_t)fb->yoffset + (unsigned)y) * fb->line_length +
						 (size_t)x * (fb->fmt.bpp / 8));
}

/* rgb as this framebuffer shows it. */
static uint32_t shown(const struct fb *fb, uint32_t rgb)
{
	uint8_t px[4];

	fb_rgb_to_pixel(&fb->fmt, rgb, px);
	return fb_pixel_to_rgb(&fb->fmt, px);
}

/* Every byte of the mapping with a pattern (padding and other pages too). */
static void fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 2654435761u) >> 13 ^ seed);
}

/* Set pixels of text in the font, as drawn at scale 1. */
static unsigned font_bits(const struct font *f, const char *text)
{
	unsigned n = 0;

	for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
		const uint8_t *g = font_glyph(f, *s);

		for (unsigned y = 0; y < f->height; y++)
			for (unsigned x = 0; x < f->width; x++)
				n += (g[y * ((f->width + 7) / 8) + x / 8] >> (7 - x % 8)) & 1;
	}
	return n;
}

static unsigned text_bits(const char *text)
{
	return font_bits(&font, text);
}

static bool in_rect(int x, int y, int rx, int ry, int rw, int rh)
{
	return x >= rx && x < rx + rw && y >= ry && y < ry + rh;
}

/* Are the mapping's bytes outside the rectangle (on the visible page) the
 * same as in before? */
static void assert_same_outside(const struct fb *fb, const uint8_t *before, int rx, int ry, int rw, int rh)
{
	const unsigned bpp = fb->fmt.bpp / 8;

	for (size_t off = 0; off < fb->map_len; off++) {
		size_t row = off / fb->line_length, col = off % fb->line_length;
		bool inside = row >= fb->yoffset && row < (size_t)fb->yoffset + fb->height && col < fb->width * bpp &&
			      in_rect((int)(col / bpp), (int)(row - fb->yoffset), rx, ry, rw, rh);

		if (!inside && fb->map[off] != before[off])
			fail_msg("byte %zu (row %zu, byte %zu of the row) outside the prompt changed", off, row, col);
	}
}

struct counts {
	unsigned box, border, title, source, keybar;
	unsigned title_left, title_right;       /* title colour in the key bar, left / right half */
	unsigned source_min_x, source_max_x;
};

/* Checks that every pixel of the rectangle is a prompt colour and counts them. */
static struct counts count_colours(const struct fb *fb, int rx, int ry, int rw, int rh)
{
	struct counts c = { .source_min_x = ~0u };
	const uint32_t box = shown(fb, PROMPT_BOX_RGB), border = shown(fb, PROMPT_BORDER_RGB),
		       title = shown(fb, PROMPT_TITLE_RGB), source = shown(fb, PROMPT_SOURCE_RGB),
		       keybar = shown(fb, PROMPT_KEYBAR_RGB);

	for (int y = ry; y < ry + rh; y++) {
		bool bar_row = false;
		unsigned left = 0, right = 0;

		for (int x = rx; x < rx + rw; x++) {
			uint32_t v = get(fb, x, y);

			if (v == box) {
				c.box++;
			} else if (v == border) {
				c.border++;
			} else if (v == title) {
				c.title++;
				if (x < rx + rw / 2)
					left++;
				else
					right++;
			} else if (v == source) {
				c.source++;
				if ((unsigned)x < c.source_min_x)
					c.source_min_x = (unsigned)x;
				if ((unsigned)x > c.source_max_x)
					c.source_max_x = (unsigned)x;
			} else if (v == keybar) {
				c.keybar++;
				bar_row = true;
			} else {
				fail_msg("pixel %d,%d in the prompt is %06x, not a prompt colour", x, y, v);
			}
		}
		if (bar_row) {
			c.title_left += left;
			c.title_right += right;
		}
	}
	return c;
}

/*
 * Shows the prompt on fb (whatever it holds), checks it, compares it with
 * the same prompt drawn on a blank framebuffer of the same geometry (the
 * golden rendering: the prompt must not depend on what was under it), hides
 * it and checks the screen is byte-for-byte what it was.
 */
static void check_prompt(struct fb *fb, const char *source, unsigned scale, const char *source_line)
{
	uint8_t *before = malloc(fb->map_len);
	struct fb *golden;
	struct prompt *p, *gp;
	struct counts c;
	int x, y, w, h, gx, gy, gw, gh;
	const unsigned s2 = scale * scale;

	assert_non_null(before);
	memcpy(before, fb->map, fb->map_len);
	assert_int_equal(prompt_show(fb, &font, source, &p), 0);
	assert_non_null(p);
	prompt_rect(p, &x, &y, &w, &h);

	/* Centred, about 80% wide, on the screen. */
	assert_true(x >= 0 && y >= 0 && x + w <= (int)fb->width && y + h <= (int)fb->height);
	assert_true(abs(x - ((int)fb->width - x - w)) <= 1);
	assert_true(abs(y - ((int)fb->height - y - h)) <= 1);
	assert_true(w >= (int)fb->width * 3 / 4 && w <= (int)fb->width * 85 / 100);
	assert_same_outside(fb, before, x, y, w, h);

	/* The text, pixel for pixel: the title and the soft-key labels in
	 * one colour, the source line in another, OK on the left of the key
	 * bar and Cancel on the right. */
	c = count_colours(fb, x, y, w, h);
	assert_int_equal(c.title, s2 * (text_bits("Allow remote control?") + text_bits("OK") + text_bits("Cancel")));
	assert_int_equal(c.source, s2 * text_bits(source_line));
	assert_int_equal(c.title_left, s2 * text_bits("OK"));
	assert_int_equal(c.title_right, s2 * text_bits("Cancel"));
	assert_true(c.box > 0 && c.keybar > 0);
	/* The frame: the outline is border all round. */
	for (int i = 0; i < w; i++) {
		assert_int_equal(get(fb, x + i, y), shown(fb, PROMPT_BORDER_RGB));
		assert_int_equal(get(fb, x + i, y + h - 1), shown(fb, PROMPT_BORDER_RGB));
	}
	for (int i = 0; i < h; i++) {
		assert_int_equal(get(fb, x, y + i), shown(fb, PROMPT_BORDER_RGB));
		assert_int_equal(get(fb, x + w - 1, y + i), shown(fb, PROMPT_BORDER_RGB));
	}
	/* The source line stays inside the frame. */
	if (c.source)
		assert_true(c.source_min_x > (unsigned)x + 2 * scale && c.source_max_x < (unsigned)(x + w) - 2 * scale);

	/* The golden rendering. */
	golden = memfb(&fb->fmt, fb->width, fb->height, fb->line_length - fb->width * (fb->fmt.bpp / 8), 1);
	assert_int_equal(prompt_show(golden, &font, source, &gp), 0);
	prompt_rect(gp, &gx, &gy, &gw, &gh);
	assert_int_equal(gx, x);
	assert_int_equal(gy, y);
	assert_int_equal(gw, w);
	assert_int_equal(gh, h);
	for (int r = 0; r < h; r++)
		assert_memory_equal(golden->map + (size_t)(y + r) * golden->line_length + (size_t)x * (fb->fmt.bpp / 8),
				    fb->map + ((size_t)fb->yoffset + (size_t)(y + r)) * fb->line_length +
					    (size_t)x * (fb->fmt.bpp / 8),
				    (size_t)w * (fb->fmt.bpp / 8));
	prompt_hide(gp);
	memfb_free(golden);

	prompt_hide(p);
	assert_memory_equal(fb->map, before, fb->map_len);
	free(before);
}

/* ---- sim framebuffer ---- */

struct sim_fixture {
	char dir[64];
	char raw[128];
};

static int sim_setup(void **state)
{
	struct sim_fixture *f = calloc(1, sizeof(*f));
	char sim[96];

	if (!f)
		return -1;
	if (tu_tmpdir(f->dir, sizeof(f->dir), "prompt")) {
		free(f);
		return -1;
	}
	snprintf(sim, sizeof(sim), "%s/sim", f->dir);
	snprintf(f->raw, sizeof(f->raw), "%s/fb.raw", sim);
	if (mkdir(sim, 0755) < 0) {
		free(f);
		return -1;
	}
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

/* fb.raw pre-filled with a pattern by "a test outside", then opened. */
static struct fb *open_prefilled(struct sim_fixture *f, unsigned w, unsigned h, uint8_t **pattern)
{
	size_t len = (size_t)w * h * 4;
	uint8_t *p = malloc(len);
	struct fb *fb;
	int fd;

	assert_non_null(p);
	fill_pattern(p, len, 0x5a);
	fd = open(f->raw, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
	assert_int_equal(fb_open_sim(f->dir, w, h, &fb), 0);
	assert_memory_equal(fb->map, p, len);
	*pattern = p;
	return fb;
}

static void check_file(const char *path, const uint8_t *want, size_t len)
{
	uint8_t *got = malloc(len + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_non_null(got);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, got, len + 1), (ssize_t)len);
	close(fd);
	assert_memory_equal(got, want, len);
	free(got);
}

static void test_sim_480x272(void **state)
{
	struct sim_fixture *f = *state;
	uint8_t *pattern;
	struct fb *fb = open_prefilled(f, 480, 272, &pattern);

	check_prompt(fb, "192.0.2.10", 1, "From 192.0.2.10");
	/* What a test outside reads: the screen as it was. */
	check_file(f->raw, pattern, 480 * 272 * 4);
	fb_close(fb);
	free(pattern);
}

static void test_sim_1280x800(void **state)
{
	struct sim_fixture *f = *state;
	uint8_t *pattern;
	struct fb *fb = open_prefilled(f, 1280, 800, &pattern);

	check_prompt(fb, "fd00::1", 2, "From fd00::1");
	check_file(f->raw, pattern, 1280 * 800 * 4);
	fb_close(fb);
	free(pattern);
}

static void test_sim_file_shows_prompt(void **state)
{
	struct sim_fixture *f = *state;
	uint8_t *pattern, *shown_bytes;
	struct fb *fb = open_prefilled(f, 480, 272, &pattern);
	struct prompt *p;
	int x, y, w, h, fd;
	size_t len = 480 * 272 * 4;

	/* After prompt_show the file itself holds the prompt (flushed). */
	assert_int_equal(prompt_show(fb, &font, "10.1.2.3", &p), 0);
	prompt_rect(p, &x, &y, &w, &h);
	shown_bytes = malloc(len);
	assert_non_null(shown_bytes);
	fd = open(f->raw, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, shown_bytes, len), (ssize_t)len);
	close(fd);
	assert_memory_equal(shown_bytes, fb->map, len);
	assert_memory_not_equal(shown_bytes + ((size_t)(y + h / 2) * 480 + (size_t)x) * 4,
				pattern + ((size_t)(y + h / 2) * 480 + (size_t)x) * 4, (size_t)w * 4);
	prompt_hide(p);
	check_file(f->raw, pattern, len);
	free(shown_bytes);
	free(pattern);
	fb_close(fb);
}

/* ---- other depths and sizes ---- */

static void test_16bpp(void **state)
{
	struct fb *fb = memfb(&RGB565, 480, 272, 12, 1);

	(void)state;
	fill_pattern(fb->map, fb->map_len, 0x33);
	check_prompt(fb, "198.51.100.7", 1, "From 198.51.100.7");
	memfb_free(fb);

	fb = memfb(&RGB565, 1280, 800, 0, 1);
	fill_pattern(fb->map, fb->map_len, 0x44);
	check_prompt(fb, "198.51.100.7", 2, "From 198.51.100.7");
	memfb_free(fb);
}

static void test_other_sizes(void **state)
{
	static const struct {
		unsigned w, h, scale;
	} sizes[] = {
		{ 320, 240, 1 }, { 480, 800, 1 }, { 800, 480, 1 }, { 1024, 600, 2 }, { 1920, 1080, 3 },
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct fb *fb = memfb(&XRGB8888, sizes[i].w, sizes[i].h, 0, 1);

		fill_pattern(fb->map, fb->map_len, i);
		check_prompt(fb, "203.0.113.200", sizes[i].scale, "From 203.0.113.200");
		memfb_free(fb);
	}
}

static void test_source_cut_and_sanitised(void **state)
{
	const char *src = "fd00:1234:5678:9abc:def0:1234:5678:9abc%a-very-long-interface-name";
	char full[128], line[128];
	struct fb *fb = memfb(&XRGB8888, 480, 272, 0, 1);
	struct prompt *p;
	int x, y, w, h;
	unsigned n, found = 0;

	(void)state;
	/* Control characters and UTF-8 are shown as '?'. */
	fill_pattern(fb->map, fb->map_len, 1);
	check_prompt(fb, "10.0.0.1\n\x1b[2J\xc3\xa9", 1, "From 10.0.0.1??[2J?");

	/* Too long: cut, ending in "...", inside the box.  The line must be
	 * some prefix of "From <src>" plus "..." that fits the box; which
	 * prefix is the layout's business. */
	assert_int_equal(prompt_show(fb, &font, src, &p), 0);
	prompt_rect(p, &x, &y, &w, &h);
	{
		struct counts c = count_colours(fb, x, y, w, h);

		snprintf(full, sizeof(full), "From %s", src);
		for (n = 3; n < strlen(full); n++) {
			snprintf(line, sizeof(line), "%.*s...", (int)(n - 3), full);
			if (text_bits(line) == c.source && font_text_width(&font, 1, line) <= (unsigned)w) {
				found = n;
				break;
			}
		}
		assert_true(found > 10);
		assert_true(c.source_max_x < (unsigned)(x + w));
	}
	prompt_hide(p);

	/* NULL source: an empty address, still a prompt. */
	fill_pattern(fb->map, fb->map_len, 2);
	check_prompt(fb, NULL, 1, "From ");
	memfb_free(fb);
}

static void test_small_screens(void **state)
{
	struct fb *fb;
	struct prompt *p = (struct prompt *)1;
	int x, y, w, h;

	(void)state;
	/* Too small for any prompt: refused, nothing drawn. */
	fb = memfb(&XRGB8888, 64, 32, 0, 1);
	assert_int_equal(prompt_show(fb, &font, "10.0.0.1", &p), -ENOSPC);
	assert_null(p);
	for (size_t i = 0; i < fb->map_len; i++)
		assert_int_equal(fb->map[i], 0);
	memfb_free(fb);

	/* Narrow: the title is cut, the soft keys still fit. */
	fb = memfb(&XRGB8888, 200, 120, 0, 1);
	assert_int_equal(prompt_show(fb, &font, "10.0.0.1", &p), 0);
	prompt_rect(p, &x, &y, &w, &h);
	assert_true(x >= 0 && y >= 0 && x + w <= 200 && y + h <= 120);
	{
		struct counts c = count_colours(fb, x, y, w, h);

		assert_int_equal(c.title_left, text_bits("OK"));
		assert_int_equal(c.title_right, text_bits("Cancel"));
	}
	prompt_hide(p);
	for (size_t i = 0; i < fb->map_len; i++)
		assert_int_equal(fb->map[i], 0);
	memfb_free(fb);
	prompt_hide(NULL);
}

/* A font so wide that the title does not fit the box at the screen's scale:
 * the prompt takes a smaller scale rather than cutting the title. */
static void test_scale_chosen_by_fit(void **state)
{
	static uint8_t glyphs[128][16 * 4];
	struct font wide = { .glyphs = &glyphs[0][0], .nglyphs = 128, .width = 32, .height = 16,
			     .bytes_per_glyph = 16 * 4 };
	struct fb *fb = memfb(&XRGB8888, 1280, 800, 0, 1);
	struct prompt *p;
	struct counts c;
	int x, y, w, h;

	(void)state;
	for (unsigned i = 0; i < 128; i++) {
		wide.ascii[i] = (uint16_t)i;
		for (unsigned k = 0; k < sizeof(glyphs[i]); k++)
			glyphs[i][k] = (uint8_t)(i * 7 + k * 3);
	}
	assert_int_equal(prompt_show(fb, &wide, "10.0.0.1", &p), 0);
	prompt_rect(p, &x, &y, &w, &h);
	c = count_colours(fb, x, y, w, h);
	/* Scale 1, and the whole title. */
	assert_int_equal(c.title, font_bits(&wide, "Allow remote control?") + font_bits(&wide, "OK") +
					  font_bits(&wide, "Cancel"));
	assert_int_equal(c.source, font_bits(&wide, "From 10.0.0.1"));
	prompt_hide(p);
	memfb_free(fb);
}

/* ---- redraw ---- */

static void test_redraw_over_ui(void **state)
{
	struct fb *fb = memfb(&XRGB8888, 480, 272, 8, 1);
	uint8_t *before = malloc(fb->map_len), *drawn = malloc(fb->map_len);
	struct prompt *p;
	int x, y, w, h;

	(void)state;
	assert_non_null(before);
	assert_non_null(drawn);
	fill_pattern(fb->map, fb->map_len, 9);
	memcpy(before, fb->map, fb->map_len);
	assert_int_equal(prompt_show(fb, &font, "192.0.2.1", &p), 0);
	prompt_rect(p, &x, &y, &w, &h);
	memcpy(drawn, fb->map, fb->map_len);

	/* The phone's UI draws across the prompt and beside it. */
	fb_fill(fb, 0, y + 5, 480, 30, 0x00ff00);
	prompt_redraw(p);
	for (int r = 0; r < 272; r++) {
		const uint8_t *got = fb->map + (size_t)r * fb->line_length, *want = drawn + (size_t)r * fb->line_length;

		if (r >= y && r < y + h) {
			assert_memory_equal(got + (size_t)x * 4, want + (size_t)x * 4, (size_t)w * 4);
			/* The UI's drawing beside the box stays. */
			if (r >= y + 5 && r < y + 35) {
				assert_int_equal(get(fb, 0, r), 0x00ff00);
				assert_int_equal(get(fb, 479, r), 0x00ff00);
			}
		} else {
			assert_memory_equal(got, want, fb->line_length);
		}
	}
	/* Redrawing twice changes nothing. */
	memcpy(drawn, fb->map, fb->map_len);
	prompt_redraw(p);
	assert_memory_equal(fb->map, drawn, fb->map_len);

	/* Closing puts back what was under the box when it opened; the UI's
	 * drawing outside the box is the UI's. */
	prompt_hide(p);
	for (int r = 0; r < 272; r++) {
		const uint8_t *got = fb->map + (size_t)r * fb->line_length;
		const uint8_t *orig = before + (size_t)r * fb->line_length;

		if (r >= y + 5 && r < y + 35) {
			assert_memory_equal(got + (size_t)x * 4, orig + (size_t)x * 4, (size_t)w * 4);
			assert_int_equal(get(fb, 0, r), 0x00ff00);
		} else {
			assert_memory_equal(got, orig, fb->line_length);
		}
	}
	free(before);
	free(drawn);
	memfb_free(fb);
}

static void test_redraw_after_page_flip(void **state)
{
	struct fb *fb = memfb(&XRGB8888, 480, 272, 0, 2);
	uint8_t *before = malloc(fb->map_len);
	struct prompt *p;
	int x, y, w, h;
	const size_t page = (size_t)fb->line_length * 272;

	(void)state;
	assert_non_null(before);
	fill_pattern(fb->map, fb->map_len, 3);
	memcpy(before, fb->map, fb->map_len);
	assert_int_equal(prompt_show(fb, &font, "192.0.2.1", &p), 0);
	prompt_rect(p, &x, &y, &w, &h);
	/* Page 1 untouched so far. */
	assert_memory_equal(fb->map + page, before + page, page);

	/* The UI flips to page 1 (a memory framebuffer has no driver to ask:
	 * set it as fb_refresh would). */
	fb->yoffset = 272;
	prompt_redraw(p);
	assert_memory_not_equal(fb->map + page, before + page, page);
	for (int r = y; r < y + h; r++)
		assert_memory_equal(fb->map + page + (size_t)r * fb->line_length + (size_t)x * 4,
				    fb->map + (size_t)r * fb->line_length + (size_t)x * 4, (size_t)w * 4);
	/* Back and forth: no further saves needed, still one prompt a page. */
	fb->yoffset = 0;
	prompt_redraw(p);
	fb->yoffset = 272;
	prompt_redraw(p);

	prompt_hide(p);
	assert_memory_equal(fb->map, before, fb->map_len);
	free(before);
	memfb_free(fb);
}

/* ---- cost ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_draw_cost(void **state)
{
	static const unsigned sizes[][2] = { { 480, 272 }, { 1280, 800 } };

	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		struct fb *fb = memfb(&XRGB8888, sizes[i][0], sizes[i][1], 0, 1);
		struct prompt *p;
		double t, best_show = 1, best_redraw = 1;

		for (int k = 0; k < 20; k++) {
			t = now();
			assert_int_equal(prompt_show(fb, &font, "192.0.2.10", &p), 0);
			t = now() - t;
			if (t < best_show)
				best_show = t;
			t = now();
			prompt_redraw(p);
			t = now() - t;
			if (t < best_redraw)
				best_redraw = t;
			prompt_hide(p);
		}
		print_message("prompt %ux%u: show %.3f ms, redraw %.3f ms (memory framebuffer, no flush)\n",
			      sizes[i][0], sizes[i][1], best_show * 1e3, best_redraw * 1e3);
		memfb_free(fb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sim_480x272, sim_setup, sim_teardown),
		cmocka_unit_test_setup_teardown(test_sim_1280x800, sim_setup, sim_teardown),
		cmocka_unit_test_setup_teardown(test_sim_file_shows_prompt, sim_setup, sim_teardown),
		cmocka_unit_test(test_16bpp),
		cmocka_unit_test(test_other_sizes),
		cmocka_unit_test(test_source_cut_and_sanitised),
		cmocka_unit_test(test_small_screens),
		cmocka_unit_test(test_scale_chosen_by_fit),
		cmocka_unit_test(test_redraw_over_ui),
		cmocka_unit_test(test_redraw_after_page_flip),
		cmocka_unit_test(test_draw_cost),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
