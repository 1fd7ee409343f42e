/*
 * fault.c - a guest that goes wrong: two lines, a little work, then a triple fault.
 *
 * UD2 raises #UD; the host gave the guest no IDT, so the exception cannot be delivered: a
 * double fault, then a triple fault, and the vCPU shuts down (KVM_EXIT_SHUTDOWN). The
 * scheduler must take this VM off its schedule and keep the others running.
 */
#include "matrix-guest.h"

#define UNITS_BEFORE_FAULT 128

int main(uint64_t index, uint64_t arg)
{
	uint64_t x = index;

	(void)arg;
	print("line 1\nline 2\n");
	for (unsigned done = 1; done <= UNITS_BEFORE_FAULT; done++) {
		x = unit_of_work(x);
		if (done % REPORT_EVERY == 0)
			hypercall1(HC_REPORT_WORK, REPORT_EVERY);
	}
	__asm__ volatile("ud2");
	return 0;
}
