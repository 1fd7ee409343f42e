/*
 * bad-unknown-call.c - hostile: calls nobody defined, and the right ports used wrongly.
 *
 * The 256 ports 0x500..0x5ff all belong to the hypercall device, so an access to one of
 * them is never "nothing there" (which stage 1 treats as fatal): the guest gets HC_ENOSYS
 * for a number with no call, HC_EINVAL for a call used against the ABI.
 */
#include "guest.h"

static uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

int main(uint64_t ram_size)
{
	(void)ram_size;
	uint32_t r = hypercall0(0x7f);
	say("IN from port 0x57f returned %r", r);
	check(r == HC_ENOSYS, "unknown call 0x7f (IN only): HC_ENOSYS");

	r = hypercall1(0xff, 1234);
	say("OUT 1234 to port 0x5ff, then IN, returned %r", r);
	check(r == HC_ENOSYS, "unknown call 0xff (OUT, IN): HC_ENOSYS");

	r = hypercall1(HC_REPORT_WORK, 16);
	say("HC_REPORT_WORK (stage 3's call) returned %r", r);
	check(r == HC_ENOSYS, "a call of a later stage: HC_ENOSYS");

	r = hypercall1(HC_NUM_EXITS, 7);
	say("OUT to HC_numExits's port, then IN, returned %r", r);
	check(r == HC_EINVAL, "an argument to a call that takes none: HC_EINVAL");

	r = hc_in(HC_PORT_BASE + HC_PRINT_STR);
	say("IN from HC_printStr's port with no OUT returned %r", r);
	check(r == HC_EINVAL, "a result read before its call was made: HC_EINVAL");

	uint8_t b = inb(HC_PORT_BASE + HC_NUM_EXITS);
	say("1-byte IN from port 0x501 returned 0x%x", b);
	check(b == (uint8_t)HC_EINVAL, "a 1-byte access to a 32-bit port: HC_EINVAL's low byte");

	r = HC_printStr("still running after 6 refusals");
	check(r == HC_OK, "the host kept serving hypercalls");
	return checks_failed();
}
