/*
 * The action language of DESIGN.md section 5: one parser, two callers (the
 * HTTP query string and the SIP NOTIFY body).
 *
 * Accepted text (after the path): an optional legacy login prefix
 * "p=login&q=login&username=U&pwd=P&jumpto=J&", then one of
 *   key=V1;V2;...            (parameter name case-insensitive)
 *   number=N[&outgoing_uri=U] (keyless dial)
 *   phonecfg=get[&accounts=0|1][&dnd=0|1][&fw=0|1]  (literal [ ] tolerated)
 * with a trailing '&' ignored.  Values are percent-decoded ("+" stays "+"),
 * trimmed of space, tab, CR and LF, and split on ';'.  Every item is checked
 * before the caller runs any: one bad item fails the whole text.
 *
 * Details the callers rely on:
 * - Parameters are split on the raw '&' and '=' before decoding, so %26 and
 *   %3D are data; %3B inside key= is a ';' separator (decoded, then split).
 *   A malformed escape or a NUL anywhere, even in an ignored parameter,
 *   fails the text.
 * - Unknown parameter names are ignored; each parameter the parser reads
 *   (key, number, outgoing_uri, phonecfg, accounts, dnd, fw, wait, p, q,
 *   username, pwd, jumpto) may appear only once.  key=, number= and
 *   phonecfg= may be combined; items come out in the order written.
 * - outgoing_uri= (anywhere in the text) goes to arg2 of the one OP_DIAL
 *   item; with no or several OP_DIAL items it is an error.
 * - OP_KEY items: arg is the canonical name (digits, STAR, POUND, L1..L99,
 *   X for CANCEL, F_HOLD for HOLD ...), text the item as written; a run of
 *   digits / * / # gives one item per character, text that character.
 * - Item text is at most 63 bytes as written, or the text fails; so a dial
 *   number inside key= ("number=N") can have at most 56 bytes.  Targets and
 *   outgoing_uri: 1-127 bytes of printable ASCII without space ; & < > " ' \.
 * - ATrans=T:id / BTrans=T:id split ":id" off only a plain target (no '@',
 *   no other ':', not "sip"/"sips"/"tel"); "sip:202@pbx:5060" is a target.
 * - phonecfg: with none of accounts/dnd/fw given, num has all three bits;
 *   with some given, exactly those =1 (so num may be 0: status only).
 * - legacy_login is set only when both p=login and q=login are present;
 *   user and password are filled only then.
 * - On failure *out is all zero, and err (if given) is set to a short reason
 *   in which bytes from the text are printable ASCII only.
 */
#ifndef AURID_ACTION_GRAMMAR_H
#define AURID_ACTION_GRAMMAR_H

#include "../../ipc/ipc.h"
#include "config.h"

#include <stdbool.h>
#include <stddef.h>

#define ACTION_TEXT_MAX 2048     /* bytes of query or body accepted */
#define ACTION_KEY_NAME_MAX 16   /* buffer for a canonical key name, NUL included */

enum action_route { ROUTE_NONE = 0, ROUTE_KEY, ROUTE_CALL, ROUTE_READ, ROUTE_SYSTEM, ROUTE_RESET };

struct action_request {
	struct ipc_item items[IPC_ITEMS_MAX];
	size_t nitems;
	bool legacy_login;           /* the p=login&q=login prefix was present */
	char user[64];
	char password[128];
	unsigned wait_ms;            /* wait=MS parameter, 0 if absent */
};

/*
 * Parses a whole query string or NOTIFY body.  0 (at least one item), or
 * -EINVAL with err set to a short reason naming the offending item
 * ("unknown key 'FOO'"), or -E2BIG when the text (ACTION_TEXT_MAX bytes) or
 * the number of items (IPC_ITEMS_MAX) is over the limits.  err may be NULL.
 */
int action_parse(const char *text, size_t len, struct action_request *out, char *err, size_t errlen);

/*
 * The route and capability class of an op (the executor uses these too).
 * An op outside the enum (it arrives over IPC as a byte) has ROUTE_NONE and
 * capability CAP_RESET, the most guarded class, which is still a valid index.
 * action_route_name(ROUTE_NONE) is "none".
 */
enum action_route action_op_route(enum ipc_op op);
enum config_cap action_op_capability(enum ipc_op op);
const char *action_route_name(enum action_route r);

/* Canonical key name for a key item text ("cancel" -> "X", "#" -> "POUND",
 * "hold" -> "F_HOLD", "l3" -> "L3"), written to buf (ACTION_KEY_NAME_MAX
 * bytes are enough)
 * and returned; NULL if it is not a key name (a digit run "123" is not one)
 * or buf is too small. */
const char *action_key_canonical(const char *name, char *buf, size_t buflen);

/* Decodes the %XX escapes of in[0..len) into out, NUL-terminated; "+" is
 * kept.  *outn (may be NULL) gets the decoded length.  -EINVAL on a
 * malformed escape or a NUL (encoded or raw), -E2BIG if the result needs
 * more than outlen-1 bytes; out is NUL-terminated in every case. */
int action_percent_decode(const char *in, size_t len, char *out, size_t outlen, size_t *outn);

/*
 * The request as the audit keeps it: prefix then text (a request line or a
 * NOTIFY body), on one printable line -- CR, LF and TAB become spaces, other
 * control and non-ASCII bytes '?' -- with the legacy login prefix's pwd=
 * value masked (a parameter starts the text or follows '?' or '&'; its name
 * is read as the parser reads names, percent-decoded, trimmed and in any
 * case, so "%70wd=" and " pwd =" are masked too), and the password of a
 * URI's userinfo ("http://user:pass@", "sip:1006:pass@", with ':' and '@'
 * as written or %3A / %40) written as "user:***@"; cut to outlen-1 bytes.
 * The audit never holds a password.
 */
void action_audit_text(char *out, size_t outlen, const char *prefix, const char *text, size_t len);

#endif
