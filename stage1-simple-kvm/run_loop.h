/*
 * run_loop.h - KVM_RUN and the exit dispatch: the heart of every hypervisor.
 *
 * A vCPU runs guest code inside the KVM_RUN ioctl until the guest does something the
 * kernel leaves to user space: port I/O, MMIO to no RAM, HLT (when there is no in-kernel
 * interrupt controller), a triple fault. KVM_RUN then returns and struct kvm_run says why
 * (run->exit_reason) and with what data. The VMM handles it and calls KVM_RUN again.
 *
 * The loop knows no devices. Port and MMIO accesses go to the handlers it is given: in
 * stage 1 a debug console on port 0xE9, in stage 2 the hypercall ports, in stage 4 a bus.
 */
#ifndef RUN_LOOP_H
#define RUN_LOOP_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "kvm.h"

#define DEBUG_CONSOLE_PORT 0xE9   /* Bochs/QEMU "port e9 hack": each byte written is printed */

#define EXIT_REASON_SLOTS 64

struct exit_stats {
	uint64_t total;
	uint64_t by_reason[EXIT_REASON_SLOTS];  /* indexed by KVM_EXIT_* */
	uint64_t io_in, io_out;                 /* KVM_EXIT_IO split by direction */
};

/*
 * Handlers for the exits that carry device accesses. Each is called once per element
 * (a `rep outsb` of 5 bytes is 5 calls) with data to fill (in/read) or consume (out/write).
 * Return 0 when handled, -ENOENT when nothing is at that address, another negative errno
 * to stop the vCPU. NULL handlers mean "nothing is there". A device that stops the whole
 * machine on purpose (stage 4's reset line, ACPI power-off) returns EXIT_HANDLER_STOP.
 */
#define EXIT_HANDLER_STOP 1
struct exit_handlers {
	int (*pio)(void *ctx, struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
		   unsigned size);
	int (*mmio)(void *ctx, struct vcpu *vcpu, uint64_t addr, bool write, uint8_t *data,
		    unsigned len);
	void *ctx;
	/*
	 * Optional (stage 5's PC): a triple fault (KVM_EXIT_SHUTDOWN) is the CPU's shutdown
	 * cycle, which a PC's chipset turns into a reset. Returning EXIT_HANDLER_STOP makes it
	 * VCPU_STOPPED; without the handler it is a failure, reported with the registers.
	 */
	int (*shutdown)(void *ctx, struct vcpu *vcpu);
};

enum vcpu_status {
	VCPU_RUNNING,      /* handled an exit; call vcpu_step() again */
	VCPU_HALTED,       /* the guest executed HLT */
	VCPU_INTERRUPTED,  /* a signal or immediate_exit kicked it out (stage 3's timer) */
	VCPU_FAILED,       /* an exit the VMM cannot continue from; already reported */
	VCPU_STOPPED,      /* a handler returned EXIT_HANDLER_STOP: the guest asked to stop */
};

/* Run the vCPU once and dispatch the exit. Counts it in stats. */
enum vcpu_status vcpu_step(struct vcpu *vcpu, struct exit_stats *stats,
			   const struct exit_handlers *handlers);

/* vcpu_step() until the vCPU halts, fails or is stopped. */
enum vcpu_status vcpu_run_until_stop(struct vcpu *vcpu, struct exit_stats *stats,
				     const struct exit_handlers *handlers);

/* The KVM_EXIT_* name of a reason, for messages. */
const char *exit_reason_name(uint32_t reason);

/* Print "exits: total=N io=N (in=N out=N) hlt=N ..." on one line to f. */
void exit_stats_print(const struct exit_stats *stats, FILE *f);

/* Print the general and special registers (for a failure report) to stderr. */
void vcpu_dump_state(struct vcpu *vcpu);

/* Stage 1's only device: port 0xE9 writes go to stdout. Usable as exit_handlers.pio. */
int debug_console_pio(void *ctx, struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
		      unsigned size);

#endif
