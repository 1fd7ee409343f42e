/*
 * chipset.c - i440FX host bridge + PAM, PIIX3 ISA bridge, reset ports; the PM I/O block and the
 * SMBus function of both south bridges. See chipset.h.
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

#include "power.h"

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
#define PIIX4_PM_DEVICE_ID   0x7113
#define PIIX4_PM_REVISION    3
#define ICH9_SMBUS_DEVICE_ID 0x2930
#define ICH9_SMBUS_REVISION  2
#define CLASS_OTHER_BRIDGE   0x068000
#define CLASS_SMBUS          0x0c0500
#define IO_SPACE_BIT         0x1       /* bit 0 of PMBA, SMBBA, PMBASE: "this is I/O space" */
#define PIIX4_PMBA_MASK      0xffc0u   /* 64 ports */
#define PIIX4_SMBBA_MASK     0xfff0u   /* 16 ports */
#define ICH9_PMBASE_MASK     0xff80u   /* 128 ports */
#define PIIX4_APMC_EN        (1u << 25)
#define PIIX4_PMIOSE         0x01      /* PMREGMISC */
#define SMBUS_HOST_ENABLE    0x01      /* PIIX4 SMBHSTCFG, ICH9 HOSTC */
#define PCI_STATUS_INTERRUPT 0x08
#define SMBUS_PARKING_PORT   0x700     /* where the SMBus ports wait, switched off */

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

static void place_pm_block(struct chipset *c);

static void isa_write(struct pci_device *f, unsigned offset, uint32_t value, unsigned len)
{
	struct chipset *c = f->owner;
	write_specific(c, f, offset, value, len);
	bool pm_registers = offset < ICH9_ACPI_CNTL + 4 && offset + len > ICH9_PMBASE;
	if (c->state.kind != CHIPSET_Q35 || !pm_registers)
		return;
	/* PMBASE: bits 15:7 are the base, bit 0 reads 1, the rest 0. */
	uint32_t pmbase = bytes_to_u64(f->config.bytes + ICH9_PMBASE, 4);
	u64_to_bytes((pmbase & ICH9_PMBASE_MASK) | IO_SPACE_BIT, f->config.bytes + ICH9_PMBASE, 4);
	place_pm_block(c);
}

/* ---- the PM I/O block and the SMBus function ----------------------------------------- */

bool chipset_pm_base(const struct chipset *c, uint16_t *base)
{
	if (c->state.kind == CHIPSET_Q35) {
		const uint8_t *lpc = c->isa.config.bytes;
		*base = bytes_to_u64(lpc + ICH9_PMBASE, 2) & ICH9_PMBASE_MASK;
		return lpc[ICH9_ACPI_CNTL] & ICH9_ACPI_EN;
	}
	const uint8_t *pm = c->pm_smbus.config.bytes;
	*base = bytes_to_u64(pm + PIIX4_PMBA, 2) & PIIX4_PMBA_MASK;
	return pm[PIIX4_PMREGMISC] & PIIX4_PMIOSE;
}

/* Move stage 4's PM1 block (and on q35 SMI_EN) where the registers say. */
static void place_pm_block(struct chipset *c)
{
	uint16_t base;
	bool on = chipset_pm_base(c, &base);
	c->state.pm_programmed |= on;
	if (!c->state.pm_programmed)
		return;   /* still where the ACPI tables put it (chipset.h) */
	on = on && base;
	if (c->pm_block)
		bus_move(c->pm_block, base, on);
	if (c->smi_en)
		bus_move(c->smi_en, base + ICH9_SMI_EN, on);
}

/* PIIX4: SMBBA places the SMBus ports, SMBHSTCFG bit 0 switches them (and the host) on. */
static void place_piix4_smbus(struct chipset *c)
{
	const uint8_t *pm = c->pm_smbus.config.bytes;
	uint16_t base = bytes_to_u64(pm + PIIX4_SMBBA, 2) & PIIX4_SMBBA_MASK;
	bool on = pm[PIIX4_SMBHSTCFG] & SMBUS_HOST_ENABLE;
	c->smbus.state.host_enabled = on;
	if (c->smbus_range)
		bus_move(c->smbus_range, base, on && base);
}

/* Store the guest's bits of one dword (len bytes at offset) where writable allows. */
static void write_masked(struct pci_config *cfg, unsigned offset, uint32_t value, unsigned len,
			 uint32_t writable)
{
	unsigned dword = offset & ~3u, shift = 8 * (offset & 3);
	uint32_t lane = (len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1) << shift;
	uint32_t mask = writable & lane;
	uint32_t old = bytes_to_u64(cfg->bytes + dword, 4);
	u64_to_bytes((old & ~mask) | ((value << shift) & mask), cfg->bytes + dword, 4);
}

/* PIIX4 function 3: the writable bits of each dword above the header (others read-only). */
static uint32_t piix4_pm_writable(unsigned dword)
{
	switch (dword) {
	case PIIX4_PMBA:
		return PIIX4_PMBA_MASK;
	case PIIX4_PMREGMISC:
		return PIIX4_PMIOSE;
	case PIIX4_SMBBA:
		return PIIX4_SMBBA_MASK;
	case PIIX4_SMBHSTCFG & ~3u:   /* bit 0 enable, bits 3:1 its interrupt (IRQ 9 or SMI) */
		return 0x0fu << 8 * (PIIX4_SMBHSTCFG & 3);
	}
	return 0;
}

static void piix4_pm_write(struct pci_device *f, unsigned offset, uint32_t value, unsigned len)
{
	struct chipset *c = f->owner;
	write_masked(&f->config, offset, value, len, piix4_pm_writable(offset & ~3u));
	place_pm_block(c);
	place_piix4_smbus(c);
}

/* ICH9 SMBus: HOSTC bits 0 HST_EN, 1 SMB_SMI_EN, 2 I2C_EN, 4 SPD_WD; nothing else above 0x40. */
static void ich9_smbus_write(struct pci_device *f, unsigned offset, uint32_t value, unsigned len)
{
	struct chipset *c = f->owner;
	write_masked(&f->config, offset, value, len, (offset & ~3u) == ICH9_SMB_HOSTC ? 0x17 : 0);
	c->smbus.state.host_enabled = f->config.bytes[ICH9_SMB_HOSTC] & SMBUS_HOST_ENABLE;
}

/* The ICH9 SMBus interrupt: INTA# of 00:1f.3, level, and PCI status bit 3 shows it. */
static void ich9_smbus_irq(void *opaque, bool level)
{
	struct pci_device *f = opaque;
	uint8_t *cfg = f->config.bytes;
	bool disabled = bytes_to_u64(cfg + PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
	cfg[PCI_STATUS] = (cfg[PCI_STATUS] & ~PCI_STATUS_INTERRUPT) |
			  (level ? PCI_STATUS_INTERRUPT : 0);
	irq_line_set(&f->irq, level && !disabled);
}

static void identify(struct pci_device *f, uint16_t device, uint32_t class_code,
		     uint8_t revision)
{
	pci_config_init(&f->config, INTEL_VENDOR_ID, device, class_code, revision);
	u64_to_bytes(QEMU_SUBSYSTEM_VENDOR, f->config.bytes + PCI_SUBSYSTEM_VENDOR_ID, 2);
	u64_to_bytes(QEMU_SUBSYSTEM_ID, f->config.bytes + PCI_SUBSYSTEM_ID, 2);
}

/* 00:01.3 on pc, 00:1f.3 on q35, as after a reset: everything off. */
static void init_pm_smbus(struct chipset *c)
{
	bool q35 = c->state.kind == CHIPSET_Q35;
	struct pci_device *f = &c->pm_smbus;
	uint8_t *cfg = f->config.bytes;
	f->owner = c;
	smbus_init(&c->smbus, q35 ? SMBUS_ICH9 : SMBUS_PIIX4, q35 ? "ich9-smbus" : "piix4-smbus");
	if (q35) {
		identify(f, ICH9_SMBUS_DEVICE_ID, CLASS_SMBUS, ICH9_SMBUS_REVISION);
		pci_config_add_io_bar(&f->config, ICH9_SMBUS_BAR, 0, SMBUS_ICH9_PORTS);
		f->name = "ich9-smbus";
		f->specific_write = ich9_smbus_write;
		c->smbus.irq_changed = ich9_smbus_irq;
		c->smbus.opaque = f;
		irq_line_init(&f->irq, -1, chipset_intx_gsi(Q35_LPC_SLOT, 0));   /* attach wires it */
		/* LPC: PMBASE says "I/O space" with no base yet. */
		u64_to_bytes(IO_SPACE_BIT, c->isa.config.bytes + ICH9_PMBASE, 4);
	} else {
		identify(f, PIIX4_PM_DEVICE_ID, CLASS_OTHER_BRIDGE, PIIX4_PM_REVISION);
		u64_to_bytes(IO_SPACE_BIT, cfg + PIIX4_PMBA, 4);
		u64_to_bytes(IO_SPACE_BIT, cfg + PIIX4_SMBBA, 4);
		u64_to_bytes(PIIX4_APMC_EN, cfg + PIIX4_DEVACTB, 4);   /* "SMM set up" (chipset.h) */
		f->name = "piix4-pm";
		f->specific_write = piix4_pm_write;
	}
	cfg[PCI_INTERRUPT_PIN] = 1;   /* INTA# */
	pci_host_place(&c->pci, f, q35 ? Q35_LPC_SLOT : 1, q35 ? ICH9_SMBUS_FN : PIIX4_PM_FN);
}

/* PIIX4 function 3's PCI command register bit 0 gates its SMBus ports (not its PM block). */
static int piix4_smbus_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct chipset *c = dev;
	if (!(c->pm_smbus.config.bytes[PCI_COMMAND] & PCI_COMMAND_IO)) {
		memset(data, 0xff, len);
		return 0;
	}
	return smbus_ops.read(&c->smbus, offset, data, len);
}

static int piix4_smbus_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct chipset *c = dev;
	if (!(c->pm_smbus.config.bytes[PCI_COMMAND] & PCI_COMMAND_IO))
		return 0;
	return smbus_ops.write(&c->smbus, offset, data, len);
}

static const struct bus_ops piix4_smbus_ops = { piix4_smbus_read, piix4_smbus_write };

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
	init_pm_smbus(c);
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

/* The SMBus ports, switched off: PIIX4's follow SMBBA, ICH9's are BAR4 (pci.c moves them). */
static int attach_smbus(struct chipset *c, struct io_bus *bus, int vm_fd)
{
	bool q35 = c->state.kind == CHIPSET_Q35;
	if (q35)
		c->smbus_range = bus_register(bus, BUS_PIO, SMBUS_PARKING_PORT, SMBUS_ICH9_PORTS,
					      &smbus_ops, &c->smbus, c->smbus.name);
	else
		c->smbus_range = bus_register(bus, BUS_PIO, SMBUS_PARKING_PORT, SMBUS_PIIX4_PORTS,
					      &piix4_smbus_ops, c, c->smbus.name);
	if (!c->smbus_range)
		return -EBUSY;
	bus_move(c->smbus_range, 0, false);
	if (q35) {
		unsigned gsi = chipset_intx_gsi(Q35_LPC_SLOT, 0);
		c->pm_smbus.bar_range[ICH9_SMBUS_BAR] = c->smbus_range;
		c->pm_smbus.config.bytes[PCI_INTERRUPT_LINE] = gsi;
		irq_line_init(&c->pm_smbus.irq, vm_fd, gsi);
	}
	return 0;
}

int chipset_attach(struct chipset *c, struct io_bus *bus, int vm_fd, uint16_t pm_base)
{
	bool q35 = c->state.kind == CHIPSET_Q35;
	c->pci.bus = bus;
	c->pci.vm_fd = vm_fd;
	msi_routes_init(&c->pci.msi, vm_fd);   /* this VM's routes: none yet (virtio, vfio add) */
	c->pm_block = power_pm1_range(bus);
	if (!bus_register(bus, BUS_PIO, PCI_CONFIG_ADDRESS_PORT, 8, &config_ops, c,
			  q35 ? "q35" : "i440fx") ||
	    !bus_register(bus, BUS_PIO, PORT_A_PORT, 1, &port_a_ops, c, "port-a") ||
	    attach_smbus(c, bus, vm_fd))
		return -EBUSY;
	if (!q35)
		return 0;
	/* The ECAM window starts switched off, until the firmware writes PCIEXBAR. */
	c->ecam = bus_register(bus, BUS_MMIO, Q35_ECAM_BASE, ECAM_MAX_SIZE, &ecam_ops, c,
			       "ecam");
	c->smi_en = bus_register(bus, BUS_PIO, pm_base + ICH9_SMI_EN, 4, &smi_en_ops, c,
				 "smi-en");
	if (!c->ecam || !c->smi_en)
		return -EBUSY;
	bus_move(c->ecam, Q35_ECAM_BASE, false);
	return 0;
}
