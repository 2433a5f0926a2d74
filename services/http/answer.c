/*
 * One answer serialised: status line, Date, Content-Type, Content-Length,
 * Connection, the handler's extra lines, the blank line and the body,
 * appended to the connection's write buffer in one piece.
 */
#include "conn.h"

#include "services/common/log.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define ANSWER_FIXED     128            /* "HTTP/1.1 nnn ", the CRLFs, the header names, Content-Length digits */
#define ANSWER_LINE_MAX  (64 * 1024)    /* a Content-Type or the extra header lines */

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

/*
 * Append one complete answer to c->out.  0, -EMSGSIZE when a part is over
 * its bound (so the sum below cannot wrap), -ENOMEM.
 */
int http_answer_put(struct http_conn *c, int status, const char *ctype, const char *extra,
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
	if (ctlen > ANSWER_LINE_MAX || exlen > ANSWER_LINE_MAX || len > HTTP_ANSWER_MAX) {
		log_err("http: an answer over its bounds (type %zu, headers %zu, body %zu bytes)", ctlen, exlen, len);
		return -EMSGSIZE;
	}
	no_length = status == 204 || status == 304;
	no_body = no_length || c->head;
	reason = http_status_text(status);
	w = http_wbuf_room(c, ANSWER_FIXED + strlen(reason) + datelen + ctlen + exlen + (no_body ? 0 : len));
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
