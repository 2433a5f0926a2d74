/*
 * aurid-sip's set-up and tear-down: libre's SIP stack on the transports of
 * aurid.sip.listen, the request listener, trust and registration, and the
 * state report to the executor.
 *
 * libre binds the sockets itself (1.1.0 cannot adopt a bound socket), as
 * this process's own unprivileged user: the supervisor refuses ports below
 * 1024 in aurid.sip.listen for that reason.
 */
#include "front.h"

#include "../common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hash sizes of libre's client transactions and connections; the server
 * transactions' follows aurid.sip.udp_transactions (about 4 per bucket). */
#define SIP_HASH_CTRANS 16
#define SIP_HASH_TCP    64
#define SIP_HASH_STRANS_MAX 65536
/* How long a stopping process waits for its un-REGISTER. */
#define SIP_STOP_GRACE_MS 1000

static struct tmr stop_tmr;

static void exit_handler(void *arg)
{
	(void)arg;
	re_cancel();
}

static void stop_force(void *arg)
{
	struct sip_front *fe = arg;

	sip_close(fe->sip, true);
	re_cancel();
}

void sip_front_state_update(struct sip_front *fe, bool force)
{
	struct ipc_sip_state st;

	memset(&st, 0, sizeof(st));
	sip_trust_list(fe, st.trusted, sizeof(st.trusted));
#ifdef AURID_TEST_HOOKS
	{
		/* Test builds only: AURID_TEST_FORGE=trusted=ADDR reports ADDR as a
		 * trusted server, as a compromised aurid-sip could. */
		const char *f = getenv("AURID_TEST_FORGE");
		size_t n = strlen(st.trusted);

		if (f && strncmp(f, "trusted=", 8) == 0)
			snprintf(st.trusted + n, sizeof(st.trusted) - n, "%s%s", n ? "," : "", f + 8);
	}
#endif
	sip_reg_state(fe, &st);
	if (!force && fe->state_sent && memcmp(&st, &fe->state, sizeof(st)) == 0)
		return;
	fe->state = st;
	fe->state_sent = sip_exec_send_state(fe, &st) == 0;
}

static int listen_all(struct sip_front *fe)
{
	struct config_sip_listen l[CONFIG_SIP_LISTEN_MAX];
	char err[160];
	size_t n;
	int r;

	r = config_sip_listen_parse(fe->cfg.sip_listen, l, CONFIG_SIP_LISTEN_MAX, &n, err, sizeof(err));
	if (r) {
		log_err("aurid.sip.listen: %s", err);
		return r;
	}
	if (n == 0) {
		log_err("aurid.sip.listen is empty: nothing to listen on");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		enum sip_transp tp = l[i].transport == CONFIG_SIP_TCP ? SIP_TRANSP_TCP : SIP_TRANSP_UDP;
		struct sa sa;

		r = sip_err(sa_set_str(&sa, l[i].host, (uint16_t)l[i].port));
		if (r == 0)
			r = sip_err(sip_transp_add(fe->sip, tp, &sa));
		if (r) {
			log_err("aurid.sip.listen: cannot listen on %s: %s", l[i].text, strerror(-r));
			return r;
		}
		log_info("listening on %s", l[i].text);
	}
	return sip_err(sip_listen(&fe->lsnr, fe->sip, true, sip_notify_recv, fe));
}

int sip_front_start(struct sip_front *fe, const struct aurid_config *cfg)
{
	uint32_t nstrans = 64;
	int r;

	memset(fe, 0, sizeof(*fe));
	fe->cfg = *cfg;
	fe->next_id = 1;
	tmr_init(&stop_tmr);
	tmr_init(&fe->sweep);
	fe->req = malloc(sizeof(*fe->req));
	if (!fe->req)
		return -ENOMEM;
	/* No DNS client: every request aurid-sip makes goes to an address
	 * trust.c resolved (see reg.c). */
	while (nstrans < SIP_HASH_STRANS_MAX && nstrans * 4 < cfg->sip_udp_transactions)
		nstrans *= 2;
	r = sip_err(sip_alloc(&fe->sip, NULL, SIP_HASH_CTRANS, nstrans, SIP_HASH_TCP, SIP_SOFTWARE,
			      exit_handler, fe));
	if (r) {
		log_err("cannot start libre's SIP stack: %s", strerror(-r));
		return r;
	}
	r = listen_all(fe);
	if (r)
		return r;
	if ((unsigned long)cfg->consent_timeout * 1000 >= SIP_DECIDE_MAX_MS && cfg->show_action_uri_option)
		log_warn("aurid.consent.timeout = %u s: a NOTIFY cannot wait that long (SIP gives up after 32 s); "
			 "one still waiting on the prompt after %u s is answered 408",
			 cfg->consent_timeout, SIP_DECIDE_MAX_MS / 1000);
	r = sip_trust_start(fe);
	if (r) {
		log_err("cannot start resolving the SIP server: %s", strerror(-r));
		return r;
	}
	r = sip_reg_start(fe);
	if (r)
		return r;
	log_info("ready: trust-server-only %s, registration %s", cfg->sip_trust_ctrl ? "on" : "off",
		 fe->reg ? "on" : "off");
	return 0;
}

void sip_front_stop(struct sip_front *fe)
{
	bool unregistering;

	if (fe->stopping)
		return;
	fe->stopping = true;
	log_info("stopping");
	sip_trust_stop(fe);
	unregistering = sip_reg_stop(fe);
	/* Everything in flight is answered 503 now. */
	sip_exec_close(fe);
	if (!fe->sip || !unregistering) {
		re_cancel();
		return;
	}
	/* libre calls exit_handler once its requests (the un-REGISTER) are
	 * done; a server that does not answer is not waited for long. */
	tmr_start(&stop_tmr, SIP_STOP_GRACE_MS, stop_force, fe);
	sip_close(fe->sip, false);
}

void sip_front_free(struct sip_front *fe)
{
	tmr_cancel(&stop_tmr);
	tmr_cancel(&fe->sweep);
	sip_trust_stop(fe);
	sip_reg_stop(fe);
	for (size_t i = 0; i < SIP_PENDING_MAX; i++)
		sip_pending_release(&fe->pending[i]);
	fe->lsnr = mem_deref(fe->lsnr);
	if (fe->sip)
		sip_close(fe->sip, true);
	fe->sip = mem_deref(fe->sip);
	free(fe->req);
	fe->req = NULL;
}
