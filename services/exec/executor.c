/* The executor's loop: channels in, group commit, answers out. */
#include "executor.h"

#include "../../hal/fb.h"
#include "../../hal/keypad_out.h"
#include "../../hal/telephony.h"
#include "../common/action_grammar.h"
#include "../common/clock.h"
#include "../common/log.h"
#include "audit.h"
#include "audit_batch.h"
#include "consent.h"
#include "digest.h"
#include "lockout.h"
#include "rate.h"
#include "request.h"
#include "store.h"
#include "tls.h"
#include "trust.h"
#include "users.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* An answer held until the audit rows before it are durable, kept encoded:
 * a few hundred bytes instead of the whole decoded struct. */
struct reply {
	struct reply *next;
	bool admin;                      /* to an admin client, else to a front-end */
	void *peer;                      /* struct front * or struct admin_client * */
	uint32_t generation;
	uint32_t id;
	int fd;                          /* passed with the answer, or -1 */
	size_t len;
	uint8_t data[];
};

/* The channel an answer goes to, or NULL if that peer has gone since. */
static struct uvchan *reply_chan(struct reply *r)
{
	if (r->admin) {
		struct admin_client *c = r->peer;

		return c->in_use && c->generation == r->generation ? &c->ch : NULL;
	} else {
		struct front *f = r->peer;

		if (!f->ch || f->generation != r->generation)
			return NULL;
		f->pending--;
		return f->ch;
	}
}

static void send_failed(struct executor *ex, struct reply *r, struct uvchan *ch)
{
	/* The audit row did not reach the disk: never say "done". */
	if (r->admin) {
		struct ipc_admin_res res = { .ok = 0 };

		snprintf(res.message, sizeof(res.message), "the audit log could not be written");
		uvchan_send(ch, IPC_ADMIN_RES, r->id, &res, -1);
	} else {
		struct ipc_action_res *res = &ex->scratch_res;

		memset(res, 0, sizeof(*res));
		res->status = 503;
		snprintf(res->reason, sizeof(res->reason), "unavailable");
		snprintf(res->message, sizeof(res->message), "the audit log could not be written");
		res->retry_after = 1;
		uvchan_send(ch, IPC_ACTION_RES, r->id, res, -1);
	}
}

static void batch_done(void *arg, int err)
{
	struct executor *ex = arg;

	while (ex->writing_head) {
		struct reply *r = ex->writing_head;
		struct uvchan *ch = reply_chan(r);

		ex->writing_head = r->next;
		if (ch && !err)
			uvchan_send_encoded(ch, r->data, r->len, r->fd);
		else if (ch)
			send_failed(ex, r, ch);
		if (r->fd >= 0)
			close(r->fd);
		free(r);
	}
	if (!ex->staged_head)
		uv_idle_stop(&ex->commit_idle);
	else if (audit_batch_staged(ex->batch) > 0) {
		/* Rows staged while this batch was on disk go next, at once. */
		ex->writing_head = ex->staged_head;
		ex->staged_head = ex->staged_tail = NULL;
		audit_batch_flush(ex->batch);
	} else {
		/* Answers whose rows were all in this batch: they may go now. */
		ex->writing_head = ex->staged_head;
		ex->staged_head = ex->staged_tail = NULL;
		batch_done(ex, 0);
	}
}

static void commit_check_cb(uv_check_t *h)
{
	struct executor *ex = h->data;

	/* End of a loop turn: hand what this turn decided to the writer,
	 * unless a batch is on disk (then it goes when that one is done). */
	if (!audit_batch_busy(ex->batch) && audit_batch_staged(ex->batch) > 0) {
		ex->writing_head = ex->staged_head;
		ex->staged_head = ex->staged_tail = NULL;
		audit_batch_flush(ex->batch);
		uv_idle_stop(&ex->commit_idle);
	}
}

static void commit_idle_cb(uv_idle_t *h)
{
	/* Nothing to do: an active idle handle makes the poll phase return at
	 * once, so rows staged from a timer reach the check phase now. */
	(void)h;
}

static void queue_reply(struct executor *ex, bool admin, void *peer, uint32_t generation, uint32_t id,
			unsigned type, const void *msg, int fd)
{
	uint8_t buf[IPC_MSG_MAX];
	struct reply *r;
	size_t len;

	if (!ex->staged_head && !audit_batch_busy(ex->batch) && audit_batch_staged(ex->batch) == 0) {
		/* Everything before it is durable already: answer now. */
		struct reply tmp = { .admin = admin, .peer = peer, .generation = generation, .id = id };
		struct uvchan *ch = reply_chan(&tmp);

		if (ch)
			uvchan_send(ch, type, id, msg, fd);
		if (fd >= 0)
			close(fd);
		return;
	}
	if (ipc_encode(type, id, msg, buf, sizeof(buf), &len) != 0 || !(r = malloc(sizeof(*r) + len))) {
		log_err("cannot queue an answer");
		if (fd >= 0)
			close(fd);
		return;
	}
	r->fd = fd;
	r->next = NULL;
	r->admin = admin;
	r->peer = peer;
	r->generation = generation;
	r->id = id;
	r->len = len;
	memcpy(r->data, buf, len);
	if (ex->staged_tail) {
		ex->staged_tail->next = r;
	} else {
		ex->staged_head = r;
		if (!audit_batch_busy(ex->batch))
			uv_idle_start(&ex->commit_idle, commit_idle_cb);
	}
	ex->staged_tail = r;
}

void executor_admin_answer(struct executor *ex, struct admin_client *c, uint32_t id, bool ok, const char *message)
{
	struct ipc_admin_res res = { .ok = ok ? 1 : 0 };

	snprintf(res.message, sizeof(res.message), "%s", message);
	queue_reply(ex, true, c, c->generation, id, IPC_ADMIN_RES, &res, -1);
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

/* Stages the audit row of a decided request; 0 and *seq, or -errno. */
static int stage_row(struct executor *ex, const struct ipc_action_req *req, const char *user, int status,
		     const char *reason, const struct audit_item *items, size_t nitems, uint64_t *seq)
{
	struct audit_row row = {
		.time_us = clock_wall_us(),
		.transport = ipc_transport_name(req->transport),
		.source = req->peer,
		.user = (user && *user) ? user : NULL,
		.request = req->request,
		.items = items,
		.nitems = nitems,
		.status = status,
		.reason = reason,
	};
	uint64_t now = clock_mono_ns();
	int r;

	row.latency_us = req->t_recv_ns && now > req->t_recv_ns ? (int64_t)((now - req->t_recv_ns) / 1000) : 0;
	r = audit_batch_stage(ex->batch, &row, seq);
	if (r)
		log_err("cannot stage an audit row");
	if (status >= 400)
		ex->refused++;
	ex->requests++;
	if (!audit_batch_busy(ex->batch))
		uv_idle_start(&ex->commit_idle, commit_idle_cb);
	return r;
}

void executor_finish(struct executor *ex, struct front *f, uint32_t generation, uint32_t id,
		     const struct ipc_action_req *req, const char *user, struct ipc_action_res *res)
{
	struct audit_item items[IPC_ITEMS_MAX];
	uint64_t seq = 0;

	for (size_t i = 0; i < res->nitems; i++) {
		items[i].item = res->items[i].text;
		items[i].outcome = ipc_outcome_name(res->items[i].outcome);
		items[i].detail = i < req->nitems ? outcome_detail(ex, &req->items[i], res->items[i].outcome) : NULL;
	}
	if (stage_row(ex, req, user, res->status, res->reason, items, res->nitems, &seq) != 0) {
		res->status = 503;
		snprintf(res->reason, sizeof(res->reason), "unavailable");
		snprintf(res->message, sizeof(res->message), "the audit log could not be written");
	}
	res->audit_seq = seq;
	if (f)
		queue_reply(ex, false, f, generation, id, IPC_ACTION_RES, res, -1);
}

void executor_finish_screenshot(struct executor *ex, struct front *f, uint32_t id, const struct ipc_action_req *req,
				const char *user, struct ipc_screenshot_res *shot, int fd)
{
	struct audit_item item = { "screenshot", "ok", NULL };
	uint64_t seq = 0;

	if (stage_row(ex, req, user, shot->status, shot->reason, &item, 1, &seq) != 0) {
		struct ipc_action_res *res = &ex->scratch_res;

		close(fd);
		memset(res, 0, sizeof(*res));
		res->status = 503;
		snprintf(res->reason, sizeof(res->reason), "unavailable");
		snprintf(res->message, sizeof(res->message), "the audit log could not be written");
		queue_reply(ex, false, f, f->generation, id, IPC_ACTION_RES, res, -1);
		return;
	}
	shot->audit_seq = seq;
	queue_reply(ex, false, f, f->generation, id, IPC_SCREENSHOT_RES, shot, fd);
}

int executor_run(struct executor *ex, struct front *f, uint32_t id, const struct ipc_action_req *req,
		 const char *user)
{
	if (req->kind == IPC_KIND_SCREENSHOT)
		return screenshot_run(ex, f, id, req, user);
	return jobs_submit(ex, f, id, req, user);
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

/*
 * A handshake's signature for aurid-http.  Preconditions: the request came
 * on the http channel (checked by the caller); tls_key_sign checks the
 * algorithm, the input's shape and the rate.  Signing takes tens of
 * microseconds, so it is done at once and nothing is left outstanding.
 */
static void tls_answer_sign(struct executor *ex, struct uvchan *u, uint32_t id, const struct ipc_tls_sign_req *req)
{
	struct ipc_tls_sign_res res = { 0 };
	size_t n = 0;
	int r = -ENOKEY;

	if (ex->tls)
		r = tls_key_sign(ex->tls, req->alg, req->in, req->in_len, res.sig, sizeof(res.sig), &n);
	if (r == 0) {
		res.ok = 1;
		res.sig_len = (uint16_t)n;
	} else if (r == -EAGAIN) {
		log_debug("https: over the signature rate cap: refused");
	} else {
		log_warn("https: signature refused (algorithm 0x%04x, %u bytes): %s", req->alg, req->in_len,
			 strerror(-r));
	}
	uvchan_send(u, IPC_TLS_SIGN_RES, id, &res, -1);
}

/* The certificate chain goes to aurid-http whenever its channel comes up. */
static void tls_send_cert(struct executor *ex, struct uvchan *u)
{
	struct ipc_tls_cert *m;

	if (!ex->tls)
		return;
	m = malloc(sizeof(*m));
	if (!m) {
		uvchan_close(u, -ENOMEM);
		return;
	}
	snprintf(m->chain, sizeof(m->chain), "%s", tls_key_chain(ex->tls));
	uvchan_send(u, IPC_TLS_CERT, 0, m, -1);
	free(m);
}

static void front_on_msg(struct uvchan *u, unsigned type, uint32_t id, union ipc_payload *msg, int fd)
{
	struct front *f = u->data;
	struct executor *ex = f->ex;
	struct ipc_action_res *res = &ex->scratch_res;
	const char *why = NULL;
	char user[64] = "";
	int r;

	if (fd >= 0)
		close(fd);
	if (type == IPC_HELLO)
		return;
	if (type == IPC_SIP_STATE && f->role == IPC_ROLE_SIP) {
		ex->sip = msg->sip_state;
		log_info("sip: trusted servers [%s], registration %u (%s)", ex->sip.trusted, ex->sip.reg_state,
			 ex->sip.detail);
		return;
	}
	if (type == IPC_TLS_SIGN_REQ && f->role == IPC_ROLE_HTTP) {
		tls_answer_sign(ex, u, id, &msg->tls_sign_req);
		return;
	}
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
	if (request_channel_check(f->role, &msg->action_req, &why) != 0) {
		log_warn("%s sent %s: closing its channel", ipc_role_name(f->role), why);
		uvchan_close(u, -EPROTO);
		return;
	}
	request_read(&msg->action_req);
	f->pending++;
	r = policy_check(ex, &msg->action_req, res, user, sizeof(user));
	if (r < 0) {
		refuse_now(ex, f, id, &msg->action_req, user, res);
	} else if (r == 1 && consent_hold(ex, f, id, &msg->action_req, user) != 0) {
		res->status = 503;
		snprintf(res->reason, sizeof(res->reason), "unavailable");
		snprintf(res->message, sizeof(res->message), "too many requests are waiting for consent");
		res->retry_after = 5;
		refuse_now(ex, f, id, &msg->action_req, user, res);
	} else if (r == 0 && executor_run(ex, f, id, &msg->action_req, user) != 0) {
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
	if (role == IPC_ROLE_HTTP)
		tls_send_cert(ex, u);
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
	/* A front-end started or was reaped: its pid changed. */
	if (type == IPC_SERVICE_IDS) {
		if (admin_services_set(ex, &msg->service_ids) != 0)
			uvchan_close(u, -EPROTO);
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
	/* The start-up channel joins the loop, with what it has read ahead. */
	return uvchan_adopt(ex->loop, &ex->sup, sup, sup_on_msg, sup_on_close, ex);
}

/*
 * The first non-loopback interface's hardware address, for phonecfg=get.
 * Read at start, before the sandbox hides /sys.
 */
static void mac_read(char *out, size_t len)
{
	struct if_nameindex *ifs = if_nameindex();

	out[0] = '\0';
	for (struct if_nameindex *i = ifs; i && i->if_index && !out[0]; i++) {
		char path[96], buf[32] = "";
		FILE *f;

		if (strcmp(i->if_name, "lo") == 0 ||
		    snprintf(path, sizeof(path), "/sys/class/net/%s/address", i->if_name) >= (int)sizeof(path) ||
		    !(f = fopen(path, "re")))
			continue;
		if (fgets(buf, sizeof(buf), f) && strlen(buf) >= 17 && strncmp(buf, "00:00:00:00:00:00", 17) != 0)
			snprintf(out, len, "%.17s", buf);
		fclose(f);
	}
	if (ifs)
		if_freenameindex(ifs);
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
	if ((r = audit_batch_open(loop, path, cfg->audit_max_rows, ex->audit, batch_done, ex, &ex->batch)) != 0) {
		log_err("cannot open the audit writer: %s", strerror(-r));
		return r;
	}
	if ((r = rate_new(cfg->rate_per_sec, cfg->rate_burst, &ex->rate)) != 0)
		return r;
	if ((r = lockout_new(cfg->lockout_failures, cfg->lockout_seconds, cfg->lockout_max, &ex->lockout)) != 0)
		return r;
	if ((r = digest_new(cfg->digest_nonce_lifetime, &ex->digest)) != 0)
		return r;
	if ((r = keymap_load(&ex->keymap, cfg->keymap, err, sizeof(err))) != 0) {
		log_err("keymap: %s", err);
		return r;
	}
	if ((r = open_keypad(ex, args)) != 0) {
		log_err("cannot open the keypad: %s", strerror(-r));
		return r;
	}
	if (cfg->hal == CONFIG_HAL_SIM)
		r = fb_open_sim(cfg->state_dir, cfg->fb_width, cfg->fb_height, &ex->fb);
	else if (args->fb_fd >= 0)
		r = fb_open_linux(args->fb_fd, &ex->fb);
	else
		r = -ENODEV;
	if (r) {
		log_err("cannot open the screen: %s", strerror(-r));
		return r;
	}
	if ((r = consent_init(ex, args)) != 0)
		return r;
	if (cfg->https_listen[0] && (r = tls_key_open(cfg, &ex->tls, err, sizeof(err))) != 0) {
		log_err("https: %s", err);
		return r;
	}
	jobs_init(ex);
	mac_read(ex->mac, sizeof(ex->mac));
	if ((r = jobs_telephony_open(ex)) != 0)
		return r;
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
	consent_close(ex);
	/* Before the jobs: a reply arriving now must not run the next item. */
	telephony_close(ex->tel);
	ex->tel = NULL;
	jobs_drop_all(ex);
	/* Writes every staged row and sends the answers waiting for them. */
	audit_batch_close(ex->batch);
	ex->batch = NULL;
	admin_stop(ex);
	if (ex->keypad)
		keypad_out_close(ex->keypad);
	if (ex->fb)
		fb_close(ex->fb);
	if (ex->lockout)
		lockout_free(ex->lockout);
	digest_free(ex->digest);
	tls_key_free(ex->tls);
	ex->tls = NULL;
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
