/*
 * usb.h - a USB device as a host controller sees it: descriptors, standard requests, endpoints.
 *
 * USB (Universal Serial Bus 2.0, chapter 9) puts every device behind the same small protocol:
 * endpoint 0 is the control pipe, where each transfer starts with an 8-byte SETUP packet
 * (bmRequestType, bRequest, wValue, wIndex, wLength), may carry a data stage, and ends with a
 * status stage. The standard requests (GET_DESCRIPTOR, SET_ADDRESS, SET_CONFIGURATION, ...)
 * are the same for every device, so this file answers them from the device's descriptors;
 * only class requests (Bulk-Only reset, HID GET_REPORT) reach the device model. Data moves on
 * the other endpoints (bulk for a stick, interrupt for a keyboard), each one direction.
 *
 * A host controller model (xhci.c) turns guest rings into whole transfers: one control
 * transfer (setup + data buffer) or one bulk/interrupt transfer (a buffer and a length), and
 * calls usb_control() or usb_data(). Everything here is synchronous: an answer is ready when
 * the call returns, or the endpoint NAKs (nothing to say yet; an interrupt endpoint of a
 * keyboard with no key pressed) and the controller asks again after usb_device's wakeup.
 *
 * Devices: usb_storage.c (Bulk-Only mass storage), usb_hid.c (keyboard, tablet).
 */
#ifndef USB_H
#define USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Device speeds, in the order of xHCI's Port Speed IDs less one. */
enum usb_speed { USB_SPEED_FULL = 1, USB_SPEED_LOW = 2, USB_SPEED_HIGH = 3, USB_SPEED_SUPER = 4 };

/* usb_control()/usb_data() answers other than a byte count. */
#define USB_RET_NAK   (-1)   /* no data now: try again after the wakeup */
#define USB_RET_STALL (-2)   /* the request or the endpoint is refused (halted) */

/* bmRequestType and bRequest (USB 2.0 9.3, 9.4). */
#define USB_DIR_IN        0x80
#define USB_TYPE_MASK     0x60
#define USB_TYPE_STANDARD 0x00
#define USB_TYPE_CLASS    0x20
#define USB_RECIP_MASK    0x1f
#define USB_RECIP_DEVICE  0
#define USB_RECIP_INTERFACE 1
#define USB_RECIP_ENDPOINT 2

#define USB_REQ_GET_STATUS        0
#define USB_REQ_CLEAR_FEATURE     1
#define USB_REQ_SET_FEATURE       3
#define USB_REQ_SET_ADDRESS       5
#define USB_REQ_GET_DESCRIPTOR    6
#define USB_REQ_GET_CONFIGURATION 8
#define USB_REQ_SET_CONFIGURATION 9
#define USB_REQ_GET_INTERFACE     10
#define USB_REQ_SET_INTERFACE     11

#define USB_DT_DEVICE    1
#define USB_DT_CONFIG    2
#define USB_DT_STRING    3
#define USB_DT_INTERFACE 4
#define USB_DT_ENDPOINT  5
#define USB_DT_HID       0x21
#define USB_DT_REPORT    0x22

#define USB_MAX_ENDPOINTS 16

struct usb_setup {
	uint8_t request_type, request;
	uint16_t value, index, length;
};

void usb_setup_parse(struct usb_setup *s, const uint8_t raw[8]);

struct usb_device;

struct usb_device_ops {
	/* A class or vendor request (standard ones never come here): bytes of the data stage
	 * written into data (IN) or taken from it (OUT, s->length bytes), or USB_RET_STALL. */
	int (*class_request)(struct usb_device *d, const struct usb_setup *s, uint8_t *data);
	/* A bulk or interrupt transfer on endpoint ep (bit 7: IN): bytes moved, USB_RET_NAK or
	 * USB_RET_STALL. An IN transfer shorter than len ends the transfer (a short packet). */
	int (*transfer)(struct usb_device *d, unsigned ep, uint8_t *buf, size_t len);
	/* A bus reset (port reset): back to the default state, address 0. */
	void (*reset)(struct usb_device *d);
};

struct usb_device {
	const char *name;                 /* "usb-storage": in messages */
	enum usb_speed speed;
	const uint8_t *device_desc;       /* 18 bytes */
	const uint8_t *config_desc;       /* the whole configuration: interfaces, endpoints */
	size_t config_len;
	const char *const *strings;       /* string i + 1 (index 0 is the language list) */
	unsigned nstrings;
	const uint8_t *report_desc;       /* HID only: GET_DESCRIPTOR(REPORT) */
	size_t report_len;
	const struct usb_device_ops *ops;
	/* Set by usb_device_init / the requests: */
	uint8_t address, configuration;
	bool remote_wakeup;
	uint32_t halted;                  /* bit n: IN endpoint n halted; bit 16 + n: OUT */
	/* The controller's doorbell for "an endpoint that NAKed has data now" (HID). */
	void (*wakeup)(void *controller, struct usb_device *d, unsigned ep);
	void *controller;
};

/* Defaults after the descriptors are set (address 0, unconfigured). */
void usb_device_init(struct usb_device *d);
void usb_device_reset(struct usb_device *d);

/*
 * One control transfer: setup, then a data stage of at most s->length bytes in data (the
 * caller's buffer holds s->length). Returns the data stage's length (IN: bytes written to
 * data), or USB_RET_STALL.
 */
int usb_control(struct usb_device *d, const uint8_t setup[8], uint8_t *data);
/* A bulk or interrupt transfer: honours ENDPOINT_HALT, then the device's transfer(). */
int usb_data(struct usb_device *d, unsigned ep, uint8_t *buf, size_t len);
/* Stall endpoint ep (bit 7: IN) until CLEAR_FEATURE(ENDPOINT_HALT) or a reset. */
void usb_halt(struct usb_device *d, unsigned ep);

/* Endpoint ep's maximum packet size and type from the configuration descriptor (0: none). */
unsigned usb_endpoint_max_packet(const struct usb_device *d, unsigned ep);

#endif
