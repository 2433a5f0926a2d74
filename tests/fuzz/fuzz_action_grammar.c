/*
 * libFuzzer target for the action language: every query string and NOTIFY
 * body from the network goes through action_parse(), so no input may crash
 * it, and what it returns must hold the promises the executor relies on.
 */
#include "services/common/action_grammar.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort(), not assert(): the checks must stay in a release build. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_printable(const char *s)
{
	for (; *s; s++)
		CHECK((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f);
}

static void check_request(const struct action_request *r)
{
	char canon[ACTION_KEY_NAME_MAX];

	CHECK(r->nitems >= 1 && r->nitems <= IPC_ITEMS_MAX);
	CHECK(r->wait_ms <= 60000);
	CHECK(terminated(r->user, sizeof(r->user)));
	CHECK(terminated(r->password, sizeof(r->password)));
	if (!r->legacy_login)
		CHECK(r->user[0] == '\0' && r->password[0] == '\0');
	for (size_t i = 0; i < r->nitems; i++) {
		const struct ipc_item *it = &r->items[i];
		enum ipc_op op = (enum ipc_op)it->op;

		CHECK(op > OP_NONE && op < OP_COUNT);
		CHECK(terminated(it->text, sizeof(it->text)));
		CHECK(terminated(it->arg, sizeof(it->arg)));
		CHECK(terminated(it->arg2, sizeof(it->arg2)));
		CHECK(it->text[0] != '\0');
		CHECK(action_op_route(op) != ROUTE_NONE);
		CHECK(action_op_capability(op) < CAP_COUNT);
		switch (op) {
		case OP_KEY:
			/* The canonical name is a fixed point of the key table. */
			CHECK(action_key_canonical(it->arg, canon, sizeof(canon)) != NULL);
			CHECK(strcmp(canon, it->arg) == 0);
			break;
		case OP_DIAL:
		case OP_ATRANS:
		case OP_BTRANS:
		case OP_FWD_ON:
			CHECK(it->arg[0] != '\0');
			for (const char *c = it->arg; *c; c++)
				CHECK(*c > ' ' && *c < 0x7f && !strchr(";&<>\"'\\", *c));
			for (const char *c = it->arg2; *c; c++)
				CHECK(*c > ' ' && *c < 0x7f && !strchr(";&<>\"'\\", *c));
			break;
		case OP_ANSWER_ID:
		case OP_CANCEL_ID:
		case OP_HOLD_ID:
		case OP_UNHOLD_ID:
			CHECK(it->num >= 1 && it->num <= 2147483647u);
			break;
		default:
			break;
		}
		if (op == OP_FWD_ON && it->num == IPC_FWD_NOANSWER)
			CHECK(it->num2 <= 600);
		if (op != OP_DIAL)
			CHECK(it->arg2[0] == '\0');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct action_request req, again;
	char err[160], decoded[64];
	size_t n;
	int rc;

	memset(&req, 0xa5, sizeof(req));
	memset(err, 'z', sizeof(err));
	rc = action_parse((const char *)data, size, &req, err, sizeof(err));
	CHECK(terminated(err, sizeof(err)));
	check_printable(err);
	if (rc == 0) {
		CHECK(err[0] == '\0');
		check_request(&req);
	} else {
		static const struct action_request zero;

		CHECK(rc == -EINVAL || rc == -E2BIG);
		CHECK(err[0] != '\0');
		CHECK(memcmp(&req, &zero, sizeof(req)) == 0);
	}
	if (size > ACTION_TEXT_MAX)
		CHECK(rc == -E2BIG);

	/* Deterministic: the same text gives the same request. */
	CHECK(action_parse((const char *)data, size, &again, NULL, 0) == rc);
	CHECK(memcmp(&req, &again, sizeof(req)) == 0);

	/* The decoder on its own, with a small output buffer. */
	memset(decoded, 'z', sizeof(decoded));
	rc = action_percent_decode((const char *)data, size, decoded, sizeof(decoded), &n);
	CHECK(rc == 0 || rc == -EINVAL || rc == -E2BIG);
	CHECK(terminated(decoded, sizeof(decoded)));
	if (rc == 0)
		CHECK(n == strlen(decoded) && n <= size);

	/* Key names of any shape: NULL or a canonical name. */
	if (size < 32) {
		char name[32], canon[ACTION_KEY_NAME_MAX], canon2[ACTION_KEY_NAME_MAX];

		memcpy(name, data, size);
		name[size] = '\0';
		if (action_key_canonical(name, canon, sizeof(canon))) {
			CHECK(action_key_canonical(canon, canon2, sizeof(canon2)) != NULL);
			CHECK(strcmp(canon, canon2) == 0);
		}
	}
	return 0;
}
