/*
 * The HTTP/1.1 server's connection lifetime: one libuv loop, one
 * http_parser per connection, one handler call per request, answers in
 * request order.  The layers it drives are named in conn.h.
 *
 * A connection lives through these steps:
 *
 *   reading   bytes go through the parser; a complete request pauses it and
 *             is handed to the handler ("pending") until http_respond();
 *             bytes that arrive meanwhile wait in rbuf (bounded), unparsed.
 *   finishing after a last answer (Connection: close, an error, a timeout,
 *             EOF): no more requests; the answers are flushed, then
 *             uv_shutdown sends FIN and we linger a little, reading and
 *             dropping, so that the client reads our answer instead of a
 *             reset caused by its unread bytes.
 *   closing   uv_close on both handles; the memory goes when the close
 *             callbacks have run, no answer is pending any more and the
 *             transport awaits nothing (a TLS signature).
 *
 * Bytes arrive and leave through the connection's transport (plain TCP
 * below, TLS in tls_transport.c); nothing here knows which one it is.
 */
#include "conn.h"
#include "../common/clock.h"

#include "services/common/log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HTTP_LISTEN_BACKLOG 128
#define HTTP_LINGER_MS      1000

static void conn_finish(struct http_conn *c);
static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

/* ---- server lifetime ---------------------------------------------------- */

static void server_maybe_free(struct http_server *s)
{
	if (s->stopping && s->nls_open == 0 && s->nalloc == 0) {
		SSL_CTX_free(s->tls_ctx);
		free(s);
	}
}

static void on_listener_close(uv_handle_t *h)
{
	struct http_server *s = h->data;

	s->nls_open--;
	server_maybe_free(s);
}

/* ---- timers ------------------------------------------------------------- */

static void on_timer(uv_timer_t *t);

void conn_timer_arm(struct http_conn *c, enum http_timer kind, unsigned ms)
{
	c->timer_kind = kind;
	c->written_seen = c->written;
	c->wq_seen = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
	uv_timer_start(&c->timer, on_timer, ms, 0);
}

void conn_timer_stop(struct http_conn *c)
{
	if (c->timer_kind != TIMER_NONE) {
		c->timer_kind = TIMER_NONE;
		uv_timer_stop(&c->timer);
	}
}

/*
 * Run the parser over the unparsed bytes until they are gone, an answer is
 * pending, or the connection is finishing; then settle what comes next.
 */
void conn_parse(struct http_conn *c)
{
	if (c->parsing)
		return;
	c->parsing = 1;
	while (!c->pending && !c->failed && !c->finishing && !c->closing && c->roff < c->rlen) {
		enum http_errno err;
		size_t n;

		if (c->out && c->out->len >= HTTP_WBUF_FLUSH) {
			http_flush(c);
			if (c->closing)
				break;
		}
		/*
		 * A client that sends requests but does not read the answers
		 * gets no more answers until it does.  Only bytes queued in
		 * libuv count: their on_write is what resumes us.
		 */
		if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > HTTP_WQUEUE_MAX)
			break;
		n = http_parser_execute(&c->parser, &http_parse_settings, c->rbuf + c->roff, c->rlen - c->roff);
		c->roff += n;
		err = HTTP_PARSER_ERRNO(&c->parser);
		if (err == HPE_PAUSED) {
			http_parser_pause(&c->parser, 0);
			/* An Upgrade or CONNECT is answered as a plain request, and is the last one. */
			if (c->parser.upgrade) {
				c->keep_alive = 0;
				c->failed = 1;
			}
			http_dispatch(c);
		} else if (err != HPE_OK) {
			http_dispatch_error(c, err);
		}
	}
	if (c->roff == c->rlen)
		c->roff = c->rlen = 0;
	c->parsing = 0;
	conn_settle(c);
}

/* ---- reading ------------------------------------------------------------ */

/* Free room at the end of rbuf, made by moving or growing it; 0 if none. */
size_t conn_rbuf_room(struct http_conn *c)
{
	/* Nothing will parse what comes now: read it over the old bytes. */
	if (c->failed || c->finishing)
		c->roff = c->rlen = 0;
	if (c->rlen == c->rcap && c->roff > 0) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	if (c->rlen == c->rcap && c->rcap < HTTP_PIPELINE_MAX) {
		size_t cap = c->rcap * 2 > HTTP_PIPELINE_MAX ? HTTP_PIPELINE_MAX : c->rcap * 2;
		char *p = realloc(c->rbuf, cap);

		if (p) {
			c->rbuf = p;
			c->rcap = cap;
		}
	}
	return c->rcap - c->rlen;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct http_conn *c = h->data;

	(void)suggested;
	c->tx->alloc(c, buf);
}

static void conn_read_start(struct http_conn *c)
{
	if (c->closing)
		return;
	if (!c->reading && !c->eof && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
		c->reading = 1;
	if (c->reading && c->tx->resume)
		c->tx->resume(c);
}

void conn_read_stop(struct http_conn *c)
{
	if (!c->reading)
		return;
	uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = 0;
}

/* n plaintext bytes have arrived at rbuf + rlen. */
void conn_got(struct http_conn *c, size_t n)
{
	if (c->failed || c->finishing)
		return;
	if (c->rlen == c->roff)
		c->t_data = clock_mono_ns();
	c->rlen += n;
	if (!c->pending)
		conn_parse(c);
	else if (c->rlen - c->roff >= HTTP_PIPELINE_MAX)
		conn_read_stop(c);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct http_conn *c = st->data;

	if (n > 0) {
		if (!c->closing)
			c->tx->received(c, buf->base, (size_t)n);
		return;
	}
	if (n == 0)
		return;
	if (n == UV_ENOBUFS) {
		/* rbuf is full and could not grow: wait until it drains. */
		conn_read_stop(c);
		return;
	}
	conn_read_stop(c);
	if (n != UV_EOF) {
		log_debug("http: %s:%u: read: %s", c->peer, c->peer_port, uv_strerror((int)n));
		conn_close(c);
		return;
	}
	conn_eof(c);
}

void conn_eof(struct http_conn *c)
{
	/* EOF may be a half-close after the last request: its answers are still wanted. */
	conn_read_stop(c);
	c->eof = 1;
	if (c->finishing) {
		if (c->shut_done)
			conn_close(c);
		return;
	}
	if (!c->pending)
		conn_settle(c);
}

/* ---- the end of a connection ---------------------------------------------- */

static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct http_conn *c = req->data;

	if (c->closing)
		return;
	c->shut_done = 1;
	if (status < 0 || c->eof) {
		conn_close(c);
		return;
	}
	conn_timer_arm(c, TIMER_LINGER, HTTP_LINGER_MS);
}

/* No more requests: write what is owed, then FIN, then linger. */
static void conn_finish(struct http_conn *c)
{
	c->finishing = 1;
	if (c->closing || c->shut_sent)
		return;
	http_flush(c);
	if (c->closing)
		return;
	if (c->tx->end) {
		c->tx->end(c);
		if (c->closing)
			return;
	}
	c->shut_sent = 1;
	c->shut.data = c;
	if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
		conn_close(c);
		return;
	}
	/* Still bounded while the answer drains: the idle rule, with progress. */
	conn_timer_arm(c, TIMER_IDLE, c->srv->lim.idle_timeout_ms);
	conn_read_start(c);
}

/* After an event: write, and decide between waiting, reading and finishing. */
void conn_settle(struct http_conn *c)
{
	if (c->closing)
		return;
	if (c->finishing) {
		conn_finish(c);
		return;
	}
	http_flush(c);
	if (c->closing || c->pending) {
		if (!c->closing && c->rlen - c->roff >= HTTP_PIPELINE_MAX)
			conn_read_stop(c);
		return;
	}
	if (c->failed) {
		conn_finish(c);
		return;
	}
	if (c->rlen > c->roff) {
		/*
		 * Stopped on a full write queue (see conn_parse); on_write
		 * resumes.  A client that never reads is idle, not busy.
		 */
		conn_read_stop(c);
		if (c->timer_kind == TIMER_NONE)
			conn_timer_arm(c, TIMER_IDLE, c->srv->lim.idle_timeout_ms);
		return;
	}
	if (c->eof) {
		conn_finish(c);
		return;
	}
	conn_read_start(c);
	if (!c->in_request && c->timer_kind == TIMER_NONE)
		conn_timer_arm(c, TIMER_IDLE, c->srv->lim.idle_timeout_ms);
}

/* The memory is still awaited by someone other than libuv and the handler. */
static bool conn_busy(const struct http_conn *c)
{
	return c->tx && c->tx->busy && c->tx->busy(c);
}

void conn_free(struct http_conn *c)
{
	struct http_server *s = c->srv;

	if (c->tx && c->tx->release)
		c->tx->release(c);
	free(c->out);
	free(c->spare);
	free(c->rbuf);
	free(c->str);
	free(c);
	s->nalloc--;
	server_maybe_free(s);
}

static void on_conn_close(uv_handle_t *h)
{
	struct http_conn *c = h->data;

	if (--c->nhandles == 0 && !c->pending && !conn_busy(c))
		conn_free(c);
}

void conn_close(struct http_conn *c)
{
	struct http_server *s = c->srv;

	if (c->closing)
		return;
	c->closing = 1;
	if (c->admitted) {
		*c->pprev = c->next;
		if (c->next)
			c->next->pprev = c->pprev;
		s->nconns--;
		uv_close((uv_handle_t *)&c->timer, on_conn_close);
	}
	uv_close((uv_handle_t *)&c->tcp, on_conn_close);
}

static void on_timer(uv_timer_t *t)
{
	struct http_conn *c = t->data;
	enum http_timer kind = c->timer_kind;

	c->timer_kind = TIMER_NONE;
	switch (kind) {
	case TIMER_REQUEST:
		/* Slowloris: the request did not arrive in time.  Say so, then go. */
		c->srv->stats.timeouts++;
		log_debug("http: %s:%u: request timeout", c->peer, c->peer_port);
		c->failed = 1;
		c->in_request = 0;
		if (http_answer_put(c, 408, "text/plain", NULL, "request timeout\n", 16, 1) < 0) {
			conn_close(c);
			return;
		}
		conn_finish(c);
		break;
	case TIMER_IDLE:
		/* An answer draining to a slow reader is not idle; one big write completes only once. */
		if (c->nwrites && (c->written != c->written_seen ||
				   uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) < c->wq_seen)) {
			conn_timer_arm(c, TIMER_IDLE, c->srv->lim.idle_timeout_ms);
			return;
		}
		if (!c->finishing)
			c->srv->stats.timeouts++;
		conn_close(c);
		break;
	case TIMER_LINGER:
		conn_close(c);
		break;
	case TIMER_HANDSHAKE:
		/* A TLS slowloris: no request line can be late if the handshake never ends. */
		c->srv->stats.timeouts++;
		c->srv->stats.tls_failed++;
		log_debug("http: %s:%u: TLS handshake timeout", c->peer, c->peer_port);
		conn_close(c);
		break;
	case TIMER_NONE:
		break;
	}
}

/* ---- the plain transport ------------------------------------------------ */

static void plain_alloc(struct http_conn *c, uv_buf_t *buf)
{
	size_t room = conn_rbuf_room(c);

	/* rbuf is at most HTTP_PIPELINE_MAX: the room fits uv_buf_t's unsigned. */
	*buf = uv_buf_init(c->rbuf + c->rlen, (unsigned)room);
}

static void plain_received(struct http_conn *c, const char *at, size_t n)
{
	(void)at;    /* read in place, at rbuf + rlen */
	conn_got(c, n);
}

static void plain_send(struct http_conn *c, struct http_wbuf *w)
{
	if (http_sock_write(c, w->data, w->len, w) == 0)
		http_wbuf_sent(c, w);
}

static const struct http_transport plain_transport = {
	.alloc = plain_alloc,
	.received = plain_received,
	.send = plain_send,
};

/* ---- accepting ---------------------------------------------------------- */

static void on_connection(uv_stream_t *ls, int status)
{
	struct http_server *s = ls->data;
	struct http_conn *c;
	const char *why;

	if (status < 0) {
		log_warn("http: accept: %s", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		/* libuv stops this listener until a later accept; nothing better to do without memory. */
		log_err("http: accept: out of memory");
		return;
	}
	c->srv = s;
	c->tx = &plain_transport;
	c->tls_listener = (unsigned)((struct http_listener *)(void *)ls)->tls;
	s->nalloc++;
	uv_tcp_init(s->loop, &c->tcp);
	c->tcp.data = c;
	c->nhandles = 1;
	if (uv_accept(ls, (uv_stream_t *)&c->tcp) < 0) {
		conn_close(c);
		return;
	}
	if (http_conn_addresses(c) < 0) {
		conn_close(c);
		return;
	}
	why = http_admission_check(s, c);
	if (why) {
		http_conn_refuse(c, why);
		return;
	}
	c->str = malloc(sizeof(*c->str));
	c->rbuf = malloc(HTTP_RBUF_MIN);
	if (!c->str || !c->rbuf || (c->tls_listener && http_tls_conn_new(c) < 0)) {
		http_conn_refuse(c, "out of memory");
		return;
	}
	c->rcap = HTTP_RBUF_MIN;
	uv_timer_init(s->loop, &c->timer);
	c->timer.data = c;
	c->nhandles = 2;
	c->admitted = 1;
	c->next = s->conns;
	c->pprev = &s->conns;
	if (s->conns)
		s->conns->pprev = &c->next;
	s->conns = c;
	s->nconns++;
	s->stats.accepted++;

	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	http_request_reset(c);
	/* Answers go out in one write each; Nagle would hold a pipelined second one. */
	uv_tcp_nodelay(&c->tcp, 1);
	conn_read_start(c);
	if (!c->reading) {
		conn_close(c);
		return;
	}
	if (c->tls_listener)
		conn_timer_arm(c, TIMER_HANDSHAKE, s->lim.header_timeout_ms);
	else
		conn_timer_arm(c, TIMER_IDLE, s->lim.idle_timeout_ms);
}

/* ---- public ------------------------------------------------------------- */

int http_server_start(uv_loop_t *loop, const int *fds, size_t nfds, const struct http_limits *lim,
		      http_handler_fn fn, void *arg, struct http_server **out)
{
	return http_server_start_tls(loop, fds, nfds, NULL, 0, lim, NULL, fn, arg, out);
}

int http_server_start_tls(uv_loop_t *loop, const int *fds_plain, size_t nplain, const int *tls_fds, size_t ntls,
			  const struct http_limits *lim, const struct http_tls_ops *tls,
			  http_handler_fn fn, void *arg, struct http_server **out)
{
	struct http_server *s;
	struct sigaction sa;
	int fds[32];
	size_t nfds;
	int r = 0;
	size_t i;

	if (out)
		*out = NULL;
	if (!loop || !lim || !fn || !out || (nplain && !fds_plain) || (ntls && (!tls_fds || !tls || !tls->sign)) ||
	    nplain > 32 || ntls > 32 - nplain || !lim->max_connections || !lim->max_per_source ||
	    !lim->header_timeout_ms || !lim->idle_timeout_ms) {
		r = -EINVAL;
		goto close_fds;
	}
	nfds = nplain + ntls;
	for (i = 0; i < nfds; i++)
		fds[i] = i < nplain ? fds_plain[i] : tls_fds[i - nplain];
	s = calloc(1, sizeof(*s) + nfds * sizeof(s->ls[0]));
	if (!s) {
		r = -ENOMEM;
		goto close_fds;
	}
	/* libuv writes with write(2): a client that has gone would raise SIGPIPE. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Process-wide, but aurid-http parses only requests, and all with this server's limit. */
	http_parser_set_max_header_size(HTTP_HEADERS_MAX);

	s->loop = loop;
	s->lim = *lim;
	s->fn = fn;
	s->arg = arg;
	if (tls)
		s->tls_ops = *tls;
	s->nls = nfds;
	for (i = 0; i < nfds; i++) {
		uv_tcp_init(loop, &s->ls[i].tcp);
		s->ls[i].tcp.data = s;
		s->ls[i].tls = i >= nplain;
		s->nls_open++;
		r = uv_tcp_open(&s->ls[i].tcp, fds[i]);
		if (r < 0) {
			close(fds[i]);
			i++;
			break;
		}
		r = uv_listen((uv_stream_t *)&s->ls[i].tcp, HTTP_LISTEN_BACKLOG, on_connection);
		if (r < 0) {
			i++;
			break;
		}
	}
	if (r < 0) {
		log_err("http: listen: %s", uv_strerror(r));
		for (; i < nfds; i++)
			close(fds[i]);
		http_server_stop(s);
		return r;
	}
	*out = s;
	return 0;

close_fds:
	for (i = 0; fds_plain && i < nplain; i++)
		close(fds_plain[i]);
	for (i = 0; tls_fds && i < ntls; i++)
		close(tls_fds[i]);
	return r;
}

void http_server_stop(struct http_server *s)
{
	struct http_conn *c, *next;

	if (!s || s->stopping)
		return;
	s->stopping = 1;
	for (size_t i = 0; i < s->nls; i++) {
		if (s->ls[i].tcp.data == s && !uv_is_closing((uv_handle_t *)&s->ls[i].tcp))
			uv_close((uv_handle_t *)&s->ls[i].tcp, on_listener_close);
	}
	for (c = s->conns; c; c = next) {
		next = c->next;
		conn_close(c);
	}
	server_maybe_free(s);
}

void http_server_stats(const struct http_server *s, struct http_stats *out)
{
	*out = s->stats;
	out->active = s->nconns;
}

void http_respond(struct http_conn *c, int status, const char *content_type, const char *extra_headers,
		  const void *body, size_t len)
{
	int close;

	if (!c || !c->pending) {
		log_err("http: an answer for a connection that has no request pending");
		return;
	}
	c->pending = 0;
	if (c->closing) {
		/* The client has gone, or the server stopped: nobody to tell. */
		if (c->nhandles == 0 && !conn_busy(c))
			conn_free(c);
		return;
	}
	/* After EOF, the answer to the last buffered request is the last answer. */
	close = !c->keep_alive || c->failed || c->err_status || (c->eof && c->roff == c->rlen);
	if (http_answer_put(c, status, content_type, extra_headers, body, len, close) < 0) {
		conn_close(c);
		return;
	}
	http_request_reset(c);
	if (close)
		c->finishing = 1;
	/* Inside conn_parse the loop goes on by itself; otherwise resume it. */
	if (!c->parsing)
		conn_parse(c);
}
