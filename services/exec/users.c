/*
 * Users and their password hashes (scrypt), the verified-credential memory,
 * and the first-start admin password.
 */
#include "users.h"
#include "services/common/clock.h"

#include "services/common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/digest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>
#include <openssl/rand.h>

/* RFC 7914's interactive-login cost: 16 MiB and about 50 ms per hash here. */
#define SCRYPT_N        16384
#define SCRYPT_R        8
#define SCRYPT_P        1
#define SCRYPT_PARAMS   "scrypt:N=16384,r=8,p=1"
/* Bounds on parameters read back from the database, so a tampered row
 * cannot make one login cost seconds or gigabytes. */
#define SCRYPT_N_MAX    (1u << 20)
#define SCRYPT_R_MAX    32
#define SCRYPT_P_MAX    16
#define SALT_LEN        16
#define HASH_LEN        32

#define NAME_MAX_LEN    32
#define PASS_MIN_LEN    8
#define PASS_MAX_LEN    128
#define ROLE_MAX_LEN    8

#define CACHE_MAX       64
#define CACHE_TTL_S     300

/* Unambiguous on a phone screen or a label: no 0/O/o, 1/l/I/i. */
static const char pw_alphabet[] = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
#define PW_GEN_LEN      20          /* 20 * log2(55) = 115 bits */
#define INITIAL_FILE    "initial-admin-password"

struct users_cache_entry {
	uint8_t mac[32];       /* HMAC(key, name NUL password) */
	char role[ROLE_MAX_LEN];
	int64_t expires;       /* 0: empty */
};

struct users {
	struct store *st;
	sqlite3_stmt *get, *get_ha1, *insert, *update, *count, *exists;
	uint8_t key[32];       /* per process: the memory is useless elsewhere */
	uint8_t dummy_salt[SALT_LEN];
	struct users_cache_entry cache[CACHE_MAX];
	uint64_t hits, misses;
	int64_t (*now)(void);
};

struct scrypt_params {
	uint64_t n, r, p;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool name_ok(const char *name)
{
	size_t n = strnlen(name, NAME_MAX_LEN + 1);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool password_ok(const char *pw)
{
	size_t n = strnlen(pw, PASS_MAX_LEN + 1);

	return n >= PASS_MIN_LEN && n <= PASS_MAX_LEN;
}

static bool role_ok(const char *role)
{
	return strcmp(role, "admin") == 0 || strcmp(role, "user") == 0;
}

static int params_parse(const char *text, struct scrypt_params *sp)
{
	unsigned long n, r, p;
	int end = 0;

	if (!text || sscanf(text, "scrypt:N=%lu,r=%lu,p=%lu%n", &n, &r, &p, &end) != 3 || text[end] != '\0')
		return -EINVAL;
	if (n < 2 || n > SCRYPT_N_MAX || (n & (n - 1)) || r < 1 || r > SCRYPT_R_MAX || p < 1 || p > SCRYPT_P_MAX)
		return -EINVAL;
	sp->n = n;
	sp->r = r;
	sp->p = p;
	return 0;
}

static int hash_password(const char *pw, const uint8_t *salt, size_t saltlen, const struct scrypt_params *sp,
			 uint8_t out[HASH_LEN])
{
	/* scrypt's working set is 128 * r * (N + p) bytes; room for it and
	 * BoringSSL's bookkeeping, no more. */
	size_t max_mem = (size_t)(128 * sp->r * (sp->n + sp->p + 2));

	if (!EVP_PBE_scrypt(pw, strlen(pw), salt, saltlen, sp->n, sp->r, sp->p, max_mem, out, HASH_LEN)) {
		log_err("users: scrypt failed (out of memory?)");
		return -ENOMEM;
	}
	return 0;
}

static const struct scrypt_params default_params = { SCRYPT_N, SCRYPT_R, SCRYPT_P };

int users_init(struct store *st, struct users **out)
{
	struct users *u = calloc(1, sizeof(*u));
	int err;

	*out = NULL;
	if (!u)
		return -ENOMEM;
#ifdef __GLIBC__
	/* Each scrypt allocates 16 MiB and frees it.  glibc's adaptive mmap
	 * threshold would move that block onto the heap after the first free
	 * and never give it back (measured: 21 MB resident after a few logins
	 * instead of 4.5 MB).  A fixed threshold keeps big blocks in mmap, so
	 * they return to the kernel as soon as the hash is done. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	u->st = st;
	u->now = clock_mono_s;
	if (!RAND_bytes(u->key, sizeof(u->key)) || !RAND_bytes(u->dummy_salt, sizeof(u->dummy_salt))) {
		free(u);
		return -EIO;
	}
	err = store_prepare(st, "SELECT role, hash, salt, params FROM users WHERE name = ?1", &u->get);
	if (!err)
		err = store_prepare(st, "SELECT role, ha1_md5, ha1_sha256 FROM users WHERE name = ?1", &u->get_ha1);
	if (!err)
		err = store_prepare(st, "INSERT OR IGNORE INTO users (name, role, hash, salt, params, created, changed,"
				    " ha1_md5, ha1_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)", &u->insert);
	if (!err)
		err = store_prepare(st, "UPDATE users SET hash = ?2, salt = ?3, params = ?4, changed = ?5,"
				    " ha1_md5 = ?6, ha1_sha256 = ?7 WHERE name = ?1", &u->update);
	if (!err)
		err = store_prepare(st, "SELECT count(*) FROM users", &u->count);
	if (!err)
		err = store_prepare(st, "SELECT count(*) FROM users WHERE name = ?1", &u->exists);
	if (err) {
		users_free(u);
		return err;
	}
	*out = u;
	return 0;
}

void users_free(struct users *u)
{
	if (!u)
		return;
	OPENSSL_cleanse(u, sizeof(*u));
	free(u);
}

void users_cache_stats(struct users *u, uint64_t *hits, uint64_t *misses)
{
	*hits = u->hits;
	*misses = u->misses;
}

void users_clock_set(struct users *u, int64_t (*now)(void))
{
	u->now = now ? now : clock_mono_s;
}

static void cache_clear(struct users *u)
{
	OPENSSL_cleanse(u->cache, sizeof(u->cache));
}

static void cache_mac(const struct users *u, const char *name, const char *pw, uint8_t mac[32])
{
	uint8_t buf[NAME_MAX_LEN + 1 + PASS_MAX_LEN];
	size_t nl = strlen(name), pl = strlen(pw);
	unsigned maclen = 32;

	/* The NUL keeps ("ab", "c...") and ("a", "bc...") apart; callers have
	 * checked both lengths. */
	memcpy(buf, name, nl);
	buf[nl] = '\0';
	memcpy(buf + nl + 1, pw, pl);
	HMAC(EVP_sha256(), u->key, sizeof(u->key), buf, nl + 1 + pl, mac, &maclen);
	OPENSSL_cleanse(buf, sizeof(buf));
}

static struct users_cache_entry *cache_find(struct users *u, const uint8_t mac[32], int64_t now)
{
	struct users_cache_entry *hit = NULL;

	for (int i = 0; i < CACHE_MAX; i++) {
		struct users_cache_entry *e = &u->cache[i];

		if (e->expires > now && CRYPTO_memcmp(e->mac, mac, 32) == 0)
			hit = e;
	}
	return hit;
}

static void cache_put(struct users *u, const uint8_t mac[32], const char *role, int64_t now)
{
	struct users_cache_entry *slot = &u->cache[0];

	/* The empty or oldest slot: with a fixed TTL, the soonest to expire. */
	for (int i = 1; i < CACHE_MAX && slot->expires; i++) {
		if (u->cache[i].expires < slot->expires)
			slot = &u->cache[i];
	}
	memcpy(slot->mac, mac, 32);
	snprintf(slot->role, sizeof(slot->role), "%s", role);
	slot->expires = now + CACHE_TTL_S;
}

static int role_copy(const char *role, char *role_out, size_t rolelen)
{
	size_t n = strlen(role);

	if (!role_out)
		return 0;
	if (n >= rolelen)
		return -ENOSPC;
	memcpy(role_out, role, n + 1);
	return 0;
}

int users_verify(struct users *u, const char *name, const char *password, char *role_out, size_t rolelen)
{
	uint8_t mac[32], want[HASH_LEN], got[HASH_LEN], salt[SALT_LEN * 4];
	char role[ROLE_MAX_LEN] = "";
	struct scrypt_params sp = default_params;
	struct users_cache_entry *hit;
	size_t saltlen = SALT_LEN;
	bool found = false, usable = false;
	int64_t now;
	int rc, err;

	if (!name_ok(name) || !password_ok(password))
		return -EACCES;
	now = u->now();
	cache_mac(u, name, password, mac);
	hit = cache_find(u, mac, now);
	if (hit) {
		u->hits++;
		return role_copy(hit->role, role_out, rolelen);
	}
	u->misses++;

	memset(want, 0, sizeof(want));
	memcpy(salt, u->dummy_salt, SALT_LEN);
	sqlite3_bind_text(u->get, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(u->get);
	if (rc == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(u->get, 0);
		const void *h = sqlite3_column_blob(u->get, 1);
		int hl = sqlite3_column_bytes(u->get, 1);
		const void *s = sqlite3_column_blob(u->get, 2);
		int sl = sqlite3_column_bytes(u->get, 2);
		struct scrypt_params stored;

		found = true;
		if (r && role_ok(r) && h && hl == HASH_LEN && s && sl > 0 && (size_t)sl <= sizeof(salt) &&
		    params_parse((const char *)sqlite3_column_text(u->get, 3), &stored) == 0) {
			snprintf(role, sizeof(role), "%s", r);
			memcpy(want, h, HASH_LEN);
			memcpy(salt, s, (size_t)sl);
			saltlen = (size_t)sl;
			sp = stored;
			usable = true;
		} else {
			log_warn("users: the stored hash of '%s' is unusable; reset its password", name);
		}
	}
	sqlite3_reset(u->get);
	sqlite3_clear_bindings(u->get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(u->st, rc, "users: lookup");

	/* An unknown user costs the same scrypt as a known one, so timing does
	 * not tell which names exist. */
	err = hash_password(password, salt, saltlen, &sp, got);
	if (err)
		return err;
	rc = CRYPTO_memcmp(got, want, HASH_LEN);
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_cleanse(want, sizeof(want));
	if (!found || !usable || rc != 0)
		return -EACCES;
	cache_put(u, mac, role, now);
	return role_copy(role, role_out, rolelen);
}

static int count_stmt(struct users *u, sqlite3_stmt *s, int *n)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? 0 : store_error(u->st, rc, "users: count");
}

int users_count(struct users *u, int *n)
{
	return count_stmt(u, u->count, n);
}

static int user_exists(struct users *u, const char *name, bool *yes)
{
	int n = 0, err;

	sqlite3_bind_text(u->exists, 1, name, -1, SQLITE_STATIC);
	err = count_stmt(u, u->exists, &n);
	*yes = n > 0;
	return err;
}

static int check_input(const char *name, const char *role, const char *password, char *err, size_t errlen)
{
	if (!name_ok(name)) {
		seterr(err, errlen, "user names are 1-%d characters of A-Z a-z 0-9 . _ -", NAME_MAX_LEN);
		return -EINVAL;
	}
	if (role && !role_ok(role)) {
		seterr(err, errlen, "the role is \"admin\" or \"user\"");
		return -EINVAL;
	}
	if (!password_ok(password)) {
		seterr(err, errlen, "passwords are %d-%d bytes", PASS_MIN_LEN, PASS_MAX_LEN);
		return -EINVAL;
	}
	return 0;
}

/* HA1 = H(name ":" realm ":" password), RFC 7616 section 3.4.2. */
static void digest_ha1(const EVP_MD *md, const char *name, const char *password, uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, md, NULL);
	EVP_DigestUpdate(ctx, name, strlen(name));
	EVP_DigestUpdate(ctx, ":" USERS_DIGEST_REALM ":", strlen(USERS_DIGEST_REALM) + 2);
	EVP_DigestUpdate(ctx, password, strlen(password));
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
}

int users_digest_ha1(struct users *u, const char *name, enum users_digest_alg alg, uint8_t ha1[32], size_t *len,
		     char *role_out, size_t rolelen)
{
	size_t want = alg == USERS_DIGEST_MD5 ? 16 : 32;
	int col = alg == USERS_DIGEST_MD5 ? 1 : 2;
	int rc, err = -ENOENT;

	if (!name_ok(name))
		return -ENOENT;
	sqlite3_bind_text(u->get_ha1, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(u->get_ha1);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(u->get_ha1, col) == (int)want) {
		memcpy(ha1, sqlite3_column_blob(u->get_ha1, col), want);
		*len = want;
		err = role_copy((const char *)sqlite3_column_text(u->get_ha1, 0), role_out, rolelen);
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		err = store_error(u->st, rc, "users: ha1");
	}
	sqlite3_reset(u->get_ha1);
	sqlite3_clear_bindings(u->get_ha1);
	return err;
}

static int new_hash(const char *password, uint8_t salt[SALT_LEN], uint8_t hash[HASH_LEN])
{
	if (!RAND_bytes(salt, SALT_LEN))
		return -EIO;
	return hash_password(password, salt, SALT_LEN, &default_params, hash);
}

int users_add(struct users *u, const char *name, const char *role, const char *password, char *err, size_t errlen)
{
	uint8_t salt[SALT_LEN], hash[HASH_LEN], ha1_md5[16], ha1_sha256[32];
	bool exists;
	int rc, e;

	e = check_input(name, role, password, err, errlen);
	if (e)
		return e;
	/* Checked first so a taken name does not cost a slow hash. */
	e = user_exists(u, name, &exists);
	if (e)
		return e;
	if (exists) {
		seterr(err, errlen, "user '%s' exists", name);
		return -EEXIST;
	}
	e = new_hash(password, salt, hash);
	if (e)
		return e;
	digest_ha1(EVP_md5(), name, password, ha1_md5);
	digest_ha1(EVP_sha256(), name, password, ha1_sha256);
	sqlite3_bind_blob(u->insert, 7, ha1_md5, sizeof(ha1_md5), SQLITE_STATIC);
	sqlite3_bind_blob(u->insert, 8, ha1_sha256, sizeof(ha1_sha256), SQLITE_STATIC);
	sqlite3_bind_text(u->insert, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(u->insert, 2, role, -1, SQLITE_STATIC);
	sqlite3_bind_blob(u->insert, 3, hash, HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(u->insert, 4, salt, SALT_LEN, SQLITE_STATIC);
	sqlite3_bind_text(u->insert, 5, SCRYPT_PARAMS, -1, SQLITE_STATIC);
	sqlite3_bind_int64(u->insert, 6, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(u->insert);
	sqlite3_reset(u->insert);
	sqlite3_clear_bindings(u->insert);
	OPENSSL_cleanse(hash, sizeof(hash));
	cache_clear(u);
	if (rc != SQLITE_DONE)
		return store_error(u->st, rc, "users: add");
	if (sqlite3_changes(u->st->db) == 0) {
		seterr(err, errlen, "user '%s' exists", name);
		return -EEXIST;
	}
	log_info("users: added %s (%s)", name, role);
	return 0;
}

int users_passwd(struct users *u, const char *name, const char *password, char *err, size_t errlen)
{
	uint8_t salt[SALT_LEN], hash[HASH_LEN], ha1_md5[16], ha1_sha256[32];
	bool exists;
	int rc, e;

	e = check_input(name, NULL, password, err, errlen);
	if (e)
		return e;
	e = user_exists(u, name, &exists);
	if (e)
		return e;
	if (!exists) {
		seterr(err, errlen, "no user '%s'", name);
		return -ENOENT;
	}
	e = new_hash(password, salt, hash);
	if (e)
		return e;
	digest_ha1(EVP_md5(), name, password, ha1_md5);
	digest_ha1(EVP_sha256(), name, password, ha1_sha256);
	sqlite3_bind_blob(u->update, 6, ha1_md5, sizeof(ha1_md5), SQLITE_STATIC);
	sqlite3_bind_blob(u->update, 7, ha1_sha256, sizeof(ha1_sha256), SQLITE_STATIC);
	sqlite3_bind_text(u->update, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(u->update, 2, hash, HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(u->update, 3, salt, SALT_LEN, SQLITE_STATIC);
	sqlite3_bind_text(u->update, 4, SCRYPT_PARAMS, -1, SQLITE_STATIC);
	sqlite3_bind_int64(u->update, 5, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(u->update);
	sqlite3_reset(u->update);
	sqlite3_clear_bindings(u->update);
	OPENSSL_cleanse(hash, sizeof(hash));
	/* Emptied whatever happened: the old password must stop working now,
	 * not when its memory expires. */
	cache_clear(u);
	if (rc != SQLITE_DONE)
		return store_error(u->st, rc, "users: passwd");
	if (sqlite3_changes(u->st->db) == 0) {
		seterr(err, errlen, "no user '%s'", name);
		return -ENOENT;
	}
	log_info("users: password of %s changed", name);
	return 0;
}

/* ---- first start ---- */

static void password_generate(char out[PW_GEN_LEN + 1])
{
	const unsigned n = sizeof(pw_alphabet) - 1;
	const unsigned limit = 256 - 256 % n;   /* rejection keeps it uniform */
	uint8_t b[PW_GEN_LEN * 2];
	size_t got = 0;

	while (got < PW_GEN_LEN) {
		RAND_bytes(b, sizeof(b));
		for (size_t i = 0; i < sizeof(b) && got < PW_GEN_LEN; i++) {
			if (b[i] < limit)
				out[got++] = pw_alphabet[b[i] % n];
		}
	}
	out[PW_GEN_LEN] = '\0';
	OPENSSL_cleanse(b, sizeof(b));
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

/*
 * Written, and made durable, before the admin row is committed: if we crash
 * in between, the next start finds no user and replaces the file, whose
 * password never worked.  O_EXCL|O_NOFOLLOW: never through a planted link.
 */
static int initial_file_write(const char *dir, const char *path, const char *pw)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	char line[PW_GEN_LEN + 2];
	size_t n = (size_t)snprintf(line, sizeof(line), "%s\n", pw);
	int fd, err = 0;

	fd = open(path, flags, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* Only called while no user exists: the old file is stale.
		 * unlink() removes a symlink itself, never its target. */
		if (unlink(path) < 0) {
			err = -errno;
			log_err("users: %s: %s", path, strerror(errno));
			return err;
		}
		fd = open(path, flags, 0600);
	}
	if (fd < 0) {
		err = -errno;
		log_err("users: %s: %s", path, strerror(errno));
		return err;
	}
	errno = 0;
	if (write(fd, line, n) != (ssize_t)n || fsync(fd) < 0)
		err = errno ? -errno : -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	OPENSSL_cleanse(line, sizeof(line));
	if (!err)
		err = fsync_dir(dir);
	if (err) {
		log_err("users: writing %s: %s", path, strerror(-err));
		unlink(path);
	}
	return err;
}

static void initial_file_remove(const char *path)
{
	if (unlink(path) == 0)
		log_info("users: removed %s (the admin password comes from aurid.admin.password)", path);
}

int users_bootstrap(struct users *u, const char *state_dir, const char *admin_password)
{
	char path[PATH_MAX], pw[PW_GEN_LEN + 1], why[128];
	bool configured = admin_password && admin_password[0];
	bool admin_exists;
	int n, err;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir, INITIAL_FILE) >= sizeof(path))
		return -ENAMETOOLONG;
	if (configured && !password_ok(admin_password)) {
		log_err("users: aurid.admin.password must be %d-%d bytes", PASS_MIN_LEN, PASS_MAX_LEN);
		return -EINVAL;
	}
	err = users_count(u, &n);
	if (err)
		return err;

	if (n == 0 && configured) {
		err = users_add(u, "admin", "admin", admin_password, why, sizeof(why));
		if (err) {
			log_err("users: creating admin: %s", why);
			return err;
		}
		initial_file_remove(path);
		return 0;
	}
	if (n == 0) {
		password_generate(pw);
		err = initial_file_write(state_dir, path, pw);
		if (!err)
			err = users_add(u, "admin", "admin", pw, why, sizeof(why));
		OPENSSL_cleanse(pw, sizeof(pw));
		if (err) {
			log_err("users: creating admin failed (%s)", strerror(-err));
			return err;
		}
		log_info("users: first start: the password of user admin is in %s", path);
		return 0;
	}
	if (!configured)
		return 0;

	err = user_exists(u, "admin", &admin_exists);
	if (err)
		return err;
	if (!admin_exists) {
		log_warn("users: aurid.admin.password is set but there is no user admin: ignored");
		return 0;
	}
	/* One slow hash per start to find out whether the config changed. */
	err = users_verify(u, "admin", admin_password, NULL, 0);
	if (err == 0) {
		uint8_t ha1[32];
		size_t len;

		/* A database from before Digest: give admin its HA1 now. */
		if (users_digest_ha1(u, "admin", USERS_DIGEST_SHA256, ha1, &len, NULL, 0) == -ENOENT)
			err = -EACCES;
	}
	if (err == -EACCES) {
		err = users_passwd(u, "admin", admin_password, why, sizeof(why));
		if (!err)
			log_info("users: admin password set from aurid.admin.password");
	}
	if (!err)
		initial_file_remove(path);
	return err;
}
