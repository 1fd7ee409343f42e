/*
 * pc.c - build the `pc` machine: KVM, the memory map, the chipset and the firmware. See pc.h.
 *
 * The order matters to KVM as in stage 4 (interrupt controllers before vCPUs), and to the
 * user: every host file is checked before a VM exists, so a typo costs no KVM setup.
 */
#include "pc.h"
#include "multiboot.h"
#include "migration/migrate.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#define QEMU_DEBUGCON_READBACK 0xe9   /* what SeaBIOS expects to read from port 0x402 */

/* CMOS NVRAM fields a PC BIOS reads (the Bochs/QEMU layout; SeaBIOS src/hw/rtc.h). */
#define CMOS_FLOPPY_TYPES   0x10
#define CMOS_EQUIPMENT      0x14
#define CMOS_BASE_MEM_LOW   0x15   /* KiB below 1 MiB */
#define CMOS_EXT_MEM_LOW    0x17   /* KiB from 1 MiB to 64 MiB; copied at 0x30 */
#define CMOS_EXT_MEM2_LOW   0x30
#define CMOS_MEM_16M_LOW    0x34   /* 64 KiB units above 16 MiB */
#define CMOS_BOOT_ORDER     0x3d
#define CMOS_MEM_4G_LOW     0x5b   /* 64 KiB units above 4 GiB (three bytes) */
#define CMOS_SMP_COUNT      0x5f   /* CPUs - 1 */

/* A 16-bit CMOS field: larger sizes read as the most the field holds. */
static void cmos_put16(struct rtc_state *rtc, unsigned index, uint32_t value)
{
	rtc_cmos_set(rtc, index, value > 0xffff ? 0xffff : value, 2);
}

/* The sizes come from the split (pc_memory.h): the fields below 4 GiB count only that part. */
static void cmos_fill(struct rtc_state *rtc, const struct pc_ram_split *split, unsigned ncpus)
{
	uint64_t ram = split->below_4g;
	uint64_t ext_kib = ram > (64ull << 20) ? 63 << 10 : (ram >> 10) - 1024;
	cmos_put16(rtc, CMOS_BASE_MEM_LOW, 640);
	cmos_put16(rtc, CMOS_EXT_MEM_LOW, ext_kib);
	cmos_put16(rtc, CMOS_EXT_MEM2_LOW, ext_kib);
	cmos_put16(rtc, CMOS_MEM_16M_LOW, ram > (16ull << 20) ? (ram - (16ull << 20)) >> 16 : 0);
	rtc_cmos_set(rtc, CMOS_MEM_4G_LOW, split->above_4g >> 16, 3);
	rtc_cmos_set(rtc, CMOS_SMP_COUNT, ncpus - 1, 1);
	rtc_cmos_set(rtc, CMOS_FLOPPY_TYPES, 0, 1);   /* no floppy drives */
	rtc_cmos_set(rtc, CMOS_EQUIPMENT, 0x06, 1);   /* math coprocessor, mouse; no floppies */
	rtc_cmos_set(rtc, CMOS_BOOT_ORDER, 0x02, 1);  /* hard disk first (Bochs encoding) */
}

/* ---- the debug console: port 0x402 ------------------------------------------------- */

static int debugcon_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	(void)dev;
	(void)offset;
	memset(data, 0, len);
	data[0] = QEMU_DEBUGCON_READBACK;   /* "a debug console is here": SeaBIOS then writes */
	return 0;
}

static int debugcon_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct pc *pc = dev;
	(void)offset;
	if (!pc->debug_log)
		return 0;
	for (unsigned i = 0; i < len; i++) {
		pc->debug_line[pc->debug_len++] = data[i];
		if (data[i] == '\n' || pc->debug_len == sizeof(pc->debug_line)) {
			fwrite(pc->debug_line, 1, pc->debug_len, pc->debug_log);
			fflush(pc->debug_log);
			pc->debug_len = 0;
		}
	}
	return 0;
}

static const struct bus_ops debugcon_ops = { debugcon_read, debugcon_write };

/* ---- vCPUs --------------------------------------------------------------------------- */

static int create_vcpus(struct pc *pc, char *why, size_t why_len)
{
	struct machine *m = &pc->m;
	for (unsigned i = 0; i < m->ncpus; i++) {
		/* KVM's reset state is the hardware's: real mode, CS:IP f000:fff0 (0xfffffff0). */
		int err = vcpu_create(&m->vm, &m->vcpus[i], i);
		if (!err)
			err = vcpu_set_identity(&m->vm, &m->vcpus[i], m->ncpus);
		if (err)
			return machine_fail(err, why, why_len, "vCPU %u: %s", i, strerror(-err));
	}
	return 0;
}

/* ---- disks ------------------------------------------------------------------------------ */

/*
 * Where a drive goes. The machine has one disk controller: IDE on pc, AHCI on q35 (as QEMU's
 * machines of those names); asking for the other is an error, not a silent move.
 */
static int drive_position(struct pc *pc, const struct pc_config *cfg,
			  const struct drive_config *d, char *why, size_t why_len)
{
	bool q35 = cfg->chipset == CHIPSET_Q35;
	if ((d->interface == DRIVE_IF_IDE && q35) || (d->interface == DRIVE_IF_AHCI && !q35))
		return machine_fail(-EINVAL, why, why_len, "%s: machine %s has no %s controller "
				    "(use if=%s)", d->file, q35 ? "q35" : "pc",
				    q35 ? "IDE" : "AHCI", q35 ? "ahci" : "ide");
	struct pc_drives *drives = &pc->drives;
	if (d->index >= (int)drives->positions)
		return machine_fail(-EINVAL, why, why_len, "%s: index %d: the %s controller has "
				    "positions 0..%u", d->file, d->index, q35 ? "AHCI" : "IDE",
				    drives->positions - 1);
	if (d->index >= 0 && drives->at[d->index])
		return machine_fail(-EBUSY, why, why_len, "%s: index %d is taken by %s", d->file,
				    d->index, drives->at[d->index]->path);
	for (unsigned i = d->index >= 0 ? (unsigned)d->index : 0; i < drives->positions; i++)
		if (!drives->at[i])
			return i;
	return machine_fail(-ENOSPC, why, why_len, "%s: no free position on the %s controller",
			    d->file, q35 ? "AHCI" : "IDE");
}

static int open_drives(struct pc *pc, const struct pc_config *cfg, char *why, size_t why_len)
{
	pc->drives.positions = cfg->chipset == CHIPSET_Q35 ? AHCI_MAX_PORTS : IDE_MAX_DRIVES;
	for (unsigned i = 0; i < cfg->ndrives; i++) {
		const struct drive_config *d = &cfg->drives[i];
		if (d->interface == DRIVE_IF_NONE)
			continue;   /* a device's disk (usb-storage): the device opens it */
		int at = drive_position(pc, cfg, d, why, why_len);
		if (at < 0)
			return at;
		/* A CD-ROM is read-only media; its image is shared, as QEMU opens it. */
		unsigned flags = d->format | (d->readonly || d->cdrom ? BLOCK_RDONLY : 0);
		if (cfg->incoming)   /* the source holds them until it hands over (migrate.h) */
			flags |= BLOCK_NO_LOCK;
		int err = block_open(d->file, flags, &pc->drives.at[at], why, why_len);
		if (err)
			return err;
		pc->drives.media[at] = d->cdrom ? ATA_MEDIA_CDROM : ATA_MEDIA_DISK;
	}
	return 0;
}

/* Append one line to the bootorder text (lines are separated, not ended, by newlines). */
static void bootorder_add(struct pc *pc, const char *line)
{
	size_t n = strlen(pc->bootorder), cap = sizeof(pc->bootorder);
	snprintf(pc->bootorder + n, cap - n, "%s%s", n ? "\n" : "", line);
}

static void bootorder_add_fn(void *pc, const char *line)
{
	bootorder_add(pc, line);
}

/* SeaBIOS's names for the positions (its src/boot.c builds the same paths to compare). */
static void boot_path(const struct pc *pc, unsigned at, char *out, size_t len)
{
	if (pc->drives.positions == AHCI_MAX_PORTS)
		snprintf(out, len, "/pci@i0cf8/sata@1f,2/drive@%u/disk@0", at);
	else
		snprintf(out, len, "/pci@i0cf8/ide@1,1/drive@%u/disk@%u", at / 2, at % 2);
}

/* The fw_cfg "bootorder" file: the kernel (direct boot) first, then by -boot's order. */
static void build_bootorder(struct pc *pc, const struct pc_config *cfg)
{
	char path[64];
	if (cfg->kernel)   /* the ROM that boots it (firmware.c chooses the same way) */
		bootorder_add(pc, multiboot_is_kernel(cfg->kernel) ? "/rom@genroms/multiboot.bin" :
			      "/rom@genroms/linuxboot_dma.bin");
	if (cfg->usb)   /* USB sticks with a bootindex: before the disks */
		usb_bootorder(&pc->usb, cfg->usb, true, bootorder_add_fn, pc);
	bool cd_first = cfg->boot_order == 'd';
	for (int pass = 0; pass < 2; pass++) {
		enum ata_media want = (pass == 0) == cd_first ? ATA_MEDIA_CDROM : ATA_MEDIA_DISK;
		for (unsigned i = 0; i < pc->drives.positions; i++) {
			if (pc->drives.at[i] && pc->drives.media[i] == want) {
				boot_path(pc, i, path, sizeof(path));
				bootorder_add(pc, path);
			}
		}
	}
	if (cfg->usb)   /* USB sticks without a bootindex: after the disks */
		usb_bootorder(&pc->usb, cfg->usb, false, bootorder_add_fn, pc);
}

/*
 * IDE at 00:01.1 (PIIX3's function 1) on pc, AHCI at 00:1f.2 (ICH9's function 2) on q35: always
 * there, as on the real boards, with or without drives.
 */
static int attach_disk_controller(struct pc *pc, char *why, size_t why_len)
{
	struct machine *m = &pc->m;
	if (pc->chipset.state.kind == CHIPSET_Q35)
		return ahci_attach(&pc->ahci, &m->bus, &pc->chipset.pci, &m->vm.mem, m->vm.vm_fd,
				   Q35_LPC_SLOT, 2, chipset_intx_gsi(Q35_LPC_SLOT, 0),
				   pc->drives.at, pc->drives.media, why, why_len);
	return ide_attach(&pc->ide, &m->bus, &pc->chipset.pci, &m->vm.mem, m->vm.vm_fd, 1, 1,
			  pc->drives.at, pc->drives.media, why, why_len);
}

/* ---- the display ---------------------------------------------------------------------------- */

/* KVM memory slot of VRAM: the first after pc_memory's (RAM, BIOS, 13 PAM segments). */
#define PC_VRAM_KVM_SLOT 16

/*
 * Keys and pointer from a VNC client, on the display thread: into the PS/2 keyboard and mouse
 * behind the i8042 (input/input.h; those calls take the bus lock themselves). A keysym with
 * no key on the US layout is ignored.
 */
static void vnc_key(void *opaque, uint32_t keysym, bool down)
{
	struct pc *pc = opaque;
	ps2_kbd_keysym(&pc->i8042, keysym, down);
	pthread_mutex_lock(&pc->m.bus.lock);   /* and the USB keyboard, if there is one */
	usb_vnc_key(&pc->usb, keysym, down);
	pthread_mutex_unlock(&pc->m.bus.lock);
}

static void vnc_pointer(void *opaque, int x, int y, unsigned buttons)
{
	struct pc *pc = opaque;
	ps2_mouse_pointer(&pc->i8042, &pc->pointer, x, y, buttons);   /* display thread only */
	pthread_mutex_lock(&pc->m.bus.lock);   /* the USB tablet: absolute, no acceleration */
	usb_vnc_pointer(&pc->usb, x, y, pc->display.r.g.width, pc->display.r.g.height, buttons);
	pthread_mutex_unlock(&pc->m.bus.lock);
}

/* The standard VGA where QEMU puts it (00:02.0 on pc, 00:01.0 on q35), and its picture. */
static int attach_display(struct pc *pc, const struct pc_config *cfg, char *why, size_t why_len)
{
	struct machine *m = &pc->m;
	if (!cfg->vga)
		return 0;
	unsigned slot = pc->chipset.state.kind == CHIPSET_Q35 ? 1 : 2;
	int err = std_vga_attach(&pc->vga, &m->bus, &pc->chipset.pci, m->vm.vm_fd,
				 PC_VRAM_KVM_SLOT, slot, why, why_len);
	pc->has_vga = pc->vga.vga.vram != NULL;   /* pc_destroy frees what was allocated */
	if (err || pc->display.vga)   /* opened at power-on; a reset keeps it: VNC clients stay */
		return err;
	struct vnc_input input = { vnc_key, vnc_pointer, pc };
	return display_open(&pc->display, &pc->vga, &m->bus.lock, &cfg->display, &input, why,
			    why_len);
}

/* ---- UEFI: the firmware's flash ------------------------------------------------------------ */

/* KVM memory slots of the flash units: past pc_memory's (RAM above 4 GiB is 24) and VRAM's. */
#define PC_PFLASH_KVM_SLOT 26

/* Open the pflash images (host files, before a VM exists); their sizes must fit the window. */
static int open_flash(struct pc *pc, const struct pc_config *cfg, char *why, size_t why_len)
{
	if (cfg->flash_vars && !cfg->flash_code)
		return machine_fail(-EINVAL, why, why_len, "%s: a pflash variable store needs the "
				    "firmware code as pflash unit 0", cfg->flash_vars);
	const char *path[2] = { cfg->flash_code, cfg->flash_vars };
	bool readonly[2] = { true, cfg->flash_vars_readonly };
	uint64_t total = 0;
	for (unsigned i = 0; i < 2 && path[i]; i++) {
		int err = pflash_open(&pc->flash[i], path[i], readonly[i], why, why_len);
		if (err)
			return err;
		pc->nflash = i + 1;
		total += pc->flash[i].size;
	}
	if (total > PFLASH_WINDOW)
		return machine_fail(-EFBIG, why, why_len, "%s: %llu KiB of flash with the "
				    "variables: more than the 8 MiB window below 4 GiB", path[0],
				    (unsigned long long)(total >> 10));
	return 0;
}

/* The code flash ends at 4 GiB (the reset vector is its last 16 bytes), vars just below. */
static int map_flash(struct pc *pc, char *why, size_t why_len)
{
	uint64_t gpa = 1ull << 32;
	for (unsigned i = 0; i < pc->nflash; i++) {
		struct pflash *f = &pc->flash[i];
		/* A power-on (or reset) finds the chip showing its array, as after pflash_open. */
		pflash_init(f, f->data, f->size, f->readonly);
		f->mapped = false;   /* a new VM: no slot of the last one counts */
		gpa -= f->size;
		int err = pflash_map(&pc->flash[i], &pc->m.bus, pc->m.vm.vm_fd,
				     pc->memory.readonly_slots, PC_PFLASH_KVM_SLOT + i, gpa,
				     why, why_len);
		if (err)
			return err;
	}
	return 0;
}

/* ---- putting it together --------------------------------------------------------------- */

static int attach_devices(struct pc *pc, const struct pc_config *cfg, char *why, size_t why_len)
{
	struct machine *m = &pc->m;
	/* The keyboard controller: IRQ 1 and 12, and one of the machine's reset wires. */
	i8042_init(&pc->i8042, m->vm.vm_fd, &m->reset_line, &m->bus.lock);
	if (uart_attach(&m->com1, &m->bus, m->vm.vm_fd, COM1_PORT, COM1_IRQ, STDOUT_FILENO) ||
	    rtc_attach(&m->rtc, &m->bus) || power_attach(&m->power, &m->bus) ||
	    i8042_attach(&pc->i8042, &m->bus) ||
	    chipset_attach(&pc->chipset, &m->bus, m->vm.vm_fd, ACPI_PM1_EVT_PORT) ||
	    fw_cfg_attach(&pc->fw_cfg, &m->bus) ||
	    pc_memory_attach(&pc->memory, &m->bus) ||
	    hpet_attach(&pc->hpet, &m->bus, m->vm.vm_fd, &m->bus.lock) ||
	    !bus_register(&m->bus, BUS_PIO, PC_DEBUGCON_PORT, 1, &debugcon_ops, pc, "debugcon"))
		return machine_fail(-EBUSY, why, why_len, "devices overlap on the bus");
	cmos_fill(&m->rtc, &pc->memory.split, m->ncpus);
	int err = attach_disk_controller(pc, why, why_len);
	if (!err)
		err = attach_display(pc, cfg, why, why_len);
	if (!err && cfg->usb)   /* at its fixed slot, before the NICs take the free ones */
		err = usb_attach(&pc->usb, cfg->usb, &m->bus, &pc->chipset.pci, &m->vm.mem,
				 m->vm.vm_fd, chipset_intx_gsi(USB_PCI_SLOT, 0), why, why_len);
	/* Network cards after the fixed devices, in the next free slots (as QEMU's -nic). */
	unsigned first_nic_slot = pc->chipset.state.kind == CHIPSET_Q35 ? 2 : 3;
	if (!err && cfg->net)
		err = net_attach(&pc->net, &m->bus, &pc->chipset.pci, &m->vm.mem, m->vm.vm_fd,
				 first_nic_slot, why, why_len);
	/* Passed-through devices last, in the next free slots; all RAM is mapped for their DMA. */
	if (!err && pc->vfio.n)
		err = vfio_attach(&pc->vfio, &m->bus, &pc->chipset.pci, m->vm.vm_fd, &pc->fw_cfg,
				  m->vm.mem.host, pc->memory.split.below_4g,
				  pc->memory.split.above_4g, first_nic_slot, why, why_len);
	return err;
}

/*
 * -m: at least 16 MiB (SeaBIOS's needs), whole pages, at most the host's RAM. Guest RAM is mapped
 * MAP_NORESERVE, so a larger size would only fail later, page by page, killing the VMM.
 */
static int check_memory(uint64_t size, char *why, size_t why_len)
{
	struct sysinfo si;
	uint64_t host = sysinfo(&si) == 0 ? (uint64_t)si.totalram * si.mem_unit : 0;
	if (size < PC_MIN_RAM)
		return machine_fail(-EINVAL, why, why_len, "memory size %llu MiB: the least is "
				    "16 MiB", (unsigned long long)(size >> 20));
	if (size % 4096)   /* KVM maps whole pages */
		return machine_fail(-EINVAL, why, why_len, "memory size %llu KiB: not a multiple "
				    "of 4 KiB", (unsigned long long)(size >> 10));
	if (host && size > host)
		return machine_fail(-ENOMEM, why, why_len, "memory size %llu MiB: more than this "
				    "host has (%llu MiB)", (unsigned long long)(size >> 20),
				    (unsigned long long)(host >> 20));
	return 0;
}

static int check_config(const struct pc_config *cfg, char *why, size_t why_len)
{
	if (!cfg->flash_code && access(cfg->bios, R_OK) < 0)
		return machine_fail(-errno, why, why_len, "%s: cannot open firmware: %s",
				    cfg->bios, strerror(errno));
	int err = check_memory(cfg->mem_size, why, why_len);
	if (err)
		return err;
	/* (-monitor without a display is no error: it is only never opened, and the manager
	 * that asks says "no display".) */
	if (!cfg->vga && (cfg->display.vnc || cfg->display.screendump))
		return machine_fail(-EINVAL, why, why_len, "%s: there is no display with -vga none",
				    cfg->display.vnc ? "-vnc" : "-screendump");
	if (cfg->vga && access(cfg->vga_rom, R_OK) < 0)
		return machine_fail(-errno, why, why_len, "%s: cannot open the VGA BIOS: %s",
				    cfg->vga_rom, strerror(errno));
	if (cfg->ncpus < 1 || cfg->ncpus > MAX_VCPUS)
		return machine_fail(-EINVAL, why, why_len, "%u CPUs: must be 1 .. %d",
				    cfg->ncpus, MAX_VCPUS);
	return 0;
}

/*
 * The machine side: everything a power-on (and so a reset) makes anew - the KVM VM with its
 * RAM, interrupt controllers and vCPUs in their reset state, the firmware's fw_cfg items, the
 * ROM, and every device model in its power-on state. The host side (pc_open_host: disk
 * images, the input script, the display with its VNC server and monitor socket) is not here.
 */
static int build_machine(struct pc *pc, const struct pc_config *cfg, char *why, size_t why_len)
{
	struct machine *m = &pc->m;
	const char *step;

	m->vm.vm_fd = m->vm.kvm_fd = m->stop_fd = -1;
	m->ncpus = cfg->ncpus;
	bus_init(&m->bus);
	m->bus.trace = cfg->trace_io;
	chipset_init(&pc->chipset, cfg->chipset);
	struct firmware_config fw = { cfg->mem_size, cfg->ncpus, cfg->kernel, cfg->initrd,
				      cfg->cmdline, cfg->linuxboot_rom, 0,
				      cfg->chipset == CHIPSET_Q35 ? Q35_ECAM_BASE : 0,
				      cfg->chipset == CHIPSET_Q35, NULL, NULL };
	fw.boot_fail_wait_ms = cfg->reboot_timeout_ms < 0 ? 0xffffffffu : cfg->reboot_timeout_ms;
	fw.bootorder = pc->bootorder[0] ? pc->bootorder : NULL;
	fw_cfg_init(&pc->fw_cfg, &m->vm.mem);
	int err = firmware_setup(&pc->fw_cfg, &fw, why, why_len);
	/* SeaBIOS looks for a PCI device's option ROM in fw_cfg, by vendor and device. */
	if (!err && cfg->vga && fw_cfg_add_host_file(&pc->fw_cfg, STD_VGA_ROM_NAME, cfg->vga_rom))
		err = machine_fail(-EIO, why, why_len, "%s: cannot read the VGA BIOS",
				   cfg->vga_rom);
	if (!err)
		err = vm_create(&m->vm, cfg->kvm_path, cfg->mem_size, why, why_len);
	if (err)
		return err;
	err = irqchip_create(m->vm.vm_fd, &step);
	if (err)
		return machine_fail(err, why, why_len, "%s: %s: %s", cfg->kvm_path, step,
				    strerror(-err));
	err = pc_memory_init(&pc->memory, &m->vm, cfg->chipset == CHIPSET_Q35,
			     cfg->flash_code ? NULL : cfg->bios, why, why_len);
	if (!err)
		err = create_vcpus(pc, why, why_len);
	if (!err)
		err = attach_devices(pc, cfg, why, why_len);
	if (!err)
		err = map_flash(pc, why, why_len);
	if (err)
		return err;
	pc->chipset.pam_changed = pc_memory_pam_changed;
	pc->chipset.opaque = &pc->memory;
	pc->chipset.reset_line = &m->reset_line;
	m->shutdown_resets = true;   /* a triple fault resets a PC */
	m->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (m->stop_fd < 0)
		return machine_fail(-errno, why, why_len, "eventfd: %s", strerror(errno));
	return 0;
}

/* Undo build_machine (also a half-built one); the host side stays. */
static void teardown_machine(struct pc *pc)
{
	if (pc->has_vga)
		std_vga_detach(&pc->vga);
	hpet_detach(&pc->hpet);
	net_detach(&pc->net);   /* the cards; the back ends are host side */
	usb_detach(&pc->usb);   /* the controller; the sticks' disks are host side */
	vfio_detach(&pc->vfio); /* interrupts, slots, DMA; the VFIO fds are host side */
	machine_destroy(&pc->m);
	ide_detach(&pc->ide);
	fw_cfg_free(&pc->fw_cfg);
	if (pc->memory.rom)
		munmap(pc->memory.rom, pc->memory.rom_size);
	/* Power-on state is all zeros but for what the attach functions set. */
	memset(&pc->m, 0, sizeof(pc->m));
	memset(&pc->memory, 0, sizeof(pc->memory));
	memset(&pc->chipset, 0, sizeof(pc->chipset));
	memset(&pc->fw_cfg, 0, sizeof(pc->fw_cfg));
	memset(&pc->ide, 0, sizeof(pc->ide));
	memset(&pc->ahci, 0, sizeof(pc->ahci));
	memset(&pc->vga, 0, sizeof(pc->vga));
	memset(&pc->i8042, 0, sizeof(pc->i8042));
	memset(&pc->hpet, 0, sizeof(pc->hpet));
	pc->debug_len = 0;
}

/* The host side, opened once for the life of the process. Files are checked first. */
static int open_host(struct pc *pc, const struct pc_config *cfg, char *why, size_t why_len)
{
	int err = check_config(cfg, why, why_len);
	if (!err)
		err = open_flash(pc, cfg, why, why_len);
	if (!err)
		err = open_drives(pc, cfg, why, why_len);
	if (!err && cfg->usb)
		err = usb_open(&pc->usb, cfg->usb, cfg->drives, cfg->ndrives,
			       cfg->chipset == CHIPSET_Q35, cfg->incoming, why, why_len);
	if (!err && cfg->net)   /* host sockets and taps: a port in use is a host problem too */
		err = net_open(&pc->net, cfg->net, why, why_len);
	if (!err && cfg->vfio && cfg->vfio->n)   /* host devices: checked before any VM */
		err = vfio_open(&pc->vfio, cfg->vfio, why, why_len);
	if (!err && cfg->input_script &&
	    !(pc->input_script = input_script_open(cfg->input_script, why, why_len)))
		err = -EINVAL;
	/* OVMF drops the boot options a bootorder file does not name: give it none (as QEMU
	 * without bootindex), and it boots removable media, then disks, by itself. */
	if (!cfg->flash_code)
		build_bootorder(pc, cfg);
	return err;
}

int pc_create(struct pc *pc, const struct pc_config *cfg, char *why, size_t why_len)
{
	memset(pc, 0, sizeof(*pc));
	pc->m.vm.vm_fd = pc->m.vm.kvm_fd = pc->m.stop_fd = -1;
	pc->cfg = cfg;
	pc->debug_log = cfg->debug_log;
	int err = open_host(pc, cfg, why, why_len);
	return err ? err : build_machine(pc, cfg, why, why_len);
}

int pc_reset(struct pc *pc, char *why, size_t why_len)
{
	/* The CMOS memory is battery-backed: a reset keeps it (the clock's registers do not). */
	uint8_t nvram[sizeof(pc->m.rtc.cmos)];
	memcpy(nvram, pc->m.rtc.cmos, sizeof(nvram));
	teardown_machine(pc);
	int err = build_machine(pc, pc->cfg, why, why_len);
	if (err)
		return err;
	for (unsigned i = RTC_STATUS_D + 1; i < sizeof(nvram); i++)
		rtc_cmos_set(&pc->m.rtc, i, nvram[i], 1);
	return 0;
}

/* The clock a reset is measured with (the lesson's reset-to-banner time). */
static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One power-on: the machine runs until the guest or the user ends it. */
static enum machine_end run_once(struct pc *pc)
{
	if (pc->has_vga && display_start(&pc->display))
		fprintf(stderr, "minivisor: the display thread did not start: no picture\n");
	struct input_sink usb_input;   /* the script's events reach the USB keyboard and tablet */
	usb_input_sink(&pc->usb, &usb_input);
	if (pc->input_script)
		input_script_set_sink(pc->input_script, &usb_input);
	if (pc->input_script && input_script_start(pc->input_script, &pc->i8042))
		fprintf(stderr, "minivisor: the input script's thread did not start\n");
	hpet_start(&pc->hpet);
	if (usb_start(&pc->usb, &pc->m.bus.lock))
		fprintf(stderr, "minivisor: the UHCI frame thread did not start: no USB\n");
	if (net_start(&pc->net, &pc->m.bus.lock))
		fprintf(stderr, "minivisor: the net thread did not start: no network\n");
	enum machine_end end = machine_run(&pc->m);
	net_stop(&pc->net);
	usb_stop(&pc->usb);
	hpet_stop(&pc->hpet);
	input_script_close(pc->input_script);   /* stops its thread; it plays once */
	pc->input_script = NULL;
	if (pc->has_vga)
		display_stop(&pc->display);
	return end;
}

/* After a pause (migration/migrate.h) the same machine runs on: forget the stop request. */
static void pc_resume(struct pc *pc)
{
	uint64_t count;
	pc->m.end = END_RUNNING;
	if (read(pc->m.stop_fd, &count, sizeof(count)) < 0) {
		/* nothing to drain */
	}
}

enum machine_end pc_run(struct pc *pc)
{
	char why[512];
	for (;;) {
		enum machine_end end = run_once(pc);
		if (end == END_PAUSE) {
			if (migration_paused(pc->migration))
				return END_MIGRATED;   /* the guest runs on elsewhere */
			pc_resume(pc);
			continue;
		}
		migration_machine_gone(pc->migration);   /* its RAM is about to go */
		if (end != END_REBOOT || pc->cfg->no_reboot)
			return end;
		double t0 = now_ms();
		int err = pc_reset(pc, why, sizeof(why));
		if (err) {
			fprintf(stderr, "minivisor: guest reset: the machine cannot start again: %s\n",
				why);
			return END_FAILED;
		}
		pc->resets++;
		fprintf(stderr, "minivisor: guest reset: the machine starts again (reset %u, "
			"rebuilt in %.1f ms)\n", pc->resets, now_ms() - t0);
	}
}

void pc_destroy(struct pc *pc)
{
	migration_control_close(pc->migration);
	pc->migration = NULL;
	display_close(&pc->display);   /* nothing when never opened */
	input_script_close(pc->input_script);
	net_close(&pc->net);
	teardown_machine(pc);
	usb_close(&pc->usb);
	vfio_close(&pc->vfio);
	for (unsigned i = 0; i < PC_DRIVE_POSITIONS; i++)
		if (pc->drives.at[i])
			block_close(pc->drives.at[i]);
	for (unsigned i = 0; i < pc->nflash; i++)
		pflash_close(&pc->flash[i]);
}
