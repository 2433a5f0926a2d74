/*
 * Web/Action URI users: name, role (admin|user) and a slow password hash
 * (scrypt from BoringSSL, N=2^14 r=8 p=1, 16-byte random salt).  A verified
 * (user, password) pair is remembered in memory for a few minutes as an HMAC
 * under a per-process random key, so scripted clients that send Basic
 * credentials with every request do not pay the slow hash each time; a
 * password change empties that memory.
 *
 * Cost: a verification that misses that memory takes one scrypt (about
 * 50 ms and 16 MiB, briefly); a hit takes one HMAC-SHA256 (about a
 * microsecond).  Call from the executor's loop thread only.
 *
 * HTTP Digest needs, per user, HA1 = H(user:realm:password) stored next to
 * the scrypt hash (computed when the password is set): not implemented yet.
 */
#ifndef AURID_USERS_H
#define AURID_USERS_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct users;

int users_init(struct store *st, struct users **out);
void users_free(struct users *u);

/*
 * First start: when no user exists, creates "admin" with admin_password if
 * set, else with a random password written once to
 * <state_dir>/initial-admin-password (mode 0600, O_EXCL); logs where it is.
 * When admin_password is set and admin exists, the admin password follows it.
 */
int users_bootstrap(struct users *u, const char *state_dir, const char *admin_password);

/* 0: valid.  -EACCES: unknown user or wrong password (same answer, and the
 * same slow work for an unknown user; a name or password that breaks the
 * rules below is refused at once, as those rules are public).  -EIO on a
 * database error.  role_out may be NULL (else -ENOSPC if too small). */
int users_verify(struct users *u, const char *name, const char *password, char *role_out, size_t rolelen);

/* Names: 1-32 of [A-Za-z0-9._-]; roles "admin" or "user"; passwords 8-128
 * bytes.  add: -EEXIST.  passwd: -ENOENT.  -EINVAL with err for bad input. */
int users_add(struct users *u, const char *name, const char *role, const char *password, char *err, size_t errlen);
int users_passwd(struct users *u, const char *name, const char *password, char *err, size_t errlen);
int users_count(struct users *u, int *n);

/* The realm of HTTP Digest: part of every HA1, so it cannot change without
 * every password being set again. */
#define USERS_DIGEST_REALM "aurid"

enum users_digest_alg { USERS_DIGEST_MD5 = 1, USERS_DIGEST_SHA256 = 2 };

/* HA1 of name for alg (16 or 32 bytes into ha1[32]); -ENOENT for an
 * unknown user or one with no HA1 yet.  *role_out as users_verify. */
int users_digest_ha1(struct users *u, const char *name, enum users_digest_alg alg, uint8_t ha1[32], size_t *len,
		     char *role_out, size_t rolelen);

/* How often users_verify() was answered from the verified-credential memory
 * (hits) or needed the slow hash (misses); for status and tests. */
void users_cache_stats(struct users *u, uint64_t *hits, uint64_t *misses);
/* Replaces the monotonic clock (seconds) the credential memory expires by;
 * for tests.  NULL restores CLOCK_MONOTONIC. */
void users_clock_set(struct users *u, int64_t (*now)(void));

#endif
