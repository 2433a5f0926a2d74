/*
 * aurictl without a server: the command line, times, the password line and
 * how rows are shown.  The exchange with aurid-exec is covered by the
 * integration tests, which run both ends.
 *
 * cmd/aurictl/main.c is one file (CMake builds aurictl from it alone), so it
 * is included here whole; AURICTL_TEST leaves its main() out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define AURICTL_TEST
#include "cmd/aurictl/main.c"

#define NOW ((int64_t)1795773600)   /* 2026-11-27T10:00:00Z */

static void expect_time(const char *s, int64_t want)
{
	int64_t t = -1;

	if (parse_time(s, NOW, &t) != 0)
		fail_msg("'%s' was refused", s);
	if (t != want)
		fail_msg("'%s' gave %" PRId64 ", expected %" PRId64, s, t, want);
}

static void expect_bad_time(const char *s)
{
	int64_t t = 12345;

	if (parse_time(s, NOW, &t) == 0)
		fail_msg("'%s' was accepted as %" PRId64, s, t);
	assert_int_equal(t, 12345);
}

static void test_time_forms(void **state)
{
	(void)state;
	/* Unix seconds. */
	expect_time("1795773600", NOW);
	expect_time("0", 0);
	expect_time("10", 10);
	expect_time("999999999999", 999999999999LL);
	/* Ages: that long before now. */
	expect_time("90s", NOW - 90);
	expect_time("10m", NOW - 600);
	expect_time("2h", NOW - 7200);
	expect_time("1d", NOW - 86400);
	expect_time("1w", NOW - 7 * 86400);
	expect_time("0s", NOW);
	/* RFC 3339 and the forms it allows. */
	expect_time("2026-11-27T10:00:00Z", NOW);
	expect_time("2026-11-27t10:00:00z", NOW);
	expect_time("2026-11-27 10:00:00Z", NOW);
	expect_time("2026-11-27T10:00:00.999999Z", NOW);
	expect_time("2026-11-27T10:00Z", NOW);
	expect_time("2026-11-27T11:30:00+01:30", NOW);
	expect_time("2026-11-27T05:00:00-05:00", NOW);
	expect_time("2026-11-27T10:00:00+00:00", NOW);
	expect_time("2026-11-27", 1795737600);
	expect_time("2028-02-29", 1835395200);
	expect_time("1970-01-01T00:00:00Z", 0);
	expect_time("2026-11-27T09:59:60Z", NOW);   /* a leap second */
}

static void test_time_refused(void **state)
{
	static const char *const bad[] = {
		"", " ", "1795773600 ", "-5", "-5m", "10M", "10y", "m", "10mm", "1.5h",
		"1000000000d",            /* too many digits for an age */
		"9999999999999",          /* too many digits for unix seconds */
		"999999999w",             /* before 1970 */
		"2026-11-27T10:00:00",    /* no zone: would be the admin's local time */
		"2026-11-27T10",
		"2026-11-27T10:00:00Y",
		"2026-11-27T10:00:00Z ",
		"2026-11-27T10:00:00.Z",
		"2026-11-27T10:00:00+1:00",
		"2026-11-27T10:00:00+01",
		"2026-11-27T10:00:00+24:00",
		"2026-11-27T24:00:00Z",
		"2026-11-27T10:60:00Z",
		"2026-11-27T10:00:61Z",
		"2026-02-29", "2026-13-01", "2026-00-10", "2026-11-00", "2026-11-31", "2026-1-27",
		"1969-12-31", "1970-01-01T00:00:00+00:01",
		"2026-11-27X10:00:00Z", "2026/11/27", "2026-11", "2026-",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad_time(bad[i]);
}

/* Every prefix and every single-byte change of a good time: parsed or
 * refused, never read beyond its end (ASan). */
static void test_time_mutations(void **state)
{
	static const char good[] = "2026-11-27T10:00:00.123+01:00";
	static const char alphabet[] = "0123456789-:+.TZtz ";
	char *s;
	int64_t t;

	(void)state;
	for (size_t cut = 0; cut <= sizeof(good) - 1; cut++) {
		s = strndup(good, cut);
		assert_non_null(s);
		(void)parse_time(s, NOW, &t);
		free(s);
	}
	for (size_t i = 0; i < sizeof(good) - 1; i++) {
		for (size_t a = 0; a < sizeof(alphabet) - 1; a++) {
			s = strdup(good);
			assert_non_null(s);
			s[i] = alphabet[a];
			if (parse_time(s, NOW, &t) == 0)
				assert_true(t >= 0);
			free(s);
		}
	}
}

/* Runs parse_args on a NULL-terminated list of words. */
static int parse(struct aurictl_cmd *cmd, char *err, size_t errlen, ...)
{
	char *argv[16] = { "aurictl" };
	int argc = 1;
	va_list ap;

	va_start(ap, errlen);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	err[0] = '\0';
	return parse_args(argc, argv, NOW, cmd, err, errlen);
}

static void expect_usage_error(const char *want, int rc, const char *err)
{
	if (rc != -EINVAL)
		fail_msg("accepted; expected \"%s\"", want);
	if (strcmp(err, want) != 0)
		fail_msg("got \"%s\", expected \"%s\"", err, want);
}

static void test_args_verbs(void **state)
{
	struct aurictl_cmd cmd;
	char err[512];

	(void)state;
	assert_int_equal(parse(&cmd, err, sizeof(err), "status", NULL), 0);
	assert_int_equal(cmd.verb->type, IPC_ADMIN_STATUS);
	assert_string_equal(cmd.socket, "/run/aurid/admin.sock");
	assert_false(cmd.json);
	assert_false(cmd.verb->password);

	assert_int_equal(parse(&cmd, err, sizeof(err), "-s", "/tmp/a.sock", "trust", "list", "--json", NULL), 0);
	assert_int_equal(cmd.verb->type, IPC_ADMIN_TRUST_LIST);
	assert_string_equal(cmd.socket, "/tmp/a.sock");
	assert_true(cmd.json);

	/* --json anywhere; -sPATH; -s after the verb. */
	assert_int_equal(parse(&cmd, err, sizeof(err), "--json", "-s/tmp/b.sock", "consent", "list", NULL), 0);
	assert_true(cmd.json);
	assert_string_equal(cmd.socket, "/tmp/b.sock");
	assert_int_equal(parse(&cmd, err, sizeof(err), "trust", "--json", "add", "10.0.0.0/8", "-s", "/c", NULL), 0);
	assert_int_equal(cmd.verb->type, IPC_ADMIN_TRUST_ADD);
	assert_string_equal(cmd.req.arg, "10.0.0.0/8");
	assert_string_equal(cmd.socket, "/c");
	assert_true(cmd.json);

	assert_int_equal(parse(&cmd, err, sizeof(err), "trust", "remove", "fd00::/8", NULL), 0);
	assert_int_equal(cmd.verb->type, IPC_ADMIN_TRUST_REMOVE);
	assert_string_equal(cmd.req.arg, "fd00::/8");
	assert_int_equal(parse(&cmd, err, sizeof(err), "consent", "revoke", "192.0.2.7", NULL), 0);
	assert_int_equal(cmd.verb->type, IPC_ADMIN_CONSENT_REVOKE);
	assert_string_equal(cmd.req.arg, "192.0.2.7");
	assert_int_equal(parse(&cmd, err, sizeof(err), "sim", "press", "OK", NULL), 0);
	assert_int_equal(cmd.verb->type, IPC_ADMIN_SIM_PRESS);
	assert_string_equal(cmd.req.arg, "OK");

	/* user add: role "user" unless asked; the password comes from stdin. */
	assert_int_equal(parse(&cmd, err, sizeof(err), "user", "add", "bob", NULL), 0);
	assert_int_equal(cmd.verb->type, IPC_ADMIN_USER_ADD);
	assert_string_equal(cmd.req.arg, "bob");
	assert_string_equal(cmd.req.role, "user");
	assert_string_equal(cmd.req.arg2, "");
	assert_true(cmd.verb->password);
	assert_int_equal(parse(&cmd, err, sizeof(err), "user", "add", "--role", "admin", "alice", NULL), 0);
	assert_string_equal(cmd.req.arg, "alice");
	assert_string_equal(cmd.req.role, "admin");
	assert_int_equal(parse(&cmd, err, sizeof(err), "user", "add", "carol", "--role=user", NULL), 0);
	assert_string_equal(cmd.req.role, "user");
	assert_int_equal(parse(&cmd, err, sizeof(err), "user", "passwd", "bob", NULL), 0);
	assert_int_equal(cmd.verb->type, IPC_ADMIN_USER_PASSWD);
	assert_true(cmd.verb->password);
	/* "--" for a name that starts with '-'. */
	assert_int_equal(parse(&cmd, err, sizeof(err), "user", "passwd", "--", "-odd", NULL), 0);
	assert_string_equal(cmd.req.arg, "-odd");

	assert_int_equal(parse(&cmd, err, sizeof(err), "--help", NULL), 0);
	assert_true(cmd.help);
	assert_int_equal(parse(&cmd, err, sizeof(err), "audit", "-h", "--bogus-is-not-reached", NULL), -EINVAL);
	assert_int_equal(parse(&cmd, err, sizeof(err), "audit", "-h", NULL), 0);
	assert_true(cmd.help);
}

static void test_args_audit(void **state)
{
	struct aurictl_cmd cmd;
	char err[512];

	(void)state;
	assert_int_equal(parse(&cmd, err, sizeof(err), "audit", NULL), 0);
	assert_int_equal(cmd.verb->type, IPC_ADMIN_AUDIT);
	assert_int_equal(cmd.req.since, 0);
	assert_int_equal(cmd.req.until, 0);
	assert_int_equal(cmd.req.limit, 0);
	assert_string_equal(cmd.req.source, "");
	assert_string_equal(cmd.req.outcome, "");

	assert_int_equal(parse(&cmd, err, sizeof(err), "audit", "--since", "1d", "--until=2026-11-27T10:00:00Z",
			       "--source", "192.0.2.7", "--outcome=consent-denied", "--limit", "50", "--json", NULL), 0);
	assert_int_equal(cmd.req.since, NOW - 86400);
	assert_int_equal(cmd.req.until, NOW);
	assert_string_equal(cmd.req.source, "192.0.2.7");
	assert_string_equal(cmd.req.outcome, "consent-denied");
	assert_int_equal(cmd.req.limit, 50);
	assert_true(cmd.json);

	assert_int_equal(parse(&cmd, err, sizeof(err), "audit", "--limit", "4294967295", NULL), 0);
	assert_int_equal(cmd.req.limit, UINT32_MAX);
	/* The last of a repeated option counts. */
	assert_int_equal(parse(&cmd, err, sizeof(err), "audit", "--limit", "5", "--limit", "7", NULL), 0);
	assert_int_equal(cmd.req.limit, 7);
}

static void test_args_errors(void **state)
{
	char path108[109], path107[108], long_arg[257], arg255[256], src64[65];
	struct aurictl_cmd cmd;
	char err[512];

	(void)state;
	expect_usage_error("missing command", parse(&cmd, err, sizeof(err), NULL), err);
	expect_usage_error("missing command", parse(&cmd, err, sizeof(err), "--json", NULL), err);
	expect_usage_error("unknown command 'nope'", parse(&cmd, err, sizeof(err), "nope", NULL), err);
	expect_usage_error("trust: expected list or add or remove", parse(&cmd, err, sizeof(err), "trust", NULL), err);
	expect_usage_error("trust: expected list or add or remove",
			   parse(&cmd, err, sizeof(err), "trust", "show", NULL), err);
	expect_usage_error("sim: expected press", parse(&cmd, err, sizeof(err), "sim", NULL), err);
	expect_usage_error("trust add: missing PATTERN", parse(&cmd, err, sizeof(err), "trust", "add", NULL), err);
	expect_usage_error("user passwd: missing NAME", parse(&cmd, err, sizeof(err), "user", "passwd", NULL), err);
	expect_usage_error("unexpected argument 'b'", parse(&cmd, err, sizeof(err), "trust", "add", "a", "b", NULL), err);
	expect_usage_error("unexpected argument 'x'", parse(&cmd, err, sizeof(err), "status", "x", NULL), err);
	expect_usage_error("unexpected argument 'e'",
			   parse(&cmd, err, sizeof(err), "a", "b", "c", "d", "e", NULL), err);
	expect_usage_error("unknown option '--bogus'", parse(&cmd, err, sizeof(err), "--bogus", "status", NULL), err);
	expect_usage_error("unknown option '-x'", parse(&cmd, err, sizeof(err), "status", "-x", NULL), err);
	expect_usage_error("unknown option '-odd'", parse(&cmd, err, sizeof(err), "user", "add", "-odd", NULL), err);
	expect_usage_error("unknown option '--json=1'", parse(&cmd, err, sizeof(err), "status", "--json=1", NULL), err);
	expect_usage_error("-s: expected a socket path", parse(&cmd, err, sizeof(err), "status", "-s", NULL), err);
	expect_usage_error("--limit: expected a value", parse(&cmd, err, sizeof(err), "audit", "--limit", NULL), err);
	expect_usage_error("status does not take --since",
			   parse(&cmd, err, sizeof(err), "status", "--since", "1d", NULL), err);
	expect_usage_error("trust list does not take --role",
			   parse(&cmd, err, sizeof(err), "trust", "list", "--role", "admin", NULL), err);
	expect_usage_error("user passwd does not take --role",
			   parse(&cmd, err, sizeof(err), "user", "passwd", "bob", "--role", "admin", NULL), err);
	expect_usage_error("--role: expected 'admin' or 'user', got 'root'",
			   parse(&cmd, err, sizeof(err), "user", "add", "bob", "--role", "root", NULL), err);
	expect_usage_error("--since is after --until",
			   parse(&cmd, err, sizeof(err), "audit", "--since", "2026-11-28", "--until", "2026-11-27", NULL), err);

	static const char *const bad_limits[] = { "0", "-1", "+1", "1x", "", " 1", "4294967296", "99999999999999999999999" };
	for (size_t i = 0; i < sizeof(bad_limits) / sizeof(bad_limits[0]); i++) {
		assert_int_equal(parse(&cmd, err, sizeof(err), "audit", "--limit", bad_limits[i], NULL), -EINVAL);
		assert_non_null(strstr(err, "--limit: expected a whole number"));
	}
	assert_int_equal(parse(&cmd, err, sizeof(err), "audit", "--since", "yesterday", NULL), -EINVAL);
	assert_non_null(strstr(err, "--since: expected unix seconds"));
	assert_non_null(strstr(err, "'yesterday'"));

	/* Socket paths: never cut short to fit sun_path. */
	memset(path108, 'p', sizeof(path108));
	path108[0] = '/';
	path108[108] = '\0';
	memcpy(path107, path108, 107);
	path107[107] = '\0';
	expect_usage_error("-s: a socket path is 1 to 107 bytes",
			   parse(&cmd, err, sizeof(err), "-s", path108, "status", NULL), err);
	expect_usage_error("-s: a socket path is 1 to 107 bytes",
			   parse(&cmd, err, sizeof(err), "-s", "", "status", NULL), err);
	assert_int_equal(parse(&cmd, err, sizeof(err), "-s", path107, "status", NULL), 0);

	/* Arguments that would not fit their IPC field are refused, not cut. */
	memset(long_arg, 'a', sizeof(long_arg));
	long_arg[256] = '\0';
	memcpy(arg255, long_arg, 255);
	arg255[255] = '\0';
	expect_usage_error("PATTERN: expected 1 to 255 bytes",
			   parse(&cmd, err, sizeof(err), "trust", "add", long_arg, NULL), err);
	assert_int_equal(parse(&cmd, err, sizeof(err), "trust", "add", arg255, NULL), 0);
	expect_usage_error("PATTERN: expected 1 to 255 bytes",
			   parse(&cmd, err, sizeof(err), "trust", "add", "", NULL), err);
	memset(src64, '1', sizeof(src64));
	src64[64] = '\0';
	expect_usage_error("--source: expected 1 to 63 bytes",
			   parse(&cmd, err, sizeof(err), "audit", "--source", src64, NULL), err);
	expect_usage_error("--outcome: expected 1 to 31 bytes",
			   parse(&cmd, err, sizeof(err), "audit", "--outcome", "", NULL), err);
}

static int read_pw(const char *input, size_t len, char *out, size_t size, char *err)
{
	FILE *f = fmemopen((void *)input, len, "r");
	int r;

	assert_non_null(f);
	r = read_password(f, out, size, err, 256);
	fclose(f);
	return r;
}

static void test_password_line(void **state)
{
	char pw[256], err[256], line[300];

	(void)state;
	assert_int_equal(read_pw("sekret\n", 7, pw, sizeof(pw), err), 0);
	assert_string_equal(pw, "sekret");
	assert_int_equal(read_pw("sekret\r\nsecond line\n", 20, pw, sizeof(pw), err), 0);
	assert_string_equal(pw, "sekret");
	assert_int_equal(read_pw("no newline", 10, pw, sizeof(pw), err), 0);
	assert_string_equal(pw, "no newline");
	assert_int_equal(read_pw(" spaces kept ", 13, pw, sizeof(pw), err), 0);
	assert_string_equal(pw, " spaces kept ");

	assert_int_equal(read_pw("", 0, pw, sizeof(pw), err), -EINVAL);
	assert_string_equal(err, "expected the password on the first line of stdin");
	assert_int_equal(read_pw("\n", 1, pw, sizeof(pw), err), -EINVAL);
	assert_int_equal(read_pw("ab\0cd\n", 6, pw, sizeof(pw), err), -EINVAL);
	assert_string_equal(err, "the password contains a NUL byte");

	/* 255 bytes fit the IPC field; 256 are refused and nothing is left behind. */
	memset(line, 'x', sizeof(line));
	line[255] = '\n';
	assert_int_equal(read_pw(line, 256, pw, sizeof(pw), err), 0);
	assert_int_equal(strlen(pw), 255);
	line[255] = 'x';
	line[256] = '\n';
	assert_int_equal(read_pw(line, 257, pw, sizeof(pw), err), -EINVAL);
	assert_string_equal(err, "the password is longer than 255 bytes");
	for (size_t i = 0; i < sizeof(pw); i++)
		assert_int_equal(pw[i], 0);
}

static void test_text_safe(void **state)
{
	char *s;

	(void)state;
	s = text_safe("GET /servlet?key=\x1b[31mOK\tx\x7f");
	assert_string_equal(s, "GET /servlet?key=\\x1b[31mOK\\x09x\\x7f");
	free(s);
	s = text_safe("\xc2\x9b" "2J caf\xc3\xa9 \xc2\xa0");   /* C1 CSI escaped; é and NBSP kept */
	assert_string_equal(s, "\\u009b2J caf\xc3\xa9 \xc2\xa0");
	free(s);
	s = text_safe("");
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(text_width("caf\xc3\xa9"), 4);
}

/* Feeds rows to a printer and returns what it wrote (malloc'd). */
static char *show(unsigned type, bool json, const char *const *rows, bool *failed)
{
	struct printer pr;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	printer_init(&pr, f, json, type);
	for (; *rows; rows++)
		printer_row(&pr, *rows);
	printer_finish(&pr, true);
	*failed = pr.failed;
	fclose(f);
	return buf;
}

static void expect_shown(unsigned type, bool json, const char *const *rows, const char *want)
{
	bool failed;
	char *got = show(type, json, rows, &failed);

	assert_false(failed);
	if (strcmp(got, want) != 0)
		fail_msg("shown:\n%s\nexpected:\n%s", got, want);
	free(got);
}

static void test_show_rows(void **state)
{
	static const char *const status[] = {
		"{\"version\":\"0.1.0\",\"started\":1795773600,\"uptime_s\":55,\"children\":{\"http\":\"up\",\"sip\":null},"
		"\"enabled\":true,\"list\":[1,2]}",
		NULL,
	};
	static const char *const trust[] = {
		"{\"pattern\":\"10.10.*.*\",\"origin\":\"provisioned\",\"created\":1795773600}",
		"{\"created\":\"2026-11-27T11:00:00Z\",\"origin\":\"admin\",\"pattern\":\"fd00::/8\",\"note\":\"x\"}",
		NULL,
	};
	static const char *const audit[] = {
		"{\"seq\":41,\"time\":\"2026-11-27T10:00:00Z\",\"transport\":\"http\",\"source\":\"192.0.2.7\","
		"\"user\":null,\"request\":\"GET /servlet?key=\\u001b[2JOK\",\"items\":[{\"item\":\"OK\",\"outcome\":\"ok\"}],"
		"\"status\":200,\"reason\":\"ok\",\"latency_us\":1234}",
		"{\"seq\":42,\"transport\":\"sip\",\"status\":403,\"reason\":\"not-allowed\"}",
		"[\"not an object\"]",
		NULL,
	};
	static const char *const pretty[] = { "{\n  \"a\": 1,\n  \"b\": \"\\u00e9\"\n}", "{\"c\":null}", NULL };
	static const char *const bad[] = { "{not json", NULL };
	bool failed;
	char *got;

	(void)state;
	expect_shown(IPC_ADMIN_STATUS, false, status,
		     "version: 0.1.0\n"
		     "started: 2026-11-27T10:00:00Z\n"
		     "uptime_s: 55\n"
		     "children.http: up\n"
		     "children.sip: -\n"
		     "enabled: true\n"
		     "list: [1,2]\n");
	expect_shown(IPC_ADMIN_TRUST_LIST, false, trust,
		     "PATTERN    ORIGIN       CREATED               NOTE\n"
		     "10.10.*.*  provisioned  2026-11-27T10:00:00Z  -\n"
		     "fd00::/8   admin        2026-11-27T11:00:00Z  x\n");
	expect_shown(IPC_ADMIN_AUDIT, false, audit,
		     "41 2026-11-27T10:00:00Z http 192.0.2.7 200 ok GET /servlet?key=\\x1b[2JOK\n"
		     "42 - sip - 403 not-allowed -\n"
		     "[\"not an object\"]\n");
	/* --json: one compact, ASCII line per row, whatever the server sent. */
	expect_shown(IPC_ADMIN_AUDIT, true, pretty, "{\"a\":1,\"b\":\"\\u00E9\"}\n{\"c\":null}\n");
	/* DEL, which jansson does not escape, is escaped too (found by
	 * tests/fuzz/fuzz_aurictl). */
	expect_shown(IPC_ADMIN_AUDIT, true, (const char *const[]){ "{\"r\x7f\":\"GET \x7f\"}", NULL },
		     "{\"r\\u007f\":\"GET \\u007f\"}\n");
	expect_shown(IPC_ADMIN_TRUST_LIST, true, trust,
		     "{\"pattern\":\"10.10.*.*\",\"origin\":\"provisioned\",\"created\":1795773600}\n"
		     "{\"created\":\"2026-11-27T11:00:00Z\",\"origin\":\"admin\",\"pattern\":\"fd00::/8\",\"note\":\"x\"}\n");
	/* No rows, no output. */
	expect_shown(IPC_ADMIN_CONSENT_LIST, false, (const char *const[]){ NULL }, "");

	got = show(IPC_ADMIN_AUDIT, true, bad, &failed);
	assert_true(failed);
	assert_string_equal(got, "");
	free(got);
}

/* A row that is not JSON is reported on stderr with jansson's reason,
 * which quotes the row's bytes: those are escaped like any server text
 * (found by tests/fuzz/fuzz_aurictl). */
static void test_bad_row_reported_safely(void **state)
{
	static const char *const bad[] = { "{\"request\":\x1b[2J\x1b]0;owned\x07}", NULL };
	FILE *saved = stderr, *err;
	char *msg = NULL, *got;
	size_t len = 0;
	bool failed;

	(void)state;
	err = open_memstream(&msg, &len);
	assert_non_null(err);
	stderr = err;
	got = show(IPC_ADMIN_AUDIT, false, bad, &failed);
	stderr = saved;
	fclose(err);
	assert_true(failed);
	assert_string_equal(got, "");
	if (!strstr(msg, "aurictl: the server sent a row that is not JSON (") || !strstr(msg, "\\x1b"))
		fail_msg("reported as '%s'", msg);
	for (const char *p = msg; *p; p++)
		assert_true(*p == '\n' || ((unsigned char)*p >= 0x20 && *p != 0x7f));
	free(got);
	free(msg);
}

static void test_main_exit_codes(void **state)
{
	char *usage_err[] = { "aurictl", "frobnicate", NULL };
	char *no_server[] = { "aurictl", "-s", "/nonexistent/aurid-test/admin.sock", "status", NULL };

	(void)state;
	assert_int_equal(aurictl_main(2, usage_err), 2);
	assert_int_equal(aurictl_main(4, no_server), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_forms),
		cmocka_unit_test(test_time_refused),
		cmocka_unit_test(test_time_mutations),
		cmocka_unit_test(test_args_verbs),
		cmocka_unit_test(test_args_audit),
		cmocka_unit_test(test_args_errors),
		cmocka_unit_test(test_password_line),
		cmocka_unit_test(test_text_safe),
		cmocka_unit_test(test_show_rows),
		cmocka_unit_test(test_bad_row_reported_safely),
		cmocka_unit_test(test_main_exit_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
