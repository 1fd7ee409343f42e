/*
 * ata.c - the ATA command set of a disk (and the few ATA commands an ATAPI CD-ROM answers),
 * whatever controller carries it. See ata.h.
 *
 * What it teaches:
 *   - A drive describes itself in a 512-byte IDENTIFY block: capacity (28-bit and 48-bit),
 *     which transfer modes and command sets it has, and strings stored two characters per
 *     little-endian word, first character in the high byte. Firmware and OSes believe it.
 *   - Commands are a small table: a code, what it does, how its data moves (PIO blocks or
 *     DMA, in or out) and whether it takes a 48-bit address. Everything else follows from it.
 *   - A bad request (a sector past the end, a write to a read-only disk, a guest table that
 *     points nowhere) ends the command with an error the guest can read; the host prints one
 *     line and carries on.
 * References: ATA/ATAPI-7 volume 1 (T13/1532D) for commands and IDENTIFY; ATA/ATAPI-8 ACS.
 */
#include "ata.h"

#include <stdio.h>
#include <string.h>

#define LBA28_MAX_SECTORS 0x0fffffffull   /* what IDENTIFY words 60-61 can say */
#define STATUS_OK (ATA_STATUS_DRDY | ATA_STATUS_DSC)
#define BOUNCE_SIZE (16 * 1024)           /* disk <-> guest in pieces of this size */

/* Transfer modes this drive offers (IDENTIFY words 63, 64, 88): PIO 0-4, MWDMA 0-2, UDMA 0-5. */
#define MAX_PIO_MODE   4
#define MAX_MWDMA_MODE 2
#define MAX_UDMA_MODE  5
#define XFER_PIO   0x08
#define XFER_MWDMA 0x20
#define XFER_UDMA  0x40

enum ata_op {
	OP_READ, OP_WRITE, OP_VERIFY, OP_IDENTIFY, OP_IDENTIFY_PACKET, OP_PACKET, OP_FLUSH,
	OP_SET_FEATURES, OP_SET_MULTIPLE, OP_INIT_PARAMS, OP_CHECK_POWER, OP_NOTHING,
	OP_DIAGNOSTIC, OP_DEVICE_RESET, OP_NOP,
};

/* Flags: how a command moves data and which drives answer it. */
#define F_LBA48    0x01
#define F_DMA      0x02
#define F_MULTIPLE 0x04   /* PIO in blocks of the SET MULTIPLE count */
#define F_DISK     0x08   /* an ATA disk runs it */
#define F_CD       0x10   /* an ATAPI drive runs it */
#define F_BOTH     (F_DISK | F_CD)

struct ata_command {
	uint8_t code;
	uint8_t op;
	uint8_t flags;
	const char *name;
};

static const struct ata_command commands[] = {
	{ 0x00, OP_NOP, F_BOTH, "NOP" },
	{ 0x08, OP_DEVICE_RESET, F_CD, "DEVICE RESET" },
	{ 0x10, OP_NOTHING, F_DISK, "RECALIBRATE" },
	{ 0x20, OP_READ, F_DISK, "READ SECTORS" },
	{ 0x21, OP_READ, F_DISK, "READ SECTORS" },            /* "without retry": the same */
	{ 0x24, OP_READ, F_DISK | F_LBA48, "READ SECTORS EXT" },
	{ 0x25, OP_READ, F_DISK | F_LBA48 | F_DMA, "READ DMA EXT" },
	{ 0x29, OP_READ, F_DISK | F_LBA48 | F_MULTIPLE, "READ MULTIPLE EXT" },
	{ 0x30, OP_WRITE, F_DISK, "WRITE SECTORS" },
	{ 0x31, OP_WRITE, F_DISK, "WRITE SECTORS" },
	{ 0x34, OP_WRITE, F_DISK | F_LBA48, "WRITE SECTORS EXT" },
	{ 0x35, OP_WRITE, F_DISK | F_LBA48 | F_DMA, "WRITE DMA EXT" },
	{ 0x39, OP_WRITE, F_DISK | F_LBA48 | F_MULTIPLE, "WRITE MULTIPLE EXT" },
	{ 0x40, OP_VERIFY, F_DISK, "READ VERIFY SECTORS" },
	{ 0x41, OP_VERIFY, F_DISK, "READ VERIFY SECTORS" },
	{ 0x42, OP_VERIFY, F_DISK | F_LBA48, "READ VERIFY SECTORS EXT" },
	{ 0x70, OP_NOTHING, F_DISK, "SEEK" },
	{ 0x90, OP_DIAGNOSTIC, F_BOTH, "EXECUTE DEVICE DIAGNOSTIC" },
	{ 0x91, OP_INIT_PARAMS, F_DISK, "INITIALIZE DEVICE PARAMETERS" },
	{ 0xa0, OP_PACKET, F_CD, "PACKET" },
	{ 0xa1, OP_IDENTIFY_PACKET, F_CD, "IDENTIFY PACKET DEVICE" },
	{ 0xc4, OP_READ, F_DISK | F_MULTIPLE, "READ MULTIPLE" },
	{ 0xc5, OP_WRITE, F_DISK | F_MULTIPLE, "WRITE MULTIPLE" },
	{ 0xc6, OP_SET_MULTIPLE, F_DISK, "SET MULTIPLE MODE" },
	{ 0xc8, OP_READ, F_DISK | F_DMA, "READ DMA" },
	{ 0xc9, OP_READ, F_DISK | F_DMA, "READ DMA" },
	{ 0xca, OP_WRITE, F_DISK | F_DMA, "WRITE DMA" },
	{ 0xcb, OP_WRITE, F_DISK | F_DMA, "WRITE DMA" },
	{ 0xe0, OP_NOTHING, F_BOTH, "STANDBY IMMEDIATE" },
	{ 0xe1, OP_NOTHING, F_BOTH, "IDLE IMMEDIATE" },
	{ 0xe2, OP_NOTHING, F_DISK, "STANDBY" },
	{ 0xe3, OP_NOTHING, F_DISK, "IDLE" },
	{ 0xe5, OP_CHECK_POWER, F_BOTH, "CHECK POWER MODE" },
	{ 0xe7, OP_FLUSH, F_DISK, "FLUSH CACHE" },
	{ 0xea, OP_FLUSH, F_DISK | F_LBA48, "FLUSH CACHE EXT" },
	/* An ATAPI drive "runs" IDENTIFY DEVICE: it aborts it and shows its signature. */
	{ 0xec, OP_IDENTIFY, F_BOTH, "IDENTIFY DEVICE" },
	{ 0xef, OP_SET_FEATURES, F_BOTH, "SET FEATURES" },
};

static const struct ata_command *find_command(uint8_t code)
{
	/* RECALIBRATE is 1xh and SEEK 7xh: the low nibble is an obsolete step rate. */
	if ((code & 0xf0) == 0x10 || (code & 0xf0) == 0x70)
		code &= 0xf0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].code == code)
			return &commands[i];
	return NULL;
}

static bool drive_runs(const struct ata_drive *d, const struct ata_command *c)
{
	return c->flags & (d->media == ATA_MEDIA_CDROM ? F_CD : F_DISK);
}

/* ---- setting up a drive -------------------------------------------------------------- */

/* ATA strings are space padded, not NUL terminated. */
static void copy_padded(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	memset(dst, ' ', size - 1);
	memcpy(dst, src, n < size - 1 ? n : size - 1);
	dst[size - 1] = '\0';
}

/* The classic BIOS translation: 16 heads, 63 sectors per track, as many cylinders as fit. */
static void default_geometry(struct ata_drive *d)
{
	uint64_t cylinders = d->sectors / (16 * 63);
	d->heads = d->cur_heads = 16;
	d->sectors_per_track = d->cur_sectors_per_track = 63;
	d->cylinders = cylinders > 16383 ? 16383 : cylinders ? cylinders : 1;
}

void ata_drive_init(struct ata_drive *d, struct block_dev *blk, enum ata_media media,
		    const char *name)
{
	memset(d, 0, sizeof(*d));
	d->present = blk != NULL;
	d->media = media;
	d->blk = blk;
	d->name = name;
	if (!blk)
		return;
	d->sectors = blk->size / (media == ATA_MEDIA_CDROM ? ATAPI_SECTOR_SIZE : ATA_SECTOR_SIZE);
	d->multiple = ATA_MAX_MULTIPLE;   /* what SeaBIOS and Linux find set; they may change it */
	d->transfer_mode = XFER_UDMA | MAX_UDMA_MODE;
	d->write_cache = true;
	copy_padded(d->model, sizeof(d->model),
		    media == ATA_MEDIA_CDROM ? "MINIVISOR DVD-ROM" : "MINIVISOR HARDDISK");
	char serial[32];
	snprintf(serial, sizeof(serial), "MV-%s", name ? name : "disk");
	copy_padded(d->serial, sizeof(d->serial), serial);
	default_geometry(d);
}

/* ---- IDENTIFY ------------------------------------------------------------------------ */

/* Two characters per word, the first in the high byte (ATA-7 vol. 1, 3.2.11). */
static void put_string(uint16_t *words, const char *s, unsigned nwords)
{
	for (unsigned i = 0; i < nwords; i++)
		words[i] = (uint16_t)((uint8_t)s[2 * i] << 8 | (uint8_t)s[2 * i + 1]);
}

static void put_u32(uint16_t *words, uint32_t v)
{
	words[0] = v & 0xffff;
	words[1] = v >> 16;
}

/* Words 63 and 88: supported modes in the low byte, the selected one in the high byte. */
static uint16_t mode_word(unsigned max_mode, const struct ata_drive *d, uint8_t kind)
{
	uint16_t w = (uint16_t)((1u << (max_mode + 1)) - 1);
	if ((d->transfer_mode & 0xf8) == kind)
		w |= 0x100 << (d->transfer_mode & 7);
	return w;
}

/* The words a disk and an ATAPI drive share: strings, modes, timings. */
static void identify_common(const struct ata_drive *d, uint16_t id[256])
{
	put_string(&id[10], d->serial, 10);
	put_string(&id[23], "0.5     ", 4);              /* firmware revision */
	put_string(&id[27], d->model, 20);
	id[49] = 1 << 11 | 1 << 9 | 1 << 8;               /* IORDY, LBA, DMA */
	id[50] = 0x4000;                                  /* "word 50 is valid" */
	id[53] = 1 << 1 | 1 << 2;                         /* words 64-70 and 88 are valid */
	id[63] = mode_word(MAX_MWDMA_MODE, d, XFER_MWDMA);
	id[64] = 0x03;                                    /* PIO 3 and 4 (0-2 are implied) */
	id[65] = id[66] = id[67] = id[68] = 120;          /* cycle times, ns: the fastest */
	id[88] = mode_word(MAX_UDMA_MODE, d, XFER_UDMA);
	id[93] = 1 << 14 | 1 << 13 | 1;                   /* reset results; 80-wire cable */
}

/* The last word: 0xa5, then the byte that makes all 512 bytes sum to 0 (mod 256). */
static void identify_checksum(uint16_t id[256])
{
	uint8_t sum = 0xa5;
	for (int i = 0; i < 255; i++)
		sum += (id[i] & 0xff) + (id[i] >> 8);
	id[255] = (uint16_t)((uint8_t)-sum << 8 | 0xa5);
}

static void identify_disk(const struct ata_drive *d, uint16_t id[256])
{
	uint32_t cur_cyl_max = d->cur_heads * d->cur_sectors_per_track;
	uint64_t cur_cyls = cur_cyl_max ? d->sectors / cur_cyl_max : 0;
	if (cur_cyls > 0xffff)
		cur_cyls = 0xffff;

	identify_common(d, id);
	id[0] = 0x0040;                                   /* fixed disk, ATA */
	id[1] = d->cylinders;
	id[3] = d->heads;
	id[6] = d->sectors_per_track;
	id[47] = 0x8000 | ATA_MAX_MULTIPLE;
	id[53] |= 1 << 0;                                 /* words 54-58 are valid */
	id[54] = cur_cyls;
	id[55] = d->cur_heads;
	id[56] = d->cur_sectors_per_track;
	put_u32(&id[57], cur_cyls * cur_cyl_max);
	id[59] = d->multiple ? 0x100 | d->multiple : 0;
	put_u32(&id[60], d->sectors > LBA28_MAX_SECTORS ? LBA28_MAX_SECTORS : d->sectors);
	id[80] = 0x00f0;                                  /* ATA/ATAPI-4 to -7 */
	id[82] = 1 << 14 | 1 << 5;                        /* NOP, write cache */
	id[83] = 1 << 14 | 1 << 13 | 1 << 12 | 1 << 10;   /* FLUSH CACHE (EXT), 48-bit */
	id[84] = 1 << 14;
	id[85] = 1 << 14 | (d->write_cache ? 1 << 5 : 0);
	id[86] = 1 << 13 | 1 << 12 | 1 << 10;
	id[87] = 1 << 14;
	for (int i = 0; i < 4; i++)                       /* words 100-103: the 48-bit size */
		id[100 + i] = (d->sectors >> (16 * i)) & 0xffff;
}

static void identify_atapi(const struct ata_drive *d, uint16_t id[256])
{
	identify_common(d, id);
	/* ATAPI, CD-ROM class (5), removable, DRQ within 50 us of PACKET, 12-byte packets. */
	id[0] = 2 << 14 | 5 << 8 | 1 << 7 | 2 << 5;
	id[71] = id[72] = 30;                             /* ns: PACKET to bus release, service */
	id[80] = 0x001e;                                  /* ATA/ATAPI-1 to -4 */
	id[82] = 1 << 14 | 1 << 4;                        /* NOP, the PACKET command set */
	id[83] = id[84] = id[87] = 1 << 14;
	id[85] = 1 << 4;
}

/* Send 256 words as the 512 little-endian bytes a guest reads. */
static uint32_t send_words(const uint16_t id[256], struct ata_taskfile *tf,
			   const struct ata_sg *sg)
{
	uint8_t bytes[ATA_SECTOR_SIZE];
	for (int i = 0; i < 256; i++) {
		bytes[2 * i] = id[i] & 0xff;
		bytes[2 * i + 1] = id[i] >> 8;
	}
	if (!sg->to_guest(sg->opaque, bytes, sizeof(bytes))) {
		ata_abort(tf);
		return 0;
	}
	tf->status = STATUS_OK;
	return sizeof(bytes);
}

static uint32_t identify(struct ata_drive *d, struct ata_taskfile *tf, const struct ata_sg *sg,
			 bool packet)
{
	uint16_t id[256] = { 0 };
	if (packet)
		identify_atapi(d, id);
	else
		identify_disk(d, id);
	identify_checksum(id);
	return send_words(id, tf, sg);
}

/* ---- addressing ---------------------------------------------------------------------- */

bool ata_command_is_lba48(uint8_t command)
{
	const struct ata_command *c = find_command(command);
	return c && (c->flags & F_LBA48);
}

uint32_t ata_command_sectors(const struct ata_taskfile *tf)
{
	if (ata_command_is_lba48(tf->command))
		return tf->count ? tf->count : 65536;
	return (tf->count & 0xff) ? (tf->count & 0xff) : 256;
}

uint64_t ata_command_lba(const struct ata_drive *d, const struct ata_taskfile *tf)
{
	if (ata_command_is_lba48(tf->command))
		return tf->lba & 0xffffffffffffull;
	if (tf->device & ATA_DEVICE_LBA)
		return tf->lba & LBA28_MAX_SECTORS;
	/* CHS: sector number in bits 7:0 (from 1), cylinder in 23:8, head in 27:24. */
	unsigned sector = tf->lba & 0xff, head = (tf->lba >> 24) & 0xf;
	uint64_t cylinder = (tf->lba >> 8) & 0xffff;
	if (sector == 0 || sector > d->cur_sectors_per_track || head >= d->cur_heads)
		return UINT64_MAX;
	return (cylinder * d->cur_heads + head) * d->cur_sectors_per_track + sector - 1;
}

/* ---- reading and writing --------------------------------------------------------------- */

static void fail(struct ata_taskfile *tf, uint8_t error)
{
	tf->status = ATA_STATUS_DRDY | ATA_STATUS_ERR;
	tf->error = error;
}

/* The whole range on the disk? If not: IDNF, and one line naming the drive and the sector. */
static bool check_range(const struct ata_drive *d, struct ata_taskfile *tf,
			const struct ata_command *c, uint64_t lba, uint32_t count)
{
	if (lba != UINT64_MAX && lba < d->sectors && count <= d->sectors - lba)
		return true;
	if (lba == UINT64_MAX)
		fprintf(stderr, "%s: %s: no such cylinder/head/sector (lba register 0x%llx)\n",
			d->name, c->name, (unsigned long long)tf->lba);
	else
		fprintf(stderr, "%s: %s of %u sector(s) at LBA %llu: past the end of the disk "
			"(%llu sectors)\n", d->name, c->name, count, (unsigned long long)lba,
			(unsigned long long)d->sectors);
	fail(tf, ATA_ERROR_IDNF);
	if (lba != UINT64_MAX)
		tf->lba = lba < d->sectors ? d->sectors : lba;   /* the first sector not there */
	return false;
}

static bool check_writable(struct ata_drive *d, struct ata_taskfile *tf,
			   const struct ata_command *c)
{
	if (!d->blk->read_only)
		return true;
	if (!d->warned_read_only)
		fprintf(stderr, "%s: %s: the disk is read-only (%s); writes fail\n", d->name,
			c->name, d->blk->path);
	d->warned_read_only = true;
	fail(tf, ATA_ERROR_ABRT);
	return false;
}

static void media_error(struct ata_drive *d, struct ata_taskfile *tf, const char *what,
			uint64_t lba, int err)
{
	fprintf(stderr, "%s: %s at LBA %llu: %s\n", d->name, what, (unsigned long long)lba,
		d->blk->why[0] ? d->blk->why : strerror(-err));
	fail(tf, ATA_ERROR_UNC);
	tf->lba = lba;
}

/* Move the sectors between the disk and the guest, a bounce buffer at a time. */
static uint32_t transfer(struct ata_drive *d, struct ata_taskfile *tf, const struct ata_sg *sg,
			 const struct ata_command *c)
{
	bool write = c->op == OP_WRITE;
	uint64_t lba = ata_command_lba(d, tf);
	uint32_t count = ata_command_sectors(tf);
	if (!check_range(d, tf, c, lba, count) || (write && !check_writable(d, tf, c)))
		return 0;

	uint8_t buf[BOUNCE_SIZE];
	uint64_t offset = lba * ATA_SECTOR_SIZE, left = (uint64_t)count * ATA_SECTOR_SIZE;
	uint32_t moved = 0;
	while (left) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);
		uint64_t at = offset / ATA_SECTOR_SIZE;
		int err = 0;
		if (write) {
			if (!sg->from_guest(sg->opaque, buf, n))
				goto bad_table;
			err = block_write(d->blk, buf, offset, n);
		} else {
			err = block_read(d->blk, buf, offset, n);
			if (!err && !sg->to_guest(sg->opaque, buf, n))
				goto bad_table;
		}
		if (err) {
			media_error(d, tf, write ? "write error" : "read error", at, err);
			return moved;
		}
		offset += n;
		left -= n;
		moved += n;
	}
	/* Write cache off (SET FEATURES 82h): a write completes only once it is durable. The
	 * QCOW2 backend caches metadata until a flush (block/qcow2.c), so this is the flush. */
	int err = write && !d->write_cache ? block_flush(d->blk) : 0;
	if (err) {
		media_error(d, tf, "write error", lba + count - 1, err);
		return moved;
	}
	tf->status = STATUS_OK;
	return moved;

bad_table:
	ata_abort(tf);   /* the transport said why */
	return moved;
}

bool ata_check_access(struct ata_drive *d, struct ata_taskfile *tf)
{
	const struct ata_command *c = find_command(tf->command);
	if (!c || !d->present || !drive_runs(d, c) || (c->op != OP_READ && c->op != OP_WRITE))
		return true;
	return check_range(d, tf, c, ata_command_lba(d, tf), ata_command_sectors(tf)) &&
	       (c->op == OP_READ || check_writable(d, tf, c));
}

static void verify(struct ata_drive *d, struct ata_taskfile *tf, const struct ata_command *c)
{
	if (check_range(d, tf, c, ata_command_lba(d, tf), ata_command_sectors(tf)))
		tf->status = STATUS_OK;
}

static void flush(struct ata_drive *d, struct ata_taskfile *tf)
{
	int err = block_flush(d->blk);
	if (!err) {
		tf->status = STATUS_OK;
		return;
	}
	fprintf(stderr, "%s: FLUSH CACHE: %s\n", d->name,
		d->blk->why[0] ? d->blk->why : strerror(-err));
	fail(tf, ATA_ERROR_ABRT);
}

/* ---- settings ------------------------------------------------------------------------ */

static bool valid_transfer_mode(uint8_t mode)
{
	switch (mode & 0xf8) {
	case 0x00: return (mode & 7) <= 1;                /* PIO default (with or without IORDY) */
	case XFER_PIO: return (mode & 7) <= MAX_PIO_MODE;
	case XFER_MWDMA: return (mode & 7) <= MAX_MWDMA_MODE;
	case XFER_UDMA: return (mode & 7) <= MAX_UDMA_MODE;
	}
	return false;
}

static void set_features(struct ata_drive *d, struct ata_taskfile *tf)
{
	switch (tf->features & 0xff) {
	case 0x03:                                        /* set transfer mode: count */
		if (!valid_transfer_mode(tf->count & 0xff)) {
			fail(tf, ATA_ERROR_ABRT);
			return;
		}
		/* The DMA mode is what IDENTIFY shows selected; a PIO mode leaves it alone. */
		if ((tf->count & 0xff) >= XFER_MWDMA)
			d->transfer_mode = tf->count & 0xff;
		break;
	case 0x02:
		d->write_cache = true;
		break;
	case 0x82:
		d->write_cache = false;
		break;
	default:
		break;   /* look-ahead, power-up in standby, ...: nothing to change here */
	}
	tf->status = STATUS_OK;
}

static void set_multiple(struct ata_drive *d, struct ata_taskfile *tf)
{
	unsigned n = tf->count & 0xff;
	if (n > ATA_MAX_MULTIPLE || (n & (n - 1))) {
		fail(tf, ATA_ERROR_ABRT);
		return;
	}
	d->multiple = n;   /* 0: READ/WRITE MULTIPLE are off until set again */
	tf->status = STATUS_OK;
}

static void init_params(struct ata_drive *d, struct ata_taskfile *tf)
{
	if ((tf->count & 0xff) == 0) {
		fail(tf, ATA_ERROR_ABRT);
		return;
	}
	d->cur_sectors_per_track = tf->count & 0xff;
	d->cur_heads = (tf->device & 0xf) + 1;
	tf->status = STATUS_OK;
}

/* ---- the contract ---------------------------------------------------------------------- */

void ata_abort(struct ata_taskfile *tf)
{
	fail(tf, ATA_ERROR_ABRT);
}

void ata_signature(const struct ata_drive *d, struct ata_taskfile *tf)
{
	bool atapi = d->media == ATA_MEDIA_CDROM;
	tf->count = 1;
	tf->lba = atapi ? 0xeb1401 : 0x000001;
	/* A disk is ready at once; an ATAPI drive leaves DRDY clear until it gets a command. */
	tf->status = atapi || !d->present ? 0 : STATUS_OK;
	tf->error = ATA_ERROR_DIAG_PASSED;
}

bool ata_command_info(const struct ata_drive *d, const struct ata_taskfile *tf,
		      struct ata_command_info *info)
{
	const struct ata_command *c = find_command(tf->command);
	memset(info, 0, sizeof(*info));
	if (!c)
		return false;
	/* A command this media does not run, or a MULTIPLE command before SET MULTIPLE MODE,
	 * moves no data: ata_execute() aborts it. */
	if (!d->present || !drive_runs(d, c) || ((c->flags & F_MULTIPLE) && !d->multiple))
		return true;
	switch (c->op) {
	case OP_READ:
	case OP_WRITE:
		info->dir = c->op == OP_READ ? ATA_DIR_IN : ATA_DIR_OUT;
		info->dma = c->flags & F_DMA;
		info->bytes = ata_command_sectors(tf) * ATA_SECTOR_SIZE;
		info->drq_block = ATA_SECTOR_SIZE *
				  ((c->flags & F_MULTIPLE) ? d->multiple : 1);
		break;
	case OP_IDENTIFY:
		if (d->media == ATA_MEDIA_CDROM)
			break;   /* aborted, with the ATAPI signature */
		/* fall through */
	case OP_IDENTIFY_PACKET:
		info->dir = ATA_DIR_IN;
		info->bytes = info->drq_block = ATA_SECTOR_SIZE;
		break;
	case OP_PACKET:
		info->packet = true;
		info->dma = tf->features & 1;
		break;
	}
	return true;
}

uint32_t ata_execute(struct ata_drive *d, struct ata_taskfile *tf, const struct ata_sg *sg)
{
	const struct ata_command *c = find_command(tf->command);
	tf->error = 0;
	if (!c || !d->present || !drive_runs(d, c) || c->op == OP_NOP || c->op == OP_PACKET ||
	    ((c->flags & F_MULTIPLE) && !d->multiple)) {
		ata_abort(tf);
		return 0;
	}
	tf->status = STATUS_OK;
	switch (c->op) {
	case OP_READ:
	case OP_WRITE:
		return transfer(d, tf, sg, c);
	case OP_VERIFY:
		verify(d, tf, c);
		break;
	case OP_IDENTIFY:
		if (d->media == ATA_MEDIA_CDROM) {
			ata_signature(d, tf);   /* "I am ATAPI": the host asks again with A1h */
			fail(tf, ATA_ERROR_ABRT);
			return 0;
		}
		return identify(d, tf, sg, false);
	case OP_IDENTIFY_PACKET:
		return identify(d, tf, sg, true);
	case OP_FLUSH:
		flush(d, tf);
		break;
	case OP_SET_FEATURES:
		set_features(d, tf);
		break;
	case OP_SET_MULTIPLE:
		set_multiple(d, tf);
		break;
	case OP_INIT_PARAMS:
		init_params(d, tf);
		break;
	case OP_CHECK_POWER:
		tf->count = 0xff;   /* active or idle: this drive never spins down */
		break;
	case OP_DIAGNOSTIC:
		ata_signature(d, tf);
		break;
	case OP_DEVICE_RESET:
		ata_signature(d, tf);
		break;
	}
	return 0;
}
