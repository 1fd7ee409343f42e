/*
 * fuzz_virtio_net.c - stage 4's virtio-net (virtio_net.c) as stage 5 uses it: transmitted
 * frames go to a back end (here: a sink), received ones come from the fuzzer (op 3), through
 * the virtio-net header and the guest's receive and transmit chains.
 *
 * Teaches: a transmit chain is a header plus a frame split as the guest likes; a receive
 * buffer may be too small for the frame or for the header alone.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_ops.h"
#include "virtio_net.h"

#define RAM_SIZE (128 * 1024)

static void sent(void *opaque, const uint8_t *frame, size_t len)
{
	(void)opaque;
	if (len) {
		volatile uint8_t sink = frame[0] ^ frame[len - 1];
		(void)sink;
	}
}

static void receive(void *ctx, struct fuzz_input *in)
{
	static uint8_t frame[2048];
	size_t len = fi_bytes(in, frame, fi_u16(in) % sizeof(frame));
	virtio_net_deliver(ctx, frame, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_net net;
	static struct io_bus bus;
	static struct pci_host pci;
	struct fuzz_input in = { data, size };

	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	bus_init(&bus);
	if (pci_host_attach(&pci, &bus, -1))
		abort();
	memset(&net, 0, sizeof(net));
	net.tap_fd = net.wake_fd = -1;
	net.send = sent;
	if (virtio_net_attach(&net, &pci, mem))
		abort();
	fuzz_pci_firmware(&pci);
	fuzz_ops_run(&bus, mem, &in, receive, &net, 4096);
	fuzz_ram_free(mem);
	return 0;
}
