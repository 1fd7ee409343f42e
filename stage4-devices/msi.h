/*
 * msi.h - message-signalled interrupts: what a device sends instead of driving a wire, and
 * the two ways a VMM hands one to KVM.
 *
 * An MSI (PCI Local Bus 3.0, 6.8) is a memory write the device makes: to an address in the
 * 0xfee00000 window (which local APIC, which mode) with a 32-bit data word (which vector).
 * The guest's driver programs both; the device only sends them. No pin, no sharing, no
 * level to lower: one message per event. MSI-X gives each event source of a device its own
 * message, in a table of 16-byte entries inside one of the device's BARs:
 *
 *   +0 message address (low)  +4 message address (high)  +8 message data  +12 vector control
 *                                                                            (bit 0: masked)
 *
 * A masked vector that fires sets its bit in the Pending Bit Array (PBA, another BAR area);
 * unmasking it sends the message then.
 *
 * KVM takes a message two ways:
 *   KVM_SIGNAL_MSI   one ioctl per interrupt, with the address and data: simple, but the
 *                    thread that calls it must know the message (take the device's lock).
 *   irqfd            KVM_SET_GSI_ROUTING gives the message a GSI number (a "route"), and
 *                    KVM_IRQFD ties an eventfd to that GSI: a write(2) of 1 to the eventfd
 *                    then interrupts the guest, from any thread, with no ioctl and no exit.
 *
 * The routing table is the VM's, one for all devices (KVM_SET_GSI_ROUTING replaces it
 * whole), so every device that routes messages shares one struct msi_routes: the PCI host
 * keeps it (pci.h). Stage 5's VFIO passthrough uses the same table.
 */
#ifndef MSI_H
#define MSI_H

#include <stdbool.h>
#include <stdint.h>

/* What the driver programmed: where the message goes, what it says. */
struct msi_msg {
	uint32_t address_lo, address_hi, data;
};

#define MSI_FIRST_GSI 24    /* GSIs 0-23 are the PIC's and the IOAPIC's pins */
#define MSI_MAX_ROUTES 320  /* VFIO's 4 devices x (1 + 64) vectors, plus virtio's few */

/* The VM's routing table: the default pins (built in) plus one MSI route per vector in use. */
struct msi_routes {
	int vm_fd;
	unsigned n;
	bool warned;            /* KVM refused a table once: said so (a guest may repeat it) */
	struct msi_route {
		struct msi_msg msg;
		bool on;            /* routed: unmasked and programmed */
	} route[MSI_MAX_ROUTES];  /* route[i] is GSI MSI_FIRST_GSI + i */
};

void msi_routes_init(struct msi_routes *r, int vm_fd);

/* A GSI of the caller's own for one vector, for the machine's life: >= 24, or -ENOSPC. */
int msi_route_new(struct msi_routes *r);

/* Set what GSI gsi sends (on: routed; off: the GSI sends nothing). msi_routes_commit after. */
void msi_route_set(struct msi_routes *r, unsigned gsi, const struct msi_msg *msg, bool on);

/* KVM_SET_GSI_ROUTING with the whole table; KVM re-reads the routes of live irqfds. */
int msi_routes_commit(struct msi_routes *r);

/* KVM_SIGNAL_MSI: send one message now. 0 or a negative errno. */
int msi_signal(int vm_fd, const struct msi_msg *msg);

/* (KVM_IRQFD itself, kvm_irqfd(), is in irq.h: a pin's GSI takes an irqfd too.) */

/* One 16-byte MSI-X table entry, as the guest wrote it. */
void msix_entry_msg(const uint8_t *entry, struct msi_msg *msg);
bool msix_entry_masked(const uint8_t *entry);

#define PCI_CAP_ID_MSIX 0x11
#define MSIX_ENTRY_SIZE 16
#define MSIX_CTRL_ENABLE   0x8000   /* message control: MSI-X on (INTx off) */
#define MSIX_CTRL_MASKALL  0x4000   /* message control: every vector masked */

#endif
