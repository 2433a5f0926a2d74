/*
 * The consent prompt on the phone's screen: a box with "Allow remote
 * control?", the source address, and the soft-key labels OK and Cancel.  It
 * saves what was under it and restores it exactly when it closes.
 *
 * The framebuffer and the font must outlive the prompt.  Drawing one costs a
 * fill of the box plus its text: about 0.1 ms at 480x272 and under 1 ms at
 * 1280x800, then fb_flush.
 */
#ifndef AURID_PROMPT_H
#define AURID_PROMPT_H

#include "fb.h"
#include "font.h"

/* Its colours (0x00RRGGBB), for the tests and for a reference image. */
#define PROMPT_BOX_RGB    0x1c2630u   /* background */
#define PROMPT_BORDER_RGB 0x8aa0b4u
#define PROMPT_TITLE_RGB  0xffffffu   /* "Allow remote control?" and the soft-key labels */
#define PROMPT_SOURCE_RGB 0xffc850u   /* "From <address>" */
#define PROMPT_KEYBAR_RGB 0x34485cu   /* the soft-key bar at the bottom */

struct prompt;

/*
 * Reads the visible page (fb_refresh), saves the region under the box, draws
 * the prompt for source (an address; cut with "..." if it does not fit) and
 * flushes.  0, -ENOSPC (logged) if the screen is too small for even the
 * smallest prompt, -ENOMEM, or fb_refresh's error.
 */
int prompt_show(struct fb *fb, const struct font *font, const char *source, struct prompt **out);
/* Draws it again (the phone's UI may have drawn over it), on the page
 * visible now: a page not yet drawn on is saved first, so prompt_hide
 * restores every page it touched. */
void prompt_redraw(struct prompt *p);
/* Restores what was under it on every page it drew on, flushes and frees
 * it.  NULL is allowed. */
void prompt_hide(struct prompt *p);
/* The rectangle it covers (on each page it drew on), for tests. */
void prompt_rect(const struct prompt *p, int *x, int *y, int *w, int *h);

#endif
