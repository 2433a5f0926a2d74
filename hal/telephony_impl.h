/* The telephony state shared by telephony.c and telephony_baresip.c. */
#ifndef AURID_TELEPHONY_IMPL_H
#define AURID_TELEPHONY_IMPL_H

#include "telephony.h"

#include <jansson.h>
#include <netinet/in.h>
#include <stdint.h>

struct telephony_pending {
	uint32_t token;                 /* 0: free slot */
	uint64_t deadline;              /* loop ms */
	telephony_done_fn *done;
	void *arg;
};

struct telephony {
	uv_loop_t *loop;
	struct sockaddr_storage addr;
	char where[80];                 /* host:port for logs */
	telephony_change_fn *change;
	void *change_arg;

	/* The link.  tcp is allocated per connection: libuv closes it
	 * asynchronously, and a new one may start before the old is gone. */
	uv_tcp_t *tcp;
	uv_connect_t connect_req;
	bool up;
	bool closing;
	unsigned closing_handles;       /* telephony_close: frees on the last */
	char down_reason[96];
	uv_timer_t retry_timer;         /* reconnect after back-off */
	uv_timer_t reply_timer;         /* checks reply deadlines */
	unsigned backoff_ms;
	char *rx;                       /* one netstring being assembled (TELEPHONY_RX_CAP bytes) */
	size_t rx_len;
	uint32_t next_token;
	struct telephony_pending pending[TELEPHONY_PENDING_MAX];

	/* The tables. */
	struct telephony_call calls[TELEPHONY_CALLS_MAX];
	struct telephony_account accounts[TELEPHONY_ACCOUNTS_MAX];
	size_t naccounts;
	unsigned next_call_id;
	unsigned long seq;
};

/* telephony.c: an event object from baresip; a reply's data to the account
 * table (reginfo); the link went up or down. */
void telephony__event(struct telephony *t, json_t *ev);
void telephony__reginfo(struct telephony *t, const char *data);
void telephony__link(struct telephony *t, bool up);

/* Bytes of rx: "65536:" + payload + ",", the longest frame accepted. */
#define TELEPHONY_RX_CAP (8 + TELEPHONY_FRAME_MAX)

/* telephony_baresip.c: parses one netstring payload; 0 or -EBADMSG. */
int telephony__frame(struct telephony *t, const char *p, size_t n);
/* Feeds received bytes; -EBADMSG on a malformed or oversized frame. */
int telephony__feed(struct telephony *t, const char *p, size_t n);

#endif
