/*
 * Test tool: renders the consent prompt for SOURCE over the screen in
 * STATE_DIR/sim/fb.raw (WxH) with the project's own font and prompt code,
 * the golden image the integration tests compare the running service with.
 *   render_prompt STATE_DIR WIDTH HEIGHT SOURCE
 * Prints the prompt's rectangle as "x y w h".
 */
#include <stdio.h>
#include <stdlib.h>

#include "hal/fb.h"
#include "hal/font.h"
#include "hal/prompt.h"

int main(int argc, char **argv)
{
	struct fb *fb;
	struct font font;
	struct prompt *p;
	int x, y, w, h;

	if (argc != 5) {
		fprintf(stderr, "usage: render_prompt STATE_DIR WIDTH HEIGHT SOURCE\n");
		return 2;
	}
	if (fb_open_sim(argv[1], (unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]), &fb) != 0 ||
	    font_load_default(&font) != 0 || prompt_show(fb, &font, argv[4], &p) != 0) {
		fprintf(stderr, "render_prompt: cannot render\n");
		return 1;
	}
	prompt_rect(p, &x, &y, &w, &h);
	printf("%d %d %d %d\n", x, y, w, h);
	/* Left on the screen on purpose: the file is the golden image. */
	fb_flush(fb);
	return 0;
}
