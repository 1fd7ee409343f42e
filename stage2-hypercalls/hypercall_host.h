/*
 * hypercall_host.h - the host side of the hypercall ABI in guests/include/hypercall.h.
 *
 * A hypercall is a guest asking its hypervisor for a service, the way a system call asks a
 * kernel. Here the "trap" is port I/O: an OUT or IN to a port in 0x500..0x5ff makes the
 * vCPU exit to this process (KVM_EXIT_IO), and hypercall_pio() decodes it:
 *
 *   port - 0x500        the call number (HC_PRINT32, HC_PRINT_STR, ...)
 *   OUT, 32 bits        the argument: run the call now, keep its result
 *   IN,  32 bits        the result of the call just made (or, for a call that takes no
 *                       argument, run it now and return its result)
 *   port HC_HIGH        the upper 32 bits of the next argument / of the last result
 *
 * The run loop (stage 1's vcpu_step) copies an IN's data into the guest's EAX on the next
 * KVM_RUN, so the result is in the guest's register when its IN instruction completes.
 *
 * Beside it, a second convention that makes every call one exit (port HC_REGS, 0x506):
 *
 *   OUT, 32 bits, EAX   the call number; its argument is in RBX, 64 bits wide
 *   result              64 bits in RAX when the OUT instruction completes
 *
 * The host reads and writes the registers without an ioctl: with KVM_CAP_SYNC_REGS, KVM
 * copies them into the kvm_run page at every exit (run->s.regs, because kvm_valid_regs asks
 * for KVM_SYNC_X86_REGS) and loads them back on the next KVM_RUN when kvm_dirty_regs says
 * they changed. hypercall_host_init() fails when KVM lacks the capability.
 *
 * Other ports go to stage 1's debug console (0xE9). A guest that misbehaves (an unmapped
 * pointer, an unknown call, a wrong access size) gets an error code and the host prints one
 * line saying why: the VM keeps running.
 */
#ifndef HYPERCALL_HOST_H
#define HYPERCALL_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "page_walk.h"
#include "run_loop.h"

struct hypercall_host {
	struct exit_stats *stats;   /* the run loop's counts: what HC_numExits* report */
	bool quiet;                 /* do not print results (the benchmark) */
	uint64_t arg_high;          /* HC_HIGH: bits 63..32 of the next call's argument */
	uint64_t result;            /* the last call's result: a value or a negative errno */
	uint16_t pending_port;      /* the port of an OUT whose result the guest has not read */
	struct paging_regs paging;  /* the vCPU's CPUID facts; CRs re-read at each pointer call */
	uint64_t calls, errors;     /* calls tried (HC_HIGH aside), and how many were refused */
};

/*
 * Set up for vCPU vcpu whose exits are counted in stats: from now on KVM leaves the vCPU's
 * registers in its kvm_run page at every exit. 0 or a negative errno: -ENOTSUP when KVM
 * lacks KVM_CAP_SYNC_REGS. hypercall_host_strerror() says which in words.
 */
int hypercall_host_init(struct hypercall_host *hc, struct vcpu *vcpu, struct exit_stats *stats);
const char *hypercall_host_strerror(int err);

/*
 * The stage-2 guests' start, as a boot loader would leave it (guests/stage2/entry.asm):
 * RDI = the size of RAM in bytes, RSI = one argument. 0 or a negative errno.
 */
int hypercall_guest_args(struct vcpu *vcpu, uint64_t argument);

/*
 * An exit_handlers.pio: ctx is the struct hypercall_host. Ports 0x500..0x5ff are
 * hypercalls (HC_REGS among them, which reads and writes vcpu->run->s.regs), anything else
 * goes to debug_console_pio(). Always 0 for hypercall ports: a bad call is the guest's
 * problem, answered with an error code, never the host's.
 */
int hypercall_pio(void *ctx, struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
		  unsigned size);

#endif
