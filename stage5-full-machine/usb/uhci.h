/*
 * uhci.h - the Universal Host Controller (UHCI 1.1): the PIIX3's USB function, 8086:7020.
 *
 * UHCI is the controller of the first USB PCs: a USB 1.1 (full and low speed) root hub with two
 * ports, and a *schedule* in guest RAM that the controller walks once a millisecond, one frame
 * at a time. The guest writes where the frame list is (1024 pointers, FRBASEADD); frame n's
 * pointer leads to Transfer Descriptors (TDs: one packet each - SETUP, IN or OUT, up to 1023
 * bytes) and Queue Heads (QHs: a queue of TDs, run in order, and a link to what comes next).
 * The controller clears a TD's Active bit when its packet is done, and raises an interrupt for
 * one marked IOC.
 *
 *   I/O BAR4, 32 ports: 0x00 USBCMD (run, resets, max packet), 0x02 USBSTS (interrupt, error,
 *   host system error, halted; write 1 to clear), 0x04 USBINTR, 0x06 FRNUM, 0x08 FRBASEADD,
 *   0x0c SOFMOD, 0x10/0x12 PORTSC1/2 (connected, enabled, reset, their change bits)
 *
 * Here a thread runs one frame a millisecond while the controller runs, under the bus lock.
 * A packet goes to the device model (usb.h) at once; a control transfer, three or more TDs
 * (SETUP, data, status), is put together per port: the request runs at SETUP (IN) or at the
 * status stage (OUT with data).
 *
 * Hostile guests: the frame list, a TD or QH, or a buffer outside RAM is a Host System Error
 * (USBSTS.HSE, the controller halts); a frame's walk stops after UHCI_MAX_ELEMENTS TDs and QHs
 * (Linux's full-speed bandwidth reclamation loops on purpose; so may a hostile guest). One
 * stderr line each, up to a limit.
 */
#ifndef UHCI_H
#define UHCI_H

#include <pthread.h>

#include "usb.h"

#include "bus.h"
#include "guest_memory.h"
#include "guest_error.h"
#include "pci.h"

#define UHCI_PORTS 2
#define UHCI_IO_SIZE 32
#define UHCI_MAX_ELEMENTS 1024        /* TDs and QHs walked in one frame */
#define UHCI_CONTROL_MAX 4096         /* a control transfer's data stage */

/* A control transfer being put together from its TDs. */
struct uhci_control {
	uint8_t setup[8];
	bool active, in;
	uint8_t data[UHCI_CONTROL_MAX];
	unsigned len, pos;            /* IN: the answer and how far it went; OUT: bytes so far */
};

struct uhci {
	struct pci_device pci;
	const struct guest_memory *mem;
	uint16_t cmd, sts, intr, frnum;
	uint32_t flbase;
	uint8_t sof;
	uint16_t portsc[UHCI_PORTS];
	struct usb_device *dev[UHCI_PORTS];
	struct uhci_control ctl[UHCI_PORTS];
	uint8_t packet[1024];
	struct guest_errors errors;      /* lines said about the guest (guest_error.h) */
	/* the frame thread */
	pthread_mutex_t *lock;
	pthread_t thread;
	bool thread_running;
	volatile bool stop;
};

void uhci_init(struct uhci *u, const struct guest_memory *mem);
int uhci_plug(struct uhci *u, unsigned port, struct usb_device *dev);
/* One frame (the thread calls it under the lock; unit tests directly). */
void uhci_frame(struct uhci *u);
int uhci_io_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len);
int uhci_io_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len);

/* At slot.fn of pci (I/O BAR4 for firmware to assign; INTD# on pc as PIIX3's, to gsi). */
int uhci_attach(struct uhci *u, struct io_bus *bus, struct pci_host *pci,
		const struct guest_memory *mem, int vm_fd, unsigned slot, unsigned fn,
		unsigned pin, unsigned gsi, char *why, size_t why_len);
/* The frame thread, with the bus lock. */
int uhci_start(struct uhci *u, pthread_mutex_t *lock);
void uhci_stop(struct uhci *u);

#endif
