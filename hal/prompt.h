/*
 * The consent prompt on the phone's screen: a box with "Allow remote
 * control?", the source address, and the soft-key labels OK and Cancel.  It
 * saves what was under it and restores it exactly when it closes.
 */
#ifndef AURID_PROMPT_H
#define AURID_PROMPT_H

#include "fb.h"
#include "font.h"

struct prompt;

/* Draws the prompt for source; 0 or -errno.  */
int prompt_show(struct fb *fb, const struct font *font, const char *source, struct prompt **out);
/* Draws it again (the phone's UI may have drawn over it). */
void prompt_redraw(struct prompt *p);
/* Restores what was under it and frees it. */
void prompt_hide(struct prompt *p);
/* The rectangle it covers, for tests. */
void prompt_rect(const struct prompt *p, int *x, int *y, int *w, int *h);

#endif
