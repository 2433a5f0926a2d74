/*
 * The ctrl_tcp client against a fake baresip on 127.0.0.1: framing, token
 * matching, events before replies, the call table, and garbage (bad
 * lengths, huge frames, invalid JSON) that must drop and re-establish the
 * link without crashing or stalling the loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hal/telephony.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

struct fake {
	int lfd;
	int cfd;
	unsigned port;
	uv_loop_t loop;
	struct telephony *t;
	int changes;
	int done_calls;
	int last_err;
	char last_data[256];
};

static void on_change(void *arg)
{
	((struct fake *)arg)->changes++;
}

static void on_done(void *arg, int err, const char *data)
{
	struct fake *f = arg;

	f->done_calls++;
	f->last_err = err;
	snprintf(f->last_data, sizeof(f->last_data), "%s", data);
}

/* Turns the loop until cond or about 3 s. */
#define SPIN(f, cond) do { \
	for (int _i = 0; _i < 3000 && !(cond); _i++) { \
		uv_run(&(f)->loop, UV_RUN_NOWAIT); \
		usleep(1000); \
	} \
	assert_true(cond); \
} while (0)

static int fake_accept(struct fake *f)
{
	struct pollfd p = { .fd = f->lfd, .events = POLLIN };

	for (int i = 0; i < 3000; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (poll(&p, 1, 1) == 1)
			return accept(f->lfd, NULL, NULL);
	}
	return -1;
}

static void raw(struct fake *f, const char *s, size_t n)
{
	assert_int_equal(send(f->cfd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void frame(struct fake *f, const char *json)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%zu:%s,", strlen(json), json);

	raw(f, buf, (size_t)n);
}

/* Reads one netstring request; returns its token number. */
static unsigned read_request(struct fake *f, char *out, size_t outlen)
{
	char buf[2048];
	size_t got = 0;
	char *colon, *tok;

	for (int i = 0; i < 3000; i++) {
		ssize_t r;

		uv_run(&f->loop, UV_RUN_NOWAIT);
		r = recv(f->cfd, buf + got, 1, MSG_DONTWAIT);
		if (r == 1) {
			got++;
			colon = memchr(buf, ':', got);
			if (colon && got > (size_t)(colon - buf) + (size_t)atoi(buf) + 1)
				break;
			continue;
		}
		usleep(1000);
	}
	buf[got] = '\0';
	snprintf(out, outlen, "%s", buf);
	tok = strstr(buf, "\"token\":\"t");
	assert_non_null(tok);
	return (unsigned)atoi(tok + 10);
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	char spec[64];

	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	getsockname(f->lfd, (struct sockaddr *)&a, &len);
	f->port = ntohs(a.sin_port);
	uv_loop_init(&f->loop);
	snprintf(spec, sizeof(spec), "baresip:127.0.0.1:%u", f->port);
	assert_int_equal(telephony_open(&f->loop, spec, on_change, f, &f->t), 0);
	f->cfd = fake_accept(f);
	assert_true(f->cfd >= 0);
	SPIN(f, telephony_up(f->t));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	telephony_close(f->t);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	close(f->cfd);
	close(f->lfd);
	free(f);
	return 0;
}

static void answer_reginfo(struct fake *f)
{
	char req[2048], js[512];
	unsigned tok = read_request(f, req, sizeof(req));

	assert_non_null(strstr(req, "\"reginfo\""));
	snprintf(js, sizeof(js), "{\"response\":true,\"ok\":true,\"data\":\"\\n--- User Agents (2) ---\\n"
		 "> sip:a@127.0.0.1:5070                     OK\\n  sip:c@10.0.0.1                  ERR\\n\","
		 "\"token\":\"t%u\"}", tok);
	frame(f, js);
}

static void test_bad_specs(void **state)
{
	struct telephony *t;
	uv_loop_t loop;

	(void)state;
	uv_loop_init(&loop);
	assert_int_equal(telephony_open(&loop, "none", NULL, NULL, &t), -EINVAL);
	assert_int_equal(telephony_open(&loop, "baresip:localhost:4444", NULL, NULL, &t), -EINVAL);
	assert_int_equal(telephony_open(&loop, "baresip:127.0.0.1:0", NULL, NULL, &t), -EINVAL);
	assert_int_equal(telephony_open(&loop, "sip:127.0.0.1:4444", NULL, NULL, &t), -EINVAL);
	uv_loop_close(&loop);
}

static void test_accounts_from_reginfo(void **state)
{
	struct fake *f = *state;
	const struct telephony_account *a;
	size_t n = 0;

	answer_reginfo(f);
	SPIN(f, (telephony_accounts(f->t, &n), n == 2));
	a = telephony_accounts(f->t, &n);
	assert_string_equal(a[0].aor, "sip:a@127.0.0.1:5070");
	assert_int_equal(a[0].reg, TELEPHONY_REG_OK);
	assert_int_equal(a[1].reg, TELEPHONY_REG_FAILED);
	assert_ptr_equal(telephony_account_pick(f->t, "c@10.0.0.1"), &a[1]);
	assert_ptr_equal(telephony_account_pick(f->t, "x@y"), &a[0]);
}

/* The call's events come before the dial's reply, split across writes. */
static void test_dial_events_before_reply(void **state)
{
	struct fake *f = *state;
	char req[2048], js[512];
	const struct telephony_call *c;
	unsigned id = 0, tok;

	answer_reginfo(f);
	SPIN(f, telephony_account_pick(f->t, NULL) != NULL);
	assert_int_equal(telephony_dial(f->t, "sip:b@127.0.0.1:5080", "a@127.0.0.1:5070", &id, on_done, f), 0);
	assert_true(id > 0);
	/* The account is selected first. */
	tok = read_request(f, req, sizeof(req));
	assert_non_null(strstr(req, "\"uafind\""));
	snprintf(js, sizeof(js), "{\"response\":true,\"ok\":true,\"data\":\"ua: x\",\"token\":\"t%u\"}", tok);
	frame(f, js);
	tok = read_request(f, req, sizeof(req));
	assert_non_null(strstr(req, "\"dial\""));
	assert_non_null(strstr(req, "sip:b@127.0.0.1:5080"));
	frame(f, "{\"event\":true,\"type\":\"CALL_LOCAL_SDP\",\"class\":\"other\",\"direction\":\"outgoing\"}");
	{
		char ev[] = "{\"event\":true,\"type\":\"CALL_ESTABLISHED\",\"class\":\"call\",\"direction\":"
			    "\"outgoing\",\"peeruri\":\"sip:b@127.0.0.1:5080\",\"id\":\"abc123\"}";
		char buf[512];
		int n = snprintf(buf, sizeof(buf), "%zu:%s,", strlen(ev), ev);

		/* byte by byte: framing must not depend on read boundaries */
		for (int i = 0; i < n; i++) {
			raw(f, buf + i, 1);
			uv_run(&f->loop, UV_RUN_NOWAIT);
		}
	}
	snprintf(js, sizeof(js), "{\"response\":true,\"ok\":true,\"data\":\"\",\"token\":\"t%u\"}", tok);
	frame(f, js);
	SPIN(f, f->done_calls == 1);
	assert_int_equal(f->last_err, 0);
	c = telephony_call_find(f->t, id);
	assert_non_null(c);
	assert_int_equal(c->state, TELEPHONY_CALL_ESTABLISHED);
	assert_string_equal(c->bid, "abc123");
	assert_ptr_equal(telephony_call_focused(f->t), c);

	/* hold: callfind then hold, matched by token even out of order */
	assert_int_equal(telephony_hold(f->t, id, true, on_done, f), 0);
	tok = read_request(f, req, sizeof(req));
	assert_non_null(strstr(req, "\"callfind\""));
	assert_non_null(strstr(req, "abc123"));
	frame(f, "{\"response\":true,\"ok\":true,\"data\":\"\",\"token\":\"t9999\"}");   /* unknown token */
	snprintf(js, sizeof(js), "{\"response\":true,\"ok\":true,\"data\":\"\",\"token\":\"t%u\"}", tok);
	frame(f, js);
	tok = read_request(f, req, sizeof(req));
	assert_non_null(strstr(req, "\"hold\""));
	snprintf(js, sizeof(js), "{\"response\":true,\"ok\":true,\"data\":\"\",\"token\":\"t%u\"}", tok);
	frame(f, js);
	SPIN(f, f->done_calls == 2);
	assert_true(telephony_call_find(f->t, id)->held);

	/* CALL_CLOSED removes it */
	frame(f, "{\"event\":true,\"type\":\"CALL_CLOSED\",\"class\":\"call\",\"id\":\"abc123\",\"param\":\"bye\"}");
	SPIN(f, telephony_call_find(f->t, id) == NULL);
	assert_int_equal(telephony_hangup(f->t, id, on_done, f), -ENOENT);
}

static void test_incoming_and_unknown_call(void **state)
{
	struct fake *f = *state;
	char req[2048], js[256];
	const struct telephony_call *c;
	unsigned tok;

	frame(f, "{\"event\":true,\"type\":\"CALL_INCOMING\",\"class\":\"call\",\"direction\":\"incoming\","
		 "\"peeruri\":\"sip:b@h\",\"id\":\"in1\"}");
	SPIN(f, telephony_call_ringing(f->t) != NULL);
	c = telephony_call_ringing(f->t);
	assert_true(c->incoming);
	assert_int_equal(telephony_answer(f->t, c->id, on_done, f), 0);
	(void)read_request(f, req, sizeof(req));   /* reginfo */
	tok = read_request(f, req, sizeof(req));
	assert_non_null(strstr(req, "callfind"));
	/* baresip says ok, but the call is gone */
	snprintf(js, sizeof(js), "{\"response\":true,\"ok\":true,\"data\":\"call not found (id=in1)\\n\","
		 "\"token\":\"t%u\"}", tok);
	frame(f, js);
	SPIN(f, f->done_calls == 1);
	assert_int_equal(f->last_err, -ENOENT);
}

/* Each kind of garbage drops the link; it comes back, and works. */
static void test_garbage_reconnects(void **state)
{
	struct fake *f = *state;
	static const char *const bad[] = {
		"x:{},",                 /* not a length */
		"99999999:",             /* too many digits */
		"65537:",                /* over the cap, refused on the header */
		"5:{}}}}x",              /* no comma */
		"6:not js,",             /* invalid JSON */
		"2:[],",                 /* not an object */
		":{},",                  /* empty length */
		"01:{,",                 /* leading zero */
	};

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		unsigned id;

		print_message("garbage %zu: %s\n", k, bad[k]);
		raw(f, bad[k], strlen(bad[k]));
		SPIN(f, !telephony_up(f->t));
		/* While down: prompt failure, not a hang. */
		assert_int_equal(telephony_dial(f->t, "sip:x@y", NULL, &id, on_done, f), -ENOTCONN);
		assert_string_not_equal(telephony_down_reason(f->t), "");
		close(f->cfd);
		f->cfd = fake_accept(f);
		assert_true(f->cfd >= 0);
		SPIN(f, telephony_up(f->t));
	}
}

/* A huge frame in pieces: refused as soon as its header is seen, with
 * nothing buffered; a pending command fails with -ENOTCONN. */
static void test_huge_frame_and_pending(void **state)
{
	struct fake *f = *state;
	char *big = malloc(70000);
	char req[2048];

	assert_int_equal(telephony_mute(f->t, 1, on_done, f), -ENOENT);
	frame(f, "{\"event\":true,\"type\":\"CALL_INCOMING\",\"class\":\"call\",\"direction\":\"incoming\","
		 "\"id\":\"in2\"}");
	SPIN(f, telephony_call_ringing(f->t) != NULL);
	assert_int_equal(telephony_answer(f->t, telephony_call_ringing(f->t)->id, on_done, f), 0);
	(void)read_request(f, req, sizeof(req));
	memset(big, 'a', 70000);
	memcpy(big, "65536:", 6);
	raw(f, big, 65000);          /* a valid-so-far frame at the cap */
	frame(f, "");                /* never completes it properly */
	raw(f, big, 5000);
	SPIN(f, !telephony_up(f->t));
	SPIN(f, f->done_calls == 1);
	assert_int_equal(f->last_err, -ENOTCONN);
	assert_null(telephony_call_ringing(f->t));   /* forgotten with the link */
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test_setup_teardown(test_accounts_from_reginfo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dial_events_before_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incoming_and_unknown_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_reconnects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_frame_and_pending, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
