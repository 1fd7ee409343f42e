/*
 * matrix-guest.h - what the stage-3 guests share: the console, a unit of work, reporting.
 *
 * The console is the debug port 0xE9: one OUT, one VM exit, per byte. The host collects each
 * VM's bytes into lines and prints them with the VM's name, so a guest never needs to know
 * whether it is Neo or Morpheus.
 */
#ifndef MATRIX_GUEST_H
#define MATRIX_GUEST_H

#include <stdint.h>

#include "hypercall.h"

#define DEBUG_PORT    0xE9
#define PROGRESS_ADDR 0x400   /* PROGRESS_GPA in stage3-scheduler/vmset.h */
#define REPORT_EVERY  16      /* work units per HC_REPORT_WORK: two exits per 16 units */
#define WORK_STEPS    64      /* generator steps in one unit of work */

static inline void outb(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline void print(const char *s)
{
	while (*s)
		outb(DEBUG_PORT, *s++);
}

static inline void print_uint(unsigned n)
{
	char digits[10];
	int len = 0;
	do
		digits[len++] = (char)('0' + n % 10);
	while (n /= 10);
	while (len)
		outb(DEBUG_PORT, digits[--len]);
}

/*
 * One unit of work: WORK_STEPS steps of a linear congruential generator (Knuth's MMIX
 * constants). The empty volatile asm tells the compiler that each step's value is used, so
 * it can neither drop the loop (nothing else reads x) nor fold 64 steps into one.
 */
static inline uint64_t unit_of_work(uint64_t x)
{
	for (int i = 0; i < WORK_STEPS; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

/* The loop counter the host reads from guest RAM (compute guests do no I/O to report it). */
static inline void count_progress(void)
{
	(*(volatile uint64_t *)PROGRESS_ADDR)++;
}

#endif
