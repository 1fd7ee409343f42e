/*
 * bad-pt-buffer.c - hostile: ask the host to write over page tables.
 *
 * HC_numExitsByType writes into a buffer the guest names. If that buffer were a page table,
 * the host would be editing the guest's address space on the guest's say-so, and a write
 * could change the very translation it is using half-way through. The host refuses any
 * buffer that touches a table of its own walk or the host-built table pool, and any buffer
 * the guest mapped read-only, and it checks every page before writing the first byte.
 */
#include "guest.h"

static uint64_t cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v & ~0xfffull;
}

static void expect_refused(uint64_t gva, const char *why)
{
	uint32_t r = HC_numExitsByType((char *)(uintptr_t)gva);
	say("HC_numExitsByType(0x%lx) returned %r", gva, r);
	check(r == HC_EFAULT, why);
}

int main(uint64_t ram_size)
{
	setup_test_map(ram_size);
	volatile uint64_t *pml4 = (uint64_t *)(uintptr_t)cr3();
	uint64_t pml4e = pml4[0], pte = test_pt[4];
	volatile char *below = (char *)(uintptr_t)(cr3() - 32);   /* page 0's last 32 bytes */
	for (int i = 0; i < 32; i++)
		below[i] = '#';

	expect_refused(cr3(), "the PML4 (cr3): HC_EFAULT");
	expect_refused(0x5000, "a page of the host's table pool: HC_EFAULT");
	expect_refused(VA_SELF_MAP, "the page table, through itself: HC_EFAULT");
	expect_refused(cr3() - 32, "32 bytes before the PML4, 32 in it: HC_EFAULT");
	expect_refused(VA_READ_ONLY, "a page the guest mapped read-only: HC_EFAULT");

	check(pml4[0] == pml4e && test_pt[4] == pte, "the page tables are as they were");
	check(below[0] == '#' && below[31] == '#', "all or nothing: no byte before the PML4 moved");

	char buf[HC_EXITS_BUF_SIZE];
	uint32_t r = HC_numExitsByType(buf);
	say("HC_numExitsByType(buf) returned %r: \"%s\"", r, buf);
	check(r == HC_OK, "the host kept serving hypercalls");
	return checks_failed();
}
