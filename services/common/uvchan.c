#include "uvchan.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

	if (--u->closing > 0)
		return;
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
	u->closing = 3;
	uv_poll_stop(&u->poll);
	uv_close((uv_handle_t *)&u->poll, uvchan_closed_cb);
	uv_close((uv_handle_t *)&u->prepare, uvchan_closed_cb);
	uv_close((uv_handle_t *)&u->check, uvchan_closed_cb);
}

static void uvchan_flush(struct uvchan *u)
{
	int r;

	if (!u->open || !ipc_chan_want_write(&u->chan))
		return;
	r = ipc_chan_flush(&u->chan);
	if (r && r != -EAGAIN) {
		uvchan_close(u, r);
		return;
	}
	uvchan_update(u);
}

static void uvchan_read(struct uvchan *u)
{
	for (int i = 0; i < UVCHAN_BATCH && u->open; i++) {
		unsigned type;
		uint32_t id;
		int fd, r;

		r = ipc_chan_recv(&u->chan, &type, &id, u->msg, &fd);
		if (r == -EAGAIN)
			break;
		if (r) {
			if (r == -EPROTO)
				log_warn("malformed message from %s: closing its channel", ipc_role_name(u->chan.peer));
			uvchan_close(u, r);
			return;
		}
		u->on_msg(u, type, id, u->msg, fd);
	}
}

static void uvchan_poll_cb(uv_poll_t *p, int status, int events)
{
	struct uvchan *u = p->data;

	if (status < 0) {
		uvchan_close(u, status);
		return;
	}
	if (events & UV_WRITABLE)
		uvchan_flush(u);
	if (u->open && (events & UV_READABLE))
		uvchan_read(u);
	if (u->open)
		uvchan_update(u);
}

/* Before the loop blocks: what was read ahead but not handled (poll would
 * not report it again), and what timers sent. */
static void uvchan_prepare_cb(uv_prepare_t *h)
{
	struct uvchan *u = h->data;

	while (u->open && ipc_chan_pending(&u->chan))
		uvchan_read(u);
	uvchan_flush(u);
}

/* After the I/O of this turn: send what it produced, in one go. */
static void uvchan_check_cb(uv_check_t *h)
{
	uvchan_flush(h->data);
}

int uvchan_adopt(uv_loop_t *loop, struct uvchan *u, struct ipc_chan *c, uvchan_msg_fn on_msg,
		 uvchan_close_fn on_close, void *data)
{
	int r;

	u->open = false;
	u->msg = malloc(sizeof(*u->msg));
	if (!u->msg) {
		ipc_chan_close(c);
		return -ENOMEM;
	}
	u->chan = *c;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	r = uv_poll_init(loop, &u->poll, u->chan.fd);
	if (r) {
		ipc_chan_close(&u->chan);
		free(u->msg);
		u->msg = NULL;
		return r;
	}
	uv_prepare_init(loop, &u->prepare);
	uv_check_init(loop, &u->check);
	u->poll.data = u->prepare.data = u->check.data = u;
	u->on_msg = on_msg;
	u->on_close = on_close;
	u->data = data;
	u->open = true;
	u->events = UV_READABLE;
	u->close_reason = 0;
	ipc_chan_cork(&u->chan, true);
	uv_poll_start(&u->poll, UV_READABLE, uvchan_poll_cb);
	uv_prepare_start(&u->prepare, uvchan_prepare_cb);
	uv_check_start(&u->check, uvchan_check_cb);
	return 0;
}

int uvchan_open(uv_loop_t *loop, struct uvchan *u, int fd, enum ipc_role self, enum ipc_role peer,
		uvchan_msg_fn on_msg, uvchan_close_fn on_close, void *data)
{
	struct ipc_chan c;
	int r = ipc_chan_init(&c, fd, self, peer);

	if (r) {
		close(fd);
		return r;
	}
	return uvchan_adopt(loop, u, &c, on_msg, on_close, data);
}

static int uvchan_sent(struct uvchan *u, int r)
{
	if (r == -EINVAL || r == -EMSGSIZE)
		return r;   /* our own message was bad; the channel is fine */
	if (r) {
		uvchan_close(u, r);
		return r;
	}
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
