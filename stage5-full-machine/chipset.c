/*
 * chipset.c - i440FX host bridge + PAM, PIIX3 ISA bridge, reset ports. See chipset.h.
 *
 * Stage 4's pci.c is the bus: configuration mechanism #1 and the rules of the standard header
 * (which bits of COMMAND or a BAR the guest may write). Its host bridge becomes the i440FX
 * (or the MCH) by taking that chip's IDs, and the ISA bridge is placed at its fixed slot. The
 * chipset registers above 0x40 are device-specific, so this file decides about those itself
 * (the functions' specific_write hooks).
 */
#include "chipset.h"

#include <errno.h>
#include <string.h>

#define I440FX_DEVICE_ID 0x1237
#define PIIX3_DEVICE_ID  0x7000
#define Q35_MCH_DEVICE_ID 0x29c0
#define ICH9_LPC_DEVICE_ID 0x2918
#define ECAM_MAX_SIZE     (256u << 20)
#define INTEL_VENDOR_ID  0x8086
#define QEMU_SUBSYSTEM_VENDOR 0x1af4   /* "Red Hat, QEMU virtual machine" (chipset.h) */
#define QEMU_SUBSYSTEM_ID     0x1100
#define CLASS_ISA_BRIDGE  0x060100
#define RCR_SYS_RESET     0x02    /* 0: soft reset (INIT), 1: hard reset */
#define RCR_RESET_CPU     0x04    /* a 0 -> 1 transition performs the reset */
#define PORT_A_RESET      0x01

void pam_decode(const uint8_t regs[PAM_REGS], struct pam_segment segs[PAM_SEGMENTS])
{
	/* PAM0 bits 7:4 cover the 64 KiB BIOS area; its low nibble is reserved. */
	segs[0] = (struct pam_segment){ 0xf0000, 0x10000, (regs[0] >> 4) & 3 };
	/* PAM1..PAM6: low nibble for the lower 16 KiB, high nibble for the upper, from 0xc0000. */
	for (int i = 1; i < PAM_SEGMENTS; i++) {
		uint8_t reg = regs[(i + 1) / 2];
		uint8_t nibble = (i % 2) ? reg & 0xf : reg >> 4;
		segs[i] = (struct pam_segment){ 0xc0000 + (i - 1) * 0x4000, 0x4000, nibble & 3 };
	}
}

int pam_segment_of(uint32_t addr)
{
	if (addr >= 0xf0000 && addr < 0x100000)
		return 0;
	if (addr >= 0xc0000 && addr < 0xf0000)
		return 1 + (addr - 0xc0000) / 0x4000;
	return -1;
}

bool pciexbar_decode(uint64_t value, uint64_t *base, uint64_t *size)
{
	static const uint32_t sizes[4] = { 256u << 20, 128u << 20, 64u << 20, 0 };
	*size = sizes[(value >> 1) & 3];
	*base = value & 0xffc000000ull & ~(uint64_t)(*size - 1);   /* bits 35:26 at most */
	return (value & 1) && *size;
}

unsigned chipset_intx_gsi(unsigned slot, unsigned pin)
{
	return PCI_INTX_GSI_BASE + ((slot + pin) & 7);
}

static unsigned pam_offset(const struct chipset *c)
{
	return c->state.kind == CHIPSET_Q35 ? Q35_PAM0 : I440FX_PAM0;
}

/* Device-specific registers (0x40 and up) that the guest may write. */
static bool writable_above_header(const struct chipset *c, const struct pci_device *f,
				  unsigned offset)
{
	bool q35 = c->state.kind == CHIPSET_Q35;
	if (f == &c->pci.bridge)   /* i440FX: PAM, DRAM rows, SMRAM; Q35: PCIEXBAR, PAM, SMRAM */
		return q35 ? offset >= 0x48 && offset <= 0x9f : offset >= 0x50 && offset <= 0x72;
	/* PIIX3: IRQ routing, misc control; ICH9 LPC: PM base, routing, RCBA... */
	return q35 ? offset >= 0x40 : offset >= 0x4c && offset <= 0xb1;
}

/* Store the bytes the guest may change; true when a PAM register changed. */
static bool write_specific(struct chipset *c, struct pci_device *f, unsigned offset,
			   uint32_t value, unsigned len)
{
	bool pam = false;
	for (unsigned i = 0; i < len; i++, offset++) {
		uint8_t byte = value >> (8 * i);
		if (!writable_above_header(c, f, offset) || f->config.bytes[offset] == byte)
			continue;
		f->config.bytes[offset] = byte;
		pam |= f == &c->pci.bridge && offset >= pam_offset(c) &&
		       offset < pam_offset(c) + PAM_REGS;
	}
	return pam;
}

/* The host bridge's own registers; the memory map and ECAM window follow them. */
static void host_write(struct pci_device *f, unsigned offset, uint32_t value, unsigned len)
{
	struct chipset *c = f->owner;
	if (write_specific(c, f, offset, value, len) && c->pam_changed)
		c->pam_changed(c->opaque, f->config.bytes + pam_offset(c));
	unsigned reg = offset & 0xfc;
	if (c->ecam && reg >= Q35_PCIEXBAR && reg < Q35_PCIEXBAR + 8) {
		uint64_t bar = bytes_to_u64(f->config.bytes + Q35_PCIEXBAR, 8), base, size;
		bool on = pciexbar_decode(bar, &base, &size);
		bus_move(c->ecam, base, on);
	}
}

static void isa_write(struct pci_device *f, unsigned offset, uint32_t value, unsigned len)
{
	write_specific(f->owner, f, offset, value, len);
}

void chipset_init(struct chipset *c, enum chipset_kind kind)
{
	memset(c, 0, sizeof(*c));
	c->state.kind = kind;
	bool q35 = kind == CHIPSET_Q35;
	struct pci_device *isa = &c->isa;
	pci_host_init(&c->pci, NULL, -1);   /* the bus comes with chipset_attach() */
	pci_host_set_identity(&c->pci, INTEL_VENDOR_ID,
			      q35 ? Q35_MCH_DEVICE_ID : I440FX_DEVICE_ID, 2, QEMU_SUBSYSTEM_VENDOR,
			      QEMU_SUBSYSTEM_ID);
	c->pci.bridge.specific_write = host_write;
	c->pci.bridge.owner = c;

	pci_config_init(&isa->config, INTEL_VENDOR_ID,
			q35 ? ICH9_LPC_DEVICE_ID : PIIX3_DEVICE_ID, CLASS_ISA_BRIDGE, q35 ? 2 : 0);
	u64_to_bytes(QEMU_SUBSYSTEM_VENDOR, isa->config.bytes + PCI_SUBSYSTEM_VENDOR_ID, 2);
	u64_to_bytes(QEMU_SUBSYSTEM_ID, isa->config.bytes + PCI_SUBSYSTEM_ID, 2);
	/* multi-function, as the real PIIX3 (IDE, USB) */
	isa->config.bytes[PCI_HEADER_TYPE] = PCI_HEADER_MULTIFUNCTION;
	/* PIRQ routing starts disabled (bit 7 set), as after a reset (PIIX3 data sheet 2.2.8). */
	memset(isa->config.bytes + PIIX3_PIRQ_ROUTE, 0x80, 4);
	isa->name = q35 ? "ich9-lpc" : "piix3";
	isa->specific_write = isa_write;
	isa->owner = c;
	pci_host_place(&c->pci, isa, q35 ? Q35_LPC_SLOT : 1, 0);
}

uint32_t chipset_config_read(struct chipset *c, uint32_t address, unsigned len)
{
	return pci_host_config_read(&c->pci, address, len);
}

bool chipset_config_write(struct chipset *c, uint32_t address, uint32_t value, unsigned len)
{
	const uint8_t *pam = c->pci.bridge.config.bytes + pam_offset(c);
	uint8_t before[PAM_REGS];
	memcpy(before, pam, PAM_REGS);
	pci_host_config_write(&c->pci, address, value, len);
	return memcmp(before, pam, PAM_REGS) != 0;
}

/* ---- ports: 0xcf8-0xcff, 0x92 --------------------------------------------------------- */

static int reset(struct chipset *c)
{
	if (c->reset_line)
		*c->reset_line = true;
	return EXIT_HANDLER_STOP;
}

/* ECAM: the offset in the window is the address; config space above 256 bytes reads 0. */
static uint32_t ecam_address(uint64_t offset)
{
	return 0x80000000u | (uint32_t)(offset >> 4 & 0xffff00) | (offset & 0xff);
}

static int ecam_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct chipset *c = dev;
	uint32_t v = chipset_config_read(c, ecam_address(offset), len);
	if ((offset & 0xfff) >= 0x100 && v != 0xffffffffu)
		v = 0;
	u64_to_bytes(v, data, len);
	return 0;
}

static int ecam_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	if ((offset & 0xfff) < 0x100)
		chipset_config_write(dev, ecam_address(offset), bytes_to_u64(data, len), len);
	return 0;
}

/* ICH9 SMI_EN: "SMM is already set up", so SeaBIOS does not try to enter SMM. */
static int smi_en_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	(void)dev;
	memset(data, 0, len);
	data[0] = offset == 0 ? ICH9_SMI_APMC_EN : 0;
	return 0;
}

static int ignore_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	(void)dev, (void)offset, (void)data, (void)len;
	return 0;
}

/* Stage 4's configuration ports, but for the reset control register at 0xcf9 (bytes). */
static int config_port_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct chipset *c = dev;
	if (offset == 1 && len == 1) {
		data[0] = c->state.rcr;
		return 0;
	}
	if ((offset == 0 && len == 4) || offset >= 4)
		return pci_host_port_read(&c->pci, offset, data, len);
	memset(data, 0xff, len);
	return 0;
}

static int config_port_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct chipset *c = dev;
	uint32_t v = bytes_to_u64(data, len);
	if (offset == 0 && len == 4) {
		c->pci.config_address = v & 0x80fffffcu;   /* reserved bits read as 0 */
	} else if (offset == 1 && len == 1) {   /* 0xcf9: the PIIX3 reset control register */
		uint8_t old = c->state.rcr;
		c->state.rcr = v & (RCR_SYS_RESET | RCR_RESET_CPU);
		if (!(old & RCR_RESET_CPU) && (v & RCR_RESET_CPU))
			return reset(c);
	} else if (offset >= 4) {
		return pci_host_port_write(&c->pci, offset, data, len);
	}
	return 0;
}

static int port_a_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct chipset *c = dev;
	(void)offset;
	memset(data, 0, len);
	data[0] = c->state.port_a;
	return 0;
}

static int port_a_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct chipset *c = dev;
	(void)offset;
	(void)len;
	uint8_t old = c->state.port_a;
	/* A20 is always on under KVM (there is no address wrap to emulate); keep the bit. */
	c->state.port_a = data[0] & 0x02;
	if (!(old & PORT_A_RESET) && (data[0] & PORT_A_RESET))
		return reset(c);
	return 0;
}

static const struct bus_ops config_ops = { config_port_read, config_port_write };
static const struct bus_ops port_a_ops = { port_a_read, port_a_write };
static const struct bus_ops ecam_ops = { ecam_read, ecam_write };
static const struct bus_ops smi_en_ops = { smi_en_read, ignore_write };

int chipset_attach(struct chipset *c, struct io_bus *bus, uint16_t pm_base)
{
	bool q35 = c->state.kind == CHIPSET_Q35;
	c->pci.bus = bus;
	if (!bus_register(bus, BUS_PIO, PCI_CONFIG_ADDRESS_PORT, 8, &config_ops, c,
			  q35 ? "q35" : "i440fx") ||
	    !bus_register(bus, BUS_PIO, PORT_A_PORT, 1, &port_a_ops, c, "port-a"))
		return -EBUSY;
	if (!q35)
		return 0;
	/* The ECAM window starts switched off, until the firmware writes PCIEXBAR. */
	c->ecam = bus_register(bus, BUS_MMIO, Q35_ECAM_BASE, ECAM_MAX_SIZE, &ecam_ops, c,
			       "ecam");
	if (!c->ecam ||
	    !bus_register(bus, BUS_PIO, pm_base + ICH9_SMI_EN, 4, &smi_en_ops, c, "smi-en"))
		return -EBUSY;
	bus_move(c->ecam, Q35_ECAM_BASE, false);
	return 0;
}
