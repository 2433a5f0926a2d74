/*
 * Reading the Authorization header of an action or screenshot request
 * (credentials.c).  Both functions fill out's credential fields from the
 * header as presented; the executor verifies them.  A header that is
 * unreadable for one scheme is -EINVAL, and the caller tries the other.
 */
#ifndef AURID_HTTP_CREDENTIALS_H
#define AURID_HTTP_CREDENTIALS_H

#include "../../ipc/ipc.h"
#include "server.h"

/* "Basic dXNlcjpwYXNz" -> user, password.  0, or -EINVAL for anything else. */
int credentials_basic_parse(const char *h, struct ipc_action_req *out);

/*
 * "Digest username=..., uri=..., response=..." -> the d_* fields and HA2.
 * The uri must be this request's own target (RFC 7616 section 3.4.6): a
 * response computed for another URI is sent with an empty response, so the
 * executor refuses (and counts) it like a wrong password.  0, -EINVAL, or
 * -ENOMEM.  out may be partly filled on failure.
 */
int credentials_digest_parse(const char *h, const struct http_request *req, struct ipc_action_req *out);

#endif
