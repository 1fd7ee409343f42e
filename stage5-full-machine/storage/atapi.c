/*
 * atapi.c - the ATAPI CD-ROM: SCSI's MMC command set, carried inside ATA PACKET commands.
 * See ata.h.
 *
 * What it teaches: a CD-ROM drive does not speak ATA. The ATA PACKET command only opens an
 * envelope; inside is a 12-byte SCSI Command Descriptor Block (CDB) from the MMC standard
 * (MultiMedia Commands, built on SPC, the SCSI Primary Commands). So this file is a small
 * SCSI target, and its rules are SCSI's:
 *
 *   - Every CDB names an ALLOCATION LENGTH: the most bytes the initiator has room for. The
 *     drive builds its whole answer, then sends min(answer, allocation length, what the
 *     transport can carry). A length field in the answer still tells the full size, so the
 *     guest may ask again with a larger buffer (INQUIRY, GET CONFIGURATION do this).
 *   - A failed command does not say why. It ends in CHECK CONDITION (ATA: the ERR bit, with
 *     the sense key in bits 7:4 of the error register), and the initiator sends REQUEST
 *     SENSE to fetch the sense key, ASC and ASCQ (Additional Sense Code and Qualifier).
 *   - Sectors are 2048 bytes; addresses come as big-endian LBAs, or as MSF (minute, second,
 *     frame: the audio-CD clock, 75 frames a second, with LBA 0 at 00:02:00).
 *
 * The disc is an image file (an ISO 9660 file system, perhaps El Torito bootable) holding
 * one data track in one finished session. The guest is hostile until proven otherwise: every
 * LBA is checked against the disc's end before block_read sees it, and no reply is larger
 * than the buffer it is built in.
 */
#include "ata.h"
#include "byteorder.h"   /* SCSI is big-endian throughout */

#include <stdio.h>
#include <string.h>

/* SCSI operation codes this drive knows (SPC-3 and MMC-5 names). */
#define SCSI_TEST_UNIT_READY	   0x00
#define SCSI_REQUEST_SENSE	   0x03
#define SCSI_INQUIRY		   0x12
#define SCSI_MODE_SENSE_6	   0x1a
#define SCSI_START_STOP_UNIT	   0x1b
#define SCSI_PREVENT_ALLOW	   0x1e
#define SCSI_READ_CAPACITY_10	   0x25
#define SCSI_READ_10		   0x28
#define SCSI_SEEK_10		   0x2b
#define MMC_READ_TOC_PMA_ATIP	   0x43
#define MMC_GET_CONFIGURATION	   0x46
#define MMC_GET_EVENT_STATUS	   0x4a
#define MMC_READ_DISC_INFORMATION  0x51
#define MMC_READ_TRACK_INFORMATION 0x52
#define SCSI_MODE_SENSE_10	   0x5a
#define SCSI_REPORT_LUNS	   0xa0
#define SCSI_READ_12		   0xa8
#define MMC_SET_CD_SPEED	   0xbb
#define MMC_MECHANISM_STATUS	   0xbd
#define MMC_READ_CD		   0xbe

/* Sense keys: the class of an error. */
#define SENSE_NONE	      0x0
#define SENSE_NOT_READY	      0x2
#define SENSE_MEDIUM_ERROR    0x3
#define SENSE_ILLEGAL_REQUEST 0x5
#define SENSE_UNIT_ATTENTION  0x6
#define SENSE_ABORTED_COMMAND 0xb

/* Additional sense codes: the error itself. */
#define ASC_NONE			 0x00
#define ASC_UNRECOVERED_READ_ERROR	 0x11
#define ASC_INVALID_OPCODE		 0x20
#define ASC_LBA_OUT_OF_RANGE		 0x21
#define ASC_INVALID_FIELD_IN_CDB	 0x24
#define ASC_MEDIUM_MAY_HAVE_CHANGED	 0x28
#define ASC_SAVING_NOT_SUPPORTED	 0x39
#define ASC_MEDIUM_NOT_PRESENT		 0x3a
#define ASC_ILLEGAL_MODE_FOR_THIS_TRACK	 0x64

/* Mode pages (MODE SENSE). */
#define MODE_PAGE_ERROR_RECOVERY 0x01
#define MODE_PAGE_CAPABILITIES	 0x2a
#define MODE_PAGE_ALL		 0x3f

/* MMC profiles (GET CONFIGURATION): what kind of disc is in the drive. */
#define PROFILE_NONE	0x0000
#define PROFILE_CD_ROM	0x0008
#define PROFILE_DVD_ROM 0x0010

/* The one data track; 0xaa is the number MMC gives the lead-out, the disc's end. */
#define TRACK_DATA     1
#define TRACK_LEAD_OUT 0xaa
#define TRACK_ADR_CONTROL 0x14   /* ADR 1 (Q sub-channel: position), control 4: data track */

/* A CD holds at most 80 minutes of 75 sectors a second; a larger image must be a DVD. */
#define CD_MAX_SECTORS (80u * 60 * 75)
#define MSF_LBA_OFFSET 150   /* LBA 0 is at 00:02:00: two seconds of lead-in pre-gap */

/* Reads go through a bounce buffer this large: 16 sectors at a time. */
#define READ_CHUNK (16 * ATAPI_SECTOR_SIZE)
/* The largest reply other than sector data (GET CONFIGURATION's, all features). */
#define REPLY_MAX 256

/* One command in flight: the drive, the CDB and where its data and result go. */
struct atapi_cmd {
	struct ata_drive *d;
	const uint8_t *cdb;
	const struct ata_sg *sg;
	uint32_t max_bytes;      /* the transport's limit */
	uint32_t moved;          /* bytes sent to the guest */
	bool failed;             /* CHECK CONDITION: the sense is set */
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* ---- results -------------------------------------------------------------------------- */

static void set_sense(struct ata_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
	d->sense_key = key;
	d->asc = asc;
	d->ascq = ascq;
}

/* CHECK CONDITION: remember why for REQUEST SENSE; the task file shows only the key. */
static void check_condition(struct atapi_cmd *c, uint8_t key, uint8_t asc)
{
	set_sense(c->d, key, asc, 0);
	c->failed = true;
}

/* The guest's table (PRD, PRDT) ended or pointed outside RAM: the transport said so. */
static void guest_table_error(struct atapi_cmd *c)
{
	fprintf(stderr, "%s: ATAPI command 0x%02x: the guest's data table is bad, aborted\n",
		c->d->name, c->cdb[0]);
	check_condition(c, SENSE_ABORTED_COMMAND, ASC_NONE);
}

/* Send a reply built in full: SCSI's allocation-length rule, then the transport's limit. */
static void reply(struct atapi_cmd *c, const void *buf, uint32_t len, uint32_t alloc)
{
	uint32_t n = (uint32_t)min_u64(min_u64(len, alloc), c->max_bytes);
	if (n == 0)
		return;
	if (!c->sg->to_guest(c->sg->opaque, buf, n)) {
		guest_table_error(c);
		return;
	}
	c->moved = n;
}

/* An LBA range the guest named, checked against the disc's end (count 0 is legal). */
static bool lba_range_ok(struct atapi_cmd *c, uint64_t lba, uint64_t count)
{
	if (lba < c->d->sectors && count <= c->d->sectors - lba)
		return true;
	if (count == 0 && lba == c->d->sectors)
		return true;
	fprintf(stderr, "%s: ATAPI command 0x%02x: sectors %llu+%llu past the disc's end (%llu)\n",
		c->d->name, c->cdb[0], (unsigned long long)lba, (unsigned long long)count,
		(unsigned long long)c->d->sectors);
	check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	return false;
}

static bool is_dvd(const struct ata_drive *d)
{
	return d->sectors > CD_MAX_SECTORS;
}

/* ---- reading the disc ----------------------------------------------------------------- */

/* Fill buf from the image; bytes past the file's end (a last partial sector) read as 0. */
static bool read_image(struct atapi_cmd *c, uint8_t *buf, uint64_t offset, size_t len)
{
	struct block_dev *blk = c->d->blk;
	size_t have = offset >= blk->size ? 0 : (size_t)min_u64(len, blk->size - offset);
	memset(buf + have, 0, len - have);
	if (have == 0 || block_read(blk, buf, offset, have) >= 0)
		return true;
	fprintf(stderr, "%s: read error at byte %llu of %s\n", c->d->name,
		(unsigned long long)offset, blk->path);
	check_condition(c, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR);
	return false;
}

/* READ(10), READ(12), READ CD: count 2048-byte sectors from lba, chunk by chunk. */
static void read_sectors(struct atapi_cmd *c, uint64_t lba, uint64_t count)
{
	if (!lba_range_ok(c, lba, count))
		return;
	/* A table too small for the data (AHCI's PRDT, IDE's PIO buffer) is the guest's error, as
	 * in an ATA read: a short read reported as a good one would hide it. */
	if (count * ATAPI_SECTOR_SIZE > c->max_bytes) {
		fprintf(stderr, "%s: ATAPI READ of %llu sectors: the controller's data table takes "
			"only %u bytes, aborted\n", c->d->name, (unsigned long long)count,
			c->max_bytes);
		check_condition(c, SENSE_ABORTED_COMMAND, ASC_NONE);
		return;
	}
	uint64_t left = count * ATAPI_SECTOR_SIZE;
	uint64_t offset = lba * ATAPI_SECTOR_SIZE;
	uint8_t buf[READ_CHUNK];
	while (left > 0) {
		size_t n = (size_t)min_u64(left, sizeof(buf));
		if (!read_image(c, buf, offset, n))
			return;
		if (!c->sg->to_guest(c->sg->opaque, buf, n)) {
			guest_table_error(c);
			return;
		}
		c->moved += n;
		offset += n;
		left -= n;
	}
}

static void cmd_read_10(struct atapi_cmd *c)
{
	read_sectors(c, get_be32(c->cdb + 2), get_be16(c->cdb + 7));
}

static void cmd_read_12(struct atapi_cmd *c)
{
	read_sectors(c, get_be32(c->cdb + 2), get_be32(c->cdb + 6));
}

/*
 * READ CD reads raw CD sectors (sync, header, user data, error correction, sub-channel):
 * byte 9 picks the parts. Only the 2048 user data bytes of a data track exist here.
 */
static void cmd_read_cd(struct atapi_cmd *c)
{
	unsigned sector_type = (c->cdb[1] >> 2) & 7;   /* 0: any, 2: mode 1 (a data track) */
	uint8_t parts = c->cdb[9] & 0xf8, subchannel = c->cdb[10] & 7;
	if (sector_type != 0 && sector_type != 2) {
		check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_ILLEGAL_MODE_FOR_THIS_TRACK);
		return;
	}
	if ((parts != 0x00 && parts != 0x10) || subchannel != 0) {
		check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		return;
	}
	uint64_t lba = get_be32(c->cdb + 2), count = get_be24(c->cdb + 6);
	if (parts == 0x00)   /* nothing asked for: only the range check */
		lba_range_ok(c, lba, count);
	else
		read_sectors(c, lba, count);
}

static void cmd_seek_10(struct atapi_cmd *c)
{
	lba_range_ok(c, get_be32(c->cdb + 2), 0);
}

static void cmd_read_capacity(struct atapi_cmd *c)
{
	uint8_t r[8];
	/* The last LBA, not the count; an empty image answers 0 like a drive without a TOC. */
	uint64_t last = c->d->sectors ? c->d->sectors - 1 : 0;
	put_be32(r, last > 0xffffffffu ? 0xffffffffu : (uint32_t)last);
	put_be32(r + 4, ATAPI_SECTOR_SIZE);
	reply(c, r, sizeof(r), sizeof(r));
}

/* ---- identity and errors -------------------------------------------------------------- */

static void cmd_test_unit_ready(struct atapi_cmd *c)
{
	(void)c;   /* the medium check before every command did the work */
}

/* Fixed-format sense data (SPC-3 4.5.3); the sense is cleared once read. */
static void cmd_request_sense(struct atapi_cmd *c)
{
	struct ata_drive *d = c->d;
	uint8_t r[18] = { 0 };
	if (d->unit_attention) {
		d->unit_attention = false;
		set_sense(d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
	}
	r[0] = 0x70;                       /* current error, fixed format */
	r[2] = d->sense_key;
	r[7] = sizeof(r) - 8;              /* additional sense length */
	r[12] = d->asc;
	r[13] = d->ascq;
	set_sense(d, SENSE_NONE, ASC_NONE, 0);
	reply(c, r, sizeof(r), c->cdb[4]);
}

static void put_padded(uint8_t *p, const char *s, size_t width)
{
	size_t n = strlen(s);
	memset(p, ' ', width);
	memcpy(p, s, n < width ? n : width);
}

/* Standard INQUIRY data (SPC-3 6.4.2): a removable CD/DVD device. No vital product pages. */
static void cmd_inquiry(struct atapi_cmd *c)
{
	uint8_t r[36] = { 0 };
	if ((c->cdb[1] & 1) || c->cdb[2] != 0) {   /* EVPD, or a page code without it */
		check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		return;
	}
	r[0] = 0x05;                       /* peripheral device type: CD/DVD */
	r[1] = 0x80;                       /* removable medium */
	r[2] = 0x05;                       /* conforms to SPC-3 */
	r[3] = 0x02;                       /* response data format 2 */
	r[4] = sizeof(r) - 5;              /* additional length */
	put_padded(r + 8, "MINIVSR", 8);
	put_padded(r + 16, "Virtual DVD-ROM", 16);
	put_padded(r + 32, "5.0", 4);
	reply(c, r, sizeof(r), get_be16(c->cdb + 3));
}

/* SPC's REPORT LUNS: one logical unit, LUN 0. */
static void cmd_report_luns(struct atapi_cmd *c)
{
	uint8_t r[16] = { 0 };
	put_be32(r, 8);                    /* LUN list length: one 8-byte entry, all zero */
	reply(c, r, sizeof(r), get_be32(c->cdb + 6));
}

/* ---- mode pages ----------------------------------------------------------------------- */

/*
 * Each page builder writes a page's code, length and, unless only the changeable mask was
 * asked for, its values. Nothing here can be changed, so that mask is all zero.
 */
static uint32_t page_error_recovery(uint8_t *p, bool values)
{
	memset(p, 0, 12);
	p[0] = MODE_PAGE_ERROR_RECOVERY;
	p[1] = 10;
	if (values)
		p[3] = 5;                  /* read retry count */
	return 12;
}

static uint32_t page_capabilities(uint8_t *p, bool values)
{
	const uint16_t speed_kbs = 24 * 176;   /* "24x": 1x is 176.4 kB/s of CD audio */
	memset(p, 0, 22);
	p[0] = MODE_PAGE_CAPABILITIES;
	p[1] = 20;
	if (!values)
		return 22;
	p[2] = 0x0b;                       /* reads CD-R, CD-RW and DVD-ROM discs */
	p[3] = 0x00;                       /* writes nothing */
	p[4] = 0x40;                       /* multi-session */
	p[5] = 0x00;
	p[6] = 0x29;                       /* tray loader (1 << 5), can eject, can lock */
	put_be16(p + 8, speed_kbs);        /* maximum read speed */
	put_be16(p + 10, 256);             /* volume levels */
	put_be16(p + 12, 512);             /* buffer size, KiB */
	put_be16(p + 14, speed_kbs);       /* current read speed */
	return 22;
}

/* The pages asked for, after the header; 0 and a check condition for an unknown page. */
static uint32_t mode_pages(struct atapi_cmd *c, uint8_t *p)
{
	unsigned control = c->cdb[2] >> 6, page = c->cdb[2] & 0x3f, subpage = c->cdb[3];
	bool values = control != 1;        /* 0 current, 1 changeable mask, 2 default */
	uint32_t n = 0;
	if (control == 3) {                /* saved values: none are kept */
		check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED);
		return 0;
	}
	if (subpage != 0 && !(page == MODE_PAGE_ALL && subpage == 0xff)) {
		check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		return 0;                  /* this drive has no subpages */
	}
	if (page == MODE_PAGE_ERROR_RECOVERY || page == MODE_PAGE_ALL)
		n += page_error_recovery(p + n, values);
	if (page == MODE_PAGE_CAPABILITIES || page == MODE_PAGE_ALL)
		n += page_capabilities(p + n, values);
	if (n == 0)
		check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	return n;
}

/* MODE SENSE(6): a 4-byte header, no block descriptors. */
static void cmd_mode_sense_6(struct atapi_cmd *c)
{
	uint8_t r[REPLY_MAX] = { 0 };
	uint32_t n = 4 + mode_pages(c, r + 4);
	if (c->failed)
		return;
	r[0] = n - 1;                      /* mode data length: the bytes after itself */
	reply(c, r, n, c->cdb[4]);
}

/* MODE SENSE(10): an 8-byte header, no block descriptors. */
static void cmd_mode_sense_10(struct atapi_cmd *c)
{
	uint8_t r[REPLY_MAX] = { 0 };
	uint32_t n = 8 + mode_pages(c, r + 8);
	if (c->failed)
		return;
	put_be16(r, n - 2);
	reply(c, r, n, get_be16(c->cdb + 7));
}

/* ---- table of contents ---------------------------------------------------------------- */

/* An address as MSF (minute, second, frame from LBA -150) or as a big-endian LBA. */
static void put_address(uint8_t *p, uint64_t lba, bool msf)
{
	if (!msf) {
		put_be32(p, lba > 0xffffffffu ? 0xffffffffu : (uint32_t)lba);
		return;
	}
	uint64_t frames = lba + MSF_LBA_OFFSET;
	p[0] = 0;
	if (frames / (60 * 75) > 0xff) {   /* beyond what MSF can say (a DVD): the maximum */
		p[1] = 0xff;
		p[2] = 59;
		p[3] = 74;
		return;
	}
	p[1] = frames / (60 * 75);
	p[2] = frames / 75 % 60;
	p[3] = frames % 75;
}

/* One track descriptor of the formatted TOC. */
static uint32_t toc_descriptor(uint8_t *p, uint8_t track, uint64_t lba, bool msf)
{
	memset(p, 0, 8);
	p[1] = TRACK_ADR_CONTROL;
	p[2] = track;
	put_address(p + 4, lba, msf);
	return 8;
}

/* Format 0: the tracks from the one asked for, and the lead-out. */
static uint32_t toc_formatted(struct atapi_cmd *c, uint8_t *r, bool msf)
{
	uint8_t start = c->cdb[6];
	uint32_t n = 4;
	if (start > TRACK_DATA && start != TRACK_LEAD_OUT) {
		check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		return 0;
	}
	r[2] = TRACK_DATA;                 /* first and last track */
	r[3] = TRACK_DATA;
	if (start <= TRACK_DATA)
		n += toc_descriptor(r + n, TRACK_DATA, 0, msf);
	n += toc_descriptor(r + n, TRACK_LEAD_OUT, c->d->sectors, msf);
	return n;
}

/* Format 1: the first track of the last session; one session here. */
static uint32_t toc_session_info(uint8_t *r, bool msf)
{
	r[2] = 1;                          /* first and last complete session */
	r[3] = 1;
	toc_descriptor(r + 4, TRACK_DATA, 0, msf);
	return 12;
}

/* One 11-byte entry of the raw TOC (format 2): a Q sub-channel entry of the lead-in. */
static uint32_t raw_toc_entry(uint8_t *p, uint8_t point, uint8_t pmin, uint8_t psec,
			      uint8_t pframe)
{
	memset(p, 0, 11);
	p[0] = 1;                          /* session */
	p[1] = TRACK_ADR_CONTROL;
	p[3] = point;
	p[8] = pmin;
	p[9] = psec;
	p[10] = pframe;
	return 11;
}

/* Format 2: the lead-in's entries A0 (first track), A1 (last track), A2 (lead-out), track 1. */
static uint32_t toc_raw(struct atapi_cmd *c, uint8_t *r)
{
	uint8_t lead_out[4];
	uint32_t n = 4;
	put_address(lead_out, c->d->sectors, true);
	r[2] = 1;
	r[3] = 1;
	n += raw_toc_entry(r + n, 0xa0, TRACK_DATA, 0x00, 0);   /* PSEC 0: CD-ROM disc */
	n += raw_toc_entry(r + n, 0xa1, TRACK_DATA, 0, 0);
	n += raw_toc_entry(r + n, 0xa2, lead_out[1], lead_out[2], lead_out[3]);
	n += raw_toc_entry(r + n, TRACK_DATA, 0, 2, 0);          /* 00:02:00 is LBA 0 */
	return n;
}

static void cmd_read_toc(struct atapi_cmd *c)
{
	uint8_t r[REPLY_MAX] = { 0 };
	bool msf = c->cdb[1] & 0x02;
	unsigned format = c->cdb[2] & 0x0f;
	uint32_t n;
	if (format == 0)
		format = c->cdb[9] >> 6;   /* older drives (SFF-8020) took it from byte 9 */
	switch (format) {
	case 0: n = toc_formatted(c, r, msf); break;
	case 1: n = toc_session_info(r, msf); break;
	case 2: n = toc_raw(c, r); break;
	default:
		check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		return;
	}
	if (c->failed)
		return;
	put_be16(r, n - 2);                /* TOC data length: the bytes after itself */
	reply(c, r, n, get_be16(c->cdb + 7));
}

/* ---- disc and track information ------------------------------------------------------- */

/* A finished (closed) disc: one complete session with one track. */
static void cmd_read_disc_information(struct atapi_cmd *c)
{
	uint8_t r[34] = { 0 };
	if ((c->cdb[1] & 7) != 0) {        /* only the standard disc information block */
		check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		return;
	}
	put_be16(r, sizeof(r) - 2);
	r[2] = 0x0e;                       /* last session complete, disc finalized */
	r[3] = TRACK_DATA;                 /* first track on the disc */
	r[4] = 1;                          /* sessions */
	r[5] = TRACK_DATA;                 /* first and last track in the last session */
	r[6] = TRACK_DATA;
	r[7] = 0x20;                       /* unrestricted use */
	put_be32(r + 16, 0xffffffffu);     /* no next session can start: finalized */
	put_be32(r + 20, 0xffffffffu);
	reply(c, r, sizeof(r), get_be16(c->cdb + 7));
}

/* Bytes 2-5 name the track by LBA (type 0), track number (1) or session number (2). */
static bool names_the_data_track(struct atapi_cmd *c)
{
	uint32_t number = get_be32(c->cdb + 2);
	switch (c->cdb[1] & 3) {
	case 0: return number < c->d->sectors;
	case 1: return number == TRACK_DATA;
	case 2: return number == 1;
	default: return false;
	}
}

static void cmd_read_track_information(struct atapi_cmd *c)
{
	uint8_t r[36] = { 0 };
	if (!names_the_data_track(c)) {
		check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		return;
	}
	put_be16(r, sizeof(r) - 2);
	r[2] = TRACK_DATA;
	r[3] = 1;                          /* session */
	r[5] = 0x04;                       /* track mode: data, recorded uninterrupted */
	r[6] = 0x01;                       /* data mode 1 */
	put_be32(r + 8, 0);                /* track start */
	put_be32(r + 24, c->d->sectors > 0xffffffffu ? 0xffffffffu : (uint32_t)c->d->sectors);
	reply(c, r, sizeof(r), get_be16(c->cdb + 7));
}

/* ---- GET CONFIGURATION: profiles and features (MMC-5 5.2, 5.3) ------------------------ */

/* A feature descriptor's header: code, version/persistent/current, additional length. */
static uint32_t feature_header(uint8_t *p, uint16_t code, unsigned version, bool persistent,
			       bool current, uint8_t length)
{
	memset(p, 0, 4 + length);
	put_be16(p, code);
	p[2] = (uint8_t)(version << 2 | persistent << 1 | current);
	p[3] = length;
	return 4 + length;
}

static uint32_t feature_profile_list(uint8_t *p, const struct ata_drive *d)
{
	uint32_t n = feature_header(p, 0x0000, 0, true, true, 8);
	put_be16(p + 4, PROFILE_DVD_ROM);
	p[6] = d->blk && is_dvd(d);        /* "current profile" bit */
	put_be16(p + 8, PROFILE_CD_ROM);
	p[10] = d->blk && !is_dvd(d);
	return n;
}

static uint32_t feature_core(uint8_t *p, const struct ata_drive *d)
{
	(void)d;
	uint32_t n = feature_header(p, 0x0001, 2, true, true, 8);
	put_be32(p + 4, 2);                /* physical interface: ATAPI */
	p[8] = 0x01;                       /* DBE: reports device busy events */
	return n;
}

static uint32_t feature_morphing(uint8_t *p, const struct ata_drive *d)
{
	(void)d;
	return feature_header(p, 0x0002, 1, true, true, 4);   /* polled events only */
}

static uint32_t feature_removable_medium(uint8_t *p, const struct ata_drive *d)
{
	(void)d;
	uint32_t n = feature_header(p, 0x0003, 0, true, true, 4);
	p[4] = 0x29;                       /* tray loader, eject, lock */
	return n;
}

static uint32_t feature_random_readable(uint8_t *p, const struct ata_drive *d)
{
	uint32_t n = feature_header(p, 0x0010, 0, false, d->blk != NULL, 8);
	put_be32(p + 4, ATAPI_SECTOR_SIZE);
	put_be16(p + 8, is_dvd(d) ? 16 : 1);   /* blocking: sectors per ECC block */
	return n;
}

static uint32_t feature_cd_read(uint8_t *p, const struct ata_drive *d)
{
	return feature_header(p, 0x001e, 2, false, d->blk && !is_dvd(d), 4);
}

static uint32_t feature_dvd_read(uint8_t *p, const struct ata_drive *d)
{
	return feature_header(p, 0x001f, 1, false, d->blk && is_dvd(d), 4);
}

static uint32_t (*const features[])(uint8_t *, const struct ata_drive *) = {
	feature_profile_list, feature_core, feature_morphing, feature_removable_medium,
	feature_random_readable, feature_cd_read, feature_dvd_read,
};

/* RT (byte 1) 0: every feature from the starting one; 1: only current ones; 2: just it. */
static void cmd_get_configuration(struct atapi_cmd *c)
{
	uint8_t r[REPLY_MAX] = { 0 };
	unsigned rt = c->cdb[1] & 3;
	uint16_t start = get_be16(c->cdb + 2);
	uint32_t n = 8;
	if (rt == 3) {
		check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		return;
	}
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		uint32_t len = features[i](r + n, c->d);
		uint16_t code = get_be16(r + n);
		bool current = r[n + 2] & 1;
		bool wanted = rt == 2 ? code == start : code >= start && (rt == 0 || current);
		if (wanted)
			n += len;
		else
			memset(r + n, 0, len);
	}
	put_be32(r, n - 4);                /* data length: the bytes after itself */
	put_be16(r + 6, !c->d->blk ? PROFILE_NONE : is_dvd(c->d) ? PROFILE_DVD_ROM : PROFILE_CD_ROM);
	reply(c, r, n, get_be16(c->cdb + 7));
}

/* ---- events, mechanism, and the commands that only say yes ---------------------------- */

#define EVENT_CLASS_MEDIA     4
#define EVENT_CLASS_MEDIA_BIT (1u << EVENT_CLASS_MEDIA)
#define EVENT_NEA	      0x80   /* no event available (of the classes asked for) */

/* Polled mode only: the guest asks "what happened?" and the drive answers at once. */
static void cmd_get_event_status(struct atapi_cmd *c)
{
	uint8_t r[8] = { 0 };
	uint32_t n = 4;
	if (!(c->cdb[1] & 1)) {            /* asynchronous notification: not offered */
		check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		return;
	}
	r[3] = EVENT_CLASS_MEDIA_BIT;      /* the classes this drive reports */
	if (c->cdb[4] & EVENT_CLASS_MEDIA_BIT) {
		r[2] = EVENT_CLASS_MEDIA;
		r[4] = 0;                  /* event: no change (the disc never changes) */
		r[5] = c->d->blk ? 0x02 : 0x00;   /* media present, tray closed */
		n += 4;
	} else {
		r[2] = EVENT_NEA;
	}
	put_be16(r, n - 2);
	reply(c, r, n, get_be16(c->cdb + 7));
}

/* No changer, tray closed, nothing moving. */
static void cmd_mechanism_status(struct atapi_cmd *c)
{
	uint8_t r[8] = { 0 };
	reply(c, r, sizeof(r), get_be16(c->cdb + 8));
}

/*
 * PREVENT ALLOW MEDIUM REMOVAL, START STOP UNIT, SET CD SPEED: the disc is an image file
 * that never spins, locks or leaves, so these succeed and change nothing.
 */
static void cmd_accept(struct atapi_cmd *c)
{
	(void)c;
}

/* ---- dispatch ------------------------------------------------------------------------- */

struct atapi_command {
	uint8_t opcode;
	void (*run)(struct atapi_cmd *c);
	bool needs_medium;       /* NOT READY without a disc */
	bool past_attention;     /* runs, and leaves a pending UNIT ATTENTION for later (MMC) */
};

static const struct atapi_command commands[] = {
	{ SCSI_TEST_UNIT_READY, cmd_test_unit_ready, true, false },
	{ SCSI_REQUEST_SENSE, cmd_request_sense, false, true },
	{ SCSI_INQUIRY, cmd_inquiry, false, true },
	{ SCSI_MODE_SENSE_6, cmd_mode_sense_6, false, false },
	{ SCSI_START_STOP_UNIT, cmd_accept, false, false },
	{ SCSI_PREVENT_ALLOW, cmd_accept, false, false },
	{ SCSI_READ_CAPACITY_10, cmd_read_capacity, true, false },
	{ SCSI_READ_10, cmd_read_10, true, false },
	{ SCSI_SEEK_10, cmd_seek_10, true, false },
	{ MMC_READ_TOC_PMA_ATIP, cmd_read_toc, true, false },
	{ MMC_GET_CONFIGURATION, cmd_get_configuration, false, true },
	{ MMC_GET_EVENT_STATUS, cmd_get_event_status, false, true },
	{ MMC_READ_DISC_INFORMATION, cmd_read_disc_information, true, false },
	{ MMC_READ_TRACK_INFORMATION, cmd_read_track_information, true, false },
	{ SCSI_MODE_SENSE_10, cmd_mode_sense_10, false, false },
	{ SCSI_REPORT_LUNS, cmd_report_luns, false, true },
	{ SCSI_READ_12, cmd_read_12, true, false },
	{ MMC_SET_CD_SPEED, cmd_accept, false, false },
	{ MMC_MECHANISM_STATUS, cmd_mechanism_status, false, false },
	{ MMC_READ_CD, cmd_read_cd, true, false },
};

static const struct atapi_command *find_command(uint8_t opcode)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].opcode == opcode)
			return &commands[i];
	return NULL;
}

/* What must hold before a command runs: a known opcode, no pending attention, a disc. */
static bool may_run(struct atapi_cmd *c, const struct atapi_command *cmd)
{
	struct ata_drive *d = c->d;
	if (!cmd) {
		fprintf(stderr, "%s: ATAPI command 0x%02x not supported\n", d->name, c->cdb[0]);
		check_condition(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
		return false;
	}
	if (d->unit_attention && !cmd->past_attention) {
		d->unit_attention = false;
		check_condition(c, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED);
		return false;
	}
	if (cmd->needs_medium && !d->blk) {
		check_condition(c, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
		return false;
	}
	return true;
}

uint32_t atapi_execute(struct ata_drive *d, const uint8_t cdb[12], struct ata_taskfile *tf,
		       const struct ata_sg *sg, uint32_t max_bytes)
{
	struct atapi_cmd c = { .d = d, .cdb = cdb, .sg = sg, .max_bytes = max_bytes };
	const struct atapi_command *cmd = find_command(cdb[0]);
	if (may_run(&c, cmd)) {
		/* Sense describes the last command; REQUEST SENSE is the one that reads it. */
		if (cmd->run != cmd_request_sense)
			set_sense(d, SENSE_NONE, ASC_NONE, 0);
		cmd->run(&c);
	}
	if (c.failed) {
		tf->status = ATA_STATUS_DRDY | ATA_STATUS_ERR;
		tf->error = (uint8_t)(d->sense_key << 4 | ATA_ERROR_ABRT);
	} else {
		tf->status = ATA_STATUS_DRDY | ATA_STATUS_DSC;
		tf->error = 0;
	}
	return c.moved;
}
