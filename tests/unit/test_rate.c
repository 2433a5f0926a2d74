/* rate: per-source token bucket with a fake clock (now is a parameter). */
#include "services/exec/rate.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#define MS 1000000ull
#define S  1000000000ull

static int take(struct rate *r, const char *src, uint64_t now, uint32_t *retry)
{
	uint32_t x = 12345;
	int e = rate_take(r, src, now, &x);

	if (retry)
		*retry = x;
	if (e == 0)
		assert_int_equal(x, 0);
	return e;
}

static void test_disabled(void **state)
{
	struct rate *r;

	(void)state;
	assert_int_equal(rate_new(0, 0, &r), 0);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(take(r, "10.0.0.1", 5, NULL), 0);
	rate_free(r);
}

static void test_burst_then_rate(void **state)
{
	struct rate *r;
	uint64_t t0 = 1000 * S;
	uint32_t retry;

	(void)state;
	assert_int_equal(rate_new(2, 3, &r), 0);   /* 2/s, burst 3 */
	for (int i = 0; i < 3; i++)
		assert_int_equal(take(r, "a", t0, NULL), 0);
	assert_int_equal(take(r, "a", t0, &retry), -EAGAIN);
	assert_int_equal(retry, 1);
	/* Others have their own bucket. */
	assert_int_equal(take(r, "b", t0, NULL), 0);
	/* One token every 500 ms. */
	assert_int_equal(take(r, "a", t0 + 499 * MS, NULL), -EAGAIN);
	assert_int_equal(take(r, "a", t0 + 500 * MS, NULL), 0);
	assert_int_equal(take(r, "a", t0 + 500 * MS, NULL), -EAGAIN);
	assert_int_equal(take(r, "a", t0 + 1000 * MS, NULL), 0);
	/* After a long pause the bucket is full again, and no fuller. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(take(r, "a", t0 + 60 * S, NULL), 0);
	assert_int_equal(take(r, "a", t0 + 60 * S, NULL), -EAGAIN);
	rate_free(r);
}

static void test_refused_requests_take_nothing(void **state)
{
	struct rate *r;
	uint64_t t0 = 7 * S;

	(void)state;
	assert_int_equal(rate_new(1, 1, &r), 0);
	assert_int_equal(take(r, "a", t0, NULL), 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(take(r, "a", t0 + (uint64_t)i * 10000, NULL), -EAGAIN);
	assert_int_equal(take(r, "a", t0 + S, NULL), 0);
	rate_free(r);
}

static void test_retry_after_rounds_up(void **state)
{
	struct rate *r;
	uint64_t t0 = 50 * S;
	uint32_t retry;

	(void)state;
	assert_int_equal(rate_new(1, 1, &r), 0);
	assert_int_equal(take(r, "a", t0, NULL), 0);
	assert_int_equal(take(r, "a", t0 + 1, &retry), -EAGAIN);
	assert_int_equal(retry, 1);
	assert_int_equal(take(r, "a", t0 + 999 * MS, &retry), -EAGAIN);
	assert_int_equal(retry, 1);
	rate_free(r);

	/* 10/s: the answer is still a whole second, never 0. */
	assert_int_equal(rate_new(10, 1, &r), 0);
	assert_int_equal(take(r, "a", t0, NULL), 0);
	assert_int_equal(take(r, "a", t0 + 1 * MS, &retry), -EAGAIN);
	assert_int_equal(retry, 1);
	assert_int_equal(take(r, "a", t0 + 100 * MS, NULL), 0);
	rate_free(r);
}

/* Beyond the table's size the bucket closest to full is forgotten; a drained
 * source that is further from full is not. */
static void test_table_bounded(void **state)
{
	struct rate *r;
	char src[32];

	(void)state;
	assert_int_equal(rate_new(1, 2, &r), 0);
	for (int i = 0; i < RATE_TABLE_MAX - 1; i++) {
		snprintf(src, sizeof(src), "10.0.%d.%d", i >> 8, i & 255);
		assert_int_equal(take(r, src, 0, NULL), 0);   /* one of two tokens used */
	}
	assert_int_equal(take(r, "busy", 0, NULL), 0);
	assert_int_equal(take(r, "busy", 0, NULL), 0);
	assert_int_equal(take(r, "busy", 0, NULL), -EAGAIN);
	/* The table is full of buckets that are not full: a newcomer evicts
	 * one of the half-used ones, not "busy". */
	for (int i = 0; i < 100; i++) {
		snprintf(src, sizeof(src), "new-%d", i);
		assert_int_equal(take(r, src, 100 * MS, NULL), 0);
	}
	assert_int_equal(take(r, "busy", 200 * MS, NULL), -EAGAIN);
	/* Much later every bucket has refilled: all may be forgotten. */
	for (int i = 0; i < RATE_TABLE_MAX * 3; i++) {
		snprintf(src, sizeof(src), "later-%d", i);
		assert_int_equal(take(r, src, 10 * S, NULL), 0);
	}
	assert_int_equal(take(r, "busy", 10 * S, NULL), 0);
	rate_free(r);
}

static void test_large_clock_values(void **state)
{
	struct rate *r;
	uint64_t t0 = UINT64_MAX / 2;

	(void)state;
	assert_int_equal(rate_new(1000000, 1000000, &r), 0);
	for (int i = 0; i < 1000000; i++)
		assert_int_equal(take(r, "a", t0, NULL), 0);
	assert_int_equal(take(r, "a", t0, NULL), -EAGAIN);
	assert_int_equal(take(r, "a", t0 + 1000, NULL), 0);
	rate_free(r);
	assert_int_equal(rate_new(1000000001u, 1, &r), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_refused_requests_take_nothing),
		cmocka_unit_test(test_retry_after_rounds_up),
		cmocka_unit_test(test_table_bounded),
		cmocka_unit_test(test_large_clock_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
