/*
 * Failed-login lock-out per source address: after `failures` wrong
 * credentials within the window, the source is locked for `seconds`,
 * doubling on each further lock-out up to `max_seconds`.  While locked,
 * credentials are not even checked, so polling (with good or bad
 * credentials) never extends the lock.  In memory, bounded (oldest evicted).
 *
 * The window is max_seconds: failures older than that are forgotten, and
 * after max_seconds without a failure following the end of a lock the
 * doubling starts again from `seconds`.
 */
#ifndef AURID_LOCKOUT_H
#define AURID_LOCKOUT_H

#include <stdint.h>

/* Sources tracked at once; beyond that the idle-longest is forgotten. */
#define LOCKOUT_TABLE_MAX 1024

struct lockout;

/* -EINVAL if failures, seconds or max_seconds is 0, or seconds > max_seconds. */
int lockout_new(unsigned failures, unsigned seconds, unsigned max_seconds, struct lockout **out);
void lockout_free(struct lockout *l);
/* 0: may try.  -EACCES: locked; *retry_after = seconds left. now: monotonic s. */
int lockout_check(struct lockout *l, const char *source, int64_t now, uint32_t *retry_after);
/* A wrong credential from source.  Ignored while source is locked. */
void lockout_fail(struct lockout *l, const char *source, int64_t now);
/* Good credentials: the failure count is cleared (an active lock is not). */
void lockout_success(struct lockout *l, const char *source, int64_t now);

#endif
