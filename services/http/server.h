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
 *
 * Single-threaded: every function here is called on the loop's thread.
 */
#ifndef AURID_HTTP_SERVER_H
#define AURID_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HTTP_URI_MAX      4096
#define HTTP_HEADERS_MAX  8192    /* bytes of request line + headers */
#define HTTP_BODY_MAX     4096

/* All four must be non-zero. */
struct http_limits {
	unsigned max_connections;
	unsigned max_per_source;
	unsigned header_timeout_ms;  /* first byte of a request to its last (headers + small body) */
	unsigned idle_timeout_ms;    /* no request yet, or between keep-alive requests */
};

/*
 * One request.  The struct and every string in it stay valid until
 * http_respond() is called for it, however late that is.
 */
struct http_request {
	const char *method;          /* "GET", ...; "" if the parser never got that far */
	const char *url;             /* raw request target (truncated to HTTP_URI_MAX on a 414) */
	const char *path;            /* raw (not decoded), before '?' or '#' */
	const char *query;           /* raw, after '?' up to '#', "" if none */
	const char *authorization;   /* header values, NULL if absent; trailing blanks trimmed */
	const char *accept;          /* repeated Accept headers are joined with ", " */
	const char *sec_fetch_site;
	const char *sec_fetch_mode;
	const char *sec_fetch_dest;
	const char *host;
	const char *origin;
	const char *peer;            /* numeric address; IPv4-mapped IPv6 shown as IPv4 */
	uint16_t peer_port;
	const char *local;           /* the address the connection was accepted on, shown the same way */
	int http_1_0;                /* 1 if the request line said HTTP/1.0 */
	int tls;                     /* 1 if it came over HTTPS */
	uint64_t t_recv_ns;          /* CLOCK_MONOTONIC at the first byte */
	int error_status;            /* 0, or 400/413/414/431: refused by the parser */
	const char *error;           /* why, when error_status != 0 */
};

/* Counters since start, for status pages and tests. */
struct http_stats {
	uint64_t accepted;           /* connections admitted */
	uint64_t refused;            /* connections answered 503 (over a cap) */
	uint64_t requests;           /* handler calls, errors included */
	uint64_t errors;             /* requests with error_status set */
	uint64_t timeouts;           /* connections closed by a header or idle timeout */
	unsigned active;             /* connections open now */
	uint64_t tls_handshakes;     /* HTTPS handshakes completed */
	uint64_t tls_failed;         /* HTTPS handshakes refused or failed */
};

struct http_conn;
struct http_server;

/*
 * Called once per request.  The handler must answer exactly once with
 * http_respond(), now or later (the connection object stays valid until
 * then, even if the client has gone or the server was stopped; the answer
 * is then dropped).  For a request with error_status set the handler should
 * answer with that status; the server closes the connection after it.
 */
typedef void (*http_handler_fn)(struct http_conn *c, const struct http_request *req, void *arg);

/*
 * fds: listening TCP sockets (already bound and listening).  The server owns
 * them from this call on, also when it fails.  Sets SIGPIPE to ignored (a
 * client that has gone must not kill the process) and http_parser's
 * process-wide header limit to HTTP_HEADERS_MAX.  0 or -errno.
 */
int http_server_start(uv_loop_t *loop, const int *fds, size_t nfds, const struct http_limits *lim,
		      http_handler_fn fn, void *arg, struct http_server **out);

/*
 * Close the listeners and every connection.  Memory is freed by the close
 * callbacks (run the loop afterwards) and, for a request still waiting for
 * its answer, by that http_respond(): answer every pending request, or it
 * and the server leak.
 */
void http_server_stop(struct http_server *s);

/*
 * HTTPS.  The server never holds the private key: a full handshake's one
 * signature is asked of sign(), which sends it elsewhere (aurid-exec) and
 * returns 0, and the answer comes back by http_tls_sign_done() for that
 * connection, however late (the connection object stays valid until then).
 * Only ecdsa_secp256r1_sha256 is offered; TLS 1.2 (ECDHE + AEAD suites)
 * and 1.3; groups X25519 and P-256.  Handshakes are bounded by the header
 * timeout and count against the same connection caps as plain HTTP.
 */
struct http_tls_ops {
	int (*sign)(void *arg, struct http_conn *c, uint16_t alg, const uint8_t *in, size_t len);
	void *arg;
};

#define HTTP_TLS_SIG_MAX 160

/*
 * http_server_start with TLS listeners as well (tls_fds; may be none).  A
 * TLS connection accepted before http_server_set_certificate() is closed.
 */
int http_server_start_tls(uv_loop_t *loop, const int *fds, size_t nfds, const int *tls_fds, size_t ntls,
			  const struct http_limits *lim, const struct http_tls_ops *tls,
			  http_handler_fn fn, void *arg, struct http_server **out);

/* The certificate chain (PEM, leaf first, ECDSA P-256) for new handshakes.  0 or -errno. */
int http_server_set_certificate(struct http_server *s, const char *pem);

/* The answer to sign(): the signature, or len 0 if it failed (the handshake is then aborted). */
void http_tls_sign_done(struct http_conn *c, const uint8_t *sig, size_t len);

void http_server_stats(const struct http_server *s, struct http_stats *out);

/*
 * The answer to the pending request of c: status line, Date, Content-Type
 * (if content_type is non-NULL and non-empty), Content-Length, Connection,
 * extra_headers, body; copied, written with one uv_write.  HEAD answers
 * carry no body, 204/304 neither body nor Content-Length.
 * extra_headers: NULL, "" or CRLF-terminated lines ("Retry-After: 1\r\n").
 */
void http_respond(struct http_conn *c, int status, const char *content_type, const char *extra_headers,
		  const void *body, size_t len);

/* The reason phrase for status ("Unknown" for codes aurid does not use). */
const char *http_status_text(int status);

#endif
