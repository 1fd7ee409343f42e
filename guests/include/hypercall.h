/*
 * hypercall.h - the guest side of minivisor's hypercalls (stage 2 onwards).
 *
 * The ABI, documented with its table in docs/stage2.md:
 *   - Each call has its own I/O port, HC_PORT_BASE + number, in the range 0x500..0x5ff.
 *   - A call with an argument writes it as a 32-bit OUT to its port. The VM exits, the host
 *     performs the call and keeps its result for the vCPU.
 *   - The guest then reads the result with a 32-bit IN from the same port: a value, or a
 *     status (HC_OK or a negative HC_E* code). A call without an argument is just the IN.
 *   - Pointers are guest-virtual addresses (the host walks the guest's page tables).
 * So a call is two exits, one OUT and one IN; that is what HC_numExitsByType() counts.
 *
 * One exit, arguments in registers (the HC_*_regs functions below): the guest puts the call
 * number in EAX and the argument in RBX, 64 bits wide, and does one 32-bit OUT to port
 * HC_PORT_BASE + HC_REGS. The host reads the registers from the exit's kvm_run page and
 * writes the 64-bit result into RAX, so the call is over when the OUT instruction is: one
 * exit, no HC_HIGH. The numbers, arguments and results are the same as above.
 *
 * 64 bits through a 32-bit port: the port HC_HIGH carries the upper halves.
 *   - OUT to HC_HIGH sets bits 63..32 of the NEXT call's argument (it is 0 otherwise, and
 *     every call clears it). Pointers above 4 GiB cost one more exit; those below, none.
 *   - IN from HC_HIGH reads bits 63..32 of the LAST call's result: HC_gvaToHva's host
 *     address is 64 bits wide. An error result is the negative code sign-extended, as a
 *     Linux system call returns it, so hc_is_error64() tells it from any host address.
 *
 * Everything here is static inline: the header is the whole guest-side library, and the
 * host includes it for the numbers.
 */
#ifndef HYPERCALL_H
#define HYPERCALL_H

#include <stdint.h>

#define HC_PORT_BASE        0x500
#define HC_PORT_LAST        0x5ff

#define HC_PRINT32          0   /* out value;   in -> HC_OK */
#define HC_NUM_EXITS        1   /*              in -> number of VM exits so far */
#define HC_PRINT_STR        2   /* out gva;     in -> HC_OK or an error */
#define HC_NUM_EXITS_BY_TYPE 3  /* out gva of a HC_EXITS_BUF_SIZE buffer; in -> status */
#define HC_GVA_TO_HVA       4   /* out gva;     in -> low 32 bits of the HVA, or an error */
#define HC_HIGH             5   /* out: bits 63..32 of the next argument; in: of the last result */
#define HC_REGS             6   /* out EAX = call number, RBX = argument -> RAX = result */
#define HC_REPORT_WORK      8   /* stage 3: out units of work done since the last report */

#define HC_STR_MAX          4096  /* HC_PRINT_STR reads at most this many bytes, NUL included */
#define HC_EXITS_BUF_SIZE   64    /* HC_NUM_EXITS_BY_TYPE writes at most this, NUL included */

/* Results: errors are small negative numbers, as the host's errno values. */
#define HC_OK        0
#define HC_EFAULT    ((uint32_t)-14)   /* an address is unmapped, outside RAM or protected */
#define HC_EINVAL    ((uint32_t)-22)   /* a string too long, a non-canonical address */
#define HC_ENOSYS    ((uint32_t)-38)   /* no such hypercall */

/* The top 4095 values of a result are errors, whether it is read as 32 or as 64 bits. */
static inline int hc_is_error(uint32_t result)
{
	return result >= (uint32_t)-4095;
}

static inline int hc_is_error64(uint64_t result)
{
	return result >= (uint64_t)-4095;
}

static inline void hc_out(uint16_t port, uint32_t value)
{
	__asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

static inline uint32_t hc_in(uint16_t port)
{
	uint32_t value;
	__asm__ volatile("inl %1, %0" : "=a"(value) : "Nd"(port) : "memory");
	return value;
}

static inline uint32_t hypercall1(int number, uint32_t arg)
{
	hc_out(HC_PORT_BASE + number, arg);
	return hc_in(HC_PORT_BASE + number);
}

static inline uint32_t hypercall0(int number)
{
	return hc_in(HC_PORT_BASE + number);
}

/* A call with a 64-bit argument (a pointer): the upper half first, when there is one. */
static inline uint32_t hypercall1_64(int number, uint64_t arg)
{
	if (arg >> 32)
		hc_out(HC_PORT_BASE + HC_HIGH, (uint32_t)(arg >> 32));
	return hypercall1(number, (uint32_t)arg);
}

/* The whole 64-bit result of the call just made, given its low half. */
static inline uint64_t hc_result64(uint32_t low)
{
	return (uint64_t)hc_in(HC_PORT_BASE + HC_HIGH) << 32 | low;
}

/* The one-exit convention: number in EAX (the OUT's data), argument in RBX, result in RAX. */
static inline uint64_t hypercall_regs(int number, uint64_t arg)
{
	uint64_t rax = (uint32_t)number;
	__asm__ volatile("outl %%eax, %%dx"
			 : "+a"(rax)
			 : "b"(arg), "d"((uint16_t)(HC_PORT_BASE + HC_REGS))
			 : "memory");
	return rax;
}

static inline uint32_t HC_print32bit(uint32_t val)
{
	return hypercall1(HC_PRINT32, val);
}

static inline uint32_t HC_numExits(void)
{
	return hypercall0(HC_NUM_EXITS);
}

static inline uint32_t HC_printStr(const char *str)
{
	return hypercall1_64(HC_PRINT_STR, (uint64_t)(uintptr_t)str);
}

/* The host writes e.g. "IO in: 3 out: 7" into buf (HC_EXITS_BUF_SIZE bytes). */
static inline uint32_t HC_numExitsByType(char *buf)
{
	return hypercall1_64(HC_NUM_EXITS_BY_TYPE, (uint64_t)(uintptr_t)buf);
}

/*
 * The host address behind gva (the host also prints it), or an error code sign-extended:
 * test with hc_is_error64(). Takes 64 bits, so any address can be asked about, even a
 * non-canonical one; a 32-bit gva works as it is.
 */
static inline uint64_t HC_gvaToHva(uint64_t gva)
{
	return hc_result64(hypercall1_64(HC_GVA_TO_HVA, gva));
}

/* The same calls in one exit each. Results are 64 bits: test errors with hc_is_error64(). */
static inline uint64_t HC_print32bit_regs(uint32_t val)
{
	return hypercall_regs(HC_PRINT32, val);
}

static inline uint64_t HC_numExits_regs(void)
{
	return hypercall_regs(HC_NUM_EXITS, 0);
}

static inline uint64_t HC_printStr_regs(const char *str)
{
	return hypercall_regs(HC_PRINT_STR, (uint64_t)(uintptr_t)str);
}

static inline uint64_t HC_numExitsByType_regs(char *buf)
{
	return hypercall_regs(HC_NUM_EXITS_BY_TYPE, (uint64_t)(uintptr_t)buf);
}

static inline uint64_t HC_gvaToHva_regs(uint64_t gva)
{
	return hypercall_regs(HC_GVA_TO_HVA, gva);
}

#endif
