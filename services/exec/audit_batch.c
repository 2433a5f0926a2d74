#include "audit_batch.h"

#include "../common/log.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Prune the table after about this many rows (a range delete). */
#define AUDIT_PRUNE_EVERY 256

/* A staged row and whom to tell when it is durable. */
struct batch_row {
	struct audit_staged s;
	audit_durable_fn durable;
	void *arg;
};

struct rows {
	struct batch_row *v;
	size_t n, cap;
};

struct audit_batch {
	uv_loop_t *loop;
	struct audit *audit;             /* loop thread: cleaning, syslog */
	struct store *wstore;            /* worker thread only, while busy */
	struct audit *waudit;
	uint64_t next_seq;
	struct rows staged, writing;
	uv_work_t work;
	uv_check_t check;                /* end of a loop turn: start a batch */
	uv_idle_t idle;                  /* while rows wait: the poll phase must not block */
	int handles_open;
	bool busy;
	int err;                         /* result of the batch in flight */
	unsigned since_prune;
};

static int rows_push(struct rows *r, struct batch_row **slot)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct batch_row *v;

		/* Bounded by the requests in flight long before this could wrap. */
		if (cap > SIZE_MAX / sizeof(*v))
			return -ENOMEM;
		v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	*slot = &r->v[r->n++];
	return 0;
}

static void idle_cb(uv_idle_t *h)
{
	/* Nothing to do: an active idle handle makes the poll phase return at
	 * once, so rows staged from a timer reach the check phase now. */
	(void)h;
}

int audit_batch_stage(struct audit_batch *b, const struct audit_row *row, audit_durable_fn durable, void *arg,
		      uint64_t *seq)
{
	struct batch_row *slot;
	int err = rows_push(&b->staged, &slot);

	if (err)
		return err;
	*seq = b->next_seq++;
	audit_stage(b->audit, row, *seq, &slot->s);
	slot->durable = durable;
	slot->arg = arg;
	/* A batch on disk takes the staged rows when it is done; else the check phase does. */
	if (!b->busy)
		uv_idle_start(&b->idle, idle_cb);
	return 0;
}

size_t audit_batch_staged(const struct audit_batch *b)
{
	return b->staged.n;
}

bool audit_batch_busy(const struct audit_batch *b)
{
	return b->busy;
}

/* Worker thread: the only user of wstore/waudit while b->busy. */
static void write_cb(uv_work_t *w)
{
	struct audit_batch *b = w->data;
	int err = store_begin(b->wstore);

	for (size_t i = 0; i < b->writing.n && !err; i++)
		err = audit_insert(b->waudit, &b->writing.v[i].s);
	b->since_prune += (unsigned)b->writing.n;
	if (!err && b->since_prune >= AUDIT_PRUNE_EVERY) {
		b->since_prune = 0;
		err = audit_prune(b->waudit);
	}
	if (!err)
		err = store_commit(b->wstore);
	if (err)
		store_rollback(b->wstore);
	b->err = err;
}

/* Tells every row of the batch just done, in the order they were staged. */
static void rows_done(struct audit_batch *b, int err)
{
	for (size_t i = 0; i < b->writing.n; i++) {
		struct batch_row *r = &b->writing.v[i];

		if (r->durable)
			r->durable(r->arg, r->s.seq, err);
	}
	b->writing.n = 0;
}

static void written_cb(uv_work_t *w, int status)
{
	struct audit_batch *b = w->data;
	int err = status ? status : b->err;

	if (err)
		log_err("audit batch of %zu rows failed: %s", b->writing.n, strerror(-err));
	b->busy = false;
	rows_done(b, err);
	/* Rows staged while this batch was on disk go next, at once. */
	audit_batch_flush(b);
}

static void check_cb(uv_check_t *h)
{
	struct audit_batch *b = h->data;

	/* End of a loop turn: hand what this turn staged to the writer,
	 * unless a batch is on disk (then it goes when that one is done). */
	audit_batch_flush(b);
}

bool audit_batch_flush(struct audit_batch *b)
{
	struct rows t;

	if (b->busy || b->staged.n == 0)
		return false;
	uv_idle_stop(&b->idle);
	/* Swap: the writer takes the staged rows, staging goes on in the
	 * (empty) array the last batch used. */
	t = b->writing;
	b->writing = b->staged;
	b->staged = t;
	b->staged.n = 0;
	b->busy = true;
	b->work.data = b;
	if (uv_queue_work(b->loop, &b->work, write_cb, written_cb) != 0) {
		b->busy = false;
		rows_done(b, -EIO);
		return false;
	}
	return true;
}

int audit_batch_open(uv_loop_t *loop, const char *db_path, unsigned max_rows, struct audit *a,
		     struct audit_batch **out)
{
	struct audit_batch *b;
	int err;

	if (!sqlite3_threadsafe()) {
		log_err("this SQLite is built without thread support: the audit cannot be written off the loop");
		return -ENOTSUP;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->loop = loop;
	b->audit = a;
	err = store_open(db_path, &b->wstore);
	if (!err)
		err = audit_init(b->wstore, max_rows, &b->waudit);
	if (!err)
		err = audit_next_seq(a, &b->next_seq);
	if (err) {
		if (b->waudit)
			audit_free(b->waudit);
		if (b->wstore)
			store_close(b->wstore);
		free(b);
		return err;
	}
	uv_idle_init(loop, &b->idle);
	uv_check_init(loop, &b->check);
	b->idle.data = b->check.data = b;
	b->handles_open = 2;
	uv_check_start(&b->check, check_cb);
	*out = b;
	return 0;
}

static void on_handle_close(uv_handle_t *h)
{
	struct audit_batch *b = h->data;

	b->handles_open--;
}

void audit_batch_close(struct audit_batch *b)
{
	if (!b)
		return;
	/* Nothing accepted is lost: finish the batch in flight, then write
	 * what is still staged, before the process goes. */
	while (b->busy || audit_batch_flush(b))
		while (b->busy)
			uv_run(b->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&b->check, on_handle_close);
	uv_close((uv_handle_t *)&b->idle, on_handle_close);
	while (b->handles_open > 0)
		uv_run(b->loop, UV_RUN_NOWAIT);
	audit_free(b->waudit);
	store_close(b->wstore);
	free(b->staged.v);
	free(b->writing.v);
	free(b);
}
