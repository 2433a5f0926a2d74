/*
 * aurid: the supervisor of the Action URI service.  It reads the config,
 * acquires sockets and devices as root, and runs aurid-exec and aurid-http
 * each as its own user, until SIGTERM or SIGINT.
 */
#include "services/common/config.h"
#include "services/common/log.h"
#include "services/supervisor/supervisor.h"

#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

struct options {
	const char *config;
	bool check_only;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: aurid -c FILE        run the service in the foreground\n"
		"       aurid -n -c FILE     check the configuration and exit\n"
		"       aurid -h             show this help\n");
}

/* 0: run; otherwise the exit status (0 for -h, 2 for a usage error). */
static int options_parse(int argc, char **argv, struct options *o, int *status)
{
	int ch;

	while ((ch = getopt(argc, argv, "c:nh")) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'n':
			o->check_only = true;
			break;
		case 'h':
			usage(stdout);
			*status = 0;
			return 1;
		default:
			usage(stderr);
			*status = 2;
			return 1;
		}
	}
	if (optind != argc || !o->config) {
		usage(stderr);
		*status = 2;
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct aurid_config cfg;
	static struct supervisor sup;
	struct options opt = { 0 };
	char err[1024];
	int status, r;

	log_init("aurid");
	if (options_parse(argc, argv, &opt, &status))
		return status;

	if (config_load(&cfg, opt.config, err, sizeof(err)) < 0) {
		fprintf(stderr, "aurid: %s\n", err);
		return 1;
	}
	if (supervisor_check(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "aurid: %s: %s\n", opt.config, err);
		return 1;
	}
	if (opt.check_only)
		return 0;

	r = supervisor_init(&sup, &cfg);
	if (r == 0)
		r = supervisor_run(&sup);
	supervisor_free(&sup);
	return r == 0 ? 0 : 1;
}
