/*
 * test_stage5_atapi.c - unit tests of the ATAPI CD-ROM command set (stage5-full-machine/
 * storage/atapi.c), with no controller in between: each test hands atapi_execute a CDB and checks
 * the status and error registers, the sense that REQUEST SENSE then reports, and the exact
 * bytes that reach the guest. The disc is a temp file of a few 2048-byte sectors whose every
 * byte is known; the guest's buffer is a fake scatter list that can also play a bad table.
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
#include "storage/ata.h"

#define DISC_SECTORS 20
#define GUEST_BUF    (64 * 1024)

#define STATUS_OK    (ATA_STATUS_DRDY | ATA_STATUS_DSC)
#define STATUS_CHECK (ATA_STATUS_DRDY | ATA_STATUS_ERR)

/* ---- the fake guest buffer: what a transport's table would be ------------------------- */

struct guest {
	uint8_t buf[GUEST_BUF + 16];   /* 16 guard bytes past the end, never to be written */
	size_t used;
	size_t capacity;               /* the table's size: a write past it fails */
};

static bool fake_to_guest(void *opaque, const void *buf, size_t len)
{
	struct guest *g = opaque;
	if (len > g->capacity - g->used)
		return false;
	memcpy(g->buf + g->used, buf, len);
	g->used += len;
	return true;
}

static bool fake_from_guest(void *opaque, void *buf, size_t len)
{
	(void)opaque;
	(void)buf;
	(void)len;
	fail_msg("an ATAPI command read data from the guest");
	return false;
}

/* ---- the disc ------------------------------------------------------------------------- */

static char disc_path[64];
static struct block_dev *disc;

/* Byte i of sector s: the LBA in its first byte, then a pattern no two sectors share. */
static uint8_t disc_byte(uint64_t sector, size_t i)
{
	return i == 0 ? (uint8_t)sector : (uint8_t)(sector * 31 + i * 7);
}

static int make_disc(void **state)
{
	(void)state;
	char why[BLOCK_WHY_MAX];
	uint8_t sector[ATAPI_SECTOR_SIZE];
	strcpy(disc_path, "/tmp/test_stage5_atapi.XXXXXX");
	int fd = mkstemp(disc_path);
	if (fd < 0)
		return -1;
	for (uint64_t s = 0; s < DISC_SECTORS; s++) {
		for (size_t i = 0; i < sizeof(sector); i++)
			sector[i] = disc_byte(s, i);
		if (write(fd, sector, sizeof(sector)) != (ssize_t)sizeof(sector))
			return -1;
	}
	close(fd);
	return block_open(disc_path, BLOCK_RDONLY | BLOCK_FORMAT_RAW, &disc, why, sizeof(why));
}

static int remove_disc(void **state)
{
	(void)state;
	block_close(disc);
	unlink(disc_path);
	return 0;
}

/* ---- running one command -------------------------------------------------------------- */

static struct ata_drive drive;
static struct guest guest;
static struct ata_taskfile tf;
static bool quiet;   /* the random CDBs: thousands of expected error lines, not shown */

static void new_drive(void)
{
	memset(&drive, 0, sizeof(drive));
	drive.present = true;
	drive.media = ATA_MEDIA_CDROM;
	drive.blk = disc;
	drive.sectors = DISC_SECTORS;
	drive.name = "test-cd";
}

static int fresh_drive(void **state)
{
	(void)state;
	new_drive();
	return 0;
}

/* Run one CDB (given as up to 12 bytes) into a fresh guest buffer; returns bytes moved. */
static uint32_t run_limited(const uint8_t *cdb_bytes, size_t cdb_len, size_t capacity,
			    uint32_t max_bytes)
{
	uint8_t cdb[12] = { 0 };
	memcpy(cdb, cdb_bytes, cdb_len);
	memset(&guest, 0xee, sizeof(guest));
	guest.used = 0;
	guest.capacity = capacity;
	memset(&tf, 0, sizeof(tf));
	tf.command = 0xa0;
	struct ata_sg sg = { fake_to_guest, fake_from_guest, &guest };
	int saved_stderr = -1;
	if (quiet) {
		fflush(stderr);
		saved_stderr = dup(2);
		int null_fd = open("/dev/null", O_WRONLY);
		dup2(null_fd, 2);
		close(null_fd);
	}
	uint32_t moved = atapi_execute(&drive, cdb, &tf, &sg, max_bytes);
	if (saved_stderr >= 0) {
		fflush(stderr);
		dup2(saved_stderr, 2);
		close(saved_stderr);
	}
	assert_int_equal(moved, guest.used);
	for (int i = 0; i < 16; i++)
		assert_int_equal(guest.buf[GUEST_BUF + i], 0xee);
	return moved;
}

#define RUN(...)                                                                  \
	({                                                                        \
		const uint8_t cdb_[] = { __VA_ARGS__ };                           \
		run_limited(cdb_, sizeof(cdb_), GUEST_BUF, GUEST_BUF);            \
	})

/* REQUEST SENSE (allocation length 18): key, asc, ascq packed as 0xKKAAQQ. */
static unsigned sense(void)
{
	uint8_t saved[64];
	memcpy(saved, guest.buf, sizeof(saved));
	assert_int_equal(RUN(0x03, 0, 0, 0, 18), 18);
	assert_int_equal(tf.status, STATUS_OK);
	assert_int_equal(guest.buf[0], 0x70);
	assert_int_equal(guest.buf[7], 10);
	unsigned s = (unsigned)guest.buf[2] << 16 | guest.buf[12] << 8 | guest.buf[13];
	memcpy(guest.buf, saved, sizeof(saved));
	return s;
}

static void assert_check_condition(unsigned key, unsigned asc)
{
	assert_int_equal(tf.status, STATUS_CHECK);
	assert_int_equal(tf.error, key << 4 | ATA_ERROR_ABRT);
	assert_int_equal(sense(), key << 16 | asc << 8);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void assert_sectors(const uint8_t *buf, uint64_t first, unsigned count)
{
	for (unsigned s = 0; s < count; s++)
		for (size_t i = 0; i < ATAPI_SECTOR_SIZE; i++)
			if (buf[s * ATAPI_SECTOR_SIZE + i] != disc_byte(first + s, i))
				fail_msg("sector %llu byte %zu differs",
					 (unsigned long long)(first + s), i);
}

/* ---- identity, readiness, sense ------------------------------------------------------- */

static void test_unit_ready_and_sense_cleared(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x00), 0);
	assert_int_equal(tf.status, STATUS_OK);
	assert_int_equal(tf.error, 0);
	assert_int_equal(sense(), 0);
}

static void test_unknown_opcode_is_illegal_request(void **state)
{
	(void)state;
	assert_int_equal(RUN(0xff, 1, 2, 3), 0);
	assert_check_condition(0x5, 0x20);
	assert_int_equal(sense(), 0);   /* read once, then cleared */
}

static void test_request_sense_allocation_length(void **state)
{
	(void)state;
	RUN(0xff);
	assert_int_equal(RUN(0x03, 0, 0, 0, 8), 8);   /* a short buffer: a prefix */
	assert_int_equal(guest.buf[2], 0x5);
	assert_int_equal(RUN(0x03, 0, 0, 0, 0), 0);   /* allocation length 0: nothing */
	assert_int_equal(tf.status, STATUS_OK);
	assert_int_equal(RUN(0x03, 0, 0, 0, 0xff), 18);
}

static void test_inquiry(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x12, 0, 0, 0, 96), 36);
	assert_int_equal(tf.status, STATUS_OK);
	assert_int_equal(guest.buf[0], 0x05);       /* CD/DVD device */
	assert_int_equal(guest.buf[1], 0x80);       /* removable */
	assert_int_equal(guest.buf[4], 31);
	assert_memory_equal(guest.buf + 8, "MINIVSR ", 8);
	assert_memory_equal(guest.buf + 16, "Virtual DVD-ROM ", 16);
	assert_int_equal(RUN(0x12, 0, 0, 0, 5), 5);  /* the header alone */
	assert_int_equal(RUN(0x12, 0, 0, 0xff, 0xff), 36);
}

static void test_inquiry_evpd_is_refused(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x12, 1, 0x80, 0, 96), 0);
	assert_check_condition(0x5, 0x24);
	RUN(0x12, 0, 0x83, 0, 96);                   /* a page code without EVPD */
	assert_check_condition(0x5, 0x24);
}

static void test_unit_attention_reported_once(void **state)
{
	(void)state;
	drive.unit_attention = true;
	RUN(0x12, 0, 0, 0, 36);                      /* INQUIRY passes it by */
	assert_int_equal(tf.status, STATUS_OK);
	RUN(0x00);
	assert_check_condition(0x6, 0x28);
	RUN(0x00);
	assert_int_equal(tf.status, STATUS_OK);
	drive.unit_attention = true;
	assert_int_equal(sense(), 0x062800);         /* REQUEST SENSE reports it and clears it */
	RUN(0x00);
	assert_int_equal(tf.status, STATUS_OK);
}

static void test_no_disc_is_not_ready(void **state)
{
	(void)state;
	drive.blk = NULL;
	drive.sectors = 0;
	RUN(0x00);
	assert_check_condition(0x2, 0x3a);
	assert_int_equal(RUN(0x28, 0, 0, 0, 0, 0, 0, 0, 1), 0);
	assert_check_condition(0x2, 0x3a);
	assert_int_equal(RUN(0x46, 0, 0, 0, 0, 0, 0, 0, 8), 8);
	assert_int_equal(be16(guest.buf + 6), 0);    /* no current profile */
}

/* ---- reading -------------------------------------------------------------------------- */

static void test_read_capacity(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x25), 8);
	assert_int_equal(be32(guest.buf), DISC_SECTORS - 1);
	assert_int_equal(be32(guest.buf + 4), 2048);
}

static void test_read_10(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x28, 0, 0, 0, 0, 3, 0, 0, 2), 2 * 2048);
	assert_int_equal(tf.status, STATUS_OK);
	assert_sectors(guest.buf, 3, 2);
	assert_int_equal(RUN(0x28, 0, 0, 0, 0, 16, 0, 0, 4), 4 * 2048);   /* the last four */
	assert_sectors(guest.buf, 16, 4);
}

static void test_read_12_and_many_sectors(void **state)
{
	(void)state;
	/* 20 sectors: more than one bounce buffer's worth */
	assert_int_equal(RUN(0xa8, 0, 0, 0, 0, 0, 0, 0, 0, DISC_SECTORS), DISC_SECTORS * 2048);
	assert_sectors(guest.buf, 0, DISC_SECTORS);
	assert_int_equal(RUN(0xa8, 0, 0, 0, 0, 16, 0, 0, 0, 1), 2048);
	assert_sectors(guest.buf, 16, 1);
}

static void test_read_zero_sectors_moves_nothing(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x28, 0, 0, 0, 0, 5, 0, 0, 0), 0);
	assert_int_equal(tf.status, STATUS_OK);
}

static void test_read_past_end_is_lba_out_of_range(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x28, 0, 0, 0, 0, 19, 0, 0, 2), 0);   /* one sector too many */
	assert_check_condition(0x5, 0x21);
	assert_int_equal(RUN(0x28, 0, 0, 0, 0, 20, 0, 0, 1), 0);
	assert_check_condition(0x5, 0x21);
	assert_int_equal(RUN(0x28, 0, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff), 0);
	assert_check_condition(0x5, 0x21);
	/* READ(12): LBA + count wraps 32 bits; must not wrap into the disc */
	assert_int_equal(RUN(0xa8, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2), 0);
	assert_check_condition(0x5, 0x21);
	assert_int_equal(RUN(0xa8, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff), 0);
	assert_check_condition(0x5, 0x21);
}

/* A read bigger than the controller's table (a short PRDT) fails: nothing moves, ABORTED. */
static void test_read_larger_than_transport_aborts(void **state)
{
	(void)state;
	const uint8_t cdb[] = { 0x28, 0, 0, 0, 0, 2, 0, 0, 3 };
	assert_int_equal(run_limited(cdb, sizeof(cdb), GUEST_BUF, 1000), 0);
	assert_int_equal(tf.status, STATUS_CHECK);
	assert_int_equal(sense() >> 16, 0xb);        /* ABORTED COMMAND */
	assert_int_equal(run_limited(cdb, sizeof(cdb), GUEST_BUF, 3 * 2048), 3 * 2048);
	assert_int_equal(tf.status, STATUS_OK);
	for (size_t i = 0; i < 3 * 2048; i++)
		assert_int_equal(guest.buf[i], disc_byte(2 + i / 2048, i % 2048));
}

static void test_bad_guest_table_aborts(void **state)
{
	(void)state;
	const uint8_t read[] = { 0x28, 0, 0, 0, 0, 2, 0, 0, 3 };
	assert_int_equal(run_limited(read, sizeof(read), 100, GUEST_BUF), 0);
	assert_int_equal(tf.status, STATUS_CHECK);
	assert_true(tf.error & ATA_ERROR_ABRT);
	assert_int_equal(sense() >> 16, 0xb);        /* ABORTED COMMAND */
	const uint8_t inquiry[] = { 0x12, 0, 0, 0, 36 };
	assert_int_equal(run_limited(inquiry, sizeof(inquiry), 10, GUEST_BUF), 0);
	assert_int_equal(tf.status, STATUS_CHECK);
}

static void test_read_cd_user_data(void **state)
{
	(void)state;
	assert_int_equal(RUN(0xbe, 0, 0, 0, 0, 7, 0, 0, 2, 0x10), 2 * 2048);
	assert_sectors(guest.buf, 7, 2);
	assert_int_equal(RUN(0xbe, 0, 0, 0, 0, 7, 0, 0, 2, 0x00), 0);   /* no parts: no data */
	assert_int_equal(tf.status, STATUS_OK);
	RUN(0xbe, 0, 0, 0, 0, 7, 0, 0, 1, 0xf8);     /* raw sectors: not offered */
	assert_check_condition(0x5, 0x24);
	RUN(0xbe, 1 << 2, 0, 0, 0, 7, 0, 0, 1, 0x10);   /* CD-DA sectors on a data track */
	assert_check_condition(0x5, 0x64);
	RUN(0xbe, 0, 0, 0, 0, 19, 0xff, 0xff, 0xff, 0x10);
	assert_check_condition(0x5, 0x21);
}

static void test_partial_last_sector_reads_as_zeros(void **state)
{
	(void)state;
	drive.sectors = DISC_SECTORS + 1;            /* as if the image ended mid-sector */
	assert_int_equal(RUN(0x28, 0, 0, 0, 0, DISC_SECTORS - 1, 0, 0, 2), 2 * 2048);
	assert_int_equal(tf.status, STATUS_OK);
	assert_sectors(guest.buf, DISC_SECTORS - 1, 1);
	for (size_t i = 0; i < 2048; i++)
		assert_int_equal(guest.buf[2048 + i], 0);
}

static void test_seek(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x2b, 0, 0, 0, 0, 19), 0);
	assert_int_equal(tf.status, STATUS_OK);
	RUN(0x2b, 0, 0, 0, 0, 21);
	assert_check_condition(0x5, 0x21);
}

/* ---- mode pages ----------------------------------------------------------------------- */

static void test_mode_sense_10_capabilities(void **state)
{
	(void)state;
	uint32_t n = RUN(0x5a, 0, 0x2a, 0, 0, 0, 0, 0x01, 0x00);
	assert_int_equal(tf.status, STATUS_OK);
	assert_int_equal(n, 8 + 22);
	assert_int_equal(be16(guest.buf), n - 2);
	assert_int_equal(be16(guest.buf + 6), 0);    /* no block descriptors */
	assert_int_equal(guest.buf[8], 0x2a);
	assert_int_equal(guest.buf[9], 20);
	assert_true(guest.buf[8 + 2] & 0x08);        /* reads DVD-ROM */
	assert_int_equal(guest.buf[8 + 6] >> 5, 1);  /* tray loader */
}

static void test_mode_sense_all_pages_and_short_buffers(void **state)
{
	(void)state;
	uint32_t n = RUN(0x5a, 0, 0x3f, 0, 0, 0, 0, 0x01, 0x00);
	assert_int_equal(n, 8 + 12 + 22);
	assert_int_equal(guest.buf[8], 0x01);
	assert_int_equal(guest.buf[8 + 12], 0x2a);
	assert_int_equal(be16(guest.buf), n - 2);    /* the full length, even if truncated: */
	assert_int_equal(RUN(0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 10), 10);
	assert_int_equal(be16(guest.buf), n - 2);
	assert_int_equal(RUN(0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 0), 0);
	assert_int_equal(tf.status, STATUS_OK);
	/* MODE SENSE(6): a 4-byte header */
	assert_int_equal(RUN(0x1a, 0, 0x01, 0, 0xff), 4 + 12);
	assert_int_equal(guest.buf[0], 4 + 12 - 1);
	assert_int_equal(guest.buf[4], 0x01);
	assert_int_equal(guest.buf[5], 10);
	/* the changeable mask: the pages, all zero */
	assert_int_equal(RUN(0x1a, 0, 0x40 | 0x2a, 0, 0xff), 4 + 22);
	assert_int_equal(guest.buf[4], 0x2a);
	for (int i = 6; i < 4 + 22; i++)
		assert_int_equal(guest.buf[i], 0);
}

static void test_mode_sense_unknown_page(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x5a, 0, 0x05, 0, 0, 0, 0, 0x01, 0x00), 0);
	assert_check_condition(0x5, 0x24);
	RUN(0x1a, 0, 0xc0 | 0x2a, 0, 0xff);          /* saved values */
	assert_check_condition(0x5, 0x39);
	RUN(0x1a, 0, 0x2a, 0x01, 0xff);              /* a subpage */
	assert_check_condition(0x5, 0x24);
}

/* ---- table of contents, disc and track ------------------------------------------------ */

static void test_read_toc_lba(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24), 4 + 2 * 8);
	assert_int_equal(tf.status, STATUS_OK);
	assert_int_equal(be16(guest.buf), 18);
	assert_int_equal(guest.buf[2], 1);
	assert_int_equal(guest.buf[3], 1);
	assert_int_equal(guest.buf[5], 0x14);        /* data track */
	assert_int_equal(guest.buf[6], 1);
	assert_int_equal(be32(guest.buf + 8), 0);
	assert_int_equal(guest.buf[14], 0xaa);       /* lead-out */
	assert_int_equal(be32(guest.buf + 16), DISC_SECTORS);
	/* starting at the lead-out: only it */
	assert_int_equal(RUN(0x43, 0, 0, 0, 0, 0, 0xaa, 0, 0xff), 4 + 8);
	assert_int_equal(guest.buf[6], 0xaa);
	RUN(0x43, 0, 0, 0, 0, 0, 2, 0, 0xff);        /* no track 2 */
	assert_check_condition(0x5, 0x24);
}

static void test_read_toc_msf(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x43, 0x02, 0, 0, 0, 0, 1, 0, 0xff), 20);
	const uint8_t track1[4] = { 0, 0, 2, 0 };    /* 00:02:00 */
	const uint8_t lead_out[4] = { 0, 0, 2, DISC_SECTORS };   /* 150 + 20 frames */
	assert_memory_equal(guest.buf + 8, track1, 4);
	assert_memory_equal(guest.buf + 16, lead_out, 4);
	/* a larger disc: 4500 sectors = one minute */
	drive.sectors = 4500 - 150;
	RUN(0x43, 0x02, 0, 0, 0, 0, 0, 0, 0xff);
	const uint8_t minute[4] = { 0, 1, 0, 0 };
	assert_memory_equal(guest.buf + 16, minute, 4);
}

static void test_read_toc_session_info_and_raw(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x43, 0, 1, 0, 0, 0, 0, 0, 0xff), 12);
	assert_int_equal(be16(guest.buf), 10);
	assert_int_equal(guest.buf[2], 1);
	assert_int_equal(guest.buf[3], 1);
	assert_int_equal(guest.buf[6], 1);
	assert_int_equal(be32(guest.buf + 8), 0);
	/* the SFF-8020 form: format in byte 9 */
	assert_int_equal(RUN(0x43, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x40), 12);
	/* raw TOC: A0, A1, A2 and track 1 */
	assert_int_equal(RUN(0x43, 0x02, 2, 0, 0, 0, 0, 0x01, 0x00), 4 + 4 * 11);
	assert_int_equal(guest.buf[4 + 3], 0xa0);
	assert_int_equal(guest.buf[4 + 22 + 3], 0xa2);
	RUN(0x43, 0, 7, 0, 0, 0, 0, 0, 0xff);
	assert_check_condition(0x5, 0x24);
}

static void test_disc_and_track_information(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x51, 0, 0, 0, 0, 0, 0, 0, 0xff), 34);
	assert_int_equal(be16(guest.buf), 32);
	assert_int_equal(guest.buf[2] & 3, 2);       /* finalized */
	assert_int_equal(guest.buf[4], 1);           /* one session */
	assert_int_equal(RUN(0x52, 1, 0, 0, 0, 1, 0, 0, 0xff), 36);
	assert_int_equal(guest.buf[2], 1);
	assert_int_equal(be32(guest.buf + 24), DISC_SECTORS);
	RUN(0x52, 1, 0, 0, 0, 2, 0, 0, 0xff);        /* no track 2 */
	assert_check_condition(0x5, 0x24);
}

static void test_get_configuration(void **state)
{
	(void)state;
	uint32_t n = RUN(0x46, 0, 0, 0, 0, 0, 0, 0x01, 0x00);
	assert_int_equal(tf.status, STATUS_OK);
	assert_int_equal(be32(guest.buf), n - 4);
	assert_int_equal(be16(guest.buf + 6), 0x0008);   /* a small disc: CD-ROM */
	assert_int_equal(be16(guest.buf + 8), 0x0000);   /* the profile list comes first */
	assert_int_equal(guest.buf[11], 8);
	assert_int_equal(be16(guest.buf + 12), 0x0010);
	assert_int_equal(guest.buf[14] & 1, 0);
	assert_int_equal(be16(guest.buf + 16), 0x0008);
	assert_int_equal(guest.buf[18] & 1, 1);
	/* RT 2: just the CD Read feature */
	assert_int_equal(RUN(0x46, 2, 0x00, 0x1e, 0, 0, 0, 0x01, 0x00), 8 + 8);
	assert_int_equal(be16(guest.buf + 8), 0x001e);
	/* RT 1: the current ones from 0x10: Random Readable, CD Read (not DVD Read) */
	assert_int_equal(RUN(0x46, 1, 0x00, 0x10, 0, 0, 0, 0x01, 0x00), 8 + 12 + 8);
	/* a large disc is a DVD */
	drive.sectors = 2000000;
	RUN(0x46, 0, 0, 0, 0, 0, 0, 0, 8);
	assert_int_equal(be16(guest.buf + 6), 0x0010);
	RUN(0x46, 3, 0, 0, 0, 0, 0, 0, 8);
	assert_check_condition(0x5, 0x24);
}

static void test_event_status_polled(void **state)
{
	(void)state;
	assert_int_equal(RUN(0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8), 8);
	assert_int_equal(be16(guest.buf), 6);
	assert_int_equal(guest.buf[2], 4);           /* media class */
	assert_int_equal(guest.buf[3], 0x10);        /* supported: media */
	assert_int_equal(guest.buf[5], 0x02);        /* media present */
	assert_int_equal(RUN(0x4a, 1, 0, 0, 0x02, 0, 0, 0, 8), 4);   /* another class */
	assert_int_equal(guest.buf[2], 0x80);        /* no event available */
	RUN(0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8);        /* asynchronous */
	assert_check_condition(0x5, 0x24);
}

static void test_commands_that_only_succeed(void **state)
{
	(void)state;
	const uint8_t opcodes[] = { 0x1e, 0x1b, 0xbb };   /* PREVENT, START STOP, SET CD SPEED */
	for (size_t i = 0; i < sizeof(opcodes); i++) {
		const uint8_t cdb[] = { opcodes[i], 0, 0, 0, 1 };
		assert_int_equal(run_limited(cdb, sizeof(cdb), GUEST_BUF, GUEST_BUF), 0);
		assert_int_equal(tf.status, STATUS_OK);
	}
	assert_int_equal(RUN(0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8), 8);   /* MECHANISM STATUS */
	assert_int_equal(tf.status, STATUS_OK);
	assert_int_equal(RUN(0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16), 16); /* REPORT LUNS */
	assert_int_equal(be32(guest.buf), 8);
}

/* ---- hostile CDBs --------------------------------------------------------------------- */

/* Random CDBs for every opcode: no crash, nothing past the buffer, nothing past the limit. */
static void test_random_cdbs(void **state)
{
	(void)state;
	srand(12345);
	quiet = true;
	for (int round = 0; round < 20000; round++) {
		uint8_t cdb[12];
		for (int i = 0; i < 12; i++)
			cdb[i] = (uint8_t)rand();
		cdb[0] = (uint8_t)round;
		uint32_t limit = (uint32_t)(rand() % (GUEST_BUF + 1));
		uint32_t moved = run_limited(cdb, sizeof(cdb), GUEST_BUF, limit);
		assert_true(moved <= limit);
		assert_true(tf.status == STATUS_OK || tf.status == STATUS_CHECK);
		if (tf.status == STATUS_OK)
			assert_int_equal(tf.error, 0);
		new_drive();
	}
	quiet = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, fresh_drive)
		T(test_unit_ready_and_sense_cleared),
		T(test_unknown_opcode_is_illegal_request),
		T(test_request_sense_allocation_length),
		T(test_inquiry),
		T(test_inquiry_evpd_is_refused),
		T(test_unit_attention_reported_once),
		T(test_no_disc_is_not_ready),
		T(test_read_capacity),
		T(test_read_10),
		T(test_read_12_and_many_sectors),
		T(test_read_zero_sectors_moves_nothing),
		T(test_read_past_end_is_lba_out_of_range),
		T(test_read_larger_than_transport_aborts),
		T(test_bad_guest_table_aborts),
		T(test_read_cd_user_data),
		T(test_partial_last_sector_reads_as_zeros),
		T(test_seek),
		T(test_mode_sense_10_capabilities),
		T(test_mode_sense_all_pages_and_short_buffers),
		T(test_mode_sense_unknown_page),
		T(test_read_toc_lba),
		T(test_read_toc_msf),
		T(test_read_toc_session_info_and_raw),
		T(test_disc_and_track_information),
		T(test_get_configuration),
		T(test_event_status_polled),
		T(test_commands_that_only_succeed),
		T(test_random_cdbs),
#undef T
	};
	return cmocka_run_group_tests_name("stage5 atapi", tests, make_disc, remove_disc);
}
