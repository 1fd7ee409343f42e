/*
 * irq.h - the interrupt controllers and the timer, inside KVM, and how devices reach them.
 *
 * A PC has four pieces of interrupt and timer hardware; KVM emulates all four in the kernel,
 * where they are fast (no exit to us for an EOI or a timer tick):
 *
 *   PIC    two 8259A chips, 15 lines (IRQ 0-15): the original PC interrupt controller,
 *          used by Linux only while it boots.
 *   IOAPIC one I/O APIC with 24 input pins (GSIs): routes each device line to a CPU's
 *          local APIC as a message, edge- or level-triggered, as the guest programs it.
 *   LAPIC  one local APIC per vCPU: receives interrupts, has the per-CPU timer, and sends
 *          the INIT/SIPI messages that wake the other CPUs (--smp).
 *   PIT    the 8254 timer on IRQ 0; Linux calibrates against it when it has no better clock.
 *
 * KVM_CREATE_IRQCHIP makes the PIC, the IOAPIC and the LAPICs; KVM_CREATE_PIT2 the PIT.
 * A device never touches them: it owns an irq_line and sets it high or low, and KVM_IRQ_LINE
 * drives that GSI into both the PIC and the IOAPIC, exactly like a wire on the motherboard.
 */
#ifndef IRQ_H
#define IRQ_H

#include <stdbool.h>

/* One interrupt wire from a device to the controllers. Plain data: saveable. */
struct irq_line {
	int vm_fd;       /* where KVM_IRQ_LINE goes */
	unsigned gsi;    /* the pin: ISA IRQ n is GSI n in this machine (no overrides) */
	bool level;      /* what we last drove, so unchanged levels cost no ioctl */
};

/*
 * Intel VMX needs three pages of guest-physical space for its own use (a TSS and an identity
 * page table for real mode). They go where QEMU puts them, just below 0xff000000: no RAM, no
 * device, and out of the way of firmware flash, which grows down from 4 GiB (OVMF's 4 MiB;
 * KVM refuses a memory slot over these pages). AMD SVM ignores them. A machine with firmware
 * (stage 5) must also mark them reserved in its e820 map.
 */
#define VMX_IDENTITY_MAP_GPA 0xfeffc000ull   /* one page */
#define VMX_TSS_GPA          0xfeffd000ull   /* three pages */
#define VMX_HELPERS_SIZE     0x4000ull

/*
 * Create the in-kernel PIC + IOAPIC + LAPICs and the PIT. Must come before any vCPU.
 * Returns 0 or a negative errno; *what names the step that failed.
 */
int irqchip_create(int vm_fd, const char **what);

void irq_line_init(struct irq_line *line, int vm_fd, unsigned gsi);

/* Drive the wire. Edge-triggered users raise and lower it; level users hold it high. */
void irq_line_set(struct irq_line *line, bool level);

#endif
