/*
 * HTTP credentials as presented (DESIGN.md section 4, step 3): the
 * Authorization header's Basic and Digest forms read into the request for
 * the executor, which alone checks them.  Only the reading is here; nothing
 * is verified, so this file holds no secret.
 */
#include "credentials.h"

#include <errno.h>
#include <openssl/base64.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

int credentials_basic_parse(const char *h, struct ipc_action_req *out)
{
	uint8_t buf[256];
	size_t n;
	const char *b64;
	char *colon;

	if (strncasecmp(h, "Basic ", 6) != 0)
		return -EINVAL;
	b64 = h + 6;
	while (*b64 == ' ')
		b64++;
	if (strlen(b64) > 340 || !EVP_DecodeBase64(buf, &n, sizeof(buf) - 1, (const uint8_t *)b64, strlen(b64)))
		return -EINVAL;
	buf[n] = '\0';
	if (memchr(buf, '\0', n))
		return -EINVAL;
	colon = strchr((char *)buf, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (strlen((char *)buf) >= sizeof(out->user) || strlen(colon + 1) >= sizeof(out->password))
		return -EINVAL;
	strcpy(out->user, (char *)buf);
	strcpy(out->password, colon + 1);
	out->auth_scheme = IPC_AUTH_BASIC;
	return 0;
}

/* Parses the next auth-param of a Digest header: name=token or
 * name="quoted\"string".  Returns the position after it, or NULL. */
static const char *digest_param(const char *p, char *name, size_t nlen, char *val, size_t vlen)
{
	size_t n = 0, v = 0;

	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	if (!*p)
		return NULL;
	while (*p && *p != '=' && *p != ' ' && n + 1 < nlen)
		name[n++] = *p++;
	name[n] = '\0';
	while (*p == ' ')
		p++;
	if (*p++ != '=')
		return NULL;
	while (*p == ' ')
		p++;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (v + 1 >= vlen)
				return NULL;
			val[v++] = *p;
		}
		if (*p++ != '"')
			return NULL;
	} else {
		while (*p && *p != ',' && *p != ' ' && v + 1 < vlen)
			val[v++] = *p++;
	}
	val[v] = '\0';
	return p;
}

int credentials_digest_parse(const char *h, struct ipc_action_req *out)
{
	char name[32], val[2100], alg[16] = "MD5";
	const char *p = h + 7;

	if (strncasecmp(h, "Digest ", 7) != 0)
		return -EINVAL;
	while ((p = digest_param(p, name, sizeof(name), val, sizeof(val))) != NULL) {
		static const struct {
			const char *name;
			size_t off, size;
		} fields[] = {
			{ "username", offsetof(struct ipc_action_req, user), sizeof(out->user) },
			{ "realm", offsetof(struct ipc_action_req, d_realm), sizeof(out->d_realm) },
			{ "nonce", offsetof(struct ipc_action_req, d_nonce), sizeof(out->d_nonce) },
			{ "nc", offsetof(struct ipc_action_req, d_nc), sizeof(out->d_nc) },
			{ "cnonce", offsetof(struct ipc_action_req, d_cnonce), sizeof(out->d_cnonce) },
			{ "qop", offsetof(struct ipc_action_req, d_qop), sizeof(out->d_qop) },
			{ "response", offsetof(struct ipc_action_req, d_response), sizeof(out->d_response) },
		};
		size_t len = strlen(val);

		if (strcasecmp(name, "algorithm") == 0 && len < sizeof(alg))
			memcpy(alg, val, len + 1);
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			if (strcasecmp(name, fields[i].name) != 0)
				continue;
			/* Too long is unreadable, never truncated into something else. */
			if (len >= fields[i].size)
				return -EINVAL;
			memcpy((char *)out + fields[i].off, val, len + 1);
		}
	}
	if (strcasecmp(alg, "SHA-256") == 0)
		out->auth_scheme = IPC_AUTH_DIGEST_SHA256;
	else if (strcasecmp(alg, "MD5") == 0)
		out->auth_scheme = IPC_AUTH_DIGEST_MD5;
	else
		return -EINVAL;
	return 0;
}
