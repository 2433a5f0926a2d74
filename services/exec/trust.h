/*
 * The HTTP allow list (features.action_uri_limit_ip and admin entries).
 *
 * Pattern forms: "any"; an IPv4 address; IPv4 with '*' octets ("10.10.*.*");
 * IPv4 or IPv6 CIDR ("10.10.0.0/16", "fd00::/8"); an IPv6 address.
 * IPv4-mapped IPv6 addresses ("::ffff:10.1.2.3") are matched as IPv4.
 * Entries live in SQLite with an origin: "provisioned" (from the config file,
 * replaced at each start) or "admin" (added by aurictl / the web UI).
 */
#ifndef AURID_TRUST_H
#define AURID_TRUST_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trust_pattern {
	int family;          /* 0 = any, AF_INET, AF_INET6 */
	uint8_t addr[16];
	uint8_t mask[16];    /* per-byte mask; '*' octets and CIDR both become masks */
};

/* Parses one pattern; canonical gets its normalised text ("10.10.0.0/16").
 * 0 or -EINVAL with err set. */
int trust_pattern_parse(const char *text, struct trust_pattern *p, char *canonical, size_t canonlen,
			char *err, size_t errlen);
/* Normalises an address text (IPv4-mapped IPv6 -> IPv4); 0 or -EINVAL. */
int trust_addr_parse(const char *addr, int *family, uint8_t out[16]);
bool trust_pattern_match(const struct trust_pattern *p, int family, const uint8_t addr[16]);

struct trust;

int trust_init(struct store *st, struct trust **out);
void trust_free(struct trust *t);
/* Replaces the provisioned entries with the comma list from the config
 * ("" = none, "any" = everyone).  A bad entry fails the whole import
 * (nothing changed) with err naming it. */
int trust_import_provisioned(struct trust *t, const char *list, char *err, size_t errlen);
/* Admin entries.  add: -EEXIST if present, -EINVAL bad pattern.
 * remove: -ENOENT if no admin entry has that (canonical) text; provisioned
 * entries cannot be removed (-EPERM: change the config instead). */
int trust_add(struct trust *t, const char *pattern, char *err, size_t errlen);
int trust_remove(struct trust *t, const char *pattern, char *err, size_t errlen);
/* Calls fn for each entry in order: pattern text, origin, created (unix s). */
int trust_list(struct trust *t, int (*fn)(void *arg, const char *pattern, const char *origin, int64_t created), void *arg);
/* Is addr (text) allowed?  Uses an in-memory copy rebuilt on every change. */
bool trust_allows(struct trust *t, const char *addr);

#endif
