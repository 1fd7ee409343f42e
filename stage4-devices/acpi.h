/*
 * acpi.h - the ACPI tables that describe this machine to the guest kernel.
 *
 * ACPI (Advanced Configuration and Power Interface, spec 6.4) replaced the BIOS's ad-hoc
 * tables with one tree that the OS finds from a root pointer:
 *
 *   RSDP  "RSD PTR " root pointer, found by scanning 0xe0000-0xfffff (or given in boot_params)
 *   XSDT  the list of the other tables' addresses
 *   FADT  fixed hardware: where the PM1 registers, the PM timer and the SCI interrupt are,
 *         which legacy devices exist (no 8042 keyboard, no VGA), and where the DSDT is
 *   FACS  firmware-OS shared memory (required beside a full FADT; we use none of it)
 *   DSDT  AML byte code: the devices that cannot be found by probing. Ours declares the PCI
 *         root bridge (PNP0A03), so Linux scans bus 0, and \_S5, the value that powers off.
 *   MADT  the interrupt controllers: one local APIC per vCPU (how Linux counts CPUs for
 *         --smp), the I/O APIC, and the SCI's polarity
 *
 * This Debian kernel has no MP-table support (CONFIG_X86_MPPARSE is off), so ACPI is also
 * how it finds its CPUs. Everything lives between 0xe0000 and 1 MiB, which e820 reserves.
 */
#ifndef ACPI_H
#define ACPI_H

#include <stdint.h>

#include "guest_memory.h"

#define ACPI_TABLES_GPA 0xe0000
#define ACPI_TABLES_END 0x100000
#define IOAPIC_GPA      0xfec00000
#define LAPIC_GPA       0xfee00000

/* Write all tables for ncpus CPUs. Returns 0 and the RSDP's address, or -ENOSPC. */
int acpi_build(const struct guest_memory *mem, unsigned ncpus, uint64_t *rsdp_gpa);

/*
 * The same tables, built for a firmware that places them itself (stage 5: SeaBIOS's table
 * loader). They go into buf (size bytes, zeroed first) as if buf were at guest address base:
 * with base 0, every pointer between tables holds an offset into buf. The layout says where
 * those pointers and the tables are, so the firmware can add their final address and fix
 * the checksums. A machine with more hardware adds its own tables after ours (header filled
 * in here, listed in the XSDT).
 */
struct acpi_extra_table {
	char signature[4];
	uint8_t revision;
	const void *body;              /* what follows the 36-byte header */
	uint32_t body_len;
};

#define ACPI_MAX_EXTRA    2
#define ACPI_MAX_TABLES   (4 + ACPI_MAX_EXTRA)
#define ACPI_MAX_POINTERS (4 + ACPI_MAX_EXTRA)

struct acpi_layout {
	uint32_t size;                 /* bytes of buf used */
	uint32_t rsdp;                 /* offset of the RSDP; its XSDT address is at rsdp + 24 */
	unsigned ntables;              /* the tables with a checksum, but the RSDP */
	struct { uint32_t at, len; } tables[ACPI_MAX_TABLES];
	unsigned npointers;            /* pointer fields outside the RSDP */
	struct { uint32_t at; uint8_t size; } pointers[ACPI_MAX_POINTERS];
};

int acpi_build_into(uint8_t *buf, uint32_t size, uint64_t base, unsigned ncpus,
		    const struct acpi_extra_table *extra, unsigned nextra,
		    struct acpi_layout *layout);

/*
 * The same, with the caller's DSDT in place of the one assembled here (stage 5 compiles its
 * own from ASL): a whole table as iasl writes it, header included, dsdt_len bytes, copied
 * as is but for its checksum. -EINVAL when it does not look like a DSDT.
 */
int acpi_build_with_dsdt(uint8_t *buf, uint32_t size, uint64_t base, unsigned ncpus,
			 const void *dsdt, uint32_t dsdt_len,
			 const struct acpi_extra_table *extra, unsigned nextra,
			 struct acpi_layout *layout);

/*
 * The FADT's IAPC_BOOT_ARCH flags (ACPI 6.4, 5.2.9.3): which PC legacy devices the machine
 * has. Stage 4 says: no VGA and (bit 1 clear) no 8042; MSI is allowed (virtio's MSI-X). A machine with more sets and
 * clears bits in the built tables (the FADT's checksum is fixed): 0, or -ENOENT with no FADT.
 */
#define ACPI_BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define ACPI_BOOT_ARCH_8042           (1u << 1)
#define ACPI_BOOT_ARCH_VGA_ABSENT     (1u << 2)
#define ACPI_BOOT_ARCH_NO_MSI         (1u << 3)
int acpi_set_boot_arch(uint8_t *buf, const struct acpi_layout *layout, uint16_t set,
		       uint16_t clear);

/*
 * The FADT's reset register (ACPI 6.4, 4.8.3.6): an I/O port and the byte that resets the
 * machine, with RESET_REG_SUP set; Linux's reboot tries it first. Stage 4 has none (no port
 * 0xcf9); stage 5's chipset has one. 0, or -ENOENT with no FADT.
 */
int acpi_set_reset_reg(uint8_t *buf, const struct acpi_layout *layout, uint16_t port,
		       uint8_t value);

/* The byte sum of a table (a valid table sums to 0). */
uint8_t acpi_checksum(const void *table, unsigned len);

#endif
