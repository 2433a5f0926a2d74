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
 */
#ifndef AURID_ACTION_GRAMMAR_H
#define AURID_ACTION_GRAMMAR_H

#include "../../ipc/ipc.h"
#include "config.h"

#include <stdbool.h>
#include <stddef.h>

#define ACTION_TEXT_MAX 2048     /* bytes of query or body accepted */

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
 * Parses a whole query string or NOTIFY body.  0, or -EINVAL with err set to
 * a short reason naming the offending item ("unknown key 'FOO'"), or
 * -E2BIG when the text or the number of items is over the limits.
 */
int action_parse(const char *text, size_t len, struct action_request *out, char *err, size_t errlen);

/* The route and capability class of an op (the executor uses these too). */
enum action_route action_op_route(enum ipc_op op);
enum config_cap action_op_capability(enum ipc_op op);
const char *action_route_name(enum action_route r);

/* Canonical key name for a key item text ("cancel" -> "X", "#" -> "POUND",
 * "hold" -> "F_HOLD", "l3" -> "L3"); NULL if it is not a key name. */
const char *action_key_canonical(const char *name, char *buf, size_t buflen);

/* Decodes %XX in place semantics: out gets at most outlen-1 bytes.  -EINVAL
 * on a malformed escape or an encoded NUL. */
int action_percent_decode(const char *in, size_t len, char *out, size_t outlen, size_t *outn);

#endif
