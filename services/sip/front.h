/*
 * aurid-sip: the SIP front-end (DESIGN.md sections 1 and 2).
 *
 * libre's loop (re_main) owns this process.  libre receives out-of-dialog
 * NOTIFYs with Event: ACTION-URI over UDP and TCP; notify.c checks the
 * event, content type and body (the shared action grammar) and sends a
 * typed request to aurid-exec, which decides and answers; the answer goes
 * back as the SIP final response through libre's server transaction, which
 * also absorbs retransmissions, so a retransmitted NOTIFY never presses
 * twice.  trust.c resolves the configured SIP server and outbound proxy,
 * reg.c optionally registers, and both report to the executor with
 * IPC_SIP_STATE: the executor owns the trust decision, this process only
 * says what it saw.
 *
 * Files: front.c (set-up, listening, state reports, shutdown), notify.c
 * (requests in, answers out), exec_link.c (the executor and supervisor
 * channels, requests in flight), chan.c (an IPC channel inside re_main),
 * trust.c, reg.c, relog.c (libre's own messages into our log), check.c
 * (no BoringSSL here), err.c (libre's positive errors, converted once).
 */
#ifndef AURID_SIP_FRONT_H
#define AURID_SIP_FRONT_H

#include "../../ipc/ipc.h"
#include "../common/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <re.h>

/* Requests in flight to the executor: ids index a ring (power of two).
 * Below IPC_QUEUE_MAX, so a slow executor fills this before the channel's
 * queue (which would close the channel). */
#define SIP_PENDING_MAX       512
/*
 * UDP server transactions are remembered for retransmissions for Timer J
 * (RFC 3261: 32 s after the final response).  Each holds the request as
 * libre received it (an 8 KiB receive buffer), so their number is bounded
 * by aurid.sip.udp_transactions; over it a NOTIFY is answered 503.
 */
#define SIP_TIMER_J_S         32
/* RFC 4320: no 100 to a non-INVITE over UDP before the client's Timer E
 * reached T2 (0.5 + 1 + 2 s); later it tells the sender we are deciding. */
#define SIP_TRYING_MS         3500
/* The client gives up after 64*T1 = 32 s (Timer F): answer before it. */
#define SIP_DECIDE_MAX_MS     31000
/*
 * Those two deadlines are checked by one sweep over the requests in flight,
 * not by a timer each: libre keeps its timers in one sorted list, and a
 * 3.5 s timer would be inserted behind every transaction's 32 s one.
 */
#define SIP_SWEEP_MS          250
#define SIP_SOFTWARE          "aurid"

struct sip_ipc;

/* An IPC channel inside re_main (chan.c). */
typedef void (sip_ipc_msg_h)(struct sip_ipc *c, unsigned type, uint32_t id, union ipc_payload *msg, int fd);
typedef void (sip_ipc_close_h)(struct sip_ipc *c, int reason);

struct sip_ipc {
	struct ipc_chan chan;
	struct tmr tmr_read;         /* datagrams read ahead: poll will not report them */
	struct tmr tmr_close;        /* the close handler runs from the loop, not the caller */
	sip_ipc_msg_h *msgh;
	sip_ipc_close_h *closeh;
	void *arg;
	union ipc_payload *msg;      /* receive buffer */
	int fd;                      /* as given to fd_listen, -1 when closed */
	int flags;                   /* FD_READ | FD_WRITE, as listened */
	int close_reason;
	bool open;
};

/* Takes over an initialised channel (its queue and read-ahead included);
 * *c is left closed.  0 or -errno (then *c is closed too). */
int sip_ipc_adopt(struct sip_ipc *s, struct ipc_chan *c, sip_ipc_msg_h *msgh, sip_ipc_close_h *closeh, void *arg);
/* Takes ownership of fd. */
int sip_ipc_open(struct sip_ipc *s, int fd, enum ipc_role self, enum ipc_role peer, sip_ipc_msg_h *msgh,
		 sip_ipc_close_h *closeh, void *arg);
/* Sends or queues; on a dead or overfull channel the channel is closed and
 * the error returned. */
int sip_ipc_send(struct sip_ipc *s, unsigned type, uint32_t id, const void *msg);
/* Closes the socket now; closeh follows from the loop.  Idempotent. */
void sip_ipc_close(struct sip_ipc *s, int reason);
/* Closes without calling closeh (the owner is tearing down). */
void sip_ipc_release(struct sip_ipc *s);

/* A NOTIFY the executor is deciding. */
struct sip_pending {
	struct sip_front *fe;
	struct sip_strans *st;       /* the server transaction the answer goes through */
	struct sip_msg *msg;         /* referenced until answered */
	uint64_t t_start;            /* tmr_jiffies() when it arrived */
	uint32_t id;
	bool trying_sent;
	bool udp;                    /* counted in udp_live */
	bool in_use;
};

/* Resolved addresses of one configured name (trust.c). */
#define SIP_ADDRS_MAX 8

struct sip_addrs {
	struct sa sa[SIP_ADDRS_MAX]; /* port: the configured one */
	size_t n;
};

struct sip_trust;
struct sip_reg;

struct sip_front {
	struct aurid_config cfg;
	struct sip *sip;             /* libre's SIP stack */
	struct sip_lsnr *lsnr;
	struct sip_ipc sup;
	struct sip_ipc *exec;        /* NULL while the executor is away */
	uint32_t next_id;
	unsigned npending;
	struct tmr sweep;            /* runs while requests are in flight */
	struct sip_pending pending[SIP_PENDING_MAX];

	/* UDP transactions answered per second over the last Timer J: a ring
	 * of per-second counts, so the budget needs no per-transaction state. */
	uint32_t udp_done[SIP_TIMER_J_S + 1];
	uint64_t udp_done_sec;
	uint32_t udp_live;           /* pending UDP + answered within Timer J */

	struct sip_trust *trust;
	struct sip_reg *reg;
	struct sip_addrs server;     /* account.1.sip_server.1 resolved */
	struct sip_addrs proxy;      /* account.1.outbound_proxy.1 resolved */
	struct ipc_sip_state state;  /* as last sent */
	bool state_sent;

	struct ipc_action_req *req;  /* scratch for building a request (large) */
	bool stopping;
};

/* ---- front.c ---- */

/* Binds aurid.sip.listen, starts trust and registration.  0 or -errno. */
int sip_front_start(struct sip_front *fe, const struct aurid_config *cfg);
/* Stops taking requests; answers what is in flight; re_cancel()s when done. */
void sip_front_stop(struct sip_front *fe);
/* Releases everything (after re_main has returned). */
void sip_front_free(struct sip_front *fe);
/* Recomputes IPC_SIP_STATE from trust and registration; sends it to the
 * executor if it changed, or always when force (a new executor channel). */
void sip_front_state_update(struct sip_front *fe, bool force);

/* ---- exec_link.c ---- */

int sip_exec_attach_supervisor(struct sip_front *fe, struct ipc_chan *sup);
int sip_exec_attach(struct sip_front *fe, int fd);
void sip_exec_close(struct sip_front *fe);
/* Sends req; 0 and *out, the slot the answer will find (msg and st are the
 * caller's to fill in), or -EAGAIN when the executor is away or too many
 * requests are in flight. */
int sip_exec_submit(struct sip_front *fe, const struct ipc_action_req *req, struct sip_pending **out);
/* Frees a slot (its timers stopped, its message released). */
void sip_pending_release(struct sip_pending *p);
int sip_exec_send_state(struct sip_front *fe, const struct ipc_sip_state *st);

/* ---- notify.c ---- */

/* libre's request handler: every request comes here. */
bool sip_notify_recv(const struct sip_msg *msg, void *arg);
/* The executor's answer to p, or a refusal made here (res->status 503 when
 * the executor went away). */
void sip_notify_answer(struct sip_pending *p, const struct ipc_action_res *res);
/* 100 Trying and the deadline for what the executor is still deciding. */
void sip_notify_sweep(void *arg);

/*
 * For tests and fuzzing only: notify.c's steps one at a time, without a
 * server transaction or an executor.  sip_notify__check() is the checks of
 * the request itself: 0 with *body and *len (the body as Content-Length
 * says), or -EINVAL after answering it (through fe->sip; with none the
 * answer is dropped).  sip_notify__build() fills fe->req from the body as
 * it would be sent to the executor (fe->req must be set).
 */
int sip_notify__check(struct sip_front *fe, const struct sip_msg *msg, const char **body, size_t *len);
void sip_notify__build(struct sip_front *fe, const struct sip_msg *msg, const char *body, size_t len);

/* ---- trust.c ---- */

int sip_trust_start(struct sip_front *fe);
void sip_trust_stop(struct sip_front *fe);
/* Comma list of every resolved address (server and proxy), for the state. */
void sip_trust_list(const struct sip_front *fe, char *out, size_t outlen);
/* "1.2.3.4" for a sa, IPv4-mapped IPv6 written as IPv4. */
void sip_addr_text(const struct sa *sa, char *out, size_t outlen);

/* ---- reg.c ---- */

int sip_reg_start(struct sip_front *fe);
/* true if an un-REGISTER went out (the loop should run until it is done). */
bool sip_reg_stop(struct sip_front *fe);
/* The resolved server or proxy changed: register again there. */
void sip_reg_addresses_changed(struct sip_front *fe);
/* Fills reg_state, reg_tcp, registrar and detail. */
void sip_reg_state(const struct sip_front *fe, struct ipc_sip_state *st);
/* msg came over the TCP connection the registration runs on. */
bool sip_reg_is_flow(const struct sip_front *fe, const struct sip_msg *msg);

/* ---- relog.c ---- */

/* libre's own messages (stderr, dbg) go through our log, rate-limited. */
int sip_relog_init(void);
void sip_relog_close(void);

/* ---- check.c ---- */

/* 0 if no BoringSSL library is loaded in this process; err names it. */
int sip_check_no_boringssl(char *err, size_t errlen);

/* ---- err.c ---- */

/* libre returns positive errno values: the one conversion to 0 / -errno. */
int sip_err(int re_err);

#endif
