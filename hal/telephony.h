/*
 * Telephony: the phone's SIP engine as aurid-exec sees it (DESIGN.md
 * section 6).  One backend, baresip's ctrl_tcp module
 * (aurid.telephony = baresip:HOST:PORT), driven from aurid-exec's libuv
 * loop: netstring-framed JSON, replies matched by token, events (which may
 * come before the reply of the command that caused them) tracked into a
 * call table and an account table.
 *
 * Calls carry aurid's own small ids (1, 2, ...), which are what ASW:id,
 * HOLD:id and phonecfg=get show; baresip's ids are long hex strings and
 * stay inside this module.  The link reconnects by itself with back-off;
 * while it is down every operation fails at once with -ENOTCONN, so an
 * action request answers promptly instead of hanging.
 *
 * Files: telephony.c (the call and account tables, the domain verbs),
 * telephony_baresip.c (the ctrl_tcp link: framing, tokens, reconnect).
 */
#ifndef AURID_TELEPHONY_H
#define AURID_TELEPHONY_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define TELEPHONY_CALLS_MAX     8
#define TELEPHONY_ACCOUNTS_MAX  8
#define TELEPHONY_FRAME_MAX     65536   /* a longer netstring drops the link */
#define TELEPHONY_PENDING_MAX   32      /* commands awaiting a reply */
#define TELEPHONY_REPLY_MS      5000    /* a command unanswered this long drops the link */
#define TELEPHONY_BACKOFF_MIN_MS 100
#define TELEPHONY_BACKOFF_MAX_MS 5000

enum telephony_call_state {
	TELEPHONY_CALL_DIALING = 1,     /* dial sent, no event yet */
	TELEPHONY_CALL_INCOMING,        /* ringing here */
	TELEPHONY_CALL_RINGING,         /* ringing at the far end */
	TELEPHONY_CALL_ESTABLISHED,
};

struct telephony_call {
	unsigned id;                    /* aurid's id; 0: free slot */
	char bid[64];                   /* baresip's call id; "" until its first event */
	bool incoming;
	enum telephony_call_state state;
	bool held;                      /* put on hold by us (baresip 1.0 sends no event) */
	bool muted;
	char peer[128];
	char account[128];              /* the account's AoR */
	unsigned long seq;              /* order of the last change: the newest is focused */
};

enum telephony_reg { TELEPHONY_REG_NONE = 0, TELEPHONY_REG_OK, TELEPHONY_REG_FAILED };

struct telephony_account {
	char aor[128];                  /* "sip:user@host[:port]" */
	enum telephony_reg reg;
};

struct telephony;

/* 0 with an error, else the data text of the reply ("" if none). */
typedef void telephony_done_fn(void *arg, int err, const char *data);
/* The call table changed, or the link went up or down. */
typedef void telephony_change_fn(void *arg);

/* spec: "baresip:HOST:PORT" (an IP literal).  Starts connecting at once.
 * -EINVAL for another spec. */
int telephony_open(uv_loop_t *loop, const char *spec, telephony_change_fn *change, void *arg,
		   struct telephony **out);
/* Closes the link; pending callbacks are dropped, not called.  NULL is allowed. */
void telephony_close(struct telephony *t);
bool telephony_up(const struct telephony *t);
/* Why the link is down, for answers ("connection refused"); "" when up. */
const char *telephony_down_reason(const struct telephony *t);

/* The tables (read-only views; valid until the next loop turn). */
const struct telephony_call *telephony_calls(const struct telephony *t, size_t *n);
const struct telephony_account *telephony_accounts(const struct telephony *t, size_t *n);
/* The call with aurid id id, or NULL. */
const struct telephony_call *telephony_call_find(const struct telephony *t, unsigned id);
/* The call remote commands without an id act on: the newest established
 * one not on hold, else the newest call; NULL if there is none. */
const struct telephony_call *telephony_call_focused(const struct telephony *t);
/* The newest call ringing here, or NULL. */
const struct telephony_call *telephony_call_ringing(const struct telephony *t);
const char *telephony_state_name(enum telephony_call_state s);

/*
 * The verbs.  Each sends one or two ctrl_tcp commands and calls done once
 * with 0 or -errno: -ENOTCONN (link down), -ENOENT (no such call),
 * -EIO (baresip refused).  A nonzero return (-ENOTCONN, -ENOENT, -EBUSY)
 * means done will not be called; otherwise it is called once, later, from
 * the loop (-ENOTCONN then if the link dropped meanwhile).
 */
/* account: an AoR from the table to dial from, or NULL/"" for the default.
 * *call_id gets the new call's aurid id. */
int telephony_dial(struct telephony *t, const char *uri, const char *account, unsigned *call_id,
		   telephony_done_fn *done, void *arg);
int telephony_answer(struct telephony *t, unsigned call_id, telephony_done_fn *done, void *arg);
int telephony_hangup(struct telephony *t, unsigned call_id, telephony_done_fn *done, void *arg);
int telephony_hold(struct telephony *t, unsigned call_id, bool hold, telephony_done_fn *done, void *arg);
int telephony_mute(struct telephony *t, unsigned call_id, telephony_done_fn *done, void *arg);
int telephony_transfer(struct telephony *t, unsigned call_id, const char *target, telephony_done_fn *done,
		       void *arg);
int telephony_dtmf(struct telephony *t, unsigned call_id, char digit, telephony_done_fn *done, void *arg);

/* The account whose AoR matches want ("user@host[:port]", with or without
 * "sip:"), else the first one; NULL if the table is empty. */
const struct telephony_account *telephony_account_pick(const struct telephony *t, const char *want);

/* ---- inside the module (telephony.c <-> telephony_baresip.c) ---- */

/* Sends {"command":command,"params":params,"token":...}; done gets the reply. */
int telephony__send(struct telephony *t, const char *command, const char *params, telephony_done_fn *done,
		    void *arg);

#endif
