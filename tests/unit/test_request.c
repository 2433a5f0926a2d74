/*
 * The executor's reading of an action request (services/exec/request.c):
 * the channel rule for every transport on every front-end channel, and the
 * executor's own parse of the text, whatever the front-end put in the
 * fields it is not trusted with.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "services/exec/request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static struct ipc_action_req req;

static void http_req(const char *method, const char *target)
{
	memset(&req, 0, sizeof(req));
	req.transport = IPC_TRANSPORT_HTTP;
	req.kind = IPC_KIND_ACTION;
	snprintf(req.method, sizeof(req.method), "%s", method);
	snprintf(req.text, sizeof(req.text), "%s", target);
}

static void sip_req(const char *body)
{
	memset(&req, 0, sizeof(req));
	req.transport = IPC_TRANSPORT_SIP;
	req.kind = IPC_KIND_ACTION;
	snprintf(req.method, sizeof(req.method), "NOTIFY");
	snprintf(req.text, sizeof(req.text), "%s", body);
}

static void test_transport_must_be_the_channels(void **state)
{
	static const struct {
		enum ipc_role role;
		unsigned transport;
		int want;
	} cases[] = {
		{ IPC_ROLE_HTTP, IPC_TRANSPORT_HTTP, 0 },
		{ IPC_ROLE_HTTP, IPC_TRANSPORT_HTTPS, 0 },
		{ IPC_ROLE_HTTP, IPC_TRANSPORT_SIP, -EPROTO },
		{ IPC_ROLE_HTTP, 0, -EPROTO },
		{ IPC_ROLE_HTTP, 200, -EPROTO },
		{ IPC_ROLE_SIP, IPC_TRANSPORT_SIP, 0 },
		{ IPC_ROLE_SIP, IPC_TRANSPORT_HTTP, -EPROTO },
		{ IPC_ROLE_SIP, IPC_TRANSPORT_HTTPS, -EPROTO },
		{ IPC_ROLE_ADMIN, IPC_TRANSPORT_HTTP, -EPROTO },
		{ IPC_ROLE_SUPERVISOR, IPC_TRANSPORT_SIP, -EPROTO },
	};
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		http_req("GET", "/servlet?key=OK");
		req.transport = (uint8_t)cases[i].transport;
		why = NULL;
		assert_int_equal(request_channel_check(cases[i].role, &req, &why), cases[i].want);
		if (cases[i].want)
			assert_non_null(why);
	}
}

static void test_claims_the_channel_cannot_carry(void **state)
{
	const char *why;

	(void)state;
	/* http: no SIP flags, no legacy login claim. */
	http_req("GET", "/servlet?key=OK");
	req.flags = IPC_REQ_SIP_REGISTERED_FLOW;
	assert_int_equal(request_channel_check(IPC_ROLE_HTTP, &req, &why), -EPROTO);
	http_req("GET", "/servlet?key=OK");
	req.auth_scheme = IPC_AUTH_LEGACY;
	assert_int_equal(request_channel_check(IPC_ROLE_HTTP, &req, &why), -EPROTO);
	http_req("GET", "/servlet?key=OK");
	req.auth_scheme = IPC_AUTH_BASIC;
	req.flags = IPC_REQ_HTTP_1_0;
	strcpy(req.host, "phone");
	assert_int_equal(request_channel_check(IPC_ROLE_HTTP, &req, &why), 0);
	/* sip: the registered flow only, no credentials, no screenshot. */
	sip_req("key=OK");
	req.flags = IPC_REQ_SIP_REGISTERED_FLOW;
	assert_int_equal(request_channel_check(IPC_ROLE_SIP, &req, &why), 0);
	req.flags = 0x80;
	assert_int_equal(request_channel_check(IPC_ROLE_SIP, &req, &why), -EPROTO);
	sip_req("key=OK");
	req.auth_scheme = IPC_AUTH_BASIC;
	assert_int_equal(request_channel_check(IPC_ROLE_SIP, &req, &why), -EPROTO);
	sip_req("key=OK");
	strcpy(req.user, "admin");
	assert_int_equal(request_channel_check(IPC_ROLE_SIP, &req, &why), -EPROTO);
	sip_req("key=OK");
	req.kind = IPC_KIND_SCREENSHOT;
	assert_int_equal(request_channel_check(IPC_ROLE_SIP, &req, &why), -EPROTO);
	sip_req("key=OK");
	req.flags = IPC_REQ_HTTP_1_0;
	assert_int_equal(request_channel_check(IPC_ROLE_SIP, &req, &why), -EPROTO);
	sip_req("key=OK");
	strcpy(req.host, "phone");
	assert_int_equal(request_channel_check(IPC_ROLE_SIP, &req, &why), -EPROTO);
}

static void test_items_are_the_executors_own_parse(void **state)
{
	(void)state;
	http_req("GET", "/servlet?key=OK;F_HOLD&wait=250#frag");
	/* Whatever arrived in the fields that are not on the wire. */
	req.nitems = 3;
	req.items[0].op = OP_REBOOT;
	req.wait_ms = 60000;
	strcpy(req.request, "GET /servlet?key=OK");
	request_read(&req);
	assert_int_equal(req.front_status, 0);
	assert_int_equal(req.nitems, 2);
	assert_int_equal(req.items[0].op, OP_KEY);
	assert_string_equal(req.items[0].arg, "OK");
	assert_string_equal(req.items[1].arg, "F_HOLD");
	assert_int_equal(req.wait_ms, 250);
	assert_string_equal(req.request, "GET /servlet?key=OK;F_HOLD&wait=250#frag");
}

static void test_no_password_is_echoed(void **state)
{
	(void)state;
	http_req("GET", "http://admin:s3cret@phone/servlet?key=number=sip:1006:s3cret@pbx");
	request_read(&req);
	assert_int_equal(req.front_status, 0);
	assert_int_equal(req.nitems, 1);
	assert_int_equal(req.items[0].op, OP_DIAL);
	/* The call still goes to what was asked... */
	assert_string_equal(req.items[0].arg, "sip:1006:s3cret@pbx");
	/* ...but neither the audit's text nor the echoed item holds the password. */
	assert_string_equal(req.request, "GET http://admin:***@phone/servlet?key=number=sip:1006:***@pbx");
	assert_string_equal(req.items[0].text, "number=sip:1006:***@pbx");
}

static void test_refusals_keep_their_status(void **state)
{
	static char big[IPC_TEXT_MAX + 1];

	(void)state;
	http_req("GET", "/servlet?key=NOSUCHKEY");
	request_read(&req);
	assert_int_equal(req.front_status, 400);
	assert_int_equal(req.nitems, 0);
	assert_true(strstr(req.error, "NOSUCHKEY") != NULL);
	http_req("GET", "/servlet");
	request_read(&req);
	assert_int_equal(req.front_status, 400);
	/* A query over ACTION_TEXT_MAX is 414 over HTTP, a body 413 over SIP. */
	memset(big, 'a', 3000);
	memcpy(big, "/servlet?key=OK&x=", 18);
	big[3000] = '\0';
	http_req("GET", big);
	request_read(&req);
	assert_int_equal(req.front_status, 414);
	sip_req(big + 9);
	request_read(&req);
	assert_int_equal(req.front_status, 413);
	/* What the front-end already refused is left as it is. */
	http_req("GET", "/servlet?key=OK");
	req.front_status = 431;
	strcpy(req.error, "header field Accept too large");
	request_read(&req);
	assert_int_equal(req.front_status, 431);
	assert_int_equal(req.nitems, 0);
}

static void test_legacy_login_is_found_not_claimed(void **state)
{
	(void)state;
	http_req("GET", "/servlet?p=login&q=login&username=admin&pwd=s3cret&jumpto=status&key=OK");
	request_read(&req);
	assert_int_equal(req.front_status, 0);
	assert_int_equal(req.auth_scheme, IPC_AUTH_LEGACY);
	assert_string_equal(req.user, "admin");
	assert_string_equal(req.password, "s3cret");
	assert_null(strstr(req.request, "s3cret"));
	/* Presented credentials win over the prefix. */
	http_req("GET", "/servlet?p=login&q=login&username=admin&pwd=s3cret&jumpto=status&key=OK");
	req.auth_scheme = IPC_AUTH_BASIC;
	strcpy(req.user, "alice");
	request_read(&req);
	assert_int_equal(req.auth_scheme, IPC_AUTH_BASIC);
	assert_string_equal(req.user, "alice");
	/* SIP has no web login: the prefix is ignored, no password kept. */
	sip_req("p=login&q=login&username=admin&pwd=s3cret&jumpto=status&key=OK");
	request_read(&req);
	assert_int_equal(req.front_status, 0);
	assert_int_equal(req.auth_scheme, IPC_AUTH_NONE);
	assert_string_equal(req.password, "");
	assert_null(strstr(req.request, "s3cret"));
	assert_int_equal(strncmp(req.request, "NOTIFY ", 7), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transport_must_be_the_channels),
		cmocka_unit_test(test_claims_the_channel_cannot_carry),
		cmocka_unit_test(test_items_are_the_executors_own_parse),
		cmocka_unit_test(test_no_password_is_echoed),
		cmocka_unit_test(test_refusals_keep_their_status),
		cmocka_unit_test(test_legacy_login_is_found_not_claimed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
