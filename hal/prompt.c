/*
 * The consent prompt: layout, drawing, and giving the screen back exactly as
 * it was.  Layout is computed once in prompt_show; a redraw only fills and
 * draws text, so it can run as often as the phone's UI draws over it.
 */
#include "prompt.h"

#include "../services/common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROMPT_TITLE "Allow remote control?"
#define PROMPT_FROM "From "
#define PROMPT_OK "OK"
#define PROMPT_CANCEL "Cancel"
/* A phone flips between two or three pages at most; more would be a UI
 * scrolling through its memory, which the prompt does not follow. */
#define PROMPT_MAX_PAGES 4
#define PROMPT_LINE_MAX 256

struct prompt {
	struct fb *fb;
	const struct font *font;
	int x, y, w, h;
	unsigned scale;
	int border, pad, line_h;
	/* The lines as drawn: sanitised and cut to the box. */
	char title[PROMPT_LINE_MAX];
	char source[PROMPT_LINE_MAX];
	/* What was under the box, per page drawn on (by yoffset). */
	struct fb_saved *saved[PROMPT_MAX_PAGES];
	unsigned saved_page[PROMPT_MAX_PAGES];
	unsigned nsaved;
};

/*
 * Copies prefix + text into dst as at most max_chars printable ASCII
 * characters: anything else becomes '?' (one per UTF-8 sequence, as
 * font_draw counts), and a line too long ends in "...".
 */
static void fit_line(char *dst, size_t dst_size, const char *prefix, const char *text, size_t max_chars)
{
	char tmp[PROMPT_LINE_MAX * 2];
	size_t n = 0, len;
	const unsigned char *s;

	if (max_chars > dst_size - 1)
		max_chars = dst_size - 1;
	for (int part = 0; part < 2; part++) {
		s = (const unsigned char *)(part ? text : prefix);
		while (*s && n < sizeof(tmp) - 1) {
			unsigned char c = *s++;

			if (c >= 0x80) {
				while ((*s & 0xc0) == 0x80)
					s++;
				c = '?';
			} else if (c < 0x20 || c == 0x7f) {
				c = '?';
			}
			tmp[n++] = (char)c;
		}
	}
	tmp[n] = '\0';
	len = n;
	if (len <= max_chars) {
		memcpy(dst, tmp, len + 1);
		return;
	}
	if (max_chars < 3) {
		memcpy(dst, "...", max_chars);
		dst[max_chars] = '\0';
		return;
	}
	memcpy(dst, tmp, max_chars - 3);
	memcpy(dst + max_chars - 3, "...", 4);
}

/* The box for scale s on a width x height screen; false if it does not fit
 * (at scale 1 the title may be cut, the soft keys must fit). */
static bool layout(struct prompt *p, unsigned width, unsigned height, unsigned s)
{
	const struct font *f = p->font;
	int lh = (int)(f->height * s), cw = (int)(f->width * s);
	int b = 2 * (int)s, pad = lh / 2;
	int w = (int)(width * 4 / 5), h = 2 * b + 3 * lh + 3 * pad + pad / 2;
	int inner = w - 2 * (b + pad);
	int keys = (int)(font_text_width(f, s, PROMPT_OK) + font_text_width(f, s, PROMPT_CANCEL)) + cw;

	if (h > (int)height || inner < keys)
		return false;
	if (s > 1 && inner < (int)font_text_width(f, s, PROMPT_TITLE))
		return false;
	p->scale = s;
	p->border = b;
	p->pad = pad;
	p->line_h = lh;
	p->w = w;
	p->h = h;
	p->x = ((int)width - w) / 2;
	p->y = ((int)height - h) / 2;
	fit_line(p->title, sizeof(p->title), "", PROMPT_TITLE, (size_t)(inner / cw));
	return true;
}

static void draw(struct prompt *p)
{
	struct fb *fb = p->fb;
	const struct font *f = p->font;
	const int x = p->x, y = p->y, w = p->w, h = p->h, b = p->border, pad = p->pad, lh = p->line_h;
	const int y_title = y + b + pad, y_source = y_title + lh + pad / 2;
	const int y_bar = y_source + lh + pad, bar_h = lh + pad;
	const unsigned s = p->scale;

	/* Every pixel of the box is written exactly once. */
	fb_fill(fb, x, y, w, b, PROMPT_BORDER_RGB);
	fb_fill(fb, x, y + h - b, w, b, PROMPT_BORDER_RGB);
	fb_fill(fb, x, y + b, b, h - 2 * b, PROMPT_BORDER_RGB);
	fb_fill(fb, x + w - b, y + b, b, h - 2 * b, PROMPT_BORDER_RGB);
	fb_fill(fb, x + b, y + b, w - 2 * b, y_bar - y - b, PROMPT_BOX_RGB);
	fb_fill(fb, x + b, y_bar, w - 2 * b, bar_h, PROMPT_KEYBAR_RGB);

	font_draw(f, fb, x + (w - (int)font_text_width(f, s, p->title)) / 2, y_title, s, p->title,
		  PROMPT_TITLE_RGB, PROMPT_BOX_RGB);
	font_draw(f, fb, x + (w - (int)font_text_width(f, s, p->source)) / 2, y_source, s, p->source,
		  PROMPT_SOURCE_RGB, PROMPT_BOX_RGB);
	/* Soft keys as a phone labels them: OK over the left key, Cancel
	 * over the right one. */
	font_draw(f, fb, x + b + pad, y_bar + pad / 2, s, PROMPT_OK, PROMPT_TITLE_RGB, PROMPT_KEYBAR_RGB);
	font_draw(f, fb, x + w - b - pad - (int)font_text_width(f, s, PROMPT_CANCEL), y_bar + pad / 2, s,
		  PROMPT_CANCEL, PROMPT_TITLE_RGB, PROMPT_KEYBAR_RGB);
}

/* Saves the region under the box on the visible page, unless already done. */
static int save_page(struct prompt *p)
{
	unsigned page = p->fb->yoffset;
	int r;

	for (unsigned i = 0; i < p->nsaved; i++) {
		if (p->saved_page[i] == page)
			return 0;
	}
	if (p->nsaved == PROMPT_MAX_PAGES)
		return -ENOSPC;
	r = fb_save(p->fb, p->x, p->y, p->w, p->h, &p->saved[p->nsaved]);
	if (r)
		return r;
	p->saved_page[p->nsaved++] = page;
	return 0;
}

int prompt_show(struct fb *fb, const struct font *font, const char *source, struct prompt **out)
{
	struct prompt *p;
	unsigned s;
	int r;

	*out = NULL;
	r = fb_refresh(fb);
	if (r)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->fb = fb;
	p->font = font;
	/* About one font pixel per 480x272 screen: scale 1 on the small
	 * phone panels, 2 on 1280x800; smaller if the box would not hold it. */
	s = fb->width / 480 < fb->height / 272 ? fb->width / 480 : fb->height / 272;
	if (s < 1)
		s = 1;
	while (!layout(p, fb->width, fb->height, s)) {
		if (s == 1) {
			log_err("prompt: a %ux%u screen is too small for the consent prompt", fb->width,
				fb->height);
			free(p);
			return -ENOSPC;
		}
		s--;
	}
	fit_line(p->source, sizeof(p->source), PROMPT_FROM, source ? source : "",
		 (size_t)((p->w - 2 * (p->border + p->pad)) / (int)(font->width * p->scale)));
	r = save_page(p);
	if (r) {
		free(p);
		return r;
	}
	draw(p);
	fb_flush(fb);
	*out = p;
	return 0;
}

void prompt_redraw(struct prompt *p)
{
	int r;

	if (!p)
		return;
	/* On error the page stays the last one known: still ours to draw on. */
	fb_refresh(p->fb);
	r = save_page(p);
	if (r) {
		/* Drawing without a copy of what is under it would leave the
		 * prompt on this page after it closes. */
		log_warn("prompt: not redrawn on the page at row %u: %s", p->fb->yoffset, strerror(-r));
		return;
	}
	draw(p);
	fb_flush(p->fb);
}

void prompt_hide(struct prompt *p)
{
	if (!p)
		return;
	for (unsigned i = p->nsaved; i-- > 0;) {
		fb_restore(p->fb, p->saved[i]);
		fb_saved_free(p->saved[i]);
	}
	fb_flush(p->fb);
	free(p);
}

void prompt_rect(const struct prompt *p, int *x, int *y, int *w, int *h)
{
	*x = p->x;
	*y = p->y;
	*w = p->w;
	*h = p->h;
}
