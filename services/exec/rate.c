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

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define SOURCE_MAX 64
#define NS_PER_S   1000000000ull

struct rate_entry {
	char source[SOURCE_MAX];
	uint64_t tat;
	int next;              /* hash chain or free list, -1 = end */
};

struct rate {
	bool off;
	uint64_t interval_ns;  /* one token */
	uint64_t tolerance_ns; /* (burst - 1) tokens */
	uint32_t seed;
	int free_head;
	int buckets[RATE_TABLE_MAX];
	struct rate_entry e[RATE_TABLE_MAX];
};

static unsigned bucket_of(const struct rate *r, const char *key)
{
	uint32_t h = 2166136261u ^ r->seed;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % RATE_TABLE_MAX;
}

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
	if (getrandom(&r->seed, sizeof(r->seed), GRND_NONBLOCK) != sizeof(r->seed))
		r->seed = (uint32_t)time(NULL);
	for (int i = 0; i < RATE_TABLE_MAX; i++) {
		r->buckets[i] = -1;
		r->e[i].next = i + 1 < RATE_TABLE_MAX ? i + 1 : -1;
	}
	r->free_head = 0;
	*out = r;
	return 0;
}

void rate_free(struct rate *r)
{
	free(r);
}

static void unlink_entry(struct rate *r, int idx)
{
	int *link = &r->buckets[bucket_of(r, r->e[idx].source)];

	while (*link != idx)
		link = &r->e[*link].next;
	*link = r->e[idx].next;
	r->e[idx].source[0] = '\0';
	r->e[idx].next = r->free_head;
	r->free_head = idx;
}

/* Table full: every refilled bucket goes (nothing is lost by forgetting it);
 * if none has, the one closest to full. */
static void evict(struct rate *r, uint64_t now)
{
	int best = -1;

	for (int i = 0; i < RATE_TABLE_MAX; i++) {
		if (r->e[i].tat <= now)
			unlink_entry(r, i);
		else if (best < 0 || r->e[i].tat < r->e[best].tat)
			best = i;
	}
	if (r->free_head < 0)
		unlink_entry(r, best);
}

int rate_take(struct rate *r, const char *source, uint64_t now_ns, uint32_t *retry_after)
{
	char key[SOURCE_MAX];
	size_t n = strnlen(source, SOURCE_MAX - 1);
	struct rate_entry *x = NULL;
	uint64_t tat, wait;
	unsigned b;
	int i;

	*retry_after = 0;
	if (r->off)
		return 0;
	memcpy(key, source, n);
	key[n] = '\0';
	b = bucket_of(r, key);
	for (i = r->buckets[b]; i >= 0; i = r->e[i].next) {
		if (strcmp(r->e[i].source, key) == 0) {
			x = &r->e[i];
			break;
		}
	}
	if (!x) {
		if (r->free_head < 0)
			evict(r, now_ns);
		i = r->free_head;
		x = &r->e[i];
		r->free_head = x->next;
		memcpy(x->source, key, n + 1);
		x->tat = now_ns;
		x->next = r->buckets[b];
		r->buckets[b] = i;
	}
	tat = x->tat > now_ns ? x->tat : now_ns;
	if (tat - now_ns > r->tolerance_ns) {
		wait = tat - r->tolerance_ns - now_ns;
		*retry_after = (uint32_t)((wait + NS_PER_S - 1) / NS_PER_S);
		return -EAGAIN;
	}
	x->tat = tat + r->interval_ns;
	return 0;
}
