/*
 * The dispatch table: which message may arrive on which channel, in which
 * state of that channel, and how often (OpenSSH monitor.c's MON_PERMIT and
 * MON_ONCE are the model).  A channel is named by the two roles at its
 * ends, known from how it was made (never from a field); its state moves on
 * when the peer's HELLO and, on a child's supervisor channel, START arrive.
 * ipc_chan_recv() asks ipc_permit() about every datagram before decoding
 * it; whatever is not in this table closes the channel.
 */
#include "ipc.h"

#include <errno.h>
#include <stddef.h>

#define S(x) (1u << IPC_CHAN_##x)
#define ONCE 1u
#define R(r) IPC_ROLE_##r
#define T(t) IPC_##t

struct ipc_permit {
	uint8_t self, peer;      /* the receiver's role, the sender's role */
	uint8_t type;
	uint8_t states;          /* S(...) in which it is accepted */
	uint8_t flags;           /* ONCE: at most once per channel */
	uint8_t next;            /* the state it moves the channel to (0: stays) */
};

#define HELLO_FROM(me, it) { R(me), R(it), T(HELLO), S(HELLO), ONCE, IPC_CHAN_OPEN }

static const struct ipc_permit permits[] = {
	/* The supervisor hears from its children: HELLO, the sandbox level
	 * once, and the executor's requests for a system command. */
	HELLO_FROM(SUPERVISOR, EXEC),
	HELLO_FROM(SUPERVISOR, HTTP),
	HELLO_FROM(SUPERVISOR, SIP),
	{ R(SUPERVISOR), R(EXEC), T(SANDBOX_LEVEL), S(OPEN), ONCE, 0 },
	{ R(SUPERVISOR), R(HTTP), T(SANDBOX_LEVEL), S(OPEN), ONCE, 0 },
	{ R(SUPERVISOR), R(SIP), T(SANDBOX_LEVEL), S(OPEN), ONCE, 0 },
	{ R(SUPERVISOR), R(EXEC), T(SYSTEM_RUN), S(OPEN), 0, 0 },

	/* Each child hears from the supervisor: HELLO, its configuration and
	 * channels, START once; the executor (and the front-ends, when the
	 * executor restarts) get new channels while running. */
	HELLO_FROM(EXEC, SUPERVISOR),
	HELLO_FROM(HTTP, SUPERVISOR),
	HELLO_FROM(SIP, SUPERVISOR),
	{ R(EXEC), R(SUPERVISOR), T(CONFIG_SET), S(OPEN), 0, 0 },
	{ R(HTTP), R(SUPERVISOR), T(CONFIG_SET), S(OPEN), 0, 0 },
	{ R(SIP), R(SUPERVISOR), T(CONFIG_SET), S(OPEN), 0, 0 },
	{ R(EXEC), R(SUPERVISOR), T(PEER_CHANNEL), S(OPEN) | S(STARTED), 0, 0 },
	{ R(HTTP), R(SUPERVISOR), T(PEER_CHANNEL), S(OPEN) | S(STARTED), 0, 0 },
	{ R(SIP), R(SUPERVISOR), T(PEER_CHANNEL), S(OPEN) | S(STARTED), 0, 0 },
	{ R(EXEC), R(SUPERVISOR), T(START), S(OPEN), ONCE, IPC_CHAN_STARTED },
	{ R(HTTP), R(SUPERVISOR), T(START), S(OPEN), ONCE, IPC_CHAN_STARTED },
	{ R(SIP), R(SUPERVISOR), T(START), S(OPEN), ONCE, IPC_CHAN_STARTED },
	/* Who the services are, for the admin socket: before START and
	 * whenever a child starts or is reaped. */
	{ R(EXEC), R(SUPERVISOR), T(SERVICE_IDS), S(OPEN) | S(STARTED), 0, 0 },

	/* The executor hears requests from the front-ends, each its own kind. */
	HELLO_FROM(EXEC, HTTP),
	{ R(EXEC), R(HTTP), T(ACTION_REQ), S(OPEN), 0, 0 },
	{ R(EXEC), R(HTTP), T(TLS_SIGN_REQ), S(OPEN), 0, 0 },
	HELLO_FROM(EXEC, SIP),
	{ R(EXEC), R(SIP), T(ACTION_REQ), S(OPEN), 0, 0 },
	{ R(EXEC), R(SIP), T(SIP_STATE), S(OPEN), 0, 0 },

	/* The front-ends hear answers from the executor. */
	HELLO_FROM(HTTP, EXEC),
	{ R(HTTP), R(EXEC), T(ACTION_RES), S(OPEN), 0, 0 },
	{ R(HTTP), R(EXEC), T(SCREENSHOT_RES), S(OPEN), 0, 0 },
	{ R(HTTP), R(EXEC), T(TLS_CERT), S(OPEN), 0, 0 },
	{ R(HTTP), R(EXEC), T(TLS_SIGN_RES), S(OPEN), 0, 0 },
	HELLO_FROM(SIP, EXEC),
	{ R(SIP), R(EXEC), T(ACTION_RES), S(OPEN), 0, 0 },

	/* The admin socket: aurictl's verbs, and the executor's rows and answers. */
	HELLO_FROM(EXEC, ADMIN),
	{ R(EXEC), R(ADMIN), T(ADMIN_STATUS), S(OPEN), 0, 0 },
	{ R(EXEC), R(ADMIN), T(ADMIN_TRUST_LIST), S(OPEN), 0, 0 },
	{ R(EXEC), R(ADMIN), T(ADMIN_TRUST_ADD), S(OPEN), 0, 0 },
	{ R(EXEC), R(ADMIN), T(ADMIN_TRUST_REMOVE), S(OPEN), 0, 0 },
	{ R(EXEC), R(ADMIN), T(ADMIN_CONSENT_LIST), S(OPEN), 0, 0 },
	{ R(EXEC), R(ADMIN), T(ADMIN_CONSENT_REVOKE), S(OPEN), 0, 0 },
	{ R(EXEC), R(ADMIN), T(ADMIN_AUDIT), S(OPEN), 0, 0 },
	{ R(EXEC), R(ADMIN), T(ADMIN_USER_ADD), S(OPEN), 0, 0 },
	{ R(EXEC), R(ADMIN), T(ADMIN_USER_PASSWD), S(OPEN), 0, 0 },
	{ R(EXEC), R(ADMIN), T(ADMIN_SIM_PRESS), S(OPEN), 0, 0 },
	HELLO_FROM(ADMIN, EXEC),
	{ R(ADMIN), R(EXEC), T(ADMIN_ROW), S(OPEN), 0, 0 },
	{ R(ADMIN), R(EXEC), T(ADMIN_RES), S(OPEN), 0, 0 },
};

_Static_assert(IPC_TYPE_COUNT <= 64, "ipc_chan.once holds one bit per type");
_Static_assert(IPC_TYPE_COUNT <= 256, "the table holds a type in a byte");

int ipc_permit(struct ipc_chan *c, unsigned type, bool commit)
{
	for (size_t i = 0; i < sizeof(permits) / sizeof(permits[0]); i++) {
		const struct ipc_permit *p = &permits[i];
		uint64_t bit;

		if (p->type != type || p->self != c->self || p->peer != c->peer)
			continue;
		bit = (uint64_t)1 << type;
		if (!(p->states & (1u << c->state)) || ((p->flags & ONCE) && (c->once & bit)))
			return -EPROTO;
		if (commit) {
			if (p->flags & ONCE)
				c->once |= bit;
			if (p->next)
				c->state = p->next;
		}
		return 0;
	}
	return -EPROTO;
}
