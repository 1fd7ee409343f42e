/*
 * pci.h - a PCI host bridge with configuration mechanism #1, and PCI devices with BARs.
 *
 * PCI (PCI Local Bus Specification 3.0) gives each device 256 bytes of configuration space:
 * who it is (vendor, device, class), what it needs (Base Address Registers, BARs: "give me a
 * 16 KiB window of memory addresses"), and its interrupt pin. Firmware or the OS reads it,
 * assigns addresses and writes them into the BARs; from then on the device answers there.
 *
 * Configuration mechanism #1 (spec 3.2.2.3.2) reaches that space through two ports:
 *   0xcf8  CONFIG_ADDRESS  bit 31 enable | bus 23:16 | device 15:11 | function 10:8 | reg 7:2
 *   0xcfc  CONFIG_DATA     the addressed dword (bytes 0xcfc-0xcff select a byte inside it)
 * This machine has bus 0 only: slot 0 is the host bridge itself, devices take slots 1, 2, ...
 * (function 0 each). Each BAR is pre-assigned as firmware would (Linux keeps the addresses
 * it finds); when the guest moves a BAR or turns decoding off, the bus range moves.
 *
 * A real chipset is built of PCI functions too, with registers of its own above the standard
 * 64-byte header (memory map, interrupt routing), at fixed slots, some with several functions
 * (a device with bit 7 of HEADER_TYPE set answers at functions 1-7 as well). The host lets a
 * machine place such a function where the hardware has it, give it a handler for those
 * registers, and set the host bridge's IDs; this VMM needs none of it, stage 5 all of it.
 *
 * Interrupts: each slot's INTA# is wired to its own IOAPIC pin (pci_slot_irq()); the ACPI
 * DSDT's _PRT tells Linux so (level-triggered, active low, as PCI interrupts are), and the
 * Interrupt Line register holds the same number, as a BIOS would leave it.
 */
#ifndef PCI_H
#define PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "irq.h"
#include "msi.h"

#define PCI_CONFIG_ADDRESS_PORT 0xcf8
#define PCI_CONFIG_DATA_PORT    0xcfc
#define PCI_MAX_SLOTS 32
#define PCI_MAX_FUNCTIONS 8
#define PCI_NUM_BARS  6

/* Configuration space offsets (spec 6.1). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID   0x2e
#define PCI_HEADER_MULTIFUNCTION 0x80
#define PCI_DEVICE_SPECIFIC 0x40   /* the first register after the standard header */
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d

#define PCI_COMMAND_IO     0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_BAR_MEM32      0x0   /* low bits of a memory BAR: 32-bit, not prefetchable */
#define PCI_BAR_IO         0x1   /* bit 0 of an I/O BAR: the window is in port space */
#define PCI_IO_LIMIT       0x10000u   /* x86 ports: an I/O BAR above 64 KiB decodes nothing */

/* Where pre-assigned BARs go: above the highest RAM this machine allows (3 GiB). */
#define PCI_MMIO_BASE      0xc0000000ull
#define PCI_MMIO_SLOT_SIZE 0x00100000ull

/* One function's configuration space: plain data, the part that is saved and restored. */
struct pci_config {
	uint8_t bytes[256];
	uint32_t bar_size[PCI_NUM_BARS];   /* 0: no BAR; else a power of two */
	uint8_t next_cap;                  /* where the next capability goes */
};

void pci_config_init(struct pci_config *c, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision);
/* A 32-bit memory BAR of size bytes (power of two, >= 16) at addr. */
void pci_config_add_bar(struct pci_config *c, int bar, uint32_t addr, uint32_t size);
/* An I/O BAR of size ports (power of two, >= 4) at port (0: for firmware to assign). Its
 * bus range must be BUS_PIO; it decodes while the command register's I/O bit is set. */
void pci_config_add_io_bar(struct pci_config *c, int bar, uint32_t port, uint32_t size);
bool pci_bar_is_io(const struct pci_config *c, int bar);
/* Append a capability (its first byte is the ID; the "next" byte is filled in). Returns its
 * offset, or 0 when config space is full. */
uint8_t pci_config_add_capability(struct pci_config *c, const void *cap, unsigned len);

/* Guest accesses: len 1, 2 or 4 at any offset inside one dword. Writes honour which bits
 * are writable (command, BARs, interrupt line); everything else is read-only. */
uint32_t pci_config_read(const struct pci_config *c, unsigned offset, unsigned len);
void pci_config_write(struct pci_config *c, unsigned offset, uint32_t value, unsigned len);
/* Where a BAR points: memory address (bits 3:0 masked) or port (bits 1:0 masked). */
uint32_t pci_bar_address(const struct pci_config *c, int bar);

/* A device on the bus: its config space, where its BARs are on the I/O bus, its IRQ. */
struct pci_device {
	struct pci_config config;
	struct bus_range *bar_range[PCI_NUM_BARS];
	struct irq_line irq;
	const char *name;
	/*
	 * Guest writes to registers PCI_DEVICE_SPECIFIC and up (within one dword), when the
	 * device has writable ones there; it stores what it accepts in config.bytes. NULL: those
	 * registers are read-only (capabilities, as for every device of this VMM).
	 */
	void (*specific_write)(struct pci_device *dev, unsigned offset, uint32_t value,
			       unsigned len);
	void *owner;               /* for specific_write: the device model it belongs to */
	/*
	 * Called after the guest wrote the command register or a BAR (the bus ranges already
	 * follow). A BAR that is not a bus range - stage 5's VGA memory, a KVM memory slot -
	 * moves here. NULL: nothing to do.
	 */
	void (*bars_changed)(struct pci_device *dev);
};

struct pci_host {
	uint32_t config_address;   /* the CONFIG_ADDRESS latch */
	struct pci_device bridge;  /* 00:00.0 */
	struct pci_device *functions[PCI_MAX_SLOTS][PCI_MAX_FUNCTIONS];
	struct io_bus *bus;
	int vm_fd;
	struct msi_routes msi;     /* the VM's GSI routes for MSI(-X) vectors: every device's */
};

#define PCI_LAST_DEVICE_SLOT 5

/* The GSI (IOAPIC pin) of slot's INTA#: ISA lines that no legacy device here uses. */
unsigned pci_slot_irq(unsigned slot);

/* An empty bus with the host bridge at 00:00.0; no ports yet. bus may be NULL (unit tests). */
void pci_host_init(struct pci_host *host, struct io_bus *bus, int vm_fd);
/* pci_host_init(), then claim the configuration ports 0xcf8-0xcff. */
int pci_host_attach(struct pci_host *host, struct io_bus *bus, int vm_fd);

/* The host bridge's identity (class: host bridge). Ours is generic: Red Hat's "gpex". */
void pci_host_set_identity(struct pci_host *host, uint16_t vendor, uint16_t device,
			   uint8_t revision, uint16_t subsystem_vendor, uint16_t subsystem);

/* Put dev at slot.function as it is (no BAR, no IRQ). 0, -EINVAL or -EBUSY (taken). */
int pci_host_place(struct pci_host *host, struct pci_device *dev, unsigned slot, unsigned fn);

/*
 * Configuration access by CONFIG_ADDRESS value (enable bit, bus 0, device, function, and
 * the register, byte-exact), len 1, 2 or 4 inside one dword. Nothing there reads all ones.
 * The ports use them; so can another access method (stage 5: PCI Express ECAM).
 */
uint32_t pci_host_config_read(struct pci_host *host, uint32_t address, unsigned len);
void pci_host_config_write(struct pci_host *host, uint32_t address, uint32_t value,
			   unsigned len);

/* The handlers of ports 0xcf8-0xcff (offset from 0xcf8), for a chipset that decodes more
 * in that range (stage 5: reset control at 0xcf9) and so claims the ports itself. */
int pci_host_port_read(void *host, uint64_t offset, uint8_t *data, unsigned len);
int pci_host_port_write(void *host, uint64_t offset, const uint8_t *data, unsigned len);

/*
 * Put dev in the next free slot: assign BAR0 (bar0_size bytes, handled by ops/opaque) and an
 * IRQ. The caller has filled dev->config's identity. Returns the slot or a negative errno.
 */
int pci_host_add(struct pci_host *host, struct pci_device *dev, uint32_t bar0_size,
		 const struct bus_ops *ops, void *opaque);

#endif
