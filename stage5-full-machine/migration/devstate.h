/*
 * devstate.h - the state of the network cards, the flash and the USB devices, as bytes for a
 * migration stream section (vmstate.h writes and reads the sections).
 *
 * Teaches: what of a device must travel and what must not. A device model is two halves:
 * what the guest programmed and can see (registers, ring positions, the command a chip is
 * in the middle of, a report waiting to be read) and what this process owns (a file, a
 * socket, a thread, a pointer to guest RAM). Only the first half is saved; the destination
 * built the second half itself from the same command line. Each section is one "saved"
 * struct of plain fields, copied field by field (never the device struct itself, whose host
 * pointers would mean nothing in another process), with a version of its own: a new field
 * is a new version, and a destination refuses a version it does not know.
 *
 * The functions here touch only the structs (no KVM, no bus): what follows a load in the
 * machine (a KVM slot for the flash, the interrupt line) is vmstate.c's, and the unit tests
 * (tests/unit/test_stage5_devstate.c) run them on their own.
 */
#ifndef MIGRATION_DEVSTATE_H
#define MIGRATION_DEVSTATE_H

#include <stddef.h>
#include <stdint.h>

struct devstate_ops {
	const char *kind;          /* "e1000": the section is named "<kind>.<index>" */
	uint32_t version;
	/* The device's guest-visible state as a malloc'ed buffer of *len bytes; NULL: no memory. */
	uint8_t *(*save)(void *dev, uint32_t *len);
	/* Put it back. 0, or -EINVAL with one line in why (wrong size, a value out of range):
	 * then the device is unchanged. */
	int (*load)(void *dev, const uint8_t *p, uint32_t len, char *why, size_t why_len);
};

/* net/e1000.h: the register file, EEPROM, PHY, the EEPROM's wires, IOADDR, the offload
 * context and a frame half gathered from descriptors (variable length). */
extern const struct devstate_ops devstate_e1000;
/* Stage 4's virtio-net (struct virtio_net): the transport's state (features, status, ISR,
 * each queue's addresses and indices, the device configuration with the MAC). */
extern const struct devstate_ops devstate_virtio_net;
/* board/pflash.h: the command state machine (mode, status); the array is the file. */
extern const struct devstate_ops devstate_pflash;
/* usb/xhci.h: operational and runtime registers, the command and event rings' positions,
 * each port's PORTSC, each slot's and endpoint's state, the microframe index. */
extern const struct devstate_ops devstate_xhci;
/* usb/uhci.h: the registers, the frame number, each port's status and control transfer. */
extern const struct devstate_ops devstate_uhci;
/* usb/usb_hid.h: address, configuration, protocol, idle, LEDs, what is held, the queued
 * reports. */
extern const struct devstate_ops devstate_usb_hid;
/* usb/usb_storage.h: address, configuration, the Bulk-Only Transport phase, the command in
 * flight and its data position, the sense data. */
extern const struct devstate_ops devstate_usb_storage;

#endif
