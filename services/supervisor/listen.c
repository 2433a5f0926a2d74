/*
 * The sockets the supervisor opens for its children: listening TCP sockets
 * (ports below 1024 need root, so they are bound here and passed down) and
 * the admin socket aurictl connects to, which aurid-exec accepts on.
 */
#include "supervisor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int addr_parse(const char *text, struct supervisor_addr *a)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned port;

	memset(a, 0, sizeof(*a));
	if (strlen(text) >= sizeof(a->text) ||
	    config_split_hostport(text, host, sizeof(host), &port) < 0)
		return -EINVAL;
	snprintf(a->text, sizeof(a->text), "%s", text);
	if (text[0] == '[') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->sa;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&a->sa;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -EINVAL;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		a->len = sizeof(*in);
	}
	return 0;
}

int supervisor_listen_parse(const char *key, const char *list, struct supervisor_addr *out,
			    size_t max, size_t *n, char *err, size_t errlen)
{
	char buf[1024];
	char *save = NULL;

	*n = 0;
	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "%s: list too long", key);
		return -EINVAL;
	}
	strcpy(buf, list);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *e;

		while (*t == ' ' || *t == '\t')
			t++;
		e = t + strlen(t);
		while (e > t && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*t == '\0')
			continue;
		if (*n == max) {
			snprintf(err, errlen, "%s: more than %zu addresses", key, max);
			return -E2BIG;
		}
		if (addr_parse(t, &out[*n]) < 0) {
			snprintf(err, errlen, "%s: '%s' is not an IPv4 address:port or [IPv6 address]:port",
				 key, t);
			return -EINVAL;
		}
		(*n)++;
	}
	return 0;
}

int supervisor_listen_open(const struct supervisor_addr *a, int *fd, char *err, size_t errlen)
{
	int family = a->sa.ss_family;
	int one = 1;
	int s, r;

	*fd = -1;
	s = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open a socket for %s: %s", a->text, strerror(-r));
		return r;
	}
	/*
	 * REUSEADDR: a restart must not wait out TIME_WAIT.  V6ONLY: "[::]:80"
	 * and "0.0.0.0:80" are two entries of the list, not a conflict.
	 */
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)) {
		r = -errno;
		snprintf(err, errlen, "cannot set options on %s: %s", a->text, strerror(-r));
		close(s);
		return r;
	}
	if (bind(s, (const struct sockaddr *)&a->sa, a->len) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot bind %s: %s", a->text, strerror(-r));
		close(s);
		return r;
	}
	if (listen(s, SOMAXCONN) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", a->text, strerror(-r));
		close(s);
		return r;
	}
	*fd = s;
	return 0;
}

int supervisor_admin_path(const char *run_dir, char *path, size_t pathlen, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int n = snprintf(path, pathlen, "%s/admin.sock", run_dir);

	/* A truncated path would bind a different file than the one aurictl looks for. */
	if (n < 0 || (size_t)n >= pathlen || (size_t)n >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "admin socket path %s/admin.sock is longer than %zu bytes",
			 run_dir, sizeof(sun.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	return 0;
}

int supervisor_admin_open(const char *run_dir, bool chown_it, uid_t uid, gid_t gid,
			  int *fd, char *path, size_t pathlen, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old_mask;
	int s, r;

	*fd = -1;
	r = supervisor_admin_path(run_dir, sun.sun_path, sizeof(sun.sun_path), err, errlen);
	if (r)
		return r;
	if (strlen(sun.sun_path) >= pathlen)
		return -ENAMETOOLONG;
	if (lstat(sun.sun_path, &st) == 0) {
		/* Only a stale socket of ours is removed, never some other file. */
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", sun.sun_path);
			return -EEXIST;
		}
		if (unlink(sun.sun_path) < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot remove stale %s: %s", sun.sun_path, strerror(-r));
			return r;
		}
	} else if (errno != ENOENT) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", sun.sun_path, strerror(-r));
		return r;
	}
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open the admin socket: %s", strerror(-r));
		return r;
	}
	/* Bind under a tight umask so the socket is never briefly wider than 0660. */
	old_mask = umask(0177);
	r = bind(s, (const struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
	umask(old_mask);
	if (r) {
		snprintf(err, errlen, "cannot bind %s: %s", sun.sun_path, strerror(-r));
		close(s);
		return r;
	}
	if (chmod(sun.sun_path, 0660) < 0 ||
	    (chown_it && lchown(sun.sun_path, uid, gid) < 0)) {
		r = -errno;
		snprintf(err, errlen, "cannot set the owner or mode of %s: %s", sun.sun_path, strerror(-r));
		goto fail;
	}
	/* Listen only now: nobody connects before owner and mode are right. */
	if (listen(s, SOMAXCONN) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", sun.sun_path, strerror(-r));
		goto fail;
	}
	snprintf(path, pathlen, "%s", sun.sun_path);
	*fd = s;
	return 0;
fail:
	unlink(sun.sun_path);
	close(s);
	return r;
}
