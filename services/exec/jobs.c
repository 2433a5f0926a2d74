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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

static void job_finish(struct executor *ex, struct job *j)
{
	bool failed = false;

	j->res.nitems = j->req.nitems;
	for (size_t i = 0; i < j->req.nitems; i++) {
		snprintf(j->res.items[i].text, sizeof(j->res.items[i].text), "%s", j->req.items[i].text);
		if (j->res.items[i].outcome == IPC_OUTCOME_FAILED)
			failed = true;
	}
	if (j->res.status != 0) {
		/* Already decided (the executor is stopping). */
	} else if (failed) {
		j->res.status = 500;
		snprintf(j->res.reason, sizeof(j->res.reason), "failed");
		snprintf(j->res.message, sizeof(j->res.message), "an item failed on the phone");
	} else {
		j->res.status = 200;
		snprintf(j->res.reason, sizeof(j->res.reason), "ok");
	}
	executor_finish(ex, j->front, j->generation, j->id, &j->req, j->user, &j->res);
}

static void pace_cb(uv_timer_t *t)
{
	struct executor *ex = t->data;

	ex->job_running = false;
	jobs_run(ex);
}

static void jobs_run(struct executor *ex)
{
	while (ex->job_head && !ex->job_running) {
		struct job *j = ex->job_head;

		while (j->next_item < j->req.nitems) {
			size_t i = j->next_item++;

			j->res.items[i].outcome = (uint8_t)item_run(ex, &j->req.items[i]);
			if (j->next_item < j->req.nitems && ex->cfg.pace_ms > 0) {
				ex->job_running = true;
				/* The loop's clock may be stale; pacing counts from this press. */
				uv_update_time(ex->loop);
				uv_timer_start(&ex->pace_timer, pace_cb, ex->cfg.pace_ms, 0);
				return;
			}
		}
		ex->job_head = j->next;
		if (!ex->job_head)
			ex->job_tail = NULL;
		job_finish(ex, j);
		free(j);
	}
}

int jobs_submit(struct executor *ex, struct front *f, uint32_t id, const struct ipc_action_req *req,
		const char *user)
{
	struct job *j = malloc(sizeof(*j));

	if (!j)
		return -ENOMEM;
	memset(&j->res, 0, sizeof(j->res));
	j->next = NULL;
	j->front = f;
	j->generation = f ? f->generation : 0;
	j->id = id;
	j->next_item = 0;
	snprintf(j->user, sizeof(j->user), "%s", user);
	memcpy(&j->req, req, sizeof(*req));
	for (size_t i = 0; i < req->nitems; i++)
		j->res.items[i].outcome = IPC_OUTCOME_NOT_RUN;
	if (ex->job_tail)
		ex->job_tail->next = j;
	else
		ex->job_head = j;
	ex->job_tail = j;
	jobs_run(ex);
	return 0;
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
		job_finish(ex, j);
		free(j);
	}
	ex->job_tail = NULL;
	uv_timer_stop(&ex->pace_timer);
}
