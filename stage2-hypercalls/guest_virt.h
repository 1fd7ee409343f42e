/*
 * guest_virt.h - read and write guest memory by guest-VIRTUAL address, the hostile-guest way.
 *
 * A hypercall argument such as "print the string at 0x40000ff8" names a guest-virtual
 * address. Every byte of it goes gva -(page_walk)-> gpa -(gpa_to_hva)-> hva, one page at a
 * time, because two pages that are neighbours in the guest's virtual space may be anywhere
 * in its physical RAM, or not in RAM at all. The functions here are the only way stage 2's
 * hypercalls touch guest memory, and each refusal says which byte, which address and why:
 *
 *   reads   the walk must succeed and the gpa must be RAM; a string must end within a bound
 *   writes  the same, plus: the guest's tables must allow writing (R/W=1 at every level),
 *           and no byte may land on a page table: neither one used to translate the buffer
 *           (writing it would change the translation half-way through the copy) nor one in
 *           the host's table pool (the host does not edit the tables it built for the
 *           guest on the guest's say-so). Every page is checked before the first byte moves.
 */
#ifndef GUEST_VIRT_H
#define GUEST_VIRT_H

#include <stdint.h>

#include "guest_memory.h"
#include "page_walk.h"

#define GV_WRITE_MAX_PAGES 4   /* gv_write() takes buffers that span at most this many pages */

struct guest_virt {
	const struct guest_memory *mem;
	struct paging_regs regs;         /* the vCPU's CR0/CR3/CR4/EFER at the time of the call */
	uint64_t pool_start, pool_end;   /* gpa range of the host-built page tables */
};

enum gv_fault {
	GV_OK,
	GV_WALK,         /* the translation failed: `walk` says where */
	GV_NOT_RAM,      /* mapped, but to a guest-physical address with no RAM */
	GV_READ_ONLY,    /* a write to a page the guest mapped read-only */
	GV_PAGE_TABLE,   /* a write that would land on a page table */
	GV_NO_NUL,       /* a string with no NUL within the bound */
	GV_TOO_BIG,      /* a write larger than GV_WRITE_MAX_PAGES pages */
};

struct gv_error {
	enum gv_fault fault;
	uint64_t offset;         /* which byte of the range (0 = the first) */
	uint64_t gva, gpa;       /* that byte's addresses (gpa when the walk succeeded) */
	struct page_walk walk;   /* the walk of that byte's page */
	uint64_t table;          /* GV_PAGE_TABLE: the table page hit ... */
	int table_level;         /* ... its level in the buffer's walk, or 0: the host's pool */
	uint64_t bound;          /* GV_NO_NUL, GV_TOO_BIG: the limit that was reached */
};

/* Host address of the byte at gva (the walk in *w), or NULL with *err filled. */
void *gva_to_hva(const struct guest_virt *gv, uint64_t gva, struct page_walk *w,
		 struct gv_error *err);

/*
 * Copy the NUL-terminated string at gva into buf[max], reading at most max bytes (the NUL
 * included). Returns the string's length, or -EFAULT (unmapped, not RAM) or -EINVAL (no
 * NUL within max bytes, non-canonical) with *err filled.
 */
long gv_read_string(const struct guest_virt *gv, uint64_t gva, char *buf, uint64_t max,
		    struct gv_error *err);

/* Write len bytes from src to gva, all or nothing (see the rules above). 0 or -EFAULT ... */
int gv_write(const struct guest_virt *gv, uint64_t gva, const void *src, uint64_t len,
	     struct gv_error *err);

/* "byte 256 at gva 0x40006000: gpa 0x200000 is not RAM (RAM ends at 0x200000)". Returns buf. */
char *gv_describe(const struct guest_virt *gv, const struct gv_error *err, char *buf,
		  unsigned len);

#endif
