/*
 * bad-unmapped.c - hostile: pointers to nothing, at every level of the page tables.
 *
 * Each address stops the host's walk at a different level (or, for the last, walks fine
 * to a guest-physical address where there is no RAM). Every call must come back with
 * HC_EFAULT and the host must go on serving the guest: the last call proves it.
 */
#include "guest.h"

static const struct {
	uint64_t gva;
	const char *why;
} holes[] = {
	{ VA_PML4_HOLE, "PML4 entry not present: HC_EFAULT" },
	{ VA_PDPT_HOLE, "PDPT entry not present: HC_EFAULT" },
	{ VA_PD_HOLE, "PD entry not present: HC_EFAULT" },
	{ VA_PT_HOLE, "PT entry not present: HC_EFAULT" },
	{ VA_PAST_RAM, "mapped to a gpa with no RAM: HC_EFAULT" },
};

int main(uint64_t ram_size)
{
	setup_test_map(ram_size);
	for (unsigned i = 0; i < sizeof(holes) / sizeof(holes[0]); i++) {
		uint32_t r = HC_printStr((const char *)(uintptr_t)holes[i].gva);
		say("HC_printStr(0x%lx) returned %r", holes[i].gva, r);
		check(r == HC_EFAULT, holes[i].why);
	}

	uint64_t hva = HC_gvaToHva(VA_PD_HOLE);
	say("HC_gvaToHva(0x%lx) returned 0x%lx", VA_PD_HOLE, hva);
	check(hva == (uint64_t)(int32_t)HC_EFAULT,
	      "HC_gvaToHva of a hole: HC_EFAULT, sign-extended");

	uint32_t r = HC_numExitsByType((char *)(uintptr_t)VA_PT_HOLE);
	say("HC_numExitsByType(0x%lx) returned %r", VA_PT_HOLE, r);
	check(r == HC_EFAULT, "HC_numExitsByType into a hole: HC_EFAULT");

	r = HC_printStr("still running after 7 refusals");
	check(r == HC_OK, "the host kept serving hypercalls");
	return checks_failed();
}
