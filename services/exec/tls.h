/*
 * The HTTPS server key, held by aurid-exec alone (DESIGN.md section 1):
 * aurid-http gets the certificate chain and asks for one signature per full
 * handshake over IPC (IPC_TLS_SIGN_REQ), the way relayd and OpenSMTPD keep
 * their keys out of the process that faces the network.
 *
 * The key and certificate come from aurid.https.key / aurid.https.cert
 * (PEM files the exec user must be able to read: the supervisor does not
 * open them on its behalf, so a key readable only by root is refused at
 * start with a message saying so), or, when those are unset, from
 * <state_dir>/https.key (0600) and <state_dir>/https.crt, generated on first
 * start: ECDSA P-256, self-signed, ~10 years, the aurid.https.listen
 * addresses as subject alternative names, and kept across restarts.
 */
#ifndef AURID_EXEC_TLS_H
#define AURID_EXEC_TLS_H

#include "../common/config.h"

#include <stddef.h>
#include <stdint.h>

#define TLS_KEY_FILE  "https.key"
#define TLS_CERT_FILE "https.crt"

struct tls_key;

/* Loads or generates the key and certificate.  0 or -errno; err says why. */
int tls_key_open(const struct aurid_config *cfg, struct tls_key **out, char *err, size_t errlen);
void tls_key_free(struct tls_key *k);

/* The certificate chain as PEM (leaf first), NUL-terminated. */
const char *tls_key_chain(const struct tls_key *k);

/*
 * Signs in with the key, if alg is ecdsa_secp256r1_sha256 and in has the
 * shape of what a TLS server signs (a TLS 1.3 server CertificateVerify or a
 * TLS 1.2 ECDHE ServerKeyExchange), so that a compromised aurid-http cannot
 * use the executor as a general signing oracle.  0, -EINVAL (refused),
 * -EAGAIN (over the rate cap), -EIO.
 */
int tls_key_sign(struct tls_key *k, uint16_t alg, const uint8_t *in, size_t len, uint8_t *sig,
		 size_t sigcap, size_t *siglen);

/* The shape check alone (for tests). */
int tls_sign_input_ok(const uint8_t *in, size_t len);

#endif
