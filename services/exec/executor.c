/* The executor's loop: channels in, group commit, answers out. */
#include "executor.h"

#include "../../hal/keypad_out.h"
#include "../common/log.h"
#include "audit.h"
#include "lockout.h"
#include "rate.h"
#include "store.h"
#include "trust.h"
#include "users.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* An answer held until the audit rows of this loop turn are committed,
 * kept encoded: a few hundred bytes instead of the whole decoded struct. */
struct reply {
	struct reply *next;
	struct front *front;
	uint32_t generation;
	uint32_t id;
	size_t len;
	uint8_t data[];
};

/* Prune the audit table every this many rows (pruning is a range delete). */
#define EXEC_PRUNE_EVERY 1000

const char *transport_name(unsigned transport)
{
	switch (transport) {
	case IPC_TRANSPORT_HTTP: return "http";
	case IPC_TRANSPORT_HTTPS: return "https";
	case IPC_TRANSPORT_SIP: return "sip";
	case IPC_TRANSPORT_ADMIN: return "admin";
	default: return "unknown";
	}
}

const char *outcome_name(unsigned outcome)
{
	switch (outcome) {
	case IPC_OUTCOME_OK: return "ok";
	case IPC_OUTCOME_IGNORED: return "ignored";
	case IPC_OUTCOME_UNSUPPORTED: return "unsupported";
	case IPC_OUTCOME_FAILED: return "failed";
	default: return "not-run";
	}
}

static int64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void send_replies(struct executor *ex, bool committed)
{
	while (ex->reply_head) {
		struct reply *r = ex->reply_head;
		struct front *f = r->front;

		ex->reply_head = r->next;
		if (f && f->ch && f->generation == r->generation) {
			f->pending--;
			if (committed) {
				uvchan_send_encoded(f->ch, r->data, r->len);
			} else {
				/* The audit row did not reach the disk: never say "done". */
				struct ipc_action_res *res = &ex->scratch_res;

				memset(res, 0, sizeof(*res));
				res->status = 503;
				snprintf(res->reason, sizeof(res->reason), "unavailable");
				snprintf(res->message, sizeof(res->message), "the audit log could not be written");
				res->retry_after = 1;
				uvchan_send(f->ch, IPC_ACTION_RES, r->id, res, -1);
			}
		}
		free(r);
	}
	ex->reply_tail = NULL;
	uv_idle_stop(&ex->commit_idle);
}

void executor_commit(struct executor *ex)
{
	bool ok = true;

	if (ex->store->in_tx) {
		if (++ex->since_prune >= EXEC_PRUNE_EVERY / 16) {
			ex->since_prune = 0;
			audit_prune(ex->audit);
		}
		if (store_commit(ex->store)) {
			log_err("audit commit failed: answering 503");
			store_rollback(ex->store);
			ok = false;
		}
	}
	send_replies(ex, ok);
}

static void commit_check_cb(uv_check_t *h)
{
	executor_commit(h->data);
}

static void commit_idle_cb(uv_idle_t *h)
{
	/* Nothing to do: an active idle handle makes the poll phase return at
	 * once, so answers queued from a timer reach the check phase now. */
	(void)h;
}

void executor_finish(struct executor *ex, struct front *f, uint32_t generation, uint32_t id,
		     const struct ipc_action_req *req, const char *user, struct ipc_action_res *res)
{
	struct audit_item items[IPC_ITEMS_MAX];
	struct audit_row row = {
		.time_us = wall_us(),
		.transport = transport_name(req->transport),
		.source = req->peer,
		.user = (user && *user) ? user : NULL,
		.request = req->request,
		.items = items,
		.nitems = res->nitems,
		.status = res->status,
		.reason = res->reason,
	};
	uint8_t buf[IPC_MSG_MAX];
	struct reply *r;
	uint64_t seq = 0;
	uint64_t now = mono_ns();
	size_t len;

	for (size_t i = 0; i < res->nitems; i++) {
		items[i].item = res->items[i].text;
		items[i].outcome = outcome_name(res->items[i].outcome);
	}
	row.latency_us = req->t_recv_ns && now > req->t_recv_ns ? (int64_t)((now - req->t_recv_ns) / 1000) : 0;
	if (!ex->store->in_tx && store_begin(ex->store))
		log_err("cannot open an audit transaction");
	if (audit_append(ex->audit, &row, &seq)) {
		log_err("audit append failed");
		res->status = 503;
		snprintf(res->reason, sizeof(res->reason), "unavailable");
		snprintf(res->message, sizeof(res->message), "the audit log could not be written");
	}
	res->audit_seq = seq;
	if (res->status >= 400)
		ex->refused++;
	ex->requests++;
	if (!f)
		return;   /* nobody to answer (admin verbs answer by themselves) */
	if (ipc_encode(IPC_ACTION_RES, id, res, buf, sizeof(buf), &len) != 0 || !(r = malloc(sizeof(*r) + len))) {
		log_err("cannot queue an answer");
		return;
	}
	r->next = NULL;
	r->front = f;
	r->generation = generation;
	r->id = id;
	r->len = len;
	memcpy(r->data, buf, len);
	if (ex->reply_tail) {
		ex->reply_tail->next = r;
	} else {
		ex->reply_head = r;
		uv_idle_start(&ex->commit_idle, commit_idle_cb);
	}
	ex->reply_tail = r;
}

static void refuse_now(struct executor *ex, struct front *f, uint32_t id, const struct ipc_action_req *req,
		       const char *user, struct ipc_action_res *res)
{
	/* A refused request ran nothing: every item is reported not-run. */
	res->nitems = req->nitems;
	for (size_t i = 0; i < req->nitems; i++) {
		res->items[i].outcome = IPC_OUTCOME_NOT_RUN;
		snprintf(res->items[i].text, sizeof(res->items[i].text), "%s", req->items[i].text);
	}
	executor_finish(ex, f, f->generation, id, req, user, res);
}

static void front_on_msg(struct uvchan *u, unsigned type, uint32_t id, union ipc_payload *msg, int fd)
{
	struct front *f = u->data;
	struct executor *ex = f->ex;
	struct ipc_action_res *res = &ex->scratch_res;
	char user[64] = "";

	if (fd >= 0)
		close(fd);
	if (type == IPC_HELLO)
		return;
	if (type != IPC_ACTION_REQ) {
		log_warn("unexpected %s from %s: closing its channel", ipc_msg_def(type)->name, ipc_role_name(f->role));
		uvchan_close(u, -EPROTO);
		return;
	}
	if (f->pending >= EXEC_FRONT_PENDING_MAX) {
		/* A front-end that does not wait for answers is broken or hostile. */
		log_warn("%s has %u requests in flight: closing its channel", ipc_role_name(f->role), f->pending);
		uvchan_close(u, -ENOBUFS);
		return;
	}
	f->pending++;
	if (policy_check(ex, &msg->action_req, res, user, sizeof(user)) != 0) {
		refuse_now(ex, f, id, &msg->action_req, user, res);
	} else if (jobs_submit(ex, f, id, &msg->action_req, user) != 0) {
		res->status = 503;
		snprintf(res->reason, sizeof(res->reason), "unavailable");
		snprintf(res->message, sizeof(res->message), "the executor is out of memory");
		refuse_now(ex, f, id, &msg->action_req, user, res);
	}
}

static void front_on_close(struct uvchan *u, int reason)
{
	struct front *f = u->data;

	log_info("channel to %s closed (%s)", ipc_role_name(f->role), reason ? strerror(-reason) : "peer left");
	if (f->ch == u) {
		f->ch = NULL;
		f->pending = 0;
		f->generation++;
	}
	free(u);
}

int executor_attach_front(struct executor *ex, enum ipc_role role, int fd)
{
	struct ipc_hello hello = { .version = IPC_VERSION, .role = IPC_ROLE_EXEC };
	struct uvchan *u;
	struct front *f;
	int r;

	if (role != IPC_ROLE_HTTP && role != IPC_ROLE_SIP) {
		close(fd);
		return -EINVAL;
	}
	f = &ex->fronts[role == IPC_ROLE_HTTP ? 0 : 1];
	f->ex = ex;
	f->role = role;
	f->generation++;
	f->pending = 0;
	if (f->ch) {
		/* The supervisor replaced the link (the front-end restarted). */
		struct uvchan *old = f->ch;

		f->ch = NULL;
		uvchan_close(old, 0);
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		close(fd);
		return -ENOMEM;
	}
	r = uvchan_open(ex->loop, u, fd, IPC_ROLE_EXEC, role, front_on_msg, front_on_close, f);
	if (r) {
		free(u);
		return r;
	}
	f->ch = u;
	/* The front-end waits for our HELLO before it sends requests. */
	uvchan_send(u, IPC_HELLO, 0, &hello, -1);
	log_info("channel to %s up", ipc_role_name(role));
	return 0;
}

static void sup_on_msg(struct uvchan *u, unsigned type, uint32_t id, union ipc_payload *msg, int fd)
{
	struct executor *ex = u->data;

	(void)id;
	if (type == IPC_PEER_CHANNEL && fd >= 0) {
		executor_attach_front(ex, (enum ipc_role)msg->peer_channel.role, fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	log_warn("unexpected %s from the supervisor", ipc_msg_def(type)->name);
}

static void sup_on_close(struct uvchan *u, int reason)
{
	struct executor *ex = u->data;

	/* Without the supervisor we are an orphan: stop, it will start a new one. */
	log_info("supervisor channel closed (%s): exiting", reason ? strerror(-reason) : "eof");
	uv_stop(ex->loop);
}

int executor_attach_supervisor(struct executor *ex, struct ipc_chan *sup)
{
	int fd = sup->fd;

	/* Hand the socket to a uvchan; the blocking start-up channel is done. */
	sup->fd = -1;
	ipc_chan_close(sup);
	return uvchan_open(ex->loop, &ex->sup, fd, IPC_ROLE_EXEC, IPC_ROLE_SUPERVISOR, sup_on_msg, sup_on_close, ex);
}

static int open_keypad(struct executor *ex, const struct exec_args *args)
{
	if (ex->cfg.hal == CONFIG_HAL_SIM)
		return keypad_out_open_sim(&ex->keymap, ex->cfg.state_dir, &ex->keypad);
	if (args->uinput_fd < 0) {
		log_err("aurid.hal = linux needs the uinput device from the supervisor");
		return -ENODEV;
	}
	return keypad_out_open_linux(&ex->keymap, args->uinput_fd, &ex->keypad);
}

int executor_init(struct executor *ex, uv_loop_t *loop, const struct aurid_config *cfg,
		  const struct exec_args *args)
{
	char path[PATH_MAX], err[512];
	int r;

	memset(ex, 0, sizeof(*ex));
	ex->loop = loop;
	ex->cfg = *cfg;
	ex->admin_fd = -1;
	ex->started = (int64_t)time(NULL);
	if (snprintf(path, sizeof(path), "%s/aurid.db", cfg->state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	umask(077);
	if ((r = store_open(path, &ex->store)) != 0) {
		log_err("cannot open the database %s: %s", path, strerror(-r));
		return r;
	}
	if ((r = trust_init(ex->store, &ex->trust)) != 0)
		return r;
	if ((r = trust_import_provisioned(ex->trust, cfg->limit_ip, err, sizeof(err))) != 0) {
		log_err("features.action_uri_limit_ip: %s", err);
		return r;
	}
	if ((r = users_init(ex->store, &ex->users)) != 0)
		return r;
	if ((r = users_bootstrap(ex->users, cfg->state_dir, cfg->admin_password)) != 0)
		return r;
	if ((r = audit_init(ex->store, cfg->audit_max_rows, &ex->audit)) != 0)
		return r;
	if ((r = rate_new(cfg->rate_per_sec, cfg->rate_burst, &ex->rate)) != 0)
		return r;
	if ((r = lockout_new(cfg->lockout_failures, cfg->lockout_seconds, cfg->lockout_max, &ex->lockout)) != 0)
		return r;
	if ((r = keymap_load(&ex->keymap, cfg->keymap, err, sizeof(err))) != 0) {
		log_err("keymap: %s", err);
		return r;
	}
	if ((r = open_keypad(ex, args)) != 0) {
		log_err("cannot open the keypad: %s", strerror(-r));
		return r;
	}
	jobs_init(ex);
	uv_idle_init(loop, &ex->commit_idle);
	uv_check_init(loop, &ex->commit_check);
	ex->commit_check.data = ex;
	uv_check_start(&ex->commit_check, commit_check_cb);
	if (args->admin_fd >= 0 && (r = admin_start(ex, args->admin_fd)) != 0)
		return r;
	log_info("ready: hal %s, %zu keys mapped, allow list %s", cfg->hal == CONFIG_HAL_SIM ? "sim" : "linux",
		 ex->keymap.n, cfg->limit_ip[0] ? cfg->limit_ip : "(blank: HTTP actions refused)");
	return 0;
}

void executor_close(struct executor *ex)
{
	jobs_drop_all(ex);
	executor_commit(ex);
	admin_stop(ex);
	if (ex->keypad)
		keypad_out_close(ex->keypad);
	if (ex->lockout)
		lockout_free(ex->lockout);
	if (ex->rate)
		rate_free(ex->rate);
	if (ex->audit)
		audit_free(ex->audit);
	if (ex->users)
		users_free(ex->users);
	if (ex->trust)
		trust_free(ex->trust);
	if (ex->store)
		store_close(ex->store);
}
