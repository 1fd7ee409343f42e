/*
 * vmstate.h - what a running PC is, as sections of the migration stream (stream.h).
 *
 * Teaches: where a virtual machine's state lives. Three places:
 *   - in KVM, per vCPU: registers, special registers (segments, control registers), the FPU
 *     and vector state (XSAVE, XCR0), the MSRs KVM lists, the local APIC, pending events
 *     (an exception or interrupt half delivered), the MP state (running, halted, waiting
 *     for SIPI) and the debug registers; the TSC is an MSR among them;
 *   - in KVM, per VM: the in-kernel PIC pair and IOAPIC, the PIT, the kvmclock base;
 *   - in this process: every device model's registers (struct uart_state and friends, kept
 *     apart from their host side for this), the PCI configuration space of every function,
 *     and guest RAM.
 * Each section has a name and a version; a device that cannot be saved yet makes
 * vmstate_check() refuse in one line, better than a destination that runs a wrong guest.
 */
#ifndef MIGRATION_VMSTATE_H
#define MIGRATION_VMSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "board/pc.h"
#include "stream.h"

/* The machine's description for the stream's header (machine, ram, cpus, devices, disks). */
void vmstate_config(const struct pc *pc, char *out, size_t cap);
/* 0 when every device of this machine can be saved; else -ENOTSUP and a line naming them. */
int vmstate_check(const struct pc *pc, char *why, size_t why_len);

/* With the vCPUs stopped: every vCPU, KVM's devices and the device models, as sections. */
int vmstate_save(struct pc *pc, struct stream *s, char *why, size_t why_len);
/* Its second half: the device models' sections only, no KVM (the fuzz target's seeds). */
int vmstate_save_devices(struct pc *pc, struct stream *s, char *why, size_t why_len);

/*
 * While the guest still runs: the chipset's PCI configuration (PAM, BARs, PCIEXBAR) as the
 * section "chipset-early". The destination applies it at once, so that the KVM memory slots
 * it implies are set before the pause, not during it; the final "chipset" section, the same
 * unless the guest changed it meanwhile, then changes little. 0 or -EIO with why.
 */
int vmstate_save_early(struct pc *pc, struct stream *s, char *why, size_t why_len);

/* Guest RAM as pages: page numbers count through the one host allocation (below, above 4G). */
uint64_t vmstate_ram_pages(const struct pc *pc);
uint8_t *vmstate_page(const struct pc *pc, uint64_t page);
bool vmstate_page_is_zero(const uint8_t *p);

/*
 * The destination's side: sections after the header. RAM pages go into guest RAM as they
 * come (the guest does not run yet); every other section is checked (known name, version,
 * size) and kept; at the end marker all are applied at once. An error leaves a machine that
 * must not run: the caller exits. 0 or a negative errno with one line in why.
 */
int vmstate_load(struct pc *pc, struct stream *s, char *why, size_t why_len);

#endif
