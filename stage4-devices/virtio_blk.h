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

#include <pthread.h>
#include <stdbool.h>

#include "virtio_pci.h"

struct virtio_blk {
	struct virtio_pci vp;
	int fd;
	const char *path;
	uint64_t sectors;
	uint64_t requests, bytes, io_ns;   /* for --stats: how the disk was used */
	/* The fast path's I/O thread (virtio_blk_start): waits on the queue's kick eventfd. */
	bool fast;                         /* set before attach: offer EVENT_IDX, start the thread */
	bool iothread;
	pthread_t thread;
	pthread_mutex_t *lock;             /* the bus lock: held for the rings, not the disk */
	int stop_fd;                       /* readable: the machine stops */
};

/*
 * Open the image read-write (a read-only or missing file is an error: the guest's writes
 * must land) and plug the device into the PCI host. 0 or a negative errno.
 */
int virtio_blk_open(struct virtio_blk *blk, const char *path);
int virtio_blk_attach(struct virtio_blk *blk, struct pci_host *host,
		      const struct guest_memory *mem);

/*
 * The fast path (see virtio_blk.c): requests served by an I/O thread of their own, kicked
 * through an eventfd (KVM_IOEVENTFD), the bus lock held only to take requests off the ring
 * and to put them back, never during the disk I/O. Call before the vCPUs run; the thread
 * ends when stop_fd becomes readable, and virtio_blk_join waits for it. 0 or a negative
 * errno (no eventfd or thread: the machine cannot start). Without it the simple path serves
 * the queue, as before.
 */
int virtio_blk_start(struct virtio_blk *blk, pthread_mutex_t *lock, int stop_fd);
void virtio_blk_join(struct virtio_blk *blk);

#endif
