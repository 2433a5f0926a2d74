/*
 * aurid IPC: the messages the processes exchange, their bounded codec and the
 * channel that carries them (SOCK_SEQPACKET, one message per datagram, fds by
 * SCM_RIGHTS).
 *
 * Every message type is declared once, in the table of msg.c (name, number,
 * who may send it, whether it carries an fd, and its fields).  The codec, the
 * channel's sender check and the protocol dump test are all driven from that
 * table, so no length check is written by hand.
 *
 * Wire format of one datagram: u16 type, u16 zero, u32 request id, then the
 * fields of the type in table order, little-endian; a string is a u16 length
 * and that many bytes (no NUL, no embedded NUL); bytes are a u16 length and
 * that many octets (any value); an array is a u16 count and that many
 * elements.  Trailing bytes are an error.
 */
#ifndef AURID_IPC_H
#define AURID_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IPC_VERSION      2
#define IPC_MSG_MAX      16384   /* bytes in one datagram, header included */
#define IPC_HDR_LEN      8
#define IPC_QUEUE_MAX    1024    /* messages waiting to be written on a channel */
#define IPC_ITEMS_MAX    64      /* items in one action request */

/* Roles: what a peer is, known from the channel it is on (never from a field). */
enum ipc_role {
	IPC_ROLE_NONE = 0,
	IPC_ROLE_SUPERVISOR = 1,
	IPC_ROLE_EXEC = 2,
	IPC_ROLE_HTTP = 3,
	IPC_ROLE_SIP = 4,
	IPC_ROLE_ADMIN = 5,
};
#define IPC_ROLE_BIT(r) (1u << (r))

enum ipc_type {
	IPC_HELLO = 1,          /* any <-> any: version check, first message */
	IPC_CONFIG_SET,         /* supervisor -> child: one config key/value */
	IPC_START,              /* supervisor -> child: config complete, run */
	IPC_PEER_CHANNEL,       /* supervisor -> child: fd of a channel to a peer */
	IPC_ACTION_REQ,         /* front-end -> exec */
	IPC_ACTION_RES,         /* exec -> front-end */
	IPC_ADMIN_STATUS,       /* aurictl -> exec, each answered by ADMIN_ROW* ADMIN_RES */
	IPC_ADMIN_TRUST_LIST,
	IPC_ADMIN_TRUST_ADD,
	IPC_ADMIN_TRUST_REMOVE,
	IPC_ADMIN_CONSENT_LIST,
	IPC_ADMIN_CONSENT_REVOKE,
	IPC_ADMIN_AUDIT,
	IPC_ADMIN_USER_ADD,
	IPC_ADMIN_USER_PASSWD,
	IPC_ADMIN_SIM_PRESS,
	IPC_ADMIN_ROW,          /* exec -> aurictl: one JSON object */
	IPC_ADMIN_RES,          /* exec -> aurictl: end of an answer */
	IPC_SCREENSHOT_RES,     /* exec -> front-end: a captured frame, fd = sealed memfd */
	IPC_SIP_STATE,          /* aurid-sip -> exec: trusted server addresses, registration */
	IPC_SANDBOX_LEVEL,      /* child -> supervisor: the sandbox it entered, for the log */
	IPC_SYSTEM_RUN,         /* exec -> supervisor: run the Reboot/AutoP/Reset command */
	IPC_TLS_CERT,           /* exec -> http: the certificate chain, when the channel comes up */
	IPC_TLS_SIGN_REQ,       /* http -> exec: sign a TLS handshake's input with the server key */
	IPC_TLS_SIGN_RES,       /* exec -> http: the signature, or a refusal */
	IPC_SERVICE_IDS,        /* supervisor -> exec: who the services are, for the admin socket */
	IPC_TYPE_COUNT
};

enum ipc_transport {
	IPC_TRANSPORT_HTTP = 1,
	IPC_TRANSPORT_HTTPS = 2,
	IPC_TRANSPORT_SIP = 3,
	IPC_TRANSPORT_ADMIN = 4,
};

enum ipc_auth_scheme {
	IPC_AUTH_NONE = 0,
	IPC_AUTH_BASIC = 1,     /* Authorization: Basic, or user:pass@ in the URL */
	IPC_AUTH_LEGACY = 2,    /* p=login&q=login&username=..&pwd=.. prefix */
	IPC_AUTH_DIGEST_MD5 = 3,    /* RFC 7616; user = username, d_* fields */
	IPC_AUTH_DIGEST_SHA256 = 4,
};

/* What a request asks for.  Items are only in ACTION requests. */
enum ipc_kind {
	IPC_KIND_ACTION = 1,
	IPC_KIND_SCREENSHOT = 2,   /* no items; answered by IPC_SCREENSHOT_RES */
};

/*
 * Operations of the action language (DESIGN.md section 5).  The front-end
 * parses text into these; the executor derives route and capability class
 * from the op itself and checks the arguments again.
 */
enum ipc_op {
	OP_NONE = 0,
	OP_KEY,          /* arg: canonical key name (OK, F1, 5, STAR, POUND, L3 ...) */
	OP_DIAL,         /* arg: number, arg2: outgoing_uri (may be empty) */
	OP_ANSWER,       /* ANSWER, ASW */
	OP_OFFHOOK,
	OP_ONHOOK,
	OP_CALLEND,
	OP_ANSWER_ID,    /* ASW:id    num: call id */
	OP_CANCEL_ID,    /* CANCEL:id */
	OP_HOLD_ID,      /* HOLD:id */
	OP_UNHOLD_ID,    /* UNHOLD:id */
	OP_UNHOLD,
	OP_ATRANS,       /* arg: target, num: call id or 0 */
	OP_BTRANS,       /* arg: target, num: call id or 0 */
	OP_DND_ON,
	OP_DND_OFF,
	OP_FWD_ON,       /* num: enum ipc_fwd, arg: target, num2: ring seconds */
	OP_FWD_OFF,      /* num: enum ipc_fwd */
	OP_PHONECFG_GET, /* num: IPC_PHONECFG_* bits */
	OP_REBOOT,
	OP_AUTOP,
	OP_RESET,
	OP_COUNT
};

enum ipc_fwd { IPC_FWD_ALWAYS = 1, IPC_FWD_BUSY = 2, IPC_FWD_NOANSWER = 3 };

#define IPC_PHONECFG_ACCOUNTS 0x1u
#define IPC_PHONECFG_DND      0x2u
#define IPC_PHONECFG_FW       0x4u

enum ipc_outcome {
	IPC_OUTCOME_OK = 0,
	IPC_OUTCOME_IGNORED = 1,
	IPC_OUTCOME_UNSUPPORTED = 2,
	IPC_OUTCOME_FAILED = 3,
	IPC_OUTCOME_NOT_RUN = 4,  /* refused before it ran */
};

/* ---- message bodies (decoded form; strings are NUL-terminated here) ---- */

struct ipc_hello {
	uint32_t version;
	uint8_t role;
};

struct ipc_config_set {
	char key[96];
	char value[1024];
};

struct ipc_start {
	uint8_t unused;
};

struct ipc_peer_channel {
	uint8_t role;            /* role of the process at the other end of the fd */
};

struct ipc_item {
	uint8_t op;              /* enum ipc_op */
	uint32_t num;
	uint32_t num2;
	char text[64];           /* the item as written (for answers and audit) */
	char arg[128];
	char arg2[128];
};

/*
 * What a front-end saw, not what it concluded: the executor parses the
 * action text itself, computes Digest's HA2 itself, and takes the transport
 * from the channel (a transport that does not match the channel closes it).
 */
#define IPC_TEXT_MAX 4096        /* bytes of request target or NOTIFY body */

struct ipc_action_req {
	uint8_t transport;       /* enum ipc_transport: http or https on the http channel, sip on the sip channel */
	uint8_t kind;            /* enum ipc_kind */
	uint16_t front_status;   /* 0, or the 4xx the front-end's reading gave (or the executor's parse of text) */
	char error[128];         /* why, when front_status != 0 */
	char peer[64];           /* source address, normalised text */
	uint16_t peer_port;
	uint8_t auth_scheme;     /* enum ipc_auth_scheme: none, basic or Digest (legacy is the executor's finding) */
	char user[64];
	char password[128];
	char fetch_site[32];     /* Sec-Fetch-Site, empty if absent */
	char fetch_mode[32];     /* Sec-Fetch-Mode, empty if absent */
	char fetch_dest[32];     /* Sec-Fetch-Dest, empty if absent */
	char host[256];          /* Host as presented, empty if absent or empty */
	char origin[256];        /* Origin as presented, empty if absent */
	char local[64];          /* the address the connection was accepted on, normalised text */
	char method[16];         /* the HTTP method; "NOTIFY" over SIP */
	char text[IPC_TEXT_MAX + 1]; /* HTTP: the request target as received; SIP: the NOTIFY body */
	uint64_t t_recv_ns;      /* CLOCK_MONOTONIC when the front-end received it */
	uint8_t flags;           /* IPC_REQ_* */
	/* Digest: the Authorization fields as presented.  The executor holds
	 * HA1, computes HA2 = H(method ":" text) itself (so the response binds
	 * the very target whose items it runs) and decides. */
	char d_realm[32];
	char d_nonce[64];
	char d_nc[12];
	char d_cnonce[80];
	char d_qop[16];
	char d_response[72];
	/*
	 * Not on the wire: the executor fills these from its own parse of
	 * text (executor_read_request) before any decision.
	 */
	char request[512];       /* the audit's text: method and target, or NOTIFY and body, no password */
	uint32_t wait_ms;
	uint16_t nitems;
	struct ipc_item items[IPC_ITEMS_MAX];
};

/* The NOTIFY came over the TCP connection aurid-sip registered over. */
#define IPC_REQ_SIP_REGISTERED_FLOW 0x1u
/* The HTTP request line said HTTP/1.0 (which, unlike 1.1, may omit Host). */
#define IPC_REQ_HTTP_1_0            0x2u

enum ipc_sip_reg {
	IPC_SIP_REG_OFF = 0,        /* registration not configured */
	IPC_SIP_REG_TRYING = 1,
	IPC_SIP_REG_OK = 2,
	IPC_SIP_REG_FAILED = 3,
};

/*
 * What aurid-sip knows that the SIP trust rule needs: the addresses the
 * configured SIP server and outbound proxy resolve to (sent at start and
 * whenever they change) and the registration state.  The executor decides;
 * this only reports.
 */
struct ipc_sip_state {
	char trusted[1024];      /* comma list of IP addresses, "" if none resolved */
	uint8_t reg_state;       /* enum ipc_sip_reg */
	uint8_t reg_tcp;         /* registered over TCP: only that flow is trusted */
	char registrar[128];     /* as configured, for status */
	char detail[128];        /* last registration result, for status */
};

/*
 * HTTPS with the private key in the executor (DESIGN.md section 1).  The
 * executor sends the certificate chain (PEM) when the http channel comes
 * up; aurid-http's handshakes ask it for their one signature each.  The
 * executor signs only ecdsa_secp256r1_sha256 and only inputs shaped like a
 * TLS 1.2 ServerKeyExchange or a TLS 1.3 server CertificateVerify, so the
 * channel is not a general signing oracle.
 */
#define IPC_TLS_CHAIN_MAX   12288   /* PEM bytes; a longer chain is refused at start */
#define IPC_TLS_SIGN_IN_MAX 512     /* TLS 1.3: 64 + 34 + 64; TLS 1.2: 64 + 4 + point */
#define IPC_TLS_SIG_MAX     160     /* an ECDSA P-256 DER signature is at most 72 */

struct ipc_tls_cert {
	char chain[IPC_TLS_CHAIN_MAX];
};

struct ipc_tls_sign_req {
	uint16_t alg;            /* TLS SignatureScheme (SSL_SIGN_*) */
	uint16_t in_len;
	uint8_t in[IPC_TLS_SIGN_IN_MAX];
};

struct ipc_tls_sign_res {
	uint8_t ok;              /* 1: sig holds the signature; 0: refused or failed */
	uint16_t sig_len;
	uint8_t sig[IPC_TLS_SIG_MAX];
};

struct ipc_item_result {
	uint8_t outcome;         /* enum ipc_outcome */
	char text[64];
};

struct ipc_action_res {
	uint16_t status;         /* HTTP status, or 200/400/403/... for SIP */
	char reason[32];         /* audit reason word */
	char message[256];       /* human text for refusals */
	uint64_t audit_seq;      /* X-Request-Id */
	uint32_t retry_after;    /* seconds, for 429/503 and lock-out */
	char nonce[64];          /* 401: a fresh Digest nonce for the challenge */
	uint8_t stale;           /* 401: the Digest nonce presented was stale */
	uint16_t nitems;
	struct ipc_item_result items[IPC_ITEMS_MAX];
	char body[4096];         /* text answer of read items (phonecfg) */
};

/*
 * The frame travels as a sealed memfd (F_SEAL_SHRINK | F_SEAL_GROW |
 * F_SEAL_WRITE | F_SEAL_SEAL) of exactly stride * height bytes, XRGB8888
 * little-endian; the receiver checks the seals and the size before mapping
 * it read-only.
 */
struct ipc_screenshot_res {
	uint16_t status;
	char reason[32];
	uint64_t audit_seq;
	uint32_t width;
	uint32_t height;
	uint32_t stride;
	int64_t captured;        /* unix seconds */
	char model[64];          /* for the download's file name */
};

/* The executor asks; the supervisor checks the capability switch itself
 * and runs only the command its own config names for op. */
struct ipc_system_run {
	uint8_t op;              /* OP_REBOOT, OP_AUTOP or OP_RESET */
};

/*
 * Who the services are, so that the executor can refuse them on the admin
 * socket (DESIGN.md section 2): sent by the supervisor before START and
 * again whenever a front-end starts or is reaped.  The executor cannot look
 * users up itself (its sandbox hides /etc/passwd) and must never take an
 * identity from the peer it is judging, so this is the only source.
 */
#define IPC_SERVICES_MAX 3

struct ipc_service_id {
	uint8_t role;            /* enum ipc_role */
	uint32_t uid;
	uint32_t gid;            /* the group it runs in */
	uint32_t pid;            /* 0: not running now */
};

struct ipc_service_ids {
	uint8_t separate_users;  /* 1: aurid runs as root and each service has its own uid */
	uint32_t admin_gid;      /* members of this group may administer */
	uint16_t nservices;
	struct ipc_service_id services[IPC_SERVICES_MAX];
};

struct ipc_sandbox_level {
	char level[256];         /* "seccomp allow-list (http) + landlock ABI 7" */
};

/* One struct for every admin request; each type declares which fields it sends. */
struct ipc_admin_req {
	char arg[256];           /* pattern, source, user name or key name */
	char arg2[256];          /* role or password */
	int64_t since;           /* audit: unix seconds, 0 = unbounded */
	int64_t until;
	char source[64];
	char outcome[32];
	uint32_t limit;
	char role[16];           /* user add: "admin" or "user" */
};

struct ipc_admin_row {
	char json[4096];
};

struct ipc_admin_res {
	uint8_t ok;              /* 1 = done, 0 = refused or failed */
	char message[512];
};

union ipc_payload {
	struct ipc_hello hello;
	struct ipc_config_set config_set;
	struct ipc_start start;
	struct ipc_peer_channel peer_channel;
	struct ipc_action_req action_req;
	struct ipc_action_res action_res;
	struct ipc_admin_req admin_req;
	struct ipc_admin_row admin_row;
	struct ipc_admin_res admin_res;
	struct ipc_screenshot_res screenshot_res;
	struct ipc_sip_state sip_state;
	struct ipc_tls_cert tls_cert;
	struct ipc_tls_sign_req tls_sign_req;
	struct ipc_tls_sign_res tls_sign_res;
	struct ipc_sandbox_level sandbox_level;
	struct ipc_system_run system_run;
	struct ipc_service_ids service_ids;
};

/* ---- the table ---- */

enum ipc_field_kind { IPC_F_U8, IPC_F_U16, IPC_F_U32, IPC_F_U64, IPC_F_I64, IPC_F_STR, IPC_F_ARRAY, IPC_F_BYTES };

struct ipc_field {
	const char *name;
	enum ipc_field_kind kind;
	size_t offset;           /* in the decoded struct */
	size_t size;             /* STR: char array size (max length + 1); ARRAY: element size;
				  * BYTES: octet array size (the maximum) */
	size_t max;              /* ARRAY: max elements */
	size_t count_offset;     /* ARRAY, BYTES: offset of its uint16_t count */
	const struct ipc_field *sub;  /* ARRAY: element fields */
	size_t nsub;
};

struct ipc_msg_def {
	enum ipc_type type;
	const char *name;
	bool fd;                 /* carries exactly one fd */
	size_t struct_size;
	const struct ipc_field *fields;
	size_t nfields;
	size_t min_len, max_len; /* payload bytes, computed from the fields */
};

/* The definition of a type, or NULL for an unknown number. */
const struct ipc_msg_def *ipc_msg_def(unsigned type);
const char *ipc_role_name(enum ipc_role role);
const char *ipc_op_name(enum ipc_op op);
/* Words of the answers and the audit: "ok", "ignored", "unsupported",
 * "failed", "not-run" (anything else); "http", "https", "sip", "admin". */
const char *ipc_outcome_name(unsigned outcome);
const char *ipc_transport_name(unsigned transport);

/* ---- bounded cursor ---- */

struct ipc_buf {
	uint8_t *p;
	size_t cap;
	size_t off;
	int err;                 /* sticky: first error (-EMSGSIZE, -EBADMSG) */
};

void ipc_buf_init(struct ipc_buf *b, void *mem, size_t cap);
void ipc_buf_put_u8(struct ipc_buf *b, uint8_t v);
void ipc_buf_put_u16(struct ipc_buf *b, uint16_t v);
void ipc_buf_put_u32(struct ipc_buf *b, uint32_t v);
void ipc_buf_put_u64(struct ipc_buf *b, uint64_t v);
void ipc_buf_put_str(struct ipc_buf *b, const char *s, size_t max);
int ipc_buf_get_u8(struct ipc_buf *b, uint8_t *v);
int ipc_buf_get_u16(struct ipc_buf *b, uint16_t *v);
int ipc_buf_get_u32(struct ipc_buf *b, uint32_t *v);
int ipc_buf_get_u64(struct ipc_buf *b, uint64_t *v);
/* Copies at most size-1 bytes and a NUL; longer or NUL-containing: -EBADMSG. */
int ipc_buf_get_str(struct ipc_buf *b, char *out, size_t size);
/* 0 if every byte was consumed and no error occurred, else -EBADMSG. */
int ipc_buf_end(struct ipc_buf *b);

/* ---- codec ---- */

/* Encodes header and payload into out[cap]; *len gets the datagram size. */
int ipc_encode(unsigned type, uint32_t id, const void *msg, void *out, size_t cap, size_t *len);
/* Decodes one datagram: checks the type, the length bounds, every field and
 * trailing bytes.  msg must point to a union ipc_payload; it is zeroed first. */
int ipc_decode(const void *data, size_t len, unsigned *type, uint32_t *id, union ipc_payload *msg);

/* ---- channel ---- */

struct ipc_out;
struct ipc_rx;

/* A channel's state in the dispatch table (permit.c). */
enum ipc_chan_state {
	IPC_CHAN_HELLO = 0,      /* waiting for the peer's HELLO: nothing else is accepted */
	IPC_CHAN_OPEN = 1,       /* HELLO came, with our version and the role the channel says */
	IPC_CHAN_STARTED = 2,    /* a child's supervisor channel after START */
};

struct ipc_chan {
	int fd;
	enum ipc_role self;
	enum ipc_role peer;
	uint8_t state;                /* enum ipc_chan_state */
	uint64_t once;                /* the types permitted once that have come */
	struct ipc_out *head, *tail;  /* queued datagrams, oldest first */
	size_t queued;
	bool corked;                  /* hold sends for one sendmmsg at flush */
	struct ipc_rx *rx;            /* datagrams read by one recvmmsg, not yet returned */
};

/* Corked, sends only queue (up to IPC_CORK_MAX, then they are written);
 * ipc_chan_flush writes the queue with as few system calls as it can.  An
 * event loop corks its channels and flushes once per turn. */
#define IPC_CORK_MAX 64
void ipc_chan_cork(struct ipc_chan *c, bool corked);
/* Datagrams already read from the socket and not yet returned by recv:
 * poll() will not report them. */
bool ipc_chan_pending(const struct ipc_chan *c);

/* Takes ownership of fd (made non-blocking and close-on-exec). */
int ipc_chan_init(struct ipc_chan *c, int fd, enum ipc_role self, enum ipc_role peer);
/* Closes the fd and drops queued messages. */
void ipc_chan_close(struct ipc_chan *c);
/* Encodes and sends, or queues if the socket is full; fd_pass is -1 or an fd
 * to pass (not closed).  -ENOBUFS if the queue is full, -EPIPE if the peer is gone. */
int ipc_chan_send(struct ipc_chan *c, unsigned type, uint32_t id, const void *msg, int fd_pass);
/* Sends a datagram that ipc_encode() produced earlier (a message encoded
 * when it was decided and sent later), with its fd if its type has one.
 * Same returns as above. */
int ipc_chan_send_encoded(struct ipc_chan *c, const void *data, size_t len, int fd_pass);
/* Writes queued messages; 0 when the queue is empty, -EAGAIN if some remain. */
int ipc_chan_flush(struct ipc_chan *c);
bool ipc_chan_want_write(const struct ipc_chan *c);
/*
 * Receives one message.  Datagrams are read ahead in batches, so call this
 * until -EAGAIN before waiting in poll() (see ipc_chan_pending).
 * 0: *type, *id, *msg and *fd_out (-1 or a received
 * close-on-exec fd, owned by the caller) are set.  -EAGAIN: nothing to read.
 * -EPIPE: the peer closed.  -EPROTO: a malformed message, a type the
 * dispatch table (permit.c) does not permit on this channel in its state, a
 * HELLO with another version or role, an fd where none belongs (or
 * missing), a channel handed over that its sender did not make, a truncated
 * datagram or control message; the caller should close the channel.
 */
int ipc_chan_recv(struct ipc_chan *c, unsigned *type, uint32_t *id, union ipc_payload *msg, int *fd_out);

/*
 * The dispatch table (permit.c): 0 if a message of type may arrive on c in
 * its state now, else -EPROTO.  With commit, the channel's state moves on
 * as the table says (a HELLO opens it, a START starts it, a message
 * permitted once is used up).  ipc_chan_recv asks before it decodes.
 */
int ipc_permit(struct ipc_chan *c, unsigned type, bool commit);

/* SO_PEERCRED of a connected Unix socket. */
int ipc_peer_cred(int fd, pid_t *pid, uid_t *uid, gid_t *gid);
/*
 * SO_PEERGROUPS (Linux 4.13+): the supplementary groups of a connected Unix
 * socket's peer, as they were when it connected.  -ENOPROTOOPT on older
 * kernels; -ERANGE if the peer has more than max.
 */
int ipc_peer_groups(int fd, gid_t *groups, size_t max, size_t *n);
/* 0 if the peer of a connected Unix socket (the maker, for a socketpair)
 * is process pid, else -EPERM (or -errno: not a socket). */
int ipc_peer_is(int fd, pid_t pid);

/* Sends HELLO and checks the peer's HELLO (blocking, with a timeout in ms). */
int ipc_chan_handshake(struct ipc_chan *c, int timeout_ms);

#endif
