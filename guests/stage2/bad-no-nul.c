/*
 * bad-no-nul.c - hostile: strings that do not end where HC_printStr may read.
 *
 * A host that reads "until the NUL" reads as far as the guest likes. The host bounds the
 * read twice: by the end of what is mapped and in RAM, and by HC_STR_MAX bytes.
 */
#include "guest.h"

static char long_string[HC_STR_MAX + 16];

static void fill(char *p, char c, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = c;
}

/* The last 256 bytes of RAM, no NUL: past them the identity map has no more RAM. */
static void to_the_end_of_ram(uint64_t ram_size)
{
	char *tail = (char *)(uintptr_t)(ram_size - 256);
	fill(tail, 'A', 256);
	uint32_t r = HC_printStr(tail);
	say("HC_printStr(0x%lx), 256 bytes to the end of RAM, returned %r", ram_size - 256, r);
	check(r == HC_EFAULT, "a string that runs to the end of RAM: HC_EFAULT");

	/* The same bytes through VA_RAM_END, whose next virtual page IS mapped: to no RAM. */
	uint64_t gva = VA_RAM_END + GUEST_PAGE - 256;
	r = HC_printStr((const char *)(uintptr_t)gva);
	say("HC_printStr(0x%lx), the same bytes; next page mapped past RAM, returned %r", gva, r);
	check(r == HC_EFAULT, "a string that runs on into a page with no RAM: HC_EFAULT");
}

/* The bound: HC_STR_MAX bytes, NUL included. One byte less is fine, one more is not. */
static void at_the_bound(void)
{
	fill(long_string, 'B', HC_STR_MAX);
	long_string[HC_STR_MAX] = '\0';
	uint32_t r = HC_printStr(long_string);
	say("HC_printStr of %u bytes + NUL returned %r", HC_STR_MAX, r);
	check(r == HC_EINVAL, "a string longer than HC_STR_MAX: HC_EINVAL");

	long_string[HC_STR_MAX - 1] = '\0';
	r = HC_printStr(long_string + HC_STR_MAX - 40);
	say("HC_printStr of its last 39 bytes + NUL returned %r", r);
	check(r == HC_OK, "the tail of it, NUL-terminated: HC_OK");
	r = HC_printStr(long_string);
	say("HC_printStr of %u bytes + NUL returned %r", HC_STR_MAX - 1, r);
	check(r == HC_OK, "exactly HC_STR_MAX bytes with the NUL: HC_OK");
}

int main(uint64_t ram_size)
{
	setup_test_map(ram_size);
	to_the_end_of_ram(ram_size);
	at_the_bound();
	uint32_t r = HC_printStr("still running after 3 refusals");
	check(r == HC_OK, "the host kept serving hypercalls");
	return checks_failed();
}
