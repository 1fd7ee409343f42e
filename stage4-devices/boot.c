/*
 * boot.c - parse a bzImage, build boot_params and the e820 map, enter the 64-bit kernel.
 * See boot.h for the memory layout and the reference.
 */
#include "boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu_modes.h"

/* Setup header fields, by offset in the file (boot.rst, "The real-mode kernel header"). */
#define HDR_SETUP_SECTS     0x1f1
#define HDR_BOOT_FLAG       0x1fe   /* 0xaa55, the boot sector signature */
#define HDR_HEADER          0x202   /* "HdrS" */
#define HDR_VERSION         0x206
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS      0x236
#define HDR_CMDLINE_SIZE    0x238
#define HDR_PREF_ADDRESS    0x258
#define HDR_INIT_SIZE       0x260
#define HDR_END             0x268
#define ENTRY_64_OFFSET     0x200   /* startup_64 is 0x200 bytes into the protected-mode part */

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int bzimage_parse(const uint8_t *image, size_t size, struct bzimage *bz, const char **why)
{
	if (size < HDR_END || le(image + HDR_BOOT_FLAG, 2) != 0xaa55 ||
	    memcmp(image + HDR_HEADER, "HdrS", 4) != 0) {
		*why = "not a bzImage (no boot sector signature or \"HdrS\" setup header)";
		return -ENOEXEC;
	}
	memset(bz, 0, sizeof(*bz));
	bz->version = le(image + HDR_VERSION, 2);
	if (bz->version < 0x020c) {
		*why = "boot protocol older than 2.12 (no 64-bit entry point)";
		return -ENOTSUP;
	}
	if (!(le(image + HDR_XLOADFLAGS, 2) & XLF_KERNEL_64)) {
		*why = "the kernel has no 64-bit entry point (XLF_KERNEL_64)";
		return -ENOTSUP;
	}
	unsigned setup_sects = image[HDR_SETUP_SECTS];
	if (setup_sects == 0)   /* the historical default */
		setup_sects = 4;
	bz->setup_bytes = (setup_sects + 1) * 512;
	if (bz->setup_bytes >= size) {
		*why = "truncated bzImage (no protected-mode kernel after the setup code)";
		return -ENOEXEC;
	}
	bz->kernel_bytes = size - bz->setup_bytes;
	bz->initrd_addr_max = le(image + HDR_INITRD_ADDR_MAX, 4);
	bz->cmdline_size = le(image + HDR_CMDLINE_SIZE, 4);
	bz->pref_address = le(image + HDR_PREF_ADDRESS, 8);
	bz->init_size = le(image + HDR_INIT_SIZE, 4);
	return 0;
}

unsigned e820_build(struct boot_e820_entry *table, unsigned max, uint64_t ram_size)
{
	const struct boot_e820_entry map[] = {
		{ 0, BIOS_AREA_START, E820_TYPE_RAM },
		{ BIOS_AREA_START, HIGH_MEMORY_START - BIOS_AREA_START, E820_TYPE_RESERVED },
		{ HIGH_MEMORY_START, ram_size - HIGH_MEMORY_START, E820_TYPE_RAM },
	};
	unsigned n = 0;
	for (unsigned i = 0; i < 3 && n < max; i++)
		if (map[i].size && map[i].addr < ram_size)
			table[n++] = map[i];
	return n;
}

/*
 * The kernel decompresses itself at max(pref_address, its load address) and needs init_size
 * bytes there; the initrd must not overlap that.
 */
static uint64_t kernel_end(const struct bzimage *bz)
{
	uint64_t run_at = bz->pref_address > KERNEL_LOAD_GPA ? bz->pref_address : KERNEL_LOAD_GPA;
	return run_at + bz->init_size;
}

uint64_t initrd_address(const struct bzimage *bz, uint64_t ram_size, uint64_t initrd_size)
{
	uint64_t limit = ram_size;
	if (bz->initrd_addr_max && (uint64_t)bz->initrd_addr_max + 1 < limit)
		limit = (uint64_t)bz->initrd_addr_max + 1;
	if (initrd_size > limit)
		return 0;
	uint64_t addr = (limit - initrd_size) & ~(PAGE_SIZE - 1);
	return addr >= kernel_end(bz) ? addr : 0;
}

/*
 * Map a whole file read-only. mmap rather than malloc + read: once unmapped, the 14 MiB of
 * a kernel image leave no trace in the VMM's memory use (make bench measures it).
 */
static uint8_t *map_file(const char *path, size_t *size, int *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		*err = fd < 0 ? -errno : -EINVAL;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	void *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	*err = p == MAP_FAILED ? -errno : 0;
	close(fd);
	*size = st.st_size;
	return p == MAP_FAILED ? NULL : p;
}

/* Where the initrd goes in ram_size bytes of RAM, or 0 with the reason in why. */
static uint64_t place_initrd(const char *path, const struct bzimage *bz, uint64_t ram_size,
			     uint64_t *size, char *why, size_t why_len)
{
	struct stat st;
	int failed = stat(path, &st) < 0 ? errno : 0;
	if (failed || !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "%s: cannot open initrd: %s", path,
			 failed ? strerror(failed) : "not a regular file");
		return 0;
	}
	*size = st.st_size;
	if ((uint64_t)st.st_size >= ram_size) {
		snprintf(why, why_len,
			 "%s: initrd (%lld bytes) is larger than guest RAM (%llu MiB)", path,
			 (long long)st.st_size, (unsigned long long)(ram_size >> 20));
		return 0;
	}
	uint64_t addr = initrd_address(bz, ram_size, st.st_size);
	if (!addr)
		snprintf(why, why_len, "%s: initrd (%lld bytes) does not fit in guest RAM beside "
			 "the kernel (%llu MiB of RAM)", path, (long long)st.st_size,
			 (unsigned long long)(ram_size >> 20));
	return addr;
}

/* Map and check the kernel; on success the caller unmaps *image. */
static int read_kernel(const struct linux_boot *boot, uint64_t ram_size, uint8_t **image,
		       size_t *size, struct bzimage *bz, char *why, size_t why_len)
{
	const char *reason;
	int err = 0;

	*image = map_file(boot->kernel_path, size, &err);
	if (!*image) {
		snprintf(why, why_len, "%s: cannot read kernel: %s", boot->kernel_path,
			 err == -EINVAL ? "not a regular, non-empty file" : strerror(-err));
		return err;
	}
	err = bzimage_parse(*image, *size, bz, &reason);
	if (err)
		snprintf(why, why_len, "%s: %s", boot->kernel_path, reason);
	else if (kernel_end(bz) > ram_size || bz->kernel_bytes > ram_size - KERNEL_LOAD_GPA)
		err = -EFBIG;
	if (err == -EFBIG)
		snprintf(why, why_len, "%s: the kernel needs more than %llu MiB of RAM to start",
			 boot->kernel_path, (unsigned long long)(ram_size >> 20));
	if (err) {
		munmap(*image, *size);
		*image = NULL;
	}
	return err;
}

int linux_open(const struct linux_boot *boot, uint64_t ram_size, struct linux_image *img,
	       char *why, size_t why_len)
{
	struct bzimage *bz = &img->bz;
	uint8_t *image;
	uint64_t initrd_size;
	int err = 0;

	img->image = NULL;
	err = read_kernel(boot, ram_size, &image, &img->size, bz, why, why_len);
	if (err)
		return err;
	if (boot->initrd_path && !place_initrd(boot->initrd_path, bz, ram_size, &initrd_size,
					       why, why_len)) {
		err = -EFBIG;
	} else if (strlen(boot->cmdline) > bz->cmdline_size ||
		   strlen(boot->cmdline) >= BOOT_CMDLINE_MAX) {
		snprintf(why, why_len,
			 "kernel command line too long (%zu bytes, the kernel takes %u)",
			 strlen(boot->cmdline), bz->cmdline_size);
		err = -E2BIG;
	}
	if (err)
		munmap(image, img->size);
	else
		img->image = image;
	return err;
}

void linux_image_release(struct linux_image *img)
{
	if (img->image)
		munmap((void *)img->image, img->size);
	img->image = NULL;
}

int linux_check(const struct linux_boot *boot, uint64_t ram_size, char *why, size_t why_len)
{
	struct linux_image img;
	int err = linux_open(boot, ram_size, &img, why, why_len);
	linux_image_release(&img);
	return err;
}

int linux_load(struct vm *vm, const struct linux_boot *boot, char *why, size_t why_len)
{
	struct bzimage bz;
	uint8_t *image;
	size_t size;

	int err = read_kernel(boot, vm->mem.size, &image, &size, &bz, why, why_len);
	if (err)
		return err;

	/* The protected-mode kernel goes to 1 MiB; the real-mode setup code is not needed. */
	uint8_t *dst = gpa_to_hva(&vm->mem, KERNEL_LOAD_GPA, bz.kernel_bytes);
	struct boot_params *bp = gpa_to_hva(&vm->mem, BOOT_PARAMS_GPA, sizeof(*bp));
	char *cmdline = gpa_to_hva(&vm->mem, BOOT_CMDLINE_GPA, BOOT_CMDLINE_MAX);
	size_t len = strlen(boot->cmdline);
	if (!dst || !bp || !cmdline || len >= BOOT_CMDLINE_MAX) {
		snprintf(why, why_len, "%s: does not fit in guest RAM", boot->kernel_path);
		err = -EFBIG;
		goto out;
	}
	memcpy(dst, image + bz.setup_bytes, bz.kernel_bytes);

	/* The zero page starts as a copy of the setup header, then we fill in our part. */
	memset(bp, 0, sizeof(*bp));
	memcpy(&bp->hdr, image + HDR_SETUP_SECTS, HDR_END - HDR_SETUP_SECTS);
	bp->hdr.type_of_loader = 0xff;         /* "undefined" boot loader */
	bp->hdr.loadflags |= LOADED_HIGH;
	bp->hdr.code32_start = KERNEL_LOAD_GPA;
	memcpy(cmdline, boot->cmdline, len + 1);
	bp->hdr.cmd_line_ptr = BOOT_CMDLINE_GPA;

	if (boot->initrd_path) {
		uint64_t initrd_size;
		uint64_t addr = place_initrd(boot->initrd_path, &bz, vm->mem.size, &initrd_size,
					     why, why_len);
		long n = addr ? guest_memory_load_file(&vm->mem, addr, boot->initrd_path) : -EFBIG;
		if (n < 0) {
			if (addr)
				snprintf(why, why_len, "%s: cannot load initrd: %s",
					 boot->initrd_path, strerror((int)-n));
			err = n;
			goto out;
		}
		bp->hdr.ramdisk_image = addr;
		bp->hdr.ramdisk_size = n;
	}
	bp->e820_entries = e820_build(bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE, vm->mem.size);
	if (bz.version >= 0x020e)   /* protocol 2.14 added a field for the ACPI root pointer */
		bp->acpi_rsdp_addr = boot->rsdp_gpa;
out:
	munmap(image, size);
	return err;
}

int linux_setup_boot_cpu(struct vcpu *vcpu)
{
	const struct guest_memory *mem = &vcpu->vm->mem;
	struct kvm_sregs sregs;
	uint64_t cr3;

	/* Identity-map 4 GiB: the kernel, the zero page, the initrd at the top of RAM. */
	int err = build_long_mode_tables(mem, BOOT_PAGE_POOL_GPA, BOOT_PAGE_POOL_END, 4 * SIZE_1G,
					 &cr3);
	if (err)
		return err;

	/* boot.rst, 64-bit protocol: __BOOT_CS (0x10) is 64-bit code, __BOOT_DS (0x18) data. */
	struct kvm_segment code = flat_code_segment(MODE_LONG);
	struct kvm_segment data = flat_data_segment();
	code.selector = BOOT_CS;
	data.selector = BOOT_DS;
	uint64_t *gdt = gpa_to_hva(mem, BOOT_GDT_GPA, 4 * sizeof(uint64_t));
	if (!gdt)
		return -EFAULT;
	gdt[0] = gdt[1] = 0;
	gdt[2] = gdt_encode(&code);
	gdt[3] = gdt_encode(&data);

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.gdt.base = BOOT_GDT_GPA;
	sregs.gdt.limit = 4 * sizeof(uint64_t) - 1;
	sregs.cr0 = CR0_PE | CR0_PG | 0x10 /* ET */;
	sregs.cr3 = cr3;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	struct kvm_regs regs = {
		.rip = KERNEL_LOAD_GPA + ENTRY_64_OFFSET,
		.rsi = BOOT_PARAMS_GPA,   /* the zero page */
		.rsp = BOOT_STACK_TOP,
		.rflags = 2,              /* bit 1 is always set; interrupts off */
	};
	return ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}
