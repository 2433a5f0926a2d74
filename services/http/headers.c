/* The kept request headers: one fixed slot each (see headers.h). */
#include "headers.h"

#include <string.h>

/* Slot offsets follow from the capacities: each slot is cap + 1 bytes. */
#define OFF_AUTHORIZATION 0
#define OFF_ACCEPT        (OFF_AUTHORIZATION + HTTP_HDR_AUTHORIZATION_MAX + 1)
#define OFF_FETCH_SITE    (OFF_ACCEPT + HTTP_HDR_ACCEPT_MAX + 1)
#define OFF_FETCH_MODE    (OFF_FETCH_SITE + HTTP_HDR_FETCH_MAX + 1)
#define OFF_FETCH_DEST    (OFF_FETCH_MODE + HTTP_HDR_FETCH_MAX + 1)
#define OFF_HOST          (OFF_FETCH_DEST + HTTP_HDR_FETCH_MAX + 1)
#define OFF_ORIGIN        (OFF_HOST + HTTP_HDR_HOST_MAX + 1)
#define OFF_END           (OFF_ORIGIN + HTTP_HDR_ORIGIN_MAX + 1)

_Static_assert(OFF_END == HTTP_HDR_STORE_SIZE, "the slots fill the store exactly");

static const struct {
	const char *name;        /* lower case, as matched */
	const char *display;
	size_t off;
	size_t cap;
	bool joins;
} slots[HDR_N] = {
	[HDR_AUTHORIZATION] = { "authorization", "Authorization", OFF_AUTHORIZATION, HTTP_HDR_AUTHORIZATION_MAX, false },
	[HDR_ACCEPT] = { "accept", "Accept", OFF_ACCEPT, HTTP_HDR_ACCEPT_MAX, true },
	[HDR_SEC_FETCH_SITE] = { "sec-fetch-site", "Sec-Fetch-Site", OFF_FETCH_SITE, HTTP_HDR_FETCH_MAX, false },
	[HDR_SEC_FETCH_MODE] = { "sec-fetch-mode", "Sec-Fetch-Mode", OFF_FETCH_MODE, HTTP_HDR_FETCH_MAX, false },
	[HDR_SEC_FETCH_DEST] = { "sec-fetch-dest", "Sec-Fetch-Dest", OFF_FETCH_DEST, HTTP_HDR_FETCH_MAX, false },
	[HDR_HOST] = { "host", "Host", OFF_HOST, HTTP_HDR_HOST_MAX, false },
	[HDR_ORIGIN] = { "origin", "Origin", OFF_ORIGIN, HTTP_HDR_ORIGIN_MAX, false },
};

static char *slot(struct http_hdr_store *s, enum http_hdr h)
{
	return s->buf + slots[h].off;
}

void http_hdr_reset(struct http_hdr_store *s)
{
	for (int h = 0; h < HDR_N; h++) {
		s->len[h] = 0;
		s->present[h] = false;
		slot(s, h)[0] = '\0';
	}
	s->name_len = 0;
	s->in_name = s->in_value = s->closed = false;
	s->cur = HDR_OTHER;
	s->join_pending = s->joined = false;
	s->too_large = HDR_OTHER;
}

/* Appends to the current slot; len <= cap always holds, so cap - len cannot wrap. */
static enum http_hdr_verdict append(struct http_hdr_store *s, const char *p, size_t n)
{
	enum http_hdr h = s->cur;
	char *v = slot(s, h);

	if (n > slots[h].cap - s->len[h]) {
		s->too_large = h;
		return HTTP_HDR_TOO_LARGE;
	}
	memcpy(v + s->len[h], p, n);
	s->len[h] += n;
	v[s->len[h]] = '\0';
	return HTTP_HDR_OK;
}

static void value_end(struct http_hdr_store *s)
{
	enum http_hdr h = s->cur;
	char *v;

	s->in_value = false;
	s->cur = HDR_OTHER;
	if (h == HDR_OTHER)
		return;
	v = slot(s, h);
	/* The parser strips leading blanks, not trailing ones. */
	while (s->len[h] > s->val_start && (v[s->len[h] - 1] == ' ' || v[s->len[h] - 1] == '\t'))
		s->len[h]--;
	if (s->joined && s->len[h] == s->val_start)
		s->len[h] = s->val_start - 2;   /* an empty repeat adds nothing: drop its ", " */
	v[s->len[h]] = '\0';
}

/* The name is complete: pick the slot its value goes to. */
static enum http_hdr_verdict value_begin(struct http_hdr_store *s)
{
	enum http_hdr h = HDR_OTHER;

	s->in_name = false;
	s->in_value = true;
	for (int i = 0; i < HDR_N; i++) {
		if (s->name_len == strlen(slots[i].name) && memcmp(s->name, slots[i].name, s->name_len) == 0)
			h = i;
	}
	s->cur = h;
	s->join_pending = s->joined = false;
	if (h == HDR_OTHER)
		return HTTP_HDR_OK;
	if (s->present[h]) {
		if (!slots[h].joins)
			return HTTP_HDR_REPEATED;
		s->join_pending = s->len[h] > 0;
	}
	s->present[h] = true;
	s->val_start = s->len[h];
	return HTTP_HDR_OK;
}

enum http_hdr_verdict http_hdr_name(struct http_hdr_store *s, const char *p, size_t n)
{
	if (s->closed)
		return HTTP_HDR_OK;
	if (s->in_value)
		value_end(s);
	if (!s->in_name) {
		s->in_name = true;
		s->name_len = 0;
	}
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		/* "Host : x" passes the non-strict parser; RFC 9112 says reject it (smuggling). */
		if (ch == ' ' || ch == '\t')
			return HTTP_HDR_BAD_NAME;
		if (s->name_len < sizeof(s->name))
			s->name[s->name_len++] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 'a' - 'A') : ch;
		else
			s->name_len = sizeof(s->name) + 1;   /* matches no name we keep */
	}
	return HTTP_HDR_OK;
}

enum http_hdr_verdict http_hdr_value(struct http_hdr_store *s, const char *p, size_t n)
{
	enum http_hdr_verdict v;

	if (s->closed)
		return HTTP_HDR_OK;
	if (s->in_name && (v = value_begin(s)) != HTTP_HDR_OK)
		return v;
	/*
	 * Several calls for one value: the value was split across reads, or
	 * folded (obs-fold); a fold comes with its leading blanks, so plain
	 * concatenation replaces each CRLF fold by white space, as RFC 9112
	 * allows.
	 */
	if (s->cur == HDR_OTHER || n == 0)
		return HTTP_HDR_OK;
	if (s->join_pending) {
		s->join_pending = false;
		if ((v = append(s, ", ", 2)) != HTTP_HDR_OK)
			return v;
		s->joined = true;
		s->val_start = s->len[s->cur];
	}
	return append(s, p, n);
}

enum http_hdr_verdict http_hdr_close(struct http_hdr_store *s)
{
	enum http_hdr_verdict v = HTTP_HDR_OK;

	if (s->closed)
		return HTTP_HDR_OK;
	if (s->in_name)
		v = value_begin(s);      /* a name with an empty value */
	if (s->in_value)
		value_end(s);
	s->closed = true;
	return v;
}

const char *http_hdr_get(const struct http_hdr_store *s, enum http_hdr h)
{
	if (h >= HDR_N || !s->present[h])
		return NULL;
	return s->buf + slots[h].off;
}

const char *http_hdr_display_name(enum http_hdr h)
{
	return h < HDR_N ? slots[h].display : "header";
}
