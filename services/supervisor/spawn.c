/*
 * Starting a child, after bgpd's start_child: fork, put the channel on fd 3
 * and the extra fds right after it, drop to the child's user, exec the
 * child's own binary with flags naming the fd numbers.  The child inherits
 * stderr (its log) and nothing else the supervisor holds.
 */
#include "supervisor.h"

#include "services/common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef AURID_LIBEXECDIR
#error "AURID_LIBEXECDIR must be defined by the build"
#endif

extern char **environ;

static bool is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int supervisor_find_binary(const char *name, char *path, size_t pathlen, char *err, size_t errlen)
{
	char self[PATH_MAX], here[PATH_MAX] = "";
	ssize_t n;
	int r;

	/* Next to aurid first, so a build tree runs its own children. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			r = snprintf(here, sizeof(here), "%s/%s", self, name);
			if (r > 0 && (size_t)r < sizeof(here) && is_executable(here) &&
			    (size_t)r < pathlen) {
				strcpy(path, here);
				return 0;
			}
		}
	}
	r = snprintf(path, pathlen, "%s/%s", AURID_LIBEXECDIR, name);
	if (r > 0 && (size_t)r < pathlen && is_executable(path))
		return 0;
	snprintf(err, errlen, "cannot find %s: not in %s nor in %s", name,
		 here[0] ? self : "(the directory of aurid)", AURID_LIBEXECDIR);
	path[0] = '\0';
	return -ENOENT;
}

int supervisor_argv_build(struct supervisor_argv *a, const char *path,
			  const struct supervisor_fd *fds, size_t nfds)
{
	memset(a, 0, sizeof(*a));
	if (nfds > SUPERVISOR_FDS_MAX)
		return -E2BIG;
	a->argv[a->argc++] = (char *)path;
	for (size_t i = 0; i < nfds; i++) {
		snprintf(a->num[i], sizeof(a->num[i]), "%d", SUPERVISOR_FD_FIRST + 1 + (int)i);
		a->argv[a->argc++] = (char *)fds[i].flag;
		a->argv[a->argc++] = a->num[i];
	}
	a->argv[a->argc] = NULL;
	return 0;
}

static _Noreturn void child_die(const char *path, const char *what, int e)
{
	log_err("%s: %s: %s; not starting it", path, what, strerror(e));
	_exit(127);
}

static void close_from(int first)
{
	if (close_range((unsigned)first, ~0u, 0) == 0)
		return;
	/* Kernels before 5.9: close one by one. */
	for (long fd = first, max = sysconf(_SC_OPEN_MAX); fd < max; fd++)
		close((int)fd);
}

/* In the forked child: never returns. */
static _Noreturn void child_exec(const char *path, char *const argv[], const int *fds, size_t nfds,
				 const struct privdrop_id *drop)
{
	int tmp[1 + SUPERVISOR_FDS_MAX];
	int above = SUPERVISOR_FD_FIRST + (int)nfds;
	sigset_t none;
	char err[256];

	/* Blocked and ignored signals survive exec: the supervisor's own, and
	 * any its parent left ignored.  Every signal a child may be sent starts
	 * at its default.  (glibc's reserved real-time signals cannot be set
	 * and are skipped: signal() refuses them.) */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 || signal(SIGPIPE, SIG_DFL) == SIG_ERR)
		child_die(path, "signals", errno);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	/*
	 * First copy every fd above the target range, then dup2 into place:
	 * a source may sit on another's target, and dup2 onto itself would
	 * leave close-on-exec set.  The copies are close-on-exec and go below.
	 */
	for (size_t i = 0; i < nfds; i++) {
		tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, above);
		if (tmp[i] < 0)
			child_die(path, "fcntl(F_DUPFD)", errno);
	}
	for (size_t i = 0; i < nfds; i++)
		if (dup2(tmp[i], SUPERVISOR_FD_FIRST + (int)i) < 0)
			child_die(path, "dup2", errno);
	close_from(above);
	if (drop) {
		if (privdrop_apply(drop, err, sizeof(err)) < 0) {
			log_err("%s: cannot drop privileges: %s; not starting it", path, err);
			_exit(127);
		}
	}
	execve(path, argv, environ);
	child_die(path, "execve", errno);
}

int supervisor_spawn(const char *path, char *const argv[], const int *fds, size_t nfds,
		     const struct privdrop_id *drop, pid_t *pid)
{
	pid_t p;

	*pid = -1;
	if (nfds > 1 + SUPERVISOR_FDS_MAX)
		return -E2BIG;
	p = fork();
	if (p < 0)
		return -errno;
	if (p == 0)
		child_exec(path, argv, fds, nfds, drop);
	*pid = p;
	return 0;
}
