/*
 * guest.h - what the stage-2 guests share: a console, self-checks, and the test map.
 *
 * The console is stage 1's debug port 0xE9, written with `rep outsb` (one instruction per
 * line; a hardware KVM batches it into one exit, KVM's instruction emulator takes one per
 * byte). It is kept apart from the hypercalls under test, so that what the guest reports
 * does not depend on them working.
 *
 * The test map is what setup_test_map() adds to the host's page tables (cr3 -> PML4 ->
 * PDPT -> PD of 2 MiB pages, identity-mapping RAM): one example of every kind of mapping and
 * of every kind of hole, at fixed guest-virtual addresses (docs/stage2.md draws them).
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "hypercall.h"

/* 0x40000000 (1 GiB, PDPT entry 1): a page directory of our own. Its PD entry 0 is a page
 * table of 4 KiB pages: */
#define VA_4K_BASE   0x40000000ull
#define VA_SWAP_LO   (VA_4K_BASE + 0x0000)   /* -> page B   virtual neighbours, mapped to  */
#define VA_SWAP_HI   (VA_4K_BASE + 0x1000)   /* -> page A   physical pages in reverse order */
#define VA_READ_ONLY (VA_4K_BASE + 0x2000)   /* -> page C, R/W=0 */
#define VA_PT_HOLE   (VA_4K_BASE + 0x3000)   /* PT entry 3: not present */
#define VA_SELF_MAP  (VA_4K_BASE + 0x4000)   /* -> the page table itself */
#define VA_RAM_END   (VA_4K_BASE + 0x5000)   /* -> the last page of RAM, and next to it */
#define VA_PAST_RAM  (VA_4K_BASE + 0x6000)   /* -> the first page after RAM: no RAM there */
#define VA_2M_ALIAS  0x40200000ull           /* PD entry 1: a 2 MiB page -> gpa 0 */
#define VA_PD_HOLE   0x40400000ull           /* PD entry 2: not present */
#define VA_1G_ALIAS  0x80000000ull           /* PDPT entry 2: a 1 GiB page -> gpa 0 */
#define VA_PDPT_HOLE 0xc0000000ull           /* PDPT entry 3: not present */
#define VA_PML4_HOLE 0x8000000000ull         /* PML4 entry 1: not present */
#define VA_NON_CANONICAL 0x0000800000000000ull   /* bit 47 set, bits 63..48 clear */

#define GUEST_PAGE 4096

/* The physical pages behind VA_SWAP_LO, VA_SWAP_HI and VA_READ_ONLY, and the page table. */
extern uint8_t page_a[GUEST_PAGE], page_b[GUEST_PAGE], page_c[GUEST_PAGE];
extern uint64_t test_pt[512];

/* Build the test map; ram_size is what the host passed in RDI. */
void setup_test_map(uint64_t ram_size);

/* Does this CPU have 1 GiB pages (CPUID 0x80000001 EDX bit 26)? The guest must not touch
 * VA_1G_ALIAS itself when it does not: the PS bit is then reserved, a page fault. */
bool cpu_has_1g_pages(void);

/*
 * printf to the console, one line per call (at most 160 bytes), prefixed "guest: ".
 * %s %c %d %u %x (32-bit), %lu %lx (64-bit; hex without "0x"), and %r: a hypercall result,
 * "0 (HC_OK)", "-14 (HC_EFAULT)" ...
 */
void say(const char *fmt, ...);

/* A self-check: prints "guest: ok: what" or "guest: FAILED: what" and counts failures. */
void check(bool ok, const char *what);

/* The guest's verdict: main returns it, the entry stub halts with it in RAX. */
int checks_failed(void);

#endif
