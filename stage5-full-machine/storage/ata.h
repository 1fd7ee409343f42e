/*
 * ata.h - an ATA disk and an ATAPI CD-ROM: the command sets, apart from any controller.
 *
 * A PC disk controller (IDE, AHCI) is a transport: it carries a command's registers, the
 * "task file", to a drive, and moves the data between the drive and guest memory. The
 * commands themselves are the same behind both (ATA/ATAPI-8 ACS; ATAPI commands are SCSI's
 * MMC set sent inside an ATA PACKET command). This file is that shared drive; ide.c and
 * ahci.c are the two transports.
 *
 *   ide.c  (PIIX, machine pc)   task file in I/O ports, data through a port (PIO) or a PRD
 *                               table (bus master DMA)
 *   ahci.c (ICH9, machine q35)  task file in a Register FIS in a command table in RAM, data
 *                               through that table's PRDT
 *
 * The drive is plain data (struct ata_drive) around a disk backend (block/block.h).
 *
 * CONTRACT between ide.c and ahci.c: both call only the functions below. Keep the signatures.
 */
#ifndef ATA_H
#define ATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"

#define ATA_SECTOR_SIZE   512
#define ATAPI_SECTOR_SIZE 2048

/* Status register bits. */
#define ATA_STATUS_ERR  0x01
#define ATA_STATUS_DRQ  0x08
#define ATA_STATUS_DSC  0x10
#define ATA_STATUS_DF   0x20
#define ATA_STATUS_DRDY 0x40
#define ATA_STATUS_BSY  0x80
/* Error register bits. */
#define ATA_ERROR_ABRT  0x04
#define ATA_ERROR_IDNF  0x10
#define ATA_ERROR_UNC   0x40
/* What the error register holds after a reset or EXECUTE DEVICE DIAGNOSTIC: "passed". */
#define ATA_ERROR_DIAG_PASSED 0x01

/* The device register: bit 6 selects LBA addressing (else cylinder/head/sector), bit 4 the
 * device (0 master, 1 slave); bits 3:0 are LBA bits 27:24 (or the head). */
#define ATA_DEVICE_LBA  0x40
#define ATA_DEVICE_DEV1 0x10

/* Command codes the transports must recognise themselves (ata.c knows them all). */
#define ATA_CMD_DEVICE_RESET      0x08
#define ATA_CMD_EXECUTE_DIAGNOSTIC 0x90
#define ATA_CMD_PACKET            0xa0
#define ATA_CMD_IDENTIFY_PACKET   0xa1
#define ATA_CMD_IDENTIFY          0xec

/* The most sectors per DRQ block a drive offers for READ/WRITE MULTIPLE (IDENTIFY word 47). */
#define ATA_MAX_MULTIPLE 16

enum ata_media { ATA_MEDIA_DISK, ATA_MEDIA_CDROM };

/* The task file: the registers of one command, as IDE's ports or AHCI's FIS carry them. */
struct ata_taskfile {
	uint8_t command;
	uint16_t features;       /* LBA48 commands: 16 bits */
	uint16_t count;          /* sector count; LBA48: 16 bits (0 means 65536, 28-bit: 256) */
	uint64_t lba;            /* LBA28: 28 bits (bits 27:24 from the device register) */
	uint8_t device;
	/* results, written by ata_execute / atapi_execute */
	uint8_t status, error;
};

/*
 * Where a command's data goes (to the guest: reads, IDENTIFY, ATAPI replies) or comes from
 * (writes). The transport walks its own table (PRD, PRDT, or a PIO buffer); each call
 * continues where the last one stopped. false: the guest's table is bad (an entry outside
 * RAM, or the table ends before the data does); the command then fails with ABRT.
 */
struct ata_sg {
	bool (*to_guest)(void *opaque, const void *buf, size_t len);
	bool (*from_guest)(void *opaque, void *buf, size_t len);
	void *opaque;
};

enum ata_direction { ATA_DIR_NONE, ATA_DIR_IN, ATA_DIR_OUT };   /* IN: drive to guest */

/* What a command will do, known before it runs: the transport prepares for it. */
struct ata_command_info {
	enum ata_direction dir;
	bool dma;                /* READ/WRITE DMA (EXT), or PACKET with features bit 0 (DMA) */
	bool packet;             /* ATAPI PACKET: a 12-byte CDB comes next */
	uint32_t bytes;          /* data bytes (PACKET: 0, the CDB decides) */
	uint32_t drq_block;      /* PIO: bytes per DRQ block (one sector, or the MULTIPLE count) */
};

struct ata_drive {
	bool present;
	enum ata_media media;
	struct block_dev *blk;
	uint64_t sectors;        /* in the media's sector size (512 disk, 2048 CD) */
	uint8_t multiple;        /* sectors per DRQ block, set by SET MULTIPLE MODE */
	uint8_t sense_key, asc, ascq;   /* ATAPI: the last error, for REQUEST SENSE */
	bool unit_attention;     /* ATAPI: "medium may have changed", reported once */
	char serial[21], model[41];
	const char *name;        /* for messages: "ide0-cd1", "ahci.2" */
	/* Disk geometry for guests that still address by cylinder/head/sector: the default one
	 * (IDENTIFY words 1, 3, 6) and the current one (INITIALIZE DEVICE PARAMETERS). */
	uint16_t cylinders;
	uint8_t heads, sectors_per_track;
	uint8_t cur_heads, cur_sectors_per_track;
	uint8_t transfer_mode;   /* SET FEATURES 03h: 0x08|n PIO n, 0x20|n MWDMA n, 0x40|n UDMA n */
	bool write_cache;        /* SET FEATURES 02h/82h */
	bool warned_read_only;   /* "read-only" said once, not once per write */
};

/* A drive around an open backend (blk NULL: no drive here). */
void ata_drive_init(struct ata_drive *d, struct block_dev *blk, enum ata_media media,
		    const char *name);

/* Decode tf->command. false: a command this drive does not know (the transport aborts it:
 * ata_abort). */
bool ata_command_info(const struct ata_drive *d, const struct ata_taskfile *tf,
		      struct ata_command_info *info);

/* Run a command (not PACKET); data through sg. Sets tf->status and tf->error (and, on a
 * media error, tf->lba to the failing sector). Returns the bytes moved. */
uint32_t ata_execute(struct ata_drive *d, struct ata_taskfile *tf, const struct ata_sg *sg);

/* Run the CDB of a PACKET command; at most max_bytes go to the guest (the transport's
 * limit). Sets tf->status/error (error bits 7:4: the sense key). Returns the bytes moved. */
uint32_t atapi_execute(struct ata_drive *d, const uint8_t cdb[12], struct ata_taskfile *tf,
		       const struct ata_sg *sg, uint32_t max_bytes);

/* The task file a drive shows after a reset or EXECUTE DEVICE DIAGNOSTIC: its signature
 * (count 1, lba 1; lba bits 23:8 0x0000 for a disk, 0xeb14 for ATAPI). */
void ata_signature(const struct ata_drive *d, struct ata_taskfile *tf);

/* Abort: status DRDY|ERR, error ABRT. */
void ata_abort(struct ata_taskfile *tf);

/* For a transport that splits a PIO READ/WRITE into DRQ blocks, one command per block:
 * whether the command uses 48-bit addressing, its sector count (0 decoded to 256 or 65536),
 * and its first sector (a cylinder/head/sector address translated; UINT64_MAX: no such
 * sector). A block then goes as the same command with ATA_DEVICE_LBA set in tf->device. */
bool ata_command_is_lba48(uint8_t command);
/* Before any data moves: are a READ/WRITE command's sectors all on the disk, and is a write
 * allowed? false: tf holds the error (IDNF, ABRT) and the line was printed. true for every
 * other command. Lets a transport fail a PIO write before it collects the data. */
bool ata_check_access(struct ata_drive *d, struct ata_taskfile *tf);
uint32_t ata_command_sectors(const struct ata_taskfile *tf);
uint64_t ata_command_lba(const struct ata_drive *d, const struct ata_taskfile *tf);

#endif
