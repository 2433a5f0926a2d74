/*
 * An action request as a front-end sent it, read by the executor before any
 * decision (STYLE.md habit 4: identity from the channel, nothing on faith).
 *
 * The front-end reports what it saw -- the source, the method, the request
 * target or NOTIFY body, the credentials as presented -- and the executor
 * concludes: the transport must be the channel's own, the items, the wait
 * time and a legacy login come from the executor's own parse of the text
 * (the shared grammar, action_grammar.c), and the audit's text is written
 * here from that same text.
 */
#include "request.h"

#include "../common/action_grammar.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The audit keeps this much of a NOTIFY body (with its "NOTIFY " prefix). */
#define REQUEST_SIP_AUDIT_MAX 160

static bool empty(const char *s)
{
	return s[0] == '\0';
}

int request_channel_check(enum ipc_role role, const struct ipc_action_req *req, const char **why)
{
	switch (role) {
	case IPC_ROLE_HTTP:
		if (req->transport != IPC_TRANSPORT_HTTP && req->transport != IPC_TRANSPORT_HTTPS) {
			*why = "a transport other than http or https on the http channel";
			return -EPROTO;
		}
		if ((req->flags & ~IPC_REQ_HTTP_1_0) != 0) {
			*why = "SIP flags on the http channel";
			return -EPROTO;
		}
		break;
	case IPC_ROLE_SIP:
		if (req->transport != IPC_TRANSPORT_SIP) {
			*why = "a transport other than sip on the sip channel";
			return -EPROTO;
		}
		if (req->kind != IPC_KIND_ACTION || req->auth_scheme != IPC_AUTH_NONE || !empty(req->user) ||
		    !empty(req->password) || !empty(req->fetch_site) || !empty(req->fetch_mode) ||
		    !empty(req->fetch_dest) || !empty(req->host) || !empty(req->origin) || !empty(req->local)) {
			*why = "web credentials, web headers or a screenshot on the sip channel";
			return -EPROTO;
		}
		if ((req->flags & ~IPC_REQ_SIP_REGISTERED_FLOW) != 0) {
			*why = "HTTP flags on the sip channel";
			return -EPROTO;
		}
		break;
	default:
		*why = "an action request on a channel that has none";
		return -EPROTO;
	}
	/* A legacy login is the executor's finding in the text, never a claim. */
	if (req->auth_scheme == IPC_AUTH_LEGACY) {
		*why = "a legacy login claimed by the front-end";
		return -EPROTO;
	}
	return 0;
}

/* The query of a request target: after the first '?', up to a '#'. */
static const char *target_query(const char *target, size_t *len)
{
	const char *q = strchr(target, '?');

	if (!q) {
		*len = 0;
		return "";
	}
	q++;
	*len = strcspn(q, "#");
	return q;
}

static void parse_failed(struct ipc_action_req *req, int status, const char *err)
{
	req->front_status = (uint16_t)status;
	snprintf(req->error, sizeof(req->error), "%s", err);
}

void request_read(struct ipc_action_req *req)
{
	static struct action_request parsed;   /* large; the executor has one thread */
	bool sip = req->transport == IPC_TRANSPORT_SIP;
	const char *text = req->text;
	size_t len = strlen(req->text);
	char prefix[sizeof(req->method) + 1];
	char err[128];
	int r;

	/* Filled here only, whatever arrived in the decoded struct. */
	req->wait_ms = 0;
	req->nitems = 0;
	snprintf(prefix, sizeof(prefix), "%s ", sip ? "NOTIFY" : req->method);
	action_audit_text(req->request, sip ? REQUEST_SIP_AUDIT_MAX + 1 : sizeof(req->request), prefix, text, len);
	if (req->front_status != 0 || req->kind != IPC_KIND_ACTION)
		return;
	if (!sip)
		text = target_query(req->text, &len);
	r = action_parse(text, len, &parsed, err, sizeof(err));
	if (r) {
		/* Over the size limits: 413 for a body, 414 for a target; too
		 * many items in a target is a plain 400. */
		if (sip)
			parse_failed(req, r == -E2BIG ? 413 : 400, err);
		else
			parse_failed(req, r == -E2BIG && len > ACTION_TEXT_MAX ? 414 : 400, err);
		return;
	}
	if (!sip && parsed.legacy_login && req->auth_scheme == IPC_AUTH_NONE) {
		req->auth_scheme = IPC_AUTH_LEGACY;
		snprintf(req->user, sizeof(req->user), "%s", parsed.user);
		snprintf(req->password, sizeof(req->password), "%s", parsed.password);
	}
	/* SIP has no web login: a legacy prefix in a body is ignored. */
	memset(parsed.password, 0, sizeof(parsed.password));
	req->wait_ms = parsed.wait_ms;
	req->nitems = (uint16_t)parsed.nitems;
	memcpy(req->items, parsed.items, parsed.nitems * sizeof(parsed.items[0]));
	/* An item's text is echoed in the answer and the audit: as the
	 * request's, with a URI's password masked ("number=sip:1006:***@pbx"). */
	for (size_t i = 0; i < req->nitems; i++) {
		char *t = req->items[i].text;
		char masked[sizeof(req->items[i].text)];

		action_audit_text(masked, sizeof(masked), "", t, strlen(t));
		memcpy(t, masked, sizeof(masked));
	}
}
