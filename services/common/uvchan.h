/*
 * An IPC channel inside a libuv loop: a uv_poll_t on the channel's socket,
 * reading messages as they come and writing the queue when the socket has
 * room.  The IPC library itself knows no loop; this is the glue for the two
 * processes that run libuv (aurid-exec and aurid-http).
 *
 * Sends are corked: every message sent during a loop turn goes out at the
 * end of the turn (a uv_check, and a uv_prepare for what timers sent) in one
 * sendmmsg, and messages are read with recvmmsg.  Under load that is a few
 * system calls per turn instead of two per request.
 */
#ifndef AURID_UVCHAN_H
#define AURID_UVCHAN_H

#include "../../ipc/ipc.h"

#include <stdbool.h>
#include <uv.h>

struct uvchan;

/* fd: -1 or a received fd that now belongs to the callee. */
typedef void (*uvchan_msg_fn)(struct uvchan *u, unsigned type, uint32_t id, union ipc_payload *msg, int fd);
/* Called once, after the channel is closed (EOF, error or uvchan_close);
 * the struct may be freed from here. */
typedef void (*uvchan_close_fn)(struct uvchan *u, int reason);

struct uvchan {
	struct ipc_chan chan;
	uv_poll_t poll;
	uv_prepare_t prepare;
	uv_check_t check;
	uvchan_msg_fn on_msg;
	uvchan_close_fn on_close;
	void *data;
	union ipc_payload *msg;      /* receive buffer, one per channel */
	int events;
	int close_reason;
	int closing;                 /* handles still to close */
	bool open;
};

/* Takes ownership of fd. */
int uvchan_open(uv_loop_t *loop, struct uvchan *u, int fd, enum ipc_role self, enum ipc_role peer,
		uvchan_msg_fn on_msg, uvchan_close_fn on_close, void *data);
/* Takes over an initialised channel (its queue and the datagrams it has
 * read ahead included); *c is left closed. */
int uvchan_adopt(uv_loop_t *loop, struct uvchan *u, struct ipc_chan *c, uvchan_msg_fn on_msg,
		 uvchan_close_fn on_close, void *data);
/* Sends (or queues) a message; on a dead or overfull channel returns the
 * error and the channel is being closed. */
int uvchan_send(struct uvchan *u, unsigned type, uint32_t id, const void *msg, int fd_pass);
/* Sends a datagram from ipc_encode() (see ipc_chan_send_encoded). */
int uvchan_send_encoded(struct uvchan *u, const void *data, size_t len, int fd_pass);
/* Closes; on_close follows from the loop.  Idempotent. */
void uvchan_close(struct uvchan *u, int reason);

#endif
