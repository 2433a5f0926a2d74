/*
 * aurid-http: the unprivileged HTTP front-end.  Started by the supervisor
 * with its channel on fd 3, the HTTP listening sockets as --listen-fd N and
 * the HTTPS ones as --tls-listen-fd N.  It never holds the HTTPS key: the
 * executor sends the certificate and signs each handshake.
 */
#include "../../services/common/boringssl_check.h"
#include "../../services/common/child.h"
#include "../../services/common/log.h"
#include "../../services/common/sandbox.h"
#include "../../services/http/frontend.h"
#include "../../services/http/server.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LISTEN_MAX 16

static void usage(void)
{
	fprintf(stderr, "usage: aurid-http [--listen-fd N ...] [--tls-listen-fd N ...]\n"
			"aurid-http is started by aurid; it is not meant to be run by hand.\n");
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
	static struct frontend fe;
	int fds[LISTEN_MAX], tls_fds[LISTEN_MAX];
	size_t nfds = 0, ntls = 0;
	struct http_tls_ops tls = { .sign = frontend_tls_sign, .arg = &fe };
	struct ipc_chan sup;
	struct http_server *srv;
	struct http_limits lim;
	uv_loop_t *loop = uv_default_loop();
	uv_signal_t sigterm;

	log_init("aurid-http");
	/* Screenshots are encoded on the worker pool: one thread per core. */
	setenv("UV_THREADPOOL_SIZE", "2", 1);
	for (int i = 1; i < argc; i++) {
		bool is_tls = strcmp(argv[i], "--tls-listen-fd") == 0;
		int *to = is_tls ? &tls_fds[ntls] : &fds[nfds];

		if ((!is_tls && strcmp(argv[i], "--listen-fd") != 0) || i + 1 >= argc ||
		    (is_tls ? ntls : nfds) >= LISTEN_MAX || child_arg_fd(argv[++i], to) != 0) {
			usage();
			return 2;
		}
		if (is_tls)
			ntls++;
		else
			nfds++;
	}
	if (boringssl_check() != 0) {
		log_err("the crypto library loaded is not BoringSSL: refusing to run");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (child_start(IPC_ROLE_HTTP, &sup, &start, 10000) != 0)
		return 1;
	log_set_level(start.cfg.log_level);
	frontend_init(&fe, loop, &start.cfg);
	if (frontend_attach_supervisor(&fe, &sup) != 0)
		return 1;
	for (size_t i = 0; i < start.npeers; i++)
		if (start.peer_role[i] == IPC_ROLE_EXEC)
			frontend_attach_exec(&fe, start.peer_fd[i]);
	lim = (struct http_limits){
		.max_connections = start.cfg.http_max_connections,
		.max_per_source = start.cfg.http_max_per_source,
		.header_timeout_ms = start.cfg.http_header_timeout_ms,
		.idle_timeout_ms = start.cfg.http_idle_timeout_ms,
	};
	if (http_server_start_tls(loop, fds, nfds, tls_fds, ntls, &lim, &tls, routes_handle, &fe, &srv) != 0) {
		log_err("cannot start the HTTP server");
		return 1;
	}
	fe.srv = srv;
	log_info("serving HTTP on %zu socket(s), HTTPS on %zu", nfds, ntls);
	uv_signal_init(loop, &sigterm);
	uv_signal_start(&sigterm, on_signal, SIGTERM);
	/* jansson seeds its hash tables from /dev/urandom on first use. */
	json_object_seed(0);
	/* Listening, and connected to the executor: no file, no new socket. */
	if (sandbox_child(SANDBOX_HTTP, NULL, lv.level, sizeof(lv.level)) != 0)
		return 1;
	/* The supervisor logs the level reached. */
	uvchan_send(&fe.sup, IPC_SANDBOX_LEVEL, 0, &lv, -1);
	uv_run(loop, UV_RUN_DEFAULT);
	log_info("stopping");
	http_server_stop(srv);
	return 0;
}
