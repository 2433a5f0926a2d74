/*
 * The start of every child process: fd 3 is the channel to the supervisor.
 * HELLO both ways, then the supervisor sends the child's slice of the config
 * (IPC_CONFIG_SET ...), the channels to its peers (IPC_PEER_CHANNEL ...),
 * to aurid-exec who the services are (IPC_SERVICE_IDS), and IPC_START.  Config flows one way, parent to child, then the child runs.
 */
#ifndef AURID_CHILD_H
#define AURID_CHILD_H

#include "../../ipc/ipc.h"
#include "config.h"

#include <stdbool.h>
#include <stddef.h>

#define CHILD_SUPERVISOR_FD 3
#define CHILD_PEERS_MAX 4

struct child_start {
	struct aurid_config cfg;
	size_t npeers;
	int peer_fd[CHILD_PEERS_MAX];
	enum ipc_role peer_role[CHILD_PEERS_MAX];
	/* aurid-exec only: who the services are (IPC_SERVICE_IDS). */
	bool have_services;
	struct ipc_service_ids services;
};

/* Blocking, bounded by timeout_ms.  sup is initialised on fd 3 and stays
 * open for the caller's loop.  0 or -errno (logged). */
int child_start(enum ipc_role self, struct ipc_chan *sup, struct child_start *out, int timeout_ms);

/* Parses "--NAME N" fd arguments: 0 and *fd, or -EINVAL. */
int child_arg_fd(const char *value, int *fd);

#endif
