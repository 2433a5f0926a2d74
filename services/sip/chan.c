/*
 * An IPC channel inside libre's loop: the channel's socket joins re_main
 * with fd_listen (read always, write while the queue is not empty).  The
 * IPC library knows no loop; this is the glue, as uvchan.c is for libuv.
 * Sends are not corked: libre has no end-of-turn hook, and aurid-sip sends
 * one request per NOTIFY.
 */
#include "front.h"

#include "../common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Messages handled per wake-up before other sockets get their turn. */
#define SIP_IPC_BATCH 64

static void sip_ipc_fd(int flags, void *arg);

static void sip_ipc_update(struct sip_ipc *s)
{
	int flags = FD_READ | (ipc_chan_want_write(&s->chan) ? FD_WRITE : 0);
	int r;

	if (!s->open || flags == s->flags)
		return;
	r = sip_err(fd_listen(s->fd, flags, sip_ipc_fd, s));
	if (r) {
		sip_ipc_close(s, r);
		return;
	}
	s->flags = flags;
}

static void sip_ipc_closed(void *arg)
{
	struct sip_ipc *s = arg;

	/* Last: the handler may free s. */
	if (s->closeh)
		s->closeh(s, s->close_reason);
}

void sip_ipc_close(struct sip_ipc *s, int reason)
{
	if (!s->open)
		return;
	s->open = false;
	s->close_reason = reason;
	tmr_cancel(&s->tmr_read);
	fd_close(s->fd);
	s->fd = -1;
	ipc_chan_close(&s->chan);
	free(s->msg);
	s->msg = NULL;
	tmr_start(&s->tmr_close, 0, sip_ipc_closed, s);
}

void sip_ipc_release(struct sip_ipc *s)
{
	sip_ipc_close(s, 0);
	tmr_cancel(&s->tmr_close);
}

static void sip_ipc_flush(struct sip_ipc *s)
{
	int r;

	if (!s->open || !ipc_chan_want_write(&s->chan))
		return;
	r = ipc_chan_flush(&s->chan);
	if (r && r != -EAGAIN)
		sip_ipc_close(s, r);
}

static void sip_ipc_read_more(void *arg);

static void sip_ipc_read(struct sip_ipc *s)
{
	for (int i = 0; i < SIP_IPC_BATCH && s->open; i++) {
		unsigned type;
		uint32_t id;
		int fd, r;

		r = ipc_chan_recv(&s->chan, &type, &id, s->msg, &fd);
		if (r == -EAGAIN)
			return;
		if (r) {
			if (r == -EPROTO)
				log_warn("malformed message from %s: closing its channel", ipc_role_name(s->chan.peer));
			sip_ipc_close(s, r);
			return;
		}
		s->msgh(s, type, id, s->msg, fd);
	}
	/* The batch is used up: continue after the other sockets, even for
	 * datagrams already read ahead, which poll would not report. */
	if (s->open)
		tmr_start(&s->tmr_read, 0, sip_ipc_read_more, s);
}

static void sip_ipc_read_more(void *arg)
{
	struct sip_ipc *s = arg;

	sip_ipc_read(s);
	sip_ipc_flush(s);
	sip_ipc_update(s);
}

static void sip_ipc_fd(int flags, void *arg)
{
	struct sip_ipc *s = arg;

	if (flags & FD_WRITE)
		sip_ipc_flush(s);
	if (s->open && (flags & (FD_READ | FD_EXCEPT)))
		sip_ipc_read(s);
	sip_ipc_flush(s);
	sip_ipc_update(s);
}

int sip_ipc_adopt(struct sip_ipc *s, struct ipc_chan *c, sip_ipc_msg_h *msgh, sip_ipc_close_h *closeh, void *arg)
{
	int r;

	memset(s, 0, sizeof(*s));
	tmr_init(&s->tmr_read);
	tmr_init(&s->tmr_close);
	s->fd = -1;
	s->msg = malloc(sizeof(*s->msg));
	if (!s->msg) {
		ipc_chan_close(c);
		return -ENOMEM;
	}
	s->chan = *c;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	ipc_chan_cork(&s->chan, false);
	s->msgh = msgh;
	s->closeh = closeh;
	s->arg = arg;
	s->fd = s->chan.fd;
	s->flags = FD_READ;
	r = sip_err(fd_listen(s->fd, s->flags, sip_ipc_fd, s));
	if (r) {
		ipc_chan_close(&s->chan);
		free(s->msg);
		s->msg = NULL;
		s->fd = -1;
		return r;
	}
	s->open = true;
	/* What the start-up reads left behind is handled from the loop. */
	if (ipc_chan_pending(&s->chan))
		tmr_start(&s->tmr_read, 0, sip_ipc_read_more, s);
	sip_ipc_update(s);
	return 0;
}

int sip_ipc_open(struct sip_ipc *s, int fd, enum ipc_role self, enum ipc_role peer, sip_ipc_msg_h *msgh,
		 sip_ipc_close_h *closeh, void *arg)
{
	struct ipc_chan c;
	int r = ipc_chan_init(&c, fd, self, peer);

	if (r) {
		close(fd);
		return r;
	}
	return sip_ipc_adopt(s, &c, msgh, closeh, arg);
}

int sip_ipc_send(struct sip_ipc *s, unsigned type, uint32_t id, const void *msg)
{
	int r;

	if (!s->open)
		return -EPIPE;
	r = ipc_chan_send(&s->chan, type, id, msg, -1);
	if (r == -EINVAL || r == -EMSGSIZE)
		return r;   /* our own message was bad; the channel is fine */
	if (r) {
		sip_ipc_close(s, r);
		return r;
	}
	sip_ipc_update(s);
	return 0;
}
