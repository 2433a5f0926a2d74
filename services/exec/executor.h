/*
 * aurid-exec: the process that decides and acts.  It owns the database, the
 * keypad and (later) the screen and the telephony link; front-ends and
 * aurictl only ask.
 *
 * One libuv loop.  A request is one object from birth to answer
 * (lifecycle.h): decided by the policy (policy.c), held for consent
 * (consent.c), run through the HAL (screenshot.c, or item by item on the
 * keypad queue, jobs.c), and recorded in the group commit of the audit log
 * (audit_batch.c), which calls back when its row is durable; only then is
 * it answered.  Nothing is reported done before its audit row is on disk,
 * many requests share one fsync, and the loop keeps deciding while the
 * disk works.
 */
#ifndef AURID_EXECUTOR_H
#define AURID_EXECUTOR_H

#include "../../hal/keymap.h"
#include "../../ipc/ipc.h"
#include "../common/config.h"
#include "../common/uvchan.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define EXEC_ADMIN_CLIENTS_MAX 16
#define EXEC_FRONT_PENDING_MAX IPC_QUEUE_MAX   /* requests in flight per front-end */

struct store;
struct trust;
struct users;
struct audit;
struct audit_batch;
struct rate;
struct lockout;
struct digest;
struct keypad_out;
struct fb;
struct jobs;
struct exec_req;
struct consent_state;
struct tls_key;
struct telephony;

/* A front-end link (aurid-http, later aurid-sip).  Its generation changes
 * when the channel is replaced, so an answer for a request that came on a
 * dead channel is dropped rather than sent to a new peer. */
struct front {
	struct uvchan *ch;               /* NULL while the front-end is away */
	struct executor *ex;
	enum ipc_role role;
	uint32_t generation;
	unsigned pending;
};

struct admin_client {
	struct uvchan ch;
	struct executor *ex;
	uint32_t generation;             /* changes when the slot is reused */
	uid_t uid;
	bool hello;
	bool in_use;
};

struct executor {
	uv_loop_t *loop;
	struct aurid_config cfg;
	int64_t started;                 /* unix seconds */

	struct store *store;
	struct trust *trust;
	struct users *users;
	struct audit *audit;
	struct audit_batch *batch;
	struct rate *rate;
	struct lockout *lockout;
	struct digest *digest;
	struct keymap keymap;
	struct keypad_out *keypad;
	struct fb *fb;                   /* the screen: prompt and screenshots */
	struct consent_state *consent;
	struct tls_key *tls;             /* the HTTPS key (tls.c); NULL without aurid.https.listen */

	struct uvchan sup;
	struct front fronts[2];          /* [0] http, [1] sip */
	struct ipc_sip_state sip;        /* last report of aurid-sip */

	int admin_fd;
	uv_poll_t admin_poll;
	struct admin_client admins[EXEC_ADMIN_CLIENTS_MAX];
	struct ipc_service_ids services; /* who is refused there (admin_access.h) */
	bool peergroups_missing;         /* no SO_PEERGROUPS: logged once */

	struct jobs *jobs;               /* the keypad queue (jobs.h) */
	struct telephony *tel;           /* call control (aurid.telephony); NULL for "none" */
	char mac[18];                    /* for phonecfg=get; "" if unknown */

	uint64_t requests, refused;      /* recorded, and of them refused (status >= 400) */
};

struct exec_args {
	int admin_fd;                    /* -1 if none */
	int uinput_fd;                   /* -1 if none (sim) */
	int fb_fd;                       /* -1 if none (sim) */
	int keypad_fd;                   /* -1 if none (sim) */
};

/* Opens the database and the devices, builds the policy state. */
int executor_init(struct executor *ex, uv_loop_t *loop, const struct aurid_config *cfg,
		  const struct exec_args *args);
/* Attaches the supervisor channel and peer channels received at start. */
int executor_attach_supervisor(struct executor *ex, struct ipc_chan *sup);
int executor_attach_front(struct executor *ex, enum ipc_role role, int fd);
void executor_close(struct executor *ex);

/* --- used between the executor's files --- */

enum policy_verdict {
	POLICY_RUN,                      /* allowed: run it */
	POLICY_ASK_CONSENT,              /* allowed once the person at the phone consents (consent.c) */
	POLICY_REFUSE,                   /* refused: res holds why */
};

/*
 * Decides whether req may run (policy.c).  *user: who authenticated ("" if
 * nobody).  Fills res's status, reason, message, retry_after, and for a 401
 * nonce and stale; the items are not touched.
 */
enum policy_verdict policy_check(struct executor *ex, const struct ipc_action_req *req, struct ipc_action_res *res,
				 char *user, size_t userlen);

/* Runs an allowed request, taking it (lifecycle.h): a screenshot now, actions on the keypad queue. */
void executor_run(struct executor *ex, struct exec_req *r);

/* Captures the screen into a sealed memfd and ends r with it (screenshot.c). */
void screenshot_run(struct executor *ex, struct exec_req *r);

/* Admin socket (admin.c). */
int admin_start(struct executor *ex, int listen_fd);
void admin_stop(struct executor *ex);
/* The services' ids from the supervisor, for the admin socket's check;
 * -EINVAL (logged, nothing changed) if they cannot be right. */
int admin_services_set(struct executor *ex, const struct ipc_service_ids *ids);


#endif
