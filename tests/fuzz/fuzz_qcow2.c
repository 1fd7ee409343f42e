/*
 * fuzz_qcow2.c - stage 5's QCOW2 reader and writer (block/qcow2.c) on an image file whose
 * every byte is the fuzzer's: header, extensions, L1/L2 tables, refcount tables and blocks,
 * compressed clusters. The image is opened as the machine opens a -drive, read, written and
 * checked.
 *
 * Teaches: a disk image is input like a packet: offsets in it point elsewhere in it (or past
 * its end), sizes overflow, tables overlap; a backing file name may point anywhere.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "block/qcow2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[256];
	if (!path[0]) {
		const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		snprintf(path, sizeof(path), "%s/fuzz-qcow2.%d", dir, (int)getpid());
	}
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);

	struct block_dev *dev;
	char why[BLOCK_WHY_MAX];
	if (block_open(path, BLOCK_FORMAT_QCOW2 | BLOCK_NO_FLUSH, &dev, why, sizeof(why)) == 0) {
		static uint8_t buf[64 * 1024];
		uint64_t disk = dev->size;
		/* The first clusters, the last one, and a write that must allocate. */
		for (uint64_t off = 0; off < disk && off < sizeof(buf) * 4; off += sizeof(buf) / 4)
			block_read(dev, buf, off, disk - off < sizeof(buf) / 4 ? disk - off : sizeof(buf) / 4);
		if (disk >= 4096) {
			block_read(dev, buf, disk - 4096, 4096);
			memset(buf, 0x5a, 4096);
			block_write(dev, buf, (disk / 2) & ~4095ull, 4096);
			block_write(dev, buf, 0, 512);
			block_flush(dev);
		}
		struct qcow2_info info;
		struct qcow2_check_result res;
		qcow2_get_info(dev, &info);
		qcow2_check(dev, &res);
		block_close(dev);
	}
	unlink(path);
	return 0;
}
