/*
 * libFuzzer target for aurid-sip's request handling (services/sip/notify.c):
 * the bytes are a SIP message as it arrives, decoded by libre's own
 * sip_msg_decode() as aurid-sip's transport does, then handed to the real
 * handler, sip_notify_recv(), and to the steps of a NOTIFY one at a time
 * (sip_notify__check, sip_notify__build): Event: ACTION-URI, content type,
 * Content-Length against the datagram, the request the executor would get.
 *
 * There is no SIP stack (fe->sip is NULL: every answer is dropped inside
 * libre, which refuses a NULL stack) and no executor (fe->exec NULL: a
 * NOTIFY that passes the checks is answered 503 and goes no further), so
 * the target needs no socket.  It links what aurid-sip links: libre with
 * its OpenSSL, never BoringSSL; it checks so at start, as aurid-sip does.
 *
 * Input: byte 0 bit 0 says TCP (else UDP); the rest is the message.
 */
#include "services/common/action_grammar.h"   /* ACTION_TEXT_MAX */
#include "services/common/log.h"
#include "services/sip/front.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort(), not assert(): the checks must stay in a release build. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static struct sip_front fe;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	log_set_level("err");
	if (sip_check_no_boringssl(err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_sip_notify: %s\n", err);
		abort();
	}
	config_defaults(&fe.cfg);
	fe.req = malloc(sizeof(*fe.req));
	if (!fe.req)
		abort();
	return 0;
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/*
 * The request aurid-sip would send the executor for this body: what it saw,
 * nothing it concluded (the executor parses the body itself).
 */
static void check_request(const struct sip_msg *msg, const char *body, size_t len)
{
	const struct ipc_action_req *req = fe.req;

	sip_notify__build(&fe, msg, body, len);
	CHECK(req->transport == IPC_TRANSPORT_SIP && req->kind == IPC_KIND_ACTION);
	CHECK(req->auth_scheme == IPC_AUTH_NONE);
	CHECK(all_zero(req->user, sizeof(req->user)) && all_zero(req->password, sizeof(req->password)));
	CHECK(strcmp(req->method, "NOTIFY") == 0);
	CHECK(terminated(req->text, sizeof(req->text)));
	CHECK(terminated(req->error, sizeof(req->error)));
	CHECK(terminated(req->peer, sizeof(req->peer)));
	/* Not on the wire: aurid-sip leaves them alone. */
	CHECK(req->nitems == 0 && req->wait_ms == 0 && req->request[0] == '\0');
	if (len > ACTION_TEXT_MAX) {
		CHECK(req->front_status == 413);
	} else if (memchr(body, '\0', len)) {
		CHECK(req->front_status == 400);
	} else {
		/* The body, byte for byte. */
		CHECK(req->front_status == 0 && req->error[0] == '\0');
		CHECK(strlen(req->text) == len && memcmp(req->text, body, len) == 0);
	}
	if (req->front_status)
		CHECK(req->error[0] != '\0' && strlen(req->text) <= len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mbuf *mb;
	struct sip_msg *msg = NULL;
	const char *body = NULL;
	size_t len = 0;
	int r;

	if (size < 1 || size > 65536)
		return 0;
	mb = mbuf_alloc(size);
	CHECK(mb);
	CHECK(mbuf_write_mem(mb, data + 1, size - 1) == 0);
	mb->pos = 0;
	r = sip_msg_decode(&msg, mb);
	if (r) {
		mem_deref(mb);
		return 0;
	}
	msg->tp = data[0] & 1 ? SIP_TRANSP_TCP : SIP_TRANSP_UDP;
	CHECK(sa_set_str(&msg->src, "192.0.2.10", 5060) == 0);

	CHECK(sip_notify_recv(msg, &fe));
	if (pl_strcmp(&msg->met, "NOTIFY") == 0) {
		r = sip_notify__check(&fe, msg, &body, &len);
		CHECK(r == 0 || r == -EINVAL);
		if (r == 0) {
			const char *start = (const char *)mbuf_buf(msg->mb);

			/* Exactly one Event header, and the body inside the message. */
			CHECK(sip_msg_hdr_count(msg, SIP_HDR_EVENT) == 1);
			CHECK(body == start && len <= mbuf_get_left(msg->mb));
			CHECK((const uint8_t *)body + len <= mb->buf + mb->end);
			check_request(msg, body, len);
		}
	}
	mem_deref(msg);
	mem_deref(mb);
	return 0;
}
