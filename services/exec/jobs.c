/*
 * The keypad queue.  A request's items run in order, paced by
 * aurid.keypad.pace_ms, and two requests never interleave their items: the
 * phone's UI reacts to each key, so a chain like F1;DOWN;DOWN;OK only means
 * something if nothing else is pressed in between.
 */
#include "jobs.h"

#include "../../hal/keypad_out.h"
#include "../../hal/telephony.h"
#include "../common/action_grammar.h"
#include "../common/log.h"
#include "calls.h"
#include "consent.h"
#include "executor.h"
#include "lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

/* A queued request and how far it has got. */
struct job {
	struct job *next;
	struct exec_req *r;
	size_t next_item;
	bool item_pending;               /* items[next_item - 1] waits for the backend */
	struct calls_want wants[IPC_ITEMS_MAX];  /* for ?wait=MS */
};

struct jobs {
	struct executor *ex;
	struct job *head, *tail;         /* head: the one running */
	uv_timer_t pace_timer;
	/* An item on the call engine runs asynchronously: the head job waits
	 * for baresip's reply (running stays set), and with ?wait=MS for the
	 * new call states too (waiting, wait_timer). */
	uv_timer_t wait_timer;
	bool running;
	bool waiting;
	int timers_open;                 /* while closing: the queue goes with the last */
};

static void jobs_run(struct jobs *q);
static void pace_start(struct jobs *q);

/*
 * Runs or starts one item.  0: done, *outcome set.  1: pending on the
 * telephony backend (only with a job: jobs_item_done() completes it).
 */
static int item_run(struct executor *ex, struct job *j, const struct ipc_item *it, struct ipc_action_res *res,
		    size_t i, uint8_t *outcome)
{
	struct calls_want w = { 0 };
	unsigned code;
	int r;

	switch (action_op_route((enum ipc_op)it->op)) {
	case ROUTE_KEY:
		if (j && ex->tel && (r = calls_item_start(ex, it, &w, outcome)) >= 0) {
			j->wants[i] = w;
			return r;
		}
		*outcome = IPC_OUTCOME_FAILED;
		if (keymap_lookup(&ex->keymap, it->arg, &code) != 0)
			return 0;   /* checked by the policy; keymap cannot change */
		if (keypad_out_press(ex->keypad, code) != 0) {
			log_err("key press %s failed", it->arg);
			return 0;
		}
		*outcome = IPC_OUTCOME_OK;
		return 0;
	case ROUTE_CALL:
		if (!j || !ex->tel) {
			/* aurid.telephony = none: there is no call engine to ask. */
			*outcome = IPC_OUTCOME_UNSUPPORTED;
			return 0;
		}
		r = calls_item_start(ex, it, &w, outcome);
		j->wants[i] = w;
		return r;
	case ROUTE_READ:
		calls_phonecfg(ex, it->num, res->body, sizeof(res->body));
		*outcome = IPC_OUTCOME_OK;
		return 0;
	case ROUTE_SYSTEM:
	case ROUTE_RESET: {
		/* The supervisor runs the command (as root, which we are not);
		 * the capability was checked by the policy and is checked there
		 * again.  "ok" means requested: a reboot does not answer. */
		struct ipc_system_run run = { .op = it->op };
		const char *cmd = it->op == OP_REBOOT ? ex->cfg.reboot_cmd :
				  it->op == OP_AUTOP ? ex->cfg.autop_cmd : ex->cfg.reset_cmd;

		if (!cmd[0])
			*outcome = IPC_OUTCOME_UNSUPPORTED;   /* no command configured */
		else
			*outcome = uvchan_send(&ex->sup, IPC_SYSTEM_RUN, 0, &run, -1) == 0 ?
				   IPC_OUTCOME_OK : IPC_OUTCOME_FAILED;
		return 0;
	}
	default:
		*outcome = IPC_OUTCOME_FAILED;
		return 0;
	}
}

/* Items that run asynchronously need a job (the fast path has none). */
static bool needs_job(const struct executor *ex)
{
	return ex->tel != NULL;
}

/* Fills the answer's status from the outcomes and ends the request. */
static void finish(struct executor *ex, struct exec_req *r)
{
	struct ipc_action_res *res = r->res;
	bool failed = false;

	for (size_t i = 0; i < res->nitems; i++)
		if (res->items[i].outcome == IPC_OUTCOME_FAILED)
			failed = true;
	if (failed) {
		res->status = 500;
		snprintf(res->reason, sizeof(res->reason), "failed");
		snprintf(res->message, sizeof(res->message), "an item failed on the phone");
		if (ex->tel && !telephony_up(ex->tel)) {
			/* The call engine is away: say so, as for the executor. */
			res->status = 503;
			snprintf(res->reason, sizeof(res->reason), "unavailable");
			snprintf(res->message, sizeof(res->message), "the phone's call engine is unavailable (%s)",
				 telephony_down_reason(ex->tel));
			res->retry_after = 1;
		}
	} else {
		res->status = 200;
		snprintf(res->reason, sizeof(res->reason), "ok");
	}
	exec_req_finish(r);
}

/* The head job is done: answer it. */
static void job_pop_finish(struct jobs *q)
{
	struct executor *ex = q->ex;
	struct job *j = q->head;
	struct exec_req *r = j->r;

	q->head = j->next;
	if (!q->head)
		q->tail = NULL;
	if (r->req->wait_ms && ex->tel) {
		/* The front-end sends a body instead of the item lines: keep
		 * them, and add the calls as they are now. */
		char *b = r->res->body;
		size_t cap = sizeof(r->res->body), used = strlen(b);

		for (size_t i = 0; i < r->req->nitems && used < cap; i++) {
			int n = snprintf(b + used, cap - used, "%s %s\n",
					 ipc_outcome_name(r->res->items[i].outcome), r->req->items[i].text);

			if (n > 0)
				used += (size_t)n;
		}
		if (used < cap)
			calls_states(ex, b, cap);
		else
			b[cap - 1] = '\0';
	}
	free(j);
	finish(ex, r);
}

static bool wants_met(struct executor *ex, const struct job *j)
{
	for (size_t i = 0; i < j->r->req->nitems; i++)
		if (!calls_want_met(ex, &j->wants[i]))
			return false;
	return true;
}

static void wait_end(struct jobs *q)
{
	uv_timer_stop(&q->wait_timer);
	q->waiting = false;
	q->running = false;
	job_pop_finish(q);
	jobs_run(q);
}

static void wait_cb(uv_timer_t *t)
{
	struct jobs *q = t->data;

	if (q->waiting)
		wait_end(q);
}

/* The call table changed: a waiting request may be complete. */
static void telephony_changed(void *arg)
{
	struct jobs *q = arg;

	if (q->waiting && q->head && wants_met(q->ex, q->head))
		wait_end(q);
}

int jobs_telephony_open(struct jobs *q)
{
	struct executor *ex = q->ex;
	int r;

	if (strcmp(ex->cfg.telephony, "none") == 0 || !ex->cfg.telephony[0])
		return 0;
	r = telephony_open(ex->loop, ex->cfg.telephony, telephony_changed, q, &ex->tel);
	if (r)
		log_err("aurid.telephony: expected none or baresip:HOST:PORT (an IP address), got '%s'",
			ex->cfg.telephony);
	return r;
}

void jobs_item_done(struct jobs *q, uint8_t outcome)
{
	struct job *j = q->head;
	size_t i;

	if (!j || !j->item_pending)
		return;
	i = j->next_item - 1;
	j->item_pending = false;
	j->r->res->items[i].outcome = outcome;
	if (outcome != IPC_OUTCOME_OK)
		j->wants[i].call_id = 0;
	q->running = false;
	if (j->next_item < j->r->req->nitems && q->ex->cfg.pace_ms > 0) {
		pace_start(q);
		return;
	}
	jobs_run(q);
}

static void pace_cb(uv_timer_t *t)
{
	struct jobs *q = t->data;

	q->running = false;
	jobs_run(q);
}

static void pace_start(struct jobs *q)
{
	q->running = true;
	/* The loop's clock may be stale; pacing counts from this press. */
	uv_update_time(q->ex->loop);
	uv_timer_start(&q->pace_timer, pace_cb, q->ex->cfg.pace_ms, 0);
}

enum run_stop { RUN_DONE, RUN_PACE, RUN_PENDING };

/* Runs r's items from *next on (j: its job, NULL on the fast path); says why it stopped. */
static enum run_stop run_items(struct executor *ex, struct job *j, struct exec_req *r, size_t *next)
{
	const struct ipc_action_req *req = r->req;

	while (*next < req->nitems) {
		size_t i = (*next)++;
		uint8_t outcome = IPC_OUTCOME_FAILED;

		if (item_run(ex, j, &req->items[i], r->res, i, &outcome) == 1)
			return RUN_PENDING;
		r->res->items[i].outcome = outcome;
		if (*next < req->nitems && ex->cfg.pace_ms > 0)
			return RUN_PACE;
	}
	return RUN_DONE;
}

static void jobs_run(struct jobs *q)
{
	struct executor *ex = q->ex;

	/* While the consent prompt is up, no remote key reaches the phone. */
	while (q->head && !q->running && !consent_prompt_visible(ex)) {
		struct job *j = q->head;

		switch (run_items(ex, j, j->r, &j->next_item)) {
		case RUN_PACE:
			pace_start(q);
			return;
		case RUN_PENDING:
			/* jobs_item_done() carries on. */
			j->item_pending = true;
			q->running = true;
			return;
		case RUN_DONE:
			break;
		}
		if (j->r->req->wait_ms && ex->tel && !wants_met(ex, j)) {
			/* ?wait=MS: answer when the calls got there, or at the deadline. */
			q->waiting = true;
			q->running = true;
			uv_timer_start(&q->wait_timer, wait_cb, j->r->req->wait_ms, 0);
			return;
		}
		job_pop_finish(q);
	}
}

/* A job for r, which has run its items before next_item; NULL (r refused and ended) if memory is short. */
static struct job *job_new(struct exec_req *r, size_t next_item)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j) {
		exec_req_refuse(r, 503, "unavailable", 1, "the executor is out of memory");
		return NULL;
	}
	j->r = r;
	j->next_item = next_item;
	return j;
}

void jobs_submit(struct jobs *q, struct exec_req *r)
{
	struct job *j;
	size_t next = 0;

	/* The common case runs at once, without a job: the keypad is free
	 * and no pause is due before the request is done. */
	if (!q->head && !consent_prompt_visible(q->ex) && !needs_job(q->ex) &&
	    run_items(q->ex, NULL, r, &next) == RUN_DONE) {
		finish(q->ex, r);
		return;
	}
	j = job_new(r, next);
	if (!j)
		return;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	if (next > 0)
		pace_start(q);   /* it ran its first items and waits for the pace */
	else
		jobs_run(q);     /* a no-op if another job runs or the prompt is up */
}

void jobs_submit_first(struct jobs *q, struct exec_req *r, struct job **after)
{
	struct job *j = job_new(r, 0);

	if (!j)
		return;
	if (*after) {
		j->next = (*after)->next;
		(*after)->next = j;
	} else {
		j->next = q->head;
		q->head = j;
	}
	if (!j->next)
		q->tail = j;
	*after = j;
}

void jobs_resume(struct jobs *q)
{
	jobs_run(q);
}

int jobs_new(struct executor *ex, struct jobs **out)
{
	struct jobs *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->ex = ex;
	uv_timer_init(ex->loop, &q->pace_timer);
	uv_timer_init(ex->loop, &q->wait_timer);
	q->pace_timer.data = q->wait_timer.data = q;
	*out = q;
	return 0;
}

static void timer_closed(uv_handle_t *h)
{
	struct jobs *q = h->data;

	/* libuv calls these in no promised order: the last one frees the queue. */
	if (--q->timers_open == 0)
		free(q);
}

void jobs_close(struct jobs *q)
{
	if (!q)
		return;
	/* Shutting down: what has not run is refused, and audited as such
	 * (with the outcomes of the items a job ran before). */
	while (q->head) {
		struct job *j = q->head;

		q->head = j->next;
		exec_req_end(j->r, 503, "unavailable", 0, "the executor is stopping");
		free(j);
	}
	q->tail = NULL;
	q->waiting = q->running = false;
	q->timers_open = 2;
	uv_close((uv_handle_t *)&q->pace_timer, timer_closed);
	uv_close((uv_handle_t *)&q->wait_timer, timer_closed);
}
