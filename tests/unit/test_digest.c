/*
 * Digest verification against RFC 7616's own example (SHA-256 and MD5, user
 * "Mufasa", password "Circle of Life") adapted to our realm, plus nonces:
 * ours or forged, fresh or stale, and nonce-count replays.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/digest.h>

#include "services/exec/digest.h"
#include "services/exec/store.h"
#include "services/exec/users.h"

struct fixture {
	char dir[64];
	struct store *st;
	struct users *u;
	struct digest *d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128], err[128];

	snprintf(f->dir, sizeof(f->dir), "/tmp/aurid-digest-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/aurid.db", f->dir);
	assert_int_equal(store_open(path, &f->st), 0);
	assert_int_equal(users_init(f->st, &f->u), 0);
	assert_int_equal(users_add(f->u, "Mufasa", "user", "Circle of Life", err, sizeof(err)), 0);
	assert_int_equal(digest_new(300, &f->d), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	digest_free(f->d);
	users_free(f->u);
	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void hexdigest(const EVP_MD *md, const char *s, char *out)
{
	uint8_t h[32];
	unsigned n;

	EVP_Digest(s, strlen(s), h, &n, md, NULL);
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

/* What a client computes. */
static void client(const EVP_MD *md, const char *pw, const char *nonce, const char *nc, const char *uri,
		   char ha2[65], char resp[65])
{
	char ha1[65], buf[512];

	snprintf(buf, sizeof(buf), "Mufasa:%s:%s", USERS_DIGEST_REALM, pw);
	hexdigest(md, buf, ha1);
	snprintf(buf, sizeof(buf), "GET:%s", uri);
	hexdigest(md, buf, ha2);
	snprintf(buf, sizeof(buf), "%s:%s:%s:f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ:auth:%s", ha1, nonce, nc, ha2);
	hexdigest(md, buf, resp);
}

static int verify(struct fixture *f, enum users_digest_alg alg, const char *pw, const char *nonce, const char *nc,
		  int64_t now)
{
	const EVP_MD *md = alg == USERS_DIGEST_MD5 ? EVP_md5() : EVP_sha256();
	char ha2[65], resp[65];
	struct digest_response r = {
		.alg = alg, .username = "Mufasa", .realm = USERS_DIGEST_REALM, .nonce = nonce, .nc = nc,
		.cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", .qop = "auth", .method = "GET",
		.uri = "/dir/index.html", .response = resp,
	};

	client(md, pw, nonce, nc, "/dir/index.html", ha2, resp);
	return digest_verify(f->d, f->u, &r, now, NULL, 0);
}

static void test_valid_both_algorithms(void **state)
{
	struct fixture *f = *state;
	char nonce[DIGEST_NONCE_LEN + 1], other[DIGEST_NONCE_LEN + 1];

	digest_nonce(f->d, 1000, nonce);
	digest_nonce(f->d, 1000, other);
	assert_int_equal(strlen(nonce), DIGEST_NONCE_LEN);
	/* Two challenges in the same second get different nonces. */
	assert_string_not_equal(nonce, other);
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of Life", nonce, "00000001", 1001), 0);
	assert_int_equal(verify(f, USERS_DIGEST_MD5, "Circle of Life", other, "00000001", 1001), 0);
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of life", nonce, "00000002", 1001), -EACCES);
}

static void test_replay_and_counts(void **state)
{
	struct fixture *f = *state;
	char nonce[DIGEST_NONCE_LEN + 1];

	digest_nonce(f->d, 1000, nonce);
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of Life", nonce, "00000001", 1000), 0);
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of Life", nonce, "00000001", 1000), -EALREADY);
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of Life", nonce, "00000003", 1000), 0);
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of Life", nonce, "00000002", 1000), -EALREADY);
	/* A wrong password does not use up a count. */
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "wrong", nonce, "00000004", 1000), -EACCES);
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of Life", nonce, "00000004", 1000), 0);
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of Life", nonce, "00000000", 1000), -EINVAL);
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of Life", nonce, "1", 1000), -EINVAL);
}

static void test_stale_and_forged(void **state)
{
	struct fixture *f = *state;
	char nonce[DIGEST_NONCE_LEN + 1], forged[DIGEST_NONCE_LEN + 1];
	struct digest *other;

	digest_nonce(f->d, 1000, nonce);
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of Life", nonce, "00000001", 1301), -ESTALE);
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of Life", nonce, "00000001", 999), -ESTALE);
	/* The time changed, the MAC did not. */
	memcpy(forged, nonce, sizeof(forged));
	forged[15] = forged[15] == '0' ? '1' : '0';
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of Life", forged, "00000001", 1000), -EACCES);
	/* Another process's key (aurid-exec restarted): not ours. */
	assert_int_equal(digest_new(300, &other), 0);
	digest_nonce(other, 1000, forged);
	digest_free(other);
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of Life", forged, "00000001", 1000), -EACCES);
	assert_int_equal(verify(f, USERS_DIGEST_SHA256, "Circle of Life", "short", "00000001", 1000), -EACCES);
}

static void test_unknown_user_and_realm(void **state)
{
	struct fixture *f = *state;
	char nonce[DIGEST_NONCE_LEN + 1], ha2[65], resp[65];
	struct digest_response r = {
		.alg = USERS_DIGEST_SHA256, .username = "Scar", .realm = USERS_DIGEST_REALM, .nonce = nonce,
		.nc = "00000001", .cnonce = "x", .qop = "auth", .method = "GET", .uri = "/", .response = resp,
	};

	digest_nonce(f->d, 1000, nonce);
	client(EVP_sha256(), "Circle of Life", nonce, "00000001", "/", ha2, resp);
	assert_int_equal(digest_verify(f->d, f->u, &r, 1000, NULL, 0), -EACCES);
	r.username = "Mufasa";
	r.realm = "elsewhere";
	assert_int_equal(digest_verify(f->d, f->u, &r, 1000, NULL, 0), -EACCES);
	/* A response the client computed for "/" does not authorise another
	 * target: the verifier's HA2 is over the target it is given. */
	r.realm = USERS_DIGEST_REALM;
	r.cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
	r.uri = "/servlet?key=REBOOT";
	assert_int_equal(digest_verify(f->d, f->u, &r, 1000, NULL, 0), -EACCES);
	r.uri = "/";
	r.method = "POST";
	assert_int_equal(digest_verify(f->d, f->u, &r, 1000, NULL, 0), -EACCES);
	r.method = "GET";
	assert_int_equal(digest_verify(f->d, f->u, &r, 1000, NULL, 0), 0);
	r.realm = USERS_DIGEST_REALM;
	r.qop = "auth-int";
	assert_int_equal(digest_verify(f->d, f->u, &r, 1000, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_both_algorithms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_and_forged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_user_and_realm, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
