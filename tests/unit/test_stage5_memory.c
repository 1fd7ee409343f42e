/*
 * test_stage5_memory.c - unit tests of RAM above 4 GiB and of Multiboot: the split of RAM
 * around the PCI hole on both machines (QEMU's rule), the e820 map and the DSDT values built
 * from it, guest-address translation with two RAM ranges (what every device's DMA goes
 * through), and the Multiboot loader's header search, ELF layout, module list and information
 * structure. No KVM: guest RAM is fake (a small allocation shown at 0 and at 4 GiB).
 */
#define _GNU_SOURCE   /* memmem */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acpi.h"
#include "board/firmware.h"
#include "board/fw_cfg.h"
#include "board/multiboot.h"
#include "board/pc_memory.h"
#include "boot.h"
#include "guest_memory.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* ---- the split ---------------------------------------------------------------------- */

struct split_case {
	bool q35;
	uint64_t ram, below, above;
};

static void test_split_sizes(void **state)
{
	(void)state;
	static const struct split_case cases[] = {
		/* pc: everything below until 3.5 GiB; from there on 3 GiB below. */
		{ false, 16 * MIB, 16 * MIB, 0 },
		{ false, 2 * GIB, 2 * GIB, 0 },
		{ false, 3 * GIB, 3 * GIB, 0 },
		{ false, 3584 * MIB - 4096, 3584 * MIB - 4096, 0 },
		{ false, 3584 * MIB, 3 * GIB, 512 * MIB },
		{ false, 4 * GIB, 3 * GIB, 1 * GIB },
		{ false, 5 * GIB, 3 * GIB, 2 * GIB },
		{ false, 64 * GIB, 3 * GIB, 61 * GIB },
		/* q35: everything below until 2.75 GiB (the ECAM at 0xb0000000); then 2 GiB. */
		{ true, 512 * MIB, 512 * MIB, 0 },
		{ true, 2 * GIB, 2 * GIB, 0 },
		{ true, 2816 * MIB - 4096, 2816 * MIB - 4096, 0 },
		{ true, 2816 * MIB, 2 * GIB, 768 * MIB },
		{ true, 3 * GIB, 2 * GIB, 1 * GIB },
		{ true, 4 * GIB, 2 * GIB, 2 * GIB },
		{ true, 5 * GIB, 2 * GIB, 3 * GIB },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pc_ram_split s;
		pc_ram_split(cases[i].q35, cases[i].ram, &s);
		assert_int_equal(s.below_4g, cases[i].below);
		assert_int_equal(s.above_4g, cases[i].above);
		assert_int_equal(s.below_4g + s.above_4g, cases[i].ram);
		/* The 64-bit window: past all RAM, on a 1 GiB boundary, at 4 GiB at the least. */
		assert_true(s.pci64_base >= PC_4G + s.above_4g);
		assert_int_equal(s.pci64_base % GIB, 0);
		assert_true(s.pci64_base - (PC_4G + s.above_4g) < GIB);
		/* Never into q35's ECAM or the pc's 32-bit PCI window at 3.5 GiB. */
		assert_true(s.below_4g <= (cases[i].q35 ? 0xb0000000ull : 0xe0000000ull));
	}
}

/* etc/e820: RAM below the hole, RAM from 4 GiB (only when there is some), KVM's helpers. */
static void test_e820(void **state)
{
	(void)state;
	struct fw_e820 map[FIRMWARE_E820_MAX];
	unsigned n = firmware_e820(false, 1 * GIB, map);
	assert_int_equal(n, 2);
	assert_int_equal(map[0].address, 0);
	assert_int_equal(map[0].length, 1 * GIB);
	assert_int_equal(map[0].type, E820_TYPE_RAM);
	assert_int_equal(map[1].type, E820_TYPE_RESERVED);

	n = firmware_e820(false, 5 * GIB, map);
	assert_int_equal(n, 3);
	assert_int_equal(map[0].length, 3 * GIB);
	assert_int_equal(map[1].address, 4 * GIB);
	assert_int_equal(map[1].length, 2 * GIB);
	assert_int_equal(map[1].type, E820_TYPE_RAM);

	n = firmware_e820(true, 4 * GIB, map);
	assert_int_equal(n, 3);
	assert_int_equal(map[0].length, 2 * GIB);
	assert_int_equal(map[1].address, 4 * GIB);
	assert_int_equal(map[1].length, 2 * GIB);
	/* No entry overlaps another. */
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++)
			assert_true(map[i].address + map[i].length <= map[j].address ||
				    map[j].address + map[j].length <= map[i].address);
}

/* The DSDT gets the end of RAM below 4 GiB and the 64-bit window's start (in GiB). */
static void test_dsdt_values(void **state)
{
	(void)state;
	static const struct { bool q35; uint64_t ram; uint32_t ramt, p64g; } cases[] = {
		{ false, 512 * MIB, 512 * MIB, 4 },
		{ false, 4 * GIB, 3 * GIB, 5 },
		{ false, 5 * GIB + 4096, 3 * GIB, 7 },
		{ true, 5 * GIB, 2 * GIB, 7 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *d;
		uint32_t len;
		assert_int_equal(firmware_dsdt(cases[i].q35, cases[i].ram, &d, &len), 0);
		const uint8_t *ramt = memmem(d, len, "RAMT\x0c", 5);
		const uint8_t *p64g = memmem(d, len, "P64G\x0c", 5);
		assert_non_null(ramt);
		assert_non_null(p64g);
		assert_int_equal(le32(ramt + 5), cases[i].ramt);
		assert_int_equal(le32(p64g + 5), cases[i].p64g);
		assert_int_equal(acpi_checksum(d, len), 0);
		free(d);
	}
}

/* ---- guest addresses with two RAM ranges -------------------------------------------- */

/* 3 MiB of RAM: 2 MiB at 0, 1 MiB at 4 GiB. */
static struct guest_memory split_ram(void)
{
	struct guest_memory m = { calloc(1, 3 * MIB), 3 * MIB, 0, NULL };
	guest_memory_split(&m, 1 * MIB);
	return m;
}

static void test_gpa_two_ranges(void **state)
{
	(void)state;
	struct guest_memory m = split_ram();
	/* Below: as before. Above: the host bytes after the low part. */
	assert_ptr_equal(gpa_to_hva(&m, 0, 2 * MIB), m.host);
	assert_ptr_equal(gpa_to_hva(&m, 2 * MIB - 1, 1), m.host + 2 * MIB - 1);
	assert_ptr_equal(gpa_to_hva(&m, 4 * GIB, 1 * MIB), m.host + 2 * MIB);
	assert_ptr_equal(gpa_to_hva(&m, 4 * GIB + MIB - 8, 8), m.host + 3 * MIB - 8);
	/* The hole, a range that runs into it or across it, past the top: refused. */
	assert_null(gpa_to_hva(&m, 2 * MIB, 1));
	assert_null(gpa_to_hva(&m, 2 * MIB - 4, 8));
	assert_null(gpa_to_hva(&m, 0xd0000000ull, 512));
	assert_null(gpa_to_hva(&m, 4 * GIB - 4, 8));
	assert_null(gpa_to_hva(&m, 0, 4 * GIB + 8));
	assert_null(gpa_to_hva(&m, 4 * GIB + MIB - 4, 8));
	assert_null(gpa_to_hva(&m, 4 * GIB + MIB, 1));
	/* Sums that would overflow. */
	assert_null(gpa_to_hva(&m, 4 * GIB, UINT64_MAX));
	assert_null(gpa_to_hva(&m, UINT64_MAX - 4, 8));
	assert_null(gpa_to_hva(&m, 8, UINT64_MAX - 4));
	/* Without a split: one range, as stages 1-4 have it. */
	guest_memory_split(&m, 0);
	assert_ptr_equal(gpa_to_hva(&m, 2 * MIB, MIB), m.host + 2 * MIB);
	assert_null(gpa_to_hva(&m, 4 * GIB, 1));
	free(m.host);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* fw_cfg DMA (a device that writes RAM) into the hole: the error bit, no byte written. */
static void test_fw_cfg_dma_hole(void **state)
{
	(void)state;
	struct guest_memory m = split_ram();
	struct fw_cfg f;
	fw_cfg_init(&f, &m);
	static const uint64_t targets[] = { 2 * MIB, 3 * GIB, 4 * GIB - 2, 4 * GIB + MIB - 2,
					    4 * GIB };
	static const uint32_t want[] = { FW_CFG_DMA_ERROR, FW_CFG_DMA_ERROR, FW_CFG_DMA_ERROR,
					 FW_CFG_DMA_ERROR, 0 };
	for (unsigned i = 0; i < 5; i++) {
		uint8_t *d = m.host + 0x1000;
		put_be32(d, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ);
		put_be32(d + 4, 4);
		put_be32(d + 8, targets[i] >> 32);
		put_be32(d + 12, (uint32_t)targets[i]);
		assert_int_equal(fw_cfg_dma(&f, 0x1000), 0);
		assert_int_equal(d[3] | d[2] << 8, want[i]);
	}
	/* The good one landed above 4 GiB: "QEMU" at the start of the high part. */
	assert_memory_equal(m.host + 2 * MIB, "QEMU", 4);
	/* A descriptor in the hole cannot even be read. */
	assert_int_equal(fw_cfg_dma(&f, 3 * GIB), -EFAULT);
	fw_cfg_free(&f);
	free(m.host);
}

/* ---- Multiboot -------------------------------------------------------------------------- */

/* A small ELF32 kernel in memory: one PT_LOAD of filesz bytes (memsz larger: bss) at paddr. */
struct fake_elf {
	Elf32_Ehdr eh;
	Elf32_Phdr ph;
	uint32_t header[3];
	uint8_t code[20];
};

static void make_elf(struct fake_elf *e, uint32_t paddr, uint32_t flags)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
	e->eh.e_ident[EI_CLASS] = ELFCLASS32;
	e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	e->eh.e_machine = EM_386;
	e->eh.e_phoff = offsetof(struct fake_elf, ph);
	e->eh.e_phentsize = sizeof(Elf32_Phdr);
	e->eh.e_phnum = 1;
	e->ph.p_type = PT_LOAD;
	e->ph.p_offset = offsetof(struct fake_elf, header);
	e->ph.p_paddr = paddr;
	e->ph.p_filesz = sizeof(e->header) + sizeof(e->code);
	e->ph.p_memsz = e->ph.p_filesz + 4096;
	e->eh.e_entry = paddr + sizeof(e->header);
	e->header[0] = MB_HEADER_MAGIC;
	e->header[1] = flags;
	e->header[2] = -(MB_HEADER_MAGIC + flags);
	memset(e->code, 0x90, sizeof(e->code));
}

static void test_mb_header(void **state)
{
	(void)state;
	struct fake_elf e;
	struct mb_header h;
	char why[200];
	make_elf(&e, 0x100000, 3);
	assert_int_equal(multiboot_find_header((uint8_t *)&e, sizeof(e), &h, why, sizeof(why)),
			 0);
	assert_int_equal(h.offset, offsetof(struct fake_elf, header));
	assert_int_equal(h.flags, 3);
	e.header[2]++;
	assert_int_equal(multiboot_find_header((uint8_t *)&e, sizeof(e), &h, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "bad checksum"));
	make_elf(&e, 0x100000, MB_FLAG_VIDEO_MODE);
	assert_int_equal(multiboot_find_header((uint8_t *)&e, sizeof(e), &h, why, sizeof(why)),
			 -EINVAL);
	make_elf(&e, 0x100000, 1u << 5);   /* an unknown required flag */
	assert_int_equal(multiboot_find_header((uint8_t *)&e, sizeof(e), &h, why, sizeof(why)),
			 -EINVAL);
	/* Past the first 8 KiB, or not on a 4-byte boundary: not found (not multiboot). */
	uint8_t *big = calloc(1, 16384);
	uint32_t hdr[3] = { MB_HEADER_MAGIC, 0, -MB_HEADER_MAGIC };
	memcpy(big + 8192, hdr, 12);
	memcpy(big + 4098, hdr, 12);
	assert_int_equal(multiboot_find_header(big, 16384, &h, why, sizeof(why)), -ENOENT);
	memcpy(big + 8180, hdr, 12);   /* the last place it may be */
	assert_int_equal(multiboot_find_header(big, 16384, &h, why, sizeof(why)), 0);
	free(big);
}

static void test_mb_elf(void **state)
{
	(void)state;
	struct fake_elf e;
	struct mb_kernel k;
	char why[200];
	make_elf(&e, 0x100000, 3);
	assert_int_equal(multiboot_load_elf((uint8_t *)&e, sizeof(e), 64 * MIB, &k, why,
					    sizeof(why)), 0);
	assert_int_equal(k.load_addr, 0x100000);
	assert_int_equal(k.load_end, 0x100000 + e.ph.p_memsz);
	assert_int_equal(k.entry, 0x10000c);
	assert_int_equal(le32(k.image), MB_HEADER_MAGIC);
	assert_int_equal(k.image[e.ph.p_filesz], 0);   /* bss: zero */
	free(k.image);

	struct { uint32_t paddr; const char *says; } bad[] = {
		{ 0x8000, "outside RAM" },          /* below 1 MiB */
		{ 0xd0000000, "outside RAM" },      /* in the PCI hole */
		{ 64 * MIB - 100, "outside RAM" },  /* runs past the top */
	};
	for (unsigned i = 0; i < 3; i++) {
		make_elf(&e, bad[i].paddr, 3);
		assert_int_equal(multiboot_load_elf((uint8_t *)&e, sizeof(e), 64 * MIB, &k, why,
						    sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, bad[i].says));
	}
	make_elf(&e, 0x100000, 3);
	e.ph.p_filesz = e.ph.p_memsz + 1;   /* more file than memory */
	assert_int_equal(multiboot_load_elf((uint8_t *)&e, sizeof(e), 64 * MIB, &k, why,
					    sizeof(why)), -EINVAL);
	make_elf(&e, 0x100000, 3);
	e.ph.p_offset = 0xfffffff0;         /* bytes past the file's end (no overflow) */
	assert_int_equal(multiboot_load_elf((uint8_t *)&e, sizeof(e), 64 * MIB, &k, why,
					    sizeof(why)), -EINVAL);
	make_elf(&e, 0x100000, 3);
	e.eh.e_entry = 0x50000;             /* an entry outside the image */
	assert_int_equal(multiboot_load_elf((uint8_t *)&e, sizeof(e), 64 * MIB, &k, why,
					    sizeof(why)), -EINVAL);
	make_elf(&e, 0x100000, 3);
	e.eh.e_machine = EM_X86_64;
	assert_int_equal(multiboot_load_elf((uint8_t *)&e, sizeof(e), 64 * MIB, &k, why,
					    sizeof(why)), -EINVAL);
	make_elf(&e, 0x100000, 3);
	e.eh.e_phnum = 1000;                /* program headers past the file's end */
	assert_int_equal(multiboot_load_elf((uint8_t *)&e, sizeof(e), 64 * MIB, &k, why,
					    sizeof(why)), -EINVAL);
	/* Not an ELF at all (an a.out-kludge kernel): refused with a reason. */
	assert_int_equal(multiboot_load_elf((uint8_t *)"\x02\xb0\xad\x1b", 4, 64 * MIB, &k, why,
					    sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "a.out"));
}

static void test_mb_modules(void **state)
{
	(void)state;
	char (*m)[256] = calloc(MB_MAX_MODULES + 2, 256);
	assert_int_equal(multiboot_split_modules("a.bin x=1,b.txt", m, MB_MAX_MODULES), 2);
	assert_string_equal(m[0], "a.bin x=1");
	assert_string_equal(m[1], "b.txt");
	assert_int_equal(multiboot_split_modules("one,,two,three", m, MB_MAX_MODULES), 2);
	assert_string_equal(m[0], "one,two");
	assert_string_equal(m[1], "three");
	assert_int_equal(multiboot_split_modules("", m, MB_MAX_MODULES), 0);
	assert_int_equal(multiboot_split_modules(NULL, m, MB_MAX_MODULES), 0);
	assert_int_equal(multiboot_split_modules("a,b,c", m, 2), -E2BIG);
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(multiboot_split_modules(longname, m, MB_MAX_MODULES), -E2BIG);
	free(m);
}

static void test_mb_info(void **state)
{
	(void)state;
	uint8_t *info = calloc(1, MB_INFO_MAX);
	char (*str)[256] = calloc(2, 256);
	strcpy(str[0], "mod1 arg");
	strcpy(str[1], "mod2");
	uint32_t start[2] = { 0x200000, 0x201000 }, len[2] = { 10, 4096 };
	int n = multiboot_build_info(info, 3 * GIB, "kernel hello", 2, start, len, str);
	assert_true(n > (int)MB_MODS_OFFSET && n <= (int)MB_INFO_MAX);
	assert_int_equal(le32(info), MBI_FLAG_MEM | MBI_FLAG_CMDLINE | MBI_FLAG_MODS |
					     MBI_FLAG_MMAP | MBI_FLAG_LOADER);
	assert_int_equal(le32(info + 4), 639);
	assert_int_equal(le32(info + 8), 3 * 1024 * 1024 - 1024);   /* KiB above 1 MiB */
	/* Every pointer is a guest address inside the blob; the strings are there. */
	uint32_t cmd = le32(info + 16);
	assert_true(cmd >= MB_INFO_GPA && cmd < MB_INFO_GPA + (uint32_t)n);
	assert_string_equal((char *)info + (cmd - MB_INFO_GPA), "kernel hello");
	assert_int_equal(le32(info + 20), 2);
	assert_int_equal(le32(info + 24), MB_INFO_GPA + MB_MODS_OFFSET);
	const uint8_t *mod = info + MB_MODS_OFFSET;
	assert_int_equal(le32(mod), 0x200000);
	assert_int_equal(le32(mod + 4), 0x20000a);
	assert_string_equal((char *)info + (le32(mod + 8) - MB_INFO_GPA), "mod1 arg");
	assert_int_equal(le32(mod + 16 + 4), 0x202000);
	assert_string_equal((char *)info + (le32(mod + 24) - MB_INFO_GPA), "mod2");
	assert_int_equal(le32(info + 48), MB_INFO_GPA + MB_MMAP_OFFSET);
	assert_int_equal(le32(info + MBI_MMAP_LENGTH), 0);   /* the ROM's to fill */
	assert_string_equal((char *)info + (le32(info + 64) - MB_INFO_GPA), "minivisor");
	/* The mmap buffer (filled by the ROM) lies before the mods array. */
	assert_true(MB_MMAP_OFFSET + MB_MMAP_MAX * 24 <= MB_MODS_OFFSET);

	/* A command line longer than the blob: refused, nothing written past it. */
	char *huge = malloc(MB_INFO_MAX + 1);
	memset(huge, 'c', MB_INFO_MAX);
	huge[MB_INFO_MAX] = 0;
	assert_int_equal(multiboot_build_info(info, 3 * GIB, huge, 0, start, len, str), -E2BIG);
	free(huge);
	free(str);
	free(info);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_sizes),
		cmocka_unit_test(test_e820),
		cmocka_unit_test(test_dsdt_values),
		cmocka_unit_test(test_gpa_two_ranges),
		cmocka_unit_test(test_fw_cfg_dma_hole),
		cmocka_unit_test(test_mb_header),
		cmocka_unit_test(test_mb_elf),
		cmocka_unit_test(test_mb_modules),
		cmocka_unit_test(test_mb_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
