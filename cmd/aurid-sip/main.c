/*
 * aurid-sip: the unprivileged SIP front-end.  Started by the supervisor
 * with its channel on fd 3; binds aurid.sip.listen itself (libre), receives
 * NOTIFY Event: ACTION-URI and asks aurid-exec, which decides.
 */
#include "../../services/common/child.h"
#include "../../services/common/log.h"
#include "../../services/common/sandbox.h"
#include "../../services/sip/front.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

/*
 * libre's loop watches at most this many descriptors; it also bounds the
 * TCP connections libre accepts (each is one descriptor), so the soft
 * RLIMIT_NOFILE is set to the same number.
 */
#define SIP_FDS_MAX 1024

static void usage(void)
{
	fprintf(stderr, "usage: aurid-sip\n"
			"aurid-sip is started by aurid; it is not meant to be run by hand.\n");
}

/* SIGTERM and SIGINT arrive as reads on a signalfd inside re_main: libre's
 * own handler would run our shutdown in signal context. */
static void on_signal(int flags, void *arg)
{
	struct signalfd_siginfo si;
	int fd = *(int *)arg;

	(void)flags;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		log_info("SIG%s", sigabbrev_np((int)si.ssi_signo));
	re_cancel();
}

static int limit_fds(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	rl.rlim_cur = rl.rlim_max < SIP_FDS_MAX ? rl.rlim_max : SIP_FDS_MAX;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	return sip_err(fd_setsize(SIP_FDS_MAX));
}

int main(int argc, char **argv)
{
	struct ipc_sandbox_level lv;
	static struct child_start start;
	static struct sip_front fe;
	struct ipc_chan sup;
	sigset_t set;
	char err[320];
	int sigfd = -1, status = 1, r;

	(void)argv;
	log_init("aurid-sip");
	if (argc != 1) {
		usage();
		return 2;
	}
	if (sip_check_no_boringssl(err, sizeof(err)) != 0) {
		log_err("%s: refusing to run", err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		log_err("cannot set up signals: %s", strerror(errno));
		return 1;
	}
	if (child_start(IPC_ROLE_SIP, &sup, &start, 10000) != 0)
		return 1;
	log_set_level(start.cfg.log_level);
	r = sip_err(libre_init());
	if (r) {
		log_err("libre_init: %s", strerror(-r));
		return 1;
	}
	sip_relog_init();
	r = limit_fds();
	if (r == 0)
		r = sip_err(fd_listen(sigfd, FD_READ, on_signal, &sigfd));
	if (r) {
		log_err("cannot set up the loop: %s", strerror(-r));
		goto out;
	}
	if (sip_front_start(&fe, &start.cfg) != 0 || sip_exec_attach_supervisor(&fe, &sup) != 0)
		goto out;
	for (size_t i = 0; i < start.npeers; i++) {
		if (start.peer_role[i] == IPC_ROLE_EXEC)
			sip_exec_attach(&fe, start.peer_fd[i]);
		else
			close(start.peer_fd[i]);
	}
	start.npeers = 0;
	/* Listening and connected: the resolver's /etc files, and sockets for
	 * TCP to the registrar and DNS, are all it may still open. */
	if (sandbox_child(SANDBOX_SIP, NULL, lv.level, sizeof(lv.level)) != 0)
		goto out;
	/* The supervisor logs the level reached. */
	sip_ipc_send(&fe.sup, IPC_SANDBOX_LEVEL, 0, &lv);
	r = sip_err(re_main(NULL));
	if (r)
		log_err("re_main: %s", strerror(-r));
	/* The signal stops the loop; an orderly stop answers what is in flight
	 * and un-registers, then the loop runs until libre is done with it. */
	if (!fe.stopping) {
		sip_front_stop(&fe);
		re_main(NULL);
	}
	status = 0;
out:
	for (size_t i = 0; i < start.npeers; i++)
		close(start.peer_fd[i]);
	ipc_chan_close(&sup);
	sip_front_free(&fe);
	fd_close(sigfd);
	close(sigfd);
	libre_close();
	sip_relog_close();
	log_info("stopped");
	return status;
}
