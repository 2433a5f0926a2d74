/*
 * The request headers aurid-http keeps, fed by the parser's callbacks.
 *
 * Each kept header has a slot of its own, of a fixed capacity: a value is
 * appended to its own slot only, after the check "n <= cap - len" (len never
 * exceeds cap, so it cannot wrap), and the slot always ends in a NUL.
 * Nothing is ever moved between slots.  A value over its slot's capacity is
 * refused (431) rather than cut: a cut Authorization or Host means something
 * else.  Every other header is read past and forgotten.
 *
 * A second copy of a single-valued header is refused (400): two
 * Authorization or Host lines are a confused or hostile client, and either
 * copy could be the wrong one.  Accept is a list: repeats join with ", ".
 * Headers after the body (chunked trailers) are never kept: the request was
 * decided on the header section.
 */
#ifndef AURID_HTTP_HEADERS_H
#define AURID_HTTP_HEADERS_H

#include "server.h"

#include <stdbool.h>
#include <stddef.h>

enum http_hdr {
	HDR_AUTHORIZATION,
	HDR_ACCEPT,
	HDR_SEC_FETCH_SITE,
	HDR_SEC_FETCH_MODE,
	HDR_SEC_FETCH_DEST,
	HDR_HOST,
	HDR_ORIGIN,
	HDR_N,
	HDR_OTHER = HDR_N,       /* a header we do not keep */
};

/* Capacities in bytes, without the NUL.  A Digest Authorization repeats
 * the request target in its uri= parameter. */
#define HTTP_HDR_AUTHORIZATION_MAX (HTTP_URI_MAX + 1024)
#define HTTP_HDR_ACCEPT_MAX        1024
#define HTTP_HDR_FETCH_MAX         32
#define HTTP_HDR_HOST_MAX          255
#define HTTP_HDR_ORIGIN_MAX        255
#define HTTP_HDR_NAME_MAX          24    /* longer names are none of ours */

#define HTTP_HDR_STORE_SIZE (HTTP_HDR_AUTHORIZATION_MAX + HTTP_HDR_ACCEPT_MAX + 3 * HTTP_HDR_FETCH_MAX + \
			     HTTP_HDR_HOST_MAX + HTTP_HDR_ORIGIN_MAX + HDR_N)

/* What a header callback found wrong; the server turns it into a status. */
enum http_hdr_verdict {
	HTTP_HDR_OK = 0,
	HTTP_HDR_BAD_NAME,       /* white space in a field name (RFC 9112: reject) */
	HTTP_HDR_REPEATED,       /* a second copy of a single-valued header */
	HTTP_HDR_TOO_LARGE,      /* a kept value over its slot's capacity */
};

struct http_hdr_store {
	char buf[HTTP_HDR_STORE_SIZE];  /* the slots, laid out by headers.c's table */
	size_t len[HDR_N];
	bool present[HDR_N];
	char name[HTTP_HDR_NAME_MAX];   /* the field name being received, lower-cased */
	size_t name_len;                /* > HTTP_HDR_NAME_MAX: too long to be ours */
	bool in_name, in_value;
	bool closed;                    /* the header section is over */
	enum http_hdr cur;              /* slot of the value being received */
	size_t val_start;               /* where its own bytes begin in the slot */
	bool join_pending;              /* a repeat: ", " goes before its first byte */
	bool joined;
	enum http_hdr too_large;        /* which one, for the error text */
};

/* Empties the store for the next request. */
void http_hdr_reset(struct http_hdr_store *s);

/* Bytes of a field name, of a field value (either may come in pieces). */
enum http_hdr_verdict http_hdr_name(struct http_hdr_store *s, const char *p, size_t n);
enum http_hdr_verdict http_hdr_value(struct http_hdr_store *s, const char *p, size_t n);

/* The header section is complete (or cut short): ends the last value and
 * ignores every header field after it. */
enum http_hdr_verdict http_hdr_close(struct http_hdr_store *s);

/* The value of h (trailing blanks trimmed), or NULL if absent. */
const char *http_hdr_get(const struct http_hdr_store *s, enum http_hdr h);

/* The header's name as sent on the wire ("Accept"), for error texts. */
const char *http_hdr_display_name(enum http_hdr h);

#endif
