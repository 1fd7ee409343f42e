/*
 * bad-noncanonical.c - hostile: addresses that no x86-64 CPU can use.
 *
 * With 4-level paging an address has 48 meaningful bits; bits 63..48 must repeat bit 47.
 * Others are "non-canonical": the CPU raises #GP before any page walk. KVM's own
 * KVM_TRANSLATE does not check this (it walks the low 48 bits), so a host that trusted it
 * would translate 0x0000800000000000 as if it were 0xffff800000000000. Ours refuses with
 * HC_EINVAL. The pointers are 64 bits wide: hypercall.h sends the upper half on HC_HIGH.
 */
#include "guest.h"

static const uint64_t bad[] = {
	VA_NON_CANONICAL,            /* the first address past the lower half */
	0xffff7fffffffffffull,       /* the last address before the upper half */
	0x8000000000000000ull,
	0x0001000000001000ull,       /* looks like 0x1000 to a walker that ignores bits 63..48 */
};

int main(uint64_t ram_size)
{
	char buf[HC_EXITS_BUF_SIZE];

	(void)ram_size;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = (const char *)(uintptr_t)bad[i];
		uint32_t r = HC_printStr(p);
		say("HC_printStr(0x%lx) returned %r", bad[i], r);
		check(r == HC_EINVAL, "a non-canonical string pointer: HC_EINVAL");
		uint64_t hva = HC_gvaToHva(bad[i]);
		say("HC_gvaToHva(0x%lx) returned 0x%lx", bad[i], hva);
		check(hva == (uint64_t)(int32_t)HC_EINVAL, "HC_gvaToHva: HC_EINVAL, sign-extended");
	}
	uint32_t r = HC_numExitsByType((char *)(uintptr_t)VA_NON_CANONICAL);
	say("HC_numExitsByType(0x%lx) returned %r", VA_NON_CANONICAL, r);
	check(r == HC_EINVAL, "a non-canonical buffer: HC_EINVAL");

	/* Canonical, in the upper half, and simply not mapped: a different error. */
	r = HC_printStr((const char *)(uintptr_t)0xffff800000000000ull);
	say("HC_printStr(0xffff800000000000) returned %r", r);
	check(r == HC_EFAULT, "a canonical upper-half address, unmapped: HC_EFAULT");

	r = HC_printStr("still running after 10 refusals");
	check(r == HC_OK && HC_numExitsByType(buf) == HC_OK, "the host kept serving hypercalls");
	return checks_failed();
}
