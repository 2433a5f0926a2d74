/*
 * Screenshot encoders.  The frame is XRGB8888: each pixel a little-endian
 * 32-bit 0x00RRGGBB word, so its bytes are B, G, R, X, rows `stride` bytes
 * apart, top row first.
 *
 * These run on libuv's worker pool, several at once: every call owns all of
 * its state (no static mutable data, one libspng context and one TurboJPEG
 * handle per call), and every size is checked before anything is allocated.
 * Library failures become -EIO, allocation failures -ENOMEM.
 */
#include "image.h"

#include <errno.h>
#include <limits.h>
#include <spng.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <turbojpeg.h>

#define IMAGE_DIM_MAX 8192u

/* BITMAPFILEHEADER (14 bytes) + BITMAPINFOHEADER (40 bytes). */
#define BMP_FILE_HDR  14u
#define BMP_INFO_HDR  40u
#define BMP_HDR       (BMP_FILE_HDR + BMP_INFO_HDR)
#define BMP_PX_PER_M  2835u   /* 72 dpi, the customary value */

/*
 * PNG speed is set by two knobs, measured on a 1280x800 frame with libspng
 * 0.7.3 (ImageMagick, for scale: 46 ms and 159 ms, bench/screenshot):
 *
 *                          UI-like frame       noisy frame
 *   level 6, all filters   45 ms   10.8 KB    142 ms  3.08 MB
 *   level 1, all filters   42 ms   44.8 KB    122 ms  3.08 MB
 *   level 1, SUB only      12 ms   47.2 KB     73 ms  3.08 MB   <- ours
 *   level 1, no filter      9 ms    114 KB     71 ms  3.08 MB
 *
 * zlib level 1 ("fastest") is what makes deflate cheap; but with libspng's
 * default adaptive filtering (five filters tried per row, scalar) the filter
 * pass then costs more than deflate itself.  SUB alone keeps nearly all of
 * the gain on screens (long horizontal runs become zeros) at a quarter of
 * the time.  A screenshot is fetched once and thrown away: latency over bytes.
 */
#define PNG_ZLIB_LEVEL 1
#define PNG_FILTER     SPNG_FILTER_CHOICE_SUB

/*
 * Quality 85 with 4:2:0 chroma, the common web setting: UI text stays
 * readable.  No DCT flag: TurboJPEG's compressor already uses the fast
 * integer DCT unless TJFLAG_ACCURATEDCT is given (TJFLAG_FASTDCT gave the
 * same bytes here).  The accurate DCT measured the same time within noise
 * and a mean error lower by only ~0.03 levels: not worth a choice.
 */
#define JPEG_QUALITY 85

int image_frame_len(unsigned width, unsigned height, size_t stride, size_t *len)
{
	if (!len || width < 1 || width > IMAGE_DIM_MAX || height < 1 || height > IMAGE_DIM_MAX)
		return -EINVAL;
	if (stride < (size_t)width * 4)
		return -EINVAL;
	/* The last row needs only width*4 bytes, not a whole stride. */
	if (stride > (SIZE_MAX - (size_t)width * 4) / height)
		return -EINVAL;
	*len = stride * (height - 1) + (size_t)width * 4;
	return 0;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * The pixel bytes B,G,R,X are already BMP's 32-bpp BI_RGB layout, so each
 * row is a copy; only the row order flips (positive height = bottom-up).
 * The X byte is cleared rather than copied: some fbdev drivers leave alpha
 * or garbage there, and two identical-looking screens should give the same
 * file.
 *
 * The mask is written with 16-byte vectors (a GCC/clang extension, lowered
 * to SSE2 or NEON) because GCC 12 at -O2 leaves the plain per-pixel loop
 * scalar: that measured 3.3x a memcpy on a 480x272 frame, this ~1.0x.
 */
static void bmp_copy_row(uint8_t *restrict dst, const uint8_t *restrict src, unsigned width)
{
	const uint32_t mask __attribute__((vector_size(16))) = { 0xffffff, 0xffffff, 0xffffff, 0xffffff };
	unsigned x = 0;

	for (; x + 8 <= width; x += 8) {
		uint32_t a __attribute__((vector_size(16)));
		uint32_t b __attribute__((vector_size(16)));

		memcpy(&a, src + (size_t)x * 4, 16);
		memcpy(&b, src + (size_t)x * 4 + 16, 16);
		a &= mask;
		b &= mask;
		memcpy(dst + (size_t)x * 4, &a, 16);
		memcpy(dst + (size_t)x * 4 + 16, &b, 16);
	}
	for (; x < width; x++) {
		uint32_t v;

		memcpy(&v, src + (size_t)x * 4, 4);
		v &= UINT32_C(0x00ffffff);
		memcpy(dst + (size_t)x * 4, &v, 4);
	}
}

static int encode_bmp(const uint8_t *frame, unsigned width, unsigned height, size_t stride,
		      uint8_t **out, size_t *len)
{
	size_t row = (size_t)width * 4;
	/* At most 8192*8192*4 + 54 bytes: fits the 32-bit size fields. */
	size_t pixels = row * height;
	size_t total = BMP_HDR + pixels;
	uint8_t *buf, *h;

	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	h = buf;
	/* BITMAPFILEHEADER */
	h[0] = 'B';
	h[1] = 'M';
	put_le32(h + 2, (uint32_t)total);
	put_le32(h + 6, 0);                      /* reserved */
	put_le32(h + 10, BMP_HDR);               /* offset of the pixels */
	/* BITMAPINFOHEADER */
	h += BMP_FILE_HDR;
	put_le32(h + 0, BMP_INFO_HDR);
	put_le32(h + 4, width);
	put_le32(h + 8, height);                 /* positive: bottom-up rows */
	put_le16(h + 12, 1);                     /* planes */
	put_le16(h + 14, 32);                    /* bits per pixel */
	put_le32(h + 16, 0);                     /* BI_RGB */
	put_le32(h + 20, (uint32_t)pixels);
	put_le32(h + 24, BMP_PX_PER_M);
	put_le32(h + 28, BMP_PX_PER_M);
	put_le32(h + 32, 0);                     /* colours used */
	put_le32(h + 36, 0);                     /* important colours */

	for (unsigned y = 0; y < height; y++)
		bmp_copy_row(buf + BMP_HDR + (size_t)(height - 1 - y) * row, frame + (size_t)y * stride, width);
	*out = buf;
	*len = total;
	return 0;
}

static int spng_errno(int err)
{
	return err == SPNG_EMEM ? -ENOMEM : -EIO;
}

/*
 * Row by row (SPNG_ENCODE_PROGRESSIVE): only one RGB row is converted at a
 * time, so the extra memory is one row, not a second copy of the frame.
 */
static int encode_png(const uint8_t *frame, unsigned width, unsigned height, size_t stride,
		      uint8_t **out, size_t *len)
{
	struct spng_ihdr ihdr = {
		.width = width,
		.height = height,
		.bit_depth = 8,
		.color_type = SPNG_COLOR_TYPE_TRUECOLOR,
	};
	size_t row_len = (size_t)width * 3;
	spng_ctx *ctx;
	uint8_t *row;
	void *png;
	int r;

	row = malloc(row_len);
	ctx = spng_ctx_new(SPNG_CTX_ENCODER);
	if (!row || !ctx) {
		r = -ENOMEM;
		goto out;
	}
	r = spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
	if (!r)
		r = spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, PNG_ZLIB_LEVEL);
	if (!r)
		r = spng_set_option(ctx, SPNG_FILTER_CHOICE, PNG_FILTER);
	if (!r)
		r = spng_set_ihdr(ctx, &ihdr);
	if (!r)
		r = spng_encode_image(ctx, NULL, 0, SPNG_FMT_PNG, SPNG_ENCODE_PROGRESSIVE | SPNG_ENCODE_FINALIZE);
	if (r) {
		r = spng_errno(r);
		goto out;
	}
	for (unsigned y = 0; y < height; y++) {
		const uint8_t *s = frame + (size_t)y * stride;

		for (unsigned x = 0; x < width; x++) {
			row[3 * x + 0] = s[4 * x + 2];
			row[3 * x + 1] = s[4 * x + 1];
			row[3 * x + 2] = s[4 * x + 0];
		}
		r = spng_encode_row(ctx, row, row_len);
		/* The last row answers SPNG_EOI once the PNG is finalized. */
		if (r == SPNG_EOI && y == height - 1)
			r = 0;
		if (r) {
			r = spng_errno(r);
			goto out;
		}
	}
	png = spng_get_png_buffer(ctx, len, &r);
	if (!png) {
		r = spng_errno(r ? r : SPNG_EMEM);
		goto out;
	}
	/* libspng allocated it with malloc (no custom allocator): ours now. */
	*out = png;
	r = 0;
out:
	spng_ctx_free(ctx);
	free(row);
	return r;
}

/*
 * TJPF_BGRX names the bytes in memory order, which is exactly the frame's.
 * TurboJPEG grows its own output buffer; the result is copied into a plain
 * malloc'ed one so that every format is released with free().  The copy is
 * of the compressed bytes only, small beside the compression itself.
 */
static int encode_jpeg(const uint8_t *frame, unsigned width, unsigned height, size_t stride,
		       uint8_t **out, size_t *len)
{
	unsigned char *jpeg = NULL;
	unsigned long jpeg_len = 0;
	tjhandle tj;
	uint8_t *buf;
	int r;

	/* TurboJPEG takes the pitch as an int. */
	if (stride > INT_MAX)
		return -EINVAL;
	tj = tjInitCompress();
	if (!tj)
		return -ENOMEM;
	r = tjCompress2(tj, frame, (int)width, (int)stride, (int)height, TJPF_BGRX, &jpeg, &jpeg_len,
			TJSAMP_420, JPEG_QUALITY, 0);
	if (r || !jpeg || jpeg_len == 0) {
		r = -EIO;
		goto out;
	}
	buf = malloc(jpeg_len);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(buf, jpeg, jpeg_len);
	*out = buf;
	*len = jpeg_len;
	r = 0;
out:
	tjFree(jpeg);
	tjDestroy(tj);
	return r;
}

int image_encode(enum image_format fmt, const uint8_t *frame, unsigned width, unsigned height, size_t stride,
		 uint8_t **out, size_t *len)
{
	size_t frame_len;
	int r;

	if (!out || !len)
		return -EINVAL;
	*out = NULL;
	*len = 0;
	if (!frame)
		return -EINVAL;
	r = image_frame_len(width, height, stride, &frame_len);
	if (r)
		return r;
	switch (fmt) {
	case IMAGE_BMP: return encode_bmp(frame, width, height, stride, out, len);
	case IMAGE_PNG: return encode_png(frame, width, height, stride, out, len);
	case IMAGE_JPEG: return encode_jpeg(frame, width, height, stride, out, len);
	}
	return -EINVAL;
}

const char *image_mime(enum image_format fmt)
{
	switch (fmt) {
	case IMAGE_BMP: return "image/bmp";
	case IMAGE_PNG: return "image/png";
	case IMAGE_JPEG: return "image/jpeg";
	}
	return NULL;
}

const char *image_ext(enum image_format fmt)
{
	switch (fmt) {
	case IMAGE_BMP: return "bmp";
	case IMAGE_PNG: return "png";
	case IMAGE_JPEG: return "jpg";
	}
	return NULL;
}

int image_format_parse(const char *name, enum image_format *fmt)
{
	static const struct {
		const char *name;
		enum image_format fmt;
	} names[] = {
		{ "bmp", IMAGE_BMP },
		{ "png", IMAGE_PNG },
		{ "jpeg", IMAGE_JPEG },
		{ "jpg", IMAGE_JPEG },
	};

	if (!name || !fmt)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(name, names[i].name) == 0) {
			*fmt = names[i].fmt;
			return 0;
		}
	}
	return -EINVAL;
}
