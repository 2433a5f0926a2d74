/* Who may use the admin socket: the rule of admin_access.h. */
#include "admin_access.h"

#include <errno.h>

static bool in_group(const struct admin_peer *p, gid_t gid)
{
	if (p->gid == gid)
		return true;
	for (size_t i = 0; i < p->ngroups; i++)
		if (p->groups[i] == gid)
			return true;
	return false;
}

enum admin_verdict admin_access_judge(const struct ipc_service_ids *ids, uid_t self_uid,
				      const struct admin_peer *p, enum ipc_role *service)
{
	*service = IPC_ROLE_NONE;
	for (size_t i = 0; i < ids->nservices; i++) {
		const struct ipc_service_id *s = &ids->services[i];

		/* pid 0: not running (nor is 0 a pid a peer can have here). */
		if (s->pid != 0 && (pid_t)s->pid == p->pid) {
			*service = (enum ipc_role)s->role;
			return ADMIN_REFUSE_SERVICE_PID;
		}
		if (ids->separate_users && (uid_t)s->uid == p->uid) {
			*service = (enum ipc_role)s->role;
			return ADMIN_REFUSE_SERVICE_UID;
		}
	}
	if (p->uid == 0)
		return ADMIN_ACCEPT;
	if (ids->separate_users)
		return in_group(p, (gid_t)ids->admin_gid) ? ADMIN_ACCEPT : ADMIN_REFUSE_NOT_ADMIN;
	return p->uid == self_uid ? ADMIN_ACCEPT : ADMIN_REFUSE_OTHER_UID;
}

const char *admin_access_reason(enum admin_verdict v)
{
	switch (v) {
	case ADMIN_ACCEPT: return "accepted";
	case ADMIN_REFUSE_SERVICE_PID: return "it is a service process";
	case ADMIN_REFUSE_SERVICE_UID: return "it is a service user";
	case ADMIN_REFUSE_NOT_ADMIN: return "not root and not in the admin group";
	case ADMIN_REFUSE_OTHER_UID: return "not root and not the uid aurid runs as";
	}
	return "refused";
}

int admin_access_check_ids(const struct ipc_service_ids *ids)
{
	unsigned seen = 0;

	if (ids->nservices > IPC_SERVICES_MAX)
		return -EINVAL;
	for (size_t i = 0; i < ids->nservices; i++) {
		const struct ipc_service_id *s = &ids->services[i];

		if (s->role != IPC_ROLE_EXEC && s->role != IPC_ROLE_HTTP && s->role != IPC_ROLE_SIP)
			return -EINVAL;
		if ((seen & IPC_ROLE_BIT(s->role)) || s->uid == 0)
			return -EINVAL;
		seen |= IPC_ROLE_BIT(s->role);
	}
	return 0;
}
