/*
 * Reading the Authorization header of an action or screenshot request
 * (credentials.c).  Both functions fill out's credential fields from the
 * header as presented; the executor verifies them.  A header that is
 * unreadable for one scheme is -EINVAL, and the caller tries the other.
 */
#ifndef AURID_HTTP_CREDENTIALS_H
#define AURID_HTTP_CREDENTIALS_H

#include "../../ipc/ipc.h"

/* "Basic dXNlcjpwYXNz" -> user, password.  0, or -EINVAL for anything else. */
int credentials_basic_parse(const char *h, struct ipc_action_req *out);

/*
 * "Digest username=..., response=..." -> the d_* fields.  The uri
 * parameter is not read: the executor computes HA2 over the request's own
 * target (RFC 7616 section 3.4.6), so a response made for another URI fails
 * there like a wrong password.  0, or -EINVAL.  out may be partly filled on
 * failure.
 */
int credentials_digest_parse(const char *h, struct ipc_action_req *out);

#endif
