/*
 * The HTTP/1.1 server: one libuv loop, one http_parser per connection, one
 * handler call per request, answers in request order.
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
 *             callbacks have run and no answer is pending any more.
 *
 * Answers given while the parse loop runs (the handler answered at once)
 * are collected in one buffer and written with one write(2) when the loop
 * ends, so a pipelined burst costs one write (see conn_flush).
 *
 * HTTPS puts BoringSSL between the socket and those steps, with memory
 * BIOs: ciphertext from uv_read goes into the SSL, plaintext out of
 * SSL_read goes where a plain read would have gone (conn_got), answers go
 * through SSL_write and the SSL's output to the socket (tls_send_out).
 * Nothing else changes: the parser, the limits and the timers see
 * plaintext.  The handshake's signature is made by aurid-exec (the private
 * key method below); the connection waits for it like it waits for an
 * answer, and is not freed while it is outstanding.
 */
#include "server.h"
#include "headers.h"
#include "../common/clock.h"

#include "services/common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <http_parser.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTP_LISTEN_BACKLOG 128
#define HTTP_RBUF_MIN       4096
#define HTTP_PIPELINE_MAX   (64 * 1024)   /* unparsed bytes kept while an answer is pending */
#define HTTP_WQUEUE_MAX     (256 * 1024)  /* unsent answer bytes before we stop taking requests */
#define HTTP_WBUF_MIN       1024
#define HTTP_WBUF_KEEP      (16 * 1024)   /* largest write buffer kept for the next answer */
#define HTTP_WBUF_FLUSH     (64 * 1024)   /* collected answers written before parsing on */
#define HTTP_LINGER_MS      1000
#define HTTP_TLS_RBUF       (16 * 1024 + 512)  /* one TLS record and its overhead */
#define HTTP_TLS_CIPHER_MAX (64 * 1024)   /* ciphertext kept in the SSL before reading stops */

#define container_of(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

enum http_timer { TIMER_NONE, TIMER_IDLE, TIMER_REQUEST, TIMER_LINGER, TIMER_HANDSHAKE };

/* The TLS side of an HTTPS connection. */
struct http_tls_conn {
	SSL *ssl;
	BIO *rbio, *wbio;                     /* owned by ssl */
	size_t sig_len;
	uint8_t sig[HTTP_TLS_SIG_MAX];
	unsigned ready : 1;                   /* the handshake is complete */
	unsigned signing : 1;                 /* a signature is being made elsewhere */
	unsigned sig_failed : 1;
	unsigned pumping : 1;                 /* inside tls_pump */
	unsigned again : 1;                   /* tls_pump was asked for meanwhile */
	char cbuf[HTTP_TLS_RBUF];             /* ciphertext read from the socket */
};

/* The strings of one request. */
struct http_strings {
	char url[HTTP_URI_MAX + 1];
	char pq[HTTP_URI_MAX + 2];            /* path NUL query NUL */
	struct http_hdr_store hdr;            /* kept header values (headers.h) */
};

struct http_wbuf {
	uv_write_t req;
	struct http_conn *conn;
	size_t len;
	size_t cap;
	char data[];
};

struct http_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_shutdown_t shut;
	http_parser parser;
	struct http_server *srv;
	struct http_conn *next, **pprev;      /* srv->conns, while open */

	struct sockaddr_storage addr;         /* peer, IPv4-mapped folded to IPv4 */
	char peer[INET6_ADDRSTRLEN];
	uint16_t peer_port;
	char local[INET6_ADDRSTRLEN];         /* the address we were reached on, folded the same way */

	char *rbuf;                           /* [roff, rlen) read but not yet parsed */
	size_t roff, rlen, rcap;
	uint64_t t_data;                      /* arrival of the oldest unparsed byte */
	uint64_t t_req;                       /* first byte of the current request */

	struct http_strings *str;
	size_t url_len;
	uint64_t body_len;
	int err_status;
	const char *err_text;
	char err_buf[64];                     /* err_text, when it names a header */

	struct http_tls_conn *tls;            /* NULL for plain HTTP */
	struct http_request req;              /* the pending request */
	struct http_wbuf *out;                /* answers not yet handed to uv_write */
	struct http_wbuf *spare;              /* a finished buffer kept for reuse */
	unsigned nwrites;                     /* uv_writes in flight */
	uint64_t written;                     /* write callbacks seen: progress for the idle timer */
	uint64_t written_seen;
	size_t wq_seen;                       /* unsent bytes when the timer was armed */
	enum http_timer timer_kind;
	int nhandles;                         /* handles not yet closed */

	unsigned in_request : 1;              /* a message has begun and not completed */
	unsigned begun : 1;                   /* the current request has begun (reset after its answer) */
	unsigned in_body : 1;                 /* its headers are complete */
	unsigned line_done : 1;               /* the request line is behind us */
	unsigned keep_alive : 1;
	unsigned head : 1;                    /* the pending request is a HEAD */
	unsigned pending : 1;                 /* the handler owes an answer */
	unsigned parsing : 1;                 /* inside conn_parse: answers are collected */
	unsigned reading : 1;
	unsigned eof : 1;
	unsigned failed : 1;                  /* the parser is done with this connection */
	unsigned finishing : 1;
	unsigned shut_sent : 1;
	unsigned shut_done : 1;
	unsigned closing : 1;
	unsigned admitted : 1;
	unsigned tls_listener : 1;            /* accepted on an HTTPS socket */
};

struct http_listener {
	uv_tcp_t tcp;
	int tls;
};

struct http_server {
	uv_loop_t *loop;
	struct http_limits lim;
	http_handler_fn fn;
	void *arg;
	struct http_conn *conns;              /* open connections */
	unsigned nconns;
	unsigned nalloc;                      /* conn objects not yet freed, open or not */
	size_t nls, nls_open;
	int stopping;
	struct http_stats stats;
	time_t date_t;
	char date[48];                        /* "Date: ...\r\n" for date_t */
	SSL_CTX *tls_ctx;                     /* NULL until a certificate is set */
	struct http_tls_ops tls_ops;
	struct http_listener ls[];
};

static const char resp_503[] = "HTTP/1.1 503 Service Unavailable\r\n"
			       "Retry-After: 1\r\n"
			       "Content-Length: 0\r\n"
			       "Connection: close\r\n\r\n";

static void conn_parse(struct http_conn *c);
static void conn_settle(struct http_conn *c);
static void conn_finish(struct http_conn *c);
static void conn_close(struct http_conn *c);
static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);
static void tls_pump(struct http_conn *c);
static void conn_eof(struct http_conn *c);
static void tls_send_out(struct http_conn *c);

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

/* ---- write buffers ------------------------------------------------------ */

static void wbuf_release(struct http_conn *c, struct http_wbuf *w)
{
	if (!c->spare && w->cap <= HTTP_WBUF_KEEP) {
		w->len = 0;
		c->spare = w;
		return;
	}
	free(w);
}

/* Room for need more bytes in c->out; NULL if memory is short. */
static struct http_wbuf *wbuf_room(struct http_conn *c, size_t need)
{
	struct http_wbuf *w = c->out;
	size_t cap;

	if (w && w->cap - w->len >= need)
		return w;
	if (!w && c->spare && c->spare->cap >= need) {
		c->out = c->spare;
		c->spare = NULL;
		return c->out;
	}
	cap = (w ? w->len : 0) + need;
	cap = cap < HTTP_WBUF_MIN ? HTTP_WBUF_MIN : cap + cap / 4;
	/* Not in flight yet (uv_write has not seen it), so it may move. */
	w = realloc(w, sizeof(*w) + cap);
	if (!w)
		return NULL;
	if (!c->out) {
		w->conn = c;
		w->len = 0;
	}
	w->cap = cap;
	c->out = w;
	return w;
}

static void on_write(uv_write_t *req, int status)
{
	struct http_wbuf *w = container_of(req, struct http_wbuf, req);
	struct http_conn *c = w->conn;

	c->nwrites--;
	c->written++;
	wbuf_release(c, w);
	if (c->closing)
		return;
	if (status < 0) {
		log_debug("http: %s:%u: write: %s", c->peer, c->peer_port, uv_strerror(status));
		conn_close(c);
		return;
	}
	/* Requests left waiting because the client was not reading its answers. */
	if (!c->pending && !c->finishing && c->rlen > c->roff)
		conn_parse(c);
}

/*
 * One write(2) for everything collected.  uv_try_write first: when the
 * kernel takes it all (the usual case for small answers) there is no
 * request, no callback, and no epoll_ctl, which libuv would otherwise issue
 * after every completed uv_write.  It refuses while earlier writes are
 * queued, so the order holds.  Whatever it leaves goes by uv_write.
 */
static void conn_flush(struct http_conn *c)
{
	struct http_wbuf *w = c->out;
	size_t off = 0;
	uv_buf_t b;
	int r;

	if (!w || w->len == 0 || c->closing)
		return;
	if (c->tls) {
		/* Into records in the memory BIO (which takes it all), then to the socket. */
		if (!c->tls->ready || SSL_write(c->tls->ssl, w->data, (int)w->len) != (int)w->len) {
			ERR_clear_error();
			conn_close(c);
			return;
		}
		w->len = 0;
		if (w->cap > HTTP_WBUF_KEEP) {
			c->out = NULL;
			free(w);
		}
		tls_send_out(c);
		return;
	}
	b = uv_buf_init(w->data, (unsigned)w->len);
	r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	if (r >= 0 && (size_t)r == w->len) {
		w->len = 0;
		/* Kept for the next answer, unless a big one (a screenshot) made it big. */
		if (w->cap > HTTP_WBUF_KEEP) {
			c->out = NULL;
			free(w);
		}
		return;
	}
	if (r < 0 && r != UV_EAGAIN) {
		log_debug("http: %s:%u: write: %s", c->peer, c->peer_port, uv_strerror(r));
		conn_close(c);
		return;
	}
	if (r > 0)
		off = (size_t)r;
	c->out = NULL;
	b = uv_buf_init(w->data + off, (unsigned)(w->len - off));
	r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
	if (r < 0) {
		wbuf_release(c, w);
		conn_close(c);
		return;
	}
	c->nwrites++;
}

/* ---- timers ------------------------------------------------------------- */

static void on_timer(uv_timer_t *t);

static void timer_arm(struct http_conn *c, enum http_timer kind, unsigned ms)
{
	c->timer_kind = kind;
	c->written_seen = c->written;
	c->wq_seen = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
	uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void timer_stop(struct http_conn *c)
{
	if (c->timer_kind != TIMER_NONE) {
		c->timer_kind = TIMER_NONE;
		uv_timer_stop(&c->timer);
	}
}

/* ---- answers ------------------------------------------------------------ */

const char *http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

/* The Date line, formatted once per second: time() is a vDSO call, strftime is not free. */
static const char *server_date(struct http_server *s)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now != s->date_t) {
		s->date_t = now;
		gmtime_r(&now, &tm);
		if (strftime(s->date, sizeof(s->date), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm) == 0)
			s->date[0] = '\0';
	}
	return s->date;
}

static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* Append one complete answer to c->out. */
static int conn_put_answer(struct http_conn *c, int status, const char *ctype, const char *extra,
			   const void *body, size_t len, int close)
{
	const char *date = server_date(c->srv);
	const char *reason;
	size_t ctlen = ctype ? strlen(ctype) : 0;
	size_t exlen = extra ? strlen(extra) : 0;
	size_t datelen = strlen(date);
	int no_length, no_body;
	struct http_wbuf *w;
	char *p;

	/* A 1xx is never a final answer; the client would wait for another one. */
	if (status < 200 || status > 599) {
		log_err("http: answer with status %d; sending 500", status);
		status = 500;
	}
	no_length = status == 204 || status == 304;
	no_body = no_length || c->head;
	reason = http_status_text(status);
	w = wbuf_room(c, 128 + strlen(reason) + datelen + ctlen + exlen + (no_body ? 0 : len));
	if (!w)
		return -ENOMEM;
	p = w->data + w->len;
	p = put(p, "HTTP/1.1 ", 9);
	p = put_u64(p, (uint64_t)status);
	*p++ = ' ';
	p = put(p, reason, strlen(reason));
	p = put(p, "\r\n", 2);
	p = put(p, date, datelen);
	if (ctlen) {
		p = put(p, "Content-Type: ", 14);
		p = put(p, ctype, ctlen);
		p = put(p, "\r\n", 2);
	}
	if (!no_length) {
		p = put(p, "Content-Length: ", 16);
		p = put_u64(p, len);
		p = put(p, "\r\n", 2);
	}
	p = close ? put(p, "Connection: close\r\n", 19) : put(p, "Connection: keep-alive\r\n", 24);
	if (exlen) {
		p = put(p, extra, exlen);
		/* A missing CRLF would swallow the blank line ending the headers. */
		if (exlen < 2 || extra[exlen - 2] != '\r' || extra[exlen - 1] != '\n')
			p = put(p, "\r\n", 2);
	}
	p = put(p, "\r\n", 2);
	if (!no_body && len)
		p = put(p, body, len);
	w->len = (size_t)(p - w->data);
	return 0;
}

/* ---- request state ------------------------------------------------------ */

static void request_reset(struct http_conn *c)
{
	c->url_len = 0;
	http_hdr_reset(&c->str->hdr);
	c->body_len = 0;
	c->err_status = 0;
	c->err_text = NULL;
	c->begun = 0;
	c->line_done = 0;
	c->in_body = 0;
	c->head = 0;
}

/* Record why the request is refused (the first reason wins); -1 makes the parser stop. */
static int request_fail(struct http_conn *c, int status, const char *why)
{
	if (!c->err_status) {
		c->err_status = status;
		c->err_text = why;
	}
	return -1;
}

/* A header callback's verdict as the request's error; -1 stops the parser. */
static int hdr_verdict(struct http_conn *c, enum http_hdr_verdict v)
{
	switch (v) {
	case HTTP_HDR_OK:
		return 0;
	case HTTP_HDR_BAD_NAME:
		return request_fail(c, 400, "white space in a header field name");
	case HTTP_HDR_REPEATED:
		return request_fail(c, 400, "repeated header field");
	case HTTP_HDR_TOO_LARGE:
		snprintf(c->err_buf, sizeof(c->err_buf), "header field %s too large",
			 http_hdr_display_name(c->str->hdr.too_large));
		return request_fail(c, 431, c->err_buf);
	}
	return request_fail(c, 400, "bad header field");
}

/* ---- parser callbacks --------------------------------------------------- */

static int on_message_begin(http_parser *p)
{
	struct http_conn *c = p->data;

	c->in_request = 1;
	c->begun = 1;
	c->t_req = c->t_data;
	timer_arm(c, TIMER_REQUEST, c->srv->lim.header_timeout_ms);
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = p->data;
	size_t room = HTTP_URI_MAX - c->url_len;

	/* The non-strict parser lets TAB and FF through; nothing needs them and logs should not see them. */
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)at[i] < 0x20 || at[i] == 0x7f)
			return request_fail(c, 400, "control character in the request target");
	}
	if (n > room) {
		memcpy(c->str->url + c->url_len, at, room);
		c->url_len = HTTP_URI_MAX;
		return request_fail(c, 414, "request target too long");
	}
	memcpy(c->str->url + c->url_len, at, n);
	c->url_len += n;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = p->data;

	c->line_done = 1;
	return hdr_verdict(c, http_hdr_name(&c->str->hdr, at, n));
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = p->data;

	return hdr_verdict(c, http_hdr_value(&c->str->hdr, at, n));
}

static int on_headers_complete(http_parser *p)
{
	struct http_conn *c = p->data;

	c->line_done = 1;
	/* Chunked trailers come after this: the store ignores them. */
	if (hdr_verdict(c, http_hdr_close(&c->str->hdr)))
		return -1;
	if (p->http_major != 1)
		return request_fail(c, 400, "unsupported HTTP version");
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > HTTP_BODY_MAX)
		return request_fail(c, 413, "request body too large");
	c->in_body = 1;
	return 0;
}

static int on_chunk_header(http_parser *p)
{
	struct http_conn *c = p->data;

	/* Refuse a too-large chunk when it is announced, not after reading it. */
	if (p->content_length > HTTP_BODY_MAX - c->body_len)
		return request_fail(c, 413, "request body too large");
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = p->data;

	(void)at;
	c->body_len += n;
	if (c->body_len > HTTP_BODY_MAX)
		return request_fail(c, 413, "request body too large");
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct http_conn *c = p->data;

	c->in_request = 0;
	c->keep_alive = http_should_keep_alive(p) != 0;
	timer_stop(c);
	/* Stop here: the next request waits until this one is answered. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings parser_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_chunk_header = on_chunk_header,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* ---- dispatch ----------------------------------------------------------- */

static const char *hdr_value(const struct http_conn *c, enum http_hdr h)
{
	return http_hdr_get(&c->str->hdr, h);
}

static void request_fill(struct http_conn *c)
{
	struct http_request *r = &c->req;
	char *pq = c->str->pq;
	const char *url = c->str->url;
	size_t i = 0, n = 0;

	c->str->url[c->url_len] = '\0';
	/* Path up to '?' or '#', query from '?' up to '#'; a fragment is never the server's business. */
	while (i < c->url_len && url[i] != '?' && url[i] != '#')
		pq[n++] = url[i++];
	pq[n++] = '\0';
	r->path = pq;
	r->query = pq + n;
	if (i < c->url_len && url[i] == '?') {
		i++;
		while (i < c->url_len && url[i] != '#')
			pq[n++] = url[i++];
	}
	pq[n] = '\0';

	/* Until the request line is parsed the method is the parser's guess: do not report it. */
	r->method = c->url_len || c->line_done ? http_method_str((enum http_method)c->parser.method) : "";
	r->url = c->str->url;
	r->authorization = hdr_value(c, HDR_AUTHORIZATION);
	r->accept = hdr_value(c, HDR_ACCEPT);
	r->sec_fetch_site = hdr_value(c, HDR_SEC_FETCH_SITE);
	r->sec_fetch_mode = hdr_value(c, HDR_SEC_FETCH_MODE);
	r->sec_fetch_dest = hdr_value(c, HDR_SEC_FETCH_DEST);
	r->host = hdr_value(c, HDR_HOST);
	r->origin = hdr_value(c, HDR_ORIGIN);
	r->peer = c->peer;
	r->peer_port = c->peer_port;
	r->local = c->local;
	/* Before the request line is parsed the version is 0.0: not 1.0. */
	r->http_1_0 = c->line_done && c->parser.http_major == 1 && c->parser.http_minor == 0;
	r->tls = c->tls != NULL;
	r->t_recv_ns = c->begun ? c->t_req : c->t_data;
	r->error_status = c->err_status;
	r->error = c->err_text;
}

static void dispatch(struct http_conn *c)
{
	struct http_server *s = c->srv;

	request_fill(c);
	c->head = c->parser.method == HTTP_HEAD && (c->url_len || c->line_done);
	c->pending = 1;
	s->stats.requests++;
	if (c->err_status) {
		s->stats.errors++;
		log_debug("http: %s:%u: %d %s", c->peer, c->peer_port, c->err_status, c->err_text);
	}
	s->fn(c, &c->req, s->arg);
}

/* The parser stopped on an error: name it and hand the remains to the handler. */
static void dispatch_error(struct http_conn *c, enum http_errno err)
{
	c->failed = 1;
	c->keep_alive = 0;
	timer_stop(c);
	/* The parser counts request line, headers and chunk-size lines against HTTP_HEADERS_MAX. */
	if (!c->err_status) {
		if (err != HPE_HEADER_OVERFLOW || !c->begun)
			request_fail(c, 400, http_errno_description(err));
		else if (!c->line_done)
			request_fail(c, 414, "request line too long");
		else if (!c->in_body)
			request_fail(c, 431, "request header fields too large");
		else
			request_fail(c, 413, "chunk header too large");
	}
	/* Whatever the error cut short is still a string: the store keeps each slot terminated. */
	http_hdr_close(&c->str->hdr);
	c->in_request = 0;
	dispatch(c);
}

/*
 * Run the parser over the unparsed bytes until they are gone, an answer is
 * pending, or the connection is finishing; then settle what comes next.
 */
static void conn_parse(struct http_conn *c)
{
	if (c->parsing)
		return;
	c->parsing = 1;
	while (!c->pending && !c->failed && !c->finishing && !c->closing && c->roff < c->rlen) {
		enum http_errno err;
		size_t n;

		if (c->out && c->out->len >= HTTP_WBUF_FLUSH) {
			conn_flush(c);
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
		n = http_parser_execute(&c->parser, &parser_settings, c->rbuf + c->roff, c->rlen - c->roff);
		c->roff += n;
		err = HTTP_PARSER_ERRNO(&c->parser);
		if (err == HPE_PAUSED) {
			http_parser_pause(&c->parser, 0);
			/* An Upgrade or CONNECT is answered as a plain request, and is the last one. */
			if (c->parser.upgrade) {
				c->keep_alive = 0;
				c->failed = 1;
			}
			dispatch(c);
		} else if (err != HPE_OK) {
			dispatch_error(c, err);
		}
	}
	if (c->roff == c->rlen)
		c->roff = c->rlen = 0;
	c->parsing = 0;
	conn_settle(c);
}

/* ---- reading ------------------------------------------------------------ */

/* Free room at the end of rbuf, made by moving or growing it; 0 if none. */
static size_t rbuf_room(struct http_conn *c)
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
	size_t room;

	(void)suggested;
	if (c->tls) {
		*buf = uv_buf_init(c->tls->cbuf, sizeof(c->tls->cbuf));
		return;
	}
	room = rbuf_room(c);
	*buf = uv_buf_init(c->rbuf + c->rlen, (unsigned)room);
}

static void conn_read_start(struct http_conn *c)
{
	if (c->reading && c->tls && c->tls->ready && !c->closing &&
	    (SSL_pending(c->tls->ssl) > 0 || BIO_pending(c->tls->rbio) > 0)) {
		tls_pump(c);
		return;
	}
	if (c->reading || c->eof || c->closing)
		return;
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
		c->reading = 1;
	/* Plaintext may wait in the SSL: no socket event would announce it. */
	if (c->reading && c->tls && c->tls->ready)
		tls_pump(c);
}

static void conn_read_stop(struct http_conn *c)
{
	if (!c->reading)
		return;
	uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = 0;
}

/* n plaintext bytes have arrived at rbuf + rlen. */
static void conn_got(struct http_conn *c, size_t n)
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

	if (n > 0 && c->tls) {
		if (c->closing)
			return;
		if (BIO_write(c->tls->rbio, buf->base, (int)n) != (int)n) {
			conn_close(c);
			return;
		}
		tls_pump(c);
		/* Bounded like rbuf: what the SSL holds unread stops the reading. */
		if (!c->closing && BIO_pending(c->tls->rbio) > HTTP_TLS_CIPHER_MAX)
			conn_read_stop(c);
		return;
	}
	if (n > 0) {
		conn_got(c, (size_t)n);
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

static void conn_eof(struct http_conn *c)
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
	timer_arm(c, TIMER_LINGER, HTTP_LINGER_MS);
}

/* No more requests: write what is owed, then FIN, then linger. */
static void conn_finish(struct http_conn *c)
{
	c->finishing = 1;
	if (c->closing || c->shut_sent)
		return;
	conn_flush(c);
	if (c->closing)
		return;
	if (c->tls && c->tls->ready) {
		/* close_notify before FIN: the client can tell our end from a truncation. */
		SSL_shutdown(c->tls->ssl);
		ERR_clear_error();
		tls_send_out(c);
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
	timer_arm(c, TIMER_IDLE, c->srv->lim.idle_timeout_ms);
	conn_read_start(c);
}

/* After an event: write, and decide between waiting, reading and finishing. */
static void conn_settle(struct http_conn *c)
{
	if (c->closing)
		return;
	if (c->finishing) {
		conn_finish(c);
		return;
	}
	conn_flush(c);
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
			timer_arm(c, TIMER_IDLE, c->srv->lim.idle_timeout_ms);
		return;
	}
	if (c->eof) {
		conn_finish(c);
		return;
	}
	conn_read_start(c);
	if (!c->in_request && c->timer_kind == TIMER_NONE)
		timer_arm(c, TIMER_IDLE, c->srv->lim.idle_timeout_ms);
}

static void conn_free(struct http_conn *c)
{
	struct http_server *s = c->srv;

	if (c->tls) {
		SSL_free(c->tls->ssl);
		free(c->tls);
	}
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

	if (--c->nhandles == 0 && !c->pending && !(c->tls && c->tls->signing))
		conn_free(c);
}

static void conn_close(struct http_conn *c)
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
		if (conn_put_answer(c, 408, "text/plain", NULL, "request timeout\n", 16, 1) < 0) {
			conn_close(c);
			return;
		}
		conn_finish(c);
		break;
	case TIMER_IDLE:
		/* An answer draining to a slow reader is not idle; one big write completes only once. */
		if (c->nwrites && (c->written != c->written_seen ||
				   uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) < c->wq_seen)) {
			timer_arm(c, TIMER_IDLE, c->srv->lim.idle_timeout_ms);
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

/* ---- TLS ------------------------------------------------------------------ */

/*
 * The SSL's output (handshake records, answers, alerts) to the socket:
 * uv_try_write straight from the BIO's memory when the kernel takes it
 * all, else a copy queued with uv_write (whose on_write releases it).
 */
static void tls_send_out(struct http_conn *c)
{
	const uint8_t *data;
	struct http_wbuf *w;
	size_t len, off = 0;
	uv_buf_t b;
	int r;

	if (c->closing || !BIO_mem_contents(c->tls->wbio, &data, &len) || len == 0)
		return;
	b = uv_buf_init((char *)data, (unsigned)len);
	r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	if (r >= 0 && (size_t)r == len) {
		BIO_reset(c->tls->wbio);
		return;
	}
	if (r < 0 && r != UV_EAGAIN) {
		log_debug("http: %s:%u: write: %s", c->peer, c->peer_port, uv_strerror(r));
		conn_close(c);
		return;
	}
	if (r > 0)
		off = (size_t)r;
	w = malloc(sizeof(*w) + len - off);
	if (!w) {
		conn_close(c);
		return;
	}
	w->conn = c;
	w->cap = w->len = len - off;
	memcpy(w->data, data + off, len - off);
	BIO_reset(c->tls->wbio);
	b = uv_buf_init(w->data, (unsigned)w->len);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
		free(w);
		conn_close(c);
		return;
	}
	c->nwrites++;
}

static void tls_fail(struct http_conn *c, const char *what)
{
	unsigned long e = ERR_peek_last_error();

	c->srv->stats.tls_failed++;
	log_debug("http: %s:%u: TLS %s: %s", c->peer, c->peer_port, what,
		  e ? ERR_reason_error_string(e) : "no reason");
	ERR_clear_error();
	/* The alert, if the SSL made one, goes out before the close. */
	tls_send_out(c);
	conn_close(c);
}

/*
 * Drive the SSL: the handshake until it completes, then plaintext into
 * rbuf while the plain side reads, then whatever the SSL wants to send.
 * Re-entered from below (an answer given at once resumes reading): the
 * inner call only asks the outer one to go round again.
 */
static void tls_pump(struct http_conn *c)
{
	struct http_tls_conn *t = c->tls;

	if (t->pumping) {
		t->again = 1;
		return;
	}
	t->pumping = 1;
	do {
		t->again = 0;
		if (!t->ready) {
			int r, e;

			if (t->signing)
				break;
			r = SSL_do_handshake(t->ssl);
			if (r != 1) {
				e = SSL_get_error(t->ssl, r);
				if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_PRIVATE_KEY_OPERATION)
					tls_fail(c, "handshake");
				break;
			}
			t->ready = 1;
			c->srv->stats.tls_handshakes++;
			timer_stop(c);
			timer_arm(c, TIMER_IDLE, c->srv->lim.idle_timeout_ms);
		}
		while (c->reading && !c->closing) {
			size_t room = rbuf_room(c);
			int n, e;

			if (room == 0) {
				conn_read_stop(c);
				break;
			}
			n = SSL_read(t->ssl, c->rbuf + c->rlen, room > INT_MAX ? INT_MAX : (int)room);
			if (n > 0) {
				conn_got(c, (size_t)n);
				continue;
			}
			e = SSL_get_error(t->ssl, n);
			if (e == SSL_ERROR_WANT_READ)
				break;
			if (e == SSL_ERROR_ZERO_RETURN) {
				/* close_notify: the client's end, as EOF is for plain HTTP. */
				ERR_clear_error();
				conn_eof(c);
				break;
			}
			tls_fail(c, "read");
			break;
		}
	} while (t->again && !c->closing);
	t->pumping = 0;
	if (!c->closing)
		tls_send_out(c);
}

static enum ssl_private_key_result_t pk_sign(SSL *ssl, uint8_t *out, size_t *out_len, size_t max_out,
					     uint16_t alg, const uint8_t *in, size_t in_len)
{
	struct http_conn *c = SSL_get_app_data(ssl);
	struct http_server *s = c->srv;

	(void)out;
	(void)max_out;
	*out_len = 0;
	if (alg != SSL_SIGN_ECDSA_SECP256R1_SHA256 || !s->tls_ops.sign)
		return ssl_private_key_failure;
	c->tls->sig_len = 0;
	c->tls->sig_failed = 0;
	if (s->tls_ops.sign(s->tls_ops.arg, c, alg, in, in_len) < 0)
		return ssl_private_key_failure;
	c->tls->signing = 1;
	return ssl_private_key_retry;
}

static enum ssl_private_key_result_t pk_complete(SSL *ssl, uint8_t *out, size_t *out_len, size_t max_out)
{
	struct http_conn *c = SSL_get_app_data(ssl);
	struct http_tls_conn *t = c->tls;

	if (t->signing)
		return ssl_private_key_retry;
	if (t->sig_failed || t->sig_len == 0 || t->sig_len > max_out)
		return ssl_private_key_failure;
	memcpy(out, t->sig, t->sig_len);
	*out_len = t->sig_len;
	return ssl_private_key_success;
}

static const SSL_PRIVATE_KEY_METHOD pk_method = {
	.sign = pk_sign,
	.decrypt = NULL,
	.complete = pk_complete,
};

void http_tls_sign_done(struct http_conn *c, const uint8_t *sig, size_t len)
{
	struct http_tls_conn *t = c ? c->tls : NULL;

	if (!t || !t->signing) {
		log_err("http: a signature for a connection that asked for none");
		return;
	}
	t->signing = 0;
	if (len == 0 || len > sizeof(t->sig)) {
		t->sig_failed = 1;
	} else {
		memcpy(t->sig, sig, len);
		t->sig_len = len;
	}
	if (c->closing) {
		/* Timed out or stopped meanwhile: the memory waited only for this. */
		if (c->nhandles == 0 && !c->pending)
			conn_free(c);
		return;
	}
	tls_pump(c);
}

static int tls_conn_new(struct http_conn *c)
{
	struct http_tls_conn *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->ssl = SSL_new(c->srv->tls_ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->rbio || !t->wbio) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_accept_state(t->ssl);
	SSL_set_app_data(t->ssl, c);
	c->tls = t;
	return 0;
}

int http_server_set_certificate(struct http_server *s, const char *pem)
{
	static const uint16_t sigalgs[] = { SSL_SIGN_ECDSA_SECP256R1_SHA256 };
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = NULL;
	EVP_PKEY *pub = NULL;
	int r = -EINVAL;

	if (!ctx || !b) {
		r = -ENOMEM;
		goto out;
	}
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	pub = x ? X509_get_pubkey(x) : NULL;
	/* The executor signs with ECDSA P-256 only: any other key could not complete a handshake. */
	if (!pub || EVP_PKEY_id(pub) != EVP_PKEY_EC || EVP_PKEY_bits(pub) != 256 || !SSL_CTX_use_certificate(ctx, x))
		goto out;
	for (;;) {
		X509 *extra = PEM_read_bio_X509(b, NULL, NULL, NULL);

		if (!extra)
			break;
		if (!SSL_CTX_add0_chain_cert(ctx, extra)) {
			X509_free(extra);
			goto out;
		}
	}
	/*
	 * TLS 1.2 and 1.3 only; in 1.2 only ECDHE with AEAD (1.3 has nothing
	 * else); X25519 and P-256; and the one signature the executor makes.
	 */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_strict_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
						"ECDHE-ECDSA-CHACHA20-POLY1305") ||
	    !SSL_CTX_set1_curves_list(ctx, "X25519:P-256") ||
	    !SSL_CTX_set_signing_algorithm_prefs(ctx, sigalgs, 1))
		goto out;
	SSL_CTX_set_private_key_method(ctx, &pk_method);
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	/* Existing connections keep the context they started with (SSL holds a reference). */
	SSL_CTX_free(s->tls_ctx);
	s->tls_ctx = ctx;
	ctx = NULL;
	r = 0;
out:
	if (r)
		log_err("http: the certificate chain from the executor is not usable: %s",
			ERR_peek_last_error() ? ERR_reason_error_string(ERR_peek_last_error()) : "not ECDSA P-256");
	ERR_clear_error();
	EVP_PKEY_free(pub);
	X509_free(x);
	BIO_free(b);
	SSL_CTX_free(ctx);
	return r;
}

/* ---- accepting ---------------------------------------------------------- */

/* The local address as text, IPv4-mapped IPv6 folded to IPv4 as for the peer. */
static int conn_local(struct http_conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int r = uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ss, &len);

	if (r < 0)
		return r;
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;

		if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
			inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], c->local, sizeof(c->local));
		else
			inet_ntop(AF_INET6, &a6->sin6_addr, c->local, sizeof(c->local));
	} else if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&ss)->sin_addr, c->local, sizeof(c->local));
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

/*
 * The peer's address, IPv4-mapped IPv6 folded to IPv4 so that one host
 * counts once; and the local one, which the executor compares with Host
 * (it cannot list the phone's interfaces from its sandbox, and the address
 * a client reached is the one a Host literal must name).
 */
static int conn_peer(struct http_conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int r = uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len);

	if (r < 0)
		return r;
	r = conn_local(c);
	if (r < 0)
		return r;
	memset(&c->addr, 0, sizeof(c->addr));
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

		if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
			struct sockaddr_in *a4 = (struct sockaddr_in *)&c->addr;

			a4->sin_family = AF_INET;
			a4->sin_port = a6->sin6_port;
			memcpy(&a4->sin_addr, &a6->sin6_addr.s6_addr[12], 4);
		} else {
			struct sockaddr_in6 *o6 = (struct sockaddr_in6 *)&c->addr;

			o6->sin6_family = AF_INET6;
			o6->sin6_port = a6->sin6_port;
			o6->sin6_addr = a6->sin6_addr;
		}
	} else if (ss.ss_family == AF_INET) {
		memcpy(&c->addr, &ss, sizeof(struct sockaddr_in));
	} else {
		return -EAFNOSUPPORT;
	}
	if (c->addr.ss_family == AF_INET) {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&c->addr;

		inet_ntop(AF_INET, &a4->sin_addr, c->peer, sizeof(c->peer));
		c->peer_port = ntohs(a4->sin_port);
	} else {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&c->addr;

		inet_ntop(AF_INET6, &a6->sin6_addr, c->peer, sizeof(c->peer));
		c->peer_port = ntohs(a6->sin6_port);
	}
	return 0;
}

static int same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

static unsigned source_count(const struct http_server *s, const struct sockaddr_storage *addr)
{
	unsigned n = 0;

	/* A linear walk: it runs once per connection, over at most max_connections. */
	for (const struct http_conn *o = s->conns; o; o = o->next)
		n += (unsigned)same_host(&o->addr, addr);
	return n;
}

/*
 * Over a cap: a 503 costs one non-blocking write, and the connection goes
 * now, so refusals cannot pile up.  Reading what the client already sent
 * first means the close sends FIN, not a reset that could beat our answer.
 */
static void conn_refuse(struct http_conn *c, const char *why)
{
	uv_buf_t b = uv_buf_init((char *)resp_503, sizeof(resp_503) - 1);
	uv_os_fd_t fd;
	char junk[2048];

	c->srv->stats.refused++;
	log_debug("http: refused a connection: %s", why);
	/* On an HTTPS socket there is nobody to read plain text: just close. */
	if (!c->tls_listener)
		(void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) {
		for (int i = 0; i < 8 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0; i++)
			;
	}
	conn_close(c);
}

static void on_connection(uv_stream_t *ls, int status)
{
	struct http_server *s = ls->data;
	struct http_conn *c;

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
	c->tls_listener = (unsigned)((struct http_listener *)(void *)ls)->tls;
	s->nalloc++;
	uv_tcp_init(s->loop, &c->tcp);
	c->tcp.data = c;
	c->nhandles = 1;
	if (uv_accept(ls, (uv_stream_t *)&c->tcp) < 0) {
		conn_close(c);
		return;
	}
	if (s->nconns >= s->lim.max_connections) {
		conn_refuse(c, "too many connections");
		return;
	}
	if (conn_peer(c) < 0) {
		conn_close(c);
		return;
	}
	if (source_count(s, &c->addr) >= s->lim.max_per_source) {
		conn_refuse(c, "too many connections from one source");
		return;
	}
	if (c->tls_listener && !s->tls_ctx) {
		conn_refuse(c, "no certificate from the executor yet");
		return;
	}
	c->str = malloc(sizeof(*c->str));
	c->rbuf = malloc(HTTP_RBUF_MIN);
	if (!c->str || !c->rbuf || (c->tls_listener && tls_conn_new(c) < 0)) {
		conn_refuse(c, "out of memory");
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
	request_reset(c);
	/* Answers go out in one write each; Nagle would hold a pipelined second one. */
	uv_tcp_nodelay(&c->tcp, 1);
	conn_read_start(c);
	if (!c->reading) {
		conn_close(c);
		return;
	}
	if (c->tls)
		timer_arm(c, TIMER_HANDSHAKE, s->lim.header_timeout_ms);
	else
		timer_arm(c, TIMER_IDLE, s->lim.idle_timeout_ms);
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
	size_t nfds = nplain + ntls;
	int r = 0;
	size_t i;

	if (out)
		*out = NULL;
	if (!loop || !lim || !fn || !out || (nplain && !fds_plain) || (ntls && (!tls_fds || !tls || !tls->sign)) ||
	    nfds > 32 || !lim->max_connections || !lim->max_per_source ||
	    !lim->header_timeout_ms || !lim->idle_timeout_ms) {
		r = -EINVAL;
		goto close_fds;
	}
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
		if (c->nhandles == 0 && !(c->tls && c->tls->signing))
			conn_free(c);
		return;
	}
	/* After EOF, the answer to the last buffered request is the last answer. */
	close = !c->keep_alive || c->failed || c->err_status || (c->eof && c->roff == c->rlen);
	if (conn_put_answer(c, status, content_type, extra_headers, body, len, close) < 0) {
		conn_close(c);
		return;
	}
	request_reset(c);
	if (close)
		c->finishing = 1;
	/* Inside conn_parse the loop goes on by itself; otherwise resume it. */
	if (!c->parsing)
		conn_parse(c);
}
