/*
 * libFuzzer target for the config file (services/common/config.c): the
 * bytes are the file, loaded through config_load() from a memfd (its
 * /proc/self/fd path), so the real read path runs and nothing touches a
 * directory.  A provisioning server writes these files, so no file may
 * crash the supervisor, and what it accepts or refuses must be what `aurid
 * -n` promises: a refusal names a line of the file that holds a setting,
 * an accepted config has every string terminated inside its field, and what
 * the supervisor sends its children (config_foreach) is accepted again by
 * the same config_set() and gives the same values.
 */
#include "services/common/config.h"
#include "ipc/ipc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort(), not assert(): the checks must stay in a release build. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memfd = memfd_create("fuzz-config", MFD_CLOEXEC);
	if (memfd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

#define FIELD(f) { offsetof(struct aurid_config, f), sizeof(((struct aurid_config *)0)->f) }

/* Every string field of the config. */
static const struct {
	size_t off, size;
} strings[] = {
	FIELD(state_dir), FIELD(run_dir), FIELD(http_listen), FIELD(https_listen), FIELD(https_cert),
	FIELD(https_key), FIELD(server_names), FIELD(sip_listen), FIELD(telephony), FIELD(admin_password), FIELD(limit_ip),
	FIELD(sip_server_address), FIELD(outbound_proxy_address), FIELD(account_user_name),
	FIELD(account_auth_name), FIELD(account_password), FIELD(keymap), FIELD(user_exec), FIELD(user_http),
	FIELD(user_sip), FIELD(reboot_cmd), FIELD(autop_cmd), FIELD(reset_cmd), FIELD(uinput_device),
	FIELD(fb_device), FIELD(keypad_device), FIELD(console_device), FIELD(model), FIELD(firmware_version),
	FIELD(log_level),
};

static void check_strings(const struct aurid_config *cfg)
{
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		CHECK(memchr((const char *)cfg + strings[i].off, '\0', strings[i].size) != NULL);
}

/* What config_foreach hands one role, as text "key=value\n..." */
struct dump {
	char text[16384];
	size_t len;
};

static int dump_one(void *arg, const char *key, const char *value)
{
	struct dump *d = arg;
	int n = snprintf(d->text + d->len, sizeof(d->text) - d->len, "%s=%s\n", key, value);

	CHECK(n > 0 && (size_t)n < sizeof(d->text) - d->len);
	d->len += (size_t)n;
	return 0;
}

static int set_one(void *arg, const char *key, const char *value)
{
	char err[512];

	/* A value the supervisor sends must be one config_set() takes. */
	CHECK(config_set(arg, key, value, err, sizeof(err)) == 0);
	return 0;
}

static void check_slices(const struct aurid_config *cfg)
{
	static const int roles[] = { IPC_ROLE_SUPERVISOR, IPC_ROLE_EXEC, IPC_ROLE_HTTP, IPC_ROLE_SIP };
	static struct aurid_config child;
	static struct dump a, b;

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		config_defaults(&child);
		CHECK(config_foreach(cfg, roles[i], set_one, &child) == 0);
		check_strings(&child);
		a.len = b.len = 0;
		CHECK(config_foreach(cfg, roles[i], dump_one, &a) == 0);
		CHECK(config_foreach(&child, roles[i], dump_one, &b) == 0);
		CHECK(a.len == b.len && memcmp(a.text, b.text, a.len) == 0);
	}
}

/* The line the error names ("PATH:LINE: ..."), as config_parse counts them. */
static void check_error_line(const char *text, size_t size, const char *err)
{
	size_t plen = strlen(path), lines = 0, n;
	unsigned long line;
	const char *l, *nl;
	char *end;

	CHECK(strncmp(err, path, plen) == 0 && err[plen] == ':');
	line = strtoul(err + plen + 1, &end, 10);
	CHECK(end != err + plen + 1 && *end == ':');
	for (size_t i = 0; i < size; i++)
		lines += text[i] == '\n';
	if (size > 0 && text[size - 1] != '\n')
		lines++;
	CHECK(line >= 1 && line <= lines);
	/* The line itself is a setting, not a blank or a comment, unless it
	 * was refused for its length alone. */
	l = text;
	for (unsigned long i = 1; i < line; i++)
		l = strchr(l, '\n') + 1;
	nl = strchr(l, '\n');
	n = nl ? (size_t)(nl - l) : strlen(l);
	if (strncmp(end, ": line longer than", 18) == 0) {
		CHECK(n >= 2048);
		return;
	}
	while (n && (*l == ' ' || *l == '\t')) {
		l++;
		n--;
	}
	while (n && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '\r'))
		n--;
	CHECK(n > 0 && l[0] != '#');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct aurid_config cfg, again;
	char err[600], err2[600];
	char *text;
	bool has_nul = memchr(data, '\0', size) != NULL;
	int rc, rc2;

	if (size > 256 * 1024)
		return 0;
	CHECK(ftruncate(memfd, 0) == 0);
	CHECK(pwrite(memfd, data, size, 0) == (ssize_t)size);
	memset(err, 'z', sizeof(err));
	rc = config_load(&cfg, path, err, sizeof(err));
	/* err is written only for a refusal. */
	CHECK(rc == 0 || memchr(err, '\0', sizeof(err)) != NULL);
	if (has_nul) {
		CHECK(rc == -EINVAL);
		return 0;
	}
	/* The text as the supervisor's reload would give it: the same verdict. */
	text = malloc(size + 1);
	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err2, 'y', sizeof(err2));
	rc2 = config_parse(&again, text, path, err2, sizeof(err2));
	CHECK(rc2 == rc);
	if (rc == 0) {
		check_strings(&cfg);
		CHECK(cfg.hal == CONFIG_HAL_LINUX || cfg.hal == CONFIG_HAL_SIM);
		CHECK(cfg.fb_width >= 64 && cfg.fb_width <= 8192 && cfg.fb_height >= 32 && cfg.fb_height <= 8192);
		CHECK(cfg.sip_server_transport == CONFIG_SIP_UDP || cfg.sip_server_transport == CONFIG_SIP_TCP);
		check_slices(&cfg);
	} else {
		CHECK(rc == -EINVAL);
		CHECK(strcmp(err, err2) == 0);
		check_error_line(text, size, err);
	}
	free(text);
	return 0;
}
