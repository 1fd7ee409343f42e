/*
 * page_walk.h - translate a guest-virtual address the way the guest's MMU would, in software.
 *
 * When a guest hands the host a pointer, it is a guest-VIRTUAL address: it means something
 * only through the guest's own page tables (CR3). The host finds the guest-physical address
 * behind it by reading those tables out of guest RAM, exactly as the CPU's page walker does,
 * and only then asks gpa_to_hva() for the host address. This file is that walker for x86-64
 * 4-level paging (Intel SDM vol. 3, 4.5 "4-level paging"; AMD APM vol. 2, 5.3):
 *
 *   gva bits  47..39     38..30     29..21     20..12     11..0
 *             PML4 index PDPT index PD index   PT index   offset in a 4 KiB page
 *                        `-- PS=1 in a PDPTE: a 1 GiB page, offset = bits 29..0
 *                                   `-- PS=1 in a PDE: a 2 MiB page, offset = bits 20..0
 *
 * It only reads guest memory (a real MMU would also set the Accessed and Dirty bits), and
 * every table it reads is fetched through gpa_to_hva(), so a hostile guest's tables can
 * point anywhere without the host reading outside guest RAM.
 */
#ifndef PAGE_WALK_H
#define PAGE_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_memory.h"

#define PTE_NX (1ull << 63)   /* execute-disable; a reserved bit unless EFER.NXE is set */

#define CR4_LA57 (1ull << 12) /* 5-level paging: not walked by this file */
#define EFER_NXE (1ull << 11)

/* What the walker needs to know about the vCPU: its paging registers and two CPUID facts. */
struct paging_regs {
	uint64_t cr0, cr3, cr4, efer;
	bool gbpages;           /* 1 GiB pages exist: CPUID 0x80000001 EDX bit 26 */
	unsigned maxphyaddr;    /* physical address width: CPUID 0x80000008 EAX bits 7..0 */
};

/* How a walk ended. The names are what a #PF error code or the SDM would call them. */
enum walk_fault {
	WALK_OK,
	WALK_NON_CANONICAL,  /* bits 63..48 are not copies of bit 47 (the CPU raises #GP) */
	WALK_NOT_PRESENT,    /* the entry at `level` has P=0 (#PF, P=0 in the error code) */
	WALK_RESERVED,       /* the entry at `level` has a reserved bit set (#PF, RSVD=1) */
	WALK_TABLE_NOT_RAM,  /* a table the entries point to is not in guest RAM */
	WALK_UNSUPPORTED,    /* a paging mode this walker does not do (32-bit, PAE, 5-level) */
};

/* Levels as the SDM counts them: the walk starts at 4 and a 4 KiB page ends it at 1. */
#define WALK_LEVELS 4

struct page_walk {
	uint64_t gva;                   /* the address translated */
	enum walk_fault fault;
	int level;                      /* where the walk stopped: 4 PML4 .. 1 PT */
	unsigned index;                 /* the entry's index in that level's table */
	uint64_t entry;                 /* the last entry read (the faulting one on failure) */
	uint64_t reserved;              /* WALK_RESERVED: which reserved bits were set */
	uint64_t gpa;                   /* the translation, when fault == WALK_OK */
	uint64_t page_size;             /* 4 KiB, 2 MiB or 1 GiB (4 KiB with paging off) */
	bool writable;                  /* R/W=1 at every level */
	bool user;                      /* U/S=1 at every level */
	uint64_t tables[WALK_LEVELS];   /* guest-physical address of each table read, PML4 first */
	int ntables;
};

/*
 * Translate gva. Fills *w and returns 0, -EFAULT (not present, reserved bit, table outside
 * RAM), -EINVAL (non-canonical) or -ENOTSUP (a paging mode other than off or 4-level).
 * With CR0.PG clear there are no tables: the gva is the gpa.
 */
int page_walk(const struct guest_memory *mem, const struct paging_regs *regs, uint64_t gva,
	      struct page_walk *w);

/* "PML4", "PDPT", "PD", "PT" for level 4..1. */
const char *walk_level_name(int level);

/* One line saying how the walk ended, e.g. "PD entry 3 is not present". Returns buf. */
char *walk_describe(const struct page_walk *w, char *buf, unsigned len);

#endif
