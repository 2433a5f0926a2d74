/*
 * The addresses sip.trust_ctrl trusts: account.1.sip_server.1.address and
 * account.1.outbound_proxy.1.address, resolved at start and every
 * SIP_TRUST_PERIOD_S, reported to the executor when they change.
 *
 * IP literals are taken as they are, at once.  Names go through
 * getaddrinfo(), so /etc/hosts ("localhost", the PBX in a hosts file) works
 * as it does for every other program on the phone; getaddrinfo blocks, so
 * it runs on a short-lived thread that touches nothing but its own job and
 * signals the loop through a pipe.  One resolution at a time.  A name that
 * does not resolve keeps its last good addresses: a DNS outage must not
 * lock the PBX out.
 */
#include "front.h"

#include "../common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SIP_TRUST_PERIOD_S 60

/* One name to resolve and its result, owned by the thread while it runs. */
struct trust_name {
	char host[256];
	uint16_t port;
	struct sip_addrs out;
	int err;                     /* getaddrinfo's EAI_*, 0 if resolved */
};

struct sip_trust {
	struct sip_front *fe;
	struct tmr tmr;
	int pipe[2];                 /* the thread writes one byte when done */
	pthread_t thread;
	bool running;
	struct trust_name names[2];  /* [0] server, [1] proxy */
};

void sip_addr_text(const struct sa *sa, char *out, size_t outlen)
{
	struct sa v4;

	/* ::ffff:a.b.c.d is the IPv4 peer a.b.c.d (a dual-stack socket). */
	if (sa_af(sa) == AF_INET6) {
		uint8_t a[16];
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		sa_in6(sa, a);
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			sa_init(&v4, AF_INET);
			sa_set_in(&v4, (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15], 0);
			sa = &v4;
		}
	}
	if (sa_ntop(sa, out, (int)outlen) != 0)
		snprintf(out, outlen, "?");
}

static uint16_t port_or_default(unsigned port)
{
	return port ? (uint16_t)port : SIP_PORT;
}

/* An IP literal (IPv6 with or without brackets) straight into out. */
static bool resolve_literal(const char *host, uint16_t port, struct sip_addrs *out)
{
	char buf[64];
	size_t n = strlen(host);

	if (host[0] == '[' && n > 2 && host[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		host = buf;
	}
	if (sa_set_str(&out->sa[0], host, port) != 0)
		return false;
	out->n = 1;
	return true;
}

static void add_unique(struct sip_addrs *out, const struct sa *sa)
{
	for (size_t i = 0; i < out->n; i++)
		if (sa_cmp(&out->sa[i], sa, SA_ADDR))
			return;
	if (out->n < SIP_ADDRS_MAX)
		out->sa[out->n++] = *sa;
}

static void resolve_name(struct trust_name *t)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res = NULL;

	t->out.n = 0;
	if (!t->host[0] || resolve_literal(t->host, t->port, &t->out)) {
		t->err = 0;
		return;
	}
	t->err = getaddrinfo(t->host, NULL, &hints, &res);
	if (t->err)
		return;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		struct sa sa;

		if (sa_set_sa(&sa, ai->ai_addr) != 0)
			continue;
		sa_set_port(&sa, t->port);
		add_unique(&t->out, &sa);
	}
	freeaddrinfo(res);
}

/* The thread: getaddrinfo, then one byte to wake the loop.  It shares
 * nothing with the loop while it runs but its own job. */
static void *resolve_thread(void *arg)
{
	struct sip_trust *t = arg;
	char one = 1;

	for (size_t i = 0; i < 2; i++)
		resolve_name(&t->names[i]);
	while (write(t->pipe[1], &one, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static bool addrs_equal(const struct sip_addrs *a, const struct sip_addrs *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!sa_cmp(&a->sa[i], &b->sa[i], SA_ALL))
			return false;
	return true;
}

/* Takes the results that resolved; true if anything changed. */
static bool apply(struct sip_trust *t)
{
	struct sip_front *fe = t->fe;
	struct sip_addrs *dst[2] = { &fe->server, &fe->proxy };
	bool changed = false;

	for (size_t i = 0; i < 2; i++) {
		struct trust_name *n = &t->names[i];

		if (!n->host[0]) {
			changed |= dst[i]->n != 0;
			dst[i]->n = 0;
			continue;
		}
		if (n->err || n->out.n == 0) {
			log_warn("cannot resolve %s '%s': %s%s", i ? "account.1.outbound_proxy.1.address" :
				 "account.1.sip_server.1.address", n->host,
				 n->err ? gai_strerror(n->err) : "no address",
				 dst[i]->n ? "; keeping the addresses it had" : "");
			continue;
		}
		if (!addrs_equal(dst[i], &n->out)) {
			*dst[i] = n->out;
			changed = true;
		}
	}
	return changed;
}

static void resolved(struct sip_trust *t)
{
	struct sip_front *fe = t->fe;
	char list[sizeof(((struct ipc_sip_state *)0)->trusted)];

	if (!apply(t))
		return;
	sip_trust_list(fe, list, sizeof(list));
	log_info("SIP server addresses: [%s]", list);
	sip_reg_addresses_changed(fe);
	sip_front_state_update(fe, false);
}

static void pipe_readable(int flags, void *arg)
{
	struct sip_trust *t = arg;
	char buf[16];

	(void)flags;
	while (read(t->pipe[0], buf, sizeof(buf)) > 0)
		;
	if (!t->running)
		return;
	pthread_join(t->thread, NULL);
	t->running = false;
	resolved(t);
}

static void names_set(struct sip_trust *t)
{
	const struct aurid_config *cfg = &t->fe->cfg;

	snprintf(t->names[0].host, sizeof(t->names[0].host), "%s", cfg->sip_server_address);
	t->names[0].port = port_or_default(cfg->sip_server_port);
	snprintf(t->names[1].host, sizeof(t->names[1].host), "%s", cfg->outbound_proxy_address);
	t->names[1].port = port_or_default(cfg->outbound_proxy_port);
}

static void period(void *arg)
{
	struct sip_trust *t = arg;
	int r;

	tmr_start(&t->tmr, SIP_TRUST_PERIOD_S * 1000, period, t);
	if (t->running)
		return;   /* the last one is still waiting for its answer */
	names_set(t);
	r = pthread_create(&t->thread, NULL, resolve_thread, t);
	if (r) {
		log_warn("cannot start the resolver thread: %s", strerror(r));
		return;
	}
	t->running = true;
}

void sip_trust_list(const struct sip_front *fe, char *out, size_t outlen)
{
	const struct sip_addrs *all[2] = { &fe->server, &fe->proxy };
	char seen[2 * SIP_ADDRS_MAX][64];
	size_t nseen = 0, o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < 2; i++) {
		for (size_t j = 0; j < all[i]->n; j++) {
			char *a = seen[nseen];
			bool dup = false;
			int n;

			sip_addr_text(&all[i]->sa[j], a, sizeof(seen[0]));
			for (size_t k = 0; k < nseen; k++)
				dup |= strcmp(seen[k], a) == 0;
			if (dup)
				continue;
			nseen++;
			n = snprintf(out + o, outlen - o, "%s%s", o ? "," : "", a);
			if (n < 0 || (size_t)n >= outlen - o) {
				out[o] = '\0';
				return;
			}
			o += (size_t)n;
		}
	}
}

int sip_trust_start(struct sip_front *fe)
{
	struct sip_trust *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->fe = fe;
	tmr_init(&t->tmr);
	if (pipe2(t->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		free(t);
		return r;
	}
	r = sip_err(fd_listen(t->pipe[0], FD_READ, pipe_readable, t));
	if (r) {
		close(t->pipe[0]);
		close(t->pipe[1]);
		free(t);
		return r;
	}
	fe->trust = t;
	/* Literals now, so the first state report already trusts them. */
	names_set(t);
	if (resolve_literal(t->names[0].host, t->names[0].port, &t->names[0].out))
		fe->server = t->names[0].out;
	if (resolve_literal(t->names[1].host, t->names[1].port, &t->names[1].out))
		fe->proxy = t->names[1].out;
	/* Names (and the periodic check) on the thread, started from the
	 * loop: main enters the sandbox first, and Landlock only covers the
	 * threads started after it. */
	tmr_start(&t->tmr, 0, period, t);
	return 0;
}

void sip_trust_stop(struct sip_front *fe)
{
	struct sip_trust *t = fe->trust;

	if (!t)
		return;
	fe->trust = NULL;
	tmr_cancel(&t->tmr);
	fd_close(t->pipe[0]);
	if (t->running) {
		/* Still waiting on DNS: the process is exiting, and the job
		 * belongs to the thread until it returns. */
		pthread_detach(t->thread);
		return;
	}
	close(t->pipe[0]);
	close(t->pipe[1]);
	free(t);
}
