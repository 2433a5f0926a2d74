/*
 * Test tool: renders the consent prompt for SOURCE over the screen in
 * STATE_DIR/sim/fb.raw (WxH) with the project's own font and prompt code,
 * the golden image the integration tests compare the running service with.
 *   render_prompt STATE_DIR WIDTH HEIGHT SOURCE
 * Prints the prompt's rectangle as "x y w h".
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	/* The screen with the prompt is the golden image: keep its bytes, let
	 * the prompt and the framebuffer go as they should, then put the
	 * bytes back into the file. */
	fb_flush(fb);
	{
		char path[4096];
		size_t len = (size_t)fb->line_length * fb->height;
		unsigned char *copy = malloc(len);
		int fd;

		if (!copy)
			return 1;
		memcpy(copy, fb->map, len);
		prompt_hide(p);
		fb_close(fb);
		snprintf(path, sizeof(path), "%s/sim/fb.raw", argv[1]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || pwrite(fd, copy, len, 0) != (ssize_t)len) {
			fprintf(stderr, "render_prompt: cannot write %s\n", path);
			return 1;
		}
		close(fd);
		free(copy);
	}
	return 0;
}
