/*
 * The supervisor: aurid's small root process.  It reads the config, acquires
 * what needs privilege (listening sockets, the admin socket, device nodes),
 * makes every channel, fork+execs each child with its fds and its own user,
 * restarts children that die and stops them all on SIGTERM/SIGINT.  It never
 * parses network input; from a child it accepts nothing but HELLO.
 *
 * Files: supervisor.c (acquire, the poll loop, signals, stop), child.c (the
 * table of child kinds, the start protocol, peer channels, restarts),
 * spawn.c (binaries, argv, fork + fds + exec), privdrop.c (the uid drop),
 * listen.c (TCP and admin sockets), dirs.c (state and run directories),
 * devices.c (uinput, framebuffer and physical keypad nodes, the console VT).
 */
#ifndef AURID_SUPERVISOR_H
#define AURID_SUPERVISOR_H

#include "ipc/ipc.h"
#include "services/common/config.h"

#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define SUPERVISOR_GROUP        "aurid"   /* every child's group */
#define SUPERVISOR_ADMIN_GROUP  "aurid-admin"  /* owns admin.sock; no child is in it */
#define SUPERVISOR_LISTEN_MAX   16        /* sockets in one listen list */
#define SUPERVISOR_HELLO_MS     5000      /* a child must say HELLO within this */
#define SUPERVISOR_STOP_MS      5000      /* SIGTERM to SIGKILL on shutdown */
#define SUPERVISOR_CLOSED_MS    1000      /* channel EOF to SIGKILL if still alive */
#define SUPERVISOR_BACKOFF_MIN_MS 100
#define SUPERVISOR_BACKOFF_MAX_MS 5000
#define SUPERVISOR_STABLE_MS    10000     /* a run this long resets the back-off */
#define SUPERVISOR_FD_FIRST     3         /* the channel; extra fds follow */
#define SUPERVISOR_FDS_MAX      (2 + 2 * SUPERVISOR_LISTEN_MAX)  /* extra fds of one child: HTTP and HTTPS */
#define SUPERVISOR_INPUT_DIR    "/dev/input"  /* where a keypad is searched for by name */

/* ---- privilege drop (privdrop.c) ---- */

struct privdrop_id {
	char user[32];
	uid_t uid;
	gid_t gid;
};

/* Resolves user and group names; -ENOENT if either does not exist. */
int privdrop_lookup(const char *user, const char *group, struct privdrop_id *id);

/*
 * Preconditions: called in a forked child, before execve, by a process with
 * euid 0.  Sets the supplementary groups to {gid}, then gid, then uid, and
 * verifies the drop cannot be undone.  Any error: the caller must not exec.
 * err names the step that failed.
 */
int privdrop_apply(const struct privdrop_id *id, char *err, size_t errlen);

/* 0 if real, effective and saved ids are id's and root cannot be regained. */
int privdrop_verify(const struct privdrop_id *id);

/* ---- sockets (listen.c) ---- */

struct supervisor_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	char text[80];                  /* as written in the config, for messages */
};

/*
 * Parses a comma list of host:port (IPv4 or [IPv6] literals).  Empty list:
 * *n = 0.  On error err names the key and the bad entry.
 */
int supervisor_listen_parse(const char *key, const char *list, struct supervisor_addr *out,
			    size_t max, size_t *n, char *err, size_t errlen);

/* A listening TCP socket (SO_REUSEADDR, close-on-exec, non-blocking). */
int supervisor_listen_open(const struct supervisor_addr *a, int *fd, char *err, size_t errlen);

/* <run_dir>/admin.sock into path; -ENAMETOOLONG if it does not fit sun_path. */
int supervisor_admin_path(const char *run_dir, char *path, size_t pathlen, char *err, size_t errlen);

/*
 * Preconditions: run_dir exists; when chown_it, the process is root.
 * Binds <run_dir>/admin.sock (SOCK_SEQPACKET, mode 0660, uid:gid when
 * chown_it), replacing a stale socket but never another kind of file.
 * -ENAMETOOLONG if the path does not fit in sun_path.  *path gets the path.
 */
int supervisor_admin_open(const char *run_dir, bool chown_it, uid_t uid, gid_t gid,
			  int *fd, char *path, size_t pathlen, char *err, size_t errlen);

/* ---- directories (dirs.c) ---- */

/* Creates dir (and missing parents, 0755) with mode if missing. */
int supervisor_dir_make(const char *dir, mode_t mode, char *err, size_t errlen);

/*
 * Preconditions: root; dir is the state directory, its parent not writable
 * by uid.  Gives dir, the files directly in it and those in its sim/ to
 * uid:gid without following links inside it.
 */
int supervisor_dir_chown_state(const char *dir, uid_t uid, gid_t gid, char *err, size_t errlen);

/* ---- devices (devices.c) ---- */

struct supervisor;

/*
 * Preconditions: root, or read access to dir's nodes.  Finds the evdev
 * device whose name (EVIOCGNAME) is name among dir/eventN, lowest N first,
 * and opens it O_RDONLY|O_NONBLOCK|O_CLOEXEC.  Only character devices are
 * opened; symlinks are not followed.  -ENOENT if none has that name: err
 * then names dir and lists the devices seen.  path gets the node.
 */
int supervisor_evdev_find(const char *dir, const char *name, int *fd, char *path, size_t pathlen,
			  char *err, size_t errlen);

/*
 * Preconditions: root, or read access to the node.  spec is
 * aurid.hal.keypad_device: a path (starting with '/', symlinks such as
 * /dev/input/by-id/... followed) or a device name searched for in dir.
 * Opens it O_RDONLY|O_NONBLOCK|O_CLOEXEC and checks that it is an evdev
 * device.  On error err names the key and what was tried.
 */
int supervisor_keypad_open(const char *spec, const char *dir, int *fd, char *err, size_t errlen);

/*
 * Preconditions: root, or access to the device nodes.  Linux HAL: opens
 * whichever of aurid.hal.uinput_device, aurid.hal.fb_device and the
 * keypad is not open yet; the sim HAL opens nothing.  A failure is logged
 * and names the key; what was opened stays open.
 */
int supervisor_devices_open(struct supervisor *s);

/*
 * Closes the device fds once the executor has its own copies.  A device
 * file then lives exactly as long as the executor using it: a uinput
 * device it created, or a keypad grab it held, cannot outlive a crash
 * through the supervisor's copy and break the next run.
 */
void supervisor_devices_close(struct supervisor *s);

/*
 * Preconditions: root (KDSETMODE needs CAP_SYS_TTY_CONFIG), linux HAL.
 * Puts the virtual terminal aurid.hal.console names (default /dev/tty0,
 * the active one) into KD_GRAPHICS for as long as aurid runs: the kernel's
 * console (fbcon: its blinking cursor, messages) then stops drawing on the
 * framebuffer the executor draws the consent prompt on and captures.  A
 * phone without a VT, or an empty setting, is not an error: it is logged
 * and the VT left alone.  The VT's previous mode is remembered.
 */
void supervisor_console_acquire(struct supervisor *s);

/* Gives the VT back the mode it had (KD_TEXT: fbcon redraws its text), if
 * supervisor_console_acquire changed it, and closes it. */
void supervisor_console_release(struct supervisor *s);

/* ---- spawning (spawn.c) ---- */

/* One extra fd of a child and the flag that tells the child its number. */
struct supervisor_fd {
	const char *flag;               /* "--listen-fd" */
	int fd;                         /* in the supervisor */
};

struct supervisor_argv {
	char *argv[2 + 2 * SUPERVISOR_FDS_MAX];
	char num[SUPERVISOR_FDS_MAX][12];
	size_t argc;
};

/*
 * Finds a child binary next to the running aurid, then in AURID_LIBEXECDIR.
 * -ENOENT if neither is executable; err names both places.
 */
int supervisor_find_binary(const char *name, char *path, size_t pathlen, char *err, size_t errlen);

/*
 * argv for a child: path, then "FLAG N" for each extra fd, numbered from
 * SUPERVISOR_FD_FIRST + 1 in order (the channel is SUPERVISOR_FD_FIRST).
 * a points into itself: do not copy it.
 */
int supervisor_argv_build(struct supervisor_argv *a, const char *path,
			  const struct supervisor_fd *fds, size_t nfds);

/*
 * Preconditions: when drop is not NULL, the process is root and drop names
 * an unprivileged user.  fork + execve of path: fds[i] becomes fd
 * SUPERVISOR_FD_FIRST + i in the child and every other fd above stderr is
 * closed; the signal mask is cleared.  A failure in the child (fds, drop,
 * exec) is logged there and ends it with status 127.
 */
int supervisor_spawn(const char *path, char *const argv[], const int *fds, size_t nfds,
		     const struct privdrop_id *drop, pid_t *pid);

/* ---- children (child.c) ---- */

struct supervisor_kind {
	const char *name;               /* in logs */
	const char *binary;
	enum ipc_role role;
	enum ipc_role peer;             /* gets a channel to this role, or IPC_ROLE_NONE */
	size_t user_offset;             /* of the user name in struct aurid_config */
	const char *user_key;           /* that name's config key, for messages */
	bool optional;                  /* skipped, not fatal, if its binary is missing */
	bool (*wanted)(const struct supervisor *s);
	/* Before each start: acquires what fds passes, or NULL.  0 or -errno
	 * (logged; the start is retried after the back-off). */
	int (*acquire)(struct supervisor *s);
	/* The extra fds this kind gets at exec time; 0 or -errno. */
	int (*fds)(const struct supervisor *s, struct supervisor_fd *out, size_t max, size_t *n);
	/* After each start, whether it worked or not: drops what only the
	 * child needs, or NULL. */
	void (*release)(struct supervisor *s);
};

enum supervisor_child_state {
	CHILD_OFF,                      /* not wanted in this configuration */
	CHILD_WAIT,                     /* not running; (re)start at deadline */
	CHILD_HELLO,                    /* started, waiting for its HELLO */
	CHILD_RUNNING,                  /* got its config and START */
	CHILD_CLOSED,                   /* its channel closed: exiting, or killed at deadline */
	CHILD_STOPPING,                 /* killed; waiting to reap it */
};

struct supervisor_child {
	const struct supervisor_kind *kind;
	enum supervisor_child_state state;
	char path[PATH_MAX];
	struct privdrop_id id;
	pid_t pid;                      /* > 0 until reaped */
	struct ipc_chan chan;
	int64_t started_ms;
	int64_t deadline_ms;            /* WAIT: start then; HELLO, CLOSED: kill then */
	unsigned backoff_ms;            /* the last restart delay, 0 before any */
	bool sandbox_reported;           /* its IPC_SANDBOX_LEVEL was logged */
	bool id_known;                  /* id names its user, even if it is not wanted */
};

extern const struct supervisor_kind supervisor_kinds[];
extern const size_t supervisor_nkinds;
#define SUPERVISOR_KINDS_MAX 3

/* The restart delay after a run of ran_ms, given the previous delay. */
unsigned supervisor_backoff(unsigned prev_ms, int64_t ran_ms);

/* Prepares the table entries: which children run, their binary and user. */
int supervisor_children_init(struct supervisor *s);
/* Starts children whose time has come; kills those late with HELLO. */
void supervisor_children_tick(struct supervisor *s, int64_t now);
/* Reads and writes a child's channel as poll() reported. */
void supervisor_child_io(struct supervisor *s, struct supervisor_child *c, short revents);
/* Records the exit of pid (from waitpid) and schedules its restart. */
void supervisor_child_reaped(struct supervisor *s, pid_t pid, int status, int64_t now);
/* Kills a misbehaving child; it is restarted once reaped. */
void supervisor_child_fail(struct supervisor_child *c, const char *why);
/*
 * Who the services are, for the executor's admin socket check: the uid and
 * gid of every kind whose user is known (wanted or not: a service user is
 * refused even when its service is off), its pid while it runs, and the
 * admin group.  separate_users is s->root.
 */
void supervisor_service_ids(const struct supervisor *s, struct ipc_service_ids *out);

/* ---- system commands (system.c) ---- */

#define SUPERVISOR_SYSTEM_MAX 2          /* commands running at once */
#define SUPERVISOR_SYSTEM_MS  60000      /* then they are killed */

struct supervisor_system {
	pid_t pid;                      /* 0: free slot */
	int64_t deadline_ms;
	const char *what;               /* "reboot", "autop", "reset" */
};

struct supervisor;

/*
 * The executor asks for Reboot, AutoP or Reset (op).  Preconditions: the
 * request came on the executor's channel.  The supervisor checks the
 * capability switch of its own config again, and runs only the command its
 * own config names, as root, with /bin/sh -c, for at most
 * SUPERVISOR_SYSTEM_MS.  Refusals are logged.
 */
void supervisor_system_run(struct supervisor *s, unsigned op);
/* True if pid was a system command (then its end is logged). */
bool supervisor_system_reaped(struct supervisor *s, pid_t pid, int status);
/* Kills commands past their time. */
void supervisor_system_tick(struct supervisor *s, int64_t now);

/* ---- the supervisor (supervisor.c) ---- */

struct supervisor {
	struct aurid_config cfg;
	bool root;                      /* euid 0: acquire as root, drop in children */
	gid_t gid;                      /* group SUPERVISOR_GROUP when root */
	gid_t admin_gid;                /* group SUPERVISOR_ADMIN_GROUP when root */
	int sigfd;
	int admin_fd;
	char admin_path[108];
	/* Linux HAL only, else -1; open from their acquiring until the
	 * executor has its own copies (devices.c). */
	int uinput_fd;
	int fb_fd;
	int keypad_fd;
	/* Linux HAL: the VT held in KD_GRAPHICS (devices.c), else -1, and the
	 * mode to give it back. */
	int console_fd;
	int console_mode;
	int listen_fds[SUPERVISOR_LISTEN_MAX];
	size_t nlisten;
	int tls_listen_fds[SUPERVISOR_LISTEN_MAX];   /* aurid.https.listen */
	size_t ntls_listen;
	bool stopping;
	int64_t stop_deadline_ms;
	union ipc_payload *msg;         /* receive buffer (large) */
	struct supervisor_child children[SUPERVISOR_KINDS_MAX];
	struct supervisor_system system[SUPERVISOR_SYSTEM_MAX];
};

/* Checks what config_load cannot: listen lists as addresses, the log level. */
int supervisor_check(const struct aurid_config *cfg, char *err, size_t errlen);

/*
 * Preconditions: cfg passed supervisor_check; nothing else started yet.
 * Acquires everything the children need (users, binaries, directories,
 * sockets, devices) and blocks the signals the loop handles.  A failure is
 * logged and fatal for aurid.
 */
int supervisor_init(struct supervisor *s, const struct aurid_config *cfg);

/* Runs the children until SIGTERM/SIGINT has stopped them all. */
int supervisor_run(struct supervisor *s);

/* Closes what supervisor_init acquired and removes the admin socket. */
void supervisor_free(struct supervisor *s);

int64_t supervisor_now_ms(void);

#endif
