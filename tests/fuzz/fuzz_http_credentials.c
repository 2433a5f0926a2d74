/*
 * libFuzzer target for the credentials aurid-http reads from a request:
 * the Authorization header's Basic and Digest forms
 * (services/http/credentials.c) and the legacy
 * "p=login&q=login&username=..&pwd=..&jumpto=..&" query prefix (the action
 * grammar), with the audit text the request is recorded under.
 *
 * Input: byte 0 picks the method (GET, HEAD, POST) and whether the request
 * has a target; then the Authorization header value up to the first '\n';
 * the rest is the query string of the target "/servlet?<query>".
 *
 * What must hold: parsing reads only its input and writes only bounded,
 * terminated fields; a refused Basic header leaves the request untouched;
 * what was read, written back in the canonical form (with any uri: the
 * executor, not this reader, binds a response to the target), reads the
 * same; and the audit text never depends on the value of a
 * parameter the grammar reads as the password, however its name is written.
 */
#include "services/common/action_grammar.h"
#include "services/http/credentials.h"
#include "services/http/server.h"

#include <errno.h>
#include <openssl/base64.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort(), not assert(): the checks must stay in a release build. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define HEADER_MAX 8192   /* HTTP_HEADERS_MAX: no header is longer */

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_basic(const char *h)
{
	static struct ipc_action_req out, before, again;
	static uint8_t b64[512];
	static char canon[600];
	char pair[64 + 1 + 128];
	size_t n;
	int r;

	memset(&out, 0x5a, sizeof(out));
	before = out;
	r = credentials_basic_parse(h, &out);
	CHECK(r == 0 || r == -EINVAL);
	if (r) {
		CHECK(memcmp(&out, &before, sizeof(out)) == 0);
		return;
	}
	CHECK(out.auth_scheme == IPC_AUTH_BASIC);
	CHECK(terminated(out.user, sizeof(out.user)) && terminated(out.password, sizeof(out.password)));
	CHECK(!strchr(out.user, ':'));
	/* Written back as a client would send it, it reads the same. */
	n = (size_t)snprintf(pair, sizeof(pair), "%s:%s", out.user, out.password);
	CHECK(n < sizeof(pair));
	CHECK(EVP_EncodeBlock(b64, (const uint8_t *)pair, n) < sizeof(b64));
	snprintf(canon, sizeof(canon), "Basic %s", (const char *)b64);
	memset(&again, 0, sizeof(again));
	CHECK(credentials_basic_parse(canon, &again) == 0);
	CHECK(strcmp(again.user, out.user) == 0 && strcmp(again.password, out.password) == 0);
}

/* name="value" with '"' and '\' escaped. */
static size_t put_quoted(char *o, size_t cap, size_t at, const char *name, const char *v)
{
	at += (size_t)snprintf(o + at, cap - at, "%s%s=\"", at > 7 ? ", " : "", name);
	for (; *v && at + 3 < cap; v++) {
		if (*v == '"' || *v == '\\')
			o[at++] = '\\';
		o[at++] = *v;
	}
	CHECK(at + 2 < cap);
	o[at++] = '"';
	o[at] = '\0';
	return at;
}

static void check_digest(const char *h, const struct http_request *req)
{
	static struct ipc_action_req out, again;
	static char canon[HEADER_MAX * 2 + 512];
	size_t at;
	int r;

	memset(&out, 0, sizeof(out));
	r = credentials_digest_parse(h, &out);
	CHECK(r == 0 || r == -EINVAL);
	CHECK(terminated(out.user, sizeof(out.user)) && terminated(out.d_realm, sizeof(out.d_realm)) &&
	      terminated(out.d_nonce, sizeof(out.d_nonce)) && terminated(out.d_nc, sizeof(out.d_nc)) &&
	      terminated(out.d_cnonce, sizeof(out.d_cnonce)) && terminated(out.d_qop, sizeof(out.d_qop)) &&
	      terminated(out.d_response, sizeof(out.d_response)));
	CHECK(out.password[0] == '\0');   /* Digest never carries the password */
	if (r)
		return;
	CHECK(out.auth_scheme == IPC_AUTH_DIGEST_MD5 || out.auth_scheme == IPC_AUTH_DIGEST_SHA256);
	/* The fields written back quoted, with any URI (the executor binds
	 * the response to the request's own target), read the same. */
	at = (size_t)snprintf(canon, sizeof(canon), "Digest ");
	at = put_quoted(canon, sizeof(canon), at, "username", out.user);
	at = put_quoted(canon, sizeof(canon), at, "realm", out.d_realm);
	at = put_quoted(canon, sizeof(canon), at, "nonce", out.d_nonce);
	/* (A target longer than a Digest value can be is written as none.) */
	at = put_quoted(canon, sizeof(canon), at, "uri", req->url && strlen(req->url) < 2048 ? req->url : "");
	at = put_quoted(canon, sizeof(canon), at, "response", out.d_response);
	at = put_quoted(canon, sizeof(canon), at, "qop", out.d_qop);
	at = put_quoted(canon, sizeof(canon), at, "nc", out.d_nc);
	at = put_quoted(canon, sizeof(canon), at, "cnonce", out.d_cnonce);
	put_quoted(canon, sizeof(canon), at, "algorithm",
		   out.auth_scheme == IPC_AUTH_DIGEST_MD5 ? "MD5" : "SHA-256");
	memset(&again, 0, sizeof(again));
	CHECK(credentials_digest_parse(canon, &again) == 0);
	CHECK(again.auth_scheme == out.auth_scheme);
	CHECK(strcmp(again.user, out.user) == 0 && strcmp(again.d_realm, out.d_realm) == 0 &&
	      strcmp(again.d_nonce, out.d_nonce) == 0 && strcmp(again.d_nc, out.d_nc) == 0 &&
	      strcmp(again.d_cnonce, out.d_cnonce) == 0 && strcmp(again.d_qop, out.d_qop) == 0);
	CHECK(strcmp(again.d_response, out.d_response) == 0);
}

/* Is this raw parameter one the grammar reads as pwd?  Its name decoded
 * and trimmed as action_grammar.h says. */
static bool is_pwd_param(const char *p, size_t n, size_t *name_len)
{
	const char *eq = memchr(p, '=', n);
	char name[ACTION_TEXT_MAX + 1];
	size_t nn, s = 0;

	if (!eq)
		return false;
	*name_len = (size_t)(eq - p);
	if (action_percent_decode(p, *name_len, name, sizeof(name), &nn) != 0)
		return false;
	while (s < nn && strchr(" \t\r\n", name[s]))
		s++;
	while (nn > s && strchr(" \t\r\n", name[nn - 1]))
		nn--;
	return nn - s == 3 && strncasecmp(name + s, "pwd", 3) == 0;
}

static void check_legacy(const char *method, const char *url, const char *query, size_t qlen)
{
	static struct action_request parsed;
	static char audit[512], audit2[512], *variant;
	size_t ulen = strlen(url), qoff = (size_t)(query - url);
	int r;

	r = action_parse(query, qlen, &parsed, NULL, 0);
	CHECK(terminated(parsed.user, sizeof(parsed.user)) && terminated(parsed.password, sizeof(parsed.password)));
	if (r == 0 && !parsed.legacy_login)
		CHECK(parsed.user[0] == '\0' && parsed.password[0] == '\0');

	/* The audit text of the request, as the executor writes it for every
	 * request, parsed or refused: changing a password value changes
	 * nothing in it. */
	action_audit_text(audit, sizeof(audit), method, url, ulen);
	variant = malloc(ulen + 1);
	CHECK(variant);
	for (size_t i = 0; i <= qlen;) {
		const char *amp = memchr(query + i, '&', qlen - i);
		size_t n = amp ? (size_t)(amp - (query + i)) : qlen - i, nl;

		if (is_pwd_param(query + i, n, &nl) && nl + 1 < n) {
			memcpy(variant, url, ulen + 1);
			for (size_t j = qoff + i + nl + 1; j < qoff + i + n; j++)
				variant[j] = variant[j] == 'A' ? 'B' : 'A';
			action_audit_text(audit2, sizeof(audit2), method, variant, ulen);
			CHECK(strcmp(audit, audit2) == 0);
		}
		i += n + 1;
	}
	free(variant);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "HEAD", "POST" };
	struct http_request req;
	const char *nl, *query;
	char *header, *url;
	size_t hlen, qlen;

	if (size < 1 || size > HEADER_MAX + ACTION_TEXT_MAX)
		return 0;
	nl = memchr(data + 1, '\n', size - 1);
	hlen = nl ? (size_t)(nl - (const char *)(data + 1)) : size - 1;
	if (hlen > HEADER_MAX)
		return 0;
	/* Exactly as long as the input: ASan sees any read past it. */
	header = malloc(hlen + 1);
	CHECK(header);
	memcpy(header, data + 1, hlen);
	header[hlen] = '\0';
	query = nl ? nl + 1 : (const char *)data + size;
	qlen = (size_t)((const char *)data + size - query);
	url = malloc(qlen + sizeof("/servlet?"));
	CHECK(url);
	memcpy(url, "/servlet?", 9);
	memcpy(url + 9, query, qlen);
	url[9 + qlen] = '\0';
	if (memchr(query, '\0', qlen))
		qlen = strlen(url + 9);

	memset(&req, 0, sizeof(req));
	req.method = methods[(data[0] & 3) % 3];
	req.url = data[0] & 4 ? NULL : url;
	req.path = "/servlet";
	req.query = url + 9;
	req.authorization = header;

	check_basic(header);
	check_digest(header, &req);
	{
		char prefix[16];

		snprintf(prefix, sizeof(prefix), "%s ", req.method);
		check_legacy(prefix, url, url + 9, qlen);
	}
	free(header);
	free(url);
	return 0;
}
