/*
 * libFuzzer target for the IPC decoder: any datagram either fails with
 * -EBADMSG or decodes to a message that re-encodes to the same bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static union ipc_payload msg;
	static uint8_t re[IPC_MSG_MAX];
	unsigned type;
	uint32_t id;
	size_t len;
	int r;

	r = ipc_decode(data, size, &type, &id, &msg);
	if (r != 0) {
		if (r != -EBADMSG)
			abort();
		return 0;
	}
	if (ipc_encode(type, id, &msg, re, sizeof(re), &len) != 0 || len != size || memcmp(re, data, size) != 0)
		abort();
	return 0;
}
