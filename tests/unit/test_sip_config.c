/*
 * The SIP part of the config table: aurid.sip.listen entries (transport,
 * literal address, port), the registration keys, and who receives what --
 * the SIP password reaches aurid-sip alone.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ipc/ipc.h"
#include "services/common/config.h"

static void test_listen_parse(void **state)
{
	struct config_sip_listen l[CONFIG_SIP_LISTEN_MAX];
	char err[200];
	size_t n;

	(void)state;
	assert_int_equal(config_sip_listen_parse("udp:0.0.0.0:5060,tcp:0.0.0.0:5060", l, CONFIG_SIP_LISTEN_MAX, &n,
						 err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(l[0].transport, CONFIG_SIP_UDP);
	assert_int_equal(l[1].transport, CONFIG_SIP_TCP);
	assert_string_equal(l[0].host, "0.0.0.0");
	assert_int_equal(l[1].port, 5060);
	assert_string_equal(l[1].text, "tcp:0.0.0.0:5060");

	/* Case-insensitive prefix, spaces around entries, IPv6 in brackets. */
	assert_int_equal(config_sip_listen_parse(" UDP:[::1]:5062 , Tcp:127.0.0.1:5063 ,", l, CONFIG_SIP_LISTEN_MAX,
						 &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].host, "::1");
	assert_int_equal(l[0].port, 5062);

	assert_int_equal(config_sip_listen_parse("", l, CONFIG_SIP_LISTEN_MAX, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);

	static const char *const bad[] = {
		"127.0.0.1:5060",          /* no transport */
		"tls:127.0.0.1:5061",      /* not served */
		"udp:pbx.example:5060",    /* a name: libre binds literals */
		"udp:127.0.0.1",           /* no port */
		"udp:127.0.0.1:70000",
		"udp:::1:5060",            /* IPv6 without brackets */
		"udp:",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(config_sip_listen_parse(bad[i], l, CONFIG_SIP_LISTEN_MAX, &n, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "udp:ADDRESS:PORT"));
	}
	assert_int_equal(config_sip_listen_parse("udp:1.1.1.1:1,udp:1.1.1.1:2,udp:1.1.1.1:3", l, 2, &n, NULL, 0),
			 -E2BIG);
}

static void test_keys(void **state)
{
	struct aurid_config cfg;
	char err[300];

	(void)state;
	config_defaults(&cfg);
	assert_string_equal(cfg.sip_listen, "udp:0.0.0.0:5060,tcp:0.0.0.0:5060");
	assert_int_equal(cfg.sip_server_transport, CONFIG_SIP_UDP);
	assert_false(cfg.account_enable);
	assert_int_equal(cfg.account_expires, 3600);
	assert_int_equal(cfg.sip_udp_transactions, 4096);
	assert_true(cfg.sip_trust_ctrl);

	assert_int_equal(config_set(&cfg, "account.1.sip_server.1.transport", "TCP", err, sizeof(err)), 0);
	assert_int_equal(cfg.sip_server_transport, CONFIG_SIP_TCP);
	assert_int_equal(config_set(&cfg, "account.1.sip_server.1.transport", "tls", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "account.1.sip_server.1.transport"));
	assert_int_equal(config_set(&cfg, "aurid.sip.listen", "udp:host:5060", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "aurid.sip.listen"));
	assert_int_equal(config_set(&cfg, "account.1.expires", "10", err, sizeof(err)), -EINVAL);
	assert_int_equal(config_set(&cfg, "account.1.outbound_proxy.1.address", "proxy.example", err, sizeof(err)), 0);
	assert_string_equal(cfg.outbound_proxy_address, "proxy.example");
}

struct seen {
	int password, proxy, consent, transport, listen;
	char transport_value[16];
};

static int collect(void *arg, const char *key, const char *value)
{
	struct seen *s = arg;

	s->password += strcmp(key, "account.1.password") == 0;
	s->proxy += strcmp(key, "account.1.outbound_proxy.1.address") == 0;
	s->consent += strcmp(key, "aurid.consent.timeout") == 0;
	s->listen += strcmp(key, "aurid.sip.listen") == 0;
	if (strcmp(key, "account.1.sip_server.1.transport") == 0) {
		s->transport++;
		snprintf(s->transport_value, sizeof(s->transport_value), "%s", value);
	}
	return 0;
}

static void test_slices(void **state)
{
	struct aurid_config cfg;
	struct seen sip = { 0 }, exec = { 0 }, http = { 0 }, sup = { 0 };
	char err[200];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "account.1.sip_server.1.transport", "tcp", err, sizeof(err)), 0);
	assert_int_equal(config_foreach(&cfg, IPC_ROLE_SIP, collect, &sip), 0);
	assert_int_equal(config_foreach(&cfg, IPC_ROLE_EXEC, collect, &exec), 0);
	assert_int_equal(config_foreach(&cfg, IPC_ROLE_HTTP, collect, &http), 0);
	assert_int_equal(config_foreach(&cfg, IPC_ROLE_SUPERVISOR, collect, &sup), 0);
	/* The SIP password goes to aurid-sip and nowhere else. */
	assert_int_equal(sip.password, 1);
	assert_int_equal(exec.password + http.password + sup.password, 0);
	assert_int_equal(sip.proxy, 1);
	assert_int_equal(exec.proxy, 1);
	assert_int_equal(http.proxy, 0);
	/* aurid-sip warns when a NOTIFY cannot wait as long as the prompt. */
	assert_int_equal(sip.consent, 1);
	assert_int_equal(sip.listen, 1);
	assert_int_equal(sup.listen, 1);
	/* The value travels as text and parses back the same. */
	assert_int_equal(sip.transport, 1);
	assert_string_equal(sip.transport_value, "tcp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_slices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
