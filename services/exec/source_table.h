/*
 * A fixed-size table keyed by source address, for the per-source limits
 * (lockout.c, rate.c): a chained hash over SOURCE_TABLE_MAX slots with a
 * free list, so memory is bounded whatever a flood of sources does and a
 * lookup stays O(1) on the hot path.
 *
 * The table holds the keys only.  Its user keeps what it knows of each
 * source in an array of its own indexed by slot, and chooses which slot to
 * give up when the table is full: that choice is the policy, and differs.
 */
#ifndef AURID_SOURCE_TABLE_H
#define AURID_SOURCE_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#define SOURCE_TABLE_MAX 1024
/* Longer source texts share a slot with their first 63 bytes; an address
 * with a zone id is at most 61 bytes, so real sources never do. */
#define SOURCE_KEY_MAX 64

struct source_table {
	uint32_t seed;
	int free_head;
	int buckets[SOURCE_TABLE_MAX];
	int next[SOURCE_TABLE_MAX];               /* hash chain or free list, -1 = end */
	char key[SOURCE_TABLE_MAX][SOURCE_KEY_MAX];
};

/* Empties t and draws its hash seed. */
void source_table_init(struct source_table *t);
/* The key source is known by: its first SOURCE_KEY_MAX - 1 bytes. */
void source_table_key(char key[SOURCE_KEY_MAX], const char *source);
/* The slot holding key, or -1. */
int source_table_find(const struct source_table *t, const char *key);
/* Every slot is taken: source_table_remove() one before adding. */
bool source_table_full(const struct source_table *t);
/* Puts key (from source_table_key, not in t) in a free slot, t not full;
 * returns the slot. */
int source_table_add(struct source_table *t, const char *key);
/* Frees slot idx, which holds a key. */
void source_table_remove(struct source_table *t, int idx);

#endif
