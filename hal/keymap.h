/*
 * Action URI key names -> Linux input key codes, from a file (aurid.keymap)
 * or the built-in default (hal/keymap.default, embedded at build time).
 * Format: "NAME CODE" per line, '#' comment lines; CODE is KEY_... or decimal.
 */
#ifndef AURID_KEYMAP_H
#define AURID_KEYMAP_H

#include <stddef.h>

#define KEYMAP_MAX 256

struct keymap_entry {
	char name[24];        /* upper-case */
	unsigned code;
};

struct keymap {
	size_t n;
	struct keymap_entry e[KEYMAP_MAX];
};

/* path NULL or "": the default.  -EINVAL with err "FILE:LINE: ..." on a bad line. */
int keymap_load(struct keymap *km, const char *path, char *err, size_t errlen);
int keymap_parse(struct keymap *km, const char *text, const char *name, char *err, size_t errlen);
/* Case-insensitive; 0 and *code, or -ENOENT. */
int keymap_lookup(const struct keymap *km, const char *name, unsigned *code);

#endif
