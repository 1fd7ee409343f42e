/*
 * one-exit.c - the one-exit hypercall convention: number and argument in registers.
 *
 * The same calls as the demo, made with hypercall_regs() (guests/include/hypercall.h): EAX =
 * the call number, RBX = the argument, one OUT to port 0x506, the result in RAX. The guest
 * counts its own exits with HC_numExits to show one exit per call where OUT + IN takes two,
 * passes a 64-bit pointer without HC_HIGH, and reads a 64-bit result without it.
 */
#include "guest.h"

static const char hello[] = "Hello through registers, in one exit";

/* Exits one HC_print32bit takes, measured with HC_numExits (which counts its own exit too). */
static void exits_per_call(void)
{
	uint64_t before = HC_numExits_regs();
	HC_print32bit_regs(1);
	uint64_t regs = HC_numExits_regs() - before - 1;

	before = HC_numExits();
	HC_print32bit(2);
	uint64_t out_in = HC_numExits() - before - 1;

	say("HC_print32bit: %lu exit(s) by registers, %lu by OUT + IN", regs, out_in);
	check(regs == 1, "a call by registers is one exit");
	check(out_in == 2, "the same call by OUT + IN is two");
}

static void values(void)
{
	uint64_t r = HC_print32bit_regs(0xcafef00d);
	say("HC_print32bit_regs(0xcafef00d) returned %r", (uint32_t)r);
	check(r == HC_OK, "HC_print32bit by registers returned HC_OK");

	uint64_t first = HC_numExits_regs(), second = HC_numExits_regs();
	say("HC_numExits_regs() returned %lu, then %lu", first, second);
	check(second == first + 1, "HC_numExits by registers counts its own exit");
}

/* Pointers: 64 bits in RBX, the 64-bit result in RAX. */
static void pointers(void)
{
	uint64_t r = HC_printStr_regs(hello);
	check(r == HC_OK, "HC_printStr by registers read the string");

	char buf[HC_EXITS_BUF_SIZE] = "(untouched)";
	r = HC_numExitsByType_regs(buf);
	say("HC_numExitsByType_regs(buf) returned %r, buf = \"%s\"", (uint32_t)r, buf);
	check(r == HC_OK && buf[0] == 'I' && buf[1] == 'O', "HC_numExitsByType by registers");

	uint64_t gva = (uint64_t)(uintptr_t)hello;
	uint64_t hva = HC_gvaToHva_regs(gva);
	say("HC_gvaToHva_regs(0x%lx) = 0x%lx", gva, hva);
	check(!hc_is_error64(hva) && hva == HC_gvaToHva(gva),
	      "HC_gvaToHva: the same 64-bit host address as by OUT + IN + IN");

	r = HC_printStr_regs((const char *)(uintptr_t)VA_PML4_HOLE);
	say("HC_printStr_regs(0x%lx) returned 0x%lx", VA_PML4_HOLE, r);
	check(r == (uint64_t)(int64_t)-14, "a pointer above 4 GiB in one register: HC_EFAULT, "
	      "sign-extended");
}

/* What the convention refuses: a number with no call, an IN from its port. */
static void refusals(void)
{
	uint64_t r = hypercall_regs(77, 1234);
	say("hypercall_regs(77, 1234) returned 0x%lx", r);
	check(r == (uint64_t)(int64_t)-38, "unknown call by registers: HC_ENOSYS, sign-extended");

	uint32_t in = hc_in(HC_PORT_BASE + HC_REGS);
	say("IN from port 0x506 returned %r", in);
	check(in == HC_EINVAL, "an IN from the register port: HC_EINVAL");
}

int main(uint64_t ram_size)
{
	(void)ram_size;
	exits_per_call();
	values();
	pointers();
	refusals();
	say("%d check(s) failed", checks_failed());
	return checks_failed();
}
