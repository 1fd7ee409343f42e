/*
 * raw.c - the raw backend: disk byte N is file byte N.
 *
 * Nothing to translate, so nothing to get wrong: this is the baseline every other format is
 * measured against. The file's size is the disk's size; holes in a sparse file read as zeros.
 * A flush is fdatasync(): data reaches the disk, metadata only as far as needed to read it.
 */
#include "block.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct raw {
	struct block_dev dev; /* first: the block layer hands us &raw->dev */
	int fd;
	bool no_flush;
};

static struct raw *to_raw(struct block_dev *dev)
{
	return (struct raw *)dev;
}

static int raw_io_fail(struct block_dev *dev, int err, const char *what, uint64_t offset)
{
	return block_fail(dev->why, sizeof(dev->why), err, dev->path, "%s at %llu: %s", what,
			  (unsigned long long)offset, strerror(-err));
}

static int raw_read(struct block_dev *dev, void *buf, uint64_t offset, size_t len)
{
	int err = block_pread(to_raw(dev)->fd, buf, len, offset);

	return err ? raw_io_fail(dev, err, "read", offset) : 0;
}

static int raw_write(struct block_dev *dev, const void *buf, uint64_t offset, size_t len)
{
	int err = block_pwrite(to_raw(dev)->fd, buf, len, offset);

	return err ? raw_io_fail(dev, err, "write", offset) : 0;
}

static int raw_flush(struct block_dev *dev)
{
	struct raw *r = to_raw(dev);

	if (r->no_flush || dev->read_only || fdatasync(r->fd) == 0)
		return 0;
	return raw_io_fail(dev, -errno, "flush", 0);
}

static void raw_close(struct block_dev *dev)
{
	close(to_raw(dev)->fd); /* also drops the image locks */
	free(dev);
}

static const struct block_ops raw_ops = {
    .name = "raw",
    .read = raw_read,
    .write = raw_write,
    .flush = raw_flush,
    .close = raw_close,
};

int raw_open(int fd, const char *path, unsigned int flags, struct block_dev **out, char *why,
	     size_t why_len)
{
	struct raw *r = calloc(1, sizeof(*r));
	off_t end = lseek(fd, 0, SEEK_END); /* st_size is 0 for a block device */

	if (!r || end < 0) {
		int err = r ? -errno : -ENOMEM;

		free(r);
		close(fd);
		return block_fail(why, why_len, err, path, "cannot open raw image: %s",
				  strerror(-err));
	}
	r->fd = fd;
	r->no_flush = flags & BLOCK_NO_FLUSH;
	r->dev.ops = &raw_ops;
	r->dev.size = (uint64_t)end;
	r->dev.read_only = flags & BLOCK_RDONLY;
	snprintf(r->dev.path, sizeof(r->dev.path), "%s", path);
	*out = &r->dev;
	return 0;
}
