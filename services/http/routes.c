/*
 * Paths, methods and answers of aurid-http (DESIGN.md section 5).
 *
 * Action paths are routed here and sent to the executor as they were
 * received (method, target, the credentials as presented); the executor
 * parses the action text itself.  What this process cannot read is still
 * sent, marked with its status, so that the refusal is audited by the one
 * process that owns the audit log.
 */
#include "credentials.h"
#include "frontend.h"
#include "image.h"

#include "../common/action_grammar.h"
#include "../common/log.h"

#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const action_paths[] = {
	"/servlet",
	"/cgi-bin/ConfigManApp.com",
	"/cgi-bin/cgiServer.exx",
};

static bool is_action_path(const char *path)
{
	for (size_t i = 0; i < sizeof(action_paths) / sizeof(action_paths[0]); i++)
		if (strcmp(path, action_paths[i]) == 0)
			return true;
	return false;
}

/* The value of query parameter name (case-insensitive), percent-decoded.
 * 0, -ENOENT, or -EINVAL for a bad escape or an over-long value. */
static int query_param(const char *query, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);

	for (const char *p = query; *p;) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		size_t n;

		if (len > nlen && p[nlen] == '=' && strncasecmp(p, name, nlen) == 0)
			return action_percent_decode(p + nlen + 1, len - nlen - 1, out, outlen, &n) == 0 ? 0 : -EINVAL;
		p += len + (end ? 1 : 0);
	}
	return -ENOENT;
}

/* /servlet?command=screenshot and /servlet?m=mod_action&command=screenshot. */
static bool is_screenshot_query(const char *query)
{
	char v[32];

	return query_param(query, "command", v, sizeof(v)) == 0 && strcasecmp(v, "screenshot") == 0;
}

/* ?format=, else the Accept header, else BMP as Yealink phones answer. */
static int screenshot_format(const struct http_request *req, enum image_format *fmt)
{
	char v[16];
	int r = query_param(req->query, "format", v, sizeof(v));

	*fmt = IMAGE_BMP;
	if (r == 0)
		return image_format_parse(v, fmt);
	if (r != -ENOENT)
		return r;
	if (req->accept) {
		if (strstr(req->accept, "image/png"))
			*fmt = IMAGE_PNG;
		else if (strstr(req->accept, "image/jpeg"))
			*fmt = IMAGE_JPEG;
	}
	return 0;
}

static bool wants_json(const struct http_request *req)
{
	return req->accept && strstr(req->accept, "application/json") != NULL;
}

static void copy_header(char *dst, size_t len, const char *v)
{
	snprintf(dst, len, "%s", v ? v : "");
}

static void respond_text(struct http_conn *c, int status, const char *extra, const char *text)
{
	http_respond(c, status, "text/plain; charset=utf-8", extra, text, strlen(text));
}

static void respond_simple(struct http_conn *c, int status, const char *extra, const char *msg, bool json)
{
	char body[512];

	if (json) {
		json_t *o = json_pack("{s:i, s:s}", "status", status, "message", msg);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

		json_decref(o);
		if (s) {
			http_respond(c, status, "application/json", extra, s, strlen(s));
			free(s);
			return;
		}
	}
	snprintf(body, sizeof(body), "%d %s: %s\n", status, http_status_text(status), msg);
	respond_text(c, status, extra, body);
}

void routes_unavailable(struct http_conn *c, bool json)
{
	respond_simple(c, 503, "Retry-After: 1\r\n", "the executor is not available; retry shortly", json);
}

static char *answer_json(const struct ipc_action_res *res)
{
	json_t *items = json_array();
	json_t *o;
	char *s;

	for (size_t i = 0; i < res->nitems; i++)
		json_array_append_new(items, json_pack("{s:s, s:s}", "item", res->items[i].text,
						       "outcome", ipc_outcome_name(res->items[i].outcome)));
	o = json_pack("{s:i, s:s, s:s, s:I, s:o}", "status", res->status, "reason", res->reason,
		      "message", res->message, "request_id", (json_int_t)res->audit_seq, "items", items);
	if (o && res->body[0])
		json_object_set_new(o, "body", json_string(res->body));
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

void routes_answer(struct http_conn *c, const struct ipc_action_res *res, bool json)
{
	char extra[768], *body;
	size_t len = 0, cap = 128 + (size_t)res->nitems * 80 + strlen(res->body) + strlen(res->message);
	int n;

	n = snprintf(extra, sizeof(extra), "X-Request-Id: %llu\r\n", (unsigned long long)res->audit_seq);
	if (res->status == 401) {
		/* Digest first (SHA-256, then MD5 for older clients), then Basic
		 * for the scripted clients that send it preemptively anyway. */
		const char *stale = res->stale ? ", stale=true" : "";

		if (res->nonce[0])
			n += snprintf(extra + n, sizeof(extra) - (size_t)n,
				      "WWW-Authenticate: Digest realm=\"aurid\", qop=\"auth\", algorithm=SHA-256, nonce=\"%s\"%s\r\n"
				      "WWW-Authenticate: Digest realm=\"aurid\", qop=\"auth\", algorithm=MD5, nonce=\"%s\"%s\r\n",
				      res->nonce, stale, res->nonce, stale);
		n += snprintf(extra + n, sizeof(extra) - (size_t)n,
			      "WWW-Authenticate: Basic realm=\"aurid\", charset=\"UTF-8\"\r\n");
	}
	if (res->retry_after)
		snprintf(extra + n, sizeof(extra) - (size_t)n, "Retry-After: %u\r\n", res->retry_after);
	if (json) {
		body = answer_json(res);
		if (body) {
			http_respond(c, res->status, "application/json", extra, body, strlen(body));
			free(body);
			return;
		}
	}
	body = malloc(cap);
	if (!body) {
		http_respond(c, 500, "text/plain", "", NULL, 0);
		return;
	}
	if (res->status >= 400) {
		len = (size_t)snprintf(body, cap, "%d %s: %s\n", res->status, http_status_text(res->status),
				       res->message[0] ? res->message : res->reason);
	} else if (res->body[0]) {
		/* Read items (phonecfg=get) answer with their text, as phones do. */
		len = (size_t)snprintf(body, cap, "%s", res->body);
	} else {
		for (size_t i = 0; i < res->nitems && len < cap; i++)
			len += (size_t)snprintf(body + len, cap - len, "%s %s\n", ipc_outcome_name(res->items[i].outcome),
						res->items[i].text);
	}
	if (len >= cap)
		len = cap - 1;
	http_respond(c, res->status, "text/plain; charset=utf-8", extra, body, len);
	free(body);
}

static void build_request(const struct http_request *req, struct ipc_action_req *out)
{
	memset(out, 0, sizeof(*out));
	out->transport = req->tls ? IPC_TRANSPORT_HTTPS : IPC_TRANSPORT_HTTP;
	out->kind = IPC_KIND_ACTION;
	copy_header(out->peer, sizeof(out->peer), req->peer);
	out->peer_port = req->peer_port;
	copy_header(out->fetch_site, sizeof(out->fetch_site), req->sec_fetch_site);
	copy_header(out->fetch_mode, sizeof(out->fetch_mode), req->sec_fetch_mode);
	copy_header(out->fetch_dest, sizeof(out->fetch_dest), req->sec_fetch_dest);
	/* Host, Origin and the address we were reached on: the executor decides
	 * on them (DNS rebinding, DESIGN.md section 4). */
	copy_header(out->host, sizeof(out->host), req->host);
	copy_header(out->origin, sizeof(out->origin), req->origin);
	copy_header(out->local, sizeof(out->local), req->local);
	if (req->http_1_0)
		out->flags |= IPC_REQ_HTTP_1_0;
	snprintf(out->method, sizeof(out->method), "%s", req->method ? req->method : "?");
	snprintf(out->text, sizeof(out->text), "%s", req->url ? req->url : "");
	out->t_recv_ns = req->t_recv_ns;
}

static void refuse_to_exec(struct frontend *fe, struct http_conn *c, struct ipc_action_req *out, int status,
			   const char *why, bool json)
{
	out->front_status = (uint16_t)status;
	snprintf(out->error, sizeof(out->error), "%s", why);
	frontend_submit(fe, c, out, json);
}

static void set_credentials(const struct http_request *req, struct ipc_action_req *out)
{
	if (!req->authorization)
		return;
	if (credentials_basic_parse(req->authorization, out) != 0 &&
	    credentials_digest_parse(req->authorization, out) != 0)
		out->auth_scheme = IPC_AUTH_NONE;   /* present but unreadable: the executor answers 401 */
}

static void handle_screenshot(struct frontend *fe, struct http_conn *c, const struct http_request *req,
			      struct ipc_action_req *out, bool json, bool head)
{
	bool download = strcmp(req->path, "/screencapture/download") == 0;
	enum image_format fmt = IMAGE_JPEG;

	if (!req->method || (strcmp(req->method, "GET") != 0 && !head)) {
		respond_simple(c, 405, "Allow: GET, HEAD\r\n", "screenshots are GET requests", json);
		return;
	}
	/* The download is a JPEG, named after the model and the time. */
	if (!download && screenshot_format(req, &fmt) != 0) {
		refuse_to_exec(fe, c, out, 400, "format must be bmp, png or jpeg", json);
		return;
	}
	out->kind = IPC_KIND_SCREENSHOT;
	set_credentials(req, out);
	frontend_submit_screenshot(fe, c, out, json, fmt, download);
}

/*
 * aurid.http.redirect_https: a plain action request is sent to the first
 * address of aurid.https.listen, on the host the client asked for (Host
 * without its port).  The Host goes into a header we write, so only a
 * plain name, an IPv4 address or a bracketed IPv6 address is taken.
 * false if no redirect is possible (then the request is served as usual).
 */
static bool redirect_https(struct frontend *fe, struct http_conn *c, const struct http_request *req)
{
	char first[80], host[256], phost[64], loc[HTTP_URI_MAX + 512];
	const char *h = req->host, *end;
	unsigned port;
	size_t n;

	if (req->tls || !fe->cfg.http_redirect_https || !fe->cfg.https_listen[0] || !h)
		return false;
	n = strcspn(fe->cfg.https_listen, ",");
	if (n >= sizeof(first))
		return false;
	memcpy(first, fe->cfg.https_listen, n);
	first[n] = '\0';
	if (config_split_hostport(first, phost, sizeof(phost), &port) < 0)
		return false;
	end = h[0] == '[' ? strchr(h, ']') : strchr(h, ':');
	if (h[0] == '[')
		end = end ? end + 1 : NULL;
	else if (!end)
		end = h + strlen(h);
	if (!end || end == h || (size_t)(end - h) >= sizeof(host))
		return false;
	for (const char *p = h; p < end; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']'))
			return false;
	}
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	snprintf(loc, sizeof(loc), "Location: https://%s:%u%s\r\n", host, port, req->url);
	respond_text(c, 301, loc, "this service is served over HTTPS\n");
	return true;
}

void routes_handle(struct http_conn *c, const struct http_request *req, void *arg)
{
	struct frontend *fe = arg;
	struct ipc_action_req *out;
	bool json = wants_json(req);
	bool head = req->method && strcmp(req->method, "HEAD") == 0;   /* the server drops HEAD bodies */

	out = malloc(sizeof(*out));
	if (!out) {
		http_respond(c, 500, "text/plain", "", NULL, 0);
		goto done;
	}
	build_request(req, out);
	if (req->error_status) {
		/* Oversized or malformed: audited, then refused. */
		refuse_to_exec(fe, c, out, req->error_status, req->error ? req->error : "bad request", json);
		goto done;
	}
	if (req->path && (strcmp(req->path, "/screencapture") == 0 || strcmp(req->path, "/screencapture/download") == 0 ||
			  (strcmp(req->path, "/servlet") == 0 && is_screenshot_query(req->query)))) {
		handle_screenshot(fe, c, req, out, json, head);
		goto done;
	}
	if (!req->path || !is_action_path(req->path)) {
		respond_simple(c, 404, "", "no such page", json);
		goto done;
	}
	if (!req->method || (strcmp(req->method, "GET") != 0 && !head)) {
		respond_simple(c, 405, "Allow: GET, HEAD\r\n", "actions are GET requests", json);
		goto done;
	}
	if (redirect_https(fe, c, req))
		goto done;
	/* The executor parses the query itself (and finds a legacy login in it). */
	set_credentials(req, out);
	frontend_submit(fe, c, out, json);
done:
	/* The request may hold a password: do not leave it in freed memory. */
	if (out)
		memset(out->password, 0, sizeof(out->password));
	free(out);
}
