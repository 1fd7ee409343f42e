/*
 * pflash.c - a CFI parallel flash chip (Intel command set) and its KVM mapping. See pflash.h.
 *
 * References: the JEDEC CFI specification (JESD68: the query table's layout), Intel's
 * application note 646 "Common Flash Interface and Command Sets" (the command and status
 * codes), QEMU's hw/block/pflash_cfi01.c (the same device, as OVMF on QEMU expects it), OVMF's
 * OvmfPkg/QemuFlashFvbServicesRuntimeDxe/QemuFlash.c (the commands OVMF issues).
 */
#include "pflash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm.h"

#define CMD_READ_ARRAY    0xff
#define CMD_READ_ARRAY0   0x00
#define CMD_PROGRAM       0x10
#define CMD_PROGRAM_ALT   0x40
#define CMD_ERASE         0x20
#define CMD_CONFIRM       0xd0
#define CMD_CLEAR_STATUS  0x50
#define CMD_LOCK_SETUP    0x60
#define CMD_READ_STATUS   0x70
#define CMD_READ_ID       0x90
#define CMD_CFI_QUERY     0x98
#define STATUS_SEQ_ERROR  0x30    /* erase and program error together: "bad sequence" */
#define ID_MANUFACTURER   0x89    /* Intel */
#define ID_DEVICE         0x18

/* ---- the query table ------------------------------------------------------------------- */

static unsigned log2_ceil(uint32_t n)
{
	unsigned l = 0;
	while ((1ull << l) < n)
		l++;
	return l;
}

/* The JEDEC CFI table as an x8 chip shows it: one byte per address, "QRY" at 0x10. */
static void build_cfi(struct pflash *f)
{
	uint8_t *q = f->cfi;
	uint32_t blocks = f->size / PFLASH_SECTOR;
	memset(q, 0, PFLASH_CFI_SIZE);
	q[0x10] = 'Q', q[0x11] = 'R', q[0x12] = 'Y';
	q[0x13] = 0x01;                 /* primary command set: Intel/Sharp extended */
	q[0x1b] = 0x45, q[0x1c] = 0x55; /* Vcc 4.5 .. 5.5 V (BCD volts, tenths) */
	q[0x1f] = 0x07;                 /* typical byte program: 2^7 us */
	q[0x21] = 0x0a;                 /* typical block erase: 2^10 ms */
	q[0x23] = 0x04, q[0x25] = 0x04; /* maxima: 2^4 times the typical */
	q[0x27] = log2_ceil(f->size);   /* device size: 2^n bytes */
	q[0x28] = 0x00;                 /* interface: x8 only */
	q[0x2c] = 1;                    /* one region of equal erase blocks: */
	q[0x2d] = (blocks - 1) & 0xff, q[0x2e] = (blocks - 1) >> 8;   /* count - 1 */
	q[0x2f] = (PFLASH_SECTOR >> 8) & 0xff, q[0x30] = PFLASH_SECTOR >> 16;   /* size / 256 */
}

void pflash_init(struct pflash *f, uint8_t *data, uint32_t size, bool readonly)
{
	f->data = data;
	f->size = size;
	f->readonly = readonly;
	f->mode = PFLASH_READ_ARRAY;
	f->status = PFLASH_STATUS_READY;
	f->programmed = f->erased = 0;
	build_cfi(f);
}

/* ---- the state machine ------------------------------------------------------------------- */

static uint8_t read_byte(const struct pflash *f, uint32_t offset)
{
	switch (f->mode) {
	case PFLASH_READ_STATUS:
	case PFLASH_PROGRAM:
	case PFLASH_ERASE:
	case PFLASH_LOCK:
		return f->status;   /* between a command and its data the chip shows status */
	case PFLASH_READ_ID:
		return (offset & 1) ? ID_DEVICE : ID_MANUFACTURER;
	case PFLASH_READ_QUERY:
		return offset < PFLASH_CFI_SIZE ? f->cfi[offset] : 0;
	default:
		return f->data[offset];
	}
}

uint64_t pflash_read(struct pflash *f, uint32_t offset, unsigned len)
{
	uint64_t value = 0;
	for (unsigned i = 0; i < len && i < 8; i++) {
		/* Status and identifier answer on every byte lane; query and array by address. */
		uint32_t at = f->mode == PFLASH_READ_ARRAY || f->mode == PFLASH_READ_QUERY ?
			      offset + i : offset;
		uint8_t b = at < f->size ? read_byte(f, at) : 0xff;
		value |= (uint64_t)b << (8 * i);
	}
	return value;
}

/* The data of a program command: NOR flash only clears bits. */
static void program(struct pflash *f, uint32_t offset, uint64_t value, unsigned len)
{
	f->mode = PFLASH_READ_STATUS;
	if (f->readonly) {
		f->status |= PFLASH_STATUS_READY | PFLASH_STATUS_PROG_ERR | PFLASH_STATUS_LOCKED;
		return;
	}
	for (unsigned i = 0; i < len && i < 8 && offset + i < f->size; i++)
		f->data[offset + i] &= value >> (8 * i);
	f->status |= PFLASH_STATUS_READY;
	f->programmed += len;
}

/* The confirm of an erase: the sector that holds offset becomes all ones. */
static void erase(struct pflash *f, uint32_t offset, uint8_t cmd)
{
	f->mode = PFLASH_READ_STATUS;
	if (cmd != CMD_CONFIRM) {
		f->status |= PFLASH_STATUS_READY | STATUS_SEQ_ERROR;
		return;
	}
	if (f->readonly) {
		f->status |= PFLASH_STATUS_READY | PFLASH_STATUS_ERASE_ERR | PFLASH_STATUS_LOCKED;
		return;
	}
	memset(f->data + (offset & ~(PFLASH_SECTOR - 1)), 0xff, PFLASH_SECTOR);
	f->status |= PFLASH_STATUS_READY;
	f->erased++;
}

/* A command byte written while no command waits for its data. */
static void command(struct pflash *f, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_ARRAY:
	case CMD_READ_ARRAY0:
		f->mode = PFLASH_READ_ARRAY;
		break;
	case CMD_PROGRAM:
	case CMD_PROGRAM_ALT:
		f->mode = PFLASH_PROGRAM;
		break;
	case CMD_ERASE:
		f->mode = PFLASH_ERASE;
		break;
	case CMD_CLEAR_STATUS:
		/* All bits, "ready" too, as QEMU's chip does: OVMF's probe (QemuFlashDetected)
		 * then reads status with 0x70 and takes only 0x00 for flash. The mode stays:
		 * reads still see the array. */
		f->status = 0;
		break;
	case CMD_LOCK_SETUP:
		f->mode = PFLASH_LOCK;
		break;
	case CMD_READ_STATUS:
		f->mode = PFLASH_READ_STATUS;
		break;
	case CMD_READ_ID:
		f->mode = PFLASH_READ_ID;
		break;
	case CMD_CFI_QUERY:
		f->mode = PFLASH_READ_QUERY;
		break;
	default:   /* write-to-buffer, suspend, ...: not this chip; say so in the status */
		f->status |= PFLASH_STATUS_READY | STATUS_SEQ_ERROR;
		f->mode = PFLASH_READ_STATUS;
		break;
	}
}

void pflash_write(struct pflash *f, uint32_t offset, uint64_t value, unsigned len)
{
	if (offset >= f->size)
		return;
	switch (f->mode) {
	case PFLASH_PROGRAM:
		program(f, offset, value, len);
		break;
	case PFLASH_ERASE:
		erase(f, offset, value & 0xff);
		break;
	case PFLASH_LOCK:
		f->mode = PFLASH_READ_STATUS;   /* lock bits: not kept (nothing here locks) */
		break;
	default:
		command(f, value & 0xff);   /* a command is one byte, on the lowest lane */
		break;
	}
}

/* ---- the machine: a file, a KVM slot, an MMIO range --------------------------------------- */

int pflash_open(struct pflash *f, const char *path, bool readonly, char *why, size_t why_len)
{
	memset(f, 0, sizeof(*f));
	f->path = path;
	f->vm_fd = -1;
	int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = -errno;
		snprintf(why, why_len, "%s: cannot %s: %s", path,
			 !readonly && err == -EACCES ? "write" : "open", strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	/* A file without write permission is read-only to us even for root, who could open it. */
	if (!readonly && !(st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH))) {
		close(fd);
		snprintf(why, why_len, "%s: cannot write: the file is read-only (mode %04o; the "
			 "variables are written back to it)", path, (unsigned)(st.st_mode & 07777));
		return -EACCES;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size % PFLASH_SECTOR ||
	    st.st_size > PFLASH_WINDOW) {
		close(fd);
		snprintf(why, why_len, "%s: not a flash image (%lld bytes; want a multiple of "
			 "4 KiB, at most 8 MiB)", path, (long long)st.st_size);
		return -EINVAL;
	}
	/* Read-only: a private copy (the guest's failed writes change nothing anywhere). */
	uint8_t *data = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE,
			     readonly ? MAP_PRIVATE : MAP_SHARED, fd, 0);
	close(fd);
	if (data == MAP_FAILED) {
		snprintf(why, why_len, "%s: mmap: %s", path, strerror(errno));
		return -ENOMEM;
	}
	pflash_init(f, data, st.st_size, readonly);
	return 0;
}

/* Show the array as a read-only KVM slot, or take the slot away so that reads exit. */
static int set_slot(struct pflash *f, bool on)
{
	struct kvm_userspace_memory_region r = {
		.slot = f->slot,
		.flags = f->slots_readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = f->gpa,
		.memory_size = on ? f->size : 0,
		.userspace_addr = (uintptr_t)f->data,
	};
	if (f->mapped == on)
		return 0;
	if (ioctl(f->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	f->mapped = on;
	return 0;
}

static int mmio_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct pflash *f = dev;
	u64_to_bytes(pflash_read(f, offset, len), data, len);
	return 0;
}

static int mmio_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct pflash *f = dev;
	pflash_write(f, offset, bytes_to_u64(data, len), len);
	/* Without read-only slots a slot would swallow writes: the flash is MMIO only. */
	int err = f->slots_readonly ? set_slot(f, f->mode == PFLASH_READ_ARRAY) : 0;
	if (err)
		fprintf(stderr, "pflash: %s: KVM_SET_USER_MEMORY_REGION: %s\n", f->path,
			strerror(-err));
	return 0;
}

static const struct bus_ops pflash_ops = { mmio_read, mmio_write };

int pflash_map(struct pflash *f, struct io_bus *bus, int vm_fd, bool slots_readonly,
	       unsigned slot, uint64_t gpa, char *why, size_t why_len)
{
	f->vm_fd = vm_fd;
	f->slot = slot;
	f->gpa = gpa;
	f->slots_readonly = slots_readonly;
	f->range = bus_register(bus, BUS_MMIO, gpa, f->size, &pflash_ops, f, "pflash");
	if (!f->range) {
		snprintf(why, why_len, "%s: flash at 0x%llx overlaps another device", f->path,
			 (unsigned long long)gpa);
		return -EBUSY;
	}
	/* Without read-only slots the code flash is a plain slot (code cannot run from MMIO;
	 * the guest's writes then land in its private copy), and a writable one is MMIO only. */
	int err = slots_readonly || f->readonly ? set_slot(f, true) : 0;
	if (err)
		snprintf(why, why_len, "%s: KVM_SET_USER_MEMORY_REGION: %s", f->path,
			 strerror(-err));
	return err;
}

int pflash_sync_slot(struct pflash *f)
{
	return f->slots_readonly ? set_slot(f, f->mode == PFLASH_READ_ARRAY) : 0;
}

void pflash_close(struct pflash *f)
{
	if (!f->data)
		return;
	if (!f->readonly)
		msync(f->data, f->size, MS_SYNC);   /* the variables are on disk when we exit */
	munmap(f->data, f->size);
	f->data = NULL;
}
