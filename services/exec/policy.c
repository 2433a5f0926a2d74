/*
 * The policy of DESIGN.md section 4: master switch, source, cross-site and
 * rebinding, credentials, (request validity), capability, rate, consent.
 * Every refusal names its reason word; the caller audits it.
 *
 * Cross-site and rebinding (site.c) come before credentials: a page on a
 * foreign name or a foreign site then never gets a 401 challenge (a login
 * prompt the browser would show for the attacker's name, and whose answer
 * it would later send to wherever that name points), and its requests
 * never count against the source's lock-out, which would lock the user's
 * own browser out.
 *
 * The items are the executor's own parse of the text (request.c); they are
 * checked here against this phone (op range, key names on the keymap).
 */
#include "executor.h"
#include "../common/clock.h"

#include "../common/action_grammar.h"
#include "../common/log.h"
#include "consent.h"
#include "digest.h"
#include "lockout.h"
#include "rate.h"
#include "site.h"
#include "trust.h"
#include "users.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum policy_verdict refuse(struct ipc_action_res *res, int status, const char *reason, uint32_t retry_after,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static enum policy_verdict refuse(struct ipc_action_res *res, int status, const char *reason, uint32_t retry_after,
		  const char *fmt, ...)
{
	va_list ap;

	res->status = (uint16_t)status;
	snprintf(res->reason, sizeof(res->reason), "%s", reason);
	res->retry_after = retry_after;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	return POLICY_REFUSE;
}

/*
 * A configured SIP server, checked here: an IP literal (IPv6 with or
 * without brackets) is compared with the peer by the executor itself; a
 * name is 1 ("ask aurid-sip's list"), since the executor cannot resolve.
 * 0: a literal that is not the peer, or nothing configured.
 */
static int sip_server_match(const char *host, const char *peer, bool *matched)
{
	char buf[64], norm[INET6_ADDRSTRLEN];
	unsigned char a[16];
	size_t n = strlen(host);
	int af;

	*matched = false;
	if (n == 0)
		return 0;
	if (host[0] == '[' && n > 2 && host[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
	} else if (n < sizeof(buf)) {
		memcpy(buf, host, n + 1);
	} else {
		return 1;
	}
	af = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, buf, a) != 1)
		return 1;
	if (inet_ntop(af, a, norm, sizeof(norm)) && strcmp(norm, peer) == 0)
		*matched = true;
	return 0;
}

/*
 * SIP's rule (Yealink's "Accept SIP Trust Server Only", sip.trust_ctrl):
 * only the configured SIP server and outbound proxy may send, and when
 * registered over TCP only over that connection.  The HTTP allow list does
 * not apply to SIP.  A server configured as an IP literal is checked here
 * against the packet's source as aurid-sip saw it; only for a configured
 * name is aurid-sip's resolution (its reported list) consulted.
 */
static bool sip_source_allowed(struct executor *ex, const struct ipc_action_req *req)
{
	const char *servers[2] = { ex->cfg.sip_server_address, ex->cfg.outbound_proxy_address };
	const char *list = ex->sip.trusted;
	size_t plen = strlen(req->peer);
	bool names = false;

	if (!ex->cfg.sip_trust_ctrl)
		return true;
	if (ex->sip.reg_state == IPC_SIP_REG_OK && ex->sip.reg_tcp)
		return (req->flags & IPC_REQ_SIP_REGISTERED_FLOW) != 0;
	for (size_t i = 0; i < 2; i++) {
		bool matched;

		if (sip_server_match(servers[i], req->peer, &matched) == 1)
			names = true;
		else if (matched)
			return true;
	}
	while (names && *list) {
		const char *end = strchr(list, ',');
		size_t len = end ? (size_t)(end - list) : strlen(list);

		if (len == plen && strncmp(list, req->peer, len) == 0)
			return true;
		list += len + (end ? 1 : 0);
	}
	return false;
}

static bool source_allowed(struct executor *ex, const struct ipc_action_req *req)
{
	switch (req->transport) {
	case IPC_TRANSPORT_HTTP:
	case IPC_TRANSPORT_HTTPS:
		return trust_allows(ex->trust, req->peer);
	case IPC_TRANSPORT_SIP:
		return sip_source_allowed(ex, req);
	default:
		return false;
	}
}

static enum policy_verdict check_digest(struct executor *ex, const struct ipc_action_req *req, struct ipc_action_res *res,
			char *user, size_t userlen, int64_t now)
{
	struct digest_response dr = {
		.alg = req->auth_scheme == IPC_AUTH_DIGEST_MD5 ? USERS_DIGEST_MD5 : USERS_DIGEST_SHA256,
		.username = req->user, .realm = req->d_realm, .nonce = req->d_nonce, .nc = req->d_nc,
		.cnonce = req->d_cnonce, .qop = req->d_qop, .method = req->method, .uri = req->text,
		.response = req->d_response,
	};
	int r = digest_verify(ex->digest, ex->users, &dr, (int64_t)time(NULL), NULL, 0);

	switch (r) {
	case 0:
		lockout_success(ex->lockout, req->peer, now);
		snprintf(user, userlen, "%s", req->user);
		return POLICY_RUN;
	case -ESTALE:
		/* Not a wrong password: the client retries with the new nonce. */
		res->stale = 1;
		return refuse(res, 401, "auth", 0, "the Digest nonce is stale");
	case -EALREADY:
		lockout_fail(ex->lockout, req->peer, now);
		log_info("replayed Digest nonce count for '%s' from %s", req->user, req->peer);
		return refuse(res, 401, "auth", 0, "replayed Digest nonce count");
	default:
		lockout_fail(ex->lockout, req->peer, now);
		log_info("failed Digest login for '%s' from %s", req->user, req->peer);
		return refuse(res, 401, "auth", 0, "wrong user name or password");
	}
}

static enum policy_verdict check_credentials(struct executor *ex, const struct ipc_action_req *req, struct ipc_action_res *res,
			     char *user, size_t userlen)
{
	uint32_t retry = 0;
	int64_t now = clock_mono_s();

	if (!ex->cfg.action_uri_auth)
		return POLICY_RUN;
	/*
	 * A NOTIFY carries no Action URI credentials: Yealink phones do not ask
	 * SIP for the web login.  Its gate is the SIP trust rule above (the
	 * configured server, the registered flow), then consent.
	 */
	if (req->transport == IPC_TRANSPORT_SIP)
		return POLICY_RUN;
	if (lockout_check(ex->lockout, req->peer, now, &retry) != 0)
		return refuse(res, 401, "auth", retry,
			      "too many failed logins from %s: locked out for %u more seconds", req->peer, retry);
	if (req->auth_scheme == IPC_AUTH_NONE)
		return refuse(res, 401, "auth", 0, "credentials required");
	if (req->auth_scheme == IPC_AUTH_DIGEST_MD5 || req->auth_scheme == IPC_AUTH_DIGEST_SHA256)
		return check_digest(ex, req, res, user, userlen, now);
	if (req->auth_scheme != IPC_AUTH_BASIC && req->auth_scheme != IPC_AUTH_LEGACY)
		return refuse(res, 401, "auth", 0, "unsupported authentication scheme");
	if (users_verify(ex->users, req->user, req->password, NULL, 0) != 0) {
		lockout_fail(ex->lockout, req->peer, now);
		log_info("failed login for '%s' from %s", req->user, req->peer);
		return refuse(res, 401, "auth", 0, "wrong user name or password");
	}
	lockout_success(ex->lockout, req->peer, now);
	snprintf(user, userlen, "%s", req->user);
	return POLICY_RUN;
}

static enum policy_verdict check_items(struct executor *ex, const struct ipc_action_req *req, struct ipc_action_res *res)
{
	if (req->kind == IPC_KIND_SCREENSHOT)
		return req->nitems == 0 ? POLICY_RUN : refuse(res, 400, "bad-request", 0, "a screenshot has no items");
	if (req->kind != IPC_KIND_ACTION)
		return refuse(res, 400, "bad-request", 0, "unknown request kind");
	if (req->nitems == 0)
		return refuse(res, 400, "bad-request", 0, "no action in the request");
	for (size_t i = 0; i < req->nitems; i++) {
		const struct ipc_item *it = &req->items[i];
		unsigned code;

		if (it->op == OP_NONE || it->op >= OP_COUNT)
			return refuse(res, 400, "bad-request", 0, "invalid item %zu", i + 1);
		if (it->op == OP_KEY && keymap_lookup(&ex->keymap, it->arg, &code) != 0)
			return refuse(res, 400, "bad-request", 0, "key '%s' is not on this phone's keymap", it->arg);
	}
	return POLICY_RUN;
}

static enum policy_verdict check_capabilities(struct executor *ex, const struct ipc_action_req *req, struct ipc_action_res *res)
{
	static const char *const cap_names[CAP_COUNT] = {
		"keys", "dial", "call", "read", "screenshot", "system", "reset",
	};

	if (req->kind == IPC_KIND_SCREENSHOT && !ex->cfg.allow[CAP_SCREENSHOT])
		return refuse(res, 403, "capability", 0,
			      "screenshots need capability 'screenshot', which is off (aurid.allow.screenshot)");
	for (size_t i = 0; i < req->nitems; i++) {
		enum config_cap cap = action_op_capability((enum ipc_op)req->items[i].op);

		if (!ex->cfg.allow[cap])
			return refuse(res, 403, "capability", 0,
				      "'%s' needs capability '%s', which is off (aurid.allow.%s)",
				      req->items[i].text, cap_names[cap], cap_names[cap]);
	}
	return POLICY_RUN;
}

static enum policy_verdict check_site(struct executor *ex, const struct ipc_action_req *req, struct ipc_action_res *res)
{
	switch (site_check(ex->cfg.server_names, req)) {
	case SITE_OK:
		return POLICY_RUN;
	case SITE_NO_HOST:
		return refuse(res, 400, "bad-request", 0, "an HTTP/1.1 request needs a Host header");
	case SITE_FOREIGN_HOST:
		return refuse(res, 403, "host", 0,
			      "Host '%.100s' is not an address or a name of this phone (aurid.http.server_names)",
			      req->host);
	case SITE_FOREIGN_ORIGIN:
		return refuse(res, 403, "origin", 0, "requests from the web page at '%.100s' are refused: "
			      "it is not served by this phone", req->origin);
	case SITE_CROSS_SITE:
	default:
		return refuse(res, 403, "cross-site", 0, "cross-site requests are refused unless the user "
			      "follows a link to the phone (a top-level navigation)");
	}
}

static enum policy_verdict policy_decide(struct executor *ex, const struct ipc_action_req *req,
					 struct ipc_action_res *res, char *user, size_t userlen);

enum policy_verdict policy_check(struct executor *ex, const struct ipc_action_req *req, struct ipc_action_res *res,
				 char *user, size_t userlen)
{
	enum policy_verdict v = policy_decide(ex, req, res, user, userlen);

	/* Every 401 offers Digest with a fresh nonce, beside Basic. */
	if (v == POLICY_REFUSE && res->status == 401)
		digest_nonce(ex->digest, (int64_t)time(NULL), res->nonce);
	return v;
}

static enum policy_verdict policy_decide(struct executor *ex, const struct ipc_action_req *req,
					 struct ipc_action_res *res, char *user, size_t userlen)
{
	enum policy_verdict v;
	uint32_t retry = 0;

	user[0] = '\0';
	/* What the front-end could not even parse is refused before anything. */
	if (req->front_status != 0)
		return refuse(res, req->front_status, "bad-request", 0, "%s", req->error[0] ? req->error : "bad request");
	if (!ex->cfg.action_uri_enable)
		return refuse(res, 403, "disabled", 0, "Action URI is disabled on this phone");
	if (!source_allowed(ex, req))
		return refuse(res, 403, "not-allowed", 0, req->transport == IPC_TRANSPORT_SIP ?
			      "%s is not the configured SIP server (sip.trust_ctrl)" :
			      "%s is not on the Action URI allow list", req->peer);
	if ((v = check_site(ex, req, res)) != POLICY_RUN ||
	    (v = check_credentials(ex, req, res, user, userlen)) != POLICY_RUN ||
	    (v = check_items(ex, req, res)) != POLICY_RUN ||
	    (v = check_capabilities(ex, req, res)) != POLICY_RUN)
		return v;
	if (rate_take(ex->rate, req->peer, clock_mono_ns(), &retry) != 0)
		return refuse(res, 429, "rate", retry ? retry : 1, "too many requests from %s", req->peer);
	res->status = 200;
	snprintf(res->reason, sizeof(res->reason), "ok");
	/* Last: consent is asked only of a request that may otherwise run. */
	if (ex->cfg.show_action_uri_option && !consent_granted(ex, req->peer))
		return POLICY_ASK_CONSENT;
	return POLICY_RUN;
}
