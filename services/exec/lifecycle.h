/*
 * One action request's life in the executor, in one object, with one end.
 *
 *   born      exec_req_new(): the front-end's request, checked for its
 *             channel and read by the executor itself (request.c), is
 *             copied into the object (executor.c, front_on_msg)
 *   decided   policy_check() gives a verdict (policy.c): run, ask the
 *             person at the phone first, or refuse
 *   held      consent.c keeps it while the prompt is up, then runs or
 *             refuses it
 *   run       at once (a screenshot, screenshot.c) or on the keypad queue
 *             (jobs.c), item by item
 *   recorded  exec_req_finish(): the outcome becomes the audit row, staged
 *             in the group commit (audit_batch.c); the request and its
 *             working answer are freed, the encoded answer is kept
 *   answered  when the batch says the row is durable, the answer goes to
 *             the front-end that asked (if that channel still lives), and
 *             the object is freed
 *
 * Ownership passes with the object: whoever is handed an exec_req
 * (consent_hold, jobs_submit, screenshot_run, exec_req_finish) either
 * keeps it or ends it, and the caller does not touch it again.  No other
 * path answers a front-end's request.
 */
#ifndef AURID_EXEC_LIFECYCLE_H
#define AURID_EXEC_LIFECYCLE_H

#include "../../ipc/ipc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct executor;
struct front;
struct uvchan;

/* What is needed to decide and run a request; freed when it is recorded. */
struct exec_work {
	struct ipc_action_req req;
	struct ipc_action_res res;       /* the answer being built */
};

struct exec_req {
	struct exec_req *next;           /* in the one list that holds it: held (consent.c) or none */
	struct executor *ex;
	struct front *front;             /* where the answer goes ... */
	uint32_t generation;             /* ... if its channel is still this one */
	uint32_t id;
	char user[64];                   /* who authenticated, "" if nobody */
	struct ipc_action_req *req;      /* &work->req, until recorded */
	struct ipc_action_res *res;      /* &work->res, until recorded */
	struct exec_work *work;
	int fd;                          /* a screenshot's memfd, sent with the answer; else -1 */
	size_t answer_len;               /* the encoded answer, once recorded */
	uint8_t *answer;
};

/*
 * A new request from front f (id: its IPC id), a copy of req, with an
 * empty answer whose items are all not-run.  Counts against f's requests
 * in flight until answered.  NULL if memory is short.
 */
struct exec_req *exec_req_new(struct executor *ex, struct front *f, uint32_t id, const struct ipc_action_req *req);

/*
 * The request is done: r->res holds status, reason, message and the
 * items' outcomes.  Stages the audit row and answers when it is durable.
 */
void exec_req_finish(struct exec_req *r);

/*
 * Ended with this status (printf-style message), the items' outcomes as
 * far as they got.  Then as exec_req_finish.
 */
void exec_req_end(struct exec_req *r, int status, const char *reason, uint32_t retry_after, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Refused before any item ran: every item is reported not-run.  Then as exec_req_end. */
void exec_req_refuse(struct exec_req *r, int status, const char *reason, uint32_t retry_after, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * The one answer without an audit row: 503 with message, when the row
 * could not be written, or the executor has no memory to hold the request
 * (never "done": nothing ran).
 */
void exec_answer_unrecorded(struct uvchan *ch, uint32_t id, const char *message);

/* A screenshot taken: its row, and the frame (fd, owned from here) sent with the answer. */
void exec_req_finish_screenshot(struct exec_req *r, struct ipc_screenshot_res *shot, int fd);

#endif
