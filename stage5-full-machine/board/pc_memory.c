/*
 * pc_memory.c - KVM memory slots for RAM, the BIOS and the PAM segments. See pc_memory.h.
 */
#include "pc_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { SLOT_LOW_RAM, SLOT_HIGH_RAM, SLOT_BIOS, SLOT_PAM_FIRST };

void pc_ram_split(bool q35, uint64_t ram_size, struct pc_ram_split *out)
{
	/* QEMU hw/i386/pc_piix.c and pc_q35.c: "lowmem" moves down once RAM reaches a limit. */
	uint64_t limit = q35 ? 0xb0000000ull : 0xe0000000ull;
	uint64_t lowmem = q35 ? 0x80000000ull : 0xc0000000ull;
	out->below_4g = ram_size >= limit ? lowmem : ram_size;
	out->above_4g = ram_size - out->below_4g;
	out->pci64_base = (PC_4G + out->above_4g + (1ull << 30) - 1) & ~((1ull << 30) - 1);
}

static int set_slot(int vm_fd, unsigned slot, uint64_t gpa, uint64_t size, void *host,
		    bool readonly)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};
	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

/* Where in the BIOS image an address in 0xe0000-0xfffff reads from, or NULL (no ROM there). */
static uint8_t *rom_at(const struct pc_memory *pm, uint32_t addr)
{
	uint32_t window = pm->rom_size < PC_ISA_BIOS_MAX ? pm->rom_size : PC_ISA_BIOS_MAX;
	if (addr < 0x100000 - window || addr >= 0x100000)
		return NULL;
	return pm->rom + pm->rom_size - (0x100000 - addr);
}

static int load_bios(struct pc_memory *pm, const char *path, char *why, size_t why_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = -errno;
		snprintf(why, why_len, "%s: cannot open firmware: %s", path, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size % 0x10000 ||
	    st.st_size > PC_BIOS_MAX) {
		close(fd);
		snprintf(why, why_len, "%s: not a BIOS image (want 64 KiB .. 16 MiB, a multiple "
			 "of 64 KiB)", path);
		return -EINVAL;
	}
	pm->rom_size = st.st_size;
	pm->rom = mmap(NULL, pm->rom_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (pm->rom == MAP_FAILED) {
		pm->rom = NULL;
		snprintf(why, why_len, "%s: mmap: %s", path, strerror(errno));
		return -ENOMEM;
	}
	return 0;
}

/* Map PAM segment i as its mode says. */
static int map_segment(struct pc_memory *pm, int i, const struct pam_segment *s)
{
	unsigned slot = SLOT_PAM_FIRST + i;
	int err = 0;
	if (pm->mapped[i])
		err = set_slot(pm->vm_fd, slot, s->base, 0, NULL, false);   /* delete */
	pm->mapped[i] = false;
	pm->mode[i] = s->mode;
	if (err)
		return err;
	void *host = NULL;
	bool readonly = true;
	if (s->mode & PAM_READ_RAM) {
		host = pm->ram + s->base;
		readonly = !(s->mode & PAM_WRITE_RAM);
	} else {
		host = rom_at(pm, s->base);   /* NULL below the BIOS window: nothing there */
	}
	if (!host)
		return 0;
	/* Without read-only slots a write-protected segment stays writable (no protection). */
	err = set_slot(pm->vm_fd, slot, s->base, s->size, host, readonly && pm->readonly_slots);
	pm->mapped[i] = !err;
	return err;
}

void pc_memory_pam_changed(void *opaque, const uint8_t regs[PAM_REGS])
{
	struct pc_memory *pm = opaque;
	struct pam_segment segs[PAM_SEGMENTS];
	pam_decode(regs, segs);
	for (int i = 0; i < PAM_SEGMENTS; i++) {
		if (pm->mapped[i] && pm->mode[i] == segs[i].mode)
			continue;
		int err = map_segment(pm, i, &segs[i]);
		if (err)
			fprintf(stderr, "pam: segment 0x%x: KVM_SET_USER_MEMORY_REGION: %s\n",
				segs[i].base, strerror(-err));
	}
}

int pc_memory_init(struct pc_memory *pm, struct vm *vm, bool q35, const char *bios_path,
		   char *why, size_t why_len)
{
	memset(pm, 0, sizeof(*pm));
	pm->q35 = q35;
	pm->vm_fd = vm->vm_fd;
	pm->ram = vm->mem.host;
	pm->ram_size = vm->mem.size;
	pc_ram_split(pm->q35, pm->ram_size, &pm->split);
	pm->readonly_slots = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
	int err = bios_path ? load_bios(pm, bios_path, why, why_len) : 0;
	if (err)
		return err;

	/* Stage 1 mapped all RAM as slot 0; cut the legacy hole out of it. */
	err = set_slot(pm->vm_fd, SLOT_LOW_RAM, 0, 0, NULL, false);
	if (!err)
		err = set_slot(pm->vm_fd, SLOT_LOW_RAM, 0, PC_LOW_RAM_END, pm->ram, false);
	if (!err)
		err = set_slot(pm->vm_fd, SLOT_HIGH_RAM, PC_HIGH_RAM_BASE,
			       pm->split.below_4g - PC_HIGH_RAM_BASE, pm->ram + PC_HIGH_RAM_BASE,
			       false);
	/* The rest of the same allocation appears at 4 GiB; devices learn it from the split. */
	if (!err && pm->split.above_4g)
		err = set_slot(pm->vm_fd, PC_ABOVE_4G_SLOT, PC_4G, pm->split.above_4g,
			       pm->ram + pm->split.below_4g, false);
	if (!err)
		guest_memory_split(&vm->mem, pm->split.above_4g);
	if (!err && pm->rom)
		err = set_slot(pm->vm_fd, SLOT_BIOS, (1ull << 32) - pm->rom_size, pm->rom_size,
			       pm->rom, pm->readonly_slots);
	if (err) {
		snprintf(why, why_len, "KVM_SET_USER_MEMORY_REGION: %s", strerror(-err));
		return err;
	}
	/* Power-on: every PAM register 0, all reads from ROM. */
	uint8_t regs[PAM_REGS] = { 0 };
	pc_memory_pam_changed(pm, regs);
	return 0;
}

/* A write that reached us: the segment is read-only RAM, ROM, or nothing at all. */
static int shadow_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct pc_memory *pm = dev;
	uint32_t addr = PC_SHADOW_BASE + offset;
	int seg = pam_segment_of(addr);
	if (seg >= 0 && (pm->mode[seg] & PAM_WRITE_RAM) && addr + len <= 0x100000)
		memcpy(pm->ram + addr, data, len);
	return 0;
}

/* A read that reached us: a ROM-mode segment below the BIOS window (no option ROM yet). */
static int shadow_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct pc_memory *pm = dev;
	uint32_t addr = PC_SHADOW_BASE + offset;
	int seg = pam_segment_of(addr);
	if (seg >= 0 && (pm->mode[seg] & PAM_READ_RAM) && addr + len <= 0x100000)
		memcpy(data, pm->ram + addr, len);
	else
		memset(data, 0xff, len);
	return 0;
}

static const struct bus_ops shadow_ops = { shadow_read, shadow_write };

int pc_memory_attach(struct pc_memory *pm, struct io_bus *bus)
{
	return bus_register(bus, BUS_MMIO, PC_SHADOW_BASE, 0x100000 - PC_SHADOW_BASE, &shadow_ops,
			    pm, "shadow") ? 0 : -EBUSY;
}
