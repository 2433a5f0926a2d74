/*
 * The executor's SQLite database: opened defensively, migrated from the
 * numbered files in sql/ (embedded at build time), WAL mode, synchronous=FULL.
 * Every statement is prepared once at open; no SQL text crosses IPC.
 */
#ifndef AURID_STORE_H
#define AURID_STORE_H

#include <sqlite3.h>
#include <stdbool.h>

struct store {
	sqlite3 *db;
	bool in_tx;
	/* Prepared statements live in the modules that use them (trust.c,
	 * users.c, audit.c ...), each prepared once by its own *_init(). */
};

/* Opens (creating if needed) path with SQLITE_OPEN_NOFOLLOW, sets
 * SQLITE_DBCONFIG_DEFENSIVE, trusted_schema=OFF, WAL, synchronous=FULL,
 * foreign_keys=ON, a small page cache, and applies pending migrations in one
 * transaction each, recording PRAGMA user_version.  0 or -errno (-EIO for
 * SQLite errors, logged with sqlite3_errmsg). */
int store_open(const char *path, struct store **out);
void store_close(struct store *st);

/* Group commit: the executor opens one transaction per loop turn, appends the
 * audit rows of every request decided in that turn, commits, then answers. */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/* Prepares a statement that lives until store_close(). */
int store_prepare(struct store *st, const char *sql, sqlite3_stmt **out);

/* Current schema version (PRAGMA user_version). */
int store_schema_version(struct store *st, int *version);

#endif
