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
	const uint8_t *glyphs;
	unsigned nglyphs;
	unsigned width, height;       /* pixels */
	unsigned bytes_per_glyph;
	/* Unicode table: code point -> glyph index for ASCII at least. */
	uint16_t ascii[128];
};

/* Parses a PSF2 font in memory (the embedded one: font_load_default). */
int font_load(struct font *f, const uint8_t *data, size_t len);
int font_load_default(struct font *f);
/* Draws text (ASCII; others as '?') with its top-left at x,y. */
void font_draw(const struct font *f, struct fb *fb, int x, int y, unsigned scale, const char *text,
	       uint32_t fg, uint32_t bg);
unsigned font_text_width(const struct font *f, unsigned scale, const char *text);

#endif
