/*
 * The write path of aurid-http: answers are collected in the connection's
 * write buffer (c->out) while the parse loop runs, then leave with one
 * write(2) when the loop ends, so a pipelined burst costs one write.
 * http_sock_write is the one place bytes go to the socket, for plain
 * answers and for the TLS records made of them alike.
 */
#include "conn.h"

#include "services/common/log.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void http_wbuf_release(struct http_conn *c, struct http_wbuf *w)
{
	if (!c->spare && w->cap <= HTTP_WBUF_KEEP) {
		w->len = 0;
		c->spare = w;
		return;
	}
	free(w);
}

/* Room for need more bytes in c->out; NULL if memory is short or need is absurd. */
struct http_wbuf *http_wbuf_room(struct http_conn *c, size_t need)
{
	struct http_wbuf *w = c->out;
	size_t len = w ? w->len : 0;
	size_t cap;

	if (w && w->cap - w->len >= need)
		return w;
	if (!w && c->spare && c->spare->cap >= need) {
		c->out = c->spare;
		c->spare = NULL;
		return c->out;
	}
	/* Both terms bounded first: len + need, its quarter and the header cannot wrap. */
	if (need > SIZE_MAX / 4 || len > SIZE_MAX / 4)
		return NULL;
	cap = len + need;
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

/* w's bytes are gone: keep it for the next answer, unless a big one (a screenshot) made it big. */
void http_wbuf_sent(struct http_conn *c, struct http_wbuf *w)
{
	w->len = 0;
	if (w->cap > HTTP_WBUF_KEEP) {
		if (c->out == w)
			c->out = NULL;
		free(w);
	}
}

static void on_write(uv_write_t *req, int status)
{
	struct http_wbuf *w = container_of(req, struct http_wbuf, req);
	struct http_conn *c = w->conn;

	c->nwrites--;
	c->written++;
	http_wbuf_release(c, w);
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
 * len bytes to the socket.  uv_try_write first: when the kernel takes it
 * all (the usual case for small answers) there is no request, no callback,
 * and no epoll_ctl, which libuv would otherwise issue after every completed
 * uv_write.  It refuses while earlier writes are queued, so the order
 * holds.  Whatever it leaves goes by uv_write: from own when data lies in
 * it (own then belongs to that write), else from a copy.
 * 0: all sent now; 1: the rest is queued; -1: the connection was closed.
 */
int http_sock_write(struct http_conn *c, const char *data, size_t len, struct http_wbuf *own)
{
	struct http_wbuf *w = own;
	size_t off = 0, rest;
	uv_buf_t b;
	int r;

	if (len > UINT_MAX) {
		/* uv_buf_t counts in unsigned int; nothing aurid answers comes near. */
		conn_close(c);
		return -1;
	}
	b = uv_buf_init((char *)data, (unsigned)len);
	r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	if (r >= 0 && (size_t)r == len)
		return 0;
	if (r < 0 && r != UV_EAGAIN) {
		log_debug("http: %s:%u: write: %s", c->peer, c->peer_port, uv_strerror(r));
		conn_close(c);
		return -1;
	}
	if (r > 0)
		off = (size_t)r;
	rest = len - off;
	if (w) {
		if (c->out == w)
			c->out = NULL;
	} else {
		w = malloc(sizeof(*w) + rest);
		if (!w) {
			conn_close(c);
			return -1;
		}
		w->conn = c;
		w->cap = w->len = rest;
		memcpy(w->data, data + off, rest);
		data = w->data;
		off = 0;
	}
	b = uv_buf_init((char *)data + off, (unsigned)rest);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
		http_wbuf_release(c, w);
		conn_close(c);
		return -1;
	}
	c->nwrites++;
	return 1;
}

/* Everything collected, through the transport. */
void http_flush(struct http_conn *c)
{
	struct http_wbuf *w = c->out;

	if (!w || w->len == 0 || c->closing)
		return;
	c->tx->send(c, w);
}
