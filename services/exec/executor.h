/*
 * aurid-exec: the process that decides and acts.  It owns the database, the
 * keypad and (later) the screen and the telephony link; front-ends and
 * aurictl only ask.
 *
 * One libuv loop.  A request is decided by the policy (policy.c), its items
 * run in order through the HAL on one queue (jobs.c), and its audit row is
 * staged (audit_batch.c).  At the end of the loop turn (a uv_check handle)
 * the staged rows go to the writer thread as one transaction, and only when
 * it is durable are the answers of those requests sent: nothing is reported
 * done before its audit row is on disk, many requests share one fsync, and
 * the loop keeps deciding while the disk works.
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
struct job;
struct reply;
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

	/* The keypad queue: one job at a time, items paced. */
	struct job *job_head, *job_tail;
	uv_timer_t pace_timer;
	bool job_running;

	/* Call control (aurid.telephony; NULL for "none").  An item on it
	 * runs asynchronously: the head job waits for baresip's reply
	 * (job_running stays set), and with ?wait=MS for the new call
	 * states too (job_waiting, wait_timer). */
	struct telephony *tel;
	uv_timer_t wait_timer;
	bool job_waiting;
	char mac[18];                    /* for phonecfg=get; "" if unknown */

	/* Answers waiting for their audit rows: staged (not yet handed to the
	 * writer) and writing (in the batch on disk now). */
	struct reply *staged_head, *staged_tail;
	struct reply *writing_head;
	uv_check_t commit_check;
	uv_idle_t commit_idle;           /* keeps the loop from blocking while rows wait */
	struct ipc_action_res scratch_res;  /* one answer being built (single-threaded) */
	uint64_t requests, refused;
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

/* Decides whether req may run.  0: allowed, *user set (may be "").  1:
 * allowed once the person at the phone consents (consent.c).  -1: refused,
 * filled into res (status, reason, message, retry_after). */
int policy_check(struct executor *ex, const struct ipc_action_req *req, struct ipc_action_res *res,
		 char *user, size_t userlen);

/* Runs an allowed request: a screenshot now, actions on the keypad queue. */
int executor_run(struct executor *ex, struct front *f, uint32_t id, const struct ipc_action_req *req,
		 const char *user);

/* Captures the screen into a sealed memfd and answers (screenshot.c). */
int screenshot_run(struct executor *ex, struct front *f, uint32_t id, const struct ipc_action_req *req,
		   const char *user);
/* Stages the audit row of a screenshot and queues its answer with the fd. */
void executor_finish_screenshot(struct executor *ex, struct front *f, uint32_t id, const struct ipc_action_req *req,
				const char *user, struct ipc_screenshot_res *shot, int fd);

/* Queues an allowed request on the keypad queue (jobs.c). */
int jobs_submit(struct executor *ex, struct front *f, uint32_t id, const struct ipc_action_req *req,
		const char *user);
void jobs_init(struct executor *ex);
/* Queues ahead of what is waiting (requests held for consent came first),
 * after *after (NULL: at the head); *after becomes the new job.  Runs
 * nothing: call jobs_resume(). */
int jobs_submit_first(struct executor *ex, struct front *f, uint32_t id, const struct ipc_action_req *req,
		      const char *user, struct job **after);
/* Runs what waited while the consent prompt was visible. */
void jobs_resume(struct executor *ex);
void jobs_drop_all(struct executor *ex);
/* Opens aurid.telephony (telephony_jobs.c is the glue); 0 or -errno. */
int jobs_telephony_open(struct executor *ex);

/* Stages the audit row of an answered request and queues the answer for
 * when that row is durable (executor.c).  f may be NULL (no one to answer). */
void executor_finish(struct executor *ex, struct front *f, uint32_t generation, uint32_t id,
		     const struct ipc_action_req *req, const char *user, struct ipc_action_res *res);

/* Queues an admin answer behind the audit rows staged so far. */
void executor_admin_answer(struct executor *ex, struct admin_client *c, uint32_t id, bool ok, const char *message);

/* Admin socket (admin.c). */
int admin_start(struct executor *ex, int listen_fd);
void admin_stop(struct executor *ex);
/* The services' ids from the supervisor, for the admin socket's check;
 * -EINVAL (logged, nothing changed) if they cannot be right. */
int admin_services_set(struct executor *ex, const struct ipc_service_ids *ids);


#endif
