/*
 * Failed-login lock-out per source, in a fixed-size table: a chained hash
 * over LOCKOUT_TABLE_MAX entries, so memory is bounded whatever a flood of
 * sources does, and a lookup stays O(1) on the hot path.
 */
#include "lockout.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* Longer source texts share an entry with their first 63 bytes; an address
 * with a zone id is at most 61 bytes, so real sources never do. */
#define SOURCE_MAX 64
/* The doubling stops well before it could overflow. */
#define LEVEL_MAX  30

struct lockout_entry {
	char source[SOURCE_MAX];
	int64_t last;          /* last failure, or the end of the last lock */
	int64_t locked_until;  /* 0: not locked */
	unsigned failures;     /* since the last lock or the window start */
	unsigned level;        /* locks so far: the next lasts seconds << level */
	int next;              /* hash chain or free list, -1 = end */
};

struct lockout {
	unsigned failures, seconds, max_seconds;
	uint32_t seed;
	int free_head;
	int buckets[LOCKOUT_TABLE_MAX];
	struct lockout_entry e[LOCKOUT_TABLE_MAX];
};

/* FNV-1a with a per-process seed, so remote peers cannot aim many sources
 * at one chain. */
static unsigned bucket_of(const struct lockout *l, const char *key)
{
	uint32_t h = 2166136261u ^ l->seed;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % LOCKOUT_TABLE_MAX;
}

static void key_copy(char key[SOURCE_MAX], const char *source)
{
	size_t n = strnlen(source, SOURCE_MAX - 1);

	memcpy(key, source, n);
	key[n] = '\0';
}

int lockout_new(unsigned failures, unsigned seconds, unsigned max_seconds, struct lockout **out)
{
	struct lockout *l;

	*out = NULL;
	if (!failures || !seconds || !max_seconds || seconds > max_seconds)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->failures = failures;
	l->seconds = seconds;
	l->max_seconds = max_seconds;
	if (getrandom(&l->seed, sizeof(l->seed), GRND_NONBLOCK) != sizeof(l->seed))
		l->seed = (uint32_t)time(NULL);
	for (int i = 0; i < LOCKOUT_TABLE_MAX; i++) {
		l->buckets[i] = -1;
		l->e[i].next = i + 1 < LOCKOUT_TABLE_MAX ? i + 1 : -1;
	}
	l->free_head = 0;
	*out = l;
	return 0;
}

void lockout_free(struct lockout *l)
{
	free(l);
}

static struct lockout_entry *find(struct lockout *l, const char *key)
{
	for (int i = l->buckets[bucket_of(l, key)]; i >= 0; i = l->e[i].next) {
		if (strcmp(l->e[i].source, key) == 0)
			return &l->e[i];
	}
	return NULL;
}

static void unlink_entry(struct lockout *l, struct lockout_entry *victim)
{
	int idx = (int)(victim - l->e);
	int *link = &l->buckets[bucket_of(l, victim->source)];

	while (*link != idx)
		link = &l->e[*link].next;
	*link = victim->next;
	memset(victim, 0, sizeof(*victim));
	victim->next = l->free_head;
	l->free_head = idx;
}

/* Table full: forget an unlocked source idle the longest, or failing that
 * the lock that ends soonest.  Either way a flood of sources can at worst
 * give one of them a fresh start, never lock out someone new. */
static void evict(struct lockout *l, int64_t now)
{
	struct lockout_entry *best = NULL;
	bool best_locked = true;

	for (int i = 0; i < LOCKOUT_TABLE_MAX; i++) {
		struct lockout_entry *x = &l->e[i];
		bool locked = x->locked_until > now;

		if (!best || (best_locked && !locked) ||
		    (locked == best_locked && (locked ? x->locked_until < best->locked_until : x->last < best->last))) {
			best = x;
			best_locked = locked;
		}
	}
	unlink_entry(l, best);
}

static struct lockout_entry *find_or_add(struct lockout *l, const char *key, int64_t now)
{
	struct lockout_entry *x = find(l, key);
	unsigned b;
	int idx;

	if (x)
		return x;
	if (l->free_head < 0)
		evict(l, now);
	idx = l->free_head;
	x = &l->e[idx];
	l->free_head = x->next;
	memset(x, 0, sizeof(*x));
	memcpy(x->source, key, strlen(key) + 1);
	x->last = now;
	b = bucket_of(l, key);
	x->next = l->buckets[b];
	l->buckets[b] = idx;
	return x;
}

int lockout_check(struct lockout *l, const char *source, int64_t now, uint32_t *retry_after)
{
	char key[SOURCE_MAX];
	struct lockout_entry *x;

	*retry_after = 0;
	key_copy(key, source);
	x = find(l, key);
	/* Read-only on purpose: whatever a locked source sends, its lock ends
	 * when it was set to. */
	if (!x || x->locked_until <= now)
		return 0;
	*retry_after = (uint32_t)(x->locked_until - now);
	return -EACCES;
}

void lockout_fail(struct lockout *l, const char *source, int64_t now)
{
	char key[SOURCE_MAX];
	struct lockout_entry *x;
	int64_t dur;

	key_copy(key, source);
	x = find_or_add(l, key, now);
	if (x->locked_until > now)
		return;   /* never extend a running lock */
	if (now - x->last >= (int64_t)l->max_seconds) {
		/* Quiet for a whole window: a fresh start. */
		x->failures = 0;
		x->level = 0;
	}
	x->last = now;
	if (++x->failures < l->failures)
		return;
	dur = (int64_t)l->seconds << x->level;
	if (dur > (int64_t)l->max_seconds)
		dur = l->max_seconds;
	x->locked_until = now + dur;
	x->last = x->locked_until;
	x->failures = 0;
	if (x->level < LEVEL_MAX)
		x->level++;
}

void lockout_success(struct lockout *l, const char *source, int64_t now)
{
	char key[SOURCE_MAX];
	struct lockout_entry *x;

	key_copy(key, source);
	x = find(l, key);
	if (!x)
		return;
	x->failures = 0;
	/* Nothing left to remember: free the slot for someone else.  The
	 * level stays while it matters, so a guesser who shares an address
	 * with a legitimate user still gets doubling locks. */
	if (x->locked_until <= now && (x->level == 0 || now - x->last >= (int64_t)l->max_seconds))
		unlink_entry(l, x);
}
