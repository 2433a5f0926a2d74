/*
 * aurid-sip <-> aurid-exec and the supervisor: requests in flight by id,
 * answers matched back to their NOTIFY, 503 for everything in flight when
 * the executor goes away, and a new executor channel whenever the
 * supervisor hands one over (it restarted the executor).
 */
#include "front.h"

#include "../common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Static_assert((SIP_PENDING_MAX & (SIP_PENDING_MAX - 1)) == 0, "SIP_PENDING_MAX must be a power of two");
_Static_assert(SIP_PENDING_MAX + 16 < IPC_QUEUE_MAX, "requests in flight must fit the channel's queue");

void sip_pending_release(struct sip_pending *p)
{
	struct sip_front *fe = p->fe;

	if (!p->in_use)
		return;
	/* A transaction not answered here is ended by libre (it frees it). */
	p->st = mem_deref(p->st);
	p->msg = mem_deref(p->msg);
	p->in_use = false;
	fe->npending--;
}

/* Never a hang: everything in flight gets its 503 now. */
static void exec_fail_all(struct sip_front *fe, const char *why)
{
	struct ipc_action_res *res = calloc(1, sizeof(*res));

	for (size_t i = 0; i < SIP_PENDING_MAX; i++) {
		struct sip_pending *p = &fe->pending[i];

		if (!p->in_use)
			continue;
		if (res) {
			memset(res, 0, sizeof(*res));
			res->status = 503;
			res->retry_after = 1;
			snprintf(res->message, sizeof(res->message), "%s", why);
			sip_notify_answer(p, res);
		}
		sip_pending_release(p);
	}
	free(res);
}

static void exec_msg(struct sip_ipc *c, unsigned type, uint32_t id, union ipc_payload *msg, int fd)
{
	struct sip_front *fe = c->arg;
	struct sip_pending *p;

	if (fd >= 0)
		close(fd);
	if (type == IPC_HELLO)
		return;
	if (type != IPC_ACTION_RES) {
		log_warn("unexpected %s from the executor: closing its channel", ipc_msg_def(type)->name);
		sip_ipc_close(c, -EPROTO);
		return;
	}
	p = &fe->pending[id & (SIP_PENDING_MAX - 1)];
	if (!p->in_use || p->id != id) {
		/* Answered here already (the SIP deadline passed): the audit row
		 * written by the executor says what finally happened. */
		log_debug("answer %u from the executor matches no NOTIFY in flight", id);
		return;
	}
	sip_notify_answer(p, &msg->action_res);
	sip_pending_release(p);
}

static void exec_closed(struct sip_ipc *c, int reason)
{
	struct sip_front *fe = c->arg;

	if (fe->exec == c) {
		fe->exec = NULL;
		exec_fail_all(fe, "the executor is not available; retry shortly");
		if (reason == 0 || reason == -EPIPE || reason == -ECONNRESET) {
			/* It left: the supervisor restarts it and hands us a
			 * channel to the new one. */
			log_warn("executor channel closed: answering 503 until it is back");
		} else {
			/* We closed a channel to a live executor (a malformed
			 * message, an overflow): no new one would come, so start
			 * afresh; the supervisor restarts us and links us again. */
			log_err("executor channel failed (%s): exiting to be restarted", strerror(-reason));
			sip_front_stop(fe);
		}
	}
	free(c);
}

int sip_exec_attach(struct sip_front *fe, int fd)
{
	struct ipc_hello h = { .version = IPC_VERSION, .role = IPC_ROLE_SIP };
	struct sip_ipc *c;
	int r;

	if (fe->exec) {
		struct sip_ipc *old = fe->exec;

		fe->exec = NULL;
		exec_fail_all(fe, "the executor restarted; retry shortly");
		sip_ipc_close(old, 0);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	r = sip_ipc_open(c, fd, IPC_ROLE_SIP, IPC_ROLE_EXEC, exec_msg, exec_closed, fe);
	if (r) {
		free(c);
		return r;
	}
	fe->exec = c;
	sip_ipc_send(c, IPC_HELLO, 0, &h);
	log_info("executor channel up");
	/* A new executor knows nothing of the SIP server yet. */
	sip_front_state_update(fe, true);
	return 0;
}

void sip_exec_close(struct sip_front *fe)
{
	struct sip_ipc *c = fe->exec;

	/* At once, not from the loop: the process is stopping. */
	fe->exec = NULL;
	exec_fail_all(fe, "aurid-sip is stopping; retry shortly");
	if (c) {
		sip_ipc_release(c);
		free(c);
	}
	sip_ipc_release(&fe->sup);
}

int sip_exec_send_state(struct sip_front *fe, const struct ipc_sip_state *st)
{
	if (!fe->exec)
		return -EPIPE;
	return sip_ipc_send(fe->exec, IPC_SIP_STATE, 0, st);
}

#ifdef AURID_TEST_HOOKS
/*
 * Test builds only: AURID_TEST_FORGE=transport=http makes this front-end
 * claim a web transport, as a compromised one could; the executor closes
 * the channel.  (trusted=ADDR is in front.c.)
 */
static const struct ipc_action_req *test_forge(const struct ipc_action_req *req)
{
	static struct ipc_action_req forged;
	const char *f = getenv("AURID_TEST_FORGE");

	if (!f || strcmp(f, "transport=http") != 0)
		return req;
	forged = *req;
	forged.transport = IPC_TRANSPORT_HTTP;
	log_warn("AURID_TEST_FORGE=%s: sending a forged request", f);
	return &forged;
}
#endif

int sip_exec_submit(struct sip_front *fe, const struct ipc_action_req *req, struct sip_pending **out)
{
	uint32_t id = fe->next_id;
	struct sip_pending *p = &fe->pending[id & (SIP_PENDING_MAX - 1)];

#ifdef AURID_TEST_HOOKS
	req = test_forge(req);
#endif
	*out = NULL;
	if (!fe->exec || p->in_use)
		return -EAGAIN;
	if (sip_ipc_send(fe->exec, IPC_ACTION_REQ, id, req) != 0)
		return -EAGAIN;
	fe->next_id++;
	if (fe->next_id == 0)
		fe->next_id = 1;
	memset(p, 0, sizeof(*p));
	p->t_start = tmr_jiffies();
	p->fe = fe;
	p->id = id;
	p->in_use = true;
	fe->npending++;
	if (!tmr_isrunning(&fe->sweep))
		tmr_start(&fe->sweep, SIP_SWEEP_MS, sip_notify_sweep, fe);
	*out = p;
	return 0;
}

static void sup_msg(struct sip_ipc *c, unsigned type, uint32_t id, union ipc_payload *msg, int fd)
{
	struct sip_front *fe = c->arg;

	(void)id;
	if (type == IPC_PEER_CHANNEL && fd >= 0 && msg->peer_channel.role == IPC_ROLE_EXEC) {
		sip_exec_attach(fe, fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	log_warn("unexpected %s from the supervisor", ipc_msg_def(type)->name);
}

static void sup_closed(struct sip_ipc *c, int reason)
{
	struct sip_front *fe = c->arg;

	(void)reason;
	/* Without the supervisor we are an orphan: it starts a new one. */
	log_info("supervisor channel closed: exiting");
	sip_front_stop(fe);
}

int sip_exec_attach_supervisor(struct sip_front *fe, struct ipc_chan *sup)
{
	/* The start-up channel joins the loop, with what it has read ahead. */
	return sip_ipc_adopt(&fe->sup, sup, sup_msg, sup_closed, fe);
}
