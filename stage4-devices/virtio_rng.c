/*
 * virtio_rng.c - fill the guest's buffers with host randomness. See virtio_rng.h.
 */
#include "virtio_rng.h"

#include <sys/random.h>

static void rng_queue_notify(struct virtio_pci *vp, unsigned q)
{
	static struct virtq_chain chain;   /* used under the bus lock only */
	bool used = false;

	while (virtio_pci_pop(vp, q, &chain) > 0) {
		uint32_t written = 0;
		for (unsigned i = 0; i < chain.count; i++) {
			if (!chain.seg[i].writable)
				continue;
			ssize_t n = getrandom(chain.seg[i].hva, chain.seg[i].len, 0);
			if (n > 0)
				written += n;
		}
		virtq_push(vp->mem, &vp->state.vq[q], chain.head, written);
		used = true;
	}
	if (used)
		virtio_pci_notify_used(vp);
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
