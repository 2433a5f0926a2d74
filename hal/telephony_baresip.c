/*
 * The ctrl_tcp link to baresip: one TCP connection on aurid-exec's loop,
 * netstring framing ("<len>:<json>,"), commands with a token, replies
 * matched by token, events handed to telephony.c.
 *
 * Everything that comes from the peer is bounded: a frame's length is
 * checked on its header, before its bytes are buffered (TELEPHONY_FRAME_MAX),
 * and at most TELEPHONY_PENDING_MAX commands wait for replies.  A malformed
 * frame, a bad JSON payload or a reply that does not come within
 * TELEPHONY_REPLY_MS drops the connection: the stream cannot be trusted
 * to be in step after that, and a fresh one is.  Reconnects back off from
 * TELEPHONY_BACKOFF_MIN_MS to TELEPHONY_BACKOFF_MAX_MS.
 *
 * Network: aurid-exec's sandbox must allow a TCP socket() and connect() to
 * the configured host (services/common/sandbox.c, SANDBOX_EXEC).
 */
#include "telephony_impl.h"

#include "../services/common/config.h"
#include "../services/common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RX_CAP TELEPHONY_RX_CAP

struct tx {
	uv_write_t req;
	char data[];
};

static void link_connect(struct telephony *t);

static void tcp_free_cb(uv_handle_t *h)
{
	free(h);
}

static void retry_cb(uv_timer_t *h)
{
	link_connect(h->data);
}

/* Drops the connection: pending commands fail, a reconnect is scheduled. */
static void link_drop(struct telephony *t, const char *why)
{
	struct telephony_pending failed[TELEPHONY_PENDING_MAX];
	bool was_up = t->up;

	if (t->tcp) {
		uv_close((uv_handle_t *)t->tcp, tcp_free_cb);
		t->tcp = NULL;
	}
	t->up = false;
	t->rx_len = 0;
	snprintf(t->down_reason, sizeof(t->down_reason), "%s", why);
	if (was_up)
		log_warn("telephony: link to baresip at %s lost: %s", t->where, why);
	else
		log_debug("telephony: cannot reach baresip at %s: %s", t->where, why);
	uv_timer_stop(&t->reply_timer);
	/* Callbacks may send again (and fail at once): clear the table first. */
	memcpy(failed, t->pending, sizeof(failed));
	memset(t->pending, 0, sizeof(t->pending));
	if (!t->closing) {
		uv_timer_start(&t->retry_timer, retry_cb, t->backoff_ms, 0);
		t->backoff_ms = t->backoff_ms * 2 > TELEPHONY_BACKOFF_MAX_MS ? TELEPHONY_BACKOFF_MAX_MS
									   : t->backoff_ms * 2;
	}
	if (was_up)
		telephony__link(t, false);
	for (size_t i = 0; i < TELEPHONY_PENDING_MAX; i++)
		if (failed[i].token && failed[i].done)
			failed[i].done(failed[i].arg, -ENOTCONN, "");
}

static struct telephony_pending *pending_find(struct telephony *t, uint32_t token)
{
	for (size_t i = 0; i < TELEPHONY_PENDING_MAX; i++)
		if (t->pending[i].token && t->pending[i].token == token)
			return &t->pending[i];
	return NULL;
}

static void reply(struct telephony *t, json_t *o)
{
	const char *tok = json_string_value(json_object_get(o, "token"));
	const char *data = json_string_value(json_object_get(o, "data"));
	struct telephony_pending *p, copy;
	char *end;
	unsigned long n;

	if (!tok || tok[0] != 't')
		return;          /* not ours: ctrl_tcp answers only its asker, but be lenient */
	errno = 0;
	n = strtoul(tok + 1, &end, 10);
	if (errno || *end || n == 0 || n > UINT32_MAX || !(p = pending_find(t, (uint32_t)n)))
		return;
	copy = *p;
	memset(p, 0, sizeof(*p));
	if (copy.done)
		copy.done(copy.arg, json_is_true(json_object_get(o, "ok")) ? 0 : -EIO, data ? data : "");
}

int telephony__frame(struct telephony *t, const char *p, size_t n)
{
	json_error_t err;
	json_t *o = json_loadb(p, n, JSON_REJECT_DUPLICATES, &err);

	if (!o || !json_is_object(o)) {
		json_decref(o);
		return -EBADMSG;
	}
	if (json_is_true(json_object_get(o, "response")))
		reply(t, o);
	else if (json_is_true(json_object_get(o, "event")))
		telephony__event(t, o);
	json_decref(o);
	return 0;
}

/*
 * Parses complete frames from the start of rx.  0 when what is left is an
 * incomplete but so far valid frame; -EBADMSG otherwise.  The length is
 * checked as soon as its digits are complete, so a huge frame is refused
 * before its bytes arrive.
 */
static int rx_parse(struct telephony *t)
{
	size_t off = 0;
	int r = 0;

	while (off < t->rx_len && t->tcp) {
		const char *s = t->rx + off;
		size_t avail = t->rx_len - off, i = 0, len = 0;

		while (i < avail && s[i] >= '0' && s[i] <= '9') {
			len = len * 10 + (size_t)(s[i] - '0');
			if (++i > 5 || len > TELEPHONY_FRAME_MAX)
				return -EBADMSG;
		}
		if (i == avail)
			break;   /* the length is still coming */
		if (i == 0 || s[i] != ':' || (i > 1 && s[0] == '0'))
			return -EBADMSG;
		if (avail < i + 1 + len + 1)
			break;
		if (s[i + 1 + len] != ',')
			return -EBADMSG;
		r = telephony__frame(t, s + i + 1, len);
		if (r)
			return r;
		if (!t->tcp)
			return 0;   /* a callback dropped the link, and rx with it */
		off += i + 1 + len + 1;
	}
	if (off > 0) {
		memmove(t->rx, t->rx + off, t->rx_len - off);
		t->rx_len -= off;
	}
	return 0;
}

int telephony__feed(struct telephony *t, const char *p, size_t n)
{
	while (n > 0) {
		size_t take = RX_CAP - t->rx_len;
		int r;

		if (take > n)
			take = n;
		memcpy(t->rx + t->rx_len, p, take);
		t->rx_len += take;
		p += take;
		n -= take;
		r = rx_parse(t);
		if (r)
			return r;
		if (t->rx_len == RX_CAP)
			return -EBADMSG;   /* a full buffer holds no valid incomplete frame */
		if (!t->tcp)
			return 0;          /* a callback closed the link */
	}
	return 0;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char slab[16384];   /* the loop is single-threaded; bytes are copied out at once */

	(void)h;
	(void)suggested;
	buf->base = slab;
	buf->len = sizeof(slab);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct telephony *t = s->data;

	if (nread == 0 || (uv_tcp_t *)s != t->tcp)
		return;
	if (nread < 0) {
		link_drop(t, nread == UV_EOF ? "baresip closed the connection" : uv_strerror((int)nread));
		return;
	}
	if (telephony__feed(t, buf->base, (size_t)nread) != 0 && (uv_tcp_t *)s == t->tcp) {
		log_warn("telephony: malformed frame from baresip at %s", t->where);
		link_drop(t, "malformed frame");
	}
}

static void reginfo_done(void *arg, int err, const char *data)
{
	if (!err)
		telephony__reginfo(arg, data);
}

static void connect_cb(uv_connect_t *req, int status)
{
	struct telephony *t = req->data;

	if ((uv_tcp_t *)req->handle != t->tcp)
		return;   /* an old connection, already dropped */
	if (status < 0) {
		link_drop(t, uv_strerror(status));
		return;
	}
	t->up = true;
	t->down_reason[0] = '\0';
	t->backoff_ms = TELEPHONY_BACKOFF_MIN_MS;
	t->tcp->data = t;
	uv_read_start((uv_stream_t *)t->tcp, alloc_cb, read_cb);
	log_info("telephony: connected to baresip at %s", t->where);
	/* The accounts are not announced again: ask for them. */
	telephony__send(t, "reginfo", NULL, reginfo_done, t);
	telephony__link(t, true);
}

static void link_connect(struct telephony *t)
{
	int r;

	if (t->closing || t->tcp)
		return;
	t->tcp = malloc(sizeof(*t->tcp));
	if (!t->tcp) {
		link_drop(t, "out of memory");
		return;
	}
	uv_tcp_init(t->loop, t->tcp);
	t->tcp->data = t;
	t->connect_req.data = t;
	r = uv_tcp_connect(&t->connect_req, t->tcp, (const struct sockaddr *)&t->addr, connect_cb);
	if (r < 0)
		link_drop(t, uv_strerror(r));
}

static void reply_timer_cb(uv_timer_t *h)
{
	struct telephony *t = h->data;
	uint64_t now = uv_now(t->loop);

	for (size_t i = 0; i < TELEPHONY_PENDING_MAX; i++) {
		if (t->pending[i].token && now >= t->pending[i].deadline) {
			link_drop(t, "baresip did not answer in time");
			return;
		}
	}
}

static void write_cb(uv_write_t *req, int status)
{
	struct tx *x = (struct tx *)req;

	(void)status;   /* a failed write shows up as a read error too */
	free(x);
}

int telephony__send(struct telephony *t, const char *command, const char *params, telephony_done_fn *done,
		    void *arg)
{
	struct telephony_pending *p = NULL;
	char tok[16];
	json_t *o;
	char *js;
	size_t n;
	struct tx *x;
	uv_buf_t b;
	int r;

	if (!t->up)
		return -ENOTCONN;
	for (size_t i = 0; i < TELEPHONY_PENDING_MAX && !p; i++)
		if (!t->pending[i].token)
			p = &t->pending[i];
	if (!p)
		return -EBUSY;
	if (++t->next_token == 0)
		t->next_token = 1;
	snprintf(tok, sizeof(tok), "t%u", t->next_token);
	o = params ? json_pack("{s:s, s:s, s:s}", "command", command, "params", params, "token", tok)
		   : json_pack("{s:s, s:s}", "command", command, "token", tok);
	js = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!js)
		return -ENOMEM;
	n = strlen(js);
	x = malloc(sizeof(*x) + n + 16);
	if (!x) {
		free(js);
		return -ENOMEM;
	}
	r = snprintf(x->data, n + 16, "%zu:%s,", n, js);
	free(js);
	b = uv_buf_init(x->data, (unsigned)r);
	r = uv_write(&x->req, (uv_stream_t *)t->tcp, &b, 1, write_cb);
	if (r < 0) {
		free(x);
		return -ENOTCONN;
	}
	p->token = t->next_token;
	p->deadline = uv_now(t->loop) + TELEPHONY_REPLY_MS;
	p->done = done;
	p->arg = arg;
	if (!uv_is_active((uv_handle_t *)&t->reply_timer))
		uv_timer_start(&t->reply_timer, reply_timer_cb, 250, 250);
	return 0;
}

static int parse_spec(struct telephony *t, const char *spec)
{
	char host[64];
	unsigned port;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&t->addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&t->addr;

	if (strncmp(spec, "baresip:", 8) != 0 || config_split_hostport(spec + 8, host, sizeof(host), &port) ||
	    port == 0)
		return -EINVAL;
	memset(&t->addr, 0, sizeof(t->addr));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
	} else {
		return -EINVAL;
	}
	snprintf(t->where, sizeof(t->where), "%s", spec + 8);
	return 0;
}

int telephony_open(uv_loop_t *loop, const char *spec, telephony_change_fn *change, void *arg,
		   struct telephony **out)
{
	struct telephony *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->rx = malloc(RX_CAP);
	if (!t->rx) {
		free(t);
		return -ENOMEM;
	}
	if ((r = parse_spec(t, spec)) != 0) {
		free(t->rx);
		free(t);
		return r;
	}
	t->loop = loop;
	t->change = change;
	t->change_arg = arg;
	t->backoff_ms = TELEPHONY_BACKOFF_MIN_MS;
	snprintf(t->down_reason, sizeof(t->down_reason), "connecting");
	uv_timer_init(loop, &t->retry_timer);
	uv_timer_init(loop, &t->reply_timer);
	t->retry_timer.data = t->reply_timer.data = t;
	link_connect(t);
	*out = t;
	return 0;
}

/* libuv runs close callbacks in no promised order: free on the last one. */
static void handle_closed(uv_handle_t *h)
{
	struct telephony *t = h->data;

	if ((uv_handle_t *)&t->retry_timer != h && (uv_handle_t *)&t->reply_timer != h)
		free(h);
	if (--t->closing_handles == 0) {
		free(t->rx);
		free(t);
	}
}

void telephony_close(struct telephony *t)
{
	if (!t)
		return;
	t->closing = true;
	t->closing_handles = 2;
	if (t->tcp) {
		t->closing_handles++;
		t->tcp->data = t;
		uv_close((uv_handle_t *)t->tcp, handle_closed);
		t->tcp = NULL;
	}
	t->up = false;
	/* Callbacks are not called: their owners are going away too. */
	memset(t->pending, 0, sizeof(t->pending));
	uv_close((uv_handle_t *)&t->retry_timer, handle_closed);
	uv_close((uv_handle_t *)&t->reply_timer, handle_closed);
}

bool telephony_up(const struct telephony *t)
{
	return t && t->up;
}

const char *telephony_down_reason(const struct telephony *t)
{
	return t->up ? "" : t->down_reason;
}
