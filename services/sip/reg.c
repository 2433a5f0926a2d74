/*
 * Optional registration of account 1 with libre's sipreg, so that a PBX
 * can route NOTIFYs to the phone (account.1.enable, .user_name,
 * .auth_name, .password, .expires; the server and transport from
 * account.1.sip_server.1.*, the outbound proxy when
 * account.1.outbound_proxy_enable is set).
 *
 * The request goes to an address trust.c resolved: the Request-URI and the
 * AoR keep the configured name, and a name is reached through a loose
 * route to its resolved address, so libre never needs DNS here.
 *
 * Over TCP the registration's connection is "the registered flow": with
 * sip.trust_ctrl the executor then trusts only NOTIFYs that come back over
 * it.  A TCP connection is its address pair, so the flow is recorded as the
 * local and peer addresses the last 2xx arrived on, and a NOTIFY matches it
 * when it arrived on the same pair.
 */
#include "front.h"

#include "../common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sip_reg {
	struct sip_front *fe;
	struct sipreg *reg;
	uint8_t state;               /* enum ipc_sip_reg */
	bool tcp;
	char registrar[128];
	char detail[128];
	struct sa next_hop;          /* where the current registration goes */
	struct sa flow_local, flow_peer;
	bool flow_set;
};

static void set_state(struct sip_reg *r, enum ipc_sip_reg state, const char *detail)
{
	if (r->state != state || strcmp(r->detail, detail) != 0) {
		if (state == IPC_SIP_REG_FAILED)
			log_warn("registration at %s: %s", r->registrar, detail);
		else
			log_info("registration at %s: %s", r->registrar, detail);
	}
	r->state = (uint8_t)state;
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
}

/* libre's callback: answers in libre's convention (0 or a positive errno). */
static int auth_handler(char **username, char **password, const char *realm, void *arg)
{
	struct sip_reg *r = arg;
	const struct aurid_config *cfg = &r->fe->cfg;
	const char *user = cfg->account_auth_name[0] ? cfg->account_auth_name : cfg->account_user_name;
	int err;

	(void)realm;
	if (!cfg->account_password[0])
		return EAUTH;
	err = str_dup(username, user);
	err |= str_dup(password, cfg->account_password);
	return err;
}

static void resp_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct sip_reg *r = arg;
	char detail[128];

	if (err) {
		snprintf(detail, sizeof(detail), "%s", strerror(err));
		r->flow_set = false;
		set_state(r, IPC_SIP_REG_FAILED, detail);
	} else if (!msg || msg->scode < 200) {
		return;
	} else if (msg->scode < 300) {
		re_snprintf(detail, sizeof(detail), "%u %r", msg->scode, &msg->reason);
		if (r->tcp && msg->tp == SIP_TRANSP_TCP) {
			r->flow_local = msg->dst;
			r->flow_peer = msg->src;
			r->flow_set = true;
		}
		set_state(r, sipreg_registered(r->reg) ? IPC_SIP_REG_OK : IPC_SIP_REG_FAILED, detail);
	} else {
		re_snprintf(detail, sizeof(detail), "%u %r", msg->scode, &msg->reason);
		r->flow_set = false;
		set_state(r, IPC_SIP_REG_FAILED, detail);
	}
	sip_front_state_update(r->fe, false);
}

/* "[v6]" for a URI host. */
static void uri_host(const char *host, char *out, size_t outlen)
{
	if (strchr(host, ':') && host[0] != '[')
		snprintf(out, outlen, "[%s]", host);
	else
		snprintf(out, outlen, "%s", host);
}

/* Whether aurid.sip.listen has a socket of family af to send from. */
static bool listen_has_af(const struct sip_front *fe, int af)
{
	struct config_sip_listen l[CONFIG_SIP_LISTEN_MAX];
	size_t n = 0;

	if (config_sip_listen_parse(fe->cfg.sip_listen, l, CONFIG_SIP_LISTEN_MAX, &n, NULL, 0) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((strchr(l[i].host, ':') ? AF_INET6 : AF_INET) == af)
			return true;
	return false;
}

/* The first resolved address we can reach ("localhost" is ::1 and
 * 127.0.0.1, and libre sends only from the families it listens on). */
static int first_reachable(const struct sip_front *fe, const struct sip_addrs *a, struct sa *hop)
{
	for (size_t i = 0; i < a->n; i++) {
		if (listen_has_af(fe, sa_af(&a->sa[i]))) {
			*hop = a->sa[i];
			return 0;
		}
	}
	return -EAGAIN;
}

/* Where REGISTER goes: the outbound proxy if enabled, else the server.
 * *route: whether a Route to that address is needed (a name). */
static int next_hop(const struct sip_front *fe, struct sa *hop, bool *route)
{
	const struct aurid_config *cfg = &fe->cfg;
	struct sa tmp;

	if (cfg->outbound_proxy_enable && cfg->outbound_proxy_address[0]) {
		*route = true;
		return first_reachable(fe, &fe->proxy, hop);
	}
	*route = sa_set_str(&tmp, cfg->sip_server_address, 0) != 0 && cfg->sip_server_address[0] != '[';
	return first_reachable(fe, &fe->server, hop);
}

static void reg_begin(struct sip_reg *r)
{
	struct sip_front *fe = r->fe;
	const struct aurid_config *cfg = &fe->cfg;
	char host[264], aor[400], hop[64], route[128];
	const char *routev[1];
	const char *tp = r->tcp ? ";transport=tcp" : "";
	unsigned port = cfg->sip_server_port ? cfg->sip_server_port : SIP_PORT;
	bool use_route = false;
	int e;

	r->reg = mem_deref(r->reg);
	r->flow_set = false;
	uri_host(cfg->sip_server_address, host, sizeof(host));
	if ((size_t)snprintf(aor, sizeof(aor), "sip:%s:%u%s", host, port, tp) >= sizeof(r->registrar)) {
		set_state(r, IPC_SIP_REG_FAILED, "account.1.sip_server.1.address is too long");
		return;
	}
	memcpy(r->registrar, aor, strlen(aor) + 1);
	if (next_hop(fe, &r->next_hop, &use_route) != 0) {
		sa_init(&r->next_hop, AF_UNSPEC);
		set_state(r, IPC_SIP_REG_TRYING, "waiting for the server's address");
		return;
	}
	snprintf(aor, sizeof(aor), "sip:%s@%s", cfg->account_user_name, host);
	if (use_route) {
		sip_addr_text(&r->next_hop, hop, sizeof(hop));
		if (sa_af(&r->next_hop) == AF_INET6)
			snprintf(route, sizeof(route), "sip:[%s]:%u;lr%s", hop, sa_port(&r->next_hop), tp);
		else
			snprintf(route, sizeof(route), "sip:%s:%u;lr%s", hop, sa_port(&r->next_hop), tp);
		routev[0] = route;
	}
	e = sipreg_register(&r->reg, fe->sip, r->registrar, aor, NULL, aor, cfg->account_expires,
			    cfg->account_user_name, use_route ? routev : NULL, use_route ? 1 : 0, 0,
			    auth_handler, r, false, resp_handler, r, NULL, NULL);
	if (e) {
		char detail[128];

		snprintf(detail, sizeof(detail), "cannot register: %s", strerror(-sip_err(e)));
		set_state(r, IPC_SIP_REG_FAILED, detail);
		return;
	}
	set_state(r, IPC_SIP_REG_TRYING, "registering");
}

int sip_reg_start(struct sip_front *fe)
{
	const struct aurid_config *cfg = &fe->cfg;
	struct sip_reg *r;

	if (!cfg->account_enable)
		return 0;
	if (!cfg->sip_server_address[0] || !cfg->account_user_name[0]) {
		log_warn("account.1.enable = 1 but account.1.sip_server.1.address or account.1.user_name "
			 "is empty: not registering");
		return 0;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fe = fe;
	r->tcp = cfg->sip_server_transport == CONFIG_SIP_TCP;
	fe->reg = r;
	reg_begin(r);
	return 0;
}

void sip_reg_addresses_changed(struct sip_front *fe)
{
	struct sip_reg *r = fe->reg;
	struct sa hop;
	bool route;

	if (!r)
		return;
	if (next_hop(fe, &hop, &route) == 0 && r->reg && sa_cmp(&hop, &r->next_hop, SA_ALL))
		return;
	reg_begin(r);
}

bool sip_reg_stop(struct sip_front *fe)
{
	struct sip_reg *r = fe->reg;
	bool unregistering;

	if (!r)
		return false;
	/* libre un-registers (expires 0) if it was registered and keeps the
	 * request alive until answered or until the SIP stack closes. */
	unregistering = r->reg && sipreg_registered(r->reg);
	mem_deref(r->reg);
	free(r);
	fe->reg = NULL;
	return unregistering;
}

void sip_reg_state(const struct sip_front *fe, struct ipc_sip_state *st)
{
	const struct sip_reg *r = fe->reg;

	if (!r) {
		st->reg_state = IPC_SIP_REG_OFF;
		return;
	}
	st->reg_state = r->state;
	st->reg_tcp = r->tcp ? 1 : 0;
	snprintf(st->registrar, sizeof(st->registrar), "%s", r->registrar);
	snprintf(st->detail, sizeof(st->detail), "%s", r->detail);
}

bool sip_reg_is_flow(const struct sip_front *fe, const struct sip_msg *msg)
{
	const struct sip_reg *r = fe->reg;

	return r && r->flow_set && r->state == IPC_SIP_REG_OK && msg->tp == SIP_TRANSP_TCP &&
	       sa_cmp(&msg->src, &r->flow_peer, SA_ALL) && sa_cmp(&msg->dst, &r->flow_local, SA_ALL);
}
