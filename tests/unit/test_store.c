/* store: defensive open, migrations, file modes, transactions. */
#include "services/exec/store.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

/* Each test opens and closes its own store at path; none is open here. */
static int setup(void **state)
{
	struct tu_db *f = calloc(1, sizeof(*f));

	if (!f || tu_db_make(f, "store")) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct tu_db *f = *state;
	int r = tu_db_remove(f);

	free(f);
	return r;
}

static const char *query_text(struct store *st, const char *sql, char *buf, size_t size)
{
	sqlite3_stmt *s;

	buf[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(buf, size, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

static void assert_mode_0600(const char *path)
{
	struct stat sb;

	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_open_creates_schema(void **state)
{
	struct tu_db *f = *state;
	static const char *const tables[] = { "trust", "consent", "users", "settings", "audit", "audit_prune_flag" };
	static const char *const triggers[] = { "audit_no_update", "audit_no_delete", "audit_prune_flag_keep" };
	struct store *st;
	char sql[160];
	int v = -1;

	assert_int_equal(store_open(f->path, &st), 0);
	assert_int_equal(store_schema_version(st, &v), 0);
	assert_int_equal(v, AURID_NMIGRATIONS);
	assert_true(v >= 1);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '%s'",
			 tables[i]);
		assert_int_equal(tu_query_int(st, sql), 1);
	}
	for (size_t i = 0; i < sizeof(triggers) / sizeof(triggers[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name = '%s'",
			 triggers[i]);
		assert_int_equal(tu_query_int(st, sql), 1);
	}
	assert_int_equal(tu_query_int(st, "SELECT enabled FROM audit_prune_flag WHERE id = 1"), 0);
	store_close(st);
}

static void test_files_are_0600_whatever_the_umask(void **state)
{
	struct tu_db *f = *state;
	char p[160];
	struct store *st;
	mode_t old = umask(0);

	assert_int_equal(store_open(f->path, &st), 0);
	umask(old);
	/* A write makes sure -wal and -shm exist. */
	assert_int_equal(sqlite3_exec(st->db, "INSERT INTO settings VALUES ('k', 'v')", NULL, NULL, NULL), SQLITE_OK);
	assert_mode_0600(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	assert_mode_0600(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	assert_mode_0600(p);
	store_close(st);

	/* A file left too open by hand is tightened. */
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_int_equal(store_open(f->path, &st), 0);
	assert_mode_0600(f->path);
	store_close(st);
}

static void test_pragmas_and_defensive(void **state)
{
	struct tu_db *f = *state;
	struct store *st;
	char buf[32];
	int on = -1;

	assert_int_equal(store_open(f->path, &st), 0);
	assert_string_equal(query_text(st, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
	assert_int_equal(tu_query_int(st, "PRAGMA synchronous"), 2);   /* FULL */
	assert_int_equal(tu_query_int(st, "PRAGMA foreign_keys"), 1);
	assert_int_equal(tu_query_int(st, "PRAGMA trusted_schema"), 0);
	assert_true(tu_query_int(st, "PRAGMA cache_size") < 0);
	assert_true(tu_query_int(st, "PRAGMA cache_size") >= -1024);   /* at most 1 MiB */
	assert_int_equal(sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, -1, &on), SQLITE_OK);
	assert_int_equal(on, 1);
	/* Defensive mode: the schema cannot be edited behind SQLite's back. */
	sqlite3_exec(st->db, "PRAGMA writable_schema = ON", NULL, NULL, NULL);
	assert_int_not_equal(sqlite3_exec(st->db, "UPDATE sqlite_schema SET sql = '' WHERE name = 'audit_no_delete'",
					  NULL, NULL, NULL), SQLITE_OK);
	store_close(st);
}

static void test_reopen_is_idempotent(void **state)
{
	struct tu_db *f = *state;
	struct store *st;
	int v = -1;

	assert_int_equal(store_open(f->path, &st), 0);
	assert_int_equal(sqlite3_exec(st->db, "INSERT INTO settings VALUES ('kept', 'yes')", NULL, NULL, NULL),
			 SQLITE_OK);
	store_close(st);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_open(f->path, &st), 0);
		assert_int_equal(store_schema_version(st, &v), 0);
		assert_int_equal(v, AURID_NMIGRATIONS);
		assert_int_equal(tu_query_int(st, "SELECT count(*) FROM settings WHERE key = 'kept'"), 1);
		assert_int_equal(tu_query_int(st, "SELECT count(*) FROM audit_prune_flag"), 1);
		store_close(st);
	}
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_newer_schema_refused(void **state)
{
	struct tu_db *f = *state;
	struct store *st;
	char sql[64];

	assert_int_equal(store_open(f->path, &st), 0);
	store_close(st);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", AURID_NMIGRATIONS + 1);
	raw_exec(f->path, sql);
	st = (struct store *)1;
	assert_int_equal(store_open(f->path, &st), -EPROTO);
	assert_null(st);
}

/* A migration that fails leaves nothing half-done: version 0, no tables. */
static void test_failed_migration_rolls_back(void **state)
{
	struct tu_db *f = *state;
	struct store *st;

	raw_exec(f->path, "CREATE TABLE audit (x INTEGER)");
	assert_int_equal(store_open(f->path, &st), -EIO);
	{
		sqlite3 *db;
		sqlite3_stmt *s;

		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT user_version FROM pragma_user_version),"
						    " (SELECT count(*) FROM sqlite_schema WHERE name = 'trust')",
						    -1, &s, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(s, 0), 0);
		assert_int_equal(sqlite3_column_int(s, 1), 0);
		sqlite3_finalize(s);
		sqlite3_close(db);
	}
}

static void test_symlink_refused(void **state)
{
	struct tu_db *f = *state;
	char target[128], link[128];
	struct store *st;
	struct stat sb;

	snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
	snprintf(link, sizeof(link), "%s/link.db", f->dir);
	assert_int_equal(symlink(target, link), 0);
	assert_true(store_open(link, &st) < 0);
	assert_null(st);
	/* Nothing was created through the link. */
	assert_int_equal(stat(target, &sb), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_transactions(void **state)
{
	struct tu_db *f = *state;
	struct store *st;
	bool own = true;

	assert_int_equal(store_open(f->path, &st), 0);
	assert_int_equal(store_commit(st), -EINVAL);
	assert_int_equal(store_rollback(st), 0);

	assert_int_equal(store_begin(st), 0);
	assert_true(st->in_tx);
	assert_int_equal(store_begin(st), -EALREADY);
	assert_int_equal(sqlite3_exec(st->db, "INSERT INTO settings VALUES ('a', '1')", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_rollback(st), 0);
	assert_false(st->in_tx);
	assert_int_equal(tu_query_int(st, "SELECT count(*) FROM settings"), 0);

	assert_int_equal(store_begin(st), 0);
	assert_int_equal(sqlite3_exec(st->db, "INSERT INTO settings VALUES ('b', '1')", NULL, NULL, NULL), SQLITE_OK);
	/* An atomic change inside the group transaction: undone alone. */
	assert_int_equal(store_atomic_begin(st, &own), 0);
	assert_false(own);
	assert_int_equal(sqlite3_exec(st->db, "INSERT INTO settings VALUES ('c', '1')", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_atomic_end(st, own, -EINVAL), -EINVAL);
	assert_true(st->in_tx);
	assert_int_equal(store_atomic_begin(st, &own), 0);
	assert_int_equal(sqlite3_exec(st->db, "INSERT INTO settings VALUES ('d', '1')", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_atomic_end(st, own, 0), 0);
	assert_int_equal(store_commit(st), 0);
	assert_false(st->in_tx);
	{
		char buf[16];

		assert_string_equal(query_text(st, "SELECT group_concat(key, '') FROM"
					       " (SELECT key FROM settings ORDER BY key)", buf, sizeof(buf)), "bd");
	}

	/* Outside a transaction, atomic makes its own. */
	assert_int_equal(store_atomic_begin(st, &own), 0);
	assert_true(own);
	assert_true(st->in_tx);
	assert_int_equal(sqlite3_exec(st->db, "INSERT INTO settings VALUES ('e', '1')", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_atomic_end(st, own, -EIO), -EIO);
	assert_false(st->in_tx);
	assert_int_equal(tu_query_int(st, "SELECT count(*) FROM settings WHERE key = 'e'"), 0);
	store_close(st);
}

/* A committed row survives close and reopen (WAL is checkpointed or read back). */
static void test_commit_is_durable_across_reopen(void **state)
{
	struct tu_db *f = *state;
	struct store *st;

	assert_int_equal(store_open(f->path, &st), 0);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(sqlite3_exec(st->db, "INSERT INTO settings VALUES ('x', 'y')", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_commit(st), 0);
	/* Closing with an open transaction rolls it back. */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(sqlite3_exec(st->db, "INSERT INTO settings VALUES ('z', 'y')", NULL, NULL, NULL), SQLITE_OK);
	store_close(st);
	assert_int_equal(store_open(f->path, &st), 0);
	assert_int_equal(tu_query_int(st, "SELECT count(*) FROM settings WHERE key = 'x'"), 1);
	assert_int_equal(tu_query_int(st, "SELECT count(*) FROM settings WHERE key = 'z'"), 0);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_are_0600_whatever_the_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pragmas_and_defensive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_migration_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_is_durable_across_reopen, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
