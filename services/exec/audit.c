/*
 * The audit log: one prepared INSERT per decided request (on the hot path:
 * no allocation, fields bounded and cleaned into buffers owned by struct
 * audit), a syslog line per row, the retention pruner, and the JSON queries.
 */
#include "audit.h"

#include "services/common/log.h"
#include "syslog_out.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

/* Field sizes, NUL included (see AUDIT_JSON_MAX in audit.h). */
#define REQUEST_SIZE    AUDIT_REQUEST_SIZE
#define ITEM_SIZE       64
#define OUTCOME_SIZE    16
#define ITEMS_JSON_MAX  2048
/* Room kept at the end of the items array for the "+N more" marker. */
#define ITEMS_MARKER    64
/* One syslog line: what a classic syslog daemon keeps without cutting. */
#define SYSLOG_LINE     1024

#define QUERY_DEFAULT   100
#define QUERY_MAX       1000000

struct audit {
	struct store *st;
	unsigned max_rows;
	sqlite3_stmt *insert;
	sqlite3_stmt *span;            /* min and max seq */
	sqlite3_stmt *prune_flag;      /* set the pruner flag */
	sqlite3_stmt *prune_delete;
	sqlite3_stmt *q_cut[2], *q_rows[2];   /* [0] any source, [1] one source */
	sqlite3_stmt *next_seq;
	struct audit_staged row;       /* audit_append's staging area */
	char line[SYSLOG_LINE];
	char escaped[2 * REQUEST_SIZE];
};

/* ---- cleaning ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid:
 * overlong forms, surrogates and code points beyond U+10FFFF included, as
 * jansson refuses those. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Copies src into dst (size bytes, NUL included): control characters and
 * invalid UTF-8 become '?', and a cut never splits a character. */
static void clean(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t n = strlen((const char *)s), o = 0;

	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(s + i, n - i);

		if (len == 0 || (len == 1 && (s[i] < 0x20 || s[i] == 0x7f))) {
			if (o + 1 >= size)
				break;
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + len >= size)
			break;
		memcpy(dst + o, s + i, len);
		o += len;
		i += len;
	}
	dst[o] = '\0';
}

/* Appends s as a JSON string body (quotes and backslashes escaped; s is
 * already clean) at *off; false if it does not fit below cap. */
static bool put_escaped(char *buf, size_t cap, size_t *off, const char *s)
{
	size_t o = *off;

	for (; *s; s++) {
		bool esc = *s == '"' || *s == '\\';

		if (o + 1 + esc >= cap)
			return false;
		if (esc)
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	buf[o] = '\0';
	*off = o;
	return true;
}

static bool put_raw(char *buf, size_t cap, size_t *off, const char *s)
{
	size_t n = strlen(s);

	if (*off + n >= cap)
		return false;
	memcpy(buf + *off, s, n + 1);
	*off += n;
	return true;
}

/* The items column: [{"item":"OK","outcome":"ok"},...], at most
 * ITEMS_JSON_MAX bytes plus the "+N more" marker. */
static void items_build(char *out, size_t outlen, const struct audit_item *items, size_t nitems)
{
	char item[ITEM_SIZE], outcome[OUTCOME_SIZE], detail[128];
	size_t off = 0, i;

	put_raw(out, outlen, &off, "[");
	for (i = 0; i < nitems; i++) {
		size_t mark = off;

		clean(item, sizeof(item), items[i].item);
		clean(outcome, sizeof(outcome), items[i].outcome);
		clean(detail, sizeof(detail), items[i].detail);
		if (!(put_raw(out, ITEMS_JSON_MAX, &off, i ? ",{\"item\":\"" : "{\"item\":\"") &&
		      put_escaped(out, ITEMS_JSON_MAX, &off, item) &&
		      put_raw(out, ITEMS_JSON_MAX, &off, "\",\"outcome\":\"") &&
		      put_escaped(out, ITEMS_JSON_MAX, &off, outcome) &&
		      (!items[i].detail || (put_raw(out, ITEMS_JSON_MAX, &off, "\",\"detail\":\"") &&
					    put_escaped(out, ITEMS_JSON_MAX, &off, detail))) &&
		      put_raw(out, ITEMS_JSON_MAX, &off, "\"}"))) {
			off = mark;
			break;
		}
	}
	if (i < nitems)
		off += (size_t)snprintf(out + off, outlen - off,
					"%s{\"item\":\"+%zu more\",\"outcome\":\"truncated\"}", i ? "," : "",
					nitems - i);
	put_raw(out, outlen, &off, "]");
}

/* ---- init ---- */

int audit_init(struct store *st, unsigned max_rows, struct audit **out)
{
	static bool syslog_open;
	static const char *const cols = "SELECT seq, time_us, transport, source, user, request, items, status,"
					" reason, latency_us FROM audit";
	/* ?1 since_us, ?2 until_us (exclusive), ?3 reason or NULL, ?4 source.
	 * "+time_us" keeps the planner off the time index: rows are always
	 * walked in seq order (the rowid, or the source index, which ends in
	 * the rowid), so "the newest N" stops after N matches and never needs
	 * a sort or a temporary file.  The worst case, a filter that matches
	 * little, reads the whole table once (about 30 ms for 100000 rows). */
	static const char *const where[2] = {
		" WHERE +time_us >= ?1 AND +time_us < ?2 AND (?3 IS NULL OR reason = ?3)",
		" WHERE source = ?4 AND +time_us >= ?1 AND +time_us < ?2 AND (?3 IS NULL OR reason = ?3)",
	};
	struct audit *a;
	char sql[512];
	int err;

	*out = NULL;
	if (max_rows == 0)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->st = st;
	a->max_rows = max_rows;
	err = store_prepare(st, "INSERT INTO audit (seq, time_us, transport, source, user, request, items, status,"
			    " reason, latency_us) VALUES (?10, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &a->insert);
	/* AUTOINCREMENT keeps the highest seq ever used in sqlite_sequence,
	 * even after the pruner deleted that row. */
	if (!err)
		err = store_prepare(st, "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit'), 0),"
				    " coalesce((SELECT max(seq) FROM audit), 0))", &a->next_seq);
	if (!err)
		err = store_prepare(st, "SELECT (SELECT min(seq) FROM audit), (SELECT max(seq) FROM audit)", &a->span);
	if (!err)
		err = store_prepare(st, "UPDATE audit_prune_flag SET enabled = ?1 WHERE id = 1", &a->prune_flag);
	if (!err)
		err = store_prepare(st, "DELETE FROM audit WHERE seq <= ?1", &a->prune_delete);
	/* Newest `limit` matching rows, printed oldest first, without a sort:
	 * first the seq of the limit-th newest match, then every match from it
	 * upwards in seq order. */
	for (int i = 0; i < 2 && !err; i++) {
		snprintf(sql, sizeof(sql), "SELECT seq FROM audit%s ORDER BY seq DESC LIMIT 1 OFFSET ?5", where[i]);
		err = store_prepare(st, sql, &a->q_cut[i]);
		if (err)
			break;
		snprintf(sql, sizeof(sql), "%s%s AND seq >= ?5 ORDER BY seq LIMIT ?6", cols, where[i]);
		err = store_prepare(st, sql, &a->q_rows[i]);
	}
	if (err) {
		free(a);
		return err;
	}
	if (!syslog_open) {
		/* The socket is made now, before a sandbox forbids socket(). */
		syslog_out_open("aurid", LOG_AUTHPRIV);
		syslog_open = true;
	}
	*out = a;
	return 0;
}

void audit_free(struct audit *a)
{
	/* Statements belong to the store; syslog stays open for the process. */
	free(a);
}

/* ---- append ---- */

static void syslog_row(struct audit *a, const struct audit_staged *r)
{
	size_t off = 0;
	int n;

	put_escaped(a->escaped, sizeof(a->escaped), &off, r->request);
	/* A long row is cut at SYSLOG_LINE: the database keeps it whole. */
	n = snprintf(a->line, sizeof(a->line),
		 "audit seq=%" PRIu64 " transport=%s source=%s user=%s%s%s status=%d reason=%s latency_us=%" PRId64
		 " request=\"%s\" items=%s",
		 r->seq, r->transport, r->source, r->has_user ? "\"" : "", r->has_user ? r->user : "-",
		 r->has_user ? "\"" : "", r->status, r->reason, r->latency_us, a->escaped, r->items);
	if (n < 0)
		return;
	syslog_out_send(r->status >= 400 ? LOG_NOTICE : LOG_INFO, a->line);
}

void audit_stage(struct audit *a, const struct audit_row *row, uint64_t seq, struct audit_staged *out)
{
	out->seq = seq;
	out->time_us = row->time_us;
	out->latency_us = row->latency_us;
	out->status = row->status;
	out->has_user = row->user != NULL;
	clean(out->request, sizeof(out->request), row->request);
	clean(out->source, sizeof(out->source), row->source);
	clean(out->user, sizeof(out->user), row->user);
	clean(out->transport, sizeof(out->transport), row->transport);
	clean(out->reason, sizeof(out->reason), row->reason);
	items_build(out->items, sizeof(out->items), row->items, row->items ? row->nitems : 0);
	if (seq)
		syslog_row(a, out);
}

int audit_insert(struct audit *a, const struct audit_staged *r)
{
	sqlite3_stmt *s = a->insert;
	int rc;

	if (r->seq)
		sqlite3_bind_int64(s, 10, (sqlite3_int64)r->seq);
	else
		sqlite3_bind_null(s, 10);
	sqlite3_bind_int64(s, 1, r->time_us);
	sqlite3_bind_text(s, 2, r->transport, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->source, -1, SQLITE_STATIC);
	if (r->has_user)
		sqlite3_bind_text(s, 4, r->user, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 4);
	sqlite3_bind_text(s, 5, r->request, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r->items, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 7, r->status);
	sqlite3_bind_text(s, 8, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, r->latency_us);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_error(a->st, rc, "audit: append");
	return 0;
}

int audit_append(struct audit *a, const struct audit_row *row, uint64_t *seq)
{
	uint64_t id;
	int err;

	audit_stage(a, row, 0, &a->row);
	err = audit_insert(a, &a->row);
	if (err)
		return err;
	id = (uint64_t)sqlite3_last_insert_rowid(a->st->db);
	a->row.seq = id;
	if (seq)
		*seq = id;
	syslog_row(a, &a->row);
	return 0;
}

int audit_next_seq(struct audit *a, uint64_t *seq)
{
	int rc = sqlite3_step(a->next_seq);

	*seq = 1;
	if (rc == SQLITE_ROW)
		*seq = (uint64_t)sqlite3_column_int64(a->next_seq, 0) + 1;
	sqlite3_reset(a->next_seq);
	return rc == SQLITE_ROW ? 0 : store_error(a->st, rc, "audit: next seq");
}

/* ---- prune ---- */

static int set_flag(struct audit *a, int on)
{
	int rc;

	sqlite3_bind_int(a->prune_flag, 1, on);
	rc = sqlite3_step(a->prune_flag);
	sqlite3_reset(a->prune_flag);
	if (rc != SQLITE_DONE)
		return store_error(a->st, rc, "audit: prune flag");
	return 0;
}

int audit_prune(struct audit *a)
{
	sqlite3_int64 lo = 0, hi = 0, cutoff;
	bool own;
	int rc, err;

	/* min and max seq are two b-tree descents.  seq has no gaps: rows are
	 * only ever appended (AUTOINCREMENT; a rolled-back insert rolls back
	 * the sequence too) and deleted oldest-first, so the span is the row
	 * count and the cut-off is plain arithmetic, with no walk over the
	 * max_rows rows kept.  Were a gap made by hand, fewer rows would be
	 * kept, never more. */
	rc = sqlite3_step(a->span);
	if (rc == SQLITE_ROW && sqlite3_column_type(a->span, 0) != SQLITE_NULL) {
		lo = sqlite3_column_int64(a->span, 0);
		hi = sqlite3_column_int64(a->span, 1);
	}
	sqlite3_reset(a->span);
	if (rc != SQLITE_ROW)
		return store_error(a->st, rc, "audit: span");
	if (hi - lo + 1 <= (sqlite3_int64)a->max_rows)
		return 0;
	cutoff = hi - (sqlite3_int64)a->max_rows;

	/* The flag is set and cleared inside one transaction, so no other
	 * statement, and no crash, ever sees it set. */
	err = store_atomic_begin(a->st, &own);
	if (err)
		return err;
	err = set_flag(a, 1);
	if (!err) {
		sqlite3_bind_int64(a->prune_delete, 1, cutoff);
		rc = sqlite3_step(a->prune_delete);
		sqlite3_reset(a->prune_delete);
		if (rc != SQLITE_DONE)
			err = store_error(a->st, rc, "audit: prune");
	}
	if (!err)
		err = set_flag(a, 0);
	return store_atomic_end(a->st, own, err);
}

/* ---- query ---- */

static json_t *jstr(const char *s)
{
	char buf[REQUEST_SIZE];
	json_t *j;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	/* Rows written by hand or by another build may hold invalid UTF-8. */
	clean(buf, sizeof(buf), s);
	return json_string(buf);
}

static void time_format(int64_t us, char out[48])
{
	int64_t sec = us / 1000000, frac = us % 1000000;
	time_t t;
	struct tm tm;

	if (frac < 0) {
		frac += 1000000;
		sec--;
	}
	t = (time_t)sec;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, 48, "invalid");
		return;
	}
	snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
}

static json_t *row_json(sqlite3_stmt *s)
{
	const char *items_text = (const char *)sqlite3_column_text(s, 6);
	json_t *o = json_object(), *items = NULL;
	char when[48];

	if (!o)
		return NULL;
	if (items_text)
		items = json_loads(items_text, 0, NULL);
	if (!json_is_array(items)) {
		json_decref(items);
		items = json_array();
	}
	time_format(sqlite3_column_int64(s, 1), when);
	json_object_set_new(o, "seq", json_integer(sqlite3_column_int64(s, 0)));
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "transport", jstr((const char *)sqlite3_column_text(s, 2)));
	json_object_set_new(o, "source", jstr((const char *)sqlite3_column_text(s, 3)));
	json_object_set_new(o, "user", jstr((const char *)sqlite3_column_text(s, 4)));
	json_object_set_new(o, "request", jstr((const char *)sqlite3_column_text(s, 5)));
	json_object_set_new(o, "items", items);
	json_object_set_new(o, "status", json_integer(sqlite3_column_int(s, 7)));
	json_object_set_new(o, "reason", jstr((const char *)sqlite3_column_text(s, 8)));
	json_object_set_new(o, "latency_us", json_integer(sqlite3_column_int64(s, 9)));
	return o;
}

static int emit(json_t *o, int (*fn)(void *arg, const char *json), void *arg)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int r;

	if (text && strlen(text) > AUDIT_JSON_MAX) {
		/* Only a row not written by audit_append() can get here: keep
		 * what identifies it and say the rest was left out. */
		free(text);
		json_object_set_new(o, "items", json_array());
		json_object_set_new(o, "request", json_string(""));
		json_object_set_new(o, "truncated", json_true());
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	}
	if (!text)
		return -ENOMEM;
	r = fn(arg, text);
	free(text);
	return r;
}

static void bind_filter(sqlite3_stmt *s, const struct audit_filter *f, bool by_source)
{
	/* Whole seconds, both ends inclusive; beyond year 2^63 us is "none". */
	const int64_t lim = INT64_MAX / 1000000 - 1;
	int64_t since = f->since > 0 ? (f->since > lim ? lim : f->since) * 1000000 : INT64_MIN;
	int64_t until = f->until > 0 && f->until < lim ? (f->until + 1) * 1000000 : INT64_MAX;

	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, until);
	if (f->outcome && f->outcome[0])
		sqlite3_bind_text(s, 3, f->outcome, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 3);
	if (by_source)
		sqlite3_bind_text(s, 4, f->source, -1, SQLITE_STATIC);
}

int audit_query(struct audit *a, const struct audit_filter *f, int (*fn)(void *arg, const char *json), void *arg)
{
	bool by_source = f->source && f->source[0];
	sqlite3_stmt *cut = a->q_cut[by_source], *rows = a->q_rows[by_source];
	unsigned limit = f->limit ? f->limit : QUERY_DEFAULT;
	sqlite3_int64 from = 0;
	int rc, err = 0;

	if (limit > QUERY_MAX)
		limit = QUERY_MAX;
	bind_filter(cut, f, by_source);
	sqlite3_bind_int64(cut, 5, (sqlite3_int64)limit - 1);
	rc = sqlite3_step(cut);
	if (rc == SQLITE_ROW)
		from = sqlite3_column_int64(cut, 0);
	sqlite3_reset(cut);
	sqlite3_clear_bindings(cut);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(a->st, rc, "audit: query");

	bind_filter(rows, f, by_source);
	sqlite3_bind_int64(rows, 5, from);
	sqlite3_bind_int64(rows, 6, limit);
	while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
		json_t *o = row_json(rows);

		if (!o) {
			err = -ENOMEM;
			break;
		}
		err = emit(o, fn, arg);
		json_decref(o);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = store_error(a->st, rc, "audit: query");
	sqlite3_reset(rows);
	sqlite3_clear_bindings(rows);
	return err;
}
