#include "syslog_out.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define SYSLOG_PATH "/dev/log"
#define SYSLOG_RETRY_S 5
#define SYSLOG_DGRAM_MAX 2048

static struct {
	int fd;
	int facility;
	char ident[32];
	int connected;
	time_t last_try;
	uint64_t dropped;
} so = { .fd = -1 };

static void syslog_out_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	time_t now = time(NULL);

	if (now - so.last_try < SYSLOG_RETRY_S)
		return;
	so.last_try = now;
	memcpy(sa.sun_path, SYSLOG_PATH, sizeof(SYSLOG_PATH));
	so.connected = connect(so.fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

int syslog_out_open(const char *ident, int facility)
{
	if (so.fd >= 0)
		return 0;
	so.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (so.fd < 0)
		return -errno;
	so.facility = facility;
	snprintf(so.ident, sizeof(so.ident), "%s", ident);
	so.last_try = 0;
	syslog_out_connect();
	return 0;
}

void syslog_out_send(int severity, const char *line)
{
	char buf[SYSLOG_DGRAM_MAX];
	struct tm tm;
	time_t now;
	int n;

	if (so.fd < 0)
		return;
	if (!so.connected)
		syslog_out_connect();
	if (!so.connected) {
		so.dropped++;
		return;
	}
	now = time(NULL);
	localtime_r(&now, &tm);
	/* RFC 3164 framing, as local syslog daemons and journald expect. */
	n = snprintf(buf, sizeof(buf), "<%d>", so.facility | severity);
	n += (int)strftime(buf + n, sizeof(buf) - (size_t)n, "%b %e %H:%M:%S ", &tm);
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s[%d]: %s", so.ident, (int)getpid(), line);
	if (n >= (int)sizeof(buf))
		n = (int)sizeof(buf) - 1;
	if (send(so.fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* ECONNREFUSED / ENOTCONN: the daemon went away; EAGAIN: it is
		 * behind.  Either way this line is dropped, not waited for. */
		if (errno == ECONNREFUSED || errno == ENOTCONN)
			so.connected = 0;
		so.dropped++;
	}
}

uint64_t syslog_out_dropped(void)
{
	return so.dropped;
}
