/*
 * usb_hid.h - USB keyboard and tablet: the HID class (Device Class Definition for HID 1.11).
 *
 * A HID device describes its reports in a report descriptor (what each bit of a report
 * means: "8 modifier bits, a reserved byte, 6 key codes"; "3 buttons, X and Y from 0 to
 * 32767, a wheel"), and sends a report on its interrupt IN endpoint when something changed.
 * The keyboard also speaks the boot protocol (the same 8-byte report, fixed, for a BIOS that
 * cannot parse descriptors). The tablet is absolute: the host's pointer position, scaled to
 * 0..32767, lands where it is on the guest's screen, with no acceleration to undo.
 *
 * Events come from the input family (input/input.h: the -input-script player and VNC) with
 * the bus lock held; a report waits in a small queue until the guest's next interrupt
 * transfer, and the controller is woken (usb_device.wakeup) when one arrives.
 */
#ifndef USB_HID_H
#define USB_HID_H

#include "usb.h"

#include "input/ps2.h"

#define USB_HID_QUEUE 16
#define USB_HID_REPORT_MAX 8
#define USB_TABLET_MAX 0x7fff

enum usb_hid_kind { USB_HID_KEYBOARD, USB_HID_TABLET };

struct usb_hid {
	struct usb_device dev;            /* first: the core hands this back */
	enum usb_hid_kind kind;
	uint8_t report_len;
	uint8_t queue[USB_HID_QUEUE][USB_HID_REPORT_MAX];
	unsigned head, count;
	uint8_t modifiers, keys[6];       /* keyboard: what is held */
	uint8_t leds;                     /* keyboard: SET_REPORT (Num 1, Caps 2, Scroll 4) */
	int x, y;                         /* tablet: 0..USB_TABLET_MAX */
	uint8_t buttons;
	uint8_t protocol, idle;
};

void usb_hid_init(struct usb_hid *h, enum usb_hid_kind kind);
/* A key (a PS/2 key: keymap.h), with Shift held for a shifted character. Lock held. */
void usb_hid_key(struct usb_hid *h, const struct ps2_key *key, bool shifted, bool down);
/* Tablet: an absolute position (x, y in 0..width-1, 0..height-1 of the screen) and the X11
 * button mask (bit 0 left, 1 middle, 2 right, 3/4 wheel up/down). Lock held. */
void usb_hid_pointer(struct usb_hid *h, int x, int y, int width, int height, unsigned mask);
/* Tablet: a relative move (the test script's "mouse DX DY DZ BUTTONS"), clamped. Lock held. */
void usb_hid_move(struct usb_hid *h, int dx, int dy, int dz, unsigned buttons);
/* Pure: the HID usage of a PS/2 key (set 2 code), 0 when it has none here. */
uint8_t usb_hid_usage(const struct ps2_key *key);

#endif
