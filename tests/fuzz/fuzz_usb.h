/*
 * fuzz_usb.h - what the USB fuzz targets share: the devices on the root hub (a USB stick on a
 * scratch disk, a keyboard, a tablet: usb/) and the host input that reaches them (op 3 of the
 * op stream: a key, a pointer position, a relative move, as VNC and -input-script deliver).
 *
 * Teaches: a host controller is only half the attack surface of USB; the other half is each
 * device's answer to what the controller hands it (SETUP packets, bulk transfers, CBWs), and a
 * device whose state a fuzzer cannot reach (a keyboard with nothing to say) is half tested: so
 * the fuzzer also presses keys.
 */
#ifndef FUZZ_USB_H
#define FUZZ_USB_H

#include "fuzz_disks.h"
#include "fuzz_ops.h"
#include "usb/usb_hid.h"
#include "usb/usb_storage.h"

struct fuzz_usb {
	struct block_dev *disk;    /* made once per process (fuzz_disks.h); the stick's medium */
	struct usb_storage stick;
	struct usb_hid kbd, tablet;
};

/* Every device in its power-on state (each input starts from the same machine). */
static inline void fuzz_usb_devices(struct fuzz_usb *u, bool full_speed)
{
	if (!u->disk)
		u->disk = fuzz_image("usb", FUZZ_DISK_BYTES, 0);
	usb_storage_init(&u->stick, u->disk);
	if (full_speed)
		usb_storage_full_speed(&u->stick);
	usb_hid_init(&u->kbd, USB_HID_KEYBOARD);
	usb_hid_init(&u->tablet, USB_HID_TABLET);
}

/*
 * Host input, with its arguments from the fuzzer: 0 a key (a set-2 code, extended, shifted,
 * down), 1 an absolute pointer on a screen of a fuzzed size (VNC), 2 a relative move (the
 * input script's "mouse DX DY DZ BUTTONS").
 */
static inline void fuzz_usb_input(struct fuzz_usb *u, struct fuzz_input *in)
{
	uint8_t how = fi_u8(in);
	switch (how % 3) {
	case 0: {
		struct ps2_key key = { .set2 = fi_u8(in), .extended = how & 0x10 };
		usb_hid_key(&u->kbd, &key, how & 0x20, how & 0x40);
		break;
	}
	case 1: {
		int x = (int16_t)fi_u16(in), y = (int16_t)fi_u16(in);
		int w = fi_u16(in), h = fi_u16(in);
		usb_hid_pointer(&u->tablet, x, y, w, h, fi_u8(in));
		break;
	}
	case 2: {
		int dx = (int32_t)fi_u32(in), dy = (int32_t)fi_u32(in), dz = (int8_t)fi_u8(in);
		usb_hid_move(&u->tablet, dx, dy, dz, fi_u8(in));
		break;
	}
	}
}

#endif
