/* Call items through the telephony backend, and texts from its tables (calls.c). */
#ifndef AURID_CALLS_H
#define AURID_CALLS_H

#include "executor.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum calls_target { CALLS_WANT_ESTABLISHED = 1, CALLS_WANT_GONE };

/* What ?wait=MS waits for after an item: a call reaching a state. */
struct calls_want {
	unsigned call_id;                /* 0: nothing */
	enum calls_target target;
};

/*
 * Starts a call item (or a key item that means something to a call, see
 * calls.c).  1: pending, jobs_item_done() (jobs.h) will be called with the outcome.
 * 0: done, *outcome set.  -1: a key item that stays a key press.
 * Preconditions: ex->tel is open.
 */
int calls_item_start(struct executor *ex, const struct ipc_item *it, struct calls_want *want, uint8_t *outcome);
bool calls_want_met(struct executor *ex, const struct calls_want *w);
/* Appends the INI text of phonecfg=get (DESIGN.md section 5) to body. */
void calls_phonecfg(struct executor *ex, unsigned flags, char *body, size_t len);
/* Appends "[Calls]" and one "CallN=state|held|direction|peer|muted|" line a call. */
void calls_states(struct executor *ex, char *body, size_t len);

#endif
