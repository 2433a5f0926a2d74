/* The keymap parser: the default map, errors with line numbers, mutations. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hal/keymap.h"
#include "services/common/embedded.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void expect_code(const struct keymap *km, const char *name, unsigned want)
{
	unsigned code = 0;

	if (keymap_lookup(km, name, &code) != 0)
		fail_msg("key %s is not in the map", name);
	if (code != want)
		fail_msg("key %s maps to %u, expected %u", name, code, want);
}

static void test_default_map(void **state)
{
	static const unsigned digits[10] = {
		KEY_NUMERIC_0, KEY_NUMERIC_1, KEY_NUMERIC_2, KEY_NUMERIC_3, KEY_NUMERIC_4,
		KEY_NUMERIC_5, KEY_NUMERIC_6, KEY_NUMERIC_7, KEY_NUMERIC_8, KEY_NUMERIC_9,
	};
	struct keymap km;
	char err[256] = "";

	(void)state;
	assert_int_equal(keymap_load(&km, NULL, err, sizeof(err)), 0);
	assert_int_equal(km.n, 63);
	expect_code(&km, "OK", KEY_OK);
	expect_code(&km, "X", KEY_CANCEL);
	expect_code(&km, "STAR", KEY_NUMERIC_STAR);
	expect_code(&km, "POUND", KEY_NUMERIC_POUND);
	expect_code(&km, "L1", KEY_MACRO1);
	expect_code(&km, "L29", KEY_MACRO29);
	expect_code(&km, "F_HOLD", KEY_PAUSE);
	for (int i = 0; i < 10; i++) {
		char name[2] = { (char)('0' + i), '\0' };

		expect_code(&km, name, digits[i]);
	}
	/* Every entry is upper-case, and a code the device can declare. */
	for (size_t i = 0; i < km.n; i++) {
		for (const char *p = km.e[i].name; *p; p++)
			assert_false(*p >= 'a' && *p <= 'z');
		assert_true(km.e[i].code > 0 && km.e[i].code < KEY_MAX);
	}

	/* "" is the default too (an unset aurid.keymap). */
	memset(&km, 0xa5, sizeof(km));
	assert_int_equal(keymap_load(&km, "", err, sizeof(err)), 0);
	assert_int_equal(km.n, 63);
}

static void test_lookup(void **state)
{
	struct keymap km;
	char err[256];
	unsigned code = 12345;

	(void)state;
	assert_int_equal(keymap_load(&km, NULL, err, sizeof(err)), 0);
	expect_code(&km, "ok", KEY_OK);
	expect_code(&km, "Ok", KEY_OK);
	expect_code(&km, "l1", KEY_MACRO1);
	expect_code(&km, "volume_up", KEY_VOLUMEUP);
	assert_int_equal(keymap_lookup(&km, "NOPE", &code), -ENOENT);
	assert_int_equal(keymap_lookup(&km, "", &code), -ENOENT);
	assert_int_equal(keymap_lookup(&km, "OK ", &code), -ENOENT);
	assert_int_equal(keymap_lookup(&km, "*", &code), -ENOENT);
	assert_int_equal(code, 12345);  /* untouched when not found */
}

static void test_good_text(void **state)
{
	static const char text[] =
		"# a comment\n"
		"\n"
		"   # an indented comment\n"
		"ok\tKEY_OK\r\n"
		"  enter   28  \n"
		"Next-Page KEY_NEXT\n"
		"MAXCODE 766\n"
		"ALIAS_OF_OK KEY_OK\n"
		"ABCDEFGHIJKLMNOPQRSTUVW KEY_A\n"   /* 23 characters: the maximum */
		"LAST KEY_B";                       /* no final newline */
	struct keymap km;
	char err[256] = "";

	(void)state;
	assert_int_equal(keymap_parse(&km, text, "t", err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(km.n, 7);
	assert_string_equal(km.e[0].name, "OK");
	assert_int_equal(km.e[0].code, KEY_OK);
	assert_string_equal(km.e[1].name, "ENTER");
	assert_int_equal(km.e[1].code, KEY_ENTER);
	assert_string_equal(km.e[2].name, "NEXT-PAGE");
	assert_int_equal(km.e[3].code, 766);
	/* Two names may share a code (aliases). */
	assert_int_equal(km.e[4].code, KEY_OK);
	assert_string_equal(km.e[5].name, "ABCDEFGHIJKLMNOPQRSTUVW");
	assert_string_equal(km.e[6].name, "LAST");
	assert_int_equal(km.e[6].code, KEY_B);
}

struct bad_case {
	const char *text;
	const char *err;          /* expected prefix of the message */
};

static void test_bad_lines(void **state)
{
	static const struct bad_case cases[] = {
		{ "OK KEY_OK\nBAD\n", "t:2: expected 'NAME CODE'" },
		{ "OK KEY_OK extra\n", "t:1: expected 'NAME CODE'" },
		{ "OK KEY_OK # trailing comment\n", "t:1: expected 'NAME CODE'" },
		{ "# c\n\nOK KEY_NOPE\n", "t:3: unknown key code 'KEY_NOPE'" },
		{ "OK ABS_X\n", "t:1: unknown key code 'ABS_X'" },
		{ "OK key_ok\n", "t:1: unknown key code 'key_ok'" },
		{ "OK 0\n", "t:1: unknown key code '0'" },
		{ "OK 767\n", "t:1: unknown key code '767'" },
		{ "OK 99999999999999999999\n", "t:1: unknown key code" },
		{ "OK 12a\n", "t:1: unknown key code '12a'" },
		{ "OK -1\n", "t:1: unknown key code '-1'" },
		{ "OK KEY_RESERVED\n", "t:1: unknown key code 'KEY_RESERVED'" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWX KEY_A\n", "t:1: key name 'ABCDEFGHIJKLMNOPQRSTUVWX...' longer than 23" },
		{ "O*K KEY_OK\n", "t:1: key name 'O*K': only letters" },
		{ "A KEY_A\nB KEY_B\nok KEY_ENTER\nOK KEY_OK\n", "t:4: duplicate key name 'OK' (first on line 3)" },
		{ "", "t: no keys" },
		{ "# only\n\n  \n", "t: no keys" },
	};
	char err[256];
	struct keymap km;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (keymap_parse(&km, cases[i].text, "t", err, sizeof(err)) != -EINVAL)
			fail_msg("case %zu was accepted: %s", i, cases[i].text);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: got \"%s\", expected \"%s...\"", i, err, cases[i].err);
	}
}

static void test_limits(void **state)
{
	size_t cap = (KEYMAP_MAX + 2) * 32 + 1024;
	char *text = malloc(cap);
	struct keymap km;
	char err[256];
	size_t off = 0;

	(void)state;
	assert_non_null(text);
	/* Exactly KEYMAP_MAX keys load; one more is refused on its line. */
	for (int i = 0; i < KEYMAP_MAX; i++)
		off += (size_t)snprintf(text + off, cap - off, "K%d %d\n", i, i + 1);
	assert_int_equal(keymap_parse(&km, text, "t", err, sizeof(err)), 0);
	assert_int_equal(km.n, KEYMAP_MAX);
	snprintf(text + off, cap - off, "ONE_MORE KEY_A\n");
	assert_int_equal(keymap_parse(&km, text, "t", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t:257: more than 256 keys");

	/* A line of 256 bytes is fine; 257 is refused. */
	memset(text, ' ', 300);
	memcpy(text, "OK KEY_OK", 9);
	text[256] = '\0';
	assert_int_equal(keymap_parse(&km, text, "t", err, sizeof(err)), 0);
	text[256] = ' ';
	text[257] = '\0';
	assert_int_equal(keymap_parse(&km, text, "t", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t:1: line longer than 256 bytes");
	free(text);
}

static void test_load_file(void **state)
{
	char dir[64], path[128], want[192], err[256];
	struct keymap km;
	unsigned code;

	(void)state;
	assert_int_equal(tu_tmpdir(dir, sizeof(dir), "keymap"), 0);
	snprintf(path, sizeof(path), "%s/keymap", dir);

	tu_write_file(path, "# mine\nOK KEY_ENTER\nPOUND KEY_KPASTERISK\n", 41);
	assert_int_equal(keymap_load(&km, path, err, sizeof(err)), 0);
	assert_int_equal(km.n, 2);
	assert_int_equal(keymap_lookup(&km, "ok", &code), 0);
	assert_int_equal(code, KEY_ENTER);

	/* Errors name the file and the line. */
	tu_write_file(path, "OK KEY_OK\n\nSTAR KEY_STARR\n", 26);
	assert_int_equal(keymap_load(&km, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: unknown key code 'KEY_STARR' (", path);
	assert_true(strncmp(err, want, strlen(want)) == 0);

	tu_write_file(path, "OK KEY_OK\n\0X KEY_A\n", 19);
	assert_int_equal(keymap_load(&km, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: contains a NUL byte", path);
	assert_string_equal(err, want);

	unlink(path);
	assert_int_equal(keymap_load(&km, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_int_equal(km.n, 0);  /* a failed load leaves an empty map */

	/* A directory is not a keymap. */
	assert_int_equal(keymap_load(&km, dir, err, sizeof(err)), -EINVAL);
	rmdir(dir);
}

/* Truncations and bit flips of the default map: never a crash or an
 * out-of-bounds read (ASan), and an accepted map is always well-formed. */
static void test_mutations(void **state)
{
	size_t len = aurid_keymap_default_len;
	char *text = malloc(len + 1);
	struct keymap km;
	char err[256];

	(void)state;
	assert_non_null(text);
	for (size_t cut = 0; cut <= len; cut++) {
		memcpy(text, aurid_keymap_default, cut);
		text[cut] = '\0';
		if (keymap_parse(&km, text, "t", err, sizeof(err)) == 0)
			assert_true(km.n > 0 && km.n <= KEYMAP_MAX);
	}
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(text, aurid_keymap_default, len + 1);
			text[i] ^= (char)(1u << bit);
			if (keymap_parse(&km, text, "t", err, sizeof(err)) != 0) {
				assert_true(strncmp(err, "t:", 2) == 0);
				continue;
			}
			for (size_t k = 0; k < km.n; k++) {
				assert_true(strlen(km.e[k].name) > 0 && strlen(km.e[k].name) < 24);
				assert_true(km.e[k].code > 0 && km.e[k].code < KEY_MAX);
			}
		}
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_map),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_good_text),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
