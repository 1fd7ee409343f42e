/*
 * usb_storage.h - a USB stick: the mass-storage class, Bulk-Only Transport, SCSI commands.
 *
 * Bulk-Only Transport (USB Mass Storage Class BOT 1.0) carries SCSI over two bulk endpoints in
 * three phases: the host sends a 31-byte Command Block Wrapper (CBW: signature "USBC", a tag,
 * the data length and direction, the SCSI CDB) on bulk OUT, then the data moves on bulk IN or
 * OUT, then the device answers a 13-byte Command Status Wrapper (CSW: "USBS", the same tag,
 * the residue, a status) on bulk IN. A CBW that is not valid (wrong signature or length)
 * makes the device stall both endpoints until the host's Reset Recovery (BOT 6.6.1).
 *
 * The SCSI commands are the ones Linux, SeaBIOS and QEMU's own usb-storage use (SPC-4/SBC-3):
 * INQUIRY, TEST UNIT READY, REQUEST SENSE, READ CAPACITY (10)/(16), READ/WRITE (10)/(16),
 * MODE SENSE (6)/(10), SYNCHRONIZE CACHE, PREVENT ALLOW MEDIUM REMOVAL, START STOP UNIT.
 * The disk's bytes are a block_dev (block/block.h: raw or QCOW2), 512-byte sectors.
 */
#ifndef USB_STORAGE_H
#define USB_STORAGE_H

#include "usb.h"
#include "guest_error.h"

struct block_dev;

#define BOT_CBW_LEN 31
#define BOT_CSW_LEN 13
#define BOT_CBW_SIGNATURE 0x43425355u   /* "USBC" little-endian */
#define BOT_CSW_SIGNATURE 0x53425355u   /* "USBS" */
#define BOT_EP_OUT 0x02
#define BOT_EP_IN  0x81

enum bot_state { BOT_CBW, BOT_DATA_IN, BOT_DATA_OUT, BOT_CSW, BOT_STALLED };
enum bot_status { BOT_PASSED = 0, BOT_FAILED = 1, BOT_PHASE_ERROR = 2 };

struct usb_storage {
	struct usb_device dev;            /* first: the core hands this back */
	struct block_dev *disk;
	enum bot_state state;
	uint32_t tag, expected;           /* the CBW's tag and dCBWDataTransferLength */
	uint32_t residue;                 /* of expected, what the command's data did not fill */
	uint32_t host_left;               /* of expected, what the host has not yet moved */
	enum bot_status status;
	/* A data phase: a buffer (small answers) or the disk (READ/WRITE). */
	uint8_t reply[256];
	uint32_t reply_len, reply_pos;
	bool disk_io;
	uint64_t disk_offset;             /* bytes */
	uint32_t disk_left;               /* bytes the command still moves */
	uint8_t sense_key, asc, ascq;     /* for REQUEST SENSE */
	struct guest_errors errors;      /* lines said about the guest (guest_error.h) */
	bool super_speed;
};

/* A stick on disk (NULL: no medium); a high-speed device. */
void usb_storage_init(struct usb_storage *s, struct block_dev *disk);
/* The same as a full-speed device (64-byte bulk packets): for a USB 1.1 controller (UHCI). */
void usb_storage_full_speed(struct usb_storage *s);

#endif
