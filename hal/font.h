/*
 * PSF2 console font (Debian console-setup-linux, embedded at build time: see
 * AURID_FONT in CMakeLists.txt) and text drawing on the framebuffer, scaled
 * by a whole factor so the prompt is readable on small and large screens.
 */
#ifndef AURID_FONT_H
#define AURID_FONT_H

#include "fb.h"

#include <stddef.h>
#include <stdint.h>

struct font {
	const uint8_t *glyphs;        /* points into the font data, which must outlive the font */
	unsigned nglyphs;
	unsigned width, height;       /* pixels */
	unsigned bytes_per_glyph;     /* height rows of ceil(width/8) bytes, MSB = leftmost pixel */
	/* ASCII -> glyph index, from the Unicode table (or glyph i = code i
	 * without one); a character the font lacks maps to '?', or glyph 0. */
	uint16_t ascii[128];
};

/* Parses a PSF2 font in memory; every size is checked against len.  0 or
 * -EINVAL (logged).  The font keeps pointing into data. */
int font_load(struct font *f, const uint8_t *data, size_t len);
/* The embedded font (services/common/embedded.h aurid_font_psf). */
int font_load_default(struct font *f);
/* The bitmap drawn for byte c (c >= 128 and control characters: '?'). */
const uint8_t *font_glyph(const struct font *f, unsigned char c);
/*
 * Draws text with its top-left at x,y, each font pixel a scale x scale block
 * (scale 0 is taken as 1), set pixels in fg and the others in bg, clipped to
 * the screen.  Printable ASCII is drawn as is; a control character or a UTF-8
 * sequence (any byte >= 0x80 and the continuation bytes after it) is one '?'.
 */
void font_draw(const struct font *f, struct fb *fb, int x, int y, unsigned scale, const char *text,
	       uint32_t fg, uint32_t bg);
/* The width font_draw covers for text: characters (as counted above) * width * scale. */
unsigned font_text_width(const struct font *f, unsigned scale, const char *text);

#endif
