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

/* The byte sum of a table (a valid table sums to 0). */
uint8_t acpi_checksum(const void *table, unsigned len);

#endif
