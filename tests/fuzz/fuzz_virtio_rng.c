/*
 * fuzz_virtio_rng.c - stage 4's virtio-rng (virtio_rng.c) and the virtio-pci transport it
 * shares with every virtio device: feature negotiation, status, queue addresses and sizes,
 * notifications, ISR; the chains it fills with random bytes.
 *
 * Teaches: the simplest virtio device still walks guest chains: all the transport's state
 * machine is reachable through it.
 */
#include <stdlib.h>

#include "fuzz_ops.h"
#include "virtio_rng.h"

#define RAM_SIZE (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_rng rng;
	static struct io_bus bus;
	static struct pci_host pci;
	struct fuzz_input in = { data, size };

	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	bus_init(&bus);
	if (pci_host_attach(&pci, &bus, -1) || virtio_rng_attach(&rng, &pci, mem))
		abort();
	fuzz_pci_firmware(&pci);
	fuzz_ops_run(&bus, mem, &in, NULL, NULL, 4096);
	fuzz_ram_free(mem);
	return 0;
}
