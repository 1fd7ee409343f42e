/*
 * test_stage5_ata.c - unit tests of the ATA drive (stage5-full-machine/storage/ata.c) and the
 * PIIX3 IDE controller (ide.c), without KVM: disks are temporary raw images, guest RAM is
 * fake_ram.h, and the guest's port accesses go through the same I/O bus the VMM dispatches from.
 *
 *   drive:  IDENTIFY words (sizes, modes, strings, checksum), the ATAPI identity and
 *           signature, reads and writes through a fake scatter-gather list, sectors past the
 *           end (IDNF, the backend never asked), read-only disks, CHS addressing, settings.
 *   ports:  48-bit HOB register bytes, PIO reads and writes (16- and 32-bit), an absent
 *           slave, soft reset signatures, ATAPI packets in byte-count-limit pieces.
 *   DMA:    PRD tables: a good one (and a 0 = 64 KiB entry), one outside RAM, an entry outside
 *           RAM, one that ends too early, one without an end mark.
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

#include "bus.h"
#include "fake_ram.h"
#include "pci.h"
#include "storage/ata.h"
#include "storage/ide.h"

#define DISK_SECTORS 2048            /* 1 MiB */
#define CD_SECTORS   16
#define RAM_SIZE     (4u << 20)
#define BM_PORT      0xc000
#define PRD_TABLE    0x10000
#define DMA_BUFFER   0x100000

static char image_dir[64];

/* The byte a fresh test disk holds at offset off: each sector says which one it is. */
static uint8_t pattern(uint64_t off)
{
	return (uint8_t)((off / ATA_SECTOR_SIZE) * 7 + off % 251);
}

static const char *make_image(const char *name, uint64_t size)
{
	static char path[2][128];
	static int next;
	char *p = path[next++ % 2];
	snprintf(p, 128, "%s/%s", image_dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	for (uint64_t i = 0; i < size; i++)
		fputc(pattern(i), f);
	fclose(f);
	return p;
}

static struct block_dev *open_image(const char *path, unsigned flags)
{
	char why[BLOCK_WHY_MAX];
	struct block_dev *blk = NULL;
	int err = block_open(path, BLOCK_FORMAT_RAW | BLOCK_NO_FLUSH | flags, &blk, why,
			     sizeof(why));
	if (err)
		fail_msg("%s", why);
	return blk;
}

static int setup_dir(void **state)
{
	(void)state;
	snprintf(image_dir, sizeof(image_dir), "/tmp/ata-test-XXXXXX");
	return mkdtemp(image_dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", image_dir);
	return system(cmd);
}

/* ---- a fake scatter-gather list ---------------------------------------------------------- */

struct fake_sg {
	uint8_t data[64 * 1024];
	size_t len, pos;
	int calls;
};

static bool fake_to_guest(void *opaque, const void *buf, size_t len)
{
	struct fake_sg *f = opaque;
	f->calls++;
	if (len > sizeof(f->data) - f->len)
		return false;
	memcpy(f->data + f->len, buf, len);
	f->len += len;
	return true;
}

static bool fake_from_guest(void *opaque, void *buf, size_t len)
{
	struct fake_sg *f = opaque;
	f->calls++;
	if (len > f->len - f->pos)
		return false;
	memcpy(buf, f->data + f->pos, len);
	f->pos += len;
	return true;
}

static uint32_t run(struct ata_drive *d, struct ata_taskfile *tf, struct fake_sg *f)
{
	struct ata_sg sg = { fake_to_guest, fake_from_guest, f };
	return ata_execute(d, tf, &sg);
}

static uint16_t word(const struct fake_sg *f, int i)
{
	return f->data[2 * i] | f->data[2 * i + 1] << 8;
}

/* ---- the drive ----------------------------------------------------------------------------- */

static void test_identify_disk(void **state)
{
	(void)state;
	struct block_dev *blk = open_image(make_image("d.img", DISK_SECTORS * 512), 0);
	struct ata_drive d;
	ata_drive_init(&d, blk, ATA_MEDIA_DISK, "ide0-hd0");
	static struct fake_sg f;
	memset(&f, 0, sizeof(f));
	struct ata_taskfile tf = { .command = ATA_CMD_IDENTIFY, .device = 0xa0 };

	assert_int_equal(run(&d, &tf, &f), 512);
	assert_int_equal(tf.status, ATA_STATUS_DRDY | ATA_STATUS_DSC);
	assert_int_equal(word(&f, 0), 0x0040);                       /* ATA, fixed */
	assert_int_equal(word(&f, 60) | word(&f, 61) << 16, DISK_SECTORS);
	assert_int_equal(word(&f, 100), DISK_SECTORS);               /* 48-bit size */
	assert_int_equal(word(&f, 101) | word(&f, 102) | word(&f, 103), 0);
	assert_true(word(&f, 83) & (1 << 10));                       /* LBA48 */
	assert_int_equal(word(&f, 83) & 0xc000, 0x4000);
	assert_true(word(&f, 49) & (1 << 9));                        /* LBA */
	assert_true(word(&f, 49) & (1 << 8));                        /* DMA */
	assert_int_equal(word(&f, 47), 0x8000 | ATA_MAX_MULTIPLE);
	assert_int_equal(word(&f, 59), 0x100 | ATA_MAX_MULTIPLE);
	assert_int_equal(word(&f, 88) & 0xff, 0x3f);                 /* UDMA 0-5 */
	assert_true(word(&f, 53) & 4);                               /* word 88 valid */
	assert_int_equal(31 - __builtin_clz(word(&f, 80)), 7);       /* ATA-7 */
	/* Strings: the first character in each word's high byte. */
	assert_int_equal(word(&f, 27), 'M' << 8 | 'I');
	assert_int_equal(word(&f, 28), 'N' << 8 | 'I');
	assert_int_equal(word(&f, 10), 'M' << 8 | 'V');
	/* Word 255: signature 0xa5, and all 512 bytes sum to zero. */
	uint8_t sum = 0;
	for (int i = 0; i < 512; i++)
		sum += f.data[i];
	assert_int_equal(f.data[510], 0xa5);
	assert_int_equal(sum, 0);
	/* Geometry: 16 heads, 63 sectors, cylinders that fit. */
	assert_int_equal(word(&f, 3), 16);
	assert_int_equal(word(&f, 6), 63);
	assert_int_equal(word(&f, 1), DISK_SECTORS / (16 * 63));

	/* A disk aborts IDENTIFY PACKET DEVICE and PACKET. */
	tf = (struct ata_taskfile){ .command = ATA_CMD_IDENTIFY_PACKET };
	assert_int_equal(run(&d, &tf, &f), 0);
	assert_int_equal(tf.status, ATA_STATUS_DRDY | ATA_STATUS_ERR);
	assert_int_equal(tf.error, ATA_ERROR_ABRT);
	block_close(blk);
}

static void test_identify_cdrom(void **state)
{
	(void)state;
	struct block_dev *blk = open_image(make_image("cd.iso", CD_SECTORS * 2048), 0);
	struct ata_drive d;
	ata_drive_init(&d, blk, ATA_MEDIA_CDROM, "ide1-cd0");
	assert_int_equal(d.sectors, CD_SECTORS);
	static struct fake_sg f;
	memset(&f, 0, sizeof(f));

	/* IDENTIFY DEVICE: aborted, with the ATAPI signature in the registers. */
	struct ata_taskfile tf = { .command = ATA_CMD_IDENTIFY };
	assert_int_equal(run(&d, &tf, &f), 0);
	assert_true(tf.status & ATA_STATUS_ERR);
	assert_int_equal(tf.error, ATA_ERROR_ABRT);
	assert_int_equal(tf.lba, 0xeb1401);
	assert_int_equal(tf.count, 1);
	assert_int_equal(f.calls, 0);

	tf = (struct ata_taskfile){ .command = ATA_CMD_IDENTIFY_PACKET };
	assert_int_equal(run(&d, &tf, &f), 512);
	assert_int_equal(word(&f, 0), 0x85c0);   /* ATAPI, CD-ROM, removable, 12-byte CDBs */
	assert_int_equal(word(&f, 27), 'M' << 8 | 'I');
	assert_true(word(&f, 49) & (1 << 8));
	uint8_t sum = 0;
	for (int i = 0; i < 512; i++)
		sum += f.data[i];
	assert_int_equal(sum, 0);

	/* Disk commands: aborted. DEVICE RESET: the signature, no error. */
	tf = (struct ata_taskfile){ .command = 0xc8, .count = 1 };
	run(&d, &tf, &f);
	assert_int_equal(tf.error, ATA_ERROR_ABRT);
	tf = (struct ata_taskfile){ .command = ATA_CMD_DEVICE_RESET };
	run(&d, &tf, &f);
	assert_int_equal(tf.status, 0);
	assert_int_equal(tf.error, ATA_ERROR_DIAG_PASSED);
	assert_int_equal(tf.lba, 0xeb1401);

	struct ata_taskfile sig = { 0 };
	ata_signature(&d, &sig);
	assert_int_equal(sig.lba, 0xeb1401);
	ata_drive_init(&d, NULL, ATA_MEDIA_DISK, "none");
	assert_false(d.present);
	block_close(blk);
}

static void test_read_write(void **state)
{
	(void)state;
	const char *path = make_image("rw.img", DISK_SECTORS * 512);
	struct block_dev *blk = open_image(path, 0);
	struct ata_drive d;
	ata_drive_init(&d, blk, ATA_MEDIA_DISK, "ide0-hd0");
	static struct fake_sg f;

	/* READ SECTORS (LBA28, count 0 would be 256): sectors 5 and 6. */
	memset(&f, 0, sizeof(f));
	struct ata_taskfile tf = { .command = 0x20, .count = 2, .lba = 5, .device = 0xe0 };
	assert_int_equal(run(&d, &tf, &f), 1024);
	assert_int_equal(tf.status, 0x50);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(f.data[i], pattern(5 * 512 + i));

	/* WRITE DMA EXT at a 48-bit address, then READ DMA back, then the file itself. */
	memset(&f, 0, sizeof(f));
	for (int i = 0; i < 1536; i++)
		f.data[i] = (uint8_t)(i ^ 0x5a);
	f.len = 1536;
	tf = (struct ata_taskfile){ .command = 0x35, .count = 3, .lba = 100, .device = 0x40 };
	assert_int_equal(run(&d, &tf, &f), 1536);
	assert_int_equal(tf.status, 0x50);
	memset(&f, 0, sizeof(f));
	tf = (struct ata_taskfile){ .command = 0xc8, .count = 3, .lba = 100, .device = 0xe0 };
	assert_int_equal(run(&d, &tf, &f), 1536);
	for (int i = 0; i < 1536; i++)
		assert_int_equal(f.data[i], (uint8_t)(i ^ 0x5a));
	int fd = open(path, O_RDONLY);
	uint8_t sector[512];
	assert_int_equal(pread(fd, sector, 512, 101 * 512), 512);
	assert_int_equal(sector[0], (uint8_t)(512 ^ 0x5a));
	close(fd);

	/* FLUSH CACHE, READ VERIFY, CHECK POWER MODE, SEEK, RECALIBRATE. */
	tf = (struct ata_taskfile){ .command = 0xe7 };
	run(&d, &tf, &f);
	assert_int_equal(tf.status, 0x50);
	tf = (struct ata_taskfile){ .command = 0x42, .count = 8, .lba = 2000 };
	run(&d, &tf, &f);
	assert_int_equal(tf.status, 0x50);
	tf = (struct ata_taskfile){ .command = 0xe5 };
	run(&d, &tf, &f);
	assert_int_equal(tf.count, 0xff);
	tf = (struct ata_taskfile){ .command = 0x7f };
	run(&d, &tf, &f);
	assert_int_equal(tf.status, 0x50);
	tf = (struct ata_taskfile){ .command = 0x10 };
	run(&d, &tf, &f);
	assert_int_equal(tf.status, 0x50);
	/* NOP always aborts; an unknown command is not decoded. */
	tf = (struct ata_taskfile){ .command = 0x00 };
	run(&d, &tf, &f);
	assert_int_equal(tf.error, ATA_ERROR_ABRT);
	struct ata_command_info info;
	tf.command = 0xfe;
	assert_false(ata_command_info(&d, &tf, &info));
	block_close(blk);
}

static void test_past_the_end(void **state)
{
	(void)state;
	struct block_dev *blk = open_image(make_image("end.img", DISK_SECTORS * 512), 0);
	struct ata_drive d;
	ata_drive_init(&d, blk, ATA_MEDIA_DISK, "ide0-hd0");
	static struct fake_sg f;
	memset(&f, 0, sizeof(f));

	/* The last sector is fine; one past it, or a range that crosses the end, is not. */
	struct ata_taskfile tf = { .command = 0x24, .count = 1, .lba = DISK_SECTORS - 1 };
	assert_int_equal(run(&d, &tf, &f), 512);
	f.calls = 0;
	tf = (struct ata_taskfile){ .command = 0x24, .count = 1, .lba = DISK_SECTORS };
	assert_int_equal(run(&d, &tf, &f), 0);
	assert_int_equal(tf.status, ATA_STATUS_DRDY | ATA_STATUS_ERR);
	assert_int_equal(tf.error, ATA_ERROR_IDNF);
	assert_int_equal(f.calls, 0);
	tf = (struct ata_taskfile){ .command = 0xc8, .count = 2, .lba = DISK_SECTORS - 1,
				    .device = 0x40 };
	assert_int_equal(run(&d, &tf, &f), 0);
	assert_int_equal(tf.error, ATA_ERROR_IDNF);
	assert_int_equal(tf.lba, DISK_SECTORS);   /* the first sector not there */
	/* A 48-bit address far away, and one with LBA28's top bits. */
	tf = (struct ata_taskfile){ .command = 0x25, .count = 0, .lba = 0xffffffffffffull };
	assert_int_equal(run(&d, &tf, &f), 0);
	assert_int_equal(tf.error, ATA_ERROR_IDNF);
	tf = (struct ata_taskfile){ .command = 0x30, .count = 1, .lba = 0x0ffffff0, .device = 0x40 };
	assert_false(ata_check_access(&d, &tf));
	assert_int_equal(tf.error, ATA_ERROR_IDNF);
	assert_int_equal(f.calls, 0);
	block_close(blk);
}

static void test_read_only_and_settings(void **state)
{
	(void)state;
	struct block_dev *blk = open_image(make_image("ro.img", DISK_SECTORS * 512), BLOCK_RDONLY);
	struct ata_drive d;
	ata_drive_init(&d, blk, ATA_MEDIA_DISK, "ide0-hd1");
	static struct fake_sg f;
	memset(&f, 0, sizeof(f));
	f.len = 512;

	struct ata_taskfile tf = { .command = 0x30, .count = 1, .lba = 3, .device = 0x40 };
	assert_int_equal(run(&d, &tf, &f), 0);
	assert_int_equal(tf.status, ATA_STATUS_DRDY | ATA_STATUS_ERR);
	assert_int_equal(tf.error, ATA_ERROR_ABRT);

	/* SET MULTIPLE MODE: powers of two up to 16; 0 turns READ MULTIPLE off. */
	tf = (struct ata_taskfile){ .command = 0xc6, .count = 3 };
	run(&d, &tf, &f);
	assert_int_equal(tf.error, ATA_ERROR_ABRT);
	tf = (struct ata_taskfile){ .command = 0xc6, .count = 8 };
	run(&d, &tf, &f);
	assert_int_equal(tf.status, 0x50);
	struct ata_command_info info;
	tf = (struct ata_taskfile){ .command = 0xc4, .count = 20, .device = 0x40 };
	assert_true(ata_command_info(&d, &tf, &info));
	assert_int_equal(info.dir, ATA_DIR_IN);
	assert_int_equal(info.bytes, 20 * 512);
	assert_int_equal(info.drq_block, 8 * 512);
	tf = (struct ata_taskfile){ .command = 0xc6, .count = 0 };
	run(&d, &tf, &f);
	tf = (struct ata_taskfile){ .command = 0xc4, .count = 1, .device = 0x40 };
	assert_true(ata_command_info(&d, &tf, &info));
	assert_int_equal(info.dir, ATA_DIR_NONE);
	run(&d, &tf, &f);
	assert_int_equal(tf.error, ATA_ERROR_ABRT);

	/* SET FEATURES transfer mode: MWDMA2 shows as selected in word 63; UDMA7 is refused. */
	tf = (struct ata_taskfile){ .command = 0xef, .features = 0x03, .count = 0x22 };
	run(&d, &tf, &f);
	assert_int_equal(tf.status, 0x50);
	tf = (struct ata_taskfile){ .command = 0xef, .features = 0x03, .count = 0x47 };
	run(&d, &tf, &f);
	assert_int_equal(tf.error, ATA_ERROR_ABRT);
	memset(&f, 0, sizeof(f));
	tf = (struct ata_taskfile){ .command = ATA_CMD_IDENTIFY };
	run(&d, &tf, &f);
	assert_int_equal(word(&f, 63), 0x0407);
	assert_int_equal(word(&f, 88) & 0xff00, 0);

	/* CHS: 4 heads, 32 sectors per track; C/H/S 1/2/3 is LBA (1 * 4 + 2) * 32 + 2 = 194. */
	tf = (struct ata_taskfile){ .command = 0x91, .count = 32, .device = 0xa3 };
	run(&d, &tf, &f);
	assert_int_equal(tf.status, 0x50);
	memset(&f, 0, sizeof(f));
	tf = (struct ata_taskfile){ .command = 0x20, .count = 1, .lba = 2ull << 24 | 1 << 8 | 3,
				    .device = 0xa2 };
	assert_int_equal(run(&d, &tf, &f), 512);
	assert_int_equal(f.data[0], pattern(194 * 512));
	tf = (struct ata_taskfile){ .command = 0x20, .count = 1, .lba = 0, .device = 0xa0 };
	assert_int_equal(run(&d, &tf, &f), 0);   /* sector 0 does not exist in CHS */
	assert_int_equal(tf.error, ATA_ERROR_IDNF);
	block_close(blk);
}

/* ---- the controller, through its ports --------------------------------------------------- */

struct rig {
	struct io_bus bus;
	struct pci_host pci;
	struct ide_controller ide;
	struct guest_memory *ram;
	struct block_dev *blk[IDE_MAX_DRIVES];
	char disk_path[128];
};

static void outp(struct rig *r, uint16_t port, uint32_t value, unsigned len)
{
	uint8_t data[4];
	u64_to_bytes(value, data, len);
	bus_pio(&r->bus, NULL, port, true, data, len);
}

static uint32_t inp(struct rig *r, uint16_t port, unsigned len)
{
	uint8_t data[4];
	bus_pio(&r->bus, NULL, port, false, data, len);
	return bytes_to_u64(data, len);
}

/* Config space of 00:01.1, as the guest reaches it. */
static void config_write(struct rig *r, unsigned reg, uint32_t value, unsigned len)
{
	pci_host_config_write(&r->pci, 0x80000000u | 1 << 11 | 1 << 8 | reg, value, len);
}

static uint32_t config_read(struct rig *r, unsigned reg, unsigned len)
{
	return pci_host_config_read(&r->pci, 0x80000000u | 1 << 11 | 1 << 8 | reg, len);
}

/* A disk as primary master, a CD as secondary master; what firmware does to BAR4. */
static struct rig *rig_new(unsigned blk_flags)
{
	struct rig *r = calloc(1, sizeof(*r));
	bus_init(&r->bus);
	pci_host_init(&r->pci, &r->bus, -1);
	r->ram = fake_ram(RAM_SIZE);
	static int rigs;
	char name[32];
	snprintf(name, sizeof(name), "rig%d.img", rigs++);   /* a failed test keeps its lock */
	snprintf(r->disk_path, sizeof(r->disk_path), "%s", make_image(name, DISK_SECTORS * 512));
	r->blk[0] = open_image(r->disk_path, blk_flags);
	snprintf(name, sizeof(name), "rig%d.iso", rigs);
	r->blk[2] = open_image(make_image(name, CD_SECTORS * 2048), BLOCK_RDONLY);
	enum ata_media media[IDE_MAX_DRIVES] = { ATA_MEDIA_DISK, ATA_MEDIA_DISK,
						 ATA_MEDIA_CDROM, ATA_MEDIA_DISK };
	char why[128];
	assert_int_equal(ide_attach(&r->ide, &r->bus, &r->pci, r->ram, -1, 1, 1, r->blk, media,
				    why, sizeof(why)), 0);
	return r;
}

static void rig_enable_bm(struct rig *r)
{
	config_write(r, 0x20, 0xffffffff, 4);                    /* size BAR4 */
	assert_int_equal(config_read(r, 0x20, 4), 0xfffffff1);  /* 16 ports, I/O */
	config_write(r, 0x20, BM_PORT, 4);
	config_write(r, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
}

static void rig_free(struct rig *r)
{
	ide_detach(&r->ide);
	for (int i = 0; i < IDE_MAX_DRIVES; i++)
		if (r->blk[i])
			block_close(r->blk[i]);
	free_ram(r->ram);
	free(r);
}

static void test_pci_identity(void **state)
{
	(void)state;
	struct rig *r = rig_new(0);
	assert_int_equal(config_read(r, PCI_VENDOR_ID, 4), 0x70108086);
	assert_int_equal(config_read(r, 0x08, 4) >> 8, 0x010180);
	/* BAR4 is off until firmware assigns it; then the bus master ports answer. */
	assert_int_equal(inp(r, BM_PORT + 2, 1), 0xff);
	rig_enable_bm(r);
	assert_int_equal(config_read(r, 0x20, 4), BM_PORT | 1);
	assert_int_equal(inp(r, BM_PORT + 2, 1) & IDE_BM_DRIVE_DMA, 0x20);   /* master only */
	/* The I/O bit switches it off again; an address above 64 KiB decodes nothing. */
	config_write(r, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	assert_int_equal(inp(r, BM_PORT + 2, 1), 0xff);
	config_write(r, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
	config_write(r, 0x20, 0x10000, 4);
	assert_int_equal(inp(r, BM_PORT + 2, 1), 0xff);
	/* The timing registers keep what the guest writes. */
	config_write(r, 0x40, 0xa307, 2);
	assert_int_equal(config_read(r, 0x40, 2), 0xa307);
	rig_free(r);
}

static void test_hob_registers(void **state)
{
	(void)state;
	struct rig *r = rig_new(0);
	outp(r, 0x1f6, 0x40, 1);
	outp(r, 0x1f2, 0x12, 1);    /* previous (high) byte */
	outp(r, 0x1f2, 0x34, 1);    /* current */
	outp(r, 0x1f3, 0xaa, 1);
	outp(r, 0x1f3, 0xbb, 1);
	assert_int_equal(inp(r, 0x1f2, 1), 0x34);
	assert_int_equal(inp(r, 0x1f3, 1), 0xbb);
	outp(r, 0x3f6, IDE_CTL_HOB, 1);
	assert_int_equal(inp(r, 0x1f2, 1), 0x12);
	assert_int_equal(inp(r, 0x1f3, 1), 0xaa);
	/* Any register write clears HOB. */
	outp(r, 0x1f4, 0x01, 1);
	assert_int_equal(inp(r, 0x1f2, 1), 0x34);
	outp(r, 0x3f6, 0, 1);

	/* READ SECTORS EXT at LBA 0x000000000400 + 1 sector, all 48 bits through the FIFOs:
	 * count 0x0001, LBA bytes (high, low) 5: 0,0  4: 0,4  3: 0,1 -> 0x0401. */
	outp(r, 0x1f2, 0x00, 1); outp(r, 0x1f2, 0x01, 1);
	outp(r, 0x1f3, 0x00, 1); outp(r, 0x1f3, 0x01, 1);
	outp(r, 0x1f4, 0x00, 1); outp(r, 0x1f4, 0x04, 1);
	outp(r, 0x1f5, 0x00, 1); outp(r, 0x1f5, 0x00, 1);
	outp(r, 0x1f7, 0x24, 1);
	assert_int_equal(inp(r, 0x3f6, 1), 0x58);   /* DRDY DSC DRQ */
	assert_int_equal(inp(r, 0x1f0, 2), pattern(0x401 * 512) | pattern(0x401 * 512 + 1) << 8);
	rig_free(r);
}

static void test_pio_read_write(void **state)
{
	(void)state;
	struct rig *r = rig_new(0);
	struct ide_channel *ch = &r->ide.channel[0];
	/* Device 0 after reset: the disk signature, ready. */
	assert_int_equal(inp(r, 0x1f2, 1), 1);
	assert_int_equal(inp(r, 0x1f3, 1), 1);
	assert_int_equal(inp(r, 0x1f4, 1), 0);
	assert_int_equal(inp(r, 0x1f7, 1), 0x50);

	/* READ SECTORS, 3 sectors from LBA 10: a DRQ block and an interrupt for each. */
	outp(r, 0x1f6, 0xe0, 1);
	outp(r, 0x1f2, 3, 1);
	outp(r, 0x1f3, 10, 1);
	outp(r, 0x1f4, 0, 1);
	outp(r, 0x1f5, 0, 1);
	outp(r, 0x1f7, 0x20, 1);
	for (int s = 0; s < 3; s++) {
		assert_true(ch->unit[0].irq_pending);
		assert_int_equal(inp(r, 0x1f7, 1), 0x58);   /* acknowledges */
		assert_false(ch->unit[0].irq_pending);
		for (int i = 0; i < 512; i += 4) {           /* 32-bit accesses */
			uint64_t off = (10 + s) * 512 + i;
			uint32_t want = pattern(off) | pattern(off + 1) << 8 |
					pattern(off + 2) << 16 | (uint32_t)pattern(off + 3) << 24;
			assert_int_equal(inp(r, 0x1f0, 4), want);
		}
	}
	assert_int_equal(inp(r, 0x1f7, 1), 0x50);
	assert_false(ch->unit[0].irq_pending);   /* none after the last block of a read */

	/* SET MULTIPLE 4, then WRITE MULTIPLE 6 sectors at LBA 20: blocks of 4 and 2. */
	outp(r, 0x1f2, 4, 1);
	outp(r, 0x1f7, 0xc6, 1);
	assert_int_equal(inp(r, 0x1f7, 1), 0x50);
	outp(r, 0x1f2, 6, 1);
	outp(r, 0x1f3, 20, 1);
	outp(r, 0x1f7, 0xc5, 1);
	assert_false(ch->unit[0].irq_pending);     /* the first block: DRQ, no interrupt */
	assert_int_equal(inp(r, 0x1f7, 1), 0x58);
	for (int i = 0; i < 4 * 256; i++)
		outp(r, 0x1f0, 0x1000 + i, 2);
	assert_true(ch->unit[0].irq_pending);      /* the next block, with an interrupt */
	assert_int_equal(inp(r, 0x1f7, 1), 0x58);
	for (int i = 4 * 256; i < 6 * 256; i++)
		outp(r, 0x1f0, 0x1000 + i, 2);
	assert_true(ch->unit[0].irq_pending);
	assert_int_equal(inp(r, 0x1f7, 1), 0x50);
	int fd = open(r->disk_path, O_RDONLY);
	uint16_t got[6 * 256];
	assert_int_equal(pread(fd, got, sizeof(got), 20 * 512), sizeof(got));
	close(fd);
	for (int i = 0; i < 6 * 256; i++)
		assert_int_equal(got[i], 0x1000 + i);

	/* Past the end by PIO: an error at once, no DRQ, the failing LBA in the registers. */
	outp(r, 0x1f6, 0x40, 1);
	outp(r, 0x1f2, 0, 1); outp(r, 0x1f2, 1, 1);
	outp(r, 0x1f3, 0, 1); outp(r, 0x1f3, 0x00, 1);
	outp(r, 0x1f4, 0, 1); outp(r, 0x1f4, 0x10, 1);   /* LBA 0x1000: past 2048 sectors */
	outp(r, 0x1f5, 0, 1); outp(r, 0x1f5, 0, 1);
	outp(r, 0x1f7, 0x34, 1);
	assert_int_equal(inp(r, 0x1f7, 1), ATA_STATUS_DRDY | ATA_STATUS_ERR);
	assert_int_equal(inp(r, 0x1f1, 1), ATA_ERROR_IDNF);
	assert_int_equal(inp(r, 0x1f4, 1), 0x10);
	rig_free(r);
}

static void test_absent_slave_and_reset(void **state)
{
	(void)state;
	struct rig *r = rig_new(0);
	/* The slave is not there: its registers read 0, commands to it go nowhere. */
	outp(r, 0x1f6, 0xb0, 1);
	outp(r, 0x1f2, 0x55, 1);
	outp(r, 0x1f3, 0xaa, 1);
	assert_int_equal(inp(r, 0x1f6, 1), 0xb0);
	assert_int_equal(inp(r, 0x1f2, 1), 0);
	assert_int_equal(inp(r, 0x1f3, 1), 0);
	assert_int_equal(inp(r, 0x1f7, 1), 0);
	assert_int_equal(inp(r, 0x3f6, 1), 0);
	outp(r, 0x1f7, ATA_CMD_IDENTIFY, 1);
	assert_int_equal(inp(r, 0x1f7, 1), 0);
	/* The master latched the same writes. */
	outp(r, 0x1f6, 0xa0, 1);
	assert_int_equal(inp(r, 0x1f2, 1), 0x55);

	/* Soft reset: busy while SRST is set, then signatures; device 0 selected. */
	outp(r, 0x3f6, IDE_CTL_SRST | IDE_CTL_NIEN, 1);
	assert_int_equal(inp(r, 0x3f6, 1), ATA_STATUS_BSY);
	outp(r, 0x3f6, IDE_CTL_NIEN, 1);
	assert_int_equal(inp(r, 0x1f7, 1), 0x50);
	assert_int_equal(inp(r, 0x1f2, 1), 1);
	assert_int_equal(inp(r, 0x1f1, 1), 1);
	/* The secondary channel: the CD's signature, status 0 until a command. */
	assert_int_equal(inp(r, 0x174, 1), 0x14);
	assert_int_equal(inp(r, 0x175, 1), 0xeb);
	assert_int_equal(inp(r, 0x177, 1), 0x00);
	/* EXECUTE DEVICE DIAGNOSTIC: signature again, and an interrupt unless nIEN. */
	outp(r, 0x1f7, ATA_CMD_EXECUTE_DIAGNOSTIC, 1);
	assert_int_equal(inp(r, 0x1f1, 1), 1);
	assert_true(r->ide.channel[0].unit[0].irq_pending);
	/* A channel with no drive at all reads 0 everywhere (the secondary slave's channel
	 * has a master, so try a fresh selection on the primary slave's status too). */
	outp(r, 0x176, 0xb0, 1);
	assert_int_equal(inp(r, 0x177, 1), 0);
	rig_free(r);
}

static void test_atapi_packet(void **state)
{
	(void)state;
	struct rig *r = rig_new(0);
	struct ide_channel *ch = &r->ide.channel[1];
	outp(r, 0x176, 0xa0, 1);

	/* IDENTIFY PACKET DEVICE by PIO. */
	outp(r, 0x177, ATA_CMD_IDENTIFY_PACKET, 1);
	assert_int_equal(inp(r, 0x177, 1) & ATA_STATUS_DRQ, ATA_STATUS_DRQ);
	assert_int_equal(inp(r, 0x170, 2), 0x85c0);
	for (int i = 1; i < 256; i++)
		inp(r, 0x170, 2);
	assert_int_equal(inp(r, 0x177, 1) & ATA_STATUS_DRQ, 0);

	/* PACKET: READ(10) of 2 sectors from LBA 3, byte count limit 2048 per piece. */
	outp(r, 0x171, 0, 1);          /* PIO */
	outp(r, 0x174, 0x00, 1);
	outp(r, 0x175, 0x08, 1);
	outp(r, 0x177, ATA_CMD_PACKET, 1);
	assert_int_equal(inp(r, 0x172, 1), 0x01);   /* reason: command packet, to the drive */
	assert_int_equal(inp(r, 0x177, 1) & ATA_STATUS_DRQ, ATA_STATUS_DRQ);
	uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 2, 0, 0, 0 };
	for (int i = 0; i < 12; i += 2)
		outp(r, 0x170, cdb[i] | cdb[i + 1] << 8, 2);
	/* The drive may first report its power-on unit attention: ask again if so. */
	if (inp(r, 0x376, 1) & ATA_STATUS_ERR) {   /* alternate status: no acknowledge */
		outp(r, 0x177, ATA_CMD_PACKET, 1);
		for (int i = 0; i < 12; i += 2)
			outp(r, 0x170, cdb[i] | cdb[i + 1] << 8, 2);
	}
	for (int piece = 0; piece < 2; piece++) {
		assert_true(ch->unit[0].irq_pending);
		assert_int_equal(inp(r, 0x177, 1) & (ATA_STATUS_DRQ | ATA_STATUS_ERR),
				 ATA_STATUS_DRQ);
		assert_int_equal(inp(r, 0x172, 1), 0x02);   /* data, to the host */
		assert_int_equal(inp(r, 0x174, 1) | inp(r, 0x175, 1) << 8, 2048);
		for (int i = 0; i < 2048; i += 2) {
			uint64_t off = (3 + piece) * 2048ull + i;
			assert_int_equal(inp(r, 0x170, 2), pattern(off) | pattern(off + 1) << 8);
		}
	}
	assert_true(ch->unit[0].irq_pending);
	assert_int_equal(inp(r, 0x172, 1), 0x03);       /* command complete */
	assert_int_equal(inp(r, 0x177, 1) & (ATA_STATUS_DRQ | ATA_STATUS_ERR), 0);
	rig_free(r);
}

/* ---- bus master DMA ------------------------------------------------------------------------ */

static void put_prd(struct rig *r, unsigned index, uint32_t addr, uint32_t count, bool eot)
{
	uint8_t *e = r->ram->host + PRD_TABLE + 8 * index;
	u64_to_bytes(addr, e, 4);
	u64_to_bytes((count & 0xffff) | (eot ? 0x80000000u : 0), e + 4, 4);
}

/* READ DMA (or WRITE DMA) of count sectors at lba, the table at table: the ATA way
 * (Linux's order: table, direction, command, then start). Returns the ATA status. */
static uint8_t dma(struct rig *r, uint8_t command, uint32_t table, unsigned count,
		   uint32_t lba)
{
	bool to_mem = command == 0xc8;
	outp(r, BM_PORT + 4, table, 4);
	outp(r, BM_PORT, to_mem ? IDE_BM_CMD_TO_MEM : 0, 1);
	outp(r, BM_PORT + 2, IDE_BM_ERROR | IDE_BM_INTERRUPT, 1);
	outp(r, 0x1f6, 0xe0 | (lba >> 24), 1);
	outp(r, 0x1f2, count, 1);
	outp(r, 0x1f3, lba, 1);
	outp(r, 0x1f4, lba >> 8, 1);
	outp(r, 0x1f5, lba >> 16, 1);
	outp(r, 0x1f7, command, 1);
	outp(r, BM_PORT, (to_mem ? IDE_BM_CMD_TO_MEM : 0) | IDE_BM_CMD_START, 1);
	uint8_t status = inp(r, 0x1f7, 1);
	outp(r, BM_PORT, 0, 1);
	return status;
}

static void test_dma_good(void **state)
{
	(void)state;
	struct rig *r = rig_new(0);
	rig_enable_bm(r);

	/* Two regions: 512 bytes, then 1024 with the end mark. */
	put_prd(r, 0, DMA_BUFFER, 512, false);
	put_prd(r, 1, DMA_BUFFER + 0x10000, 1024, true);
	assert_int_equal(dma(r, 0xc8, PRD_TABLE, 3, 40), 0x50);
	assert_int_equal(inp(r, BM_PORT + 2, 1) & 7, IDE_BM_INTERRUPT);
	for (int i = 0; i < 512; i++)
		assert_int_equal(r->ram->host[DMA_BUFFER + i], pattern(40 * 512 + i));
	for (int i = 0; i < 1024; i++)
		assert_int_equal(r->ram->host[DMA_BUFFER + 0x10000 + i], pattern(41 * 512 + i));

	/* A count of 0 is 64 KiB: one entry carries 128 sectors. A write, then read it back. */
	memset(r->ram->host + DMA_BUFFER, 0xc3, 0x10000);
	put_prd(r, 0, DMA_BUFFER, 0, true);
	assert_int_equal(dma(r, 0xca, PRD_TABLE, 128, 512), 0x50);
	memset(r->ram->host + DMA_BUFFER, 0, 0x10000);
	assert_int_equal(dma(r, 0xc8, PRD_TABLE, 128, 512), 0x50);
	assert_int_equal(r->ram->host[DMA_BUFFER + 0xffff], 0xc3);

	/* A table longer than the data: fine, and the bus master stays active until stopped. */
	put_prd(r, 0, DMA_BUFFER, 4096, true);
	outp(r, BM_PORT + 4, PRD_TABLE, 4);
	outp(r, 0x1f2, 1, 1);
	outp(r, 0x1f7, 0xc8, 1);
	assert_int_equal(inp(r, 0x3f6, 1), 0x58);                  /* waits for the start bit */
	outp(r, BM_PORT, IDE_BM_CMD_TO_MEM | IDE_BM_CMD_START, 1);
	assert_int_equal(inp(r, BM_PORT + 2, 1) & 7, IDE_BM_INTERRUPT | IDE_BM_ACTIVE);
	assert_int_equal(inp(r, 0x1f7, 1), 0x50);
	outp(r, BM_PORT, 0, 1);
	assert_int_equal(inp(r, BM_PORT + 2, 1) & 7, IDE_BM_INTERRUPT);
	outp(r, BM_PORT + 2, IDE_BM_INTERRUPT, 1);
	assert_int_equal(inp(r, BM_PORT + 2, 1) & 7, 0);
	rig_free(r);
}

static void expect_dma_error(struct rig *r, uint8_t status)
{
	assert_int_equal(status, ATA_STATUS_DRDY | ATA_STATUS_ERR);
	assert_int_equal(inp(r, 0x1f1, 1), ATA_ERROR_ABRT);
	assert_int_equal(inp(r, BM_PORT + 2, 1) & 7, IDE_BM_ERROR | IDE_BM_INTERRUPT);
}

static void test_dma_hostile(void **state)
{
	(void)state;
	struct rig *r = rig_new(0);
	rig_enable_bm(r);

	/* The table itself outside RAM. */
	expect_dma_error(r, dma(r, 0xc8, 0xfff00000, 1, 0));
	/* An entry outside RAM; one that runs off its end. */
	put_prd(r, 0, 0xe0000000, 512, true);
	expect_dma_error(r, dma(r, 0xc8, PRD_TABLE, 1, 0));
	put_prd(r, 0, RAM_SIZE - 256, 512, true);
	expect_dma_error(r, dma(r, 0xca, PRD_TABLE, 1, 0));
	/* A table that ends (EOT) before the data does. */
	put_prd(r, 0, DMA_BUFFER, 512, true);
	expect_dma_error(r, dma(r, 0xc8, PRD_TABLE, 2, 0));
	/* No end mark in 8192 entries of 2 bytes: the walk stops there (64 KiB of data). */
	for (unsigned i = 0; i < IDE_PRD_MAX_ENTRIES + 8; i++)
		put_prd(r, i, DMA_BUFFER, 2, false);
	expect_dma_error(r, dma(r, 0xc8, PRD_TABLE, 128, 0));
	/* Past the end of the disk: IDNF, no data, no bus master error. */
	put_prd(r, 0, DMA_BUFFER, 512, true);
	assert_int_equal(dma(r, 0xc8, PRD_TABLE, 1, DISK_SECTORS), ATA_STATUS_DRDY | ATA_STATUS_ERR);
	assert_int_equal(inp(r, 0x1f1, 1), ATA_ERROR_IDNF);
	/* Bus mastering off in PCI config: the transfer fails, the host is fine. */
	config_write(r, PCI_COMMAND, PCI_COMMAND_IO, 2);
	expect_dma_error(r, dma(r, 0xc8, PRD_TABLE, 1, 0));
	/* And a good transfer still works afterwards. */
	config_write(r, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
	assert_int_equal(dma(r, 0xc8, PRD_TABLE, 1, 7), 0x50);
	assert_int_equal(r->ram->host[DMA_BUFFER + 3], pattern(7 * 512 + 3));
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identify_disk),
		cmocka_unit_test(test_identify_cdrom),
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_past_the_end),
		cmocka_unit_test(test_read_only_and_settings),
		cmocka_unit_test(test_pci_identity),
		cmocka_unit_test(test_hob_registers),
		cmocka_unit_test(test_pio_read_write),
		cmocka_unit_test(test_absent_slave_and_reset),
		cmocka_unit_test(test_atapi_packet),
		cmocka_unit_test(test_dma_good),
		cmocka_unit_test(test_dma_hostile),
	};
	return cmocka_run_group_tests_name("stage5 ATA + PIIX3 IDE", tests, setup_dir,
					   teardown_dir);
}
