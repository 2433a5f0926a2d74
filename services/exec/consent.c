/* The consent prompt's state machine: held requests, the screen, the keypad. */
#include "consent.h"

#include "../../hal/fb.h"
#include "../../hal/font.h"
#include "../../hal/keypad_in.h"
#include "../../hal/prompt.h"
#include "../common/log.h"
#include "consent_store.h"
#include "jobs.h"
#include "lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* The phone's UI may draw over the prompt: draw it again this often. */
#define CONSENT_REDRAW_MS 1000

struct consent_state {
	struct consent_store *db;
	struct font font;
	struct keypad_in *keypad;
	uv_poll_t keypad_poll;
	bool keypad_polling;
	struct prompt *prompt;           /* non-NULL while visible */
	char source[64];                 /* whose prompt it is */
	char transport[16];              /* how its first request came */
	uv_timer_t timeout;
	uv_timer_t redraw;
	struct exec_req *head, *tail;    /* held, in arrival order, all sources (linked by next) */
	unsigned nheld;
	unsigned ok_code, cancel_code;
};

static void consent_next(struct executor *ex);

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

bool consent_prompt_visible(const struct executor *ex)
{
	return ex->consent && ex->consent->prompt != NULL;
}

bool consent_granted(struct executor *ex, const char *source)
{
	bool yes = false;

	if (!ex->consent)
		return false;
	if (consent_store_has(ex->consent->db, source, ex->cfg.consent_max_age, now_s(), &yes) != 0)
		return false;
	return yes;
}

/* Ends the hold of every request of source: runs them, or refuses them with reason. */
static void release(struct executor *ex, const char *source, bool allow, const char *reason, const char *message)
{
	struct consent_state *cs = ex->consent;
	struct exec_req **pp = &cs->head;
	struct job *after = NULL;

	cs->tail = NULL;
	while (*pp) {
		struct exec_req *r = *pp;

		if (strcmp(r->req->peer, source) != 0) {
			cs->tail = r;
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		r->next = NULL;
		cs->nheld--;
		if (!allow)
			exec_req_refuse(r, 403, reason, 0, "%s", message);
		else if (r->req->kind == IPC_KIND_ACTION)
			/* Held requests came before whatever queued meanwhile. */
			jobs_submit_first(ex->jobs, r, &after);
		else
			executor_run(ex, r);
	}
}

static void prompt_close(struct executor *ex, bool allow, const char *reason, const char *message)
{
	struct consent_state *cs = ex->consent;
	char source[64];

	snprintf(source, sizeof(source), "%s", cs->source);
	uv_timer_stop(&cs->timeout);
	uv_timer_stop(&cs->redraw);
	prompt_hide(cs->prompt);
	cs->prompt = NULL;
	keypad_in_grab(cs->keypad, false);
	log_info("consent for %s: %s", source, allow ? "granted" : reason);
	if (allow && consent_store_grant(cs->db, source, cs->transport, now_s()) != 0) {
		allow = false;
		reason = "consent-denied";
		message = "the consent could not be stored";
	}
	release(ex, source, allow, reason, message);
	/* Keys held while the prompt was up may go now; then the next prompt. */
	jobs_resume(ex->jobs);
	consent_next(ex);
}

static void timeout_cb(uv_timer_t *t)
{
	struct executor *ex = t->data;

	prompt_close(ex, false, "consent-timeout", "nobody answered the consent prompt on the phone in time");
}

static void redraw_cb(uv_timer_t *t)
{
	struct executor *ex = t->data;

	if (ex->consent->prompt)
		prompt_redraw(ex->consent->prompt);
}

/*
 * The physical keypad went away (unplugged, driver reset).  Without it no
 * prompt can ever be answered, so stop: the supervisor restarts the
 * executor, which reopens the keypad (by name) or says why it cannot.
 */
static void keypad_lost(struct executor *ex, int err)
{
	log_err("the physical keypad failed (%s): restarting to reopen it", strerror(err < 0 ? -err : err));
	uv_stop(ex->loop);
}

static void keypad_cb(uv_poll_t *p, int status, int events)
{
	struct executor *ex = p->data;
	struct consent_state *cs = ex->consent;
	unsigned codes[16];
	size_t n;

	(void)events;
	if (status < 0) {
		keypad_lost(ex, status);
		return;
	}
	do {
		int r;

		n = 0;
		r = keypad_in_read(cs->keypad, codes, 16, &n);
		if (r == -EAGAIN)
			break;
		if (r != 0) {
			keypad_lost(ex, r);
			return;
		}
		for (size_t i = 0; i < n; i++) {
			/* A key pressed when no prompt is up is the phone's business. */
			if (!cs->prompt)
				break;
			if (codes[i] == cs->ok_code)
				prompt_close(ex, true, "ok", "");
			else if (codes[i] == cs->cancel_code)
				prompt_close(ex, false, "consent-denied", "the person at the phone refused remote control");
			else
				continue;
			/* One press answers one prompt; what follows in this
			 * batch was pressed before the next prompt was shown. */
			keypad_in_discard(cs->keypad);
			return;
		}
	} while (keypad_in_pending(cs->keypad));
}

/* Shows the prompt for the oldest held source, if none is visible. */
static void consent_next(struct executor *ex)
{
	struct consent_state *cs = ex->consent;
	int r;

	if (cs->prompt || !cs->head)
		return;
	snprintf(cs->source, sizeof(cs->source), "%s", cs->head->req->peer);
	snprintf(cs->transport, sizeof(cs->transport), "%s", ipc_transport_name(cs->head->req->transport));
	if (consent_granted(ex, cs->source)) {
		/* Granted meanwhile (a previous prompt of the same source). */
		release(ex, cs->source, true, "ok", "");
		consent_next(ex);
		return;
	}
	/* The person's answer must not also reach the phone's own UI, and
	 * keys pressed before the prompt is there do not answer it. */
	keypad_in_grab(cs->keypad, true);
	keypad_in_discard(cs->keypad);
	r = prompt_show(ex->fb, &cs->font, cs->source, &cs->prompt);
	if (r) {
		log_err("cannot draw the consent prompt: %s", strerror(-r));
		cs->prompt = NULL;
		keypad_in_grab(cs->keypad, false);
		release(ex, cs->source, false, "consent-denied", "the consent prompt could not be shown");
		consent_next(ex);
		return;
	}
	uv_timer_start(&cs->timeout, timeout_cb, (uint64_t)ex->cfg.consent_timeout * 1000, 0);
	uv_timer_start(&cs->redraw, redraw_cb, CONSENT_REDRAW_MS, CONSENT_REDRAW_MS);
	log_info("consent prompt shown for %s", cs->source);
}

void consent_hold(struct executor *ex, struct exec_req *r)
{
	struct consent_state *cs = ex->consent;

	if (!cs || cs->nheld >= CONSENT_HELD_MAX) {
		exec_req_refuse(r, 503, "unavailable", 5, "too many requests are waiting for consent");
		return;
	}
	r->next = NULL;
	if (cs->tail)
		cs->tail->next = r;
	else
		cs->head = r;
	cs->tail = r;
	cs->nheld++;
	consent_next(ex);
}

static int open_devices(struct executor *ex, const struct exec_args *args)
{
	struct consent_state *cs = ex->consent;
	int r;

	if (ex->cfg.hal == CONFIG_HAL_SIM)
		return keypad_in_open_sim(ex->cfg.state_dir, &cs->keypad);
	if (args->keypad_fd < 0) {
		log_err("aurid.hal = linux: the consent prompt needs the physical keypad (aurid.hal.keypad_device)");
		return -ENODEV;
	}
	r = keypad_in_open_linux(args->keypad_fd, &cs->keypad);
	return r;
}

int consent_init(struct executor *ex, const struct exec_args *args)
{
	struct consent_state *cs = calloc(1, sizeof(*cs));
	int r;

	if (!cs)
		return -ENOMEM;
	ex->consent = cs;
	r = consent_store_init(ex->store, &cs->db);
	if (r)
		return r;
	if (keymap_lookup(&ex->keymap, "OK", &cs->ok_code) != 0 || keymap_lookup(&ex->keymap, "X", &cs->cancel_code) != 0) {
		log_err("the keymap needs OK and X: they answer the consent prompt");
		return -EINVAL;
	}
	uv_timer_init(ex->loop, &cs->timeout);
	uv_timer_init(ex->loop, &cs->redraw);
	cs->timeout.data = cs->redraw.data = ex;
	if (!ex->cfg.show_action_uri_option)
		return 0;   /* no prompt: the physical keypad stays closed */
	r = open_devices(ex, args);
	if (r) {
		log_err("cannot open the screen or the keypad for the consent prompt: %s", strerror(-r));
		return r;
	}
	r = font_load_default(&cs->font);
	if (r)
		return r;
	r = uv_poll_init(ex->loop, &cs->keypad_poll, keypad_in_fd(cs->keypad));
	if (r)
		return r;
	cs->keypad_poll.data = ex;
	cs->keypad_polling = true;
	return uv_poll_start(&cs->keypad_poll, UV_READABLE, keypad_cb);
}

void consent_close(struct executor *ex)
{
	struct consent_state *cs = ex->consent;

	if (!cs)
		return;
	if (cs->prompt)
		prompt_close(ex, false, "unavailable", "the executor is stopping");
	while (cs->head) {
		/* Every source: refuse what is still held, audited. */
		char source[64];

		snprintf(source, sizeof(source), "%s", cs->head->req->peer);
		release(ex, source, false, "unavailable", "the executor is stopping");
	}
	uv_timer_stop(&cs->timeout);
	uv_timer_stop(&cs->redraw);
	uv_close((uv_handle_t *)&cs->timeout, NULL);
	uv_close((uv_handle_t *)&cs->redraw, NULL);
	if (cs->keypad_polling) {
		uv_poll_stop(&cs->keypad_poll);
		uv_close((uv_handle_t *)&cs->keypad_poll, NULL);
	}
	if (cs->keypad)
		keypad_in_close(cs->keypad);
	if (cs->db)
		consent_store_free(cs->db);
	/* The handles are freed by the loop's close callbacks; cs lives until
	 * the process exits (it is small and the loop may still touch it). */
}

int consent_revoke(struct executor *ex, const char *source)
{
	return consent_store_revoke(ex->consent->db, source);
}

int consent_list(struct executor *ex, int (*fn)(void *arg, const char *source, const char *transport,
						int64_t granted, int64_t expires), void *arg)
{
	return consent_store_list(ex->consent->db, ex->cfg.consent_max_age, fn, arg);
}

int consent_sim_press(struct executor *ex, const char *key, char *err, size_t errlen)
{
	unsigned code;
	char canon[32];
	size_t n = strlen(key);

	if (ex->cfg.hal != CONFIG_HAL_SIM) {
		snprintf(err, errlen, "sim press needs aurid.hal = sim");
		return -ENOTSUP;
	}
	/* Key names as on the keypad: OK, X (or Cancel), digits ... */
	if (n >= sizeof(canon)) {
		snprintf(err, errlen, "no key '%s' on this phone's keymap", key);
		return -EINVAL;
	}
	memcpy(canon, key, n + 1);
	if (strcasecmp(canon, "cancel") == 0)
		snprintf(canon, sizeof(canon), "X");
	if (keymap_lookup(&ex->keymap, canon, &code) != 0) {
		snprintf(err, errlen, "no key '%s' on this phone's keymap", key);
		return -EINVAL;
	}
	return keypad_in_sim_press(ex->cfg.state_dir, code);
}
