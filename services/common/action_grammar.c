/*
 * The action language of DESIGN.md section 5.
 *
 * The text is parsed in one pass over its '&'-separated parameters.  Each
 * parameter is percent-decoded and trimmed before it is looked at, and every
 * item is checked here, so the executor never sees an item this parser did
 * not understand.  Anything that cannot be given one clear meaning (a
 * duplicated parameter, an outgoing_uri without a number to attach it to)
 * fails the whole text: two parsers reading one request differently is how
 * a front-end check is bypassed.
 */
#include "action_grammar.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ITEM_TEXT_MAX (sizeof(((struct ipc_item *)0)->text) - 1)
#define ITEM_ARG_MAX  (sizeof(((struct ipc_item *)0)->arg) - 1)
#define USER_MAX      (sizeof(((struct action_request *)0)->user) - 1)
#define PASSWORD_MAX  (sizeof(((struct action_request *)0)->password) - 1)
#define CALL_ID_MAX   2147483647u
#define WAIT_MS_MAX   60000u
#define RING_SECS_MAX 600u
#define ERR_QUOTE_MAX 40        /* bytes of the offending text quoted in err */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- names ---- */

struct key_name {
	const char *name;
	const char *canon;
};

/* L1..L99 and the digits are recognised by shape, not listed. */
static const struct key_name key_names[] = {
	{ "OK", "OK" },
	{ "ENTER", "ENTER" },
	{ "SPEAKER", "SPEAKER" },
	{ "F_TRANSFER", "F_TRANSFER" },
	{ "VOLUME_UP", "VOLUME_UP" },
	{ "VOLUME_DOWN", "VOLUME_DOWN" },
	{ "MUTE", "MUTE" },
	{ "F_HOLD", "F_HOLD" },
	{ "X", "X" },
	{ "F_CONFERENCE", "F_CONFERENCE" },
	{ "F1", "F1" },
	{ "F2", "F2" },
	{ "F3", "F3" },
	{ "F4", "F4" },
	{ "MSG", "MSG" },
	{ "HEADSET", "HEADSET" },
	{ "RD", "RD" },
	{ "UP", "UP" },
	{ "DOWN", "DOWN" },
	{ "LEFT", "LEFT" },
	{ "RIGHT", "RIGHT" },
	{ "MENU", "MENU" },
	/* Yealink's aliases.  The keymap names * and # STAR and POUND. */
	{ "CANCEL", "X" },
	{ "HOLD", "F_HOLD" },
	{ "POUND", "POUND" },
	{ "STAR", "STAR" },
	{ "*", "STAR" },
	{ "#", "POUND" },
};

struct op_name {
	const char *name;
	enum ipc_op op;
	uint32_t num;
};

/* Items that are a bare word. */
static const struct op_name word_ops[] = {
	{ "ANSWER", OP_ANSWER, 0 },
	{ "ASW", OP_ANSWER, 0 },
	{ "OFFHOOK", OP_OFFHOOK, 0 },
	{ "ONHOOK", OP_ONHOOK, 0 },
	{ "CALLEND", OP_CALLEND, 0 },
	{ "UNHOLD", OP_UNHOLD, 0 },
	{ "DNDOn", OP_DND_ON, 0 },
	{ "DNDOff", OP_DND_OFF, 0 },
	{ "AlwaysFwdOff", OP_FWD_OFF, IPC_FWD_ALWAYS },
	{ "BusyFwdOff", OP_FWD_OFF, IPC_FWD_BUSY },
	{ "NoAnswFwdOff", OP_FWD_OFF, IPC_FWD_NOANSWER },
	{ "Reboot", OP_REBOOT, 0 },
	{ "AutoP", OP_AUTOP, 0 },
	{ "Reset", OP_RESET, 0 },
};

/* Items of the form NAME:id (a call id from Action URL's $call_id). */
static const struct op_name id_ops[] = {
	{ "ASW", OP_ANSWER_ID, 0 },
	{ "CANCEL", OP_CANCEL_ID, 0 },
	{ "HOLD", OP_HOLD_ID, 0 },
	{ "UNHOLD", OP_UNHOLD_ID, 0 },
};

/* Items of the form NAME=value. */
static const struct op_name value_ops[] = {
	{ "number", OP_DIAL, 0 },
	{ "ATrans", OP_ATRANS, 0 },
	{ "BTrans", OP_BTRANS, 0 },
	{ "AlwaysFwdOn", OP_FWD_ON, IPC_FWD_ALWAYS },
	{ "BusyFwdOn", OP_FWD_ON, IPC_FWD_BUSY },
	{ "NoAnswFwdOn", OP_FWD_ON, IPC_FWD_NOANSWER },
};

/* Top-level parameters this parser reads; every other name is ignored. */
enum param_id {
	PARAM_KEY, PARAM_NUMBER, PARAM_OUTGOING_URI, PARAM_PHONECFG,
	PARAM_ACCOUNTS, PARAM_DND, PARAM_FW, PARAM_WAIT,
	PARAM_P, PARAM_Q, PARAM_USERNAME, PARAM_PWD, PARAM_JUMPTO,
	PARAM_COUNT
};

static const char *const param_names[PARAM_COUNT] = {
	[PARAM_KEY] = "key",
	[PARAM_NUMBER] = "number",
	[PARAM_OUTGOING_URI] = "outgoing_uri",
	[PARAM_PHONECFG] = "phonecfg",
	[PARAM_ACCOUNTS] = "accounts",
	[PARAM_DND] = "dnd",
	[PARAM_FW] = "fw",
	[PARAM_WAIT] = "wait",
	[PARAM_P] = "p",
	[PARAM_Q] = "q",
	[PARAM_USERNAME] = "username",
	[PARAM_PWD] = "pwd",
	[PARAM_JUMPTO] = "jumpto",
};

/* ---- small helpers ---- */

static bool name_is(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

static const struct op_name *op_lookup(const struct op_name *tab, size_t ntab, const char *s, size_t n)
{
	for (size_t i = 0; i < ntab; i++) {
		if (name_is(s, n, tab[i].name))
			return &tab[i];
	}
	return NULL;
}

static bool is_trim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *trim(const char *s, size_t *n)
{
	while (*n > 0 && is_trim(s[0])) {
		s++;
		(*n)--;
	}
	while (*n > 0 && is_trim(s[*n - 1]))
		(*n)--;
	return s;
}

static bool is_dtmf(char c)
{
	return (c >= '0' && c <= '9') || c == '*' || c == '#';
}

static bool is_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

/* Plain decimal, no sign, no spaces: "+5" or " 5" is not a number here. */
static int parse_uint(const char *s, size_t n, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!is_digits(s, n) || n > 10)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/*
 * A dial number, outgoing URI or transfer/forward target: 1-127 bytes of
 * printable ASCII, without space and without the characters that would let
 * it break out of a query, a SIP header, a shell word or HTML.  '@', ':',
 * '+', '*', '#', '[' and ']' stay allowed, so SIP URIs (also with an IPv6
 * host) and E.164 numbers work.
 */
static bool target_valid(const char *s, size_t n)
{
	if (n == 0 || n > ITEM_ARG_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e || strchr(";&<>\"'\\", c))
			return false;
	}
	return true;
}

static void copy_str(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ---- public helpers ---- */

int action_percent_decode(const char *in, size_t len, char *out, size_t outlen, size_t *outn)
{
	size_t o = 0;
	int rc = 0;

	if (outn)
		*outn = 0;
	if (!out || outlen == 0)
		return -EINVAL;
	if (len > 0 && !in) {
		out[0] = '\0';
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '%') {
			int hi = len - i >= 3 ? hex_value(in[i + 1]) : -1;
			int lo = len - i >= 3 ? hex_value(in[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				rc = -EINVAL;
				break;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		/* A NUL would cut the C string the rest of aurid sees. */
		if (c == '\0') {
			rc = -EINVAL;
			break;
		}
		if (o + 1 >= outlen) {
			rc = -E2BIG;
			break;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (rc == 0 && outn)
		*outn = o;
	return rc;
}

/* L1..L99: one or two digits, no leading zero, so each line key has one name. */
static bool is_line_key(const char *s, size_t n)
{
	if (n < 2 || n > 3 || (s[0] != 'L' && s[0] != 'l'))
		return false;
	return s[1] != '0' && is_digits(s + 1, n - 1);
}

const char *action_key_canonical(const char *name, char *buf, size_t buflen)
{
	const char *canon = NULL;
	char shaped[4];
	size_t n;

	if (!name || !buf || buflen == 0)
		return NULL;
	n = strlen(name);
	if (n == 1 && name[0] >= '0' && name[0] <= '9') {
		shaped[0] = name[0];
		shaped[1] = '\0';
		canon = shaped;
	} else if (is_line_key(name, n)) {
		shaped[0] = 'L';
		memcpy(shaped + 1, name + 1, n - 1);
		shaped[n] = '\0';
		canon = shaped;
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(key_names); i++) {
			if (strcasecmp(name, key_names[i].name) == 0) {
				canon = key_names[i].canon;
				break;
			}
		}
	}
	if (!canon || strlen(canon) >= buflen)
		return NULL;
	memcpy(buf, canon, strlen(canon) + 1);
	return buf;
}

enum action_route action_op_route(enum ipc_op op)
{
	switch (op) {
	case OP_KEY:
		return ROUTE_KEY;
	case OP_PHONECFG_GET:
		return ROUTE_READ;
	case OP_REBOOT:
	case OP_AUTOP:
		return ROUTE_SYSTEM;
	case OP_RESET:
		return ROUTE_RESET;
	case OP_DIAL:
	case OP_ANSWER:
	case OP_OFFHOOK:
	case OP_ONHOOK:
	case OP_CALLEND:
	case OP_ANSWER_ID:
	case OP_CANCEL_ID:
	case OP_HOLD_ID:
	case OP_UNHOLD_ID:
	case OP_UNHOLD:
	case OP_ATRANS:
	case OP_BTRANS:
	case OP_DND_ON:
	case OP_DND_OFF:
	case OP_FWD_ON:
	case OP_FWD_OFF:
		return ROUTE_CALL;
	case OP_NONE:
	case OP_COUNT:
		break;
	}
	/* The op came over IPC as a byte: anything else routes nowhere. */
	return ROUTE_NONE;
}

enum config_cap action_op_capability(enum ipc_op op)
{
	switch (op) {
	case OP_KEY:
		return CAP_KEYS;
	case OP_DIAL:
		return CAP_DIAL;
	case OP_PHONECFG_GET:
		return CAP_READ;
	case OP_REBOOT:
	case OP_AUTOP:
		return CAP_SYSTEM;
	case OP_RESET:
		return CAP_RESET;
	default:
		break;
	}
	if (action_op_route(op) == ROUTE_CALL)
		return CAP_CALL;
	/* An invalid op gets the most guarded class (off by default), and still a
	 * valid index for the callers' per-capability arrays. */
	return CAP_RESET;
}

const char *action_route_name(enum action_route r)
{
	switch (r) {
	case ROUTE_KEY:
		return "key";
	case ROUTE_CALL:
		return "call";
	case ROUTE_READ:
		return "read";
	case ROUTE_SYSTEM:
		return "system";
	case ROUTE_RESET:
		return "reset";
	case ROUTE_NONE:
		break;
	}
	return "none";
}

/* ---- the parser ---- */

struct parse {
	struct action_request *out;
	char *err;
	size_t errlen;
	unsigned seen;               /* bit per enum param_id */
	bool p_login, q_login;
	char uri[ITEM_ARG_MAX + 1];
	size_t cfg_item;             /* index of the phonecfg item, if seen */
	unsigned cfg_given, cfg_on;  /* IPC_PHONECFG_* bits */
	const char *cfg_bad;         /* name of a flag whose value is not 0 or 1 */
};

/*
 * Sets err to "what 'quoted'".  The quoted text came from the network and
 * ends up in an HTTP body and the audit log, so it is cut short and every
 * byte that is not plain printable ASCII is shown as '?'.
 */
static int fail(struct parse *p, int rc, const char *what, const char *s, size_t n)
{
	char q[ERR_QUOTE_MAX + 4];
	size_t o = 0;

	if (!p->err || p->errlen == 0)
		return rc;
	if (!s) {
		snprintf(p->err, p->errlen, "%s", what);
		return rc;
	}
	for (size_t i = 0; i < n && o < ERR_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		q[o++] = (c < 0x20 || c > 0x7e || c == '\'') ? '?' : (char)c;
	}
	if (n > ERR_QUOTE_MAX) {
		memcpy(q + o, "...", 3);
		o += 3;
	}
	q[o] = '\0';
	snprintf(p->err, p->errlen, "%s '%s'", what, q);
	return rc;
}

static int item_add(struct parse *p, enum ipc_op op, const char *text, size_t tlen, struct ipc_item **it)
{
	struct action_request *out = p->out;

	if (tlen > ITEM_TEXT_MAX)
		return fail(p, -EINVAL, "item too long", text, tlen);
	if (out->nitems >= IPC_ITEMS_MAX)
		return fail(p, -E2BIG, "too many items (at most 64)", NULL, 0);
	*it = &out->items[out->nitems++];
	(*it)->op = (uint8_t)op;
	copy_str((*it)->text, sizeof((*it)->text), text, tlen);
	return 0;
}

static int key_add(struct parse *p, const char *text, size_t tlen, const char *canon)
{
	struct ipc_item *it;
	int rc = item_add(p, OP_KEY, text, tlen, &it);

	if (rc < 0)
		return rc;
	copy_str(it->arg, sizeof(it->arg), canon, strlen(canon));
	return 0;
}

/*
 * ATrans=T[:id] and BTrans=T[:id].  A target may itself contain ':' (a SIP
 * URI, with or without a port), so ":id" is only split off a plain target:
 * one without '@' or another ':' and not a bare URI scheme.  "202:7" is 202
 * with call 7; "sip:202", "sip:202@pbx:5060" and "202@pbx:5060" are targets.
 */
static int parse_transfer(struct parse *p, struct ipc_item *it, const char *item, size_t ilen,
			  const char *v, size_t n)
{
	size_t colon = n;
	size_t tlen = n;

	for (size_t i = n; i > 0; i--) {
		if (v[i - 1] == ':') {
			colon = i - 1;
			break;
		}
	}
	if (colon < n && !memchr(v, ':', colon) && !memchr(v, '@', colon) &&
	    !name_is(v, colon, "sip") && !name_is(v, colon, "sips") && !name_is(v, colon, "tel")) {
		if (parse_uint(v + colon + 1, n - colon - 1, 1, CALL_ID_MAX, &it->num) < 0)
			return fail(p, -EINVAL, "bad call id in", item, ilen);
		tlen = colon;
	}
	if (!target_valid(v, tlen))
		return fail(p, -EINVAL, "bad transfer target in", item, ilen);
	copy_str(it->arg, sizeof(it->arg), v, tlen);
	return 0;
}

/* NAME=value items (number=, ATrans=, AlwaysFwdOn= ...). */
static int parse_value_item(struct parse *p, const char *s, size_t n, size_t eq)
{
	const struct op_name *o = op_lookup(value_ops, ARRAY_SIZE(value_ops), s, eq);
	const char *v = s + eq + 1;
	size_t vn = n - eq - 1;
	struct ipc_item *it;
	int rc;

	if (!o)
		return fail(p, -EINVAL, "unknown key", s, n);
	rc = item_add(p, o->op, s, n, &it);
	if (rc < 0)
		return rc;
	it->num = o->num;
	switch (o->op) {
	case OP_DIAL:
		if (!target_valid(v, vn))
			return fail(p, -EINVAL, "bad number in", s, n);
		copy_str(it->arg, sizeof(it->arg), v, vn);
		return 0;
	case OP_ATRANS:
	case OP_BTRANS:
		return parse_transfer(p, it, s, n, v, vn);
	default:
		break;
	}
	/* Forwarding: AlwaysFwdOn=T, BusyFwdOn=T, NoAnswFwdOn=T=secs. */
	if (o->num == IPC_FWD_NOANSWER) {
		const char *secs = NULL;

		/* The last '=': the seconds are always the final field. */
		for (size_t i = vn; i > 0 && !secs; i--) {
			if (v[i - 1] == '=')
				secs = v + i - 1;
		}
		if (!secs || parse_uint(secs + 1, vn - (size_t)(secs - v) - 1, 0, RING_SECS_MAX, &it->num2) < 0)
			return fail(p, -EINVAL, "NoAnswFwdOn needs target=seconds (0-600) in", s, n);
		vn = (size_t)(secs - v);
	}
	if (!target_valid(v, vn))
		return fail(p, -EINVAL, "bad forward target in", s, n);
	copy_str(it->arg, sizeof(it->arg), v, vn);
	return 0;
}

/* NAME:id items.  The name alone is something else (CANCEL is the X key). */
static int parse_id_item(struct parse *p, const char *s, size_t n, size_t colon)
{
	const struct op_name *o = op_lookup(id_ops, ARRAY_SIZE(id_ops), s, colon);
	struct ipc_item *it;
	int rc;

	if (!o)
		return fail(p, -EINVAL, "unknown key", s, n);
	rc = item_add(p, o->op, s, n, &it);
	if (rc < 0)
		return rc;
	if (parse_uint(s + colon + 1, n - colon - 1, 1, CALL_ID_MAX, &it->num) < 0)
		return fail(p, -EINVAL, "bad call id in", s, n);
	return 0;
}

/* One ';'-separated item of a key= value, already trimmed and non-empty. */
static int parse_item(struct parse *p, const char *s, size_t n)
{
	const struct op_name *o;
	char name[ITEM_TEXT_MAX + 1];
	char canon[ACTION_KEY_NAME_MAX];
	const char *sep;

	/* Checked first, so a long digit run fails the same way as a long word. */
	if (n > ITEM_TEXT_MAX)
		return fail(p, -EINVAL, "item too long", s, n);
	if (is_dtmf(s[0])) {
		size_t i;

		for (i = 0; i < n && is_dtmf(s[i]); i++)
			;
		if (i == n) {
			/* key=123 is three presses, each answered on its own line. */
			for (i = 0; i < n; i++) {
				char one[2] = { s[i], '\0' };
				int rc = key_add(p, s + i, 1, action_key_canonical(one, canon, sizeof(canon)));

				if (rc < 0)
					return rc;
			}
			return 0;
		}
	}
	sep = memchr(s, '=', n);
	if (sep)
		return parse_value_item(p, s, n, (size_t)(sep - s));
	sep = memchr(s, ':', n);
	if (sep)
		return parse_id_item(p, s, n, (size_t)(sep - s));
	o = op_lookup(word_ops, ARRAY_SIZE(word_ops), s, n);
	if (o) {
		struct ipc_item *it;
		int rc = item_add(p, o->op, s, n, &it);

		if (rc < 0)
			return rc;
		it->num = o->num;
		return 0;
	}
	/* The caller never passes a NUL (raw and %00 are refused), but the
	 * lookup below works on a C string: make sure it sees all of s. */
	if (memchr(s, '\0', n))
		return fail(p, -EINVAL, "unknown key", s, n);
	copy_str(name, sizeof(name), s, n);
	if (action_key_canonical(name, canon, sizeof(canon)))
		return key_add(p, s, n, canon);
	if (op_lookup(value_ops, ARRAY_SIZE(value_ops), s, n))
		return fail(p, -EINVAL, "missing '=value' after", s, n);
	return fail(p, -EINVAL, "unknown key", s, n);
}

static int parse_key(struct parse *p, const char *v, size_t n)
{
	bool any = false;

	v = trim(v, &n);
	while (n > 0) {
		const char *semi = memchr(v, ';', n);
		size_t len = semi ? (size_t)(semi - v) : n;
		size_t ilen = len;
		const char *item = trim(v, &ilen);

		if (ilen > 0) {
			int rc = parse_item(p, item, ilen);

			if (rc < 0)
				return rc;
			any = true;
		}
		if (!semi)
			break;
		v += len + 1;
		n -= len + 1;
	}
	if (!any)
		return fail(p, -EINVAL, "empty key", NULL, 0);
	return 0;
}

/*
 * phonecfg=get[&accounts=1][&dnd=1]: the guide's brackets mean "optional",
 * but clients send them literally.  They end up on the edges of the decoded
 * name and value, where they are dropped.  Only the phonecfg parameters get
 * this: in other values (an IPv6 outgoing_uri) a bracket is data.
 */
static const char *strip_brackets(const char *s, size_t *n)
{
	while (*n > 0 && (s[0] == '[' || s[0] == ']')) {
		s++;
		(*n)--;
	}
	while (*n > 0 && (s[*n - 1] == '[' || s[*n - 1] == ']'))
		(*n)--;
	return trim(s, n);
}

static int param_lookup(const char *name, size_t n)
{
	for (int i = 0; i < PARAM_COUNT; i++) {
		if (name_is(name, n, param_names[i]))
			return i;
	}
	return -1;
}

static int parse_flag(struct parse *p, unsigned bit, const char *name, const char *v, size_t n)
{
	v = strip_brackets(v, &n);
	p->cfg_given |= bit;
	if (n == 1 && v[0] == '1')
		p->cfg_on |= bit;
	else if (!(n == 1 && v[0] == '0') && !p->cfg_bad)
		p->cfg_bad = name;
	return 0;
}

/* The keyless number=N (query or NOTIFY body); text is as written. */
static int parse_number(struct parse *p, const char *name, size_t nn, const char *v, size_t vn)
{
	char text[ITEM_TEXT_MAX + 2];
	struct ipc_item *it;
	size_t tlen;
	int rc;

	if (!target_valid(v, vn))
		return fail(p, -EINVAL, "bad number", v, vn);
	if (nn + 1 + vn > ITEM_TEXT_MAX)
		return fail(p, -EINVAL, "item too long", v, vn);
	memcpy(text, name, nn);
	text[nn] = '=';
	memcpy(text + nn + 1, v, vn);
	tlen = nn + 1 + vn;
	rc = item_add(p, OP_DIAL, text, tlen, &it);
	if (rc < 0)
		return rc;
	copy_str(it->arg, sizeof(it->arg), v, vn);
	return 0;
}

static int parse_param(struct parse *p, const char *raw, size_t rawlen)
{
	/* Static size: the whole text is at most ACTION_TEXT_MAX bytes. */
	char nbuf[ACTION_TEXT_MAX + 1], vbuf[ACTION_TEXT_MAX + 1];
	const char *eq = memchr(raw, '=', rawlen);
	size_t nraw = eq ? (size_t)(eq - raw) : rawlen;
	const char *name, *v;
	size_t nn, vn;
	struct ipc_item *it;
	uint32_t u;
	int id, rc;

	if (rawlen == 0)
		return 0;
	/* Split on the raw '=' first: an encoded %3D is data, not a separator. */
	rc = action_percent_decode(raw, nraw, nbuf, sizeof(nbuf), &nn);
	vn = 0;
	vbuf[0] = '\0';
	if (rc == 0 && eq)
		rc = action_percent_decode(eq + 1, rawlen - nraw - 1, vbuf, sizeof(vbuf), &vn);
	if (rc < 0)
		return fail(p, -EINVAL, "bad percent escape in", raw, rawlen);
	name = trim(nbuf, &nn);
	v = trim(vbuf, &vn);

	id = param_lookup(name, nn);
	if (id < 0) {
		size_t bn = nn;
		const char *bname = strip_brackets(name, &bn);

		id = param_lookup(bname, bn);
		if (id != PARAM_ACCOUNTS && id != PARAM_DND && id != PARAM_FW)
			return 0;       /* unknown parameters are ignored, like the phones do */
	}
	/* Once only: which of two usernames or two key= values counts would be
	 * a guess, and a front-end and a log reader might guess differently. */
	if (p->seen & (1u << id))
		return fail(p, -EINVAL, "duplicate parameter", param_names[id], strlen(param_names[id]));
	p->seen |= 1u << id;

	switch ((enum param_id)id) {
	case PARAM_KEY:
		return parse_key(p, v, vn);
	case PARAM_NUMBER:
		return parse_number(p, name, nn, v, vn);
	case PARAM_OUTGOING_URI:
		if (!target_valid(v, vn))
			return fail(p, -EINVAL, "bad outgoing_uri", v, vn);
		copy_str(p->uri, sizeof(p->uri), v, vn);
		return 0;
	case PARAM_PHONECFG:
		v = strip_brackets(v, &vn);
		if (!name_is(v, vn, "get"))
			return fail(p, -EINVAL, "unsupported phonecfg", v, vn);
		rc = item_add(p, OP_PHONECFG_GET, "phonecfg=get", strlen("phonecfg=get"), &it);
		if (rc < 0)
			return rc;
		p->cfg_item = p->out->nitems - 1;
		return 0;
	case PARAM_ACCOUNTS:
		return parse_flag(p, IPC_PHONECFG_ACCOUNTS, "accounts", v, vn);
	case PARAM_DND:
		return parse_flag(p, IPC_PHONECFG_DND, "dnd", v, vn);
	case PARAM_FW:
		return parse_flag(p, IPC_PHONECFG_FW, "fw", v, vn);
	case PARAM_WAIT:
		if (parse_uint(v, vn, 0, WAIT_MS_MAX, &u) < 0)
			return fail(p, -EINVAL, "bad wait (0-60000 ms)", v, vn);
		p->out->wait_ms = u;
		return 0;
	case PARAM_P:
		p->p_login = name_is(v, vn, "login");
		return 0;
	case PARAM_Q:
		p->q_login = name_is(v, vn, "login");
		return 0;
	case PARAM_USERNAME:
		if (vn > USER_MAX)
			return fail(p, -EINVAL, "username too long", NULL, 0);
		copy_str(p->out->user, sizeof(p->out->user), v, vn);
		return 0;
	case PARAM_PWD:
		if (vn > PASSWORD_MAX)
			return fail(p, -EINVAL, "pwd too long", NULL, 0);
		copy_str(p->out->password, sizeof(p->out->password), v, vn);
		return 0;
	case PARAM_JUMPTO:
	case PARAM_COUNT:
		break;
	}
	return 0;
}

/* What can only be decided once every parameter has been read. */
static int parse_finish(struct parse *p)
{
	struct action_request *out = p->out;
	const unsigned actions = (1u << PARAM_KEY) | (1u << PARAM_NUMBER) | (1u << PARAM_PHONECFG);

	if (!(p->seen & actions) || out->nitems == 0)
		return fail(p, -EINVAL, "no action", NULL, 0);
	if (p->seen & (1u << PARAM_OUTGOING_URI)) {
		struct ipc_item *dial = NULL;

		for (size_t i = 0; i < out->nitems; i++) {
			if (out->items[i].op != OP_DIAL)
				continue;
			if (dial)
				return fail(p, -EINVAL, "outgoing_uri with more than one number", NULL, 0);
			dial = &out->items[i];
		}
		if (!dial)
			return fail(p, -EINVAL, "outgoing_uri without number", NULL, 0);
		memcpy(dial->arg2, p->uri, sizeof(p->uri));
	}
	if (p->seen & (1u << PARAM_PHONECFG)) {
		if (p->cfg_bad)
			return fail(p, -EINVAL, "phonecfg flag must be 0 or 1:", p->cfg_bad, strlen(p->cfg_bad));
		out->items[p->cfg_item].num = p->cfg_given ? p->cfg_on :
			IPC_PHONECFG_ACCOUNTS | IPC_PHONECFG_DND | IPC_PHONECFG_FW;
	}
	/* Credentials only count in the complete legacy form; a stray
	 * username= is an unknown parameter like any other. */
	out->legacy_login = p->p_login && p->q_login;
	if (!out->legacy_login) {
		memset(out->user, 0, sizeof(out->user));
		memset(out->password, 0, sizeof(out->password));
	}
	return 0;
}

int action_parse(const char *text, size_t len, struct action_request *out, char *err, size_t errlen)
{
	struct parse p = { .out = out, .err = err, .errlen = err ? errlen : 0 };
	int rc = 0;

	if (p.errlen)
		err[0] = '\0';
	if (!out)
		return fail(&p, -EINVAL, "no output", NULL, 0);
	memset(out, 0, sizeof(*out));
	if (len > ACTION_TEXT_MAX)
		return fail(&p, -E2BIG, "text too long (at most 2048 bytes)", NULL, 0);
	if (len == 0 || !text)
		return fail(&p, -EINVAL, "no action", NULL, 0);
	if (memchr(text, '\0', len))
		return fail(&p, -EINVAL, "NUL byte in text", NULL, 0);
	for (size_t i = 0; i <= len && rc == 0;) {
		const char *amp = memchr(text + i, '&', len - i);
		size_t n = amp ? (size_t)(amp - (text + i)) : len - i;

		rc = parse_param(&p, text + i, n);
		i += n + 1;
	}
	if (rc == 0)
		rc = parse_finish(&p);
	if (rc < 0) {
		/* Nothing of a failed text may look like a valid request. */
		memset(out, 0, sizeof(*out));
		if (p.errlen && !err[0])
			snprintf(err, p.errlen, "bad request");
	}
	return rc;
}

/*
 * Is the parameter at p (n bytes to the end of the text) one the parser
 * reads as pwd=?  The parser percent-decodes and trims a name before it
 * looks it up, so " pwd", "pwd%20" and "%70wd" name the password too.  An
 * escape the parser would refuse is taken as written: the text then fails,
 * but its value may still be a password someone typed.  *name_len: the raw
 * name's length, up to its '='.
 */
static bool param_is_pwd(const char *p, size_t n, size_t *name_len)
{
	char name[3];
	size_t k = 0, i = 0;
	bool gap = false;         /* a blank after the name's first byte */

	while (i < n && p[i] != '=' && p[i] != '&') {
		char c = p[i];

		if (c == '%' && n - i >= 3 && hex_value(p[i + 1]) >= 0 && hex_value(p[i + 2]) >= 0) {
			c = (char)(hex_value(p[i + 1]) << 4 | hex_value(p[i + 2]));
			i += 3;
		} else {
			i++;
		}
		if (is_trim(c)) {
			gap = k > 0;
			continue;
		}
		if (gap || k == sizeof(name))
			return false;
		name[k++] = c;
	}
	if (i == n || p[i] != '=' || k != sizeof(name) || strncasecmp(name, "pwd", 3) != 0)
		return false;
	*name_len = i;
	return true;
}

/* ':' or '@' as written, or percent-encoded (%3A, %40): its length, or 0. */
static size_t delim_at(const char *p, size_t n, char want)
{
	if (n >= 1 && p[0] == want)
		return 1;
	if (n >= 3 && p[0] == '%' && hex_value(p[1]) >= 0 && hex_value(p[2]) >= 0 &&
	    (char)(hex_value(p[1]) << 4 | hex_value(p[2])) == want)
		return 3;
	return 0;
}

/*
 * Does text[i] start the userinfo of a URI with a password -- after "//"
 * ("http://user:pass@host") or after a "sip:" / "sips:" scheme
 * ("sip:1006:pass@pbx")?  Then *colon is where "user" ends and *at where the
 * host part begins ('@' or %40), both inside the authority (which ends at
 * / ? # & ; < > space or quote).
 */
static bool userinfo_at(const char *text, size_t len, size_t i, size_t *colon, size_t *at)
{
	bool start = (i >= 2 && text[i - 2] == '/' && text[i - 1] == '/') ||
		     (i >= 4 && strncasecmp(text + i - 4, "sip:", 4) == 0) ||
		     (i >= 5 && strncasecmp(text + i - 5, "sips:", 5) == 0);
	size_t end = i, c = 0, a = 0;

	if (!start)
		return false;
	while (end < len && !strchr("/?#&;<> \"'", text[end]))
		end++;
	for (size_t k = i; k < end; k++) {
		if (!c && delim_at(text + k, end - k, ':'))
			c = k;
		if (delim_at(text + k, end - k, '@'))
			a = k;
	}
	if (!c || !a || c > a)
		return false;
	*colon = c;
	*at = a;
	return true;
}

void action_audit_text(char *out, size_t outlen, const char *prefix, const char *text, size_t len)
{
	size_t mask_from = 0, mask_to = 0;   /* a userinfo password being skipped */

	size_t o = 0;

	if (outlen == 0)
		return;
	for (; *prefix && o + 1 < outlen; prefix++)
		out[o++] = *prefix;
	for (size_t i = 0; i < len && o + 1 < outlen;) {
		bool at_param = i == 0 || text[i - 1] == '?' || text[i - 1] == '&';
		char c = text[i];
		size_t nl;

		/* A URI's password: the user stays, ":***" stands for the
		 * rest of the userinfo, and the copy goes on at its '@'. */
		if (i >= mask_to)
			(void)userinfo_at(text, len, i, &mask_from, &mask_to);
		if (i == mask_from && mask_to > mask_from) {
			for (const char *m = ":***"; *m && o + 1 < outlen; m++)
				out[o++] = *m;
			i = mask_to;
			continue;
		}
		if (at_param && param_is_pwd(text + i, len - i, &nl)) {
			for (const char *m = "pwd=***"; *m && o + 1 < outlen; m++)
				out[o++] = *m;
			i += nl + 1;
			while (i < len && text[i] != '&')
				i++;
			continue;
		}
		if (c == '\r' || c == '\n' || c == '\t')
			c = ' ';
		else if (c < 0x20 || c > 0x7e)
			c = '?';
		out[o++] = c;
		i++;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}
