/*
 * Screenshot encoders: an XRGB8888 frame (0x00RRGGBB words, little-endian)
 * to BMP (32 bpp BI_RGB, bottom-up: the rows are copied as they are), PNG
 * (libspng, RGB, fast zlib level) and JPEG (TurboJPEG, quality 85, 4:2:0).
 * Pure functions, safe on libuv's worker threads.
 */
#ifndef AURID_IMAGE_H
#define AURID_IMAGE_H

#include <stddef.h>
#include <stdint.h>

enum image_format { IMAGE_BMP = 1, IMAGE_PNG = 2, IMAGE_JPEG = 3 };

/* stride: bytes per row of the frame (>= width*4).  *out is malloc'ed. */
int image_encode(enum image_format fmt, const uint8_t *frame, unsigned width, unsigned height, size_t stride,
		 uint8_t **out, size_t *len);
const char *image_mime(enum image_format fmt);
const char *image_ext(enum image_format fmt);
/* "png", "jpeg"/"jpg", "bmp" (case-insensitive) -> format; -EINVAL otherwise. */
int image_format_parse(const char *name, enum image_format *fmt);

#endif
