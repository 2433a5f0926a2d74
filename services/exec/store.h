/*
 * The executor's SQLite database: opened defensively, migrated from the
 * numbered files in sql/ (embedded at build time), WAL mode, synchronous=FULL.
 * Every statement is prepared once at open; no SQL text crosses IPC.
 *
 * One connection, used from the executor's loop thread only.
 */
#ifndef AURID_STORE_H
#define AURID_STORE_H

#include <sqlite3.h>
#include <stdbool.h>

struct store {
	sqlite3 *db;
	bool in_tx;
	/* Counts store_rollback() calls, so a module holding an in-memory copy
	 * of a table (trust.c) notices that its last change may be undone and
	 * reloads. */
	unsigned long rollbacks;
	/* Prepared statements live in the modules that use them (trust.c,
	 * users.c, audit.c ...), each prepared once by its own *_init(). */
	sqlite3_stmt *begin, *commit, *rollback;
};

/* Opens (creating if needed) path with SQLITE_OPEN_NOFOLLOW, sets
 * SQLITE_DBCONFIG_DEFENSIVE, trusted_schema=OFF, WAL, synchronous=FULL,
 * foreign_keys=ON, a small page cache, and applies pending migrations in one
 * transaction each, recording PRAGMA user_version.  0 or -errno (-EIO for
 * SQLite errors, logged with sqlite3_errmsg; -EPROTO for a database written
 * by a newer build).  The file is created mode 0600. */
int store_open(const char *path, struct store **out);
/* Finalizes every statement store_prepare() made; NULL is fine. */
void store_close(struct store *st);

/* Group commit: the executor opens one transaction per loop turn, appends the
 * audit rows of every request decided in that turn, commits, then answers.
 * begin: BEGIN IMMEDIATE (-EALREADY if one is open).  commit: on failure the
 * transaction is rolled back and -EIO returned.  rollback: no-op when none. */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/* A change that must be all-or-nothing whether or not the caller has a
 * transaction open (trust import, user add): a SAVEPOINT inside the caller's
 * transaction, else a transaction of its own.  end() with err == 0 keeps the
 * change, otherwise undoes it; it returns err, or the commit's error. */
int store_atomic_begin(struct store *st, bool *own);
int store_atomic_end(struct store *st, bool own, int err);

/* Prepares a statement that lives until store_close() (which finalizes it:
 * callers never finalize these themselves). */
int store_prepare(struct store *st, const char *sql, sqlite3_stmt **out);

/* Current schema version (PRAGMA user_version). */
int store_schema_version(struct store *st, int *version);

/* Logs "what: sqlite message" and maps an SQLite result code to -errno:
 * -EBUSY, -ENOSPC, -ENOMEM, -EEXIST (constraint), else -EIO. */
int store_error(struct store *st, int rc, const char *what);

#endif
