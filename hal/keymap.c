/*
 * The keymap: Action URI key names -> Linux input key codes.
 *
 * A small line grammar ("NAME CODE", '#' comment lines) parsed by hand: the
 * file is edited by people adapting aurid to a keypad driver, so every error
 * names the file and line, and anything unexpected on a line is an error
 * rather than silently ignored.
 */
#include "keymap.h"

#include "../services/common/embedded.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libevdev/libevdev.h>
#include <linux/input.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYMAP_LINE_MAX 256
#define KEYMAP_FILE_MAX (1024 * 1024)
#define KEYMAP_NAME_MAX (sizeof(((struct keymap_entry *)0)->name) - 1)

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Splits line into at most 3 tokens; *n gets how many were found (3 = too many). */
static void split(char *line, char *tok[3], unsigned *n)
{
	char *p = line;

	*n = 0;
	while (*n < 3) {
		while (is_blank(*p))
			p++;
		if (*p == '\0')
			return;
		tok[(*n)++] = p;
		while (*p && !is_blank(*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
}

static int parse_name(const char *tok, char out[24])
{
	size_t len = strlen(tok);

	if (len > KEYMAP_NAME_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)tok[i];

		/* Names are compared with the key items of the action language,
		 * which never contain anything else; * and # are STAR and POUND. */
		if (!isalnum(c) && c != '_' && c != '-')
			return -EINVAL;
		out[i] = (char)toupper(c);
	}
	out[len] = '\0';
	return 0;
}

static int parse_code(const char *tok, unsigned *code)
{
	int c;

	if (isdigit((unsigned char)tok[0])) {
		unsigned long v = 0;

		/* At most 5 digits, so the value cannot overflow before the check. */
		if (strlen(tok) > 5)
			return -EINVAL;
		for (const char *p = tok; *p; p++) {
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			v = v * 10 + (unsigned long)(*p - '0');
		}
		c = (int)v;
	} else {
		c = libevdev_event_code_from_name(EV_KEY, tok);
	}
	/* KEY_RESERVED (0) is never delivered; KEY_MAX is the last valid bit
	 * of the kernel's key bitmap but not a key. */
	if (c <= KEY_RESERVED || c >= KEY_MAX)
		return -EINVAL;
	*code = (unsigned)c;
	return 0;
}

static int parse(struct keymap *km, const char *text, const char *name, char *err, size_t errlen)
{
	unsigned first_line[KEYMAP_MAX];
	const char *p = text;
	unsigned lineno = 0;

	memset(km, 0, sizeof(*km));
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[KEYMAP_LINE_MAX + 1];
		struct keymap_entry e;
		char *tok[3];
		unsigned ntok;
		int r;

		lineno++;
		if (n > KEYMAP_LINE_MAX) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", name, lineno, KEYMAP_LINE_MAX);
			return -EINVAL;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl ? 1 : 0);
		split(line, tok, &ntok);
		if (ntok == 0 || tok[0][0] == '#')
			continue;
		if (ntok != 2) {
			snprintf(err, errlen, "%s:%u: expected 'NAME CODE'", name, lineno);
			return -EINVAL;
		}
		r = parse_name(tok[0], e.name);
		if (r == -ENAMETOOLONG) {
			snprintf(err, errlen, "%s:%u: key name '%.32s...' longer than %zu characters",
				 name, lineno, tok[0], KEYMAP_NAME_MAX);
			return -EINVAL;
		}
		if (r) {
			snprintf(err, errlen, "%s:%u: key name '%s': only letters, digits, '_' and '-' are allowed",
				 name, lineno, tok[0]);
			return -EINVAL;
		}
		if (parse_code(tok[1], &e.code)) {
			snprintf(err, errlen, "%s:%u: unknown key code '%s' (expected KEY_... or a number from 1 to %d)",
				 name, lineno, tok[1], KEY_MAX - 1);
			return -EINVAL;
		}
		for (size_t i = 0; i < km->n; i++) {
			if (strcmp(km->e[i].name, e.name) == 0) {
				snprintf(err, errlen, "%s:%u: duplicate key name '%s' (first on line %u)",
					 name, lineno, e.name, first_line[i]);
				return -EINVAL;
			}
		}
		if (km->n == KEYMAP_MAX) {
			snprintf(err, errlen, "%s:%u: more than %d keys", name, lineno, KEYMAP_MAX);
			return -EINVAL;
		}
		first_line[km->n] = lineno;
		km->e[km->n++] = e;
	}
	/* A keypad with no keys would make a uinput device that can do nothing:
	 * almost certainly the wrong file. */
	if (km->n == 0) {
		snprintf(err, errlen, "%s: no keys", name);
		return -EINVAL;
	}
	return 0;
}

int keymap_parse(struct keymap *km, const char *text, const char *name, char *err, size_t errlen)
{
	int r = parse(km, text, name, err, errlen);

	/* Half a map is never used by mistake. */
	if (r)
		memset(km, 0, sizeof(*km));
	return r;
}

static int read_file(const char *path, char **out, char *err, size_t errlen)
{
	struct stat st;
	char *text;
	size_t off = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > KEYMAP_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %d bytes", path, KEYMAP_FILE_MAX);
		close(fd);
		return -EINVAL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, text + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "%s: %s", path, n < 0 ? strerror(-r) : "file shrank while reading");
			free(text);
			close(fd);
			return r;
		}
		off += (size_t)n;
	}
	close(fd);
	text[off] = '\0';
	if (strlen(text) != off) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		free(text);
		return -EINVAL;
	}
	*out = text;
	return 0;
}

int keymap_load(struct keymap *km, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	int r;

	if (!path || !path[0])
		return keymap_parse(km, (const char *)aurid_keymap_default, "keymap.default", err, errlen);
	memset(km, 0, sizeof(*km));
	r = read_file(path, &text, err, errlen);
	if (r)
		return r;
	r = keymap_parse(km, text, path, err, errlen);
	free(text);
	return r;
}

int keymap_lookup(const struct keymap *km, const char *name, unsigned *code)
{
	for (size_t i = 0; i < km->n; i++) {
		if (strcasecmp(km->e[i].name, name) == 0) {
			*code = km->e[i].code;
			return 0;
		}
	}
	return -ENOENT;
}
