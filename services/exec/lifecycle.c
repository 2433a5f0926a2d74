/* A request from birth to answer (lifecycle.h): recording and answering. */
#include "lifecycle.h"

#include "../common/action_grammar.h"
#include "../common/clock.h"
#include "../common/log.h"
#include "audit_batch.h"
#include "executor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct exec_req *exec_req_new(struct executor *ex, struct front *f, uint32_t id, const struct ipc_action_req *req)
{
	struct exec_req *r = calloc(1, sizeof(*r));
	struct exec_work *w = malloc(sizeof(*w));

	if (!r || !w) {
		free(r);
		free(w);
		return NULL;
	}
	memcpy(&w->req, req, sizeof(w->req));
	memset(&w->res, 0, offsetof(struct ipc_action_res, items));
	w->res.body[0] = '\0';
	w->res.nitems = w->req.nitems;
	for (size_t i = 0; i < w->req.nitems; i++) {
		w->res.items[i].outcome = IPC_OUTCOME_NOT_RUN;
		snprintf(w->res.items[i].text, sizeof(w->res.items[i].text), "%s", w->req.items[i].text);
	}
	r->ex = ex;
	r->front = f;
	r->generation = f->generation;
	r->id = id;
	r->work = w;
	r->req = &w->req;
	r->res = &w->res;
	r->fd = -1;
	f->pending++;
	return r;
}

static void exec_req_free(struct exec_req *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->work);
	free(r->answer);
	free(r);
}

/* The channel the answer goes to, or NULL if that front-end has gone since. */
static struct uvchan *answer_chan(struct exec_req *r)
{
	struct front *f = r->front;

	if (!f->ch || f->generation != r->generation)
		return NULL;
	f->pending--;
	return f->ch;
}

void exec_answer_unrecorded(struct uvchan *ch, uint32_t id, const char *message)
{
	static struct ipc_action_res res;   /* single-threaded; too big for the stack of a callback */

	memset(&res, 0, sizeof(res));
	res.status = 503;
	snprintf(res.reason, sizeof(res.reason), "unavailable");
	snprintf(res.message, sizeof(res.message), "%s", message);
	res.retry_after = 1;
	uvchan_send(ch, IPC_ACTION_RES, id, &res, -1);
}

/* The audit batch's word on r's row: answer, then end. */
static void recorded(void *arg, uint64_t seq, int err)
{
	struct exec_req *r = arg;
	struct uvchan *ch = answer_chan(r);

	(void)seq;
	if (ch && !err && r->answer) {
		uvchan_send_encoded(ch, r->answer, r->answer_len, r->fd);
	} else if (ch) {
		exec_answer_unrecorded(ch, r->id, "the audit log could not be written");
	}
	exec_req_free(r);
}

/* Why an item was not done, for its audit row: the reason an operator
 * needs when a client reports "it did nothing". */
static const char *outcome_detail(const struct executor *ex, const struct ipc_item *it, unsigned outcome)
{
	if (outcome != IPC_OUTCOME_UNSUPPORTED)
		return NULL;
	switch (action_op_route((enum ipc_op)it->op)) {
	case ROUTE_CALL:
		if (!ex->tel)
			return "no call engine (aurid.telephony = none)";
		switch (it->op) {
		case OP_ATRANS: return "attended transfer is not in the phone's SIP engine (baresip 1.0)";
		case OP_DND_ON:
		case OP_DND_OFF: return "do-not-disturb is not in the phone's SIP engine (baresip 1.0)";
		case OP_FWD_ON:
		case OP_FWD_OFF: return "call forwarding is not in the phone's SIP engine (baresip 1.0)";
		default: return "not supported by the phone's SIP engine";
		}
	case ROUTE_SYSTEM:
	case ROUTE_RESET:
		return it->op == OP_REBOOT ? "no command configured (aurid.system.reboot_cmd)" :
		       it->op == OP_AUTOP ? "no command configured (aurid.system.autop_cmd)" :
		       "no command configured (aurid.system.reset_cmd)";
	default:
		return NULL;
	}
}

/*
 * Stages r's row and keeps the encoded answer (type, msg) for when it is
 * durable; then r belongs to the batch.  Without a row there is nothing
 * to wait for: the refusal goes now.
 */
static void record(struct exec_req *r, int status, const char *reason, const struct audit_item *items,
		   size_t nitems, unsigned type, void *msg, uint64_t *seq_field)
{
	struct executor *ex = r->ex;
	struct audit_row row = {
		.time_us = clock_wall_us(),
		.transport = ipc_transport_name(r->req->transport),
		.source = r->req->peer,
		.user = r->user[0] ? r->user : NULL,
		.request = r->req->request,
		.items = items,
		.nitems = nitems,
		.status = status,
		.reason = reason,
	};
	uint8_t buf[IPC_MSG_MAX];
	uint64_t now = clock_mono_ns(), seq = 0;
	size_t len;

	row.latency_us = r->req->t_recv_ns && now > r->req->t_recv_ns ?
			 (int64_t)((now - r->req->t_recv_ns) / 1000) : 0;
	ex->requests++;
	if (status >= 400)
		ex->refused++;
	if (audit_batch_stage(ex->batch, &row, recorded, r, &seq) != 0) {
		struct uvchan *ch = answer_chan(r);

		log_err("cannot stage an audit row");
		if (ch)
			exec_answer_unrecorded(ch, r->id, "the audit log could not be written");
		exec_req_free(r);
		return;
	}
	/* From here the batch calls recorded(r) exactly once. */
	*seq_field = seq;
	if (ipc_encode(type, r->id, msg, buf, sizeof(buf), &len) != 0 || !(r->answer = malloc(len))) {
		log_err("cannot keep the answer of request %llu", (unsigned long long)seq);
	} else {
		memcpy(r->answer, buf, len);
		r->answer_len = len;
	}
	free(r->work);
	r->work = NULL;
	r->req = NULL;
	r->res = NULL;
}

void exec_req_finish(struct exec_req *r)
{
	struct ipc_action_res *res = r->res;
	struct audit_item items[IPC_ITEMS_MAX];

	for (size_t i = 0; i < res->nitems; i++) {
		items[i].item = res->items[i].text;
		items[i].outcome = ipc_outcome_name(res->items[i].outcome);
		items[i].detail = i < r->req->nitems ?
				  outcome_detail(r->ex, &r->req->items[i], res->items[i].outcome) : NULL;
	}
	record(r, res->status, res->reason, items, res->nitems, IPC_ACTION_RES, res, &res->audit_seq);
}

static void end_v(struct exec_req *r, int status, const char *reason, uint32_t retry_after, const char *fmt,
		  va_list ap)
{
	struct ipc_action_res *res = r->res;

	res->status = (uint16_t)status;
	snprintf(res->reason, sizeof(res->reason), "%s", reason);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	res->retry_after = retry_after;
	exec_req_finish(r);
}

void exec_req_end(struct exec_req *r, int status, const char *reason, uint32_t retry_after, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	end_v(r, status, reason, retry_after, fmt, ap);
	va_end(ap);
}

void exec_req_refuse(struct exec_req *r, int status, const char *reason, uint32_t retry_after, const char *fmt, ...)
{
	va_list ap;

	/* A refused request ran nothing. */
	for (size_t i = 0; i < r->res->nitems; i++)
		r->res->items[i].outcome = IPC_OUTCOME_NOT_RUN;
	va_start(ap, fmt);
	end_v(r, status, reason, retry_after, fmt, ap);
	va_end(ap);
}

void exec_req_finish_screenshot(struct exec_req *r, struct ipc_screenshot_res *shot, int fd)
{
	struct audit_item item = { "screenshot", "ok", NULL };

	r->fd = fd;
	record(r, shot->status, shot->reason, &item, 1, IPC_SCREENSHOT_RES, shot, &shot->audit_seq);
}
