/*
 * msi.c - KVM's GSI routing table (the routes MSI irqfds follow), KVM_SIGNAL_MSI; MSI-X entries.
 * See msi.h. Reference: Documentation/virt/kvm/api.rst (KVM_SET_GSI_ROUTING,
 * KVM_SIGNAL_MSI); PCI Local Bus 3.0, 6.8.2 (the MSI-X capability and table).
 */
#include "msi.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "bus.h"   /* bytes_to_u64 */

void msi_routes_init(struct msi_routes *r, int vm_fd)
{
	memset(r, 0, sizeof(*r));
	r->vm_fd = vm_fd;
}

int msi_route_new(struct msi_routes *r)
{
	if (r->n == MSI_MAX_ROUTES)
		return -ENOSPC;
	r->route[r->n] = (struct msi_route){ .on = false };
	return MSI_FIRST_GSI + r->n++;
}

void msi_route_set(struct msi_routes *r, unsigned gsi, const struct msi_msg *msg, bool on)
{
	if (gsi < MSI_FIRST_GSI || gsi - MSI_FIRST_GSI >= r->n)
		return;
	struct msi_route *m = &r->route[gsi - MSI_FIRST_GSI];
	m->msg = *msg;
	m->on = on && msg->address_lo;   /* address 0 is no message: leave the GSI silent */
}

/*
 * The table replaces KVM's default, so the default goes in first: GSIs 0-15 to the PIC and
 * the IOAPIC, 16-23 to the IOAPIC. Then one MSI entry for each route that is on.
 */
int msi_routes_commit(struct msi_routes *r)
{
	size_t max = 16 * 2 + 8 + r->n;
	struct kvm_irq_routing *t = calloc(1, sizeof(*t) + max * sizeof(t->entries[0]));
	if (!t)
		return -ENOMEM;
	unsigned k = 0;
	for (unsigned gsi = 0; gsi < MSI_FIRST_GSI; gsi++) {
		unsigned pic = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
		if (gsi < 16)
			t->entries[k++] = (struct kvm_irq_routing_entry){ .gsi = gsi,
				.type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = { pic, gsi % 8 } };
		t->entries[k++] = (struct kvm_irq_routing_entry){ .gsi = gsi,
			.type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = { KVM_IRQCHIP_IOAPIC, gsi } };
	}
	for (unsigned i = 0; i < r->n; i++) {
		const struct msi_msg *m = &r->route[i].msg;
		if (r->route[i].on)
			t->entries[k++] = (struct kvm_irq_routing_entry){
				.gsi = MSI_FIRST_GSI + i, .type = KVM_IRQ_ROUTING_MSI,
				.u.msi = { .address_lo = m->address_lo,
					   .address_hi = m->address_hi, .data = m->data } };
	}
	t->nr = k;
	int err = ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, t) < 0 ? -errno : 0;
	free(t);
	if (err && !r->warned)
		fprintf(stderr, "minivisor: KVM_SET_GSI_ROUTING: %s (said once)\n", strerror(-err));
	r->warned |= err != 0;
	return err;
}

int msi_signal(int vm_fd, const struct msi_msg *msg)
{
	struct kvm_msi m = { .address_lo = msg->address_lo, .address_hi = msg->address_hi,
			     .data = msg->data };
	/* > 0: delivered; 0: the guest blocked it (a masked LAPIC): not our error. */
	return ioctl(vm_fd, KVM_SIGNAL_MSI, &m) < 0 ? -errno : 0;
}

void msix_entry_msg(const uint8_t *entry, struct msi_msg *msg)
{
	msg->address_lo = bytes_to_u64(entry, 4);
	msg->address_hi = bytes_to_u64(entry + 4, 4);
	msg->data = bytes_to_u64(entry + 8, 4);
}

bool msix_entry_masked(const uint8_t *entry)
{
	return entry[12] & 1;
}
