/*
 * virtio_rng.h - virtio entropy device (virtio 1.1, 5.4): the guest's /dev/hwrng.
 *
 * One queue of device-writable buffers; the device fills each with random bytes from the
 * host's getrandom(2). No configuration, no features: the smallest useful virtio device,
 * which makes it the one to read first.
 */
#ifndef VIRTIO_RNG_H
#define VIRTIO_RNG_H

#include "virtio_pci.h"

struct virtio_rng {
	struct virtio_pci vp;
};

int virtio_rng_attach(struct virtio_rng *rng, struct pci_host *host,
		      const struct guest_memory *mem);

#endif
