/*
 * fuzz_e1000.c - stage 5's Intel 82540EM card (net/e1000.c): its registers (BAR0 memory,
 * BAR1's IOADDR/IODATA window), the EEPROM wire, the transmit ring (legacy, context and data
 * descriptors, TSO and checksum offload) and the receive ring, with frames from the fuzzer.
 *
 * Teaches: a NIC's rings are guest memory the card walks by itself: base, length, head and
 * tail are registers the guest may set to anything, descriptors' lengths and offsets too.
 */
#include <stdlib.h>

#include "fuzz_ops.h"
#include "net/e1000.h"

#define RAM_SIZE (128 * 1024)

static void sent(void *opaque, const uint8_t *frame, size_t len)
{
	(void)opaque;
	if (len) {   /* read what the card handed over, as a back end would */
		volatile uint8_t sink = frame[0] ^ frame[len - 1];
		(void)sink;
	}
}

/* Op 3: a frame arrives from the network. */
static void receive(void *ctx, struct fuzz_input *in)
{
	static uint8_t frame[2048];
	size_t len = fi_u16(in) % sizeof(frame);
	len = fi_bytes(in, frame, len);
	if (e1000_can_receive(ctx))
		e1000_receive(ctx, frame, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct e1000 card;
	static struct io_bus bus;
	static struct pci_host pci;
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	struct fuzz_input in = { data, size };
	char why[256];

	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	bus_init(&bus);
	if (pci_host_attach(&pci, &bus, -1))   /* 0xcf8: the guest may move BARs */
		abort();
	e1000_init(&card, mem, mac, sent, NULL, "e1000.fuzz");
	if (e1000_attach(&card, &bus, &pci, -1, 3, 11, why, sizeof(why)))
		abort();
	fuzz_pci_firmware(&pci);
	fuzz_ops_run(&bus, mem, &in, receive, &card, 4096);
	fuzz_ram_free(mem);
	return 0;
}
