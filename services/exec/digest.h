/*
 * HTTP Digest authentication (RFC 7616, qop=auth, MD5 and SHA-256),
 * verified by the executor, which alone holds the HA1 values.
 *
 * Nonces are stateless: hex(issue time, 4 random bytes) followed by an HMAC
 * of both under a key made at start (the random bytes make every challenge's
 * nonce its own, so nonce counts never mix between clients), so any nonce this process issued is recognised without
 * a table, and one older than the lifetime is "stale" (the client retries
 * with a fresh one without asking the user again).  Replays are refused by
 * remembering the highest nonce count seen per nonce (bounded).
 */
#ifndef AURID_DIGEST_H
#define AURID_DIGEST_H

#include "users.h"

#include <stddef.h>
#include <stdint.h>

#define DIGEST_NONCE_LEN 56           /* hex chars, NUL not included */

struct digest;

/* lifetime: seconds a nonce is fresh. */
int digest_new(unsigned lifetime, struct digest **out);
void digest_free(struct digest *d);

/* A fresh nonce (DIGEST_NONCE_LEN hex chars + NUL). */
void digest_nonce(struct digest *d, int64_t now, char out[DIGEST_NONCE_LEN + 1]);

struct digest_response {
	enum users_digest_alg alg;
	const char *username;
	const char *realm;
	const char *nonce;
	const char *nc;               /* 8 hex digits */
	const char *cnonce;
	const char *qop;              /* "auth" */
	const char *method;           /* the request's method, as received */
	const char *uri;              /* the request's own target: HA2 = H(method ":" uri) is computed here */
	const char *response;         /* hex */
};

/*
 * 0: valid, *role set.  -EACCES: wrong (user, password, realm, response),
 * -ESTALE: a nonce of ours that is too old (answer 401 with stale=true),
 * -EALREADY: a replayed nonce count, -EINVAL: malformed fields.
 */
int digest_verify(struct digest *d, struct users *u, const struct digest_response *r, int64_t now,
		  char *role, size_t rolelen);

#endif
