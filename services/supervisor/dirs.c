/*
 * The state directory (the executor's database, TLS material, sim files;
 * owned by the exec user, 0700) and the run directory (admin.sock; root,
 * 0755), made before any child starts.
 */
#include "supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_one(const char *dir, mode_t mode, char *err, size_t errlen)
{
	struct stat st;
	int r;

	if (mkdir(dir, mode) == 0) {
		/* mkdir is filtered by the umask; the mode is part of the contract. */
		if (chmod(dir, mode) < 0)
			goto fail;
		return 0;
	}
	if (errno != EEXIST)
		goto fail;
	if (stat(dir, &st) < 0)
		goto fail;
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a directory", dir);
		return -ENOTDIR;
	}
	return 0;
fail:
	r = -errno;
	snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-r));
	return r;
}

int supervisor_dir_make(const char *dir, mode_t mode, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);
	int r;

	if (len == 0 || len >= sizeof(buf)) {
		snprintf(err, errlen, "bad directory name '%s'", dir);
		return -EINVAL;
	}
	strcpy(buf, dir);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	/* Parents first, like mkdir -p; only the last component gets mode. */
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		r = mkdir_one(buf, 0755, err, errlen);
		*p = '/';
		if (r)
			return r;
	}
	return mkdir_one(buf, mode, err, errlen);
}

/*
 * Gives the entries of an open directory to uid:gid.  Symlinks are skipped
 * and nothing is followed: the directory is writable by the exec user, who
 * could otherwise point root's chown at any file.  A regular file with more
 * than one link is skipped too, as it may be a hard link to a file elsewhere.
 */
static int chown_entries(int dfd, const char *dir, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	int fd = dup(dfd);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "cannot read %s: %s", dir, strerror(-r));
		return r;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;  /* removed meanwhile */
		if (S_ISLNK(st.st_mode) || (S_ISREG(st.st_mode) && st.st_nlink > 1))
			continue;
		if (st.st_uid == uid && st.st_gid == gid)
			continue;
		if (fchownat(dfd, de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot chown %s/%s: %s", dir, de->d_name, strerror(-r));
			break;
		}
	}
	closedir(d);
	return r;
}

int supervisor_dir_chown_state(const char *dir, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	int dfd, sfd, r;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open %s: %s", dir, strerror(-r));
		return r;
	}
	if (fchown(dfd, uid, gid) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot chown %s: %s", dir, strerror(-r));
		close(dfd);
		return r;
	}
	r = chown_entries(dfd, dir, uid, gid, err, errlen);
	if (r == 0) {
		/* O_NOFOLLOW: a sim that is a symlink is not ours to walk into. */
		sfd = openat(dfd, "sim", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd >= 0) {
			char sim[PATH_MAX];

			snprintf(sim, sizeof(sim), "%s/sim", dir);
			r = chown_entries(sfd, sim, uid, gid, err, errlen);
			close(sfd);
		}
	}
	close(dfd);
	return r;
}
