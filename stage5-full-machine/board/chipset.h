/*
 * chipset.h - the i440FX "PCI and memory controller" and the PIIX3 PCI-to-ISA bridge.
 *
 * The chipset QEMU's `pc` machine models, from Intel's 440FX PCIset data sheet (82441FX PMC,
 * 82442FX DBX; document 290549) and the 82371SB PIIX3 data sheet (290550):
 *
 *   00:00.0  8086:1237  host bridge. Owns the PCI configuration ports (mechanism #1,
 *            0xcf8/0xcfc) and the Programmable Attribute Map: seven registers at 0x59-0x5f
 *            that decide, for the 13 pieces of 0xc0000-0xfffff, whether reads and writes go to
 *            DRAM ("shadow RAM") or to the ROM. A BIOS runs from ROM, copies itself to
 *            shadow RAM, then write-protects it: that is why those registers exist.
 *   00:01.0  8086:7000  PIIX3 ISA bridge: PCI interrupt routing (PIRQA-D at 0x60-0x63) and,
 *            at port 0xcf9, the reset control register.
 *
 *   00:01.3  8086:7113  PIIX4 power management function (82371AB data sheet, 7.2), the one
 *            part of the PIIX4 that QEMU's `pc` adds to the PIIX3: PMBA (0x40) and PMREGMISC
 *            bit 0 (0x80) place the ACPI PM I/O block; SMBBA (0x90) and SMBHSTCFG bit 0 (0xd2)
 *            place and enable the SMBus host controller (smbus.h).
 *
 * Port 0x92 (System Control Port A: fast A20 gate, bit 1; fast reset, bit 0) lives here too.
 *
 * Machine type `q35` swaps both chips for their successors,
 * from the Intel 3 Series Express Chipset (MCH) and ICH9 data sheets:
 *
 *   00:00.0  8086:29c0  Q35 MCH: PAM at 0x90-0x96 (same nibbles), and PCIEXBAR (0x60), the base
 *            of the PCI Express "enhanced configuration" window (ECAM): 4 KiB of config space
 *            per function at base + (bus << 20 | device << 15 | function << 12), as plain MMIO.
 *   00:1f.0  8086:2918  ICH9 LPC bridge: PIRQA-H routing, reset at 0xcf9, and the ACPI PM
 *            I/O block: PMBASE (0x40) places it, ACPI_CNTL bit 7 (0x44) switches it on.
 *   00:1f.3  8086:2930  ICH9 SMBus controller: its host registers behind the I/O BAR4, HOSTC
 *            bit 0 (0x40) enables the host (smbus.h).
 * SMM is not modelled: the ICH9's SMI_EN register (PM base + 0x30) and the PIIX4's DEVACTB
 * APMC_EN bit read "already set up", so SeaBIOS does not try to enter SMM.
 *
 * The PM I/O block is stage 4's PM1 registers and timer (power.c). Before the guest switches the
 * decoding on, the block answers at the port the ACPI tables name (pm_base of chipset_attach(),
 * 0x600; SeaBIOS programs the same); from then on it follows the registers, as on the chips.
 *
 * SeaBIOS trusts fw_cfg only on a machine that looks like QEMU's: the host bridge's subsystem
 * IDs must be 1af4:1100 ("Red Hat, QEMU virtual machine"), as in QEMU's hw/pci-host/i440fx.c.
 */
#ifndef CHIPSET_H
#define CHIPSET_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "pci.h"
#include "smbus.h"

#define I440FX_PAM0      0x59     /* PAM0..PAM6: 0x59..0x5f */
#define PAM_REGS         7
#define PAM_SEGMENTS     13       /* 0xf0000 (64 KiB), then 12 x 16 KiB from 0xc0000 */
#define PIIX3_PIRQ_ROUTE 0x60
#define PIIX3_RCR_PORT   0xcf9
#define PORT_A_PORT      0x92

/* Each PAM nibble: bit 0 reads come from RAM (else ROM), bit 1 writes go to RAM (else lost). */
enum pam_mode { PAM_ROM = 0, PAM_READ_RAM = 1, PAM_WRITE_RAM = 2, PAM_RAM = 3 };

struct pam_segment {
	uint32_t base, size;
	enum pam_mode mode;
};

/* Pure: the segment table that the seven PAM registers describe (unit-tested). */
void pam_decode(const uint8_t regs[PAM_REGS], struct pam_segment segs[PAM_SEGMENTS]);
/* Pure: which segment holds address addr (0xc0000..0xfffff), or -1. */
int pam_segment_of(uint32_t addr);

#define Q35_PAM0         0x90
#define Q35_PCIEXBAR     0x60
#define Q35_ECAM_BASE    0xb0000000u   /* where SeaBIOS puts ECAM (and QEMU's MCFG says) */
#define Q35_LPC_SLOT     31
#define ICH9_SMI_EN      0x30     /* in the PM I/O block */
#define ICH9_SMI_APMC_EN 0x20
#define ICH9_PMBASE      0x40     /* LPC: PM I/O base, bits 15:7; bit 0 reads 1 (I/O) */
#define ICH9_ACPI_CNTL   0x44     /* LPC: bit 7 ACPI_EN decodes the PM I/O block */
#define ICH9_ACPI_EN     0x80
#define ICH9_SMBUS_FN    3        /* 00:1f.3 */
#define ICH9_SMBUS_BAR   4
#define ICH9_SMB_HOSTC   0x40     /* bit 0 HST_EN */

#define PIIX4_PM_FN      3        /* 00:01.3 */
#define PIIX4_PMBA       0x40     /* PM I/O base, bits 15:6; bit 0 reads 1 */
#define PIIX4_DEVACTB    0x58     /* bit 25: APMC_EN (SMI on writes to port 0xb2) */
#define PIIX4_PMREGMISC  0x80     /* bit 0: PM I/O space enable */
#define PIIX4_SMBBA      0x90     /* SMBus I/O base, bits 15:4; bit 0 reads 1 */
#define PIIX4_SMBHSTCFG  0xd2     /* bit 0: SMBus host interface enable */

enum chipset_kind { CHIPSET_I440FX, CHIPSET_Q35 };

/*
 * Pure: where PCIEXBAR puts the ECAM window. Bit 0 enables it; bits 2:1 give its size (256,
 * 128 or 64 MiB: 256, 128 or 64 buses); the base is bits 35:28, 35:27 or 35:26 accordingly.
 * Returns false when the window is off.
 */
bool pciexbar_decode(uint64_t value, uint64_t *base, uint64_t *size);

/*
 * PCI interrupts (both machines): slot S's pin P (0 = INTA#) is wired to I/O APIC input
 * 16 + ((S + P) mod 8), the eight pins above the ISA lines, level-triggered, active low.
 * The DSDT's _PRT says the same to the OS; firmware polls its disks and needs none of them.
 */
#define PCI_INTX_GSI_BASE 16
unsigned chipset_intx_gsi(unsigned slot, unsigned pin);

/* The chipset's own state, beside the configuration spaces (plain data). */
struct chipset_state {
	enum chipset_kind kind;
	uint8_t rcr;                 /* 0xcf9 */
	uint8_t port_a;              /* 0x92 */
	bool pm_programmed;          /* the guest has switched the PM I/O decoding on */
};

struct chipset {
	struct chipset_state state;
	struct pci_host pci;         /* stage 4's bus; its host bridge 00:00.0 is the i440FX/MCH */
	struct pci_device isa;       /* 00:01.0 PIIX3, or 00:1f.0 ICH9 LPC */
	/* Called after a PAM register changed (the memory map must follow). */
	void (*pam_changed)(void *opaque, const uint8_t regs[PAM_REGS]);
	void *opaque;
	/* The machine's reset line (stage 4's struct machine): pulled at 0xcf9 or 0x92. */
	bool *reset_line;
	struct bus_range *ecam;      /* q35: the ECAM window on the bus (moves with PCIEXBAR) */
	/* pc: 00:01.3 PIIX4 power management (PM and SMBus bases); q35: 00:1f.3 ICH9 SMBus. */
	struct pci_device pm_smbus;
	struct smbus smbus;          /* the SMBus host controller of that function */
	struct bus_range *smbus_range;   /* its ports (q35: pm_smbus's BAR4 range) */
	struct bus_range *pm_block;  /* stage 4's PM1 registers and timer (power.c) */
	struct bus_range *smi_en;    /* q35: SMI_EN, at PM base + 0x30 */
};

void chipset_init(struct chipset *c, enum chipset_kind kind);
/* Configuration space access by CONFIG_ADDRESS value (stage 4's pci_host_config_read() and
 * _write()); ECAM uses them. Unit-tested. */
uint32_t chipset_config_read(struct chipset *c, uint32_t address, unsigned len);
/* Returns true when a PAM register changed. */
bool chipset_config_write(struct chipset *c, uint32_t address, uint32_t value, unsigned len);

/* Pure: where the PM I/O block decodes by the chipset's registers; false while it is off. */
bool chipset_pm_base(const struct chipset *c, uint16_t *base);

/*
 * Register the ports (and on q35 the ECAM window, and SMI_EN at pm_base + 0x30) and the SMBus
 * controller's, switched off until the guest places them. pm_base is where power_attach() put
 * the PM1 block; it moves with the chipset's PM base from then on. vm_fd: for the ICH9 SMBus
 * interrupt (-1: none, in unit tests).
 */
int chipset_attach(struct chipset *c, struct io_bus *bus, int vm_fd, uint16_t pm_base);

#endif
