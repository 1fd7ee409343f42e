/*
 * firmware.h - what the VMM tells SeaBIOS through fw_cfg, and how Linux gets booted by it.
 *
 *   etc/e820           the memory map (SeaBIOS adds its own reservations to it): RAM below
 *                      the PCI hole, RAM from 4 GiB (pc_memory.h), KVM's helper pages
 *   etc/boot-fail-wait how long "No bootable device" waits before rebooting (ms)
 *   NOGRAPHIC = 1      SeaBIOS mirrors its screen on COM1 ("sercon"); with -vga std in
 *                      "split mode": the VGA BIOS draws the screen too
 *   direct kernel boot (QEMU's -kernel/-initrd/-append): the bzImage split in its real-mode
 *     setup part (SETUP_*, with the boot protocol header filled in by us, as a boot loader
 *     would) and its protected-mode part (KERNEL_*), the initrd (INITRD_*), the command line
 *     (CMDLINE_*), plus the option ROM genroms/linuxboot_dma.bin (QEMU's firmware, shipped in
 *     qemu-system-data). SeaBIOS runs it as a boot device; it pulls those items into RAM by
 *     fw_cfg DMA and jumps to the setup code in real mode (Documentation/arch/x86/boot.rst).
 *   ACPI: stage 4's tables (on q35 with an MCFG), built at offset 0 and linked by QEMU's
 *     table loader (etc/table-loader): SeaBIOS allocates etc/acpi/tables in high RAM and
 *     etc/acpi/rsdp in the 0xf0000 segment, where Linux looks, then patches the pointers
 *     between them and the checksums. The DSDT is not stage 4's: it is dsdt.asl, compiled by
 *     iasl at build time for each machine type (board.mk), with the end of RAM patched in.
 *   SMBIOS: etc/smbios/smbios-anchor and etc/smbios/smbios-tables (smbios.h).
 *   bootorder: which devices SeaBIOS tries first, as OpenFirmware device paths (below).
 *
 * Legacy ISA devices SeaBIOS and Linux could look for, and why none is emulated:
 *   8237 DMA controllers (ports 0x00-0x0f, 0x80-0x8f, 0xc0-0xdf): SeaBIOS's dma_setup() only
 *     writes them (master clears, cascade mode, unmask), never reads; the bus drops writes to
 *     unclaimed ports. Linux's i8237 driver reads page register 0x87, finds 0xff (what the
 *     bus returns for nothing) and leaves, as on chipsets that dropped the 8237.
 *   Floppy controller (0x3f0-0x3f7): SeaBIOS probes drives only when CMOS register 0x10 names
 *     one, and ours is 0; the DSDT declares no FDC (PNP0700), so Linux finds none either.
 *   `minivisor -debugcon stdio -trace-io` shows exactly those DMA writes and the parallel and
 *     serial port probes (0x278, 0x378, 0x2f8, 0x3e8 ...), which read all ones: "absent".
 *
 * Boot order paths (SeaBIOS src/boot.c builds the same strings for the devices it finds and
 * matches them as prefixes, a '*' in its pattern standing for any device name):
 *   /pci@i0cf8/ide@1,1/drive@C/disk@U           PIIX3 IDE (pc, 00:01.1): channel C (0 primary,
 *                                               1 secondary), unit U (0 master, 1 slave); a
 *                                               CD-ROM has the same form
 *   /pci@i0cf8/pci8086,2922@1f,2/drive@P/disk@0 ICH9 AHCI (q35, 00:1f.2): port P (the name
 *                                               before '@' is free: "sata@1f,2" matches too)
 *   /rom@genroms/linuxboot_dma.bin              the direct kernel boot ROM (-kernel): put it
 *                                               first, as QEMU does
 *   HALT                                        a line of its own: boot only what is listed
 * One path per line. Devices not listed are still tried, after the listed ones.
 */
#ifndef FIRMWARE_H
#define FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw_cfg.h"

struct firmware_config {
	uint64_t ram_size;
	unsigned ncpus;
	const char *kernel, *initrd, *cmdline;   /* kernel NULL: boot from devices (none yet) */
	const char *linuxboot_rom;
	uint32_t boot_fail_wait_ms;
	uint64_t ecam_base;          /* q35: an MCFG table says where ECAM is; 0: none */
	/* Added for the DSDT, SMBIOS and boot order (initialize by name or in this order): */
	int q35;                     /* 1: machine q35 (so is any machine with ECAM), 0: pc */
	const char *bootorder;       /* "bootorder" file: paths, one a line; NULL: no file */
	const char *uuid;            /* SMBIOS system UUID, "xxxxxxxx-xxxx-..."; NULL: random */
};

/*
 * Fill f for SeaBIOS. 0, or a negative errno with one line in why naming the file.
 * boot_fail_wait_ms: after "No bootable device", SeaBIOS reboots after this long;
 * 0xffffffff: it never does (QEMU's -boot reboot-timeout=-1).
 */
int firmware_setup(struct fw_cfg *f, const struct firmware_config *cfg, char *why,
		   size_t why_len);

/* One etc/e820 entry, as fw_cfg carries it. */
struct fw_e820 {
	uint64_t address, length;
	uint32_t type;
} __attribute__((packed));
#define FIRMWARE_E820_MAX 4

/* Pure (unit-tested): the machine's memory map (pc_memory.h's split); returns the entries. */
unsigned firmware_e820(bool q35, uint64_t ram_size, struct fw_e820 map[FIRMWARE_E820_MAX]);

/* The DSDTs compiled from dsdt.asl (board.mk generates dsdt_aml.c with iasl -tc). */
extern unsigned char dsdt_pc_aml_code[], dsdt_q35_aml_code[];
extern const unsigned dsdt_pc_aml_len, dsdt_q35_aml_len;

/*
 * Pure (unit-tested): a malloc'ed copy of the machine's DSDT with the end of RAM below 4 GiB
 * (\RAMT) and the 64-bit PCI window (\P64G) patched in and its checksum fixed. 0, -ENOMEM,
 * or -ENOENT if a placeholder is missing.
 */
int firmware_dsdt(bool q35, uint64_t ram_size, uint8_t **dsdt, uint32_t *len);

/* BIOS linker/loader commands (QEMU hw/acpi/bios-linker-loader.c), 128 bytes each. */
#define LOADER_ALLOCATE     1
#define LOADER_ADD_POINTER  2
#define LOADER_ADD_CHECKSUM 3
#define LOADER_ZONE_HIGH    1
#define LOADER_ZONE_FSEG    2
#define LOADER_ENTRY_SIZE   128
#define LOADER_MAX_ENTRIES  32

struct acpi_loader {
	uint8_t commands[LOADER_MAX_ENTRIES * LOADER_ENTRY_SIZE];
	unsigned count;
};
/* Pure (unit-tested): append one command; 0 or -ENOSPC. */
int loader_allocate(struct acpi_loader *l, const char *file, uint32_t align, uint8_t zone);
int loader_add_pointer(struct acpi_loader *l, const char *dest, const char *src,
		       uint32_t offset, uint8_t size);
int loader_add_checksum(struct acpi_loader *l, const char *file, uint32_t offset,
			uint32_t start, uint32_t length);

#endif
