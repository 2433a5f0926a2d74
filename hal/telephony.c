/*
 * The call and account tables, kept from baresip's events, and the verbs
 * that act on a call by aurid's id.
 *
 * baresip 1.0's commands act on its "current" call, so a verb on a given
 * call is two commands in sequence: "callfind <baresip id>" (which makes it
 * current), then the verb -- the second only once the first has succeeded,
 * so a call that ended in between is never mistaken for another.  Nothing
 * else in aurid-exec sends commands while an item runs (items run one at a
 * time), which keeps the pair atomic as far as aurid is concerned.
 */
#include "telephony_impl.h"

#include "../services/common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum verb { VERB_DIAL, VERB_ANSWER, VERB_HANGUP, VERB_HOLD, VERB_RESUME, VERB_MUTE, VERB_TRANSFER, VERB_DTMF };

/* One verb in flight: up to two commands, sent one after the other. */
struct op {
	struct telephony *t;
	enum verb verb;
	unsigned call_id;
	char cmd2[16];
	char params2[160];
	bool has2;
	telephony_done_fn *done;
	void *arg;
};

const char *telephony_state_name(enum telephony_call_state s)
{
	switch (s) {
	case TELEPHONY_CALL_DIALING: return "dialing";
	case TELEPHONY_CALL_INCOMING: return "incoming";
	case TELEPHONY_CALL_RINGING: return "ringing";
	case TELEPHONY_CALL_ESTABLISHED: return "established";
	default: return "unknown";
	}
}

static void changed(struct telephony *t)
{
	if (t->change)
		t->change(t->change_arg);
}

static struct telephony_call *call_by_id(struct telephony *t, unsigned id)
{
	for (size_t i = 0; id && i < TELEPHONY_CALLS_MAX; i++)
		if (t->calls[i].id == id)
			return &t->calls[i];
	return NULL;
}

static struct telephony_call *call_by_bid(struct telephony *t, const char *bid)
{
	for (size_t i = 0; i < TELEPHONY_CALLS_MAX; i++)
		if (t->calls[i].id && t->calls[i].bid[0] && strcmp(t->calls[i].bid, bid) == 0)
			return &t->calls[i];
	return NULL;
}

static struct telephony_call *call_new(struct telephony *t)
{
	for (size_t i = 0; i < TELEPHONY_CALLS_MAX; i++) {
		struct telephony_call *c = &t->calls[i];

		if (c->id)
			continue;
		memset(c, 0, sizeof(*c));
		/* Small ids, as a person reads them off phonecfg=get; wrap
		 * around, skipping ids still in use. */
		do {
			if (++t->next_call_id > 999)
				t->next_call_id = 1;
		} while (call_by_id(t, t->next_call_id));
		c->id = t->next_call_id;
		c->seq = ++t->seq;
		return c;
	}
	return NULL;
}

static void call_free(struct telephony_call *c)
{
	memset(c, 0, sizeof(*c));
}

const struct telephony_call *telephony_calls(const struct telephony *t, size_t *n)
{
	*n = TELEPHONY_CALLS_MAX;
	return t->calls;
}

const struct telephony_account *telephony_accounts(const struct telephony *t, size_t *n)
{
	*n = t->naccounts;
	return t->accounts;
}

const struct telephony_call *telephony_call_find(const struct telephony *t, unsigned id)
{
	return call_by_id((struct telephony *)t, id);
}

static const struct telephony_call *newest(const struct telephony *t, bool (*want)(const struct telephony_call *))
{
	const struct telephony_call *best = NULL;

	for (size_t i = 0; i < TELEPHONY_CALLS_MAX; i++) {
		const struct telephony_call *c = &t->calls[i];

		if (c->id && want(c) && (!best || c->seq > best->seq))
			best = c;
	}
	return best;
}

static bool is_active(const struct telephony_call *c)
{
	return c->state == TELEPHONY_CALL_ESTABLISHED && !c->held;
}

static bool is_any(const struct telephony_call *c)
{
	(void)c;
	return true;
}

static bool is_ringing_here(const struct telephony_call *c)
{
	return c->state == TELEPHONY_CALL_INCOMING;
}

const struct telephony_call *telephony_call_focused(const struct telephony *t)
{
	const struct telephony_call *c = newest(t, is_active);

	return c ? c : newest(t, is_any);
}

const struct telephony_call *telephony_call_ringing(const struct telephony *t)
{
	return newest(t, is_ringing_here);
}

/* "sip:u@h:p;params" and "u@h:p" compare equal on "u@h:p". */
static bool aor_matches(const char *aor, const char *want)
{
	size_t n;

	if (strncasecmp(aor, "sip:", 4) == 0)
		aor += 4;
	if (strncasecmp(want, "sip:", 4) == 0)
		want += 4;
	n = strcspn(aor, ";>");
	return n == strlen(want) && strncasecmp(aor, want, n) == 0;
}

const struct telephony_account *telephony_account_pick(const struct telephony *t, const char *want)
{
	for (size_t i = 0; want && *want && i < t->naccounts; i++)
		if (aor_matches(t->accounts[i].aor, want))
			return &t->accounts[i];
	return t->naccounts ? &t->accounts[0] : NULL;
}

static struct telephony_account *account_get(struct telephony *t, const char *aor)
{
	for (size_t i = 0; i < t->naccounts; i++)
		if (strcmp(t->accounts[i].aor, aor) == 0)
			return &t->accounts[i];
	if (t->naccounts == TELEPHONY_ACCOUNTS_MAX || strlen(aor) >= sizeof(t->accounts[0].aor))
		return NULL;
	snprintf(t->accounts[t->naccounts].aor, sizeof(t->accounts[0].aor), "%s", aor);
	t->accounts[t->naccounts].reg = TELEPHONY_REG_NONE;
	return &t->accounts[t->naccounts++];
}

/*
 * reginfo's text, one user agent a line:
 *   "> sip:a@127.0.0.1:5070                     OK"
 * (">" marks the current one; the status is "OK", "ERR" or nothing when it
 * does not register).  The table is replaced.
 */
void telephony__reginfo(struct telephony *t, const char *data)
{
	const char *line = data;

	t->naccounts = 0;
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[256], *sip;

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			sip = strstr(buf, "sip:");
			if (sip && (sip == buf || sip[-1] == ' ') && !strstr(buf, "---")) {
				char *rest = sip + strcspn(sip, " \t");
				struct telephony_account *a;
				enum telephony_reg reg = strstr(rest, "OK") ? TELEPHONY_REG_OK
							 : strstr(rest, "ERR") ? TELEPHONY_REG_FAILED : TELEPHONY_REG_NONE;

				*rest = '\0';
				if ((a = account_get(t, sip)))
					a->reg = reg;
			}
		}
		line = end ? end + 1 : NULL;
	}
	log_info("telephony: %zu account(s)", t->naccounts);
	changed(t);
}

void telephony__link(struct telephony *t, bool up)
{
	if (!up) {
		/* What baresip does while we cannot see it is unknown: forget
		 * the calls rather than report stale ones. */
		for (size_t i = 0; i < TELEPHONY_CALLS_MAX; i++)
			call_free(&t->calls[i]);
	}
	changed(t);
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* The table entry of a call event's id; a new outgoing call's first event
 * claims the oldest dial still waiting for one. */
static struct telephony_call *call_for_event(struct telephony *t, const char *bid, bool incoming,
					     const char *peer, bool create)
{
	struct telephony_call *c = call_by_bid(t, bid), *best = NULL;

	if (c || strlen(bid) >= sizeof(c->bid))
		return c;
	if (!incoming) {
		for (size_t i = 0; i < TELEPHONY_CALLS_MAX; i++) {
			struct telephony_call *d = &t->calls[i];

			if (d->id && d->state == TELEPHONY_CALL_DIALING && !d->bid[0] &&
			    (!best || d->seq < best->seq))
				best = d;
		}
		c = best;
	}
	if (!c && create)
		c = call_new(t);
	if (c) {
		snprintf(c->bid, sizeof(c->bid), "%s", bid);
		c->incoming = incoming;
		if (peer[0])
			snprintf(c->peer, sizeof(c->peer), "%s", peer);
	}
	return c;
}

void telephony__event(struct telephony *t, json_t *ev)
{
	const char *type = str(ev, "type"), *cls = str(ev, "class"), *bid = str(ev, "id");
	const char *aor = str(ev, "accountaor");
	bool incoming = strcmp(str(ev, "direction"), "incoming") == 0;
	struct telephony_call *c;
	enum telephony_call_state st = 0;

	if (strcmp(cls, "register") == 0) {
		struct telephony_account *a = aor[0] ? account_get(t, aor) : NULL;

		if (!a)
			return;
		if (strcmp(type, "REGISTER_OK") == 0)
			a->reg = TELEPHONY_REG_OK;
		else if (strcmp(type, "REGISTER_FAIL") == 0)
			a->reg = TELEPHONY_REG_FAILED;
		else if (strcmp(type, "UNREGISTERING") == 0)
			a->reg = TELEPHONY_REG_NONE;
		changed(t);
		return;
	}
	if (!bid[0])
		return;   /* CALL_LOCAL_SDP of a dial comes before the call has an id */
	if (strcmp(type, "CALL_CLOSED") == 0) {
		if ((c = call_by_bid(t, bid))) {
			log_info("telephony: call %u closed (%s)", c->id, str(ev, "param"));
			call_free(c);
			changed(t);
		}
		return;
	}
	if (strcmp(type, "CALL_INCOMING") == 0)
		st = TELEPHONY_CALL_INCOMING;
	else if (strcmp(type, "CALL_RINGING") == 0 || strcmp(type, "CALL_PROGRESS") == 0)
		st = TELEPHONY_CALL_RINGING;
	else if (strcmp(type, "CALL_ESTABLISHED") == 0)
		st = TELEPHONY_CALL_ESTABLISHED;
	c = call_for_event(t, bid, incoming, str(ev, "peeruri"), st != 0);
	if (!c || !st)
		return;
	if (aor[0])
		snprintf(c->account, sizeof(c->account), "%s", aor);
	if (c->state != st) {
		c->state = st;
		c->seq = ++t->seq;
		log_info("telephony: call %u %s %s", c->id, telephony_state_name(st), c->peer);
		changed(t);
	}
}

/* ---- verbs ---- */

static void op_finish(struct op *o, int err, const char *data)
{
	struct telephony *t = o->t;
	struct telephony_call *c = call_by_id(t, o->call_id);

	if (!err && c) {
		switch (o->verb) {
		case VERB_ANSWER:
			/* baresip 1.0 may not announce an answered call. */
			c->state = TELEPHONY_CALL_ESTABLISHED;
			c->seq = ++t->seq;
			break;
		case VERB_HANGUP:
			call_free(c);
			break;
		case VERB_HOLD:
			c->held = true;
			break;
		case VERB_RESUME:
			c->held = false;
			c->seq = ++t->seq;
			break;
		case VERB_MUTE:
			c->muted = strstr(data, "un-muted") == NULL;
			break;
		default:
			break;
		}
		changed(t);
	} else if (err && o->verb == VERB_DIAL && c && c->state == TELEPHONY_CALL_DIALING && !c->bid[0]) {
		call_free(c);
		changed(t);
	}
	o->done(o->arg, err, data);
	free(o);
}

static void op_step2_done(void *arg, int err, const char *data)
{
	op_finish(arg, err, data);
}

static void op_step1_done(void *arg, int err, const char *data)
{
	struct op *o = arg;
	int r;

	/* callfind answers ok with "call not found" for an unknown id. */
	if (!err && strstr(data, "not found"))
		err = -ENOENT;
	if (err || !o->has2) {
		op_finish(o, err, data);
		return;
	}
	r = telephony__send(o->t, o->cmd2, o->params2[0] ? o->params2 : NULL, op_step2_done, o);
	if (r)
		op_finish(o, r, "");
}

static int op_start(struct telephony *t, enum verb verb, unsigned call_id, const char *cmd1, const char *params1,
		    const char *cmd2, const char *params2, telephony_done_fn *done, void *arg)
{
	struct op *o;
	int r;

	if (!t->up)
		return -ENOTCONN;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->t = t;
	o->verb = verb;
	o->call_id = call_id;
	o->done = done;
	o->arg = arg;
	if (cmd2) {
		o->has2 = true;
		snprintf(o->cmd2, sizeof(o->cmd2), "%s", cmd2);
		snprintf(o->params2, sizeof(o->params2), "%s", params2 ? params2 : "");
	}
	r = telephony__send(t, cmd1, params1, op_step1_done, o);
	if (r)
		free(o);
	return r;
}

/* A verb on one call: "callfind <id>" first, unless baresip has not named
 * the call yet (a dial just sent: it is the current call then). */
static int call_verb(struct telephony *t, enum verb verb, unsigned call_id, const char *cmd, const char *params,
		     telephony_done_fn *done, void *arg)
{
	struct telephony_call *c;

	if (!t->up)
		return -ENOTCONN;
	if (!(c = call_by_id(t, call_id)))
		return -ENOENT;
	if (!c->bid[0])
		return op_start(t, verb, call_id, cmd, params, NULL, NULL, done, arg);
	return op_start(t, verb, call_id, "callfind", c->bid, cmd, params, done, arg);
}

int telephony_dial(struct telephony *t, const char *uri, const char *account, unsigned *call_id,
		   telephony_done_fn *done, void *arg)
{
	const struct telephony_account *a = account && *account ? telephony_account_pick(t, account) : NULL;
	struct telephony_call *c;
	int r;

	if (!t->up)
		return -ENOTCONN;
	if (!a)
		a = telephony_account_pick(t, NULL);
	if (!(c = call_new(t)))
		return -EBUSY;
	c->state = TELEPHONY_CALL_DIALING;
	snprintf(c->peer, sizeof(c->peer), "%s", uri);
	if (a)
		snprintf(c->account, sizeof(c->account), "%s", a->aor);
	/* uafind makes the account current, so the dial goes out from it. */
	if (a)
		r = op_start(t, VERB_DIAL, c->id, "uafind", a->aor, "dial", uri, done, arg);
	else
		r = op_start(t, VERB_DIAL, c->id, "dial", uri, NULL, NULL, done, arg);
	if (r) {
		call_free(c);
		return r;
	}
	*call_id = c->id;
	changed(t);
	return 0;
}

int telephony_answer(struct telephony *t, unsigned call_id, telephony_done_fn *done, void *arg)
{
	return call_verb(t, VERB_ANSWER, call_id, "accept", NULL, done, arg);
}

int telephony_hangup(struct telephony *t, unsigned call_id, telephony_done_fn *done, void *arg)
{
	return call_verb(t, VERB_HANGUP, call_id, "hangup", NULL, done, arg);
}

int telephony_hold(struct telephony *t, unsigned call_id, bool hold, telephony_done_fn *done, void *arg)
{
	return call_verb(t, hold ? VERB_HOLD : VERB_RESUME, call_id, hold ? "hold" : "resume", NULL, done, arg);
}

int telephony_mute(struct telephony *t, unsigned call_id, telephony_done_fn *done, void *arg)
{
	return call_verb(t, VERB_MUTE, call_id, "mute", NULL, done, arg);
}

int telephony_transfer(struct telephony *t, unsigned call_id, const char *target, telephony_done_fn *done,
		       void *arg)
{
	return call_verb(t, VERB_TRANSFER, call_id, "transfer", target, done, arg);
}

int telephony_dtmf(struct telephony *t, unsigned call_id, char digit, telephony_done_fn *done, void *arg)
{
	char code[2] = { digit, '\0' };

	return call_verb(t, VERB_DTMF, call_id, "sndcode", code, done, arg);
}
