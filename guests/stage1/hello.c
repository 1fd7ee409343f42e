/*
 * hello.c - the stage-1 guest: the classic KVM hello world, built for every CPU mode.
 *
 * It prints through the debug port 0xE9 (each OUT is a VM exit the host turns into a
 * character), leaves the done value 42 at guest-physical 0x400 and returns 42, which the
 * entry stub keeps in RAX across HLT. The host checks both. The same source is compiled
 * with -m16 (real mode), -m32 (protected and paged mode) and -m64 (long mode).
 */
#include <stdint.h>

#define DEBUG_PORT 0xE9
#define RESULT_ADDR 0x400
#define DONE_VALUE 42

static inline void outb(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

int main(void)
{
	for (const char *p = "Hello, world!\n"; *p; p++)
		outb(DEBUG_PORT, *p);
	*(volatile uint32_t *)RESULT_ADDR = DONE_VALUE;
	return DONE_VALUE;
}
