/*
 * Who may use the admin socket (DESIGN.md section 2).  The socket's file
 * mode (0660 root:aurid-admin) is the kernel's first check; this is the
 * second, on the SO_PEERCRED and SO_PEERGROUPS of each connection, so that
 * a service process never administers aurid, even when the file mode is
 * wrong or every service runs as one uid.
 *
 * The rule, in order:
 *   1. a running service's pid is refused (the only thing that tells a
 *      front-end from aurictl when aurid runs without root and every
 *      process has the same uid);
 *   2. with separate users, a service's uid is refused, whatever groups
 *      it is in;
 *   3. root is accepted;
 *   4. with separate users, a member of the admin group (primary or
 *      supplementary) is accepted, anyone else refused; without them, only
 *      the uid aurid runs as is accepted.
 * Who the services are comes from the supervisor (IPC_SERVICE_IDS), never
 * from the peer being judged.
 */
#ifndef AURID_EXEC_ADMIN_ACCESS_H
#define AURID_EXEC_ADMIN_ACCESS_H

#include "../../ipc/ipc.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Supplementary groups looked at per connection; a peer with more is
 * judged by its primary group alone (and that is logged). */
#define ADMIN_ACCESS_GROUPS_MAX 256

enum admin_verdict {
	ADMIN_ACCEPT,
	ADMIN_REFUSE_SERVICE_PID,        /* the pid of a running service */
	ADMIN_REFUSE_SERVICE_UID,        /* the uid of a service user */
	ADMIN_REFUSE_NOT_ADMIN,          /* not root, not in the admin group */
	ADMIN_REFUSE_OTHER_UID,          /* no separate users: not aurid's uid */
};

/* A connection's peer as the kernel reported it at connect(). */
struct admin_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;             /* supplementary groups */
	size_t ngroups;
};

/*
 * Judges p against the services ids names; self_uid is the uid aurid-exec
 * runs as.  *service gets the role of the service matched by a
 * REFUSE_SERVICE_* verdict, else IPC_ROLE_NONE.
 */
enum admin_verdict admin_access_judge(const struct ipc_service_ids *ids, uid_t self_uid,
				      const struct admin_peer *p, enum ipc_role *service);

/* Why a verdict refused, for the log: "not in the admin group". */
const char *admin_access_reason(enum admin_verdict v);

/* 0 if ids is one the supervisor can have sent (known roles, each once,
 * no service as root), else -EINVAL. */
int admin_access_check_ids(const struct ipc_service_ids *ids);

#endif
