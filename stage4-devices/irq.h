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
 *
 * The same wire without an ioctl per interrupt: an irqfd_line (below). KVM_IRQFD ties an
 * eventfd to the GSI, and a write(2) of 1 to it raises the line, from any thread. A level-
 * triggered line must also come down again when the guest has served it, and only the
 * guest's EOI says when: with KVM_IRQFD_FLAG_RESAMPLE KVM lowers the line itself at the EOI
 * of that GSI and then signals a second eventfd, the resample fd. Its owner reads it and
 * raises the line again if the device still wants service (level semantics: a wire stays
 * high while the device's status bit is set). Stage 4's virtio fast path writes the eventfd
 * itself; stage 5's VFIO hands both eventfds to the host kernel, which does the same for a
 * passed-through device's INTx.
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

/* KVM_IRQFD: tie (on) or untie eventfd fd and GSI gsi; resample_fd >= 0 for a level line. */
int kvm_irqfd(int vm_fd, int fd, unsigned gsi, int resample_fd, bool on);

/* A level-triggered line that KVM drives (see above). fd -1: off. Plain data otherwise. */
struct irqfd_line {
	int vm_fd;
	unsigned gsi;
	int fd;            /* write 1: KVM raises the line */
	int resample_fd;   /* KVM lowered the line at the guest's EOI (and says so here) */
	bool high;         /* raised, and no resample read since: a raise now would be lost */
};

/* Not wired (fd -1): for a struct that may meet irqfd_line_off before irqfd_line_on. */
void irqfd_line_init(struct irqfd_line *l);

/* Two eventfds (non-blocking) and KVM_IRQFD with resample on gsi. 0, or a negative errno
 * with both fds closed. */
int irqfd_line_on(struct irqfd_line *l, int vm_fd, unsigned gsi);

/* Untie and close; KVM lowers the line if no other irqfd on gsi holds it. */
void irqfd_line_off(struct irqfd_line *l);

/* Raise the line unless it is still high (then the EOI's resample comes first). True if it
 * wrote. */
bool irqfd_line_raise(struct irqfd_line *l);

/* The owner's thread saw resample_fd readable: read it. True if KVM lowered the line since
 * the last read (the owner then raises it again if its device still wants service). */
bool irqfd_line_resampled(struct irqfd_line *l);

/* Lower the line now, without waiting for an EOI (a device reset): untie the irqfd, which
 * makes KVM lower it, and tie it again. Two ioctls: for rare events only. */
void irqfd_line_lower(struct irqfd_line *l);

#endif
