/*
 * libFuzzer target for aurid-http's request path, through the real server:
 * fuzz bytes go over a real TCP connection on 127.0.0.1 into the libuv
 * server (parser callbacks, header store, limits), then the real routes
 * (paths, query grammar, credentials) and the front-end's link to the
 * executor, whose end this target plays: every request that reaches it
 * must decode, and is answered 401 so that routes_answer runs too.
 *
 * An input is one of two shapes, chosen by its first byte:
 *   even  raw bytes, written in chunks whose size the first byte picks
 *         (splits values and names across reads, as a slow client does);
 *   odd   a generated request: a request line, then 3-byte operations
 *         (header name, value length up to 8 KiB or relative to what is
 *         left of the header budget, shape: plain, trailing blanks,
 *         obs-fold, or in a chunked trailer), so that large and repeated
 *         kept headers in every order, and lengths around every buffer
 *         boundary, are reached quickly.
 */
#include "services/common/config.h"
#include "services/common/log.h"
#include "services/exec/request.h"
#include "services/http/frontend.h"
#include "services/http/headers.h"
#include "services/http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void routes_handle(struct http_conn *c, const struct http_request *req, void *arg);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define GEN_MAX (96 * 1024)

static uv_loop_t loop;
static struct frontend fe;
static struct http_server *srv;
static struct ipc_chan exec_end;
static struct sockaddr_in srv_addr;
static int ready;

/* Every string the server hands over ends within its bound. */
static void check_str(const char *s, size_t max)
{
	if (s)
		CHECK(memchr(s, '\0', max + 1) != NULL);
}

static void handle(struct http_conn *c, const struct http_request *req, void *arg)
{
	check_str(req->method, 32);
	check_str(req->url, HTTP_URI_MAX);
	check_str(req->path, HTTP_URI_MAX);
	check_str(req->query, HTTP_URI_MAX);
	check_str(req->authorization, HTTP_HDR_AUTHORIZATION_MAX);
	check_str(req->accept, HTTP_HDR_ACCEPT_MAX);
	check_str(req->sec_fetch_site, HTTP_HDR_FETCH_MAX);
	check_str(req->sec_fetch_mode, HTTP_HDR_FETCH_MAX);
	check_str(req->sec_fetch_dest, HTTP_HDR_FETCH_MAX);
	check_str(req->host, HTTP_HDR_HOST_MAX);
	check_str(req->origin, HTTP_HDR_ORIGIN_MAX);
	check_str(req->local, 45);   /* INET6_ADDRSTRLEN - 1 */
	CHECK(req->error_status == 0 || (req->error_status >= 400 && req->error_status < 500));
	routes_handle(c, req, arg);
}

static void setup(void)
{
	struct aurid_config cfg;
	struct http_limits lim = { 64, 64, 5000, 5000 };
	socklen_t alen = sizeof(srv_addr);
	int sv[2], lfd;

	signal(SIGPIPE, SIG_IGN);
	log_init("fuzz_http_request");
	log_set_level("err");
	config_defaults(&cfg);
	uv_loop_init(&loop);
	frontend_init(&fe, &loop, &cfg);
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(frontend_attach_exec(&fe, sv[0]) == 0);
	CHECK(ipc_chan_init(&exec_end, sv[1], IPC_ROLE_EXEC, IPC_ROLE_HTTP) == 0);
	/* The executor's HELLO opens the front-end's end of the channel. */
	CHECK(ipc_chan_send(&exec_end, IPC_HELLO, 0, &(struct ipc_hello){ .version = IPC_VERSION, .role = IPC_ROLE_EXEC },
			    -1) == 0);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(lfd >= 0);
	memset(&srv_addr, 0, sizeof(srv_addr));
	srv_addr.sin_family = AF_INET;
	srv_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(lfd, (struct sockaddr *)&srv_addr, sizeof(srv_addr)) == 0);
	CHECK(listen(lfd, 16) == 0);
	CHECK(getsockname(lfd, (struct sockaddr *)&srv_addr, &alen) == 0);
	CHECK(http_server_start(&loop, &lfd, 1, &lim, handle, &fe, &srv) == 0);
	fe.srv = srv;
	ready = 1;
}

/*
 * The executor's side: each request must decode, be one the http channel
 * may carry, and read (request.c, the executor's own parse of the target)
 * into bounded fields; it is answered 401.
 */
static void exec_serve(void)
{
	union ipc_payload *m = malloc(sizeof(*m));
	unsigned type;
	uint32_t id;
	int fd, r;

	CHECK(m);
	while ((r = ipc_chan_recv(&exec_end, &type, &id, m, &fd)) == 0) {
		struct ipc_action_res *res;

		if (fd >= 0)
			close(fd);
		if (type != IPC_ACTION_REQ)
			continue;
		{
			const char *why;
			struct ipc_action_req *req = &m->action_req;

			CHECK(request_channel_check(IPC_ROLE_HTTP, req, &why) == 0);
			request_read(req);
			CHECK(req->nitems <= IPC_ITEMS_MAX);
			CHECK(req->front_status != 0 || req->kind != IPC_KIND_ACTION || req->nitems >= 1);
			CHECK(memchr(req->request, '\0', sizeof(req->request)) != NULL);
			for (const char *p = req->request; *p; p++)
				CHECK(*p >= 0x20 && *p < 0x7f);
		}
		res = calloc(1, sizeof(*res));
		CHECK(res);
		res->status = 401;
		snprintf(res->reason, sizeof(res->reason), "auth");
		snprintf(res->message, sizeof(res->message), "credentials required");
		snprintf(res->nonce, sizeof(res->nonce), "fuzz");
		CHECK(ipc_chan_send(&exec_end, IPC_ACTION_RES, id, res, -1) == 0);
		free(res);
	}
	CHECK(r == -EAGAIN);
	free(m);
}

/* A bounded output buffer: what does not fit is dropped. */
struct gen {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct gen *g, const void *s, size_t n)
{
	if (n > g->cap - g->len)
		n = g->cap - g->len;
	memcpy(g->p + g->len, s, n);
	g->len += n;
}

static void fill(struct gen *g, char ch, size_t n)
{
	if (n > g->cap - g->len)
		n = g->cap - g->len;
	memset(g->p + g->len, ch, n);
	g->len += n;
}

/* The odd shape: a request built from header operations. */
static size_t generate(const uint8_t *data, size_t size, uint8_t *out)
{
	static const char *const names[] = {
		"Accept", "Host", "Authorization", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest",
		"Origin", "User-Agent", "accept", "HOST", "X-Other", "Content-Length",
	};
	static const char *const lines[] = {
		"GET /servlet?key=OK HTTP/1.1\r\n", "GET /screencapture HTTP/1.1\r\n",
		"POST /servlet?key=OK HTTP/1.1\r\nTransfer-Encoding: chunked\r\n",
		"GET /cgi-bin/ConfigManApp.com?key=F1;OK HTTP/1.1\r\n",
	};
	static uint8_t trail_mem[GEN_MAX / 2];
	struct gen head = { out, 0, GEN_MAX / 2 }, trail = { trail_mem, 0, sizeof(trail_mem) };
	unsigned line = size > 1 ? data[1] % 4 : 0;
	bool chunked = line == 2;

	put(&head, lines[line], strlen(lines[line]));
	for (size_t i = 2; i + 3 <= size; i += 3) {
		const char *name = names[data[i] % (sizeof(names) / sizeof(names[0]))];
		unsigned shape = data[i] >> 4 & 3;
		size_t vlen = ((size_t)data[i + 1] | (size_t)data[i + 2] << 8) & 0x1fff;
		size_t budget = HTTP_HEADERS_MAX > head.len ? HTTP_HEADERS_MAX - head.len : 0;
		struct gen *g = shape == 3 && chunked ? &trail : &head;

		/* Lengths near the edges of the header budget, where bounds go wrong. */
		switch (data[i + 2] >> 5) {
		case 1:
			vlen = budget > data[i + 1] ? budget - data[i + 1] : 0;
			break;
		case 2:
			vlen = budget / 2 + 128 > data[i + 1] ? budget / 2 + 128 - data[i + 1] : 0;
			break;
		default:
			break;
		}

		put(g, name, strlen(name));
		put(g, ": ", 2);
		if (shape == 2 && vlen > 2) {
			fill(g, (char)('a' + (data[i] & 7)), vlen / 2);
			put(g, "\r\n\t", 3);     /* obs-fold */
			fill(g, 'b', vlen - vlen / 2);
		} else {
			fill(g, (char)('A' + (data[i] & 15)), vlen);
		}
		if (shape == 1)
			put(g, "  \t", 3);
		put(g, "\r\n", 2);
	}
	put(&head, "\r\n", 2);
	if (chunked) {
		head.cap = GEN_MAX;
		put(&head, "3\r\nabc\r\n0\r\n", 11);
		put(&head, trail.p, trail.len);
		put(&head, "\r\n", 2);
	}
	return head.len;
}

static void exchange(const uint8_t *msg, size_t len, size_t chunk)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	size_t off = 0;
	bool wr_done = false;
	struct http_stats st;
	char sink[16384];

	CHECK(fd >= 0);
	if (connect(fd, (struct sockaddr *)&srv_addr, sizeof(srv_addr)) != 0)
		CHECK(errno == EINPROGRESS);
	/* Until the server has closed the connection and freed it. */
	for (int turn = 0; turn < 20000; turn++) {
		ssize_t n;

		if (!wr_done) {
			size_t want = len - off < chunk ? len - off : chunk;

			n = want ? send(fd, msg + off, want, MSG_NOSIGNAL) : 0;
			if (n > 0)
				off += (size_t)n;
			if (off == len || (n < 0 && errno != EAGAIN && errno != ENOTCONN)) {
				shutdown(fd, SHUT_WR);
				wr_done = true;
			}
		}
		uv_run(&loop, UV_RUN_NOWAIT);
		exec_serve();
		uv_run(&loop, UV_RUN_NOWAIT);
		while ((n = recv(fd, sink, sizeof(sink), 0)) > 0)
			;
		http_server_stats(srv, &st);
		if (wr_done && n == 0 && st.active == 0)
			break;
		if (n < 0 && errno != EAGAIN && errno != ENOTCONN) {
			if (st.active == 0)
				break;
		}
		if (turn > 50)
			poll(NULL, 0, 0);
	}
	close(fd);
	for (int i = 0; i < 100; i++) {
		http_server_stats(srv, &st);
		if (st.active == 0)
			break;
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	/* A request that hangs the server is a bug too. */
	CHECK(st.active == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t gen[GEN_MAX];
	size_t chunk;

	if (!ready)
		setup();
	if (size == 0)
		return 0;
	chunk = data[0] >> 1 ? (size_t)(data[0] >> 1) * 37 : SIZE_MAX;
	if (data[0] & 1)
		exchange(gen, generate(data, size, gen), chunk);
	else
		exchange(data + 1, size - 1, chunk);
	return 0;
}
