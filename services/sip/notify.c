/*
 * Requests in, answers out (DESIGN.md section 2, SIP).
 *
 * A NOTIFY with Event: ACTION-URI and a message/sipfrag body (or none) in
 * the action grammar becomes an IPC_ACTION_REQ; the executor decides and
 * its answer becomes the final response.  What is wrong with the request
 * itself (event, content type, method) is answered here at once and
 * statelessly: nothing runs, so a retransmission simply gets the same
 * answer again.  A NOTIFY that reaches the executor is answered through a
 * libre server transaction, which absorbs its retransmissions: one NOTIFY,
 * one press.  A body that does not parse still goes to the executor,
 * marked with its status, so that every NOTIFY that names an action has
 * its audit row.
 *
 * While the executor holds a request (the consent prompt), the NOTIFY gets
 * 100 Trying after SIP_TRYING_MS (RFC 4320: not earlier over UDP) and its
 * final response when the person answers or the prompt times out; a
 * decision still missing after SIP_DECIDE_MAX_MS is answered 408, just
 * before the sender's transaction would time out (Timer F, 32 s).
 */
#include "front.h"
#include "../common/clock.h"

#include "../common/action_grammar.h"
#include "../common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ALLOW_HDR "Allow: NOTIFY, OPTIONS\r\n"
#define EVENT_NAME "ACTION-URI"

/* ---- the UDP transaction budget ---- */

/* Forgets the answers older than Timer J: libre has freed those. */
static void budget_advance(struct sip_front *fe)
{
	uint64_t now = tmr_jiffies() / 1000;
	const size_t slots = SIP_TIMER_J_S + 1;

	if (fe->udp_done_sec == 0 || now - fe->udp_done_sec >= slots) {
		for (size_t i = 0; i < slots; i++) {
			fe->udp_live -= fe->udp_done[i];
			fe->udp_done[i] = 0;
		}
		fe->udp_done_sec = now;
		return;
	}
	while (fe->udp_done_sec < now) {
		uint32_t *slot = &fe->udp_done[++fe->udp_done_sec % slots];

		fe->udp_live -= *slot;
		*slot = 0;
	}
}

/* A UDP transaction was answered: libre keeps it for Timer J. */
static void budget_answered(struct sip_front *fe)
{
	budget_advance(fe);
	fe->udp_done[fe->udp_done_sec % (SIP_TIMER_J_S + 1)]++;
	fe->udp_live++;
}

/* The source of msg, for log lines. */
static const char *src_text(const struct sip_msg *msg, char *buf, size_t len)
{
	size_t n;

	sip_addr_text(&msg->src, buf, len);
	n = strlen(buf);
	snprintf(buf + n, len - n, ":%u", sa_port(&msg->src));
	return buf;
}

/* ---- answers ---- */

static void reply(struct sip_front *fe, const struct sip_msg *msg, uint16_t code, const char *reason,
		  const char *headers)
{
	int r = sip_err(sip_replyf(fe->sip, msg, code, reason, "%sContent-Length: 0\r\n\r\n", headers));
	char src[80];

	if (r)
		log_debug("cannot answer %u to %s: %s", code, src_text(msg, src, sizeof(src)), strerror(-r));
}

/* Warning: 399 (RFC 3261 20.43) carries the executor's reason in words. */
static void warning_hdr(char *out, size_t outlen, const char *text)
{
	size_t o = 0, n;

	if (!text || !*text) {
		out[0] = '\0';
		return;
	}
	n = (size_t)snprintf(out, outlen, "Warning: 399 " SIP_SOFTWARE " \"");
	o = n < outlen ? n : outlen;
	for (const char *p = text; *p && o + 4 < outlen && p - text < 120; p++) {
		char c = *p;

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			c = ' ';
		out[o++] = c;
	}
	if (o + 4 <= outlen) {
		memcpy(out + o, "\"\r\n", 4);
	} else {
		out[0] = '\0';
	}
}

/* The executor's status as a SIP final response. */
static uint16_t sip_status(unsigned status, const char **reason)
{
	if (status >= 200 && status < 300) {
		*reason = "OK";
		return 200;
	}
	switch (status) {
	case 400: *reason = "Bad Request"; return 400;
	case 408: *reason = "Request Timeout"; return 408;
	case 413:
	case 414: *reason = "Request Entity Too Large"; return 413;
	/* SIP has no 429: 503 with Retry-After says "not now" (RFC 3261 21.5.4). */
	case 429:
	case 503: *reason = "Service Unavailable"; return 503;
	default:
		break;
	}
	if (status >= 500) {
		*reason = "Server Internal Error";
		return 500;
	}
	/* 401 cannot happen (a NOTIFY has no credentials step) and 403 is every
	 * other refusal: not trusted, disabled, capability, consent. */
	*reason = "Forbidden";
	return 403;
}

void sip_notify_answer(struct sip_pending *p, const struct ipc_action_res *res)
{
	struct sip_front *fe = p->fe;
	char warn[160] = "", retry[48] = "";
	const char *reason;
	uint16_t code = sip_status(res->status, &reason);
	char src[80];
	int r;

	if (code >= 300)
		warning_hdr(warn, sizeof(warn), res->message[0] ? res->message : res->reason);
	if (code == 503)
		snprintf(retry, sizeof(retry), "Retry-After: %u\r\n", res->retry_after ? res->retry_after : 1);
	r = sip_err(sip_treplyf(&p->st, NULL, fe->sip, p->msg, false, code, reason,
				"%s%sContent-Length: 0\r\n\r\n", warn, retry));
	if (r)
		log_debug("cannot answer %u to %s: %s", code, src_text(p->msg, src, sizeof(src)), strerror(-r));
	if (p->udp) {
		fe->udp_live--;
		budget_answered(fe);
	}
	p->udp = false;
}

/* No decision yet: after SIP_TRYING_MS the sender hears 100 Trying (its
 * retransmission timer has reached T2), and before its transaction gives up
 * a final 408. */
static void pending_check(struct sip_pending *p, uint64_t now)
{
	struct sip_front *fe = p->fe;
	struct ipc_action_res *res;
	char src[80];

	if (now - p->t_start >= SIP_DECIDE_MAX_MS) {
		res = calloc(1, sizeof(*res));
		if (res) {
			res->status = 408;
			snprintf(res->message, sizeof(res->message),
				 "no decision within %u s (is the consent prompt still up?)", SIP_DECIDE_MAX_MS / 1000);
			log_warn("NOTIFY from %s: %s", src_text(p->msg, src, sizeof(src)), res->message);
			sip_notify_answer(p, res);
			free(res);
		}
		sip_pending_release(p);
	} else if (now - p->t_start >= SIP_TRYING_MS && !p->trying_sent) {
		int r = sip_err(sip_treplyf(&p->st, NULL, fe->sip, p->msg, false, 100, "Trying", NULL));

		if (r)
			log_debug("cannot send 100 Trying to %s: %s", src_text(p->msg, src, sizeof(src)), strerror(-r));
		p->trying_sent = true;
	}
}

void sip_notify_sweep(void *arg)
{
	struct sip_front *fe = arg;
	uint64_t now = tmr_jiffies();

	for (size_t i = 0; i < SIP_PENDING_MAX && fe->npending; i++) {
		struct sip_pending *p = &fe->pending[i];

		/* A slot filled but not yet given its transaction is skipped. */
		if (p->in_use && p->msg)
			pending_check(p, now);
	}
	if (fe->npending)
		tmr_start(&fe->sweep, SIP_SWEEP_MS, sip_notify_sweep, fe);
}

/* ---- the request ---- */

/* "NOTIFY key=OK" for the audit row: printable, one line, pwd= masked
 * (the legacy login prefix is accepted in a body as in a query). */
static bool event_is_action_uri(const struct sip_hdr *h)
{
	struct pl v = h->val;
	const char *semi = pl_strchr(&v, ';');

	if (semi)
		v.l = (size_t)(semi - v.p);
	while (v.l && (v.p[v.l - 1] == ' ' || v.p[v.l - 1] == '\t'))
		v.l--;
	while (v.l && (v.p[0] == ' ' || v.p[0] == '\t')) {
		v.p++;
		v.l--;
	}
	return pl_strcasecmp(&v, EVENT_NAME) == 0;
}

/*
 * The checks of the request itself.  0: go on; otherwise it was answered.
 * body/len: the message body as the Content-Length says.
 */
static int notify_check(struct sip_front *fe, const struct sip_msg *msg, const char **body, size_t *len)
{
	const struct sip_hdr *h;
	uint32_t nevent = sip_msg_hdr_count(msg, SIP_HDR_EVENT);

	if (nevent != 1) {
		if (nevent == 0)
			reply(fe, msg, 489, "Bad Event", "Allow-Events: " EVENT_NAME "\r\n");
		else
			reply(fe, msg, 400, "Bad Request", "Warning: 399 " SIP_SOFTWARE " \"more than one Event header\"\r\n");
		return -EINVAL;
	}
	if (!event_is_action_uri(sip_msg_hdr(msg, SIP_HDR_EVENT))) {
		reply(fe, msg, 489, "Bad Event", "Allow-Events: " EVENT_NAME "\r\n");
		return -EINVAL;
	}
	h = sip_msg_hdr(msg, SIP_HDR_CONTENT_ENCODING);
	if (h && pl_strcasecmp(&h->val, "identity") != 0) {
		reply(fe, msg, 415, "Unsupported Media Type", "Accept-Encoding: identity\r\nAccept: message/sipfrag\r\n");
		return -EINVAL;
	}
	/* No Content-Type is accepted: one copy of Yealink's guide shows none. */
	if (sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE) && !msg_ctype_cmp(&msg->ctyp, "message", "sipfrag")) {
		reply(fe, msg, 415, "Unsupported Media Type", "Accept: message/sipfrag\r\n");
		return -EINVAL;
	}
	*body = (const char *)mbuf_buf(msg->mb);
	*len = mbuf_get_left(msg->mb);
	/* Over TCP libre framed the message by Content-Length; a datagram's
	 * Content-Length may be shorter than the datagram, never longer. */
	if (msg->tp == SIP_TRANSP_UDP && pl_isset(&msg->clen)) {
		uint32_t clen = pl_u32(&msg->clen);

		if (clen > *len) {
			reply(fe, msg, 400, "Bad Request",
			      "Warning: 399 " SIP_SOFTWARE " \"Content-Length is larger than the datagram\"\r\n");
			return -EINVAL;
		}
		*len = clen;
	}
	return 0;
}

static void build_request(struct sip_front *fe, const struct sip_msg *msg, const char *body, size_t len,
			  uint64_t t_recv)
{
	struct ipc_action_req *req = fe->req;

	memset(req, 0, sizeof(*req));
	req->transport = IPC_TRANSPORT_SIP;
	req->kind = IPC_KIND_ACTION;
	req->auth_scheme = IPC_AUTH_NONE;   /* a NOTIFY presents no credentials */
	sip_addr_text(&msg->src, req->peer, sizeof(req->peer));
	req->peer_port = sa_port(&msg->src);
	req->t_recv_ns = t_recv;
	if (sip_reg_is_flow(fe, msg))
		req->flags |= IPC_REQ_SIP_REGISTERED_FLOW;
	snprintf(req->method, sizeof(req->method), "NOTIFY");
	/* The executor parses the body itself; it travels as a string. */
	if (len > ACTION_TEXT_MAX) {
		req->front_status = 413;
		snprintf(req->error, sizeof(req->error), "the body is longer than %d bytes", ACTION_TEXT_MAX);
	} else if (memchr(body, '\0', len)) {
		req->front_status = 400;
		snprintf(req->error, sizeof(req->error), "a NUL byte in the body");
	}
	if (len >= sizeof(req->text))
		len = sizeof(req->text) - 1;   /* refused: its start is enough for the audit */
	for (size_t i = 0; i < len; i++)
		req->text[i] = body[i] ? body[i] : '?';
	req->text[len] = '\0';
}

static void notify_handle(struct sip_front *fe, const struct sip_msg *msg)
{
	uint64_t t_recv = clock_mono_ns();
	struct sip_strans *st = NULL;
	struct sip_pending *p;
	const char *body;
	size_t len;
	bool udp = msg->tp == SIP_TRANSP_UDP;
	int r;

	if (notify_check(fe, msg, &body, &len) != 0)
		return;
	if (udp) {
		budget_advance(fe);
		if (fe->udp_live >= fe->cfg.sip_udp_transactions) {
			char src[80];

			log_debug("%u UDP transactions remembered: 503 to %s", fe->udp_live,
				  src_text(msg, src, sizeof(src)));
			reply(fe, msg, 503, "Service Unavailable", "Retry-After: 5\r\n");
			return;
		}
	}
	if (!fe->exec) {
		reply(fe, msg, 503, "Service Unavailable",
		      "Retry-After: 1\r\nWarning: 399 " SIP_SOFTWARE " \"the executor is not available\"\r\n");
		return;
	}
	/* The transaction first: from now on retransmissions are absorbed. */
	r = sip_err(sip_strans_alloc(&st, fe->sip, msg, NULL, NULL));
	if (r) {
		reply(fe, msg, 503, "Service Unavailable", "Retry-After: 1\r\n");
		return;
	}
	build_request(fe, msg, body, len, t_recv);
	if (sip_exec_submit(fe, fe->req, &p) != 0) {
		sip_treplyf(&st, NULL, fe->sip, msg, false, 503, "Service Unavailable",
			    "Retry-After: 1\r\nWarning: 399 " SIP_SOFTWARE " \"too many requests in flight\"\r\n"
			    "Content-Length: 0\r\n\r\n");
		if (udp)
			budget_answered(fe);
		return;
	}
	p->st = st;
	p->msg = mem_ref((void *)msg);
	p->udp = udp;
	if (udp)
		fe->udp_live++;
}

/* A response sent to the address in the top Via's maddr would let anyone
 * point our answers at a third party: such requests are dropped. */
static bool via_redirects(const struct sip_msg *msg)
{
	struct pl v;

	return msg_param_decode(&msg->via.params, "maddr", &v) == 0;
}

bool sip_notify_recv(const struct sip_msg *msg, void *arg)
{
	struct sip_front *fe = arg;
	const struct sip_hdr *req;

	if (!pl_strcmp(&msg->met, "ACK"))
		return true;   /* nothing to answer; libre absorbed those it knows */
	if (via_redirects(msg)) {
		char src[80];

		log_debug("request from %s with Via maddr: dropped", src_text(msg, src, sizeof(src)));
		return true;
	}
	if (fe->stopping) {
		reply(fe, msg, 503, "Service Unavailable", "Retry-After: 2\r\n");
		return true;
	}
	if (!pl_strcmp(&msg->met, "CANCEL")) {
		/* libre answered those that match a transaction. */
		reply(fe, msg, 481, "Call/Transaction Does Not Exist", "");
		return true;
	}
	/* RFC 3261 8.2.2.3: an extension we do not know is refused. */
	req = sip_msg_hdr(msg, SIP_HDR_REQUIRE);
	if (req) {
		char hdr[160];
		size_t o = (size_t)snprintf(hdr, sizeof(hdr), "Unsupported: ");

		/* The option tags as they came, printable and bounded. */
		for (size_t i = 0; i < req->val.l && o < 120; i++) {
			char c = req->val.p[i];

			hdr[o++] = (c > 0x20 && c < 0x7f) ? c : ' ';
		}
		memcpy(hdr + o, "\r\n", 3);
		reply(fe, msg, 420, "Bad Extension", hdr);
		return true;
	}
	if (!pl_strcmp(&msg->met, "NOTIFY")) {
		notify_handle(fe, msg);
	} else if (!pl_strcmp(&msg->met, "OPTIONS")) {
		reply(fe, msg, 200, "OK", ALLOW_HDR "Accept: message/sipfrag\r\nAllow-Events: " EVENT_NAME "\r\n");
	} else {
		reply(fe, msg, 405, "Method Not Allowed", ALLOW_HDR);
	}
	return true;
}

/* ---- seams (front.h): the checks and the request alone, without a transaction ---- */

int sip_notify__check(struct sip_front *fe, const struct sip_msg *msg, const char **body, size_t *len)
{
	return notify_check(fe, msg, body, len);
}

void sip_notify__build(struct sip_front *fe, const struct sip_msg *msg, const char *body, size_t len)
{
	build_request(fe, msg, body, len, 0);
}
