/*
 * Reading an action request from a front-end (request.c): the channel's
 * rule, then the executor's own parse of the text.
 */
#ifndef AURID_EXEC_REQUEST_H
#define AURID_EXEC_REQUEST_H

#include "../../ipc/ipc.h"

/*
 * 0 if req may come on the channel of role (http: http or https, no SIP
 * flag; sip: sip, no web credentials or web headers, no screenshot, no HTTP
 * flag; neither claims a legacy login), else -EPROTO with *why: the
 * channel is then closed.
 */
int request_channel_check(enum ipc_role role, const struct ipc_action_req *req, const char **why);

/*
 * Fills the fields that are not on the wire (request, items, wait_ms) and
 * a legacy login's credentials from req->text; a text the grammar refuses
 * sets front_status and error (400, 413 or 414) as the front-end's reading
 * would have.
 */
void request_read(struct ipc_action_req *req);

#endif
