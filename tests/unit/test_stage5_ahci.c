/*
 * test_stage5_ahci.c - unit tests of the ICH9 AHCI controller (stage5-full-machine/storage/
 * ahci.c) with the real drive core (ata.c, atapi.c) behind it, on a fake guest RAM: no KVM.
 *
 * The tests play the guest's driver: they write registers through the I/O bus (the same
 * callbacks KVM's MMIO exits reach), build command lists, command tables and PRDTs in the
 * fake RAM, and check what a driver would look at: register values, the FISes the controller
 * posts, the data in RAM and the bytes in the disk image. Then hostile tables: every
 * structure outside RAM, short PRDTs, bogus FIS lengths, a drive that is not there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "fake_ram.h"
#include "storage/ahci.h"

#define RAM_SIZE    (4u << 20)
#define DISK_SECTORS 2048          /* 1 MiB */
#define CD_SECTORS  16

/* Where the test driver keeps its structures in the fake RAM (port 0 unless told). */
#define CLB        0x1000u        /* command list: 32 headers of 32 bytes */
#define FB         0x2000u        /* received FIS area */
#define CTBA       0x3000u        /* command table of slot 0 */
#define DATA       0x10000u       /* data buffers */
#define OUTSIDE    (RAM_SIZE + 0x1000ull)

/* Register offsets the tests use (AHCI 1.3.1 chapter 3). */
#define CAP 0x00
#define GHC 0x04
#define IS  0x08
#define PI  0x0c
#define VS  0x10
#define PX(p, reg) (0x100u + (p) * 0x80u + (reg))
#define PXCLB 0x00
#define PXCLBU 0x04
#define PXFB  0x08
#define PXIS  0x10
#define PXIE  0x14
#define PXCMD 0x18
#define PXTFD 0x20
#define PXSIG 0x24
#define PXSSTS 0x28
#define PXSCTL 0x2c
#define PXCI  0x38

#define CMD_ST  0x1u
#define CMD_FRE 0x10u
#define CMD_FR  0x4000u
#define CMD_CR  0x8000u
#define IS_DHRS 0x1u
#define IS_PSS  0x2u
#define IS_HBDS (1u << 28)
#define IS_HBFS (1u << 29)
#define IS_TFES (1u << 30)

struct fixture {
	struct io_bus bus;
	struct pci_host pci;
	struct guest_memory *mem;
	struct ahci_controller ahci;
	struct block_dev *disk, *cd;
	char disk_path[64], cd_path[64];
};

/* Byte i of disk sector s: a pattern no two sectors share. */
static uint8_t disk_byte(uint64_t s, size_t i)
{
	return (uint8_t)(s * 13 + i * 5 + 1);
}

static int make_image(char *path, const char *name, unsigned sectors, unsigned sector_size,
		      struct block_dev **out)
{
	char why[BLOCK_WHY_MAX];
	snprintf(path, 64, "/tmp/test_stage5_ahci_%s.XXXXXX", name);
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	uint8_t *buf = malloc(sector_size);
	for (unsigned s = 0; s < sectors; s++) {
		for (unsigned i = 0; i < sector_size; i++)
			buf[i] = disk_byte(s, i);
		if (write(fd, buf, sector_size) != (ssize_t)sector_size)
			return -1;
	}
	free(buf);
	close(fd);
	return block_open(path, BLOCK_FORMAT_RAW | BLOCK_NO_FLUSH, out, why, sizeof(why));
}

/* Port 0: a disk; port 1: nothing; port 2: a CD-ROM. */
static int setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));
	char why[256];
	if (!x)
		return -1;
	bus_init(&x->bus);
	pci_host_init(&x->pci, &x->bus, -1);
	x->mem = fake_ram(RAM_SIZE);
	if (make_image(x->disk_path, "disk", DISK_SECTORS, 512, &x->disk) ||
	    make_image(x->cd_path, "cd", CD_SECTORS, 2048, &x->cd))
		return -1;
	struct block_dev *drives[AHCI_MAX_PORTS] = { x->disk, NULL, x->cd };
	enum ata_media media[AHCI_MAX_PORTS] = { ATA_MEDIA_DISK, ATA_MEDIA_DISK, ATA_MEDIA_CDROM };
	if (ahci_attach(&x->ahci, &x->bus, &x->pci, x->mem, -1, 31, 2, 23, drives, media, why,
			sizeof(why)))
		return -1;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *x = *state;
	block_close(x->disk);
	block_close(x->cd);
	unlink(x->disk_path);
	unlink(x->cd_path);
	free_ram(x->mem);
	free(x);
	return 0;
}

/* ---- the guest's side ----------------------------------------------------------------- */

static uint64_t abar(struct fixture *x)
{
	return pci_bar_address(&x->ahci.pci.config, AHCI_ABAR_BAR);
}

static uint64_t mmio(struct fixture *x, bool write, unsigned off, uint64_t value, unsigned len)
{
	uint8_t data[8];
	struct bus_range *r = bus_find(&x->bus, BUS_MMIO, abar(x) + off, len);
	assert_non_null(r);
	u64_to_bytes(value, data, len);
	if (write)
		assert_int_equal(r->ops->write(r->dev, abar(x) + off - r->base, data, len), 0);
	else
		assert_int_equal(r->ops->read(r->dev, abar(x) + off - r->base, data, len), 0);
	return bytes_to_u64(data, len);
}

static uint32_t rd(struct fixture *x, unsigned off)
{
	return mmio(x, false, off, 0, 4);
}

static void wr(struct fixture *x, unsigned off, uint32_t value)
{
	mmio(x, true, off, value, 4);
}

static uint8_t *ram(struct fixture *x, uint64_t gpa)
{
	return x->mem->host + gpa;
}

static void put32(struct fixture *x, uint64_t gpa, uint32_t v)
{
	u64_to_bytes(v, ram(x, gpa), 4);
}

static uint32_t get32(struct fixture *x, uint64_t gpa)
{
	return bytes_to_u64(ram(x, gpa), 4);
}

/* What a driver does before its first command: structures, FIS receive, start. */
static void port_start(struct fixture *x, unsigned p)
{
	wr(x, PX(p, PXCLB), CLB);
	wr(x, PX(p, PXFB), FB);
	wr(x, PX(p, PXCMD), CMD_FRE);
	wr(x, PX(p, PXCMD), CMD_FRE | CMD_ST);
	wr(x, PX(p, PXIE), 0xffffffff);
	wr(x, GHC, rd(x, GHC) | 2);
}

/* Slot's header: FIS length 5, flags (bit 5 ATAPI, bit 6 write), prdtl entries at ctba. */
static void header(struct fixture *x, unsigned slot, uint32_t flags, uint32_t prdtl,
		   uint64_t ctba)
{
	uint64_t h = CLB + slot * 32;
	memset(ram(x, h), 0, 32);
	put32(x, h, 5 | flags | prdtl << 16);
	put32(x, h + 8, (uint32_t)ctba);
	put32(x, h + 12, ctba >> 32);
}

/* A Register H2D FIS with the C bit: command, 48-bit lba, count, device. */
static void command_fis(struct fixture *x, uint64_t ctba, uint8_t command, uint64_t lba,
			uint16_t count, uint8_t device, uint8_t features)
{
	uint8_t *f = ram(x, ctba);
	memset(f, 0, 0x80);
	f[0] = 0x27;
	f[1] = 0x80;
	f[2] = command;
	f[3] = features;
	for (int i = 0; i < 6; i++)
		f[i < 3 ? 4 + i : 5 + i] = lba >> (8 * i);
	f[7] = device;
	f[12] = count;
	f[13] = count >> 8;
}

static void prd(struct fixture *x, uint64_t ctba, unsigned i, uint64_t dba, uint32_t bytes)
{
	uint64_t e = ctba + 0x80 + i * 16;
	put32(x, e, (uint32_t)dba);
	put32(x, e + 4, dba >> 32);
	put32(x, e + 8, 0);
	put32(x, e + 12, bytes - 1);
}

static void issue(struct fixture *x, unsigned p, unsigned slot)
{
	wr(x, PX(p, PXIS), 0xffffffff);
	wr(x, IS, 0xffffffff);
	wr(x, PX(p, PXCI), 1u << slot);
}

/* ---- registers ------------------------------------------------------------------------ */

static void test_pci_identity(void **state)
{
	struct fixture *x = *state;
	uint32_t a = 0x80000000u | 31 << 11 | 2 << 8;
	assert_int_equal(pci_host_config_read(&x->pci, a, 4), 0x29228086);
	assert_int_equal(pci_host_config_read(&x->pci, a | 8, 4) >> 8, 0x010601);
	assert_int_equal(pci_host_config_read(&x->pci, a | 0x3d, 1), 1);   /* INTA# */
	uint8_t cap = pci_host_config_read(&x->pci, a | 0x34, 1);
	assert_int_equal(pci_host_config_read(&x->pci, a | cap, 1), 0x12);  /* SATA capability */
	/* BAR5 is a 4 KiB memory BAR: sizing reads back its size. */
	pci_host_config_write(&x->pci, a | 0x24, 0xffffffff, 4);
	assert_int_equal(pci_host_config_read(&x->pci, a | 0x24, 4), 0xfffff000);
	/* Firmware moves it: the registers follow. */
	pci_host_config_write(&x->pci, a | 0x24, 0xfebf0000, 4);
	assert_int_equal(abar(x), 0xfebf0000);
	assert_int_equal(rd(x, PI), 0x3f);
}

static void test_hba_registers(void **state)
{
	struct fixture *x = *state;
	uint32_t cap = rd(x, CAP);
	assert_int_equal(cap & 0x1f, 5);               /* six ports */
	assert_int_equal((cap >> 8) & 0x1f, 31);       /* 32 slots */
	assert_true(cap & (1u << 31));                 /* 64-bit addresses */
	assert_false(cap & (1u << 30));                /* no NCQ */
	assert_int_equal(rd(x, PI), 0x3f);
	assert_int_equal(rd(x, VS), 0x00010000);
	assert_int_equal(rd(x, GHC), 0x80000000u);     /* AE, read-only set */
	assert_int_equal(mmio(x, false, CAP + 1, 0, 1), 0x1f);   /* byte reads */
	wr(x, GHC, 2);
	assert_int_equal(rd(x, GHC), 0x80000002u);
	wr(x, PX(0, PXCLB), 0x12345678);
	assert_int_equal(rd(x, PX(0, PXCLB)), 0x12345400);      /* 1 KiB aligned */
	wr(x, PX(0, PXFB), 0x12345678);
	assert_int_equal(rd(x, PX(0, PXFB)), 0x12345600);       /* 256 bytes aligned */
	/* HBA reset: everything back to power-on, HR reads back 0 at once. */
	wr(x, GHC, 1);
	assert_int_equal(rd(x, GHC), 0x80000000u);
	assert_int_equal(rd(x, PX(0, PXCLB)), 0);
	/* Registers past the last port and in reserved space read 0, writes vanish. */
	wr(x, PX(6, PXCLB), 0x1000);
	assert_int_equal(rd(x, PX(6, PXCLB)), 0);
}

static void test_signatures(void **state)
{
	struct fixture *x = *state;
	assert_int_equal(rd(x, PX(0, PXSIG)), 0x00000101);
	assert_int_equal(rd(x, PX(0, PXSSTS)), 0x113);
	assert_int_equal(rd(x, PX(0, PXTFD)) & 0x89, 0);        /* not BSY, DRQ, ERR */
	assert_int_equal(rd(x, PX(1, PXSSTS)), 0);               /* no drive */
	assert_int_equal(rd(x, PX(1, PXTFD)), 0x7f);
	assert_int_equal(rd(x, PX(2, PXSIG)), 0xeb140101);       /* ATAPI */
	assert_int_equal(rd(x, PX(2, PXSSTS)), 0x113);
}

static void test_start_stop(void **state)
{
	struct fixture *x = *state;
	wr(x, PX(0, PXCMD), CMD_FRE);
	assert_int_equal(rd(x, PX(0, PXCMD)) & (CMD_FRE | CMD_FR | CMD_ST | CMD_CR),
			 CMD_FRE | CMD_FR);
	wr(x, PX(0, PXCMD), CMD_FRE | CMD_ST);
	assert_int_equal(rd(x, PX(0, PXCMD)) & (CMD_FRE | CMD_FR | CMD_ST | CMD_CR),
			 CMD_FRE | CMD_FR | CMD_ST | CMD_CR);
	wr(x, PX(0, PXCMD), 0);
	assert_int_equal(rd(x, PX(0, PXCMD)) & (CMD_FRE | CMD_FR | CMD_ST | CMD_CR), 0);
	/* CI is ignored while ST is clear. */
	wr(x, PX(0, PXCI), 1);
	assert_int_equal(rd(x, PX(0, PXCI)), 0);
}

/* COMRESET: DET=1 takes the link down, DET=0 brings the drive back with a D2H FIS. */
static void test_comreset(void **state)
{
	struct fixture *x = *state;
	port_start(x, 2);
	memset(ram(x, FB), 0, 256);
	wr(x, PX(2, PXSCTL), 0x301);
	assert_int_equal(rd(x, PX(2, PXSSTS)) & 0xf, 1);
	wr(x, PX(2, PXSCTL), 0x300);
	assert_int_equal(rd(x, PX(2, PXSSTS)), 0x113);
	assert_int_equal(rd(x, PX(2, PXSIG)), 0xeb140101);
	assert_int_equal(ram(x, FB + 0x40)[0], 0x34);
	assert_int_equal(ram(x, FB + 0x40)[5], 0x14);
	assert_int_equal(ram(x, FB + 0x40)[6], 0xeb);
	assert_true(rd(x, PX(2, PXIS)) & IS_DHRS);
	/* W1C: writing the bit clears it, writing 0 does nothing. */
	wr(x, PX(2, PXIS), 0);
	assert_true(rd(x, PX(2, PXIS)) & IS_DHRS);
	wr(x, PX(2, PXIS), IS_DHRS);
	assert_false(rd(x, PX(2, PXIS)) & IS_DHRS);
}

/* Software reset: a control FIS with SRST, then one without; the drive shows its signature. */
static void test_software_reset(void **state)
{
	struct fixture *x = *state;
	port_start(x, 0);
	header(x, 0, 1u << 8 | 1u << 10, 0, CTBA);
	memset(ram(x, CTBA), 0, 0x80);
	ram(x, CTBA)[0] = 0x27;
	ram(x, CTBA)[15] = 0x04;       /* SRST */
	issue(x, 0, 0);
	assert_int_equal(rd(x, PX(0, PXCI)), 0);
	assert_true(rd(x, PX(0, PXTFD)) & 0x80);        /* BSY while SRST is set */
	ram(x, CTBA)[15] = 0;
	issue(x, 0, 0);
	assert_int_equal(rd(x, PX(0, PXTFD)) & 0x80, 0);
	assert_int_equal(rd(x, PX(0, PXSIG)), 0x101);
	assert_true(rd(x, PX(0, PXIS)) & IS_DHRS);
}

/* ---- commands ------------------------------------------------------------------------ */

static void test_identify(void **state)
{
	struct fixture *x = *state;
	port_start(x, 0);
	header(x, 0, 0, 1, CTBA);
	command_fis(x, CTBA, 0xec, 0, 0, 0, 0);
	prd(x, CTBA, 0, DATA, 512);
	issue(x, 0, 0);
	assert_int_equal(rd(x, PX(0, PXCI)), 0);
	assert_int_equal(get32(x, CLB + 4), 512);               /* PRDBC */
	assert_int_equal(rd(x, PX(0, PXTFD)) & 0xff89, 0);
	assert_true(rd(x, PX(0, PXTFD)) & 0x40);                 /* DRDY */
	/* Model, words 27-46, first character in the high byte. */
	char model[10];
	for (unsigned i = 0; i < sizeof(model); i++)
		model[i] = ram(x, DATA + 54)[i ^ 1];
	assert_memory_equal(model, "MINIVISOR ", 10);
	uint16_t w100 = bytes_to_u64(ram(x, DATA + 200), 2);
	assert_int_equal(w100, DISK_SECTORS);                   /* LBA48 sectors */
	/* The PIO Setup FIS (data to the host, E_Status) and the D2H FIS. */
	uint8_t *ps = ram(x, FB + 0x20), *d2h = ram(x, FB + 0x40);
	assert_int_equal(ps[0], 0x5f);
	assert_true(ps[1] & 0x20);
	assert_int_equal(ps[15], rd(x, PX(0, PXTFD)) & 0xff);
	assert_int_equal(d2h[0], 0x34);
	assert_int_equal(d2h[2], rd(x, PX(0, PXTFD)) & 0xff);
	assert_int_equal(rd(x, PX(0, PXIS)) & (IS_PSS | IS_DHRS), IS_PSS | IS_DHRS);
	/* The interrupt: GHC.IS names port 0; pending shows in PCI status bit 3. */
	assert_int_equal(rd(x, IS), 1);
	assert_true(x->ahci.pci.config.bytes[0x06] & 0x08);
	wr(x, PX(0, PXIS), 0xffffffff);
	wr(x, IS, 1);
	assert_int_equal(rd(x, IS), 0);
	assert_false(x->ahci.pci.config.bytes[0x06] & 0x08);
	/* IDENTIFY PACKET DEVICE is not a disk's: aborted, no PIO Setup FIS. */
	ram(x, FB + 0x20)[0] = 0;
	command_fis(x, CTBA, 0xa1, 0, 0, 0, 0);
	issue(x, 0, 0);
	assert_int_equal(rd(x, PX(0, PXTFD)) & 0xff01, 0x0401);   /* ABRT, ERR */
	assert_true(rd(x, PX(0, PXIS)) & IS_TFES);
	assert_int_equal(ram(x, FB + 0x20)[0], 0);
}

static void test_read_write_dma(void **state)
{
	struct fixture *x = *state;
	port_start(x, 0);
	/* WRITE DMA EXT of two sectors at LBA 0x100 from two PRDs of odd sizes (700 + 324). */
	for (unsigned i = 0; i < 1024; i++)
		ram(x, DATA)[i] = (uint8_t)(i * 3 + 7);
	header(x, 0, 1u << 6, 2, CTBA);
	command_fis(x, CTBA, 0x35, 0x100, 2, 0x40, 0);
	prd(x, CTBA, 0, DATA, 700);
	prd(x, CTBA, 1, DATA + 700, 324);
	issue(x, 0, 0);
	assert_int_equal(rd(x, PX(0, PXTFD)) & 0xff01, 0);
	assert_int_equal(get32(x, CLB + 4), 1024);
	uint8_t disk[1024];
	int fd = open(x->disk_path, O_RDONLY);
	assert_int_equal(pread(fd, disk, sizeof(disk), 0x100 * 512), sizeof(disk));
	close(fd);
	assert_memory_equal(disk, ram(x, DATA), sizeof(disk));
	/* READ DMA EXT reads them back elsewhere. */
	header(x, 0, 0, 1, CTBA);
	command_fis(x, CTBA, 0x25, 0x100, 2, 0x40, 0);
	prd(x, CTBA, 0, DATA + 0x1000, 1024);
	issue(x, 0, 0);
	assert_int_equal(rd(x, PX(0, PXTFD)) & 0xff01, 0);
	assert_memory_equal(ram(x, DATA + 0x1000), ram(x, DATA), 1024);
	/* READ DMA (28-bit): LBA bits 27:24 come from the device register. Sector 0x1ff of a
	 * 2048-sector disk: lba 0x0001ff, device 0x40. */
	command_fis(x, CTBA, 0xc8, 0x1ff, 1, 0x40, 0);
	issue(x, 0, 0);
	assert_int_equal(rd(x, PX(0, PXTFD)) & 0xff01, 0);
	assert_int_equal(ram(x, DATA + 0x1000)[9], disk_byte(0x1ff, 9));
	/* ... and a 28-bit LBA with bits 27:24 set is past the end: IDNF. */
	command_fis(x, CTBA, 0xc8, 0x1ff, 1, 0x41, 0);
	issue(x, 0, 0);
	assert_true(rd(x, PX(0, PXTFD)) & 1);
	assert_true(rd(x, PX(0, PXIS)) & IS_TFES);
	/* After an error the guest clears ST (that drops CI), and starts again. */
	wr(x, PX(0, PXCMD), CMD_FRE);
	wr(x, PX(0, PXCMD), CMD_FRE | CMD_ST);
	/* Slot 5 with its own table, and two slots issued at once run in order. */
	header(x, 5, 0, 1, CTBA + 0x400);
	command_fis(x, CTBA + 0x400, 0x25, 3, 1, 0x40, 0);
	prd(x, CTBA + 0x400, 0, DATA + 0x2000, 512);
	/* Slot 0 still holds the failing command: slot 5 waits until ST is cleared. */
	wr(x, PX(0, PXCI), 1u << 5 | 1);
	assert_int_equal(rd(x, PX(0, PXCI)), 1u << 5);
	wr(x, PX(0, PXCMD), CMD_FRE);
	assert_int_equal(rd(x, PX(0, PXCI)), 0);
	wr(x, PX(0, PXCMD), CMD_FRE | CMD_ST);
	command_fis(x, CTBA, 0x25, 2, 1, 0x40, 0);
	wr(x, PX(0, PXCI), 1u << 5 | 1);
	assert_int_equal(rd(x, PX(0, PXCI)), 0);
	assert_int_equal(ram(x, DATA + 0x2000)[17], disk_byte(3, 17));
	assert_int_equal(ram(x, DATA + 0x1000)[17], disk_byte(2, 17));
}

/* An ATAPI INQUIRY (PACKET with the A bit) on the CD-ROM at port 2, data by DMA. */
static void test_atapi_inquiry(void **state)
{
	struct fixture *x = *state;
	port_start(x, 2);
	header(x, 0, 1u << 5, 1, CTBA);
	command_fis(x, CTBA, 0xa0, 0, 0, 0, 1);
	static const uint8_t inquiry[12] = { 0x12, 0, 0, 0, 36, 0 };
	memcpy(ram(x, CTBA + 0x40), inquiry, sizeof(inquiry));
	prd(x, CTBA, 0, DATA, 36);
	issue(x, 2, 0);
	assert_int_equal(rd(x, PX(2, PXCI)), 0);
	assert_int_equal(ram(x, DATA)[0], 0x05);                /* CD/DVD device */
	assert_int_equal(get32(x, CLB + 4), 36);
	/* READ(10) of sector 3 into two PRDs. */
	static const uint8_t read10[12] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 1, 0 };
	memcpy(ram(x, CTBA + 0x40), read10, sizeof(read10));
	header(x, 0, 1u << 5, 2, CTBA);
	prd(x, CTBA, 0, DATA, 1024);
	prd(x, CTBA, 1, DATA + 0x1000, 1024);
	issue(x, 2, 0);
	if (rd(x, PX(2, PXTFD)) & 1) {   /* a first command may report "medium changed" */
		wr(x, PX(2, PXCMD), CMD_FRE);
		wr(x, PX(2, PXCMD), CMD_FRE | CMD_ST);
		issue(x, 2, 0);
	}
	assert_int_equal(rd(x, PX(2, PXTFD)) & 1, 0);
	assert_int_equal(ram(x, DATA)[5], disk_byte(3, 5));
	assert_int_equal(ram(x, DATA + 0x1000)[5], disk_byte(3, 1024 + 5));
}

/* ---- hostile guests ------------------------------------------------------------------ */

/* Expect slot 0's command to fail with ERR in TFD and these IS bits; CI cleared. */
static void expect_failure(struct fixture *x, unsigned p, uint32_t is_bits)
{
	issue(x, p, 0);
	assert_int_equal(rd(x, PX(p, PXCI)), 0);
	assert_true(rd(x, PX(p, PXTFD)) & 1);
	assert_int_equal(rd(x, PX(p, PXIS)) & is_bits, is_bits);
	assert_true(rd(x, IS) & (1u << p));
	/* Recover as a driver does: clear ST, restart. */
	wr(x, PX(p, PXCMD), CMD_FRE);
	wr(x, PX(p, PXCMD), CMD_FRE | CMD_ST);
}

static void good_read(struct fixture *x)
{
	header(x, 0, 0, 1, CTBA);
	command_fis(x, CTBA, 0x25, 0, 1, 0x40, 0);
	prd(x, CTBA, 0, DATA, 512);
}

static void test_hostile_tables(void **state)
{
	struct fixture *x = *state;
	port_start(x, 0);
	/* The command list outside RAM (64-bit address, S64A). */
	wr(x, PX(0, PXCLBU), 1);
	expect_failure(x, 0, IS_HBFS);
	wr(x, PX(0, PXCLBU), 0);
	wr(x, PX(0, PXCLB), RAM_SIZE);   /* just past the end */
	expect_failure(x, 0, IS_HBFS);
	wr(x, PX(0, PXCLB), CLB);
	/* The command table outside RAM, and a PRDT that runs off the end of RAM. */
	good_read(x);
	header(x, 0, 0, 1, OUTSIDE);
	expect_failure(x, 0, IS_HBFS);
	header(x, 0, 0, 65535, RAM_SIZE - 0x100);
	expect_failure(x, 0, IS_HBFS);
	/* A PRD entry pointing outside RAM, and one straddling its end. */
	good_read(x);
	prd(x, CTBA, 0, OUTSIDE, 512);
	expect_failure(x, 0, IS_TFES | IS_HBDS);
	prd(x, CTBA, 0, RAM_SIZE - 256, 512);
	expect_failure(x, 0, IS_TFES | IS_HBDS);
	/* A PRDT shorter than the data: 2 entries of 100 bytes for a sector. */
	good_read(x);
	header(x, 0, 0, 2, CTBA);
	prd(x, CTBA, 0, DATA, 100);
	prd(x, CTBA, 1, DATA + 100, 100);
	expect_failure(x, 0, IS_TFES);
	/* No PRDT at all for a read. */
	header(x, 0, 0, 0, CTBA);
	expect_failure(x, 0, IS_TFES);
	/* PRDTL 65535 inside RAM: one sector through many 2-byte entries works. */
	header(x, 0, 0, 65535, 0x100000);
	command_fis(x, 0x100000, 0x25, 7, 1, 0x40, 0);
	for (unsigned i = 0; i < 256; i++)
		prd(x, 0x100000, i, DATA + 2 * i, 2);
	issue(x, 0, 0);
	assert_int_equal(rd(x, PX(0, PXTFD)) & 1, 0);
	assert_int_equal(ram(x, DATA + 100)[0], disk_byte(7, 100));
	/* Bogus FIS lengths and types. */
	good_read(x);
	put32(x, CLB, 0 | 1u << 16);
	expect_failure(x, 0, IS_TFES);
	put32(x, CLB, 31 | 1u << 16);
	expect_failure(x, 0, IS_TFES);
	good_read(x);
	ram(x, CTBA)[0] = 0x34;
	expect_failure(x, 0, IS_TFES);
	/* An unknown command: aborted. */
	good_read(x);
	ram(x, CTBA)[2] = 0xff;
	expect_failure(x, 0, IS_TFES);
	/* The received-FIS area outside RAM: the command runs, the answer cannot be posted. */
	good_read(x);
	wr(x, PX(0, PXFB), RAM_SIZE);
	issue(x, 0, 0);
	assert_true(rd(x, PX(0, PXIS)) & IS_HBFS);
	assert_int_equal(rd(x, PX(0, PXCI)), 0);
	wr(x, PX(0, PXFB), FB);
	/* After all that, a good command still works. */
	wr(x, PX(0, PXCMD), CMD_FRE);
	wr(x, PX(0, PXCMD), CMD_FRE | CMD_ST);
	good_read(x);
	issue(x, 0, 0);
	assert_int_equal(rd(x, PX(0, PXTFD)) & 1, 0);
	assert_int_equal(ram(x, DATA)[3], disk_byte(0, 3));
}

static void test_empty_port(void **state)
{
	struct fixture *x = *state;
	port_start(x, 1);
	good_read(x);
	expect_failure(x, 1, IS_TFES);
	assert_int_equal(rd(x, PX(1, PXSSTS)), 0);
}

/* Narrow and wide accesses: byte writes merge into the dword, 8-byte reads split. */
static void test_access_sizes(void **state)
{
	struct fixture *x = *state;
	wr(x, PX(0, PXCLB), 0x00001000);
	mmio(x, true, PX(0, PXCLB) + 2, 0x12, 1);
	assert_int_equal(rd(x, PX(0, PXCLB)), 0x00121000);
	wr(x, PX(0, PXCLBU), 0xabcd);
	assert_int_equal(mmio(x, false, PX(0, PXCLB), 0, 8), 0x0000abcd00121000ull);
	assert_int_equal(mmio(x, false, PX(0, PXCLB) + 1, 0, 2), 0x1210);
	/* Past the 6th port and at the very end of the ABAR: zeros. */
	assert_int_equal(mmio(x, false, AHCI_ABAR_SIZE - 4, 0, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pci_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hba_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signatures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comreset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_software_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write_dma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atapi_inquiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_sizes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
