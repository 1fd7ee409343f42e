/*
 * cpu_modes.h - put a fresh vCPU straight into real, protected, paged or long mode.
 *
 * A real PC starts in 16-bit real mode and its boot code climbs to long mode step by step.
 * A hypervisor may skip the climb: it writes a GDT and page tables into guest RAM and sets
 * the segment registers, CR0, CR3, CR4 and EFER through KVM_SET_SREGS, so the first guest
 * instruction already runs in the target mode. References: Intel SDM vol. 3, chapters 3
 * (segments, descriptors), 4 (paging) and 9.8 (switching to protected and IA-32e mode).
 *
 * The guest-physical layout every stage-1..3 guest sees:
 *
 *   0x0400  RESULT_GPA      the hello-world guest leaves its "done" value here
 *   0x0500  GDT_GPA         null, code, data descriptors (built by the host)
 *   0x1000  PAGE_POOL_GPA   page tables (built by the host) ...
 *   0x8000  GUEST_LOAD_GPA  ... up to here; the guest image is loaded here and starts here
 *   top of RAM              initial stack pointer (real mode: just below the image)
 */
#ifndef CPU_MODES_H
#define CPU_MODES_H

#include <linux/kvm.h>
#include <stdint.h>

#include "guest_memory.h"

#define RESULT_GPA      0x0400
#define GDT_GPA         0x0500
#define PAGE_POOL_GPA   0x1000
#define PAGE_POOL_END   0x8000
#define GUEST_LOAD_GPA  0x8000

#define GUEST_DONE_VALUE 42   /* what the hello guest leaves in RAX and at RESULT_GPA */

#define SEL_CODE 0x08  /* GDT index 1 */
#define SEL_DATA 0x10  /* GDT index 2 */

/* Control-register and EFER bits we set (SDM vol. 3, 2.5 and 2.2.1). */
#define CR0_PE    (1u << 0)    /* protection enable */
#define CR0_PG    (1u << 31)   /* paging */
#define CR4_PSE   (1u << 4)    /* 4 MiB pages in 32-bit paging */
#define CR4_PAE   (1u << 5)    /* 64-bit page-table entries; required by long mode */
#define EFER_LME  (1u << 8)    /* long mode enable */
#define EFER_LMA  (1u << 10)   /* long mode active (the CPU sets it; we set it for KVM) */

/* Page-table entry bits shared by every paging mode (SDM vol. 3, 4.3 and 4.5). */
#define PTE_PRESENT  (1ull << 0)
#define PTE_WRITE    (1ull << 1)
#define PTE_USER     (1ull << 2)
#define PTE_HUGE     (1ull << 7)   /* PS: this entry maps a large page, not a table */
#define PTE_ADDR_MASK 0x000ffffffffff000ull

#define PAGE_SIZE  0x1000ull
#define SIZE_2M    (1ull << 21)
#define SIZE_4M    (1ull << 22)
#define SIZE_1G    (1ull << 30)

enum cpu_mode { MODE_REAL, MODE_PROTECTED, MODE_PAGED, MODE_LONG };

/* "real" -> MODE_REAL ...; returns -1 for an unknown name. */
int cpu_mode_from_name(const char *name);
const char *cpu_mode_name(enum cpu_mode mode);

/*
 * Encode a segment, described as KVM describes it in KVM_SET_SREGS, as the 8-byte GDT
 * descriptor the CPU would load it from. Using one struct for both keeps them in step.
 */
uint64_t gdt_encode(const struct kvm_segment *seg);

/* A flat (base 0, 4 GiB) code or data segment for the given mode. */
struct kvm_segment flat_code_segment(enum cpu_mode mode);
struct kvm_segment flat_data_segment(void);

/*
 * Identity-map guest-physical [0, map_bytes) for long mode: PML4 -> PDPT -> PDs of 2 MiB
 * pages, all taken from the page pool [pool_gpa, pool_end). Writes *cr3.
 * Returns 0, -ENOSPC if the pool is too small, -EFAULT if the pool is outside RAM.
 */
int build_long_mode_tables(const struct guest_memory *mem, uint64_t pool_gpa, uint64_t pool_end,
			   uint64_t map_bytes, uint64_t *cr3);

/* Identity-map [0, map_bytes) with 32-bit paging: one page directory of 4 MiB (PSE) pages. */
int build_32bit_tables(const struct guest_memory *mem, uint64_t pd_gpa, uint64_t map_bytes,
		       uint64_t *cr3);

/*
 * Write the GDT and page tables into guest RAM and set the vCPU's special and general
 * registers so it starts at entry in the given mode with the given stack.
 * Returns 0 or a negative errno.
 */
struct vcpu;
int cpu_enter_mode(struct vcpu *vcpu, enum cpu_mode mode, uint64_t entry, uint64_t stack_top);

#endif
