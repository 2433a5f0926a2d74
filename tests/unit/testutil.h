/*
 * What the unit tests share: a scratch directory under /tmp and its removal,
 * a store opened in one, small file and query helpers.  Static inline, since
 * every tests/unit/test_*.c is a program of its own.
 */
#ifndef AURID_TESTUTIL_H
#define AURID_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "services/exec/store.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Makes a fresh directory /tmp/aurid-<name>-XXXXXX; dir gets its path.
 * 0, or -1 if it does not fit in size or cannot be made. */
static inline int tu_tmpdir(char *dir, size_t size, const char *name)
{
	int n = snprintf(dir, size, "/tmp/aurid-%s-XXXXXX", name);

	if (n < 0 || (size_t)n >= size)
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

static inline int tu__rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Removes dir and everything below it; links are removed, never followed.
 * 0 or -1. */
static inline int tu_rmtree(const char *dir)
{
	return nftw(dir, tu__rm_one, 8, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

/* A scratch directory holding a database path, the executor's store's. */
struct tu_db {
	char dir[64];
	char path[128];         /* <dir>/aurid.db */
	struct store *st;       /* set by tu_db_open() */
};

/* Makes the directory (tu_tmpdir) and names aurid.db in it; the database
 * itself is not created.  0 or -1. */
static inline int tu_db_make(struct tu_db *db, const char *name)
{
	if (tu_tmpdir(db->dir, sizeof(db->dir), name))
		return -1;
	snprintf(db->path, sizeof(db->path), "%s/aurid.db", db->dir);
	return 0;
}

/* tu_db_make(), then store_open() there.  0 or -1. */
static inline int tu_db_open(struct tu_db *db, const char *name)
{
	if (tu_db_make(db, name) || store_open(db->path, &db->st))
		return -1;
	return 0;
}

/* Closes the store if one is open and removes the directory.  0 or -1. */
static inline int tu_db_remove(struct tu_db *db)
{
	store_close(db->st);
	db->st = NULL;
	return tu_rmtree(db->dir);
}

/* The first column of the first row sql returns, -1 if it returns none. */
static inline int64_t tu_query_int(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Creates or truncates path (0644 less the umask) and writes data whole. */
static inline void tu_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

#endif
