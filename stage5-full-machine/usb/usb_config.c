/*
 * usb_config.c - parsing the USB options (usb_config.h): names, key=value lists, checks.
 *
 * Teaches: QEMU's split between a device (-device usb-storage,drive=d0) and its back end
 * (-drive if=none,id=d0,file=...), and checking what can be checked before a VM exists.
 */
#include "usb_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = { "usb-storage", "usb-tablet", "usb-kbd" };

/* QEMU's UHCI controllers: named, so that asking for one gets a clear answer. */
static bool uhci_name(const char *name)
{
	return !strcmp(name, "piix3-usb-uhci") || !strcmp(name, "piix4-usb-uhci") ||
	       !strncmp(name, "ich9-usb-uhci", 13);
}

bool usb_device_name_known(const char *name)
{
	if (!strcmp(name, "qemu-xhci") || !strcmp(name, "nec-usb-xhci") || uhci_name(name))
		return true;
	for (unsigned i = 0; i < 3; i++)
		if (!strcmp(name, kind_names[i]))
			return true;
	return false;
}

struct usb_device_config *usb_config_add(struct usb_config *c, const char *kind, char *why,
					 size_t why_len)
{
	for (unsigned i = 0; i < 3; i++) {
		if (strcmp(kind, kind_names[i]))
			continue;
		if (c->ndevices == USB_MAX_DEVICES) {
			snprintf(why, why_len, "at most %d USB devices", USB_MAX_DEVICES);
			return NULL;
		}
		struct usb_device_config *d = &c->devices[c->ndevices++];
		memset(d, 0, sizeof(*d));
		d->kind = i;
		d->bootindex = -1;
		return d;
	}
	snprintf(why, why_len, "unknown USB device '%s' (known: usb-storage, usb-tablet, "
		 "usb-kbd)", kind);
	return NULL;
}

/* One key=value of a -device for a USB device. */
static int device_option(struct usb_device_config *d, const char *key, const char *v,
			 char *why, size_t why_len)
{
	if (!strcmp(key, "drive") && d->kind == USB_DEV_STORAGE) {
		if (!*v || strlen(v) >= USB_ID_LEN) {
			snprintf(why, why_len, "drive=%s: not a drive id", v);
			return -1;
		}
		snprintf(d->drive, sizeof(d->drive), "%s", v);
		return 0;
	}
	if (!strcmp(key, "port")) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || end == v || n < 1 || n > 4) {
			snprintf(why, why_len, "port=%s: the ports are 1 to 4 (xHCI's USB 2), 1 to 2 "
				 "(UHCI)", v);
			return -1;
		}
		d->port = n;
		return 0;
	}
	if (!strcmp(key, "bootindex")) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || end == v || n < 0 || n > 999) {
			snprintf(why, why_len, "bootindex=%s: a number 0 to 999", v);
			return -1;
		}
		d->bootindex = n;
		return 0;
	}
	if (!strcmp(key, "id") || !strcmp(key, "bus") || !strcmp(key, "removable"))
		return 0;   /* QEMU's, harmless here: one controller, the bootorder's own order */
	snprintf(why, why_len, "unknown option '%s' (known: %sport, id)", key,
		 d->kind == USB_DEV_STORAGE ? "drive, bootindex, " : "");
	return -1;
}

int usb_config_device(struct usb_config *c, const char *text, char *why, size_t why_len)
{
	size_t n = strcspn(text, ",");
	char name[32];
	snprintf(name, sizeof(name), "%.*s", (int)(n < 31 ? n : 31), text);
	bool controller = !strcmp(name, "qemu-xhci") || !strcmp(name, "nec-usb-xhci");
	struct usb_device_config *d = NULL;
	if (uhci_name(name)) {
		controller = true;
		c->controller = USB_CONTROLLER_UHCI;
	} else if (controller) {
		c->controller = USB_CONTROLLER_XHCI;
	} else if (!(d = usb_config_add(c, name, why, why_len))) {
		return -1;
	}
	char *copy = strdup(text + n), *save = NULL;
	int rc = copy ? 0 : -1;
	for (char *item = copy ? strtok_r(copy, ",", &save) : NULL; item && !rc;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		if (!eq) {
			snprintf(why, why_len, "'%s' is not key=value", item);
			rc = -1;
			break;
		}
		*eq = '\0';
		if (controller)
			rc = strcmp(item, "id") && strcmp(item, "bus") && strcmp(item, "addr") &&
			     strcmp(item, "p2") && strcmp(item, "p3") ?
			     (snprintf(why, why_len, "unknown option '%s' (known: id)", item), -1) : 0;
		else
			rc = device_option(d, item, eq + 1, why, why_len);
	}
	free(copy);
	if (!rc && d && d->kind == USB_DEV_STORAGE && !d->drive[0]) {
		snprintf(why, why_len, "usb-storage needs drive=ID (a -drive if=none,id=ID,...)");
		rc = -1;
	}
	return rc;
}

int usb_config_finish(const struct usb_config *c, char *why, size_t why_len)
{
	if (c->ndevices && c->controller == USB_CONTROLLER_NONE) {
		snprintf(why, why_len, "-device %s: there is no USB controller (add -device "
			 "qemu-xhci or -usb)", kind_names[c->devices[0].kind]);
		return -1;
	}
	for (unsigned i = 0; i < c->ndevices; i++)
		for (unsigned j = 0; j < i; j++)
			if (c->devices[i].port && c->devices[i].port == c->devices[j].port) {
				snprintf(why, why_len, "-device %s: USB port %u is taken",
					 kind_names[c->devices[i].kind], c->devices[i].port);
				return -1;
			}
	return 0;
}
