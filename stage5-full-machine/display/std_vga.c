/*
 * std_vga.c - the standard VGA as a PCI function: bus callbacks, VRAM as a KVM memory slot
 * with dirty logging, BAR moves. See std_vga.h. Register behaviour lives in vga.c.
 */
#include "std_vga.h"
#include "guest_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kvm.h"

/* One line per refused guest request, the first few only (a hostile loop must not flood). */
__attribute__((format(printf, 2, 3)))
static void say(struct std_vga *sv, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	guest_verror(&sv->errors, "std-vga", NULL, fmt, ap);
	va_end(ap);
}

static void report(struct std_vga *sv)
{
	if (sv->reported != sv->vga.refused)
		say(sv, "%s", sv->vga.why);
	sv->reported = sv->vga.refused;
	sv->vga.why[0] = '\0';
}

static int set_vram_slot(struct std_vga *sv, uint64_t gpa, bool log)
{
	struct kvm_userspace_memory_region r = {
		.slot = sv->kvm_slot,
		.flags = log ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = gpa,
		.memory_size = gpa ? sv->vga.vram_size : 0,   /* size 0 deletes the slot */
		.userspace_addr = (uintptr_t)sv->vga.vram,
	};
	return ioctl(sv->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

/* BAR0 or the command register changed: move the VRAM slot where the BAR now points. */
static void vram_bar_changed(struct pci_device *dev)
{
	struct std_vga *sv = dev->owner;
	uint16_t command = pci_config_read(&dev->config, PCI_COMMAND, 2);
	uint32_t addr = pci_bar_address(&dev->config, 0);
	bool sizing = addr == (uint32_t)~(dev->config.bar_size[0] - 1);
	uint64_t want = (command & PCI_COMMAND_MEMORY) && addr && !sizing ? addr : 0;
	if (want == sv->mapped_at)
		return;
	if (sv->mapped_at)
		set_vram_slot(sv, 0, false);
	sv->mapped_at = 0;
	if (!want)
		return;
	int err = set_vram_slot(sv, want, sv->log_dirty);
	if (err == -EINVAL && sv->log_dirty) {
		/* a KVM without dirty logging for this slot: map it anyway, redraw everything */
		sv->log_dirty = false;
		err = set_vram_slot(sv, want, false);
	}
	if (err) {
		say(sv, "VRAM BAR at 0x%08llx refused by KVM (%s: it overlaps guest memory): "
		    "VRAM not mapped", (unsigned long long)want, strerror(-err));
		return;
	}
	sv->mapped_at = want;
	vga_mark_dirty(&sv->vga, 0, sv->vga.vram_size);
}

void std_vga_sync_dirty(struct std_vga *sv)
{
	if (!sv->mapped_at)
		return;
	if (!sv->log_dirty) {
		vga_mark_dirty(&sv->vga, 0, sv->vga.vram_size);
		return;
	}
	uint64_t bitmap[VGA_PAGES / 64] = { 0 };
	struct kvm_dirty_log log = { .slot = sv->kvm_slot, .dirty_bitmap = bitmap };
	if (ioctl(sv->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
		vga_mark_dirty(&sv->vga, 0, sv->vga.vram_size);
		return;
	}
	for (unsigned i = 0; i < VGA_PAGES / 64; i++)
		sv->vga.dirty[i] |= bitmap[i];
}

/* ---- bus callbacks ------------------------------------------------------------------------ */

static int ports_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct std_vga *sv = dev;
	for (unsigned i = 0; i < len; i++)
		data[i] = vga_port_read(&sv->vga, VGA_PORT_BASE + offset + i);
	return 0;
}

static int ports_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct std_vga *sv = dev;
	/* A 16-bit OUT to an index port writes the index, then the data port after it. */
	for (unsigned i = 0; i < len; i++)
		vga_port_write(&sv->vga, VGA_PORT_BASE + offset + i, data[i]);
	report(sv);
	return 0;
}

static const struct bus_ops ports_ops = { ports_read, ports_write };

/* 0x1ce: the index; 0x1cf (and 0x1d0, as Bochs has it): the data. 16 bits each. */
static int vbe_ports_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct std_vga *sv = dev;
	struct vga *v = &sv->vga;
	uint16_t value = offset == 0 ? v->s.vbe_index : vbe_read(v, v->s.vbe_index);
	u64_to_bytes(value, data, len);
	return 0;
}

static int vbe_ports_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct std_vga *sv = dev;
	uint16_t value = bytes_to_u64(data, len > 2 ? 2 : len);
	if (offset == 0)
		sv->vga.s.vbe_index = value;
	else
		vbe_write(&sv->vga, sv->vga.s.vbe_index, value);
	report(sv);
	return 0;
}

static const struct bus_ops vbe_ports_ops = { vbe_ports_read, vbe_ports_write };

static int window_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct std_vga *sv = dev;
	for (unsigned i = 0; i < len; i++)
		data[i] = vga_mem_read(&sv->vga, offset + i);
	return 0;
}

static int window_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct std_vga *sv = dev;
	for (unsigned i = 0; i < len; i++)
		vga_mem_write(&sv->vga, offset + i, data[i]);
	return 0;
}

static const struct bus_ops window_ops = { window_read, window_write };

#define MMIO_VGA_PORTS 0x400   /* ports 0x3c0-0x3df */
#define MMIO_VBE       0x500   /* VBE register i at 0x500 + 2 * i */

static int mmio_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct std_vga *sv = dev;
	memset(data, 0, len);
	if (offset >= MMIO_VGA_PORTS && offset + len <= MMIO_VGA_PORTS + 0x20) {
		for (unsigned i = 0; i < len; i++)
			data[i] = vga_port_read(&sv->vga, 0x3c0 + offset - MMIO_VGA_PORTS + i);
	} else if (offset >= MMIO_VBE && offset + len <= MMIO_VBE + 2 * VBE_REGS) {
		for (unsigned i = 0; i < len; i++) {
			uint64_t at = offset - MMIO_VBE + i;
			data[i] = vbe_read(&sv->vga, at / 2) >> (8 * (at & 1));
		}
	}
	return 0;
}

static int mmio_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct std_vga *sv = dev;
	if (offset >= MMIO_VGA_PORTS && offset + len <= MMIO_VGA_PORTS + 0x20) {
		for (unsigned i = 0; i < len; i++)
			vga_port_write(&sv->vga, 0x3c0 + offset - MMIO_VGA_PORTS + i, data[i]);
	} else if (offset >= MMIO_VBE && offset + len <= MMIO_VBE + 2 * VBE_REGS &&
		   len == 2 && !(offset & 1)) {
		vbe_write(&sv->vga, (offset - MMIO_VBE) / 2, bytes_to_u64(data, 2));
	}
	report(sv);
	return 0;
}

static const struct bus_ops mmio_ops = { mmio_read, mmio_write };

/* ---- putting it on the machine ----------------------------------------------------------- */

int std_vga_attach(struct std_vga *sv, struct io_bus *bus, struct pci_host *host, int vm_fd,
		   unsigned kvm_slot, unsigned slot, char *why, size_t why_len)
{
	memset(sv, 0, sizeof(*sv));
	sv->vm_fd = vm_fd;
	sv->kvm_slot = kvm_slot;
	sv->log_dirty = true;
	void *vram = mmap(NULL, VGA_VRAM_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vram == MAP_FAILED) {
		snprintf(why, why_len, "std-vga: cannot allocate %u MiB of VRAM: %s",
			 VGA_VRAM_SIZE >> 20, strerror(errno));
		return -ENOMEM;
	}
	vga_init(&sv->vga, vram, VGA_VRAM_SIZE);

	struct pci_config *c = &sv->pci.config;
	pci_config_init(c, STD_VGA_VENDOR, STD_VGA_DEVICE, 0x030000, 2);
	c->bytes[PCI_SUBSYSTEM_VENDOR_ID] = 0xf4;   /* 1af4:1100, as QEMU's devices */
	c->bytes[PCI_SUBSYSTEM_VENDOR_ID + 1] = 0x1a;
	c->bytes[PCI_SUBSYSTEM_ID] = 0x00;
	c->bytes[PCI_SUBSYSTEM_ID + 1] = 0x11;
	pci_config_add_bar(c, 0, 0, VGA_VRAM_SIZE);
	c->bytes[PCI_BAR0] |= 0x08;                 /* prefetchable */
	pci_config_add_bar(c, 2, 0, STD_VGA_MMIO_SIZE);
	sv->pci.name = "std-vga";
	sv->pci.owner = sv;
	sv->pci.bars_changed = vram_bar_changed;

	/* BAR2 is registered parked (off) at 0; the firmware's BAR write moves it. */
	sv->mmio = bus_register(bus, BUS_MMIO, 0, STD_VGA_MMIO_SIZE, &mmio_ops, sv, "std-vga");
	if (sv->mmio)
		bus_move(sv->mmio, 0, false);
	sv->pci.bar_range[2] = sv->mmio;
	if (!sv->mmio ||
	    !bus_register(bus, BUS_PIO, VGA_PORT_BASE, VGA_PORT_COUNT, &ports_ops, sv, "vga") ||
	    !bus_register(bus, BUS_PIO, VBE_PORT_INDEX, 3, &vbe_ports_ops, sv, "vbe") ||
	    !bus_register(bus, BUS_MMIO, VGA_WINDOW_BASE, VGA_WINDOW_SIZE, &window_ops, sv,
			  "vga-window")) {
		snprintf(why, why_len, "std-vga: its ports or the window at 0xa0000 are taken");
		return -EBUSY;
	}
	if (pci_host_place(host, &sv->pci, slot, 0)) {
		snprintf(why, why_len, "std-vga: PCI slot %u is taken", slot);
		return -EBUSY;
	}
	return 0;
}

void std_vga_detach(struct std_vga *sv)
{
	if (sv->vga.vram)
		munmap(sv->vga.vram, VGA_VRAM_SIZE);
	sv->vga.vram = NULL;
}
