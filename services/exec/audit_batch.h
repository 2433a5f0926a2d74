/*
 * Group commit of the audit log, off the event loop.
 *
 * The executor decides requests on its loop thread and stages their audit
 * rows here (each with its seq assigned at once, so the answer can carry
 * it).  One batch at a time is written on libuv's worker thread, over a
 * second SQLite connection used by nothing else, in one transaction with
 * synchronous=FULL.  While that fsync runs the loop goes on deciding the next
 * requests into the next batch.  A batch starts at the end of the loop
 * turn that staged its rows (a uv_check handle), or at once when the one
 * before it is done.  Each row's durable() is called when its batch is on
 * disk or has failed: the executor answers a request only then
 * (lifecycle.c), so nothing is reported done before its audit row.
 */
#ifndef AURID_AUDIT_BATCH_H
#define AURID_AUDIT_BATCH_H

#include "audit.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct audit_batch;

/* A staged row's end, on the loop thread: its batch was written (err 0) or
 * failed (-errno, the row is not in the log). */
typedef void (*audit_durable_fn)(void *arg, uint64_t seq, int err);

/* Opens the writer connection on db_path.  a: the loop thread's audit
 * (cleaning, syslog, the next seq). */
int audit_batch_open(uv_loop_t *loop, const char *db_path, unsigned max_rows, struct audit *a,
		     struct audit_batch **out);
/* Waits for a batch in flight, writes what is staged (every durable() is
 * called), closes.  Runs the loop meanwhile. */
void audit_batch_close(struct audit_batch *b);

/* Stages a row; *seq gets its sequence number, and durable(arg, ...) is
 * called once when its batch is done (durable may be NULL).  -ENOMEM only:
 * then durable is never called. */
int audit_batch_stage(struct audit_batch *b, const struct audit_row *row, audit_durable_fn durable, void *arg,
		      uint64_t *seq);
/* Rows staged and not yet handed to the writer. */
size_t audit_batch_staged(const struct audit_batch *b);
/* Starts writing the staged rows if no batch is in flight; true if it did. */
bool audit_batch_flush(struct audit_batch *b);
bool audit_batch_busy(const struct audit_batch *b);

#endif
