/*
 * The keypad queue.  A request's items run in order, paced by
 * aurid.keypad.pace_ms, and two requests never interleave their items: the
 * phone's UI reacts to each key, so a chain like F1;DOWN;DOWN;OK only means
 * something if nothing else is pressed in between.
 */
#include "executor.h"

#include "../../hal/keypad_out.h"
#include "../common/action_grammar.h"
#include "../common/log.h"
#include "../../hal/telephony.h"
#include "calls.h"
#include "consent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

struct job {
	struct job *next;
	struct front *front;
	uint32_t generation;
	uint32_t id;
	size_t next_item;
	bool item_pending;               /* items[next_item - 1] waits for the backend */
	char user[64];
	struct ipc_action_req req;
	struct ipc_action_res res;
	struct calls_want wants[IPC_ITEMS_MAX];  /* for ?wait=MS */
};

static void jobs_run(struct executor *ex);
static void pace_start(struct executor *ex);

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
static bool needs_job(struct executor *ex, const struct ipc_action_req *req)
{
	(void)req;
	return ex->tel != NULL;
}

/* Fills the answer from the outcomes and hands it to the audit. */
static void finish(struct executor *ex, struct front *f, uint32_t generation, uint32_t id,
		   const struct ipc_action_req *req, const char *user, struct ipc_action_res *res)
{
	bool failed = false;

	res->nitems = req->nitems;
	for (size_t i = 0; i < req->nitems; i++) {
		snprintf(res->items[i].text, sizeof(res->items[i].text), "%s", req->items[i].text);
		if (res->items[i].outcome == IPC_OUTCOME_FAILED)
			failed = true;
	}
	if (res->status != 0) {
		/* Already decided (the executor is stopping). */
	} else if (failed) {
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
	executor_finish(ex, f, generation, id, req, user, res);
}

/* The head job is done: answer it and run what waits. */
static void job_pop_finish(struct executor *ex)
{
	struct job *j = ex->job_head;

	ex->job_head = j->next;
	if (!ex->job_head)
		ex->job_tail = NULL;
	if (j->req.wait_ms && ex->tel) {
		/* The front-end sends a body instead of the item lines: keep
		 * them, and add the calls as they are now. */
		char *b = j->res.body;
		size_t used = strlen(b);

		for (size_t i = 0; i < j->req.nitems && used < sizeof(j->res.body); i++) {
			int n = snprintf(b + used, sizeof(j->res.body) - used, "%s %s\n",
					 ipc_outcome_name(j->res.items[i].outcome), j->req.items[i].text);

			if (n > 0)
				used += (size_t)n;
		}
		if (used < sizeof(j->res.body))
			calls_states(ex, j->res.body, sizeof(j->res.body));
		else
			j->res.body[sizeof(j->res.body) - 1] = '\0';
	}
	finish(ex, j->front, j->generation, j->id, &j->req, j->user, &j->res);
	free(j);
}

static bool wants_met(struct executor *ex, const struct job *j)
{
	for (size_t i = 0; i < j->req.nitems; i++)
		if (!calls_want_met(ex, &j->wants[i]))
			return false;
	return true;
}

static void wait_end(struct executor *ex)
{
	uv_timer_stop(&ex->wait_timer);
	ex->job_waiting = false;
	ex->job_running = false;
	job_pop_finish(ex);
	jobs_run(ex);
}

static void wait_cb(uv_timer_t *t)
{
	struct executor *ex = t->data;

	if (ex->job_waiting)
		wait_end(ex);
}

/* The call table changed: a waiting request may be complete. */
static void telephony_changed(void *arg)
{
	struct executor *ex = arg;

	if (ex->job_waiting && ex->job_head && wants_met(ex, ex->job_head))
		wait_end(ex);
}

int jobs_telephony_open(struct executor *ex)
{
	int r;

	if (strcmp(ex->cfg.telephony, "none") == 0 || !ex->cfg.telephony[0])
		return 0;
	r = telephony_open(ex->loop, ex->cfg.telephony, telephony_changed, ex, &ex->tel);
	if (r)
		log_err("aurid.telephony: expected none or baresip:HOST:PORT (an IP address), got '%s'",
			ex->cfg.telephony);
	return r;
}

void jobs_item_done(struct executor *ex, uint8_t outcome)
{
	struct job *j = ex->job_head;
	size_t i;

	if (!j || !j->item_pending)
		return;
	i = j->next_item - 1;
	j->item_pending = false;
	j->res.items[i].outcome = outcome;
	if (outcome != IPC_OUTCOME_OK)
		j->wants[i].call_id = 0;
	ex->job_running = false;
	if (j->next_item < j->req.nitems && ex->cfg.pace_ms > 0) {
		pace_start(ex);
		return;
	}
	jobs_run(ex);
}

static void pace_cb(uv_timer_t *t)
{
	struct executor *ex = t->data;

	ex->job_running = false;
	jobs_run(ex);
}

static void pace_start(struct executor *ex)
{
	ex->job_running = true;
	/* The loop's clock may be stale; pacing counts from this press. */
	uv_update_time(ex->loop);
	uv_timer_start(&ex->pace_timer, pace_cb, ex->cfg.pace_ms, 0);
}

enum run_stop { RUN_DONE, RUN_PACE, RUN_PENDING };

/* Runs items from *next on; says why it stopped. */
static enum run_stop run_items(struct executor *ex, struct job *j, const struct ipc_action_req *req,
			       struct ipc_action_res *res, size_t *next)
{
	while (*next < req->nitems) {
		size_t i = (*next)++;
		uint8_t outcome = IPC_OUTCOME_FAILED;

		if (item_run(ex, j, &req->items[i], res, i, &outcome) == 1)
			return RUN_PENDING;
		res->items[i].outcome = outcome;
		if (*next < req->nitems && ex->cfg.pace_ms > 0)
			return RUN_PACE;
	}
	return RUN_DONE;
}

static void jobs_run(struct executor *ex)
{
	/* While the consent prompt is up, no remote key reaches the phone. */
	while (ex->job_head && !ex->job_running && !consent_prompt_visible(ex)) {
		struct job *j = ex->job_head;

		switch (run_items(ex, j, &j->req, &j->res, &j->next_item)) {
		case RUN_PACE:
			pace_start(ex);
			return;
		case RUN_PENDING:
			/* jobs_item_done() carries on. */
			j->item_pending = true;
			ex->job_running = true;
			return;
		case RUN_DONE:
			break;
		}
		if (j->req.wait_ms && ex->tel && !wants_met(ex, j)) {
			/* ?wait=MS: answer when the calls got there, or at the deadline. */
			ex->job_waiting = true;
			ex->job_running = true;
			uv_timer_start(&ex->wait_timer, wait_cb, j->req.wait_ms, 0);
			return;
		}
		job_pop_finish(ex);
	}
}

static struct job *job_new(struct front *f, uint32_t id, const struct ipc_action_req *req, const char *user,
			   const struct ipc_action_res *res, size_t next_item)
{
	struct job *j = malloc(sizeof(*j));

	if (!j)
		return NULL;
	j->next = NULL;
	j->front = f;
	j->generation = f ? f->generation : 0;
	j->id = id;
	j->next_item = next_item;
	snprintf(j->user, sizeof(j->user), "%s", user);
	memcpy(&j->req, req, sizeof(*req));
	memcpy(&j->res, res, sizeof(*res));
	j->item_pending = false;
	memset(j->wants, 0, sizeof(j->wants));
	return j;
}

static void job_append(struct executor *ex, struct job *j)
{
	if (ex->job_tail)
		ex->job_tail->next = j;
	else
		ex->job_head = j;
	ex->job_tail = j;
}

int jobs_submit(struct executor *ex, struct front *f, uint32_t id, const struct ipc_action_req *req,
		const char *user)
{
	struct ipc_action_res *res = &ex->scratch_res;
	struct job *j;
	size_t next = 0;

	memset(res, 0, offsetof(struct ipc_action_res, items));
	res->body[0] = '\0';
	for (size_t i = 0; i < req->nitems; i++)
		res->items[i].outcome = IPC_OUTCOME_NOT_RUN;
	/* The common case runs at once, without a copy: the keypad is free
	 * and no pause is due before the request is done. */
	if (!ex->job_head && !consent_prompt_visible(ex) && !needs_job(ex, req) &&
	    run_items(ex, NULL, req, res, &next) == RUN_DONE) {
		finish(ex, f, f ? f->generation : 0, id, req, user, res);
		return 0;
	}
	j = job_new(f, id, req, user, res, next);
	if (!j)
		return -ENOMEM;
	job_append(ex, j);
	if (next > 0)
		pace_start(ex);   /* it ran its first items and waits for the pace */
	else
		jobs_run(ex);     /* a no-op if another job runs or the prompt is up */
	return 0;
}

int jobs_submit_first(struct executor *ex, struct front *f, uint32_t id, const struct ipc_action_req *req,
		      const char *user, struct job **after)
{
	struct ipc_action_res *res = &ex->scratch_res;
	struct job *j;

	memset(res, 0, offsetof(struct ipc_action_res, items));
	for (size_t i = 0; i < req->nitems; i++)
		res->items[i].outcome = IPC_OUTCOME_NOT_RUN;
	j = job_new(f, id, req, user, res, 0);
	if (!j)
		return -ENOMEM;
	if (*after) {
		j->next = (*after)->next;
		(*after)->next = j;
	} else {
		j->next = ex->job_head;
		ex->job_head = j;
	}
	if (!j->next)
		ex->job_tail = j;
	*after = j;
	return 0;
}

void jobs_resume(struct executor *ex)
{
	jobs_run(ex);
}

void jobs_init(struct executor *ex)
{
	uv_timer_init(ex->loop, &ex->pace_timer);
	ex->pace_timer.data = ex;
	uv_timer_init(ex->loop, &ex->wait_timer);
	ex->wait_timer.data = ex;
}

void jobs_drop_all(struct executor *ex)
{
	/* Shutting down: what has not run is refused, and audited as such. */
	while (ex->job_head) {
		struct job *j = ex->job_head;

		ex->job_head = j->next;
		j->res.status = 503;
		snprintf(j->res.reason, sizeof(j->res.reason), "unavailable");
		snprintf(j->res.message, sizeof(j->res.message), "the executor is stopping");
		finish(ex, j->front, j->generation, j->id, &j->req, j->user, &j->res);
		free(j);
	}
	ex->job_tail = NULL;
	uv_timer_stop(&ex->pace_timer);
	uv_timer_stop(&ex->wait_timer);
	ex->job_waiting = false;
	ex->job_running = false;
}
