/*
 * Who may hold one of aurid-http's connections: the caps on connections in
 * all and per source, and the refusal of the others (503, then close).
 * The peer's address is taken here, folded so that one host counts once.
 */
#include "conn.h"

#include "services/common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static const char resp_503[] = "HTTP/1.1 503 Service Unavailable\r\n"
			       "Retry-After: 1\r\n"
			       "Content-Length: 0\r\n"
			       "Connection: close\r\n\r\n";

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
int http_conn_addresses(struct http_conn *c)
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

/* Whether c, not yet counted, may join the open connections: NULL, or why not. */
const char *http_admission_check(const struct http_server *s, const struct http_conn *c)
{
	if (s->nconns >= s->lim.max_connections)
		return "too many connections";
	if (source_count(s, &c->addr) >= s->lim.max_per_source)
		return "too many connections from one source";
	if (c->tls_listener && !s->tls_ctx)
		return "no certificate from the executor yet";
	return NULL;
}

/*
 * Over a cap: a 503 costs one non-blocking write, and the connection goes
 * now, so refusals cannot pile up.  Reading what the client already sent
 * first means the close sends FIN, not a reset that could beat our answer.
 */
void http_conn_refuse(struct http_conn *c, const char *why)
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
