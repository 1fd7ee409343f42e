/*
 * bench.h - the two tools every benchmark of the course shares (stage 1's bench-exit, stage
 * 2's bench-hypercall): a monotonic clock in microseconds, and the fastest of several rounds.
 *
 * Why the fastest: on a shared host other processes take the CPU away in the middle of a
 * round, which can only add time; the fastest round is the closest to the mechanism's own cost.
 */
#ifndef STAGE1_BENCH_H
#define STAGE1_BENCH_H

#include <time.h>

static inline double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static inline double fastest(const double *v, int n)
{
	double best = v[0];
	for (int i = 1; i < n; i++)
		best = v[i] < best ? v[i] : best;
	return best;
}

#endif
