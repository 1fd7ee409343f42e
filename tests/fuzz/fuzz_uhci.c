/*
 * fuzz_uhci.c - stage 5's UHCI controller (usb/uhci.c), a full-speed USB stick on port 1 and
 * a keyboard or a tablet on port 2 (the input's first byte says which): the I/O registers
 * (USBCMD, USBSTS, FRNUM, FRBASEADD, PORTSC) and the schedule the controller walks each
 * frame: the frame list, Queue Heads and Transfer Descriptors in guest RAM, control transfers
 * put together from SETUP/IN/OUT TDs, bulk TDs carrying CBWs and sectors, interrupt TDs.
 *
 * Op 3 is what happens outside the guest's stores: with its first byte even, one frame runs
 * (as the machine's frame thread does each millisecond while the controller runs; no thread
 * here, so a run is the same for the same input); odd, host input (fuzz_usb.h).
 *
 * Teaches: UHCI's schedule is a linked list in guest RAM that the controller follows on its
 * own clock: a link may point anywhere, loop, or change between two frames.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_usb.h"
#include "usb/uhci.h"

#define RAM_SIZE (256 * 1024)
#define UHCI_CMD_RS  (1u << 0)    /* USBCMD: run */
#define UHCI_STS_HCH (1u << 5)    /* USBSTS: halted */

struct target {
	struct uhci uhci;
	struct fuzz_usb usb;
};

static void outside(void *ctx, struct fuzz_input *in)
{
	struct target *t = ctx;
	if (fi_u8(in) & 1) {
		fuzz_usb_input(&t->usb, in);
		return;
	}
	/* The frame thread's condition (uhci.c): running and not halted. */
	if ((t->uhci.cmd & UHCI_CMD_RS) && !(t->uhci.sts & UHCI_STS_HCH))
		uhci_frame(&t->uhci);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct target t;
	static struct io_bus bus;
	static struct pci_host pci;
	struct fuzz_input in = { data, size };
	char why[256];

	fuzz_quiet();
	bool tablet = fi_u8(&in) & 1;
	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	bus_init(&bus);
	if (pci_host_attach(&pci, &bus, -1))
		abort();
	memset(&t.uhci, 0, sizeof(t.uhci));
	/* Where pc puts it: the PIIX3's function 2, INTD#. */
	if (uhci_attach(&t.uhci, &bus, &pci, mem, -1, 1, 2, 4, 11, why, sizeof(why)))
		abort();
	fuzz_usb_devices(&t.usb, true);
	if (uhci_plug(&t.uhci, 1, &t.usb.stick.dev) ||
	    uhci_plug(&t.uhci, 2, tablet ? &t.usb.tablet.dev : &t.usb.kbd.dev))
		abort();
	fuzz_pci_firmware(&pci);   /* BAR4: the I/O ports */
	fuzz_ops_run(&bus, mem, &in, outside, &t, 4096);
	fuzz_ram_free(mem);
	return 0;
}
