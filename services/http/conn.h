/*
 * Inside the HTTP server: the connection and server objects, and the calls
 * its layers make of one another.  Only those layers (server.c, parse.c,
 * answer.c, write.c, tls_transport.c, admission.c) include this.
 *
 * The layers, from the socket up:
 *
 *   transport  plain TCP (server.c) or TLS (tls_transport.c): where read
 *              bytes go, how answer bytes leave, what must end before FIN;
 *   write.c    answer buffers and the one path to the socket;
 *   parse.c    http_parser callbacks into the request's strings (the kept
 *              headers are headers.c's fixed slots), then the handler call;
 *   answer.c   one answer serialised into the connection's write buffer;
 *   admission  who may hold a connection (admission.c);
 *   server.c   the connection's lifetime: reading, parsing, waiting for the
 *              handler, finishing, closing; the timers; the public calls.
 */
#ifndef AURID_HTTP_CONN_H
#define AURID_HTTP_CONN_H

#include "headers.h"
#include "server.h"

#include <http_parser.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <uv.h>

#define HTTP_RBUF_MIN       4096
#define HTTP_PIPELINE_MAX   (64 * 1024)   /* unparsed bytes kept while an answer is pending */
#define HTTP_WQUEUE_MAX     (256 * 1024)  /* unsent answer bytes before we stop taking requests */
#define HTTP_WBUF_MIN       1024
#define HTTP_WBUF_KEEP      (16 * 1024)   /* largest write buffer kept for the next answer */
#define HTTP_WBUF_FLUSH     (64 * 1024)   /* collected answers written before parsing on */
#define HTTP_ANSWER_MAX     (64u * 1024 * 1024) /* one answer's body: far above any screenshot */

#define container_of(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

enum http_timer { TIMER_NONE, TIMER_IDLE, TIMER_REQUEST, TIMER_LINGER, TIMER_HANDSHAKE };

/* The strings of one request. */
struct http_strings {
	char url[HTTP_URI_MAX + 1];
	char pq[HTTP_URI_MAX + 2];            /* path NUL query NUL */
	struct http_hdr_store hdr;            /* kept header values (headers.h) */
};

/* Answer bytes: collected in c->out, then owned by one uv_write until on_write. */
struct http_wbuf {
	uv_write_t req;
	struct http_conn *conn;
	size_t len;
	size_t cap;
	char data[];
};

/*
 * What lies between the socket and the HTTP code.  Plain TCP hands read
 * bytes straight to the parser's buffer; TLS decrypts them first and
 * encrypts answers on their way out.  The HTTP code above sees plaintext
 * only and never asks which one it has.
 */
struct http_transport {
	void (*alloc)(struct http_conn *c, uv_buf_t *buf);             /* where the socket's next bytes go */
	void (*received)(struct http_conn *c, const char *at, size_t n); /* they have arrived there */
	void (*send)(struct http_conn *c, struct http_wbuf *w);        /* w->len answer bytes; empties w */
	void (*resume)(struct http_conn *c);  /* reading is on: deliver what the transport holds; may be NULL */
	void (*end)(struct http_conn *c);     /* before FIN (TLS: close_notify); may be NULL */
	bool (*busy)(const struct http_conn *c); /* the memory is still awaited elsewhere; may be NULL */
	void (*release)(struct http_conn *c); /* free the transport's state; may be NULL */
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

	const struct http_transport *tx;
	struct http_tls_conn *tls;            /* tls_transport.c's state; NULL for plain HTTP */
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

/* server.c: the connection's lifetime */
void conn_parse(struct http_conn *c);
void conn_settle(struct http_conn *c);
void conn_close(struct http_conn *c);
void conn_free(struct http_conn *c);
void conn_got(struct http_conn *c, size_t n);
void conn_eof(struct http_conn *c);
void conn_read_stop(struct http_conn *c);
size_t conn_rbuf_room(struct http_conn *c);
void conn_timer_arm(struct http_conn *c, enum http_timer kind, unsigned ms);
void conn_timer_stop(struct http_conn *c);

/* parse.c: the parser's side of a request */
extern const http_parser_settings http_parse_settings;
void http_request_reset(struct http_conn *c);
void http_dispatch(struct http_conn *c);
void http_dispatch_error(struct http_conn *c, enum http_errno err);

/* answer.c */
int http_answer_put(struct http_conn *c, int status, const char *ctype, const char *extra,
		    const void *body, size_t len, int close);

/* write.c */
struct http_wbuf *http_wbuf_room(struct http_conn *c, size_t need);
void http_wbuf_release(struct http_conn *c, struct http_wbuf *w);
void http_wbuf_sent(struct http_conn *c, struct http_wbuf *w);
int http_sock_write(struct http_conn *c, const char *data, size_t len, struct http_wbuf *own);
void http_flush(struct http_conn *c);

/* tls_transport.c */
int http_tls_conn_new(struct http_conn *c);

/* admission.c: NULL when c may stay, else why it is refused */
int http_conn_addresses(struct http_conn *c);
const char *http_admission_check(const struct http_server *s, const struct http_conn *c);
void http_conn_refuse(struct http_conn *c, const char *why);

#endif
