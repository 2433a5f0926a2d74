#include "child.h"
#include "clock.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int child_arg_fd(const char *value, int *fd)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || *end || end == value || v < 3 || v > 1024 || fcntl((int)v, F_GETFD) < 0)
		return -EINVAL;
	*fd = (int)v;
	return 0;
}

int child_start(enum ipc_role self, struct ipc_chan *sup, struct child_start *out, int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	union ipc_payload *m;
	char err[256];
	int r;

	memset(out, 0, sizeof(*out));
	config_defaults(&out->cfg);
	r = ipc_chan_init(sup, CHILD_SUPERVISOR_FD, self, IPC_ROLE_SUPERVISOR);
	if (r) {
		log_err("fd %d is not the supervisor's channel: %s", CHILD_SUPERVISOR_FD, strerror(-r));
		return r;
	}
	/* The supervisor made the pair, so SO_PEERCRED names our parent. */
	r = ipc_peer_is(sup->fd, getppid());
	if (r) {
		log_err("fd %d was not made by the supervisor (our parent): %s", CHILD_SUPERVISOR_FD, strerror(-r));
		return r;
	}
	r = ipc_chan_handshake(sup, timeout_ms);
	if (r) {
		log_err("handshake with the supervisor failed: %s", strerror(-r));
		return r;
	}
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (;;) {
		struct pollfd p = { .fd = sup->fd, .events = POLLIN };
		int64_t left = deadline - clock_mono_ms();
		unsigned type;
		uint32_t id;
		int fd;

		if (ipc_chan_want_write(sup))
			ipc_chan_flush(sup);
		r = ipc_chan_recv(sup, &type, &id, m, &fd);
		if (r == -EAGAIN) {
			if (left <= 0) {
				r = -ETIMEDOUT;
				break;
			}
			poll(&p, 1, (int)left);
			continue;
		}
		if (r)
			break;
		if (type == IPC_START) {
			r = 0;
			break;
		}
		if (type == IPC_CONFIG_SET) {
			if (config_set(&out->cfg, m->config_set.key, m->config_set.value, err, sizeof(err)) < 0) {
				log_err("bad config from the supervisor: %s", err);
				r = -EINVAL;
				break;
			}
		} else if (type == IPC_SERVICE_IDS && self == IPC_ROLE_EXEC) {
			out->services = m->service_ids;
			out->have_services = true;
		} else if (type == IPC_PEER_CHANNEL && out->npeers < CHILD_PEERS_MAX) {
			out->peer_fd[out->npeers] = fd;
			out->peer_role[out->npeers] = (enum ipc_role)m->peer_channel.role;
			out->npeers++;
		} else {
			if (fd >= 0)
				close(fd);
			r = -EPROTO;
			break;
		}
	}
	free(m);
	if (r) {
		log_err("start-up from the supervisor failed: %s", strerror(-r));
		for (size_t i = 0; i < out->npeers; i++)
			close(out->peer_fd[i]);
		out->npeers = 0;
	}
	return r;
}
