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
	char user[64];
	struct ipc_action_req req;
	struct ipc_action_res res;
};

static void jobs_run(struct executor *ex);

static enum ipc_outcome item_run(struct executor *ex, const struct ipc_item *it)
{
	unsigned code;

	switch (action_op_route((enum ipc_op)it->op)) {
	case ROUTE_KEY:
		if (keymap_lookup(&ex->keymap, it->arg, &code) != 0)
			return IPC_OUTCOME_FAILED;   /* checked by the policy; keymap cannot change */
		if (keypad_out_press(ex->keypad, code) != 0) {
			log_err("key press %s failed", it->arg);
			return IPC_OUTCOME_FAILED;
		}
		return IPC_OUTCOME_OK;
	case ROUTE_CALL:
	case ROUTE_READ:
		/* aurid.telephony = none: there is no call engine to ask. */
		return IPC_OUTCOME_UNSUPPORTED;
	case ROUTE_SYSTEM:
	case ROUTE_RESET:
		/* No system command is wired up in this build. */
		return IPC_OUTCOME_UNSUPPORTED;
	default:
		return IPC_OUTCOME_FAILED;
	}
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
	} else {
		res->status = 200;
		snprintf(res->reason, sizeof(res->reason), "ok");
	}
	executor_finish(ex, f, generation, id, req, user, res);
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

/* Runs items from *next on; true if it stopped to wait for the pace timer. */
static bool run_items(struct executor *ex, const struct ipc_action_req *req, struct ipc_action_res *res,
		      size_t *next)
{
	while (*next < req->nitems) {
		size_t i = (*next)++;

		res->items[i].outcome = (uint8_t)item_run(ex, &req->items[i]);
		if (*next < req->nitems && ex->cfg.pace_ms > 0)
			return true;
	}
	return false;
}

static void jobs_run(struct executor *ex)
{
	/* While the consent prompt is up, no remote key reaches the phone. */
	while (ex->job_head && !ex->job_running && !consent_prompt_visible(ex)) {
		struct job *j = ex->job_head;

		if (run_items(ex, &j->req, &j->res, &j->next_item)) {
			pace_start(ex);
			return;
		}
		ex->job_head = j->next;
		if (!ex->job_head)
			ex->job_tail = NULL;
		finish(ex, j->front, j->generation, j->id, &j->req, j->user, &j->res);
		free(j);
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
	if (!ex->job_head && !consent_prompt_visible(ex) && !run_items(ex, req, res, &next)) {
		finish(ex, f, f ? f->generation : 0, id, req, user, res);
		return 0;
	}
	j = job_new(f, id, req, user, res, next);
	if (!j)
		return -ENOMEM;
	job_append(ex, j);
	if (next > 0)
		pace_start(ex);   /* it ran its first items and waits for the pace */
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
}
