/*
 * aurid-http's link to the executor: requests in flight by id, answers
 * matched back to their connection, and "503 + Retry-After" whenever the
 * executor is away (it reconnects by itself: the supervisor hands a new
 * channel over when it restarts the executor).
 */
#ifndef AURID_HTTP_FRONTEND_H
#define AURID_HTTP_FRONTEND_H

#include "../../ipc/ipc.h"
#include "../common/config.h"
#include "../common/uvchan.h"
#include "server.h"

#include <stdbool.h>
#include <uv.h>

/* Requests in flight (a power of two: ids index a ring).  No more than the
 * IPC queue holds, so a burst can never overflow the channel. */
#define FRONTEND_PENDING_MAX IPC_QUEUE_MAX
/* Without an executor channel this long, exit: the supervisor restarts
 * us and links a fresh one (the executor may not have died at all). */
#define FRONTEND_ORPHAN_MS 10000
#define FRONTEND_SIGNS_MAX   256      /* power of two: TLS signatures asked of the executor at once */

struct pending {
	struct http_conn *conn;
	uint32_t id;
	bool json;                 /* Accept: application/json */
	bool in_use;
	int image_format;          /* screenshots: enum image_format */
	bool download;             /* screenshots: as an attachment */
};

/* A handshake waiting for its signature from the executor (tls.c). */
struct pending_sign {
	struct http_conn *conn;
	uint32_t id;
	bool in_use;
};

struct frontend {
	uv_loop_t *loop;
	struct aurid_config cfg;
	struct uvchan sup;
	struct uvchan *exec;       /* NULL while the executor is away */
	uv_timer_t orphan;         /* runs while exec is NULL */
	uint32_t next_id;
	unsigned npending;
	struct pending pending[FRONTEND_PENDING_MAX];
	struct http_server *srv;   /* for the certificate the executor sends */
	uint32_t sign_next;
	unsigned nsigns;
	struct pending_sign signs[FRONTEND_SIGNS_MAX];
};

void frontend_init(struct frontend *fe, uv_loop_t *loop, const struct aurid_config *cfg);
int frontend_attach_supervisor(struct frontend *fe, struct ipc_chan *sup);
int frontend_attach_exec(struct frontend *fe, int fd);

/* Sends req to the executor; the answer goes to conn.  When the executor is
 * away or too many requests are in flight, conn gets a 503 at once. */
void frontend_submit(struct frontend *fe, struct http_conn *conn, const struct ipc_action_req *req,
		     bool json);
/* The same for a screenshot request; the frame is encoded as format. */
void frontend_submit_screenshot(struct frontend *fe, struct http_conn *conn, const struct ipc_action_req *req,
				bool json, int format, bool download);

/* A sealed frame from the executor: checked, mapped, encoded on the worker
 * pool and written to conn (screenshot.c). */
void screenshot_answer(struct frontend *fe, struct http_conn *conn, const struct ipc_screenshot_res *res, int fd,
		       int format, bool download);

/* HTTPS (tls.c): the handshake signature hook for http_server_start_tls,
 * the executor's certificate and signatures, and failing every signature in
 * flight when the executor goes away. */
int frontend_tls_sign(void *arg, struct http_conn *c, uint16_t alg, const uint8_t *in, size_t len);
void frontend_tls_cert(struct frontend *fe, const struct ipc_tls_cert *m);
void frontend_tls_sign_res(struct frontend *fe, uint32_t id, const struct ipc_tls_sign_res *m);
void frontend_tls_fail_all(struct frontend *fe);

/* The HTTP handler (routes.c): paths, methods, parsing, answers. */
void routes_handle(struct http_conn *c, const struct http_request *req, void *arg);
/* Writes an executor's answer as HTTP (routes.c). */
void routes_answer(struct http_conn *c, const struct ipc_action_res *res, bool json);
/* 503 with Retry-After, the executor being away (routes.c). */
void routes_unavailable(struct http_conn *c, bool json);

#endif
