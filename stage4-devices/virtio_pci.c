/*
 * virtio_pci.c - virtio 1.x PCI transport: capabilities, common configuration, ISR, notify.
 * See virtio_pci.h for the BAR layout. Reference: virtio 1.1, sections 3.1 (device
 * initialization), 4.1.4 (PCI capabilities) and 4.1.4.3 (common configuration layout).
 */
#include "virtio_pci.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* struct virtio_pci_cap (4.1.4) and the notify variant with its multiplier. */
enum { CFG_COMMON = 1, CFG_NOTIFY = 2, CFG_ISR = 3, CFG_DEVICE = 4 };

struct virtio_pci_cap {
	uint8_t cap_vndr, cap_next, cap_len, cfg_type, bar, id, padding[2];
	uint32_t offset, length;
	uint32_t notify_off_multiplier;   /* CFG_NOTIFY only */
} __attribute__((packed));

/* Common configuration registers (4.1.4.3), by offset. */
enum {
	COMMON_DFSELECT = 0x00, COMMON_DF = 0x04, COMMON_GFSELECT = 0x08, COMMON_GF = 0x0c,
	COMMON_MSIX = 0x10, COMMON_NUMQ = 0x12, COMMON_STATUS = 0x14, COMMON_CFGGEN = 0x15,
	COMMON_Q_SELECT = 0x16, COMMON_Q_SIZE = 0x18, COMMON_Q_MSIX = 0x1a,
	COMMON_Q_ENABLE = 0x1c, COMMON_Q_NOFF = 0x1e, COMMON_Q_DESCLO = 0x20,
	COMMON_Q_DESCHI = 0x24, COMMON_Q_AVAILLO = 0x28, COMMON_Q_AVAILHI = 0x2c,
	COMMON_Q_USEDLO = 0x30, COMMON_Q_USEDHI = 0x34, COMMON_SIZE = 0x38,
};

static uint64_t device_features(const struct virtio_pci *vp)
{
	return vp->ops->features | VIRTIO_F_VERSION_1;
}

static struct virtq *selected_queue(struct virtio_pci *vp)
{
	unsigned q = vp->state.queue_select;
	return q < vp->ops->num_queues ? &vp->state.vq[q] : NULL;
}

/* ---- interrupts: INTx, or one MSI-X message per event --------------------------------- */

static uint16_t msix_control(const struct virtio_pci *vp)
{
	return vp->msix_cap ? bytes_to_u64(vp->pci.config.bytes + vp->msix_cap + 2, 2) : 0;
}

static bool msix_enabled(const struct virtio_pci *vp)
{
	return msix_control(vp) & MSIX_CTRL_ENABLE;
}

/*
 * INTx follows ISR, but only while MSI-X is off: then the line is not the device's to use.
 * Through an irqfd (the fast path's INTx) only the rise is ours: KVM lowers the line at the
 * guest's EOI, which follows the interrupt handler's ISR read, and virtio_pci_resample()
 * raises it again if ISR was set meanwhile. (A driver that reads ISR with the pin masked,
 * polling, leaves the line high until its next EOI or a device reset: the driver then sees
 * one interrupt with ISR 0, as on a shared line.) --stats counts each rise.
 */
static void update_irq(struct virtio_pci *vp)
{
	bool level = vp->state.isr != 0 && !msix_enabled(vp);
	if (vp->intx.fd >= 0) {
		vp->irq_count[VIRTIO_IRQ_INTX_IRQFD] += level && irqfd_line_raise(&vp->intx);
		return;
	}
	vp->irq_count[VIRTIO_IRQ_INTX] += level && !vp->pci.irq.level;
	irq_line_set(&vp->pci.irq, level);
}

/*
 * Send vector v's message, or note it pending while the vector (or the whole function) is
 * masked. The fast path writes the vector's irqfd: KVM has the message in its routing table.
 */
static void msix_fire(struct virtio_pci *vp, unsigned v)
{
	if (v >= vp->msix_vectors)
		return;   /* VIRTIO_NO_VECTOR: the driver wants no interrupt for this event */
	const uint8_t *entry = vp->state.msix_table + MSIX_ENTRY_SIZE * v;
	if ((msix_control(vp) & MSIX_CTRL_MASKALL) || msix_entry_masked(entry)) {
		vp->state.msix_pending |= 1u << v;
		return;
	}
	vp->state.msix_pending &= ~(1u << v);
	vp->irq_count[vp->irq_fd[v] >= 0 ? VIRTIO_IRQ_IRQFD : VIRTIO_IRQ_MSI]++;
	if (vp->irq_fd[v] >= 0) {
		uint64_t one = 1;
		if (write(vp->irq_fd[v], &one, sizeof(one)) < 0)
			perror("virtio: irqfd");
		return;
	}
	struct msi_msg msg;
	msix_entry_msg(entry, &msg);
	int err = msi_signal(vp->pci.irq.vm_fd, &msg);
	if (err && err != -EBADF && !vp->msi_warned)   /* (EBADF: no VM, as in the unit tests) */
		fprintf(stderr, "%s: KVM_SIGNAL_MSI to %#x: %s (said once)\n", vp->ops->name,
			msg.address_lo, strerror(-err));
	vp->msi_warned |= err && err != -EBADF;
}

/* The guest unmasked something: what was pending goes out now. */
static void msix_deliver_pending(struct virtio_pci *vp)
{
	for (unsigned v = 0; v < vp->msix_vectors; v++)
		if (vp->state.msix_pending & (1u << v))
			msix_fire(vp, v);
}

/* ISR is set either way (a driver may read it); the message or the line tells the driver. */
static void interrupt(struct virtio_pci *vp, uint8_t isr_bit, uint16_t vector)
{
	vp->state.isr |= isr_bit;
	if (msix_enabled(vp)) {
		msix_fire(vp, vector);
		return;
	}
	update_irq(vp);
}

void virtio_pci_notify_used(struct virtio_pci *vp, unsigned q)
{
	interrupt(vp, VIRTIO_ISR_QUEUE, vp->state.queue_vector[q]);
}

void virtio_pci_queue_error(struct virtio_pci *vp, unsigned q, const char *why)
{
	fprintf(stderr, "%s: queue %u: %s; device needs reset\n", vp->ops->name, q, why);
	vp->state.vq[q].broken = true;
	vp->state.status |= VIRTIO_STATUS_NEEDS_RESET;
	interrupt(vp, VIRTIO_ISR_CONFIG, vp->state.config_vector);
}

int virtio_pci_pop(struct virtio_pci *vp, unsigned q, struct virtq_chain *chain)
{
	char why[160];
	int n = virtq_pop(vp->mem, &vp->state.vq[q], chain, why, sizeof(why));
	if (n < 0) {
		virtio_pci_queue_error(vp, q, why);
		return 0;
	}
	return n;
}

void virtio_pci_serve_queue(struct virtio_pci *vp, unsigned q,
			    uint32_t (*serve)(struct virtio_pci *vp, struct virtq_chain *chain))
{
	static struct virtq_chain chain;   /* large; used under the bus lock only */
	bool used = false;

	while (virtio_pci_pop(vp, q, &chain) > 0) {
		uint32_t written = serve(vp, &chain);
		virtq_push(vp->mem, &vp->state.vq[q], chain.head, written);
		used = true;
	}
	if (used && virtq_needs_interrupt(vp->mem, &vp->state.vq[q]))
		virtio_pci_notify_used(vp, q);
}

bool virtio_pci_queue_live(const struct virtio_pci *vp, unsigned q)
{
	const struct virtq *vq = &vp->state.vq[q];
	return vq->ready && !vq->broken && (vp->state.status & VIRTIO_STATUS_DRIVER_OK);
}

static void device_reset(struct virtio_pci *vp)
{
	struct virtio_pci_state *s = &vp->state;
	vp->resets++;
	s->device_feature_select = s->driver_feature_select = 0;
	s->driver_features = 0;
	s->status = 0;
	s->isr = 0;
	s->queue_select = 0;
	s->config_vector = VIRTIO_NO_VECTOR;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		virtq_reset(&s->vq[q]);
		s->queue_vector[q] = VIRTIO_NO_VECTOR;
	}
	if (vp->ops->reset)
		vp->ops->reset(vp);
	irqfd_line_lower(&vp->intx);   /* (KVM_IRQ_LINE's line: update_irq lowers it) */
	update_irq(vp);
}

/* The driver sets FEATURES_OK only if we accept what it chose: a subset, with VERSION_1. */
static void write_status(struct virtio_pci *vp, uint8_t status)
{
	if (status == 0) {
		device_reset(vp);
		return;
	}
	if ((status & VIRTIO_STATUS_FEATURES_OK) &&
	    !(vp->state.status & VIRTIO_STATUS_FEATURES_OK)) {
		uint64_t f = vp->state.driver_features;
		if ((f & ~device_features(vp)) || !(f & VIRTIO_F_VERSION_1))
			status &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	vp->state.status = status | (vp->state.status & VIRTIO_STATUS_NEEDS_RESET);
}

static void enable_queue(struct virtio_pci *vp, struct virtq *vq)
{
	char why[160];
	if (virtq_validate(vp->mem, vq, why, sizeof(why)) < 0) {
		virtio_pci_queue_error(vp, vp->state.queue_select, why);
		return;
	}
	vq->ready = true;
	vq->last_avail = vq->used_idx = vq->signalled_used = 0;
	vq->event_idx = vp->state.driver_features & VIRTIO_RING_F_EVENT_IDX;
	vq->indirect = vp->state.driver_features & VIRTIO_RING_F_INDIRECT_DESC;
}

static uint64_t set_half(uint64_t old, bool high, uint32_t v)
{
	return high ? (old & 0xffffffffull) | ((uint64_t)v << 32)
		    : (old & ~0xffffffffull) | v;
}

static uint32_t common_read(struct virtio_pci *vp, unsigned off)
{
	struct virtio_pci_state *s = &vp->state;
	struct virtq *vq = selected_queue(vp);

	switch (off) {
	case COMMON_DFSELECT: return s->device_feature_select;
	case COMMON_DF:
		return s->device_feature_select < 2
			? device_features(vp) >> (32 * s->device_feature_select) : 0;
	case COMMON_GFSELECT: return s->driver_feature_select;
	case COMMON_GF:
		return s->driver_feature_select < 2
			? s->driver_features >> (32 * s->driver_feature_select) : 0;
	case COMMON_MSIX: return s->config_vector;
	case COMMON_NUMQ: return vp->ops->num_queues;
	case COMMON_STATUS: return s->status;
	case COMMON_CFGGEN: return s->config_generation;
	case COMMON_Q_SELECT: return s->queue_select;
	case COMMON_Q_NOFF: return s->queue_select;
	}
	if (!vq)   /* a queue that does not exist reads as size 0: "not available" */
		return 0;
	switch (off) {
	case COMMON_Q_SIZE: return vq->size;
	case COMMON_Q_MSIX: return s->queue_vector[s->queue_select];
	case COMMON_Q_ENABLE: return vq->ready;
	case COMMON_Q_DESCLO: return vq->desc_gpa;
	case COMMON_Q_DESCHI: return vq->desc_gpa >> 32;
	case COMMON_Q_AVAILLO: return vq->avail_gpa;
	case COMMON_Q_AVAILHI: return vq->avail_gpa >> 32;
	case COMMON_Q_USEDLO: return vq->used_gpa;
	case COMMON_Q_USEDHI: return vq->used_gpa >> 32;
	}
	return 0;
}

/* A vector the device does not have reads back as NO_VECTOR: that is how a driver learns it. */
static uint16_t vector_or_none(const struct virtio_pci *vp, uint32_t v)
{
	return v < vp->msix_vectors ? v : VIRTIO_NO_VECTOR;
}

static void common_write(struct virtio_pci *vp, unsigned off, uint32_t v)
{
	struct virtio_pci_state *s = &vp->state;
	struct virtq *vq = selected_queue(vp);

	switch (off) {
	case COMMON_DFSELECT: s->device_feature_select = v; return;
	case COMMON_GFSELECT: s->driver_feature_select = v; return;
	case COMMON_GF:
		if (s->driver_feature_select < 2)
			s->driver_features = set_half(s->driver_features,
						      s->driver_feature_select, v);
		return;
	case COMMON_STATUS: write_status(vp, v); return;
	case COMMON_Q_SELECT: s->queue_select = v; return;
	case COMMON_MSIX: s->config_vector = vector_or_none(vp, v); return;
	}
	if (!vq)
		return;
	if (off == COMMON_Q_MSIX) {   /* (may change on a live queue: irq affinity moves) */
		s->queue_vector[s->queue_select] = vector_or_none(vp, v);
		return;
	}
	if (vq->ready)   /* a live queue's setup is frozen until reset */
		return;
	switch (off) {
	case COMMON_Q_SIZE: vq->size = v; break;
	case COMMON_Q_ENABLE:
		if (v == 1)
			enable_queue(vp, vq);
		break;
	case COMMON_Q_DESCLO: case COMMON_Q_DESCHI:
		vq->desc_gpa = set_half(vq->desc_gpa, off == COMMON_Q_DESCHI, v);
		break;
	case COMMON_Q_AVAILLO: case COMMON_Q_AVAILHI:
		vq->avail_gpa = set_half(vq->avail_gpa, off == COMMON_Q_AVAILHI, v);
		break;
	case COMMON_Q_USEDLO: case COMMON_Q_USEDHI:
		vq->used_gpa = set_half(vq->used_gpa, off == COMMON_Q_USEDHI, v);
		break;
	}
}

static bool in_msix_table(const struct virtio_pci *vp, uint64_t offset, unsigned len)
{
	return offset >= VIRTIO_MSIX_OFFSET &&
	       offset - VIRTIO_MSIX_OFFSET + len <= MSIX_ENTRY_SIZE * vp->msix_vectors;
}

/*
 * The guest wrote into MSI-X table entry v: on the fast path KVM's route follows the
 * message (a rare event: drivers program a vector once, or when its CPU changes); an
 * unmasked vector with its pending bit set fires now.
 */
static void msix_table_write(struct virtio_pci *vp, uint64_t offset, const uint8_t *data,
			     unsigned len)
{
	unsigned v = (offset - VIRTIO_MSIX_OFFSET) / MSIX_ENTRY_SIZE;
	uint8_t *entry = vp->state.msix_table + MSIX_ENTRY_SIZE * v;
	struct msi_msg msg;
	memcpy(vp->state.msix_table + (offset - VIRTIO_MSIX_OFFSET), data, len);
	msix_entry_msg(entry, &msg);
	if (vp->irq_fd[v] >= 0) {
		msi_route_set(vp->msi, vp->irq_gsi[v], &msg, true);
		msi_routes_commit(vp->msi);
	}
	if (!msix_entry_masked(entry) && (vp->state.msix_pending & (1u << v)) &&
	    msix_enabled(vp))
		msix_fire(vp, v);
}

/* Registers are 1, 2 or 4 bytes wide at their own offsets; 64-bit ones come in halves. */
static int bar_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct virtio_pci *vp = opaque;
	uint64_t v = 0;

	if (offset < VIRTIO_COMMON_OFFSET + COMMON_SIZE) {
		v = common_read(vp, offset);
	} else if (offset == VIRTIO_ISR_OFFSET) {
		v = vp->state.isr;          /* reading acknowledges: clear, lower the line */
		vp->state.isr = 0;
		update_irq(vp);
	} else if (offset >= VIRTIO_DEVICE_OFFSET &&
		   offset - VIRTIO_DEVICE_OFFSET + len <= vp->state.config_len) {
		/* The difference first: config + offset alone points far past the array (UB). */
		memcpy(data, vp->state.config + (offset - VIRTIO_DEVICE_OFFSET), len);
		return 0;
	} else if (in_msix_table(vp, offset, len)) {
		memcpy(data, vp->state.msix_table + (offset - VIRTIO_MSIX_OFFSET), len);
		return 0;
	} else if (offset == VIRTIO_PBA_OFFSET) {
		v = vp->state.msix_pending;
	}
	u64_to_bytes(v, data, len);
	return 0;
}

static int bar_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct virtio_pci *vp = opaque;
	uint32_t v = bytes_to_u64(data, len);

	if (offset < VIRTIO_COMMON_OFFSET + COMMON_SIZE) {
		common_write(vp, offset, v);
	} else if (in_msix_table(vp, offset, len)) {
		msix_table_write(vp, offset, data, len);
	} else if (offset >= VIRTIO_NOTIFY_OFFSET &&
		   offset < VIRTIO_NOTIFY_OFFSET + VIRTIO_NOTIFY_MULTIPLIER * vp->ops->num_queues) {
		unsigned q = (offset - VIRTIO_NOTIFY_OFFSET) / VIRTIO_NOTIFY_MULTIPLIER;
		uint64_t one = 1;
		if (vp->kick_fd[q] >= 0) {   /* fast path: the I/O thread serves the queue */
			if (write(vp->kick_fd[q], &one, sizeof(one)) < 0)
				perror("virtio: kick eventfd");
		} else if (virtio_pci_queue_live(vp, q)) {
			vp->ops->queue_notify(vp, q);
		}
	}
	/* Device configuration is read-only for the devices here. */
	return 0;
}

static const struct bus_ops virtio_bar_ops = { bar_read, bar_write };

static void add_cap(struct pci_config *c, uint8_t type, uint32_t offset, uint32_t length)
{
	struct virtio_pci_cap cap = {
		.cap_vndr = 0x09,   /* vendor-specific capability */
		.cap_len = type == CFG_NOTIFY ? sizeof(cap) : sizeof(cap) - 4,
		.cfg_type = type,
		.bar = 0,
		.offset = offset,
		.length = length,
		.notify_off_multiplier = VIRTIO_NOTIFY_MULTIPLIER,
	};
	pci_config_add_capability(c, &cap, cap.cap_len);
}

/*
 * The guest wrote config space from 0x40 on: of that only MSI-X's message control has
 * writable bits, enable (15) and function mask (14), both in its high byte.
 */
static void msix_control_write(struct pci_device *dev, unsigned offset, uint32_t value,
			       unsigned len)
{
	struct virtio_pci *vp = dev->owner;
	unsigned high = vp->msix_cap + 3u;
	if (offset > high || offset + len <= high)
		return;
	uint8_t *b = &dev->config.bytes[high];
	*b = (*b & 0x3f) | ((value >> (8 * (high - offset))) & 0xc0);
	if (msix_enabled(vp))   /* MSI-X on: the line drops (an irqfd's only by re-tying it) */
		irqfd_line_lower(&vp->intx);
	update_irq(vp);         /* off: ISR drives it again */
	if (msix_enabled(vp))
		msix_deliver_pending(vp);
}

/* PCI 3.0, 6.8.2: ID, next, message control (table size - 1), table and PBA (offset | BAR). */
static void add_msix_cap(struct virtio_pci *vp)
{
	struct {
		uint8_t id, next;
		uint16_t control;
		uint32_t table, pba;
	} __attribute__((packed)) cap = {
		.id = PCI_CAP_ID_MSIX,
		.control = vp->msix_vectors - 1,   /* off, unmasked */
		.table = VIRTIO_MSIX_OFFSET | 0,   /* BAR 0 */
		.pba = VIRTIO_PBA_OFFSET | 0,
	};
	vp->msix_cap = pci_config_add_capability(&vp->pci.config, &cap, sizeof(cap));
	vp->pci.owner = vp;
	vp->pci.specific_write = msix_control_write;
	for (unsigned v = 0; v < vp->msix_vectors; v++)   /* vectors start masked (6.8.2.9) */
		vp->state.msix_table[MSIX_ENTRY_SIZE * v + 12] = 1;
}

int virtio_pci_attach(struct virtio_pci *vp, const struct virtio_device_ops *ops, void *device,
		      struct pci_host *host, const struct guest_memory *mem)
{
	vp->ops = ops;
	vp->device = device;
	vp->mem = mem;
	vp->pci.name = ops->name;
	struct pci_config *c = &vp->pci.config;
	pci_config_init(c, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + ops->virtio_id,
			ops->pci_class, 1 /* revision 1: a modern-only device */);
	/* Subsystem IDs: modern devices put the virtio type here too (4.1.2.1). */
	u64_to_bytes(VIRTIO_PCI_VENDOR, c->bytes + PCI_SUBSYSTEM_VENDOR_ID, 2);
	u64_to_bytes(ops->virtio_id, c->bytes + PCI_SUBSYSTEM_ID, 2);
	add_cap(c, CFG_COMMON, VIRTIO_COMMON_OFFSET, COMMON_SIZE);
	add_cap(c, CFG_ISR, VIRTIO_ISR_OFFSET, 1);
	add_cap(c, CFG_DEVICE, VIRTIO_DEVICE_OFFSET, VIRTIO_CONFIG_MAX);
	add_cap(c, CFG_NOTIFY, VIRTIO_NOTIFY_OFFSET, VIRTIO_NOTIFY_MULTIPLIER * ops->num_queues);
	vp->msix_vectors = 1 + ops->num_queues;
	vp->msi = &host->msi;
	add_msix_cap(vp);

	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vp->kick_fd[q] = -1;   /* the simple path until virtio_pci_fast_path */
	for (unsigned v = 0; v < VIRTIO_MSIX_VECTORS; v++)
		vp->irq_fd[v] = -1;    /* KVM_SIGNAL_MSI until then */
	irqfd_line_init(&vp->intx);   /* KVM_IRQ_LINE until virtio_pci_intx_irqfd */
	int slot = pci_host_add(host, &vp->pci, VIRTIO_BAR_SIZE, &virtio_bar_ops, vp);
	if (slot < 0)
		return slot;
	device_reset(vp);
	return 0;
}

/* ---- the fast path: ioeventfd and irqfd ---------------------------------------------------------- */

/* (De)register queue q's eventfd on the notify register at gpa: 2-byte writes (Linux's). */
static int ioeventfd(struct virtio_pci *vp, unsigned q, uint64_t gpa, bool assign)
{
	struct kvm_ioeventfd e = {
		.addr = gpa + VIRTIO_NOTIFY_OFFSET + VIRTIO_NOTIFY_MULTIPLIER * q,
		.len = 2,
		.fd = vp->kick_fd[q],
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};
	return ioctl(vp->pci.irq.vm_fd, KVM_IOEVENTFD, &e) < 0 ? -errno : 0;
}

/*
 * BAR0 moved, or its decoding was switched (pci.c calls this after every such change): move
 * the registrations with it. Where KVM refuses (no ioeventfd support), the kicks still reach
 * bar_write, which signals the same eventfds: slower, same behaviour.
 */
static void fast_bars_changed(struct pci_device *dev)
{
	struct virtio_pci *vp = (struct virtio_pci *)((char *)dev - offsetof(struct virtio_pci, pci));
	const struct pci_config *c = &dev->config;
	uint64_t gpa = pci_bar_address(c, 0);
	bool decode = (c->bytes[PCI_COMMAND] & PCI_COMMAND_MEMORY) && gpa &&
		      gpa != (uint32_t)~(VIRTIO_BAR_SIZE - 1);

	if (!decode)
		gpa = 0;
	if (gpa == vp->ioeventfd_gpa)
		return;
	for (unsigned q = 0; q < vp->ops->num_queues; q++) {
		if (vp->ioeventfd_gpa)
			ioeventfd(vp, q, vp->ioeventfd_gpa, false);
		if (gpa && ioeventfd(vp, q, gpa, true) < 0)
			gpa = 0;   /* (queues before q stay registered: harmless, same eventfds) */
	}
	vp->ioeventfd_gpa = gpa;
}

/*
 * Each MSI-X vector: a GSI of its own in the VM's routing table and an irqfd on it. The
 * route is empty (the GSI sends nothing) until the guest programs the table entry. Where
 * KVM refuses, the vector keeps KVM_SIGNAL_MSI: one line says so.
 */
static void irqfds_on(struct virtio_pci *vp)
{
	for (unsigned v = 0; v < vp->msix_vectors; v++) {
		int gsi = msi_route_new(vp->msi);
		int fd = gsi < 0 ? -1 : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		int err = fd < 0 ? -ENOSPC : kvm_irqfd(vp->pci.irq.vm_fd, fd, gsi, -1, true);
		if (err) {
			fprintf(stderr, "%s: no irqfd for MSI-X vector %u (%s): KVM_SIGNAL_MSI "
				"instead\n", vp->ops->name, v, strerror(-err));
			if (fd >= 0)
				close(fd);
			return;
		}
		vp->irq_gsi[v] = gsi;
		vp->irq_fd[v] = fd;
	}
}

void virtio_pci_msix_restore(struct virtio_pci *vp)
{
	bool routed = false;
	for (unsigned v = 0; v < vp->msix_vectors; v++) {
		if (vp->irq_fd[v] < 0)
			continue;
		struct msi_msg msg;
		msix_entry_msg(vp->state.msix_table + MSIX_ENTRY_SIZE * v, &msg);
		msi_route_set(vp->msi, vp->irq_gsi[v], &msg, true);
		routed = true;
	}
	if (routed)
		msi_routes_commit(vp->msi);
	if (vp->intx.fd >= 0)   /* a new VM's line is low: up if ISR is set (MSI-X off) */
		update_irq(vp);
}

int virtio_pci_fast_path(struct virtio_pci *vp)
{
	for (unsigned q = 0; q < vp->ops->num_queues; q++) {
		vp->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->kick_fd[q] < 0)
			return -errno;
	}
	vp->pci.bars_changed = fast_bars_changed;
	fast_bars_changed(&vp->pci);
	irqfds_on(vp);
	return 0;
}

int virtio_pci_intx_irqfd(struct virtio_pci *vp)
{
	if (!vp->pci.config.bytes[PCI_INTERRUPT_PIN] || vp->intx.fd >= 0)
		return 0;   /* no pin: nothing to wire; or wired already (a machine run again) */
	int err = irqfd_line_on(&vp->intx, vp->pci.irq.vm_fd, vp->pci.irq.gsi);
	if (err && err != -EBADF)   /* (EBADF: no VM, as in the unit tests and fuzzers) */
		fprintf(stderr, "%s: no irqfd for INTx (GSI %u: %s): KVM_IRQ_LINE instead\n",
			vp->ops->name, vp->pci.irq.gsi, strerror(-err));
	return err;
}

int virtio_pci_resample_fd(const struct virtio_pci *vp)
{
	return vp->intx.resample_fd;
}

/* KVM lowered the line at an EOI: up again if the device still wants service. */
void virtio_pci_resample(struct virtio_pci *vp)
{
	if (irqfd_line_resampled(&vp->intx))
		update_irq(vp);
}

void virtio_pci_fast_path_off(struct virtio_pci *vp)
{
	irqfd_line_off(&vp->intx);
	/* The vectors' eventfds: the VM's irqfds on them go with the VM, ours must be closed
	 * (else each machine restart after a guest reset leaves one per vector open). */
	for (unsigned v = 0; v < vp->msix_vectors; v++) {
		if (vp->irq_fd[v] >= 0)
			close(vp->irq_fd[v]);
		vp->irq_fd[v] = -1;
	}
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		if (vp->kick_fd[q] >= 0)
			close(vp->kick_fd[q]);
		vp->kick_fd[q] = -1;
	}
}
