/*
 * fuzz_usb_storage.c - stage 5's USB stick (usb/usb_storage.c) and the USB device core under
 * it (usb/usb_core.c), driven the way a host controller drives them, without a controller:
 * control transfers on endpoint 0 (standard requests: descriptors, addresses, features,
 * ENDPOINT_HALT; the Bulk-Only class requests) and bulk transfers of any length on any
 * endpoint (CBWs with their SCSI CDBs, data phases of READ/WRITE on a 64 KiB scratch disk,
 * CSWs), with bus resets between.
 *
 * Input: the first byte picks a high- or full-speed stick; then records, each a byte:
 *   0  control: 8 bytes of SETUP, then wLength bytes of data (OUT) or room for them (IN)
 *   1  bulk OUT on endpoint 2: a u16 length, the bytes
 *   2  bulk IN on endpoint 0x81: a u16 length
 *   3  a bus reset (a port reset on the controller)
 *   4  a transfer on any endpoint: the endpoint (u8), a u16 length, the bytes if OUT
 * Every buffer is malloc()ed at exactly its length, so AddressSanitizer sees a device that
 * writes past what the controller gave it.
 *
 * Teaches: the controllers (xhci, uhci) hand the device a buffer and a length; the device
 * must never move more than that, whatever the CBW's dCBWDataTransferLength or the SCSI
 * command's transfer length says. Here the two lengths are fuzzed apart.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_usb.h"

#define MAX_TRANSFER 8192

static void control(struct usb_device *dev, struct fuzz_input *in)
{
	uint8_t setup[8] = { 0 };
	fi_bytes(in, setup, sizeof(setup));
	size_t len = setup[6] | setup[7] << 8;   /* wLength: the caller's buffer holds it */
	uint8_t *data = malloc(len ? len : 1);
	if (!data)
		abort();
	memset(data, 0, len);
	if (!(setup[0] & USB_DIR_IN))
		fi_bytes(in, data, len);
	int n = usb_control(dev, setup, data);
	if (n > (int)len)   /* an IN stage longer than wLength: the controller would overrun */
		abort();
	free(data);
}

static void transfer(struct usb_device *dev, unsigned ep, struct fuzz_input *in)
{
	size_t len = fi_u16(in) % (MAX_TRANSFER + 1);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		abort();
	memset(buf, 0, len);
	if (!(ep & USB_DIR_IN))
		fi_bytes(in, buf, len);
	int n = usb_data(dev, ep, buf, len);
	if (n > (int)len)   /* moved more than the buffer: a controller would overrun */
		abort();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_usb usb;
	struct fuzz_input in = { data, size };

	fuzz_quiet();
	fuzz_usb_devices(&usb, fi_u8(&in) & 1);
	struct usb_device *dev = &usb.stick.dev;
	for (unsigned n = 0; n < 1024 && in.left > 0; n++) {
		switch (fi_u8(&in) % 5) {
		case 0:
			control(dev, &in);
			break;
		case 1:
			transfer(dev, BOT_EP_OUT, &in);
			break;
		case 2:
			transfer(dev, BOT_EP_IN, &in);
			break;
		case 3:
			usb_device_reset(dev);
			break;
		case 4:
			transfer(dev, fi_u8(&in), &in);
			break;
		}
	}
	return 0;
}
