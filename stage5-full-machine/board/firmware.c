/*
 * firmware.c - the fw_cfg items SeaBIOS reads on a `pc` machine. See firmware.h.
 *
 * References: QEMU docs/specs/fw_cfg.rst (items), SeaBIOS src/fw/paravirt.c (what it reads),
 * src/fw/romfile_loader.c (the table loader), src/boot.c (bootorder, boot-fail-wait), the kernel's Documentation/arch/x86/boot.rst
 * (the setup header a boot loader fills in: section "Details of header fields").
 */
#include "firmware.h"
#include "hpet.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acpi.h"
#include "boot.h"
#include "irq.h"
#include "multiboot.h"
#include "pc_memory.h"
#include "pci.h"
#include "smbios.h"

/* Direct kernel boot layout, as QEMU uses it for protocol >= 2.02. */
#define SETUP_GPA    0x10000     /* real-mode setup code, its heap and stack: 64 KiB */
#define CMDLINE_GPA  0x20000     /* just past it: the stack ends 16 bytes below */
#define ACPI_RESERVE 0x20000     /* room SeaBIOS wants at the top of RAM for its tables */
#define LOADER_TYPE_QEMU 0xb0    /* "boot loader ID" 0xb, as QEMU (boot.rst: type_of_loader) */

/* ---- the memory map ------------------------------------------------------------------ */

/*
 * SeaBIOS (src/fw/paravirt.c) and OVMF read this: RAM below the PCI hole, RAM above 4 GiB
 * (from it SeaBIOS learns RamSizeOver4G, where its 64-bit PCI window starts), KVM's helpers.
 */
unsigned firmware_e820(bool q35, uint64_t ram_size, struct fw_e820 map[FIRMWARE_E820_MAX])
{
	struct pc_ram_split split;
	unsigned n = 0;
	pc_ram_split(q35, ram_size, &split);
	map[n++] = (struct fw_e820){ 0, split.below_4g, E820_TYPE_RAM };  /* SeaBIOS reserves */
	if (split.above_4g)                                                /* its low areas */
		map[n++] = (struct fw_e820){ PC_4G, split.above_4g, E820_TYPE_RAM };
	map[n++] = (struct fw_e820){ VMX_IDENTITY_MAP_GPA, VMX_HELPERS_SIZE, E820_TYPE_RESERVED };
	return n;
}

static int add_e820(struct fw_cfg *f, bool q35, uint64_t ram_size)
{
	struct fw_e820 map[FIRMWARE_E820_MAX];
	unsigned n = firmware_e820(q35, ram_size, map);
	return fw_cfg_add_file(f, "etc/e820", map, n * sizeof(map[0]));
}

/* ---- Linux: what a boot loader does with a bzImage ----------------------------------- */

/* The kernel and its initrd go below the PCI hole: the setup code's fields are 32-bit. */
static uint64_t ram_below_4g(const struct firmware_config *cfg)
{
	struct pc_ram_split split;
	pc_ram_split(cfg->q35 || cfg->ecam_base, cfg->ram_size, &split);
	return split.below_4g;
}

static int read_file(const char *path, uint8_t **data, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	*size = st.st_size;
	*data = malloc(*size ? *size : 1);
	int err = !*data ? -ENOMEM : read(fd, *data, *size) != (ssize_t)*size ? -EIO : 0;
	close(fd);
	return err;
}

/* Fill in the setup header fields a boot loader owns (boot.rst, "loader" fields). */
static void fill_setup_header(uint8_t *setup, uint32_t cmdline_gpa, uint32_t initrd_gpa,
			      uint32_t initrd_size)
{
	struct setup_header *h = (struct setup_header *)(setup + 0x1f1);
	h->vid_mode = 0xffff;                    /* "normal": no video mode prompt */
	h->type_of_loader = LOADER_TYPE_QEMU;
	h->loadflags |= CAN_USE_HEAP;
	h->heap_end_ptr = cmdline_gpa - SETUP_GPA - 0x200;
	h->cmd_line_ptr = cmdline_gpa;
	h->ramdisk_image = initrd_gpa;
	h->ramdisk_size = initrd_size;
}

static int add_initrd(struct fw_cfg *f, const struct firmware_config *cfg,
		      const struct bzimage *bz, uint32_t *gpa, uint32_t *size)
{
	uint8_t *data = NULL;
	size_t len = 0;
	*gpa = *size = 0;
	if (!cfg->initrd)
		return 0;
	int err = read_file(cfg->initrd, &data, &len);
	if (!err) {
		/* Highest page below both RAM (less SeaBIOS's tables) and the kernel's limit. The
		 * option ROM may move it lower still, by what INT 15h E801h reports. */
		uint64_t top = ram_below_4g(cfg) - ACPI_RESERVE;
		if (top > (uint64_t)bz->initrd_addr_max + 1)
			top = (uint64_t)bz->initrd_addr_max + 1;
		*gpa = (top - len) & ~0xfffull;
		*size = len;
		err = fw_cfg_add(f, FW_CFG_INITRD_DATA, data, len);
	}
	free(data);
	if (!err)
		err = fw_cfg_add_u32(f, FW_CFG_INITRD_ADDR, *gpa);
	return err ? err : fw_cfg_add_u32(f, FW_CFG_INITRD_SIZE, *size);
}

static int add_linux(struct fw_cfg *f, const struct firmware_config *cfg, char *why,
		     size_t why_len)
{
	struct linux_boot boot = { cfg->kernel, cfg->initrd, cfg->cmdline, 0 };
	struct linux_image img;
	int err = linux_open(&boot, ram_below_4g(cfg), &img, why, why_len);   /* stage 4's */
	if (err)
		return err;
	err = fw_cfg_add_host_file(f, "genroms/linuxboot_dma.bin", cfg->linuxboot_rom);
	if (err) {
		snprintf(why, why_len, "%s: cannot read the Linux boot option ROM: %s",
			 cfg->linuxboot_rom, strerror(-err));
		linux_image_release(&img);
		return err;
	}

	/* The setup part gets the loader's fields; the image itself stays read-only. */
	const struct bzimage *bz = &img.bz;
	uint8_t *setup = malloc(bz->setup_bytes);
	uint32_t initrd_gpa, initrd_size, cmdline_len = strlen(cfg->cmdline) + 1;
	err = setup ? add_initrd(f, cfg, bz, &initrd_gpa, &initrd_size) : -ENOMEM;
	if (!err) {
		memcpy(setup, img.image, bz->setup_bytes);
		fill_setup_header(setup, CMDLINE_GPA, initrd_gpa, initrd_size);
		err = fw_cfg_add_u32(f, FW_CFG_SETUP_ADDR, SETUP_GPA) ||
		      fw_cfg_add_u32(f, FW_CFG_SETUP_SIZE, bz->setup_bytes) ||
		      fw_cfg_add(f, FW_CFG_SETUP_DATA, setup, bz->setup_bytes) ||
		      fw_cfg_add_u32(f, FW_CFG_KERNEL_ADDR, HIGH_MEMORY_START) ||
		      fw_cfg_add_u32(f, FW_CFG_KERNEL_SIZE, bz->kernel_bytes) ||
		      fw_cfg_add(f, FW_CFG_KERNEL_DATA, img.image + bz->setup_bytes,
				 bz->kernel_bytes) ||
		      fw_cfg_add_u32(f, FW_CFG_CMDLINE_ADDR, CMDLINE_GPA) ||
		      fw_cfg_add_u32(f, FW_CFG_CMDLINE_SIZE, cmdline_len) ||
		      fw_cfg_add(f, FW_CFG_CMDLINE_DATA, cfg->cmdline, cmdline_len) ? -ENOMEM : 0;
	}
	free(setup);
	linux_image_release(&img);
	if (err)
		snprintf(why, why_len, "%s: cannot prepare direct kernel boot: %s", cfg->kernel,
			 strerror(-err));
	return err;
}

/* ---- ACPI through the table loader ------------------------------------------------- */

static uint8_t *loader_entry(struct acpi_loader *l, uint32_t command)
{
	if (l->count == LOADER_MAX_ENTRIES)
		return NULL;
	uint8_t *e = l->commands + l->count++ * LOADER_ENTRY_SIZE;
	memset(e, 0, LOADER_ENTRY_SIZE);
	memcpy(e, &command, 4);   /* little-endian, like the rest of the entry */
	return e;
}

int loader_allocate(struct acpi_loader *l, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *e = loader_entry(l, LOADER_ALLOCATE);
	if (!e)
		return -ENOSPC;
	strncpy((char *)e + 4, file, FW_CFG_NAME_LEN - 1);
	memcpy(e + 4 + FW_CFG_NAME_LEN, &align, 4);
	e[8 + FW_CFG_NAME_LEN] = zone;
	return 0;
}

int loader_add_pointer(struct acpi_loader *l, const char *dest, const char *src,
		       uint32_t offset, uint8_t size)
{
	uint8_t *e = loader_entry(l, LOADER_ADD_POINTER);
	if (!e)
		return -ENOSPC;
	strncpy((char *)e + 4, dest, FW_CFG_NAME_LEN - 1);
	strncpy((char *)e + 4 + FW_CFG_NAME_LEN, src, FW_CFG_NAME_LEN - 1);
	memcpy(e + 4 + 2 * FW_CFG_NAME_LEN, &offset, 4);
	e[8 + 2 * FW_CFG_NAME_LEN] = size;
	return 0;
}

int loader_add_checksum(struct acpi_loader *l, const char *file, uint32_t offset,
			uint32_t start, uint32_t length)
{
	uint8_t *e = loader_entry(l, LOADER_ADD_CHECKSUM);
	if (!e)
		return -ENOSPC;
	strncpy((char *)e + 4, file, FW_CFG_NAME_LEN - 1);
	uint32_t v[3] = { offset, start, length };
	memcpy(e + 4 + FW_CFG_NAME_LEN, v, sizeof(v));
	return 0;
}

#define TABLES "etc/acpi/tables"
#define RSDP   "etc/acpi/rsdp"

/* Room for stage 4's tables and ours: a few hundred bytes each. */
#define ACPI_BUF_SIZE 8192

/* MCFG (PCI Firmware Specification 3.0, 4.1.2): where ECAM is, for buses 0-255. */
static void mcfg_body(uint8_t body[24], uint64_t ecam)
{
	memset(body, 0, 24);          /* 8 bytes reserved, then one allocation: */
	memcpy(body + 8, &ecam, 8);   /* base; segment 0 */
	body[8 + 11] = 255;           /* start bus 0, end bus 255 */
}

/*
 * In the AML, Name (RAMT, 0x12345678) is NameOp, the name, DWordPrefix, the value: the four
 * bytes to replace. RAMT: where RAM ends below 4 GiB (pc_memory.h's split); P64G: the 64-bit
 * PCI window's start in GiB.
 */
#define AML_DWORD_PREFIX 0x0c
#define RAMT_PLACEHOLDER 0x12345678u
#define P64G_PLACEHOLDER 0x12345679u

static const uint8_t *find_bytes(const uint8_t *hay, uint32_t n, const uint8_t *needle,
				 uint32_t len)
{
	for (uint32_t i = 0; i + len <= n; i++)
		if (!memcmp(hay + i, needle, len))
			return hay + i;
	return NULL;
}

/* Replace the DWord after Name (NAME, placeholder) in copy. 0 or -ENOENT. */
static int patch_name(uint8_t *copy, uint32_t n, const char name[4], uint32_t placeholder,
		      uint32_t value)
{
	const uint8_t pattern[] = { name[0], name[1], name[2], name[3], AML_DWORD_PREFIX };
	uint8_t *at = (uint8_t *)find_bytes(copy, n, pattern, sizeof(pattern));
	uint32_t old;
	if (!at || at + sizeof(pattern) + 4 > copy + n ||
	    (memcpy(&old, at + sizeof(pattern), 4), old != placeholder))
		return -ENOENT;
	memcpy(at + sizeof(pattern), &value, 4);
	return 0;
}

int firmware_dsdt(bool q35, uint64_t ram_size, uint8_t **dsdt, uint32_t *len)
{
	const uint8_t *aml = q35 ? dsdt_q35_aml_code : dsdt_pc_aml_code;
	uint32_t n = q35 ? dsdt_q35_aml_len : dsdt_pc_aml_len;
	uint8_t *copy = malloc(n);
	struct pc_ram_split split;
	pc_ram_split(q35, ram_size, &split);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, aml, n);
	if (patch_name(copy, n, "RAMT", RAMT_PLACEHOLDER, split.below_4g) ||
	    patch_name(copy, n, "P64G", P64G_PLACEHOLDER, split.pci64_base >> 30)) {
		free(copy);
		return -ENOENT;
	}
	copy[9] = 0;                             /* the header's checksum byte */
	copy[9] = -acpi_checksum(copy, n);
	*dsdt = copy;
	*len = n;
	return 0;
}

/*
 * Stage 4 builds the tables as if at address 0, so each pointer between them holds an offset
 * into etc/acpi/tables; the loader adds the file's final address to each and then fixes
 * the checksums. The RSDP goes in a file of its own, in the F segment where the OS scans.
 */
static int add_acpi(struct fw_cfg *f, const struct firmware_config *cfg, bool q35)
{
	struct acpi_extra_table extra[2] = { { "HPET", 1, NULL, HPET_ACPI_BODY_LEN },
					     { "MCFG", 1, NULL, 24 } };   /* MCFG: q35 only */
	uint8_t hpet[HPET_ACPI_BODY_LEN];
	struct acpi_loader l = { .count = 0 };
	struct acpi_layout layout;
	uint8_t body[24], rsdp[36], *dsdt = NULL;
	uint8_t *t = malloc(ACPI_BUF_SIZE);
	uint32_t dsdt_len;
	uint64_t ecam = cfg->ecam_base;

	mcfg_body(body, ecam);
	hpet_acpi_body(hpet);
	extra[0].body = hpet;
	extra[1].body = body;
	if (!t || firmware_dsdt(q35, cfg->ram_size, &dsdt, &dsdt_len) ||
	    acpi_build_with_dsdt(t, ACPI_BUF_SIZE, 0, cfg->ncpus, dsdt, dsdt_len, extra,
				 ecam ? 2 : 1, &layout)) {
		free(dsdt);
		free(t);
		return -ENOMEM;
	}
	free(dsdt);
	/* This PC has a keyboard controller (input/i8042.h): stage 4's FADT says it has none. It
	 * delivers MSIs as stage 4's does (virtio's MSI-X, passed-through functions: vfio/vfio.h);
	 * clearing "no MSI" says so even if stage 4's FADT changes. */
	acpi_set_boot_arch(t, &layout, ACPI_BOOT_ARCH_8042, ACPI_BOOT_ARCH_NO_MSI);
	/* Its reset register: 0x06 to the PIIX3/ICH9 reset control register at 0xcf9. */
	acpi_set_reset_reg(t, &layout, 0xcf9, 0x06);
	/* The loader computes each checksum, and OVMF takes the field as 0 on input (it stores the
	 * range's checksum; SeaBIOS subtracts the range's sum, which works either way): zero them,
	 * as QEMU does, or OVMF sees bad checksums and installs none of the tables. */
	for (unsigned i = 0; i < layout.ntables; i++)
		t[layout.tables[i].at + 9] = 0;
	memcpy(rsdp, t + layout.rsdp, sizeof(rsdp));
	rsdp[8] = rsdp[32] = 0;
	loader_allocate(&l, RSDP, 16, LOADER_ZONE_FSEG);
	loader_allocate(&l, TABLES, 64, LOADER_ZONE_HIGH);
	for (unsigned i = 0; i < layout.npointers; i++)
		loader_add_pointer(&l, TABLES, TABLES, layout.pointers[i].at,
				   layout.pointers[i].size);
	for (unsigned i = 0; i < layout.ntables; i++)
		loader_add_checksum(&l, TABLES, layout.tables[i].at + 9, layout.tables[i].at,
				    layout.tables[i].len);
	loader_add_pointer(&l, RSDP, TABLES, 24, 8);
	loader_add_checksum(&l, RSDP, 8, 0, 20);    /* ACPI 1.0 part first: the extended */
	loader_add_checksum(&l, RSDP, 32, 0, 36);   /* checksum covers the first one */
	int err = fw_cfg_add_file(f, TABLES, t, layout.size) ||
			  fw_cfg_add_file(f, RSDP, rsdp, sizeof(rsdp)) ||
			  fw_cfg_add_file(f, "etc/table-loader", l.commands,
					  l.count * LOADER_ENTRY_SIZE) ? -ENOMEM : 0;
	free(t);
	return err;
}

/* ---- SMBIOS and the boot order ---------------------------------------------------- */

static int random_uuid(uint8_t uuid[16])
{
	if (getrandom(uuid, 16, 0) != 16)
		return -EIO;
	uuid[7] = (uuid[7] & 0x0f) | 0x40;   /* version 4 (random), in SMBIOS byte order */
	uuid[8] = (uuid[8] & 0x3f) | 0x80;   /* the RFC 4122 variant */
	return 0;
}

static int add_smbios(struct fw_cfg *f, const struct firmware_config *cfg, bool q35,
		      char *why, size_t why_len)
{
	struct smbios_config sc = {
		q35 ? "Standard PC (Q35 + ICH9, 2009)" : "Standard PC (i440FX + PIIX, 1996)",
		{ 0 }, cfg->ncpus, cfg->ram_size, cfg->ram_size - ram_below_4g(cfg),
	};
	uint8_t anchor[SMBIOS_ANCHOR_SIZE];
	uint32_t size = smbios_tables_max(cfg->ncpus), len;
	int err = cfg->uuid ? smbios_parse_uuid(cfg->uuid, sc.uuid) : random_uuid(sc.uuid);
	if (err && cfg->uuid) {
		snprintf(why, why_len, "smbios: bad UUID '%s': expected "
			 "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", cfg->uuid);
		return err;
	} else if (err) {
		snprintf(why, why_len, "smbios: cannot get random bytes for a UUID");
		return err;
	}
	uint8_t *tables = malloc(size);
	err = !tables ? -ENOMEM : smbios_build(&sc, anchor, tables, size, &len);
	if (!err)
		err = fw_cfg_add_file(f, "etc/smbios/smbios-tables", tables, len) ||
		      fw_cfg_add_file(f, "etc/smbios/smbios-anchor", anchor, sizeof(anchor)) ?
		      -ENOMEM : 0;
	free(tables);
	if (err)
		snprintf(why, why_len, "smbios: cannot build the tables for %u CPUs: %s",
			 cfg->ncpus, strerror(-err));
	return err;
}

/* SeaBIOS reads the file as text up to its first NUL: the NUL goes in, as QEMU's does. */
static int add_bootorder(struct fw_cfg *f, const char *bootorder)
{
	return bootorder ? fw_cfg_add_file(f, "bootorder", bootorder, strlen(bootorder) + 1) : 0;
}

int firmware_setup(struct fw_cfg *f, const struct firmware_config *cfg, char *why,
		   size_t why_len)
{
	bool q35 = cfg->q35 || cfg->ecam_base;   /* only q35 has ECAM (and an MCFG) */
	uint8_t ram[8];
	for (int i = 0; i < 8; i++)
		ram[i] = cfg->ram_size >> (8 * i);
	int err = fw_cfg_add_u16(f, FW_CFG_NOGRAPHIC, 1) ||
		  fw_cfg_add_u16(f, FW_CFG_NB_CPUS, cfg->ncpus) ||
		  fw_cfg_add_u16(f, FW_CFG_MAX_CPUS, cfg->ncpus) ||
		  fw_cfg_add(f, FW_CFG_RAM_SIZE, ram, sizeof(ram)) ||
		  fw_cfg_add_u16(f, FW_CFG_BOOT_MENU, 0) || add_e820(f, q35, cfg->ram_size) ||
		  fw_cfg_add_file(f, "etc/boot-fail-wait", &cfg->boot_fail_wait_ms, 4) ||
		  add_bootorder(f, cfg->bootorder) ||
		  add_acpi(f, cfg, q35) ? -ENOMEM : 0;
	if (err) {
		snprintf(why, why_len, "fw_cfg: cannot build the firmware items");
		return err;
	}
	err = add_smbios(f, cfg, q35, why, why_len);
	if (err)
		return err;
	if (cfg->kernel && multiboot_is_kernel(cfg->kernel))
		return multiboot_setup(f, cfg->kernel, cfg->initrd, cfg->cmdline, ram_below_4g(cfg),
				       why, why_len);
	return cfg->kernel ? add_linux(f, cfg, why, why_len) : 0;
}
