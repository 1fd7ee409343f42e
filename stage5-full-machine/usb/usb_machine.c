/*
 * usb_machine.c - putting USB into the PC (usb_machine.h): disks, ports, the controller.
 *
 * Teaches: the split every device of this machine follows - host resources opened once,
 * device models rebuilt in their power-on state on each reset - and how a device is found
 * by the firmware's boot order (a path of PCI slot, USB port and LUN).
 */
#include "usb_machine.h"

#include "block/block.h"
#include "input/input.h"
#include "input/keymap.h"
#include "board/chipset.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct drive_config *find_drive(const struct drive_config *drives, unsigned n,
					     const char *id)
{
	for (unsigned i = 0; i < n; i++)
		if (drives[i].interface == DRIVE_IF_NONE && drives[i].id && !strcmp(drives[i].id, id))
			return &drives[i];
	return NULL;
}

/* Ports: what port= says, else the next free USB 2 port, in config order. */
static int assign_ports(struct pc_usb *u, const struct usb_config *c, char *why, size_t why_len)
{
	bool taken[XHCI_PORTS_USB2 + 1] = { false };
	unsigned nports = c->controller == USB_CONTROLLER_UHCI ? UHCI_PORTS : XHCI_PORTS_USB2;
	for (unsigned i = 0; i < c->ndevices; i++)
		if (c->devices[i].port > nports) {
			snprintf(why, why_len, "USB port %u: the controller has %u", c->devices[i].port,
				 nports);
			return -EINVAL;
		}
	for (unsigned i = 0; i < c->ndevices; i++)
		if (c->devices[i].port)
			taken[u->ports[i] = c->devices[i].port] = true;
	for (unsigned i = 0; i < c->ndevices; i++) {
		for (unsigned p = 1; !u->ports[i] && p <= nports; p++)
			if (!taken[p])
				taken[u->ports[i] = p] = true;
		if (!u->ports[i]) {
			snprintf(why, why_len, "USB: no free port (the controller has %u)", nports);
			return -ENOSPC;
		}
	}
	return 0;
}

int usb_open(struct pc_usb *u, const struct usb_config *c, const struct drive_config *drives,
	     unsigned ndrives, bool q35, bool incoming, char *why, size_t why_len)
{
	memset(u, 0, sizeof(*u));
	u->q35 = q35;
	u->uhci_boot = c->controller == USB_CONTROLLER_UHCI;
	for (unsigned i = 0; i < c->ndevices; i++) {
		const struct usb_device_config *d = &c->devices[i];
		if (d->kind != USB_DEV_STORAGE)
			continue;
		const char *file = d->file;
		unsigned flags = d->format | (d->readonly ? BLOCK_RDONLY : 0);
		if (!file) {
			const struct drive_config *dr = find_drive(drives, ndrives, d->drive);
			if (!dr) {
				snprintf(why, why_len, "-device usb-storage,drive=%s: no -drive "
					 "if=none,id=%s", d->drive, d->drive);
				return -ENOENT;
			}
			file = dr->file;
			flags = dr->format | (dr->readonly ? BLOCK_RDONLY : 0);
		}
		if (incoming)
			flags |= BLOCK_NO_LOCK;
		int err = block_open(file, flags, &u->disks[i], why, why_len);
		if (err)
			return err;
	}
	return assign_ports(u, c, why, why_len);
}

int usb_attach(struct pc_usb *u, const struct usb_config *c, struct io_bus *bus,
	       struct pci_host *pci, const struct guest_memory *mem, int vm_fd, unsigned gsi,
	       char *why, size_t why_len)
{
	if (c->controller == USB_CONTROLLER_NONE)
		return 0;
	bool uhci = c->controller == USB_CONTROLLER_UHCI;
	int err;
	if (uhci) {
		memset(&u->uhci, 0, sizeof(u->uhci));
		unsigned slot = u->q35 ? USB_UHCI_Q35_SLOT : USB_UHCI_PC_SLOT;
		unsigned fn = u->q35 ? 0 : USB_UHCI_PC_FN, pin = u->q35 ? 1 : 4;
		err = uhci_attach(&u->uhci, bus, pci, mem, vm_fd, slot, fn, pin,
				  chipset_intx_gsi(slot, pin - 1), why, why_len);
	} else {
		memset(&u->xhci, 0, sizeof(u->xhci));
		err = xhci_attach(&u->xhci, bus, pci, mem, vm_fd, USB_PCI_SLOT, gsi, why, why_len);
	}
	u->has_controller = true;
	for (unsigned i = 0; !err && i < c->ndevices; i++) {
		const struct usb_device_config *d = &c->devices[i];
		if (d->kind == USB_DEV_STORAGE) {
			usb_storage_init(&u->storage[i], u->disks[i]);
			if (uhci)
				usb_storage_full_speed(&u->storage[i]);
			u->devices[i] = &u->storage[i].dev;
		} else {
			usb_hid_init(&u->hid[i], d->kind == USB_DEV_KBD ? USB_HID_KEYBOARD
								  : USB_HID_TABLET);
			u->devices[i] = &u->hid[i].dev;
		}
		err = uhci ? uhci_plug(&u->uhci, u->ports[i], u->devices[i])
			   : xhci_plug(&u->xhci, u->ports[i], u->devices[i]);
		if (err)
			snprintf(why, why_len, "USB port %u is taken", u->ports[i]);
	}
	return err;
}

int usb_start(struct pc_usb *u, pthread_mutex_t *lock)
{
	return u->has_controller && u->uhci.pci.owner ? uhci_start(&u->uhci, lock) : 0;
}

void usb_stop(struct pc_usb *u)
{
	uhci_stop(&u->uhci);
}

void usb_detach(struct pc_usb *u)
{
	if (u->has_controller)
		xhci_detach(&u->xhci);
	u->has_controller = false;
}

/* The HID devices plugged in, of a kind. */
static void each_hid(struct pc_usb *u, enum usb_hid_kind kind,
		     void (*fn)(struct usb_hid *h, void *arg), void *arg)
{
	for (unsigned i = 0; u->has_controller && i < USB_MAX_DEVICES; i++)
		if (u->devices[i] == &u->hid[i].dev && u->hid[i].kind == kind)
			fn(&u->hid[i], arg);
}

struct key_event {
	const struct ps2_key *key;
	bool shifted, down;
};

static void key_one(struct usb_hid *h, void *arg)
{
	struct key_event *e = arg;
	usb_hid_key(h, e->key, e->shifted, e->down);
}

static void sink_key(void *opaque, const struct ps2_key *key, bool shifted, bool down)
{
	struct key_event e = { key, shifted, down };
	each_hid(opaque, USB_HID_KEYBOARD, key_one, &e);
}

struct move_event {
	int dx, dy, dz, x, y, width, height;
	unsigned buttons;
};

static void move_one(struct usb_hid *h, void *arg)
{
	struct move_event *e = arg;
	usb_hid_move(h, e->dx, e->dy, e->dz, e->buttons);
}

static void sink_move(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
	struct move_event e = { dx, dy, dz, 0, 0, 0, 0, buttons };
	each_hid(opaque, USB_HID_TABLET, move_one, &e);
}

void usb_input_sink(struct pc_usb *u, struct input_sink *sink)
{
	sink->key = sink_key;
	sink->move = sink_move;
	sink->opaque = u;
}

void usb_vnc_key(struct pc_usb *u, uint32_t keysym, bool down)
{
	struct keymap_entry e;
	if (keymap_lookup(keysym, &e))
		sink_key(u, &e.key, e.shifted, down);
}

static void pointer_one(struct usb_hid *h, void *arg)
{
	struct move_event *e = arg;
	usb_hid_pointer(h, e->x, e->y, e->width, e->height, e->buttons);
}

void usb_vnc_pointer(struct pc_usb *u, int x, int y, int width, int height, unsigned mask)
{
	struct move_event e = { 0, 0, 0, x, y, width, height, mask };
	each_hid(u, USB_HID_TABLET, pointer_one, &e);
}

void usb_close(struct pc_usb *u)
{
	usb_detach(u);
	for (unsigned i = 0; i < USB_MAX_DEVICES; i++)
		if (u->disks[i])
			block_close(u->disks[i]);
	memset(u->disks, 0, sizeof(u->disks));
}

static void boot_path(const struct pc_usb *u, unsigned i, char *out, size_t len)
{
	/* SeaBIOS numbers a device by its port within its protocol (USB 2 ports 1-4 here). */
	if (u->uhci_boot && !u->q35)
		snprintf(out, len, "/pci@i0cf8/usb@%x,%x/storage@%u/channel@0/disk@0,0",
			 USB_UHCI_PC_SLOT, USB_UHCI_PC_FN, u->ports[i]);
	else
		snprintf(out, len, "/pci@i0cf8/usb@%x/storage@%u/channel@0/disk@0,0",
			 u->uhci_boot ? USB_UHCI_Q35_SLOT : USB_PCI_SLOT, u->ports[i]);
}

void usb_bootorder(const struct pc_usb *u, const struct usb_config *c, bool indexed,
		   void (*add)(void *opaque, const char *path), void *opaque)
{
	char path[96];
	if (c->controller == USB_CONTROLLER_NONE)
		return;
	for (int index = indexed ? 0 : -1; index < (indexed ? 1000 : 0); index++) {
		for (unsigned i = 0; i < c->ndevices; i++) {
			const struct usb_device_config *d = &c->devices[i];
			if (d->kind != USB_DEV_STORAGE || d->bootindex != index)
				continue;
			boot_path(u, i, path, sizeof(path));
			add(opaque, path);
		}
	}
}
