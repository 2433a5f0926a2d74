/*
 * libre's own messages, through our log.
 *
 * libre writes some messages straight to stderr with re_fprintf() (an
 * undecodable datagram, a response to nothing) and others through its dbg
 * module.  Both are triggered by whatever arrives from the network, so both
 * go through one token bucket here, tagged "libre:", and a flood becomes a
 * line saying how many were dropped.  Only the stdio stream is replaced:
 * our log and the sanitizers write to fd 2 directly.
 */
#include "front.h"

#define DEBUG_MODULE "aurid-sip"
#define DEBUG_LEVEL 0
#include <re_dbg.h>

#include "../common/log.h"

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#define RELOG_PER_S  5
#define RELOG_BURST  20
#define RELOG_LINE   256

static struct {
	FILE *orig;
	char line[RELOG_LINE];
	size_t len;
	double tokens;
	uint64_t last_ms;
	unsigned dropped;
} relog;

static void relog_emit(const char *text, size_t len)
{
	uint64_t now = tmr_jiffies();

	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (!len)
		return;
	relog.tokens += (double)(now - relog.last_ms) * RELOG_PER_S / 1000.0;
	if (relog.tokens > RELOG_BURST)
		relog.tokens = RELOG_BURST;
	relog.last_ms = now;
	if (relog.tokens < 1) {
		relog.dropped++;
		return;
	}
	relog.tokens -= 1;
	if (relog.dropped) {
		log_warn("libre: %u more messages dropped (rate limit)", relog.dropped);
		relog.dropped = 0;
	}
	log_info("libre: %.*s", (int)(len > 200 ? 200 : len), text);
}

static ssize_t relog_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n' || relog.len == sizeof(relog.line) - 1) {
			relog_emit(relog.line, relog.len);
			relog.len = 0;
			if (buf[i] == '\n')
				continue;
		}
		relog.line[relog.len++] = buf[i];
	}
	return (ssize_t)size;
}

static void relog_dbg(int level, const char *p, size_t len, void *arg)
{
	(void)level;
	(void)arg;
	relog_emit(p, len);
}

int sip_relog_init(void)
{
	cookie_io_functions_t io = { .write = relog_write };
	FILE *f = fopencookie(NULL, "w", io);

	relog.tokens = RELOG_BURST;
	relog.last_ms = tmr_jiffies();
	dbg_init(DBG_WARNING, DBG_NONE);
	dbg_handler_set(relog_dbg, NULL);
	if (!f)
		return -ENOMEM;
	setvbuf(f, NULL, _IONBF, 0);
	relog.orig = stderr;
	stderr = f;
	return 0;
}

void sip_relog_close(void)
{
	dbg_handler_set(NULL, NULL);
	if (relog.orig) {
		FILE *f = stderr;

		stderr = relog.orig;
		relog.orig = NULL;
		fclose(f);
	}
}
