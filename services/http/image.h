/*
 * Screenshot encoders: an XRGB8888 frame (0x00RRGGBB words, little-endian)
 * to BMP (32 bpp BI_RGB, bottom-up: the rows copied, the X byte cleared), PNG
 * (libspng, RGB, fast zlib level) and JPEG (TurboJPEG, quality 85, 4:2:0).
 * Pure functions, safe on libuv's worker threads.
 */
#ifndef AURID_IMAGE_H
#define AURID_IMAGE_H

#include <stddef.h>
#include <stdint.h>

enum image_format { IMAGE_BMP = 1, IMAGE_PNG = 2, IMAGE_JPEG = 3 };

/*
 * The bytes a width x height frame with this stride spans (the last row needs
 * only width*4): how large the caller's mapping must be.  -EINVAL unless
 * 1 <= width, height <= 8192, stride >= width*4 and the size fits a size_t.
 */
int image_frame_len(unsigned width, unsigned height, size_t stride, size_t *len);
/*
 * stride: bytes per row of the frame (>= width*4); the frame must span
 * image_frame_len() bytes.  *out is malloc'ed (release with free()), *len its
 * size; on failure *out is NULL.  0, -EINVAL (bad format or geometry),
 * -ENOMEM, or -EIO (the PNG or JPEG library failed).
 */
int image_encode(enum image_format fmt, const uint8_t *frame, unsigned width, unsigned height, size_t stride,
		 uint8_t **out, size_t *len);
/* "image/bmp", "image/png", "image/jpeg"; NULL for a value not in the enum. */
const char *image_mime(enum image_format fmt);
/* "bmp", "png", "jpg" (no dot); NULL for a value not in the enum. */
const char *image_ext(enum image_format fmt);
/* "png", "jpeg"/"jpg", "bmp" (case-insensitive) -> format; -EINVAL otherwise. */
int image_format_parse(const char *name, enum image_format *fmt);

#endif
