/*
 * Consent per source, granted by the person at the phone (OK on the
 * physical keypad) and kept in SQLite.  Consent never widens the allow
 * list: it is checked after it.  It may expire (aurid.consent.max_age).
 */
#ifndef AURID_CONSENT_STORE_H
#define AURID_CONSENT_STORE_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

struct consent_store;

int consent_store_init(struct store *st, struct consent_store **out);
void consent_store_free(struct consent_store *c);
/* *yes: consent for source exists and, with max_age > 0, is younger than
 * max_age seconds at now (unix seconds). */
int consent_store_has(struct consent_store *c, const char *source, unsigned max_age, int64_t now, bool *yes);
int consent_store_grant(struct consent_store *c, const char *source, const char *transport, int64_t now);
/* -ENOENT if there was none. */
int consent_store_revoke(struct consent_store *c, const char *source);
int consent_store_list(struct consent_store *c, unsigned max_age,
		       int (*fn)(void *arg, const char *source, const char *transport, int64_t granted,
				 int64_t expires), void *arg);

#endif
