/*
 * The HTTP server against real client sockets on 127.0.0.1: parsed fields,
 * keep-alive, pipelining with an asynchronous answer in the middle, the
 * 400/408/413/414/431/503 limits, timeouts, and clients that vanish while
 * an answer is pending.  The loop runs in a second thread; the test thread
 * is the client.  Under ASan the leak check covers every path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "services/http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REC_MAX   64
#define BIG_LEN   (2 * 1024 * 1024)

/* What the handler saw, copied on the loop thread. */
struct rec {
	char method[16];
	char url[HTTP_URI_MAX + 8];
	char path[HTTP_URI_MAX + 8];
	char query[HTTP_URI_MAX + 8];
	char authorization[256];
	char accept[256];
	char sec_fetch_site[64];
	char sec_fetch_mode[64];
	char host[256];
	char origin[256];
	char sec_fetch_dest[64];
	char peer[64];
	char local[64];
	int http_1_0;
	unsigned peer_port;
	uint64_t t_recv_ns;
	int error_status;
};

struct fixture {
	uv_loop_t loop;
	uv_async_t stop;
	struct http_server *srv;
	pthread_t thread;
	int up;
	uint16_t port;
	pthread_mutex_t mu;
	struct rec rec[REC_MAX];
	unsigned nrec;
	unsigned nseen;           /* handler calls, also past REC_MAX */
	struct http_stats stats;  /* taken on the loop thread just before stopping */
};

static struct fixture fx = { .mu = PTHREAD_MUTEX_INITIALIZER };
static char *big_body;

/* One answer that the handler gives later, from a timer: the IPC round trip of the real front-end. */
struct later {
	uv_timer_t t;
	struct http_conn *c;
	char body[256];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "(null)");
}

static void record(const struct http_request *req)
{
	struct rec *r;

	pthread_mutex_lock(&fx.mu);
	fx.nseen++;
	if (fx.nrec < REC_MAX) {
		r = &fx.rec[fx.nrec++];
		copy(r->method, sizeof(r->method), req->method);
		copy(r->url, sizeof(r->url), req->url);
		copy(r->path, sizeof(r->path), req->path);
		copy(r->query, sizeof(r->query), req->query);
		copy(r->authorization, sizeof(r->authorization), req->authorization);
		copy(r->accept, sizeof(r->accept), req->accept);
		copy(r->sec_fetch_site, sizeof(r->sec_fetch_site), req->sec_fetch_site);
		copy(r->sec_fetch_mode, sizeof(r->sec_fetch_mode), req->sec_fetch_mode);
		copy(r->host, sizeof(r->host), req->host);
		copy(r->origin, sizeof(r->origin), req->origin);
		copy(r->sec_fetch_dest, sizeof(r->sec_fetch_dest), req->sec_fetch_dest);
		copy(r->peer, sizeof(r->peer), req->peer);
		copy(r->local, sizeof(r->local), req->local);
		r->http_1_0 = req->http_1_0;
		r->peer_port = req->peer_port;
		r->t_recv_ns = req->t_recv_ns;
		r->error_status = req->error_status;
	}
	pthread_mutex_unlock(&fx.mu);
}

static void later_closed(uv_handle_t *h)
{
	free(h->data);
}

static void later_fire(uv_timer_t *t)
{
	struct later *l = t->data;

	http_respond(l->c, 200, "text/plain", "X-Later: 1\r\n", l->body, strlen(l->body));
	uv_close((uv_handle_t *)&l->t, later_closed);
}

static void handler(struct http_conn *c, const struct http_request *req, void *arg)
{
	char body[512];
	int n;

	(void)arg;
	record(req);
	if (req->error_status) {
		n = snprintf(body, sizeof(body), "error %d: %s\n", req->error_status, req->error);
		http_respond(c, req->error_status, "text/plain", NULL, body, (size_t)n);
		return;
	}
	if (strcmp(req->path, "/async") == 0) {
		struct later *l = calloc(1, sizeof(*l));
		unsigned ms = 50;

		if (!l)
			abort();    /* not an assert: this is the loop thread */
		sscanf(req->query, "ms=%u", &ms);
		l->c = c;
		snprintf(l->body, sizeof(l->body), "later %s\n", req->query);
		uv_timer_init(&fx.loop, &l->t);
		l->t.data = l;
		uv_timer_start(&l->t, later_fire, ms, 0);
		return;
	}
	if (strcmp(req->path, "/big") == 0) {
		http_respond(c, 200, "application/octet-stream", "", big_body, BIG_LEN);
		return;
	}
	if (strcmp(req->path, "/pad") == 0) {
		char pad[2048];

		memset(pad, '.', sizeof(pad));
		n = snprintf(pad, sizeof(pad), "pad %s\n", req->query);
		pad[n] = '.';
		http_respond(c, 200, "text/plain", "", pad, sizeof(pad));
		return;
	}
	if (strcmp(req->path, "/nocontent") == 0) {
		http_respond(c, 204, NULL, "", NULL, 0);
		return;
	}
	n = snprintf(body, sizeof(body), "%s %s\n", req->method, req->url);
	http_respond(c, 200, "text/plain", "X-Echo: 1\r\n", body, (size_t)n);
}

/* ---- the server in its thread ------------------------------------------- */

static void *loop_thread(void *arg)
{
	(void)arg;
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	return NULL;
}

static void stop_cb(uv_async_t *a)
{
	http_server_stats(fx.srv, &fx.stats);
	http_server_stop(fx.srv);
	fx.srv = NULL;
	uv_close((uv_handle_t *)a, NULL);
}

/* A listening socket on 127.0.0.1 (or ::ffff:127.0.0.1 on a dual-stack socket), port 0. */
static int listen_fd(int v6, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, zero = 0;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		a->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "::ffff:127.0.0.1", &a->sin6_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static const struct http_limits default_limits = {
	.max_connections = 32,
	.max_per_source = 16,
	.header_timeout_ms = 3000,
	.idle_timeout_ms = 5000,
};

static int server_up_af(const struct http_limits *lim, int v6)
{
	int fd;

	fd = listen_fd(v6, &fx.port);
	if (fd < 0)
		return -1;
	assert_int_equal(uv_loop_init(&fx.loop), 0);
	assert_int_equal(http_server_start(&fx.loop, &fd, 1, lim, handler, NULL, &fx.srv), 0);
	assert_int_equal(uv_async_init(&fx.loop, &fx.stop, stop_cb), 0);
	fx.nrec = 0;
	fx.nseen = 0;
	memset(&fx.stats, 0, sizeof(fx.stats));
	assert_int_equal(pthread_create(&fx.thread, NULL, loop_thread, NULL), 0);
	fx.up = 1;
	return 0;
}

static void server_up(const struct http_limits *lim)
{
	assert_int_equal(server_up_af(lim, 0), 0);
}

/* Stop on the loop thread, wait for every handle to close, and check none is left. */
static void server_down(void)
{
	if (!fx.up)
		return;
	fx.up = 0;
	uv_async_send(&fx.stop);
	pthread_join(fx.thread, NULL);
	assert_int_equal(uv_loop_close(&fx.loop), 0);
}

static unsigned nrec(void)
{
	unsigned n;

	pthread_mutex_lock(&fx.mu);
	n = fx.nrec;
	pthread_mutex_unlock(&fx.mu);
	return n;
}

static const struct rec *rec_at(unsigned i)
{
	assert_true(i < nrec());
	return &fx.rec[i];
}

static void wait_nrec(unsigned n)
{
	for (int i = 0; i < 200 && nrec() < n; i++)
		usleep(10 * 1000);
	assert_true(nrec() >= n);
}

/* ---- the client --------------------------------------------------------- */

struct client {
	int fd;
	size_t len;
	char buf[64 * 1024];
};

struct resp {
	int status;
	long clen;
	char connection[32];
	char retry_after[16];
	int has_date;
	char ctype[64];
	char *body;
	size_t blen;
};

static struct client *cl_open(void)
{
	struct client *k = calloc(1, sizeof(*k));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(fx.port) };
	struct timeval tv = { .tv_sec = 5 };

	assert_non_null(k);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	k->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(k->fd >= 0);
	setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(k->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(k->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return k;
}

static void cl_close(struct client *k)
{
	close(k->fd);
	free(k);
}

static uint16_t cl_port(const struct client *k)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	getsockname(k->fd, (struct sockaddr *)&a, &len);
	return ntohs(a.sin_port);
}

static void cl_send(struct client *k, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t w = send(k->fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		assert_true(w > 0);
		s += w;
		n -= (size_t)w;
	}
}

static void cl_sends(struct client *k, const char *s)
{
	cl_send(k, s, strlen(s));
}

/* More bytes into k->buf: >0 got some, 0 EOF, <0 error or timeout. */
static ssize_t cl_fill(struct client *k)
{
	ssize_t n;

	if (k->len == sizeof(k->buf))
		return -ENOBUFS;
	do
		n = recv(k->fd, k->buf + k->len, sizeof(k->buf) - k->len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	k->len += (size_t)n;
	return n;
}

static void hdr_get(const char *head, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);
	const char *p = head;

	out[0] = '\0';
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1, *e;

			while (*v == ' ')
				v++;
			e = strstr(v, "\r\n");
			snprintf(out, size, "%.*s", (int)(e - v), v);
			return;
		}
	}
}

/* One response; no_body for the answer to a HEAD.  0, or -1 if the connection ended first. */
static int cl_resp(struct client *k, struct resp *r, int no_body)
{
	char *end, head[8192], v[64];
	size_t hlen, have;

	memset(r, 0, sizeof(*r));
	while ((end = memmem(k->buf, k->len, "\r\n\r\n", 4)) == NULL) {
		if (cl_fill(k) <= 0)
			return -1;
	}
	hlen = (size_t)(end - k->buf) + 4;
	assert_true(hlen < sizeof(head));
	memcpy(head, k->buf, hlen);
	head[hlen] = '\0';
	assert_int_equal(strncmp(head, "HTTP/1.1 ", 9), 0);
	r->status = atoi(head + 9);
	hdr_get(head, "Connection", r->connection, sizeof(r->connection));
	hdr_get(head, "Retry-After", r->retry_after, sizeof(r->retry_after));
	hdr_get(head, "Content-Type", r->ctype, sizeof(r->ctype));
	hdr_get(head, "Date", v, sizeof(v));
	r->has_date = v[0] != '\0';
	hdr_get(head, "Content-Length", v, sizeof(v));
	r->clen = v[0] ? atol(v) : -1;
	memmove(k->buf, k->buf + hlen, k->len - hlen);
	k->len -= hlen;
	if (no_body || r->clen <= 0)
		return 0;
	r->blen = (size_t)r->clen;
	r->body = malloc(r->blen + 1);
	assert_non_null(r->body);
	have = k->len < r->blen ? k->len : r->blen;
	memcpy(r->body, k->buf, have);
	memmove(k->buf, k->buf + have, k->len - have);
	k->len -= have;
	while (have < r->blen) {
		ssize_t n = recv(k->fd, r->body + have, r->blen - have, 0);

		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	r->body[r->blen] = '\0';
	return 0;
}

static void resp_free(struct resp *r)
{
	free(r->body);
	r->body = NULL;
}

/* 1 if the server has closed (EOF or reset) and sent nothing more. */
static int cl_closed(struct client *k)
{
	ssize_t n;

	if (k->len)
		return 0;
	n = cl_fill(k);
	return n == 0 || n == -ECONNRESET;
}

/* Send one request and read its answer. */
static void roundtrip(struct client *k, const char *request, struct resp *r)
{
	cl_sends(k, request);
	assert_int_equal(cl_resp(k, r, 0), 0);
}

static void expect_error_and_close(struct client *k, int status)
{
	struct resp r;

	assert_int_equal(cl_resp(k, &r, 0), 0);
	assert_int_equal(r.status, status);
	assert_string_equal(r.connection, "close");
	resp_free(&r);
	assert_true(cl_closed(k));
}

/* ---- tests -------------------------------------------------------------- */

static void test_simple_get(void **state)
{
	struct client *k;
	struct resp r;
	const struct rec *q;
	uint64_t t0, t1;

	(void)state;
	server_up(&default_limits);
	k = cl_open();
	t0 = mono_ns();
	roundtrip(k, "GET /servlet?key=OK HTTP/1.1\r\n"
		     "host: phone.local\r\n"
		     "AUTHORIZATION: Basic YWRtaW46YWRtaW4=\r\n"
		     "Accept: text/plain \t\r\n"
		     "Sec-Fetch-Site: cross-site\r\n"
		     "sec-fetch-mode: navigate\r\n"
		     "Sec-Fetch-Dest: document\r\n"
		     "Origin: http://phone.local:8080\r\n"
		     "X-Other: ignored\r\n"
		     "\r\n", &r);
	t1 = mono_ns();
	assert_int_equal(r.status, 200);
	assert_string_equal(r.connection, "keep-alive");
	assert_string_equal(r.ctype, "text/plain");
	assert_true(r.has_date);
	assert_string_equal(r.body, "GET /servlet?key=OK\n");
	resp_free(&r);

	q = rec_at(0);
	assert_string_equal(q->method, "GET");
	assert_string_equal(q->url, "/servlet?key=OK");
	assert_string_equal(q->path, "/servlet");
	assert_string_equal(q->query, "key=OK");
	assert_string_equal(q->authorization, "Basic YWRtaW46YWRtaW4=");
	assert_string_equal(q->accept, "text/plain");
	assert_string_equal(q->sec_fetch_site, "cross-site");
	assert_string_equal(q->sec_fetch_mode, "navigate");
	assert_string_equal(q->host, "phone.local");
	assert_string_equal(q->sec_fetch_dest, "document");
	assert_string_equal(q->origin, "http://phone.local:8080");
	assert_string_equal(q->peer, "127.0.0.1");
	/* The address the client connected to, for the executor's Host rule. */
	assert_string_equal(q->local, "127.0.0.1");
	assert_int_equal(q->http_1_0, 0);
	assert_int_equal(q->peer_port, cl_port(k));
	assert_int_equal(q->error_status, 0);
	assert_true(q->t_recv_ns >= t0 && q->t_recv_ns <= t1);

	/* No query, no kept headers; a fragment is neither path nor query. */
	roundtrip(k, "GET /cgi-bin/ConfigManApp.com#frag HTTP/1.1\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	q = rec_at(1);
	assert_string_equal(q->path, "/cgi-bin/ConfigManApp.com");
	assert_string_equal(q->query, "");
	assert_string_equal(q->authorization, "(null)");
	assert_string_equal(q->host, "(null)");
	assert_string_equal(q->origin, "(null)");

	roundtrip(k, "GET /servlet?key=1?2#x HTTP/1.1\r\n\r\n", &r);
	resp_free(&r);
	assert_string_equal(rec_at(2)->query, "key=1?2");

	/* HTTP/1.0 is reported: it alone may leave Host out. */
	roundtrip(k, "GET /servlet?key=OK HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r);
	resp_free(&r);
	assert_int_equal(rec_at(3)->http_1_0, 1);
	assert_string_equal(rec_at(3)->local, "127.0.0.1");

	cl_close(k);
	server_down();
	assert_int_equal(fx.stats.requests, 4);
	assert_int_equal(fx.stats.errors, 0);
}

static void test_header_forms(void **state)
{
	struct client *k;
	struct resp r;
	const struct rec *q;

	(void)state;
	server_up(&default_limits);
	k = cl_open();
	/* Repeated Accept joins; a folded Authorization unfolds; an empty repeat adds nothing. */
	roundtrip(k, "GET /h HTTP/1.1\r\n"
		     "Accept: text/html\r\n"
		     "Authorization: Digest\r\n"
		     "  username=\"admin\"\r\n"
		     "Host: a\r\n"
		     "accept: application/json\r\n"
		     "ACCEPT:\r\n"
		     "\r\n", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	q = rec_at(0);
	assert_string_equal(q->accept, "text/html, application/json");
	assert_string_equal(q->authorization, "Digest  username=\"admin\"");
	assert_string_equal(q->host, "a");

	/* Bare LF line ends, as some scripted clients send. */
	roundtrip(k, "GET /lf?x=1 HTTP/1.1\nHost: b\n\n", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_string_equal(rec_at(1)->host, "b");
	assert_string_equal(rec_at(1)->query, "x=1");

	/* HEAD: the length of the body a GET would get, and no body. */
	cl_sends(k, "HEAD /head HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n");
	assert_int_equal(cl_resp(k, &r, 1), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.clen, (long)strlen("HEAD /head\n"));
	assert_int_equal(cl_resp(k, &r, 0), 0);
	assert_string_equal(r.body, "GET /after\n");
	resp_free(&r);

	/* 204: neither body nor Content-Length. */
	roundtrip(k, "GET /nocontent HTTP/1.1\r\n\r\n", &r);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.clen, -1);
	roundtrip(k, "GET /again HTTP/1.1\r\n\r\n", &r);
	assert_string_equal(r.body, "GET /again\n");
	resp_free(&r);
	cl_close(k);
	server_down();
}

static void test_ipv4_mapped_peer(void **state)
{
	struct client *k;
	struct resp r;

	(void)state;
	if (server_up_af(&default_limits, 1) < 0)
		skip();
	k = cl_open();
	roundtrip(k, "GET / HTTP/1.1\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_string_equal(rec_at(0)->peer, "127.0.0.1");
	assert_int_equal(rec_at(0)->peer_port, cl_port(k));
	/* The local side of a dual-stack socket is folded the same way. */
	assert_string_equal(rec_at(0)->local, "127.0.0.1");
	cl_close(k);
	server_down();
}

static void test_keep_alive(void **state)
{
	struct client *k;
	struct resp r;

	(void)state;
	server_up(&default_limits);
	k = cl_open();
	roundtrip(k, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.connection, "keep-alive");
	resp_free(&r);
	roundtrip(k, "GET /two HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "GET /two\n");
	resp_free(&r);
	assert_int_equal(rec_at(0)->peer_port, rec_at(1)->peer_port);

	/* HTTP/1.0 asking for keep-alive gets it. */
	roundtrip(k, "GET /three HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r);
	assert_string_equal(r.connection, "keep-alive");
	resp_free(&r);
	/* HTTP/1.0 without it does not. */
	roundtrip(k, "GET /four HTTP/1.0\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.connection, "close");
	resp_free(&r);
	assert_true(cl_closed(k));
	cl_close(k);
	server_down();
	assert_int_equal(fx.stats.accepted, 1);
}

static void test_connection_close(void **state)
{
	struct client *k;

	(void)state;
	server_up(&default_limits);
	k = cl_open();
	/* The request after the one that said close is never handled. */
	cl_sends(k, "GET /last HTTP/1.1\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n\r\n");
	expect_error_and_close(k, 200);
	cl_close(k);
	usleep(50 * 1000);
	assert_int_equal(nrec(), 1);
	assert_string_equal(rec_at(0)->path, "/last");
	server_down();
	assert_int_equal(fx.stats.active, 0);
}

static void test_pipelining(void **state)
{
	static const char *const want[] = {
		"GET /one\n", "later ms=80\n", "GET /three\n", "later ms=1\n", "GET /five\n",
	};
	struct client *k;
	struct resp r;

	(void)state;
	server_up(&default_limits);
	k = cl_open();
	/* One write; the second and fourth are answered from a timer, after the third arrived. */
	cl_sends(k, "GET /one HTTP/1.1\r\n\r\n"
		    "GET /async?ms=80 HTTP/1.1\r\n\r\n"
		    "GET /three HTTP/1.1\r\n\r\n"
		    "GET /async?ms=1 HTTP/1.1\r\n\r\n"
		    "GET /five HTTP/1.1\r\n\r\n");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(cl_resp(k, &r, 0), 0);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, want[i]);
		resp_free(&r);
	}
	assert_int_equal(nrec(), 5);
	assert_string_equal(rec_at(2)->path, "/three");
	/* Still usable afterwards. */
	roundtrip(k, "GET /six HTTP/1.1\r\n\r\n", &r);
	assert_string_equal(r.body, "GET /six\n");
	resp_free(&r);
	cl_close(k);
	server_down();
}

/*
 * More pipelined bytes than the server buffers while an answer is pending,
 * and more answers than it queues for a client that reads late.
 */
static void test_pipelining_backlog(void **state)
{
	enum { N = 4000 };
	struct client *k;
	struct resp r;
	char *all, *p, want[64];

	(void)state;
	server_up(&default_limits);
	k = cl_open();
	/*
	 * A fixed window (not below the 64 KiB loopback MSS, or the sender
	 * waits on persist-timer probes) and reading late: the 8 MB of
	 * answers pile up in the server's write queue.
	 */
	setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &(int){ 256 * 1024 }, sizeof(int));
	all = malloc((size_t)N * 48 + 64);
	assert_non_null(all);
	p = all + sprintf(all, "GET /async?ms=100 HTTP/1.1\r\n\r\n");
	for (int i = 0; i < N; i++)
		p += sprintf(p, "GET /pad?%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
	assert_true(p - all > 64 * 1024);
	cl_send(k, all, (size_t)(p - all));
	free(all);
	usleep(300 * 1000);
	assert_int_equal(cl_resp(k, &r, 0), 0);
	assert_string_equal(r.body, "later ms=100\n");
	resp_free(&r);
	for (int i = 0; i < N; i++) {
		assert_int_equal(cl_resp(k, &r, 0), 0);
		snprintf(want, sizeof(want), "pad %d\n", i);
		assert_int_equal(r.blen, 2048);
		assert_memory_equal(r.body, want, strlen(want));
		resp_free(&r);
	}
	cl_close(k);
	server_down();
	assert_int_equal(fx.stats.requests, N + 1);
}

/* A client that pipelines but never reads its answers is closed by the idle rule. */
static void test_pipelining_never_read(void **state)
{
	enum { N = 4000 };
	struct http_limits lim = default_limits;
	struct client *k;
	char *all, *p;

	(void)state;
	lim.idle_timeout_ms = 300;
	server_up(&lim);
	k = cl_open();
	setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &(int){ 256 * 1024 }, sizeof(int));
	all = malloc((size_t)N * 48);
	assert_non_null(all);
	p = all;
	for (int i = 0; i < N; i++)
		p += sprintf(p, "GET /pad?%d HTTP/1.1\r\n\r\n", i);
	cl_send(k, all, (size_t)(p - all));
	free(all);
	usleep(1200 * 1000);
	server_down();
	assert_int_equal(fx.stats.active, 0);
	assert_int_equal(fx.stats.timeouts, 1);
	assert_true(fx.stats.requests < N);
	cl_close(k);
}

static void test_uri_too_long(void **state)
{
	struct client *k;
	char *req;
	const struct rec *q;

	(void)state;
	server_up(&default_limits);
	req = malloc(20000);
	assert_non_null(req);

	/* Longer than HTTP_URI_MAX, within the header limit. */
	k = cl_open();
	memcpy(req, "GET /servlet?key=", 17);
	memset(req + 17, 'A', 5000);
	strcpy(req + 17 + 5000, " HTTP/1.1\r\nHost: x\r\n\r\n");
	cl_sends(k, req);
	expect_error_and_close(k, 414);
	cl_close(k);
	q = rec_at(0);
	assert_int_equal(q->error_status, 414);
	assert_int_equal(strlen(q->url), HTTP_URI_MAX);
	assert_string_equal(q->path, "/servlet");
	assert_int_equal(strlen(q->query), HTTP_URI_MAX - strlen("/servlet?"));
	assert_string_equal(q->peer, "127.0.0.1");
	assert_string_equal(q->method, "GET");

	/* A request line longer than the whole header limit, in one write. */
	k = cl_open();
	memcpy(req, "GET /", 5);
	memset(req + 5, 'B', 12000);
	strcpy(req + 5 + 12000, " HTTP/1.1\r\n\r\n");
	cl_sends(k, req);
	expect_error_and_close(k, 414);
	cl_close(k);
	assert_int_equal(rec_at(1)->error_status, 414);
	assert_true(strlen(rec_at(1)->url) <= HTTP_URI_MAX);

	/* The same, trickled in small pieces. */
	k = cl_open();
	for (size_t off = 0; off < 6000; off += 1000)
		cl_send(k, req + off, 1000);
	expect_error_and_close(k, 414);
	cl_close(k);
	assert_int_equal(rec_at(2)->error_status, 414);
	assert_int_equal(strlen(rec_at(2)->url), HTTP_URI_MAX);
	free(req);
	server_down();
	assert_int_equal(fx.stats.errors, 3);
}

static void test_headers_too_large(void **state)
{
	static const char pad58[] = "0123456789012345678901234567890123456789012345678901234567";
	struct client *k;
	char *req, *p;

	(void)state;
	server_up(&default_limits);
	req = malloc(16384);
	assert_non_null(req);
	p = req + sprintf(req, "GET /h?a=b HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 120; i++)
		p += sprintf(p, "X-Pad-%03d: %.58s\r\n", i, pad58);
	strcpy(p, "\r\n");
	assert_true(strlen(req) > HTTP_HEADERS_MAX);
	k = cl_open();
	cl_sends(k, req);
	expect_error_and_close(k, 431);
	cl_close(k);
	assert_int_equal(rec_at(0)->error_status, 431);
	assert_string_equal(rec_at(0)->path, "/h");
	assert_string_equal(rec_at(0)->query, "a=b");
	assert_string_equal(rec_at(0)->host, "x");

	/* Exactly at the limit is fine. */
	p = req + sprintf(req, "GET /fits HTTP/1.1\r\n");
	while ((size_t)(p - req) < HTTP_HEADERS_MAX - 200)
		p += sprintf(p, "X-Pad: 0123456789\r\n");
	p += sprintf(p, "X-Last: ");
	while ((size_t)(p - req) < HTTP_HEADERS_MAX - 4)
		*p++ = 'z';
	strcpy(p, "\r\n\r\n");
	assert_int_equal(strlen(req), HTTP_HEADERS_MAX);
	k = cl_open();
	{
		struct resp r;

		roundtrip(k, req, &r);
		assert_int_equal(r.status, 200);
		resp_free(&r);
	}
	cl_close(k);
	free(req);
	server_down();
}

static void test_body(void **state)
{
	struct client *k;
	struct resp r;
	char chunk[1200], big[6000];

	(void)state;
	server_up(&default_limits);

	/* A small body is read and dropped, and the connection goes on. */
	k = cl_open();
	cl_sends(k, "POST /servlet HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789"
		    "GET /after HTTP/1.1\r\n\r\n");
	assert_int_equal(cl_resp(k, &r, 0), 0);
	assert_string_equal(r.body, "POST /servlet\n");
	resp_free(&r);
	assert_int_equal(cl_resp(k, &r, 0), 0);
	assert_string_equal(r.body, "GET /after\n");
	resp_free(&r);
	cl_close(k);

	/* Content-Length over the limit: refused at the headers, body never sent. */
	k = cl_open();
	cl_sends(k, "POST /big HTTP/1.1\r\nContent-Length: 100000\r\n\r\n");
	expect_error_and_close(k, 413);
	cl_close(k);
	assert_int_equal(rec_at(2)->error_status, 413);
	assert_string_equal(rec_at(2)->method, "POST");

	/* Chunked over the limit. */
	k = cl_open();
	cl_sends(k, "POST /chunks HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	memset(chunk, 'c', sizeof(chunk));
	for (int i = 0; i < 5; i++) {
		cl_sends(k, "3e8\r\n");
		cl_send(k, chunk, 1000);
		cl_sends(k, "\r\n");
	}
	expect_error_and_close(k, 413);
	cl_close(k);
	assert_int_equal(rec_at(3)->error_status, 413);

	/* Small chunks that add up past the limit. */
	k = cl_open();
	cl_sends(k, "POST /chunks HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 50; i++) {
		cl_sends(k, "64\r\n");
		cl_send(k, chunk, 100);
		cl_sends(k, "\r\n");
	}
	expect_error_and_close(k, 413);
	cl_close(k);

	/* A body over the limit arriving with its headers: the answer still reaches the client. */
	k = cl_open();
	memset(big, 'b', sizeof(big));
	cl_sends(k, "POST /x HTTP/1.1\r\nContent-Length: 6000\r\n\r\n");
	cl_send(k, big, sizeof(big));
	expect_error_and_close(k, 413);
	cl_close(k);
	server_down();
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"GARBAGE\r\n\r\n",
		"GET / HTTP/1.1\r\nAuthorization: Basic a\r\nAuthorization: Basic b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nSec-Fetch-Site: cross-site\r\nSec-Fetch-Site: same-origin\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
		"GET /a\tb HTTP/1.1\r\n\r\n",
		"GET /\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
		"GET / HTTP/1.1\r\nBad\001Header: x\r\n\r\n",
	};
	size_t n = sizeof(bad) / sizeof(bad[0]);

	(void)state;
	server_up(&default_limits);
	for (size_t i = 0; i < n; i++) {
		struct client *k = cl_open();

		cl_sends(k, bad[i]);
		expect_error_and_close(k, 400);
		cl_close(k);
		assert_int_equal(rec_at((unsigned)i)->error_status, 400);
	}
	assert_string_equal(rec_at(0)->method, "");
	assert_string_equal(rec_at(1)->method, "GET");
	assert_string_equal(rec_at(0)->peer, "127.0.0.1");
	server_down();
	assert_int_equal(fx.stats.errors, n);
}

static void test_header_timeout(void **state)
{
	struct http_limits lim = default_limits;
	struct client *k;
	struct resp r;
	struct pollfd pfd;
	uint64_t t0, dt_ms;
	int i;

	(void)state;
	lim.header_timeout_ms = 300;
	server_up(&lim);

	/* Slowloris: a header line every 100 ms never completes the request. */
	k = cl_open();
	t0 = mono_ns();
	cl_sends(k, "GET /slow HTTP/1.1\r\n");
	pfd.fd = k->fd;
	pfd.events = POLLIN;
	for (i = 0; i < 30; i++) {
		if (send(k->fd, "X-A: b\r\n", 8, MSG_NOSIGNAL) < 0)
			break;
		if (poll(&pfd, 1, 100) > 0)
			break;
	}
	assert_int_equal(cl_resp(k, &r, 0), 0);
	dt_ms = (mono_ns() - t0) / 1000000;
	assert_int_equal(r.status, 408);
	resp_free(&r);
	assert_true(cl_closed(k));
	assert_true(dt_ms >= 250 && dt_ms < 1500);
	cl_close(k);
	/* A timeout is not a request. */
	assert_int_equal(nrec(), 0);
	server_down();
	assert_int_equal(fx.stats.timeouts, 1);
}

static void test_idle_timeout(void **state)
{
	struct http_limits lim = default_limits;
	struct client *k;
	struct resp r;
	uint64_t t0, dt_ms;

	(void)state;
	lim.idle_timeout_ms = 300;
	server_up(&lim);

	/* Idle after an answer. */
	k = cl_open();
	roundtrip(k, "GET / HTTP/1.1\r\n\r\n", &r);
	resp_free(&r);
	t0 = mono_ns();
	assert_true(cl_closed(k));
	dt_ms = (mono_ns() - t0) / 1000000;
	assert_true(dt_ms >= 250 && dt_ms < 1500);
	cl_close(k);

	/* Never a byte. */
	k = cl_open();
	t0 = mono_ns();
	assert_true(cl_closed(k));
	dt_ms = (mono_ns() - t0) / 1000000;
	assert_true(dt_ms >= 250 && dt_ms < 1500);
	cl_close(k);

	/* Line ends alone do not keep a connection alive. */
	k = cl_open();
	t0 = mono_ns();
	for (int i = 0; i < 15; i++) {
		if (send(k->fd, "\r\n", 2, MSG_NOSIGNAL) < 0)
			break;
		usleep(50 * 1000);
	}
	assert_true(cl_closed(k));
	dt_ms = (mono_ns() - t0) / 1000000;
	assert_true(dt_ms < 1500);
	cl_close(k);
	server_down();
	assert_int_equal(fx.stats.timeouts, 3);
}

/* Open a connection and make sure the server has admitted it. */
static struct client *cl_admitted(void)
{
	struct client *k = cl_open();
	struct resp r;

	roundtrip(k, "GET /hello HTTP/1.1\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	return k;
}

static void expect_503(void)
{
	struct client *k = cl_open();
	struct resp r;

	cl_sends(k, "GET /servlet?key=OK HTTP/1.1\r\n\r\n");
	assert_int_equal(cl_resp(k, &r, 0), 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.retry_after, "1");
	assert_string_equal(r.connection, "close");
	assert_true(cl_closed(k));
	cl_close(k);
}

/* The server learns of a close asynchronously: retry until a new connection is admitted. */
static struct client *cl_admitted_eventually(void)
{
	for (int i = 0; i < 100; i++) {
		struct client *k = cl_open();
		struct resp r;

		cl_sends(k, "GET /retry HTTP/1.1\r\n\r\n");
		assert_int_equal(cl_resp(k, &r, 0), 0);
		resp_free(&r);
		if (r.status == 200)
			return k;
		cl_close(k);
		usleep(10 * 1000);
	}
	fail_msg("never admitted again");
	return NULL;
}

static void test_connection_caps(void **state)
{
	struct http_limits lim = default_limits;
	struct client *a, *b, *c;
	unsigned before;

	(void)state;
	lim.max_per_source = 2;
	server_up(&lim);
	a = cl_admitted();
	b = cl_admitted();
	before = nrec();
	expect_503();
	/* Refusals are not requests. */
	assert_int_equal(nrec(), before);
	cl_close(a);
	c = cl_admitted_eventually();
	cl_close(b);
	cl_close(c);
	server_down();
	assert_true(fx.stats.refused >= 1);

	lim.max_per_source = 8;
	lim.max_connections = 2;
	server_up(&lim);
	a = cl_admitted();
	b = cl_admitted();
	expect_503();
	expect_503();
	cl_close(b);
	c = cl_admitted_eventually();
	cl_close(a);
	cl_close(c);
	server_down();
	assert_true(fx.stats.refused >= 2);
}

/* Clients that leave while their answer is pending: nothing crashes, nothing leaks. */
static void test_disconnect_pending(void **state)
{
	struct client *k;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	(void)state;
	server_up(&default_limits);

	/* Plain close (EOF) while the answer is 150 ms away. */
	k = cl_open();
	cl_sends(k, "GET /async?ms=150 HTTP/1.1\r\n\r\n");
	wait_nrec(1);
	cl_close(k);

	/* Reset while pending, with more pipelined requests behind it. */
	k = cl_open();
	cl_sends(k, "GET /async?ms=150 HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n");
	wait_nrec(2);
	setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	cl_close(k);

	usleep(400 * 1000);
	assert_int_equal(nrec(), 2);

	/* Pending when the server stops: the late answer is dropped and frees the connection. */
	k = cl_open();
	cl_sends(k, "GET /async?ms=200 HTTP/1.1\r\n\r\n");
	wait_nrec(3);
	server_down();
	assert_int_equal(fx.stats.active, 1);
	cl_close(k);
}

/* A half-close after the requests still gets every answer. */
static void test_half_close(void **state)
{
	struct client *k;
	struct resp r;

	(void)state;
	server_up(&default_limits);
	k = cl_open();
	cl_sends(k, "GET /a HTTP/1.1\r\n\r\nGET /async?ms=50 HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n");
	shutdown(k->fd, SHUT_WR);
	assert_int_equal(cl_resp(k, &r, 0), 0);
	assert_string_equal(r.body, "GET /a\n");
	resp_free(&r);
	assert_int_equal(cl_resp(k, &r, 0), 0);
	assert_string_equal(r.body, "later ms=50\n");
	resp_free(&r);
	assert_int_equal(cl_resp(k, &r, 0), 0);
	assert_string_equal(r.body, "GET /c\n");
	assert_string_equal(r.connection, "close");
	resp_free(&r);
	assert_true(cl_closed(k));
	cl_close(k);
	server_down();
}

/* A large answer to a slow reader arrives whole before the close. */
static void test_big_answer(void **state)
{
	struct client *k;
	struct resp r;

	(void)state;
	server_up(&default_limits);
	k = cl_open();
	cl_sends(k, "GET /big HTTP/1.1\r\nConnection: close\r\n\r\n");
	usleep(200 * 1000);
	assert_int_equal(cl_resp(k, &r, 0), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.blen, BIG_LEN);
	assert_memory_equal(r.body, big_body, BIG_LEN);
	resp_free(&r);
	assert_true(cl_closed(k));
	cl_close(k);
	server_down();
}

static void test_start_errors(void **state)
{
	struct http_limits lim = default_limits;
	struct http_server *s = (struct http_server *)1;
	uv_loop_t loop;
	uint16_t port;
	int fd;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	fd = listen_fd(0, &port);
	lim.max_per_source = 0;
	assert_int_equal(http_server_start(&loop, &fd, 1, &lim, handler, NULL, &s), -EINVAL);
	assert_null(s);
	/* The fd was taken (and closed) even so. */
	assert_int_equal(fcntl(fd, F_GETFD), -1);

	/* Not a socket: refused, and the loop is left clean. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(http_server_start(&loop, &fd, 1, &default_limits, handler, NULL, &s) < 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_status_text(void **state)
{
	static const struct {
		int code;
		const char *text;
	} t[] = {
		{ 200, "OK" }, { 204, "No Content" }, { 301, "Moved Permanently" }, { 302, "Found" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" }, { 413, "Content Too Large" },
		{ 414, "URI Too Long" }, { 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
		{ 503, "Service Unavailable" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(http_status_text(t[i].code), t[i].text);
	assert_string_equal(http_status_text(299), "Unknown");
}

static int setup(void **state)
{
	(void)state;
	/* A hung test fails instead of blocking ctest until its timeout. */
	alarm(30);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	server_down();
	alarm(0);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simple_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_mapped_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelining_backlog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelining_never_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uri_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
		cmocka_unit_test(test_status_text),
	};
	int rc;

	big_body = malloc(BIG_LEN);
	if (!big_body)
		return 1;
	for (size_t i = 0; i < BIG_LEN; i++)
		big_body[i] = (char)('a' + i % 26);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(big_body);
	return rc;
}
