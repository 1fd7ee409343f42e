/*
 * virtio_rng.c - fill the guest's buffers with host randomness. See virtio_rng.h.
 */
#include "virtio_rng.h"

#include <sys/random.h>

/* One request: fill every device-writable buffer of the chain. */
static uint32_t rng_serve(struct virtio_pci *vp, struct virtq_chain *chain)
{
	(void)vp;
	uint32_t written = 0;
	for (unsigned i = 0; i < chain->count; i++) {
		if (!chain->seg[i].writable)
			continue;
		ssize_t n = getrandom(chain->seg[i].hva, chain->seg[i].len, 0);
		if (n > 0)
			written += n;
	}
	return written;
}

static void rng_queue_notify(struct virtio_pci *vp, unsigned q)
{
	virtio_pci_serve_queue(vp, q, rng_serve);
}

static const struct virtio_device_ops rng_ops = {
	.name = "virtio-rng",
	.virtio_id = VIRTIO_ID_RNG,
	.pci_class = 0x00ff00,   /* unclassified */
	.num_queues = 1,
	.queue_notify = rng_queue_notify,
};

int virtio_rng_attach(struct virtio_rng *rng, struct pci_host *host,
		      const struct guest_memory *mem)
{
	return virtio_pci_attach(&rng->vp, &rng_ops, rng, host, mem);
}
