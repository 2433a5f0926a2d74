/* The executor's loop: channels in, where a request is born and decided. */
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
#include "jobs.h"
#include "lifecycle.h"
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

void executor_run(struct executor *ex, struct exec_req *r)
{
	if (r->req->kind == IPC_KIND_SCREENSHOT)
		screenshot_run(ex, r);
	else
		jobs_submit(ex->jobs, r);
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
	const char *why = NULL;
	struct exec_req *r;

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
	/* Born: from here the request is one object with one end (lifecycle.h). */
	r = exec_req_new(ex, f, id, &msg->action_req);
	if (!r) {
		log_err("out of memory for a request from %s", ipc_role_name(f->role));
		exec_answer_unrecorded(u, id, "the executor is out of memory");
		return;
	}
	switch (policy_check(ex, r->req, r->res, r->user, sizeof(r->user))) {
	case POLICY_RUN:
		executor_run(ex, r);
		break;
	case POLICY_ASK_CONSENT:
		consent_hold(ex, r);
		break;
	case POLICY_REFUSE:
		exec_req_finish(r);
		break;
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
	if ((r = audit_batch_open(loop, path, cfg->audit_max_rows, ex->audit, &ex->batch)) != 0) {
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
	if ((r = jobs_new(ex, &ex->jobs)) != 0)
		return r;
	mac_read(ex->mac, sizeof(ex->mac));
	if ((r = jobs_telephony_open(ex->jobs)) != 0)
		return r;
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
	jobs_close(ex->jobs);
	ex->jobs = NULL;
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
