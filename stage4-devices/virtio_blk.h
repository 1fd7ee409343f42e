/*
 * virtio_blk.h - a virtio block device backed by a raw image file (virtio 1.1, 5.2).
 *
 * One queue. Each request is a chain: a 16-byte header the device reads
 * { type, reserved, sector }, the data buffers (read by the device for a write, written for
 * a read), and one status byte the device writes last: 0 OK, 1 I/O error, 2 unsupported.
 * The disk is an array of 512-byte sectors; the device configuration tells its size.
 */
#ifndef VIRTIO_BLK_H
#define VIRTIO_BLK_H

#include "virtio_pci.h"

struct virtio_blk {
	struct virtio_pci vp;
	int fd;
	const char *path;
	uint64_t sectors;
	uint64_t requests, bytes, io_ns;   /* for --stats: how the disk was used */
};

/*
 * Open the image read-write (a read-only or missing file is an error: the guest's writes
 * must land) and plug the device into the PCI host. 0 or a negative errno.
 */
int virtio_blk_open(struct virtio_blk *blk, const char *path);
int virtio_blk_attach(struct virtio_blk *blk, struct pci_host *host,
		      const struct guest_memory *mem);

#endif
