/*
 * The consent prompt (DESIGN.md section 4, step 7).
 *
 * The first request from a source without consent is held, and the phone
 * shows "Allow remote control?" with the source's address.  Only the
 * physical keypad answers (keypad_in: the evdev device, or the sim FIFO) --
 * never the keys aurid injects itself, which go out through uinput and are
 * not read here.  OK stores consent and runs the held requests; Cancel
 * refuses them (consent-denied); no answer within aurid.consent.timeout
 * refuses them (consent-timeout).  Further requests from the same source
 * wait on the same prompt; other sources without consent queue for their
 * own prompt after it.  While a prompt is visible no remote key reaches the
 * phone (the keypad queue waits, see jobs.c).
 */
#ifndef AURID_CONSENT_H
#define AURID_CONSENT_H

#include "executor.h"

#include <stdbool.h>

#define CONSENT_HELD_MAX 64            /* requests waiting on prompts, all sources */

struct exec_args;
struct exec_req;

/* Opens the screen, the font and the physical keypad (only when
 * features.show_action_uri_option is on). */
int consent_init(struct executor *ex, const struct exec_args *args);
void consent_close(struct executor *ex);

/* Has source consent now?  (false on a database error: fail closed) */
bool consent_granted(struct executor *ex, const char *source);

/* Holds an allowed request (taking it, lifecycle.h) until the person
 * answers: then it runs or is refused.  Refused at once when too many are held. */
void consent_hold(struct executor *ex, struct exec_req *r);

bool consent_prompt_visible(const struct executor *ex);

/* Admin verbs. */
int consent_revoke(struct executor *ex, const char *source);
int consent_list(struct executor *ex, int (*fn)(void *arg, const char *source, const char *transport,
						int64_t granted, int64_t expires), void *arg);
/* aurictl sim press KEY: a person pressing a physical key (sim HAL only). */
int consent_sim_press(struct executor *ex, const char *key, char *err, size_t errlen);

#endif
