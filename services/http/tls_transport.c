/*
 * HTTPS as a transport under the HTTP code, with memory BIOs: ciphertext
 * from the socket goes into the SSL, plaintext out of SSL_read goes where a
 * plain read would have gone (conn_got), answers go through SSL_write and
 * the SSL's output to the socket by the one write path (http_sock_write).
 * The parser, the limits and the timers see plaintext only.  The
 * handshake's signature is made by aurid-exec (the private key method
 * below); the connection waits for it like it waits for an answer, and is
 * not freed while it is outstanding (the transport's busy()).
 */
#include "conn.h"

#include "services/common/log.h"

#include <errno.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_TLS_RBUF       (16 * 1024 + 512)  /* one TLS record and its overhead */
#define HTTP_TLS_CIPHER_MAX (64 * 1024)   /* ciphertext kept in the SSL before reading stops */

struct http_tls_conn {
	SSL *ssl;
	BIO *rbio, *wbio;                     /* owned by ssl */
	size_t sig_len;
	uint8_t sig[HTTP_TLS_SIG_MAX];
	unsigned ready : 1;                   /* the handshake is complete */
	unsigned signing : 1;                 /* a signature is being made elsewhere */
	unsigned sig_failed : 1;
	unsigned pumping : 1;                 /* inside tls_pump */
	unsigned again : 1;                   /* tls_pump was asked for meanwhile */
	char cbuf[HTTP_TLS_RBUF];             /* ciphertext read from the socket */
};

/* The SSL's output (handshake records, answers, alerts) to the socket. */
static void tls_send_out(struct http_conn *c)
{
	const uint8_t *data;
	size_t len;

	if (c->closing || !BIO_mem_contents(c->tls->wbio, &data, &len) || len == 0)
		return;
	/* Sent, or copied into the write queue: either way the BIO's bytes are done. */
	if (http_sock_write(c, (const char *)data, len, NULL) >= 0)
		BIO_reset(c->tls->wbio);
}

static void tls_fail(struct http_conn *c, const char *what)
{
	unsigned long e = ERR_peek_last_error();

	c->srv->stats.tls_failed++;
	log_debug("http: %s:%u: TLS %s: %s", c->peer, c->peer_port, what,
		  e ? ERR_reason_error_string(e) : "no reason");
	ERR_clear_error();
	/* The alert, if the SSL made one, goes out before the close. */
	tls_send_out(c);
	conn_close(c);
}

/*
 * Drive the SSL: the handshake until it completes, then plaintext into
 * rbuf while the plain side reads, then whatever the SSL wants to send.
 * Re-entered from below (an answer given at once resumes reading): the
 * inner call only asks the outer one to go round again.
 */
static void tls_pump(struct http_conn *c)
{
	struct http_tls_conn *t = c->tls;

	if (t->pumping) {
		t->again = 1;
		return;
	}
	t->pumping = 1;
	do {
		t->again = 0;
		if (!t->ready) {
			int r, e;

			if (t->signing)
				break;
			r = SSL_do_handshake(t->ssl);
			if (r != 1) {
				e = SSL_get_error(t->ssl, r);
				if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_PRIVATE_KEY_OPERATION)
					tls_fail(c, "handshake");
				break;
			}
			t->ready = 1;
			c->srv->stats.tls_handshakes++;
			conn_timer_stop(c);
			conn_timer_arm(c, TIMER_IDLE, c->srv->lim.idle_timeout_ms);
		}
		while (c->reading && !c->closing) {
			size_t room = conn_rbuf_room(c);
			int n, e;

			if (room == 0) {
				conn_read_stop(c);
				break;
			}
			n = SSL_read(t->ssl, c->rbuf + c->rlen, room > INT_MAX ? INT_MAX : (int)room);
			if (n > 0) {
				conn_got(c, (size_t)n);
				continue;
			}
			e = SSL_get_error(t->ssl, n);
			if (e == SSL_ERROR_WANT_READ)
				break;
			if (e == SSL_ERROR_ZERO_RETURN) {
				/* close_notify: the client's end, as EOF is for plain HTTP. */
				ERR_clear_error();
				conn_eof(c);
				break;
			}
			tls_fail(c, "read");
			break;
		}
	} while (t->again && !c->closing);
	t->pumping = 0;
	if (!c->closing)
		tls_send_out(c);
}

static enum ssl_private_key_result_t pk_sign(SSL *ssl, uint8_t *out, size_t *out_len, size_t max_out,
					     uint16_t alg, const uint8_t *in, size_t in_len)
{
	struct http_conn *c = SSL_get_app_data(ssl);
	struct http_server *s = c->srv;

	(void)out;
	(void)max_out;
	*out_len = 0;
	if (alg != SSL_SIGN_ECDSA_SECP256R1_SHA256 || !s->tls_ops.sign)
		return ssl_private_key_failure;
	c->tls->sig_len = 0;
	c->tls->sig_failed = 0;
	if (s->tls_ops.sign(s->tls_ops.arg, c, alg, in, in_len) < 0)
		return ssl_private_key_failure;
	c->tls->signing = 1;
	return ssl_private_key_retry;
}

static enum ssl_private_key_result_t pk_complete(SSL *ssl, uint8_t *out, size_t *out_len, size_t max_out)
{
	struct http_conn *c = SSL_get_app_data(ssl);
	struct http_tls_conn *t = c->tls;

	if (t->signing)
		return ssl_private_key_retry;
	if (t->sig_failed || t->sig_len == 0 || t->sig_len > max_out)
		return ssl_private_key_failure;
	memcpy(out, t->sig, t->sig_len);
	*out_len = t->sig_len;
	return ssl_private_key_success;
}

static const SSL_PRIVATE_KEY_METHOD pk_method = {
	.sign = pk_sign,
	.decrypt = NULL,
	.complete = pk_complete,
};

void http_tls_sign_done(struct http_conn *c, const uint8_t *sig, size_t len)
{
	struct http_tls_conn *t = c ? c->tls : NULL;

	if (!t || !t->signing) {
		log_err("http: a signature for a connection that asked for none");
		return;
	}
	t->signing = 0;
	if (len == 0 || len > sizeof(t->sig)) {
		t->sig_failed = 1;
	} else {
		memcpy(t->sig, sig, len);
		t->sig_len = len;
	}
	if (c->closing) {
		/* Timed out or stopped meanwhile: the memory waited only for this. */
		if (c->nhandles == 0 && !c->pending)
			conn_free(c);
		return;
	}
	tls_pump(c);
}

/* ---- the transport ------------------------------------------------------ */

static void tls_alloc(struct http_conn *c, uv_buf_t *buf)
{
	*buf = uv_buf_init(c->tls->cbuf, sizeof(c->tls->cbuf));
}

static void tls_received(struct http_conn *c, const char *at, size_t n)
{
	/* n is at most sizeof(cbuf): it fits an int. */
	if (BIO_write(c->tls->rbio, at, (int)n) != (int)n) {
		conn_close(c);
		return;
	}
	tls_pump(c);
	/* Bounded like rbuf: what the SSL holds unread stops the reading. */
	if (!c->closing && BIO_pending(c->tls->rbio) > HTTP_TLS_CIPHER_MAX)
		conn_read_stop(c);
}

/* Into records in the memory BIO (which takes it all), then to the socket. */
static void tls_send(struct http_conn *c, struct http_wbuf *w)
{
	if (!c->tls->ready || w->len > INT_MAX || SSL_write(c->tls->ssl, w->data, (int)w->len) != (int)w->len) {
		ERR_clear_error();
		conn_close(c);
		return;
	}
	http_wbuf_sent(c, w);
	tls_send_out(c);
}

/* Plaintext may wait in the SSL: no socket event would announce it. */
static void tls_resume(struct http_conn *c)
{
	if (c->tls->ready && (SSL_pending(c->tls->ssl) > 0 || BIO_pending(c->tls->rbio) > 0))
		tls_pump(c);
}

/* close_notify before FIN: the client can tell our end from a truncation. */
static void tls_end(struct http_conn *c)
{
	if (!c->tls->ready)
		return;
	SSL_shutdown(c->tls->ssl);
	ERR_clear_error();
	tls_send_out(c);
}

static bool tls_busy(const struct http_conn *c)
{
	return c->tls->signing;
}

static void tls_release(struct http_conn *c)
{
	SSL_free(c->tls->ssl);
	free(c->tls);
	c->tls = NULL;
}

static const struct http_transport tls_transport = {
	.alloc = tls_alloc,
	.received = tls_received,
	.send = tls_send,
	.resume = tls_resume,
	.end = tls_end,
	.busy = tls_busy,
	.release = tls_release,
};

/* c speaks TLS from now on: its SSL, waiting for a ClientHello.  0 or -ENOMEM. */
int http_tls_conn_new(struct http_conn *c)
{
	struct http_tls_conn *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->ssl = SSL_new(c->srv->tls_ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->rbio || !t->wbio) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_accept_state(t->ssl);
	SSL_set_app_data(t->ssl, c);
	c->tls = t;
	c->tx = &tls_transport;
	return 0;
}

int http_server_set_certificate(struct http_server *s, const char *pem)
{
	static const uint16_t sigalgs[] = { SSL_SIGN_ECDSA_SECP256R1_SHA256 };
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = NULL;
	EVP_PKEY *pub = NULL;
	int r = -EINVAL;

	if (!ctx || !b) {
		r = -ENOMEM;
		goto out;
	}
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	pub = x ? X509_get_pubkey(x) : NULL;
	/* The executor signs with ECDSA P-256 only: any other key could not complete a handshake. */
	if (!pub || EVP_PKEY_id(pub) != EVP_PKEY_EC || EVP_PKEY_bits(pub) != 256 || !SSL_CTX_use_certificate(ctx, x))
		goto out;
	for (;;) {
		X509 *extra = PEM_read_bio_X509(b, NULL, NULL, NULL);

		if (!extra)
			break;
		if (!SSL_CTX_add0_chain_cert(ctx, extra)) {
			X509_free(extra);
			goto out;
		}
	}
	/*
	 * TLS 1.2 and 1.3 only; in 1.2 only ECDHE with AEAD (1.3 has nothing
	 * else); X25519 and P-256; and the one signature the executor makes.
	 */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_strict_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
						"ECDHE-ECDSA-CHACHA20-POLY1305") ||
	    !SSL_CTX_set1_curves_list(ctx, "X25519:P-256") ||
	    !SSL_CTX_set_signing_algorithm_prefs(ctx, sigalgs, 1))
		goto out;
	SSL_CTX_set_private_key_method(ctx, &pk_method);
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	/* Existing connections keep the context they started with (SSL holds a reference). */
	SSL_CTX_free(s->tls_ctx);
	s->tls_ctx = ctx;
	ctx = NULL;
	r = 0;
out:
	if (r)
		log_err("http: the certificate chain from the executor is not usable: %s",
			ERR_peek_last_error() ? ERR_reason_error_string(ERR_peek_last_error()) : "not ECDSA P-256");
	ERR_clear_error();
	EVP_PKEY_free(pub);
	X509_free(x);
	BIO_free(b);
	SSL_CTX_free(ctx);
	return r;
}

