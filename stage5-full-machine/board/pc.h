/*
 * pc.h - machine type `pc`: QEMU's i440FX PC, booted by real firmware (SeaBIOS); and `q35`.
 *
 * Stage 4's VMM was its own firmware: it loaded Linux, wrote the tables, and started the CPU
 * in 64-bit mode. A full PC starts the CPU where hardware does, in real mode at 0xfffffff0,
 * inside the BIOS ROM, and the firmware does the rest: it shadows itself into RAM (PAM),
 * finds the memory size and the boot devices (fw_cfg, CMOS), sets up the PCI bus and the
 * interrupt routing, installs ACPI tables, prints its banner and boots.
 *
 *   ports  0x060, 0x064  i8042 keyboard controller    0x070-0x071  CMOS RTC (stage 4)
 *          0x092         System Control Port A         0x3f8-0x3ff  COM1 16550A (stage 4)
 *          0x402         SeaBIOS debug console         0x510-0x51b  fw_cfg, its DMA
 *          0x600-0x60b   ACPI PM1 + PM timer (stage 4) 0xcf8-0xcff  PCI config, 0xcf9 reset
 *          in KVM: PIC 0x20/0xa0 (and ELCR 0x4d0), PIT 0x40, port 0x61
 *          q35 only: 0x630 ICH9 SMI_EN; MMIO 0xb0000000 (where PCIEXBAR puts it) ECAM
 *          -vga std: 0x1ce-0x1d0 Bochs VBE, 0x3b0-0x3df VGA, MMIO 0xa0000-0xbffff the window
 *   memory see pc_memory.h (and VRAM: the standard VGA's BAR0, a KVM slot, display/std_vga.h)
 *
 * Machine type `q35` is the same machine with the Q35 MCH and the ICH9 LPC bridge (chipset.h).
 *
 * Disks: the pc machine's PIIX3 IDE controller (00:01.1, storage/ide.h) and the q35 machine's
 * ICH9 AHCI controller (00:1f.2, storage/ahci.h) carry ATA disks and ATAPI CD-ROMs
 * (storage/ata.h) whose bytes live in a disk image (block/: raw or QCOW2). SeaBIOS boots from
 * them in the order fw_cfg's "bootorder" file gives.
 *
 * Display: QEMU's standard VGA (-vga std, 1234:1111) at 00:02.0 on pc and 00:01.0 on q35, its
 * BIOS through fw_cfg, and a display thread beside the vCPUs (display/: VNC, screendumps).
 *
 * Network: e1000 (8086:100e, the first free slot from 00:03.0 on pc, 00:02.0 on q35) and stage
 * 4's virtio-net (its first free slot), on user-mode (libslirp) or tap back ends, with a net
 * thread (net/).
 *
 * USB: QEMU's xHCI (1b36:000d) at 00:0d.0 with -device qemu-xhci or -usb, or the PIIX3's UHCI
 * (8086:7020) at 00:01.2 on pc, 00:1d.0 on q35 with -device piix3-usb-uhci; USB sticks on it
 * (-device usb-storage,drive=ID), which SeaBIOS can boot, a keyboard and a tablet (usb/).
 *
 * The whole stage 4 `struct machine` is reused: its bus, its vCPU threads and terminal loop
 * (machine_run), its UART, RTC and power devices. Only the building differs (pc_create).
 */
#ifndef PC_H
#define PC_H

#include <stdbool.h>
#include <stdio.h>

#include "chipset.h"
#include "config.h"
#include "firmware.h"
#include "fw_cfg.h"
#include "hpet.h"
#include "machine.h"
#include "pc_memory.h"
#include "pflash.h"
#include "display/display.h"
#include "display/std_vga.h"
#include "input/input.h"
#include "net/net.h"
#include "storage/ahci.h"
#include "storage/ide.h"
#include "usb/usb_machine.h"
#include "vfio/vfio.h"

#define PC_DEBUGCON_PORT 0x402
#define PC_MIN_RAM (16ull << 20)

struct pc_config {
	enum chipset_kind chipset;    /* machine type pc (i440FX) or q35 */
	const char *kvm_path;
	const char *bios;
	uint64_t mem_size;
	unsigned ncpus;
	const char *kernel, *initrd, *cmdline;
	const char *linuxboot_rom;
	FILE *debug_log;              /* SeaBIOS's port 0x402 output; NULL: dropped */
	bool trace_io;
	const struct drive_config *drives;
	unsigned ndrives;
	char boot_order;              /* 'c', 'd' or 0 (config.h) */
	int64_t reboot_timeout_ms;    /* -1: SeaBIOS never gives up */
	bool vga;                     /* the standard VGA (display/std_vga.h) */
	const char *vga_rom;          /* its BIOS (SeaBIOS's vgabios-stdvga.bin) */
	struct display_config display;   /* VNC, screendump, monitor (display/display.h) */
	const char *input_script;     /* -input-script FILE: keys and mouse for tests (input.h) */
	bool no_reboot;               /* -no-reboot: a guest reset ends pc_run() */
	const char *flash_code;       /* UEFI: pflash unit 0 (replaces bios); NULL: SeaBIOS */
	const char *flash_vars;       /* pflash unit 1, written back to the file; NULL: none */
	bool flash_vars_readonly;
	const struct net_config *net; /* network cards and back ends (net/net.h); NULL: none */
	const struct usb_config *usb; /* the USB controller and devices (usb/); NULL: none */
	const struct vfio_config *vfio;   /* passed-through host devices (vfio/vfio.h); NULL: none */
	bool incoming;                /* -incoming: disks opened unlocked until handed over */
};

/* The disk controller's positions: IDE channel * 2 + unit, or the AHCI port. */
#define PC_DRIVE_POSITIONS 6

struct pc_drives {
	struct block_dev *at[PC_DRIVE_POSITIONS];
	enum ata_media media[PC_DRIVE_POSITIONS];
	unsigned positions;           /* IDE_MAX_DRIVES on pc, AHCI_MAX_PORTS on q35 */
};

struct pc {
	const struct pc_config *cfg;  /* kept: a reset builds the machine from it again */
	unsigned resets;              /* guest resets so far */
	struct hpet hpet;             /* 0xfed00000 (hpet.h) */
	struct machine m;             /* stage 4: vm, vcpus, bus, com1, rtc, power, threads */
	struct pc_memory memory;
	struct chipset chipset;
	struct fw_cfg fw_cfg;
	struct pc_drives drives;
	struct ide_controller ide;    /* pc */
	struct ahci_controller ahci;  /* q35 */
	bool has_vga;
	struct std_vga vga;           /* 00:02.0 on pc, 00:01.0 on q35 (QEMU's places) */
	struct display display;       /* its picture: VNC, screendumps (a thread of its own) */
	struct i8042 i8042;           /* keyboard controller, PS/2 keyboard and mouse (input/) */
	struct ps2_pointer pointer;   /* VNC's absolute pointer, turned relative for the mouse */
	struct input_script *input_script;   /* -input-script: played while the machine runs */
	struct pflash flash[2];       /* UEFI: code at the top of 4 GiB, vars below (pflash.h) */
	unsigned nflash;
	struct pc_net net;            /* e1000, virtio-net, their back ends, the net thread */
	struct pc_usb usb;            /* xHCI or UHCI, its devices, the sticks' disks (usb/) */
	struct vfio_set vfio;         /* passed-through host devices: after the NICs' slots */
	char bootorder[512];          /* fw_cfg "bootorder": OpenFirmware paths, one a line */
	FILE *debug_log;
	char debug_line[160];         /* written a line at a time: stderr may be the console too */
	unsigned debug_len;
	struct migration *migration;  /* -control: snapshots and migration (migration/) */
};

/* Build the machine. 0, or a negative errno with one line in why naming what failed. */
int pc_create(struct pc *pc, const struct pc_config *cfg, char *why, size_t why_len);
/*
 * Run it (stage 4's machine_run, with the display thread beside the vCPUs). A guest reset
 * (END_REBOOT) starts the machine again with pc_reset() unless cfg->no_reboot: it returns
 * only when the guest powers off, the user quits, a vCPU fails, or with -no-reboot a reset.
 */
enum machine_end pc_run(struct pc *pc);
/*
 * A reset, as the power-on: the machine side (the KVM VM, its RAM, vCPUs and in-kernel
 * interrupt controllers, fw_cfg, every device model) is torn down and built again by the same
 * code pc_create() uses; the host side (disk images, display, VNC, monitor) stays. Called
 * between machine runs only (no vCPU thread alive). 0, or a negative errno with why.
 */
int pc_reset(struct pc *pc, char *why, size_t why_len);
void pc_destroy(struct pc *pc);

#endif
