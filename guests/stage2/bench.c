/*
 * bench.c - one hypercall in an endless loop, for bench-hypercall to time.
 *
 * The host picks the call in RSI (main's second argument) and stops the guest when it has
 * timed enough calls. The results are not looked at: the cost is the point. Each call comes
 * twice: in the lesson's convention (OUT the argument, IN the result) and in the one-exit
 * convention (number and argument in registers, one OUT, the result in RAX).
 */
#include "guest.h"

enum bench_call {
	BENCH_NUM_EXITS,         /* IN only: one exit, no argument, no memory */
	BENCH_PRINT32,           /* OUT + IN: two exits (the host prints nothing while timing) */
	BENCH_PRINT_STR,         /* OUT + IN + a page walk and a string copy */
	BENCH_GVA_TO_HVA,        /* OUT + IN + IN of the high half + a page walk */
	BENCH_REGS_NUM_EXITS,    /* the same four, one OUT each, registers in and out */
	BENCH_REGS_PRINT32,
	BENCH_REGS_PRINT_STR,
	BENCH_REGS_GVA_TO_HVA,
};

static const char word[] = "benchmark";

/*
 * One tight loop per call, so that the guest does no more between two calls than the call
 * itself: on a nested KVM every page the guest touches after an exit (a jump table, the
 * stack) costs a TLB refill that a bare exit's guest does not pay.
 */
int main(uint64_t ram_size, uint64_t call)
{
	uint64_t gva = (uint64_t)(uintptr_t)word;

	(void)ram_size;
	switch (call) {
	case BENCH_NUM_EXITS: for (;;) HC_numExits();
	case BENCH_PRINT32: for (;;) HC_print32bit(42);
	case BENCH_PRINT_STR: for (;;) HC_printStr(word);
	case BENCH_GVA_TO_HVA: for (;;) HC_gvaToHva(gva);
	case BENCH_REGS_NUM_EXITS: for (;;) HC_numExits_regs();
	case BENCH_REGS_PRINT32: for (;;) HC_print32bit_regs(42);
	case BENCH_REGS_PRINT_STR: for (;;) HC_printStr_regs(word);
	default: for (;;) HC_gvaToHva_regs(gva);
	}
}
