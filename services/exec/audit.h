/*
 * The audit log: append-only table (triggers abort UPDATE and DELETE unless
 * the retention pruner has set its flag), monotonically increasing seq,
 * at most max_rows rows.  Each appended row is also sent to syslog (facility
 * LOG_AUTHPRIV, ident "aurid") as one line.
 */
#ifndef AURID_AUDIT_H
#define AURID_AUDIT_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest JSON object audit_query() produces: one fits an IPC_ADMIN_ROW.
 * audit_append() bounds every field so a row stays within it: request 511
 * bytes, source and user 63, an item 63, the items array 2 KiB (further
 * items are summed up as {"item":"+N more","outcome":"truncated"}).  Control
 * characters and invalid UTF-8 are stored as '?', so neither the JSON nor the
 * syslog line can be forged by what a client sent. */
#define AUDIT_JSON_MAX 4000

struct audit_item {
	const char *item;
	const char *outcome;   /* ok, ignored, unsupported, failed, not-run */
	const char *detail;    /* NULL, or why (e.g. why it is unsupported) */
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

/* Field sizes of a stored row, NUL included (see AUDIT_JSON_MAX). */
#define AUDIT_REQUEST_SIZE   512
#define AUDIT_SOURCE_SIZE    64
#define AUDIT_USER_SIZE      64
#define AUDIT_TRANSPORT_SIZE 16
#define AUDIT_REASON_SIZE    32
#define AUDIT_ITEMS_SIZE     (2048 + 64)

/* A row cleaned and bounded, ready to insert later (possibly on another
 * thread and connection): the executor stages rows as it decides requests
 * and writes them in batches. */
struct audit_staged {
	uint64_t seq;            /* 0: let SQLite choose */
	int64_t time_us;
	int64_t latency_us;
	int status;
	bool has_user;
	char transport[AUDIT_TRANSPORT_SIZE];
	char source[AUDIT_SOURCE_SIZE];
	char user[AUDIT_USER_SIZE];
	char reason[AUDIT_REASON_SIZE];
	char request[AUDIT_REQUEST_SIZE];
	char items[AUDIT_ITEMS_SIZE];
};

struct audit;

/* max_rows 0: -EINVAL.  Also connects the syslog socket (openlog with
 * LOG_NDELAY), so it is open before the sandbox forbids socket(). */
int audit_init(struct store *st, unsigned max_rows, struct audit **out);
void audit_free(struct audit *a);
/* Appends inside the caller's transaction; *seq gets the new row's seq (may
 * be NULL).  The syslog line is sent at once, so a row rolled back later
 * still shows in syslog as attempted. */
int audit_append(struct audit *a, const struct audit_row *row, uint64_t *seq);
/* Cleans and bounds row into out with the given seq, and sends its syslog
 * line.  No database access: safe to call while a batch is being written. */
void audit_stage(struct audit *a, const struct audit_row *row, uint64_t seq, struct audit_staged *out);
/* Inserts a staged row inside the caller's transaction. */
int audit_insert(struct audit *a, const struct audit_staged *row);
/* The seq the next row will get (the highest ever used, plus one). */
int audit_next_seq(struct audit *a, uint64_t *seq);
/* Deletes the oldest rows beyond max_rows (call inside a transaction, now
 * and then; without one it makes its own).  Cheap when nothing is due. */
int audit_prune(struct audit *a);
/* Calls fn with one JSON object per matching row (DESIGN.md section 9
 * fields; at most AUDIT_JSON_MAX bytes).  since/until are inclusive whole
 * seconds.  A non-zero return from fn stops the query and is returned. */
int audit_query(struct audit *a, const struct audit_filter *f, int (*fn)(void *arg, const char *json), void *arg);

#endif
