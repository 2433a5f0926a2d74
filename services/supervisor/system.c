/*
 * Reboot, AutoP and Reset: the one thing the executor may ask of the root
 * supervisor.  The request names an operation, never a command: what runs is
 * the supervisor's own configured command for it, and only when its own copy
 * of the capability switch is on.
 */
#include "supervisor.h"

#include "services/common/log.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

void supervisor_system_run(struct supervisor *s, unsigned op)
{
	char *argv[] = { "sh", "-c", NULL, NULL };
	struct supervisor_system *slot = NULL;
	const char *what, *cmd;
	bool allowed;
	pid_t pid;
	int r;

	switch (op) {
	case OP_REBOOT:
		what = "reboot", cmd = s->cfg.reboot_cmd, allowed = s->cfg.allow[CAP_SYSTEM];
		break;
	case OP_AUTOP:
		what = "autop", cmd = s->cfg.autop_cmd, allowed = s->cfg.allow[CAP_SYSTEM];
		break;
	case OP_RESET:
		what = "reset", cmd = s->cfg.reset_cmd, allowed = s->cfg.allow[CAP_RESET];
		break;
	default:
		log_warn("system: the executor asked for unknown operation %u: refused", op);
		return;
	}
	if (!allowed || !cmd[0]) {
		log_warn("system: %s refused (%s)", what, !allowed ? "its capability is off" : "no command configured");
		return;
	}
	for (size_t i = 0; i < SUPERVISOR_SYSTEM_MAX; i++)
		if (s->system[i].pid == 0)
			slot = &s->system[i];
	if (!slot) {
		log_warn("system: %s refused: %d commands are still running", what, SUPERVISOR_SYSTEM_MAX);
		return;
	}
	argv[2] = (char *)cmd;
	r = supervisor_spawn("/bin/sh", argv, NULL, 0, NULL, &pid);
	if (r) {
		log_err("system: cannot run the %s command: %s", what, strerror(-r));
		return;
	}
	slot->pid = pid;
	slot->what = what;
	slot->deadline_ms = supervisor_now_ms() + SUPERVISOR_SYSTEM_MS;
	log_info("system: %s: running aurid.system.%s_cmd (pid %d)", what, what, (int)pid);
}

bool supervisor_system_reaped(struct supervisor *s, pid_t pid, int status)
{
	for (size_t i = 0; i < SUPERVISOR_SYSTEM_MAX; i++) {
		struct supervisor_system *c = &s->system[i];

		if (c->pid != pid)
			continue;
		if (WIFEXITED(status))
			log_info("system: %s command (pid %d) exited with status %d", c->what, (int)pid,
				 WEXITSTATUS(status));
		else
			log_warn("system: %s command (pid %d) killed by signal %d", c->what, (int)pid,
				 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		c->pid = 0;
		return true;
	}
	return false;
}

void supervisor_system_tick(struct supervisor *s, int64_t now)
{
	for (size_t i = 0; i < SUPERVISOR_SYSTEM_MAX; i++) {
		struct supervisor_system *c = &s->system[i];

		if (c->pid > 0 && now >= c->deadline_ms) {
			log_warn("system: %s command (pid %d) ran %d s: killing it", c->what, (int)c->pid,
				 SUPERVISOR_SYSTEM_MS / 1000);
			kill(c->pid, SIGKILL);
			c->deadline_ms = now + SUPERVISOR_SYSTEM_MS;
		}
	}
}
