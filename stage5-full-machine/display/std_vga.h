/*
 * std_vga.h - QEMU's standard VGA ("-vga std"): a PCI display adapter, 1234:1111.
 *
 * Teaches: a device whose memory the guest uses directly. Its 16 MiB of VRAM are a KVM memory
 * slot at the address the firmware gives BAR0: the guest's stores land in host memory without
 * an exit, and KVM keeps a bitmap of the pages written (KVM_MEM_LOG_DIRTY_PAGES,
 * KVM_GET_DIRTY_LOG) so the VMM redraws only those. The legacy parts - the 128 KiB window at
 * 0xa0000 with its planes and write modes, ports 0x3b0-0x3df, the Bochs VBE ports - exit to
 * vga.c. Models QEMU's hw/display/vga-pci.c layout (read, not copied):
 *
 *   00:02.0 (pc) / 00:01.0 (q35)  class 03/00 (VGA), vendor 1234, device 1111
 *   BAR0  16 MiB prefetchable memory: VRAM, the linear frame buffer
 *   BAR2  4 KiB MMIO: 0x400-0x41f = VGA ports 0x3c0-0x3df, 0x500-0x515 = the VBE registers
 *         (16 bits each, index * 2): what Linux's bochs-drm uses instead of ports
 *   ROM   the VGA BIOS (SeaBIOS's vgabios-stdvga.bin), given to SeaBIOS through fw_cfg as
 *         "pci1234,1111.rom", the name under which SeaBIOS looks for a PCI device's ROM
 *         before it reads the ROM BAR (board/pc.c adds the file)
 *
 * A guest may move BAR0 anywhere, over RAM too: KVM refuses an overlapping slot, the VMM says
 * so in one line and leaves VRAM unmapped; every other bad value is refused by vga.c.
 */
#ifndef DISPLAY_STD_VGA_H
#define DISPLAY_STD_VGA_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "guest_error.h"
#include "pci.h"
#include "vga.h"

#define STD_VGA_VENDOR 0x1234
#define STD_VGA_DEVICE 0x1111
#define STD_VGA_ROM_NAME "pci1234,1111.rom"
#define STD_VGA_DEFAULT_ROM "/usr/share/seabios/vgabios-stdvga.bin"
#define STD_VGA_MMIO_SIZE 0x1000

struct std_vga {
	struct vga vga;
	struct pci_device pci;
	int vm_fd;
	unsigned kvm_slot;
	uint64_t mapped_at;        /* guest address of the VRAM slot; 0: not mapped */
	bool log_dirty;            /* KVM logs the slot's writes (else: assume all dirty) */
	struct bus_range *mmio;    /* BAR2 */
	unsigned reported;         /* vga.refused when last looked at */
	struct guest_errors errors; /* lines printed about refusals (guest_error.h) */
};

/*
 * Allocate VRAM, register the ports, the window and BAR2 on the bus, and place the PCI
 * function at slot.0 (the firmware assigns its BARs). kvm_slot: a free KVM memory slot for
 * VRAM. 0, or a negative errno with one line in why.
 */
int std_vga_attach(struct std_vga *sv, struct io_bus *bus, struct pci_host *host, int vm_fd,
		   unsigned kvm_slot, unsigned slot, char *why, size_t why_len);
void std_vga_detach(struct std_vga *sv);

/* Fold KVM's dirty log of the VRAM slot into sv->vga.dirty. Call with the bus lock held. */
void std_vga_sync_dirty(struct std_vga *sv);

#endif
