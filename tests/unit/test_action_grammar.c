/*
 * The action language (DESIGN.md section 5): what a client's query or a
 * PBX's NOTIFY body turns into.  Each test states the text as a client
 * would send it and checks the items the executor would receive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/common/action_grammar.h"

static struct action_request req;
static char err[256];

static int parse(const char *text)
{
	return action_parse(text, strlen(text), &req, err, sizeof(err));
}

/* Parses text, which must succeed, and checks the number of items. */
static void parse_ok(const char *text, size_t nitems)
{
	int rc = parse(text);

	if (rc != 0)
		fail_msg("'%s' failed: %d %s", text, rc, err);
	assert_int_equal(err[0], '\0');
	assert_int_equal(req.nitems, nitems);
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i])
			return false;
	}
	return true;
}

/* Parses text, which must fail with rc, leave nothing behind and say why. */
static void parse_bad(const char *text, int rc, const char *why)
{
	int got;

	memset(&req, 0xa5, sizeof(req));
	got = parse(text);
	if (got != rc)
		fail_msg("'%s': expected %d, got %d (%s)", text, rc, got, err);
	assert_true(err[0] != '\0');
	if (why && !strstr(err, why))
		fail_msg("'%s': error '%s' does not contain '%s'", text, err, why);
	assert_true(all_zero(&req, sizeof(req)));
}

static void assert_key(size_t i, const char *canon, const char *text)
{
	assert_true(i < req.nitems);
	assert_int_equal(req.items[i].op, OP_KEY);
	assert_string_equal(req.items[i].arg, canon);
	assert_string_equal(req.items[i].text, text);
	assert_string_equal(req.items[i].arg2, "");
}

/* ---- keys ---- */

static const char *const key_canon[] = {
	"OK", "ENTER", "SPEAKER", "F_TRANSFER", "VOLUME_UP", "VOLUME_DOWN", "MUTE", "F_HOLD", "X",
	"F_CONFERENCE", "F1", "F2", "F3", "F4", "MSG", "HEADSET", "RD", "UP", "DOWN", "LEFT", "RIGHT",
	"MENU",
};

static void lower(char *dst, const char *src)
{
	size_t i;

	for (i = 0; src[i]; i++)
		dst[i] = (char)((src[i] >= 'A' && src[i] <= 'Z') ? src[i] + 32 : src[i]);
	dst[i] = '\0';
}

static void test_every_key_name(void **state)
{
	char text[64], low[32];

	(void)state;
	for (size_t i = 0; i < sizeof(key_canon) / sizeof(key_canon[0]); i++) {
		snprintf(text, sizeof(text), "key=%s", key_canon[i]);
		parse_ok(text, 1);
		assert_key(0, key_canon[i], key_canon[i]);
		assert_int_equal(action_op_route(req.items[0].op), ROUTE_KEY);
		assert_int_equal(action_op_capability(req.items[0].op), CAP_KEYS);

		/* Matched case-insensitively; text keeps the spelling. */
		lower(low, key_canon[i]);
		snprintf(text, sizeof(text), "key=%s", low);
		parse_ok(text, 1);
		assert_key(0, key_canon[i], low);
	}
}

static void test_aliases(void **state)
{
	static const struct { const char *in, *canon; } cases[] = {
		{ "CANCEL", "X" }, { "Cancel", "X" }, { "cancel", "X" }, { "x", "X" },
		{ "HOLD", "F_HOLD" }, { "hold", "F_HOLD" },
		{ "POUND", "POUND" }, { "pound", "POUND" },
		{ "STAR", "STAR" }, { "Star", "STAR" },
		{ "*", "STAR" }, { "#", "POUND" },
	};
	char text[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "key=%s", cases[i].in);
		parse_ok(text, 1);
		assert_key(0, cases[i].canon, cases[i].in);
	}
}

static void test_digits_and_runs(void **state)
{
	char text[16];

	(void)state;
	for (char d = '0'; d <= '9'; d++) {
		char one[2] = { d, '\0' };

		snprintf(text, sizeof(text), "key=%c", d);
		parse_ok(text, 1);
		assert_key(0, one, one);
	}
	parse_ok("key=123", 3);
	assert_key(0, "1", "1");
	assert_key(1, "2", "2");
	assert_key(2, "3", "3");
	parse_ok("key=*5#", 3);
	assert_key(0, "STAR", "*");
	assert_key(1, "5", "5");
	assert_key(2, "POUND", "#");
	parse_ok("key=12;OK;#", 4);
	assert_key(2, "OK", "OK");
	assert_key(3, "POUND", "#");
	/* A run mixed with letters is not a run. */
	parse_bad("key=12A", -EINVAL, "unknown key '12A'");
	parse_bad("key=1 2", -EINVAL, "unknown key");
}

static void test_line_keys(void **state)
{
	(void)state;
	parse_ok("key=L1", 1);
	assert_key(0, "L1", "L1");
	parse_ok("key=l3", 1);
	assert_key(0, "L3", "l3");
	parse_ok("key=L29", 1);
	assert_key(0, "L29", "L29");
	parse_ok("key=L99", 1);
	assert_key(0, "L99", "L99");
	parse_bad("key=L0", -EINVAL, "unknown key 'L0'");
	parse_bad("key=L01", -EINVAL, "unknown key");
	parse_bad("key=L100", -EINVAL, "unknown key");
	parse_bad("key=L", -EINVAL, "unknown key");
	parse_bad("key=LX", -EINVAL, "unknown key");
	parse_bad("key=F5", -EINVAL, "unknown key 'F5'");
	parse_bad("key=F0", -EINVAL, "unknown key");
	parse_bad("key=D1", -EINVAL, "unknown key");
}

static void test_unknown_key_fails_whole_text(void **state)
{
	(void)state;
	parse_bad("key=FOO", -EINVAL, "unknown key 'FOO'");
	parse_bad("key=OK;FOO;F1", -EINVAL, "unknown key 'FOO'");
	parse_bad("key=OK;1;2;SWAP", -EINVAL, "unknown key 'SWAP'");
	parse_bad("key=OK;DIAL", -EINVAL, "unknown key");
	parse_bad("key=OK_", -EINVAL, "unknown key");
}

static void test_chain_and_trim(void **state)
{
	static const char *const seq[] = { "F1", "F3", "DOWN", "DOWN", "DOWN", "OK", "OK" };

	(void)state;
	parse_ok("key=F1;F3;DOWN;DOWN;DOWN;OK;OK", 7);
	for (size_t i = 0; i < 7; i++)
		assert_key(i, seq[i], seq[i]);
	parse_ok("key=ASW;MUTE", 2);
	assert_int_equal(req.items[0].op, OP_ANSWER);
	assert_key(1, "MUTE", "MUTE");

	parse_ok("key= OK ;\tF1 \r\n", 2);
	assert_key(0, "OK", "OK");
	assert_key(1, "F1", "F1");
	parse_ok("key=%20OK%0D%0A", 1);
	assert_key(0, "OK", "OK");
	parse_ok("key=OK;;F1;", 2);
	parse_ok("key=;OK", 1);
	/* A NOTIFY body ends with CRLF. */
	parse_ok("key=OK\r\n", 1);
	assert_key(0, "OK", "OK");
}

static void test_empty_key(void **state)
{
	(void)state;
	parse_bad("key=", -EINVAL, "empty key");
	parse_bad("key", -EINVAL, "empty key");
	parse_bad("key=;;", -EINVAL, "empty key");
	parse_bad("key= ; \t;", -EINVAL, "empty key");
	parse_bad("key=%20", -EINVAL, "empty key");
}

/* ---- parameters ---- */

static void test_param_name_case(void **state)
{
	(void)state;
	parse_ok("Key=OK", 1);
	assert_key(0, "OK", "OK");
	parse_ok("KEY=ok", 1);
	assert_key(0, "OK", "ok");
	parse_ok("%6Bey=OK", 1);
	parse_ok("NUMBER=123", 1);
	assert_int_equal(req.items[0].op, OP_DIAL);
	assert_string_equal(req.items[0].text, "NUMBER=123");
	parse_ok("PhoneCfg=GET", 1);
	assert_int_equal(req.items[0].op, OP_PHONECFG_GET);
}

static void test_trailing_and_empty_params(void **state)
{
	(void)state;
	parse_ok("key=OK&", 1);
	parse_ok("&&key=OK&&", 1);
	parse_ok("key=OK&&&", 1);
	parse_ok("key=OK&=&", 1);
}

static void test_unknown_params_ignored(void **state)
{
	(void)state;
	parse_ok("key=OK&foo=bar&x&Duration=100", 1);
	assert_key(0, "OK", "OK");
	parse_ok("Id=34&key=F1&Command=1", 1);
	assert_key(0, "F1", "F1");
	/* Ignored, so not checked either. */
	parse_ok("key=OK&foo=<script>", 1);
	/* accounts/dnd/fw only mean something next to phonecfg. */
	parse_ok("key=OK&dnd=yes", 1);
}

static void test_duplicates(void **state)
{
	(void)state;
	parse_bad("key=OK&key=F1", -EINVAL, "duplicate parameter 'key'");
	parse_bad("key=OK&Key=F1", -EINVAL, "duplicate");
	parse_bad("key=OK&KEY=", -EINVAL, "duplicate");
	parse_bad("number=1&number=2", -EINVAL, "duplicate parameter 'number'");
	parse_bad("number=1&outgoing_uri=a&outgoing_uri=b", -EINVAL, "duplicate");
	parse_bad("phonecfg=get&phonecfg=get", -EINVAL, "duplicate");
	parse_bad("phonecfg=get&dnd=1&dnd=0", -EINVAL, "duplicate");
	parse_bad("key=OK&wait=1&wait=2", -EINVAL, "duplicate");
	parse_bad("p=login&q=login&username=a&username=b&pwd=x&key=OK", -EINVAL, "duplicate parameter 'username'");
	/* Unknown parameters may repeat: they are not read. */
	parse_ok("key=OK&foo=1&foo=2", 1);
}

static void test_percent_decoding(void **state)
{
	(void)state;
	parse_ok("key=%23", 1);
	assert_key(0, "POUND", "#");
	parse_ok("key=%2A", 1);
	assert_key(0, "STAR", "*");
	parse_ok("key=1%232", 3);
	assert_key(1, "POUND", "#");
	parse_ok("key=%4F%4b", 1);
	assert_key(0, "OK", "OK");
	/* Decoded before the split on ';'. */
	parse_ok("key=OK%3BF1", 2);
	/* %3D is '=' inside the value: key=number=1234. */
	parse_ok("key=number%3D1234", 1);
	assert_int_equal(req.items[0].op, OP_DIAL);
	/* '+' is a plus, not a space. */
	parse_ok("key=number=+4930123", 1);
	assert_string_equal(req.items[0].arg, "+4930123");
	parse_ok("key=number=%2B4930123", 1);
	assert_string_equal(req.items[0].arg, "+4930123");

	parse_bad("key=%2", -EINVAL, "percent");
	parse_bad("key=%", -EINVAL, "percent");
	parse_bad("key=%G1", -EINVAL, "percent");
	parse_bad("key=%1G", -EINVAL, "percent");
	parse_bad("key=OK%00", -EINVAL, "percent");
	parse_bad("key=OK&foo=%zz", -EINVAL, "percent");
	parse_bad("k%ey=OK", -EINVAL, "percent");
	/* %26 does not split parameters: it is a '&' inside the number. */
	parse_bad("number=1%262", -EINVAL, "bad number");
}

static void test_percent_decode_direct(void **state)
{
	char out[8];
	size_t n = 99;

	(void)state;
	assert_int_equal(action_percent_decode("a%41+%7e", 8, out, sizeof(out), &n), 0);
	assert_string_equal(out, "aA+~");
	assert_int_equal(n, 4);
	assert_int_equal(action_percent_decode("", 0, out, sizeof(out), &n), 0);
	assert_string_equal(out, "");
	assert_int_equal(n, 0);
	assert_int_equal(action_percent_decode("1234567", 7, out, sizeof(out), NULL), 0);
	assert_int_equal(action_percent_decode("12345678", 8, out, sizeof(out), &n), -E2BIG);
	assert_int_equal(strlen(out), 7);
	assert_int_equal(action_percent_decode("ab%", 3, out, sizeof(out), &n), -EINVAL);
	assert_string_equal(out, "ab");
	assert_int_equal(action_percent_decode("%0", 2, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(action_percent_decode("%00", 3, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(action_percent_decode("a\0b", 3, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(action_percent_decode("%ff", 3, out, sizeof(out), &n), 0);
	assert_int_equal((unsigned char)out[0], 0xff);
	/* Only the given length is read: the escape is cut off. */
	assert_int_equal(action_percent_decode("%41", 2, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(action_percent_decode("x", 1, out, 0, &n), -EINVAL);
}

static void test_key_canonical_direct(void **state)
{
	char buf[ACTION_KEY_NAME_MAX];

	(void)state;
	assert_string_equal(action_key_canonical("cancel", buf, sizeof(buf)), "X");
	assert_string_equal(action_key_canonical("#", buf, sizeof(buf)), "POUND");
	assert_string_equal(action_key_canonical("*", buf, sizeof(buf)), "STAR");
	assert_string_equal(action_key_canonical("hold", buf, sizeof(buf)), "F_HOLD");
	assert_string_equal(action_key_canonical("l3", buf, sizeof(buf)), "L3");
	assert_string_equal(action_key_canonical("f_conference", buf, sizeof(buf)), "F_CONFERENCE");
	assert_string_equal(action_key_canonical("7", buf, sizeof(buf)), "7");
	assert_ptr_equal(action_key_canonical("ok", buf, sizeof(buf)), buf);
	assert_null(action_key_canonical("FOO", buf, sizeof(buf)));
	assert_null(action_key_canonical("123", buf, sizeof(buf)));
	assert_null(action_key_canonical("", buf, sizeof(buf)));
	assert_null(action_key_canonical("ASW", buf, sizeof(buf)));
	assert_null(action_key_canonical("OK", buf, 2));
	assert_string_equal(action_key_canonical("OK", buf, 3), "OK");
	/* Every canonical name maps to itself and fits the documented size. */
	for (size_t i = 0; i < sizeof(key_canon) / sizeof(key_canon[0]); i++)
		assert_string_equal(action_key_canonical(key_canon[i], buf, sizeof(buf)), key_canon[i]);
	assert_string_equal(action_key_canonical("STAR", buf, sizeof(buf)), "STAR");
	assert_string_equal(action_key_canonical("POUND", buf, sizeof(buf)), "POUND");
}

/* ---- call operations ---- */

static void test_dial(void **state)
{
	(void)state;
	/* The documented example: '&' splits it, outgoing_uri attaches. */
	parse_ok("key=number=1234&outgoing_uri=1006@10.2.1.48", 1);
	assert_int_equal(req.items[0].op, OP_DIAL);
	assert_string_equal(req.items[0].arg, "1234");
	assert_string_equal(req.items[0].arg2, "1006@10.2.1.48");
	assert_string_equal(req.items[0].text, "number=1234");
	assert_int_equal(action_op_route(OP_DIAL), ROUTE_CALL);
	assert_int_equal(action_op_capability(OP_DIAL), CAP_DIAL);

	/* Keyless, as in a NOTIFY body. */
	parse_ok("number=123&outgoing_uri=sip:b@127.0.0.1:5080", 1);
	assert_int_equal(req.items[0].op, OP_DIAL);
	assert_string_equal(req.items[0].arg, "123");
	assert_string_equal(req.items[0].arg2, "sip:b@127.0.0.1:5080");
	assert_string_equal(req.items[0].text, "number=123");
	parse_ok("number=sip:b@127.0.0.1:5080\r\n", 1);
	assert_string_equal(req.items[0].arg, "sip:b@127.0.0.1:5080");
	assert_string_equal(req.items[0].arg2, "");
	parse_ok("outgoing_uri=100@pbx&number=200", 1);
	assert_string_equal(req.items[0].arg2, "100@pbx");
	parse_ok("number=1&outgoing_uri=sip:1@[2001:db8::1]:5060", 1);
	assert_string_equal(req.items[0].arg2, "sip:1@[2001:db8::1]:5060");
	parse_ok("key=Number=*67#", 1);
	assert_string_equal(req.items[0].arg, "*67#");

	/* key= and number= together: items in the order written. */
	parse_ok("key=OK&number=123", 2);
	assert_key(0, "OK", "OK");
	assert_int_equal(req.items[1].op, OP_DIAL);
	parse_ok("key=number=1;OK", 2);
	assert_int_equal(req.items[0].op, OP_DIAL);
	assert_key(1, "OK", "OK");
}

static void test_dial_errors(void **state)
{
	char text[400];

	(void)state;
	parse_bad("key=number=", -EINVAL, "bad number");
	parse_bad("number=", -EINVAL, "bad number");
	parse_bad("number=1%202", -EINVAL, "bad number");
	parse_bad("number=1%3C2", -EINVAL, "bad number");
	parse_bad("number=1%3E2", -EINVAL, "bad number");
	parse_bad("number=a%22b", -EINVAL, "bad number");
	parse_bad("number=a'b", -EINVAL, "bad number");
	parse_bad("number=a%5Cb", -EINVAL, "bad number");
	parse_bad("number=a%3Bb", -EINVAL, "bad number");
	parse_bad("number=a%09b", -EINVAL, "bad number");
	parse_bad("number=a%7Fb", -EINVAL, "bad number");
	parse_bad("number=a%C3%A9", -EINVAL, "bad number");
	parse_bad("key=number=1%3Cscript", -EINVAL, "bad number");
	parse_bad("key=OK&outgoing_uri=1006@pbx", -EINVAL, "outgoing_uri without number");
	parse_bad("key=number=1;number=2&outgoing_uri=1006@pbx", -EINVAL, "more than one number");
	parse_bad("number=1&outgoing_uri=", -EINVAL, "bad outgoing_uri");
	parse_bad("number=1&outgoing_uri=a%20b", -EINVAL, "bad outgoing_uri");

	/* outgoing_uri: 127 bytes fit, 128 do not. */
	snprintf(text, sizeof(text), "number=1&outgoing_uri=%0127d", 0);
	parse_ok(text, 1);
	assert_int_equal(strlen(req.items[0].arg2), 127);
	snprintf(text, sizeof(text), "number=1&outgoing_uri=%0128d", 0);
	parse_bad(text, -EINVAL, "bad outgoing_uri");

	/* The item as written holds at most 63 bytes: "number=" + 56. */
	snprintf(text, sizeof(text), "key=number=%056d", 0);
	parse_ok(text, 1);
	assert_int_equal(strlen(req.items[0].text), 63);
	snprintf(text, sizeof(text), "key=number=%057d", 0);
	parse_bad(text, -EINVAL, "item too long");
	snprintf(text, sizeof(text), "number=%056d", 0);
	parse_ok(text, 1);
	snprintf(text, sizeof(text), "number=%057d", 0);
	parse_bad(text, -EINVAL, "item too long");
}

static void test_simple_call_ops(void **state)
{
	static const struct { const char *in; enum ipc_op op; uint32_t num; } cases[] = {
		{ "ANSWER", OP_ANSWER, 0 }, { "answer", OP_ANSWER, 0 },
		{ "ASW", OP_ANSWER, 0 }, { "asw", OP_ANSWER, 0 },
		{ "OFFHOOK", OP_OFFHOOK, 0 }, { "OffHook", OP_OFFHOOK, 0 },
		{ "ONHOOK", OP_ONHOOK, 0 },
		{ "CALLEND", OP_CALLEND, 0 }, { "CallEnd", OP_CALLEND, 0 },
		{ "UNHOLD", OP_UNHOLD, 0 },
		{ "DNDOn", OP_DND_ON, 0 }, { "dndon", OP_DND_ON, 0 },
		{ "DNDOff", OP_DND_OFF, 0 },
		{ "AlwaysFwdOff", OP_FWD_OFF, IPC_FWD_ALWAYS },
		{ "BusyFwdOff", OP_FWD_OFF, IPC_FWD_BUSY },
		{ "NoAnswFwdOff", OP_FWD_OFF, IPC_FWD_NOANSWER },
		{ "noanswfwdoff", OP_FWD_OFF, IPC_FWD_NOANSWER },
	};
	char text[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "key=%s", cases[i].in);
		parse_ok(text, 1);
		assert_int_equal(req.items[0].op, cases[i].op);
		assert_int_equal(req.items[0].num, cases[i].num);
		assert_string_equal(req.items[0].text, cases[i].in);
		assert_string_equal(req.items[0].arg, "");
		assert_int_equal(action_op_route(cases[i].op), ROUTE_CALL);
		assert_int_equal(action_op_capability(cases[i].op), CAP_CALL);
	}
}

static void test_id_ops(void **state)
{
	(void)state;
	parse_ok("key=ASW:33093", 1);
	assert_int_equal(req.items[0].op, OP_ANSWER_ID);
	assert_int_equal(req.items[0].num, 33093);
	assert_string_equal(req.items[0].text, "ASW:33093");
	parse_ok("key=CANCEL:5", 1);
	assert_int_equal(req.items[0].op, OP_CANCEL_ID);
	assert_int_equal(req.items[0].num, 5);
	parse_ok("key=hold:7", 1);
	assert_int_equal(req.items[0].op, OP_HOLD_ID);
	assert_int_equal(req.items[0].num, 7);
	parse_ok("key=UNHOLD:1", 1);
	assert_int_equal(req.items[0].op, OP_UNHOLD_ID);
	assert_int_equal(req.items[0].num, 1);
	parse_ok("key=HOLD:2147483647", 1);
	assert_int_equal(req.items[0].num, 2147483647u);

	/* The bare words are something else. */
	parse_ok("key=CANCEL", 1);
	assert_key(0, "X", "CANCEL");
	parse_ok("key=HOLD", 1);
	assert_key(0, "F_HOLD", "HOLD");
	parse_ok("key=UNHOLD", 1);
	assert_int_equal(req.items[0].op, OP_UNHOLD);

	parse_bad("key=HOLD:0", -EINVAL, "bad call id");
	parse_bad("key=HOLD:2147483648", -EINVAL, "bad call id");
	parse_bad("key=HOLD:99999999999", -EINVAL, "bad call id");
	parse_bad("key=HOLD:", -EINVAL, "bad call id");
	parse_bad("key=HOLD:x", -EINVAL, "bad call id");
	parse_bad("key=HOLD:-1", -EINVAL, "bad call id");
	parse_bad("key=HOLD:+1", -EINVAL, "bad call id");
	parse_bad("key=HOLD: 1", -EINVAL, "bad call id");
	parse_bad("key=HOLD:1:2", -EINVAL, "bad call id");
	parse_bad("key=OK:1", -EINVAL, "unknown key 'OK:1'");
	parse_bad("key=DNDOn:1", -EINVAL, "unknown key");
}

static void test_transfers(void **state)
{
	(void)state;
	parse_ok("key=ATrans=202", 1);
	assert_int_equal(req.items[0].op, OP_ATRANS);
	assert_string_equal(req.items[0].arg, "202");
	assert_int_equal(req.items[0].num, 0);
	parse_ok("key=BTrans=*5901", 1);
	assert_int_equal(req.items[0].op, OP_BTRANS);
	assert_string_equal(req.items[0].arg, "*5901");
	parse_ok("key=atrans=202:7", 1);
	assert_int_equal(req.items[0].op, OP_ATRANS);
	assert_string_equal(req.items[0].arg, "202");
	assert_int_equal(req.items[0].num, 7);
	assert_string_equal(req.items[0].text, "atrans=202:7");
	/* URIs keep their colons. */
	parse_ok("key=BTrans=sip:202@pbx:5060", 1);
	assert_string_equal(req.items[0].arg, "sip:202@pbx:5060");
	assert_int_equal(req.items[0].num, 0);
	parse_ok("key=BTrans=sip:202", 1);
	assert_string_equal(req.items[0].arg, "sip:202");
	parse_ok("key=BTrans=202@pbx:5060", 1);
	assert_string_equal(req.items[0].arg, "202@pbx:5060");
	assert_int_equal(action_op_capability(OP_ATRANS), CAP_CALL);

	parse_bad("key=ATrans=", -EINVAL, "bad transfer target");
	parse_bad("key=ATrans=:5", -EINVAL, "bad transfer target");
	parse_bad("key=ATrans=202:0", -EINVAL, "bad call id");
	parse_bad("key=ATrans=202:x", -EINVAL, "bad call id");
	parse_bad("key=ATrans=202:", -EINVAL, "bad call id");
	parse_bad("key=ATrans", -EINVAL, "missing '=value'");
	parse_bad("key=BTrans=2%3C3", -EINVAL, "bad transfer target");
}

static void test_forwards(void **state)
{
	(void)state;
	parse_ok("key=AlwaysFwdOn=1002", 1);
	assert_int_equal(req.items[0].op, OP_FWD_ON);
	assert_int_equal(req.items[0].num, IPC_FWD_ALWAYS);
	assert_string_equal(req.items[0].arg, "1002");
	assert_int_equal(req.items[0].num2, 0);
	parse_ok("key=BusyFwdOn=sip:1003@pbx", 1);
	assert_int_equal(req.items[0].num, IPC_FWD_BUSY);
	assert_string_equal(req.items[0].arg, "sip:1003@pbx");
	parse_ok("key=NoAnswFwdOn=1001=24", 1);
	assert_int_equal(req.items[0].op, OP_FWD_ON);
	assert_int_equal(req.items[0].num, IPC_FWD_NOANSWER);
	assert_string_equal(req.items[0].arg, "1001");
	assert_int_equal(req.items[0].num2, 24);
	assert_string_equal(req.items[0].text, "NoAnswFwdOn=1001=24");
	parse_ok("key=noanswfwdon=1001=0", 1);
	assert_int_equal(req.items[0].num2, 0);
	parse_ok("key=NoAnswFwdOn=1001=600", 1);
	assert_int_equal(req.items[0].num2, 600);
	assert_int_equal(action_op_capability(OP_FWD_ON), CAP_CALL);
	assert_int_equal(action_op_capability(OP_FWD_OFF), CAP_CALL);

	parse_bad("key=NoAnswFwdOn=1001=601", -EINVAL, "NoAnswFwdOn");
	parse_bad("key=NoAnswFwdOn=1001", -EINVAL, "NoAnswFwdOn");
	parse_bad("key=NoAnswFwdOn=1001=", -EINVAL, "NoAnswFwdOn");
	parse_bad("key=NoAnswFwdOn=1001=x", -EINVAL, "NoAnswFwdOn");
	parse_bad("key=NoAnswFwdOn==24", -EINVAL, "bad forward target");
	parse_bad("key=AlwaysFwdOn=", -EINVAL, "bad forward target");
	parse_bad("key=AlwaysFwdOn", -EINVAL, "missing '=value'");
	parse_bad("key=BusyFwdOn=a%22", -EINVAL, "bad forward target");
	parse_bad("key=AlwaysFwdOff=1", -EINVAL, "unknown key");
}

/* ---- read, system, reset ---- */

static void test_system_ops(void **state)
{
	(void)state;
	parse_ok("key=Reboot", 1);
	assert_int_equal(req.items[0].op, OP_REBOOT);
	assert_int_equal(action_op_route(OP_REBOOT), ROUTE_SYSTEM);
	assert_int_equal(action_op_capability(OP_REBOOT), CAP_SYSTEM);
	parse_ok("Key=REBOOT", 1);
	assert_int_equal(req.items[0].op, OP_REBOOT);
	parse_ok("key=AutoP", 1);
	assert_int_equal(req.items[0].op, OP_AUTOP);
	assert_int_equal(action_op_route(OP_AUTOP), ROUTE_SYSTEM);
	assert_int_equal(action_op_capability(OP_AUTOP), CAP_SYSTEM);
	parse_ok("key=reset", 1);
	assert_int_equal(req.items[0].op, OP_RESET);
	assert_int_equal(action_op_route(OP_RESET), ROUTE_RESET);
	assert_int_equal(action_op_capability(OP_RESET), CAP_RESET);
}

static void test_phonecfg(void **state)
{
	const unsigned all = IPC_PHONECFG_ACCOUNTS | IPC_PHONECFG_DND | IPC_PHONECFG_FW;

	(void)state;
	parse_ok("phonecfg=get", 1);
	assert_int_equal(req.items[0].op, OP_PHONECFG_GET);
	assert_int_equal(req.items[0].num, all);
	assert_string_equal(req.items[0].text, "phonecfg=get");
	assert_int_equal(action_op_route(OP_PHONECFG_GET), ROUTE_READ);
	assert_int_equal(action_op_capability(OP_PHONECFG_GET), CAP_READ);

	parse_ok("phonecfg=get&accounts=1", 1);
	assert_int_equal(req.items[0].num, IPC_PHONECFG_ACCOUNTS);
	parse_ok("phonecfg=get&dnd=1&fw=1", 1);
	assert_int_equal(req.items[0].num, IPC_PHONECFG_DND | IPC_PHONECFG_FW);
	parse_ok("phonecfg=get&accounts=1&dnd=1&fw=1", 1);
	assert_int_equal(req.items[0].num, all);
	parse_ok("phonecfg=get&dnd=0", 1);
	assert_int_equal(req.items[0].num, 0);
	parse_ok("dnd=1&phonecfg=get&", 1);
	assert_int_equal(req.items[0].num, IPC_PHONECFG_DND);

	/* Literal brackets, as clients copy them from the guide. */
	parse_ok("phonecfg=get[&accounts=1]", 1);
	assert_int_equal(req.items[0].num, IPC_PHONECFG_ACCOUNTS);
	parse_ok("phonecfg=get[&accounts=1][&dnd=1][&fw=0]", 1);
	assert_int_equal(req.items[0].num, IPC_PHONECFG_ACCOUNTS | IPC_PHONECFG_DND);
	parse_ok("phonecfg=get%5B&accounts=1%5D%5B&fw=1%5D", 1);
	assert_int_equal(req.items[0].num, IPC_PHONECFG_ACCOUNTS | IPC_PHONECFG_FW);
	parse_ok("phonecfg=get&[accounts=1]", 1);
	assert_int_equal(req.items[0].num, IPC_PHONECFG_ACCOUNTS);
	parse_ok("phonecfg=get[]", 1);
	assert_int_equal(req.items[0].num, all);
	parse_ok("PHONECFG=GET&ACCOUNTS=1", 1);
	assert_int_equal(req.items[0].num, IPC_PHONECFG_ACCOUNTS);

	parse_bad("phonecfg=set", -EINVAL, "unsupported phonecfg 'set'");
	parse_bad("phonecfg=set&account.1.label=x", -EINVAL, "unsupported phonecfg");
	parse_bad("phonecfg=", -EINVAL, "unsupported phonecfg");
	parse_bad("phonecfg=getx", -EINVAL, "unsupported phonecfg");
	parse_bad("phonecfg=get&accounts=2", -EINVAL, "accounts");
	parse_bad("phonecfg=get&dnd=", -EINVAL, "dnd");
	parse_bad("phonecfg=get&fw=yes", -EINVAL, "fw");
	/* phonecfg is a parameter, not a key item. */
	parse_bad("key=phonecfg=get", -EINVAL, "unknown key");
}

static void test_wait(void **state)
{
	(void)state;
	parse_ok("key=OK", 1);
	assert_int_equal(req.wait_ms, 0);
	parse_ok("key=OK&wait=500", 1);
	assert_int_equal(req.wait_ms, 500);
	parse_ok("wait=0&key=OK", 1);
	assert_int_equal(req.wait_ms, 0);
	parse_ok("key=OK&Wait=60000", 1);
	assert_int_equal(req.wait_ms, 60000);
	parse_bad("key=OK&wait=60001", -EINVAL, "wait");
	parse_bad("key=OK&wait=abc", -EINVAL, "wait");
	parse_bad("key=OK&wait=", -EINVAL, "wait");
	parse_bad("key=OK&wait=-1", -EINVAL, "wait");
	parse_bad("key=OK&wait=99999999999", -EINVAL, "wait");
}

/* ---- legacy login ---- */

static void test_legacy_login(void **state)
{
	char text[400];

	(void)state;
	parse_ok("p=login&q=login&username=admin&pwd=s3cret&jumpto=status&key=OK", 1);
	assert_true(req.legacy_login);
	assert_string_equal(req.user, "admin");
	assert_string_equal(req.password, "s3cret");
	assert_key(0, "OK", "OK");

	parse_ok("p=login&q=login&username=a%20b&pwd=p%26w+d&jumpto=status&key=OK&", 1);
	assert_string_equal(req.user, "a b");
	assert_string_equal(req.password, "p&w+d");

	parse_ok("p=login&q=login&username=admin&pwd=x&jumpto=status&number=123", 1);
	assert_true(req.legacy_login);

	/* Without the whole prefix there is no legacy login. */
	parse_ok("key=OK", 1);
	assert_false(req.legacy_login);
	assert_string_equal(req.user, "");
	parse_ok("username=admin&pwd=x&key=OK", 1);
	assert_false(req.legacy_login);
	assert_string_equal(req.user, "");
	assert_string_equal(req.password, "");
	parse_ok("p=login&username=admin&pwd=x&key=OK", 1);
	assert_false(req.legacy_login);
	parse_ok("p=status&q=login&username=admin&pwd=x&key=OK", 1);
	assert_false(req.legacy_login);

	/* Length checks: user 63, password 127 bytes. */
	snprintf(text, sizeof(text), "p=login&q=login&username=%063d&pwd=%0127d&key=OK", 0, 0);
	parse_ok(text, 1);
	assert_int_equal(strlen(req.user), 63);
	assert_int_equal(strlen(req.password), 127);
	snprintf(text, sizeof(text), "p=login&q=login&username=%064d&pwd=x&key=OK", 0);
	parse_bad(text, -EINVAL, "username too long");
	snprintf(text, sizeof(text), "p=login&q=login&username=a&pwd=%0128d&key=OK", 0);
	parse_bad(text, -EINVAL, "pwd too long");

	/* A login alone asks for nothing. */
	parse_bad("p=login&q=login&username=a&pwd=b&jumpto=x&", -EINVAL, "no action");
}

/* The audit text of a request never holds the password, however the
 * client spelled pwd=: the parser decodes and trims a name, so the audit
 * must recognise the same names (found by tests/fuzz/fuzz_http_credentials). */
static void test_audit_masks_password(void **state)
{
	static const char *const names[] = {
		"pwd", "PWD", "pwd ", " pwd", "pwd%20", "%70wd", "%50%57%44", "%20pWd%09", "\tpwd\r",
	};
	char url[200], text[160], audit[512];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(text, sizeof(text), "p=login&q=login&username=admin&%s=s3cret&jumpto=x&key=OK", names[i]);
		/* The parser reads it as the password... */
		parse_ok(text, 1);
		assert_true(req.legacy_login);
		assert_string_equal(req.password, "s3cret");
		/* ...so the audit masks it, in a request line and in a body. */
		snprintf(url, sizeof(url), "/servlet?%s", text);
		action_audit_text(audit, sizeof(audit), "GET ", url, strlen(url));
		if (strstr(audit, "s3cret") || !strstr(audit, "&pwd=***&jumpto=x&key=OK"))
			fail_msg("name '%s': audit text '%s'", names[i], audit);
		snprintf(text, sizeof(text), "%s=s3cret&key=OK", names[i]);
		action_audit_text(audit, sizeof(audit), "NOTIFY ", text, strlen(text));
		assert_string_equal(audit, "NOTIFY pwd=***&key=OK");
	}
	/* Other names that merely contain it are data, shown as written. */
	snprintf(text, sizeof(text), "pwdx=a&xpwd=b&p%%20wd=c&key=OK");
	action_audit_text(audit, sizeof(audit), "GET /servlet?", text, strlen(text));
	assert_string_equal(audit, "GET /servlet?pwdx=a&xpwd=b&p%20wd=c&key=OK");
}

/* A URI's userinfo password is masked wherever the request holds one. */
static void test_audit_masks_userinfo(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "http://admin:s3cret@10.0.0.5/servlet?key=OK", "GET http://admin:***@10.0.0.5/servlet?key=OK" },
		{ "HTTPS://admin:s3cret@[::1]:443/servlet?key=OK", "GET HTTPS://admin:***@[::1]:443/servlet?key=OK" },
		{ "http://admin%3As3cret%40phone/servlet?key=OK", "GET http://admin:***%40phone/servlet?key=OK" },
		{ "/servlet?key=OK&outgoing_uri=sip:1006:s3cret@pbx", "GET /servlet?key=OK&outgoing_uri=sip:1006:***@pbx" },
		{ "/servlet?number=1&outgoing_uri=SIPS:1006%3as3cret@pbx;transport=tls",
		  "GET /servlet?number=1&outgoing_uri=SIPS:1006:***@pbx;transport=tls" },
		/* No password, or no userinfo: as written. */
		{ "http://admin@phone/servlet?key=OK", "GET http://admin@phone/servlet?key=OK" },
		{ "/servlet?number=sip:1006@pbx:5060", "GET /servlet?number=sip:1006@pbx:5060" },
		{ "/servlet?key=OK&x=//a:b/c@d", "GET /servlet?key=OK&x=//a:b/c@d" },
		{ "http://phone:80/servlet?key=OK", "GET http://phone:80/servlet?key=OK" },
	};
	char audit[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		action_audit_text(audit, sizeof(audit), "GET ", cases[i].in, strlen(cases[i].in));
		if (strcmp(audit, cases[i].want) != 0)
			fail_msg("'%s': audit text '%s', want '%s'", cases[i].in, audit, cases[i].want);
	}
	/* Cut short inside the mask: still no password. */
	action_audit_text(audit, 14, "GET ", cases[0].in, strlen(cases[0].in));
	assert_string_equal(audit, "GET http://ad");
	action_audit_text(audit, 20, "GET ", cases[0].in, strlen(cases[0].in));
	assert_string_equal(audit, "GET http://admin:**");
}

/* ---- no action, limits ---- */

static void test_no_action(void **state)
{
	(void)state;
	parse_bad("", -EINVAL, "no action");
	parse_bad("&", -EINVAL, "no action");
	parse_bad("foo=bar", -EINVAL, "no action");
	parse_bad("wait=10", -EINVAL, "no action");
	parse_bad("OK", -EINVAL, "no action");
	parse_bad("outgoing_uri=1@pbx", -EINVAL, NULL);
	parse_bad("accounts=1", -EINVAL, "no action");
	assert_int_equal(action_parse(NULL, 0, &req, err, sizeof(err)), -EINVAL);
	assert_int_equal(action_parse("key=OK", 6, NULL, err, sizeof(err)), -EINVAL);
}

static void test_item_limit(void **state)
{
	char text[512];
	size_t o;

	(void)state;
	o = (size_t)snprintf(text, sizeof(text), "key=1");
	for (int i = 1; i < IPC_ITEMS_MAX; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, ";1");
	parse_ok(text, IPC_ITEMS_MAX);
	snprintf(text + o, sizeof(text) - o, ";2");
	parse_bad(text, -E2BIG, "too many items");

	/* Digit runs count one item per press. */
	o = (size_t)snprintf(text, sizeof(text), "key=");
	for (int i = 0; i < 2; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%032d;", 0);
	parse_ok(text, 64);
	snprintf(text + o, sizeof(text) - o, "#");
	parse_bad(text, -E2BIG, "too many items");

	/* Every kind of item counts. */
	snprintf(text, sizeof(text), "key=%032d;%031d&number=1", 0, 0);
	parse_ok(text, 64);
	assert_int_equal(req.items[63].op, OP_DIAL);
	snprintf(text, sizeof(text), "key=%032d;%032d&number=1", 0, 0);
	parse_bad(text, -E2BIG, "too many items");
	snprintf(text, sizeof(text), "key=%032d;%032d&phonecfg=get", 0, 0);
	parse_bad(text, -E2BIG, "too many items");
}

static void test_item_text_limit(void **state)
{
	char text[200];

	(void)state;
	/* 63 bytes as written is the limit, whatever the item is. */
	snprintf(text, sizeof(text), "key=%063d", 0);
	parse_ok(text, 63);
	snprintf(text, sizeof(text), "key=%064d", 0);
	parse_bad(text, -EINVAL, "item too long");
	snprintf(text, sizeof(text), "key=%s", "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABC");
	parse_bad(text, -EINVAL, "unknown key");
	snprintf(text, sizeof(text), "key=%s", "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCD");
	parse_bad(text, -EINVAL, "item too long");
	/* Whitespace around an item is not part of it. */
	snprintf(text, sizeof(text), "key=   %063d   ;OK", 0);
	parse_ok(text, 64);
}

static void test_text_limit(void **state)
{
	char text[ACTION_TEXT_MAX + 2];

	(void)state;
	memset(text, 0, sizeof(text));
	memcpy(text, "key=OK&pad=", 11);
	memset(text + 11, 'a', ACTION_TEXT_MAX - 11);
	assert_int_equal(strlen(text), ACTION_TEXT_MAX);
	parse_ok(text, 1);
	text[ACTION_TEXT_MAX] = 'a';
	assert_int_equal(strlen(text), ACTION_TEXT_MAX + 1);
	parse_bad(text, -E2BIG, "too long");
	/* The length is the caller's: bytes after len are not read. */
	assert_int_equal(action_parse(text, 6, &req, err, sizeof(err)), 0);
	assert_key(0, "OK", "OK");
}

static void test_nul_and_err_handling(void **state)
{
	char small[8];

	(void)state;
	assert_int_equal(action_parse("key=OK\0", 7, &req, err, sizeof(err)), -EINVAL);
	assert_true(err[0] != '\0');
	assert_int_equal(action_parse("key=\0OK", 7, &req, err, sizeof(err)), -EINVAL);
	assert_int_equal(action_parse("key=FOO", 7, &req, NULL, 0), -EINVAL);
	assert_int_equal(action_parse("key=OK", 6, &req, NULL, 0), 0);
	/* A short err buffer is cut, never overrun. */
	memset(small, 'z', sizeof(small));
	assert_int_equal(action_parse("key=FOOBARBAZ", 13, &req, small, sizeof(small)), -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	/* err is cleared on success. */
	strcpy(err, "stale");
	assert_int_equal(parse("key=OK"), 0);
	assert_string_equal(err, "");
}

/* The reason goes to an HTTP body and the audit log: printable only. */
static void test_err_is_printable(void **state)
{
	(void)state;
	parse_bad("key=%01FOO%1B[31m%0A'x", -EINVAL, "unknown key");
	for (const char *c = err; *c; c++)
		assert_true(*c >= 0x20 && *c < 0x7f);
	parse_bad("key=%C3%A9", -EINVAL, "unknown key '?" "?'");
	parse_bad("key=O'K", -EINVAL, "unknown key 'O?K'");
	/* Long offending items are quoted short. */
	parse_bad("key=ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJ", -EINVAL, "...'");
	assert_true(strlen(err) < 80);
}

static void test_routes(void **state)
{
	(void)state;
	assert_string_equal(action_route_name(ROUTE_KEY), "key");
	assert_string_equal(action_route_name(ROUTE_CALL), "call");
	assert_string_equal(action_route_name(ROUTE_READ), "read");
	assert_string_equal(action_route_name(ROUTE_SYSTEM), "system");
	assert_string_equal(action_route_name(ROUTE_RESET), "reset");
	assert_string_equal(action_route_name(ROUTE_NONE), "none");
	assert_string_equal(action_route_name((enum action_route)99), "none");

	for (int op = 0; op < 256; op++) {
		enum action_route r = action_op_route((enum ipc_op)op);
		enum config_cap c = action_op_capability((enum ipc_op)op);

		assert_true(c < CAP_COUNT);
		assert_true(c != CAP_SCREENSHOT);
		if (op == OP_NONE || op >= OP_COUNT) {
			assert_int_equal(r, ROUTE_NONE);
			assert_int_equal(c, CAP_RESET);
			continue;
		}
		assert_int_not_equal(r, ROUTE_NONE);
		switch (op) {
		case OP_KEY:
			assert_int_equal(r, ROUTE_KEY);
			break;
		case OP_PHONECFG_GET:
			assert_int_equal(r, ROUTE_READ);
			break;
		case OP_REBOOT:
		case OP_AUTOP:
			assert_int_equal(r, ROUTE_SYSTEM);
			break;
		case OP_RESET:
			assert_int_equal(r, ROUTE_RESET);
			break;
		default:
			assert_int_equal(r, ROUTE_CALL);
			assert_int_equal(c, op == OP_DIAL ? CAP_DIAL : CAP_CALL);
			break;
		}
	}
}

/* ---- garbage ---- */

static void check_result(int rc)
{
	if (rc != 0) {
		assert_true(rc == -EINVAL || rc == -E2BIG);
		assert_true(err[0] != '\0');
		assert_int_equal(req.nitems, 0);
		assert_int_equal(req.items[0].op, OP_NONE);
		return;
	}
	assert_true(req.nitems >= 1 && req.nitems <= IPC_ITEMS_MAX);
	assert_true(req.wait_ms <= 60000);
	for (size_t i = 0; i < req.nitems; i++) {
		const struct ipc_item *it = &req.items[i];

		assert_true(it->op > OP_NONE && it->op < OP_COUNT);
		assert_non_null(memchr(it->text, '\0', sizeof(it->text)));
		assert_non_null(memchr(it->arg, '\0', sizeof(it->arg)));
		assert_non_null(memchr(it->arg2, '\0', sizeof(it->arg2)));
		assert_true(it->text[0] != '\0');
		assert_int_not_equal(action_op_route(it->op), ROUTE_NONE);
	}
}

static void test_garbage(void **state)
{
	/* Pieces of the grammar, so that random texts get past the first
	 * parameter; one byte in eight is fully random. */
	static const char *const tokens[] = {
		"key=", "Key=", "&", "&", ";", ";", "=", ":", "OK", "F1", "L12", "123", "*", "#", "%23",
		"%", "%2", "%00", "%41", "%3B", "number=", "outgoing_uri=", "sip:a@b:5060", "ASW", "HOLD",
		"CANCEL", "7", "ATrans=", "NoAnswFwdOn=1=24", "phonecfg=get", "[", "]", "accounts=1",
		"wait=", "100", "p=login&q=login&username=u&pwd=", " ", "\r\n", "+", "'", "FOO",
	};
	char text[ACTION_TEXT_MAX + 64];
	unsigned seed = 20240601;
	int ok = 0;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = 0, want;

		seed = seed * 1103515245u + 12345u;
		want = (seed >> 8) % (round % 100 == 0 ? sizeof(text) : 120);
		while (len < want) {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 8 == 0) {
				text[len++] = (char)(seed >> 24);
			} else {
				const char *t = tokens[(seed >> 16) % (sizeof(tokens) / sizeof(tokens[0]))];
				size_t n = strlen(t);

				if (n > sizeof(text) - len)
					break;
				memcpy(text + len, t, n);
				len += n;
			}
		}
		memset(&req, 0x5a, sizeof(req));
		check_result(action_parse(text, len, &req, err, sizeof(err)));
		if (req.nitems)
			ok++;
	}
	/* The loop must also reach the success path, or it proves little. */
	print_message("%d of 20000 random texts parsed\n", ok);
	assert_true(ok > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_name),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_digits_and_runs),
		cmocka_unit_test(test_line_keys),
		cmocka_unit_test(test_unknown_key_fails_whole_text),
		cmocka_unit_test(test_chain_and_trim),
		cmocka_unit_test(test_empty_key),
		cmocka_unit_test(test_param_name_case),
		cmocka_unit_test(test_trailing_and_empty_params),
		cmocka_unit_test(test_unknown_params_ignored),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_percent_decoding),
		cmocka_unit_test(test_percent_decode_direct),
		cmocka_unit_test(test_key_canonical_direct),
		cmocka_unit_test(test_dial),
		cmocka_unit_test(test_dial_errors),
		cmocka_unit_test(test_simple_call_ops),
		cmocka_unit_test(test_id_ops),
		cmocka_unit_test(test_transfers),
		cmocka_unit_test(test_forwards),
		cmocka_unit_test(test_system_ops),
		cmocka_unit_test(test_phonecfg),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_legacy_login),
		cmocka_unit_test(test_audit_masks_password),
		cmocka_unit_test(test_audit_masks_userinfo),
		cmocka_unit_test(test_no_action),
		cmocka_unit_test(test_item_limit),
		cmocka_unit_test(test_item_text_limit),
		cmocka_unit_test(test_text_limit),
		cmocka_unit_test(test_nul_and_err_handling),
		cmocka_unit_test(test_err_is_printable),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
