/*
 * The executor's SQLite database: defensive open, embedded migrations,
 * transactions.
 */
#include "store.h"

#include "services/common/embedded.h"
#include "services/common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef AURID_NMIGRATIONS
#error "AURID_NMIGRATIONS must be defined by the build (aurid_embedded)"
#endif

/* Pages are 4 KiB: 512 KiB of cache keeps the executor well under its 8 MB
 * resident budget, and the hot statements (audit insert, user lookup) touch
 * only the right edge of a few b-trees. */
#define STORE_CACHE_KIB   512
#define STORE_BUSY_MS     5000
/* A WAL file that grew during a burst is truncated back to this at the next
 * checkpoint, so disk use stays bounded on a phone's small flash. */
#define STORE_WAL_LIMIT   (4 * 1024 * 1024)

int store_error(struct store *st, int rc, const char *what)
{
	const char *msg = st && st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);

	log_err("store: %s: %s (%d)", what, msg, rc);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	default:
		return -EIO;
	}
}

static int exec_sql(struct store *st, const char *sql, const char *what)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_error(st, rc, what);
}

/* Runs a statement that returns no row of interest and resets it, so it never
 * holds a read snapshot open between loop turns. */
static int step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_error(st, rc, what);
	return 0;
}

int store_prepare(struct store *st, const char *sql, sqlite3_stmt **out)
{
	int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);

	if (rc != SQLITE_OK) {
		*out = NULL;
		return store_error(st, rc, sql);
	}
	return 0;
}

int store_schema_version(struct store *st, int *version)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);

	if (rc != SQLITE_OK)
		return store_error(st, rc, "user_version");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_error(st, rc, "user_version");
}

/*
 * SQLite creates the file (and its -wal and -shm companions, which copy the
 * main file's mode) with 0644 & ~umask.  Creating it ourselves first makes
 * it 0600 whatever the umask, and tightens a file left too open by hand.
 * O_NOFOLLOW: the state directory is ours, but a planted symlink must not
 * make us write elsewhere.
 */
static int file_prepare(const char *path)
{
	struct stat sb;
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	int err = 0;

	if (fd < 0) {
		err = -errno;
		log_err("store: %s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &sb) < 0) {
		err = -errno;
	} else if (!S_ISREG(sb.st_mode)) {
		log_err("store: %s: not a regular file", path);
		err = -EINVAL;
	} else if ((sb.st_mode & 077) && fchmod(fd, 0600) < 0) {
		err = -errno;
		log_err("store: %s: chmod 0600: %s", path, strerror(errno));
	}
	close(fd);
	return err;
}

static int pragma_expect(struct store *st, const char *sql, const char *want)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	int err = 0;

	if (rc != SQLITE_OK)
		return store_error(st, rc, sql);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		err = store_error(st, rc, sql);
	} else if (want && strcmp((const char *)sqlite3_column_text(s, 0), want) != 0) {
		log_err("store: %s gave %s, want %s", sql, sqlite3_column_text(s, 0), want);
		err = -EIO;
	}
	sqlite3_finalize(s);
	return err;
}

static int configure(struct store *st)
{
	static const int flags[][2] = {
		{ SQLITE_DBCONFIG_DEFENSIVE, 1 },
		{ SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0 },
		{ SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0 },
		{ SQLITE_DBCONFIG_ENABLE_TRIGGER, 1 },   /* the audit log relies on them */
		{ SQLITE_DBCONFIG_DQS_DML, 0 },          /* "x" is a name, never a string */
		{ SQLITE_DBCONFIG_DQS_DDL, 0 },
	};
	char sql[64];
	int err;

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		int got = -1;
		int rc = sqlite3_db_config(st->db, flags[i][0], flags[i][1], &got);

		if (rc != SQLITE_OK || got != flags[i][1]) {
			log_err("store: sqlite3_db_config(%d) refused", flags[i][0]);
			return -EIO;
		}
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	err = exec_sql(st, "PRAGMA trusted_schema = OFF; PRAGMA foreign_keys = ON;"
		       " PRAGMA synchronous = FULL;", "pragmas");
	if (err)
		return err;
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", STORE_CACHE_KIB);
	err = exec_sql(st, sql, "cache_size");
	if (err)
		return err;
	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %d", STORE_WAL_LIMIT);
	err = pragma_expect(st, sql, NULL);
	if (err)
		return err;
	/* journal_mode answers with the mode reached: anything but "wal" (a
	 * read-only directory, a filesystem without shared memory) is fatal, not
	 * a silent fallback to a rollback journal. */
	return pragma_expect(st, "PRAGMA journal_mode = WAL", "wal");
}

static int migrate(struct store *st)
{
	int version, err;

	err = store_schema_version(st, &version);
	if (err)
		return err;
	if (version > AURID_NMIGRATIONS || version < 0) {
		log_err("store: schema version %d is newer than this build knows (%d)",
			version, AURID_NMIGRATIONS);
		return -EPROTO;
	}
	for (int i = version; i < AURID_NMIGRATIONS; i++) {
		const char *sql = (const char *)aurid_migrations[i];
		char setv[48];

		/* The embedder NUL-terminates: an embedded NUL would silently cut
		 * the migration short. */
		if (strlen(sql) != aurid_migrations_len[i]) {
			log_err("store: migration %d contains a NUL byte", i + 1);
			return -EINVAL;
		}
		snprintf(setv, sizeof(setv), "PRAGMA user_version = %d", i + 1);
		err = store_begin(st);
		if (!err)
			err = exec_sql(st, sql, "migration");
		if (!err)
			err = exec_sql(st, setv, "user_version");
		if (!err)
			err = store_commit(st);
		if (err) {
			store_rollback(st);
			log_err("store: migration %d failed", i + 1);
			return err;
		}
		log_info("store: schema migrated to version %d", i + 1);
	}
	return 0;
}

int store_open(const char *path, struct store **out)
{
	struct store *st;
	int rc, err;

	*out = NULL;
	err = file_prepare(path);
	if (err)
		return err;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		err = store_error(st, rc, path);
		store_close(st);
		return err;
	}
	err = configure(st);
	if (!err)
		err = store_prepare(st, "BEGIN IMMEDIATE", &st->begin);
	if (!err)
		err = store_prepare(st, "COMMIT", &st->commit);
	if (!err)
		err = store_prepare(st, "ROLLBACK", &st->rollback);
	if (!err)
		err = migrate(st);
	if (err) {
		store_close(st);
		return err;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	sqlite3_stmt *s;

	if (!st)
		return;
	if (st->db) {
		if (st->in_tx)
			store_rollback(st);
		while ((s = sqlite3_next_stmt(st->db, NULL)))
			sqlite3_finalize(s);
		if (sqlite3_close(st->db) != SQLITE_OK)
			log_err("store: close: %s", sqlite3_errmsg(st->db));
	}
	free(st);
}

int store_begin(struct store *st)
{
	int err;

	if (st->in_tx)
		return -EALREADY;
	err = step_done(st, st->begin, "begin");
	if (!err)
		st->in_tx = true;
	return err;
}

int store_commit(struct store *st)
{
	int err;

	if (!st->in_tx)
		return -EINVAL;
	err = step_done(st, st->commit, "commit");
	if (err) {
		/* A failed COMMIT may leave the transaction open; never let the
		 * next loop turn's rows join a transaction that already failed. */
		store_rollback(st);
		return err;
	}
	st->in_tx = false;
	return 0;
}

int store_rollback(struct store *st)
{
	int err = 0;

	if (!st->in_tx)
		return 0;
	st->rollbacks++;
	/* SQLite may already have rolled back by itself (after SQLITE_FULL,
	 * SQLITE_IOERR ...); ROLLBACK would then fail with "no transaction". */
	if (!sqlite3_get_autocommit(st->db))
		err = step_done(st, st->rollback, "rollback");
	st->in_tx = false;
	return err;
}

int store_atomic_begin(struct store *st, bool *own)
{
	*own = !st->in_tx;
	if (*own)
		return store_begin(st);
	return exec_sql(st, "SAVEPOINT aurid_atomic", "savepoint");
}

int store_atomic_end(struct store *st, bool own, int err)
{
	if (own) {
		if (err) {
			store_rollback(st);
			return err;
		}
		return store_commit(st);
	}
	if (err) {
		/* ROLLBACK TO undoes the change but keeps the savepoint on the
		 * stack; RELEASE then pops it, leaving the caller's transaction as
		 * it was before store_atomic_begin(). */
		st->rollbacks++;
		exec_sql(st, "ROLLBACK TO aurid_atomic", "rollback to");
		exec_sql(st, "RELEASE aurid_atomic", "release");
		return err;
	}
	return exec_sql(st, "RELEASE aurid_atomic", "release");
}
