/*
 * The audit log: append-only table (triggers abort UPDATE and DELETE unless
 * the retention pruner has set its flag), monotonically increasing seq,
 * at most max_rows rows.  Each appended row is also sent to syslog (facility
 * LOG_AUTHPRIV, ident "aurid") as one line.
 */
#ifndef AURID_AUDIT_H
#define AURID_AUDIT_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

struct audit_item {
	const char *item;
	const char *outcome;   /* ok, ignored, unsupported, failed, not-run */
};

struct audit_row {
	int64_t time_us;       /* wall clock, microseconds since the epoch */
	const char *transport; /* http https sip admin */
	const char *source;
	const char *user;      /* NULL if none */
	const char *request;   /* as received, truncated */
	const struct audit_item *items;
	size_t nitems;
	int status;
	const char *reason;
	int64_t latency_us;
};

struct audit_filter {
	int64_t since;         /* unix seconds, 0 = none */
	int64_t until;         /* unix seconds, 0 = none */
	const char *source;    /* NULL or "" = any */
	const char *outcome;   /* NULL or "" = any: matches the reason word */
	unsigned limit;        /* 0 = 100; newest rows, printed oldest first */
};

struct audit;

int audit_init(struct store *st, unsigned max_rows, struct audit **out);
void audit_free(struct audit *a);
/* Appends inside the caller's transaction; *seq gets the new row's seq. */
int audit_append(struct audit *a, const struct audit_row *row, uint64_t *seq);
/* Deletes the oldest rows beyond max_rows (call inside a transaction, now and then). */
int audit_prune(struct audit *a);
/* Calls fn with one JSON object per matching row (DESIGN.md section 9 fields). */
int audit_query(struct audit *a, const struct audit_filter *f, int (*fn)(void *arg, const char *json), void *arg);

#endif
