/*
 * firmware.h - what the VMM tells SeaBIOS through fw_cfg, and how Linux gets booted by it.
 *
 *   etc/e820           the memory map (SeaBIOS adds its own reservations to it)
 *   etc/boot-fail-wait how long "No bootable device" waits before rebooting (ms)
 *   NOGRAPHIC = 1      no display: SeaBIOS mirrors its screen on COM1 ("sercon")
 *   direct kernel boot (QEMU's -kernel/-initrd/-append): the bzImage split in its real-mode
 *     setup part (SETUP_*, with the boot protocol header filled in by us, as a boot loader
 *     would) and its protected-mode part (KERNEL_*), the initrd (INITRD_*), the command line
 *     (CMDLINE_*), plus the option ROM genroms/linuxboot_dma.bin (QEMU's firmware, shipped in
 *     qemu-system-data). SeaBIOS runs it as a boot device; it pulls those items into RAM by
 *     fw_cfg DMA and jumps to the setup code in real mode (Documentation/arch/x86/boot.rst).
 *   ACPI: stage 4's tables (on q35 with an MCFG), built at offset 0 and linked by QEMU's
 *     table loader (etc/table-loader): SeaBIOS allocates etc/acpi/tables in high RAM and
 *     etc/acpi/rsdp in the 0xf0000 segment, where Linux looks, then patches the pointers
 *     between them and the checksums.
 */
#ifndef FIRMWARE_H
#define FIRMWARE_H

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
};

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

/* Fill f for SeaBIOS. 0, or a negative errno with one line in why naming the file. */
int firmware_setup(struct fw_cfg *f, const struct firmware_config *cfg, char *why,
		   size_t why_len);

#endif
