/*
 * libFuzzer target for the Host/Origin grammar (services/common/http_host.c)
 * and the rebinding verdict (services/exec/site.c).  Host and Origin come
 * from any web client, so no value may crash the executor, and what is
 * accepted must really name the phone: a Host let through parses to the
 * local address, a configured name, or localhost on loopback.  A parsed
 * name is lower case, of the allowed characters, and parses again to the
 * same host (the comparison is by value, so the canonical form must be
 * stable).  The input is copied into a buffer of exactly its size, so a
 * read past the given length is caught.
 */
#include "services/common/http_host.h"
#include "services/exec/site.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const char names[] = "phone.example, 203.0.113.7, [2001:db8::7]";

static void check_parsed(const struct http_host *h)
{
	struct http_host again;

	if (h->kind != HTTP_HOST_NAME)
		return;
	CHECK(h->name[0] != '\0' && strlen(h->name) <= HTTP_HOST_NAME_MAX);
	for (const char *p = h->name; *p; p++)
		CHECK((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.');
	CHECK(http_host_parse(h->name, strlen(h->name), false, &again) == 0 && http_host_equal(h, &again));
}

/* What site_check may let through for a connection to 127.0.0.1 with names[]. */
static bool is_ours(const struct http_host *h)
{
	static const char *const ours[] = { "127.0.0.1", "localhost", "phone.example", "203.0.113.7", "2001:db8::7" };
	struct http_host o;

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		CHECK(http_host_parse(ours[i], strlen(ours[i]), false, &o) == 0);
		if (http_host_equal(h, &o))
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_action_req *req;
	struct http_host h;
	char *copy;

	if (size < 1 || size > 600)
		return 0;
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (http_host_parse(copy, size - 1, data[0] & 1, &h) == 0)
		check_parsed(&h);
	(void)http_host_list_check((data[0] & 2) ? names : "", NULL, 0);
	free(copy);

	/* The whole rule: the text as Host (or Origin), the phone on 127.0.0.1. */
	req = calloc(1, sizeof(*req));
	if (!req)
		return 0;
	req->transport = IPC_TRANSPORT_HTTP;
	snprintf(req->local, sizeof(req->local), "127.0.0.1");
	if (size - 1 < sizeof(req->host) && !memchr(data + 1, '\0', size - 1)) {
		char *dst = (data[0] & 4) ? req->origin : req->host;

		memcpy(dst, data + 1, size - 1);
		if (data[0] & 4)
			snprintf(req->host, sizeof(req->host), "127.0.0.1");
		if (site_check(names, req) == SITE_OK && !(data[0] & 4)) {
			CHECK(http_host_parse(req->host, strlen(req->host), true, &h) == 0);
			CHECK(is_ours(&h));
		}
	}
	free(req);
	return 0;
}
