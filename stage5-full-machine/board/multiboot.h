/*
 * multiboot.h - booting a Multiboot (version 1) kernel with -kernel, as QEMU and GRUB do.
 *
 * Multiboot is the boot protocol of small operating systems (and many test suites): the kernel
 * is an ELF file with a 12-byte header somewhere in its first 8 KiB (magic 0x1BADB002, flags,
 * checksum: the three add up to 0 mod 2^32). A boot loader loads the ELF segments at their
 * physical addresses, puts the modules (files: an initrd, a config ...) in memory, fills a
 * "Multiboot information" structure (MBI: memory sizes, the memory map, the command line, the
 * modules) and enters the kernel in 32-bit protected mode, paging off, with EAX = 0x2BADB002
 * and EBX = the MBI's address. (The Multiboot Specification 0.6.96, sections 3.1-3.3.)
 *
 * Who does what here: the host (this file) reads the kernel and the modules, checks them and
 * lays everything out, because it knows the memory map; the guest's firmware does the rest,
 * as for Linux (firmware.h): SeaBIOS runs our option ROM (multiboot_rom.asm, built in this
 * family) from the boot order, and the ROM copies three fw_cfg blobs into place by fw_cfg DMA,
 * asks the BIOS for the memory map (INT 15h E820, which includes SeaBIOS's own reservations),
 * switches to protected mode and jumps.
 *
 *   fw_cfg KERNEL_ADDR/SIZE/DATA  the ELF's loadable image: lowest to highest segment
 *                                 byte, gaps and bss zeroed (one copy)
 *   fw_cfg KERNEL_ENTRY           the ELF entry point
 *   fw_cfg INITRD_ADDR/SIZE/DATA  the modules, each on a page boundary, after the kernel
 *   fw_cfg SETUP_ADDR/SIZE/DATA   the MBI and its strings, at MB_INFO_GPA (below 1 MiB, where
 *                                 the ROM's real-mode INT 15h calls can write the memory map)
 *
 *   MB_INFO_GPA + 0x000  the MBI (flags: MEM, CMDLINE, MODS, MMAP, LOADER_NAME)
 *               + 0x100  room for the memory map: MB_MMAP_MAX entries of 24 bytes (the ROM)
 *               + 0x400  the mods array, then the command line, the modules' strings, the
 *                        boot loader's name
 *
 * Modules come from -initrd as QEMU takes them: "file1 arg arg,file2" (a comma separates
 * modules, ",," is a comma in a name or argument); a module's string is its whole text,
 * file name first, as GRUB passes it. The kernel's command line is the kernel's file name,
 * a space and -append.
 */
#ifndef MULTIBOOT_H
#define MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw_cfg.h"

#define MB_HEADER_MAGIC     0x1badb002u
#define MB_BOOT_MAGIC       0x2badb002u    /* in EAX at the kernel's entry */
#define MB_SEARCH_BYTES     8192           /* the header is in the first 8 KiB ... */
#define MB_HEADER_ALIGN     4              /* ... on a 4-byte boundary */
#define MB_FLAG_AOUT_KLUDGE (1u << 16)     /* addresses in the header, not in an ELF */
#define MB_FLAG_VIDEO_MODE  (1u << 2)

#define MB_INFO_GPA    0x10000u            /* the MBI and its strings (fw_cfg SETUP) */
#define MB_INFO_MAX    0x10000u            /* 64 KiB: up to 0x20000 */
#define MB_MMAP_OFFSET 0x100u
#define MB_MMAP_MAX    32
#define MB_MODS_OFFSET 0x400u
#define MB_LOAD_MIN    0x100000u           /* segments start at 1 MiB or higher */
#define MB_TOP_RESERVE 0x100000u           /* SeaBIOS's tables at the top of low RAM */
#define MB_MAX_MODULES 16

/* MBI flags (specification 3.3) and the fields' offsets the ROM needs. */
#define MBI_FLAG_MEM     (1u << 0)
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_FLAG_MODS    (1u << 3)
#define MBI_FLAG_MMAP    (1u << 6)
#define MBI_FLAG_LOADER  (1u << 9)
#define MBI_MMAP_LENGTH  44
#define MBI_SIZE         72                /* up to boot_loader_name and apm_table */

#define FW_CFG_KERNEL_ENTRY 0x10

/* The header as found in the file. */
struct mb_header {
	uint32_t offset;            /* where in the file */
	uint32_t flags;
};

/* The loadable image of the ELF. */
struct mb_kernel {
	uint8_t *image;             /* malloc'ed: load_end - load_addr bytes */
	uint32_t load_addr, load_end, entry;
};

/*
 * Pure (unit-tested). Look for the header in the file's first 8 KiB: 0 (a header, in *h),
 * -ENOENT (none: not a Multiboot kernel) or -EINVAL with one line in why (a magic with a bad
 * checksum, or flags this loader cannot honour: the a.out kludge without ELF, a video mode).
 */
int multiboot_find_header(const uint8_t *file, size_t len, struct mb_header *h, char *why,
			  size_t why_len);

/*
 * Pure (unit-tested). Lay out the ELF32 (i386) file's PT_LOAD segments: each inside
 * [1 MiB, ram_top); 0 or a negative errno with one line in why.
 */
int multiboot_load_elf(const uint8_t *file, size_t len, uint64_t ram_top, struct mb_kernel *k,
		       char *why, size_t why_len);

/* Split -initrd's text into module strings (",," is a comma); the count, or -E2BIG. */
int multiboot_split_modules(const char *spec, char out[][256], int max);

/*
 * Pure (unit-tested). Build the MBI blob (for MB_INFO_GPA): mem_lower/mem_upper from
 * below_4g, the command line, and nmods modules, module i at mod_start[i] of mod_len[i]
 * bytes with string mod_str[i]. Returns its length (<= MB_INFO_MAX) or -E2BIG.
 */
int multiboot_build_info(uint8_t *out, uint64_t below_4g, const char *cmdline, int nmods,
			 const uint32_t *mod_start, const uint32_t *mod_len,
			 char mod_str[][256]);

/* Is the file at path a Multiboot kernel (a header in its first 8 KiB, valid or not)? */
bool multiboot_is_kernel(const char *path);

/*
 * Load kernel, modules and MBI into fw_cfg for the option ROM, which goes in as
 * genroms/multiboot.bin. 0 or a negative errno with one line in why naming the file.
 */
int multiboot_setup(struct fw_cfg *f, const char *kernel, const char *modules,
		    const char *cmdline, uint64_t below_4g, char *why, size_t why_len);

/* The option ROM (multiboot_rom.asm, as a C array by board.mk). */
extern unsigned char multiboot_rom_bin[];
extern unsigned int multiboot_rom_bin_len;

#endif
