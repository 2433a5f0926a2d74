#include "source_table.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

/* FNV-1a with a per-table seed, so remote peers cannot aim many sources at
 * one chain. */
static unsigned bucket_of(const struct source_table *t, const char *key)
{
	uint32_t h = 2166136261u ^ t->seed;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % SOURCE_TABLE_MAX;
}

void source_table_init(struct source_table *t)
{
	memset(t, 0, sizeof(*t));
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint32_t)time(NULL);
	for (int i = 0; i < SOURCE_TABLE_MAX; i++) {
		t->buckets[i] = -1;
		t->next[i] = i + 1 < SOURCE_TABLE_MAX ? i + 1 : -1;
	}
	t->free_head = 0;
}

void source_table_key(char key[SOURCE_KEY_MAX], const char *source)
{
	size_t n = strnlen(source, SOURCE_KEY_MAX - 1);

	memcpy(key, source, n);
	key[n] = '\0';
}

int source_table_find(const struct source_table *t, const char *key)
{
	for (int i = t->buckets[bucket_of(t, key)]; i >= 0; i = t->next[i]) {
		if (strcmp(t->key[i], key) == 0)
			return i;
	}
	return -1;
}

bool source_table_full(const struct source_table *t)
{
	return t->free_head < 0;
}

int source_table_add(struct source_table *t, const char *key)
{
	int idx = t->free_head;
	unsigned b = bucket_of(t, key);

	t->free_head = t->next[idx];
	source_table_key(t->key[idx], key);
	t->next[idx] = t->buckets[b];
	t->buckets[b] = idx;
	return idx;
}

void source_table_remove(struct source_table *t, int idx)
{
	int *link = &t->buckets[bucket_of(t, t->key[idx])];

	while (*link != idx)
		link = &t->next[*link];
	*link = t->next[idx];
	memset(t->key[idx], 0, SOURCE_KEY_MAX);
	t->next[idx] = t->free_head;
	t->free_head = idx;
}
