/*
 * Dropping root in a forked child before it execs, after OpenSSH's
 * uidswap.c: groups first (they cannot be changed once uid is not 0), then
 * gid, then uid, all three ids each; then prove that root cannot be
 * regained.  Nothing here logs: the caller is a forked child and reports.
 */
#include "supervisor.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int privdrop_lookup(const char *user, const char *group, struct privdrop_id *id)
{
	struct passwd *pw;
	struct group *gr;

	memset(id, 0, sizeof(*id));
	if (strlen(user) >= sizeof(id->user))
		return -ENAMETOOLONG;
	errno = 0;
	pw = getpwnam(user);
	if (!pw)
		return errno ? -errno : -ENOENT;
	/* Copy before getgrnam: both may reuse static storage. */
	id->uid = pw->pw_uid;
	snprintf(id->user, sizeof(id->user), "%s", user);
	errno = 0;
	gr = getgrnam(group);
	if (!gr)
		return errno ? -errno : -ENOENT;
	id->gid = gr->gr_gid;
	return 0;
}

int privdrop_apply(const struct privdrop_id *id, char *err, size_t errlen)
{
	const char *step;

	/* A child must never run as root: refuse before touching anything. */
	if (id->uid == 0 || id->gid == 0) {
		snprintf(err, errlen, "user %s: uid %u gid %u is root", id->user,
			 (unsigned)id->uid, (unsigned)id->gid);
		return -EPERM;
	}
	step = "setgroups";
	if (setgroups(1, &id->gid) < 0)
		goto fail;
	step = "setresgid";
	if (setresgid(id->gid, id->gid, id->gid) < 0)
		goto fail;
	step = "setresuid";
	if (setresuid(id->uid, id->uid, id->uid) < 0)
		goto fail;
	if (privdrop_verify(id) < 0) {
		snprintf(err, errlen, "user %s: the drop to uid %u gid %u did not hold",
			 id->user, (unsigned)id->uid, (unsigned)id->gid);
		return -EPERM;
	}
	return 0;
fail:
	snprintf(err, errlen, "user %s: %s: %s", id->user, step, strerror(errno));
	return -errno;
}

int privdrop_verify(const struct privdrop_id *id)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[2];
	int n;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -errno;
	if (ru != id->uid || eu != id->uid || su != id->uid ||
	    rg != id->gid || eg != id->gid || sg != id->gid)
		return -EPERM;
	/* Exactly {gid} or no supplementary group: nothing inherited from root. */
	n = getgroups(2, groups);
	if (n < 0 || n > 1 || (n == 1 && groups[0] != id->gid))
		return -EPERM;
	/* The kernel must refuse the way back (it would not, with CAP_SETUID left). */
	if (id->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		return -EPERM;
	if (id->gid != 0 && (setgid(0) != -1 || setegid(0) != -1))
		return -EPERM;
	return 0;
}
