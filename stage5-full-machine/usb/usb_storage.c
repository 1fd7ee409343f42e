/*
 * usb_storage.c - the USB stick: Bulk-Only Transport's three phases and the SCSI commands.
 *
 * Teaches: a state machine driven by the host's transfers (CBW -> data -> CSW), how the
 * device and the host agree on how much data moves (dCBWDataTransferLength, the residue, a
 * phase error when they disagree), and SCSI block commands as a USB stick answers them.
 * The data phase of READ/WRITE goes straight between the transfer's buffer and the block
 * layer, a TD (or a TRB chain) at a time: no copy of the whole command is made.
 */
#include "usb_storage.h"

#include "block/block.h"
#include "byteorder.h"
#include "guest_error.h"

#include <stdio.h>
#include <string.h>

#define SECTOR 512u

/* SCSI operation codes (SPC-4, SBC-3). */
enum {
	SCSI_TEST_UNIT_READY = 0x00, SCSI_REQUEST_SENSE = 0x03, SCSI_INQUIRY = 0x12,
	SCSI_MODE_SENSE_6 = 0x1a, SCSI_START_STOP = 0x1b, SCSI_PREVENT_ALLOW = 0x1e,
	SCSI_READ_CAPACITY_10 = 0x25, SCSI_READ_10 = 0x28, SCSI_WRITE_10 = 0x2a,
	SCSI_VERIFY_10 = 0x2f, SCSI_SYNC_CACHE_10 = 0x35, SCSI_MODE_SENSE_10 = 0x5a,
	SCSI_READ_16 = 0x88, SCSI_WRITE_16 = 0x8a, SCSI_SYNC_CACHE_16 = 0x91,
	SCSI_SERVICE_ACTION_IN_16 = 0x9e,
};
#define SAI_READ_CAPACITY_16 0x10

/* Sense keys and additional sense codes. */
#define SENSE_NOT_READY       0x2
#define SENSE_MEDIUM_ERROR    0x3
#define SENSE_ILLEGAL_REQUEST 0x5
#define SENSE_DATA_PROTECT    0x7
#define ASC_READ_ERROR        0x11
#define ASC_WRITE_ERROR       0x0c
#define ASC_INVALID_OPCODE    0x20
#define ASC_LBA_OUT_OF_RANGE  0x21
#define ASC_INVALID_FIELD     0x24
#define ASC_WRITE_PROTECTED   0x27
#define ASC_NO_MEDIUM         0x3a

/* Class requests (BOT 3.1, 3.2). */
#define BOT_REQ_RESET       0xff
#define BOT_REQ_GET_MAX_LUN 0xfe

/* QEMU's usb-storage identity: 46f4:0001, so Linux sees what it sees under QEMU. */
static const uint8_t device_desc[18] = {
	18, USB_DT_DEVICE, 0x00, 0x02, 0, 0, 0, 64,
	0xf4, 0x46, 0x01, 0x00, 0x00, 0x00, 1, 2, 3, 1,
};

static const uint8_t config_desc[32] = {
	9, USB_DT_CONFIG, 32, 0, 1, 1, 0, 0xc0, 50,
	/* interface 0: mass storage (8), SCSI transparent (6), Bulk-Only (0x50) */
	9, USB_DT_INTERFACE, 0, 0, 2, 0x08, 0x06, 0x50, 0,
	7, USB_DT_ENDPOINT, BOT_EP_IN, 0x02, 0x00, 0x02, 0,    /* bulk IN, 512 bytes */
	7, USB_DT_ENDPOINT, BOT_EP_OUT, 0x02, 0x00, 0x02, 0,   /* bulk OUT */
};

static const uint8_t config_desc_full[32] = {
	9, USB_DT_CONFIG, 32, 0, 1, 1, 0, 0xc0, 50,
	9, USB_DT_INTERFACE, 0, 0, 2, 0x08, 0x06, 0x50, 0,
	7, USB_DT_ENDPOINT, BOT_EP_IN, 0x02, 64, 0, 0,        /* bulk IN, 64 bytes */
	7, USB_DT_ENDPOINT, BOT_EP_OUT, 0x02, 64, 0, 0,
};

static const char *const strings[] = { "QEMU", "QEMU USB HARDDRIVE", "1-0000:00:00.0-1" };

static struct usb_storage *of(struct usb_device *d)
{
	return (struct usb_storage *)d;   /* dev is the first member */
}

static void report(struct usb_storage *s, const char *what, uint32_t value)
{
	guest_error(&s->errors, "usb-storage", NULL,
		    "%s %#x: both bulk endpoints stall until a Bulk-Only reset", what, value);
}

static uint64_t sectors(const struct usb_storage *s)
{
	return s->disk ? s->disk->size / SECTOR : 0;
}

static void sense(struct usb_storage *s, uint8_t key, uint8_t asc)
{
	s->sense_key = key;
	s->asc = asc;
	s->ascq = 0;
	s->status = BOT_FAILED;
}

static void reply(struct usb_storage *s, const void *data, uint32_t len, uint32_t alloc)
{
	len = len < sizeof(s->reply) ? len : sizeof(s->reply);
	memcpy(s->reply, data, len);
	s->reply_len = len < alloc ? len : alloc;
}

static void inquiry(struct usb_storage *s, const uint8_t *cdb)
{
	uint32_t alloc = get_be16(cdb + 3);
	uint8_t data[36] = { 0x00, 0x80, 0x05, 0x02, 31 };   /* disk, removable, SPC-3 */
	if (cdb[1] & 1) {   /* EVPD: only the list of pages, which names itself */
		if (cdb[2] != 0)
			return sense(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
		uint8_t pages[5] = { 0, 0, 0, 1, 0 };
		return reply(s, pages, sizeof(pages), alloc);
	}
	memcpy(data + 8, "QEMU    QEMU HARDDISK   2.5+", 28);
	reply(s, data, sizeof(data), alloc);
}

static void mode_sense(struct usb_storage *s, const uint8_t *cdb, bool ten)
{
	/* The header only: no block descriptors, no pages (Linux then assumes write-through). */
	uint8_t wp = s->disk && s->disk->read_only ? 0x80 : 0;
	if (ten) {
		uint8_t data[8] = { 0, 6, 0, wp };
		reply(s, data, sizeof(data), get_be16(cdb + 7));
	} else {
		uint8_t data[4] = { 3, 0, wp, 0 };
		reply(s, data, sizeof(data), cdb[4]);
	}
}

static void read_capacity(struct usb_storage *s, const uint8_t *cdb, bool sixteen)
{
	uint64_t last = sectors(s) - 1;
	uint8_t data[32] = { 0 };
	if (sixteen) {
		put_be32(data, last >> 32);
		put_be32(data + 4, last);
		put_be32(data + 8, SECTOR);
		return reply(s, data, 32, get_be32(cdb + 10));
	}
	put_be32(data, last > 0xffffffffu ? 0xffffffffu : last);
	put_be32(data + 4, SECTOR);
	reply(s, data, 8, 8);
}

static void request_sense(struct usb_storage *s, const uint8_t *cdb)
{
	uint8_t data[18] = { 0x70, 0, s->sense_key, 0, 0, 0, 0, 10 };
	data[12] = s->asc;
	data[13] = s->ascq;
	s->sense_key = s->asc = s->ascq = 0;
	reply(s, data, sizeof(data), cdb[4]);
}

/* READ/WRITE (10)/(16): check the range, then the data phase moves the bytes. */
static void disk_command(struct usb_storage *s, const uint8_t *cdb, bool write, bool sixteen)
{
	uint64_t lba = sixteen ? (uint64_t)get_be32(cdb + 2) << 32 | get_be32(cdb + 6)
			       : get_be32(cdb + 2);
	uint32_t count = sixteen ? get_be32(cdb + 10) : get_be16(cdb + 7);
	if (lba > sectors(s) || count > sectors(s) - lba)
		return sense(s, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	if (write && s->disk->read_only)
		return sense(s, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED);
	if ((uint64_t)count * SECTOR > 0xffffffffu)
		return sense(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
	s->disk_io = true;
	s->disk_offset = lba * SECTOR;
	s->disk_left = count * SECTOR;
}

/* Run a CDB. Sets up the data phase (reply or disk) or the sense of a failure. */
static void scsi_command(struct usb_storage *s, const uint8_t *cdb)
{
	if (!s->disk && cdb[0] != SCSI_INQUIRY && cdb[0] != SCSI_REQUEST_SENSE)
		return sense(s, SENSE_NOT_READY, ASC_NO_MEDIUM);
	switch (cdb[0]) {
	case SCSI_TEST_UNIT_READY: case SCSI_PREVENT_ALLOW: case SCSI_START_STOP:
	case SCSI_VERIFY_10:
		return;
	case SCSI_REQUEST_SENSE:
		return request_sense(s, cdb);
	case SCSI_INQUIRY:
		return inquiry(s, cdb);
	case SCSI_MODE_SENSE_6: case SCSI_MODE_SENSE_10:
		return mode_sense(s, cdb, cdb[0] == SCSI_MODE_SENSE_10);
	case SCSI_READ_CAPACITY_10:
		return read_capacity(s, cdb, false);
	case SCSI_SERVICE_ACTION_IN_16:
		if ((cdb[1] & 0x1f) == SAI_READ_CAPACITY_16)
			return read_capacity(s, cdb, true);
		break;
	case SCSI_READ_10: case SCSI_WRITE_10:
		return disk_command(s, cdb, cdb[0] == SCSI_WRITE_10, false);
	case SCSI_READ_16: case SCSI_WRITE_16:
		return disk_command(s, cdb, cdb[0] == SCSI_WRITE_16, true);
	case SCSI_SYNC_CACHE_10: case SCSI_SYNC_CACHE_16:
		if (block_flush(s->disk))
			sense(s, SENSE_MEDIUM_ERROR, ASC_WRITE_ERROR);
		return;
	}
	sense(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
}

static bool is_write(const uint8_t *cdb)
{
	return cdb[0] == SCSI_WRITE_10 || cdb[0] == SCSI_WRITE_16;
}

/* A CBW arrived on bulk OUT: check it (BOT 6.2), run its command, pick the next phase. */
static int command_block(struct usb_storage *s, const uint8_t *buf, size_t len)
{
	uint32_t sig = len >= 4 ? buf[0] | buf[1] << 8 | buf[2] << 16 | (uint32_t)buf[3] << 24 : 0;
	unsigned cb_len = len == BOT_CBW_LEN ? buf[14] & 0x1f : 0;
	if (len != BOT_CBW_LEN || sig != BOT_CBW_SIGNATURE || buf[13] != 0 || cb_len < 1 ||
	    cb_len > 16) {
		if (len != BOT_CBW_LEN)
			report(s, "CBW of length", len);
		else if (sig != BOT_CBW_SIGNATURE)
			report(s, "CBW with signature", sig);
		else
			report(s, "CBW with LUN/CDB length", (uint32_t)buf[13] << 8 | buf[14]);
		s->state = BOT_STALLED;
		usb_halt(&s->dev, BOT_EP_IN);
		usb_halt(&s->dev, BOT_EP_OUT);
		return USB_RET_STALL;
	}
	s->tag = buf[4] | buf[5] << 8 | buf[6] << 16 | (uint32_t)buf[7] << 24;
	s->expected = buf[8] | buf[9] << 8 | buf[10] << 16 | (uint32_t)buf[11] << 24;
	bool host_in = buf[12] & 0x80;
	s->residue = s->host_left = s->expected;
	s->status = BOT_PASSED;
	s->reply_len = s->reply_pos = 0;
	s->disk_io = false;
	s->disk_left = 0;
	const uint8_t *cdb = buf + 15;
	scsi_command(s, cdb);
	bool dev_out = s->disk_io && is_write(cdb);
	uint32_t dev_len = s->disk_io ? s->disk_left : s->reply_len;
	if (s->expected == 0) {
		s->state = BOT_CSW;
		if (dev_len && s->status == BOT_PASSED)
			s->status = BOT_PHASE_ERROR;   /* Hn < Di/Do: BOT case 2, 3 */
	} else if (dev_len == 0) {
		s->state = host_in ? BOT_DATA_IN : BOT_DATA_OUT;   /* all padding: cases 4, 9 */
	} else if (host_in == dev_out) {
		s->state = BOT_CSW;                /* the directions disagree: BOT cases 8, 10 */
		s->status = BOT_PHASE_ERROR;
		s->host_left = 0;
	} else {
		if (s->disk_io && dev_len > s->expected)
			s->status = BOT_PHASE_ERROR;   /* Hi < Di, Ho < Do: cases 7, 13 */
		if (s->disk_io && dev_len > s->expected)
			s->disk_left = s->expected;
		s->state = dev_out ? BOT_DATA_OUT : BOT_DATA_IN;
	}
	return len;
}

/*
 * The data phase moves what the host asked for (dCBWDataTransferLength), no more: past the
 * command's own data an IN phase is padded with zeros, an OUT phase's extra bytes dropped, as
 * BOT 6.7 lets a device do (cases 4, 5, 9, 11); the CSW's residue says how much was real.
 */
static int data_in(struct usb_storage *s, uint8_t *buf, size_t len)
{
	uint32_t take = len < s->host_left ? len : s->host_left, n;
	if (s->disk_io) {
		n = take < s->disk_left ? take : s->disk_left;
		if (n && block_read(s->disk, buf, s->disk_offset, n)) {
			memset(buf, 0, n);
			sense(s, SENSE_MEDIUM_ERROR, ASC_READ_ERROR);
		}
		s->disk_offset += n;
		s->disk_left -= n;
	} else {
		uint32_t left = s->reply_len - s->reply_pos;
		n = take < left ? take : left;
		memcpy(buf, s->reply + s->reply_pos, n);
		s->reply_pos += n;
	}
	memset(buf + n, 0, take - n);
	s->residue -= n;
	s->host_left -= take;
	if (!s->host_left)
		s->state = BOT_CSW;
	return take;
}

static int data_out(struct usb_storage *s, const uint8_t *buf, size_t len)
{
	uint32_t take = len < s->host_left ? len : s->host_left;
	uint32_t n = take < s->disk_left ? take : s->disk_left;
	if (n && block_write(s->disk, buf, s->disk_offset, n))
		sense(s, SENSE_MEDIUM_ERROR, ASC_WRITE_ERROR);
	s->disk_offset += n;
	s->disk_left -= n;
	s->residue -= n;
	s->host_left -= take;
	if (!s->host_left)
		s->state = BOT_CSW;
	return take;
}

static int status_wrapper(struct usb_storage *s, uint8_t *buf, size_t len)
{
	if (len < BOT_CSW_LEN)
		return USB_RET_STALL;
	uint8_t csw[BOT_CSW_LEN] = { 'U', 'S', 'B', 'S' };
	for (int i = 0; i < 4; i++) {
		csw[4 + i] = s->tag >> (8 * i);
		csw[8 + i] = s->residue >> (8 * i);
	}
	csw[12] = s->status;
	memcpy(buf, csw, BOT_CSW_LEN);
	s->state = BOT_CBW;
	return BOT_CSW_LEN;
}

static int transfer(struct usb_device *d, unsigned ep, uint8_t *buf, size_t len)
{
	struct usb_storage *s = of(d);
	bool in = ep & USB_DIR_IN;
	if (ep != BOT_EP_IN && ep != BOT_EP_OUT)
		return USB_RET_STALL;
	switch (s->state) {
	case BOT_CBW:
		return in ? USB_RET_STALL : command_block(s, buf, len);
	case BOT_DATA_IN:
		return in ? data_in(s, buf, len) : USB_RET_STALL;
	case BOT_DATA_OUT:
		return in ? USB_RET_STALL : data_out(s, buf, len);
	case BOT_CSW:
		return in ? status_wrapper(s, buf, len) : USB_RET_STALL;
	case BOT_STALLED:
		break;
	}
	return USB_RET_STALL;
}

static void bot_reset(struct usb_device *d)
{
	struct usb_storage *s = of(d);
	s->state = BOT_CBW;
	s->disk_io = false;
	s->reply_len = s->reply_pos = 0;
}

static int class_request(struct usb_device *d, const struct usb_setup *r, uint8_t *data)
{
	if ((r->request_type & USB_TYPE_MASK) != USB_TYPE_CLASS)
		return USB_RET_STALL;
	if (r->request == BOT_REQ_RESET && !(r->request_type & USB_DIR_IN)) {
		bot_reset(d);   /* Reset Recovery: the host clears both halts next */
		return 0;
	}
	if (r->request == BOT_REQ_GET_MAX_LUN && (r->request_type & USB_DIR_IN)) {
		if (r->length < 1)
			return 0;
		data[0] = 0;    /* one LUN */
		return 1;
	}
	return USB_RET_STALL;
}

void usb_storage_full_speed(struct usb_storage *s)
{
	s->dev.speed = USB_SPEED_FULL;
	s->dev.config_desc = config_desc_full;
}

static const struct usb_device_ops storage_ops = { class_request, transfer, bot_reset };

void usb_storage_init(struct usb_storage *s, struct block_dev *disk)
{
	memset(s, 0, sizeof(*s));
	s->disk = disk;
	s->dev.name = "usb-storage";
	s->dev.speed = USB_SPEED_HIGH;
	s->dev.device_desc = device_desc;
	s->dev.config_desc = config_desc;
	s->dev.config_len = sizeof(config_desc);
	s->dev.strings = strings;
	s->dev.nstrings = 3;
	s->dev.ops = &storage_ops;
	usb_device_init(&s->dev);
	bot_reset(&s->dev);
}
