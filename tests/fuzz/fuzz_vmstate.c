/*
 * fuzz_vmstate.c - stage 5's migration destination (migration/vmstate.c, vmstate_load()): every
 * section of an incoming stream handed to the device model it names (the legacy devices, the
 * HPET, the chipset with every PCI function's config space replayed through its own write
 * path, IDE or AHCI with their buffers, the VGA's registers and VRAM, the network cards and
 * their slirp back ends, the flash, the USB controller and its devices, RAM pages), and then
 * the guest's first register accesses on the loaded machine: the state a stream sets is the
 * state the next guest store works with, so a loaded value nothing checked shows up there.
 *
 * A machine without KVM: the device models of pc or q35 on a bus, as board/pc.c wires them
 * (the machine byte says which optional ones), guest RAM from fuzz_ops.c, no vCPU, vm_fd -1.
 * vmstate_load() applies the device models' sections, then fails at KVM's (KVM_SET_IRQCHIP
 * on fd -1): those are the kernel's to check. What runs beside the vCPUs in the VMM has no
 * thread here, so op 3 does it: the HPET's registers at a fuzzed time, a UHCI frame, host
 * input for the USB keyboard and tablet, a frame from the network, a round of the net thread.
 *
 * Input: a machine byte (MACHINE_* below), then sections as records, each
 *   name length (u8, 0 ends the list), the name, version (u32), length (u32), stored (u32),
 *   then the stored bytes of the payload, which is zero-padded to its length (so a seed's
 *   16 MiB VRAM section is a few bytes);
 * the harness writes each with stream_write_section(), checksum and all, since a fuzzer
 * would never get a CRC right, and the stream reader has a target of its own
 * (migration_stream). The op stream follows the list.
 *
 * Seeds: FUZZ_WRITE_SEED=FILE FUZZ_MACHINE=N build/fuzz/bin/fuzz_vmstate writes the device
 * models' sections (vmstate_save_devices()) of a machine past firmware and a driver's first
 * steps (drive()) and, zero-filled, the vCPU and KVM sections at the sizes vmstate.c wants
 * (it says them: "want N"). vmstate_edit.py changes a field of one of them.
 *
 * Teaches: a migration stream is input like any other: a destination that trusts it runs
 * a guest whose device state was written by whoever sent it.
 */
#define _GNU_SOURCE   /* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_disks.h"
#include "fuzz_ops.h"
#include "migration/vmstate.h"

#define RAM_SIZE (64 * 1024)
#define MAX_PAYLOAD (VGA_VRAM_SIZE + (1u << 20))   /* the biggest section: the VGA's */
#define MAX_STREAM (MAX_PAYLOAD + (4u << 20))       /* an input's sections, all together */

/* The machine byte: which devices board/pc.c would have built from the command line. */
#define MACHINE_Q35     0x01   /* q35 (AHCI) instead of pc (IDE) */
#define MACHINE_VGA     0x02   /* -vga std */
#define MACHINE_E1000   0x04   /* -device e1000 */
#define MACHINE_VIRTIO  0x08   /* -device virtio-net-pci (the fast path, as by default) */
#define MACHINE_SLIRP   0x10   /* the cards' back ends are user-mode (libslirp), not taps */
#define MACHINE_USB(m)  (((m) >> 5) & 3)   /* 1 xHCI: stick, kbd, tablet; 2 UHCI: stick, kbd;
					    * 3 UHCI: stick, tablet */
#define MACHINE_PFLASH  0x80   /* UEFI: a read-only code flash and a writable variable store */

#define FLASH_CODE_SIZE (64 * 1024)
#define FLASH_VARS_SIZE (16 * 1024)
#define PFLASH_SLOT 26         /* board/pc.c's PC_PFLASH_KVM_SLOT (no KVM here: never used) */

static struct pc pc;
static struct fuzz_disks disks;
static struct block_dev *stick_disk;
static struct net_config net_cfg;
static struct usb_config usb_cfg;
static uint8_t flash_code[FLASH_CODE_SIZE], flash_vars[FLASH_VARS_SIZE];
static int null_fd = -1, event_fd = -1;

/* Run fn with stderr quiet: attach-time lines about KVM (no irqfd, no routes) on every input. */
static int quiet_stderr(int (*fn)(unsigned, char *, size_t), unsigned machine, char *why,
			size_t why_len)
{
	if (getenv("FUZZ_VERBOSE"))
		return fn(machine, why, why_len);
	int saved = dup(2);
	dup2(null_fd, 2);
	int err = fn(machine, why, why_len);
	dup2(saved, 2);
	close(saved);
	return err;
}

/* USB as usb_open() + usb_attach() build it: the stick's disk is ours, the ports in order. */
static int attach_usb(unsigned machine, char *why, size_t why_len)
{
	unsigned kind = MACHINE_USB(machine);
	memset(&usb_cfg, 0, sizeof(usb_cfg));
	if (!kind)
		return 0;
	usb_cfg.controller = kind == 1 ? USB_CONTROLLER_XHCI : USB_CONTROLLER_UHCI;
	usb_cfg.devices[0].kind = USB_DEV_STORAGE;
	usb_cfg.devices[1].kind = kind == 3 ? USB_DEV_TABLET : USB_DEV_KBD;
	usb_cfg.devices[2].kind = USB_DEV_TABLET;
	usb_cfg.ndevices = kind == 1 ? 3 : 2;
	struct pc_usb *u = &pc.usb;
	u->q35 = machine & MACHINE_Q35;
	u->uhci_boot = kind != 1;
	u->disks[0] = stick_disk;
	for (unsigned i = 0; i < usb_cfg.ndevices; i++)
		u->ports[i] = i + 1;
	return usb_attach(u, &usb_cfg, &pc.m.bus, &pc.chipset.pci, &pc.m.vm.mem, -1,
			  chipset_intx_gsi(USB_PCI_SLOT, 0), why, why_len);
}

/*
 * The cards as net_open() + net_attach() build them, one back end each: slirp (a real Slirp
 * instance, whose state is a section of its own) or a tap that is not there (fd -1: a tap has
 * no state to move). KVM would give virtio-net's MSI-X vectors irqfds; here each vector gets
 * its route and an eventfd as if it had, so that a load restores the routes as it would.
 */
static int attach_net(unsigned machine, char *why, size_t why_len)
{
	struct pc_net *net = &pc.net;
	memset(&net_cfg, 0, sizeof(net_cfg));
	net->wake_fd = event_fd;
	net->stop_fd = -1;
	net->cfg = &net_cfg;
	for (unsigned model = 0; model < 2; model++) {
		if (!(machine & (model ? MACHINE_VIRTIO : MACHINE_E1000)))
			continue;
		char text[64];
		struct nic_config *n = &net_cfg.nics[net_cfg.nnics++];
		n->model = model ? NIC_VIRTIO_NET : NIC_E1000;
		snprintf(n->netdev, sizeof(n->netdev), "n%u", model);
		snprintf(text, sizeof(text), "%s,id=n%u%s", machine & MACHINE_SLIRP ? "user" : "tap",
			 model, machine & MACHINE_SLIRP ? "" : ",ifname=fuzz");
		if (net_config_netdev(&net_cfg, text, why, why_len))
			return -EINVAL;
	}
	if (!net_cfg.nnics && (machine & MACHINE_SLIRP) &&
	    net_config_netdev(&net_cfg, "user,id=n0", why, why_len))
		return -EINVAL;   /* a back end no card uses still moves (dev_entries lists it) */
	for (unsigned i = 0; i < net_cfg.nnetdevs; i++) {
		struct netdev *d = &net->devs[net->ndevs++];
		d->cfg = &net_cfg.netdevs[i];
		d->wake_fd = event_fd;
		d->tap_fd = -1;
		int err = d->cfg->kind == NETDEV_USER ? user_open(d, why, why_len) : 0;
		if (err)
			return err;
	}
	int err = net_attach(net, &pc.m.bus, &pc.chipset.pci, &pc.m.vm.mem, -1,
			     machine & MACHINE_Q35 ? 2 : 3, why, why_len);
	for (unsigned i = 0; !err && i < net->nnics; i++) {
		struct virtio_pci *vp = net->virtio[i] ? &net->virtio[i]->net.vp : NULL;
		for (unsigned v = 0; vp && v < vp->msix_vectors; v++) {
			vp->irq_gsi[v] = msi_route_new(vp->msi);
			vp->irq_fd[v] = dup(event_fd);   /* closed by net_detach, as the real ones */
		}
	}
	pc.chipset.pci.msi.warned = true;   /* KVM_SET_GSI_ROUTING fails on fd -1: not news */
	return err;
}

/*
 * The flash as map_flash() places it, code at the top of 4 GiB and the variables below, over
 * buffers that each input starts afresh (not files). Without KVM there is no slot: the
 * machine counts as one without read-only slots (pflash_sync_slot has nothing to move), and
 * the code flash's slot as there already.
 */
static int attach_flash(unsigned machine, char *why, size_t why_len)
{
	if (!(machine & MACHINE_PFLASH))
		return 0;
	uint8_t *data[2] = { flash_code, flash_vars };
	uint32_t size[2] = { FLASH_CODE_SIZE, FLASH_VARS_SIZE };
	uint64_t gpa = 1ull << 32;
	memset(flash_vars, 0xff, sizeof(flash_vars));
	for (unsigned i = 0; i < 2; i++) {
		struct pflash *f = &pc.flash[i];
		pflash_init(f, data[i], size[i], i == 0);
		f->path = i ? "fuzz-vars" : "fuzz-code";
		f->mapped = i == 0;
		gpa -= size[i];
		int err = pflash_map(f, &pc.m.bus, -1, false, PFLASH_SLOT + i, gpa, why, why_len);
		if (err)
			return err;
		pc.nflash = i + 1;
	}
	return 0;
}

static int attach_rest(unsigned machine, char *why, size_t why_len)
{
	int err = attach_usb(machine, why, why_len);
	if (!err)
		err = attach_net(machine, why, why_len);
	if (!err)
		err = attach_flash(machine, why, why_len);
	return err;
}

/* The device models of board/pc.c's attach_devices(), without KVM and without threads. */
static void build(unsigned machine, struct guest_memory *mem)
{
	struct machine *m = &pc.m;
	char why[256];
	memset(&pc, 0, sizeof(pc));
	m->vm.vm_fd = m->vm.kvm_fd = m->stop_fd = -1;
	m->vm.mem = *mem;
	m->ncpus = 1;
	m->vcpus[0].fd = -1;
	bus_init(&m->bus);
	bool q35 = machine & MACHINE_Q35;
	chipset_init(&pc.chipset, q35 ? CHIPSET_Q35 : CHIPSET_I440FX);
	fw_cfg_init(&pc.fw_cfg, &m->vm.mem);
	i8042_init(&pc.i8042, -1, &m->reset_line, &m->bus.lock);
	hpet_init(&pc.hpet, -1);
	if (uart_attach(&m->com1, &m->bus, -1, COM1_PORT, COM1_IRQ, null_fd) ||
	    rtc_attach(&m->rtc, &m->bus) || power_attach(&m->power, &m->bus) ||
	    i8042_attach(&pc.i8042, &m->bus) ||
	    chipset_attach(&pc.chipset, &m->bus, -1, ACPI_PM1_EVT_PORT) ||
	    fw_cfg_attach(&pc.fw_cfg, &m->bus))
		abort();
	pc.chipset.reset_line = &m->reset_line;
	struct block_dev *drives[PC_DRIVE_POSITIONS] = { disks.disk, NULL, disks.cd };
	enum ata_media media[PC_DRIVE_POSITIONS] = { ATA_MEDIA_DISK, ATA_MEDIA_DISK,
						     ATA_MEDIA_CDROM };
	int err = q35 ? ahci_attach(&pc.ahci, &m->bus, &pc.chipset.pci, &m->vm.mem, -1,
				    Q35_LPC_SLOT, 2, chipset_intx_gsi(Q35_LPC_SLOT, 0), drives,
				    media, why, sizeof(why))
		      : ide_attach(&pc.ide, &m->bus, &pc.chipset.pci, &m->vm.mem, -1, 1, 1, drives,
				   media, why, sizeof(why));
	if (!err && (machine & MACHINE_VGA)) {
		err = std_vga_attach(&pc.vga, &m->bus, &pc.chipset.pci, -1, 16, q35 ? 1 : 2, why,
				     sizeof(why));
		pc.has_vga = pc.vga.vga.vram != NULL;
	}
	if (!err)   /* then USB at its fixed slot, the cards in the next free ones, the flash */
		err = quiet_stderr(attach_rest, machine, why, sizeof(why));
	if (err) {
		fprintf(stderr, "fuzz_vmstate: %s\n", why);
		abort();
	}
}

static void teardown(void)
{
	if (pc.has_vga)
		std_vga_detach(&pc.vga);
	for (unsigned i = 0; i < pc.net.nnics && !getenv("FUZZ_VERBOSE"); i++) {
		/* net_detach's statistics lines: one per card per input, not wanted here */
		if (pc.net.e1000[i])
			pc.net.e1000[i]->tx_frames = pc.net.e1000[i]->rx_frames = 0;
		if (pc.net.virtio[i])
			pc.net.virtio[i]->net.tx_frames = pc.net.virtio[i]->net.rx_frames = 0;
	}
	net_detach(&pc.net);
	for (unsigned i = 0; i < pc.net.ndevs; i++)
		if (pc.net.devs[i].user)
			user_close(&pc.net.devs[i]);
	usb_detach(&pc.usb);
	ide_detach(&pc.ide);
	fw_cfg_free(&pc.fw_cfg);
}

/* The sections of the input, written as a sender would (with their checksums). */
static void write_sections(struct stream *s, struct fuzz_input *in)
{
	static uint8_t *payload;
	if (!payload && !(payload = malloc(MAX_PAYLOAD)))
		abort();
	size_t total = 0;
	for (unsigned n = 0; n < 64 && in->left; n++) {
		char name[STREAM_NAME_LEN + 1] = "";
		unsigned name_len = fi_u8(in) % (STREAM_NAME_LEN + 1);
		if (!name_len)
			break;
		fi_bytes(in, name, name_len);
		uint32_t version = fi_u32(in), len = fi_u32(in) % (MAX_PAYLOAD + 1);
		if (total + len > MAX_STREAM)   /* zero padding is cheap to ask for, not to make */
			len = 0;
		total += len;
		uint32_t stored = fi_u32(in);
		size_t got = fi_bytes(in, payload, stored < len ? stored : len);
		memset(payload + got, 0, len - got);
		stream_write_section(s, name, version, payload, len);
	}
	stream_write_end(s);
}

/* The HPET's registers (not on the bus here), at a time that moves forward. */
static void hpet_op(struct hpet *h, uint8_t how, struct fuzz_input *in)
{
	static uint64_t now;
	uint64_t offset = fi_u16(in) & 0x3ff;
	now += fi_u32(in);
	if (how & 1)
		hpet_write_reg(h, offset, fi_u64(in), ~0ull, now);
	else
		hpet_read_reg(h, offset, now);
	hpet_update(h, now);
}

#define UHCI_CMD_RS  (1u << 0)    /* USBCMD: run */
#define UHCI_STS_HCH (1u << 5)    /* USBSTS: halted */

/* A frame from the network: what slirp or a tap hands the card behind back end i. */
static void frame_op(struct fuzz_input *in)
{
	static uint8_t frame[2048];
	unsigned i = fi_u8(in);
	size_t len = fi_bytes(in, frame, fi_u16(in) % sizeof(frame));
	struct netdev *d = pc.net.ndevs ? &pc.net.devs[i % pc.net.ndevs] : NULL;
	if (d && d->nic.receive)
		d->nic.receive(d->nic.opaque, frame, len);
}

/* One round of the net thread: slirp's timers and sockets, the fast path's kicks served. */
static void net_round(void)
{
	static struct net_poll_set set;
	set.n = 0;
	for (unsigned i = 0; i < pc.net.ndevs; i++)
		if (pc.net.devs[i].user)
			user_fill(&pc.net.devs[i], &set, 0);
	int n = set.n ? poll(set.fds, set.n, 0) : 0;
	for (unsigned i = 0; i < pc.net.ndevs; i++)
		if (pc.net.devs[i].user)
			user_poll(&pc.net.devs[i], &set, n < 0);
	for (unsigned i = 0; i < pc.net.nnics; i++)
		if (pc.net.virtio[i] && pc.net.virtio[i]->fast)
			virtio_net_transmit(&pc.net.virtio[i]->net);   /* as a TX kick asks */
}

/*
 * Op 3: what reaches the loaded devices other than the guest's registers (the threads and the
 * host's input that the machine has beside its vCPUs): a first byte says which, its low bit
 * also HPET's read or write.
 */
static void outside_op(void *ctx, struct fuzz_input *in)
{
	(void)ctx;
	uint8_t what = fi_u8(in);
	struct pc_usb *u = &pc.usb;
	struct input_sink sink;
	switch (what % 8) {
	case 0:
	case 1:
		hpet_op(&pc.hpet, what, in);
		break;
	case 2:   /* UHCI's frame thread: one frame while running and not halted */
		if (u->has_controller && u->uhci_boot && (u->uhci.cmd & UHCI_CMD_RS) &&
		    !(u->uhci.sts & UHCI_STS_HCH))
			uhci_frame(&u->uhci);
		break;
	case 3:   /* a key from VNC (an X11 keysym) */
		usb_vnc_key(u, fi_u32(in), what & 0x10);
		break;
	case 4: { /* a VNC pointer on a screen of a fuzzed size */
		int x = (int16_t)fi_u16(in), y = (int16_t)fi_u16(in);
		int w = fi_u16(in), h = fi_u16(in);
		usb_vnc_pointer(u, x, y, w, h, fi_u8(in));
		break;
	}
	case 5: { /* the input script's relative move */
		int dx = (int32_t)fi_u32(in), dy = (int32_t)fi_u32(in), dz = (int8_t)fi_u8(in);
		usb_input_sink(u, &sink);
		sink.move(sink.opaque, dx, dy, dz, fi_u8(in));
		break;
	}
	case 6:
		frame_op(in);
		break;
	case 7:
		net_round();
		break;
	}
}

/*
 * What the loaders promise the device models where AddressSanitizer cannot see a breach: an
 * index past an array that is not the end of its object (the rest of the struct follows, and
 * the struct is inside struct pc). UHCI's control transfer: IN answers are copied from
 * data[pos] for len - pos bytes, so pos <= len <= UHCI_CONTROL_MAX.
 */
static void check_loaded(void)
{
	for (unsigned i = 0; pc.usb.has_controller && i < UHCI_PORTS; i++) {
		const struct uhci_control *c = &pc.usb.uhci.ctl[i];
		if (c->len > UHCI_CONTROL_MAX || c->pos > c->len) {
			fprintf(stderr, "fuzz_vmstate: UHCI port %u: a control transfer at %u of %u "
				"bytes after the load\n", i + 1, c->pos, c->len);
			abort();
		}
	}
}

/* The host side, once per process: disk images, /dev/null for COM1, an eventfd. */
static void open_host(void)
{
	if (!disks.disk)
		fuzz_disks_open(&disks, "vmstate");
	if (null_fd < 0 && (null_fd = open("/dev/null", O_WRONLY)) < 0)
		abort();
	if (event_fd < 0 && (event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		abort();
	if (!stick_disk)
		stick_disk = fuzz_image("vmstate-usb", FUZZ_DISK_BYTES, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct fuzz_input in = { data, size };
	char why[256];

	fuzz_quiet();
	open_host();
	if (fd < 0 && (fd = memfd_create("fuzz-vmstate", 0)) < 0)
		abort();
	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	build(fi_u8(&in), mem);

	struct stream s;
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	stream_init(&s, fd);
	write_sections(&s, &in);
	if (lseek(fd, 0, SEEK_SET) < 0)
		abort();
	stream_init(&s, fd);
	/* It fails at KVM's sections at the latest: FUZZ_VERBOSE=1 says where. */
	if (vmstate_load(&pc, &s, why, sizeof(why)) && getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "vmstate_load: %s\n", why);
	check_loaded();

	fuzz_ops_run(&pc.m.bus, mem, &in, outside_op, NULL, 4096);
	teardown();
	fuzz_ram_free(mem);
	return 0;
}

/* The seed writer (see the header comment). */
static uint32_t wanted_size(const char *name)
{
	struct stream s;
	char why[256];
	unsigned want = 0;
	int fd = memfd_create("fuzz-vmstate-probe", 0);
	stream_init(&s, fd);
	stream_write_section(&s, name, 1, "", 0);
	stream_write_end(&s);
	lseek(fd, 0, SEEK_SET);
	stream_init(&s, fd);
	vmstate_load(&pc, &s, why, sizeof(why));
	close(fd);
	const char *w = strstr(why, "want ");
	if (!w || sscanf(w, "want %u", &want) != 1)
		abort();
	return want;
}

static void record(FILE *f, const char *name, uint32_t version, const uint8_t *p, uint32_t len)
{
	uint32_t used = len;
	while (used && !p[used - 1])   /* the harness pads with zeros again */
		used--;
	fputc((int)strlen(name), f);
	fputs(name, f);
	fwrite(&version, 4, 1, f);
	fwrite(&len, 4, 1, f);
	fwrite(&used, 4, 1, f);
	fwrite(p, 1, used, f);
}

static void poke(enum bus_space space, uint64_t addr, uint64_t value, unsigned len)
{
	uint8_t data[8];
	u64_to_bytes(value, data, len);
	if (space == BUS_PIO)
		bus_pio(&pc.m.bus, NULL, (uint16_t)addr, true, data, len);
	else
		bus_mmio(&pc.m.bus, NULL, addr, true, data, len);
}

/*
 * A seed's machine is past power-on: firmware placed the BARs and turned decoding on (so the
 * loaded chipset puts every device on the bus), and a driver took each device's first steps,
 * so each section carries state of its own: xHCI and UHCI running, the e1000 receiving and
 * sending, virtio-net acknowledged with its MSI-X table programmed (routes to restore), a key
 * and a click queued on the HID devices, the variable flash in read-status mode.
 */
static void drive(unsigned machine)
{
	fuzz_pci_firmware(&pc.chipset.pci);
	struct pc_usb *u = &pc.usb;
	if (u->has_controller && !u->uhci_boot)
		poke(BUS_MMIO, pci_bar_address(&u->xhci.pci.config, 0) + 0x40, 0x5, 4);
	if (u->has_controller && u->uhci_boot)
		poke(BUS_PIO, pci_bar_address(&u->uhci.pci.config, 4), UHCI_CMD_RS, 2);
	usb_vnc_key(u, 'a', true);
	usb_vnc_pointer(u, 100, 50, 640, 480, 1);
	for (unsigned i = 0; i < pc.net.nnics; i++) {
		if (pc.net.e1000[i]) {
			uint64_t bar = pci_bar_address(&pc.net.e1000[i]->pci.config, 0);
			poke(BUS_MMIO, bar + E1000_RCTL, 2, 4);   /* EN */
			poke(BUS_MMIO, bar + E1000_TCTL, 2, 4);
		}
		if (pc.net.virtio[i]) {
			struct virtio_pci *vp = &pc.net.virtio[i]->net.vp;
			uint64_t bar = pci_bar_address(&vp->pci.config, 0);
			poke(BUS_MMIO, bar + VIRTIO_COMMON_OFFSET + 0x14, 3, 1);   /* ACK, DRIVER */
			for (unsigned v = 0; v < vp->msix_vectors; v++) {
				poke(BUS_MMIO, bar + VIRTIO_MSIX_OFFSET + 16 * v, 0xfee00000u, 4);
				poke(BUS_MMIO, bar + VIRTIO_MSIX_OFFSET + 16 * v + 8, 0x40 + v, 4);
				poke(BUS_MMIO, bar + VIRTIO_MSIX_OFFSET + 16 * v + 12, 0, 4);
			}
		}
	}
	if (machine & MACHINE_PFLASH)
		poke(BUS_MMIO, pc.flash[1].gpa, 0x70, 1);   /* read status */
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	const char *path = getenv("FUZZ_WRITE_SEED");
	if (!path)
		return 0;
	unsigned machine = getenv("FUZZ_MACHINE") ? atoi(getenv("FUZZ_MACHINE")) : 0;
	char why[256];
	open_host();
	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	build(machine, mem);
	drive(machine);
	FILE *f = fopen(path, "w");
	uint8_t *zero = calloc(1, 1u << 20);
	if (!f || !zero)
		abort();
	fputc(machine, f);
	record(f, "cpu0", 1, zero, wanted_size("cpu0"));
	record(f, "kvm", 1, zero, wanted_size("kvm"));
	/* The device models: saved through the product's own writer, read back as sections. */
	int fd = memfd_create("fuzz-vmstate-seed", 0);
	struct stream s;
	stream_init(&s, fd);
	if (vmstate_save_devices(&pc, &s, why, sizeof(why)) || stream_write_end(&s))
		abort();
	lseek(fd, 0, SEEK_SET);
	stream_init(&s, fd);
	struct section sec;
	while (stream_read_section(&s, &sec) == 0) {
		record(f, sec.name, sec.version, sec.payload, sec.len);
		free(sec.payload);
	}
	fputc(0, f);   /* the end of the list; ops: a COM1 read, op 3 (an HPET read) */
	static const uint8_t ops[] = { 2, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0 };
	fwrite(ops, 1, sizeof(ops), f);
	fclose(f);
	close(fd);
	free(zero);
	teardown();
	fuzz_ram_free(mem);
	exit(0);
}
