/*
 * virtio_pci.h - the virtio over PCI transport, modern (virtio 1.x) layout.
 *
 * Virtio 1.1, section 4.1: a virtio device is a PCI device with vendor 0x1af4 and device
 * 0x1040 + its virtio type (blk = 2 -> 0x1042). Its registers live in a memory BAR, and
 * vendor-specific PCI capabilities (ID 0x09) tell the driver where inside the BAR each
 * structure is. This device's BAR0 (32 KiB):
 *
 *   0x0000  common configuration: feature bits, device status, queue select, queue size,
 *           queue enable, the three ring addresses of the selected queue
 *   0x1000  ISR status: read to learn "queue used" (bit 0) / "config changed" (bit 1); the
 *           read clears it and lowers the interrupt line
 *   0x2000  device-specific configuration (blk: capacity; net: MAC address)
 *   0x3000  notifications: the driver writes a queue's index here when it added buffers
 *   0x4000  MSI-X table: one 16-byte entry per vector (msi.h), config + one per queue
 *   0x5000  MSI-X pending bits
 *
 * Interrupts: a driver that ignores the MSI-X capability gets legacy INTx (level-triggered,
 * one line per device, shared by every event: the driver reads ISR to learn which). A driver
 * that enables MSI-X (Linux does) names a vector for config changes and one per queue
 * (common configuration: msix_config, queue_msix_vector) and gets one message per event:
 * no ISR read, no line to lower. The simple path sends each with KVM_SIGNAL_MSI; the fast
 * path (virtio_pci_fast_path) writes the vector's irqfd, which KVM turns into the message.
 * INTx on the fast path (virtio_pci_intx_irqfd) goes through an irqfd too, with KVM's
 * resample eventfd (irq.h: struct irqfd_line): KVM lowers the line at the guest's EOI, and
 * the device's thread raises it again if ISR is still set.
 *
 * A device type (blk, net, rng) fills in struct virtio_device_ops; the transport handles
 * feature negotiation, the status handshake, queue setup and validation, and interrupts.
 */
#ifndef VIRTIO_PCI_H
#define VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_memory.h"
#include "msi.h"
#include "pci.h"
#include "virtqueue.h"

#define VIRTIO_PCI_VENDOR      0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG 4

#define VIRTIO_F_VERSION_1 (1ull << 32)

/* Device status bits (virtio 1.1, 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED      0x80

#define VIRTIO_ISR_QUEUE  1
#define VIRTIO_ISR_CONFIG 2

/* The BAR layout above. */
#define VIRTIO_BAR_SIZE       0x8000
#define VIRTIO_COMMON_OFFSET  0x0000
#define VIRTIO_ISR_OFFSET     0x1000
#define VIRTIO_DEVICE_OFFSET  0x2000
#define VIRTIO_NOTIFY_OFFSET  0x3000
#define VIRTIO_NOTIFY_MULTIPLIER 4
#define VIRTIO_MSIX_OFFSET    0x4000
#define VIRTIO_PBA_OFFSET     0x5000
#define VIRTIO_MAX_QUEUES 2
#define VIRTIO_CONFIG_MAX 64
#define VIRTIO_MSIX_VECTORS (1 + VIRTIO_MAX_QUEUES)   /* vector 0: config; then the queues */
#define VIRTIO_NO_VECTOR 0xffff

struct virtio_pci;

struct virtio_device_ops {
	const char *name;           /* "virtio-blk": every message starts with it */
	uint16_t virtio_id;
	uint32_t pci_class;
	uint64_t features;          /* offered besides VERSION_1 */
	unsigned num_queues;
	/* The driver wrote queue q's index to the notify area: process its chains. */
	void (*queue_notify)(struct virtio_pci *vp, unsigned q);
	/* The driver reset the device (device status written 0). May be NULL. */
	void (*reset)(struct virtio_pci *vp);
};

/* The transport's state: plain data (saveable). */
struct virtio_pci_state {
	uint32_t device_feature_select, driver_feature_select;
	uint64_t driver_features;
	uint8_t status, isr, config_generation;
	uint16_t queue_select;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	uint8_t config[VIRTIO_CONFIG_MAX];   /* device-specific configuration, filled by the type */
	unsigned config_len;
	/* MSI-X: which vector each event uses (VIRTIO_NO_VECTOR: none), the table, pending bits */
	uint16_t config_vector, queue_vector[VIRTIO_MAX_QUEUES];
	uint8_t msix_table[VIRTIO_MSIX_VECTORS * MSIX_ENTRY_SIZE];
	uint8_t msix_pending;
};

struct virtio_pci {
	struct virtio_pci_state state;
	struct pci_device pci;
	const struct virtio_device_ops *ops;
	const struct guest_memory *mem;
	void *device;                 /* the type's own struct (virtio_blk ...) */
	/*
	 * The fast path (virtio_pci_fast_path), off by default: one eventfd per queue, signalled
	 * instead of calling queue_notify, by KVM itself when it can (KVM_IOEVENTFD on the
	 * notify register at ioeventfd_gpa, 0: not registered) or by bar_write. -1: simple path.
	 */
	int kick_fd[VIRTIO_MAX_QUEUES];
	uint64_t ioeventfd_gpa;
	/*
	 * MSI-X: the capability's offset in config space, how many vectors (1 + queues), and on
	 * the fast path one irqfd per vector (-1: KVM_SIGNAL_MSI) on a GSI routed in *msi.
	 */
	uint8_t msix_cap;
	unsigned msix_vectors;
	struct msi_routes *msi;
	int irq_fd[VIRTIO_MSIX_VECTORS];
	int irq_gsi[VIRTIO_MSIX_VECTORS];
	/*
	 * INTx on the fast path (virtio_pci_intx_irqfd): an irqfd with resample on the device's
	 * pin (fd -1: KVM_IRQ_LINE, as on the simple path).
	 */
	struct irqfd_line intx;
	/* Interrupts sent, by how (for --stats): INTx raises by KVM_IRQ_LINE, KVM_SIGNAL_MSI
	 * calls, MSI-X irqfd writes, INTx raises by irqfd */
	unsigned long long irq_count[4];
	bool msi_warned;              /* KVM refused a message the guest programmed: said once */
	unsigned resets;              /* device resets so far: a request in flight across one is dropped */
};

enum { VIRTIO_IRQ_INTX, VIRTIO_IRQ_MSI, VIRTIO_IRQ_IRQFD, VIRTIO_IRQ_INTX_IRQFD };

/* Set up the transport for a device type and plug it into the PCI host. */
int virtio_pci_attach(struct virtio_pci *vp, const struct virtio_device_ops *ops, void *device,
		      struct pci_host *host, const struct guest_memory *mem);

/* The device used buffers of queue q: its MSI-X vector, or ISR bit 0 and the line. */
void virtio_pci_notify_used(struct virtio_pci *vp, unsigned q);

/* The driver broke a rule on queue q: say so on stderr, mark the device NEEDS_RESET and tell
 * the driver (config interrupt). The VMM keeps running. */
void virtio_pci_queue_error(struct virtio_pci *vp, unsigned q, const char *why);

/* Pop the next chain of queue q; on a guest error reports it and returns 0. */
int virtio_pci_pop(struct virtio_pci *vp, unsigned q, struct virtq_chain *chain);

/*
 * The loop of a device that answers every request at once (blk, rng, net transmit): pop each
 * available chain of queue q, let serve() handle it and return how many bytes it wrote into
 * the chain's buffers, push it to the used ring, and interrupt the guest once at the end.
 */
void virtio_pci_serve_queue(struct virtio_pci *vp, unsigned q,
			    uint32_t (*serve)(struct virtio_pci *vp, struct virtq_chain *chain));

/*
 * The fast path: queue notifications become eventfds that another thread (the device's I/O
 * thread) waits on, so the vCPU that kicks the queue goes straight back to the guest. With
 * KVM_IOEVENTFD the kick costs no exit to the VMM at all: KVM matches the guest's write to
 * the notify register and signals the eventfd itself. The registration follows BAR0 when
 * the guest moves it. Interrupts go the same way back: each MSI-X vector gets a GSI route
 * and an irqfd, so the device's thread interrupts the guest with one write(2), no ioctl.
 * 0, or a negative errno (no eventfds: the simple path stays on).
 */
int virtio_pci_fast_path(struct virtio_pci *vp);

/*
 * INTx through an irqfd with resample (irq.h), for a driver that leaves MSI-X off: the device's
 * thread raises the line with a write(2) instead of KVM_IRQ_LINE, and KVM lowers it at the
 * guest's EOI. Only for a device whose thread polls virtio_pci_resample_fd() and then calls
 * virtio_pci_resample() (bus lock held): that is where the line goes up again while ISR is
 * still set. After virtio_pci_fast_path. 0, or a negative errno (one line said: the device
 * keeps KVM_IRQ_LINE).
 */
int virtio_pci_intx_irqfd(struct virtio_pci *vp);
int virtio_pci_resample_fd(const struct virtio_pci *vp);   /* -1: none */
void virtio_pci_resample(struct virtio_pci *vp);

/* Close the queues' eventfds, the MSI-X vectors' eventfds and the INTx irqfd (the machine
 * goes; its VM with it). */
void virtio_pci_fast_path_off(struct virtio_pci *vp);

/*
 * After a migration loaded the state (its MSI-X table among it): on the fast path each
 * vector's KVM route follows the table, as if the guest had written every entry again; and
 * INTx by irqfd goes up if ISR is set.
 */
void virtio_pci_msix_restore(struct virtio_pci *vp);

/* Does queue q take requests now (enabled, not broken, driver ready)? Bus lock held. */
bool virtio_pci_queue_live(const struct virtio_pci *vp, unsigned q);

#endif
