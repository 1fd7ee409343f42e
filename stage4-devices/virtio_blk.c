/*
 * virtio_blk.c - virtio block requests served with pread/pwrite on the image file.
 * See virtio_blk.h. Two ways to serve the queue, the same blk_serve() underneath:
 *
 *   simple path: the guest's write to the notify register exits to the vCPU thread, which
 *     serves every request right there under the bus lock (blk_queue_notify). Easy to
 *     follow; but each kick is an exit to the VMM, the vCPU is away from the guest for the
 *     whole disk I/O, and every other device waits for the bus lock meanwhile.
 *   fast path (virtio_blk_start): KVM turns the kick into an eventfd signal without leaving
 *     the kernel (KVM_IOEVENTFD), the vCPU re-enters the guest at once, and this device's
 *     own I/O thread serves the requests: the bus lock is held to pop a request and to push
 *     it back, never while the disk is read or written (serve_off_lock).
 */
#include "virtio_blk.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_F_SEG_MAX (1ull << 2)
#define VIRTIO_BLK_F_FLUSH  (1ull << 9)
/*
 * How many data buffers one request may have. Without SEG_MAX Linux sends one buffer per
 * request, usually one 4 KiB page: a 1 MiB read becomes 256 requests, each costing exits.
 * Header and status take two descriptors of the 256.
 */
#define BLK_SEG_MAX (VIRTQ_MAX_SIZE - 2)
#define SECTOR_SIZE 512

struct virtio_blk_req_header {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

int virtio_blk_open(struct virtio_blk *blk, const char *path)
{
	struct stat st;
	memset(blk, 0, sizeof(*blk));
	blk->path = path;
	/* root may open a mode 0444 file for writing; the owner's intent still counts. */
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && !(st.st_mode & 0222))
		return -EROFS;
	blk->fd = open(path, O_RDWR | O_CLOEXEC);
	if (blk->fd < 0)
		return -errno;
	if (fstat(blk->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(blk->fd);
		return -EINVAL;
	}
	blk->sectors = st.st_size / SECTOR_SIZE;
	return 0;
}

/*
 * Move the data buffers of one request between the chain and the file: one preadv/pwritev
 * for the whole request (up to BLK_SEG_MAX buffers), not one system call per buffer, as
 * QEMU does. Every buffer must point the right way, and the whole must fit on the disk.
 */
static uint8_t do_data(struct virtio_blk *blk, const struct virtq_chain *c, bool to_guest,
		       uint64_t sector, uint32_t *written)
{
	struct iovec iov[VIRTQ_MAX_SIZE];
	uint64_t offset = sector * SECTOR_SIZE, total = 0;
	unsigned n = 0;
	/* Buffers 1 .. count-2 are the data; 0 is the header, count-1 the status byte. */
	for (unsigned i = 1; i + 1 < c->count; i++) {
		const struct virtq_seg *seg = &c->seg[i];
		if (seg->writable != to_guest)
			return VIRTIO_BLK_S_IOERR;
		iov[n++] = (struct iovec){ seg->hva, seg->len };
		total += seg->len;
	}
	if (sector > blk->sectors || total > (blk->sectors - sector) * SECTOR_SIZE)
		return VIRTIO_BLK_S_IOERR;   /* past the end of the disk */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ssize_t done = n == 0 ? 0 : to_guest ? preadv(blk->fd, iov, n, offset)
					      : pwritev(blk->fd, iov, n, offset);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	blk->io_ns += (t1.tv_sec - t0.tv_sec) * 1000000000ull + t1.tv_nsec - t0.tv_nsec;
	blk->bytes += done > 0 ? done : 0;
	if (done != (ssize_t)total)   /* (a regular file reads short only past its end) */
		return VIRTIO_BLK_S_IOERR;
	if (to_guest)
		*written += total;
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_request(struct virtio_blk *blk, const struct virtq_chain *c, uint32_t *written)
{
	struct virtio_blk_req_header h;
	if (c->seg[0].writable || c->seg[0].len < sizeof(h))
		return VIRTIO_BLK_S_IOERR;
	memcpy(&h, c->seg[0].hva, sizeof(h));

	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		return do_data(blk, c, true, h.sector, written);
	case VIRTIO_BLK_T_OUT:
		return do_data(blk, c, false, h.sector, written);
	case VIRTIO_BLK_T_FLUSH:
		return fdatasync(blk->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	case VIRTIO_BLK_T_GET_ID:
		if (c->count == 3 && c->seg[1].writable) {
			unsigned n = c->seg[1].len < 20 ? c->seg[1].len : 20;
			memset(c->seg[1].hva, 0, n);
			memcpy(c->seg[1].hva, "minivisor", n < 9 ? n : 9);
			*written += n;
			return VIRTIO_BLK_S_OK;
		}
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_UNSUPP;
}

/* One request: header, data, status byte; the status byte counts as written. */
static uint32_t blk_serve(struct virtio_pci *vp, struct virtq_chain *chain)
{
	struct virtio_blk *blk = vp->device;
	uint32_t written = 0;
	struct virtq_seg *status = &chain->seg[chain->count - 1];
	blk->requests++;
	uint8_t result = VIRTIO_BLK_S_IOERR;
	if (chain->count >= 2 && status->writable)
		result = do_request(blk, chain, &written);
	else
		fprintf(stderr, "virtio-blk: request %u has no status byte\n", chain->head);
	if (status->writable) {
		status->hva[status->len - 1] = result;
		written++;
	}
	return written;
}

static void blk_queue_notify(struct virtio_pci *vp, unsigned q)
{
	virtio_pci_serve_queue(vp, q, blk_serve);
}

/*
 * The I/O thread's loop over the queue: pop under the lock, serve without it, push under it.
 * A reset in between (vp->resets moved) means the ring is gone: the result is dropped.
 * The chain's buffers are guest RAM, validated by the pop; the guest may scribble on them
 * meanwhile, which only garbles its own request.
 */
static void serve_off_lock(struct virtio_blk *blk)
{
	static struct virtq_chain chain;   /* large; used by this device's I/O thread only */
	struct virtio_pci *vp = &blk->vp;
	bool used = false;

	for (;;) {
		pthread_mutex_lock(blk->lock);
		unsigned resets = vp->resets;
		int n = virtio_pci_queue_live(vp, 0) ? virtio_pci_pop(vp, 0, &chain) : 0;
		if (n <= 0) {
			/* one interrupt for the batch, if the driver wants one (event index) */
			if (used && virtq_needs_interrupt(vp->mem, &vp->state.vq[0]))
				virtio_pci_notify_used(vp, 0);
			pthread_mutex_unlock(blk->lock);
			return;
		}
		pthread_mutex_unlock(blk->lock);
		uint32_t written = blk_serve(vp, &chain);
		pthread_mutex_lock(blk->lock);
		if (vp->resets == resets) {
			virtq_push(vp->mem, &vp->state.vq[0], chain.head, written);
			used = true;
		}
		pthread_mutex_unlock(blk->lock);
	}
}

/* The kicks, the stop, and KVM's resample of the INTx line (-1, ignored by poll, if none). */
static void *iothread(void *arg)
{
	struct virtio_blk *blk = arg;
	struct pollfd fds[3] = { { blk->vp.kick_fd[0], POLLIN, 0 }, { blk->stop_fd, POLLIN, 0 },
				 { virtio_pci_resample_fd(&blk->vp), POLLIN, 0 } };
	uint64_t kicks;

	for (;;) {
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("virtio-blk: I/O thread: poll");
			return NULL;
		}
		if (fds[1].revents)
			return NULL;
		if (fds[2].revents) {
			pthread_mutex_lock(blk->lock);
			virtio_pci_resample(&blk->vp);
			pthread_mutex_unlock(blk->lock);
		}
		if (fds[0].revents && read(blk->vp.kick_fd[0], &kicks, sizeof(kicks)) == sizeof(kicks))
			serve_off_lock(blk);
	}
}

int virtio_blk_start(struct virtio_blk *blk, pthread_mutex_t *lock, int stop_fd)
{
	blk->lock = lock;
	blk->stop_fd = stop_fd;
	int err = virtio_pci_fast_path(&blk->vp);
	if (!err) {
		virtio_pci_intx_irqfd(&blk->vp);   /* (refused: KVM_IRQ_LINE, one line said) */
		err = -pthread_create(&blk->thread, NULL, iothread, blk);
	}
	blk->iothread = !err;
	return err;   /* the caller gives up: the kicks already go to the eventfd */
}

void virtio_blk_join(struct virtio_blk *blk)
{
	if (blk->iothread)
		pthread_join(blk->thread, NULL);
	blk->iothread = false;
}

/* The simple path offers what the lesson's first version did; the fast one adds the event
 * index and indirect descriptors (virtqueue.c). */
static const struct virtio_device_ops blk_ops = {
	.name = "virtio-blk",
	.virtio_id = VIRTIO_ID_BLOCK,
	.pci_class = 0x018000,   /* mass storage, other */
	.features = VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_SEG_MAX,
	.num_queues = 1,
	.queue_notify = blk_queue_notify,
};

static const struct virtio_device_ops blk_fast_ops = {
	.name = "virtio-blk",
	.virtio_id = VIRTIO_ID_BLOCK,
	.pci_class = 0x018000,
	.features = VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_SEG_MAX | VIRTIO_RING_F_EVENT_IDX |
		    VIRTIO_RING_F_INDIRECT_DESC,
	.num_queues = 1,
	.queue_notify = blk_queue_notify,   /* unused once the fast path is on */
};

int virtio_blk_attach(struct virtio_blk *blk, struct pci_host *host,
		      const struct guest_memory *mem)
{
	int err = virtio_pci_attach(&blk->vp, blk->fast ? &blk_fast_ops : &blk_ops, blk, host, mem);
	if (err)
		return err;
	/* struct virtio_blk_config: capacity (le64, 512-byte sectors), size_max, seg_max. */
	u64_to_bytes(blk->sectors, blk->vp.state.config, 8);
	u64_to_bytes(BLK_SEG_MAX, blk->vp.state.config + 12, 4);
	blk->vp.state.config_len = 24;
	return 0;
}
