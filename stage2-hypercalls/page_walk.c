/*
 * page_walk.c - the x86-64 4-level page walk in software (see page_walk.h for the picture).
 *
 * Each step does what the SDM's "linear-address translation" figures show: take 9 bits of
 * the address as an index, read that 8-byte entry of the current table, check it (present?
 * reserved bits?), and either follow it to the next table or stop at a page. The checks are
 * the ones the CPU makes, so the host refuses exactly what the guest's own MMU would refuse.
 */
#include "page_walk.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cpu_modes.h"

static const char *const level_names[WALK_LEVELS + 1] = { "?", "PT", "PD", "PDPT", "PML4" };

const char *walk_level_name(int level)
{
	return level >= 1 && level <= WALK_LEVELS ? level_names[level] : level_names[0];
}

/* Bits hi..lo set (hi >= lo). */
static uint64_t bits(unsigned hi, unsigned lo)
{
	return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

/* 4-level paging uses 48-bit addresses: bits 63..47 must be all zeros or all ones. */
static bool is_canonical(uint64_t gva)
{
	uint64_t top = gva >> 47;
	return top == 0 || top == 0x1ffff;
}

/*
 * The reserved bits of an entry at a level (SDM vol. 3, 4.5.4, tables 4-15..4-20). Setting
 * one is a guest bug the CPU reports as a page fault with RSVD=1, so we refuse it too.
 */
static uint64_t reserved_bits(const struct paging_regs *regs, int level, uint64_t entry)
{
	unsigned width = regs->maxphyaddr >= 32 && regs->maxphyaddr < 52 ? regs->maxphyaddr : 52;
	uint64_t rsvd = width < 52 ? bits(51, width) : 0;   /* beyond the physical address width */
	bool huge = entry & PTE_HUGE;

	if (!(regs->efer & EFER_NXE))
		rsvd |= PTE_NX;
	if (level == 4)
		rsvd |= PTE_HUGE;                  /* there are no 512 GiB pages */
	else if (level == 3 && huge)
		rsvd |= regs->gbpages ? bits(29, 13) : PTE_HUGE;   /* 1 GiB page: aligned, if any */
	else if (level == 2 && huge)
		rsvd |= bits(20, 13);              /* 2 MiB page: its address is 2 MiB aligned */
	return entry & rsvd;
}

static int stop(struct page_walk *w, enum walk_fault fault, int err)
{
	w->fault = fault;
	return err;
}

/* Paging off (real or protected mode): an address is its own translation. */
static int walk_identity(uint64_t gva, struct page_walk *w)
{
	w->gpa = gva;
	w->page_size = PAGE_SIZE;
	w->writable = w->user = true;
	return 0;
}

/* The entry ends the walk: a 4 KiB page at level 1, or a large page (PS=1) at level 3 or 2. */
static bool maps_a_page(int level, uint64_t entry)
{
	return level == 1 || (entry & PTE_HUGE);
}

int page_walk(const struct guest_memory *mem, const struct paging_regs *regs, uint64_t gva,
	      struct page_walk *w)
{
	memset(w, 0, sizeof(*w));
	w->gva = gva;
	if (!(regs->cr0 & CR0_PG))
		return walk_identity(gva, w);
	if (!(regs->efer & EFER_LMA) || !(regs->cr4 & CR4_PAE) || (regs->cr4 & CR4_LA57))
		return stop(w, WALK_UNSUPPORTED, -ENOTSUP);
	if (!is_canonical(gva))
		return stop(w, WALK_NON_CANONICAL, -EINVAL);

	uint64_t table = regs->cr3 & PTE_ADDR_MASK;
	w->writable = w->user = true;
	for (int level = WALK_LEVELS; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);   /* 39, 30, 21, 12 */
		w->level = level;
		w->index = (gva >> shift) & 511;
		w->tables[w->ntables] = table;
		const uint64_t *t = gpa_to_hva(mem, table, PAGE_SIZE);
		if (!t)
			return stop(w, WALK_TABLE_NOT_RAM, -EFAULT);
		w->ntables++;
		w->entry = t[w->index];
		if (!(w->entry & PTE_PRESENT))
			return stop(w, WALK_NOT_PRESENT, -EFAULT);
		w->reserved = reserved_bits(regs, level, w->entry);
		if (w->reserved)
			return stop(w, WALK_RESERVED, -EFAULT);
		/* Rights are the AND of all levels: one read-only entry makes it read-only. */
		w->writable &= !!(w->entry & PTE_WRITE);
		w->user &= !!(w->entry & PTE_USER);
		if (maps_a_page(level, w->entry)) {
			w->page_size = 1ull << shift;
			w->gpa = (w->entry & PTE_ADDR_MASK & ~(w->page_size - 1)) |
				 (gva & (w->page_size - 1));
			return 0;
		}
		table = w->entry & PTE_ADDR_MASK;
	}
	return stop(w, WALK_NOT_PRESENT, -EFAULT);   /* not reached: level 1 always maps a page */
}

static const char *size_name(uint64_t size)
{
	return size == SIZE_1G ? "1 GiB" : size == SIZE_2M ? "2 MiB" : "4 KiB";
}

/* Where the table that could not be read was named: CR3 for the PML4, else the entry above. */
static void describe_missing_table(const struct page_walk *w, char *buf, unsigned len)
{
	char from[40] = "CR3";
	if (w->level < WALK_LEVELS)
		snprintf(from, sizeof(from), "%s entry %u", walk_level_name(w->level + 1),
			 (unsigned)(w->gva >> (12 + 9 * w->level)) & 511);
	snprintf(buf, len, "the %s at gpa 0x%llx (named by %s) is not in RAM",
		 walk_level_name(w->level), (unsigned long long)w->tables[w->ntables], from);
}

char *walk_describe(const struct page_walk *w, char *buf, unsigned len)
{
	switch (w->fault) {
	case WALK_OK:
		snprintf(buf, len, "gpa 0x%llx in a %s page", (unsigned long long)w->gpa,
			 size_name(w->page_size));
		break;
	case WALK_NON_CANONICAL:
		snprintf(buf, len, "non-canonical address (bits 63..48 must repeat bit 47)");
		break;
	case WALK_NOT_PRESENT:
		snprintf(buf, len, "not mapped: %s entry %u is not present",
			 walk_level_name(w->level), w->index);
		break;
	case WALK_RESERVED:
		if (w->level == 3 && w->reserved == PTE_HUGE)
			snprintf(buf, len, "PDPT entry %u maps a 1 GiB page, and this vCPU has no "
				 "1 GiB pages (PS is reserved)", w->index);
		else
			snprintf(buf, len, "%s entry %u (0x%llx) has reserved bits set (0x%llx)",
				 walk_level_name(w->level), w->index, (unsigned long long)w->entry,
				 (unsigned long long)w->reserved);
		break;
	case WALK_TABLE_NOT_RAM:
		describe_missing_table(w, buf, len);
		break;
	case WALK_UNSUPPORTED:
		snprintf(buf, len, "the guest's paging mode is not 4-level long-mode paging");
		break;
	}
	return buf;
}
