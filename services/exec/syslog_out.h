/*
 * Audit lines to the local syslog socket (/dev/log), for fleets that collect
 * logs centrally with the syslog/journald tooling they already run.
 *
 * Not glibc's syslog(): when /dev/log is absent or the daemon restarts, it
 * creates and connects a new socket for every line (three system calls per
 * audit row on the hot path, and socket() is not allowed once the executor is
 * sandboxed).  Here one datagram socket is created at start; a lost
 * connection is retried with connect() at most once every few seconds, and a
 * line that cannot be delivered is counted and dropped: the database is the
 * record, syslog a copy.
 */
#ifndef AURID_SYSLOG_OUT_H
#define AURID_SYSLOG_OUT_H

#include <stdint.h>

/* facility: LOG_AUTHPRIV etc.; ident: "aurid".  0 or -errno (socket()). */
int syslog_out_open(const char *ident, int facility);
/* severity: LOG_INFO, LOG_NOTICE ... */
void syslog_out_send(int severity, const char *line);
/* Lines dropped because no syslog daemon took them. */
uint64_t syslog_out_dropped(void);

#endif
