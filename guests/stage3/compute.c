/*
 * compute.c - the matrix-b guest: an endless loop with no I/O at all.
 *
 * It never exits to the host on its own, so without a timer it would keep the CPU forever:
 * matrix-a cannot share the CPU with it, matrix-b preempts it. Its only trace is a loop
 * counter in its RAM at PROGRESS_ADDR, which the host reads at the end of the run.
 */
#include "matrix-guest.h"

int main(uint64_t index, uint64_t arg)
{
	(void)index, (void)arg;
	for (;;)
		count_progress();
}
