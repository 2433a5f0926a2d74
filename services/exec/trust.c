/*
 * The HTTP allow list: pattern parsing, canonical text, matching, and the
 * SQLite rows behind it with an in-memory compiled copy for the hot path.
 */
#include "trust.h"

#include "services/common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Longest pattern text: a full IPv6 address with an IPv4 tail and "/128". */
#define TRUST_TEXT_MAX    64
/* Admin entries are added one at a time by people; a cap keeps a runaway
 * script from making every request scan a huge list. */
#define TRUST_ENTRIES_MAX 1024

struct trust {
	struct store *st;
	sqlite3_stmt *select_all;
	sqlite3_stmt *delete_provisioned;
	sqlite3_stmt *insert;
	sqlite3_stmt *delete_admin;
	sqlite3_stmt *count_origin;
	sqlite3_stmt *count_all;
	sqlite3_stmt *list_all;
	struct trust_pattern *list;   /* compiled copy of every row */
	size_t n;
	unsigned long seen_rollbacks;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Dotted quad, each octet 0-255 in decimal without leading zeros (inet_aton
 * would read "010" as octal 8: an allow list must mean what it says), or '*'
 * when stars are allowed.  mask gets 0xff per number and 0 per star.
 */
static int parse_v4(const char *s, bool stars, uint8_t addr[4], uint8_t mask[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned v = 0;
		int digits = 0;

		if (i > 0 && *s++ != '.')
			return -EINVAL;
		if (*s == '*') {
			if (!stars)
				return -EINVAL;
			addr[i] = 0;
			mask[i] = 0;
			s++;
			continue;
		}
		while (*s >= '0' && *s <= '9') {
			if (digits == 1 && v == 0)
				return -EINVAL;   /* leading zero */
			v = v * 10 + (unsigned)(*s++ - '0');
			if (++digits > 3 || v > 255)
				return -EINVAL;
		}
		if (digits == 0)
			return -EINVAL;
		addr[i] = (uint8_t)v;
		mask[i] = 0xff;
	}
	return *s == '\0' ? 0 : -EINVAL;
}

static int parse_prefix(const char *s, unsigned max, unsigned *prefix)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*prefix = v;
	return 0;
}

static bool is_v4_mapped(const uint8_t a[16])
{
	static const uint8_t head[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, head, sizeof(head)) == 0;
}

static void mask_from_prefix(uint8_t mask[16], unsigned prefix, unsigned bytes)
{
	memset(mask, 0, 16);
	for (unsigned i = 0; i < bytes; i++) {
		if (prefix >= 8)
			mask[i] = 0xff;
		else if (prefix > 0)
			mask[i] = (uint8_t)(0xff << (8 - prefix));
		prefix = prefix >= 8 ? prefix - 8 : 0;
	}
}

int trust_addr_parse(const char *addr, int *family, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN + 1];
	uint8_t mask[4];
	const char *zone;
	size_t n;

	memset(out, 0, 16);
	if (parse_v4(addr, false, out, mask) == 0) {
		*family = AF_INET;
		return 0;
	}
	/* A link-local peer comes as "fe80::1%eth0".  Patterns cannot name a
	 * zone, so the zone plays no part in matching. */
	zone = strchr(addr, '%');
	n = zone ? (size_t)(zone - addr) : strlen(addr);
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, addr, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET6, buf, out) != 1)
		return -EINVAL;
	if (is_v4_mapped(out)) {
		/* A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d;
		 * they are IPv4 clients and match IPv4 patterns. */
		memmove(out, out + 12, 4);
		memset(out + 4, 0, 12);
		*family = AF_INET;
		return 0;
	}
	*family = AF_INET6;
	return 0;
}

int trust_pattern_parse(const char *text, struct trust_pattern *p, char *canonical, size_t canonlen,
			char *err, size_t errlen)
{
	char addr[TRUST_TEXT_MAX + 1], out[TRUST_TEXT_MAX + 8];
	const char *slash;
	unsigned prefix = 0;
	bool has_prefix, stars = false;
	size_t n = strnlen(text, TRUST_TEXT_MAX + 1);

	memset(p, 0, sizeof(*p));
	if (n == 0 || n > TRUST_TEXT_MAX) {
		seterr(err, errlen, n ? "too long" : "empty");
		return -EINVAL;
	}
	if (strcasecmp(text, "any") == 0) {
		p->family = 0;
		snprintf(out, sizeof(out), "any");
		goto done;
	}
	slash = strchr(text, '/');
	has_prefix = slash != NULL;
	n = has_prefix ? (size_t)(slash - text) : n;
	memcpy(addr, text, n);
	addr[n] = '\0';

	if (!strchr(addr, ':')) {
		if (parse_v4(addr, !has_prefix, p->addr, p->mask) < 0) {
			seterr(err, errlen, "not an IPv4 address, wildcard or network");
			return -EINVAL;
		}
		if (has_prefix && parse_prefix(slash + 1, 32, &prefix) < 0) {
			seterr(err, errlen, "bad IPv4 prefix length (0-32)");
			return -EINVAL;
		}
		stars = !has_prefix && memchr(p->mask, 0, 4);
		if (!has_prefix)
			prefix = 32;
		p->family = AF_INET;
	} else {
		/* inet_pton refuses zones, brackets, stars and spaces. */
		if (inet_pton(AF_INET6, addr, p->addr) != 1) {
			seterr(err, errlen, "not an IPv6 address or network");
			return -EINVAL;
		}
		if (has_prefix && parse_prefix(slash + 1, 128, &prefix) < 0) {
			seterr(err, errlen, "bad IPv6 prefix length (0-128)");
			return -EINVAL;
		}
		if (!has_prefix)
			prefix = 128;
		p->family = AF_INET6;
		/* ::ffff:10.0.0.0/104 is 10.0.0.0/8: clients in that range are
		 * matched as IPv4 (trust_addr_parse), so the pattern must be too.
		 * A shorter prefix is an IPv6 network and stays one. */
		if (is_v4_mapped(p->addr) && prefix >= 96) {
			memmove(p->addr, p->addr + 12, 4);
			memset(p->addr + 4, 0, 12);
			prefix -= 96;
			p->family = AF_INET;
		}
	}
	if (!stars)
		mask_from_prefix(p->mask, prefix, p->family == AF_INET ? 4 : 16);
	/* Host bits are dropped: 10.1.2.3/8 is the network 10.0.0.0/8, and the
	 * canonical text says so. */
	for (int i = 0; i < 16; i++)
		p->addr[i] &= p->mask[i];

	if (p->family == AF_INET && stars) {
		int off = 0;

		for (int i = 0; i < 4; i++) {
			if (p->mask[i])
				off += snprintf(out + off, sizeof(out) - (size_t)off, "%s%u", i ? "." : "", p->addr[i]);
			else
				off += snprintf(out + off, sizeof(out) - (size_t)off, "%s*", i ? "." : "");
		}
	} else {
		char a[INET6_ADDRSTRLEN];
		unsigned full = p->family == AF_INET ? 32 : 128;

		inet_ntop(p->family, p->addr, a, sizeof(a));
		if (prefix == full)
			snprintf(out, sizeof(out), "%s", a);
		else
			snprintf(out, sizeof(out), "%s/%u", a, prefix);
	}
done:
	if (canonical && canonlen) {
		if (strlen(out) >= canonlen) {
			seterr(err, errlen, "canonical text does not fit");
			return -ENOSPC;
		}
		memcpy(canonical, out, strlen(out) + 1);
	}
	return 0;
}

bool trust_pattern_match(const struct trust_pattern *p, int family, const uint8_t addr[16])
{
	int n;

	if (p->family == 0)
		return true;
	if (p->family != family)
		return false;
	n = family == AF_INET ? 4 : 16;
	for (int i = 0; i < n; i++) {
		if ((addr[i] & p->mask[i]) != p->addr[i])
			return false;
	}
	return true;
}

/* ---- the rows and their compiled copy ---- */

/* Rebuilds the compiled list from the rows.  A row that no longer parses
 * (edited by hand, or written by a later build) is skipped with a warning:
 * the list fails closed. */
static int reload(struct trust *t)
{
	struct trust_pattern *list = NULL, *grown;
	size_t n = 0, cap = 0;
	int rc, err = 0;

	while ((rc = sqlite3_step(t->select_all)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(t->select_all, 0);
		struct trust_pattern p;
		char why[64];

		if (!text || trust_pattern_parse(text, &p, NULL, 0, why, sizeof(why)) < 0) {
			log_warn("trust: skipping stored entry '%.64s': %s", text ? text : "", text ? why : "NULL");
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			list = grown;
		}
		list[n++] = p;
	}
	if (!err && rc != SQLITE_DONE)
		err = store_error(t->st, rc, "trust: load");
	sqlite3_reset(t->select_all);
	t->seen_rollbacks = t->st->rollbacks;
	free(t->list);
	if (err) {
		/* Fail closed: an empty list allows nobody. */
		free(list);
		t->list = NULL;
		t->n = 0;
		return err;
	}
	t->list = list;
	t->n = n;
	return 0;
}

int trust_init(struct store *st, struct trust **out)
{
	struct trust *t = calloc(1, sizeof(*t));
	int err = 0;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->st = st;
	err = store_prepare(st, "SELECT pattern FROM trust", &t->select_all);
	if (!err)
		err = store_prepare(st, "DELETE FROM trust WHERE origin = 'provisioned'", &t->delete_provisioned);
	if (!err)
		err = store_prepare(st, "INSERT OR IGNORE INTO trust (pattern, origin, created) VALUES (?1, ?2, ?3)",
				    &t->insert);
	if (!err)
		err = store_prepare(st, "DELETE FROM trust WHERE pattern = ?1 AND origin = 'admin'", &t->delete_admin);
	if (!err)
		err = store_prepare(st, "SELECT count(*) FROM trust WHERE pattern = ?1 AND origin = ?2",
				    &t->count_origin);
	if (!err)
		err = store_prepare(st, "SELECT count(*) FROM trust", &t->count_all);
	if (!err)
		err = store_prepare(st, "SELECT pattern, origin, created FROM trust ORDER BY origin = 'admin', rowid",
				    &t->list_all);
	if (!err)
		err = reload(t);
	if (err) {
		trust_free(t);
		return err;
	}
	*out = t;
	return 0;
}

void trust_free(struct trust *t)
{
	/* The statements belong to the store and are finalized by store_close(). */
	if (!t)
		return;
	free(t->list);
	free(t);
}

static int insert_row(struct trust *t, const char *pattern, const char *origin, bool *added)
{
	int rc;

	sqlite3_bind_text(t->insert, 1, pattern, -1, SQLITE_STATIC);
	sqlite3_bind_text(t->insert, 2, origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(t->insert, 3, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(t->insert);
	sqlite3_reset(t->insert);
	sqlite3_clear_bindings(t->insert);
	if (rc != SQLITE_DONE)
		return store_error(t->st, rc, "trust: insert");
	if (added)
		*added = sqlite3_changes(t->st->db) > 0;
	return 0;
}

static int count_rows(struct trust *t, sqlite3_stmt *s, int64_t *n)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? 0 : store_error(t->st, rc, "trust: count");
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copies the next comma-separated entry of *list, trimmed, into buf and
 * advances *list.  1: an entry (possibly empty); 0: end; -EINVAL: too long. */
static int next_entry(const char **list, char *buf, size_t size)
{
	const char *s = *list, *end;
	size_t n;

	if (!s)
		return 0;
	end = strchr(s, ',');
	n = end ? (size_t)(end - s) : strlen(s);
	*list = end ? end + 1 : NULL;
	while (n && is_blank(*s)) {
		s++;
		n--;
	}
	while (n && is_blank(s[n - 1]))
		n--;
	if (n >= size) {
		snprintf(buf, size, "%.*s", (int)(size - 1), s);
		return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 1;
}

int trust_import_provisioned(struct trust *t, const char *list, char *err, size_t errlen)
{
	char (*canon)[TRUST_TEXT_MAX + 1] = NULL;
	char entry[TRUST_TEXT_MAX + 1], why[64];
	const char *s = list;
	size_t n = 0, cap = 0;
	bool own;
	int r, e = 0;

	/* Every entry is checked before the database is touched, so a typo in
	 * the config file leaves the previous list fully in force. */
	while ((r = next_entry(&s, entry, sizeof(entry))) != 0) {
		struct trust_pattern p;

		if (r < 0) {
			seterr(err, errlen, "allow list entry '%s...' is too long", entry);
			e = -EINVAL;
			goto out;
		}
		if (entry[0] == '\0')
			continue;   /* "a,,b" and a trailing comma are harmless */
		if (n == cap) {
			void *grown;

			cap = cap ? cap * 2 : 8;
			if (cap > TRUST_ENTRIES_MAX) {
				seterr(err, errlen, "allow list has more than %d entries", TRUST_ENTRIES_MAX);
				e = -EINVAL;
				goto out;
			}
			grown = realloc(canon, cap * sizeof(*canon));
			if (!grown) {
				e = -ENOMEM;
				goto out;
			}
			canon = grown;
		}
		if (trust_pattern_parse(entry, &p, canon[n], sizeof(canon[n]), why, sizeof(why)) < 0) {
			seterr(err, errlen, "allow list entry '%s': %s", entry, why);
			e = -EINVAL;
			goto out;
		}
		n++;
	}

	e = store_atomic_begin(t->st, &own);
	if (e)
		goto out;
	r = sqlite3_step(t->delete_provisioned);
	sqlite3_reset(t->delete_provisioned);
	if (r != SQLITE_DONE)
		e = store_error(t->st, r, "trust: delete provisioned");
	for (size_t i = 0; i < n && !e; i++)
		e = insert_row(t, canon[i], "provisioned", NULL);
	e = store_atomic_end(t->st, own, e);
	if (e)
		seterr(err, errlen, "database error");
	/* Reload after a failure too: the rows are back as they were, and the
	 * compiled copy must match them. */
	r = reload(t);
	if (!e)
		e = r;
	if (!e)
		log_info("trust: %zu provisioned allow-list entries", n);
out:
	free(canon);
	return e;
}

static int canonical_arg(const char *pattern, char *canon, size_t size, char *err, size_t errlen)
{
	char entry[TRUST_TEXT_MAX + 1], why[64];
	const char *s = pattern;
	struct trust_pattern p;

	if (next_entry(&s, entry, sizeof(entry)) < 0 || s != NULL) {
		seterr(err, errlen, "'%.64s': one pattern, at most %d characters", pattern, TRUST_TEXT_MAX);
		return -EINVAL;
	}
	if (trust_pattern_parse(entry, &p, canon, size, why, sizeof(why)) < 0) {
		seterr(err, errlen, "'%s': %s", entry, why);
		return -EINVAL;
	}
	return 0;
}

int trust_add(struct trust *t, const char *pattern, char *err, size_t errlen)
{
	char canon[TRUST_TEXT_MAX + 1];
	int64_t total = 0;
	bool added = false, own;
	int e;

	e = canonical_arg(pattern, canon, sizeof(canon), err, errlen);
	if (e)
		return e;
	e = store_atomic_begin(t->st, &own);
	if (e)
		return e;
	e = count_rows(t, t->count_all, &total);
	if (!e && total >= TRUST_ENTRIES_MAX) {
		seterr(err, errlen, "the allow list is full (%d entries)", TRUST_ENTRIES_MAX);
		e = -ENOSPC;
	}
	if (!e)
		e = insert_row(t, canon, "admin", &added);
	if (!e && !added) {
		seterr(err, errlen, "'%s' is already in the allow list", canon);
		e = -EEXIST;
	}
	e = store_atomic_end(t->st, own, e);
	if (!e) {
		e = reload(t);
		log_info("trust: added %s", canon);
	}
	return e;
}

int trust_remove(struct trust *t, const char *pattern, char *err, size_t errlen)
{
	char canon[TRUST_TEXT_MAX + 1];
	int64_t prov = 0;
	bool own;
	int e, rc;

	e = canonical_arg(pattern, canon, sizeof(canon), err, errlen);
	if (e)
		return e;
	e = store_atomic_begin(t->st, &own);
	if (e)
		return e;
	sqlite3_bind_text(t->delete_admin, 1, canon, -1, SQLITE_STATIC);
	rc = sqlite3_step(t->delete_admin);
	sqlite3_reset(t->delete_admin);
	sqlite3_clear_bindings(t->delete_admin);
	if (rc != SQLITE_DONE) {
		e = store_error(t->st, rc, "trust: delete");
	} else if (sqlite3_changes(t->st->db) == 0) {
		sqlite3_bind_text(t->count_origin, 1, canon, -1, SQLITE_STATIC);
		sqlite3_bind_text(t->count_origin, 2, "provisioned", -1, SQLITE_STATIC);
		e = count_rows(t, t->count_origin, &prov);
		if (!e && prov) {
			seterr(err, errlen, "'%s' comes from the config file: change the config instead", canon);
			e = -EPERM;
		} else if (!e) {
			seterr(err, errlen, "'%s' is not in the allow list", canon);
			e = -ENOENT;
		}
	}
	e = store_atomic_end(t->st, own, e);
	if (!e) {
		e = reload(t);
		log_info("trust: removed %s", canon);
	}
	return e;
}

int trust_list(struct trust *t, int (*fn)(void *arg, const char *pattern, const char *origin, int64_t created), void *arg)
{
	sqlite3_stmt *s = t->list_all;
	int rc, e = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		e = fn(arg, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		       sqlite3_column_int64(s, 2));
		if (e)
			break;
	}
	if (!e && rc != SQLITE_DONE)
		e = store_error(t->st, rc, "trust: list");
	sqlite3_reset(s);
	return e;
}

bool trust_allows(struct trust *t, const char *addr)
{
	uint8_t a[16];
	int family;
	bool parsed;

	/* A rolled-back transaction may have undone our last change. */
	if (t->seen_rollbacks != t->st->rollbacks && reload(t) < 0)
		return false;
	parsed = trust_addr_parse(addr, &family, a) == 0;
	for (size_t i = 0; i < t->n; i++) {
		if (t->list[i].family == 0)
			return true;
		if (parsed && trust_pattern_match(&t->list[i], family, a))
			return true;
	}
	return false;
}
