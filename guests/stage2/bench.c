/*
 * bench.c - one hypercall in an endless loop, for bench-hypercall to time.
 *
 * The host picks the call in RSI (main's second argument) and stops the guest when it has
 * timed enough calls. The results are not looked at: the cost is the point.
 */
#include "guest.h"

enum bench_call {
	BENCH_NUM_EXITS,    /* IN only: one exit, no argument, no memory */
	BENCH_PRINT32,      /* OUT + IN: two exits (the host prints nothing while timing) */
	BENCH_PRINT_STR,    /* OUT + IN + a page walk and a string copy */
	BENCH_GVA_TO_HVA,   /* OUT + IN + IN of the high half + a page walk */
};

static const char word[] = "benchmark";

int main(uint64_t ram_size, uint64_t call)
{
	(void)ram_size;
	for (;;) {
		switch (call) {
		case BENCH_NUM_EXITS: HC_numExits(); break;
		case BENCH_PRINT32: HC_print32bit(42); break;
		case BENCH_PRINT_STR: HC_printStr(word); break;
		default: HC_gvaToHva((uint64_t)(uintptr_t)word); break;
		}
	}
}
