/*
 * boot.h - the Linux x86 boot protocol: load a bzImage and jump to its 64-bit entry.
 *
 * Reference: the kernel's Documentation/arch/x86/boot.rst ("THE LINUX/x86 BOOT PROTOCOL",
 * sections on the real-mode header, "64-bit BOOT PROTOCOL" and "The zero page").
 *
 * A bzImage is two programs in one file: a real-mode setup program (its first sectors,
 * holding the "HdrS" setup header at offset 0x1f1) and the protected-mode kernel after it,
 * which decompresses the real kernel. A bootloader normally runs the setup program in real
 * mode, which asks the BIOS for the memory map and jumps to the kernel. We have no BIOS, so
 * we do the setup program's job: fill the "zero page" (struct boot_params) with the memory
 * map (e820) and the locations of the command line and initrd, and enter the kernel's 64-bit
 * entry point (load address + 0x200) in long mode, with RSI pointing at the zero page.
 *
 * Guest-physical layout:
 *
 *   0x00500  GDT: null, null, code 0x10 (__BOOT_CS), data 0x18 (__BOOT_DS)
 *   0x07000  zero page (struct boot_params)
 *   0x08ff0  initial stack (the kernel sets up its own at once)
 *   0x09000  page tables: identity map of the first 4 GiB, 2 MiB pages
 *   0x20000  kernel command line
 *   0x9fc00  reserved to 1 MiB: "BIOS" area; the ACPI tables are at 0xe0000 (acpi.h)
 *   0x100000 protected-mode kernel (it moves itself to 16 MiB+ when it decompresses)
 *   top      initrd, at the end of RAM (below initrd_addr_max)
 */
#ifndef BOOT_H
#define BOOT_H

#include <asm/bootparam.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm.h"

#define BOOT_GDT_GPA        0x0500
#define BOOT_PARAMS_GPA     0x7000
#define BOOT_STACK_TOP      0x8ff0
#define BOOT_PAGE_POOL_GPA  0x9000
#define BOOT_PAGE_POOL_END  0x10000
#define BOOT_CMDLINE_GPA    0x20000
#define BOOT_CMDLINE_MAX    0x10000
#define BIOS_AREA_START     0x9fc00   /* where a PC's EBDA begins: not RAM to the kernel */
#define HIGH_MEMORY_START   0x100000
#define KERNEL_LOAD_GPA     HIGH_MEMORY_START
/* e820 entry types (ACPI "address range types"). */
#define E820_TYPE_RAM      1
#define E820_TYPE_RESERVED 2

#define BOOT_CS 0x10
#define BOOT_DS 0x18

#define BOOT_MAX_RAM (3ull << 30)    /* RAM stays below the PCI hole at 3 GiB */

/* What we need from a bzImage's setup header. */
struct bzimage {
	uint16_t version;           /* boot protocol version, e.g. 0x020f */
	uint32_t setup_bytes;       /* real-mode part, boot sector included */
	uint32_t kernel_bytes;      /* protected-mode part that follows it */
	uint32_t initrd_addr_max;   /* highest address the initrd may end at */
	uint32_t cmdline_size;      /* longest command line, without the NUL */
	uint32_t init_size;         /* memory the kernel needs while it decompresses */
	uint64_t pref_address;      /* where it prefers to run (16 MiB for a relocatable one) */
};

/*
 * Check that image is a bzImage this VMM can boot (boot sector signature 0xaa55, "HdrS",
 * protocol >= 2.12, a 64-bit entry point: XLF_KERNEL_64) and read its header.
 * Returns 0, -ENOEXEC (not a bzImage) or -ENOTSUP (too old, no 64-bit entry); *why says which.
 */
int bzimage_parse(const uint8_t *image, size_t size, struct bzimage *bz, const char **why);

/*
 * The memory map the kernel gets (the BIOS's INT 15h, E820h answer): usable RAM below the
 * BIOS area, reserved up to 1 MiB, usable RAM from 1 MiB to ram_size. Returns the number of
 * entries written (at most max).
 */
unsigned e820_build(struct boot_e820_entry *table, unsigned max, uint64_t ram_size);

/* Where the initrd goes: the highest page-aligned address where it fits below
 * min(ram_size, initrd_addr_max + 1) and above the kernel's decompression area; 0 if none. */
uint64_t initrd_address(const struct bzimage *bz, uint64_t ram_size, uint64_t initrd_size);

struct linux_boot {
	const char *kernel_path, *initrd_path, *cmdline;
	uint64_t rsdp_gpa;          /* ACPI root pointer, for boot_params.acpi_rsdp_addr */
};

/*
 * Check the files before any VM exists: the kernel is a bootable bzImage that fits in
 * ram_size, the initrd is a regular file that fits beside it. 0 or a negative errno with a
 * one-line message in why (it names the file).
 */
int linux_check(const struct linux_boot *boot, uint64_t ram_size, char *why, size_t why_len);

/*
 * A kernel that passed linux_check(), still mapped (read-only): its real-mode setup part
 * (image, bz.setup_bytes long) and the protected-mode kernel after it (image +
 * bz.setup_bytes, bz.kernel_bytes long). This VMM loads only the second half; a machine
 * that boots through real firmware (stage 5) hands both halves to the firmware's loader.
 */
struct linux_image {
	const uint8_t *image;
	size_t size;
	struct bzimage bz;
};

/* linux_check(), keeping the kernel: on success, release it with linux_image_release(). */
int linux_open(const struct linux_boot *boot, uint64_t ram_size, struct linux_image *img,
	       char *why, size_t why_len);
void linux_image_release(struct linux_image *img);

/*
 * Load kernel and initrd into the VM's RAM and write the zero page. Returns 0, or a negative
 * errno with a one-line message in why (it names the file).
 */
int linux_load(struct vm *vm, const struct linux_boot *boot, char *why, size_t why_len);

/* Put the boot vCPU in 64-bit mode at the kernel's 64-bit entry. 0 or a negative errno. */
int linux_setup_boot_cpu(struct vcpu *vcpu);

#endif
