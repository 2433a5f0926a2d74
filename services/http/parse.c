/*
 * The parser's side of a request: http_parser's callbacks fill the
 * request's strings (the target, and the kept header values in headers.c's
 * fixed slots), name the first reason to refuse it, and pause the parser
 * at the end of each message; http_dispatch then hands the request to the
 * handler.  Every copy here is bounded by the room left in its buffer.
 */
#include "conn.h"

#include "services/common/log.h"

#include <stdio.h>
#include <string.h>

void http_request_reset(struct http_conn *c)
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

static int on_message_begin(http_parser *p)
{
	struct http_conn *c = p->data;

	c->in_request = 1;
	c->begun = 1;
	c->t_req = c->t_data;
	conn_timer_arm(c, TIMER_REQUEST, c->srv->lim.header_timeout_ms);
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

	/* Refuse a too-large chunk when it is announced, not after reading it (body_len <= HTTP_BODY_MAX here). */
	if (p->content_length > HTTP_BODY_MAX - c->body_len)
		return request_fail(c, 413, "request body too large");
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct http_conn *c = p->data;

	(void)at;
	/* body_len <= HTTP_BODY_MAX before, and n is at most one read: no wrap. */
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
	conn_timer_stop(c);
	/* Stop here: the next request waits until this one is answered. */
	http_parser_pause(p, 1);
	return 0;
}

const http_parser_settings http_parse_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_chunk_header = on_chunk_header,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

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
	r->tls = c->tls_listener;
	r->t_recv_ns = c->begun ? c->t_req : c->t_data;
	r->error_status = c->err_status;
	r->error = c->err_text;
}

void http_dispatch(struct http_conn *c)
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
void http_dispatch_error(struct http_conn *c, enum http_errno err)
{
	c->failed = 1;
	c->keep_alive = 0;
	conn_timer_stop(c);
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
	http_dispatch(c);
}
