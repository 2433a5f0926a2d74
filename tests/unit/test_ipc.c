/*
 * IPC codec and channel: round trips of every message type, then truncation
 * and bit-flip mutation loops over every encoded sample, the table's bounds,
 * the sender-role check and fd passing over a real socketpair.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/ipc.h"

/* A fully populated sample of every type, so every field is exercised. */
static void sample(unsigned type, union ipc_payload *m)
{
	memset(m, 0, sizeof(*m));
	switch (type) {
	case IPC_HELLO:
		m->hello.version = IPC_VERSION;
		m->hello.role = IPC_ROLE_HTTP;
		break;
	case IPC_CONFIG_SET:
		strcpy(m->config_set.key, "features.action_uri_limit_ip");
		strcpy(m->config_set.value, "10.0.0.0/8, 127.0.0.1");
		break;
	case IPC_PEER_CHANNEL:
		m->peer_channel.role = IPC_ROLE_EXEC;
		break;
	case IPC_ACTION_REQ:
		m->action_req.transport = IPC_TRANSPORT_HTTP;
		m->action_req.kind = IPC_KIND_ACTION;
		strcpy(m->action_req.peer, "127.0.0.1");
		m->action_req.peer_port = 40000;
		m->action_req.auth_scheme = IPC_AUTH_BASIC;
		strcpy(m->action_req.user, "admin");
		strcpy(m->action_req.password, "secret");
		strcpy(m->action_req.fetch_site, "cross-site");
		strcpy(m->action_req.fetch_mode, "navigate");
		strcpy(m->action_req.fetch_dest, "document");
		strcpy(m->action_req.host, "[2001:db8::5]:8080");
		strcpy(m->action_req.origin, "https://phone.example");
		strcpy(m->action_req.local, "2001:db8::5");
		strcpy(m->action_req.method, "GET");
		strcpy(m->action_req.text, "/servlet?key=OK;1");
		m->action_req.t_recv_ns = 0x0102030405060708ull;
		m->action_req.flags = IPC_REQ_SIP_REGISTERED_FLOW | IPC_REQ_HTTP_1_0;
		strcpy(m->action_req.d_realm, "aurid");
		strcpy(m->action_req.d_nonce, "0000000069000000aabbccddeeff00112233445566778899");
		strcpy(m->action_req.d_nc, "00000001");
		strcpy(m->action_req.d_cnonce, "xyz");
		strcpy(m->action_req.d_qop, "auth");
		strcpy(m->action_req.d_response, "fedcba9876543210fedcba9876543210");
		break;
	case IPC_ACTION_RES:
		m->action_res.status = 200;
		strcpy(m->action_res.reason, "ok");
		strcpy(m->action_res.message, "done");
		m->action_res.audit_seq = 123456789012ull;
		m->action_res.retry_after = 3;
		strcpy(m->action_res.nonce, "0000000069000000aabbccddeeff00112233445566778899");
		m->action_res.stale = 1;
		m->action_res.nitems = 1;
		m->action_res.items[0].outcome = IPC_OUTCOME_OK;
		strcpy(m->action_res.items[0].text, "OK");
		strcpy(m->action_res.body, "[Status]\nModel=x\n");
		break;
	case IPC_ADMIN_ROW:
		strcpy(m->admin_row.json, "{\"seq\":1}");
		break;
	case IPC_ADMIN_RES:
		m->admin_res.ok = 1;
		strcpy(m->admin_res.message, "fine");
		break;
	case IPC_SYSTEM_RUN:
		m->system_run.op = OP_REBOOT;
		break;
	case IPC_SANDBOX_LEVEL:
		strcpy(m->sandbox_level.level, "seccomp allow-list (http) + landlock ABI 7");
		break;
	case IPC_SIP_STATE:
		strcpy(m->sip_state.trusted, "127.0.0.1,::1");
		m->sip_state.reg_state = IPC_SIP_REG_OK;
		m->sip_state.reg_tcp = 1;
		strcpy(m->sip_state.registrar, "sip:127.0.0.1:5070;transport=tcp");
		strcpy(m->sip_state.detail, "200 OK");
		break;
	case IPC_SCREENSHOT_RES:
		m->screenshot_res.status = 200;
		strcpy(m->screenshot_res.reason, "ok");
		m->screenshot_res.audit_seq = 42;
		m->screenshot_res.width = 480;
		m->screenshot_res.height = 272;
		m->screenshot_res.stride = 1920;
		m->screenshot_res.captured = 1800000000;
		strcpy(m->screenshot_res.model, "T46U");
		break;
	case IPC_TLS_CERT:
		strcpy(m->tls_cert.chain, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
		break;
	case IPC_TLS_SIGN_REQ:
		m->tls_sign_req.alg = 0x0403;   /* ecdsa_secp256r1_sha256 */
		m->tls_sign_req.in_len = 130;
		for (size_t i = 0; i < m->tls_sign_req.in_len; i++)
			m->tls_sign_req.in[i] = (uint8_t)(i * 7);   /* NULs included: bytes, not a string */
		break;
	case IPC_TLS_SIGN_RES:
		m->tls_sign_res.ok = 1;
		m->tls_sign_res.sig_len = 71;
		for (size_t i = 0; i < m->tls_sign_res.sig_len; i++)
			m->tls_sign_res.sig[i] = (uint8_t)(255 - i);
		break;
	case IPC_SERVICE_IDS:
		m->service_ids.separate_users = 1;
		m->service_ids.admin_gid = 994;
		m->service_ids.nservices = 2;
		m->service_ids.services[0] = (struct ipc_service_id){ IPC_ROLE_EXEC, 999, 995, 4242 };
		m->service_ids.services[1] = (struct ipc_service_id){ IPC_ROLE_HTTP, 995, 995, 0 };
		break;
	default:
		/* Admin requests share one struct; each type sends its own fields. */
		strcpy(m->admin_req.arg, "10.0.0.0/8");
		strcpy(m->admin_req.arg2, "password-1");
		m->admin_req.since = -5;
		m->admin_req.until = 1800000000;
		strcpy(m->admin_req.source, "127.0.0.1");
		strcpy(m->admin_req.outcome, "ok");
		m->admin_req.limit = 10;
		strcpy(m->admin_req.role, "user");
		break;
	}
}

static void test_roundtrip_every_type(void **state)
{
	(void)state;
	for (unsigned t = 1; t < IPC_TYPE_COUNT; t++) {
		const struct ipc_msg_def *d = ipc_msg_def(t);
		union ipc_payload *in = malloc(sizeof(*in)), *out = malloc(sizeof(*out)), *again = malloc(sizeof(*again));
		uint8_t buf[IPC_MSG_MAX], buf2[IPC_MSG_MAX];
		size_t len, len2;
		unsigned type;
		uint32_t id;

		assert_non_null(d);
		assert_int_equal(d->type, t);
		sample(t, in);
		assert_int_equal(ipc_encode(t, 77, in, buf, sizeof(buf), &len), 0);
		assert_true(len >= IPC_HDR_LEN + d->min_len && len <= IPC_HDR_LEN + d->max_len);
		assert_int_equal(ipc_decode(buf, len, &type, &id, out), 0);
		assert_int_equal(type, t);
		assert_int_equal(id, 77);
		/* Re-encoding what was decoded gives the same bytes. */
		assert_int_equal(ipc_encode(t, 77, out, buf2, sizeof(buf2), &len2), 0);
		assert_int_equal(len, len2);
		assert_memory_equal(buf, buf2, len);
		(void)again;
		free(in);
		free(out);
		free(again);
	}
}

static void test_fields_survive(void **state)
{
	union ipc_payload *in = malloc(sizeof(*in)), *out = malloc(sizeof(*out));
	uint8_t buf[IPC_MSG_MAX];
	size_t len;
	unsigned type;
	uint32_t id;

	(void)state;
	sample(IPC_ACTION_REQ, in);
	/* What the executor works out itself does not travel, whatever the
	 * sender put there. */
	in->action_req.nitems = 1;
	in->action_req.items[0].op = OP_REBOOT;
	in->action_req.wait_ms = 500;
	strcpy(in->action_req.request, "GET /servlet?key=OK");
	assert_int_equal(ipc_encode(IPC_ACTION_REQ, 1, in, buf, sizeof(buf), &len), 0);
	assert_int_equal(ipc_decode(buf, len, &type, &id, out), 0);
	assert_string_equal(out->action_req.text, "/servlet?key=OK;1");
	assert_string_equal(out->action_req.method, "GET");
	assert_int_equal(out->action_req.nitems, 0);
	assert_int_equal(out->action_req.items[0].op, OP_NONE);
	assert_int_equal(out->action_req.wait_ms, 0);
	assert_string_equal(out->action_req.request, "");
	assert_true(out->action_req.t_recv_ns == 0x0102030405060708ull);
	assert_string_equal(out->action_req.password, "secret");
	sample(IPC_ADMIN_AUDIT, in);
	assert_int_equal(ipc_encode(IPC_ADMIN_AUDIT, 1, in, buf, sizeof(buf), &len), 0);
	assert_int_equal(ipc_decode(buf, len, &type, &id, out), 0);
	assert_true(out->admin_req.since == -5);
	/* Fields a type does not declare do not travel. */
	assert_string_equal(out->admin_req.arg, "");
	free(in);
	free(out);
}

/* Every proper prefix of every sample fails to decode; none crashes. */
static void test_truncation_loop(void **state)
{
	(void)state;
	for (unsigned t = 1; t < IPC_TYPE_COUNT; t++) {
		union ipc_payload *in = malloc(sizeof(*in)), *out = malloc(sizeof(*out));
		uint8_t buf[IPC_MSG_MAX];
		size_t len;
		unsigned type;
		uint32_t id;

		sample(t, in);
		assert_int_equal(ipc_encode(t, 5, in, buf, sizeof(buf), &len), 0);
		for (size_t cut = 0; cut < len; cut++)
			assert_int_equal(ipc_decode(buf, cut, &type, &id, out), -EBADMSG);
		/* And a trailing byte is refused too. */
		buf[len] = 0;
		assert_int_equal(ipc_decode(buf, len + 1, &type, &id, out), -EBADMSG);
		free(in);
		free(out);
	}
}

/*
 * Every single-bit flip of every sample either fails cleanly or decodes to
 * a message that re-encodes to exactly the mutated bytes (the flip landed in
 * a value, not in a length) -- never anything in between.
 */
static void test_bitflip_loop(void **state)
{
	(void)state;
	for (unsigned t = 1; t < IPC_TYPE_COUNT; t++) {
		union ipc_payload *in = malloc(sizeof(*in)), *out = malloc(sizeof(*out));
		uint8_t buf[IPC_MSG_MAX], mut[IPC_MSG_MAX], re[IPC_MSG_MAX];
		size_t len, relen;
		unsigned type;
		uint32_t id;

		sample(t, in);
		assert_int_equal(ipc_encode(t, 9, in, buf, sizeof(buf), &len), 0);
		for (size_t bit = 0; bit < len * 8; bit++) {
			int r;

			memcpy(mut, buf, len);
			mut[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			r = ipc_decode(mut, len, &type, &id, out);
			if (r != 0) {
				assert_int_equal(r, -EBADMSG);
				continue;
			}
			assert_int_equal(ipc_encode(type, id, out, re, sizeof(re), &relen), 0);
			assert_int_equal(relen, len);
			assert_memory_equal(re, mut, len);
		}
		free(in);
		free(out);
	}
}

static void test_bad_headers(void **state)
{
	union ipc_payload *out = malloc(sizeof(*out));
	uint8_t buf[64] = { 0 };
	unsigned type;
	uint32_t id;

	(void)state;
	/* Unknown type numbers, type 0, non-zero reserved field, short header. */
	buf[0] = IPC_TYPE_COUNT;
	assert_int_equal(ipc_decode(buf, IPC_HDR_LEN, &type, &id, out), -EBADMSG);
	buf[0] = 0;
	assert_int_equal(ipc_decode(buf, IPC_HDR_LEN, &type, &id, out), -EBADMSG);
	buf[0] = IPC_START;
	assert_int_equal(ipc_decode(buf, IPC_HDR_LEN, &type, &id, out), 0);
	buf[2] = 1;
	assert_int_equal(ipc_decode(buf, IPC_HDR_LEN, &type, &id, out), -EBADMSG);
	buf[2] = 0;
	assert_int_equal(ipc_decode(buf, IPC_HDR_LEN - 1, &type, &id, out), -EBADMSG);
	assert_int_equal(ipc_decode(buf, IPC_MSG_MAX + 1, &type, &id, out), -EBADMSG);
	free(out);
}

static void test_string_limits(void **state)
{
	union ipc_payload *m = calloc(1, sizeof(*m)), *out = malloc(sizeof(*out));
	struct ipc_buf b;
	uint8_t buf[IPC_MSG_MAX];
	size_t len;
	unsigned type;
	uint32_t id;

	(void)state;
	/* A string as long as its field allows encodes; one byte longer cannot
	 * be produced by the encoder and is refused by the decoder. */
	memset(m->config_set.key, 'k', sizeof(m->config_set.key) - 1);
	assert_int_equal(ipc_encode(IPC_CONFIG_SET, 1, m, buf, sizeof(buf), &len), 0);
	ipc_buf_init(&b, buf, sizeof(buf));
	ipc_buf_put_u16(&b, IPC_CONFIG_SET);
	ipc_buf_put_u16(&b, 0);
	ipc_buf_put_u32(&b, 1);
	ipc_buf_put_u16(&b, (uint16_t)sizeof(m->config_set.key));
	for (size_t i = 0; i < sizeof(m->config_set.key); i++)
		ipc_buf_put_u8(&b, 'k');
	ipc_buf_put_u16(&b, 0);
	assert_int_equal(b.err, 0);
	assert_int_equal(ipc_decode(buf, b.off, &type, &id, out), -EBADMSG);
	/* An embedded NUL is refused. */
	ipc_buf_init(&b, buf, sizeof(buf));
	ipc_buf_put_u16(&b, IPC_CONFIG_SET);
	ipc_buf_put_u16(&b, 0);
	ipc_buf_put_u32(&b, 1);
	ipc_buf_put_u16(&b, 3);
	ipc_buf_put_u8(&b, 'a');
	ipc_buf_put_u8(&b, 0);
	ipc_buf_put_u8(&b, 'b');
	ipc_buf_put_u16(&b, 0);
	assert_int_equal(ipc_decode(buf, b.off, &type, &id, out), -EBADMSG);
	/* An array count over its maximum is refused before any element. */
	ipc_buf_init(&b, buf, sizeof(buf));
	ipc_buf_put_u16(&b, IPC_ACTION_RES);
	ipc_buf_put_u16(&b, 0);
	ipc_buf_put_u32(&b, 1);
	ipc_buf_put_u16(&b, 200);          /* status */
	ipc_buf_put_str(&b, "ok", 31);     /* reason */
	ipc_buf_put_str(&b, "", 255);      /* message */
	ipc_buf_put_u64(&b, 1);            /* audit_seq */
	ipc_buf_put_u32(&b, 0);            /* retry_after */
	ipc_buf_put_str(&b, "", 63);       /* nonce */
	ipc_buf_put_u8(&b, 0);             /* stale */
	ipc_buf_put_u16(&b, IPC_ITEMS_MAX + 1);
	for (int i = 0; i < IPC_ITEMS_MAX + 1; i++) {
		ipc_buf_put_u8(&b, 0);
		ipc_buf_put_str(&b, "OK", 63);
	}
	ipc_buf_put_str(&b, "", 4095);     /* body */
	assert_int_equal(b.err, 0);
	assert_int_equal(ipc_decode(buf, b.off, &type, &id, out), -EBADMSG);
	/* The same with IPC_ITEMS_MAX items decodes. */
	ipc_buf_init(&b, buf, sizeof(buf));
	ipc_buf_put_u16(&b, IPC_ACTION_RES);
	ipc_buf_put_u16(&b, 0);
	ipc_buf_put_u32(&b, 1);
	ipc_buf_put_u16(&b, 200);
	ipc_buf_put_str(&b, "ok", 31);
	ipc_buf_put_str(&b, "", 255);
	ipc_buf_put_u64(&b, 1);
	ipc_buf_put_u32(&b, 0);
	ipc_buf_put_str(&b, "", 63);
	ipc_buf_put_u8(&b, 0);
	ipc_buf_put_u16(&b, IPC_ITEMS_MAX);
	for (int i = 0; i < IPC_ITEMS_MAX; i++) {
		ipc_buf_put_u8(&b, 0);
		ipc_buf_put_str(&b, "OK", 63);
	}
	ipc_buf_put_str(&b, "", 4095);
	assert_int_equal(ipc_decode(buf, b.off, &type, &id, out), 0);
	assert_int_equal(out->action_res.nitems, IPC_ITEMS_MAX);
	free(m);
	free(out);
}

static void test_channel_roles_and_fds(void **state)
{
	int sv[2], pipefd[2], fd;
	struct ipc_chan sup, child;
	union ipc_payload *m = calloc(1, sizeof(*m));
	struct ipc_peer_channel pc = { .role = IPC_ROLE_EXEC };
	struct ipc_action_res res;
	unsigned type;
	uint32_t id;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(ipc_chan_init(&sup, sv[0], IPC_ROLE_SUPERVISOR, IPC_ROLE_HTTP), 0);
	assert_int_equal(ipc_chan_init(&child, sv[1], IPC_ROLE_HTTP, IPC_ROLE_SUPERVISOR), 0);
	assert_int_equal(ipc_chan_recv(&child, &type, &id, m, &fd), -EAGAIN);
	/* The supervisor's HELLO opens the channel. */
	sample(IPC_HELLO, m);
	m->hello.role = IPC_ROLE_SUPERVISOR;
	assert_int_equal(ipc_chan_send(&sup, IPC_HELLO, 0, m, -1), 0);
	assert_int_equal(ipc_chan_recv(&child, &type, &id, m, &fd), 0);
	assert_int_equal(child.state, IPC_CHAN_OPEN);

	/* A declared fd arrives close-on-exec and works: a channel made by
	 * the sender (here this process, as the supervisor makes them). */
	assert_int_equal(pipe(pipefd), 0);
	{
		int pair[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair), 0);
		assert_int_equal(ipc_chan_send(&sup, IPC_PEER_CHANNEL, 3, &pc, pair[1]), 0);
		assert_int_equal(ipc_chan_recv(&child, &type, &id, m, &fd), 0);
		assert_int_equal(type, IPC_PEER_CHANNEL);
		assert_true(fd >= 0);
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		assert_int_equal(write(fd, "x", 1), 1);
		close(fd);
		close(pair[0]);
		close(pair[1]);
	}
	/* Something that is no channel made by the sender is refused. */
	assert_int_equal(ipc_chan_send(&sup, IPC_PEER_CHANNEL, 3, &pc, pipefd[1]), 0);
	assert_int_equal(ipc_chan_recv(&child, &type, &id, m, &fd), -EPROTO);
	assert_int_equal(fd, -1);
	/* A type that needs an fd cannot be sent without one, and vice versa. */
	assert_int_equal(ipc_chan_send(&sup, IPC_PEER_CHANNEL, 3, &pc, -1), -EINVAL);
	assert_int_equal(ipc_chan_send(&sup, IPC_START, 3, m, pipefd[0]), -EINVAL);

	/* The supervisor may not send what only the executor sends. */
	memset(&res, 0, sizeof(res));
	res.status = 200;
	assert_int_equal(ipc_chan_send(&sup, IPC_ACTION_RES, 4, &res, -1), 0);
	assert_int_equal(ipc_chan_recv(&child, &type, &id, m, &fd), -EPROTO);

	/* A raw datagram with an fd on a type that declares none: refused, fd closed. */
	{
		uint8_t raw[IPC_HDR_LEN] = { IPC_START, 0, 0, 0, 0, 0, 0, 0 };
		struct iovec iov = { raw, sizeof(raw) };
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int))];
		} u;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pipefd[0], sizeof(int));
		assert_true(sendmsg(sup.fd, &mh, 0) > 0);
		assert_int_equal(ipc_chan_recv(&child, &type, &id, m, &fd), -EPROTO);
		assert_int_equal(fd, -1);
	}

	/* Peer credentials: this process made the pair. */
	assert_int_equal(ipc_peer_is(child.fd, getpid()), 0);
	assert_int_equal(ipc_peer_is(child.fd, getppid()), -EPERM);
	assert_true(ipc_peer_is(pipefd[0], getpid()) < 0);

	/* EOF is reported as -EPIPE. */
	ipc_chan_close(&sup);
	assert_int_equal(ipc_chan_recv(&child, &type, &id, m, &fd), -EPIPE);
	ipc_chan_close(&child);
	close(pipefd[0]);
	close(pipefd[1]);
	free(m);
}

/*
 * The dispatch table, as a specification written out here: on each channel
 * (receiver <- sender), the types accepted in each state.  Everything else
 * -- every other type, channel and state -- must be refused.
 */
static const char *const permitted[] = {
	"supervisor<-exec HELLO@hello", "supervisor<-http HELLO@hello", "supervisor<-sip HELLO@hello",
	"supervisor<-exec IPC_SANDBOX_LEVEL@open", "supervisor<-http IPC_SANDBOX_LEVEL@open",
	"supervisor<-sip IPC_SANDBOX_LEVEL@open", "supervisor<-exec IPC_SYSTEM_RUN@open",
	"exec<-supervisor HELLO@hello", "http<-supervisor HELLO@hello", "sip<-supervisor HELLO@hello",
	"exec<-supervisor IPC_CONFIG_SET@open", "http<-supervisor IPC_CONFIG_SET@open",
	"sip<-supervisor IPC_CONFIG_SET@open",
	"exec<-supervisor IPC_PEER_CHANNEL@open", "exec<-supervisor IPC_PEER_CHANNEL@started",
	"http<-supervisor IPC_PEER_CHANNEL@open", "http<-supervisor IPC_PEER_CHANNEL@started",
	"sip<-supervisor IPC_PEER_CHANNEL@open", "sip<-supervisor IPC_PEER_CHANNEL@started",
	"exec<-supervisor IPC_START@open", "http<-supervisor IPC_START@open", "sip<-supervisor IPC_START@open",
	"exec<-supervisor IPC_SERVICE_IDS@open", "exec<-supervisor IPC_SERVICE_IDS@started",
	"exec<-http HELLO@hello", "exec<-http IPC_ACTION_REQ@open", "exec<-http IPC_TLS_SIGN_REQ@open",
	"exec<-sip HELLO@hello", "exec<-sip IPC_ACTION_REQ@open", "exec<-sip IPC_SIP_STATE@open",
	"http<-exec HELLO@hello", "http<-exec IPC_ACTION_RES@open", "http<-exec IPC_SCREENSHOT_RES@open",
	"http<-exec IPC_TLS_CERT@open", "http<-exec IPC_TLS_SIGN_RES@open",
	"sip<-exec HELLO@hello", "sip<-exec IPC_ACTION_RES@open",
	"exec<-admin HELLO@hello", "exec<-admin IPC_ADMIN_STATUS@open", "exec<-admin IPC_ADMIN_TRUST_LIST@open",
	"exec<-admin IPC_ADMIN_TRUST_ADD@open", "exec<-admin IPC_ADMIN_TRUST_REMOVE@open",
	"exec<-admin IPC_ADMIN_CONSENT_LIST@open", "exec<-admin IPC_ADMIN_CONSENT_REVOKE@open",
	"exec<-admin IPC_ADMIN_AUDIT@open", "exec<-admin IPC_ADMIN_USER_ADD@open",
	"exec<-admin IPC_ADMIN_USER_PASSWD@open", "exec<-admin IPC_ADMIN_SIM_PRESS@open",
	"admin<-exec HELLO@hello", "admin<-exec IPC_ADMIN_ROW@open", "admin<-exec IPC_ADMIN_RES@open",
};

static const char *role_word(enum ipc_role r)
{
	static const char *const w[] = { "none", "supervisor", "exec", "http", "sip", "admin" };

	return w[r];
}

static bool is_permitted(enum ipc_role self, enum ipc_role peer, unsigned type, unsigned st)
{
	static const char *const states[] = { "hello", "open", "started" };
	char want[96];

	snprintf(want, sizeof(want), "%s<-%s %s@%s", role_word(self), role_word(peer),
		 type == IPC_HELLO ? "HELLO" : ipc_msg_def(type)->name, states[st]);
	for (size_t i = 0; i < sizeof(permitted) / sizeof(permitted[0]); i++)
		if (strcmp(permitted[i], want) == 0)
			return true;
	return false;
}

/* Sends one sample of type from peer to self with self's channel in state
 * st; the result of the receive. */
static int deliver(enum ipc_role self, enum ipc_role peer, unsigned type, unsigned st, union ipc_payload *m)
{
	struct ipc_chan rx, tx;
	int sv[2], pfd[2] = { -1, -1 }, fd = -1, r;
	unsigned got;
	uint32_t id;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(ipc_chan_init(&rx, sv[0], self, peer), 0);
	assert_int_equal(ipc_chan_init(&tx, sv[1], peer, self), 0);
	rx.state = (uint8_t)st;
	sample(type, m);
	if (type == IPC_HELLO)
		m->hello.role = (uint8_t)peer;
	if (ipc_msg_def(type)->fd)
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pfd), 0);
	assert_int_equal(ipc_chan_send(&tx, type, 1, m, pfd[1]), 0);
	r = ipc_chan_recv(&rx, &got, &id, m, &fd);
	if (r == 0)
		assert_int_equal(got, type);
	if (fd >= 0)
		close(fd);
	if (pfd[0] >= 0)
		close(pfd[0]);
	ipc_chan_close(&rx);
	ipc_chan_close(&tx);
	return r;
}

static void test_dispatch_table_every_type_channel_state(void **state)
{
	union ipc_payload *m = malloc(sizeof(*m));
	unsigned accepted = 0;

	(void)state;
	assert_non_null(m);
	for (enum ipc_role self = IPC_ROLE_SUPERVISOR; self <= IPC_ROLE_ADMIN; self++)
		for (enum ipc_role peer = IPC_ROLE_SUPERVISOR; peer <= IPC_ROLE_ADMIN; peer++)
			for (unsigned st = IPC_CHAN_HELLO; st <= IPC_CHAN_STARTED; st++)
				for (unsigned t = 1; t < IPC_TYPE_COUNT; t++) {
					bool want = is_permitted(self, peer, t, st);
					int r = deliver(self, peer, t, st, m);

					if ((r == 0) != want)
						fail_msg("%s<-%s %s in state %u: %s, want %s", role_word(self),
							 role_word(peer), ipc_msg_def(t)->name, st,
							 r == 0 ? "accepted" : "refused", want ? "accepted" : "refused");
					accepted += r == 0;
				}
	assert_int_equal(accepted, sizeof(permitted) / sizeof(permitted[0]));
	free(m);
}

/* HELLO: once, with our version and the channel's role; START once, and
 * it starts the channel; a message permitted once is used up. */
static void test_dispatch_states_move_on(void **state)
{
	union ipc_payload *m = malloc(sizeof(*m));
	struct ipc_chan rx, tx;
	unsigned type;
	uint32_t id;
	int sv[2], fd;

	(void)state;
	assert_non_null(m);
	/* A wrong version or role in HELLO is refused and opens nothing. */
	for (int bad = 0; bad < 2; bad++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
		assert_int_equal(ipc_chan_init(&rx, sv[0], IPC_ROLE_EXEC, IPC_ROLE_HTTP), 0);
		assert_int_equal(ipc_chan_init(&tx, sv[1], IPC_ROLE_HTTP, IPC_ROLE_EXEC), 0);
		sample(IPC_HELLO, m);
		if (bad)
			m->hello.role = IPC_ROLE_SIP;
		else
			m->hello.version = IPC_VERSION + 1;
		assert_int_equal(ipc_chan_send(&tx, IPC_HELLO, 0, m, -1), 0);
		assert_int_equal(ipc_chan_recv(&rx, &type, &id, m, &fd), -EPROTO);
		assert_int_equal(rx.state, IPC_CHAN_HELLO);
		ipc_chan_close(&rx);
		ipc_chan_close(&tx);
	}
	/* A child's supervisor channel: HELLO, config, START, then no more. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(ipc_chan_init(&rx, sv[0], IPC_ROLE_HTTP, IPC_ROLE_SUPERVISOR), 0);
	assert_int_equal(ipc_chan_init(&tx, sv[1], IPC_ROLE_SUPERVISOR, IPC_ROLE_HTTP), 0);
	sample(IPC_CONFIG_SET, m);
	assert_int_equal(ipc_chan_send(&tx, IPC_CONFIG_SET, 0, m, -1), 0);
	assert_int_equal(ipc_chan_recv(&rx, &type, &id, m, &fd), -EPROTO);   /* before HELLO */
	sample(IPC_HELLO, m);
	m->hello.role = IPC_ROLE_SUPERVISOR;
	assert_int_equal(ipc_chan_send(&tx, IPC_HELLO, 0, m, -1), 0);
	assert_int_equal(ipc_chan_recv(&rx, &type, &id, m, &fd), 0);
	assert_int_equal(ipc_chan_send(&tx, IPC_HELLO, 0, m, -1), 0);
	assert_int_equal(ipc_chan_recv(&rx, &type, &id, m, &fd), -EPROTO);   /* HELLO twice */
	sample(IPC_CONFIG_SET, m);
	assert_int_equal(ipc_chan_send(&tx, IPC_CONFIG_SET, 0, m, -1), 0);
	assert_int_equal(ipc_chan_recv(&rx, &type, &id, m, &fd), 0);
	assert_int_equal(ipc_chan_send(&tx, IPC_START, 0, m, -1), 0);
	assert_int_equal(ipc_chan_recv(&rx, &type, &id, m, &fd), 0);
	assert_int_equal(rx.state, IPC_CHAN_STARTED);
	assert_int_equal(ipc_chan_send(&tx, IPC_START, 0, m, -1), 0);
	assert_int_equal(ipc_chan_recv(&rx, &type, &id, m, &fd), -EPROTO);   /* START twice */
	sample(IPC_CONFIG_SET, m);
	assert_int_equal(ipc_chan_send(&tx, IPC_CONFIG_SET, 0, m, -1), 0);
	assert_int_equal(ipc_chan_recv(&rx, &type, &id, m, &fd), -EPROTO);   /* config after START */
	ipc_chan_close(&rx);
	ipc_chan_close(&tx);
	/* The sandbox level, once. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(ipc_chan_init(&rx, sv[0], IPC_ROLE_SUPERVISOR, IPC_ROLE_SIP), 0);
	assert_int_equal(ipc_chan_init(&tx, sv[1], IPC_ROLE_SIP, IPC_ROLE_SUPERVISOR), 0);
	rx.state = IPC_CHAN_OPEN;
	sample(IPC_SANDBOX_LEVEL, m);
	assert_int_equal(ipc_chan_send(&tx, IPC_SANDBOX_LEVEL, 0, m, -1), 0);
	assert_int_equal(ipc_chan_recv(&rx, &type, &id, m, &fd), 0);
	assert_int_equal(ipc_chan_send(&tx, IPC_SANDBOX_LEVEL, 0, m, -1), 0);
	assert_int_equal(ipc_chan_recv(&rx, &type, &id, m, &fd), -EPROTO);
	ipc_chan_close(&rx);
	ipc_chan_close(&tx);
	free(m);
}

static void test_queue_when_full(void **state)
{
	int sv[2];
	struct ipc_chan a, b;
	union ipc_payload *m = calloc(1, sizeof(*m));
	struct ipc_admin_row row;
	unsigned type, n = 0;
	uint32_t id;
	int fd, r;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(ipc_chan_init(&a, sv[0], IPC_ROLE_EXEC, IPC_ROLE_ADMIN), 0);
	assert_int_equal(ipc_chan_init(&b, sv[1], IPC_ROLE_ADMIN, IPC_ROLE_EXEC), 0);
	b.state = IPC_CHAN_OPEN;   /* as after the executor's HELLO */
	memset(row.json, 'x', sizeof(row.json) - 1);
	row.json[sizeof(row.json) - 1] = '\0';
	/* Fill the socket, then the bounded queue, then get -ENOBUFS. */
	for (;;) {
		r = ipc_chan_send(&a, IPC_ADMIN_ROW, n, &row, -1);
		if (r)
			break;
		n++;
	}
	assert_int_equal(r, -ENOBUFS);
	assert_true(ipc_chan_want_write(&a));
	assert_int_equal(a.queued, IPC_QUEUE_MAX);
	/* Everything queued arrives, in order. */
	for (uint32_t want = 0; want < n;) {
		r = ipc_chan_recv(&b, &type, &id, m, &fd);
		if (r == -EAGAIN) {
			r = ipc_chan_flush(&a);
			assert_true(r == 0 || r == -EAGAIN);
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(id, want);
		want++;
	}
	assert_false(ipc_chan_want_write(&a));
	ipc_chan_close(&a);
	ipc_chan_close(&b);
	free(m);
}

/* Bytes fields: any octet travels; a length over the array is refused both ways. */
static void test_bytes_limits(void **state)
{
	union ipc_payload *in = malloc(sizeof(*in)), *out = malloc(sizeof(*out));
	uint8_t buf[IPC_MSG_MAX];
	struct ipc_buf b;
	size_t len;
	unsigned type;
	uint32_t id;

	(void)state;
	sample(IPC_TLS_SIGN_REQ, in);
	assert_int_equal(ipc_encode(IPC_TLS_SIGN_REQ, 1, in, buf, sizeof(buf), &len), 0);
	assert_int_equal(ipc_decode(buf, len, &type, &id, out), 0);
	assert_int_equal(out->tls_sign_req.in_len, 130);
	assert_memory_equal(out->tls_sign_req.in, in->tls_sign_req.in, 130);
	in->tls_sign_req.in_len = IPC_TLS_SIGN_IN_MAX + 1;
	assert_int_equal(ipc_encode(IPC_TLS_SIGN_REQ, 1, in, buf, sizeof(buf), &len), -EMSGSIZE);
	/* Hand-made: a length one over the maximum, with the bytes present. */
	ipc_buf_init(&b, buf, sizeof(buf));
	ipc_buf_put_u16(&b, IPC_TLS_SIGN_RES);
	ipc_buf_put_u16(&b, 0);
	ipc_buf_put_u32(&b, 1);
	ipc_buf_put_u8(&b, 1);
	ipc_buf_put_u16(&b, IPC_TLS_SIG_MAX + 1);
	for (int i = 0; i < IPC_TLS_SIG_MAX + 1; i++)
		ipc_buf_put_u8(&b, 0);
	assert_int_equal(ipc_decode(buf, b.off, &type, &id, out), -EBADMSG);
	free(in);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_every_type),
		cmocka_unit_test(test_fields_survive),
		cmocka_unit_test(test_truncation_loop),
		cmocka_unit_test(test_bitflip_loop),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_string_limits),
		cmocka_unit_test(test_bytes_limits),
		cmocka_unit_test(test_channel_roles_and_fds),
		cmocka_unit_test(test_dispatch_table_every_type_channel_state),
		cmocka_unit_test(test_dispatch_states_move_on),
		cmocka_unit_test(test_queue_when_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
