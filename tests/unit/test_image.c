/*
 * image: screenshot encoders.  Each format is decoded back and compared with
 * the frame it came from: BMP by hand (every header field, bottom-up rows),
 * PNG with libspng's decoder, JPEG with TurboJPEG's decompressor within a
 * stated error.  The frames have stride padding and garbage in the X byte,
 * both of which must never reach the image.
 */
#include "services/http/image.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <spng.h>
#include <turbojpeg.h>

#define PAD_BYTE 0xa5

/*
 * JPEG q85 4:2:0 against the smooth frame below (gradients and a gentle
 * triangle wave): measured with libjpeg-turbo 2.1.5 on x86-64, mean absolute
 * error R 1.03, G 0.70, B 1.62 and maximum 5, 4, 10 (B carries the triangle
 * wave's corners, which the subsampled chroma blurs).  The accurate DCT gives
 * 1.01, 0.64, 1.62 / 5, 3, 10.  The bounds leave room for another build or
 * SIMD path and still fail on swapped channels, a flipped image or a wrong
 * stride (errors of tens); a shift is checked separately.
 */
#define JPEG_MEAN_ERR_MAX 3.0
#define JPEG_MAX_ERR_MAX  24

struct frame {
	uint8_t *px;
	unsigned w, h;
	size_t stride;
};

static uint32_t ui_pixel(unsigned x, unsigned y, unsigned w, unsigned h)
{
	uint32_t r, g, b;

	/* A few single pixels: corners and the centre. */
	if (x == 0 && y == 0)
		return 0xff0000;
	if (x == w - 1 && y == 0)
		return 0x00ff00;
	if (x == 0 && y == h - 1)
		return 0x0000ff;
	if (x == w - 1 && y == h - 1)
		return 0xffffff;
	if (x == w / 2 && y == h / 2)
		return 0x123456;
	/* Two solid blocks, like a title bar and a button. */
	if (y >= 2 && y < 5)
		return 0x2060a0;
	if (x >= w / 4 && x < w / 2 && y >= h / 4 && y < h / 2)
		return 0xf0e0d0;
	/* Gradients elsewhere: R across, G down, B diagonal. */
	r = w > 1 ? x * 255 / (w - 1) : 0;
	g = h > 1 ? y * 255 / (h - 1) : 0;
	b = w + h > 2 ? (x + y) * 255 / (w + h - 2) : 0;
	return r << 16 | g << 8 | b;
}

static uint32_t smooth_pixel(unsigned x, unsigned y, unsigned w, unsigned h)
{
	uint32_t r = x * 255 / (w - 1);
	uint32_t g = y * 255 / (h - 1);
	uint32_t t = (x + 2 * y) % 80;
	uint32_t b = 98 + (t < 40 ? t : 80 - t) * 3 / 2;   /* a gentle triangle wave */

	return r << 16 | g << 8 | b;
}

/* stride = w*4 + pad; padding bytes hold PAD_BYTE, the X byte holds xbyte. */
static struct frame make_frame(unsigned w, unsigned h, size_t pad, uint8_t xbyte,
			       uint32_t (*pixel)(unsigned, unsigned, unsigned, unsigned))
{
	struct frame f = { .w = w, .h = h, .stride = (size_t)w * 4 + pad };

	f.px = malloc(f.stride * h);
	assert_non_null(f.px);
	memset(f.px, PAD_BYTE, f.stride * h);
	for (unsigned y = 0; y < h; y++) {
		for (unsigned x = 0; x < w; x++) {
			uint32_t v = pixel(x, y, w, h);
			uint8_t *p = f.px + y * f.stride + (size_t)x * 4;

			p[0] = (uint8_t)v;          /* B */
			p[1] = (uint8_t)(v >> 8);   /* G */
			p[2] = (uint8_t)(v >> 16);  /* R */
			p[3] = xbyte;
		}
	}
	return f;
}

/* The frame's R, G, B at (x, y), read back from its bytes. */
static void frame_rgb(const struct frame *f, unsigned x, unsigned y, uint8_t rgb[3])
{
	const uint8_t *p = f->px + y * f->stride + (size_t)x * 4;

	rgb[0] = p[2];
	rgb[1] = p[1];
	rgb[2] = p[0];
}

static uint32_t le16(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static void check_bmp(const struct frame *f, const uint8_t *b, size_t len)
{
	size_t row = (size_t)f->w * 4;

	assert_int_equal(len, 54 + row * f->h);
	/* BITMAPFILEHEADER */
	assert_memory_equal(b, "BM", 2);
	assert_int_equal(le32(b + 2), len);
	assert_int_equal(le32(b + 6), 0);
	assert_int_equal(le32(b + 10), 54);
	/* BITMAPINFOHEADER */
	assert_int_equal(le32(b + 14), 40);
	assert_int_equal(le32(b + 18), f->w);
	assert_int_equal((int32_t)le32(b + 22), (int32_t)f->h);   /* positive: bottom-up */
	assert_int_equal(le16(b + 26), 1);
	assert_int_equal(le16(b + 28), 32);
	assert_int_equal(le32(b + 30), 0);   /* BI_RGB */
	assert_int_equal(le32(b + 34), row * f->h);
	assert_int_equal(le32(b + 38), 2835);
	assert_int_equal(le32(b + 42), 2835);
	assert_int_equal(le32(b + 46), 0);
	assert_int_equal(le32(b + 50), 0);
	/* File row r is screen row h-1-r; pixels B, G, R, 0. */
	for (unsigned r = 0; r < f->h; r++) {
		unsigned y = f->h - 1 - r;

		for (unsigned x = 0; x < f->w; x++) {
			const uint8_t *p = b + 54 + r * row + (size_t)x * 4;
			uint8_t rgb[3];

			frame_rgb(f, x, y, rgb);
			if (p[0] != rgb[2] || p[1] != rgb[1] || p[2] != rgb[0] || p[3] != 0)
				fail_msg("BMP pixel (%u,%u): %02x%02x%02x%02x, want %02x%02x%02x00", x, y,
					 p[0], p[1], p[2], p[3], rgb[2], rgb[1], rgb[0]);
		}
	}
}

/* Walks the chunks: signature, IHDR first with our geometry, the first
 * IDAT's zlib header, IEND last and nothing after it. */
static void check_png_chunks(const struct frame *f, const uint8_t *b, size_t len)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t off = 8;
	int n = 0, idat = 0, iend = 0;

	assert_true(len > 8 + 25 + 12);
	assert_memory_equal(b, sig, 8);
	assert_int_equal(be32(b + 8), 13);
	assert_memory_equal(b + 12, "IHDR", 4);
	assert_int_equal(be32(b + 16), f->w);
	assert_int_equal(be32(b + 20), f->h);
	assert_int_equal(b[24], 8);    /* bit depth */
	assert_int_equal(b[25], 2);    /* truecolour RGB */
	assert_int_equal(b[26], 0);
	assert_int_equal(b[27], 0);
	assert_int_equal(b[28], 0);    /* not interlaced */
	while (off < len) {
		uint32_t clen;

		assert_true(len - off >= 12);
		clen = be32(b + off);
		assert_true(clen <= len - off - 12);
		assert_false(iend);
		if (memcmp(b + off + 4, "IDAT", 4) == 0 && idat++ == 0) {
			const uint8_t *z = b + off + 8;

			/* zlib: deflate, 32 KiB window, FLEVEL 0 = "fastest"
			 * (levels 0-1): the level-1 option reached zlib. */
			assert_true(clen >= 2);
			assert_int_equal(z[0], 0x78);
			assert_int_equal(z[1] >> 6, 0);
			assert_int_equal((z[0] << 8 | z[1]) % 31, 0);
		}
		if (memcmp(b + off + 4, "IEND", 4) == 0) {
			assert_int_equal(clen, 0);
			iend = 1;
		}
		off += 12 + clen;
		n++;
	}
	assert_int_equal(off, len);
	assert_true(idat >= 1);
	assert_true(iend);
	assert_true(n >= 3);
}

static void check_png(const struct frame *f, const uint8_t *b, size_t len)
{
	struct spng_ihdr ihdr;
	spng_ctx *ctx;
	uint8_t *rgb;
	size_t size;

	check_png_chunks(f, b, len);
	ctx = spng_ctx_new(0);
	assert_non_null(ctx);
	assert_int_equal(spng_set_png_buffer(ctx, b, len), 0);
	assert_int_equal(spng_get_ihdr(ctx, &ihdr), 0);
	assert_int_equal(ihdr.width, f->w);
	assert_int_equal(ihdr.height, f->h);
	assert_int_equal(spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &size), 0);
	assert_int_equal(size, (size_t)f->w * f->h * 3);
	rgb = malloc(size);
	assert_non_null(rgb);
	assert_int_equal(spng_decode_image(ctx, rgb, size, SPNG_FMT_RGB8, 0), 0);
	for (unsigned y = 0; y < f->h; y++) {
		for (unsigned x = 0; x < f->w; x++) {
			const uint8_t *p = rgb + ((size_t)y * f->w + x) * 3;
			uint8_t want[3];

			frame_rgb(f, x, y, want);
			if (memcmp(p, want, 3) != 0)
				fail_msg("PNG pixel (%u,%u): %02x%02x%02x, want %02x%02x%02x", x, y,
					 p[0], p[1], p[2], want[0], want[1], want[2]);
		}
	}
	free(rgb);
	spng_ctx_free(ctx);
}

struct jpeg_err {
	double mean[3];
	int max[3];
};

/* Error per channel of the decoded pixel (x, y) against the frame's
 * (x + dx, y + dy), over the pixels where both exist. */
static struct jpeg_err jpeg_error(const struct frame *f, const uint8_t *rgb, int dx, int dy)
{
	struct jpeg_err e = { { 0 }, { 0 } };
	uint64_t sum[3] = { 0 }, n = 0;

	for (unsigned y = 0; y < f->h; y++) {
		for (unsigned x = 0; x < f->w; x++) {
			const uint8_t *p = rgb + ((size_t)y * f->w + x) * 3;
			long fx = (long)x + dx, fy = (long)y + dy;
			uint8_t want[3];

			if (fx < 0 || fy < 0 || fx >= (long)f->w || fy >= (long)f->h)
				continue;
			frame_rgb(f, (unsigned)fx, (unsigned)fy, want);
			for (int c = 0; c < 3; c++) {
				int d = abs((int)p[c] - (int)want[c]);

				sum[c] += (uint64_t)d;
				if (d > e.max[c])
					e.max[c] = d;
			}
			n++;
		}
	}
	for (int c = 0; c < 3; c++)
		e.mean[c] = n ? (double)sum[c] / (double)n : 0;
	return e;
}

/* Checks the markers and header, decodes with TurboJPEG to RGB (malloc'ed). */
static uint8_t *decode_jpeg(const struct frame *f, const uint8_t *b, size_t len)
{
	int w, h, subsamp, cs;
	tjhandle tj;
	uint8_t *rgb;

	assert_true(len > 4);
	assert_int_equal(b[0], 0xff);
	assert_int_equal(b[1], 0xd8);   /* SOI */
	assert_int_equal(b[2], 0xff);
	assert_int_equal(b[len - 2], 0xff);
	assert_int_equal(b[len - 1], 0xd9);   /* EOI */
	tj = tjInitDecompress();
	assert_non_null(tj);
	assert_int_equal(tjDecompressHeader3(tj, b, len, &w, &h, &subsamp, &cs), 0);
	assert_int_equal(w, f->w);
	assert_int_equal(h, f->h);
	assert_int_equal(subsamp, TJSAMP_420);
	assert_int_equal(cs, TJCS_YCbCr);
	rgb = malloc((size_t)w * h * 3);
	assert_non_null(rgb);
	assert_int_equal(tjDecompress2(tj, b, len, rgb, w, 0, h, TJPF_RGB, 0), 0);
	tjDestroy(tj);
	return rgb;
}

static struct jpeg_err check_jpeg(const struct frame *f, const uint8_t *b, size_t len)
{
	uint8_t *rgb = decode_jpeg(f, b, len);
	struct jpeg_err e = jpeg_error(f, rgb, 0, 0);

	free(rgb);
	return e;
}

static void encode_ok(enum image_format fmt, const struct frame *f, uint8_t **out, size_t *len)
{
	assert_int_equal(image_encode(fmt, f->px, f->w, f->h, f->stride, out, len), 0);
	assert_non_null(*out);
	assert_true(*len > 0);
}

static void test_bmp_round_trip(void **state)
{
	/* Odd sizes, 12 bytes of stride padding, garbage in X. */
	struct frame f = make_frame(37, 23, 12, 0x5a, ui_pixel);
	uint8_t *out;
	size_t len;

	(void)state;
	encode_ok(IMAGE_BMP, &f, &out, &len);
	check_bmp(&f, out, len);
	free(out);
	free(f.px);
}

static void test_png_round_trip(void **state)
{
	struct frame f = make_frame(37, 23, 12, 0x5a, ui_pixel);
	uint8_t *out;
	size_t len;

	(void)state;
	encode_ok(IMAGE_PNG, &f, &out, &len);
	check_png(&f, out, len);
	free(out);
	free(f.px);
}

static void test_jpeg_smooth_within_error(void **state)
{
	/* 150x94: neither side a multiple of the 16-pixel MCU. */
	struct frame f = make_frame(150, 94, 20, 0xc3, smooth_pixel);
	struct jpeg_err e, ex, ey;
	uint8_t *out, *rgb;
	size_t len;

	(void)state;
	encode_ok(IMAGE_JPEG, &f, &out, &len);
	rgb = decode_jpeg(&f, out, len);
	e = jpeg_error(&f, rgb, 0, 0);
	print_message("JPEG q85 smooth 150x94: mean error R %.2f G %.2f B %.2f, max %d %d %d\n",
		      e.mean[0], e.mean[1], e.mean[2], e.max[0], e.max[1], e.max[2]);
	for (int c = 0; c < 3; c++) {
		if (e.mean[c] >= JPEG_MEAN_ERR_MAX || e.max[c] > JPEG_MAX_ERR_MAX)
			fail_msg("JPEG channel %d: mean error %.2f, max %d", c, e.mean[c], e.max[c]);
	}
	/* The bounds alone would let a one-pixel shift through (the gradients
	 * move ~2 levels a pixel): the picture must match its own place better
	 * than the place one column or one row away. */
	ex = jpeg_error(&f, rgb, 1, 0);
	ey = jpeg_error(&f, rgb, 0, 1);
	print_message("  against the frame one column off: %.2f %.2f %.2f, one row off: %.2f %.2f %.2f\n",
		      ex.mean[0], ex.mean[1], ex.mean[2], ey.mean[0], ey.mean[1], ey.mean[2]);
	assert_true(e.mean[0] + e.mean[1] + e.mean[2] + 0.5 < ex.mean[0] + ex.mean[1] + ex.mean[2]);
	assert_true(e.mean[0] + e.mean[1] + e.mean[2] + 0.5 < ey.mean[0] + ey.mean[1] + ey.mean[2]);
	free(rgb);
	free(out);
	free(f.px);
}

static void test_jpeg_ui_frame_decodes(void **state)
{
	/* Hard edges and single pixels: no error bound that means much, but the
	 * geometry and markers must hold and the picture must be the same one. */
	struct frame f = make_frame(37, 23, 12, 0x5a, ui_pixel);
	struct jpeg_err e;
	uint8_t *out;
	size_t len;

	(void)state;
	encode_ok(IMAGE_JPEG, &f, &out, &len);
	e = check_jpeg(&f, out, len);
	for (int c = 0; c < 3; c++)
		assert_true(e.mean[c] < 12.0);
	free(out);
	free(f.px);
}

/* The X byte and the stride padding never reach the output: the same
 * picture gives the same bytes, whatever the driver left there. */
static void test_x_byte_and_padding_ignored(void **state)
{
	struct frame a = make_frame(40, 30, 0, 0x00, ui_pixel);
	struct frame b = make_frame(40, 30, 36, 0xff, ui_pixel);

	(void)state;
	for (int fmt = IMAGE_BMP; fmt <= IMAGE_JPEG; fmt++) {
		uint8_t *oa, *ob;
		size_t la, lb;

		encode_ok(fmt, &a, &oa, &la);
		encode_ok(fmt, &b, &ob, &lb);
		assert_int_equal(la, lb);
		assert_memory_equal(oa, ob, la);
		free(oa);
		free(ob);
	}
	free(a.px);
	free(b.px);
}

static void test_one_pixel_and_limits(void **state)
{
	static const unsigned dims[][2] = { { 1, 1 }, { 8192, 1 }, { 1, 8192 }, { 17, 9 } };

	(void)state;
	for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		struct frame f = make_frame(dims[i][0], dims[i][1], 4, 0x11, ui_pixel);
		uint8_t *out;
		size_t len;

		encode_ok(IMAGE_BMP, &f, &out, &len);
		check_bmp(&f, out, len);
		free(out);
		encode_ok(IMAGE_PNG, &f, &out, &len);
		check_png(&f, out, len);
		free(out);
		encode_ok(IMAGE_JPEG, &f, &out, &len);
		check_jpeg(&f, out, len);
		free(out);
		free(f.px);
	}
}

static void expect_einval(enum image_format fmt, const uint8_t *px, unsigned w, unsigned h, size_t stride)
{
	uint8_t *out = (uint8_t *)"x";
	size_t len = 99;

	assert_int_equal(image_encode(fmt, px, w, h, stride, &out, &len), -EINVAL);
	assert_null(out);
	assert_int_equal(len, 0);
}

static void test_bad_arguments_refused(void **state)
{
	static uint8_t px[64];
	uint8_t *out;
	size_t len, flen;

	(void)state;
	for (int fmt = IMAGE_BMP; fmt <= IMAGE_JPEG; fmt++) {
		expect_einval(fmt, NULL, 2, 2, 8);
		expect_einval(fmt, px, 0, 2, 8);
		expect_einval(fmt, px, 2, 0, 8);
		expect_einval(fmt, px, 8193, 1, 8193 * 4);
		expect_einval(fmt, px, 1, 8193, 4);
		expect_einval(fmt, px, 2, 2, 7);                    /* stride < width*4 */
		expect_einval(fmt, px, 2, 2, 0);
		expect_einval(fmt, px, 2, 3, SIZE_MAX / 2);         /* frame size overflows */
		expect_einval(fmt, px, 8192, 8192, SIZE_MAX / 8000);
		assert_int_equal(image_encode(fmt, px, 2, 2, 8, NULL, &len), -EINVAL);
		assert_int_equal(image_encode(fmt, px, 2, 2, 8, &out, NULL), -EINVAL);
	}
	expect_einval(0, px, 2, 2, 8);
	expect_einval(4, px, 2, 2, 8);
	/* A stride TurboJPEG cannot take as an int, on a one-row frame that
	 * would otherwise be valid (only width*4 bytes of it are read). */
	expect_einval(IMAGE_JPEG, px, 2, 1, (size_t)INT32_MAX + 1);

	assert_int_equal(image_frame_len(2, 3, 12, &flen), 0);
	assert_int_equal(flen, 12 * 2 + 8);
	assert_int_equal(image_frame_len(8192, 8192, 8192 * 4, &flen), 0);
	assert_int_equal(flen, (size_t)8192 * 8192 * 4);
	assert_int_equal(image_frame_len(2, 3, 7, &flen), -EINVAL);
	assert_int_equal(image_frame_len(2, 3, 8, NULL), -EINVAL);
}

static void test_names(void **state)
{
	static const struct {
		const char *name;
		enum image_format fmt;
	} ok[] = {
		{ "bmp", IMAGE_BMP }, { "BMP", IMAGE_BMP }, { "png", IMAGE_PNG }, { "Png", IMAGE_PNG },
		{ "jpeg", IMAGE_JPEG }, { "JPEG", IMAGE_JPEG }, { "jpg", IMAGE_JPEG }, { "jPg", IMAGE_JPEG },
	};
	static const char *bad[] = { "", "gif", "jpe", "jpgg", "bmp ", " png", "image/png", ".png", "pn" };
	enum image_format fmt;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		fmt = 0;
		assert_int_equal(image_format_parse(ok[i].name, &fmt), 0);
		assert_int_equal(fmt, ok[i].fmt);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fmt = 77;
		assert_int_equal(image_format_parse(bad[i], &fmt), -EINVAL);
		assert_int_equal(fmt, 77);
	}
	assert_int_equal(image_format_parse(NULL, &fmt), -EINVAL);
	assert_int_equal(image_format_parse("png", NULL), -EINVAL);

	assert_string_equal(image_mime(IMAGE_BMP), "image/bmp");
	assert_string_equal(image_mime(IMAGE_PNG), "image/png");
	assert_string_equal(image_mime(IMAGE_JPEG), "image/jpeg");
	assert_string_equal(image_ext(IMAGE_BMP), "bmp");
	assert_string_equal(image_ext(IMAGE_PNG), "png");
	assert_string_equal(image_ext(IMAGE_JPEG), "jpg");
	assert_null(image_mime(0));
	assert_null(image_ext(9));
}

/* Several workers encoding at once give the bytes one alone gives: the
 * encoders share no state (run under ASan/UBSan too). */
#define WORKERS 4
#define ROUNDS  8

struct worker {
	const struct frame *f;
	const uint8_t *ref[3];
	size_t ref_len[3];
	int mismatches;
};

static void *worker_run(void *arg)
{
	struct worker *wk = arg;

	for (int i = 0; i < ROUNDS; i++) {
		for (int fmt = IMAGE_BMP; fmt <= IMAGE_JPEG; fmt++) {
			uint8_t *out;
			size_t len;

			if (image_encode(fmt, wk->f->px, wk->f->w, wk->f->h, wk->f->stride, &out, &len) != 0 ||
			    len != wk->ref_len[fmt - 1] || memcmp(out, wk->ref[fmt - 1], len) != 0)
				wk->mismatches++;
			free(out);
		}
	}
	return NULL;
}

static void test_concurrent_encoders_agree(void **state)
{
	struct frame f = make_frame(200, 120, 8, 0x5a, smooth_pixel);
	struct worker wk[WORKERS];
	pthread_t t[WORKERS];
	uint8_t *ref[3];
	size_t ref_len[3];

	(void)state;
	for (int fmt = IMAGE_BMP; fmt <= IMAGE_JPEG; fmt++)
		encode_ok(fmt, &f, &ref[fmt - 1], &ref_len[fmt - 1]);
	for (int i = 0; i < WORKERS; i++) {
		wk[i] = (struct worker){ .f = &f };
		for (int k = 0; k < 3; k++) {
			wk[i].ref[k] = ref[k];
			wk[i].ref_len[k] = ref_len[k];
		}
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &wk[i]), 0);
	}
	for (int i = 0; i < WORKERS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(wk[i].mismatches, 0);
	}
	for (int k = 0; k < 3; k++)
		free(ref[k]);
	free(f.px);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bmp_round_trip),
		cmocka_unit_test(test_png_round_trip),
		cmocka_unit_test(test_jpeg_smooth_within_error),
		cmocka_unit_test(test_jpeg_ui_frame_decodes),
		cmocka_unit_test(test_x_byte_and_padding_ignored),
		cmocka_unit_test(test_one_pixel_and_limits),
		cmocka_unit_test(test_bad_arguments_refused),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_concurrent_encoders_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
