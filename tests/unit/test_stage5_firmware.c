/*
 * test_stage5_firmware.c - unit tests of what the VMM hands SeaBIOS beyond the basics: the
 * DSDT compiled from dsdt.asl by iasl (both machine types), the SMBIOS entry point and
 * structures, the bootorder file and etc/boot-fail-wait. No KVM, no guest: the fw_cfg items
 * are read back and parsed the way SeaBIOS and an OS would.
 */
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
#include "board/pc_memory.h"
#include "board/smbios.h"
#include "power.h"

#define MIB (1ull << 20)
#define TEST_UUID "01234567-89ab-cdef-0123-456789ABCDEF"

/* ---- helpers -------------------------------------------------------------------------- */

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t len)
{
	for (size_t i = 0; i + len <= n; i++)
		if (!memcmp(hay + i, needle, len))
			return hay + i;
	return NULL;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

struct fixture {
	struct guest_memory mem;
	struct fw_cfg f;
	char why[256];
};

static int setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));
	x->mem.host = calloc(1, 4096);
	x->mem.size = 4096;
	fw_cfg_init(&x->f, &x->mem);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *x = *state;
	fw_cfg_free(&x->f);
	free(x->mem.host);
	free(x);
	return 0;
}

static const struct fw_cfg_item *setup_machine(struct fixture *x, int q35, unsigned ncpus,
					       uint64_t ram)
{
	struct firmware_config cfg = { .ram_size = ram, .ncpus = ncpus, .q35 = q35,
				       .ecam_base = q35 ? 0xb0000000u : 0, .uuid = TEST_UUID };
	assert_int_equal(firmware_setup(&x->f, &cfg, x->why, sizeof(x->why)), 0);
	return fw_cfg_find_file(&x->f, "etc/smbios/smbios-tables");
}

/* ---- the DSDT ------------------------------------------------------------------------- */

/* EisaId ("PNP0A03") as AML: DWordPrefix, then the compressed ID. */
static const uint8_t PNP0A03[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
static const uint8_t PNP0A08[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x08 };
static const uint8_t PNP0303[] = { 0x0c, 0x41, 0xd0, 0x03, 0x03 };   /* PS/2 keyboard */
static const uint8_t PNP0F13[] = { 0x0c, 0x41, 0xd0, 0x0f, 0x13 };   /* PS/2 mouse */
static const uint8_t PNP0103[] = { 0x0c, 0x41, 0xd0, 0x01, 0x03 };   /* HPET */

static void check_dsdt(bool q35)
{
	uint8_t *d;
	uint32_t len;
	assert_int_equal(firmware_dsdt(q35, 256 * MIB, &d, &len), 0);
	assert_memory_equal(d, "DSDT", 4);
	assert_int_equal(le32(d + 4), len);
	assert_int_equal(d[8], 2);                       /* revision 2: 64-bit integers */
	assert_int_equal(acpi_checksum(d, len), 0);
	assert_non_null(find(d, len, "_PRT", 4));
	assert_non_null(find(d, len, "_CRS", 4));
	assert_non_null(find(d, len, "PCI0", 4));
	assert_non_null(find(d, len, q35 ? "LPC_" : "ISA_", 4));
	assert_non_null(find(d, len, "COM1", 4));
	assert_non_null(find(d, len, PNP0A03, sizeof(PNP0A03)));
	assert_true(!find(d, len, PNP0A08, sizeof(PNP0A08)) == !q35);
	/* The i8042's two ports (input/): SeaBIOS and Linux look for these IDs. */
	assert_non_null(find(d, len, "KBD_", 4));
	assert_non_null(find(d, len, "MOU_", 4));
	assert_non_null(find(d, len, PNP0303, sizeof(PNP0303)));
	assert_non_null(find(d, len, PNP0F13, sizeof(PNP0F13)));
	/* The HPET as a device too, beside its own ACPI table. */
	assert_non_null(find(d, len, "HPET", 4));
	assert_non_null(find(d, len, PNP0103, sizeof(PNP0103)));

	/* Name (_S5, Package (4) { 5, ... }): PackageOp, length, 4 elements, BytePrefix 5. */
	const uint8_t *s5 = find(d, len, "_S5_", 4);
	assert_non_null(s5);
	assert_int_equal(s5[4], 0x12);
	assert_int_equal(s5[6], 4);
	assert_int_equal(s5[7], 0x0a);
	assert_int_equal(s5[8], ACPI_S5_SLP_TYP);

	/* The end of RAM, patched in. */
	const uint8_t *ramt = find(d, len, "RAMT\x0c", 5);
	assert_non_null(ramt);
	assert_int_equal(le32(ramt + 5), 256 * MIB);
	free(d);
}

static void test_dsdt_pc(void **state)
{
	(void)state;
	check_dsdt(false);
}

static void test_dsdt_q35(void **state)
{
	(void)state;
	check_dsdt(true);
}

static void test_dsdt_variants_differ(void **state)
{
	(void)state;
	assert_true(dsdt_pc_aml_len != dsdt_q35_aml_len ||
		    memcmp(dsdt_pc_aml_code, dsdt_q35_aml_code, dsdt_pc_aml_len));
	/* Only q35 reserves ECAM as a motherboard resource: Memory32Fixed at 0xb0000000. */
	static const uint8_t ecam[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xb0 };
	assert_non_null(find(dsdt_q35_aml_code, dsdt_q35_aml_len, ecam, sizeof(ecam)));
	assert_null(find(dsdt_pc_aml_code, dsdt_pc_aml_len, ecam, sizeof(ecam)));
}

/* RAM never reaches into the PCI window: 4 GiB on pc puts 3 GiB below it (pc_memory.h). */
static void test_dsdt_ram_top_capped(void **state)
{
	(void)state;
	uint8_t *d;
	uint32_t len;
	assert_int_equal(firmware_dsdt(false, 4096 * MIB, &d, &len), 0);
	assert_int_equal(le32(find(d, len, "RAMT\x0c", 5) + 5), 0xc0000000u);
	assert_int_equal(acpi_checksum(d, len), 0);
	free(d);
}

/* etc/acpi/tables holds our DSDT, the one the FADT points to (offsets: built at 0). */
static void test_acpi_tables_carry_compiled_dsdt(void **state)
{
	struct fixture *x = *state;
	setup_machine(x, 1, 1, 512 * MIB);
	const struct fw_cfg_item *t = fw_cfg_find_file(&x->f, "etc/acpi/tables");
	assert_non_null(t);
	const uint8_t *fadt = find(t->data, t->size, "FACP", 4);
	assert_non_null(fadt);
	/* IAPC_BOOT_ARCH (offset 109) bit 1: an 8042 is present (stage 4 says none). */
	assert_true(fadt[109] & 0x02);
	uint32_t at = le32(fadt + 40);                   /* FADT.DSDT */
	assert_true(at + 36 <= t->size);
	uint8_t *d;
	uint32_t len;
	assert_int_equal(firmware_dsdt(true, 512 * MIB, &d, &len), 0);
	assert_true(at + len <= t->size);
	d[9] = 0;   /* the checksum: 0 in the blob, the table loader computes it (firmware.c) */
	assert_memory_equal(t->data + at, d, len);
	free(d);
}

static void test_acpi_rejects_bad_dsdt(void **state)
{
	(void)state;
	uint8_t buf[4096], dsdt[40] = "SSDT";
	struct acpi_layout layout;
	dsdt[4] = sizeof(dsdt);
	assert_int_equal(acpi_build_with_dsdt(buf, sizeof(buf), 0, 1, dsdt, sizeof(dsdt), NULL,
					      0, &layout), -EINVAL);
	memcpy(dsdt, "DSDT", 4);
	dsdt[4] = 99;                                    /* length field disagrees */
	assert_int_equal(acpi_build_with_dsdt(buf, sizeof(buf), 0, 1, dsdt, sizeof(dsdt), NULL,
					      0, &layout), -EINVAL);
	dsdt[4] = sizeof(dsdt);
	assert_int_equal(acpi_build_with_dsdt(buf, sizeof(buf), 0, 1, dsdt, sizeof(dsdt), NULL,
					      0, &layout), 0);
}

/* ---- SMBIOS --------------------------------------------------------------------------- */

/* The next structure after the one at *at, as SeaBIOS and dmidecode walk them. */
static const uint8_t *next_structure(const uint8_t *t, uint32_t len, uint32_t *at)
{
	const uint8_t *s = t + *at;
	assert_true(*at + 4 <= len);
	assert_true(s[1] >= 4 && *at + s[1] + 2 <= len);
	uint32_t end = *at + s[1];
	while (t[end] || t[end + 1]) {                   /* the double NUL ends the set */
		end++;
		assert_true(end + 1 < len);
	}
	*at = end + 2;
	return s;
}

/* String number n of structure s (1-based), as dmidecode would print it. */
static const char *smbios_string(const uint8_t *s, unsigned n)
{
	const char *p = (const char *)s + s[1];
	assert_true(n > 0);
	while (--n) {
		assert_true(*p);
		p += strlen(p) + 1;
	}
	return p;
}

static void check_smbios(struct fixture *x, int q35, unsigned ncpus, uint64_t ram)
{
	const struct fw_cfg_item *tables = setup_machine(x, q35, ncpus, ram);
	const struct fw_cfg_item *anchor = fw_cfg_find_file(&x->f, "etc/smbios/smbios-anchor");
	assert_non_null(tables);
	assert_non_null(anchor);

	const uint8_t *a = anchor->data;
	assert_int_equal(anchor->size, 31);
	assert_memory_equal(a, "_SM_", 4);
	assert_int_equal(a[5], 31);
	assert_int_equal(a[6], 2);
	assert_int_equal(a[7], 8);
	assert_memory_equal(a + 0x10, "_DMI_", 5);
	assert_int_equal(acpi_checksum(a, 31), 0);
	assert_int_equal(acpi_checksum(a + 0x10, 31 - 0x10), 0);
	assert_int_equal(le16(a + 0x16), tables->size);  /* SeaBIOS insists on it */

	static const uint8_t types[] = { 1, 3, 4, 16, 17, 19, 32, 127 };
	unsigned count = 0, largest = 0, next_type = 0, cpus = 0, above_maps = 0;
	struct pc_ram_split split;
	pc_ram_split(q35, ram, &split);
	uint64_t below = split.below_4g;
	uint32_t at = 0;
	while (at < tables->size) {
		uint32_t start = at;
		const uint8_t *s = next_structure(tables->data, tables->size, &at);
		if (at - start > largest)
			largest = at - start;
		count++;
		if (s[0] == 4 && next_type > 0 && types[next_type - 1] == 4) {
			cpus++;
			continue;
		}
		/* RAM past the PCI hole: a second type 19, mapped from 4 GiB. */
		if (s[0] == 19 && next_type > 0 && types[next_type - 1] == 19) {
			assert_int_equal(le32(s + 4), (4096 * MIB) / 1024);
			assert_int_equal(le32(s + 8), (4096 * MIB + ram - below) / 1024 - 1);
			above_maps++;
			continue;
		}
		assert_true(next_type < sizeof(types));
		assert_int_equal(s[0], types[next_type++]);
		if (s[0] == 4)
			cpus++;
		if (s[0] == 1) {
			assert_string_equal(smbios_string(s, s[4]), "minivisor");
			assert_string_equal(smbios_string(s, s[5]), q35 ?
					    "Standard PC (Q35 + ICH9, 2009)" :
					    "Standard PC (i440FX + PIIX, 1996)");
			static const uint8_t uuid[16] = { 0x67, 0x45, 0x23, 0x01, 0xab, 0x89,
							  0xef, 0xcd, 0x01, 0x23, 0x45, 0x67,
							  0x89, 0xab, 0xcd, 0xef };
			assert_memory_equal(s + 8, uuid, 16);
		}
		if (s[0] == 19)
			assert_int_equal(le32(s + 8), below / 1024 - 1);
		if (s[0] == 17)
			assert_int_equal(le16(s + 0x0c), ram / MIB);
	}
	assert_int_equal(at, tables->size);
	assert_int_equal(next_type, sizeof(types));
	assert_int_equal(cpus, ncpus);
	assert_int_equal(above_maps, below < ram ? 1 : 0);
	assert_int_equal(le16(a + 0x1c), count);
	assert_int_equal(le16(a + 8), largest);
}

static void test_smbios_pc(void **state)
{
	check_smbios(*state, 0, 1, 256 * MIB);
}

static void test_smbios_q35_four_cpus(void **state)
{
	check_smbios(*state, 1, 4, 3072 * MIB);
}

static void test_smbios_random_uuid(void **state)
{
	struct fixture *x = *state;
	struct firmware_config cfg = { .ram_size = 64 * MIB, .ncpus = 1 };
	assert_int_equal(firmware_setup(&x->f, &cfg, x->why, sizeof(x->why)), 0);
	const struct fw_cfg_item *t = fw_cfg_find_file(&x->f, "etc/smbios/smbios-tables");
	assert_non_null(t);
	assert_int_equal(t->data[0], 1);
	assert_int_equal(t->data[8 + 7] >> 4, 4);       /* version 4 */
	assert_int_equal(t->data[8 + 8] >> 6, 2);       /* RFC 4122 variant */
}

static void test_smbios_bad_input(void **state)
{
	struct fixture *x = *state;
	struct firmware_config cfg = { .ram_size = 64 * MIB, .ncpus = 1, .uuid = "nope" };
	assert_int_equal(firmware_setup(&x->f, &cfg, x->why, sizeof(x->why)), -EINVAL);
	assert_non_null(strstr(x->why, "smbios: bad UUID 'nope'"));

	uint8_t uuid[16], anchor[SMBIOS_ANCHOR_SIZE], small[64];
	static const char *const bad[] = {
		"", "0123456789abcdef0123456789abcdef0123", TEST_UUID "0",
		"01234567-89ab-cdef-0123-456789abcde", "0123456g-89ab-cdef-0123-456789abcdef",
		"01234567+89ab-cdef-0123-456789abcdef",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(smbios_parse_uuid(bad[i], uuid), -EINVAL);

	struct smbios_config c = { "x", { 0 }, 0, 64 * MIB, 0 };
	uint32_t len;
	assert_int_equal(smbios_build(&c, anchor, small, sizeof(small), &len), -EINVAL);
	c.ncpus = SMBIOS_MAX_CPUS + 1;
	assert_int_equal(smbios_build(&c, anchor, small, sizeof(small), &len), -EINVAL);
	c.ncpus = 1;
	assert_int_equal(smbios_build(&c, anchor, small, sizeof(small), &len), -ENOSPC);
}

/* ---- boot order and boot-fail-wait ----------------------------------------------------- */

static void test_bootorder(void **state)
{
	struct fixture *x = *state;
	const char *order = "/pci@i0cf8/ide@1,1/drive@1/disk@0\n/pci@i0cf8/ide@1,1/drive@0/disk@0";
	struct firmware_config cfg = { .ram_size = 64 * MIB, .ncpus = 1, .bootorder = order,
				       .boot_fail_wait_ms = 0xffffffffu };
	assert_int_equal(firmware_setup(&x->f, &cfg, x->why, sizeof(x->why)), 0);
	const struct fw_cfg_item *b = fw_cfg_find_file(&x->f, "bootorder");
	assert_non_null(b);
	assert_int_equal(b->size, strlen(order) + 1);
	assert_string_equal((const char *)b->data, order);
	const struct fw_cfg_item *w = fw_cfg_find_file(&x->f, "etc/boot-fail-wait");
	assert_non_null(w);
	assert_int_equal(w->size, 4);
	assert_int_equal(le32(w->data), 0xffffffffu);   /* never reboot */
}

static void test_no_bootorder(void **state)
{
	struct fixture *x = *state;
	struct firmware_config cfg = { .ram_size = 64 * MIB, .ncpus = 1 };
	assert_int_equal(firmware_setup(&x->f, &cfg, x->why, sizeof(x->why)), 0);
	assert_null(fw_cfg_find_file(&x->f, "bootorder"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dsdt_pc),
		cmocka_unit_test(test_dsdt_q35),
		cmocka_unit_test(test_dsdt_variants_differ),
		cmocka_unit_test(test_dsdt_ram_top_capped),
		cmocka_unit_test_setup_teardown(test_acpi_tables_carry_compiled_dsdt, setup,
						teardown),
		cmocka_unit_test(test_acpi_rejects_bad_dsdt),
		cmocka_unit_test_setup_teardown(test_smbios_pc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smbios_q35_four_cpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smbios_random_uuid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smbios_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootorder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_bootorder, setup, teardown),
	};
	return cmocka_run_group_tests_name("stage5 firmware", tests, NULL, NULL);
}
