/*
 * memdirty.c - a Linux guest program that dirties memory at a steady rate: the "busy" guest of
 * the migration bench (tests/bench.d/stage5-migration.sh). Teaches what makes live migration
 * hard: pre-copy sends RAM while the guest runs, and every page the guest writes meanwhile has
 * to go again. A guest that writes N MiB/s keeps N MiB/s of pages dirty; pre-copy converges
 * only when the link carries more than that, and the pages written during the last round are
 * what the guest's downtime is made of.
 *
 *   memdirty MIB_PER_S [MIB]   a buffer of MIB MiB (default 64), every page written once, then
 *                              MIB_PER_S MiB of pages a second, one 64-bit word a page (that
 *                              dirties the whole page for KVM's log), in steps of 10 ms,
 *                              round and round the buffer
 *
 * Output: "memdirty: dirtying N MiB/s over M MiB" once the buffer is in place, then
 * "memdirty: second S" once a second (the bench reads it on the destination: the guest goes
 * on). Runs until killed. Built static (guests/stage5/guests.mk): the test guest's initramfs
 * has no C library.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PAGE 4096u
#define STEP_NS 10000000ull   /* 10 ms: the rate is kept per step, not in bursts a second */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	unsigned long rate = argc > 1 ? strtoul(argv[1], NULL, 10) : 16;
	unsigned long mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 64;
	if (argc < 2 || rate < 1 || rate > 4096 || mib < 1 || mib > 4096) {
		fprintf(stderr, "usage: memdirty MIB_PER_S(1-4096) [MIB(1-4096)]\n");
		return 2;
	}
	uint64_t pages = (uint64_t)mib << 20 >> 12;
	volatile uint64_t *buf = malloc(pages * PAGE);
	if (!buf) {
		fprintf(stderr, "memdirty: no memory for %lu MiB\n", mib);
		return 1;
	}
	for (uint64_t p = 0; p < pages; p++)   /* every page backed before the clock starts */
		buf[p * PAGE / 8] = p;
	printf("memdirty: dirtying %lu MiB/s over %lu MiB\n", rate, mib);
	fflush(stdout);
	/* Pages per step, carried in 1/1000 of a page so that low rates are exact too. */
	uint64_t per_step_milli = (uint64_t)rate * (1u << 20) / PAGE * 1000 * STEP_NS / 1000000000ull;
	uint64_t next = 0, owed = 0, value = 0, start = now_ns(), step = start, seconds = 0;
	for (;;) {
		owed += per_step_milli;
		for (; owed >= 1000; owed -= 1000) {
			buf[next * PAGE / 8] = ++value;
			next = next + 1 == pages ? 0 : next + 1;
		}
		step += STEP_NS;
		if ((step - start) / 1000000000ull > seconds) {
			seconds = (step - start) / 1000000000ull;
			printf("memdirty: second %llu\n", (unsigned long long)seconds);
			fflush(stdout);
		}
		uint64_t t = now_ns();
		if (t < step) {
			struct timespec d = { 0, (long)(step - t) };
			nanosleep(&d, NULL);
		} else if (t - step > 100 * STEP_NS) {
			step = t;   /* the guest was stopped (a migration): no burst to catch up */
		}
	}
}
