/*
 * test_stage2.c - unit tests for stage 2's page walker and guest-virtual copies: no KVM.
 *
 * Every test builds the same synthetic page tables by hand in a calloc()ed "guest RAM" and
 * then asks page_walk() or guest_virt.c about one address. The tables hold one example of
 * each page size and of each failure, so each test names the entry it is about:
 *
 *   cr3 0x1000 PML4   [0] -> PDPT 0x2000            [511] -> the same PDPT (the top 512 GiB)
 *       0x2000 PDPT   [0] -> PD 0x3000   [1] 1 GiB page at 0x40000000   [511] -> PD 0x3000
 *       0x3000 PD     [0] -> PT 0x4000   [1] 2 MiB page at 0x200000 (RAM's second half)
 *                     [2] 2 MiB page, read-only   [3] -> a PT outside RAM   [511] 2 MiB page
 *       0x4000 PT     [0] 0x9000  [1] 0x8000 (out of order)  [2] 0xa000 read-only
 *                     [3] not present  [4] 0x4000 (itself)  [5] last page of RAM
 *                     [6] first page past RAM  [7] 0xb000 user  [8] 0x6000 (the "pool")
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpu_modes.h"
#include "guest_virt.h"
#include "page_walk.h"

#define RAM_SIZE  (4ull << 20)
#define PML4      0x1000ull
#define PDPT      0x2000ull
#define PD        0x3000ull
#define PT        0x4000ull
#define P_W       (PTE_PRESENT | PTE_WRITE)

struct fixture {
	struct guest_memory mem;
	struct paging_regs regs;
	struct guest_virt gv;
};

static uint64_t *entries(struct fixture *f, uint64_t table)
{
	return (uint64_t *)(f->mem.host + table);
}

static void build_tables(struct fixture *f)
{
	uint64_t *pml4 = entries(f, PML4), *pdpt = entries(f, PDPT);
	uint64_t *pd = entries(f, PD), *pt = entries(f, PT);

	pml4[0] = PDPT | P_W;
	pml4[511] = PDPT | P_W;
	pdpt[0] = PD | P_W;
	pdpt[1] = SIZE_1G | P_W | PTE_HUGE;
	pdpt[511] = PD | P_W;
	pd[0] = PT | P_W;
	pd[1] = SIZE_2M | P_W | PTE_HUGE;
	pd[2] = SIZE_2M | PTE_PRESENT | PTE_HUGE;
	pd[3] = 0x10000000 | P_W;
	pd[511] = SIZE_2M | P_W | PTE_HUGE;
	pt[0] = 0x9000 | P_W;
	pt[1] = 0x8000 | P_W;
	pt[2] = 0xa000 | PTE_PRESENT;
	pt[4] = PT | P_W;
	pt[5] = (RAM_SIZE - PAGE_SIZE) | P_W;
	pt[6] = RAM_SIZE | P_W;
	pt[7] = 0xb000 | P_W | PTE_USER;
	pt[8] = 0x6000 | P_W;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->mem.host = calloc(1, RAM_SIZE);
	f->mem.size = RAM_SIZE;
	f->regs = (struct paging_regs){
		.cr0 = CR0_PE | CR0_PG, .cr3 = PML4, .cr4 = CR4_PAE,
		.efer = EFER_LME | EFER_LMA, .gbpages = true, .maxphyaddr = 48,
	};
	f->gv = (struct guest_virt){ &f->mem, f->regs, 0x6000, 0x7000 };
	build_tables(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	free(f->mem.host);
	free(f);
	return 0;
}

/* Walk gva with the fixture's registers; returns the walk's return value. */
static int walk(struct fixture *f, uint64_t gva, struct page_walk *w)
{
	return page_walk(&f->mem, &f->regs, gva, w);
}

static void assert_fault(struct fixture *f, uint64_t gva, int err, enum walk_fault fault,
			 int level, unsigned index)
{
	struct page_walk w;
	assert_int_equal(walk(f, gva, &w), err);
	assert_int_equal(w.fault, fault);
	assert_int_equal(w.level, level);
	assert_int_equal(w.index, index);
}

/* ---- the walker: one test per page size ---- */

/* gva must map to gpa through a page of page_size, after reading ntables tables. */
static void assert_page(struct fixture *f, uint64_t gva, uint64_t gpa, uint64_t page_size,
			int ntables)
{
	struct page_walk w;
	assert_int_equal(walk(f, gva, &w), 0);
	assert_int_equal(w.gpa, gpa);
	assert_int_equal(w.page_size, page_size);
	assert_int_equal(w.ntables, ntables);
	assert_int_equal(w.level, WALK_LEVELS + 1 - ntables);
	assert_int_equal(w.tables[0], PML4);
}

static void walk_4k_page(void **state)
{
	struct page_walk w;
	assert_page(*state, 0x1234, 0x8234, PAGE_SIZE, 4);   /* PT[1]: the page below PT[0]'s */
	walk(*state, 0x1234, &w);
	assert_int_equal(w.tables[3], PT);
	assert_true(w.writable);
	assert_false(w.user);
}

static void walk_2m_page(void **state)
{
	assert_page(*state, SIZE_2M + 0x12345, SIZE_2M + 0x12345, SIZE_2M, 3);
}

static void walk_1g_page(void **state)
{
	assert_page(*state, SIZE_1G + 0x1234567, SIZE_1G + 0x1234567, SIZE_1G, 2);
}

static void walk_top_of_the_address_space(void **state)
{
	struct page_walk w;
	/* PML4[511] -> PDPT[511] -> PD[511]: a 2 MiB page at gpa 2 MiB. */
	assert_int_equal(walk(*state, 0xfffffffffffffff0ull, &w), 0);
	assert_int_equal(w.gpa, SIZE_2M + SIZE_2M - 0x10);
}

static void walk_with_paging_off(void **state)
{
	struct fixture *f = *state;
	struct page_walk w;
	f->regs.cr0 = CR0_PE;
	assert_int_equal(walk(f, 0x123456, &w), 0);
	assert_int_equal(w.gpa, 0x123456);
	assert_int_equal(w.ntables, 0);
}

/* ---- the walker: one test per failure ---- */

static void not_present_at_every_level(void **state)
{
	assert_fault(*state, 512 * SIZE_1G, -EFAULT, WALK_NOT_PRESENT, 4, 1);
	assert_fault(*state, 3 * SIZE_1G, -EFAULT, WALK_NOT_PRESENT, 3, 3);
	assert_fault(*state, 4 * SIZE_2M, -EFAULT, WALK_NOT_PRESENT, 2, 4);
	assert_fault(*state, 3 * PAGE_SIZE, -EFAULT, WALK_NOT_PRESENT, 1, 3);
}

static void non_canonical_addresses(void **state)
{
	assert_fault(*state, 0x0000800000000000ull, -EINVAL, WALK_NON_CANONICAL, 0, 0);
	assert_fault(*state, 0xffff7fffffffffffull, -EINVAL, WALK_NON_CANONICAL, 0, 0);
	assert_fault(*state, 0x0001000000001000ull, -EINVAL, WALK_NON_CANONICAL, 0, 0);
	/* The first canonical address of the upper half walks normally: PML4[256] is empty. */
	assert_fault(*state, 0xffff800000000000ull, -EFAULT, WALK_NOT_PRESENT, 4, 256);
}

static void gigabyte_page_without_the_feature(void **state)
{
	struct fixture *f = *state;
	f->regs.gbpages = false;
	assert_fault(f, SIZE_1G, -EFAULT, WALK_RESERVED, 3, 1);
}

static void reserved_bits(void **state)
{
	struct fixture *f = *state;
	entries(f, PML4)[2] = PDPT | P_W | PTE_HUGE;                 /* no 512 GiB pages */
	assert_fault(f, 2 * 512 * SIZE_1G, -EFAULT, WALK_RESERVED, 4, 2);
	entries(f, PDPT)[4] = SIZE_1G | P_W | PTE_HUGE | SIZE_2M;    /* 1 GiB page misaligned */
	assert_fault(f, 4 * SIZE_1G, -EFAULT, WALK_RESERVED, 3, 4);
	entries(f, PD)[5] = SIZE_2M | P_W | PTE_HUGE | 0x2000;       /* 2 MiB page misaligned */
	assert_fault(f, 5 * SIZE_2M, -EFAULT, WALK_RESERVED, 2, 5);
	entries(f, PT)[9] = (1ull << 50) | P_W;                      /* above MAXPHYADDR (48) */
	assert_fault(f, 9 * PAGE_SIZE, -EFAULT, WALK_RESERVED, 1, 9);
}

static void execute_disable_needs_efer_nxe(void **state)
{
	struct fixture *f = *state;
	struct page_walk w;
	entries(f, PT)[10] = 0xc000 | P_W | PTE_NX;
	assert_fault(f, 10 * PAGE_SIZE, -EFAULT, WALK_RESERVED, 1, 10);
	f->regs.efer |= EFER_NXE;
	assert_int_equal(walk(f, 10 * PAGE_SIZE, &w), 0);
	assert_int_equal(w.gpa, 0xc000);
}

static void table_outside_ram(void **state)
{
	struct fixture *f = *state;
	char line[200];
	struct page_walk w;
	assert_fault(f, 3 * SIZE_2M, -EFAULT, WALK_TABLE_NOT_RAM, 1, 0);   /* PD[3]'s table */
	walk(f, 3 * SIZE_2M, &w);
	assert_non_null(strstr(walk_describe(&w, line, sizeof(line)), "named by PD entry 3"));
	f->regs.cr3 = RAM_SIZE;
	assert_fault(f, 0, -EFAULT, WALK_TABLE_NOT_RAM, 4, 0);
	walk(f, 0, &w);
	assert_non_null(strstr(walk_describe(&w, line, sizeof(line)), "named by CR3"));
}

static void unsupported_paging_modes(void **state)
{
	struct fixture *f = *state;
	f->regs.efer = 0;   /* CR0.PG without long mode: 32-bit or PAE paging */
	assert_fault(f, 0, -ENOTSUP, WALK_UNSUPPORTED, 0, 0);
	f->regs.efer = EFER_LME | EFER_LMA;
	f->regs.cr4 |= CR4_LA57;
	assert_fault(f, 0, -ENOTSUP, WALK_UNSUPPORTED, 0, 0);
}

static void access_rights_are_anded(void **state)
{
	struct fixture *f = *state;
	struct page_walk w;
	assert_int_equal(walk(f, 2 * PAGE_SIZE, &w), 0);    /* PT[2]: R/W=0 */
	assert_false(w.writable);
	assert_int_equal(walk(f, 2 * SIZE_2M, &w), 0);      /* PD[2]: R/W=0 */
	assert_false(w.writable);
	assert_int_equal(walk(f, 7 * PAGE_SIZE, &w), 0);    /* U/S=1 in the PT only */
	assert_false(w.user);
	entries(f, PML4)[0] |= PTE_USER;
	entries(f, PDPT)[0] |= PTE_USER;
	entries(f, PD)[0] |= PTE_USER;
	assert_int_equal(walk(f, 7 * PAGE_SIZE, &w), 0);
	assert_true(w.user);
}

static void describe_each_fault(void **state)
{
	struct fixture *f = *state;
	struct page_walk w;
	char line[200];

	walk(f, 3 * PAGE_SIZE, &w);
	assert_string_equal(walk_describe(&w, line, sizeof(line)),
			    "not mapped: PT entry 3 is not present");
	walk(f, 0x0000800000000000ull, &w);
	assert_non_null(strstr(walk_describe(&w, line, sizeof(line)), "non-canonical"));
	f->regs.gbpages = false;
	walk(f, SIZE_1G, &w);
	assert_non_null(strstr(walk_describe(&w, line, sizeof(line)), "no 1 GiB pages"));
	f->regs.gbpages = true;
	walk(f, SIZE_1G, &w);
	assert_string_equal(walk_describe(&w, line, sizeof(line)),
			    "gpa 0x40000000 in a 1 GiB page");
}

/* ---- guest_virt.c: strings in ---- */

static void put(struct fixture *f, uint64_t gpa, const char *bytes, size_t n)
{
	memcpy(f->mem.host + gpa, bytes, n);
}

static void string_across_pages_out_of_order(void **state)
{
	struct fixture *f = *state;
	struct gv_error err;
	char buf[64];
	put(f, 0x9ffc, "Hell", 4);            /* gva 0x0ffc..0x0fff: PT[0] -> 0x9000 */
	put(f, 0x8000, "o!", 3);              /* gva 0x1000..: PT[1] -> 0x8000 */
	assert_int_equal(gv_read_string(&f->gv, 0xffc, buf, sizeof(buf), &err), 6);
	assert_string_equal(buf, "Hello!");
}

static void string_bound(void **state)
{
	struct fixture *f = *state;
	struct gv_error err;
	char buf[16];
	put(f, 0x9000, "0123456789abcdef", 16);
	assert_int_equal(gv_read_string(&f->gv, 0, buf, 16, &err), -EINVAL);
	assert_int_equal(err.fault, GV_NO_NUL);
	put(f, 0x900f, "", 1);                /* 15 characters + NUL: exactly the bound */
	assert_int_equal(gv_read_string(&f->gv, 0, buf, 16, &err), 15);
}

static void string_into_a_hole(void **state)
{
	struct fixture *f = *state;
	struct gv_error err;
	char buf[64];
	memset(f->mem.host + 0xa000, 'x', PAGE_SIZE);   /* PT[2]'s page, then PT[3]: a hole */
	assert_int_equal(gv_read_string(&f->gv, 3 * PAGE_SIZE - 8, buf, sizeof(buf), &err),
			 -EFAULT);
	assert_int_equal(err.fault, GV_WALK);
	assert_int_equal(err.offset, 8);
	assert_int_equal(err.gva, 3 * PAGE_SIZE);
	assert_int_equal(err.walk.fault, WALK_NOT_PRESENT);
}

static void string_off_the_end_of_ram(void **state)
{
	struct fixture *f = *state;
	struct gv_error err;
	char buf[64], line[200];
	memset(f->mem.host + RAM_SIZE - 16, 'x', 16);   /* PT[5] -> last page; PT[6] -> past */
	assert_int_equal(gv_read_string(&f->gv, 6 * PAGE_SIZE - 16, buf, sizeof(buf), &err),
			 -EFAULT);
	assert_int_equal(err.fault, GV_NOT_RAM);
	assert_int_equal(err.gpa, RAM_SIZE);
	assert_int_equal(err.offset, 16);
	gv_describe(&f->gv, &err, line, sizeof(line));
	assert_string_equal(line, "byte 16 at gva 0x6000: gpa 0x400000 is not RAM "
				  "(RAM ends at 0x400000)");
}

static void string_wraps_around(void **state)
{
	struct fixture *f = *state;
	struct gv_error err;
	char buf[64];
	memset(f->mem.host + 2 * SIZE_2M - 16, 'x', 16);   /* the top 16 bytes, no NUL */
	assert_int_equal(gv_read_string(&f->gv, 0xfffffffffffffff0ull, buf, sizeof(buf), &err),
			 -EINVAL);
	assert_int_equal(err.walk.fault, WALK_NON_CANONICAL);
	assert_int_equal(err.offset, 16);
}

static void string_non_canonical(void **state)
{
	struct fixture *f = *state;
	struct gv_error err;
	char buf[8];
	assert_int_equal(gv_read_string(&f->gv, 0x0000800000000000ull, buf, 8, &err), -EINVAL);
	assert_int_equal(err.walk.fault, WALK_NON_CANONICAL);
}

/* ---- guest_virt.c: buffers out ---- */

static void write_across_pages(void **state)
{
	struct fixture *f = *state;
	struct gv_error err;
	assert_int_equal(gv_write(&f->gv, 0xff8, "0123456789abcdef", 16, &err), 0);
	assert_memory_equal(f->mem.host + 0x9ff8, "01234567", 8);
	assert_memory_equal(f->mem.host + 0x8000, "89abcdef", 8);
}

static void write_read_only(void **state)
{
	struct fixture *f = *state;
	struct gv_error err;
	assert_int_equal(gv_write(&f->gv, 2 * PAGE_SIZE, "x", 1, &err), -EFAULT);
	assert_int_equal(err.fault, GV_READ_ONLY);
	assert_int_equal(f->mem.host[0xa000], 0);
}

static void write_all_or_nothing(void **state)
{
	struct fixture *f = *state;
	struct gv_error err;
	/* 8 bytes on PT[1]'s writable page, 8 on PT[2]'s read-only one: none may move. */
	assert_int_equal(gv_write(&f->gv, 2 * PAGE_SIZE - 8, "0123456789abcdef", 16, &err),
			 -EFAULT);
	assert_int_equal(err.offset, 8);
	assert_int_equal(f->mem.host[0x8ff8], 0);
}

static void write_over_its_own_page_table(void **state)
{
	struct fixture *f = *state;
	struct gv_error err;
	char line[200];
	assert_int_equal(gv_write(&f->gv, 4 * PAGE_SIZE, "x", 1, &err), -EFAULT);   /* PT[4] */
	assert_int_equal(err.fault, GV_PAGE_TABLE);
	assert_int_equal(err.table, PT);
	assert_int_equal(err.table_level, 1);
	assert_non_null(strstr(gv_describe(&f->gv, &err, line, sizeof(line)), "the PT this"));
	/* A buffer on ordinary pages, translated through the same tables, is fine. */
	assert_int_equal(gv_write(&f->gv, 0x1ffe, "ab", 2, &err), 0);   /* PT[1]: gpa 0x8ffe */
	assert_memory_equal(f->mem.host + 0x8ffe, "ab", 2);
}

static void write_into_the_pool(void **state)
{
	struct fixture *f = *state;
	struct gv_error err;
	assert_int_equal(gv_write(&f->gv, 8 * PAGE_SIZE + 0x10, "x", 1, &err), -EFAULT);
	assert_int_equal(err.fault, GV_PAGE_TABLE);
	assert_int_equal(err.table_level, 0);
	assert_int_equal(err.gpa, 0x6010);
}

static void write_too_big(void **state)
{
	struct fixture *f = *state;
	struct gv_error err;
	static char big[(GV_WRITE_MAX_PAGES + 1) * 4096];
	/* With paging off every 4 KiB page is a chunk of its own: five pages, one too many. */
	f->gv.regs.cr0 = CR0_PE;
	assert_int_equal(gv_write(&f->gv, 0x100000, big, sizeof(big), &err), -EINVAL);
	assert_int_equal(err.fault, GV_TOO_BIG);
}

static void hva_of_a_byte(void **state)
{
	struct fixture *f = *state;
	struct gv_error err;
	struct page_walk w;
	assert_ptr_equal(gva_to_hva(&f->gv, 0x1005, &w, &err), f->mem.host + 0x8005);
	assert_null(gva_to_hva(&f->gv, 6 * PAGE_SIZE, &w, &err));   /* PT[6]: no RAM */
	assert_int_equal(err.fault, GV_NOT_RAM);
	assert_null(gva_to_hva(&f->gv, 3 * PAGE_SIZE, &w, &err));   /* PT[3]: a hole */
	assert_int_equal(err.fault, GV_WALK);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(walk_4k_page),
		T(walk_2m_page),
		T(walk_1g_page),
		T(walk_top_of_the_address_space),
		T(walk_with_paging_off),
		T(not_present_at_every_level),
		T(non_canonical_addresses),
		T(gigabyte_page_without_the_feature),
		T(reserved_bits),
		T(execute_disable_needs_efer_nxe),
		T(table_outside_ram),
		T(unsupported_paging_modes),
		T(access_rights_are_anded),
		T(describe_each_fault),
		T(string_across_pages_out_of_order),
		T(string_bound),
		T(string_into_a_hole),
		T(string_off_the_end_of_ram),
		T(string_wraps_around),
		T(string_non_canonical),
		T(write_across_pages),
		T(write_read_only),
		T(write_all_or_nothing),
		T(write_over_its_own_page_table),
		T(write_into_the_pool),
		T(write_too_big),
		T(hva_of_a_byte),
	};
	return cmocka_run_group_tests_name("stage2", tests, NULL, NULL);
}
