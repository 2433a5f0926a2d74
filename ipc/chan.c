/* A channel: one SOCK_SEQPACKET socket, a bounded queue of outgoing datagrams. */
#include "ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct ipc_out {
	struct ipc_out *next;
	int fd;                  /* dup'ed fd to pass, or -1 */
	size_t len;
	uint8_t data[];
};

/* Datagrams per recvmmsg/sendmmsg.  The receive buffers are IPC_MSG_MAX
 * each but only the pages a message touches become resident. */
#define IPC_BATCH 16

struct ipc_rx {
	unsigned n, next;
	struct mmsghdr mm[IPC_BATCH];
	struct iovec iov[IPC_BATCH];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl[IPC_BATCH];
	uint8_t buf[IPC_BATCH][IPC_MSG_MAX];
};

void ipc_chan_cork(struct ipc_chan *c, bool corked)
{
	c->corked = corked;
}

bool ipc_chan_pending(const struct ipc_chan *c)
{
	return c->rx && c->rx->next < c->rx->n;
}

int ipc_chan_init(struct ipc_chan *c, int fd, enum ipc_role self, enum ipc_role peer)
{
	int fl = fcntl(fd, F_GETFL);

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	c->fd = fd;
	c->self = self;
	c->peer = peer;
	return 0;
}

static void out_free(struct ipc_out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	free(o);
}

static void close_fds(struct msghdr *mh);

static void rx_drop(struct ipc_rx *rx)
{
	/* Datagrams read but never returned may still hold descriptors. */
	for (; rx->next < rx->n; rx->next++)
		close_fds(&rx->mm[rx->next].msg_hdr);
	rx->n = rx->next = 0;
}

void ipc_chan_close(struct ipc_chan *c)
{
	if (c->rx) {
		rx_drop(c->rx);
		free(c->rx);
		c->rx = NULL;
	}
	while (c->head) {
		struct ipc_out *o = c->head;

		c->head = o->next;
		out_free(o);
	}
	c->tail = NULL;
	c->queued = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static ssize_t send_one(int sock, const void *data, size_t len, int fd)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static void out_pop(struct ipc_chan *c)
{
	struct ipc_out *o = c->head;

	c->head = o->next;
	if (!c->head)
		c->tail = NULL;
	c->queued--;
	out_free(o);
}

int ipc_chan_flush(struct ipc_chan *c)
{
	struct mmsghdr mm[IPC_BATCH];
	struct iovec iov[IPC_BATCH];

	while (c->head) {
		struct ipc_out *o = c->head;
		unsigned k = 0;
		int n;

		if (o->fd >= 0) {
			ssize_t r = send_one(c->fd, o->data, o->len, o->fd);

			if (r == -EAGAIN || r == -EWOULDBLOCK)
				return -EAGAIN;
			if (r < 0)
				return r == -ECONNRESET ? -EPIPE : (int)r;
			out_pop(c);
			continue;
		}
		/* A run of datagrams without descriptors: one system call. */
		for (; o && o->fd < 0 && k < IPC_BATCH; o = o->next, k++) {
			iov[k] = (struct iovec){ .iov_base = o->data, .iov_len = o->len };
			mm[k] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[k], .msg_iovlen = 1 } };
		}
		do
			n = sendmmsg(c->fd, mm, k, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -EAGAIN;
			return errno == ECONNRESET ? -EPIPE : -errno;
		}
		for (int i = 0; i < n; i++)
			out_pop(c);
		if ((unsigned)n < k)
			return -EAGAIN;
	}
	return 0;
}

bool ipc_chan_want_write(const struct ipc_chan *c)
{
	return c->head != NULL;
}

static int chan_send_datagram(struct ipc_chan *c, const uint8_t *buf, size_t len, int fd_pass)
{
	struct ipc_out *o;
	int r;

	if (!c->head && !c->corked) {
		ssize_t n = send_one(c->fd, buf, len, fd_pass);

		if (n >= 0)
			return 0;
		if (n != -EAGAIN && n != -EWOULDBLOCK)
			return n == -ECONNRESET ? -EPIPE : (int)n;
	}
	if (c->corked && c->queued >= IPC_CORK_MAX) {
		/* Do not let a cork grow the queue: write what is held. */
		r = ipc_chan_flush(c);
		if (r && r != -EAGAIN)
			return r;
	}
	if (c->queued >= IPC_QUEUE_MAX)
		return -ENOBUFS;
	o = malloc(sizeof(*o) + len);
	if (!o)
		return -ENOMEM;
	o->next = NULL;
	o->len = len;
	o->fd = -1;
	if (fd_pass >= 0) {
		o->fd = fcntl(fd_pass, F_DUPFD_CLOEXEC, 3);
		if (o->fd < 0) {
			r = -errno;
			free(o);
			return r;
		}
	}
	memcpy(o->data, buf, len);
	if (c->tail)
		c->tail->next = o;
	else
		c->head = o;
	c->tail = o;
	c->queued++;
	return 0;
}

int ipc_chan_send(struct ipc_chan *c, unsigned type, uint32_t id, const void *msg, int fd_pass)
{
	const struct ipc_msg_def *d = ipc_msg_def(type);
	uint8_t buf[IPC_MSG_MAX];
	size_t len;
	int r;

	if (c->fd < 0)
		return -EPIPE;
	if (!d || d->fd != (fd_pass >= 0))
		return -EINVAL;
	r = ipc_encode(type, id, msg, buf, sizeof(buf), &len);
	if (r)
		return r;
	return chan_send_datagram(c, buf, len, fd_pass);
}

int ipc_chan_send_encoded(struct ipc_chan *c, const void *data, size_t len, int fd_pass)
{
	const uint8_t *p = data;
	const struct ipc_msg_def *d;

	if (c->fd < 0)
		return -EPIPE;
	if (len < IPC_HDR_LEN || len > IPC_MSG_MAX)
		return -EINVAL;
	d = ipc_msg_def((unsigned)p[0] | (unsigned)p[1] << 8);
	if (!d || d->fd != (fd_pass >= 0))
		return -EINVAL;
	return chan_send_datagram(c, data, len, fd_pass);
}

static void close_fds(struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < n; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				close(fd);
			}
		}
	}
}

/* Reads up to IPC_BATCH datagrams with one recvmmsg.  0, -EAGAIN, -errno. */
static int rx_fill(struct ipc_chan *c)
{
	struct ipc_rx *rx = c->rx;
	int n;

	if (!rx) {
		rx = c->rx = malloc(sizeof(*rx));
		if (!rx)
			return -ENOMEM;
		/* A first recvmmsg that fails leaves nothing read: rx_drop
		 * must not walk uninitialised counts. */
		rx->n = rx->next = 0;
	}
	for (unsigned i = 0; i < IPC_BATCH; i++) {
		rx->iov[i] = (struct iovec){ .iov_base = rx->buf[i], .iov_len = IPC_MSG_MAX };
		rx->mm[i] = (struct mmsghdr){ .msg_hdr = {
			.msg_iov = &rx->iov[i], .msg_iovlen = 1,
			.msg_control = rx->ctl[i].buf, .msg_controllen = sizeof(rx->ctl[i].buf),
		} };
	}
	do
		n = recvmmsg(c->fd, rx->mm, IPC_BATCH, MSG_CMSG_CLOEXEC | MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		return errno == ECONNRESET ? -EPIPE : -errno;
	}
	rx->n = (unsigned)n;
	rx->next = 0;
	return n > 0 ? 0 : -EPIPE;
}

/* Was the socket fd made by the process at the other end of via?  For a
 * socketpair, SO_PEERCRED names the process that called socketpair(). */
static bool peer_made(int fd, int via)
{
	pid_t maker;

	return ipc_peer_cred(via, &maker, NULL, NULL) == 0 && ipc_peer_is(fd, maker) == 0;
}

int ipc_chan_recv(struct ipc_chan *c, unsigned *type, uint32_t *id, union ipc_payload *msg, int *fd_out)
{
	const struct ipc_msg_def *d;
	const uint8_t *head;
	struct cmsghdr *cm;
	struct msghdr *mh;
	size_t len;
	unsigned t;
	int fd = -1, r;

	*fd_out = -1;
	if (c->fd < 0)
		return -EPIPE;
	if (!c->rx || c->rx->next == c->rx->n) {
		r = rx_fill(c);
		if (r)
			return r;
	}
	mh = &c->rx->mm[c->rx->next].msg_hdr;
	len = c->rx->mm[c->rx->next].msg_len;
	c->rx->next++;
	if (len == 0)
		return -EPIPE;   /* a SOCK_SEQPACKET peer that closed */
	if (mh->msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
		close_fds(mh);
		return -EPROTO;
	}
	cm = CMSG_FIRSTHDR(mh);
	if (cm) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len != CMSG_LEN(sizeof(int)) || CMSG_NXTHDR(mh, cm)) {
			close_fds(mh);
			return -EPROTO;
		}
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	}
	/* Who sent it matters before what it says: the channel (its two roles)
	 * and its state decide whether this type may come at all, before a byte
	 * of the body is read. */
	if (len < IPC_HDR_LEN)
		goto bad;
	head = mh->msg_iov[0].iov_base;
	t = (unsigned)head[0] | (unsigned)head[1] << 8;
	d = ipc_msg_def(t);
	if (!d || ipc_permit(c, t, false) != 0 || d->fd != (fd >= 0))
		goto bad;
	if (ipc_decode(mh->msg_iov[0].iov_base, len, type, id, msg) < 0)
		goto bad;
	/* A channel handed over was made by whoever hands it over (the
	 * supervisor makes every pair it passes). */
	if (*type == IPC_PEER_CHANNEL && !peer_made(fd, c->fd))
		goto bad;
	/* HELLO: our version, and the role this channel was made for. */
	if (*type == IPC_HELLO && (msg->hello.version != IPC_VERSION || msg->hello.role != c->peer))
		goto bad;
	ipc_permit(c, *type, true);
	*fd_out = fd;
	return 0;
bad:
	if (fd >= 0)
		close(fd);
	return -EPROTO;
}

int ipc_peer_cred(int fd, pid_t *pid, uid_t *uid, gid_t *gid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	if (pid)
		*pid = cr.pid;
	if (uid)
		*uid = cr.uid;
	if (gid)
		*gid = cr.gid;
	return 0;
}

int ipc_peer_groups(int fd, gid_t *groups, size_t max, size_t *n)
{
	socklen_t len;

	*n = 0;
	if (max > 65536)   /* NGROUPS_MAX: more cannot exist */
		max = 65536;
	len = (socklen_t)(max * sizeof(*groups));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return -errno;
	*n = len / sizeof(*groups);
	return 0;
}

int ipc_peer_is(int fd, pid_t pid)
{
	pid_t p;
	int r = ipc_peer_cred(fd, &p, NULL, NULL);

	if (r)
		return r;
	return p == pid ? 0 : -EPERM;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ipc_chan_handshake(struct ipc_chan *c, int timeout_ms)
{
	struct ipc_hello h = { .version = IPC_VERSION, .role = (uint8_t)c->self };
	int64_t deadline = now_ms() + timeout_ms;
	union ipc_payload *m;
	int r;

	r = ipc_chan_send(c, IPC_HELLO, 0, &h, -1);
	if (r)
		return r;
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN | (ipc_chan_want_write(c) ? POLLOUT : 0) };
		int64_t left = deadline - now_ms();
		unsigned type;
		uint32_t id;
		int fd;

		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (ipc_chan_want_write(c) && (r = ipc_chan_flush(c)) != 0 && r != -EAGAIN)
			break;
		r = ipc_chan_recv(c, &type, &id, m, &fd);
		if (r == -EAGAIN)
			continue;
		if (r)
			break;
		/* (ipc_chan_recv checked its version and role.) */
		if (type != IPC_HELLO) {
			r = -EPROTO;
			break;
		}
		r = ipc_chan_flush(c);
		if (r == -EAGAIN)
			r = 0;  /* our HELLO stays queued; the loop writes it */
		break;
	}
	free(m);
	return r;
}
