/*
 * The host of an HTTP Host header, an Origin or an aurid.http.server_names
 * entry: an IPv4 address, an IPv6 address, or a DNS name, in a form that
 * compares by value.  Used by the config check (supervisor) and by the
 * executor's DNS-rebinding rule (services/exec/site.c), so both read a name
 * the same way.
 */
#ifndef AURID_HTTP_HOST_H
#define AURID_HTTP_HOST_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_HOST_NAME_MAX 253   /* a DNS name, without the root's trailing dot */

enum http_host_kind { HTTP_HOST_NAME = 0, HTTP_HOST_IPV4 = 1, HTTP_HOST_IPV6 = 2 };

struct http_host {
	enum http_host_kind kind;
	unsigned char addr[16];          /* IPV4: 4 bytes, IPV6: 16 (an IPv4-mapped one is IPV4) */
	char name[HTTP_HOST_NAME_MAX + 1];   /* NAME: lower case, no trailing dot */
};

/*
 * Parses len bytes of text.  with_port: the Host form, "host[:port]" with
 * IPv6 in brackets ("[::1]:80"; the port is checked and dropped).  Without
 * it: a config entry, no port, IPv6 bare or in brackets.  An IPv6 zone
 * ("%25eth0", "%eth0") is dropped.  A name is letters, digits, '-', '_' and
 * dots, non-empty labels, one trailing dot allowed.  0, or -EINVAL.
 */
int http_host_parse(const char *text, size_t len, bool with_port, struct http_host *out);

bool http_host_equal(const struct http_host *a, const struct http_host *b);

/* 127.0.0.0/8 or ::1. */
bool http_host_is_loopback(const struct http_host *h);

/*
 * Checks a comma list of config entries (aurid.http.server_names); blanks
 * around entries and empty entries are allowed.  0, or -EINVAL with the bad
 * entry in bad (may be NULL).
 */
int http_host_list_check(const char *list, char *bad, size_t badlen);

/*
 * Calls fn for each entry of such a list that parses, until fn returns
 * true; true then.  Entries that do not parse are skipped (the config check
 * refused them already).
 */
bool http_host_list_any(const char *list, bool (*fn)(const struct http_host *h, void *arg), void *arg);

#endif
