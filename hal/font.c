/*
 * PSF2 fonts and text drawing.  The font is embedded at build time, but it is
 * parsed as if it came from anywhere: a size that does not fit the buffer is
 * an error, never a read past it.
 */
#include "font.h"

#include "../services/common/embedded.h"
#include "../services/common/log.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#define PSF2_HEADER_LEN 32
#define PSF2_HAS_UNICODE_TABLE 0x01
#define PSF2_SEPARATOR 0xff     /* ends a glyph's entries in the Unicode table */
#define PSF2_STARTSEQ 0xfe      /* what follows (up to the separator) are sequences */

/* Bounds that keep every product below in range; real console fonts are at
 * most 32x64. */
#define FONT_MAX_WIDTH 64
#define FONT_MAX_HEIGHT 128
#define FONT_MAX_GLYPHS 65536
/* Beyond this a glyph is larger than any screen aurid drives. */
#define FONT_MAX_SCALE 64

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Walks the Unicode table: for each glyph, UTF-8 characters, then optionally
 * PSF2_STARTSEQ and sequences, then PSF2_SEPARATOR.  Only single characters
 * below 128 are kept (the first glyph claiming one wins); everything is
 * checked so a malformed table is refused rather than half-used.
 */
static int parse_unicode(struct font *f, const uint8_t *p, const uint8_t *end, bool mapped[128])
{
	for (unsigned g = 0; g < f->nglyphs; g++) {
		bool seq = false;

		for (;;) {
			unsigned b, more;

			if (p == end) {
				log_err("font: Unicode table ends inside glyph %u's entry", g);
				return -EINVAL;
			}
			b = *p++;
			if (b == PSF2_SEPARATOR)
				break;
			if (b == PSF2_STARTSEQ) {
				seq = true;
				continue;
			}
			if (b < 0x80)
				more = 0;
			else if ((b & 0xe0) == 0xc0)
				more = 1;
			else if ((b & 0xf0) == 0xe0)
				more = 2;
			else if ((b & 0xf8) == 0xf0)
				more = 3;
			else {
				log_err("font: bad UTF-8 byte 0x%02x in the Unicode table (glyph %u)", b, g);
				return -EINVAL;
			}
			if ((size_t)(end - p) < more) {
				log_err("font: Unicode table ends inside a character (glyph %u)", g);
				return -EINVAL;
			}
			for (unsigned i = 0; i < more; i++) {
				if ((p[i] & 0xc0) != 0x80) {
					log_err("font: bad UTF-8 sequence in the Unicode table (glyph %u)", g);
					return -EINVAL;
				}
			}
			p += more;
			if (!seq && more == 0 && !mapped[b]) {
				f->ascii[b] = (uint16_t)g;
				mapped[b] = true;
			}
		}
	}
	return 0;
}

int font_load(struct font *f, const uint8_t *data, size_t len)
{
	static const uint8_t magic[4] = { 0x72, 0xb5, 0x4a, 0x86 };
	uint32_t version, headersize, flags, length, charsize, height, width;
	uint64_t glyph_end;
	bool mapped[128] = { false };
	int r;

	memset(f, 0, sizeof(*f));
	if (!data || len < PSF2_HEADER_LEN || memcmp(data, magic, sizeof(magic)) != 0) {
		log_err("font: not a PSF2 font (%zu bytes)", len);
		return -EINVAL;
	}
	version = le32(data + 4);
	headersize = le32(data + 8);
	flags = le32(data + 12);
	length = le32(data + 16);
	charsize = le32(data + 20);
	height = le32(data + 24);
	width = le32(data + 28);
	if (version != 0 || headersize < PSF2_HEADER_LEN || headersize > len) {
		log_err("font: PSF2 version %u, header of %u bytes in %zu: unsupported", version, headersize, len);
		return -EINVAL;
	}
	if (width == 0 || width > FONT_MAX_WIDTH || height == 0 || height > FONT_MAX_HEIGHT ||
	    charsize != height * ((width + 7) / 8) || length == 0 || length > FONT_MAX_GLYPHS) {
		log_err("font: unsupported PSF2 geometry: %u glyphs of %ux%u, %u bytes each",
			length, width, height, charsize);
		return -EINVAL;
	}
	glyph_end = (uint64_t)headersize + (uint64_t)length * charsize;
	if (glyph_end > len) {
		log_err("font: %u glyphs of %u bytes do not fit the %zu-byte font", length, charsize, len);
		return -EINVAL;
	}
	f->glyphs = data + headersize;
	f->nglyphs = length;
	f->width = width;
	f->height = height;
	f->bytes_per_glyph = charsize;

	if (flags & PSF2_HAS_UNICODE_TABLE) {
		r = parse_unicode(f, data + glyph_end, data + len, mapped);
		if (r) {
			memset(f, 0, sizeof(*f));
			return r;
		}
	} else {
		for (unsigned c = 0; c < 128 && c < length; c++) {
			f->ascii[c] = (uint16_t)c;
			mapped[c] = true;
		}
	}
	for (unsigned c = 0; c < 128; c++) {
		if (!mapped[c])
			f->ascii[c] = mapped['?'] ? f->ascii['?'] : 0;
	}
	return 0;
}

int font_load_default(struct font *f)
{
	return font_load(f, aurid_font_psf, aurid_font_psf_len);
}

/* The next character font_draw shows for the text at *s: printable ASCII as
 * is, anything else as '?' (a UTF-8 sequence, lead byte and continuation
 * bytes, counting once). */
static unsigned char next_char(const unsigned char **s)
{
	unsigned char c = *(*s)++;

	if (c >= 0x80) {
		while ((**s & 0xc0) == 0x80)
			(*s)++;
		return '?';
	}
	return c < 0x20 || c == 0x7f ? '?' : c;
}

const uint8_t *font_glyph(const struct font *f, unsigned char c)
{
	if (c >= 0x80 || c < 0x20 || c == 0x7f)
		c = '?';
	return f->glyphs + (size_t)f->ascii[c] * f->bytes_per_glyph;
}

static bool glyph_bit(const uint8_t *row, unsigned col)
{
	return row[col / 8] & (0x80 >> (col % 8));
}

unsigned font_text_width(const struct font *f, unsigned scale, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	unsigned long long w = 0;

	if (scale == 0)
		scale = 1;
	if (scale > FONT_MAX_SCALE)
		scale = FONT_MAX_SCALE;
	while (*s) {
		next_char(&s);
		w += (unsigned long long)f->width * scale;
		if (w > UINT_MAX)
			return UINT_MAX;
	}
	return (unsigned)w;
}

/*
 * Each glyph row is drawn as runs of equal pixels, one fb_fill per run (a
 * scale x scale block per font pixel, scale rows at once): a 10-pixel row is
 * a few fills, and a whole prompt's text a few thousand, well under a
 * millisecond.
 */
void font_draw(const struct font *f, struct fb *fb, int x, int y, unsigned scale, const char *text,
	       uint32_t fg, uint32_t bg)
{
	const unsigned char *s = (const unsigned char *)text;
	const unsigned row_bytes = (f->width + 7) / 8;
	long long cx = x, cw;

	if (scale == 0)
		scale = 1;
	if (scale > FONT_MAX_SCALE)
		scale = FONT_MAX_SCALE;
	cw = (long long)f->width * scale;
	if ((long long)y >= fb->height || (long long)y + (long long)f->height * scale <= 0)
		return;
	while (*s && cx < (long long)fb->width) {
		unsigned char c = next_char(&s);
		const uint8_t *g = font_glyph(f, c);

		if (cx + cw > 0) {
			for (unsigned row = 0; row < f->height; row++) {
				const uint8_t *bits = g + (size_t)row * row_bytes;
				long long ry = (long long)y + (long long)row * scale;

				if (ry + scale <= 0 || ry >= fb->height)
					continue;
				for (unsigned col = 0; col < f->width;) {
					bool on = glyph_bit(bits, col);
					unsigned run = 1;

					while (col + run < f->width && glyph_bit(bits, col + run) == on)
						run++;
					/* In range: cx and ry are on the screen or
					 * at most one glyph off it. */
					fb_fill(fb, (int)(cx + (long long)col * scale), (int)ry, (int)(run * scale),
						(int)scale, on ? fg : bg);
					col += run;
				}
			}
		}
		cx += cw;
	}
}
