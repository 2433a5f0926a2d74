/*
 * aurid-exec: the executor.  Started by the supervisor (never by hand) with
 * the supervisor's channel on fd 3, already running as its own user.
 */
#include "../../services/common/boringssl_check.h"
#include "../../services/common/child.h"
#include "../../services/common/log.h"
#include "../../services/common/sandbox.h"
#include "../../services/exec/executor.h"

#include <jansson.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void)
{
	fprintf(stderr, "usage: aurid-exec [--admin-fd N] [--uinput-fd N] [--fb-fd N] [--keypad-fd N]\n"
			"aurid-exec is started by aurid; it is not meant to be run by hand.\n");
}

static int parse_args(int argc, char **argv, struct exec_args *a)
{
	a->admin_fd = -1;
	a->uinput_fd = -1;
	a->fb_fd = -1;
	a->keypad_fd = -1;
	for (int i = 1; i < argc; i++) {
		int *slot = NULL;

		if (strcmp(argv[i], "--admin-fd") == 0)
			slot = &a->admin_fd;
		else if (strcmp(argv[i], "--uinput-fd") == 0)
			slot = &a->uinput_fd;
		else if (strcmp(argv[i], "--fb-fd") == 0)
			slot = &a->fb_fd;
		else if (strcmp(argv[i], "--keypad-fd") == 0)
			slot = &a->keypad_fd;
		if (!slot || i + 1 >= argc || child_arg_fd(argv[++i], slot) != 0)
			return -EINVAL;
	}
	return 0;
}

/* The TCP port of aurid.telephony = baresip:HOST:PORT, the one network
 * connection the executor makes; 0 without one. */
static unsigned telephony_port(const char *spec)
{
	char host[64];
	unsigned port;

	if (strncmp(spec, "baresip:", 8) != 0 || config_split_hostport(spec + 8, host, sizeof(host), &port) != 0)
		return 0;
	return port;
}

static void on_signal(uv_signal_t *s, int signum)
{
	(void)signum;
	uv_stop(s->loop);
}

int main(int argc, char **argv)
{
	struct ipc_sandbox_level lv;
	static struct child_start start;
	static struct executor ex;
	struct exec_args args;
	struct sandbox_paths paths;
	struct sandbox_devices devices;
	struct ipc_chan sup;
	uv_loop_t *loop = uv_default_loop();
	uv_signal_t sigterm;
	int r;

	log_init("aurid-exec");
	/* One worker thread is all the audit writer needs (and each idle
	 * thread costs memory). */
	setenv("UV_THREADPOOL_SIZE", "1", 1);
	if (parse_args(argc, argv, &args) != 0) {
		usage();
		return 2;
	}
	if (boringssl_check() != 0) {
		log_err("the crypto library loaded is not BoringSSL: refusing to run");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (child_start(IPC_ROLE_EXEC, &sup, &start, 10000) != 0)
		return 1;
	log_set_level(start.cfg.log_level);
	if (!start.have_services) {
		log_err("the supervisor did not say who the services are: the admin socket "
			"cannot refuse them, so aurid-exec does not run");
		return 1;
	}
	if (executor_init(&ex, loop, &start.cfg, &args) != 0)
		return 1;
	/* Before the loop runs, so before the first admin connection. */
	if (admin_services_set(&ex, &start.services) != 0)
		return 1;
	if (executor_attach_supervisor(&ex, &sup) != 0)
		return 1;
	for (size_t i = 0; i < start.npeers; i++)
		executor_attach_front(&ex, start.peer_role[i], start.peer_fd[i]);
	uv_signal_init(loop, &sigterm);
	uv_signal_start(&sigterm, on_signal, SIGTERM);
	/* jansson seeds its hash tables from /dev/urandom on first use. */
	json_object_seed(0);
	/* Everything is open: from here on, files beneath state_dir only,
	 * and device ioctls on the devices held only. */
	devices = (struct sandbox_devices){
		.evdev_fd = args.keypad_fd, .uinput_fd = args.uinput_fd, .fb_fd = args.fb_fd,
	};
	paths = (struct sandbox_paths){
		.rw = { start.cfg.state_dir },
		.ro = { start.cfg.keymap[0] ? start.cfg.keymap : NULL,
			start.cfg.https_cert[0] ? start.cfg.https_cert : NULL,
			start.cfg.https_key[0] ? start.cfg.https_key : NULL },
		.tcp_connect_port = telephony_port(start.cfg.telephony),
		.devices = &devices,
	};
	if (sandbox_child(SANDBOX_EXEC, &paths, lv.level, sizeof(lv.level)) != 0)
		return 1;
	/* The supervisor logs the level reached. */
	uvchan_send(&ex.sup, IPC_SANDBOX_LEVEL, 0, &lv, -1);
	r = uv_run(loop, UV_RUN_DEFAULT);
	log_info("stopping");
	executor_close(&ex);
	(void)r;
	return 0;
}
