/*
 * Per-source token bucket: `per_sec` tokens per second, at most `burst`.
 * per_sec == 0 disables the limit.  In memory, bounded (idle buckets evicted).
 */
#ifndef AURID_RATE_H
#define AURID_RATE_H

#include <stdint.h>

struct rate;

int rate_new(unsigned per_sec, unsigned burst, struct rate **out);
void rate_free(struct rate *r);
/* 0: a token was taken.  -EAGAIN: empty; *retry_after = whole seconds until one. now_ns: monotonic. */
int rate_take(struct rate *r, const char *source, uint64_t now_ns, uint32_t *retry_after);

#endif
