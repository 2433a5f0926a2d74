/*
 * aurid-http's half of HTTPS with the key in the executor: the certificate
 * chain the executor sends when the channel comes up, and the handshake
 * signatures asked of it, matched back to their connections by id.
 */
#include "frontend.h"

#include "../common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int frontend_tls_sign(void *arg, struct http_conn *c, uint16_t alg, const uint8_t *in, size_t len)
{
	struct frontend *fe = arg;
	struct ipc_tls_sign_req req;
	struct pending_sign *p;
	uint32_t id = fe->sign_next;

	if (!fe->exec)
		return -ENOTCONN;
	if (len > sizeof(req.in))
		return -EMSGSIZE;
	/* Bounded: a burst of handshakes beyond this fails rather than queueing without end. */
	p = &fe->signs[id & (FRONTEND_SIGNS_MAX - 1)];
	if (p->in_use || fe->nsigns >= FRONTEND_SIGNS_MAX) {
		log_debug("https: %u signatures in flight: refusing a handshake", fe->nsigns);
		return -EBUSY;
	}
	req.alg = alg;
	req.in_len = (uint16_t)len;
	memcpy(req.in, in, len);
	if (uvchan_send(fe->exec, IPC_TLS_SIGN_REQ, id, &req, -1) != 0)
		return -EPIPE;
	fe->sign_next++;
	p->conn = c;
	p->id = id;
	p->in_use = true;
	fe->nsigns++;
	return 0;
}

void frontend_tls_sign_res(struct frontend *fe, uint32_t id, const struct ipc_tls_sign_res *m)
{
	struct pending_sign *p = &fe->signs[id & (FRONTEND_SIGNS_MAX - 1)];

	if (!p->in_use || p->id != id) {
		log_warn("https: signature %u from the executor matches no handshake", id);
		return;
	}
	p->in_use = false;
	fe->nsigns--;
	if (m->ok)
		http_tls_sign_done(p->conn, m->sig, m->sig_len);
	else
		http_tls_sign_done(p->conn, NULL, 0);
}

void frontend_tls_fail_all(struct frontend *fe)
{
	for (size_t i = 0; i < FRONTEND_SIGNS_MAX; i++) {
		struct pending_sign *p = &fe->signs[i];

		if (p->in_use) {
			p->in_use = false;
			http_tls_sign_done(p->conn, NULL, 0);
		}
	}
	fe->nsigns = 0;
}

void frontend_tls_cert(struct frontend *fe, const struct ipc_tls_cert *m)
{
	if (!fe->srv) {
		log_warn("https: a certificate before the server runs: ignored");
		return;
	}
	if (http_server_set_certificate(fe->srv, m->chain) == 0)
		log_info("https: certificate from the executor installed");
}
