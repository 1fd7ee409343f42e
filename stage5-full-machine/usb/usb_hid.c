/*
 * usb_hid.c - the USB keyboard and tablet (usb_hid.h): descriptors, reports, class requests.
 *
 * Teaches: how a HID device tells the host what its reports mean (the report descriptor,
 * parsed by the host), the boot keyboard's fixed 8-byte report (modifier bits, six key
 * codes), an absolute pointer, and interrupt endpoints that NAK until there is news.
 */
#include "usb_hid.h"

#include <string.h>

#define HID_GET_REPORT   0x01
#define HID_GET_IDLE     0x02
#define HID_GET_PROTOCOL 0x03
#define HID_SET_REPORT   0x09
#define HID_SET_IDLE     0x0a
#define HID_SET_PROTOCOL 0x0b
#define HID_EP_IN        0x81

/* QEMU's identity for its HID devices: 0627:0001, told apart by their product strings. */
static const uint8_t device_desc[18] = {
	18, USB_DT_DEVICE, 0x00, 0x02, 0, 0, 0, 64,
	0x27, 0x06, 0x01, 0x00, 0x00, 0x00, 1, 2, 3, 1,
};

/* The boot keyboard's report descriptor (HID 1.11, appendix B.1). */
static const uint8_t keyboard_report[] = {
	0x05, 0x01, 0x09, 0x06, 0xa1, 0x01,             /* Generic Desktop, Keyboard, Application */
	0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00, 0x25, 0x01,
	0x75, 0x01, 0x95, 0x08, 0x81, 0x02,             /* 8 modifier bits */
	0x95, 0x01, 0x75, 0x08, 0x81, 0x01,             /* a reserved byte */
	0x95, 0x05, 0x75, 0x01, 0x05, 0x08, 0x19, 0x01, 0x29, 0x05,
	0x91, 0x02,                                     /* 5 LEDs (output) */
	0x95, 0x01, 0x75, 0x03, 0x91, 0x01,             /* padding */
	0x95, 0x06, 0x75, 0x08, 0x15, 0x00, 0x25, 0xff,
	0x05, 0x07, 0x19, 0x00, 0x29, 0xff, 0x81, 0x00, /* 6 key codes */
	0xc0,
};

/* An absolute pointer: 3 buttons, X and Y 0..32767, a relative wheel; 6-byte reports. */
static const uint8_t tablet_report[] = {
	0x05, 0x01, 0x09, 0x02, 0xa1, 0x01,             /* Generic Desktop, Mouse, Application */
	0x09, 0x01, 0xa1, 0x00,                         /* Pointer, Physical */
	0x05, 0x09, 0x19, 0x01, 0x29, 0x03, 0x15, 0x00, 0x25, 0x01,
	0x95, 0x03, 0x75, 0x01, 0x81, 0x02,             /* 3 buttons */
	0x95, 0x01, 0x75, 0x05, 0x81, 0x01,             /* padding */
	0x05, 0x01, 0x09, 0x30, 0x09, 0x31, 0x15, 0x00, 0x26, 0xff, 0x7f,
	0x35, 0x00, 0x46, 0xff, 0x7f, 0x75, 0x10, 0x95, 0x02, 0x81, 0x02,   /* X, Y absolute */
	0x05, 0x01, 0x09, 0x38, 0x15, 0x81, 0x25, 0x7f, 0x35, 0x00, 0x45, 0x00,
	0x75, 0x08, 0x95, 0x01, 0x81, 0x06,             /* wheel, relative */
	0xc0, 0xc0,
};

#define CONFIG_LEN 34
static const uint8_t keyboard_config[CONFIG_LEN] = {
	9, USB_DT_CONFIG, CONFIG_LEN, 0, 1, 1, 0, 0xa0, 50,
	9, USB_DT_INTERFACE, 0, 0, 1, 0x03, 0x01, 0x01, 0,   /* HID, boot, keyboard */
	9, USB_DT_HID, 0x11, 0x01, 0, 1, USB_DT_REPORT, sizeof(keyboard_report), 0,
	7, USB_DT_ENDPOINT, HID_EP_IN, 0x03, 8, 0, 10,        /* interrupt IN, 8 bytes, 10 ms */
};

static const uint8_t tablet_config[CONFIG_LEN] = {
	9, USB_DT_CONFIG, CONFIG_LEN, 0, 1, 1, 0, 0xa0, 50,
	9, USB_DT_INTERFACE, 0, 0, 1, 0x03, 0x00, 0x00, 0,   /* HID, no boot protocol */
	9, USB_DT_HID, 0x11, 0x01, 0, 1, USB_DT_REPORT, sizeof(tablet_report), 0,
	7, USB_DT_ENDPOINT, HID_EP_IN, 0x03, 8, 0, 10,
};

static const char *const keyboard_strings[] = { "QEMU", "QEMU USB Keyboard", "68284-0000:00:00.0-1" };
static const char *const tablet_strings[] = { "QEMU", "QEMU USB Tablet", "28754-0000:00:00.0-1" };

/* ---- keys: PS/2 set 2 codes (keymap.h's keys) to HID usages (HID Usage Tables, page 7) --- */

static const uint8_t set2_usage[0x84] = {
	[0x1c] = 0x04, [0x32] = 0x05, [0x21] = 0x06, [0x23] = 0x07, [0x24] = 0x08, [0x2b] = 0x09,
	[0x34] = 0x0a, [0x33] = 0x0b, [0x43] = 0x0c, [0x3b] = 0x0d, [0x42] = 0x0e, [0x4b] = 0x0f,
	[0x3a] = 0x10, [0x31] = 0x11, [0x44] = 0x12, [0x4d] = 0x13, [0x15] = 0x14, [0x2d] = 0x15,
	[0x1b] = 0x16, [0x2c] = 0x17, [0x3c] = 0x18, [0x2a] = 0x19, [0x1d] = 0x1a, [0x22] = 0x1b,
	[0x35] = 0x1c, [0x1a] = 0x1d,                                   /* a .. z */
	[0x16] = 0x1e, [0x1e] = 0x1f, [0x26] = 0x20, [0x25] = 0x21, [0x2e] = 0x22, [0x36] = 0x23,
	[0x3d] = 0x24, [0x3e] = 0x25, [0x46] = 0x26, [0x45] = 0x27,     /* 1 .. 9, 0 */
	[0x5a] = 0x28, [0x76] = 0x29, [0x66] = 0x2a, [0x0d] = 0x2b, [0x29] = 0x2c, /* Enter .. Space */
	[0x4e] = 0x2d, [0x55] = 0x2e, [0x54] = 0x2f, [0x5b] = 0x30, [0x5d] = 0x31, [0x4c] = 0x33,
	[0x52] = 0x34, [0x0e] = 0x35, [0x41] = 0x36, [0x49] = 0x37, [0x4a] = 0x38, [0x58] = 0x39,
	[0x05] = 0x3a, [0x06] = 0x3b, [0x04] = 0x3c, [0x0c] = 0x3d, [0x03] = 0x3e, [0x0b] = 0x3f,
	[0x83] = 0x40, [0x0a] = 0x41, [0x01] = 0x42, [0x09] = 0x43, [0x78] = 0x44, [0x07] = 0x45,
	[0x14] = 0xe0, [0x12] = 0xe1, [0x11] = 0xe2, [0x59] = 0xe5,     /* Ctrl, Shift, Alt, Shift */
};

static const struct { uint8_t set2, usage; } extended_usage[] = {
	{ 0x70, 0x49 }, { 0x6c, 0x4a }, { 0x7d, 0x4b }, { 0x71, 0x4c }, { 0x69, 0x4d },
	{ 0x7a, 0x4e }, { 0x74, 0x4f }, { 0x6b, 0x50 }, { 0x72, 0x51 }, { 0x75, 0x52 },
	{ 0x14, 0xe4 }, { 0x11, 0xe6 }, { 0x5a, 0x58 }, { 0x4a, 0x54 },
};

uint8_t usb_hid_usage(const struct ps2_key *key)
{
	if (!key->extended)
		return key->set2 < sizeof(set2_usage) ? set2_usage[key->set2] : 0;
	for (unsigned i = 0; i < sizeof(extended_usage) / sizeof(extended_usage[0]); i++)
		if (extended_usage[i].set2 == key->set2)
			return extended_usage[i].usage;
	return 0;
}

/* ---- reports -------------------------------------------------------------------------------- */

static void current_report(const struct usb_hid *h, uint8_t *r)
{
	memset(r, 0, USB_HID_REPORT_MAX);
	if (h->kind == USB_HID_KEYBOARD) {
		r[0] = h->modifiers;
		memcpy(r + 2, h->keys, 6);
		return;
	}
	r[0] = h->buttons;
	r[1] = h->x;
	r[2] = h->x >> 8;
	r[3] = h->y;
	r[4] = h->y >> 8;
}

/* Queue the state as a report (dz: the tablet's wheel) and wake the controller. */
static void push(struct usb_hid *h, long dz)
{
	if (h->count == USB_HID_QUEUE) {   /* the guest does not read: the newest state wins */
		h->count--;
	}
	uint8_t *r = h->queue[(h->head + h->count) % USB_HID_QUEUE];
	current_report(h, r);
	if (h->kind == USB_HID_TABLET)
		r[5] = dz < -127 ? 0x81 : dz > 127 ? 0x7f : (uint8_t)dz;
	h->count++;
	if (h->dev.wakeup)
		h->dev.wakeup(h->dev.controller, &h->dev, HID_EP_IN);
}

static void set_key(struct usb_hid *h, uint8_t usage, bool down)
{
	if (usage >= 0xe0) {
		uint8_t bit = 1u << (usage - 0xe0);
		h->modifiers = down ? h->modifiers | bit : h->modifiers & ~bit;
		return;
	}
	for (unsigned i = 0; i < 6; i++) {
		if (h->keys[i] == usage) {
			if (!down) {   /* close the gap: the report lists held keys in order */
				memmove(h->keys + i, h->keys + i + 1, 5 - i);
				h->keys[5] = 0;
			}
			return;
		}
	}
	for (unsigned i = 0; down && i < 6; i++) {
		if (!h->keys[i]) {
			h->keys[i] = usage;
			return;
		}
	}
}

void usb_hid_key(struct usb_hid *h, const struct ps2_key *key, bool shifted, bool down)
{
	uint8_t usage = usb_hid_usage(key);
	if (h->kind != USB_HID_KEYBOARD || !usage)
		return;
	bool add_shift = shifted && !(h->modifiers & 0x22);
	if (add_shift && down) {   /* Shift first, as a person types 'A' */
		set_key(h, 0xe1, true);
		push(h, 0);
	}
	set_key(h, usage, down);
	push(h, 0);
	if (add_shift && down) {
		set_key(h, 0xe1, false);
		push(h, 0);
	}
}

static uint8_t hid_buttons(unsigned x11)
{
	return (x11 & 1 ? 1 : 0) | (x11 & 4 ? 2 : 0) | (x11 & 2 ? 4 : 0);   /* left, right, middle */
}

/* long: a position plus a move (the input script's, any int) must not overflow before it is
 * clamped. */
static int clamp(long v)
{
	return v < 0 ? 0 : v > USB_TABLET_MAX ? USB_TABLET_MAX : v;
}

void usb_hid_pointer(struct usb_hid *h, int x, int y, int width, int height, unsigned mask)
{
	if (h->kind != USB_HID_TABLET || width < 2 || height < 2)
		return;
	h->x = clamp((long)x * USB_TABLET_MAX / (width - 1));
	h->y = clamp((long)y * USB_TABLET_MAX / (height - 1));
	h->buttons = hid_buttons(mask);
	push(h, (mask & 0x08 ? 1 : 0) - (mask & 0x10 ? 1 : 0));
}

void usb_hid_move(struct usb_hid *h, int dx, int dy, int dz, unsigned buttons)
{
	if (h->kind != USB_HID_TABLET)
		return;
	h->x = clamp((long)h->x + dx);
	h->y = clamp((long)h->y + dy);
	h->buttons = hid_buttons(buttons);
	push(h, -(long)dz);   /* the script's dz counts towards the user; HID's wheel away */
}

/* ---- the device -------------------------------------------------------------------------- */

static struct usb_hid *of(struct usb_device *d)
{
	return (struct usb_hid *)d;
}

static int transfer(struct usb_device *d, unsigned ep, uint8_t *buf, size_t len)
{
	struct usb_hid *h = of(d);
	if (ep != HID_EP_IN)
		return USB_RET_STALL;
	if (!h->count)
		return USB_RET_NAK;   /* nothing new: the host asks again after the wakeup */
	size_t n = len < h->report_len ? len : h->report_len;
	memcpy(buf, h->queue[h->head], n);
	h->head = (h->head + 1) % USB_HID_QUEUE;
	h->count--;
	return n;
}

static int class_request(struct usb_device *d, const struct usb_setup *s, uint8_t *data)
{
	struct usb_hid *h = of(d);
	if ((s->request_type & USB_TYPE_MASK) != USB_TYPE_CLASS)
		return USB_RET_STALL;
	switch (s->request) {
	case HID_GET_REPORT: {
		uint8_t r[USB_HID_REPORT_MAX];
		current_report(h, r);
		unsigned n = s->length < h->report_len ? s->length : h->report_len;
		memcpy(data, r, n);
		return n;
	}
	case HID_SET_REPORT:
		if (h->kind == USB_HID_KEYBOARD && s->length >= 1)
			h->leds = data[0];
		return 0;
	case HID_GET_IDLE:
		if (s->length < 1)
			return 0;
		data[0] = h->idle;
		return 1;
	case HID_SET_IDLE:
		h->idle = s->value >> 8;
		return 0;
	case HID_GET_PROTOCOL:
		if (s->length < 1)
			return 0;
		data[0] = h->protocol;
		return 1;
	case HID_SET_PROTOCOL:
		h->protocol = s->value & 1;
		return 0;
	}
	return USB_RET_STALL;
}

static void reset(struct usb_device *d)
{
	struct usb_hid *h = of(d);
	h->head = h->count = 0;
	h->modifiers = h->buttons = h->leds = 0;
	memset(h->keys, 0, sizeof(h->keys));
	h->protocol = 1;   /* report protocol after a reset (HID 7.2.6) */
	h->idle = 0;
}

static const struct usb_device_ops hid_ops = { class_request, transfer, reset };

void usb_hid_init(struct usb_hid *h, enum usb_hid_kind kind)
{
	memset(h, 0, sizeof(*h));
	bool kbd = kind == USB_HID_KEYBOARD;
	h->kind = kind;
	h->report_len = kbd ? 8 : 6;
	h->dev.name = kbd ? "usb-kbd" : "usb-tablet";
	h->dev.speed = USB_SPEED_FULL;
	h->dev.device_desc = device_desc;
	h->dev.config_desc = kbd ? keyboard_config : tablet_config;
	h->dev.config_len = CONFIG_LEN;
	h->dev.strings = kbd ? keyboard_strings : tablet_strings;
	h->dev.nstrings = 3;
	h->dev.report_desc = kbd ? keyboard_report : tablet_report;
	h->dev.report_len = kbd ? sizeof(keyboard_report) : sizeof(tablet_report);
	h->dev.ops = &hid_ops;
	usb_device_init(&h->dev);
	reset(&h->dev);
	h->x = h->y = USB_TABLET_MAX / 2;
}
