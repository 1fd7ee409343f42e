/*
 * pci.c - configuration space rules, BAR sizing, and the 0xcf8/0xcfc host bridge.
 * See pci.h. Reference: PCI Local Bus Specification 3.0, chapter 6 (configuration space).
 */
#include "pci.h"

#include <errno.h>
#include <string.h>

/* The IRQ each slot gets: ISA lines that no legacy device of this machine uses. */
static const unsigned slot_irqs[PCI_LAST_DEVICE_SLOT + 1] = { 0, 10, 11, 5, 7, 3 };

unsigned pci_slot_irq(unsigned slot)
{
	return slot <= PCI_LAST_DEVICE_SLOT ? slot_irqs[slot] : 0;
}

static void put16(struct pci_config *c, unsigned off, uint16_t v)
{
	u64_to_bytes(v, c->bytes + off, 2);
}

static void put32(struct pci_config *c, unsigned off, uint32_t v)
{
	u64_to_bytes(v, c->bytes + off, 4);
}

void pci_config_init(struct pci_config *c, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision)
{
	memset(c, 0, sizeof(*c));
	put16(c, PCI_VENDOR_ID, vendor);
	put16(c, PCI_DEVICE_ID, device);
	c->bytes[PCI_REVISION_ID] = revision;
	/* Class code: base class, subclass, programming interface, stored high byte last. */
	c->bytes[PCI_CLASS_PROG] = class_code & 0xff;
	c->bytes[PCI_CLASS_PROG + 1] = (class_code >> 8) & 0xff;
	c->bytes[PCI_CLASS_PROG + 2] = (class_code >> 16) & 0xff;
	c->bytes[PCI_HEADER_TYPE] = 0;   /* a normal device, single function */
	c->next_cap = 0x40;              /* the first byte after the standard header */
}

void pci_config_add_bar(struct pci_config *c, int bar, uint32_t addr, uint32_t size)
{
	c->bar_size[bar] = size;
	put32(c, PCI_BAR0 + 4 * bar, (addr & ~(size - 1)) | PCI_BAR_MEM32);
}

void pci_config_add_io_bar(struct pci_config *c, int bar, uint32_t port, uint32_t size)
{
	c->bar_size[bar] = size;
	put32(c, PCI_BAR0 + 4 * bar, (port & ~(size - 1)) | PCI_BAR_IO);
}

bool pci_bar_is_io(const struct pci_config *c, int bar)
{
	return c->bytes[PCI_BAR0 + 4 * bar] & PCI_BAR_IO;
}

uint32_t pci_bar_address(const struct pci_config *c, int bar)
{
	uint32_t low_bits = pci_bar_is_io(c, bar) ? 0x3u : 0xfu;
	return bytes_to_u64(c->bytes + PCI_BAR0 + 4 * bar, 4) & ~low_bits;
}

uint8_t pci_config_add_capability(struct pci_config *c, const void *cap, unsigned len)
{
	unsigned off = c->next_cap;
	if (len < 2 || off + len > sizeof(c->bytes))
		return 0;
	memcpy(c->bytes + off, cap, len);
	/* Link it: the list starts at PCI_CAPABILITY_LIST; each "next" byte points on. */
	c->bytes[off + 1] = 0;
	unsigned link = PCI_CAPABILITY_LIST;
	while (c->bytes[link])
		link = c->bytes[link] + 1;
	c->bytes[link] = off;
	put16(c, PCI_STATUS, bytes_to_u64(c->bytes + PCI_STATUS, 2) | PCI_STATUS_CAP_LIST);
	c->next_cap = (off + len + 3) & ~3u;
	return off;
}

uint32_t pci_config_read(const struct pci_config *c, unsigned offset, unsigned len)
{
	if (offset >= sizeof(c->bytes) || len > sizeof(c->bytes) - offset)
		return 0xffffffff;
	return bytes_to_u64(c->bytes + offset, len);
}

/* Which bits of each dword the guest may change. */
static uint32_t writable_mask(const struct pci_config *c, unsigned dword)
{
	switch (dword) {
	case PCI_COMMAND:
		return PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		       PCI_COMMAND_INTX_DISABLE;
	case PCI_INTERRUPT_LINE:
		return 0xff;
	}
	if (dword >= PCI_BAR0 && dword < PCI_BAR0 + 4 * PCI_NUM_BARS) {
		uint32_t size = c->bar_size[(dword - PCI_BAR0) / 4];
		/*
		 * BAR sizing: the OS writes all ones and reads back; the address bits below the
		 * size stay zero, so ~value + 1 is the size. A missing BAR reads back 0.
		 */
		return size ? ~(size - 1) : 0;
	}
	return 0;
}

void pci_config_write(struct pci_config *c, unsigned offset, uint32_t value, unsigned len)
{
	if (offset >= sizeof(c->bytes) || len > 4 || (offset & 3) + len > 4)
		return;
	unsigned dword = offset & ~3u;
	unsigned shift = 8 * (offset & 3);
	uint32_t lane = (len == 4 ? 0xffffffffu : ((1u << (8 * len)) - 1)) << shift;
	uint32_t mask = writable_mask(c, dword) & lane;
	uint32_t old = bytes_to_u64(c->bytes + dword, 4);
	put32(c, dword, (old & ~mask) | ((value << shift) & mask));
}

/*
 * Map or unmap each BAR's bus range after the guest changed the command register or a BAR.
 * Memory BARs decode while the command register's memory bit is set, I/O BARs while its I/O
 * bit is.
 */
static void update_bars(struct pci_device *dev)
{
	uint16_t command = bytes_to_u64(dev->config.bytes + PCI_COMMAND, 2);
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		if (!dev->bar_range[i])
			continue;
		bool io = pci_bar_is_io(&dev->config, i);
		bool decode = command & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
		uint32_t addr = pci_bar_address(&dev->config, i);
		/* While sizing, the BAR holds ~(size-1): not an address to decode. */
		bool sizing = addr == (uint32_t)~(dev->config.bar_size[i] - 1);
		bool reachable = !io || addr + dev->config.bar_size[i] <= PCI_IO_LIMIT;
		bus_move(dev->bar_range[i], addr, decode && addr && !sizing && reachable);
	}
	if (dev->bars_changed)
		dev->bars_changed(dev);
}

/* ---- the host bridge: configuration mechanism #1 ---------------------------------- */

static struct pci_device *addressed_device(struct pci_host *h, uint32_t a)
{
	unsigned bus = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f, fn = (a >> 8) & 7;
	if (!(a & 0x80000000u) || bus != 0)
		return NULL;
	return h->functions[slot][fn];
}

uint32_t pci_host_config_read(struct pci_host *h, uint32_t address, unsigned len)
{
	struct pci_device *dev = addressed_device(h, address);
	unsigned reg = address & 0xff;
	if (!dev || (reg & 3) + len > 4)
		return 0xffffffff;   /* "no device": vendor ID 0xffff */
	return pci_config_read(&dev->config, reg, len);
}

void pci_host_config_write(struct pci_host *h, uint32_t address, uint32_t value, unsigned len)
{
	struct pci_device *dev = addressed_device(h, address);
	unsigned reg = address & 0xff;
	if (!dev || (reg & 3) + len > 4)
		return;
	if (reg >= PCI_DEVICE_SPECIFIC && dev->specific_write) {
		dev->specific_write(dev, reg, value, len);
	} else {
		pci_config_write(&dev->config, reg, value, len);
		update_bars(dev);
	}
}

int pci_host_port_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct pci_host *h = opaque;
	uint32_t value;

	if (offset < 4)
		value = h->config_address >> (8 * offset);
	else
		value = pci_host_config_read(h, (h->config_address & ~3u) | (offset - 4), len);
	u64_to_bytes(value, data, len);
	return 0;
}

int pci_host_port_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct pci_host *h = opaque;
	uint32_t value = bytes_to_u64(data, len);

	if (offset == 0 && len == 4)
		h->config_address = value;
	else if (offset >= 4)
		pci_host_config_write(h, (h->config_address & ~3u) | (offset - 4), value, len);
	return 0;
}

static const struct bus_ops host_ops = { pci_host_port_read, pci_host_port_write };

void pci_host_set_identity(struct pci_host *h, uint16_t vendor, uint16_t device,
			   uint8_t revision, uint16_t subsystem_vendor, uint16_t subsystem)
{
	struct pci_config *c = &h->bridge.config;
	pci_config_init(c, vendor, device, 0x060000 /* class 06/00: host bridge */, revision);
	put16(c, PCI_SUBSYSTEM_VENDOR_ID, subsystem_vendor);
	put16(c, PCI_SUBSYSTEM_ID, subsystem);
}

void pci_host_init(struct pci_host *h, struct io_bus *bus, int vm_fd)
{
	memset(h, 0, sizeof(*h));
	h->bus = bus;
	h->vm_fd = vm_fd;
	msi_routes_init(&h->msi, vm_fd);
	/* Red Hat's ID for a generic host bridge (QEMU's "gpex"). */
	pci_host_set_identity(h, 0x1b36, 0x0008, 0, 0, 0);
	h->bridge.name = "host-bridge";
	h->functions[0][0] = &h->bridge;
}

int pci_host_attach(struct pci_host *h, struct io_bus *bus, int vm_fd)
{
	pci_host_init(h, bus, vm_fd);
	return bus_register(bus, BUS_PIO, PCI_CONFIG_ADDRESS_PORT, 8, &host_ops, h, "pci")
		       ? 0 : -EBUSY;
}

int pci_host_place(struct pci_host *h, struct pci_device *dev, unsigned slot, unsigned fn)
{
	if (slot >= PCI_MAX_SLOTS || fn >= PCI_MAX_FUNCTIONS)
		return -EINVAL;
	if (h->functions[slot][fn])
		return -EBUSY;
	h->functions[slot][fn] = dev;
	/* Function 0 says that the others exist; the OS looks for them only then. */
	if (fn && h->functions[slot][0])
		h->functions[slot][0]->config.bytes[PCI_HEADER_TYPE] |= PCI_HEADER_MULTIFUNCTION;
	return 0;
}

int pci_host_add(struct pci_host *h, struct pci_device *dev, uint32_t bar0_size,
		 const struct bus_ops *ops, void *opaque)
{
	int slot = 1;
	while (slot < (int)(sizeof(slot_irqs) / sizeof(slot_irqs[0])) && h->functions[slot][0])
		slot++;
	if (slot == sizeof(slot_irqs) / sizeof(slot_irqs[0]))
		return -ENOSPC;

	uint32_t bar0 = PCI_MMIO_BASE + slot * PCI_MMIO_SLOT_SIZE;
	pci_config_add_bar(&dev->config, 0, bar0, bar0_size);
	dev->config.bytes[PCI_INTERRUPT_PIN] = 1;   /* INTA# */
	dev->config.bytes[PCI_INTERRUPT_LINE] = slot_irqs[slot];
	/* Firmware leaves memory decoding on for devices it assigned. */
	put16(&dev->config, PCI_COMMAND, PCI_COMMAND_MEMORY);
	irq_line_init(&dev->irq, h->vm_fd, slot_irqs[slot]);
	dev->bar_range[0] = bus_register(h->bus, BUS_MMIO, bar0, bar0_size, ops, opaque, dev->name);
	if (!dev->bar_range[0])
		return -EBUSY;
	return pci_host_place(h, dev, slot, 0) ? -EBUSY : slot;
}
