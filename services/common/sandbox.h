/*
 * The last step of "acquire, drop, verify, sandbox" (DESIGN.md section 1).
 * A child that has opened everything it needs and runs as its own user
 * enters a seccomp allow-list for its role (libseccomp: the architecture is
 * checked first, anything not listed kills the process) and, where the
 * kernel has it, a Landlock ruleset limiting the files it can still open.
 * Where the kernel lacks Landlock the child goes on with seccomp alone and
 * says so; a sandbox the kernel supports that cannot be applied is fatal.
 */
#ifndef AURID_SANDBOX_H
#define AURID_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

enum sandbox_profile {
	SANDBOX_EXEC = 0,
	SANDBOX_HTTP,
	SANDBOX_SIP,
	SANDBOX_NPROFILES
};

#define SANDBOX_PATHS_MAX 8

/* aurid-exec on a real phone: the device descriptors it holds, -1 for none. */
struct sandbox_devices {
	int evdev_fd;            /* the keypad (EVIOCGRAB, read-only EVIOCG*) */
	int uinput_fd;           /* injected keys (UI_DEV_DESTROY) */
	int fb_fd;               /* the framebuffer (FBIOGET_VSCREENINFO, FBIOGET_FSCREENINFO) */
};

/* What Landlock leaves reachable; unused slots are NULL.  A path that does
 * not exist is skipped (an optional file that is not configured). */
struct sandbox_paths {
	const char *rw[SANDBOX_PATHS_MAX];  /* directories: read-write beneath */
	const char *ro[SANDBOX_PATHS_MAX];  /* files or directories: read-only */
	/* aurid-exec: the TCP port of the telephony link (baresip's
	 * ctrl_tcp), 0 for none.  Allows TCP sockets, and with Landlock ABI
	 * 4 a connect to this port only.  seccomp cannot see connect()'s
	 * address, so the host is the executor's own config. */
	unsigned tcp_connect_port;
	/* aurid-exec: the devices whose ioctls stay allowed, each on its own
	 * descriptor; NULL for none (the sim HAL). */
	const struct sandbox_devices *devices;
};

/*
 * Installs profile p in every thread of the process (TSYNC), after
 * PR_SET_NO_NEW_PRIVS.  level gets a line for the log, e.g. "seccomp
 * allow-list + landlock ABI 6".  0, or -errno with the reason in level:
 * the caller must exit.
 */
int sandbox_enter(enum sandbox_profile p, const struct sandbox_paths *paths, char *level, size_t levellen);

/*
 * The last steps of a child's start, in order: verify the privilege drop
 * (sandbox_check_unprivileged), enter profile p, put the level reached in
 * level (the caller reports it to the supervisor, which logs it), then the
 * test hook.  0 or -errno, logged: the caller exits non-zero and the
 * supervisor restarts it.
 */
int sandbox_child(enum sandbox_profile p, const struct sandbox_paths *paths, char *level, size_t levellen);

/* "exec", "http", "sip". */
const char *sandbox_profile_name(enum sandbox_profile p);

/*
 * The "verify" step, in the child after exec: no uid or gid of the process
 * is root, no supplementary group is root's, and setuid(0) fails.  A root
 * supervisor drops every child before exec; a child still root means the
 * drop did not happen.  0, or -EPERM with the reason in err.
 */
int sandbox_check_unprivileged(char *err, size_t errlen);

/*
 * The highest Landlock ABI this kernel offers, 0 if none (not built in, or
 * disabled at boot).
 */
int sandbox_landlock_abi(void);

/*
 * Test builds only (AURID_TEST_HOOKS): when AURID_SANDBOX_TEST names
 * profile p ("exec", "http", "sip"), attempts a syscall p forbids, which
 * kills the process with SIGSYS.  Returns when it is not asked for (and
 * always in other builds).
 */
void sandbox_test_hook(enum sandbox_profile p);

#endif
