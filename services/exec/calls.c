/*
 * Call items through the telephony backend (DESIGN.md section 5, route
 * "call"), and the texts built from its tables: phonecfg=get and the call
 * states of a ?wait=MS answer.
 *
 * Decisions worth knowing:
 * - HOLD/F_HOLD and MUTE are keys in the grammar.  With a telephony
 *   backend, the call capability on and a call present, they act on the
 *   focused call (toggles, as Yealink clients expect); otherwise they stay
 *   key presses, so the phone's UI keeps them when there is no call.
 * - Digits and * # during an established call (not on hold) are sent as
 *   DTMF (baresip's sndcode) instead of key presses: the far end is what
 *   listens to them then.
 * - ANSWER/OFFHOOK/ONHOOK/CALLEND with no call to act on are "ignored";
 *   UNHOLD and HOLD:id/UNHOLD:id are idempotent ("ok" when already so);
 *   an unknown call id is "failed".
 * - baresip 1.0 has no attended transfer, DND or call forwarding: ATrans=,
 *   DNDOn/Off and the forward operations answer "unsupported".
 */
#include "executor.h"

#include "../../hal/telephony.h"
#include "../common/log.h"
#include "calls.h"
#include "jobs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void done_cb(void *arg, int err, const char *data)
{
	struct executor *ex = arg;

	if (err)
		log_warn("telephony: command failed: %s%s%s", err == -EIO ? "baresip refused" : strerror(-err),
			 data && *data ? ": " : "", data ? data : "");
	jobs_item_done(ex->jobs, err ? IPC_OUTCOME_FAILED : IPC_OUTCOME_OK);
}

/* A verb's return: pending (1), or its immediate failure. */
static int started(struct executor *ex, int r, uint8_t *outcome)
{
	if (r == 0)
		return 1;
	log_warn("telephony: %s", r == -ENOTCONN ? telephony_down_reason(ex->tel) : strerror(-r));
	*outcome = IPC_OUTCOME_FAILED;
	return 0;
}

static const struct telephony_call *newest_held(struct executor *ex)
{
	const struct telephony_call *calls, *best = NULL;
	size_t n;

	calls = telephony_calls(ex->tel, &n);
	for (size_t i = 0; i < n; i++)
		if (calls[i].id && calls[i].held && (!best || calls[i].seq > best->seq))
			best = &calls[i];
	return best;
}

static int hold_set(struct executor *ex, const struct telephony_call *c, bool hold, uint8_t *outcome)
{
	if (c->held == hold) {
		*outcome = IPC_OUTCOME_OK;   /* already so: idempotent */
		return 0;
	}
	return started(ex, telephony_hold(ex->tel, c->id, hold, done_cb, ex), outcome);
}

static int key_start(struct executor *ex, const struct ipc_item *it, uint8_t *outcome)
{
	const struct telephony_call *c = telephony_call_focused(ex->tel);
	const char *k = it->arg;
	char digit = 0;

	if (!c || !ex->cfg.allow[CAP_CALL])
		return -1;
	if (strcmp(k, "F_HOLD") == 0)
		return hold_set(ex, c, !c->held, outcome);
	if (strcmp(k, "MUTE") == 0)
		return started(ex, telephony_mute(ex->tel, c->id, done_cb, ex), outcome);
	if (k[0] >= '0' && k[0] <= '9' && !k[1])
		digit = k[0];
	else if (strcmp(k, "STAR") == 0)
		digit = '*';
	else if (strcmp(k, "POUND") == 0)
		digit = '#';
	if (!digit || c->state != TELEPHONY_CALL_ESTABLISHED || c->held)
		return -1;
	return started(ex, telephony_dtmf(ex->tel, c->id, digit, done_cb, ex), outcome);
}

int calls_item_start(struct executor *ex, const struct ipc_item *it, struct calls_want *want, uint8_t *outcome)
{
	const struct telephony_call *c = NULL;
	unsigned id = 0;
	int r;

	want->call_id = 0;
	if (it->op == OP_KEY)
		return key_start(ex, it, outcome);
	if (!telephony_up(ex->tel)) {
		log_warn("telephony: %s: link to baresip down (%s)", it->text, telephony_down_reason(ex->tel));
		*outcome = IPC_OUTCOME_FAILED;
		return 0;
	}
	switch (it->op) {
	case OP_ANSWER_ID:
	case OP_CANCEL_ID:
	case OP_HOLD_ID:
	case OP_UNHOLD_ID:
		if (!(c = telephony_call_find(ex->tel, it->num))) {
			log_info("telephony: %s: no call %u", it->text, it->num);
			*outcome = IPC_OUTCOME_FAILED;
			return 0;
		}
		break;
	default:
		break;
	}
	*outcome = IPC_OUTCOME_IGNORED;   /* nothing to act on, unless set below */
	switch (it->op) {
	case OP_DIAL:
		r = telephony_dial(ex->tel, it->arg, it->arg2, &id, done_cb, ex);
		*want = (struct calls_want){ id, CALLS_WANT_ESTABLISHED };
		return started(ex, r, outcome);
	case OP_ANSWER:
	case OP_OFFHOOK:
		if (!(c = telephony_call_ringing(ex->tel)))
			return 0;
		/* fall through */
	case OP_ANSWER_ID:
		if (c->state != TELEPHONY_CALL_INCOMING)
			return 0;
		*want = (struct calls_want){ c->id, CALLS_WANT_ESTABLISHED };
		return started(ex, telephony_answer(ex->tel, c->id, done_cb, ex), outcome);
	case OP_ONHOOK:
	case OP_CALLEND:
		if (!(c = telephony_call_focused(ex->tel)))
			return 0;
		/* fall through */
	case OP_CANCEL_ID:
		*want = (struct calls_want){ c->id, CALLS_WANT_GONE };
		return started(ex, telephony_hangup(ex->tel, c->id, done_cb, ex), outcome);
	case OP_HOLD_ID:
		return hold_set(ex, c, true, outcome);
	case OP_UNHOLD_ID:
		return hold_set(ex, c, false, outcome);
	case OP_UNHOLD:
		if (!(c = newest_held(ex))) {
			*outcome = IPC_OUTCOME_OK;
			return 0;
		}
		return hold_set(ex, c, false, outcome);
	case OP_BTRANS:
		c = it->num ? telephony_call_find(ex->tel, it->num) : telephony_call_focused(ex->tel);
		if (!c) {
			*outcome = IPC_OUTCOME_FAILED;
			return 0;
		}
		return started(ex, telephony_transfer(ex->tel, c->id, it->arg, done_cb, ex), outcome);
	default:
		log_info("telephony: %s: baresip 1.0 has no attended transfer, DND or call forwarding", it->text);
		*outcome = IPC_OUTCOME_UNSUPPORTED;
		return 0;
	}
}

bool calls_want_met(struct executor *ex, const struct calls_want *w)
{
	const struct telephony_call *c;

	if (!w->call_id)
		return true;
	c = ex->tel ? telephony_call_find(ex->tel, w->call_id) : NULL;
	if (!c)
		return true;   /* ended: nothing more will happen to it */
	return w->target == CALLS_WANT_ESTABLISHED && c->state == TELEPHONY_CALL_ESTABLISHED;
}

/* Appends to body; a cut line is dropped whole rather than half-written. */
static void add(char *body, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(char *body, size_t len, const char *fmt, ...)
{
	size_t used = strlen(body);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(body + used, len - used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - used)
		body[used] = '\0';
}

void calls_states(struct executor *ex, char *body, size_t len)
{
	const struct telephony_call *calls;
	size_t n;

	if (!ex->tel)
		return;
	add(body, len, "[Calls]\n");
	calls = telephony_calls(ex->tel, &n);
	for (size_t i = 0; i < n; i++) {
		const struct telephony_call *c = &calls[i];

		if (!c->id)
			continue;
		add(body, len, "Call%u=%s|%s|%s|%s|%s|\n", c->id, telephony_state_name(c->state),
		    c->held ? "held" : "active", c->incoming ? "incoming" : "outgoing", c->peer,
		    c->muted ? "muted" : "unmuted");
	}
}

/* "sip:user@host:port;params" -> user and user@host:port. */
static void aor_split(const char *aor, char *user, size_t ulen, char *uh, size_t uhlen)
{
	const char *s = strncmp(aor, "sip:", 4) == 0 ? aor + 4 : aor;
	size_t n = strcspn(s, ";>"), at = strcspn(s, "@");

	snprintf(uh, uhlen, "%.*s", (int)n, s);
	snprintf(user, ulen, "%.*s", (int)(at < n ? at : 0), s);
}

void calls_phonecfg(struct executor *ex, unsigned flags, char *body, size_t len)
{
	add(body, len, "[Status]\n");
	if (flags & IPC_PHONECFG_FW)
		add(body, len, "FirmwareVersion=%s\n", ex->cfg.firmware_version[0] ? ex->cfg.firmware_version
										    : AURID_VERSION);
	add(body, len, "MACAddress=%s\nModel=%s\n", ex->mac, ex->cfg.model);
	if (flags & IPC_PHONECFG_ACCOUNTS) {
		const struct telephony_account *a = NULL;
		size_t n = 0;

		add(body, len, "[Accounts]\n");
		if (ex->tel)
			a = telephony_accounts(ex->tel, &n);
		for (size_t i = 0; i < n; i++) {
			char user[128], uh[128];
			const char *st = a[i].reg == TELEPHONY_REG_OK ? "Registered"
					 : a[i].reg == TELEPHONY_REG_FAILED ? "RegisterFailed" : "NotRegistered";

			aor_split(a[i].aor, user, sizeof(user), uh, sizeof(uh));
			/* Enabled|label|register name|display name|state|user@host| */
			add(body, len, "Account%zu=Enabled|%s|%s|%s|%s|%s|\n", i + 1, user, user, user, st, uh);
		}
	}
	if (flags & IPC_PHONECFG_DND)
		add(body, len, "[DND]\nState=Off\n");
	if (flags & IPC_PHONECFG_ACCOUNTS) {
		/* Forwarding is not something baresip 1.0 does: always off. */
		add(body, len, "[Forward_always]\nState=Off\nTarget=\nRingtimes=0\n");
		add(body, len, "[Forward_busy]\nState=Off\nTarget=\nRingtimes=0\n");
		add(body, len, "[Forward_noanswer]\nState=Off\nTarget=\nRingtimes=0\n");
	}
	calls_states(ex, body, len);
}
