/*
 * usb_machine.h - USB in the PC: the controller, the devices on its ports, their disks.
 *
 * What board/pc.c calls, in its two halves: the host side (usb_open: the sticks' disk images,
 * once per process) and the machine side (usb_attach: the controller and the device models in
 * their power-on state, again after every guest reset), plus the boot paths SeaBIOS matches
 * the fw_cfg "bootorder" file against.
 *
 * The controller sits at a fixed PCI address, so that its boot path is known before the machine
 * is built: xHCI at 00:0d.0 (USB_PCI_SLOT, both machines): /pci@i0cf8/usb@d/storage@PORT/...;
 * UHCI at 00:01.2 on pc (the PIIX3's function: usb@1,2), 00:1d.0 on q35 (usb@1d).
 */
#ifndef USB_MACHINE_H
#define USB_MACHINE_H

#include "config.h"
#include "usb_config.h"
#include "usb_hid.h"
#include "usb_storage.h"
#include "uhci.h"
#include "xhci.h"

#define USB_PCI_SLOT 0x0d
/* UHCI: the PIIX3's function 2 on pc (00:01.2, INTD#), a PIIX3 UHCI at 00:1d.0 on q35. */
#define USB_UHCI_PC_SLOT 1
#define USB_UHCI_PC_FN 2
#define USB_UHCI_Q35_SLOT 0x1d

struct pc_usb {
	bool has_controller;
	bool q35;                                    /* where the UHCI is */
	bool uhci_boot;                              /* the controller is UHCI (boot paths) */
	struct xhci xhci;
	struct uhci uhci;
	struct block_dev *disks[USB_MAX_DEVICES];    /* host side: per usb-storage device */
	struct usb_storage storage[USB_MAX_DEVICES];
	struct usb_hid hid[USB_MAX_DEVICES];         /* usb-kbd, usb-tablet */
	struct usb_device *devices[USB_MAX_DEVICES]; /* what is plugged in, by config order */
	unsigned ports[USB_MAX_DEVICES];             /* where (1-based) */
};

/* Open the sticks' images (drive=ID looked up among drives, or the YAML file); unlocked for
 * an incoming migration, whose source holds them until it hands over (migration/migrate.h).
 * 0, or a negative errno with one line in why. */
int usb_open(struct pc_usb *u, const struct usb_config *c, const struct drive_config *drives,
	     unsigned ndrives, bool q35, bool incoming, char *why, size_t why_len);
/* Build the controller and the devices (power-on state) and plug them in. */
int usb_attach(struct pc_usb *u, const struct usb_config *c, struct io_bus *bus,
	       struct pci_host *pci, const struct guest_memory *mem, int vm_fd, unsigned gsi,
	       char *why, size_t why_len);
void usb_detach(struct pc_usb *u);
/* UHCI's frame thread (nothing for xHCI), while the machine runs. */
int usb_start(struct pc_usb *u, pthread_mutex_t *lock);
void usb_stop(struct pc_usb *u);
/*
 * Host input for the USB keyboards and tablets (none: nothing happens). All with the bus lock
 * held. The input script's sink (input/input.h); a VNC key (X11 keysym); a VNC pointer
 * (absolute, on a screen of width x height).
 */
struct input_sink;
void usb_input_sink(struct pc_usb *u, struct input_sink *sink);
void usb_vnc_key(struct pc_usb *u, uint32_t keysym, bool down);
void usb_vnc_pointer(struct pc_usb *u, int x, int y, int width, int height, unsigned mask);
void usb_close(struct pc_usb *u);
/*
 * The sticks' boot paths, one add() each: with indexed, those with a bootindex (lowest
 * first: they boot before the disks); without, the others (after the disks), in config order.
 */
void usb_bootorder(const struct pc_usb *u, const struct usb_config *c, bool indexed,
		   void (*add)(void *opaque, const char *path), void *opaque);

#endif
