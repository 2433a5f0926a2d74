/* The HTTPS server key: load or generate, keep, sign handshakes. */
#include "tls.h"

#include "../../ipc/ipc.h"
#include "../common/config.h"
#include "../common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define TLS_VALID_DAYS    3650
/* Far above what handshakes need on a phone; a bound on what a hostile
 * aurid-http can make the executor spend. */
#define TLS_SIGN_PER_SEC  10000

struct tls_key {
	EVP_PKEY *pkey;
	char *chain;              /* PEM, leaf first */
	time_t window;            /* the second the counter is for */
	unsigned signs;
};

/* ---- input shape -------------------------------------------------------- */

static const char tls13_context[] = "TLS 1.3, server CertificateVerify";

int tls_sign_input_ok(const uint8_t *in, size_t len)
{
	size_t ctx_len = sizeof(tls13_context);   /* with its NUL, as RFC 8446 4.4.3 has it */

	/* TLS 1.3: 64 spaces, the context string, 0, the transcript hash (SHA-256 or -384). */
	if (len == 64 + ctx_len + 32 || len == 64 + ctx_len + 48) {
		size_t i;

		for (i = 0; i < 64 && in[i] == 0x20; i++)
			;
		if (i == 64 && memcmp(in + 64, tls13_context, ctx_len) == 0)
			return 1;
	}
	/* TLS 1.2: client random, server random, ServerECDHParams (named_curve, group, point). */
	if (len >= 64 + 4 && in[64] == 3 && len == 64 + 4 + (size_t)in[67] && in[67] > 0)
		return 1;
	return 0;
}

/* ---- files -------------------------------------------------------------- */

/* Writes data to path through a temporary file and a rename, so a crash leaves the old file or the new one. */
static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

static int bio_to_file(BIO *b, const char *path, mode_t mode)
{
	const uint8_t *data;
	size_t len;

	if (!BIO_mem_contents(b, &data, &len))
		return -EIO;
	return write_file(path, data, len, mode);
}

/* Reads a whole PEM file (bounded) into a NUL-terminated string. */
static int read_pem(const char *path, char **out, size_t max)
{
	char *buf;
	size_t len = 0;
	int fd, r = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			r = -EFBIG;
			break;
		}
	}
	close(fd);
	if (r) {
		OPENSSL_cleanse(buf, len);
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* ---- generation --------------------------------------------------------- */

static int add_ip(GENERAL_NAMES *gens, const char *text)
{
	unsigned char a[16];
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;
	GENERAL_NAME *g;
	ASN1_OCTET_STRING *ip;

	if (inet_pton(family, text, a) != 1)
		return -EINVAL;
	/* One SAN per address, even if the list names it twice. */
	for (size_t i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		int type;
		ASN1_OCTET_STRING *v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &type);

		if (type == GEN_IPADD && ASN1_STRING_length(v) == (family == AF_INET ? 4 : 16) &&
		    memcmp(ASN1_STRING_get0_data(v), a, (size_t)ASN1_STRING_length(v)) == 0)
			return 0;
	}
	g = GENERAL_NAME_new();
	ip = ASN1_OCTET_STRING_new();
	if (!g || !ip || !ASN1_OCTET_STRING_set(ip, a, family == AF_INET ? 4 : 16)) {
		GENERAL_NAME_free(g);
		ASN1_OCTET_STRING_free(ip);
		return -ENOMEM;
	}
	GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
	if (!sk_GENERAL_NAME_push(gens, g)) {
		GENERAL_NAME_free(g);
		return -ENOMEM;
	}
	return 0;
}

static int add_dns(GENERAL_NAMES *gens, const char *name)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (!g || !s || !ASN1_STRING_set(s, name, (int)strlen(name))) {
		GENERAL_NAME_free(g);
		ASN1_IA5STRING_free(s);
		return -ENOMEM;
	}
	GENERAL_NAME_set0_value(g, GEN_DNS, s);
	if (!sk_GENERAL_NAME_push(gens, g)) {
		GENERAL_NAME_free(g);
		return -ENOMEM;
	}
	return 0;
}

/*
 * The names a client may use to reach us: every address of
 * aurid.https.listen; a wildcard address stands for loopback (127.0.0.1 or
 * ::1) plus the host name, since the phone's own address may change.
 */
static int build_sans(const char *listen, GENERAL_NAMES *gens, char *cn, size_t cnlen)
{
	char buf[sizeof(((struct aurid_config *)0)->https_listen)];
	char *save = NULL;
	int wildcard = 0, r;

	snprintf(buf, sizeof(buf), "%s", listen);
	snprintf(cn, cnlen, "aurid");
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char host[64];
		unsigned port;

		while (*t == ' ' || *t == '\t')
			t++;
		if (*t == '\0' || config_split_hostport(t, host, sizeof(host), &port) < 0)
			continue;
		if (strcmp(host, "0.0.0.0") == 0) {
			r = add_ip(gens, "127.0.0.1");
			wildcard = 1;
		} else if (strcmp(host, "::") == 0) {
			r = add_ip(gens, "::1");
			wildcard = 1;
		} else {
			r = add_ip(gens, host);
			if (strcmp(cn, "aurid") == 0)
				snprintf(cn, cnlen, "%s", host);
		}
		if (r)
			return r;
	}
	if (wildcard) {
		char name[256] = "";

		if (gethostname(name, sizeof(name) - 1) == 0 && name[0] && strcmp(name, "localhost") != 0) {
			if ((r = add_dns(gens, name)) != 0)
				return r;
			snprintf(cn, cnlen, "%s", name);
		}
		if ((r = add_dns(gens, "localhost")) != 0)
			return r;
	}
	return 0;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, NULL, nid, value);
	int ok;

	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -ENOMEM;
}

static int generate(const struct aurid_config *cfg, const char *key_path, const char *cert_path,
		    char *err, size_t errlen)
{
	EC_KEY *ec = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	BIGNUM *serial = NULL;
	GENERAL_NAMES *gens = NULL;
	BIO *kb = NULL, *cb = NULL;
	char cn[256];
	int r = -ENOMEM;

	ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	pkey = EVP_PKEY_new();
	x = X509_new();
	serial = BN_new();
	gens = sk_GENERAL_NAME_new_null();
	kb = BIO_new(BIO_s_mem());
	cb = BIO_new(BIO_s_mem());
	if (!ec || !pkey || !x || !serial || !gens || !kb || !cb)
		goto out;
	if (!EC_KEY_generate_key(ec) || !EVP_PKEY_set1_EC_KEY(pkey, ec))
		goto crypto;
	/* 159 random bits: positive, at most 20 octets (RFC 5280 4.1.2.2). */
	if (!X509_set_version(x, X509_VERSION_3) || !BN_rand(serial, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)))
		goto crypto;
	/* An hour back: a client whose clock is a little behind still accepts it. */
	if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)TLS_VALID_DAYS * 86400))
		goto crypto;
	if ((r = build_sans(cfg->https_listen, gens, cn, sizeof(cn))) != 0) {
		snprintf(err, errlen, "aurid.https.listen: cannot make subject alternative names");
		goto out;
	}
	r = -ENOMEM;
	if (!X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8, (const uint8_t *)cn, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "O", MBSTRING_UTF8, (const uint8_t *)"aurid", -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)) || !X509_set_pubkey(x, pkey))
		goto crypto;
	if (sk_GENERAL_NAME_num(gens) > 0 && !X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT))
		goto crypto;
	if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") ||
	    !X509_sign(x, pkey, EVP_sha256()))
		goto crypto;
	if (!PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL) || !PEM_write_bio_X509(cb, x))
		goto crypto;
	/* The key first: a certificate without its key is useless, the reverse is regenerated. */
	if ((r = bio_to_file(kb, key_path, 0600)) != 0 || (r = bio_to_file(cb, cert_path, 0644)) != 0) {
		snprintf(err, errlen, "cannot write %s / %s: %s", key_path, cert_path, strerror(-r));
		goto out;
	}
	log_info("https: generated an ECDSA P-256 key and a self-signed certificate for %s (%s)", cn, cert_path);
	r = 0;
	goto out;
crypto:
	r = -EIO;
	snprintf(err, errlen, "cannot generate the HTTPS certificate: %s", ERR_reason_error_string(ERR_peek_last_error()));
out:
	ERR_clear_error();
	if (kb) {
		const uint8_t *d;
		size_t n;

		/* The PEM of the key must not stay in freed memory. */
		if (BIO_mem_contents(kb, &d, &n))
			OPENSSL_cleanse((void *)d, n);
		BIO_free(kb);
	}
	BIO_free(cb);
	GENERAL_NAMES_free(gens);
	BN_free(serial);
	X509_free(x);
	EVP_PKEY_free(pkey);
	EC_KEY_free(ec);
	return r;
}

/* ---- loading ------------------------------------------------------------ */

static int load(struct tls_key *k, const char *key_path, const char *cert_path, char *err, size_t errlen)
{
	char *kpem = NULL;
	BIO *b = NULL;
	X509 *leaf = NULL;
	EC_KEY *ec;
	int r;

	if ((r = read_pem(key_path, &kpem, 16384)) != 0) {
		snprintf(err, errlen, "cannot read the HTTPS key %s: %s%s", key_path, strerror(-r),
			 r == -EACCES ? " (it must be readable by the executor's user)" : "");
		return r;
	}
	if ((r = read_pem(cert_path, &k->chain, IPC_TLS_CHAIN_MAX - 1)) != 0) {
		snprintf(err, errlen, "cannot read the HTTPS certificate %s: %s%s", cert_path, strerror(-r),
			 r == -EFBIG ? " (a chain is sent to aurid-http in one message: at most 12 KiB of PEM)" : "");
		goto out;
	}
	r = -EINVAL;
	b = BIO_new_mem_buf(kpem, -1);
	k->pkey = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	b = BIO_new_mem_buf(k->chain, -1);
	leaf = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	if (!k->pkey || !leaf) {
		snprintf(err, errlen, "%s or %s is not a PEM key / certificate", key_path, cert_path);
		goto out;
	}
	ec = EVP_PKEY_get0_EC_KEY(k->pkey);
	if (!ec || EC_GROUP_get_curve_name(EC_KEY_get0_group(ec)) != NID_X9_62_prime256v1) {
		snprintf(err, errlen, "%s: only ECDSA P-256 keys are supported", key_path);
		goto out;
	}
	if (!X509_check_private_key(leaf, k->pkey)) {
		snprintf(err, errlen, "%s does not match the certificate %s", key_path, cert_path);
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	X509_free(leaf);
	BIO_free(b);
	if (kpem) {
		OPENSSL_cleanse(kpem, strlen(kpem));
		free(kpem);
	}
	return r;
}

int tls_key_open(const struct aurid_config *cfg, struct tls_key **out, char *err, size_t errlen)
{
	char key_path[PATH_MAX], cert_path[PATH_MAX];
	struct tls_key *k;
	int r;

	*out = NULL;
	if (!!cfg->https_cert[0] != !!cfg->https_key[0]) {
		snprintf(err, errlen, "aurid.https.cert and aurid.https.key must be set together");
		return -EINVAL;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	if (cfg->https_cert[0]) {
		snprintf(key_path, sizeof(key_path), "%s", cfg->https_key);
		snprintf(cert_path, sizeof(cert_path), "%s", cfg->https_cert);
	} else {
		struct stat st;

		if (snprintf(key_path, sizeof(key_path), "%s/" TLS_KEY_FILE, cfg->state_dir) >= (int)sizeof(key_path) ||
		    snprintf(cert_path, sizeof(cert_path), "%s/" TLS_CERT_FILE, cfg->state_dir) >= (int)sizeof(cert_path)) {
			free(k);
			return -ENAMETOOLONG;
		}
		/* Both or neither: a lone file is the remains of an interrupted first start. */
		if (stat(key_path, &st) < 0 || stat(cert_path, &st) < 0) {
			r = generate(cfg, key_path, cert_path, err, errlen);
			if (r) {
				free(k);
				return r;
			}
		}
	}
	r = load(k, key_path, cert_path, err, errlen);
	if (r) {
		tls_key_free(k);
		return r;
	}
	*out = k;
	return 0;
}

void tls_key_free(struct tls_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k->chain);
	free(k);
}

const char *tls_key_chain(const struct tls_key *k)
{
	return k->chain;
}

int tls_key_sign(struct tls_key *k, uint16_t alg, const uint8_t *in, size_t len, uint8_t *sig,
		 size_t sigcap, size_t *siglen)
{
	EVP_MD_CTX ctx;
	time_t now = time(NULL);
	size_t n = sigcap;
	int ok;

	*siglen = 0;
	if (alg != SSL_SIGN_ECDSA_SECP256R1_SHA256 || !tls_sign_input_ok(in, len))
		return -EINVAL;
	if (now != k->window) {
		k->window = now;
		k->signs = 0;
	}
	if (++k->signs > TLS_SIGN_PER_SEC)
		return -EAGAIN;
	EVP_MD_CTX_init(&ctx);
	ok = EVP_DigestSignInit(&ctx, NULL, EVP_sha256(), NULL, k->pkey) &&
	     EVP_DigestSign(&ctx, sig, &n, in, len);
	EVP_MD_CTX_cleanup(&ctx);
	ERR_clear_error();
	if (!ok)
		return -EIO;
	*siglen = n;
	return 0;
}
