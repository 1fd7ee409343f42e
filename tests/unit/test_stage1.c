/*
 * test_stage1.c - unit tests for stage 1's pure functions: no KVM needed.
 *
 * The GDT encoder is checked against descriptors every OS writes by hand (the values are in
 * the Intel SDM's format and in countless boot sectors); the page-table builders are run on
 * a plain malloc()ed "guest RAM" and their entries read back; gpa_to_hva is fed the edge
 * cases a hostile guest would use.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "cpu_modes.h"
#include "fake_ram.h"
#include "guest_memory.h"
#include "runner.h"

static void gdt_flat_64bit_code(void **state)
{
	(void)state;
	struct kvm_segment code = flat_code_segment(MODE_LONG);
	/* base 0, limit 0xfffff pages, P=1 DPL=0 S=1 type=0xb, L=1 D=0 G=1 */
	assert_int_equal(gdt_encode(&code), 0x00af9b000000ffffull);
}

static void gdt_flat_32bit_code_and_data(void **state)
{
	(void)state;
	struct kvm_segment code = flat_code_segment(MODE_PROTECTED);
	struct kvm_segment data = flat_data_segment();
	assert_int_equal(gdt_encode(&code), 0x00cf9b000000ffffull);
	assert_int_equal(gdt_encode(&data), 0x00cf93000000ffffull);
}

static void gdt_base_and_byte_limit(void **state)
{
	(void)state;
	struct kvm_segment s = { .base = 0x12345678, .limit = 0xabcde, .type = 0x3, .s = 1,
				 .present = 1, .dpl = 3 };
	/* byte-granular limit (G=0): 20 bits used as they are; DPL 3 */
	assert_int_equal(gdt_encode(&s), 0x120af3345678bcdeull);
}

static uint64_t entry_at(const struct guest_memory *mem, uint64_t table, int index)
{
	return ((uint64_t *)(mem->host + table))[index];
}

static void long_mode_tables_map_2m_pages(void **state)
{
	(void)state;
	struct guest_memory *mem = fake_ram(4 << 20);
	uint64_t cr3 = 0;
	assert_int_equal(build_long_mode_tables(mem, PAGE_POOL_GPA, PAGE_POOL_END, 4 << 20, &cr3), 0);
	assert_int_equal(cr3, PAGE_POOL_GPA);

	uint64_t pml4e = entry_at(mem, cr3, 0);
	assert_true(pml4e & PTE_PRESENT);
	uint64_t pdpte = entry_at(mem, pml4e & PTE_ADDR_MASK, 0);
	assert_true(pdpte & PTE_PRESENT);
	assert_false(pdpte & PTE_HUGE);
	uint64_t pd = pdpte & PTE_ADDR_MASK;
	assert_int_equal(entry_at(mem, pd, 0), 0 | PTE_PRESENT | PTE_WRITE | PTE_HUGE);
	assert_int_equal(entry_at(mem, pd, 1), SIZE_2M | PTE_PRESENT | PTE_WRITE | PTE_HUGE);
	assert_int_equal(entry_at(mem, pd, 2), 0);   /* nothing past the 4 MiB asked for */
	assert_int_equal(entry_at(mem, cr3, 1), 0);
	free_ram(mem);
}

static void long_mode_tables_second_page_directory(void **state)
{
	(void)state;
	struct guest_memory *mem = fake_ram(1 << 20);
	uint64_t cr3;
	/* 1 GiB + 2 MiB needs two page directories: pool pages PML4, PDPT, PD0, PD1. */
	assert_int_equal(build_long_mode_tables(mem, 0x1000, 0x5000, SIZE_1G + SIZE_2M, &cr3), 0);
	uint64_t pdpt = entry_at(mem, cr3, 0) & PTE_ADDR_MASK;
	uint64_t pd1 = entry_at(mem, pdpt, 1) & PTE_ADDR_MASK;
	assert_int_equal(pd1, 0x4000);
	assert_int_equal(entry_at(mem, pd1, 0), SIZE_1G | PTE_PRESENT | PTE_WRITE | PTE_HUGE);
	free_ram(mem);
}

static void long_mode_tables_pool_too_small(void **state)
{
	(void)state;
	struct guest_memory *mem = fake_ram(1 << 20);
	uint64_t cr3;
	assert_int_equal(build_long_mode_tables(mem, 0x1000, 0x3000, SIZE_2M, &cr3), -ENOSPC);
	free_ram(mem);
}

static void long_mode_tables_pool_outside_ram(void **state)
{
	(void)state;
	struct guest_memory *mem = fake_ram(64 << 10);
	uint64_t cr3;
	assert_int_equal(build_long_mode_tables(mem, 0xf000, 0x20000, SIZE_2M, &cr3), -EFAULT);
	free_ram(mem);
}

static void paged_mode_tables_use_4m_pages(void **state)
{
	(void)state;
	struct guest_memory *mem = fake_ram(1 << 20);
	uint64_t cr3;
	assert_int_equal(build_32bit_tables(mem, 0x1000, 6 << 20, &cr3), 0);
	uint32_t *pd = (uint32_t *)(mem->host + cr3);
	assert_int_equal(pd[0], 0x83);
	assert_int_equal(pd[1], (4 << 20) | 0x83);
	assert_int_equal(pd[2], 0);
	free_ram(mem);
}

static void gpa_to_hva_checks_the_whole_range(void **state)
{
	(void)state;
	struct guest_memory *mem = fake_ram(0x10000);
	assert_ptr_equal(gpa_to_hva(mem, 0, 0x10000), mem->host);
	assert_ptr_equal(gpa_to_hva(mem, 0xfff0, 0x10), mem->host + 0xfff0);
	assert_null(gpa_to_hva(mem, 0xfff0, 0x11));
	assert_null(gpa_to_hva(mem, 0x10000, 1));
	assert_null(gpa_to_hva(mem, 8, UINT64_MAX));          /* gpa + len would wrap */
	assert_null(gpa_to_hva(mem, UINT64_MAX, 2));
	free_ram(mem);
}

static void parse_size_units(void **state)
{
	(void)state;
	assert_int_equal(parse_size("2M"), 2 << 20);
	assert_int_equal(parse_size("64K"), 64 << 10);
	assert_int_equal(parse_size("1G"), 1 << 30);
	assert_int_equal(parse_size("2MiB"), 2 << 20);
	assert_int_equal(parse_size("4096"), 4096);
	assert_int_equal(parse_size("0x1000"), 4096);
	assert_int_equal(parse_size("12Q"), 0);
	assert_int_equal(parse_size("-1"), 0);
	assert_int_equal(parse_size(""), 0);
	assert_int_equal(parse_size("99999999999T"), 0);     /* overflows 64 bits */
}

static void mode_names_round_trip(void **state)
{
	(void)state;
	for (int m = MODE_REAL; m <= MODE_LONG; m++)
		assert_int_equal(cpu_mode_from_name(cpu_mode_name(m)), m);
	assert_int_equal(cpu_mode_from_name("unreal"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gdt_flat_64bit_code),
		cmocka_unit_test(gdt_flat_32bit_code_and_data),
		cmocka_unit_test(gdt_base_and_byte_limit),
		cmocka_unit_test(long_mode_tables_map_2m_pages),
		cmocka_unit_test(long_mode_tables_second_page_directory),
		cmocka_unit_test(long_mode_tables_pool_too_small),
		cmocka_unit_test(long_mode_tables_pool_outside_ram),
		cmocka_unit_test(paged_mode_tables_use_4m_pages),
		cmocka_unit_test(gpa_to_hva_checks_the_whole_range),
		cmocka_unit_test(parse_size_units),
		cmocka_unit_test(mode_names_round_trip),
	};
	return cmocka_run_group_tests_name("stage1", tests, NULL, NULL);
}
