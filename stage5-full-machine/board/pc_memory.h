/*
 * pc_memory.h - the PC's physical memory map, built from KVM memory slots.
 *
 *   0x00000000-0x0009ffff  RAM (640 KiB "conventional memory")          slot 0
 *   0x000a0000-0x000bffff  VGA window: no RAM (no display yet), MMIO exits
 *   0x000c0000-0x000fffff  13 PAM segments: shadow RAM or ROM, per the i440FX  slots 3-15
 *                          (the last 128 KiB of the BIOS image shows through at 0xe0000)
 *   0x00100000-low top     RAM                                            slot 1
 *   low top  -0xfeffbfff   PCI memory (SeaBIOS places BARs here), IOAPIC, LAPIC
 *   0xfeffc000-0xfeffffff  KVM's real-mode helpers (VMX_* in stage 4's irq.h), e820-reserved
 *   0xffc00000-0xffffffff  UEFI instead of a BIOS: OVMF's flash (pflash.h), vars below code
 *   0xfffc0000-0xffffffff  the BIOS image (256 KiB), read-only: the CPU's reset vector
 *                          0xfffffff0 is its last 16 bytes                slot 2
 *   4 GiB-4 GiB + rest     the RAM that did not fit below the hole        slot PC_ABOVE_4G_SLOT
 *   then (1 GiB-aligned)   the 64-bit PCI window: large BARs (DSDT _CRS, SeaBIOS pciinit)
 *
 * Where RAM stops below 4 GiB ("low top") is QEMU's rule, so that a guest sees the same map
 * under both: pc (i440FX) keeps up to 3.5 GiB below, but when RAM is 3.5 GiB or more it puts
 * 3 GiB there (a 1 GiB-aligned split: huge pages on both sides); q35 keeps up to 2.75 GiB (its
 * ECAM is at 0xb0000000), but from 2.75 GiB on it puts 2 GiB there. Everything else goes from
 * 4 GiB on, as a second KVM slot; in the host it is the same allocation, after the low part.
 *
 * A KVM slot maps guest-physical pages to host memory, optionally read-only
 * (KVM_MEM_READONLY: writes then exit to us as MMIO). Every PAM state maps onto that:
 * read RAM -> RAM slot (read-only unless writes go to RAM too); read ROM -> ROM slot,
 * read-only; a write that exits is stored to RAM if the segment's write bit says so.
 * A slot's flags or backing cannot change in place, so a PAM change deletes and recreates.
 */
#ifndef PC_MEMORY_H
#define PC_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "chipset.h"
#include "kvm.h"

#define PC_LOW_RAM_END   0xa0000
#define PC_SHADOW_BASE   0xc0000
#define PC_HIGH_RAM_BASE 0x100000
#define PC_ISA_BIOS_MAX  0x20000      /* at most the last 128 KiB shows at 0xe0000 */
#define PC_BIOS_MAX      (16u << 20)
#define PC_4G            (1ull << 32)
#define PC_ABOVE_4G_SLOT 24           /* a KVM slot number no other part of the PC uses */
#define PC_PCI64_SIZE    (32ull << 30)   /* the 64-bit PCI window's size (QEMU q35's) */

/* How RAM is split around the PCI hole (pure: unit-tested). */
struct pc_ram_split {
	uint64_t below_4g;          /* bytes at 0 .. below_4g */
	uint64_t above_4g;          /* bytes at 4 GiB .. 4 GiB + above_4g */
	uint64_t pci64_base;        /* the 64-bit PCI window: 1 GiB-aligned past that RAM */
};
void pc_ram_split(bool q35, uint64_t ram_size, struct pc_ram_split *out);

struct pc_memory {
	int vm_fd;
	uint8_t *ram;               /* guest RAM (the stage 1 allocation) */
	uint64_t ram_size;
	bool q35;
	struct pc_ram_split split;  /* where RAM shows: below and above the PCI hole */
	uint8_t *rom;               /* the BIOS image (its own mapping) */
	uint32_t rom_size;
	bool readonly_slots;        /* KVM_CAP_READONLY_MEM */
	enum pam_mode mode[PAM_SEGMENTS];
	bool mapped[PAM_SEGMENTS];
};

/*
 * Load the BIOS image from path (a multiple of 64 KiB, at most 16 MiB), re-slot RAM around
 * the legacy hole and the PCI hole (vm->mem learns the split, for every device's DMA) and
 * map the BIOS at the top of 4 GiB. 0 or a negative errno (why says).
 * bios_path NULL: no BIOS slot (UEFI: the flash devices map themselves, board/pflash.h).
 */
int pc_memory_init(struct pc_memory *pm, struct vm *vm, bool q35, const char *bios_path,
		   char *why, size_t why_len);
/* Follow the PAM registers (chipset callback). */
void pc_memory_pam_changed(void *pm, const uint8_t regs[PAM_REGS]);
/* MMIO handler for 0xc0000-0xfffff: writes that a read-only slot sent back to us. */
int pc_memory_attach(struct pc_memory *pm, struct io_bus *bus);

#endif
