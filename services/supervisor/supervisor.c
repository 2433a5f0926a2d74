/*
 * The supervisor's acquire step and its one event loop: poll() over a
 * signalfd and the children's channels, with the nearest restart, HELLO or
 * stop deadline as the timeout.  Like ntpd's parent it does little: start,
 * watch, restart, stop.
 */
#include "supervisor.h"

#include "services/common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t supervisor_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * aurid-sip binds its own sockets as its own user (libre 1.1.0 cannot adopt
 * a bound socket), so a port below 1024 could never be bound: say so now
 * rather than restart a child that keeps failing.
 */
static int sip_listen_check(const struct aurid_config *cfg, char *err, size_t errlen)
{
	struct config_sip_listen l[CONFIG_SIP_LISTEN_MAX];
	char msg[256];
	size_t n;

	if (config_sip_listen_parse(cfg->sip_listen, l, CONFIG_SIP_LISTEN_MAX, &n, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "aurid.sip.listen: %s", msg);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (l[i].port < 1024) {
			snprintf(err, errlen, "aurid.sip.listen: '%s': aurid-sip binds its own sockets "
				 "unprivileged, so the port must be 1024 or above (5060 is the SIP default)",
				 l[i].text);
			return -EINVAL;
		}
	}
	return 0;
}

int supervisor_check(const struct aurid_config *cfg, char *err, size_t errlen)
{
	static const char *const levels[] = { "err", "warn", "info", "debug" };
	struct supervisor_addr addrs[SUPERVISOR_LISTEN_MAX];
	char path[PATH_MAX], msg[512];
	size_t n;
	bool level_ok = false;
	int r;

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		level_ok |= strcmp(cfg->log_level, levels[i]) == 0;
	if (!level_ok) {
		snprintf(err, errlen, "aurid.log.level: expected err, warn, info or debug, got '%s'",
			 cfg->log_level);
		return -EINVAL;
	}
	if (supervisor_admin_path(cfg->run_dir, path, sizeof(path), msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "aurid.run_dir: %s", msg);
		return -ENAMETOOLONG;
	}
	r = supervisor_listen_parse("aurid.http.listen", cfg->http_listen, addrs,
				    SUPERVISOR_LISTEN_MAX, &n, err, errlen);
	if (r == 0)
		r = supervisor_listen_parse("aurid.https.listen", cfg->https_listen, addrs,
					    SUPERVISOR_LISTEN_MAX, &n, err, errlen);
	return r < 0 ? r : sip_listen_check(cfg, err, errlen);
}

/* fds 0-2 must be open, or a socket could land there and leak into a child. */
static int stdio_sanitize(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			return -EBADF;
	}
	return 0;
}

static int acquire_dirs(struct supervisor *s)
{
	const struct aurid_config *cfg = &s->cfg;
	const struct supervisor_child *exec = NULL;
	char err[512];
	int r;

	for (size_t i = 0; i < supervisor_nkinds; i++)
		if (s->children[i].kind->role == IPC_ROLE_EXEC)
			exec = &s->children[i];

	r = supervisor_dir_make(cfg->state_dir, 0700, err, sizeof(err));
	/* The executor owns the state: its database, keys and sim files. */
	if (r == 0 && s->root && exec && exec->state != CHILD_OFF)
		r = supervisor_dir_chown_state(cfg->state_dir, exec->id.uid, exec->id.gid,
					       err, sizeof(err));
	if (r == 0)
		r = supervisor_dir_make(cfg->run_dir, 0755, err, sizeof(err));
	if (r)
		log_err("%s", err);
	return r;
}

/*
 * Preconditions: root if any port is below 1024.  Binds every address of
 * aurid.http.listen and aurid.https.listen; aurid-http gets them as
 * --listen-fd and --tls-listen-fd (the HTTPS key stays with aurid-exec).
 * SIP sockets are aurid-sip's own (see sip_wanted in child.c).
 */
static int acquire_listen(struct supervisor *s)
{
	struct supervisor_addr addrs[SUPERVISOR_LISTEN_MAX];
	char err[512];
	size_t n;
	int r;

	r = supervisor_listen_parse("aurid.http.listen", s->cfg.http_listen, addrs,
				    SUPERVISOR_LISTEN_MAX, &n, err, sizeof(err));
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = supervisor_listen_open(&addrs[i], &s->listen_fds[i], err, sizeof(err));
		if (r == 0) {
			s->nlisten++;
			log_info("http: listening on %s", addrs[i].text);
		}
	}
	if (r) {
		log_err("aurid.http.listen: %s", err);
		return r;
	}
	r = supervisor_listen_parse("aurid.https.listen", s->cfg.https_listen, addrs,
				    SUPERVISOR_LISTEN_MAX, &n, err, sizeof(err));
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = supervisor_listen_open(&addrs[i], &s->tls_listen_fds[i], err, sizeof(err));
		if (r == 0) {
			s->ntls_listen++;
			log_info("https: listening on %s", addrs[i].text);
		}
	}
	if (r) {
		log_err("aurid.https.listen: %s", err);
		return r;
	}
	if (s->cfg.sip_listen[0])
		log_info("sip: aurid-sip binds %s itself", s->cfg.sip_listen);
	return 0;
}

/*
 * Preconditions: root when s->root; run_dir exists.  As root the socket is
 * root:aurid-admin, a group no child is in: the front-ends, which share
 * group aurid with the executor, cannot even connect.
 */
static int acquire_admin(struct supervisor *s)
{
	char err[512];
	int r;

	r = supervisor_admin_open(s->cfg.run_dir, s->root, 0, s->admin_gid, &s->admin_fd,
				  s->admin_path, sizeof(s->admin_path), err, sizeof(err));
	if (r) {
		log_err("%s", err);
		return r;
	}
	log_info("admin socket %s", s->admin_path);
	return 0;
}

/*
 * Preconditions: root, or access to the devices.  Linux HAL only: a device
 * missing now is fatal, so a wrong setting is reported at start and not as
 * an executor that keeps failing.  They are reopened for each later start.
 */
static int acquire_devices(struct supervisor *s)
{
	return supervisor_devices_open(s);
}

/* Signals arrive as reads on a signalfd, so the loop never runs a handler. */
static int acquire_signals(struct supervisor *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		goto fail;
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sigfd < 0)
		goto fail;
	/* A closed stderr pipe must not kill the supervisor; children get it back. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		goto fail;
	return 0;
fail:
	log_err("cannot set up signals: %s", strerror(errno));
	return -errno;
}

static int acquire_identity(struct supervisor *s)
{
	struct group *gr;

	s->root = geteuid() == 0;
	if (!s->root) {
		log_info("not running as root: children run as uid %u without a privilege drop",
			 (unsigned)geteuid());
		return 0;
	}
	errno = 0;
	gr = getgrnam(SUPERVISOR_GROUP);
	if (!gr) {
		log_err("group '%s' does not exist: run `make users` (packaging/dev/create-users) "
			"or create it", SUPERVISOR_GROUP);
		return errno ? -errno : -ENOENT;
	}
	s->gid = gr->gr_gid;
	errno = 0;
	gr = getgrnam(SUPERVISOR_ADMIN_GROUP);
	if (!gr) {
		log_err("group '%s' (who may use the admin socket) does not exist: run `make users` "
			"(packaging/dev/create-users) or create it", SUPERVISOR_ADMIN_GROUP);
		return errno ? -errno : -ENOENT;
	}
	s->admin_gid = gr->gr_gid;
	/* The children run in SUPERVISOR_GROUP: the same gid would let them in. */
	if (s->admin_gid == s->gid || s->admin_gid == 0) {
		log_err("group '%s' has gid %u, the same as group '%s': it must be a group of its own",
			SUPERVISOR_ADMIN_GROUP, (unsigned)s->admin_gid,
			s->admin_gid == 0 ? "root" : SUPERVISOR_GROUP);
		return -EINVAL;
	}
	return 0;
}

int supervisor_init(struct supervisor *s, const struct aurid_config *cfg)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->sigfd = s->admin_fd = s->uinput_fd = s->fb_fd = s->keypad_fd = s->console_fd = -1;
	for (size_t i = 0; i < SUPERVISOR_KINDS_MAX; i++) {
		s->children[i].pid = -1;
		s->children[i].chan.fd = -1;
	}
	s->cfg = *cfg;
	if (log_set_level(cfg->log_level) < 0)
		return -EINVAL;
	if ((r = stdio_sanitize()) < 0) {
		log_err("cannot open /dev/null on a closed standard fd");
		return r;
	}
	/* Files the children create are private unless they say otherwise. */
	umask(077);
	s->msg = malloc(sizeof(*s->msg));
	if (!s->msg)
		return -ENOMEM;
	if ((r = acquire_identity(s)) ||
	    (r = supervisor_children_init(s)) ||
	    (r = acquire_dirs(s)) ||
	    (r = acquire_listen(s)) ||
	    (r = acquire_admin(s)) ||
	    (r = acquire_devices(s)) ||
	    (r = acquire_signals(s)))
		return r;
	/* Last: a start that fails above leaves the console as it was. */
	supervisor_console_acquire(s);
	return 0;
}

static void stop_begin(struct supervisor *s, int sig)
{
	if (s->stopping) {
		log_info("SIG%s: already stopping", sigabbrev_np(sig));
		return;
	}
	log_info("SIG%s: stopping the children", sigabbrev_np(sig));
	s->stopping = true;
	s->stop_deadline_ms = supervisor_now_ms() + SUPERVISOR_STOP_MS;
	for (size_t i = 0; i < supervisor_nkinds; i++) {
		struct supervisor_child *c = &s->children[i];

		ipc_chan_close(&c->chan);
		if (c->pid > 0) {
			kill(c->pid, SIGTERM);
			c->state = CHILD_STOPPING;
		}
	}
}

static void reap(struct supervisor *s)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (!supervisor_system_reaped(s, pid, status))
			supervisor_child_reaped(s, pid, status, supervisor_now_ms());
}

static void signals_read(struct supervisor *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(s);
			break;
		case SIGTERM:
		case SIGINT:
			stop_begin(s, (int)si.ssi_signo);
			break;
		case SIGHUP:
			log_info("SIGHUP: reload not supported yet");
			break;
		}
	}
}

static bool children_gone(const struct supervisor *s)
{
	for (size_t i = 0; i < supervisor_nkinds; i++)
		if (s->children[i].pid > 0)
			return false;
	return true;
}

/* The stop deadline passed: SIGKILL cannot be ignored, so waiting is bounded. */
static void stop_force(struct supervisor *s)
{
	for (size_t i = 0; i < supervisor_nkinds; i++) {
		struct supervisor_child *c = &s->children[i];
		pid_t pid = c->pid;
		int status;

		if (pid <= 0)
			continue;
		log_warn("%s (pid %d): still running %d ms after SIGTERM; SIGKILL", c->kind->name,
			 (int)pid, SUPERVISOR_STOP_MS);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		supervisor_child_reaped(s, pid, status, supervisor_now_ms());
	}
}

static int poll_timeout(const struct supervisor *s, int64_t now)
{
	int64_t next = INT64_MAX;

	if (s->stopping) {
		next = s->stop_deadline_ms;
	} else {
		for (size_t i = 0; i < supervisor_nkinds; i++) {
			const struct supervisor_child *c = &s->children[i];

			if ((c->state == CHILD_WAIT || c->state == CHILD_HELLO || c->state == CHILD_CLOSED) &&
			    c->deadline_ms < next)
				next = c->deadline_ms;
		}
	}
	if (next == INT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return next - now > 60000 ? 60000 : (int)(next - now);
}

int supervisor_run(struct supervisor *s)
{
	struct pollfd pfd[1 + SUPERVISOR_KINDS_MAX];
	struct supervisor_child *owner[1 + SUPERVISOR_KINDS_MAX];

	for (;;) {
		int64_t now = supervisor_now_ms();
		nfds_t n = 0;

		if (!s->stopping) {
			supervisor_children_tick(s, now);
			supervisor_system_tick(s, now);
		} else if (children_gone(s)) {
			break;
		} else if (now >= s->stop_deadline_ms) {
			stop_force(s);
			break;
		}
		pfd[n++] = (struct pollfd){ .fd = s->sigfd, .events = POLLIN };
		for (size_t i = 0; i < supervisor_nkinds; i++) {
			struct supervisor_child *c = &s->children[i];

			if (c->chan.fd < 0)
				continue;
			owner[n] = c;
			pfd[n++] = (struct pollfd){
				.fd = c->chan.fd,
				.events = POLLIN | (ipc_chan_want_write(&c->chan) ? POLLOUT : 0),
			};
		}
		if (poll(pfd, n, poll_timeout(s, now)) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			return -errno;
		}
		if (pfd[0].revents)
			signals_read(s);
		for (nfds_t i = 1; i < n; i++) {
			/* A signal above may have closed this channel already. */
			if (pfd[i].revents && owner[i]->chan.fd == pfd[i].fd)
				supervisor_child_io(s, owner[i], pfd[i].revents);
		}
	}
	log_info("all children stopped");
	return 0;
}

void supervisor_free(struct supervisor *s)
{
	for (size_t i = 0; i < SUPERVISOR_KINDS_MAX; i++)
		if (s->children[i].kind)
			ipc_chan_close(&s->children[i].chan);
	for (size_t i = 0; i < s->nlisten; i++)
		close(s->listen_fds[i]);
	s->nlisten = 0;
	for (size_t i = 0; i < s->ntls_listen; i++)
		close(s->tls_listen_fds[i]);
	s->ntls_listen = 0;
	if (s->admin_fd >= 0) {
		close(s->admin_fd);
		unlink(s->admin_path);
	}
	supervisor_devices_close(s);
	supervisor_console_release(s);
	if (s->sigfd >= 0)
		close(s->sigfd);
	s->admin_fd = s->sigfd = -1;
	free(s->msg);
	s->msg = NULL;
}
