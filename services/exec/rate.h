/*
 * Per-source token bucket: `per_sec` tokens per second, at most `burst`.
 * per_sec == 0 disables the limit.  In memory, bounded (idle buckets evicted).
 */
#ifndef AURID_RATE_H
#define AURID_RATE_H

#include <stdint.h>

/* Sources tracked at once.  A source whose bucket has refilled is forgotten
 * first (nothing is lost); only beyond that does a flood of sources give the
 * fullest bucket a fresh start. */
#define RATE_TABLE_MAX 1024

struct rate;

/* burst 0 is taken as 1.  -EINVAL if per_sec > 1000000000. */
int rate_new(unsigned per_sec, unsigned burst, struct rate **out);
void rate_free(struct rate *r);
/* 0: a token was taken.  -EAGAIN: empty; *retry_after = whole seconds until one
 * (at least 1).  A refused request takes nothing.  now_ns: monotonic. */
int rate_take(struct rate *r, const char *source, uint64_t now_ns, uint32_t *retry_after);

#endif
