/*
 * Step 4 of the policy (DESIGN.md section 4): cross-site requests and DNS
 * rebinding, decided from what the HTTP front-end reports of the request
 * (Host, Origin, Sec-Fetch-*, the address the client reached).
 *
 * - Host must name the phone: the local address the connection was
 *   accepted on (an IP literal, the port ignored), an entry of
 *   aurid.http.server_names, or "localhost" on a loopback connection (no
 *   DNS answer can make a browser send "localhost" to another machine).
 *   A page on a name that the attacker re-points at the phone sends its own
 *   name, and is refused.  An HTTP/1.0 request may omit Host (old scripted
 *   clients do; no browser does); an HTTP/1.1 one may not (RFC 9112 3.2).
 * - Origin, when sent, must be http(s) on such a host; "null" (sandboxed
 *   frames, data: and file: pages) is not the phone.
 * - Sec-Fetch-Site: cross-site runs only as a top-level navigation
 *   (Sec-Fetch-Mode: navigate and Sec-Fetch-Dest: document), the user
 *   following a link: not an <img>, <iframe>, form into an iframe, fetch().
 *
 * SIP requests are not HTTP and are not checked here.
 */
#ifndef AURID_EXEC_SITE_H
#define AURID_EXEC_SITE_H

#include "../../ipc/ipc.h"

enum site_verdict {
	SITE_OK = 0,
	SITE_NO_HOST,           /* HTTP/1.1 without Host: 400 */
	SITE_FOREIGN_HOST,      /* 403 "host" */
	SITE_FOREIGN_ORIGIN,    /* 403 "origin" */
	SITE_CROSS_SITE,        /* 403 "cross-site" */
};

/* server_names: aurid.http.server_names (a checked comma list). */
enum site_verdict site_check(const char *server_names, const struct ipc_action_req *req);

#endif
