/*
 * demo.c - stage 2's demo guest: every hypercall once, and what came back.
 *
 * Each call is made, then the guest prints its result on the console and checks what it
 * can check from the inside: that the exit count grows, that the host read a string the
 * guest wrote through its own page tables, that two virtual addresses mapped to the same
 * physical byte get the same host address. The host prints its side of each call
 * ("HC_printStr: ..."), so the two can be read together.
 */
#include "guest.h"

static const char hello[] = "Hello from the guest, through a hypercall!";
static const char split[] = "this string starts on one page and ends on another";

/* HC_print32bit and HC_numExits: values in, values out. */
static void values(void)
{
	uint32_t r = HC_print32bit(0xdeadbeef);
	say("HC_print32bit(0xdeadbeef) returned %r", r);
	check(r == HC_OK, "HC_print32bit returned HC_OK");

	uint32_t first = HC_numExits();
	uint32_t second = HC_numExits();
	say("HC_numExits() returned %u, then %u", first, second);
	check(second == first + 1, "HC_numExits counts its own exit: one IN, one more exit");
}

/* HC_printStr: a plain string, then one split over two pages that are not neighbours in RAM. */
static void strings(void)
{
	uint32_t r = HC_printStr(hello);
	say("HC_printStr(\"%s\") returned %r", hello, r);
	check(r == HC_OK, "HC_printStr returned HC_OK");

	/* Written through the virtual mapping, so the CPU itself puts the halves on pages B, A. */
	char *s = (char *)(uintptr_t)(VA_SWAP_HI - 20);
	for (unsigned i = 0; i < sizeof(split); i++)
		s[i] = split[i];
	r = HC_printStr(s);
	say("HC_printStr(0x%lx), 20 bytes on page B and the rest on page A below it, returned %r",
	    (uint64_t)(uintptr_t)s, r);
	check(r == HC_OK, "HC_printStr across two 4 KiB pages mapped out of order");
}

/* HC_numExitsByType: the host writes a string into our buffer. */
static void exits_by_type(void)
{
	char buf[HC_EXITS_BUF_SIZE] = "(untouched)";
	uint32_t r = HC_numExitsByType(buf);
	say("HC_numExitsByType(buf) returned %r, buf = \"%s\"", r, buf);
	check(r == HC_OK && buf[0] == 'I' && buf[1] == 'O', "HC_numExitsByType filled the buffer");
}

/* The byte the CPU itself reads at gva: the guest's view of its own mapping. */
static char read_byte(uint64_t gva)
{
	return *(volatile const char *)(uintptr_t)gva;
}

/* HC_gvaToHva: one physical byte, reached through three kinds of page. */
static void addresses(void)
{
	uint64_t gva = (uint64_t)(uintptr_t)hello;
	uint64_t hva = HC_gvaToHva(gva);
	say("HC_gvaToHva(0x%lx) = 0x%lx", gva, hva);
	check(!hc_is_error64(hva), "HC_gvaToHva through the host's 2 MiB identity page");

	uint64_t via_4k = HC_gvaToHva(VA_SWAP_HI + 5);
	uint64_t direct = HC_gvaToHva((uint64_t)(uintptr_t)page_a + 5);
	say("HC_gvaToHva(0x%lx) = 0x%lx, page A directly: 0x%lx", VA_SWAP_HI + 5, via_4k, direct);
	check(!hc_is_error64(via_4k) && via_4k == direct, "a 4 KiB page: the same host address");

	uint64_t via_2m = HC_gvaToHva(VA_2M_ALIAS + gva);
	say("HC_gvaToHva(0x%lx) = 0x%lx", VA_2M_ALIAS + gva, via_2m);
	check(via_2m == hva && read_byte(VA_2M_ALIAS + gva) == hello[0],
	      "a 2 MiB page of our own: the same host address");

	uint64_t via_1g = HC_gvaToHva(VA_1G_ALIAS + gva);
	say("HC_gvaToHva(0x%lx) = 0x%lx", VA_1G_ALIAS + gva, via_1g);
	if (cpu_has_1g_pages())
		check(via_1g == hva && read_byte(VA_1G_ALIAS + gva) == hello[0],
		      "a 1 GiB page: the same host address");
	else
		check(via_1g == (uint64_t)(int32_t)HC_EFAULT,
		      "a 1 GiB page on a CPU without them: refused, as the CPU would (HC_EFAULT)");
}

int main(uint64_t ram_size)
{
	say("stage 2 demo: %lu KiB of RAM; building the test map", ram_size >> 10);
	setup_test_map(ram_size);
	values();
	strings();
	exits_by_type();
	addresses();
	say("%d check(s) failed", checks_failed());
	return checks_failed();
}
