/* trust: pattern grammar, canonical text, matching, and the stored list. */
#include "services/exec/trust.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

/* ---- pure functions: tables ---- */

static const struct {
	const char *text;
	const char *canonical;
} good_patterns[] = {
	{ "any", "any" },
	{ "ANY", "any" },
	{ "10.1.2.3", "10.1.2.3" },
	{ "0.0.0.0", "0.0.0.0" },
	{ "255.255.255.255", "255.255.255.255" },
	{ "10.10.*.*", "10.10.*.*" },
	{ "10.*.3.*", "10.*.3.*" },
	{ "*.*.*.*", "*.*.*.*" },
	{ "10.10.0.0/16", "10.10.0.0/16" },
	{ "10.10.1.5/16", "10.10.0.0/16" },     /* host bits dropped */
	{ "10.1.2.3/31", "10.1.2.2/31" },
	{ "0.0.0.0/0", "0.0.0.0/0" },
	{ "192.168.1.1/0", "0.0.0.0/0" },
	{ "10.1.2.3/32", "10.1.2.3" },
	{ "fd00::/8", "fd00::/8" },
	{ "FD00:0:0::1", "fd00::1" },
	{ "2001:db8::1/128", "2001:db8::1" },
	{ "2001:db8::1/127", "2001:db8::/127" },
	{ "::/0", "::/0" },
	{ "::1", "::1" },
	{ "::ffff:10.1.2.3", "10.1.2.3" },      /* mapped: IPv4 */
	{ "::ffff:10.0.0.0/104", "10.0.0.0/8" },
	{ "::ffff:0:0/96", "0.0.0.0/0" },
	{ "::ffff:0:0/95", "::fffe:0:0/95" },   /* wider than the mapped range: stays IPv6 */
};

static const char *const bad_patterns[] = {
	"", "10.1.2", "10.1.2.3.4", "10.1.2.256", "010.1.2.3", "10.01.2.3", "1000.1.2.3", "10.1.2.3/33",
	"10.1.2.3/", "/8", "10.1.2.3/08", "10.1.2.3/-1", "10.1.2.3/+8", "10.1.2.3/8/8", "10.*.0.0/16",
	"10.1.2.*/24", "10.1.2.**", "10.1.*2.3", "*", "10.1.2.3 ", " 10.1.2.3", "1.2.3.4x", "anything", "any ",
	"fe80::1%eth0", "[::1]", "::/129", "fd00::*", "gggg::1", "fd00::/", "1:2:3:4:5:6:7:8:9", "10.1.2.3,10.1.2.4",
	"-1.2.3.4", "0x0a.1.2.3", "10.1.2.3/1234",
	"1111:2222:3333:4444:5555:6666:7777:8888/128xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
};

static void test_pattern_parse_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_patterns) / sizeof(good_patterns[0]); i++) {
		struct trust_pattern p, again;
		char canon[80], canon2[80], err[64] = "";

		if (trust_pattern_parse(good_patterns[i].text, &p, canon, sizeof(canon), err, sizeof(err)) != 0)
			fail_msg("'%s' refused: %s", good_patterns[i].text, err);
		if (strcmp(canon, good_patterns[i].canonical) != 0)
			fail_msg("'%s' -> '%s', want '%s'", good_patterns[i].text, canon, good_patterns[i].canonical);
		/* The canonical text is a fixed point with the same meaning. */
		assert_int_equal(trust_pattern_parse(canon, &again, canon2, sizeof(canon2), NULL, 0), 0);
		assert_string_equal(canon, canon2);
		assert_memory_equal(&p, &again, sizeof(p));
	}
}

static void test_pattern_parse_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_patterns) / sizeof(bad_patterns[0]); i++) {
		struct trust_pattern p;
		char canon[80] = "untouched", err[64] = "";

		if (trust_pattern_parse(bad_patterns[i], &p, canon, sizeof(canon), err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' accepted as '%s'", bad_patterns[i], canon);
		if (err[0] == '\0')
			fail_msg("'%s' refused without a reason", bad_patterns[i]);
	}
}

static const struct {
	const char *pattern;
	const char *addr;
	bool match;
} match_table[] = {
	{ "any", "10.0.0.1", true },
	{ "any", "::1", true },
	{ "10.10.*.*", "10.10.200.1", true },
	{ "10.10.*.*", "10.10.0.0", true },
	{ "10.10.*.*", "10.11.0.1", false },
	{ "10.*.3.*", "10.99.3.7", true },
	{ "10.*.3.*", "10.99.4.7", false },
	{ "*.*.*.*", "1.2.3.4", true },
	{ "*.*.*.*", "2001:db8::1", false },
	{ "10.10.0.0/16", "10.10.255.255", true },
	{ "10.10.0.0/16", "10.11.0.0", false },
	{ "10.10.0.0/15", "10.10.0.0", true },
	{ "10.10.0.0/15", "10.11.255.255", true },
	{ "10.10.0.0/15", "10.12.0.0", false },
	{ "10.10.0.0/15", "10.9.255.255", false },
	{ "0.0.0.0/0", "255.255.255.255", true },
	{ "0.0.0.0/0", "0.0.0.0", true },
	{ "0.0.0.0/0", "::1", false },
	{ "10.1.2.3/32", "10.1.2.3", true },
	{ "10.1.2.3/32", "10.1.2.4", false },
	{ "10.1.2.3/31", "10.1.2.2", true },
	{ "10.1.2.3/31", "10.1.2.3", true },
	{ "10.1.2.3/31", "10.1.2.4", false },
	{ "10.1.2.3", "::ffff:10.1.2.3", true },    /* dual-stack socket */
	{ "10.1.2.3", "::FFFF:10.1.2.3", true },
	{ "10.1.2.3", "::ffff:a01:203", true },
	{ "10.1.2.3", "::10.1.2.3", false },        /* IPv4-compatible is not mapped */
	{ "::ffff:10.1.2.3", "10.1.2.3", true },
	{ "::ffff:10.0.0.0/104", "10.200.0.1", true },
	{ "fd00::/8", "fd12::1", true },
	{ "fd00::/8", "fe00::1", false },
	{ "fd00::/8", "10.0.0.1", false },
	{ "2001:db8::1", "2001:db8::1", true },
	{ "2001:db8::1", "2001:db8:0:0:0:0:0:1", true },
	{ "2001:db8::1", "2001:db8::2", false },
	{ "2001:db8::/127", "2001:db8::1", true },
	{ "2001:db8::/127", "2001:db8::2", false },
	{ "2001:db8::ff00/120", "2001:db8::ffff", true },
	{ "2001:db8::ff00/121", "2001:db8::ff80", false },
	{ "::/0", "::1", true },
	{ "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "::/0", "10.0.0.1", false },
	{ "::/0", "::ffff:1.2.3.4", false },        /* a mapped client is an IPv4 client */
	{ "fe80::/10", "fe80::1%eth0", true },
	{ "fe80::/10", "febf::1", true },
	{ "fe80::/10", "fec0::1", false },
};

static void test_pattern_match_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(match_table) / sizeof(match_table[0]); i++) {
		struct trust_pattern p;
		uint8_t a[16];
		int family;
		bool got;

		assert_int_equal(trust_pattern_parse(match_table[i].pattern, &p, NULL, 0, NULL, 0), 0);
		if (trust_addr_parse(match_table[i].addr, &family, a) != 0)
			fail_msg("address '%s' refused", match_table[i].addr);
		got = trust_pattern_match(&p, family, a);
		if (got != match_table[i].match)
			fail_msg("'%s' vs '%s': %d, want %d", match_table[i].pattern, match_table[i].addr, got,
				 match_table[i].match);
	}
}

static void test_addr_parse(void **state)
{
	static const char *const bad[] = { "", "10.0.0", "10.0.0.1.2", "::ffff:999.1.1.1", "10.0.0.*", "host",
					   "%eth0", "10.0.0.1/8", " 10.0.0.1", "1:2:3:4:5:6:7:8:9" };
	uint8_t a[16];
	int family = -1;

	(void)state;
	assert_int_equal(trust_addr_parse("::ffff:192.0.2.7", &family, a), 0);
	assert_int_equal(family, AF_INET);
	assert_memory_equal(a, "\xc0\x00\x02\x07", 4);
	assert_int_equal(trust_addr_parse("2001:db8::7", &family, a), 0);
	assert_int_equal(family, AF_INET6);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (trust_addr_parse(bad[i], &family, a) != -EINVAL)
			fail_msg("address '%s' accepted", bad[i]);
	}
}

/* ---- the stored list ---- */

struct fixture {
	struct tu_db db;
	struct trust *t;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || tu_db_open(&f->db, "trust") || trust_init(f->db.st, &f->t))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int r;

	trust_free(f->t);
	r = tu_db_remove(&f->db);
	free(f);
	return r;
}

static void reopen(struct fixture *f)
{
	trust_free(f->t);
	store_close(f->db.st);
	assert_int_equal(store_open(f->db.path, &f->db.st), 0);
	assert_int_equal(trust_init(f->db.st, &f->t), 0);
}

struct listing {
	char text[512];
	int n;
};

static int collect(void *arg, const char *pattern, const char *origin, int64_t created)
{
	struct listing *l = arg;
	size_t off = strlen(l->text);

	assert_true(created > 1700000000);
	snprintf(l->text + off, sizeof(l->text) - off, "%s%s:%s", l->n ? " " : "", origin[0] == 'p' ? "P" : "A",
		 pattern);
	l->n++;
	return 0;
}

static const char *listing(struct trust *t, struct listing *l)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(trust_list(t, collect, l), 0);
	return l->text;
}

static void test_blank_list_allows_nobody(void **state)
{
	struct fixture *f = *state;
	struct listing l;

	assert_int_equal(trust_import_provisioned(f->t, "", NULL, 0), 0);
	assert_string_equal(listing(f->t, &l), "");
	assert_false(trust_allows(f->t, "127.0.0.1"));
	assert_false(trust_allows(f->t, "::1"));
	assert_int_equal(trust_import_provisioned(f->t, " , ,", NULL, 0), 0);
	assert_false(trust_allows(f->t, "127.0.0.1"));
}

static void test_import_and_match(void **state)
{
	struct fixture *f = *state;
	struct listing l;
	char err[128];

	assert_int_equal(trust_import_provisioned(f->t, "10.0.0.1, 192.168.*.*,fd00::/8, 10.0.0.1,", err, sizeof(err)),
			 0);
	assert_string_equal(listing(f->t, &l), "P:10.0.0.1 P:192.168.*.* P:fd00::/8");
	assert_true(trust_allows(f->t, "10.0.0.1"));
	assert_true(trust_allows(f->t, "::ffff:10.0.0.1"));
	assert_true(trust_allows(f->t, "192.168.44.5"));
	assert_true(trust_allows(f->t, "fd00::5"));
	assert_false(trust_allows(f->t, "10.0.0.2"));
	assert_false(trust_allows(f->t, "fe80::1"));
	assert_false(trust_allows(f->t, "not an address"));

	/* A new import replaces the old provisioned entries. */
	assert_int_equal(trust_import_provisioned(f->t, "172.16.0.0/12", err, sizeof(err)), 0);
	assert_string_equal(listing(f->t, &l), "P:172.16.0.0/12");
	assert_false(trust_allows(f->t, "10.0.0.1"));
	assert_true(trust_allows(f->t, "172.31.255.255"));

	assert_int_equal(trust_import_provisioned(f->t, "any", err, sizeof(err)), 0);
	assert_true(trust_allows(f->t, "203.0.113.9"));
	assert_true(trust_allows(f->t, "2001:db8::9"));
}

static void test_import_bad_entry_changes_nothing(void **state)
{
	struct fixture *f = *state;
	static const char *const bad_lists[] = {
		"10.0.0.5, bogus", "10.0.0.5,10.0.0.256", "any, 10.*.0.0/8", "10.0.0.5 10.0.0.6",
		"10.0.0.5,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};
	struct listing l;
	char err[128];

	assert_int_equal(trust_import_provisioned(f->t, "10.0.0.1,fd00::/8", err, sizeof(err)), 0);
	assert_int_equal(trust_add(f->t, "10.9.9.9", err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
		err[0] = '\0';
		assert_int_equal(trust_import_provisioned(f->t, bad_lists[i], err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "entry"));
		assert_string_equal(listing(f->t, &l), "P:10.0.0.1 P:fd00::/8 A:10.9.9.9");
		assert_true(trust_allows(f->t, "10.0.0.1"));
		assert_false(trust_allows(f->t, "10.0.0.5"));
		assert_false(trust_allows(f->t, "1.1.1.1"));
	}
	assert_int_equal(trust_import_provisioned(f->t, "10.0.0.5, bogus", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bogus"));
}

static void test_admin_entries(void **state)
{
	struct fixture *f = *state;
	struct listing l;
	char err[128];

	assert_int_equal(trust_import_provisioned(f->t, "10.0.0.1", err, sizeof(err)), 0);
	assert_int_equal(trust_add(f->t, " 10.20.0.0/16 ", err, sizeof(err)), 0);
	assert_true(trust_allows(f->t, "10.20.3.4"));
	/* Same network written differently: a duplicate. */
	assert_int_equal(trust_add(f->t, "10.20.5.5/16", err, sizeof(err)), -EEXIST);
	assert_int_equal(trust_add(f->t, "nonsense", err, sizeof(err)), -EINVAL);
	assert_int_equal(trust_add(f->t, "10.1.1.1,10.1.1.2", err, sizeof(err)), -EINVAL);
	assert_int_equal(trust_add(f->t, "2001:DB8::1", err, sizeof(err)), 0);
	assert_string_equal(listing(f->t, &l), "P:10.0.0.1 A:10.20.0.0/16 A:2001:db8::1");

	assert_int_equal(trust_remove(f->t, "10.0.0.1", err, sizeof(err)), -EPERM);
	assert_true(trust_allows(f->t, "10.0.0.1"));
	assert_int_equal(trust_remove(f->t, "10.20.9.9/16", err, sizeof(err)), 0);
	assert_false(trust_allows(f->t, "10.20.3.4"));
	assert_int_equal(trust_remove(f->t, "10.20.0.0/16", err, sizeof(err)), -ENOENT);
	assert_int_equal(trust_remove(f->t, "bogus", err, sizeof(err)), -EINVAL);

	/* Admin entries survive a restart and the next import. */
	reopen(f);
	assert_true(trust_allows(f->t, "2001:db8::1"));
	assert_true(trust_allows(f->t, "10.0.0.1"));
	assert_int_equal(trust_import_provisioned(f->t, "", err, sizeof(err)), 0);
	assert_false(trust_allows(f->t, "10.0.0.1"));
	assert_true(trust_allows(f->t, "2001:db8::1"));
	assert_string_equal(listing(f->t, &l), "A:2001:db8::1");
}

/* A change made inside a group transaction that is rolled back must not
 * linger in the compiled list. */
static void test_rollback_reloads(void **state)
{
	struct fixture *f = *state;
	char err[128];

	assert_int_equal(store_begin(f->db.st), 0);
	assert_int_equal(trust_add(f->t, "198.51.100.0/24", err, sizeof(err)), 0);
	assert_true(trust_allows(f->t, "198.51.100.7"));
	assert_int_equal(store_rollback(f->db.st), 0);
	assert_false(trust_allows(f->t, "198.51.100.7"));

	assert_int_equal(store_begin(f->db.st), 0);
	assert_int_equal(trust_import_provisioned(f->t, "198.51.100.7", err, sizeof(err)), 0);
	assert_int_equal(store_commit(f->db.st), 0);
	assert_true(trust_allows(f->t, "198.51.100.7"));
}

static int stop_after_first(void *arg, const char *p, const char *o, int64_t c)
{
	int *calls = arg;

	(void)p;
	(void)o;
	(void)c;
	(*calls)++;
	return *calls == 1 ? -EINTR : 0;
}

static void test_list_callback_stops(void **state)
{
	struct fixture *f = *state;
	int calls = 0;

	assert_int_equal(trust_import_provisioned(f->t, "10.0.0.1,10.0.0.2,10.0.0.3", NULL, 0), 0);
	assert_int_equal(trust_list(f->t, stop_after_first, &calls), -EINTR);
	assert_int_equal(calls, 1);
	/* The statement was reset: the list works again. */
	calls = -100;
	assert_int_equal(trust_list(f->t, stop_after_first, &calls), 0);
	assert_int_equal(calls, -97);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern_parse_good),
		cmocka_unit_test(test_pattern_parse_bad),
		cmocka_unit_test(test_pattern_match_table),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test_setup_teardown(test_blank_list_allows_nobody, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_and_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_bad_entry_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_reloads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_callback_stops, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
