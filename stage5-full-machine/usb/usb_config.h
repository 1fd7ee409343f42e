/*
 * usb_config.h - how USB is described: QEMU's -device options, -usb, and the YAML key `usb`.
 *
 *   -device qemu-xhci[,id=ID]                 the xHCI controller (usb/xhci.h)
 *   -usb                                      the same (this machine's USB controller)
 *   -device piix3-usb-uhci                    the UHCI controller (usb/uhci.h): 2 ports, USB 1.1
 *   -device usb-storage,drive=ID[,port=N][,bootindex=N]   a stick; the disk is a
 *                                             -drive if=none,id=ID,...; bootindex: it boots
 *                                             before the disks (lowest first), else after
 *   -device usb-tablet[,port=N]               an absolute pointer (HID)
 *   -device usb-kbd[,port=N]                  a keyboard (HID, boot protocol)
 *
 *   usb: { controller: xhci|uhci,
 *          devices: [ usb-tablet, usb-kbd, { type: usb-storage, file: F, format: raw|qcow2,
 *                     readonly: false } ] }
 *
 * Devices take the controller's ports in order (1, 2, ...) unless port= says: xHCI's USB 2
 * ports 1-4, UHCI's 1-2. One controller a machine.
 * This file only parses and checks; usb.c opens the disks and builds the devices.
 */
#ifndef USB_CONFIG_H
#define USB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define USB_MAX_DEVICES 4
#define USB_ID_LEN 32

enum usb_controller_kind { USB_CONTROLLER_NONE, USB_CONTROLLER_XHCI, USB_CONTROLLER_UHCI };
enum usb_device_kind { USB_DEV_STORAGE, USB_DEV_TABLET, USB_DEV_KBD };

struct usb_device_config {
	enum usb_device_kind kind;
	char drive[USB_ID_LEN];       /* usb-storage: the -drive id */
	const char *file;             /* usb-storage from YAML: the image itself */
	unsigned format;              /* with file: 0 (probe), BLOCK_FORMAT_RAW or _QCOW2 */
	bool readonly;
	unsigned port;                /* 0: the next free one */
	int bootindex;                /* bootindex=N: boots before the disks; -1: after them */
};

struct usb_config {
	enum usb_controller_kind controller;
	struct usb_device_config devices[USB_MAX_DEVICES];
	unsigned ndevices;
};

/* Is name one of ours ("qemu-xhci", "usb-storage", "usb-tablet", "usb-kbd")? */
bool usb_device_name_known(const char *name);
/* -device NAME[,k=v...] for one of those names. 0, or -1 with the problem in why. */
int usb_config_device(struct usb_config *c, const char *text, char *why, size_t why_len);
/* A device by its kind name ("usb-tablet"); for YAML. NULL when full or unknown (why). */
struct usb_device_config *usb_config_add(struct usb_config *c, const char *kind, char *why,
					 size_t why_len);
/* After all options: a device without a controller is an error. 0 or -1 with why. */
int usb_config_finish(const struct usb_config *c, char *why, size_t why_len);

#endif
