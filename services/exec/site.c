/* Cross-site and DNS-rebinding checks (see site.h). */
#include "site.h"

#include "../common/http_host.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool host_equal_cb(const struct http_host *entry, void *arg)
{
	return http_host_equal(entry, arg);
}

/*
 * Is h a name of the phone for a connection accepted on local?  The front-end
 * reports local as inet_ntop text; one that does not parse matches nothing.
 */
static bool host_is_ours(const struct http_host *h, const char *server_names, const char *local)
{
	struct http_host l;
	bool have_local = http_host_parse(local, strlen(local), false, &l) == 0 && l.kind != HTTP_HOST_NAME;

	if (have_local && http_host_equal(h, &l))
		return true;
	if (have_local && http_host_is_loopback(&l) && h->kind == HTTP_HOST_NAME && strcmp(h->name, "localhost") == 0)
		return true;
	return http_host_list_any(server_names, host_equal_cb, (void *)h);
}

/* "http://host[:port]" or "https://..." exactly (an origin has no path). */
static bool origin_is_ours(const char *origin, const char *server_names, const char *local)
{
	struct http_host h;
	const char *rest;

	if (strncasecmp(origin, "http://", 7) == 0)
		rest = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		rest = origin + 8;
	else
		return false;   /* "null", other schemes, garbage */
	return http_host_parse(rest, strlen(rest), true, &h) == 0 && host_is_ours(&h, server_names, local);
}

enum site_verdict site_check(const char *server_names, const struct ipc_action_req *req)
{
	struct http_host h;

	if (req->transport != IPC_TRANSPORT_HTTP && req->transport != IPC_TRANSPORT_HTTPS)
		return SITE_OK;
	if (req->host[0] == '\0') {
		if (!(req->flags & IPC_REQ_HTTP_1_0))
			return SITE_NO_HOST;
	} else if (http_host_parse(req->host, strlen(req->host), true, &h) != 0 ||
		   !host_is_ours(&h, server_names, req->local)) {
		return SITE_FOREIGN_HOST;
	}
	if (req->origin[0] && !origin_is_ours(req->origin, server_names, req->local))
		return SITE_FOREIGN_ORIGIN;
	/* An <img>, <iframe>, form into a frame, fetch() or <script> from some web page is not the user. */
	if (strcasecmp(req->fetch_site, "cross-site") == 0 &&
	    (strcasecmp(req->fetch_mode, "navigate") != 0 || strcasecmp(req->fetch_dest, "document") != 0))
		return SITE_CROSS_SITE;
	return SITE_OK;
}
