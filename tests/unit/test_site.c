/* site: the Host/Origin grammar (http_host) and the cross-site and rebinding verdicts. */
#include "services/common/config.h"
#include "services/common/http_host.h"
#include "services/exec/site.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* ---- http_host_parse ---- */

static const struct {
	const char *text;
	int with_port;
	enum http_host_kind kind;
	const char *canonical;   /* NAME: the name; addresses: inet_ntop of the result */
} good_hosts[] = {
	{ "127.0.0.1", 1, HTTP_HOST_IPV4, "127.0.0.1" },
	{ "127.0.0.1:8080", 1, HTTP_HOST_IPV4, "127.0.0.1" },
	{ "127.0.0.1:", 1, HTTP_HOST_IPV4, "127.0.0.1" },   /* RFC 3986: empty port */
	{ "[::1]", 1, HTTP_HOST_IPV6, "::1" },
	{ "[::1]:80", 1, HTTP_HOST_IPV6, "::1" },
	{ "[FE80::1%25eth0]:80", 1, HTTP_HOST_IPV6, "fe80::1" },
	{ "[::ffff:10.1.2.3]:80", 1, HTTP_HOST_IPV4, "10.1.2.3" },
	{ "Phone.Example", 1, HTTP_HOST_NAME, "phone.example" },
	{ "phone.example.:443", 1, HTTP_HOST_NAME, "phone.example" },
	{ "localhost:1234", 1, HTTP_HOST_NAME, "localhost" },
	{ "my_phone-2.lan", 1, HTTP_HOST_NAME, "my_phone-2.lan" },
	{ "127.1", 1, HTTP_HOST_NAME, "127.1" },   /* not a dotted quad: a name, which nothing lists */
	{ "2001:db8::7", 0, HTTP_HOST_IPV6, "2001:db8::7" },
	{ "[2001:db8::7]", 0, HTTP_HOST_IPV6, "2001:db8::7" },
	{ "203.0.113.7", 0, HTTP_HOST_IPV4, "203.0.113.7" },
	{ "PHONE", 0, HTTP_HOST_NAME, "phone" },
};

static const struct {
	const char *text;
	int with_port;
} bad_hosts[] = {
	{ "", 1 }, { ":80", 1 }, { ".", 1 }, { "a..b", 1 }, { ".a", 1 }, { "a.b..", 1 },
	{ "::1", 1 },                    /* IPv6 in Host needs brackets */
	{ "[::1", 1 }, { "[::1]x", 1 }, { "[::1]:", 0 }, { "[::1]:80", 0 }, { "[]", 1 }, { "[zz::1]", 1 },
	{ "host:80:80", 1 }, { "host:8o", 1 }, { "host:65536", 1 }, { "host:123456", 1 },
	{ "host:80", 0 },                /* no port in a config entry */
	{ "evil.example/x", 1 }, { "a b", 1 }, { "evil\"x", 1 }, { "a@b", 1 },
};

static void canonical(const struct http_host *h, char *out, size_t len)
{
	if (h->kind == HTTP_HOST_NAME)
		snprintf(out, len, "%s", h->name);
	else
		inet_ntop(h->kind == HTTP_HOST_IPV4 ? AF_INET : AF_INET6, h->addr, out, (socklen_t)len);
}

static void test_host_parse_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_hosts) / sizeof(good_hosts[0]); i++) {
		struct http_host h;
		char text[300];

		if (http_host_parse(good_hosts[i].text, strlen(good_hosts[i].text), good_hosts[i].with_port, &h) != 0)
			fail_msg("'%s' did not parse", good_hosts[i].text);
		canonical(&h, text, sizeof(text));
		if (h.kind != good_hosts[i].kind || strcmp(text, good_hosts[i].canonical) != 0)
			fail_msg("'%s': kind %d '%s'", good_hosts[i].text, h.kind, text);
	}
}

static void test_host_parse_bad(void **state)
{
	char longname[300];
	struct http_host h;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++)
		if (http_host_parse(bad_hosts[i].text, strlen(bad_hosts[i].text), bad_hosts[i].with_port, &h) !=
		    -EINVAL)
			fail_msg("'%s' parsed", bad_hosts[i].text);
	/* Longer than a DNS name can be. */
	memset(longname, 'a', 254);
	longname[254] = '\0';
	assert_int_equal(http_host_parse(longname, 254, true, &h), -EINVAL);
	assert_int_equal(http_host_parse(longname, 253, true, &h), 0);
	/* The length is the caller's: a NUL or what follows len is not read. */
	assert_int_equal(http_host_parse("phone\0evil", 10, true, &h), -EINVAL);
	assert_int_equal(http_host_parse("phone:80", 5, false, &h), 0);
	assert_string_equal(h.name, "phone");
}

static void test_host_list_check(void **state)
{
	char bad[64];

	(void)state;
	assert_int_equal(http_host_list_check("", bad, sizeof(bad)), 0);
	assert_int_equal(http_host_list_check(" phone.example , 203.0.113.7,[2001:db8::7], ,fd00::1 ", bad,
					      sizeof(bad)), 0);
	assert_int_equal(http_host_list_check("phone.example, phone.example:80", bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "phone.example:80");
	assert_int_equal(http_host_list_check("ok, bad name", bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "bad name");
}

static void test_config_key(void **state)
{
	struct aurid_config cfg;
	char err[256];

	(void)state;
	config_defaults(&cfg);
	assert_string_equal(cfg.server_names, "");
	assert_int_equal(config_set(&cfg, "aurid.http.server_names", "phone.example, 10.0.0.5", err, sizeof(err)), 0);
	assert_string_equal(cfg.server_names, "phone.example, 10.0.0.5");
	assert_int_equal(config_set(&cfg, "aurid.http.server_names", "http://phone.example", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "aurid.http.server_names"));
	assert_non_null(strstr(err, "http://phone.example"));
	assert_string_equal(cfg.server_names, "phone.example, 10.0.0.5");
}

/* ---- site_check ---- */

static void req_init(struct ipc_action_req *r, const char *host, const char *local)
{
	memset(r, 0, sizeof(*r));
	r->transport = IPC_TRANSPORT_HTTP;
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->local, sizeof(r->local), "%s", local);
}

static enum site_verdict host_verdict(const char *names, const char *host, const char *local)
{
	struct ipc_action_req r;

	req_init(&r, host, local);
	return site_check(names, &r);
}

static void test_host_rule(void **state)
{
	(void)state;
	/* The address the client reached, with or without the port. */
	assert_int_equal(host_verdict("", "127.0.0.1:8080", "127.0.0.1"), SITE_OK);
	assert_int_equal(host_verdict("", "10.0.0.5", "10.0.0.5"), SITE_OK);
	assert_int_equal(host_verdict("", "[2001:db8::5]:80", "2001:db8::5"), SITE_OK);
	assert_int_equal(host_verdict("", "[::ffff:10.0.0.5]", "10.0.0.5"), SITE_OK);
	/* Another address, even one of the phone's own, or a name: refused. */
	assert_int_equal(host_verdict("", "10.0.0.6", "10.0.0.5"), SITE_FOREIGN_HOST);
	assert_int_equal(host_verdict("", "0.0.0.0:80", "127.0.0.1"), SITE_FOREIGN_HOST);
	assert_int_equal(host_verdict("", "evil.example", "10.0.0.5"), SITE_FOREIGN_HOST);
	assert_int_equal(host_verdict("", "10.0.0.5.evil.example", "10.0.0.5"), SITE_FOREIGN_HOST);
	assert_int_equal(host_verdict("", "::1", "::1"), SITE_FOREIGN_HOST);   /* not in brackets */
	assert_int_equal(host_verdict("", "10.0.0.5:80:80", "10.0.0.5"), SITE_FOREIGN_HOST);
	/* A front-end that reports no local address matches only the list. */
	assert_int_equal(host_verdict("", "10.0.0.5", ""), SITE_FOREIGN_HOST);
	assert_int_equal(host_verdict("10.0.0.5", "10.0.0.5", ""), SITE_OK);
	/* aurid.http.server_names: names (any case, a trailing dot) and addresses (NAT). */
	assert_int_equal(host_verdict("phone.example, 203.0.113.7", "PHONE.example.:8080", "10.0.0.5"), SITE_OK);
	assert_int_equal(host_verdict("phone.example, 203.0.113.7", "203.0.113.7:8080", "10.0.0.5"), SITE_OK);
	assert_int_equal(host_verdict("phone.example, 203.0.113.7", "phone.example.evil", "10.0.0.5"),
			 SITE_FOREIGN_HOST);
	assert_int_equal(host_verdict("phone.example", "evil.phone.example", "10.0.0.5"), SITE_FOREIGN_HOST);
	assert_int_equal(host_verdict("2001:db8::7", "[2001:db8::7]", "10.0.0.5"), SITE_OK);
	/* localhost: only on a loopback connection. */
	assert_int_equal(host_verdict("", "localhost:8080", "127.0.0.1"), SITE_OK);
	assert_int_equal(host_verdict("", "localhost", "::1"), SITE_OK);
	assert_int_equal(host_verdict("", "localhost", "10.0.0.5"), SITE_FOREIGN_HOST);
	assert_int_equal(host_verdict("", "evil.localhost", "127.0.0.1"), SITE_FOREIGN_HOST);
}

static void test_missing_host(void **state)
{
	struct ipc_action_req r;

	(void)state;
	req_init(&r, "", "10.0.0.5");
	assert_int_equal(site_check("", &r), SITE_NO_HOST);
	r.flags = IPC_REQ_HTTP_1_0;
	assert_int_equal(site_check("", &r), SITE_OK);
	/* The HTTP/1.0 leniency is for Host only: a foreign one is still refused. */
	snprintf(r.host, sizeof(r.host), "evil.example");
	assert_int_equal(site_check("", &r), SITE_FOREIGN_HOST);
	/* SIP is not HTTP: no Host, no check. */
	req_init(&r, "", "");
	r.transport = IPC_TRANSPORT_SIP;
	assert_int_equal(site_check("", &r), SITE_OK);
	/* HTTPS is. */
	r.transport = IPC_TRANSPORT_HTTPS;
	assert_int_equal(site_check("", &r), SITE_NO_HOST);
}

static enum site_verdict origin_verdict(const char *names, const char *origin)
{
	struct ipc_action_req r;

	req_init(&r, "10.0.0.5", "10.0.0.5");
	snprintf(r.origin, sizeof(r.origin), "%s", origin);
	return site_check(names, &r);
}

static void test_origin_rule(void **state)
{
	(void)state;
	assert_int_equal(origin_verdict("", ""), SITE_OK);
	assert_int_equal(origin_verdict("", "http://10.0.0.5"), SITE_OK);
	assert_int_equal(origin_verdict("", "https://10.0.0.5:8443"), SITE_OK);
	assert_int_equal(origin_verdict("", "HTTP://10.0.0.5:80"), SITE_OK);
	assert_int_equal(origin_verdict("phone.example", "https://phone.example"), SITE_OK);
	assert_int_equal(origin_verdict("", "http://evil.example"), SITE_FOREIGN_ORIGIN);
	assert_int_equal(origin_verdict("", "http://10.0.0.6"), SITE_FOREIGN_ORIGIN);
	assert_int_equal(origin_verdict("", "null"), SITE_FOREIGN_ORIGIN);
	assert_int_equal(origin_verdict("", "file://"), SITE_FOREIGN_ORIGIN);
	assert_int_equal(origin_verdict("", "ftp://10.0.0.5"), SITE_FOREIGN_ORIGIN);
	assert_int_equal(origin_verdict("", "http://10.0.0.5/path"), SITE_FOREIGN_ORIGIN);
	assert_int_equal(origin_verdict("", "http://10.0.0.5.evil.example"), SITE_FOREIGN_ORIGIN);
	assert_int_equal(origin_verdict("", "http://user@10.0.0.5"), SITE_FOREIGN_ORIGIN);
	assert_int_equal(origin_verdict("", "10.0.0.5"), SITE_FOREIGN_ORIGIN);
}

static enum site_verdict fetch_verdict(const char *site, const char *mode, const char *dest)
{
	struct ipc_action_req r;

	req_init(&r, "10.0.0.5", "10.0.0.5");
	snprintf(r.fetch_site, sizeof(r.fetch_site), "%s", site);
	snprintf(r.fetch_mode, sizeof(r.fetch_mode), "%s", mode);
	snprintf(r.fetch_dest, sizeof(r.fetch_dest), "%s", dest);
	return site_check("", &r);
}

static void test_fetch_metadata(void **state)
{
	(void)state;
	/* What a cross-site page can make a browser send, and the user's click. */
	assert_int_equal(fetch_verdict("cross-site", "no-cors", "image"), SITE_CROSS_SITE);
	assert_int_equal(fetch_verdict("cross-site", "navigate", "iframe"), SITE_CROSS_SITE);
	assert_int_equal(fetch_verdict("cross-site", "navigate", "frame"), SITE_CROSS_SITE);
	assert_int_equal(fetch_verdict("cross-site", "navigate", "object"), SITE_CROSS_SITE);
	assert_int_equal(fetch_verdict("cross-site", "navigate", ""), SITE_CROSS_SITE);
	assert_int_equal(fetch_verdict("cross-site", "cors", "empty"), SITE_CROSS_SITE);
	assert_int_equal(fetch_verdict("cross-site", "no-cors", "script"), SITE_CROSS_SITE);
	assert_int_equal(fetch_verdict("cross-site", "", "document"), SITE_CROSS_SITE);
	assert_int_equal(fetch_verdict("cross-site", "navigate", "document"), SITE_OK);
	assert_int_equal(fetch_verdict("Cross-Site", "Navigate", "Document"), SITE_OK);
	/* Not cross-site, or a client that sends no fetch metadata (curl, a PBX). */
	assert_int_equal(fetch_verdict("same-origin", "no-cors", "image"), SITE_OK);
	assert_int_equal(fetch_verdict("none", "navigate", "document"), SITE_OK);
	assert_int_equal(fetch_verdict("", "", ""), SITE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_parse_good),
		cmocka_unit_test(test_host_parse_bad),
		cmocka_unit_test(test_host_list_check),
		cmocka_unit_test(test_config_key),
		cmocka_unit_test(test_host_rule),
		cmocka_unit_test(test_missing_host),
		cmocka_unit_test(test_origin_rule),
		cmocka_unit_test(test_fetch_metadata),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
