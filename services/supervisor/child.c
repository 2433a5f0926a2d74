/*
 * The children: one table row per kind, and the life of each child.
 *
 * Start protocol, supervisor side (the child runs ipc_chan_handshake on
 * fd 3, then reads until START):
 *   spawn            -> HELLO{IPC_VERSION, SUPERVISOR}       (at once)
 *   child's HELLO    <- checked: version, and the role of this kind
 *                    -> CONFIG_SET for every key of its slice
 *                    -> PEER_CHANNEL for each running peer (fd: a new pair)
 *                    -> SERVICE_IDS (to the executor only)
 *                    -> START
 * A peer that starts later sends its own PEER_CHANNEL to the running one,
 * so each (re)start of either side makes exactly one new pair.  Each start
 * or exit of another child sends the running executor SERVICE_IDS again.
 * After START a child may send only what supervisor_child_io lists.
 */
#include "supervisor.h"

#include "services/common/log.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static bool kind_always(const struct supervisor *s)
{
	(void)s;
	return true;
}

/*
 * aurid-sip runs when aurid.sip.listen lists anything (and its binary is
 * installed).  It gets no sockets from here: libre 1.1.0 cannot adopt a
 * bound socket, so aurid-sip binds its own, unprivileged; supervisor_check
 * refuses ports below 1024 for that reason.
 */
static bool sip_wanted(const struct supervisor *s)
{
	struct config_sip_listen l[CONFIG_SIP_LISTEN_MAX];
	size_t n = 0;

	return config_sip_listen_parse(s->cfg.sip_listen, l, CONFIG_SIP_LISTEN_MAX, &n, NULL, 0) == 0 && n > 0;
}

/* Preconditions: root, or access to the devices.  Linux HAL: each run of
 * the executor gets device files of its own (see supervisor_devices_close). */
static int exec_acquire(struct supervisor *s)
{
	return supervisor_devices_open(s);
}

/* The devices exist in the linux HAL only, and then all three. */
static int exec_fds(const struct supervisor *s, struct supervisor_fd *out, size_t max, size_t *n)
{
	*n = 0;
	if (max < 4)
		return -E2BIG;
	out[(*n)++] = (struct supervisor_fd){ "--admin-fd", s->admin_fd };
	if (s->uinput_fd >= 0)
		out[(*n)++] = (struct supervisor_fd){ "--uinput-fd", s->uinput_fd };
	if (s->fb_fd >= 0)
		out[(*n)++] = (struct supervisor_fd){ "--fb-fd", s->fb_fd };
	if (s->keypad_fd >= 0)
		out[(*n)++] = (struct supervisor_fd){ "--keypad-fd", s->keypad_fd };
	return 0;
}

static int http_fds(const struct supervisor *s, struct supervisor_fd *out, size_t max, size_t *n)
{
	*n = 0;
	if (s->nlisten + s->ntls_listen > max)
		return -E2BIG;
	for (size_t i = 0; i < s->nlisten; i++)
		out[(*n)++] = (struct supervisor_fd){ "--listen-fd", s->listen_fds[i] };
	for (size_t i = 0; i < s->ntls_listen; i++)
		out[(*n)++] = (struct supervisor_fd){ "--tls-listen-fd", s->tls_listen_fds[i] };
	return 0;
}

static int no_fds(const struct supervisor *s, struct supervisor_fd *out, size_t max, size_t *n)
{
	(void)s;
	(void)out;
	(void)max;
	*n = 0;
	return 0;
}

/* Adding a child is one row (and its fds); the channel graph follows from peer. */
const struct supervisor_kind supervisor_kinds[] = {
	{ "exec", "aurid-exec", IPC_ROLE_EXEC, IPC_ROLE_NONE,
	  offsetof(struct aurid_config, user_exec), "aurid.user.exec", false, kind_always,
	  exec_acquire, exec_fds, supervisor_devices_close },
	{ "http", "aurid-http", IPC_ROLE_HTTP, IPC_ROLE_EXEC,
	  offsetof(struct aurid_config, user_http), "aurid.user.http", false, kind_always,
	  NULL, http_fds, NULL },
	{ "sip", "aurid-sip", IPC_ROLE_SIP, IPC_ROLE_EXEC,
	  offsetof(struct aurid_config, user_sip), "aurid.user.sip", true, sip_wanted,
	  NULL, no_fds, NULL },
};
const size_t supervisor_nkinds = sizeof(supervisor_kinds) / sizeof(supervisor_kinds[0]);

_Static_assert(sizeof(supervisor_kinds) / sizeof(supervisor_kinds[0]) <= SUPERVISOR_KINDS_MAX,
	       "raise SUPERVISOR_KINDS_MAX");

unsigned supervisor_backoff(unsigned prev_ms, int64_t ran_ms)
{
	if (prev_ms == 0 || ran_ms >= SUPERVISOR_STABLE_MS)
		return SUPERVISOR_BACKOFF_MIN_MS;
	if (prev_ms >= SUPERVISOR_BACKOFF_MAX_MS / 2)
		return SUPERVISOR_BACKOFF_MAX_MS;
	return prev_ms * 2;
}

/*
 * A kind that does not run still has a user, and the admin socket refuses
 * it all the same: looked up, as root, if it exists.
 */
static void id_lookup_quiet(const struct supervisor *s, struct supervisor_child *c, const char *user)
{
	if (s->root && privdrop_lookup(user, SUPERVISOR_GROUP, &c->id) == 0 && c->id.uid != 0)
		c->id_known = true;
}

int supervisor_children_init(struct supervisor *s)
{
	char err[512];
	int r;

	for (size_t i = 0; i < supervisor_nkinds; i++) {
		const struct supervisor_kind *k = &supervisor_kinds[i];
		struct supervisor_child *c = &s->children[i];
		const char *user = (const char *)&s->cfg + k->user_offset;

		memset(c, 0, sizeof(*c));
		c->kind = k;
		c->pid = -1;
		c->chan.fd = -1;
		c->state = CHILD_OFF;
		if (!k->wanted(s)) {
			id_lookup_quiet(s, c, user);
			continue;
		}
		r = supervisor_find_binary(k->binary, c->path, sizeof(c->path), err, sizeof(err));
		if (r && k->optional) {
			log_info("%s: not started: %s", k->name, err);
			id_lookup_quiet(s, c, user);
			continue;
		}
		if (r) {
			log_err("%s", err);
			return r;
		}
		if (s->root) {
			r = privdrop_lookup(user, SUPERVISOR_GROUP, &c->id);
			if (r == -ENOENT) {
				log_err("user '%s' (%s) or group '%s' does not exist: run `make users` "
					"(packaging/dev/create-users) or create them", user, k->user_key,
					SUPERVISOR_GROUP);
				return r;
			}
			if (r) {
				log_err("cannot look up user '%s' (%s): %s", user, k->user_key, strerror(-r));
				return r;
			}
			if (c->id.uid == 0 || c->id.gid == 0) {
				log_err("%s = %s is root: a child never runs as root", k->user_key, user);
				return -EPERM;
			}
		} else {
			struct passwd *pw = getpwuid(geteuid());

			c->id.uid = geteuid();
			c->id.gid = getegid();
			snprintf(c->id.user, sizeof(c->id.user), "%s", pw ? pw->pw_name : "(current user)");
		}
		c->id_known = true;
		c->state = CHILD_WAIT;
		c->deadline_ms = 0;  /* start at once */
	}
	return 0;
}

void supervisor_service_ids(const struct supervisor *s, struct ipc_service_ids *out)
{
	memset(out, 0, sizeof(*out));
	out->separate_users = s->root ? 1 : 0;
	out->admin_gid = s->admin_gid;
	for (size_t i = 0; i < supervisor_nkinds; i++) {
		const struct supervisor_child *c = &s->children[i];
		struct ipc_service_id *d;

		if (!c->id_known)
			continue;
		d = &out->services[out->nservices++];
		d->role = (uint8_t)c->kind->role;
		d->uid = c->id.uid;
		d->gid = c->id.gid;
		d->pid = c->pid > 0 ? (uint32_t)c->pid : 0;
	}
}

_Static_assert(SUPERVISOR_KINDS_MAX <= IPC_SERVICES_MAX, "raise IPC_SERVICES_MAX");

/*
 * A child started or was reaped: a running executor gets the new pids at
 * once.  So it knows a front-end's pid before that front-end has its START
 * (and long before it reads any network input), and forgets it when it is
 * reaped, after which anyone, aurictl included, may get that pid.
 */
static void services_announce(struct supervisor *s)
{
	struct ipc_service_ids ids;

	for (size_t i = 0; i < supervisor_nkinds; i++) {
		struct supervisor_child *c = &s->children[i];

		if (c->kind->role != IPC_ROLE_EXEC || c->state != CHILD_RUNNING)
			continue;
		supervisor_service_ids(s, &ids);
		if (ipc_chan_send(&c->chan, IPC_SERVICE_IDS, 0, &ids, -1) != 0)
			supervisor_child_fail(c, "cannot send it the service ids");
	}
}

static void child_start(struct supervisor *s, struct supervisor_child *c, int64_t now)
{
	const struct supervisor_kind *k = c->kind;
	struct supervisor_fd extra[SUPERVISOR_FDS_MAX];
	int fds[1 + SUPERVISOR_FDS_MAX];
	struct supervisor_argv argv;
	struct ipc_hello hello = { .version = IPC_VERSION, .role = IPC_ROLE_SUPERVISOR };
	size_t n;
	int sv[2];
	int r;

	/* Whatever fails below is a failed run: retry after the back-off. */
	c->started_ms = now;
	c->state = CHILD_WAIT;
	if (k->acquire && (r = k->acquire(s)) != 0) {
		log_err("%s: not started: %s", k->name, strerror(-r));
		goto retry;
	}
	r = k->fds(s, extra, SUPERVISOR_FDS_MAX, &n);
	if (r == 0)
		r = supervisor_argv_build(&argv, c->path, extra, n);
	if (r) {
		log_err("%s: cannot build its arguments: %s", k->name, strerror(-r));
		goto retry;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("%s: socketpair: %s", k->name, strerror(errno));
		goto retry;
	}
	fds[0] = sv[1];
	for (size_t i = 0; i < n; i++)
		fds[1 + i] = extra[i].fd;
	r = supervisor_spawn(c->path, argv.argv, fds, 1 + n, s->root ? &c->id : NULL, &c->pid);
	close(sv[1]);
	if (r) {
		close(sv[0]);
		log_err("%s: fork: %s", k->name, strerror(-r));
		goto retry;
	}
	if (k->release)
		k->release(s);
	log_info("%s: started %s (pid %d) as %s (uid %u, gid %u)", k->name, c->path, (int)c->pid,
		 c->id.user, (unsigned)c->id.uid, (unsigned)c->id.gid);
	if (k->role != IPC_ROLE_EXEC)
		services_announce(s);
	c->state = CHILD_HELLO;
	c->sandbox_reported = false;
	c->deadline_ms = now + SUPERVISOR_HELLO_MS;
	r = ipc_chan_init(&c->chan, sv[0], IPC_ROLE_SUPERVISOR, k->role);
	if (r == 0)
		r = ipc_chan_send(&c->chan, IPC_HELLO, 0, &hello, -1);
	if (r) {
		if (c->chan.fd < 0)
			close(sv[0]);
		supervisor_child_fail(c, "cannot send HELLO");
	}
	return;
retry:
	if (k->release)
		k->release(s);
	c->backoff_ms = supervisor_backoff(c->backoff_ms, 0);
	c->deadline_ms = now + c->backoff_ms;
}

void supervisor_child_fail(struct supervisor_child *c, const char *why)
{
	log_err("%s (pid %d): %s; killing it", c->kind->name, (int)c->pid, why);
	ipc_chan_close(&c->chan);
	/* pid is not reaped yet, so it cannot have been reused. */
	if (c->pid > 0)
		kill(c->pid, SIGKILL);
	c->state = CHILD_STOPPING;
}

static int send_config_key(void *arg, const char *key, const char *value)
{
	struct supervisor_child *c = arg;
	struct ipc_config_set m;

	if (strlen(key) >= sizeof(m.key) || strlen(value) >= sizeof(m.value))
		return -EMSGSIZE;
	snprintf(m.key, sizeof(m.key), "%s", key);
	snprintf(m.value, sizeof(m.value), "%s", value);
	return ipc_chan_send(&c->chan, IPC_CONFIG_SET, 0, &m, -1);
}

/*
 * A new channel between c (starting) and o (running): o gets its end now,
 * c gets the other before its START.  Our copies are closed either way.
 */
static int link_peers(struct supervisor_child *c, struct supervisor_child *o)
{
	struct ipc_peer_channel to_o = { .role = (uint8_t)c->kind->role };
	struct ipc_peer_channel to_c = { .role = (uint8_t)o->kind->role };
	int sv[2];
	int r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	r = ipc_chan_send(&o->chan, IPC_PEER_CHANNEL, 0, &to_o, sv[0]);
	if (r) {
		/* The running side cannot take it: it is the one to restart. */
		supervisor_child_fail(o, "cannot send it a peer channel");
		r = 0;
	} else {
		log_info("%s: new channel to %s", o->kind->name, c->kind->name);
		r = ipc_chan_send(&c->chan, IPC_PEER_CHANNEL, 0, &to_c, sv[1]);
	}
	close(sv[0]);
	close(sv[1]);
	return r;
}

static bool linked(const struct supervisor_kind *a, const struct supervisor_kind *b)
{
	return a->peer == b->role || b->peer == a->role;
}

/* The child said HELLO: send its config, its peer channels, START. */
static void child_hello(struct supervisor *s, struct supervisor_child *c, const struct ipc_hello *h)
{
	int r;

	if (h->version != IPC_VERSION || h->role != c->kind->role) {
		char why[96];

		snprintf(why, sizeof(why), "HELLO with version %u role %u, expected %u and %u",
			 (unsigned)h->version, (unsigned)h->role, IPC_VERSION, (unsigned)c->kind->role);
		supervisor_child_fail(c, why);
		return;
	}
	r = config_foreach(&s->cfg, (int)c->kind->role, send_config_key, c);
	if (r) {
		supervisor_child_fail(c, "cannot send its config");
		return;
	}
	for (size_t i = 0; i < supervisor_nkinds; i++) {
		struct supervisor_child *o = &s->children[i];

		if (o == c || o->state != CHILD_RUNNING || !linked(c->kind, o->kind))
			continue;
		if (link_peers(c, o) < 0) {
			supervisor_child_fail(c, "cannot send its peer channels");
			return;
		}
	}
	if (c->kind->role == IPC_ROLE_EXEC) {
		struct ipc_service_ids ids;

		supervisor_service_ids(s, &ids);
		if (ipc_chan_send(&c->chan, IPC_SERVICE_IDS, 0, &ids, -1) != 0) {
			supervisor_child_fail(c, "cannot send it the service ids");
			return;
		}
	}
	r = ipc_chan_send(&c->chan, IPC_START, 0, &(struct ipc_start){ 0 }, -1);
	if (r) {
		supervisor_child_fail(c, "cannot send START");
		return;
	}
	c->state = CHILD_RUNNING;
	log_info("%s (pid %d): running", c->kind->name, (int)c->pid);
}

/*
 * The channel reached EOF.  Usually the child is exiting (its files close
 * just before it becomes a zombie), and its exit status will say why; one
 * still alive a moment later has closed its channel and is broken.
 */
static void child_closed(struct supervisor_child *c)
{
	ipc_chan_close(&c->chan);
	c->state = CHILD_CLOSED;
	c->deadline_ms = supervisor_now_ms() + SUPERVISOR_CLOSED_MS;
}

void supervisor_child_io(struct supervisor *s, struct supervisor_child *c, short revents)
{
	if (revents & POLLOUT) {
		int r = ipc_chan_flush(&c->chan);

		if (r && r != -EAGAIN) {
			supervisor_child_fail(c, r == -EPIPE ? "channel closed" : "cannot write its channel");
			return;
		}
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)) && !ipc_chan_pending(&c->chan))
		return;
	/* Bounded per wake-up, so one child cannot starve the loop; but what
	 * was read ahead must be handled now: poll() will not report it. */
	for (int i = 0; (i < 16 || ipc_chan_pending(&c->chan)) && c->chan.fd >= 0; i++) {
		unsigned type;
		uint32_t id;
		int fd, r;

		r = ipc_chan_recv(&c->chan, &type, &id, s->msg, &fd);
		if (r == -EAGAIN)
			return;
		if (fd >= 0)
			close(fd);
		if (r == -EPIPE) {
			child_closed(c);
			return;
		}
		if (r) {
			supervisor_child_fail(c, r == -EPROTO ? "protocol error: malformed message "
					      "or one it may not send" : "cannot read its channel");
			return;
		}
		/* The executor may ask for a system command (checked there). */
		if (type == IPC_SYSTEM_RUN && c->state == CHILD_RUNNING && c->kind->role == IPC_ROLE_EXEC) {
			supervisor_system_run(s, s->msg->system_run.op);
			continue;
		}
		/* A running child reports the sandbox it entered, once. */
		if (type == IPC_SANDBOX_LEVEL && c->state == CHILD_RUNNING && !c->sandbox_reported) {
			c->sandbox_reported = true;
			log_info("%s (pid %d): sandbox: %s", c->kind->name, (int)c->pid, s->msg->sandbox_level.level);
			continue;
		}
		/* HELLO is permitted once, before START; nothing else yet. */
		if (type != IPC_HELLO || c->state != CHILD_HELLO) {
			const struct ipc_msg_def *d = ipc_msg_def(type);
			char why[96];

			snprintf(why, sizeof(why), "protocol error: unexpected %s",
				 d ? d->name : "message");
			supervisor_child_fail(c, why);
			return;
		}
		child_hello(s, c, &s->msg->hello);
	}
}

void supervisor_children_tick(struct supervisor *s, int64_t now)
{
	for (size_t i = 0; i < supervisor_nkinds; i++) {
		struct supervisor_child *c = &s->children[i];

		if (c->state == CHILD_WAIT && now >= c->deadline_ms)
			child_start(s, c, now);
		else if (c->state == CHILD_HELLO && now >= c->deadline_ms)
			supervisor_child_fail(c, "no HELLO within 5 s");
		else if (c->state == CHILD_CLOSED && now >= c->deadline_ms)
			supervisor_child_fail(c, "closed its channel but did not exit");
	}
}

void supervisor_child_reaped(struct supervisor *s, pid_t pid, int status, int64_t now)
{
	struct supervisor_child *c = NULL;

	for (size_t i = 0; i < supervisor_nkinds; i++)
		if (s->children[i].pid == pid)
			c = &s->children[i];
	if (!c)
		return;
	if (WIFEXITED(status))
		log_info("%s (pid %d): exited with status %d", c->kind->name, (int)pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_info("%s (pid %d): killed by signal %d (%s)", c->kind->name, (int)pid,
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	ipc_chan_close(&c->chan);
	c->pid = -1;
	c->state = CHILD_WAIT;
	if (s->stopping)
		return;
	if (c->kind->role != IPC_ROLE_EXEC)
		services_announce(s);
	c->backoff_ms = supervisor_backoff(c->backoff_ms, now - c->started_ms);
	c->deadline_ms = now + c->backoff_ms;
	log_info("%s: restarting in %u ms", c->kind->name, c->backoff_ms);
}

