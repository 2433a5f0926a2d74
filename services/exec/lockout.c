/*
 * Failed-login lock-out per source, in a fixed-size table (source_table.h),
 * so memory is bounded whatever a flood of sources does, and a lookup stays
 * O(1) on the hot path.
 */
#include "lockout.h"
#include "source_table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(LOCKOUT_TABLE_MAX == SOURCE_TABLE_MAX, "one slot per tracked source");

/* The doubling stops well before it could overflow. */
#define LEVEL_MAX  30

/* What is known of the source in the same slot of the table. */
struct lockout_entry {
	int64_t last;          /* last failure, or the end of the last lock */
	int64_t locked_until;  /* 0: not locked */
	unsigned failures;     /* since the last lock or the window start */
	unsigned level;        /* locks so far: the next lasts seconds << level */
};

struct lockout {
	unsigned failures, seconds, max_seconds;
	struct source_table t;
	struct lockout_entry e[LOCKOUT_TABLE_MAX];
};

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
	source_table_init(&l->t);
	*out = l;
	return 0;
}

void lockout_free(struct lockout *l)
{
	free(l);
}

static struct lockout_entry *find(struct lockout *l, const char *key)
{
	int i = source_table_find(&l->t, key);

	return i < 0 ? NULL : &l->e[i];
}

static void unlink_entry(struct lockout *l, struct lockout_entry *victim)
{
	source_table_remove(&l->t, (int)(victim - l->e));
	memset(victim, 0, sizeof(*victim));
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

	if (x)
		return x;
	if (source_table_full(&l->t))
		evict(l, now);
	x = &l->e[source_table_add(&l->t, key)];
	memset(x, 0, sizeof(*x));
	x->last = now;
	return x;
}

int lockout_check(struct lockout *l, const char *source, int64_t now, uint32_t *retry_after)
{
	char key[SOURCE_KEY_MAX];
	struct lockout_entry *x;

	*retry_after = 0;
	source_table_key(key, source);
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
	char key[SOURCE_KEY_MAX];
	struct lockout_entry *x;
	int64_t dur;

	source_table_key(key, source);
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
	char key[SOURCE_KEY_MAX];
	struct lockout_entry *x;

	source_table_key(key, source);
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
