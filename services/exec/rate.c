/*
 * Per-source token bucket, kept as one number per source: the theoretical
 * arrival time (GCRA).  A bucket that has refilled is indistinguishable from
 * no bucket at all, which makes idle entries free to forget.
 *
 * tat: the time at which the bucket would be full again.  Each token pushes
 * it one interval further; a request is allowed while tat - now is within
 * (burst - 1) intervals.
 */
#include "rate.h"
#include "source_table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

_Static_assert(RATE_TABLE_MAX == SOURCE_TABLE_MAX, "one slot per tracked source");

#define NS_PER_S   1000000000ull

struct rate {
	bool off;
	uint64_t interval_ns;  /* one token */
	uint64_t tolerance_ns; /* (burst - 1) tokens */
	struct source_table t;
	uint64_t tat[RATE_TABLE_MAX];   /* of the source in the same slot */
};

int rate_new(unsigned per_sec, unsigned burst, struct rate **out)
{
	struct rate *r;

	*out = NULL;
	if (per_sec > NS_PER_S)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->off = per_sec == 0;
	if (!r->off) {
		r->interval_ns = NS_PER_S / per_sec;
		r->tolerance_ns = (uint64_t)(burst ? burst - 1 : 0) * r->interval_ns;
	}
	source_table_init(&r->t);
	*out = r;
	return 0;
}

void rate_free(struct rate *r)
{
	free(r);
}

/* Table full: every refilled bucket goes (nothing is lost by forgetting it);
 * if none has, the one closest to full. */
static void evict(struct rate *r, uint64_t now)
{
	int best = -1;

	for (int i = 0; i < RATE_TABLE_MAX; i++) {
		if (r->tat[i] <= now)
			source_table_remove(&r->t, i);
		else if (best < 0 || r->tat[i] < r->tat[best])
			best = i;
	}
	if (source_table_full(&r->t))
		source_table_remove(&r->t, best);
}

int rate_take(struct rate *r, const char *source, uint64_t now_ns, uint32_t *retry_after)
{
	char key[SOURCE_KEY_MAX];
	uint64_t tat, wait;
	int i;

	*retry_after = 0;
	if (r->off)
		return 0;
	source_table_key(key, source);
	i = source_table_find(&r->t, key);
	if (i < 0) {
		if (source_table_full(&r->t))
			evict(r, now_ns);
		i = source_table_add(&r->t, key);
		r->tat[i] = now_ns;
	}
	tat = r->tat[i] > now_ns ? r->tat[i] : now_ns;
	if (tat - now_ns > r->tolerance_ns) {
		wait = tat - r->tolerance_ns - now_ns;
		*retry_after = (uint32_t)((wait + NS_PER_S - 1) / NS_PER_S);
		return -EAGAIN;
	}
	r->tat[i] = tat + r->interval_ns;
	return 0;
}
