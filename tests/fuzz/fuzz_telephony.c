/*
 * libFuzzer target for baresip's ctrl_tcp stream as aurid-exec reads it
 * (hal/telephony_baresip.c, hal/telephony.c): netstring framing, JSON
 * replies and events, and the reginfo text that becomes phonecfg=get's
 * accounts.  baresip is a separate program on the phone; a crashed or
 * confused one must not take the executor with it.
 *
 * Input: byte 0 says how many split points follow (two bytes each) and
 * which calls to plant as dials already sent; the rest is the byte stream
 * from baresip.  The stream is fed once whole and once in the pieces the
 * split points make: framing must not depend on read boundaries, so both
 * give the same replies, the same verdict and the same tables.
 *
 * The link is a struct telephony made here (telephony_impl.h) without a
 * socket: tcp is set only because the framing stops when it is NULL (a
 * dropped link), and up stays false, so nothing is ever sent.  Replies go
 * to pending commands this target owns; token t1 is the reginfo a fresh
 * link asks for, answered into the account table as the real one is.
 */
#include "hal/telephony_impl.h"
#include "services/common/log.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort(), not assert(): the checks must stay in a release build. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define FUZZ_PENDING 4     /* tokens t1..t4 */
#define FUZZ_SPLITS_MAX 7

/* One link and what its pending commands heard. */
struct run {
	struct telephony *t;
	uint8_t log[8192];       /* "slot err data\0" per reply, for comparing runs */
	size_t loglen;
	unsigned replies;
};

struct reply_arg {
	struct run *run;
	unsigned slot;
};

static uv_tcp_t no_socket;   /* never used: its address only says "link present" */
static struct reply_arg args[2][FUZZ_PENDING];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level("err");   /* every reginfo and call change logs at info */
	return 0;
}

static void on_reply(void *arg, int err, const char *data)
{
	struct reply_arg *a = arg;
	struct run *r = a->run;
	size_t n;

	CHECK(data != NULL);
	CHECK(err == 0 || err == -EIO);
	n = strlen(data);
	CHECK(n < TELEPHONY_FRAME_MAX);
	r->replies++;
	if (r->loglen + n + 8 < sizeof(r->log)) {
		r->log[r->loglen++] = (uint8_t)a->slot;
		r->log[r->loglen++] = (uint8_t)-err;
		memcpy(r->log + r->loglen, data, n + 1);
		r->loglen += n + 1;
	}
	if (a->slot == 0 && err == 0)
		telephony__reginfo(r->t, data);
}

static struct telephony *link_new(struct run *r, unsigned which, uint8_t plant)
{
	struct telephony *t = calloc(1, sizeof(*t));

	CHECK(t);
	t->rx = malloc(TELEPHONY_RX_CAP);
	CHECK(t->rx);
	t->tcp = &no_socket;
	t->up = false;
	for (unsigned i = 0; i < FUZZ_PENDING; i++) {
		args[which][i].run = r;
		args[which][i].slot = i;
		t->pending[i].token = i + 1;
		t->pending[i].done = on_reply;
		t->pending[i].arg = &args[which][i];
	}
	/* Dials sent before the stream starts, as telephony_dial() leaves
	 * them: the first outgoing call event claims the oldest. */
	for (unsigned i = 0; i < 2; i++) {
		struct telephony_call *c = &t->calls[i];

		if (!(plant & (1u << i)))
			continue;
		c->id = ++t->next_call_id;
		c->state = TELEPHONY_CALL_DIALING;
		c->seq = ++t->seq;
		snprintf(c->peer, sizeof(c->peer), "sip:%u@127.0.0.1", c->id);
	}
	r->t = t;
	r->loglen = 0;
	r->replies = 0;
	return t;
}

static void link_free(struct telephony *t)
{
	free(t->rx);
	free(t);
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_accounts(const struct telephony *t)
{
	size_t n;
	const struct telephony_account *a = telephony_accounts(t, &n);

	CHECK(n <= TELEPHONY_ACCOUNTS_MAX);
	for (size_t i = 0; i < n; i++) {
		CHECK(terminated(a[i].aor, sizeof(a[i].aor)));
		CHECK(a[i].aor[0] != '\0');
		CHECK(a[i].reg == TELEPHONY_REG_NONE || a[i].reg == TELEPHONY_REG_OK || a[i].reg == TELEPHONY_REG_FAILED);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(a[i].aor, a[j].aor) != 0);
		/* An account is found by its own AoR. */
		CHECK(telephony_account_pick(t, a[i].aor) != NULL);
	}
	CHECK((telephony_account_pick(t, NULL) != NULL) == (n > 0));
}

static void check_calls(const struct telephony *t)
{
	static const struct telephony_call zero;
	const struct telephony_call *c, *f;
	size_t n, used = 0;

	c = telephony_calls(t, &n);
	CHECK(n == TELEPHONY_CALLS_MAX);
	for (size_t i = 0; i < n; i++) {
		if (!c[i].id) {
			CHECK(memcmp(&c[i], &zero, sizeof(zero)) == 0);
			continue;
		}
		used++;
		CHECK(c[i].id <= 999);
		CHECK(c[i].state >= TELEPHONY_CALL_DIALING && c[i].state <= TELEPHONY_CALL_ESTABLISHED);
		CHECK(terminated(c[i].bid, sizeof(c[i].bid)));
		CHECK(terminated(c[i].peer, sizeof(c[i].peer)));
		CHECK(terminated(c[i].account, sizeof(c[i].account)));
		CHECK(telephony_call_find(t, c[i].id) == &c[i]);
		for (size_t j = 0; j < i; j++) {
			if (!c[j].id)
				continue;
			CHECK(c[i].id != c[j].id);
			CHECK(!c[i].bid[0] || strcmp(c[i].bid, c[j].bid) != 0);
		}
	}
	f = telephony_call_focused(t);
	CHECK((f != NULL) == (used > 0));
	CHECK(!f || (f >= c && f < c + n && f->id));
	f = telephony_call_ringing(t);
	CHECK(!f || (f->id && f->state == TELEPHONY_CALL_INCOMING));
}

static bool same_tables(const struct telephony *a, const struct telephony *b)
{
	if (memcmp(a->calls, b->calls, sizeof(a->calls)) != 0 || a->naccounts != b->naccounts ||
	    memcmp(a->accounts, b->accounts, sizeof(a->accounts)) != 0 || a->next_call_id != b->next_call_id ||
	    a->seq != b->seq)
		return false;
	/* The same commands answered (their args are each run's own). */
	for (size_t i = 0; i < TELEPHONY_PENDING_MAX; i++)
		if (a->pending[i].token != b->pending[i].token)
			return false;
	return true;
}

static int cmp_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	return a < b ? -1 : a > b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, split;
	size_t cuts[FUZZ_SPLITS_MAX + 2], ncuts, off;
	const char *stream;
	size_t len;
	uint8_t plant;
	int rc_whole, rc_split = 0;

	if (size < 1)
		return 0;
	ncuts = data[0] & 7;
	plant = data[0] >> 3;
	if (size < 1 + 2 * ncuts)
		return 0;
	stream = (const char *)data + 1 + 2 * ncuts;
	len = size - 1 - 2 * ncuts;
	for (size_t i = 0; i < ncuts; i++)
		cuts[i] = len ? ((size_t)data[1 + 2 * i] << 8 | data[2 + 2 * i]) % (len + 1) : 0;
	cuts[ncuts++] = len;
	qsort(cuts, ncuts, sizeof(cuts[0]), cmp_size);

	link_new(&whole, 0, plant);
	rc_whole = telephony__feed(whole.t, stream, len);
	CHECK(rc_whole == 0 || rc_whole == -EBADMSG);
	CHECK(whole.t->rx_len <= TELEPHONY_RX_CAP);
	check_calls(whole.t);
	check_accounts(whole.t);

	/* The same bytes as several reads; after an error the link would be
	 * dropped, so nothing more is fed. */
	link_new(&split, 1, plant);
	off = 0;
	for (size_t i = 0; i < ncuts && rc_split == 0; i++) {
		rc_split = telephony__feed(split.t, stream + off, cuts[i] - off);
		off = cuts[i];
	}
	CHECK(rc_split == rc_whole);
	CHECK(split.replies == whole.replies && split.loglen == whole.loglen &&
	      memcmp(split.log, whole.log, whole.loglen) == 0);
	CHECK(same_tables(split.t, whole.t));
	if (rc_whole == 0)
		CHECK(split.t->rx_len == whole.t->rx_len && memcmp(split.t->rx, whole.t->rx, whole.t->rx_len) == 0);

	/* The link going down forgets every call. */
	telephony__link(whole.t, false);
	check_calls(whole.t);
	CHECK(telephony_call_focused(whole.t) == NULL);
	link_free(whole.t);
	link_free(split.t);

	/* The stream as reginfo text on its own, as a reply's data. */
	{
		static struct run text;
		char *s = malloc(len + 1);
		size_t n;
		const struct telephony_account *a;

		CHECK(s);
		memcpy(s, stream, len);
		s[len] = '\0';
		link_new(&text, 0, 0);
		telephony__reginfo(text.t, s);
		check_accounts(text.t);
		a = telephony_accounts(text.t, &n);
		for (size_t i = 0; i < n; i++) {
			CHECK(strncmp(a[i].aor, "sip:", 4) == 0);
			CHECK(strcspn(a[i].aor, " \t\n") == strlen(a[i].aor));
			CHECK(strstr(s, a[i].aor) != NULL);
		}
		link_free(text.t);
		free(s);
	}
	return 0;
}
