/*
 * The admin socket (<run_dir>/admin.sock, mode 0660 root:aurid-admin) and
 * its verbs for aurictl.  Who may connect is decided by the kernel twice:
 * the socket's file mode, then SO_PEERCRED and SO_PEERGROUPS here, judged
 * by admin_access.c (root or a member of aurid-admin; never a service's uid
 * or pid).  Every verb is audited with transport "admin".
 */
#include "executor.h"

#include "../common/clock.h"
#include "../common/log.h"
#include "admin_access.h"
#include "audit.h"
#include "audit_batch.h"
#include "consent.h"
#include "store.h"
#include "trust.h"
#include "users.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Rows per answer: the channel queue bounds what one answer may hold. */
#define ADMIN_ROWS_MAX 1000

struct admin_answer {
	struct admin_client *c;
	uint32_t id;
	unsigned rows;
};

static int send_row(void *arg, const char *json)
{
	struct admin_answer *a = arg;
	struct ipc_admin_row row;

	if (a->rows >= ADMIN_ROWS_MAX)
		return 0;
	if (snprintf(row.json, sizeof(row.json), "%s", json) >= (int)sizeof(row.json))
		return 0;   /* cannot happen for our rows: each field is bounded */
	if (uvchan_send(&a->c->ch, IPC_ADMIN_ROW, a->id, &row, -1) != 0)
		return -EPIPE;
	a->rows++;
	return 0;
}

static int send_json_row(struct admin_answer *a, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	int r = s ? send_row(a, s) : -ENOMEM;

	free(s);
	json_decref(obj);
	return r;
}

static void answer(struct admin_client *c, uint32_t id, bool ok, const char *message)
{
	struct ipc_admin_res res = { .ok = ok ? 1 : 0 };

	snprintf(res.message, sizeof(res.message), "%s", message);
	uvchan_send(&c->ch, IPC_ADMIN_RES, id, &res, -1);
}

/* A changing verb's answer, kept until its audit row is durable. */
struct admin_pending {
	struct admin_client *c;
	uint32_t generation;             /* c's, when the verb came */
	uint32_t id;
	struct ipc_admin_res res;
};

static void admin_recorded(void *arg, uint64_t seq, int err)
{
	struct admin_pending *p = arg;

	(void)seq;
	if (p->c->in_use && p->c->generation == p->generation) {
		if (err) {
			/* The row did not reach the disk: never say "done". */
			p->res.ok = 0;
			snprintf(p->res.message, sizeof(p->res.message), "the audit log could not be written");
		}
		uvchan_send(&p->c->ch, IPC_ADMIN_RES, p->id, &p->res, -1);
	}
	free(p);
}

/*
 * A verb that changed (or tried to change) something: its audit row, with
 * transport "admin" and the caller's uid, and its answer once the row is
 * durable.  request names what was done to whom, never a password.
 */
static void answer_audited(struct executor *ex, struct admin_client *c, uint32_t id, const char *request,
			   int status, const char *reason, const char *message)
{
	struct admin_pending *p = malloc(sizeof(*p));
	char source[32];
	struct audit_row row = {
		.time_us = clock_wall_us(),
		.transport = ipc_transport_name(IPC_TRANSPORT_ADMIN),
		.source = source,
		.request = request,
		.status = status,
		.reason = reason,
	};
	uint64_t seq;

	snprintf(source, sizeof(source), "local:uid=%u", (unsigned)c->uid);
	ex->requests++;
	if (status >= 400)
		ex->refused++;
	if (!p || audit_batch_stage(ex->batch, &row, admin_recorded, p, &seq) != 0) {
		log_err("cannot stage an audit row");
		free(p);
		answer(c, id, false, "the audit log could not be written");
		return;
	}
	p->c = c;
	p->generation = c->generation;
	p->id = id;
	memset(&p->res, 0, sizeof(p->res));
	p->res.ok = status < 400;
	snprintf(p->res.message, sizeof(p->res.message), "%s", message);
}


static int trust_row(void *arg, const char *pattern, const char *origin, int64_t created)
{
	json_t *o = json_pack("{s:s, s:s, s:I}", "pattern", pattern, "origin", origin, "created", (json_int_t)created);

	return o ? send_json_row(arg, o) : -ENOMEM;
}

static int consent_row(void *arg, const char *source, const char *transport, int64_t granted, int64_t expires)
{
	json_t *o = json_pack("{s:s, s:s, s:I}", "source", source, "transport", transport, "granted", (json_int_t)granted);

	if (o && expires)
		json_object_set_new(o, "expires", json_integer(expires));
	return o ? send_json_row(arg, o) : -ENOMEM;
}

static void verb_status(struct executor *ex, struct admin_answer *a)
{
	int users = 0;
	json_t *o;

	users_count(ex->users, &users);
	o = json_pack("{s:s, s:I, s:s, s:b, s:s, s:b, s:b, s:i, s:I, s:I, s:s}",
		      "version", AURID_VERSION,
		      "uptime_s", (json_int_t)(time(NULL) - ex->started),
		      "hal", ex->cfg.hal == CONFIG_HAL_SIM ? "sim" : "linux",
		      "action_uri_enabled", ex->cfg.action_uri_enable,
		      "allow_list", ex->cfg.limit_ip,
		      "http_connected", ex->fronts[0].ch != NULL,
		      "sip_connected", ex->fronts[1].ch != NULL,
		      "users", users,
		      "requests", (json_int_t)ex->requests,
		      "refused", (json_int_t)ex->refused,
		      "telephony", ex->cfg.telephony);
	if (o) {
		static const char *const reg[] = { "off", "trying", "registered", "failed" };

		json_object_set_new(o, "sip_trusted", json_string(ex->sip.trusted));
		json_object_set_new(o, "sip_registration", json_string(ex->sip.reg_state < 4 ? reg[ex->sip.reg_state] : "?"));
		json_object_set_new(o, "sip_registrar", json_string(ex->sip.registrar));
		json_object_set_new(o, "sip_registration_detail", json_string(ex->sip.detail));
		send_json_row(a, o);
	}
}

static void admin_dispatch(struct executor *ex, struct admin_client *c, unsigned type, uint32_t id,
			   struct ipc_admin_req *q)
{
	struct admin_answer a = { .c = c, .id = id };
	struct audit_filter f;
	char err[512] = "", what[600];
	int r;

	switch (type) {
	case IPC_ADMIN_STATUS:
		verb_status(ex, &a);
		answer(c, id, true, "");
		return;
	case IPC_ADMIN_TRUST_LIST:
		r = trust_list(ex->trust, trust_row, &a);
		answer(c, id, r == 0, r ? "cannot read the allow list" : "");
		return;
	case IPC_ADMIN_AUDIT:
		f = (struct audit_filter){
			.since = q->since, .until = q->until, .source = q->source, .outcome = q->outcome,
			.limit = q->limit > ADMIN_ROWS_MAX ? ADMIN_ROWS_MAX : q->limit,
		};
		r = audit_query(ex->audit, &f, send_row, &a);
		answer(c, id, r == 0, r ? "cannot read the audit log" : "");
		return;
	case IPC_ADMIN_TRUST_ADD:
	case IPC_ADMIN_TRUST_REMOVE:
		if (type == IPC_ADMIN_TRUST_ADD)
			r = trust_add(ex->trust, q->arg, err, sizeof(err));
		else
			r = trust_remove(ex->trust, q->arg, err, sizeof(err));
		snprintf(what, sizeof(what), "trust %s %s", type == IPC_ADMIN_TRUST_ADD ? "add" : "remove", q->arg);
		answer_audited(ex, c, id, what, r == 0 ? 200 : 400, r == 0 ? "ok" : "bad-request",
			       r ? (err[0] ? err : strerror(-r)) : "");
		return;
	case IPC_ADMIN_USER_ADD:
	case IPC_ADMIN_USER_PASSWD:
		if (type == IPC_ADMIN_USER_ADD)
			r = users_add(ex->users, q->arg, q->role[0] ? q->role : "admin", q->arg2, err, sizeof(err));
		else
			r = users_passwd(ex->users, q->arg, q->arg2, err, sizeof(err));
		/* Never the password: only what was done to whom. */
		snprintf(what, sizeof(what), "user %s %s", type == IPC_ADMIN_USER_ADD ? "add" : "passwd", q->arg);
		if (r == -EEXIST && !err[0])
			snprintf(err, sizeof(err), "user '%s' exists", q->arg);
		if (r == -ENOENT && !err[0])
			snprintf(err, sizeof(err), "no user '%s'", q->arg);
		answer_audited(ex, c, id, what, r == 0 ? 200 : 400, r == 0 ? "ok" : "bad-request",
			       r ? (err[0] ? err : strerror(-r)) : "");
		return;
	case IPC_ADMIN_CONSENT_LIST:
		r = consent_list(ex, consent_row, &a);
		answer(c, id, r == 0, r ? "cannot read the consent list" : "");
		return;
	case IPC_ADMIN_CONSENT_REVOKE:
		r = consent_revoke(ex, q->arg);
		if (r == -ENOENT)
			snprintf(err, sizeof(err), "no consent for '%s'", q->arg);
		snprintf(what, sizeof(what), "consent revoke %s", q->arg);
		answer_audited(ex, c, id, what, r == 0 ? 200 : 404, r == 0 ? "ok" : "bad-request",
			       r ? (err[0] ? err : strerror(-r)) : "");
		return;
	case IPC_ADMIN_SIM_PRESS:
		/* Stands for a person at the phone: not an action, not audited
		 * as one (the prompt's answer is, on the held requests). */
		r = consent_sim_press(ex, q->arg, err, sizeof(err));
		answer(c, id, r == 0, r ? (err[0] ? err : strerror(-r)) : "");
		return;
	default:
		answer(c, id, false, "unknown verb");
		return;
	}
}

static void admin_on_msg(struct uvchan *u, unsigned type, uint32_t id, union ipc_payload *msg, int fd)
{
	struct admin_client *c = u->data;

	if (fd >= 0)
		close(fd);
	if (type == IPC_HELLO) {
		struct ipc_hello h = { .version = IPC_VERSION, .role = IPC_ROLE_EXEC };

		if (c->hello || msg->hello.version != IPC_VERSION) {
			uvchan_close(u, -EPROTO);
			return;
		}
		c->hello = true;
		uvchan_send(u, IPC_HELLO, 0, &h, -1);
		return;
	}
	if (!c->hello) {
		uvchan_close(u, -EPROTO);
		return;
	}
	admin_dispatch(c->ex, c, type, id, &msg->admin_req);
}

static void admin_on_close(struct uvchan *u, int reason)
{
	struct admin_client *c = u->data;

	(void)reason;
	c->in_use = false;
}

/*
 * The peer's supplementary groups into p (at most ADMIN_ACCESS_GROUPS_MAX).
 * Where they cannot be known, p has none: the peer is judged by its primary
 * group alone, which can only refuse more, and the log says so.
 */
static void peer_groups(struct executor *ex, int fd, struct admin_peer *p, gid_t *groups)
{
	int r = ipc_peer_groups(fd, groups, ADMIN_ACCESS_GROUPS_MAX, &p->ngroups);

	p->groups = groups;
	if (r == 0)
		return;
	p->ngroups = 0;
	if (r == -ENOPROTOOPT) {
		if (!ex->peergroups_missing)
			log_warn("this kernel has no SO_PEERGROUPS (added in Linux 4.13): admin connections are "
				 "judged by their primary group only");
		ex->peergroups_missing = true;
	} else if (r == -ERANGE) {
		log_warn("admin connection from uid %u (pid %d) is in more than %d groups: judged by its "
			 "primary group only", (unsigned)p->uid, (int)p->pid, ADMIN_ACCESS_GROUPS_MAX);
	} else {
		log_warn("admin connection from uid %u (pid %d): cannot read its groups: %s; judged by "
			 "its primary group only", (unsigned)p->uid, (int)p->pid, strerror(-r));
	}
}

static void admin_accept_cb(uv_poll_t *p, int status, int events)
{
	struct executor *ex = p->data;
	struct admin_client *c = NULL;
	gid_t groups[ADMIN_ACCESS_GROUPS_MAX];
	struct admin_peer peer;
	enum admin_verdict v;
	enum ipc_role service;
	int fd;

	(void)events;
	if (status < 0)
		return;
	fd = accept4(ex->admin_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* Identity comes from the kernel, never from a message: the verdict
	 * is reached before anything is read from the connection. */
	if (ipc_peer_cred(fd, &peer.pid, &peer.uid, &peer.gid) != 0) {
		log_warn("admin connection without peer credentials refused");
		close(fd);
		return;
	}
	peer_groups(ex, fd, &peer, groups);
	v = admin_access_judge(&ex->services, geteuid(), &peer, &service);
	if (v != ADMIN_ACCEPT) {
		log_warn("admin connection from uid %u gid %u (pid %d) refused: %s%s%s%s",
			 (unsigned)peer.uid, (unsigned)peer.gid, (int)peer.pid, admin_access_reason(v),
			 service != IPC_ROLE_NONE ? " (" : "",
			 service != IPC_ROLE_NONE ? ipc_role_name(service) : "",
			 service != IPC_ROLE_NONE ? ")" : "");
		close(fd);
		return;
	}
	for (size_t i = 0; i < EXEC_ADMIN_CLIENTS_MAX; i++) {
		if (!ex->admins[i].in_use) {
			c = &ex->admins[i];
			break;
		}
	}
	if (!c) {
		log_warn("too many admin connections: refusing one");
		close(fd);
		return;
	}
	{
		uint32_t gen = c->generation + 1;

		memset(c, 0, sizeof(*c));
		c->generation = gen;
	}
	c->ex = ex;
	c->uid = peer.uid;
	if (uvchan_open(ex->loop, &c->ch, fd, IPC_ROLE_EXEC, IPC_ROLE_ADMIN, admin_on_msg, admin_on_close, c) == 0)
		c->in_use = true;
}

int admin_services_set(struct executor *ex, const struct ipc_service_ids *ids)
{
	if (admin_access_check_ids(ids) != 0) {
		log_err("the supervisor sent service ids that cannot be right (an unknown role, one "
			"twice, or uid 0)");
		return -EINVAL;
	}
	ex->services = *ids;
	for (size_t i = 0; i < ids->nservices; i++)
		log_debug("admin socket: %s is uid %u, pid %u", ipc_role_name((enum ipc_role)ids->services[i].role),
			  (unsigned)ids->services[i].uid, (unsigned)ids->services[i].pid);
	return 0;
}

int admin_start(struct executor *ex, int listen_fd)
{
	int r;

	ex->admin_fd = listen_fd;
	r = uv_poll_init(ex->loop, &ex->admin_poll, listen_fd);
	if (r)
		return r;
	ex->admin_poll.data = ex;
	return uv_poll_start(&ex->admin_poll, UV_READABLE, admin_accept_cb);
}

void admin_stop(struct executor *ex)
{
	for (size_t i = 0; i < EXEC_ADMIN_CLIENTS_MAX; i++)
		if (ex->admins[i].in_use)
			uvchan_close(&ex->admins[i].ch, 0);
	if (ex->admin_fd >= 0) {
		uv_poll_stop(&ex->admin_poll);
		uv_close((uv_handle_t *)&ex->admin_poll, NULL);
		close(ex->admin_fd);
		ex->admin_fd = -1;
	}
}
