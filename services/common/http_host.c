/* Host names and address literals of HTTP (see http_host.h). */
#include "http_host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static bool is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* The port after a ':' of the Host form: empty (RFC 3986 allows it) or 0..65535. */
static int check_port(const char *s, size_t n)
{
	unsigned long v = 0;

	if (n > 5 || !is_digits(s, n))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	return v <= 65535 ? 0 : -EINVAL;
}

static int parse_v6(const char *s, size_t n, struct http_host *out)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *zone = memchr(s, '%', n);

	/* A zone names an interface of the client's, not part of the address. */
	if (zone)
		n = (size_t)(zone - s);
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET6, buf, out->addr) != 1)
		return -EINVAL;
	out->kind = HTTP_HOST_IPV6;
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)out->addr)) {
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
		out->kind = HTTP_HOST_IPV4;
	}
	return 0;
}

/* An IPv4 dotted quad (inet_pton's strict form), else a DNS name. */
static int parse_v4_or_name(const char *s, size_t n, struct http_host *out)
{
	char buf[HTTP_HOST_NAME_MAX + 2];
	bool label_empty = true;

	if (n > 0 && s[n - 1] == '.')
		n--;   /* "phone.example." is "phone.example" */
	if (n == 0 || n > HTTP_HOST_NAME_MAX)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->kind = HTTP_HOST_IPV4;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];

		if (c >= 'A' && c <= 'Z')
			buf[i] = (char)(c - 'A' + 'a');
		else if (c == '.') {
			if (label_empty)
				return -EINVAL;
			label_empty = true;
			continue;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return -EINVAL;
		label_empty = false;
	}
	if (label_empty)
		return -EINVAL;
	out->kind = HTTP_HOST_NAME;
	memcpy(out->name, buf, n + 1);
	return 0;
}

int http_host_parse(const char *s, size_t n, bool with_port, struct http_host *out)
{
	memset(out, 0, sizeof(*out));
	if (n > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		size_t after;

		if (!rb)
			return -EINVAL;
		after = n - (size_t)(rb + 1 - s);
		if (after > 0 && !(with_port && rb[1] == ':' && check_port(rb + 2, after - 1) == 0))
			return -EINVAL;
		return parse_v6(s + 1, (size_t)(rb - s - 1), out);
	}
	if (!with_port) {
		/* A config entry may name an IPv6 address without brackets. */
		if (memchr(s, ':', n))
			return parse_v6(s, n, out);
		return parse_v4_or_name(s, n, out);
	}
	{
		const char *colon = memchr(s, ':', n);

		if (colon) {
			size_t hn = (size_t)(colon - s);

			/* An IPv6 address in Host must be in brackets (RFC 3986). */
			if (check_port(colon + 1, n - hn - 1) != 0)
				return -EINVAL;
			n = hn;
		}
	}
	return parse_v4_or_name(s, n, out);
}

bool http_host_equal(const struct http_host *a, const struct http_host *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case HTTP_HOST_IPV4: return memcmp(a->addr, b->addr, 4) == 0;
	case HTTP_HOST_IPV6: return memcmp(a->addr, b->addr, 16) == 0;
	default: return strcmp(a->name, b->name) == 0;
	}
}

bool http_host_is_loopback(const struct http_host *h)
{
	static const unsigned char v6_loopback[16] = { [15] = 1 };

	if (h->kind == HTTP_HOST_IPV4)
		return h->addr[0] == 127;
	return h->kind == HTTP_HOST_IPV6 && memcmp(h->addr, v6_loopback, 16) == 0;
}

/* The next entry of a comma list, blanks trimmed: false at the end. */
static bool list_next(const char **p, const char **start, size_t *len)
{
	const char *s = *p, *e;

	if (*s == '\0')
		return false;
	e = strchr(s, ',');
	if (!e)
		e = s + strlen(s);
	*p = *e ? e + 1 : e;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*start = s;
	*len = (size_t)(e - s);
	return true;
}

int http_host_list_check(const char *list, char *bad, size_t badlen)
{
	const char *p = list, *s;
	size_t n;
	struct http_host h;

	while (list_next(&p, &s, &n)) {
		if (n > 0 && http_host_parse(s, n, false, &h) != 0) {
			if (bad && badlen)
				snprintf(bad, badlen, "%.*s", (int)(n < 200 ? n : 200), s);
			return -EINVAL;
		}
	}
	return 0;
}

bool http_host_list_any(const char *list, bool (*fn)(const struct http_host *h, void *arg), void *arg)
{
	const char *p = list, *s;
	size_t n;
	struct http_host h;

	while (list_next(&p, &s, &n))
		if (n > 0 && http_host_parse(s, n, false, &h) == 0 && fn(&h, arg))
			return true;
	return false;
}
