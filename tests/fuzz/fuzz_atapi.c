/*
 * fuzz_atapi.c - stage 5's ATAPI command set (storage/atapi.c) on its own: CDBs (READ, READ
 * TOC, MODE SENSE, GET CONFIGURATION, ...) with every field the fuzzer's, and a guest buffer
 * of a fuzzed size, as IDE and AHCI hand them over.
 *
 * Teaches: a CDB's allocation length, LBA and count are the guest's numbers: the reply must
 * fit both the guest's buffer and the transport's limit, and reads stay on the disc.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_disks.h"
#include "fuzz_ops.h"
#include "storage/ata.h"

struct guest_buf {
	uint8_t data[64 * 1024];
	size_t capacity, used;
};

static bool to_guest(void *opaque, const void *buf, size_t len)
{
	struct guest_buf *g = opaque;
	if (len > g->capacity - g->used)
		return false;
	memcpy(g->data + g->used, buf, len);
	g->used += len;
	return true;
}

static bool from_guest(void *opaque, void *buf, size_t len)
{
	struct guest_buf *g = opaque;
	if (len > g->capacity - g->used)
		return false;
	memcpy(buf, g->data + g->used, len);
	g->used += len;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_disks disks;
	static struct ata_drive drive;
	static struct guest_buf guest;
	struct fuzz_input in = { data, size };

	if (!disks.disk)
		fuzz_disks_open(&disks, "atapi");
	ata_drive_init(&drive, disks.cd, ATA_MEDIA_CDROM, "fuzz-cd");
	struct ata_sg sg = { to_guest, from_guest, &guest };
	while (in.left > 0) {   /* a series of commands on one drive: sense state carries over */
		uint8_t cdb[12] = { 0 };
		fi_bytes(&in, cdb, sizeof(cdb));
		struct ata_taskfile tf = { .command = 0xa0 };
		guest.capacity = fi_u16(&in) % sizeof(guest.data);
		guest.used = 0;
		atapi_execute(&drive, cdb, &tf, &sg, fi_u16(&in));
	}
	return 0;
}
