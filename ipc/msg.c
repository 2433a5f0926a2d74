/* The one table of IPC message types. */
#include "ipc.h"

#include <stddef.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define F_INT(s, f, k) { #f, k, offsetof(struct s, f), sizeof(((struct s *)0)->f), 0, 0, NULL, 0 }
#define F_U8(s, f)  F_INT(s, f, IPC_F_U8)
#define F_U16(s, f) F_INT(s, f, IPC_F_U16)
#define F_U32(s, f) F_INT(s, f, IPC_F_U32)
#define F_U64(s, f) F_INT(s, f, IPC_F_U64)
#define F_I64(s, f) F_INT(s, f, IPC_F_I64)
#define F_STR(s, f) { #f, IPC_F_STR, offsetof(struct s, f), sizeof(((struct s *)0)->f), 0, 0, NULL, 0 }
#define F_BYTES(s, f, cnt) { #f, IPC_F_BYTES, offsetof(struct s, f), sizeof(((struct s *)0)->f), 0, \
		offsetof(struct s, cnt), NULL, 0 }
#define F_ARRAY(s, f, cnt, sub) { #f, IPC_F_ARRAY, offsetof(struct s, f), sizeof(((struct s *)0)->f[0]), \
		NELEM(((struct s *)0)->f), offsetof(struct s, cnt), sub, NELEM(sub) }


static const struct ipc_field hello_fields[] = {
	F_U32(ipc_hello, version),
	F_U8(ipc_hello, role),
};

static const struct ipc_field config_set_fields[] = {
	F_STR(ipc_config_set, key),
	F_STR(ipc_config_set, value),
};

static const struct ipc_field peer_channel_fields[] = {
	F_U8(ipc_peer_channel, role),
};

static const struct ipc_field action_req_fields[] = {
	F_U8(ipc_action_req, transport),
	F_U8(ipc_action_req, kind),
	F_U16(ipc_action_req, front_status),
	F_STR(ipc_action_req, error),
	F_STR(ipc_action_req, peer),
	F_U16(ipc_action_req, peer_port),
	F_U8(ipc_action_req, auth_scheme),
	F_STR(ipc_action_req, user),
	F_STR(ipc_action_req, password),
	F_STR(ipc_action_req, fetch_site),
	F_STR(ipc_action_req, fetch_mode),
	F_STR(ipc_action_req, fetch_dest),
	F_STR(ipc_action_req, host),
	F_STR(ipc_action_req, origin),
	F_STR(ipc_action_req, local),
	F_STR(ipc_action_req, method),
	F_STR(ipc_action_req, text),
	F_U64(ipc_action_req, t_recv_ns),
	F_U8(ipc_action_req, flags),
	F_STR(ipc_action_req, d_realm),
	F_STR(ipc_action_req, d_nonce),
	F_STR(ipc_action_req, d_nc),
	F_STR(ipc_action_req, d_cnonce),
	F_STR(ipc_action_req, d_qop),
	F_STR(ipc_action_req, d_response),
};

static const struct ipc_field item_result_fields[] = {
	F_U8(ipc_item_result, outcome),
	F_STR(ipc_item_result, text),
};

static const struct ipc_field action_res_fields[] = {
	F_U16(ipc_action_res, status),
	F_STR(ipc_action_res, reason),
	F_STR(ipc_action_res, message),
	F_U64(ipc_action_res, audit_seq),
	F_U32(ipc_action_res, retry_after),
	F_STR(ipc_action_res, nonce),
	F_U8(ipc_action_res, stale),
	F_ARRAY(ipc_action_res, items, nitems, item_result_fields),
	F_STR(ipc_action_res, body),
};

static const struct ipc_field admin_none_fields[] = {
	{ "none", IPC_F_U8, 0, 0, 0, 0, NULL, 0 },  /* placeholder, never used: nfields = 0 */
};

static const struct ipc_field admin_arg_fields[] = {
	F_STR(ipc_admin_req, arg),
};

static const struct ipc_field admin_arg2_fields[] = {
	F_STR(ipc_admin_req, arg),
	F_STR(ipc_admin_req, arg2),
};

static const struct ipc_field admin_user_add_fields[] = {
	F_STR(ipc_admin_req, arg),
	F_STR(ipc_admin_req, arg2),
	F_STR(ipc_admin_req, role),
};

static const struct ipc_field admin_audit_fields[] = {
	F_I64(ipc_admin_req, since),
	F_I64(ipc_admin_req, until),
	F_STR(ipc_admin_req, source),
	F_STR(ipc_admin_req, outcome),
	F_U32(ipc_admin_req, limit),
};

static const struct ipc_field admin_row_fields[] = {
	F_STR(ipc_admin_row, json),
};

static const struct ipc_field admin_res_fields[] = {
	F_U8(ipc_admin_res, ok),
	F_STR(ipc_admin_res, message),
};

static const struct ipc_field screenshot_res_fields[] = {
	F_U16(ipc_screenshot_res, status),
	F_STR(ipc_screenshot_res, reason),
	F_U64(ipc_screenshot_res, audit_seq),
	F_U32(ipc_screenshot_res, width),
	F_U32(ipc_screenshot_res, height),
	F_U32(ipc_screenshot_res, stride),
	F_I64(ipc_screenshot_res, captured),
	F_STR(ipc_screenshot_res, model),
};

static const struct ipc_field sip_state_fields[] = {
	F_STR(ipc_sip_state, trusted),
	F_U8(ipc_sip_state, reg_state),
	F_U8(ipc_sip_state, reg_tcp),
	F_STR(ipc_sip_state, registrar),
	F_STR(ipc_sip_state, detail),
};

static const struct ipc_field tls_cert_fields[] = {
	F_STR(ipc_tls_cert, chain),
};

static const struct ipc_field tls_sign_req_fields[] = {
	F_U16(ipc_tls_sign_req, alg),
	F_BYTES(ipc_tls_sign_req, in, in_len),
};

static const struct ipc_field tls_sign_res_fields[] = {
	F_U8(ipc_tls_sign_res, ok),
	F_BYTES(ipc_tls_sign_res, sig, sig_len),
};

static const struct ipc_field system_run_fields[] = {
	F_U8(ipc_system_run, op),
};

static const struct ipc_field service_id_fields[] = {
	F_U8(ipc_service_id, role),
	F_U32(ipc_service_id, uid),
	F_U32(ipc_service_id, gid),
	F_U32(ipc_service_id, pid),
};

static const struct ipc_field service_ids_fields[] = {
	F_U8(ipc_service_ids, separate_users),
	F_U32(ipc_service_ids, admin_gid),
	F_ARRAY(ipc_service_ids, services, nservices, service_id_fields),
};

static const struct ipc_field sandbox_level_fields[] = {
	F_STR(ipc_sandbox_level, level),
};

/* Who may send which type on which channel is the dispatch table's (permit.c). */
#define DEF(t, fd, s, f) [t] = { t, #t, fd, sizeof(struct s), f, NELEM(f), 0, 0 }
#define DEF0(t, s) [t] = { t, #t, false, sizeof(struct s), admin_none_fields, 0, 0, 0 }

static struct ipc_msg_def defs[IPC_TYPE_COUNT] = {
	DEF(IPC_HELLO, false, ipc_hello, hello_fields),
	DEF(IPC_CONFIG_SET, false, ipc_config_set, config_set_fields),
	DEF0(IPC_START, ipc_start),
	DEF(IPC_PEER_CHANNEL, true, ipc_peer_channel, peer_channel_fields),
	DEF(IPC_ACTION_REQ, false, ipc_action_req, action_req_fields),
	DEF(IPC_ACTION_RES, false, ipc_action_res, action_res_fields),
	DEF0(IPC_ADMIN_STATUS, ipc_admin_req),
	DEF0(IPC_ADMIN_TRUST_LIST, ipc_admin_req),
	DEF(IPC_ADMIN_TRUST_ADD, false, ipc_admin_req, admin_arg_fields),
	DEF(IPC_ADMIN_TRUST_REMOVE, false, ipc_admin_req, admin_arg_fields),
	DEF0(IPC_ADMIN_CONSENT_LIST, ipc_admin_req),
	DEF(IPC_ADMIN_CONSENT_REVOKE, false, ipc_admin_req, admin_arg_fields),
	DEF(IPC_ADMIN_AUDIT, false, ipc_admin_req, admin_audit_fields),
	DEF(IPC_ADMIN_USER_ADD, false, ipc_admin_req, admin_user_add_fields),
	DEF(IPC_ADMIN_USER_PASSWD, false, ipc_admin_req, admin_arg2_fields),
	DEF(IPC_ADMIN_SIM_PRESS, false, ipc_admin_req, admin_arg_fields),
	DEF(IPC_ADMIN_ROW, false, ipc_admin_row, admin_row_fields),
	DEF(IPC_ADMIN_RES, false, ipc_admin_res, admin_res_fields),
	DEF(IPC_SCREENSHOT_RES, true, ipc_screenshot_res, screenshot_res_fields),
	DEF(IPC_SIP_STATE, false, ipc_sip_state, sip_state_fields),
	DEF(IPC_SANDBOX_LEVEL, false, ipc_sandbox_level, sandbox_level_fields),
	DEF(IPC_SYSTEM_RUN, false, ipc_system_run, system_run_fields),
	DEF(IPC_TLS_CERT, false, ipc_tls_cert, tls_cert_fields),
	DEF(IPC_TLS_SIGN_REQ, false, ipc_tls_sign_req, tls_sign_req_fields),
	DEF(IPC_TLS_SIGN_RES, false, ipc_tls_sign_res, tls_sign_res_fields),
	DEF(IPC_SERVICE_IDS, false, ipc_service_ids, service_ids_fields),
};

static size_t field_len(const struct ipc_field *f, size_t n, int want_max)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		switch (f[i].kind) {
		case IPC_F_U8: len += 1; break;
		case IPC_F_U16: len += 2; break;
		case IPC_F_U32: len += 4; break;
		case IPC_F_U64:
		case IPC_F_I64: len += 8; break;
		case IPC_F_STR: len += 2 + (want_max ? f[i].size - 1 : 0); break;
		case IPC_F_BYTES: len += 2 + (want_max ? f[i].size : 0); break;
		case IPC_F_ARRAY:
			len += 2 + (want_max ? f[i].max * field_len(f[i].sub, f[i].nsub, 1) : 0);
			break;
		}
	}
	return len;
}

const struct ipc_msg_def *ipc_msg_def(unsigned type)
{
	struct ipc_msg_def *d;

	if (type == 0 || type >= IPC_TYPE_COUNT)
		return NULL;
	d = &defs[type];
	if (d->max_len == 0 && d->nfields > 0) {
		/* Bounds derive from the fields; computed once, idempotently. */
		d->min_len = field_len(d->fields, d->nfields, 0);
		d->max_len = field_len(d->fields, d->nfields, 1);
	}
	return d;
}

const char *ipc_role_name(enum ipc_role role)
{
	switch (role) {
	case IPC_ROLE_SUPERVISOR: return "supervisor";
	case IPC_ROLE_EXEC: return "exec";
	case IPC_ROLE_HTTP: return "http";
	case IPC_ROLE_SIP: return "sip";
	case IPC_ROLE_ADMIN: return "admin";
	default: return "none";
	}
}

const char *ipc_op_name(enum ipc_op op)
{
	static const char *const names[OP_COUNT] = {
		[OP_NONE] = "none", [OP_KEY] = "key", [OP_DIAL] = "dial",
		[OP_ANSWER] = "answer", [OP_OFFHOOK] = "offhook", [OP_ONHOOK] = "onhook",
		[OP_CALLEND] = "callend", [OP_ANSWER_ID] = "answer-id",
		[OP_CANCEL_ID] = "cancel-id", [OP_HOLD_ID] = "hold-id",
		[OP_UNHOLD_ID] = "unhold-id", [OP_UNHOLD] = "unhold",
		[OP_ATRANS] = "atrans", [OP_BTRANS] = "btrans", [OP_DND_ON] = "dnd-on",
		[OP_DND_OFF] = "dnd-off", [OP_FWD_ON] = "fwd-on", [OP_FWD_OFF] = "fwd-off",
		[OP_PHONECFG_GET] = "phonecfg-get", [OP_REBOOT] = "reboot",
		[OP_AUTOP] = "autop", [OP_RESET] = "reset",
	};

	if ((unsigned)op >= OP_COUNT)
		return "invalid";
	return names[op];
}

const char *ipc_outcome_name(unsigned outcome)
{
	switch (outcome) {
	case IPC_OUTCOME_OK: return "ok";
	case IPC_OUTCOME_IGNORED: return "ignored";
	case IPC_OUTCOME_UNSUPPORTED: return "unsupported";
	case IPC_OUTCOME_FAILED: return "failed";
	default: return "not-run";
	}
}

const char *ipc_transport_name(unsigned transport)
{
	switch (transport) {
	case IPC_TRANSPORT_HTTP: return "http";
	case IPC_TRANSPORT_HTTPS: return "https";
	case IPC_TRANSPORT_SIP: return "sip";
	case IPC_TRANSPORT_ADMIN: return "admin";
	default: return "unknown";
	}
}
