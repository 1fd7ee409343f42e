/*
 * config.h - how a machine is described: QEMU-style flags, or a YAML file (as MVisor does).
 *
 *   minivisor [-M|-machine pc|q35] [-m SIZE] [-smp N] [-bios FILE] [-kernel FILE] [-initrd FILE]
 *             [-append ARGS] [-config FILE.yaml] [-debugcon FILE|stdio] [-device NAME]
 *             [-drive file=F[,if=ide|ahci][,media=disk|cdrom][,format=raw|qcow2][,index=N]
 *             [,readonly=on]] [-hda F] [-hdb F] [-cdrom F] [-boot [order=]c|d[,reboot-timeout=MS]]
 *             [-nographic] [-kvm PATH] [-trace-io] [-vga std|none] [-vgabios FILE]
 *             [-vnc [HOST]:N[,password-file=F]] [-screendump FILE] [-monitor SOCKET]
 *             [-input-script FILE] [-no-reboot]
 *             [-drive if=pflash,format=raw,unit=0|1,file=F[,readonly=on]]
 *             [-netdev user|tap,id=ID,...] [-nic user|tap,...]
 *             [-device e1000|virtio-net-pci,netdev=ID[,mac=M]]   (net/net_config.h)
 *             [-simple-virtio|-fast-virtio]      (virtio-net's simple or fast path)
 *             [-usb] [-device qemu-xhci|piix3-usb-uhci] [-device usb-storage,drive=ID]
 *             [-device usb-kbd|usb-tablet]                       (usb/usb_config.h)
 *             [-drive if=none,id=ID,file=F[,format=raw|qcow2]]   (a stick's disk)
 *             [-device vfio-pci,host=DDDD:BB:DD.F[,x-no-mmap=on]]  (vfio/vfio.h)
 *
 * The two can be mixed; later settings win, so `-config base.yaml -m 1G` changes the memory
 * of a described machine. A YAML file (see configs/pc.yaml) maps the same settings:
 *
 *   machine: pc                 memory: 512M            cpus: 2
 *   firmware: { bios: FILE, linuxboot: FILE, debug-log: stderr|FILE,
 *               code: OVMF_CODE.fd, vars: OVMF_VARS copy }       (UEFI: board/pflash.h)
 *   kernel:   { image: FILE, initrd: FILE, cmdline: "..." }
 *   devices:  [ serial ]
 *   drives:   - { file: FILE, interface: ide|ahci, media: disk|cdrom, format: raw|qcow2,
 *                 index: N, readonly: true|false }
 *   boot:     { order: c|d, reboot-timeout: MS, no-reboot: true|false }
 *   display:  { vga: std|none, vgabios: FILE, vnc: "[HOST]:N[,password-file=F]",
 *               screendump: FILE, monitor: SOCKET }
 *   network:  - { backend: user|tap, model: e1000|virtio-net-pci, mac: M, hostfwd: F,
 *                 net: ADDR/BITS, ifname: TAP }      (one entry per -nic)
 *   usb:      { controller: xhci|uhci, devices: [ usb-kbd, usb-tablet, { type: usb-storage,
 *                 file: F, format: raw|qcow2, readonly: B, port: N, bootindex: N } ] }
 *   vfio:     - { host: DDDD:BB:DD.F, mmap: true|false }   (one entry per -device vfio-pci)
 *   virtio:   simple|fast       (-simple-virtio, -fast-virtio: virtio's path; fast: default)
 *
 * Drives: `interface` defaults to the machine's own controller (pc: IDE, q35: AHCI); `index`
 * is the position on it (IDE: channel * 2 + unit, so -cdrom's default 2 is the secondary master,
 * as in QEMU; AHCI: the port), defaulting to the next free one. Boot order c: disks first, d: the
 * CD first. reboot-timeout: what SeaBIOS does when nothing boots: 0 (default) resets at once
 * (the machine starts again, or the VMM ends with -no-reboot); -1 waits forever; else it waits
 * that many ms. A guest reset restarts the machine as a PC does (board/pc.h); -no-reboot (YAML
 * boot.no-reboot) makes it end the VMM instead, as QEMU's -no-reboot.
 *
 * The display (display/display.h): the standard VGA with -vga std (or -vnc, -screendump,
 * unless -vga none; see config_vga()); -vnc serves
 * its screen on 127.0.0.1:5900+N (a HOST address otherwise); -screendump FILE (.png, or .txt
 * for a text screen) is written on SIGUSR2 and when the machine stops.
 *
 * UEFI (board/pflash.h): `-drive if=pflash,format=raw,unit=0,file=OVMF_CODE_4M.fd,readonly=on`
 * is the firmware's code (it replaces -bios; unit 0 must be readonly=on: it is ROM here), and
 * `-drive if=pflash,format=raw,unit=1,file=vars.fd` its variable store, written back to the file
 * (readonly=on: the guest's writes fail). The YAML keys firmware.code and firmware.vars say the
 * same. Without unit= the next free unit is taken, as QEMU does.
 *
 * -input-script FILE (a test hook, flag only): keys and mouse events played into the PS/2
 * devices as the guest gets ready for them (input/input.h has the format).
 *
 * Relative paths in a YAML file are relative to the file's own directory. Every error names
 * the file, the line and the key, e.g. "pc.yaml:4: key 'memory': bad size '12Q'".
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_config.h"
#include "usb/usb_config.h"
#include "vfio/vfio.h"

#define DEFAULT_BIOS      "/usr/share/seabios/bios-256k.bin"
#define DEFAULT_LINUXBOOT "/usr/share/qemu/linuxboot_dma.bin"
#define DEFAULT_VGABIOS   "/usr/share/seabios/vgabios-stdvga.bin"
#define DEFAULT_CMDLINE   "console=ttyS0 panic=-1"
#define DEFAULT_MEM_MIB   256

#define MAX_DRIVES 8

enum drive_interface { DRIVE_IF_DEFAULT, DRIVE_IF_IDE, DRIVE_IF_AHCI, DRIVE_IF_PFLASH,
		       DRIVE_IF_NONE };   /* none: a device names it by id (usb-storage) */

struct drive_config {
	const char *file;
	enum drive_interface interface;
	bool cdrom;
	unsigned format;              /* 0: probe; BLOCK_FORMAT_RAW or BLOCK_FORMAT_QCOW2 */
	int index;                    /* -1: the next free position */
	bool readonly;
	int unit;                     /* if=pflash: the flash unit; -1: the next free one */
	const char *id;               /* id=: for if=none drives (-device usb-storage,drive=ID) */
};

struct vmm_config {
	const char *machine;          /* "pc" or "q35" */
	uint64_t mem_size;
	unsigned ncpus;
	const char *bios, *linuxboot;
	const char *kernel, *initrd, *cmdline;
	const char *debug_log;        /* NULL, "stdio"/"stderr" or a file */
	const char *kvm_path;
	bool trace_io;
	struct drive_config drives[MAX_DRIVES];
	unsigned ndrives;
	char boot_order;              /* 'c', 'd', or 0: disks, then CDs */
	int64_t reboot_timeout_ms;    /* -1: never */
	bool no_reboot;               /* a guest reset ends the VMM instead of restarting it */
	int vga;                      /* -vga std: 1, none: 0; -1: not said (config_vga()) */
	const char *vgabios;          /* the VGA's BIOS image */
	const char *vnc;              /* -vnc [HOST]:N[,password-file=F]; NULL: none */
	const char *screendump;       /* -screendump FILE: on SIGUSR2 and at the end */
	const char *monitor;          /* -monitor SOCKET: "screendump FILE" requests */
	const char *input_script;     /* -input-script FILE: keys and mouse for tests (input.h) */
	const char *incoming;         /* -incoming file:PATH|tcp:HOST:PORT (migration/migrate.h) */
	const char *control;          /* -control SOCKET: snapshot and migrate requests */
	const char *flash_code;       /* pflash unit 0: UEFI code (replaces bios); NULL: none */
	const char *flash_vars;       /* pflash unit 1: its variables, written back; NULL: none */
	bool flash_vars_readonly;
	struct net_config net;        /* -netdev, -device e1000|virtio-net-pci, -nic; network: */
	struct usb_config usb;        /* -device qemu-xhci|usb-storage|..., -usb; usb: */
	struct vfio_config vfio;      /* -device vfio-pci; vfio: (PCI passthrough) */
};

void config_defaults(struct vmm_config *c);
/* Pure helpers (unit-tested). */
bool config_machine_known(const char *name);
bool config_device_known(const char *name);
/* "512" (MiB, as QEMU's -m), "512M", "2G" -> bytes; 0 when malformed. */
uint64_t config_parse_mem(const char *text);

/* Apply a YAML file. 0, or -1 with one line in why: "FILE:LINE: ..." */
int config_load_yaml(struct vmm_config *c, const char *path, char *why, size_t why_len);
/* Apply a YAML document held in memory; name is used in messages and for relative paths. */
int config_load_yaml_string(struct vmm_config *c, const char *name, const char *text,
			    size_t len, char *why, size_t why_len);
/*
 * Is there a VGA? What -vga or display.vga said; unsaid: only if something shows the screen
 * (-vnc, -screendump; not -monitor, which minivisor-manager passes to every VM), so that a bare command line keeps the serial-only machine
 * of the earlier parts (what QEMU's -nographic gives) and every YAML machine in configs/
 * says `display: { vga: std }`.
 */
bool config_vga(const struct vmm_config *c);
/* Parse the command line. 0, or -1 with one line in why. */
int config_parse_args(struct vmm_config *c, int argc, char **argv, char *why, size_t why_len);

#endif
