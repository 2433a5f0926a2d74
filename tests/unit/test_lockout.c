/* lockout: failed-login lock-out with a fake clock (now is a parameter). */
#include "services/exec/lockout.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* 3 failures, 10 s, doubling up to 40 s (also the window). */
static int setup(void **state)
{
	struct lockout *l;

	if (lockout_new(3, 10, 40, &l))
		return -1;
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	lockout_free(*state);
	return 0;
}

static int check(struct lockout *l, const char *src, int64_t now, uint32_t *retry)
{
	uint32_t r = 12345;
	int e = lockout_check(l, src, now, &r);

	if (retry)
		*retry = r;
	if (e == 0)
		assert_int_equal(r, 0);
	return e;
}

static void test_locks_after_failures(void **state)
{
	struct lockout *l = *state;
	uint32_t retry;

	assert_int_equal(check(l, "10.0.0.1", 100, NULL), 0);
	lockout_fail(l, "10.0.0.1", 100);
	lockout_fail(l, "10.0.0.1", 101);
	assert_int_equal(check(l, "10.0.0.1", 101, NULL), 0);
	lockout_fail(l, "10.0.0.1", 102);
	assert_int_equal(check(l, "10.0.0.1", 102, &retry), -EACCES);
	assert_int_equal(retry, 10);
	/* Another source is not affected. */
	assert_int_equal(check(l, "10.0.0.2", 102, NULL), 0);
	assert_int_equal(check(l, "::ffff:10.0.0.1", 102, NULL), 0);
	assert_int_equal(check(l, "10.0.0.1", 111, &retry), -EACCES);
	assert_int_equal(retry, 1);
	assert_int_equal(check(l, "10.0.0.1", 112, NULL), 0);
}

static void test_polling_never_extends(void **state)
{
	struct lockout *l = *state;
	uint32_t retry;

	for (int i = 0; i < 3; i++)
		lockout_fail(l, "src", 1000);
	/* A client polling every second with wrong credentials, several
	 * times a second. */
	for (int64_t t = 1000; t < 1010; t++) {
		assert_int_equal(check(l, "src", t, &retry), -EACCES);
		assert_int_equal(retry, 1010 - t);
		for (int i = 0; i < 5; i++)
			lockout_fail(l, "src", t);
	}
	assert_int_equal(check(l, "src", 1010, NULL), 0);
	/* ... or with right ones. */
	for (int i = 0; i < 3; i++)
		lockout_fail(l, "src", 1010);
	assert_int_equal(check(l, "src", 1010, &retry), -EACCES);
	assert_int_equal(retry, 20);
	for (int64_t t = 1010; t < 1030; t++) {
		assert_int_equal(check(l, "src", t, &retry), -EACCES);
		assert_int_equal(retry, 1030 - t);
		lockout_success(l, "src", t);
	}
	assert_int_equal(check(l, "src", 1030, NULL), 0);
	/* The failures sent while locked were not counted either. */
	lockout_fail(l, "src", 1030);
	lockout_fail(l, "src", 1031);
	assert_int_equal(check(l, "src", 1031, NULL), 0);
}

static void test_doubling_capped_and_window(void **state)
{
	struct lockout *l = *state;
	static const uint32_t want[] = { 10, 20, 40, 40, 40 };
	int64_t t = 5000;
	uint32_t retry;

	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		for (int i = 0; i < 3; i++)
			lockout_fail(l, "s", t);
		assert_int_equal(check(l, "s", t, &retry), -EACCES);
		assert_int_equal(retry, want[k]);
		t += retry;
		assert_int_equal(check(l, "s", t, NULL), 0);
	}
	/* A whole window (40 s) of quiet after the lock: back to 10 s. */
	t += 40;
	for (int i = 0; i < 3; i++)
		lockout_fail(l, "s", t);
	assert_int_equal(check(l, "s", t, &retry), -EACCES);
	assert_int_equal(retry, 10);
}

static void test_old_failures_forgotten(void **state)
{
	struct lockout *l = *state;

	lockout_fail(l, "s", 100);
	lockout_fail(l, "s", 101);
	lockout_fail(l, "s", 141);   /* 40 s after the last one: a fresh count */
	assert_int_equal(check(l, "s", 141, NULL), 0);
	lockout_fail(l, "s", 142);
	assert_int_equal(check(l, "s", 142, NULL), 0);
	lockout_fail(l, "s", 143);
	assert_int_equal(check(l, "s", 143, NULL), -EACCES);
}

static void test_success_clears_count_not_lock(void **state)
{
	struct lockout *l = *state;
	uint32_t retry;

	lockout_fail(l, "s", 10);
	lockout_fail(l, "s", 11);
	lockout_success(l, "s", 12);
	lockout_fail(l, "s", 13);
	lockout_fail(l, "s", 14);
	assert_int_equal(check(l, "s", 14, NULL), 0);
	lockout_fail(l, "s", 15);
	assert_int_equal(check(l, "s", 15, &retry), -EACCES);
	lockout_success(l, "s", 16);
	assert_int_equal(check(l, "s", 16, &retry), -EACCES);
	assert_int_equal(retry, 9);
}

/* Far more sources than the table holds: memory stays bounded, and a locked
 * source is not the one forgotten while unlocked ones can be. */
static void test_table_bounded_keeps_locks(void **state)
{
	struct lockout *l = *state;
	char src[32];

	for (int i = 0; i < 3; i++)
		lockout_fail(l, "victim-of-guessing", 100);
	for (int i = 0; i < LOCKOUT_TABLE_MAX * 4; i++) {
		snprintf(src, sizeof(src), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		lockout_fail(l, src, 101);
	}
	assert_int_equal(check(l, "victim-of-guessing", 105, NULL), -EACCES);
	/* Recent sources still count their failures. */
	snprintf(src, sizeof(src), "10.0.%d.%d", ((LOCKOUT_TABLE_MAX * 4 - 1) >> 8) & 255,
		 (LOCKOUT_TABLE_MAX * 4 - 1) & 255);
	lockout_fail(l, src, 102);
	lockout_fail(l, src, 102);
	assert_int_equal(check(l, src, 102, NULL), -EACCES);
}

static void test_long_source_names(void **state)
{
	struct lockout *l = *state;
	char a[200], b[200];

	memset(a, 'a', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[150] = 'b';
	for (int i = 0; i < 3; i++)
		lockout_fail(l, a, 10);
	assert_int_equal(check(l, a, 10, NULL), -EACCES);
	/* Same first 63 bytes: the same entry (documented; real sources are
	 * shorter). */
	assert_int_equal(check(l, b, 10, NULL), -EACCES);
}

static void test_bad_parameters(void **state)
{
	struct lockout *l = (struct lockout *)1;

	(void)state;
	assert_int_equal(lockout_new(0, 10, 40, &l), -EINVAL);
	assert_null(l);
	assert_int_equal(lockout_new(3, 0, 40, &l), -EINVAL);
	assert_int_equal(lockout_new(3, 50, 40, &l), -EINVAL);
	assert_int_equal(lockout_new(1, 1, 1, &l), 0);
	lockout_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_locks_after_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_polling_never_extends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doubling_capped_and_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_failures_forgotten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_success_clears_count_not_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_bounded_keeps_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_source_names, setup, teardown),
		cmocka_unit_test(test_bad_parameters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
