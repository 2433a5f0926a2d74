#include "consent_store.h"

#include <errno.h>
#include <stdlib.h>

struct consent_store {
	struct store *st;
	sqlite3_stmt *select, *upsert, *delete, *list;
};

int consent_store_init(struct store *st, struct consent_store **out)
{
	struct consent_store *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->st = st;
	err = store_prepare(st, "SELECT granted FROM consent WHERE source = ?1", &c->select);
	if (!err)
		err = store_prepare(st, "INSERT INTO consent (source, granted, transport) VALUES (?1, ?2, ?3)"
				    " ON CONFLICT (source) DO UPDATE SET granted = ?2, transport = ?3", &c->upsert);
	if (!err)
		err = store_prepare(st, "DELETE FROM consent WHERE source = ?1", &c->delete);
	if (!err)
		err = store_prepare(st, "SELECT source, transport, granted FROM consent ORDER BY granted", &c->list);
	if (err) {
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

void consent_store_free(struct consent_store *c)
{
	/* Statements belong to the store. */
	free(c);
}

int consent_store_has(struct consent_store *c, const char *source, unsigned max_age, int64_t now, bool *yes)
{
	int rc;

	*yes = false;
	sqlite3_bind_text(c->select, 1, source, -1, SQLITE_STATIC);
	rc = sqlite3_step(c->select);
	if (rc == SQLITE_ROW) {
		int64_t granted = sqlite3_column_int64(c->select, 0);

		*yes = max_age == 0 || now - granted < (int64_t)max_age;
	}
	sqlite3_reset(c->select);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(c->st, rc, "consent: select");
	return 0;
}

int consent_store_grant(struct consent_store *c, const char *source, const char *transport, int64_t now)
{
	int rc;

	sqlite3_bind_text(c->upsert, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(c->upsert, 2, now);
	sqlite3_bind_text(c->upsert, 3, transport, -1, SQLITE_STATIC);
	rc = sqlite3_step(c->upsert);
	sqlite3_reset(c->upsert);
	return rc == SQLITE_DONE ? 0 : store_error(c->st, rc, "consent: grant");
}

int consent_store_revoke(struct consent_store *c, const char *source)
{
	int rc;

	sqlite3_bind_text(c->delete, 1, source, -1, SQLITE_STATIC);
	rc = sqlite3_step(c->delete);
	sqlite3_reset(c->delete);
	if (rc != SQLITE_DONE)
		return store_error(c->st, rc, "consent: revoke");
	return sqlite3_changes(c->st->db) > 0 ? 0 : -ENOENT;
}

int consent_store_list(struct consent_store *c, unsigned max_age,
		       int (*fn)(void *arg, const char *source, const char *transport, int64_t granted,
				 int64_t expires), void *arg)
{
	int rc, err = 0;

	while (!err && (rc = sqlite3_step(c->list)) == SQLITE_ROW) {
		int64_t granted = sqlite3_column_int64(c->list, 2);

		err = fn(arg, (const char *)sqlite3_column_text(c->list, 0),
			 (const char *)sqlite3_column_text(c->list, 1), granted,
			 max_age ? granted + (int64_t)max_age : 0);
	}
	sqlite3_reset(c->list);
	if (err)
		return err;
	return rc == SQLITE_DONE ? 0 : store_error(c->st, rc, "consent: list");
}
