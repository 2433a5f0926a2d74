/*
 * The audit group commit: rows staged on the loop get their seq at once, are
 * written by the worker thread in one transaction, each row's durable
 * callback comes back on the loop in order and only once its row is on disk,
 * rows staged meanwhile go in the next batch, a loop turn's rows are written
 * without anyone asking, and closing writes everything still staged.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <uv.h>

#include "services/exec/audit.h"
#include "services/exec/audit_batch.h"
#include "services/exec/store.h"

#include "testutil.h"

struct fixture {
	char dir[64];
	char db[128];
	uv_loop_t loop;
	struct store *st;
	struct audit *audit;
	struct audit_batch *batch;
	int durable_calls;
	int errors;
	uint64_t last_seq;               /* seqs must come back in order */
	bool out_of_order;
	int rows_on_disk[8];             /* count(*) seen by the first rows' callbacks */
};

static int count_rows(struct fixture *f, const char *where);

static void on_durable(void *arg, uint64_t seq, int err)
{
	struct fixture *f = arg;

	if (seq <= f->last_seq)
		f->out_of_order = true;
	f->last_seq = seq;
	if (err)
		f->errors++;
	if (f->durable_calls < 8)
		f->rows_on_disk[f->durable_calls] = count_rows(f, "");
	f->durable_calls++;
}

static void open_all(struct fixture *f, unsigned max_rows)
{
	assert_int_equal(store_open(f->db, &f->st), 0);
	assert_int_equal(audit_init(f->st, max_rows, &f->audit), 0);
	assert_int_equal(audit_batch_open(&f->loop, f->db, max_rows, f->audit, &f->batch), 0);
}

static void close_all(struct fixture *f)
{
	audit_batch_close(f->batch);
	audit_free(f->audit);
	store_close(f->st);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_int_equal(tu_tmpdir(f->dir, sizeof(f->dir), "batch"), 0);
	snprintf(f->db, sizeof(f->db), "%s/aurid.db", f->dir);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	open_all(f, 1000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->batch)
		close_all(f);
	uv_loop_close(&f->loop);
	assert_int_equal(tu_rmtree(f->dir), 0);
	free(f);
	return 0;
}

static void stage(struct fixture *f, const char *source, uint64_t *seq)
{
	struct audit_item item = { "OK", "ok", NULL };
	struct audit_row row = {
		.time_us = 1800000000000000, .transport = "http", .source = source, .user = "admin",
		.request = "GET /servlet?key=OK", .items = &item, .nitems = 1, .status = 200, .reason = "ok",
	};

	assert_int_equal(audit_batch_stage(f->batch, &row, on_durable, f, seq), 0);
}

static int count_rows(struct fixture *f, const char *where)
{
	char sql[256];
	sqlite3_stmt *s;
	int n;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit %s", where);
	assert_int_equal(sqlite3_prepare_v2(f->st->db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void wait_durable(struct fixture *f, int calls)
{
	for (int i = 0; i < 1000 && f->durable_calls < calls; i++)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(f->durable_calls, calls);
	assert_int_equal(f->errors, 0);
	assert_false(f->out_of_order);
}

static void test_batch_written_with_seqs(void **state)
{
	struct fixture *f = *state;
	uint64_t s1, s2, s3;

	stage(f, "10.0.0.1", &s1);
	stage(f, "10.0.0.2", &s2);
	assert_int_equal(s1, 1);
	assert_int_equal(s2, 2);
	assert_int_equal(audit_batch_staged(f->batch), 2);
	/* Nothing is in the database before the batch is written. */
	assert_int_equal(count_rows(f, ""), 0);
	assert_true(audit_batch_flush(f->batch));
	assert_true(audit_batch_busy(f->batch));
	/* Staged while the first batch is on disk: waits for the next one. */
	stage(f, "10.0.0.3", &s3);
	assert_int_equal(s3, 3);
	assert_false(audit_batch_flush(f->batch));
	assert_int_equal(f->durable_calls, 0);
	wait_durable(f, 3);
	/* Rows 1 and 2 were told when their batch (and only it) was on disk;
	 * row 3 went in the next batch, started when the first was done. */
	assert_int_equal(f->rows_on_disk[0], 2);
	assert_int_equal(f->rows_on_disk[1], 2);
	assert_int_equal(f->rows_on_disk[2], 3);
	assert_int_equal(count_rows(f, "WHERE seq = 2 AND source = '10.0.0.2'"), 1);
	assert_int_equal(count_rows(f, "WHERE seq = 3"), 1);
	assert_false(audit_batch_busy(f->batch));
}

static void test_loop_turn_writes_staged_rows(void **state)
{
	struct fixture *f = *state;
	uint64_t seq;

	/* Nobody flushes: the end of the loop turn does. */
	stage(f, "10.0.0.4", &seq);
	stage(f, "10.0.0.5", &seq);
	wait_durable(f, 2);
	assert_int_equal(f->rows_on_disk[0], 2);
	assert_int_equal(audit_batch_staged(f->batch), 0);
}

static void test_close_writes_what_is_staged(void **state)
{
	struct fixture *f = *state;
	uint64_t seq;

	for (int i = 0; i < 500; i++)
		stage(f, "10.0.0.9", &seq);
	assert_true(audit_batch_flush(f->batch));
	stage(f, "10.0.0.10", &seq);
	close_all(f);
	f->batch = NULL;
	/* Every row was told, and none failed. */
	assert_int_equal(f->durable_calls, 501);
	assert_int_equal(f->errors, 0);
	assert_false(f->out_of_order);
	open_all(f, 1000);
	assert_int_equal(count_rows(f, ""), 501);
	/* seq goes on after a restart. */
	stage(f, "10.0.0.11", &seq);
	assert_int_equal(seq, 502);
}

static void test_seq_survives_pruning(void **state)
{
	struct fixture *f = *state;
	uint64_t seq = 0;

	close_all(f);
	open_all(f, 100);
	for (int i = 0; i < 400; i++)
		stage(f, "10.0.0.1", &seq);
	assert_true(audit_batch_flush(f->batch));
	wait_durable(f, 400);
	/* The pruner ran (every 256 rows) and kept at most 100 rows ... */
	assert_true(count_rows(f, "") <= 100);
	close_all(f);
	open_all(f, 100);
	/* ... yet a new row never reuses a pruned seq. */
	stage(f, "10.0.0.1", &seq);
	assert_int_equal(seq, 401);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_written_with_seqs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_turn_writes_staged_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_writes_what_is_staged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_survives_pruning, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
