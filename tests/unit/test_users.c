/*
 * users: scrypt verification, the verified-credential memory, first start.
 * Each scrypt costs about 50 ms (more under sanitizers), so the slow paths
 * are exercised a few times only.
 */
#include "services/exec/users.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

struct fixture {
	struct tu_db db;
	char initial[128];
	struct users *u;
};

static int64_t fake_now = 1000;

static int64_t fake_clock(void)
{
	return fake_now;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || tu_db_open(&f->db, "users"))
		return -1;
	snprintf(f->initial, sizeof(f->initial), "%s/initial-admin-password", f->db.dir);
	if (users_init(f->db.st, &f->u))
		return -1;
	fake_now = 1000;
	users_clock_set(f->u, fake_clock);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int r;

	users_free(f->u);
	r = tu_db_remove(&f->db);
	free(f);
	return r;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void stats(struct users *u, uint64_t *hits, uint64_t *misses)
{
	users_cache_stats(u, hits, misses);
}

static void test_verify_right_wrong_unknown(void **state)
{
	struct fixture *f = *state;
	uint64_t t0, t_wrong, t_unknown, t_hit, hits, misses;
	char role[8] = "", err[128];

	assert_int_equal(users_add(f->u, "alice", "user", "correct horse", err, sizeof(err)), 0);
	assert_int_equal(users_verify(f->u, "alice", "correct horse", role, sizeof(role)), 0);
	assert_string_equal(role, "user");

	t0 = now_ns();
	assert_int_equal(users_verify(f->u, "alice", "correct horsE", NULL, 0), -EACCES);
	t_wrong = now_ns() - t0;
	t0 = now_ns();
	assert_int_equal(users_verify(f->u, "mallory", "correct horse", NULL, 0), -EACCES);
	t_unknown = now_ns() - t0;
	/* An unknown name costs the same slow hash: timing does not reveal
	 * which names exist. */
	assert_true(t_unknown > t_wrong / 4);
	assert_true(t_wrong > 5000000);   /* a real slow hash: more than 5 ms */

	t0 = now_ns();
	assert_int_equal(users_verify(f->u, "alice", "correct horse", role, sizeof(role)), 0);
	t_hit = now_ns() - t0;
	stats(f->u, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 3);
	print_message("verify: miss (scrypt) %.1f ms, unknown user %.1f ms, hit %.1f us\n", t_wrong / 1e6,
		      t_unknown / 1e6, t_hit / 1e3);
	assert_true(t_hit < t_wrong / 10);

	/* A wrong password never comes from the memory, even right after a hit,
	 * and is never put into it. */
	assert_int_equal(users_verify(f->u, "alice", "correct horsE", NULL, 0), -EACCES);
	stats(f->u, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 4);
	/* Names are case-sensitive. */
	assert_int_equal(users_verify(f->u, "Alice", "correct horse", NULL, 0), -EACCES);
	assert_int_equal(users_verify(f->u, "alice", "correct horse", role, 2), -ENOSPC);
}

static void test_passwd_empties_memory(void **state)
{
	struct fixture *f = *state;
	uint64_t hits, misses;
	char role[8], err[128];

	assert_int_equal(users_add(f->u, "bob", "admin", "first password", err, sizeof(err)), 0);
	assert_int_equal(users_verify(f->u, "bob", "first password", role, sizeof(role)), 0);
	assert_string_equal(role, "admin");
	assert_int_equal(users_verify(f->u, "bob", "first password", NULL, 0), 0);
	stats(f->u, &hits, &misses);
	assert_int_equal(hits, 1);

	assert_int_equal(users_passwd(f->u, "bob", "second password", err, sizeof(err)), 0);
	/* The old password stops working at once, though it was remembered. */
	assert_int_equal(users_verify(f->u, "bob", "first password", NULL, 0), -EACCES);
	assert_int_equal(users_verify(f->u, "bob", "second password", NULL, 0), 0);
	stats(f->u, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 3);
	assert_int_equal(users_passwd(f->u, "nobody", "some password", err, sizeof(err)), -ENOENT);
}

static void test_memory_expires(void **state)
{
	struct fixture *f = *state;
	uint64_t hits, misses;
	char err[128];

	assert_int_equal(users_add(f->u, "carol", "user", "carols password", err, sizeof(err)), 0);
	assert_int_equal(users_verify(f->u, "carol", "carols password", NULL, 0), 0);
	fake_now += 299;
	assert_int_equal(users_verify(f->u, "carol", "carols password", NULL, 0), 0);
	stats(f->u, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 1);
	fake_now += 2;   /* 301 s after it was remembered */
	assert_int_equal(users_verify(f->u, "carol", "carols password", NULL, 0), 0);
	stats(f->u, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 2);
}

/* Rules are checked before any slow hash or database change. */
static void test_bad_input(void **state)
{
	struct fixture *f = *state;
	static const char *const bad_names[] = { "", "a b", "ab:c", "\xc3\xa9t\xc3\xa9", "a/b",
						 "abcdefghijabcdefghijabcdefghijabc" };
	char long_pw[130], err[128];
	uint64_t hits, misses;
	int n = -1;

	memset(long_pw, 'p', 129);
	long_pw[129] = '\0';
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		err[0] = '\0';
		assert_int_equal(users_add(f->u, bad_names[i], "user", "good password", err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(users_add(f->u, "dave", "root", "good password", err, sizeof(err)), -EINVAL);
	assert_int_equal(users_add(f->u, "dave", "user", "short", err, sizeof(err)), -EINVAL);
	assert_int_equal(users_add(f->u, "dave", "user", long_pw, err, sizeof(err)), -EINVAL);
	assert_int_equal(users_count(f->u, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(users_verify(f->u, "a b", "good password", NULL, 0), -EACCES);
	assert_int_equal(users_verify(f->u, "dave", long_pw, NULL, 0), -EACCES);
	stats(f->u, &hits, &misses);
	assert_int_equal(hits + misses, 0);

	/* 32 characters is the longest name; 128 bytes the longest password. */
	long_pw[128] = '\0';
	assert_int_equal(users_add(f->u, "abcdefghijabcdefghijabcdefghij.-", "user", long_pw, err, sizeof(err)), 0);
	assert_int_equal(users_add(f->u, "abcdefghijabcdefghijabcdefghij.-", "admin", "other password", err,
				   sizeof(err)), -EEXIST);
	assert_int_equal(users_count(f->u, &n), 0);
	assert_int_equal(n, 1);
}

static void read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	close(fd);
}

static void check_initial_file(struct fixture *f, char *pw, size_t size)
{
	struct stat sb;
	size_t n;

	assert_int_equal(lstat(f->initial, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	read_file(f->initial, pw, size);
	n = strlen(pw);
	assert_true(n >= 17);
	assert_int_equal(pw[n - 1], '\n');
	pw[n - 1] = '\0';
	assert_true(strlen(pw) >= 16);
	/* Unambiguous alphabet: no 0 O o 1 l I i. */
	assert_int_equal(strcspn(pw, "0Oo1lIi \t"), strlen(pw));
}

static void test_bootstrap_generates_password(void **state)
{
	struct fixture *f = *state;
	char pw[64], again[64], role[8];
	int n = -1;

	assert_int_equal(users_bootstrap(f->u, f->db.dir, NULL), 0);
	check_initial_file(f, pw, sizeof(pw));
	assert_int_equal(users_verify(f->u, "admin", pw, role, sizeof(role)), 0);
	assert_string_equal(role, "admin");
	/* Later starts leave it alone. */
	assert_int_equal(users_bootstrap(f->u, f->db.dir, ""), 0);
	read_file(f->initial, again, sizeof(again));
	again[strlen(again) - 1] = '\0';
	assert_string_equal(pw, again);
	assert_int_equal(users_count(f->u, &n), 0);
	assert_int_equal(n, 1);
}

/* A file left by a start that never created its user is replaced, and a
 * planted symlink is replaced, never followed. */
static void test_bootstrap_replaces_stale_file(void **state)
{
	struct fixture *f = *state;
	char target[160], pw[64], buf[64];

	snprintf(target, sizeof(target), "%s/target", f->db.dir);
	{
		int fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0644);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "keep\n", 5), 5);
		close(fd);
	}
	assert_int_equal(symlink(target, f->initial), 0);
	assert_int_equal(users_bootstrap(f->u, f->db.dir, NULL), 0);
	check_initial_file(f, pw, sizeof(pw));
	read_file(target, buf, sizeof(buf));
	assert_string_equal(buf, "keep\n");
	assert_int_equal(users_verify(f->u, "admin", pw, NULL, 0), 0);
}

static void test_bootstrap_configured_password(void **state)
{
	struct fixture *f = *state;
	struct stat sb;
	char role[8];

	assert_int_equal(users_bootstrap(f->u, f->db.dir, "short"), -EINVAL);
	assert_int_equal(users_bootstrap(f->u, f->db.dir, "from the config"), 0);
	assert_int_equal(lstat(f->initial, &sb), -1);
	assert_int_equal(users_verify(f->u, "admin", "from the config", role, sizeof(role)), 0);
	assert_string_equal(role, "admin");
	/* The admin password follows the config. */
	assert_int_equal(users_bootstrap(f->u, f->db.dir, "changed in config"), 0);
	assert_int_equal(users_verify(f->u, "admin", "from the config", NULL, 0), -EACCES);
	assert_int_equal(users_verify(f->u, "admin", "changed in config", NULL, 0), 0);
}

/* A generated password is superseded (and its file removed) once the config
 * sets one. */
static void test_bootstrap_config_supersedes_file(void **state)
{
	struct fixture *f = *state;
	struct stat sb;
	char pw[64];

	assert_int_equal(users_bootstrap(f->u, f->db.dir, NULL), 0);
	check_initial_file(f, pw, sizeof(pw));
	assert_int_equal(users_bootstrap(f->u, f->db.dir, "set by provisioning"), 0);
	assert_int_equal(lstat(f->initial, &sb), -1);
	assert_int_equal(users_verify(f->u, "admin", pw, NULL, 0), -EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verify_right_wrong_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passwd_empties_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_generates_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_replaces_stale_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_configured_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_config_supersedes_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
