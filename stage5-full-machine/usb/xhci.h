/*
 * xhci.h - the eXtensible Host Controller (xHCI 1.0): QEMU's qemu-xhci, PCI 1b36:000d.
 *
 * xHCI replaced the per-frame schedules of UHCI/EHCI with rings in guest RAM, one per
 * endpoint, and doorbells. The guest writes Transfer Request Blocks (TRBs, 16 bytes: a
 * pointer or immediate data, a length, a type and a cycle bit) into a ring and rings the
 * endpoint's doorbell; the controller walks the ring while each TRB's cycle bit matches its
 * own Consumer Cycle State, and answers with events in an event ring. A Link TRB joins ring
 * segments (and may toggle the cycle state, which is how a ring wraps).
 *
 *   BAR0 (16 KiB of MMIO, a 32-bit memory BAR)
 *     0x0000 capability registers: CAPLENGTH, HCIVERSION, HCSPARAMS1-3 (slots, ports,
 *            interrupters), HCCPARAMS1 (64-bit addresses, 32-byte contexts, where the
 *            extended capabilities are), DBOFF, RTSOFF
 *     0x0020 extended capabilities: Supported Protocol "USB 2.0" (ports 1-4) and "USB 3.0"
 *            (ports 5-8)
 *     0x0040 operational registers: USBCMD (run, reset, interrupts), USBSTS (halted, host
 *            system error, event interrupt, ...), CRCR (the command ring), DCBAAP (the
 *            Device Context Base Address Array), CONFIG (slots enabled)
 *     0x0440 port registers, 16 bytes a port: PORTSC (connected, enabled, reset, link state,
 *            speed, and the change bits that the guest clears by writing 1)
 *     0x1000 runtime registers: MFINDEX, interrupter 0 (IMAN, IMOD, ERSTSZ, ERSTBA, ERDP)
 *     0x2000 doorbells: 0 for the command ring, n for device slot n (the value: which endpoint)
 *     0x3000 the MSI-X table (one entry), 0x3800 its pending bit array
 *
 * In guest RAM: the command ring; the event ring (its segment table, ERST); the DCBAA, whose
 * entry n points at slot n's Device Context (a slot context and 31 endpoint contexts that the
 * controller writes); the Input Contexts the commands read; one transfer ring per endpoint.
 *
 * Everything runs synchronously in the vCPU's doorbell write: commands complete, transfers go
 * through the device model (usb.h) and their events are written before the store returns.
 * An interrupt endpoint with nothing to say (a HID device, no key pressed) keeps its TD on the
 * ring; the device's wakeup runs that ring again. The interrupt is MSI-X (one vector, its
 * table at 0x3000 of BAR0) when the guest enables it, else INTx (level, INTA#).
 *
 * Hostile guests: every guest pointer goes through gpa_to_hva (guest_memory.h). A ring,
 * context or buffer outside RAM stops the controller with Host System Error (USBSTS.HSE, as
 * a PCI master abort would); a link-TRB loop or a TD longer than XHCI_MAX_TD_TRBS is a TRB
 * Error on that endpoint (a Host Controller Error on the command ring). An event ring the
 * guest stops reading gets an Event Ring Full Error event in its last free TRB, then nothing
 * until ERDP moves. One stderr line each, up to a limit; the VMM runs on.
 */
#ifndef XHCI_H
#define XHCI_H

#include "usb.h"

#include "bus.h"
#include "guest_memory.h"
#include "guest_error.h"
#include "pci.h"

#define XHCI_PORTS_USB2 4
#define XHCI_PORTS_USB3 4
#define XHCI_PORTS (XHCI_PORTS_USB2 + XHCI_PORTS_USB3)
#define XHCI_SLOTS 16
#define XHCI_ENDPOINTS 32            /* device context indexes (DCI) 1..31 */
#define XHCI_MMIO_SIZE 0x4000u
#define XHCI_MSIX_TABLE 0x3000u       /* in BAR0, after the doorbells (as QEMU's) */
#define XHCI_MSIX_PBA   0x3800u
#define XHCI_MAX_LINKS 32            /* Link TRBs in a row before "this is a loop" */
#define XHCI_MAX_TD_TRBS 512         /* TRBs in one TD (a chain) before "endless chain" */
#define XHCI_MAX_TD_BYTES (4u << 20) /* a TD moving more is refused (TRB Error) */

/* A TRB as read from guest RAM, with where it was. */
struct xhci_trb {
	uint64_t param;
	uint32_t status, control;
	uint64_t addr;
};

/* A ring as its consumer (the controller) sees it: where to read next, and which cycle
 * bit marks a TRB as the producer's newest. */
struct xhci_ring {
	uint64_t dequeue;
	bool ccs;
};

enum xhci_fetch { XHCI_FETCH_TRB, XHCI_FETCH_EMPTY, XHCI_FETCH_OUTSIDE_RAM, XHCI_FETCH_LOOP };

/*
 * The ring walker (pure, unit-tested): read the TRB at the dequeue pointer, following Link
 * TRBs (toggling the cycle state where they say so), at most XHCI_MAX_LINKS of them in a row.
 * XHCI_FETCH_TRB: *trb is the next TRB and the ring has moved past it. EMPTY: the producer
 * has not written it yet (cycle bit), the ring is where it was. OUTSIDE_RAM: a TRB or link
 * target is not guest RAM. LOOP: too many links in a row.
 */
enum xhci_fetch xhci_ring_fetch(const struct guest_memory *mem, struct xhci_ring *ring,
				struct xhci_trb *trb);

struct xhci_endpoint {
	struct xhci_ring ring;
	uint8_t state;                 /* EP state: 0 disabled, 1 running, 2 halted, 3 stopped */
	uint8_t type;                  /* EP type: 4 control, 2/6 bulk out/in, 3/7 interrupt */
	bool waiting;                  /* an IN TD was NAKed: run again on the device's wakeup */
};

struct xhci_slot {
	bool enabled;
	uint8_t state;                 /* slot state: 0 enabled, 1 default, 2 addressed, 3 configured */
	unsigned port;                 /* root hub port, 1-based; 0: none yet */
	uint64_t context;              /* the output Device Context (from the DCBAA) */
	struct xhci_endpoint ep[XHCI_ENDPOINTS];
};

struct xhci_port {
	uint32_t portsc;
	struct usb_device *dev;        /* NULL: nothing plugged in */
};

struct xhci {
	struct pci_device pci;
	const struct guest_memory *mem;
	uint32_t usbcmd, usbsts, dnctrl, config;
	uint64_t dcbaap, crcr;
	struct xhci_ring cmd_ring;
	bool cmd_ring_running;
	/* Interrupter 0 and its event ring. */
	uint32_t iman, imod, erstsz;
	uint64_t erstba, erdp;
	uint64_t ev_seg_base;
	uint32_t ev_seg_size, ev_index, ev_seg;
	bool ev_pcs;
	bool ev_full_reported;         /* Event Ring Full Error posted; nothing more until ERDP moves */
	struct xhci_port ports[XHCI_PORTS];
	struct xhci_slot slots[XHCI_SLOTS + 1];   /* slot IDs are 1-based */
	struct xhci_trb td[XHCI_MAX_TD_TRBS];     /* the TD being run */
	uint8_t *bounce;                          /* a TD's bytes, gathered or to scatter */
	size_t bounce_size;
	struct guest_errors errors;      /* lines said about the guest (guest_error.h) */
	uint64_t start_ns;                        /* MFINDEX counts from here */
	/* MSI-X, one vector (interrupter 0); msix_cap 0: none (xhci_add_msix not called). */
	uint8_t msix_cap;                /* where the capability is in config space */
	uint32_t msix_entry[4];          /* the table entry: address low, high, data, control */
	bool msix_pending;               /* the PBA bit: a message held back by a mask */
	uint64_t msix_sent;              /* messages sent (unit tests; nothing else reads it) */
};

/* Reset values, no device plugged in; mem is the guest RAM every pointer is checked against.
 * For attach and for unit tests (no bus, no PCI). */
void xhci_init(struct xhci *x, const struct guest_memory *mem);
/* Plug dev into root hub port (1-based; USB 2 ports 1-4 for full/high speed). */
int xhci_plug(struct xhci *x, unsigned port, struct usb_device *dev);

/* The MSI-X capability (PCI 6.8.2) and its table in BAR0; xhci_attach calls it. While the
 * guest has it enabled, interrupts are messages (KVM_SIGNAL_MSI), INTA# stays low. */
void xhci_add_msix(struct xhci *x);

/* The register file (BAR0): offset, len 1, 2, 4 or 8. */
int xhci_mmio_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len);
int xhci_mmio_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len);

/*
 * Put the controller at slot.0 of pci (BAR0: XHCI_MMIO_SIZE of MMIO; INTA# drives GSI gsi).
 * Devices are plugged in before or after. 0, or a negative errno with one line in why.
 */
int xhci_attach(struct xhci *x, struct io_bus *bus, struct pci_host *pci,
		const struct guest_memory *mem, int vm_fd, unsigned slot, unsigned gsi,
		char *why, size_t why_len);
void xhci_detach(struct xhci *x);

#endif
