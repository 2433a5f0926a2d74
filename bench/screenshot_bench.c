/*
 * The timing half of bench/screenshot (which builds and runs this, and times
 * ImageMagick beside it).  For one geometry and one kind of frame:
 *
 *   screenshot_bench WIDTH HEIGHT flat|noisy RUNS RAW_OUT
 *
 * writes the frame to RAW_OUT as B,G,R,A bytes with A = 0xff (what
 * ImageMagick's bgra: reader takes; opaque, so it may write plain RGB), then
 * prints one line per measurement:
 *
 *   NAME MEDIAN_MS MIN_MS BYTES
 *
 * memcpy is the limit: malloc + memcpy of the frame + free, the same
 * allocation an encoder pays for its output.  memcpy-warm copies into a
 * buffer reused across runs (no page faults), for reference.
 */
#include "services/http/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS_MAX 1000

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *name, double *t, int runs, size_t bytes)
{
	qsort(t, (size_t)runs, sizeof(*t), cmp_double);
	printf("%s %.4f %.4f %zu\n", name, t[runs / 2], t[0], bytes);
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * A phone's idle screen: flat background, a status bar with a gradient,
 * soft keys, and rows of "text" (small blocks of dark pixels in a glyph-like
 * rhythm).  Noisy: every pixel random, the worst case for PNG.
 */
static void fill(uint8_t *px, unsigned w, unsigned h, size_t stride, int noisy)
{
	uint32_t seed = 0x2545f491;

	for (unsigned y = 0; y < h; y++) {
		uint32_t *row = (uint32_t *)(px + y * stride);

		for (unsigned x = 0; x < w; x++) {
			uint32_t v;

			if (noisy) {
				v = xorshift(&seed) & 0xffffff;
			} else if (y < h / 12) {
				v = 0x203040 + ((x * 0x60 / w) << 16) + (y * 0x40 / (h / 12 + 1));
			} else if (y >= h - h / 8) {
				v = (x % (w / 4)) < 4 ? 0x808080 : 0x304050;
			} else {
				unsigned line = y % 24, col = x % 9;
				int ink = line >= 6 && line < 18 && col < 6 && ((x / 9 * 7 + y / 24 * 3 + line + col) % 5) < 3;

				v = ink ? 0x101010 : 0xf4f4f0;
			}
			row[x] = v;   /* X byte 0, as fbdev gives it */
		}
	}
}

static int write_raw(const char *path, const uint8_t *px, unsigned w, unsigned h, size_t stride)
{
	FILE *f = fopen(path, "wb");
	uint8_t *row = malloc((size_t)w * 4);
	int r = 0;

	if (!f || !row) {
		r = -errno;
		goto out;
	}
	for (unsigned y = 0; y < h && !r; y++) {
		memcpy(row, px + y * stride, (size_t)w * 4);
		for (unsigned x = 0; x < w; x++)
			row[x * 4 + 3] = 0xff;
		if (fwrite(row, 4, w, f) != w)
			r = -EIO;
	}
out:
	if (f && fclose(f) && !r)
		r = -EIO;
	free(row);
	return r;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		enum image_format fmt;
	} fmts[] = { { "bmp", IMAGE_BMP }, { "png", IMAGE_PNG }, { "jpeg", IMAGE_JPEG } };
	static double t[RUNS_MAX];
	unsigned w, h;
	int runs, noisy;
	size_t stride, len;
	uint8_t *px, *warm;

	if (argc != 6) {
		fprintf(stderr, "usage: %s WIDTH HEIGHT flat|noisy RUNS RAW_OUT\n", argv[0]);
		return 2;
	}
	w = (unsigned)strtoul(argv[1], NULL, 10);
	h = (unsigned)strtoul(argv[2], NULL, 10);
	noisy = strcmp(argv[3], "noisy") == 0;
	runs = atoi(argv[4]);
	if (w < 16 || w > 8192 || h < 16 || h > 8192 || runs < 1 || runs > RUNS_MAX) {
		fprintf(stderr, "bad geometry or run count\n");
		return 2;
	}
	stride = (size_t)w * 4;
	len = stride * h;
	px = malloc(len);
	warm = malloc(len);
	if (!px || !warm)
		return 1;
	fill(px, w, h, stride, noisy);
	if (write_raw(argv[5], px, w, h, stride)) {
		fprintf(stderr, "cannot write %s\n", argv[5]);
		return 1;
	}

	for (int i = 0; i < runs + 2; i++) {
		double t0 = now_ms();
		uint8_t *dst = malloc(len);

		if (!dst)
			return 1;
		memcpy(dst, px, len);
		/* Keep the copy from being optimised away. */
		__asm__ volatile("" : : "r"(dst) : "memory");
		free(dst);
		if (i >= 2)
			t[i - 2] = now_ms() - t0;
	}
	report("memcpy", t, runs, len);
	for (int i = 0; i < runs + 2; i++) {
		double t0 = now_ms();

		memcpy(warm, px, len);
		__asm__ volatile("" : : "r"(warm) : "memory");
		if (i >= 2)
			t[i - 2] = now_ms() - t0;
	}
	report("memcpy-warm", t, runs, len);

	for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		size_t bytes = 0;

		/* Two warm-up runs (page cache, lazy binding), then the timed ones. */
		for (int i = 0; i < runs + 2; i++) {
			double t0 = now_ms();
			uint8_t *out;
			int r = image_encode(fmts[f].fmt, px, w, h, stride, &out, &bytes);

			if (r) {
				fprintf(stderr, "%s: %s\n", fmts[f].name, strerror(-r));
				return 1;
			}
			free(out);
			if (i >= 2)
				t[i - 2] = now_ms() - t0;
		}
		report(fmts[f].name, t, runs, bytes);
	}
	free(warm);
	free(px);
	return 0;
}
