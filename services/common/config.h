/*
 * The configuration: Yealink .cfg style "key = value" lines.
 *
 * One table (config.c) names every key aurid knows, its type, default and
 * which child processes receive it.  The supervisor parses the file; each
 * child receives its slice as IPC_CONFIG_SET messages and applies them with
 * the same config_set(), so a value is validated by one piece of code.
 * Keys aurid does not know are ignored: provisioning files carry hundreds of
 * keys for other features of the phone.
 */
#ifndef AURID_CONFIG_H
#define AURID_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum config_hal { CONFIG_HAL_LINUX = 0, CONFIG_HAL_SIM = 1 };

/* Transports of aurid.sip.listen and account.1.sip_server.1.transport. */
enum config_sip_transport { CONFIG_SIP_UDP = 0, CONFIG_SIP_TCP = 1 };

enum config_cap {
	CAP_KEYS, CAP_DIAL, CAP_CALL, CAP_READ, CAP_SCREENSHOT, CAP_SYSTEM, CAP_RESET, CAP_COUNT
};

struct aurid_config {
	char state_dir[256];
	char run_dir[256];
	int hal;                        /* enum config_hal */
	unsigned fb_width, fb_height;
	char http_listen[512];
	char https_listen[512];
	char https_cert[256];
	char https_key[256];
	bool http_redirect_https;       /* plain action requests get a redirect to HTTPS */
	char server_names[512];         /* aurid.http.server_names: comma list of Host names accepted */
	char sip_listen[512];
	unsigned sip_udp_transactions;  /* UDP server transactions remembered (aurid-sip) */
	char telephony[128];
	bool action_uri_auth;
	unsigned consent_timeout;       /* seconds */
	unsigned consent_max_age;       /* seconds, 0 = never expires */
	bool allow[CAP_COUNT];
	char admin_password[128];
	bool action_uri_enable;
	char limit_ip[1024];
	bool show_action_uri_option;
	bool sip_trust_ctrl;
	char sip_server_address[256];
	unsigned sip_server_port;
	int sip_server_transport;       /* enum config_sip_transport */
	char outbound_proxy_address[256];
	unsigned outbound_proxy_port;
	bool outbound_proxy_enable;     /* registration goes through the proxy */
	bool account_enable;            /* register account 1 */
	char account_user_name[64];
	char account_auth_name[64];
	char account_password[128];
	unsigned account_expires;       /* seconds */
	char keymap[256];               /* empty: the built-in default keymap */
	unsigned pace_ms;
	unsigned audit_max_rows;
	unsigned rate_per_sec;          /* 0: no rate limit */
	unsigned rate_burst;
	unsigned http_max_connections;
	unsigned http_max_per_source;
	unsigned http_header_timeout_ms;
	unsigned http_idle_timeout_ms;
	unsigned lockout_failures;      /* failed logins before a lock-out */
	unsigned lockout_seconds;       /* first lock-out; doubles, up to lockout_max */
	unsigned lockout_max;
	unsigned digest_nonce_lifetime; /* seconds a Digest nonce stays fresh */
	char user_exec[32];
	char user_http[32];
	char user_sip[32];
	/* Shell commands the supervisor runs (as root) for the Reboot, AutoP and
	 * Reset items; empty: the item answers "unsupported". */
	char reboot_cmd[512];
	char autop_cmd[512];
	char reset_cmd[512];
	char uinput_device[256];
	char fb_device[256];
	char keypad_device[256];        /* a path, or an evdev device name; linux HAL: required */
	char console_device[256];       /* linux HAL: VT kept in KD_GRAPHICS while aurid runs; empty = none */
	char model[64];
	char firmware_version[64];
	char log_level[16];
};

/* Fills every field with its default. */
void config_defaults(struct aurid_config *cfg);

/*
 * Sets one key.  0: applied.  1: not a key aurid knows (ignored).
 * -EINVAL: a bad value; err gets a message naming the key.
 */
int config_set(struct aurid_config *cfg, const char *key, const char *value, char *err, size_t errlen);

/*
 * Parses a whole file onto cfg (defaults first).  0 or -errno; on a bad line
 * err says "FILE:LINE: ..." .
 */
int config_load(struct aurid_config *cfg, const char *path, char *err, size_t errlen);

/* Same, from text (for tests and for the supervisor's reload). */
int config_parse(struct aurid_config *cfg, const char *text, const char *name, char *err, size_t errlen);

/*
 * Calls fn for every key whose slice includes role (an IPC role number) with
 * its current value as text, so the supervisor can send a child its slice.
 */
int config_foreach(const struct aurid_config *cfg, int role,
		   int (*fn)(void *arg, const char *key, const char *value), void *arg);

/* Splits "host:port" or "[v6]:port"; 0 or -EINVAL. */
int config_split_hostport(const char *s, char *host, size_t hostlen, unsigned *port);

/* One entry of aurid.sip.listen: "udp:HOST:PORT" or "tcp:HOST:PORT". */
struct config_sip_listen {
	int transport;                  /* enum config_sip_transport */
	char host[64];                  /* an IPv4 or IPv6 literal (no brackets) */
	unsigned port;
	char text[80];                  /* the entry as written, for messages */
};

#define CONFIG_SIP_LISTEN_MAX 8

/*
 * Parses aurid.sip.listen (a comma list of the entries above; the prefix is
 * case-insensitive, the host an IP literal, IPv6 in brackets).  0 and *n
 * (0 for an empty list), -EINVAL for a bad entry, -E2BIG for more than max;
 * err (may be NULL) names the entry.
 */
int config_sip_listen_parse(const char *list, struct config_sip_listen *out, size_t max, size_t *n,
			    char *err, size_t errlen);

#endif
