#include "digest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/digest.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>
#include <openssl/rand.h>

/* Nonces whose last nonce count is remembered; the oldest is forgotten
 * first (its nonce then fails as a replay would: the client gets a new one). */
#define DIGEST_NC_MAX 1024

struct nc_entry {
	char nonce[DIGEST_NONCE_LEN + 1];
	uint32_t nc;
	uint64_t used;               /* for eviction */
};

struct digest {
	uint8_t key[32];
	unsigned lifetime;
	uint64_t clock;
	struct nc_entry nc[DIGEST_NC_MAX];
};

int digest_new(unsigned lifetime, struct digest **out)
{
	struct digest *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	if (!RAND_bytes(d->key, sizeof(d->key))) {
		free(d);
		return -EIO;
	}
	d->lifetime = lifetime;
	*out = d;
	return 0;
}

void digest_free(struct digest *d)
{
	if (d)
		OPENSSL_cleanse(d->key, sizeof(d->key));
	free(d);
}

static void hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* nonce = hex(8-byte time, 4 random bytes) hex(first 16 bytes of
 * HMAC-SHA256(key, those 12 bytes)). */
static void nonce_make(const struct digest *d, uint64_t t, const uint8_t rnd[4], char out[DIGEST_NONCE_LEN + 1])
{
	uint8_t tb[12], mac[32];
	unsigned maclen;

	for (int i = 0; i < 8; i++)
		tb[i] = (uint8_t)(t >> (56 - 8 * i));
	memcpy(tb + 8, rnd, 4);
	HMAC(EVP_sha256(), d->key, sizeof(d->key), tb, sizeof(tb), mac, &maclen);
	hex(tb, 12, out);
	hex(mac, 16, out + 24);
}

void digest_nonce(struct digest *d, int64_t now, char out[DIGEST_NONCE_LEN + 1])
{
	uint8_t rnd[4];

	RAND_bytes(rnd, sizeof(rnd));
	nonce_make(d, (uint64_t)now, rnd, out);
}

/* 0: ours and fresh; -ESTALE: ours and old; -EACCES: not ours. */
static int nonce_check(const struct digest *d, const char *nonce, int64_t now)
{
	char want[DIGEST_NONCE_LEN + 1];
	uint8_t rnd[4] = { 0 };
	uint64_t t = 0;

	if (strlen(nonce) != DIGEST_NONCE_LEN)
		return -EACCES;
	for (int i = 0; i < 24; i++) {
		char c = nonce[i];
		unsigned v = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;

		if (v > 15)
			return -EACCES;
		if (i < 16)
			t = (t << 4) | v;
		else
			rnd[(i - 16) / 2] = (uint8_t)((rnd[(i - 16) / 2] << 4) | v);
	}
	nonce_make(d, t, rnd, want);
	if (CRYPTO_memcmp(want, nonce, DIGEST_NONCE_LEN) != 0)
		return -EACCES;
	if ((int64_t)t > now || now - (int64_t)t > (int64_t)d->lifetime)
		return -ESTALE;
	return 0;
}

/* Accepts nc only if it is higher than every count seen with this nonce. */
static int nc_check(struct digest *d, const char *nonce, uint32_t nc)
{
	struct nc_entry *slot = NULL, *oldest = &d->nc[0];

	for (size_t i = 0; i < DIGEST_NC_MAX; i++) {
		struct nc_entry *e = &d->nc[i];

		if (e->nonce[0] && strcmp(e->nonce, nonce) == 0) {
			slot = e;
			break;
		}
		if (e->used < oldest->used)
			oldest = e;
	}
	if (slot) {
		if (nc <= slot->nc)
			return -EALREADY;
	} else {
		slot = oldest;
		snprintf(slot->nonce, sizeof(slot->nonce), "%s", nonce);
	}
	slot->nc = nc;
	slot->used = ++d->clock;
	return 0;
}

static const EVP_MD *alg_md(enum users_digest_alg alg)
{
	return alg == USERS_DIGEST_MD5 ? EVP_md5() : EVP_sha256();
}

int digest_verify(struct digest *d, struct users *u, const struct digest_response *r, int64_t now,
		  char *role, size_t rolelen)
{
	uint8_t ha1[32], ha2[32], resp[32];
	char ha1hex[65], ha2hex[65], want[65];
	size_t ha1len, hexlen;
	unsigned int n;
	uint32_t nc;
	char *end;
	EVP_MD_CTX *ctx;
	int err;

	if (!r->username || !r->realm || !r->nonce || !r->nc || !r->cnonce || !r->qop || !r->method || !r->uri ||
	    !r->response)
		return -EINVAL;
	if (strcmp(r->qop, "auth") != 0 || strlen(r->nc) != 8 || !r->cnonce[0])
		return -EINVAL;
	nc = (uint32_t)strtoul(r->nc, &end, 16);
	if (*end || nc == 0)
		return -EINVAL;
	hexlen = r->alg == USERS_DIGEST_MD5 ? 32 : 64;
	if (strlen(r->response) != hexlen)
		return -EINVAL;
	if (strcmp(r->realm, USERS_DIGEST_REALM) != 0)
		return -EACCES;
	err = nonce_check(d, r->nonce, now);
	if (err)
		return err;
	err = users_digest_ha1(u, r->username, r->alg, ha1, &ha1len, role, rolelen);
	if (err)
		return err == -ENOENT ? -EACCES : err;
	hex(ha1, ha1len, ha1hex);
	OPENSSL_cleanse(ha1, sizeof(ha1));
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		OPENSSL_cleanse(ha1hex, sizeof(ha1hex));
		return -ENOMEM;
	}
	/* HA2 = H(method ":" uri) */
	EVP_DigestInit_ex(ctx, alg_md(r->alg), NULL);
	EVP_DigestUpdate(ctx, r->method, strlen(r->method));
	EVP_DigestUpdate(ctx, ":", 1);
	EVP_DigestUpdate(ctx, r->uri, strlen(r->uri));
	EVP_DigestFinal_ex(ctx, ha2, &n);
	hex(ha2, n, ha2hex);
	/* response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2) */
	EVP_DigestInit_ex(ctx, alg_md(r->alg), NULL);
	EVP_DigestUpdate(ctx, ha1hex, strlen(ha1hex));
	EVP_DigestUpdate(ctx, ":", 1);
	EVP_DigestUpdate(ctx, r->nonce, strlen(r->nonce));
	EVP_DigestUpdate(ctx, ":", 1);
	EVP_DigestUpdate(ctx, r->nc, strlen(r->nc));
	EVP_DigestUpdate(ctx, ":", 1);
	EVP_DigestUpdate(ctx, r->cnonce, strlen(r->cnonce));
	EVP_DigestUpdate(ctx, ":auth:", 6);
	EVP_DigestUpdate(ctx, ha2hex, strlen(ha2hex));
	EVP_DigestFinal_ex(ctx, resp, &n);
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(ha1hex, sizeof(ha1hex));
	hex(resp, n, want);
	{
		char got[65];
		size_t i;

		for (i = 0; i < hexlen; i++)
			got[i] = (char)((r->response[i] >= 'A' && r->response[i] <= 'F') ? r->response[i] + 32 : r->response[i]);
		got[i] = '\0';
		if (strlen(want) != hexlen || CRYPTO_memcmp(got, want, hexlen) != 0)
			return -EACCES;
	}
	/* Only a correct response consumes its nonce count. */
	return nc_check(d, r->nonce, nc);
}
