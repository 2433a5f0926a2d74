/*
 * The keypad queue (jobs.c).  A request's items run in order, paced by
 * aurid.keypad.pace_ms, and two requests never interleave their items.
 * Every function that takes an exec_req takes it for good: the queue runs
 * it and ends it (exec_req_finish), or refuses it.
 */
#ifndef AURID_EXEC_JOBS_H
#define AURID_EXEC_JOBS_H

#include <stdint.h>

struct executor;
struct exec_req;
struct jobs;
struct job;

/* The queue's own state, with its timers on ex's loop.  0 or -ENOMEM. */
int jobs_new(struct executor *ex, struct jobs **out);
/* Refuses (audited) what has not run, stops the timers.  Run the loop to let them close. */
void jobs_close(struct jobs *q);

/* Runs an allowed action request now if the keypad is free, else queues it. */
void jobs_submit(struct jobs *q, struct exec_req *r);
/*
 * Queues r ahead of what waits (a request held for consent came first),
 * after *after (NULL: at the head); *after becomes r's place.  Runs
 * nothing: call jobs_resume().
 */
void jobs_submit_first(struct jobs *q, struct exec_req *r, struct job **after);
/* Runs what waited (while the consent prompt was visible). */
void jobs_resume(struct jobs *q);

/* The outcome of the running job's pending item (calls.c, from the call engine). */
void jobs_item_done(struct jobs *q, uint8_t outcome);
/* Opens aurid.telephony, whose call-state changes end ?wait=MS; 0 or -errno. */
int jobs_telephony_open(struct jobs *q);

#endif
