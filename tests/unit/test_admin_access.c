/*
 * Who may use the admin socket: the executor's rule (admin_access.c), the
 * supervisor's account of the services it sends for it, and the kernel's
 * SO_PEERGROUPS as ipc_peer_groups reads it.
 */
#include "ipc/ipc.h"
#include "services/exec/admin_access.h"
#include "services/supervisor/supervisor.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define EXEC_UID  999
#define HTTP_UID  995
#define SIP_UID   994
#define CHILD_GID 995
#define ADMIN_GID 990

/* As root: three users, the front-ends running as pids 200 and 300. */
static const struct ipc_service_ids separate = {
	.separate_users = 1,
	.admin_gid = ADMIN_GID,
	.nservices = 3,
	.services = {
		{ IPC_ROLE_EXEC, EXEC_UID, CHILD_GID, 100 },
		{ IPC_ROLE_HTTP, HTTP_UID, CHILD_GID, 200 },
		{ IPC_ROLE_SIP, SIP_UID, CHILD_GID, 300 },
	},
};

/* Without root: everything as uid 1000; aurid-sip not running. */
static const struct ipc_service_ids shared = {
	.separate_users = 0,
	.nservices = 3,
	.services = {
		{ IPC_ROLE_EXEC, 1000, 1000, 100 },
		{ IPC_ROLE_HTTP, 1000, 1000, 200 },
		{ IPC_ROLE_SIP, 1000, 1000, 0 },
	},
};

static enum admin_verdict judge(const struct ipc_service_ids *ids, uid_t self, pid_t pid, uid_t uid, gid_t gid,
				const gid_t *groups, size_t ngroups, enum ipc_role *role)
{
	struct admin_peer p = { pid, uid, gid, groups, ngroups };
	enum ipc_role dummy;

	return admin_access_judge(ids, self, &p, role ? role : &dummy);
}

static void test_separate_users(void **state)
{
	static const gid_t admin_too[] = { 27, ADMIN_GID };
	static const gid_t others[] = { 27, CHILD_GID };
	enum ipc_role role;

	(void)state;
	/* Root, and members of the admin group by primary or supplementary group. */
	assert_int_equal(judge(&separate, EXEC_UID, 5000, 0, 0, NULL, 0, &role), ADMIN_ACCEPT);
	assert_int_equal(role, IPC_ROLE_NONE);
	assert_int_equal(judge(&separate, EXEC_UID, 5000, 1001, ADMIN_GID, NULL, 0, NULL), ADMIN_ACCEPT);
	assert_int_equal(judge(&separate, EXEC_UID, 5000, 1001, 1001, admin_too, 2, NULL), ADMIN_ACCEPT);
	/* Anyone else, the children's group included (the old rule let it in). */
	assert_int_equal(judge(&separate, EXEC_UID, 5000, 1001, 1001, others, 2, NULL), ADMIN_REFUSE_NOT_ADMIN);
	assert_int_equal(judge(&separate, EXEC_UID, 5000, 1001, CHILD_GID, NULL, 0, NULL), ADMIN_REFUSE_NOT_ADMIN);

	/* A service's uid, whatever its groups and pid. */
	assert_int_equal(judge(&separate, EXEC_UID, 5000, HTTP_UID, ADMIN_GID, admin_too, 2, &role),
			 ADMIN_REFUSE_SERVICE_UID);
	assert_int_equal(role, IPC_ROLE_HTTP);
	assert_int_equal(judge(&separate, EXEC_UID, 5000, SIP_UID, CHILD_GID, admin_too, 2, &role),
			 ADMIN_REFUSE_SERVICE_UID);
	assert_int_equal(role, IPC_ROLE_SIP);
	assert_int_equal(judge(&separate, EXEC_UID, 5000, EXEC_UID, ADMIN_GID, NULL, 0, &role),
			 ADMIN_REFUSE_SERVICE_UID);
	assert_int_equal(role, IPC_ROLE_EXEC);

	/* A service's pid, even with root's uid (the pid comes first). */
	assert_int_equal(judge(&separate, EXEC_UID, 200, 0, 0, NULL, 0, &role), ADMIN_REFUSE_SERVICE_PID);
	assert_int_equal(role, IPC_ROLE_HTTP);
	assert_int_equal(judge(&separate, EXEC_UID, 300, 1001, ADMIN_GID, NULL, 0, &role), ADMIN_REFUSE_SERVICE_PID);
	assert_int_equal(role, IPC_ROLE_SIP);
}

static void test_shared_uid(void **state)
{
	enum ipc_role role;

	(void)state;
	/* aurictl as the same user, or as root. */
	assert_int_equal(judge(&shared, 1000, 5000, 1000, 1000, NULL, 0, NULL), ADMIN_ACCEPT);
	assert_int_equal(judge(&shared, 1000, 5000, 0, 0, NULL, 0, NULL), ADMIN_ACCEPT);
	/* The same uid from a front-end's pid: refused. */
	assert_int_equal(judge(&shared, 1000, 200, 1000, 1000, NULL, 0, &role), ADMIN_REFUSE_SERVICE_PID);
	assert_int_equal(role, IPC_ROLE_HTTP);
	/* A service that is not running has no pid to match: pid 0 is nobody. */
	assert_int_equal(judge(&shared, 1000, 0, 1000, 1000, NULL, 0, NULL), ADMIN_ACCEPT);
	/* Another uid, even in aurid's group. */
	assert_int_equal(judge(&shared, 1000, 5000, 1001, 1000, NULL, 0, NULL), ADMIN_REFUSE_OTHER_UID);
	assert_string_equal(admin_access_reason(ADMIN_REFUSE_OTHER_UID), "not root and not the uid aurid runs as");
}

static void test_ids_checked(void **state)
{
	struct ipc_service_ids ids = separate;

	(void)state;
	assert_int_equal(admin_access_check_ids(&separate), 0);
	assert_int_equal(admin_access_check_ids(&shared), 0);
	ids.services[1].role = IPC_ROLE_ADMIN;
	assert_int_equal(admin_access_check_ids(&ids), -EINVAL);
	ids.services[1].role = 200;
	assert_int_equal(admin_access_check_ids(&ids), -EINVAL);
	ids.services[1].role = IPC_ROLE_EXEC;          /* twice */
	assert_int_equal(admin_access_check_ids(&ids), -EINVAL);
	ids = separate;
	ids.services[2].uid = 0;                       /* a service as root: never */
	assert_int_equal(admin_access_check_ids(&ids), -EINVAL);
	ids = separate;
	ids.nservices = 0;                             /* none known: still well-formed */
	assert_int_equal(admin_access_check_ids(&ids), 0);
}

/* SO_PEERGROUPS on a socketpair: our own supplementary groups. */
static void test_peer_groups(void **state)
{
	gid_t mine[64], got[64];
	int n = getgroups(64, mine);
	size_t ngot = 99;
	int sv[2], r;

	(void)state;
	assert_true(n >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	r = ipc_peer_groups(sv[0], got, 64, &ngot);
	if (r == -ENOPROTOOPT) {
		/* A kernel before 4.13: nothing to compare. */
		assert_int_equal(ngot, 0);
	} else {
		assert_int_equal(r, 0);
		assert_int_equal(ngot, (size_t)n);
		for (int i = 0; i < n; i++) {
			bool found = false;

			for (size_t j = 0; j < ngot; j++)
				found |= got[j] == mine[i];
			assert_true(found);
		}
		/* Too small a buffer: -ERANGE, never a truncated list. */
		if (n > 0)
			assert_int_equal(ipc_peer_groups(sv[0], got, (size_t)n - 1, &ngot), -ERANGE);
	}
	close(sv[0]);
	close(sv[1]);
}

/* What the supervisor sends: known users (running or not), pids of the running. */
static void test_supervisor_service_ids(void **state)
{
	static struct supervisor s;
	struct ipc_service_ids ids;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.root = true;
	s.admin_gid = ADMIN_GID;
	assert_int_equal(supervisor_nkinds, 3);
	for (size_t i = 0; i < supervisor_nkinds; i++) {
		s.children[i].kind = &supervisor_kinds[i];
		s.children[i].pid = -1;
		s.children[i].id_known = true;
		s.children[i].id.uid = (uid_t)(900 + i);
		s.children[i].id.gid = CHILD_GID;
	}
	s.children[0].pid = 4242;
	/* The third kind's user does not exist: not listed. */
	s.children[2].id_known = false;
	supervisor_service_ids(&s, &ids);
	assert_int_equal(ids.separate_users, 1);
	assert_int_equal(ids.admin_gid, ADMIN_GID);
	assert_int_equal(ids.nservices, 2);
	assert_int_equal(ids.services[0].role, supervisor_kinds[0].role);
	assert_int_equal(ids.services[0].uid, 900);
	assert_int_equal(ids.services[0].gid, CHILD_GID);
	assert_int_equal(ids.services[0].pid, 4242);
	assert_int_equal(ids.services[1].role, supervisor_kinds[1].role);
	assert_int_equal(ids.services[1].uid, 901);
	assert_int_equal(ids.services[1].pid, 0);
	assert_int_equal(admin_access_check_ids(&ids), 0);
	s.root = false;
	supervisor_service_ids(&s, &ids);
	assert_int_equal(ids.separate_users, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_separate_users),
		cmocka_unit_test(test_shared_uid),
		cmocka_unit_test(test_ids_checked),
		cmocka_unit_test(test_peer_groups),
		cmocka_unit_test(test_supervisor_service_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
