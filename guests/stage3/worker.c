/*
 * worker.c - the matrix guest: does units of work forever and reports them by hypercall.
 *
 * The work units are the guest's own view of the CPU time it got. The host compares its share
 * of all work with its share of host time and with its target share: when the scheduler is
 * fair and every VM works at the same speed, the three agree.
 */
#include "matrix-guest.h"

int main(uint64_t index, uint64_t arg)
{
	uint64_t x = index;   /* each VM its own sequence; the speed is the same */
	unsigned done = 0;

	(void)arg;
	for (;;) {
		x = unit_of_work(x);
		count_progress();
		if (++done == REPORT_EVERY) {
			hypercall1(HC_REPORT_WORK, done);
			done = 0;
		}
	}
}
