/* aurid-http <-> aurid-exec: requests in flight and their answers. */
#include "frontend.h"

#include "../common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void exec_fail_all(struct frontend *fe)
{
	/* Never a hang: everything in flight gets its 503 now. */
	for (size_t i = 0; i < FRONTEND_PENDING_MAX; i++) {
		struct pending *p = &fe->pending[i];

		if (p->in_use) {
			p->in_use = false;
			routes_unavailable(p->conn, p->json);
		}
	}
	fe->npending = 0;
	/* Handshakes waiting for a signature fail too; their clients retry. */
	frontend_tls_fail_all(fe);
}

static void exec_on_msg(struct uvchan *u, unsigned type, uint32_t id, union ipc_payload *msg, int fd)
{
	struct frontend *fe = u->data;
	struct pending *p;

	if (type == IPC_HELLO)
		return;
	if (type == IPC_SCREENSHOT_RES) {
		p = &fe->pending[id & (FRONTEND_PENDING_MAX - 1)];
		if (!p->in_use || p->id != id) {
			log_warn("screenshot %u from the executor matches no request", id);
			close(fd);
			return;
		}
		p->in_use = false;
		fe->npending--;
		screenshot_answer(fe, p->conn, &msg->screenshot_res, fd, p->image_format, p->download);
		return;
	}
	if (fd >= 0)
		close(fd);
	if (type == IPC_TLS_CERT) {
		frontend_tls_cert(fe, &msg->tls_cert);
		return;
	}
	if (type == IPC_TLS_SIGN_RES) {
		frontend_tls_sign_res(fe, id, &msg->tls_sign_res);
		return;
	}
	if (type != IPC_ACTION_RES) {
		log_warn("unexpected %s from the executor", ipc_msg_def(type)->name);
		uvchan_close(u, -EPROTO);
		return;
	}
	p = &fe->pending[id & (FRONTEND_PENDING_MAX - 1)];
	if (!p->in_use || p->id != id) {
		log_warn("answer %u from the executor matches no request", id);
		return;
	}
	p->in_use = false;
	fe->npending--;
	routes_answer(p->conn, &msg->action_res, p->json);
}

static void orphan_cb(uv_timer_t *t)
{
	struct frontend *fe = t->data;

	log_err("no executor channel for %d s: exiting to be restarted", FRONTEND_ORPHAN_MS / 1000);
	uv_stop(fe->loop);
}

static void exec_on_close(struct uvchan *u, int reason)
{
	struct frontend *fe = u->data;

	if (fe->exec == u) {
		log_warn("executor channel closed (%s): answering 503 until it is back",
			 reason ? strerror(-reason) : "executor left");
		fe->exec = NULL;
		exec_fail_all(fe);
		uv_timer_start(&fe->orphan, orphan_cb, FRONTEND_ORPHAN_MS, 0);
	}
	free(u);
}

int frontend_attach_exec(struct frontend *fe, int fd)
{
	struct ipc_hello h = { .version = IPC_VERSION, .role = IPC_ROLE_HTTP };
	struct uvchan *u;
	int r;

	if (fe->exec) {
		struct uvchan *old = fe->exec;

		fe->exec = NULL;
		exec_fail_all(fe);
		uvchan_close(old, 0);
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		close(fd);
		return -ENOMEM;
	}
	r = uvchan_open(fe->loop, u, fd, IPC_ROLE_HTTP, IPC_ROLE_EXEC, exec_on_msg, exec_on_close, fe);
	if (r) {
		free(u);
		return r;
	}
	fe->exec = u;
	uv_timer_stop(&fe->orphan);
	uvchan_send(u, IPC_HELLO, 0, &h, -1);
	log_info("executor channel up");
	return 0;
}

static void sup_on_msg(struct uvchan *u, unsigned type, uint32_t id, union ipc_payload *msg, int fd)
{
	struct frontend *fe = u->data;

	(void)id;
	if (type == IPC_PEER_CHANNEL && fd >= 0 && msg->peer_channel.role == IPC_ROLE_EXEC) {
		frontend_attach_exec(fe, fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	log_warn("unexpected %s from the supervisor", ipc_msg_def(type)->name);
}

static void sup_on_close(struct uvchan *u, int reason)
{
	struct frontend *fe = u->data;

	(void)reason;
	log_info("supervisor channel closed: exiting");
	uv_stop(fe->loop);
}

int frontend_attach_supervisor(struct frontend *fe, struct ipc_chan *sup)
{
	/* The start-up channel joins the loop, with what it has read ahead. */
	return uvchan_adopt(fe->loop, &fe->sup, sup, sup_on_msg, sup_on_close, fe);
}

void frontend_init(struct frontend *fe, uv_loop_t *loop, const struct aurid_config *cfg)
{
	memset(fe, 0, sizeof(*fe));
	fe->loop = loop;
	fe->cfg = *cfg;
	fe->next_id = 1;
	uv_timer_init(loop, &fe->orphan);
	fe->orphan.data = fe;
	/* Until the first channel arrives we are an orphan too. */
	uv_timer_start(&fe->orphan, orphan_cb, FRONTEND_ORPHAN_MS, 0);
}

#ifdef AURID_TEST_HOOKS
/*
 * Test builds only: AURID_TEST_FORGE makes this front-end lie to the
 * executor as a compromised one would ("transport=sip", "sip-flow",
 * "legacy", "user=NAME", "target=TEXT"), so the tests can show that the
 * executor believes none of it.
 */
static const struct ipc_action_req *test_forge(const struct ipc_action_req *req)
{
	static struct ipc_action_req forged;
	const char *f = getenv("AURID_TEST_FORGE");

	if (!f || !*f)
		return req;
	forged = *req;
	if (strcmp(f, "transport=sip") == 0)
		forged.transport = IPC_TRANSPORT_SIP;
	else if (strcmp(f, "sip-flow") == 0)
		forged.flags |= IPC_REQ_SIP_REGISTERED_FLOW;
	else if (strcmp(f, "legacy") == 0)
		forged.auth_scheme = IPC_AUTH_LEGACY;
	else if (strncmp(f, "user=", 5) == 0)
		snprintf(forged.user, sizeof(forged.user), "%s", f + 5);
	else if (strncmp(f, "target=", 7) == 0)
		snprintf(forged.text, sizeof(forged.text), "%s", f + 7);
	log_warn("AURID_TEST_FORGE=%s: sending a forged request", f);
	return &forged;
}
#endif

static struct pending *submit(struct frontend *fe, struct http_conn *conn, const struct ipc_action_req *req,
			      bool json)
{
	struct pending *p;
	uint32_t id = fe->next_id;

#ifdef AURID_TEST_HOOKS
	req = test_forge(req);
#endif
	p = &fe->pending[id & (FRONTEND_PENDING_MAX - 1)];
	if (!fe->exec || p->in_use) {
		routes_unavailable(conn, json);
		return NULL;
	}
	if (uvchan_send(fe->exec, IPC_ACTION_REQ, id, req, -1) != 0) {
		routes_unavailable(conn, json);
		return NULL;
	}
	fe->next_id++;
	p->conn = conn;
	p->id = id;
	p->json = json;
	p->image_format = 0;
	p->download = false;
	p->in_use = true;
	fe->npending++;
	return p;
}

void frontend_submit(struct frontend *fe, struct http_conn *conn, const struct ipc_action_req *req, bool json)
{
	submit(fe, conn, req, json);
}

void frontend_submit_screenshot(struct frontend *fe, struct http_conn *conn, const struct ipc_action_req *req,
				bool json, int format, bool download)
{
	struct pending *p = submit(fe, conn, req, json);

	if (p) {
		p->image_format = format;
		p->download = download;
	}
}
