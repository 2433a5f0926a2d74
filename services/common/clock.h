/* The two clocks aurid reads: monotonic for timeouts and rates, wall for
 * audit rows and certificates. */
#ifndef AURID_CLOCK_H
#define AURID_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int64_t clock_mono_ms(void)
{
	return (int64_t)(clock_mono_ns() / 1000000u);
}

static inline int64_t clock_mono_s(void)
{
	return (int64_t)(clock_mono_ns() / 1000000000u);
}

static inline int64_t clock_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
