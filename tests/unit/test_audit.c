/* audit: append-only table, pruning, syslog, JSON queries and filters. */
#include "services/exec/audit.h"

#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

/* 2026-11-27T21:36:36Z */
#define T0 1795815396ll

struct fixture {
	struct tu_db db;
	struct audit *a;
};

static int open_with(void **state, unsigned max_rows)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || tu_db_open(&f->db, "audit") || audit_init(f->db.st, max_rows, &f->a))
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return open_with(state, 100000);
}

static int setup_small(void **state)
{
	return open_with(state, 10);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int r;

	audit_free(f->a);
	r = tu_db_remove(&f->db);
	free(f);
	return r;
}

static uint64_t append(struct fixture *f, int64_t time_us, const char *source, const char *reason, int status)
{
	static const struct audit_item items[] = { { "OK", "ok", NULL }, { "1", "ok", NULL } };
	struct audit_row row = {
		.time_us = time_us, .transport = "http", .source = source, .user = NULL,
		.request = "/servlet?key=OK;1", .items = items, .nitems = 2, .status = status,
		.reason = reason, .latency_us = 1234,
	};
	uint64_t seq = 0;

	assert_int_equal(audit_append(f->a, &row, &seq), 0);
	assert_true(seq > 0);
	return seq;
}

/* Collected query output: parsed objects. */
struct rows {
	json_t *list;
	size_t max_len;
};

static int collect(void *arg, const char *json)
{
	struct rows *r = arg;
	json_error_t e;
	json_t *o = json_loads(json, 0, &e);

	if (!o)
		fail_msg("invalid JSON from audit_query: %s: %s", e.text, json);
	/* Compact: no newline may break the one-object-per-line output. */
	assert_null(strchr(json, '\n'));
	if (strlen(json) > r->max_len)
		r->max_len = strlen(json);
	json_array_append_new(r->list, o);
	return 0;
}

static json_t *query(struct fixture *f, const struct audit_filter *flt, struct rows *r)
{
	r->list = json_array();
	r->max_len = 0;
	assert_int_equal(audit_query(f->a, flt, collect, r), 0);
	assert_true(r->max_len <= AUDIT_JSON_MAX);
	return r->list;
}

static void assert_seqs(json_t *list, const int64_t *want, size_t n)
{
	if (json_array_size(list) != n)
		fail_msg("%zu rows, want %zu", json_array_size(list), n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(json_integer_value(json_object_get(json_array_get(list, i), "seq")), want[i]);
}

static void test_row_json_fields(void **state)
{
	struct fixture *f = *state;
	static const struct audit_item items[] = { { "OK", "ok", NULL }, { "number=100", "unsupported", "no call engine" } };
	struct audit_row row = {
		.time_us = T0 * 1000000 + 123456, .transport = "https", .source = "192.0.2.10", .user = "alice",
		.request = "/servlet?key=OK;number=100", .items = items, .nitems = 2, .status = 200,
		.reason = "ok", .latency_us = 4567,
	};
	struct audit_filter flt = { 0 };
	struct rows r;
	json_t *list, *o, *it;
	uint64_t seq1 = 0, seq2 = 0;

	assert_int_equal(store_begin(f->db.st), 0);
	assert_int_equal(audit_append(f->a, &row, &seq1), 0);
	row.user = NULL;
	row.items = NULL;
	row.nitems = 0;
	row.status = 403;
	row.reason = "not-allowed";
	row.time_us = T0 * 1000000;
	assert_int_equal(audit_append(f->a, &row, &seq2), 0);
	assert_int_equal(store_commit(f->db.st), 0);
	assert_true(seq2 > seq1);

	list = query(f, &flt, &r);
	assert_int_equal(json_array_size(list), 2);
	o = json_array_get(list, 0);
	assert_int_equal(json_object_size(o), 10);
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), seq1);
	assert_string_equal(json_string_value(json_object_get(o, "time")), "2026-11-27T21:36:36.123456Z");
	assert_string_equal(json_string_value(json_object_get(o, "transport")), "https");
	assert_string_equal(json_string_value(json_object_get(o, "source")), "192.0.2.10");
	assert_string_equal(json_string_value(json_object_get(o, "user")), "alice");
	assert_string_equal(json_string_value(json_object_get(o, "request")), "/servlet?key=OK;number=100");
	it = json_object_get(o, "items");
	assert_true(json_is_array(it));
	assert_int_equal(json_array_size(it), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(it, 1), "item")), "number=100");
	assert_string_equal(json_string_value(json_object_get(json_array_get(it, 1), "outcome")), "unsupported");
	assert_int_equal(json_object_size(json_array_get(it, 0)), 2);   /* no detail: no key */
	assert_string_equal(json_string_value(json_object_get(json_array_get(it, 1), "detail")), "no call engine");
	assert_int_equal(json_integer_value(json_object_get(o, "status")), 200);
	assert_string_equal(json_string_value(json_object_get(o, "reason")), "ok");
	assert_int_equal(json_integer_value(json_object_get(o, "latency_us")), 4567);

	o = json_array_get(list, 1);
	assert_true(json_is_null(json_object_get(o, "user")));
	assert_true(json_is_array(json_object_get(o, "items")));
	assert_int_equal(json_array_size(json_object_get(o, "items")), 0);
	assert_string_equal(json_string_value(json_object_get(o, "time")), "2026-11-27T21:36:36.000000Z");
	assert_string_equal(json_string_value(json_object_get(o, "reason")), "not-allowed");
	json_decref(list);
}

static void test_update_and_delete_refused(void **state)
{
	struct fixture *f = *state;
	char *msg = NULL;

	append(f, T0 * 1000000, "10.0.0.1", "ok", 200);
	append(f, T0 * 1000000, "10.0.0.2", "ok", 200);
	assert_int_not_equal(sqlite3_exec(f->db.st->db, "UPDATE audit SET status = 500", NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(f->db.st->db, "DELETE FROM audit WHERE seq = 1", NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	/* The gate itself cannot be removed or duplicated. */
	assert_int_not_equal(sqlite3_exec(f->db.st->db, "DELETE FROM audit_prune_flag", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(f->db.st->db, "INSERT INTO audit_prune_flag VALUES (2, 1)", NULL, NULL, NULL),
			     SQLITE_OK);
	assert_int_equal(tu_query_int(f->db.st, "SELECT count(*) FROM audit"), 2);
	assert_int_equal(tu_query_int(f->db.st, "SELECT sum(status) FROM audit"), 400);
}

static void test_prune_keeps_max_rows(void **state)
{
	struct fixture *f = *state;
	uint64_t seq = 0;

	assert_int_equal(store_begin(f->db.st), 0);
	for (int i = 0; i < 25; i++)
		seq = append(f, (T0 + i) * 1000000, "10.0.0.1", "ok", 200);
	assert_int_equal(seq, 25);
	assert_int_equal(audit_prune(f->a), 0);
	assert_int_equal(store_commit(f->db.st), 0);
	assert_int_equal(tu_query_int(f->db.st, "SELECT count(*) FROM audit"), 10);
	assert_int_equal(tu_query_int(f->db.st, "SELECT min(seq) FROM audit"), 16);
	assert_int_equal(tu_query_int(f->db.st, "SELECT max(seq) FROM audit"), 25);
	/* The gate is closed again. */
	assert_int_equal(tu_query_int(f->db.st, "SELECT enabled FROM audit_prune_flag"), 0);
	assert_int_not_equal(sqlite3_exec(f->db.st->db, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);

	/* seq keeps increasing: never reused after pruning. */
	assert_int_equal(append(f, T0 * 1000000, "10.0.0.1", "ok", 200), 26);
	/* Outside a transaction, the pruner makes its own. */
	assert_int_equal(audit_prune(f->a), 0);
	assert_false(f->db.st->in_tx);
	assert_int_equal(tu_query_int(f->db.st, "SELECT count(*) FROM audit"), 10);
	assert_int_equal(tu_query_int(f->db.st, "SELECT min(seq) FROM audit"), 17);
	/* Nothing due: nothing deleted. */
	assert_int_equal(audit_prune(f->a), 0);
	assert_int_equal(tu_query_int(f->db.st, "SELECT count(*) FROM audit"), 10);
}

/* A pruned transaction that is rolled back leaves every row and a closed gate. */
static void test_prune_rolled_back(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 15; i++)
		append(f, T0 * 1000000, "10.0.0.1", "ok", 200);
	assert_int_equal(store_begin(f->db.st), 0);
	assert_int_equal(audit_prune(f->a), 0);
	assert_int_equal(tu_query_int(f->db.st, "SELECT count(*) FROM audit"), 10);
	assert_int_equal(store_rollback(f->db.st), 0);
	assert_int_equal(tu_query_int(f->db.st, "SELECT count(*) FROM audit"), 15);
	assert_int_equal(tu_query_int(f->db.st, "SELECT enabled FROM audit_prune_flag"), 0);
}

static void test_filters(void **state)
{
	struct fixture *f = *state;
	struct audit_filter flt = { 0 };
	struct rows r;
	json_t *list;

	assert_int_equal(store_begin(f->db.st), 0);
	append(f, (T0 + 0) * 1000000 + 1, "10.0.0.1", "ok", 200);            /* 1 */
	append(f, (T0 + 10) * 1000000, "10.0.0.2", "not-allowed", 403);      /* 2 */
	append(f, (T0 + 10) * 1000000 + 999999, "10.0.0.1", "auth", 401);    /* 3 */
	append(f, (T0 + 11) * 1000000, "10.0.0.1", "ok", 200);               /* 4 */
	append(f, (T0 + 20) * 1000000, "2001:db8::1", "rate", 429);          /* 5 */
	assert_int_equal(store_commit(f->db.st), 0);

	flt.since = T0 + 10;
	list = query(f, &flt, &r);
	assert_seqs(list, (const int64_t[]){ 2, 3, 4, 5 }, 4);
	json_decref(list);

	flt.until = T0 + 10;   /* inclusive: the whole second */
	list = query(f, &flt, &r);
	assert_seqs(list, (const int64_t[]){ 2, 3 }, 2);
	json_decref(list);

	memset(&flt, 0, sizeof(flt));
	flt.until = T0 + 9;
	list = query(f, &flt, &r);
	assert_seqs(list, (const int64_t[]){ 1 }, 1);
	json_decref(list);

	memset(&flt, 0, sizeof(flt));
	flt.source = "10.0.0.1";
	list = query(f, &flt, &r);
	assert_seqs(list, (const int64_t[]){ 1, 3, 4 }, 3);
	json_decref(list);

	flt.outcome = "ok";
	list = query(f, &flt, &r);
	assert_seqs(list, (const int64_t[]){ 1, 4 }, 2);
	json_decref(list);

	memset(&flt, 0, sizeof(flt));
	flt.outcome = "rate";
	flt.source = "";
	list = query(f, &flt, &r);
	assert_seqs(list, (const int64_t[]){ 5 }, 1);
	json_decref(list);

	memset(&flt, 0, sizeof(flt));
	flt.source = "10.9.9.9";
	list = query(f, &flt, &r);
	assert_seqs(list, NULL, 0);
	json_decref(list);

	/* The newest N, oldest first. */
	memset(&flt, 0, sizeof(flt));
	flt.limit = 2;
	list = query(f, &flt, &r);
	assert_seqs(list, (const int64_t[]){ 4, 5 }, 2);
	json_decref(list);
	flt.source = "10.0.0.1";
	list = query(f, &flt, &r);
	assert_seqs(list, (const int64_t[]){ 3, 4 }, 2);
	json_decref(list);
}

static void test_default_limit_is_100(void **state)
{
	struct fixture *f = *state;
	struct audit_filter flt = { 0 };
	struct rows r;
	json_t *list;

	assert_int_equal(store_begin(f->db.st), 0);
	for (int i = 0; i < 150; i++)
		append(f, (T0 + i) * 1000000, "10.0.0.1", "ok", 200);
	assert_int_equal(store_commit(f->db.st), 0);
	list = query(f, &flt, &r);
	assert_int_equal(json_array_size(list), 100);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "seq")), 51);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 99), "seq")), 150);
	json_decref(list);
	flt.limit = 1000;
	list = query(f, &flt, &r);
	assert_int_equal(json_array_size(list), 150);
	json_decref(list);
}

/* What a client sent cannot break the JSON, the syslog line or the row size. */
static void test_hostile_fields_are_bounded_and_clean(void **state)
{
	struct fixture *f = *state;
	struct audit_item items[64];
	char big[2000], item_text[64][100];
	struct audit_filter flt = { 0 };
	struct audit_row row = {
		.time_us = T0 * 1000000, .transport = "http", .source = "10.0.0.1\nforged line",
		.user = "ev\"il\\", .items = items, .nitems = 64, .status = 400, .reason = "bad-request",
	};
	struct rows r;
	json_t *list, *o, *it;
	const char *req;

	memset(big, '"', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "a\r\nb\x01\xff\xc3(\xe2\x82\xac", 11);   /* controls, bad UTF-8, then a valid euro sign */
	row.request = big;
	for (int i = 0; i < 64; i++) {
		memset(item_text[i], '\\', 99);
		item_text[i][99] = '\0';
		items[i].item = item_text[i];
		items[i].outcome = "not-run";
	}
	assert_int_equal(audit_append(f->a, &row, NULL), 0);
	list = query(f, &flt, &r);
	assert_int_equal(json_array_size(list), 1);
	o = json_array_get(list, 0);
	req = json_string_value(json_object_get(o, "request"));
	assert_non_null(req);
	assert_true(strlen(req) <= 511);
	assert_memory_equal(req, "a??b???" "(\xe2\x82\xac\"", 12);
	assert_string_equal(json_string_value(json_object_get(o, "source")), "10.0.0.1?forged line");
	assert_string_equal(json_string_value(json_object_get(o, "user")), "ev\"il\\");
	it = json_object_get(o, "items");
	assert_true(json_array_size(it) >= 2 && json_array_size(it) < 64);
	/* Items that did not fit are counted, not silently dropped. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(it, json_array_size(it) - 1),
							      "outcome")), "truncated");
	assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(it, 0), "item"))), 63);
	json_decref(list);
}

static int stop_after_one(void *arg, const char *json)
{
	int *n = arg;

	(void)json;
	return ++*n == 1 ? -EPIPE : 0;
}

static void test_callback_error_stops(void **state)
{
	struct fixture *f = *state;
	struct audit_filter flt = { 0 };
	int n = 0;

	for (int i = 0; i < 3; i++)
		append(f, T0 * 1000000, "10.0.0.1", "ok", 200);
	assert_int_equal(audit_query(f->a, &flt, stop_after_one, &n), -EPIPE);
	assert_int_equal(n, 1);
	/* Statements were reset: appending and querying still work. */
	append(f, T0 * 1000000, "10.0.0.1", "ok", 200);
	n = 100;
	assert_int_equal(audit_query(f->a, &flt, stop_after_one, &n), 0);
	assert_int_equal(n, 104);
}

/* Runs with no syslog daemon (no /dev/log in CI): appending must neither
 * fail nor block.  Also the row survives a rollback only if committed. */
static void test_syslog_without_daemon_and_rollback(void **state)
{
	struct fixture *f = *state;
	struct audit *second;

	/* A second instance (openlog only once per process) is fine. */
	assert_int_equal(audit_init(f->db.st, 5, &second), 0);
	assert_int_equal(store_begin(f->db.st), 0);
	append(f, T0 * 1000000, "10.0.0.1", "ok", 200);
	assert_int_equal(store_rollback(f->db.st), 0);
	assert_int_equal(tu_query_int(f->db.st, "SELECT count(*) FROM audit"), 0);
	assert_int_equal(store_begin(f->db.st), 0);
	for (int i = 0; i < 1000; i++)
		append(f, T0 * 1000000, "10.0.0.1", i & 1 ? "ok" : "auth", i & 1 ? 200 : 401);
	assert_int_equal(store_commit(f->db.st), 0);
	assert_int_equal(tu_query_int(f->db.st, "SELECT count(*) FROM audit"), 1000);
	audit_free(second);
	assert_int_equal(audit_init(f->db.st, 0, &second), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_row_json_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_and_delete_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_keeps_max_rows, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_prune_rolled_back, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_limit_is_100, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_fields_are_bounded_and_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_error_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syslog_without_daemon_and_rollback, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
