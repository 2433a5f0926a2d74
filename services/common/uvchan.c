#include "uvchan.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* Messages handled per readable event before yielding to other handles. */
#define UVCHAN_BATCH 64

static void uvchan_update(struct uvchan *u)
{
	int ev = UV_READABLE | (ipc_chan_want_write(&u->chan) ? UV_WRITABLE : 0);

	if (u->open && ev != u->events) {
		u->events = ev;
		uv_poll_start(&u->poll, ev, u->poll.poll_cb);
	}
}

static void uvchan_closed_cb(uv_handle_t *h)
{
	struct uvchan *u = h->data;

	ipc_chan_close(&u->chan);
	free(u->msg);
	u->msg = NULL;
	if (u->on_close)
		u->on_close(u, u->close_reason);
}

void uvchan_close(struct uvchan *u, int reason)
{
	if (!u->open)
		return;
	u->open = false;
	u->close_reason = reason;
	uv_poll_stop(&u->poll);
	uv_close((uv_handle_t *)&u->poll, uvchan_closed_cb);
}

static void uvchan_poll_cb(uv_poll_t *p, int status, int events)
{
	struct uvchan *u = p->data;

	if (status < 0) {
		uvchan_close(u, status);
		return;
	}
	if (events & UV_WRITABLE) {
		int r = ipc_chan_flush(&u->chan);

		if (r && r != -EAGAIN) {
			uvchan_close(u, r);
			return;
		}
	}
	if (events & UV_READABLE) {
		for (int i = 0; i < UVCHAN_BATCH && u->open; i++) {
			unsigned type;
			uint32_t id;
			int fd, r;

			r = ipc_chan_recv(&u->chan, &type, &id, u->msg, &fd);
			if (r == -EAGAIN)
				break;
			if (r) {
				if (r == -EPROTO)
					log_warn("malformed message from %s: closing its channel",
						 ipc_role_name(u->chan.peer));
				uvchan_close(u, r);
				return;
			}
			u->on_msg(u, type, id, u->msg, fd);
		}
	}
	uvchan_update(u);
}

int uvchan_open(uv_loop_t *loop, struct uvchan *u, int fd, enum ipc_role self, enum ipc_role peer,
		uvchan_msg_fn on_msg, uvchan_close_fn on_close, void *data)
{
	int r;

	u->open = false;
	u->msg = malloc(sizeof(*u->msg));
	if (!u->msg) {
		close(fd);
		return -ENOMEM;
	}
	r = ipc_chan_init(&u->chan, fd, self, peer);
	if (r) {
		close(fd);
		free(u->msg);
		u->msg = NULL;
		return r;
	}
	r = uv_poll_init(loop, &u->poll, fd);
	if (r) {
		ipc_chan_close(&u->chan);
		free(u->msg);
		u->msg = NULL;
		return r;
	}
	u->poll.data = u;
	u->on_msg = on_msg;
	u->on_close = on_close;
	u->data = data;
	u->open = true;
	u->events = UV_READABLE;
	u->close_reason = 0;
	uv_poll_start(&u->poll, UV_READABLE, uvchan_poll_cb);
	return 0;
}

static int uvchan_sent(struct uvchan *u, int r)
{
	if (r == -EINVAL || r == -EMSGSIZE)
		return r;   /* our own message was bad; the channel is fine */
	if (r) {
		uvchan_close(u, r);
		return r;
	}
	uvchan_update(u);
	return 0;
}

int uvchan_send(struct uvchan *u, unsigned type, uint32_t id, const void *msg, int fd_pass)
{
	if (!u->open)
		return -EPIPE;
	return uvchan_sent(u, ipc_chan_send(&u->chan, type, id, msg, fd_pass));
}

int uvchan_send_encoded(struct uvchan *u, const void *data, size_t len, int fd_pass)
{
	if (!u->open)
		return -EPIPE;
	return uvchan_sent(u, ipc_chan_send_encoded(&u->chan, data, len, fd_pass));
}
