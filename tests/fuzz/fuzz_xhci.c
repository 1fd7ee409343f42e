/*
 * fuzz_xhci.c - stage 5's xHCI controller (usb/xhci.c) with a USB stick, a keyboard and a
 * tablet on its root hub: the capability, operational, port and runtime registers, the
 * doorbells, and what the doorbells make the controller read from guest RAM: the command
 * ring (Enable Slot, Address Device, Configure Endpoint, ...), the DCBAA and the Input and
 * Device Contexts, the event ring's segment table, and the transfer rings' TRBs (Link TRBs,
 * chains, Setup/Data/Status stages, Normal TRBs with immediate data) down to the devices:
 * standard and class requests, Bulk-Only CBWs and SCSI commands on the stick, HID reports.
 * Op 3 is host input (fuzz_usb.h): a key or pointer event wakes an interrupt endpoint.
 *
 * Teaches: xHCI moved every schedule into rings the guest writes, so the controller follows
 * guest pointers (ring segments, contexts, buffers) and guest counts (segment sizes, TD
 * lengths) at every doorbell; each is a place for a hostile guest to lie.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_usb.h"
#include "usb/xhci.h"

#define RAM_SIZE (256 * 1024)

static void host_input(void *ctx, struct fuzz_input *in)
{
	fuzz_usb_input(ctx, in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_usb usb;
	static struct xhci xhci;
	static struct io_bus bus;
	static struct pci_host pci;
	struct fuzz_input in = { data, size };
	char why[256];

	fuzz_quiet();
	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	bus_init(&bus);
	if (pci_host_attach(&pci, &bus, -1))   /* 0xcf8: the guest may move BAR0 */
		abort();
	memset(&xhci, 0, sizeof(xhci));
	if (xhci_attach(&xhci, &bus, &pci, mem, -1, 0x0d, 11, why, sizeof(why)))
		abort();
	fuzz_usb_devices(&usb, false);
	/* As usb_machine.c plugs them: a high-speed stick and the HID devices on USB 2 ports. */
	if (xhci_plug(&xhci, 1, &usb.stick.dev) || xhci_plug(&xhci, 2, &usb.kbd.dev) ||
	    xhci_plug(&xhci, 3, &usb.tablet.dev))
		abort();
	fuzz_pci_firmware(&pci);
	fuzz_ops_run(&bus, mem, &in, host_input, &usb, 4096);
	xhci_detach(&xhci);
	fuzz_ram_free(mem);
	return 0;
}
