/*
 * vfio.h - PCI passthrough with VFIO: a real PCI function of the host, given to the guest.
 *
 * Every other device of this machine is a model: code that plays a device. A passed-through
 * device is the real one. The guest's driver talks to the hardware directly; the VMM only
 * arranges three things, which is what this file teaches:
 *
 *   1. DMA. The device writes guest RAM by guest-physical address. The host's IOMMU
 *      translates the device's addresses (IOVAs) like an MMU does a CPU's: the VMM maps each
 *      guest RAM range at IOVA = guest-physical address (VFIO_IOMMU_MAP_DMA), so the driver's
 *      addresses are right, and anything else the device tries is blocked by the IOMMU.
 *   2. Registers. BARs that the host lets us mmap become KVM memory slots: the guest's loads
 *      and stores reach the device with no exit at all. Other BARs (and the MSI-X table, which
 *      must be ours) are trapped: each access exits and is forwarded with pread/pwrite on the
 *      VFIO device fd. Config space is partly virtual (BARs, MSI, MSI-X: the guest's view
 *      differs from the host's) and partly passed through (command register, capabilities).
 *   3. Interrupts. The host kernel signals the device's interrupts on eventfds; KVM_IRQFD
 *      injects them into the guest without the VMM waking up. INTx is level-triggered: the
 *      resample eventfd unmasks it again when the guest EOIs. MSI and MSI-X go through KVM's
 *      GSI routing table, one MSI route (address, data: what the guest programmed) a vector.
 *
 * The VFIO objects (Documentation/driver-api/vfio.rst): a container (/dev/vfio/vfio, one
 * IOMMU address space), groups (/dev/vfio/N: the smallest set of devices the IOMMU can tell
 * apart; all of a group's devices must be bound to vfio-pci or to no driver: "viable"),
 * and the device fd (VFIO_GROUP_GET_DEVICE_FD), whose regions are the BARs, the ROM and
 * config space.
 *
 *   -device vfio-pci,host=0000:BB:DD.F[,x-no-mmap=on]   (YAML: vfio: - { host: ..., mmap: false })
 *
 * x-no-mmap=on (QEMU's name) traps every BAR access: slower, and useful to compare.
 * KVM memory slots: VFIO_KVM_SLOT_BASE + 8 * device + n (pc.c's slots end at 27).
 */
#ifndef MINIVISOR_VFIO_H
#define MINIVISOR_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "pci.h"

#define VFIO_MAX_DEVICES 4
#define VFIO_KVM_SLOT_BASE 40   /* 40 .. 71: 8 slots a device (a BAR split around MSI-X: 2) */
#define VFIO_MAX_MSIX 64        /* MSI-X vectors a device may use here */

/* What the command line or YAML asked for (pure: unit-tested). */
struct vfio_device_config {
	char host[16];                /* "0000:00:03.0" */
	bool no_mmap;                 /* x-no-mmap=on: trap every BAR access */
};

struct vfio_config {
	struct vfio_device_config dev[VFIO_MAX_DEVICES];
	unsigned n;
};

/* Parse "DDDD:BB:DD.F" or "BB:DD.F" into the canonical form. false when malformed. */
bool vfio_parse_bdf(const char *text, char out[16]);
/* One -device vfio-pci,... option (the text after "vfio-pci"). 0, or -1 with why. */
int vfio_config_device(struct vfio_config *c, const char *spec, char *why, size_t why_len);

struct vfio_bar {
	uint64_t size, offset;        /* the region: its size, where it is in the device fd */
	bool io, mem64, prefetch;
	uint8_t *map;                 /* its mmap, NULL: trapped only */
	struct bus_range *range;      /* the trap (always there: a slot hides it where mapped) */
	uint64_t slot_gpa[2], slot_size[2], slot_off[2];   /* KVM slots now set (size 0: none) */
};

struct vfio_set;

struct vfio_pci {
	struct vfio_set *set;
	const struct vfio_device_config *cfg;
	char name[32];                /* "vfio-0000:00:03.0" */
	int group_id, device_fd;
	bool can_reset;
	uint64_t config_offset;       /* config space region in the device fd */
	uint64_t rom_offset, rom_size;
	bool rom_given;               /* its ROM is in fw_cfg for SeaBIOS */
	bool slot_warned;             /* a BAR's KVM slot was refused (said once) */
	struct vfio_bar bar[PCI_NUM_BARS];
	struct pci_device pci;
	unsigned slot, index;
	/* INTx: an irqfd with resample (stage 4's irq.h), both eventfds handed to VFIO */
	struct irqfd_line intx;
	unsigned intx_gsi;
	bool intx_on;
	/* MSI: one vector */
	uint8_t msi_cap;
	bool msi_64, msi_on;
	int msi_fd;
	unsigned msi_gsi;
	/* MSI-X: the table is ours (trapped), the PBA read from the device */
	uint8_t msix_cap;
	unsigned msix_n, msix_bar;
	uint32_t msix_table_off, msix_pba_off;
	uint8_t msix_table[VFIO_MAX_MSIX * 16];
	bool msix_on;
	int msix_fd[VFIO_MAX_MSIX];
	bool msix_irqfd[VFIO_MAX_MSIX];
	unsigned msix_gsi;
};

/* All passed-through devices of the machine: one container. */
struct vfio_set {
	int container_fd;
	int group_fd[VFIO_MAX_DEVICES], group_ids[VFIO_MAX_DEVICES];
	unsigned ngroups;
	struct vfio_pci dev[VFIO_MAX_DEVICES];
	unsigned n;
	/* machine side */
	int vm_fd;
	struct io_bus *bus;
	uint64_t dma_iova[2], dma_size[2];   /* what is mapped for DMA */
	struct msi_routes *msi;   /* the VM's GSI routes (the PCI host's, shared with virtio) */
};

/*
 * Host side, before any VM: check each device (address, IOMMU group, driver, /dev/vfio,
 * viability), open the container, the groups and the devices, read their regions. 0, or a
 * negative errno with one line in why.
 */
int vfio_open(struct vfio_set *s, const struct vfio_config *cfg, char *why, size_t why_len);

/*
 * Machine side: map guest RAM for DMA (ram: the host address of guest-physical 0; below, above
 * 4 GiB), reset each device, put it on the PCI bus from first_slot on, and wire its BARs,
 * ROM (a fw_cfg file for SeaBIOS: set rom_add) and interrupts.
 */
struct fw_cfg;
int vfio_attach(struct vfio_set *s, struct io_bus *bus, struct pci_host *pci, int vm_fd,
		struct fw_cfg *fw_cfg, uint8_t *ram, uint64_t below_4g, uint64_t above_4g,
		unsigned first_slot, char *why, size_t why_len);
/* Undo vfio_attach (a reset builds it again): interrupts off, slots and DMA unmapped, reset. */
void vfio_detach(struct vfio_set *s);
/* Undo vfio_open. */
void vfio_close(struct vfio_set *s);

#endif
