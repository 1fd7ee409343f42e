/*
 * fuzz_disks.h - the scratch disk and CD-ROM images behind the storage fuzz targets: made
 * once per fuzzer process, in $TMPDIR, unlinked at once (the open descriptors keep them).
 * The guest's writes land there and stay for later inputs, as on a real disk.
 */
#ifndef FUZZ_DISKS_H
#define FUZZ_DISKS_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "block/block.h"

#define FUZZ_DISK_BYTES (64 * 1024)      /* 128 sectors of 512 */
#define FUZZ_CD_BYTES   (32 * 2048)      /* 32 sectors of 2048 */

struct fuzz_disks {
	struct block_dev *disk, *cd;
};

static inline struct block_dev *fuzz_image(const char *tag, unsigned bytes, unsigned flags)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[256], why[BLOCK_WHY_MAX];
	snprintf(path, sizeof(path), "%s/fuzz-%s.XXXXXX", dir, tag);
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, bytes) < 0)
		abort();
	for (unsigned i = 0; i < bytes; i += 512) {   /* each sector says where it is */
		unsigned char sector[512] = { (unsigned char)(i >> 9), (unsigned char)(i >> 17) };
		if (pwrite(fd, sector, sizeof(sector), i) != (ssize_t)sizeof(sector))
			abort();
	}
	close(fd);
	struct block_dev *dev;
	if (block_open(path, flags | BLOCK_FORMAT_RAW | BLOCK_NO_FLUSH, &dev, why, sizeof(why)) < 0) {
		fprintf(stderr, "fuzz: %s\n", why);
		abort();
	}
	unlink(path);
	return dev;
}

static inline void fuzz_disks_open(struct fuzz_disks *d, const char *tag)
{
	d->disk = fuzz_image(tag, FUZZ_DISK_BYTES, 0);
	d->cd = fuzz_image(tag, FUZZ_CD_BYTES, BLOCK_RDONLY);
}

#endif
