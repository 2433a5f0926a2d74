/*
 * aurictl: the administrator's command line for aurid (DESIGN.md section 9).
 *
 * One invocation is one request on the executor's admin socket: connect,
 * HELLO, one IPC_ADMIN_* message, then IPC_ADMIN_ROW messages (a JSON object
 * each) until IPC_ADMIN_RES says whether it was done.  aurictl decides
 * nothing.  It parses the command line strictly, so a typo is a usage error
 * (exit 2) and never a request, and it turns the rows into text for people,
 * or passes them on as one JSON object per line for scripts (--json).
 *
 * Contents: the verb table, argument and time parsing, output, the exchange.
 * tests/unit/test_aurictl_args.c includes this file with AURICTL_TEST defined
 * to test the parsers and printers without a server.
 */
#include "ipc/ipc.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define AURICTL_SOCKET       "/run/aurid/admin.sock"
#define AURICTL_HELLO_MS     5000
/* Silence allowed between two messages of an answer: audit queries over a
 * large table and consent-related verbs can take a while. */
#define AURICTL_ANSWER_MS    30000
#define AURICTL_REQUEST_ID   1
/* Rows kept to size a table's columns; more than that is a job for --json. */
#define AURICTL_TABLE_MAX    10000

/* ---- the verbs ---- */

enum aurictl_opt {
	OPT_SINCE = 1u << 0,
	OPT_UNTIL = 1u << 1,
	OPT_SOURCE = 1u << 2,
	OPT_OUTCOME = 1u << 3,
	OPT_LIMIT = 1u << 4,
	OPT_ROLE = 1u << 5,
};

struct aurictl_verb {
	const char *word;
	const char *sub;         /* second word, or NULL */
	unsigned type;           /* enum ipc_type */
	const char *arg;         /* the one positional argument's name, or NULL */
	unsigned opts;           /* enum aurictl_opt bits it accepts */
	bool password;           /* reads a password from stdin */
};

static const struct aurictl_verb verbs[] = {
	{ "status", NULL, IPC_ADMIN_STATUS, NULL, 0, false },
	{ "trust", "list", IPC_ADMIN_TRUST_LIST, NULL, 0, false },
	{ "trust", "add", IPC_ADMIN_TRUST_ADD, "PATTERN", 0, false },
	{ "trust", "remove", IPC_ADMIN_TRUST_REMOVE, "PATTERN", 0, false },
	{ "consent", "list", IPC_ADMIN_CONSENT_LIST, NULL, 0, false },
	{ "consent", "revoke", IPC_ADMIN_CONSENT_REVOKE, "SOURCE", 0, false },
	{ "audit", NULL, IPC_ADMIN_AUDIT, NULL, OPT_SINCE | OPT_UNTIL | OPT_SOURCE | OPT_OUTCOME | OPT_LIMIT, false },
	{ "user", "add", IPC_ADMIN_USER_ADD, "NAME", OPT_ROLE, true },
	{ "user", "passwd", IPC_ADMIN_USER_PASSWD, "NAME", 0, true },
	{ "sim", "press", IPC_ADMIN_SIM_PRESS, "KEY", 0, false },
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static const struct {
	const char *name;
	enum aurictl_opt bit;
} options[] = {
	{ "--since", OPT_SINCE },
	{ "--until", OPT_UNTIL },
	{ "--source", OPT_SOURCE },
	{ "--outcome", OPT_OUTCOME },
	{ "--limit", OPT_LIMIT },
	{ "--role", OPT_ROLE },
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

struct aurictl_cmd {
	const char *socket;
	bool json;
	bool help;
	const struct aurictl_verb *verb;
	struct ipc_admin_req req;
};

static void usage(FILE *f)
{
	fputs("usage: aurictl [-s SOCKET] COMMAND [ARGUMENTS] [--json]\n"
	      "\n"
	      "commands:\n"
	      "  status\n"
	      "  trust list | trust add PATTERN | trust remove PATTERN\n"
	      "  consent list | consent revoke SOURCE\n"
	      "  audit [--since T] [--until T] [--source S] [--outcome O] [--limit N]\n"
	      "  user add NAME [--role admin|user]   password: first line of stdin\n"
	      "  user passwd NAME                    password: first line of stdin\n"
	      "  sim press KEY\n"
	      "\n"
	      "  -s SOCKET  the admin socket (default " AURICTL_SOCKET ")\n"
	      "  --json     one JSON object per line\n"
	      "  T          unix seconds, RFC 3339 (2026-11-27T10:00:00Z), or an age\n"
	      "             such as 90s, 10m, 2h, 1d, 1w (that long ago)\n"
	      "\n"
	      "exit status: 0 done, 1 refused or failed, 2 usage\n", f);
}

/* ---- time arguments ---- */

static bool take_digits(const char **p, int n, int *v)
{
	int x = 0;

	/* Stops at the first non-digit, so it never reads past a NUL. */
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		x = x * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* "2026-11-27", or with a time "T10:00[:00[.fff]]" and then a zone, which is
 * required: a time without one would silently mean the admin's local zone. */
static int parse_rfc3339(const char *s, int64_t *out)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	struct tm tm;
	time_t t;
	int64_t utc;

	if (!take_digits(&p, 4, &y) || *p++ != '-' || !take_digits(&p, 2, &mo) ||
	    *p++ != '-' || !take_digits(&p, 2, &d))
		return -EINVAL;
	if (*p) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -EINVAL;
		p++;
		if (!take_digits(&p, 2, &h) || *p++ != ':' || !take_digits(&p, 2, &mi))
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (!take_digits(&p, 2, &sec))
				return -EINVAL;
			if (*p == '.') {
				/* Fractions are dropped: the filter has whole seconds. */
				if (!isdigit((unsigned char)*++p))
					return -EINVAL;
				while (isdigit((unsigned char)*p))
					p++;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '+' ? 1 : -1;
			if (!take_digits(&p, 2, &oh) || *p++ != ':' || !take_digits(&p, 2, &om))
				return -EINVAL;
		} else {
			return -EINVAL;
		}
		if (*p)
			return -EINVAL;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;   /* a leap second 60 becomes the next minute */
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	/* +01:00 is an hour ahead of UTC: subtract it. */
	utc = (int64_t)t - sign * (oh * 3600 + om * 60);
	if (utc < 0)
		return -EINVAL;
	*out = utc;
	return 0;
}

/* T: unix seconds, RFC 3339, or an age ("10m" = ten minutes before now). */
static int parse_time(const char *s, int64_t now, int64_t *out)
{
	size_t len = strlen(s), ndig = strspn(s, "0123456789");
	int64_t n = 0;
	unsigned unit;

	if (len == 0 || (ndig == len && len > 12))
		return -EINVAL;
	if (ndig == len) {
		*out = strtoll(s, NULL, 10);
		return 0;
	}
	if (ndig == 4 && s[4] == '-')
		return parse_rfc3339(s, out);
	if (ndig == 0 || ndig > 9 || len != ndig + 1)
		return -EINVAL;
	switch (s[ndig]) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return -EINVAL;
	}
	for (size_t i = 0; i < ndig; i++)
		n = n * 10 + (s[i] - '0');
	/* At most 9 digits times a week: no overflow; before 1970 is an error. */
	if (n * unit > now)
		return -EINVAL;
	*out = now - n * unit;
	return 0;
}

/* ---- the command line ---- */

static int set_str(char *dst, size_t size, const char *what, const char *v, char *err, size_t errlen)
{
	if (v[0] == '\0' || strlen(v) >= size) {
		snprintf(err, errlen, "%s: expected 1 to %zu bytes", what, size - 1);
		return -EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

static int set_option(struct aurictl_cmd *cmd, enum aurictl_opt bit, const char *name, const char *v,
		      int64_t now, char *err, size_t errlen)
{
	struct ipc_admin_req *q = &cmd->req;
	char *end;
	unsigned long long x;

	switch (bit) {
	case OPT_SINCE:
	case OPT_UNTIL:
		if (parse_time(v, now, bit == OPT_SINCE ? &q->since : &q->until) == 0)
			return 0;
		snprintf(err, errlen, "%s: expected unix seconds, RFC 3339 (2026-11-27T10:00:00Z) "
			 "or an age (10m, 2h, 1d), got '%s'", name, v);
		return -EINVAL;
	case OPT_SOURCE:
		return set_str(q->source, sizeof(q->source), name, v, err, errlen);
	case OPT_OUTCOME:
		return set_str(q->outcome, sizeof(q->outcome), name, v, err, errlen);
	case OPT_LIMIT:
		errno = 0;
		x = strtoull(v, &end, 10);
		if (!isdigit((unsigned char)v[0]) || *end || errno || x == 0 || x > UINT32_MAX) {
			snprintf(err, errlen, "%s: expected a whole number from 1 to %" PRIu32 ", got '%s'",
				 name, UINT32_MAX, v);
			return -EINVAL;
		}
		q->limit = (uint32_t)x;
		return 0;
	case OPT_ROLE:
		if (strcmp(v, "admin") && strcmp(v, "user")) {
			snprintf(err, errlen, "%s: expected 'admin' or 'user', got '%s'", name, v);
			return -EINVAL;
		}
		strcpy(q->role, v);
		return 0;
	}
	return -EINVAL;
}

static int find_verb(const char *const *pos, int npos, const struct aurictl_verb **out, char *err, size_t errlen)
{
	char subs[128] = "";
	bool word = false;

	for (size_t i = 0; i < NVERBS; i++) {
		const struct aurictl_verb *v = &verbs[i];

		if (strcmp(v->word, pos[0]) != 0)
			continue;
		word = true;
		if (!v->sub || (npos > 1 && strcmp(v->sub, pos[1]) == 0)) {
			*out = v;
			return 0;
		}
		snprintf(subs + strlen(subs), sizeof(subs) - strlen(subs), "%s%s", subs[0] ? " or " : "", v->sub);
	}
	if (!word)
		snprintf(err, errlen, "unknown command '%s'", pos[0]);
	else
		snprintf(err, errlen, "%s: expected %s", pos[0], subs);
	return -EINVAL;
}

/*
 * Fills cmd from argv.  0, or -EINVAL with err (a usage error).  Options may
 * come anywhere; "--" ends them (for a NAME that starts with '-').  now is
 * the clock for ages ("10m").
 */
static int parse_args(int argc, char **argv, int64_t now, struct aurictl_cmd *cmd, char *err, size_t errlen)
{
	const char *pos[4], *val[NOPTIONS] = { NULL };
	bool opts_done = false;
	int npos = 0, want;

	memset(cmd, 0, sizeof(*cmd));
	cmd->socket = AURICTL_SOCKET;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;
		size_t k;

		if (opts_done || a[0] != '-' || a[1] == '\0') {
			if (npos == 4) {
				snprintf(err, errlen, "unexpected argument '%s'", a);
				return -EINVAL;
			}
			pos[npos++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			opts_done = true;
		} else if (strcmp(a, "--json") == 0) {
			cmd->json = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			cmd->help = true;
		} else if (strncmp(a, "-s", 2) == 0) {
			if (a[2] == '\0' && i + 1 == argc) {
				snprintf(err, errlen, "-s: expected a socket path");
				return -EINVAL;
			}
			cmd->socket = a[2] ? a + 2 : argv[++i];
		} else {
			eq = strchr(a, '=');
			for (k = 0; k < NOPTIONS; k++) {
				size_t n = eq ? (size_t)(eq - a) : strlen(a);

				if (strlen(options[k].name) == n && strncmp(options[k].name, a, n) == 0)
					break;
			}
			if (k == NOPTIONS) {
				snprintf(err, errlen, "unknown option '%s'", a);
				return -EINVAL;
			}
			if (!eq && i + 1 == argc) {
				snprintf(err, errlen, "%s: expected a value", options[k].name);
				return -EINVAL;
			}
			val[k] = eq ? eq + 1 : argv[++i];
		}
	}
	if (cmd->help)
		return 0;
	/* sun_path is not NUL-terminated when full; a longer path must not be
	 * cut short into some other socket's name. */
	if (cmd->socket[0] == '\0' || strlen(cmd->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "-s: a socket path is 1 to %zu bytes",
			 sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -EINVAL;
	}
	if (npos == 0) {
		snprintf(err, errlen, "missing command");
		return -EINVAL;
	}
	if (find_verb(pos, npos, &cmd->verb, err, errlen))
		return -EINVAL;
	want = 1 + (cmd->verb->sub != NULL) + (cmd->verb->arg != NULL);
	if (npos < want) {
		snprintf(err, errlen, "%s%s%s: missing %s", cmd->verb->word, cmd->verb->sub ? " " : "",
			 cmd->verb->sub ? cmd->verb->sub : "", cmd->verb->arg);
		return -EINVAL;
	}
	if (npos > want) {
		snprintf(err, errlen, "unexpected argument '%s'", pos[want]);
		return -EINVAL;
	}
	if (cmd->verb->arg && set_str(cmd->req.arg, sizeof(cmd->req.arg), cmd->verb->arg, pos[want - 1], err, errlen))
		return -EINVAL;
	if (cmd->verb->type == IPC_ADMIN_USER_ADD)
		strcpy(cmd->req.role, "user");   /* least privilege unless asked */
	for (size_t k = 0; k < NOPTIONS; k++) {
		if (!val[k])
			continue;
		if (!(cmd->verb->opts & options[k].bit)) {
			snprintf(err, errlen, "%s%s%s does not take %s", cmd->verb->word,
				 cmd->verb->sub ? " " : "", cmd->verb->sub ? cmd->verb->sub : "", options[k].name);
			return -EINVAL;
		}
		if (set_option(cmd, options[k].bit, options[k].name, val[k], now, err, errlen))
			return -EINVAL;
	}
	if (cmd->req.since && cmd->req.until && cmd->req.since > cmd->req.until) {
		snprintf(err, errlen, "--since is after --until");
		return -EINVAL;
	}
	return 0;
}

/* The first line of f, without its line end.  The password is never an
 * argument: arguments are visible to every user in /proc. */
static int read_password(FILE *f, char *out, size_t size, char *err, size_t errlen)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0' || n + 1 >= size) {
			snprintf(err, errlen, c == '\0' ? "the password contains a NUL byte"
				 : "the password is longer than %zu bytes", size - 1);
			explicit_bzero(out, size);
			return -EINVAL;
		}
		out[n++] = (char)c;
	}
	if (n > 0 && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "expected the password on the first line of stdin");
		return -EINVAL;
	}
	return 0;
}

/* ---- output ---- */

/*
 * Text from the server for a terminal.  Audit rows carry requests as
 * received from the network: control characters (C0, DEL, and C1 in UTF-8)
 * are shown escaped, so a crafted request cannot drive the admin's terminal.
 */
static char *text_safe(const char *s)
{
	char *out = malloc(strlen(s) * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			o += sprintf(o, "\\x%02x", *p);
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			o += sprintf(o, "\\u%04x", p[1]);
			p++;
		} else {
			*o++ = (char)*p;
		}
	}
	*o = '\0';
	return out;
}

/* Display width of UTF-8 text: one column per character, near enough. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static bool is_time_key(const char *key)
{
	static const char *const keys[] = { "time", "created", "granted", "expires", "started", "updated" };
	size_t n = strlen(key);

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return n > 3 && strcmp(key + n - 3, "_at") == 0;
}

/* One value as text (malloc'd): times as RFC 3339 UTC, absent or null as "-". */
static char *value_text(const char *key, json_t *v)
{
	char buf[64], *dump, *s;

	if (!v || json_is_null(v))
		return strdup("-");
	if (json_is_string(v))
		return text_safe(json_string_value(v));
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);
		time_t t = (time_t)x;
		struct tm tm;

		if (is_time_key(key) && x > 0 && gmtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
			return strdup(buf);
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, x);
		return strdup(buf);
	}
	if (json_is_real(v)) {
		snprintf(buf, sizeof(buf), "%g", json_real_value(v));
		return strdup(buf);
	}
	if (json_is_boolean(v))
		return strdup(json_is_true(v) ? "true" : "false");
	dump = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
	if (!dump)
		return NULL;
	s = text_safe(dump);
	free(dump);
	return s;
}

static void print_json(FILE *out, json_t *v)
{
	/* Compact and ASCII-only: exactly one line per object, whatever the
	 * server's formatting, and nothing a terminal would interpret. */
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);

	if (!s)
		return;
	/* jansson leaves DEL as it is; it can only be inside a string, where
	 * \u007f means the same. */
	for (const char *p = s; *p; p++) {
		if (*p == 0x7f)
			fputs("\\u007f", out);
		else
			fputc(*p, out);
	}
	fputc('\n', out);
	free(s);
}

/* status: "key: value" lines, nested objects as dotted keys. */
static void print_pairs(FILE *out, const char *prefix, json_t *obj)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		char name[256];
		char *k = text_safe(key), *s;

		snprintf(name, sizeof(name), "%s%s", prefix, k ? k : "?");
		free(k);
		if (json_is_object(v) && json_object_size(v) > 0) {
			char sub[sizeof(name) + 1];

			snprintf(sub, sizeof(sub), "%s.", name);
			print_pairs(out, sub, v);
			continue;
		}
		s = value_text(key, v);
		fprintf(out, "%s: %s\n", name, s ? s : "?");
		free(s);
	}
}

/* audit: "seq time transport source status reason request". */
static void print_audit_line(FILE *out, json_t *row)
{
	static const char *const cols[] = { "seq", "time", "transport", "source", "status", "reason", "request" };

	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		char *s = value_text(cols[i], json_object_get(row, cols[i]));

		fprintf(out, "%s%s", i ? " " : "", s ? s : "?");
		free(s);
	}
	fputc('\n', out);
}

/* A table: the preferred columns first, then any other key in the order
 * first seen, so fields the server adds later still show. */
static void print_table(FILE *out, json_t *rows, const char *const *preferred)
{
	json_t *cols = json_array(), *row, *col;
	size_t ncols, nrows = json_array_size(rows), i, c;
	size_t *width = NULL;
	char **cell = NULL;
	const char *key;
	json_t *v;

	if (!cols || nrows == 0)
		goto out;
	for (const char *const *p = preferred; *p; p++) {
		json_array_foreach(rows, i, row) {
			if (json_object_get(row, *p)) {
				json_array_append_new(cols, json_string(*p));
				break;
			}
		}
	}
	json_array_foreach(rows, i, row) {
		json_object_foreach(row, key, v) {
			bool have = false;

			json_array_foreach(cols, c, col)
				have = have || strcmp(json_string_value(col), key) == 0;
			if (!have)
				json_array_append_new(cols, json_string(key));
		}
	}
	ncols = json_array_size(cols);
	width = calloc(ncols ? ncols : 1, sizeof(*width));
	cell = calloc((nrows + 1) * (ncols ? ncols : 1), sizeof(*cell));
	if (!width || !cell)
		goto out;
	for (c = 0; c < ncols; c++) {
		const char *name = json_string_value(json_array_get(cols, c));
		char *h = text_safe(name);

		for (char *p = h; p && *p; p++)
			*p = (char)toupper((unsigned char)*p);
		cell[c] = h;
		for (i = 0; i < nrows; i++)
			cell[(i + 1) * ncols + c] = value_text(name, json_object_get(json_array_get(rows, i), name));
	}
	for (i = 0; i <= nrows; i++)
		for (c = 0; c < ncols; c++)
			if (cell[i * ncols + c] && text_width(cell[i * ncols + c]) > width[c])
				width[c] = text_width(cell[i * ncols + c]);
	for (i = 0; i <= nrows; i++) {
		for (c = 0; c < ncols; c++) {
			const char *s = cell[i * ncols + c] ? cell[i * ncols + c] : "?";

			if (c + 1 == ncols)
				fprintf(out, "%s\n", s);
			else
				fprintf(out, "%s%*s", s, (int)(width[c] - text_width(s) + 2), "");
		}
	}
out:
	if (cell)
		for (i = 0; i < (nrows + 1) * json_array_size(cols); i++)
			free(cell[i]);
	free(cell);
	free(width);
	json_decref(cols);
}

static const char *const trust_cols[] = { "pattern", "origin", "created", NULL };
static const char *const consent_cols[] = { "source", "granted", "expires", NULL };

struct printer {
	FILE *out;
	bool json;
	unsigned type;           /* enum ipc_type of the request */
	json_t *rows;            /* table rows, kept to size the columns */
	unsigned nrows;
	bool failed;             /* a row could not be shown */
};

static void printer_init(struct printer *p, FILE *out, bool json, unsigned type)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->json = json;
	p->type = type;
}

static void printer_row(struct printer *p, const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	if (!v) {
		/* jansson quotes the offending bytes: they go to a terminal too. */
		char *why = text_safe(jerr.text);

		fprintf(stderr, "aurictl: the server sent a row that is not JSON (%s)\n", why ? why : "?");
		free(why);
		p->failed = true;
		return;
	}
	if (p->json || !json_is_object(v)) {
		print_json(p->out, v);
	} else if (p->type == IPC_ADMIN_STATUS) {
		if (p->nrows++)
			fputc('\n', p->out);
		print_pairs(p->out, "", v);
	} else if (p->type == IPC_ADMIN_AUDIT) {
		print_audit_line(p->out, v);
	} else if (p->type == IPC_ADMIN_TRUST_LIST || p->type == IPC_ADMIN_CONSENT_LIST) {
		if (!p->rows)
			p->rows = json_array();
		if (p->rows && json_array_size(p->rows) < AURICTL_TABLE_MAX) {
			json_array_append(p->rows, v);
		} else if (!p->failed) {
			fprintf(stderr, "aurictl: more than %d rows; use --json for all of them\n", AURICTL_TABLE_MAX);
			p->failed = true;
		}
	} else {
		print_json(p->out, v);
	}
	json_decref(v);
}

/* End of the answer: the table, if any.  With show false (the answer never
 * came) kept rows are dropped: half a table would look like a whole one. */
static void printer_finish(struct printer *p, bool show)
{
	if (p->rows && show)
		print_table(p->out, p->rows, p->type == IPC_ADMIN_TRUST_LIST ? trust_cols : consent_cols);
	json_decref(p->rows);
	p->rows = NULL;
}

/* ---- the exchange ---- */

static int connect_admin(const char *path, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	/* parse_args has checked the length; checked again so this function
	 * can never truncate a path. */
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	do
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

static const char *connect_hint(int r)
{
	switch (r) {
	case -ENOENT:
	case -ECONNREFUSED: return " (is aurid running?)";
	default: return "";
	}
}

/* The name of the group that owns the socket file (aurid-admin when aurid
 * runs as root): its members may connect. */
static void socket_group(const char *path, char *name, size_t len)
{
	struct stat st;
	struct group *gr;

	if (stat(path, &st) != 0)
		snprintf(name, len, "aurid-admin");
	else if ((gr = getgrgid(st.st_gid)))
		snprintf(name, len, "%s", gr->gr_name);
	else
		snprintf(name, len, "%u", (unsigned)st.st_gid);
}

/*
 * Permission denied, by the socket's file mode (at connect) or by aurid,
 * which closes a connection it refuses before any greeting (it does the
 * same when it has too many admin connections: its log tells which).
 */
static void permission_denied(const char *path, bool by_aurid)
{
	char group[64];

	socket_group(path, group, sizeof(group));
	if (!by_aurid)
		fprintf(stderr, "aurictl: cannot connect to %s: permission denied: not root and not in "
			"group %s\n", path, group);
	else
		fprintf(stderr, "aurictl: aurid refused the connection on %s: permission denied: only root "
			"and group %s may administer aurid, never a service user (aurid's log says why)\n",
			path, group);
}

/* Sends the request and shows the answer; the exit status (0 or 1). */
static int exchange(struct ipc_chan *c, const struct aurictl_cmd *cmd, union ipc_payload *m)
{
	struct printer pr;
	int r, status = 1;

	r = ipc_chan_send(c, cmd->verb->type, AURICTL_REQUEST_ID, &cmd->req, -1);
	if (r) {
		fprintf(stderr, "aurictl: cannot send the request: %s\n", strerror(-r));
		return 1;
	}
	printer_init(&pr, stdout, cmd->json, cmd->verb->type);
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN | (ipc_chan_want_write(c) ? POLLOUT : 0) };
		unsigned type;
		uint32_t id;
		int fd;

		/* Datagrams read ahead (recvmmsg) are not seen by poll(). */
		r = ipc_chan_pending(c) ? 1 : poll(&p, 1, AURICTL_ANSWER_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "aurictl: %s\n", r == 0 ? "no answer from aurid within 30 s" : strerror(errno));
			break;
		}
		if (ipc_chan_want_write(c) && (r = ipc_chan_flush(c)) != 0 && r != -EAGAIN) {
			fprintf(stderr, "aurictl: cannot send the request: %s\n", strerror(-r));
			break;
		}
		r = ipc_chan_recv(c, &type, &id, m, &fd);
		if (r == -EAGAIN)
			continue;
		if (r == 0 && id != AURICTL_REQUEST_ID)
			r = -EPROTO;
		if (r == 0 && type == IPC_ADMIN_ROW) {
			printer_row(&pr, m->admin_row.json);
			continue;
		}
		if (r == 0 && type == IPC_ADMIN_RES) {
			printer_finish(&pr, true);
			if (m->admin_res.ok) {
				if (!cmd->json && m->admin_res.message[0]) {
					char *s = text_safe(m->admin_res.message);

					printf("%s\n", s ? s : "done");
					free(s);
				}
				status = pr.failed ? 1 : 0;
			} else {
				char *s = text_safe(m->admin_res.message);

				fprintf(stderr, "aurictl: %s\n", s && s[0] ? s : "refused");
				free(s);
			}
			break;
		}
		fprintf(stderr, "aurictl: %s\n", r == -EPIPE ? "aurid closed the connection before answering"
			: "aurid sent a malformed answer");
		break;
	}
	printer_finish(&pr, false);
	return status;
}

static int run(const struct aurictl_cmd *cmd)
{
	struct ipc_chan c;
	union ipc_payload *m;
	int fd = -1, r, status;

	r = connect_admin(cmd->socket, &fd);
	if (r == -EACCES || r == -EPERM) {
		permission_denied(cmd->socket, false);
		return 1;
	}
	if (r) {
		fprintf(stderr, "aurictl: cannot connect to %s: %s%s\n", cmd->socket, strerror(-r), connect_hint(r));
		return 1;
	}
	r = ipc_chan_init(&c, fd, IPC_ROLE_ADMIN, IPC_ROLE_EXEC);
	if (r) {
		close(fd);
		fprintf(stderr, "aurictl: %s\n", strerror(-r));
		return 1;
	}
	r = ipc_chan_handshake(&c, AURICTL_HELLO_MS);
	if (r == -EPIPE || r == -ECONNRESET) {
		permission_denied(cmd->socket, true);
		ipc_chan_close(&c);
		return 1;
	}
	if (r) {
		fprintf(stderr, "aurictl: no greeting from aurid on %s: %s\n", cmd->socket,
			r == -EPROTO ? "wrong protocol or version" : strerror(-r));
		ipc_chan_close(&c);
		return 1;
	}
	/* A message is larger than is comfortable on the stack. */
	m = malloc(sizeof(*m));
	if (!m) {
		ipc_chan_close(&c);
		fprintf(stderr, "aurictl: out of memory\n");
		return 1;
	}
	status = exchange(&c, cmd, m);
	free(m);
	ipc_chan_close(&c);
	return status;
}

static int aurictl_main(int argc, char **argv)
{
	struct aurictl_cmd cmd;
	char err[512];
	int status;

	if (parse_args(argc, argv, (int64_t)time(NULL), &cmd, err, sizeof(err))) {
		fprintf(stderr, "aurictl: %s\n", err);
		usage(stderr);
		return 2;
	}
	if (cmd.help) {
		usage(stdout);
		return 0;
	}
	if (cmd.verb->password) {
		if (isatty(STDIN_FILENO))
			fputs("password: ", stderr);
		if (read_password(stdin, cmd.req.arg2, sizeof(cmd.req.arg2), err, sizeof(err))) {
			fprintf(stderr, "aurictl: %s\n", err);
			return 1;
		}
	}
	status = run(&cmd);
	explicit_bzero(&cmd.req, sizeof(cmd.req));
	/* Output that did not reach its destination is a failure too. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "aurictl: cannot write the output: %s\n", strerror(errno));
		return 1;
	}
	return status;
}

#ifndef AURICTL_TEST
int main(int argc, char **argv)
{
	return aurictl_main(argc, argv);
}
#endif
