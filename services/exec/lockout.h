/*
 * Failed-login lock-out per source address: after `failures` wrong
 * credentials within the window, the source is locked for `seconds`,
 * doubling on each further lock-out up to `max_seconds`.  While locked,
 * credentials are not even checked, so polling (with good or bad
 * credentials) never extends the lock.  In memory, bounded (oldest evicted).
 */
#ifndef AURID_LOCKOUT_H
#define AURID_LOCKOUT_H

#include <stdint.h>

struct lockout;

int lockout_new(unsigned failures, unsigned seconds, unsigned max_seconds, struct lockout **out);
void lockout_free(struct lockout *l);
/* 0: may try.  -EACCES: locked; *retry_after = seconds left. now: monotonic s. */
int lockout_check(struct lockout *l, const char *source, int64_t now, uint32_t *retry_after);
/* A wrong credential from source. */
void lockout_fail(struct lockout *l, const char *source, int64_t now);
/* Good credentials: the failure count is cleared (an active lock is not). */
void lockout_success(struct lockout *l, const char *source, int64_t now);

#endif
