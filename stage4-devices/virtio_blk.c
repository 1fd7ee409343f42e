/*
 * virtio_blk.c - virtio block requests served with pread/pwrite on the image file.
 * See virtio_blk.h. The request runs synchronously in the vCPU thread that notified us:
 * simple and, for a teaching VMM, fast enough (the page cache does the rest).
 */
#include "virtio_blk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

/* Move the data buffers of one request between the chain and the file. */
static uint8_t do_data(struct virtio_blk *blk, const struct virtq_chain *c, bool to_guest,
		       uint64_t sector, uint32_t *written)
{
	uint64_t offset = sector * SECTOR_SIZE;
	/* Buffers 1 .. count-2 are the data; 0 is the header, count-1 the status byte. */
	for (unsigned i = 1; i + 1 < c->count; i++) {
		const struct virtq_seg *seg = &c->seg[i];
		if (seg->writable != to_guest)
			return VIRTIO_BLK_S_IOERR;
		if (offset + seg->len > blk->sectors * SECTOR_SIZE)
			return VIRTIO_BLK_S_IOERR;   /* past the end of the disk */
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ssize_t n = to_guest ? pread(blk->fd, seg->hva, seg->len, offset)
				     : pwrite(blk->fd, seg->hva, seg->len, offset);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		blk->io_ns += (t1.tv_sec - t0.tv_sec) * 1000000000ull + t1.tv_nsec - t0.tv_nsec;
		blk->bytes += n > 0 ? n : 0;
		if (n != (ssize_t)seg->len)
			return VIRTIO_BLK_S_IOERR;
		offset += seg->len;
		if (to_guest)
			*written += seg->len;
	}
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

static const struct virtio_device_ops blk_ops = {
	.name = "virtio-blk",
	.virtio_id = VIRTIO_ID_BLOCK,
	.pci_class = 0x018000,   /* mass storage, other */
	.features = VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_SEG_MAX,
	.num_queues = 1,
	.queue_notify = blk_queue_notify,
};

int virtio_blk_attach(struct virtio_blk *blk, struct pci_host *host,
		      const struct guest_memory *mem)
{
	int err = virtio_pci_attach(&blk->vp, &blk_ops, blk, host, mem);
	if (err)
		return err;
	/* struct virtio_blk_config: capacity (le64, 512-byte sectors), size_max, seg_max. */
	u64_to_bytes(blk->sectors, blk->vp.state.config, 8);
	u64_to_bytes(BLK_SEG_MAX, blk->vp.state.config + 12, 4);
	blk->vp.state.config_len = 24;
	return 0;
}
