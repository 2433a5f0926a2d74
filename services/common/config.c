/*
 * Config file parser and the table of keys.
 *
 * Hand-written rather than libinih: Yealink files use only '#' comments, and
 * inih's inline-comment handling would cut values at " ;" (a password, or an
 * allow list, may contain one).  The grammar is small: "key = value", blank
 * lines, '#' comment lines, a leading "#!version:" line.
 */
#include "config.h"
#include "http_host.h"

#include "../../ipc/ipc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum ktype { K_STR, K_BOOL, K_UINT, K_HAL, K_GEOMETRY, K_LISTEN, K_SIP_LISTEN, K_SIP_TRANSPORT, K_HOSTS };

#define R_SUP  IPC_ROLE_BIT(IPC_ROLE_SUPERVISOR)
#define R_EXEC IPC_ROLE_BIT(IPC_ROLE_EXEC)
#define R_HTTP IPC_ROLE_BIT(IPC_ROLE_HTTP)
#define R_SIP  IPC_ROLE_BIT(IPC_ROLE_SIP)
#define R_ALL  (R_SUP | R_EXEC | R_HTTP | R_SIP)

struct key {
	const char *name;
	enum ktype type;
	size_t offset;
	size_t size;            /* K_STR: buffer size */
	unsigned min, max;      /* K_UINT */
	const char *def;
	unsigned roles;
};

#define OFF(f) offsetof(struct aurid_config, f)
#define STR(n, f, d, r) { n, K_STR, OFF(f), sizeof(((struct aurid_config *)0)->f), 0, 0, d, r }
#define BOOL(n, f, d, r) { n, K_BOOL, OFF(f), 0, 0, 1, d, r }
#define UINT(n, f, lo, hi, d, r) { n, K_UINT, OFF(f), 0, lo, hi, d, r }
#define LISTEN(n, f, d, r) { n, K_LISTEN, OFF(f), sizeof(((struct aurid_config *)0)->f), 0, 0, d, r }
#define SIP_LISTEN(n, f, d, r) { n, K_SIP_LISTEN, OFF(f), sizeof(((struct aurid_config *)0)->f), 0, 0, d, r }

static const struct key keys[] = {
	STR("aurid.state_dir", state_dir, "/var/lib/aurid", R_ALL),
	STR("aurid.run_dir", run_dir, "/run/aurid", R_ALL),
	{ "aurid.hal", K_HAL, OFF(hal), 0, 0, 0, "linux", R_SUP | R_EXEC },
	{ "aurid.sim.fb_geometry", K_GEOMETRY, 0, 0, 0, 0, "480x272", R_SUP | R_EXEC },
	LISTEN("aurid.http.listen", http_listen, "0.0.0.0:80", R_SUP | R_HTTP),
	/* The executor too: the generated certificate names these addresses. */
	LISTEN("aurid.https.listen", https_listen, "0.0.0.0:443", R_SUP | R_HTTP | R_EXEC),
	/* Read by the executor, which holds the key; aurid-http gets the chain over IPC. */
	STR("aurid.https.cert", https_cert, "", R_SUP | R_EXEC),
	/* Names (or addresses) the phone answers to besides the address a client
	 * reached: the executor refuses any other Host (DNS rebinding). */
	{ "aurid.http.server_names", K_HOSTS, OFF(server_names), sizeof(((struct aurid_config *)0)->server_names),
	  0, 0, "", R_EXEC },
	/* 1: plain-HTTP action requests are redirected to the first HTTPS address. */
	BOOL("aurid.http.redirect_https", http_redirect_https, "0", R_HTTP),
	STR("aurid.https.key", https_key, "", R_SUP | R_EXEC),
	SIP_LISTEN("aurid.sip.listen", sip_listen, "udp:0.0.0.0:5060,tcp:0.0.0.0:5060", R_SUP | R_SIP),
	/* Each remembered UDP transaction holds its request (~4.5 KiB resident) for
	 * 32 s, so this caps aurid-sip's memory and its sustained UDP rate. */
	UINT("aurid.sip.udp_transactions", sip_udp_transactions, 16, 1000000, "4096", R_SIP),
	STR("aurid.telephony", telephony, "none", R_SUP | R_EXEC),
	BOOL("aurid.action_uri.auth", action_uri_auth, "1", R_EXEC),
	/* aurid-sip too: a NOTIFY cannot wait on the prompt longer than SIP's 32 s. */
	UINT("aurid.consent.timeout", consent_timeout, 1, 3600, "30", R_EXEC | R_SIP),
	UINT("aurid.consent.max_age", consent_max_age, 0, 0x7fffffff, "0", R_EXEC),
	BOOL("aurid.allow.keys", allow[CAP_KEYS], "1", R_EXEC),
	BOOL("aurid.allow.dial", allow[CAP_DIAL], "1", R_EXEC),
	BOOL("aurid.allow.call", allow[CAP_CALL], "1", R_EXEC),
	BOOL("aurid.allow.read", allow[CAP_READ], "1", R_EXEC),
	BOOL("aurid.allow.screenshot", allow[CAP_SCREENSHOT], "1", R_EXEC),
	BOOL("aurid.allow.system", allow[CAP_SYSTEM], "0", R_SUP | R_EXEC),
	BOOL("aurid.allow.reset", allow[CAP_RESET], "0", R_SUP | R_EXEC),
	STR("aurid.admin.password", admin_password, "", R_EXEC),
	BOOL("features.action_uri.enable", action_uri_enable, "1", R_EXEC | R_SIP),
	STR("features.action_uri_limit_ip", limit_ip, "", R_EXEC),
	BOOL("features.show_action_uri_option", show_action_uri_option, "1", R_EXEC),
	BOOL("sip.trust_ctrl", sip_trust_ctrl, "1", R_EXEC | R_SIP),
	STR("account.1.sip_server.1.address", sip_server_address, "", R_EXEC | R_SIP),
	UINT("account.1.sip_server.1.port", sip_server_port, 0, 65535, "5060", R_EXEC | R_SIP),
	{ "account.1.sip_server.1.transport", K_SIP_TRANSPORT, OFF(sip_server_transport), 0, 0, 0, "udp", R_SIP },
	STR("account.1.outbound_proxy.1.address", outbound_proxy_address, "", R_EXEC | R_SIP),
	UINT("account.1.outbound_proxy.1.port", outbound_proxy_port, 0, 65535, "5060", R_EXEC | R_SIP),
	BOOL("account.1.outbound_proxy_enable", outbound_proxy_enable, "0", R_SIP),
	BOOL("account.1.enable", account_enable, "0", R_SIP),
	STR("account.1.user_name", account_user_name, "", R_SIP),
	STR("account.1.auth_name", account_auth_name, "", R_SIP),
	/* The SIP password goes to aurid-sip alone: it registers, nothing else needs it. */
	STR("account.1.password", account_password, "", R_SIP),
	UINT("account.1.expires", account_expires, 30, 86400, "3600", R_SIP),
	STR("aurid.keymap", keymap, "", R_EXEC),
	UINT("aurid.keypad.pace_ms", pace_ms, 0, 10000, "50", R_EXEC),
	UINT("aurid.audit.max_rows", audit_max_rows, 100, 100000000, "100000", R_EXEC),
	UINT("aurid.rate.per_second", rate_per_sec, 0, 1000000, "10", R_EXEC),
	UINT("aurid.rate.burst", rate_burst, 1, 1000000, "20", R_EXEC),
	UINT("aurid.http.max_connections", http_max_connections, 1, 100000, "256", R_HTTP),
	UINT("aurid.http.max_connections_per_source", http_max_per_source, 1, 100000, "32", R_HTTP),
	UINT("aurid.http.header_timeout_ms", http_header_timeout_ms, 100, 600000, "10000", R_HTTP),
	UINT("aurid.http.idle_timeout_ms", http_idle_timeout_ms, 100, 3600000, "30000", R_HTTP),
	UINT("aurid.lockout.failures", lockout_failures, 1, 1000, "5", R_EXEC),
	UINT("aurid.lockout.seconds", lockout_seconds, 1, 86400, "60", R_EXEC),
	UINT("aurid.lockout.max_seconds", lockout_max, 1, 604800, "900", R_EXEC),
	UINT("aurid.digest.nonce_lifetime", digest_nonce_lifetime, 1, 86400, "300", R_EXEC),
	STR("aurid.user.exec", user_exec, "aurid", R_SUP),
	STR("aurid.user.http", user_http, "aurid-http", R_SUP),
	STR("aurid.user.sip", user_sip, "aurid-sip", R_SUP),
	STR("aurid.system.reboot_cmd", reboot_cmd, "", R_SUP | R_EXEC),
	STR("aurid.system.autop_cmd", autop_cmd, "", R_SUP | R_EXEC),
	STR("aurid.system.reset_cmd", reset_cmd, "", R_SUP | R_EXEC),
	STR("aurid.hal.uinput_device", uinput_device, "/dev/uinput", R_SUP | R_EXEC),
	STR("aurid.hal.fb_device", fb_device, "/dev/fb0", R_SUP | R_EXEC),
	STR("aurid.hal.keypad_device", keypad_device, "", R_SUP | R_EXEC),
	STR("aurid.hal.console", console_device, "/dev/tty0", R_SUP),
	STR("aurid.model", model, "aurid-phone", R_EXEC),
	STR("aurid.firmware_version", firmware_version, "", R_EXEC),
	STR("aurid.log.level", log_level, "info", R_ALL),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct key *key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

int config_split_hostport(const char *s, char *host, size_t hostlen, unsigned *port)
{
	const char *colon;
	char *end;
	size_t hl;
	unsigned long p;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		hl = (size_t)(rb - s - 1);
		s++;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || p > 65535)
		return -EINVAL;
	*port = (unsigned)p;
	return 0;
}

static int check_listen(const char *v)
{
	char buf[512], host[256];
	unsigned port;
	char *save = NULL;

	if (strlen(v) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, v);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		if (*t && config_split_hostport(t, host, sizeof(host), &port))
			return -EINVAL;
	}
	return 0;
}

static const char *sip_transport_name(int t)
{
	return t == CONFIG_SIP_TCP ? "tcp" : "udp";
}

static int sip_transport_parse(const char *v, int *t)
{
	if (strcasecmp(v, "udp") == 0)
		*t = CONFIG_SIP_UDP;
	else if (strcasecmp(v, "tcp") == 0)
		*t = CONFIG_SIP_TCP;
	else
		return -EINVAL;
	return 0;
}

int config_sip_listen_parse(const char *list, struct config_sip_listen *out, size_t max, size_t *n,
			    char *err, size_t errlen)
{
	char buf[512];
	char *save = NULL;

	*n = 0;
	if (strlen(list) >= sizeof(buf)) {
		if (err)
			snprintf(err, errlen, "list longer than %zu bytes", sizeof(buf) - 1);
		return -EINVAL;
	}
	strcpy(buf, list);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct config_sip_listen *l;
		char *colon, *e;
		unsigned char a[16];

		while (*t == ' ' || *t == '\t')
			t++;
		e = t + strlen(t);
		while (e > t && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*t == '\0')
			continue;
		if (*n == max) {
			if (err)
				snprintf(err, errlen, "more than %zu entries", max);
			return -E2BIG;
		}
		l = &out[*n];
		memset(l, 0, sizeof(*l));
		snprintf(l->text, sizeof(l->text), "%s", t);
		colon = strchr(t, ':');
		if (colon)
			*colon = '\0';
		if (!colon || sip_transport_parse(t, &l->transport) != 0 ||
		    config_split_hostport(colon + 1, l->host, sizeof(l->host), &l->port) != 0 ||
		    (inet_pton(AF_INET, l->host, a) != 1 && inet_pton(AF_INET6, l->host, a) != 1) ||
		    (strchr(l->host, ':') && colon[1] != '[')) {
			if (err)
				snprintf(err, errlen, "'%s' is not udp:ADDRESS:PORT or tcp:ADDRESS:PORT "
					 "(an IP address, IPv6 in brackets)", l->text);
			return -EINVAL;
		}
		(*n)++;
	}
	return 0;
}

static int parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long x;

	if (!isdigit((unsigned char)v[0]))
		return -EINVAL;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || *end || x < min || x > max)
		return -EINVAL;
	*out = (unsigned)x;
	return 0;
}

int config_set(struct aurid_config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	const struct key *k = key_find(key);
	void *at;
	unsigned u;

	if (!k)
		return 1;
	at = (char *)cfg + k->offset;
	switch (k->type) {
	case K_STR:
	case K_LISTEN:
		if (strlen(value) >= k->size) {
			snprintf(err, errlen, "%s: value longer than %zu bytes", key, k->size - 1);
			return -EINVAL;
		}
		if (k->type == K_LISTEN && check_listen(value)) {
			snprintf(err, errlen, "%s: expected a comma list of host:port, got '%s'", key, value);
			return -EINVAL;
		}
		strcpy(at, value);
		return 0;
	case K_SIP_LISTEN: {
		struct config_sip_listen l[CONFIG_SIP_LISTEN_MAX];
		char why[160];
		size_t n;

		if (strlen(value) >= k->size) {
			snprintf(err, errlen, "%s: value longer than %zu bytes", key, k->size - 1);
			return -EINVAL;
		}
		if (config_sip_listen_parse(value, l, CONFIG_SIP_LISTEN_MAX, &n, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %s", key, why);
			return -EINVAL;
		}
		strcpy(at, value);
		return 0;
	}
	case K_HOSTS: {
		char bad[208];

		if (strlen(value) >= k->size) {
			snprintf(err, errlen, "%s: value longer than %zu bytes", key, k->size - 1);
			return -EINVAL;
		}
		if (http_host_list_check(value, bad, sizeof(bad)) != 0) {
			snprintf(err, errlen, "%s: '%s' is not a host name or an IP address (no port)", key, bad);
			return -EINVAL;
		}
		strcpy(at, value);
		return 0;
	}
	case K_SIP_TRANSPORT:
		if (sip_transport_parse(value, (int *)at) != 0) {
			snprintf(err, errlen, "%s: expected 'udp' or 'tcp', got '%s'", key, value);
			return -EINVAL;
		}
		return 0;
	case K_BOOL:
		if (strcmp(value, "0") && strcmp(value, "1")) {
			snprintf(err, errlen, "%s: expected 0 or 1, got '%s'", key, value);
			return -EINVAL;
		}
		*(bool *)at = value[0] == '1';
		return 0;
	case K_UINT:
		if (parse_uint(value, k->min, k->max, &u)) {
			snprintf(err, errlen, "%s: expected a whole number from %u to %u, got '%s'",
				 key, k->min, k->max, value);
			return -EINVAL;
		}
		*(unsigned *)at = u;
		return 0;
	case K_HAL:
		if (strcmp(value, "linux") == 0)
			cfg->hal = CONFIG_HAL_LINUX;
		else if (strcmp(value, "sim") == 0)
			cfg->hal = CONFIG_HAL_SIM;
		else {
			snprintf(err, errlen, "%s: expected 'linux' or 'sim', got '%s'", key, value);
			return -EINVAL;
		}
		return 0;
	case K_GEOMETRY: {
		unsigned w, h;
		char tail;

		if (sscanf(value, "%ux%u%c", &w, &h, &tail) != 2 || w < 64 || h < 32 || w > 8192 || h > 8192) {
			snprintf(err, errlen, "%s: expected WIDTHxHEIGHT (64x32 to 8192x8192), got '%s'", key, value);
			return -EINVAL;
		}
		cfg->fb_width = w;
		cfg->fb_height = h;
		return 0;
	}
	}
	return -EINVAL;
}

void config_defaults(struct aurid_config *cfg)
{
	char err[256];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++)
		if (config_set(cfg, keys[i].name, keys[i].def, err, sizeof(err)) != 0)
			abort();  /* a default that does not parse is a bug in the table */
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int config_parse(struct aurid_config *cfg, const char *text, const char *name, char *err, size_t errlen)
{
	const char *p = text;
	unsigned lineno = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[2048], msg[512];
		char *l, *eq, *k, *v;
		int r;

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "%s:%u: line longer than %zu bytes", name, lineno, sizeof(line) - 1);
			return -EINVAL;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl ? 1 : 0);
		l = trim(line);
		if (*l == '\0' || *l == '#')
			continue;
		eq = strchr(l, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", name, lineno);
			return -EINVAL;
		}
		*eq = '\0';
		k = trim(l);
		v = trim(eq + 1);
		if (*k == '\0') {
			snprintf(err, errlen, "%s:%u: empty key", name, lineno);
			return -EINVAL;
		}
		r = config_set(cfg, k, v, msg, sizeof(msg));
		if (r < 0) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, msg);
			return r;
		}
	}
	return 0;
}

int config_load(struct aurid_config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *text;
	long len;
	int r;

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		config_defaults(cfg);
		return r;
	}
	config_defaults(cfg);
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return r;
	}
	if (len > 4 * 1024 * 1024) {
		snprintf(err, errlen, "%s: larger than 4 MiB", path);
		fclose(f);
		return -EFBIG;
	}
	text = malloc((size_t)len + 1);
	if (!text) {
		fclose(f);
		return -ENOMEM;
	}
	if (fread(text, 1, (size_t)len, f) != (size_t)len) {
		snprintf(err, errlen, "%s: read error", path);
		free(text);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	text[len] = '\0';
	if (strlen(text) != (size_t)len) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		free(text);
		return -EINVAL;
	}
	r = config_parse(cfg, text, path, err, errlen);
	free(text);
	return r;
}

int config_foreach(const struct aurid_config *cfg, int role,
		   int (*fn)(void *arg, const char *key, const char *value), void *arg)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		const void *at = (const char *)cfg + k->offset;
		char v[1100];
		int r;

		if (!(k->roles & IPC_ROLE_BIT(role)))
			continue;
		switch (k->type) {
		case K_STR:
		case K_LISTEN:
		case K_HOSTS:
		case K_SIP_LISTEN: snprintf(v, sizeof(v), "%s", (const char *)at); break;
		case K_SIP_TRANSPORT: snprintf(v, sizeof(v), "%s", sip_transport_name(*(const int *)at)); break;
		case K_BOOL: snprintf(v, sizeof(v), "%d", *(const bool *)at ? 1 : 0); break;
		case K_UINT: snprintf(v, sizeof(v), "%u", *(const unsigned *)at); break;
		case K_HAL: snprintf(v, sizeof(v), "%s", cfg->hal == CONFIG_HAL_SIM ? "sim" : "linux"); break;
		case K_GEOMETRY: snprintf(v, sizeof(v), "%ux%u", cfg->fb_width, cfg->fb_height); break;
		}
		r = fn(arg, k->name, v);
		if (r)
			return r;
	}
	return 0;
}
