/*
 * The HTTP/1.1 server of aurid-http: libuv for I/O, http_parser (Debian
 * libhttp-parser) for the wire format.  It knows nothing of actions: it
 * hands each complete request to a handler and writes the handler's answer.
 *
 * Bounded everything: total connections and per source (refused with 503
 * and closed), header bytes (431), URI length (414), body (413; GET needs
 * none), a header timeout from the first byte to the end of the headers, an
 * idle timeout between keep-alive requests.  Pipelined requests are answered
 * in order: the parser is paused while an answer is pending.
 */
#ifndef AURID_HTTP_SERVER_H
#define AURID_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HTTP_URI_MAX      4096
#define HTTP_HEADERS_MAX  8192    /* bytes of request line + headers */
#define HTTP_BODY_MAX     4096

struct http_limits {
	unsigned max_connections;
	unsigned max_per_source;
	unsigned header_timeout_ms;
	unsigned idle_timeout_ms;
};

struct http_request {
	const char *method;          /* "GET", ... */
	const char *url;             /* raw request target */
	const char *path;            /* decoded? no: raw path, before '?' */
	const char *query;           /* raw, after '?', "" if none */
	const char *authorization;   /* header values, NULL if absent */
	const char *accept;
	const char *sec_fetch_site;
	const char *sec_fetch_mode;
	const char *host;
	const char *peer;            /* normalised address text */
	uint16_t peer_port;
	int tls;                     /* 1 if it came over HTTPS (later) */
	uint64_t t_recv_ns;          /* CLOCK_MONOTONIC at the first byte */
	int error_status;            /* 0, or 400/413/414/431: refused by the parser */
	const char *error;           /* why, when error_status != 0 */
};

struct http_conn;
struct http_server;

/*
 * Called once per request.  The handler must answer exactly once with
 * http_respond(), now or later (the connection object stays valid until
 * then, even if the client has gone; the answer is then dropped).  For a
 * request with error_status set the handler should answer with that status;
 * the server closes the connection after it.
 */
typedef void (*http_handler_fn)(struct http_conn *c, const struct http_request *req, void *arg);

/* fds: listening TCP sockets (already bound and listening). */
int http_server_start(uv_loop_t *loop, const int *fds, size_t nfds, const struct http_limits *lim,
		      http_handler_fn fn, void *arg, struct http_server **out);
void http_server_stop(struct http_server *s);

/* extra_headers: "" or CRLF-terminated lines ("Retry-After: 1\r\n"). */
void http_respond(struct http_conn *c, int status, const char *content_type, const char *extra_headers,
		  const void *body, size_t len);

const char *http_status_text(int status);

#endif
