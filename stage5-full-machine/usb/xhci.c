/*
 * xhci.c - the xHCI controller: registers, the command ring, the event ring, transfer rings.
 *
 * Teaches: how a modern USB controller is driven entirely by rings in guest memory - the
 * guest produces TRBs and rings a doorbell, the controller consumes them, tracks the cycle
 * bit, and produces events the guest consumes - and how a device's state lives in contexts
 * the guest allocated but the controller writes; and how a PCI function interrupts by message
 * (MSI-X) instead of a wire once the guest asks for it. See xhci.h for the register map.
 */
#include "xhci.h"

#include "byteorder.h"
#include "guest_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- register offsets and bits ------------------------------------------------------------ */

#define CAP_LENGTH    0x40
#define OPER          0x40
#define PORT_REGS     (OPER + 0x400)
#define RUNTIME       0x1000
#define DOORBELLS     0x2000
#define XECP          0x20            /* the extended capabilities, inside the capability block */
#define HCI_VERSION   0x0100

#define CMD_RS        (1u << 0)
#define CMD_HCRST     (1u << 1)
#define CMD_INTE      (1u << 2)
#define CMD_HSEE      (1u << 3)
#define CMD_WRITABLE  0x00003f0fu

#define STS_HCH       (1u << 0)
#define STS_HSE       (1u << 2)
#define STS_EINT      (1u << 3)
#define STS_PCD       (1u << 4)
#define STS_HCE       (1u << 12)
#define STS_W1C       (STS_HSE | STS_EINT | STS_PCD | (1u << 10))

#define CRCR_RCS      (1u << 0)
#define CRCR_CS       (1u << 1)
#define CRCR_CA       (1u << 2)
#define CRCR_CRR      (1u << 3)

#define PORTSC_CCS    (1u << 0)
#define PORTSC_PED    (1u << 1)
#define PORTSC_PR     (1u << 4)
#define PORTSC_PLS_SHIFT 5
#define PORTSC_PLS    (0xfu << 5)
#define PORTSC_PP     (1u << 9)
#define PORTSC_SPEED_SHIFT 10
#define PORTSC_LWS    (1u << 16)
#define PORTSC_CSC    (1u << 17)
#define PORTSC_PEC    (1u << 18)
#define PORTSC_WRC    (1u << 19)
#define PORTSC_PRC    (1u << 21)
#define PORTSC_PLC    (1u << 22)
#define PORTSC_CHANGES (0x7fu << 17)  /* CSC .. CEC: write 1 to clear */
#define PORTSC_WAKE   (7u << 25)
#define PORTSC_WPR    (1u << 31)
#define PLS_U0        0
#define PLS_U3        3
#define PLS_RXDETECT  5
#define PLS_POLLING   7

#define IMAN_IP       (1u << 0)
#define IMAN_IE       (1u << 1)
#define ERDP_EHB      (1u << 3)

/* TRB fields (xHCI 1.0 section 6.4). */
#define TRB_CYCLE     (1u << 0)
#define TRB_TC        (1u << 1)       /* Link: toggle cycle */
#define TRB_ISP       (1u << 2)
#define TRB_CH        (1u << 4)
#define TRB_IOC       (1u << 5)
#define TRB_IDT       (1u << 6)
#define TRB_BSR       (1u << 9)       /* Address Device: block SET_ADDRESS */
#define TRB_DC        (1u << 9)       /* Configure Endpoint: deconfigure */
#define TRB_TYPE(c)   (((c) >> 10) & 0x3f)
#define TRB_SLOT(c)   ((c) >> 24)
#define TRB_EP(c)     (((c) >> 16) & 0x1f)
#define TRB_LEN(s)    ((s) & 0x1ffff)

enum {
	TRB_NORMAL = 1, TRB_SETUP = 2, TRB_DATA = 3, TRB_STATUS = 4, TRB_ISOCH = 5, TRB_LINK = 6,
	TRB_EVENT_DATA = 7, TRB_NOOP = 8,
	CMD_ENABLE_SLOT = 9, CMD_DISABLE_SLOT = 10, CMD_ADDRESS_DEVICE = 11,
	CMD_CONFIGURE_EP = 12, CMD_EVALUATE_CTX = 13, CMD_RESET_EP = 14, CMD_STOP_EP = 15,
	CMD_SET_TR_DEQUEUE = 16, CMD_RESET_DEVICE = 17, CMD_NOOP = 23,
	EV_TRANSFER = 32, EV_COMMAND_COMPLETION = 33, EV_PORT_STATUS_CHANGE = 34,
	EV_HOST_CONTROLLER = 37,
};

/* Completion codes (6.4.5). */
enum {
	CC_SUCCESS = 1, CC_USB_TRANSACTION_ERROR = 4, CC_TRB_ERROR = 5, CC_STALL = 6,
	CC_NO_SLOTS = 9, CC_SLOT_NOT_ENABLED = 11, CC_EP_NOT_ENABLED = 12, CC_SHORT_PACKET = 13,
	CC_PARAMETER_ERROR = 17, CC_CONTEXT_STATE_ERROR = 19, CC_EVENT_RING_FULL = 21,
	CC_COMMAND_RING_STOPPED = 24,
};

enum { EP_DISABLED = 0, EP_RUNNING = 1, EP_HALTED = 2, EP_STOPPED = 3 };
enum { EPT_CONTROL = 4 };
enum { SLOT_ENABLED = 0, SLOT_DEFAULT = 1, SLOT_ADDRESSED = 2, SLOT_CONFIGURED = 3 };

#define CTX_SIZE       32             /* HCCPARAMS1.CSZ = 0 */
#define MAX_TDS_PER_KICK 256
#define MAX_COMMANDS_PER_KICK 256
#define PCI_VENDOR_REDHAT 0x1b36
#define PCI_DEVICE_QEMU_XHCI 0x000d
#define PCI_CLASS_XHCI 0x0c0330
#define PCI_SBRN       0x60           /* serial bus release number: USB 3.0 */
#define MSIX_ENTRY_MASKED 1u          /* vector control bit 0 (the rest: msi.h, stage 4) */

/* ---- small helpers -------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 3)))
static void xhci_error(struct xhci *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	guest_verror(&x->errors, "xhci", NULL, fmt, ap);
	va_end(ap);
}

static uint32_t rd32(const uint8_t *p)
{
	return bytes_to_u64(p, 4);
}

static void wr32(uint8_t *p, uint32_t v)
{
	u64_to_bytes(v, p, 4);
}

static uint64_t rd64(const uint8_t *p)
{
	return bytes_to_u64(p, 8);
}

static bool running(const struct xhci *x)
{
	return !(x->usbsts & STS_HCH);
}

/* The guest turned MSI-X on (Message Control's enable bit): INTA# is then unused (PCI 6.8.2). */
static bool msix_enabled(const struct xhci *x)
{
	return x->msix_cap &&
	       (bytes_to_u64(x->pci.config.bytes + x->msix_cap + 2, 2) & MSIX_CTRL_ENABLE);
}

/*
 * Send the vector's message: a memory write the LAPICs take, which KVM_SIGNAL_MSI makes for
 * us (no GSI route needed for one message). A masked vector only sets its pending bit; the
 * unmask sends it (PCI 6.8.2.9).
 */
static void msix_send(struct xhci *x)
{
	uint16_t ctrl = bytes_to_u64(x->pci.config.bytes + x->msix_cap + 2, 2);
	if ((ctrl & MSIX_CTRL_MASKALL) || (x->msix_entry[3] & MSIX_ENTRY_MASKED)) {
		x->msix_pending = true;
		return;
	}
	x->msix_pending = false;
	x->msix_sent++;
	if (x->pci.irq.vm_fd <= 0)
		return;   /* unit tests: counted only */
	struct msi_msg m = { .address_lo = x->msix_entry[0], .address_hi = x->msix_entry[1],
			     .data = x->msix_entry[2] };
	/* "blocked" (an address no LAPIC takes) is not an error: the guest's own business. */
	int err = msi_signal(x->pci.irq.vm_fd, &m);
	if (err < 0)
		xhci_error(x, "MSI-X: KVM_SIGNAL_MSI failed: %s", strerror(-err));
}

/*
 * Interrupter 0 asserts while IMAN.IP and IMAN.IE and USBCMD.INTE are set (xHCI 4.17.2), and
 * Host System Error with USBCMD.HSEE. With INTx that is a level on INTA#, held until the guest
 * clears IP. With MSI-X it is one message, and the controller clears IP itself once the
 * message is out (4.17.5): Linux's handler does not clear IP when it runs on MSI(-X).
 */
static void update_irq(struct xhci *x)
{
	bool ir = (x->iman & IMAN_IP) && (x->iman & IMAN_IE) && (x->usbcmd & CMD_INTE);
	bool level = ir || ((x->usbsts & STS_HSE) && (x->usbcmd & CMD_HSEE));
	uint8_t *cfg = x->pci.config.bytes;
	if (msix_enabled(x)) {
		level = false;
		if (ir) {
			x->iman &= ~IMAN_IP;
			msix_send(x);
		}
	}
	bool disabled = bytes_to_u64(cfg + PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
	cfg[PCI_STATUS] = (cfg[PCI_STATUS] & ~0x08) | (level ? 0x08 : 0);
	if (x->pci.irq.vm_fd > 0)
		irq_line_set(&x->pci.irq, level && !disabled);
}

/* Host System Error: the controller could not reach guest memory; it halts (xHCI 4.10.2.6). */
static void system_error(struct xhci *x, const char *what, uint64_t gpa)
{
	xhci_error(x, "%s at %#llx is outside RAM: host system error, controller halted", what,
		   (unsigned long long)gpa);
	x->usbsts |= STS_HSE | STS_HCH;
	x->usbcmd &= ~CMD_RS;
	if (msix_enabled(x) && (x->usbcmd & CMD_HSEE))
		msix_send(x);   /* an edge, once; INTx holds a level instead */
	update_irq(x);
}

/* ---- the ring walker ----------------------------------------------------------------------- */

enum xhci_fetch xhci_ring_fetch(const struct guest_memory *mem, struct xhci_ring *ring,
				struct xhci_trb *trb)
{
	struct xhci_ring r = *ring;
	for (unsigned links = 0; links <= XHCI_MAX_LINKS; links++) {
		trb->addr = r.dequeue;   /* where it failed, too */
		const uint8_t *p = gpa_to_hva(mem, r.dequeue, 16);
		if (!p)
			return XHCI_FETCH_OUTSIDE_RAM;
		trb->param = rd64(p);
		trb->status = rd32(p + 8);
		trb->control = rd32(p + 12);
		if (!!(trb->control & TRB_CYCLE) != r.ccs)
			return XHCI_FETCH_EMPTY;
		if (TRB_TYPE(trb->control) != TRB_LINK) {
			r.dequeue += 16;
			*ring = r;
			return XHCI_FETCH_TRB;
		}
		r.dequeue = trb->param & ~0xfull;
		if (trb->control & TRB_TC)
			r.ccs = !r.ccs;
	}
	return XHCI_FETCH_LOOP;
}

/* ---- the event ring ------------------------------------------------------------------------ */

/* Load ERST entry seg: where that event ring segment is and how many TRBs it holds. */
static bool load_segment(struct xhci *x, uint32_t seg)
{
	const uint8_t *e = gpa_to_hva(x->mem, x->erstba + 16ull * seg, 16);
	if (!e) {
		system_error(x, "event ring segment table", x->erstba);
		return false;
	}
	x->ev_seg = seg;
	x->ev_seg_base = rd64(e) & ~0x3full;
	x->ev_seg_size = rd32(e + 8) & 0xffff;
	x->ev_index = 0;
	return true;
}

static void event_ring_reset(struct xhci *x)
{
	x->ev_pcs = true;
	x->ev_full_reported = false;
	if (x->erstsz)
		load_segment(x, 0);
}

/* The position n TRBs after the enqueue pointer, to compare with the guest's dequeue
 * pointer. After a segment's last TRB comes the next segment's first. 0: not in RAM. */
static uint64_t enqueue_after(const struct xhci *x, unsigned n)
{
	uint64_t base = x->ev_seg_base;
	uint32_t index = x->ev_index, size = x->ev_seg_size, seg = x->ev_seg;
	while (n--) {
		if (++index < size)
			continue;
		seg = seg + 1 < x->erstsz ? seg + 1 : 0;
		const uint8_t *e = gpa_to_hva(x->mem, x->erstba + 16ull * seg, 16);
		if (!e)
			return 0;
		base = rd64(e) & ~0x3full;
		size = rd32(e + 8) & 0xffff;
		index = 0;
	}
	return base + 16ull * index;
}

/* Write one event TRB at the enqueue pointer, move it on, raise the interrupt. */
static void write_event(struct xhci *x, uint64_t param, uint32_t status, uint32_t control)
{
	uint64_t gpa = x->ev_seg_base + 16ull * x->ev_index;
	uint8_t *p = gpa_to_hva(x->mem, gpa, 16);
	if (!p)
		return system_error(x, "event ring segment", gpa);
	u64_to_bytes(param, p, 8);
	wr32(p + 8, status);
	__atomic_thread_fence(__ATOMIC_RELEASE);   /* the cycle bit last: the guest polls it */
	wr32(p + 12, (control & ~TRB_CYCLE) | (x->ev_pcs ? TRB_CYCLE : 0));
	if (++x->ev_index == x->ev_seg_size) {
		uint32_t seg = x->ev_seg + 1 < x->erstsz ? x->ev_seg + 1 : 0;
		if (seg == 0)
			x->ev_pcs = !x->ev_pcs;
		load_segment(x, seg);
	}
	x->usbsts |= STS_EINT;
	/* xHCI 4.17.2: no new interrupt while Event Handler Busy is set (the guest's handler has not
	 * written ERDP back yet); that write raises one if events came meanwhile (erdp_write). */
	if (!(x->erdp & ERDP_EHB)) {
		x->iman |= IMAN_IP;
		x->erdp |= ERDP_EHB;
	}
	update_irq(x);
}

/*
 * Post an event. The ring is full when the enqueue pointer would catch up with the guest's
 * dequeue pointer (ERDP). xHCI 4.9.4: the last free TRB then takes a Host Controller Event
 * with Event Ring Full Error, and the controller writes nothing more until the guest has
 * read and moved ERDP (ev_full_reported: set from that event to the next ERDP write). The
 * events in between are lost: the guest that stopped reading pays, not the VMM.
 */
static void post_event(struct xhci *x, uint64_t param, uint32_t status, uint32_t control)
{
	if (!running(x) || !x->erstsz || !x->ev_seg_size)
		return;
	if (x->ev_full_reported)
		return;
	if (enqueue_after(x, 1) == (x->erdp & ~0xfull)) {
		xhci_error(x, "event ring full: Event Ring Full Error posted, events dropped "
			   "until the guest moves ERDP");
		x->ev_full_reported = true;
		return write_event(x, 0, CC_EVENT_RING_FULL << 24, EV_HOST_CONTROLLER << 10);
	}
	write_event(x, param, status, control);
}

static void command_completion(struct xhci *x, uint64_t trb_addr, unsigned cc, unsigned slot)
{
	post_event(x, trb_addr, cc << 24, EV_COMMAND_COMPLETION << 10 | slot << 24);
}

static void transfer_event(struct xhci *x, uint64_t trb_addr, unsigned cc, uint32_t residue,
			   unsigned slot, unsigned dci)
{
	post_event(x, trb_addr, cc << 24 | (residue & 0xffffff),
		   EV_TRANSFER << 10 | dci << 16 | slot << 24);
}

/* ---- ports ------------------------------------------------------------------------------------ */

static bool usb3_port(unsigned port)
{
	return port > XHCI_PORTS_USB2;
}

/* PORTSC as after power-on or a controller reset: connected (a change to report) or not. */
static void port_power_on(struct xhci *x, unsigned port)
{
	struct xhci_port *p = &x->ports[port - 1];
	p->portsc = PORTSC_PP;
	if (p->dev) {
		p->portsc |= PORTSC_CCS | PORTSC_CSC | p->dev->speed << PORTSC_SPEED_SHIFT |
			     (usb3_port(port) ? PLS_U0 : PLS_POLLING) << PORTSC_PLS_SHIFT;
		if (usb3_port(port))
			p->portsc |= PORTSC_PED;   /* a USB 3 link trains by itself */
	} else {
		p->portsc |= PLS_RXDETECT << PORTSC_PLS_SHIFT;
	}
}

static void port_event(struct xhci *x, unsigned port)
{
	x->usbsts |= STS_PCD;
	post_event(x, (uint64_t)port << 24, CC_SUCCESS << 24, EV_PORT_STATUS_CHANGE << 10);
}

/* A port reset: the device is reset, the port enabled in U0 (xHCI 4.19.5). */
static void port_reset(struct xhci *x, unsigned port, bool warm)
{
	struct xhci_port *p = &x->ports[port - 1];
	if (!p->dev)
		return;
	usb_device_reset(p->dev);
	p->portsc &= ~(PORTSC_PLS | PORTSC_PR);
	p->portsc |= PORTSC_PED | PORTSC_PRC | (warm ? PORTSC_WRC : 0) | PLS_U0 << PORTSC_PLS_SHIFT;
	port_event(x, port);
}

static void port_write(struct xhci *x, unsigned port, uint32_t v)
{
	struct xhci_port *p = &x->ports[port - 1];
	p->portsc &= ~(v & PORTSC_CHANGES);
	if (v & PORTSC_PED)
		p->portsc &= ~PORTSC_PED;   /* write 1: disable the port */
	p->portsc = (p->portsc & ~PORTSC_WAKE) | (v & PORTSC_WAKE);
	if ((v & PORTSC_LWS) && p->dev) {
		unsigned pls = (v & PORTSC_PLS) >> PORTSC_PLS_SHIFT;
		if (pls == PLS_U0 || pls == PLS_U3) {
			p->portsc = (p->portsc & ~PORTSC_PLS) | pls << PORTSC_PLS_SHIFT;
			if (pls == PLS_U0) {   /* resume: the link change is news */
				p->portsc |= PORTSC_PLC;
				port_event(x, port);
			}
		}
	}
	if (v & (PORTSC_PR | PORTSC_WPR))
		port_reset(x, port, v & PORTSC_WPR);
}

/* ---- contexts --------------------------------------------------------------------------------- */

/* A context (slot or endpoint) of 32 bytes at gpa, or NULL (and HSE) outside RAM. */
static uint8_t *context(struct xhci *x, uint64_t gpa, const char *what)
{
	uint8_t *p = gpa_to_hva(x->mem, gpa, CTX_SIZE);
	if (!p)
		system_error(x, what, gpa);
	return p;
}

/* Write an endpoint's state and dequeue pointer into its output context. */
static void ep_sync(struct xhci *x, unsigned slot_id, unsigned dci)
{
	struct xhci_slot *slot = &x->slots[slot_id];
	struct xhci_endpoint *ep = &slot->ep[dci];
	uint8_t *c = gpa_to_hva(x->mem, slot->context + CTX_SIZE * dci, CTX_SIZE);
	if (!c)
		return;   /* checked when the context was set up; the guest moved nothing since */
	wr32(c, (rd32(c) & ~7u) | ep->state);
	u64_to_bytes(ep->ring.dequeue | ep->ring.ccs, c + 8, 8);
}

static void slot_sync(struct xhci *x, unsigned slot_id)
{
	struct xhci_slot *slot = &x->slots[slot_id];
	uint8_t *c = gpa_to_hva(x->mem, slot->context, CTX_SIZE);
	if (!c)
		return;
	struct usb_device *dev = slot->port ? x->ports[slot->port - 1].dev : NULL;
	uint8_t address = slot->state >= SLOT_ADDRESSED ? slot_id : 0;
	wr32(c + 12, (uint32_t)slot->state << 27 | (dev ? address : 0));
}

/* Take endpoint dci's context (input or output copy) as the endpoint's new setup. */
static void ep_load(struct xhci_endpoint *ep, const uint8_t *ctx)
{
	uint64_t deq = rd64(ctx + 8);
	ep->ring.dequeue = deq & ~0xfull;
	ep->ring.ccs = deq & 1;
	ep->type = (rd32(ctx + 4) >> 3) & 7;
	ep->state = EP_RUNNING;
	ep->waiting = false;
}

/* ---- transfers ------------------------------------------------------------------------------ */

static struct usb_device *slot_device(struct xhci *x, unsigned slot_id)
{
	struct xhci_slot *slot = &x->slots[slot_id];
	return slot->port ? x->ports[slot->port - 1].dev : NULL;
}

static bool data_trb(const struct xhci_trb *t)
{
	unsigned type = TRB_TYPE(t->control);
	return type == TRB_NORMAL || type == TRB_DATA || type == TRB_ISOCH;
}

/* Collect one TD (for a control endpoint: Setup through Status). Returns its TRB count, 0
 * when the ring has no whole TD yet, -1 after an error was handled. */
static int collect_td(struct xhci *x, struct xhci_endpoint *ep, unsigned slot_id, unsigned dci)
{
	bool control_open = false;
	for (unsigned n = 0; n < XHCI_MAX_TD_TRBS; n++) {
		struct xhci_trb *t = &x->td[n];
		enum xhci_fetch f = xhci_ring_fetch(x->mem, &ep->ring, t);
		if (f == XHCI_FETCH_EMPTY)
			return 0;
		if (f == XHCI_FETCH_OUTSIDE_RAM) {
			system_error(x, "transfer ring TRB", t->addr);
			return -1;
		}
		if (f == XHCI_FETCH_LOOP) {
			xhci_error(x, "slot %u endpoint %u: link TRB loop at %#llx: TRB error, "
				   "endpoint halted", slot_id, dci, (unsigned long long)t->addr);
			transfer_event(x, t->addr, CC_TRB_ERROR, 0, slot_id, dci);
			return -1;
		}
		unsigned type = TRB_TYPE(t->control);
		if (type == TRB_SETUP)
			control_open = true;
		else if (type == TRB_STATUS)
			control_open = false;
		if (!control_open && !(t->control & TRB_CH))
			return n + 1;
	}
	xhci_error(x, "slot %u endpoint %u: a TD of more than %u TRBs: TRB error, endpoint "
		   "halted", slot_id, dci, XHCI_MAX_TD_TRBS);
	transfer_event(x, x->td[XHCI_MAX_TD_TRBS - 1].addr, CC_TRB_ERROR, 0, slot_id, dci);
	return -1;
}

/* Room for len bytes in the bounce buffer. */
static bool bounce(struct xhci *x, size_t len)
{
	if (len == 0)   /* a control TD with no data at all still gets a buffer (never NULL) */
		len = 1;
	if (len <= x->bounce_size)
		return true;
	uint8_t *b = realloc(x->bounce, len);
	if (!b)
		return false;
	x->bounce = b;
	x->bounce_size = len;
	return true;
}

/* Copy between the TD's data TRBs and the bounce buffer (to_guest: IN). false: HSE. */
static bool move_data(struct xhci *x, unsigned ntrb, size_t len, bool to_guest)
{
	size_t done = 0;
	for (unsigned i = 0; i < ntrb && done < len; i++) {
		struct xhci_trb *t = &x->td[i];
		if (!data_trb(t))
			continue;
		size_t n = TRB_LEN(t->status);
		n = n < len - done ? n : len - done;
		if (t->control & TRB_IDT) {   /* immediate data: up to 8 bytes in the TRB */
			n = n < 8 ? n : 8;
			if (!to_guest)
				u64_to_bytes(t->param, x->bounce + done, n);
		} else if (n) {
			uint8_t *p = gpa_to_hva(x->mem, t->param, n);
			if (!p) {
				system_error(x, "transfer data buffer", t->param);
				return false;
			}
			if (to_guest)
				memcpy(p, x->bounce + done, n);
			else
				memcpy(x->bounce + done, p, n);
		}
		done += n;
	}
	return true;
}

/*
 * The events of a finished TD (as xHCI 4.10.1.1 and QEMU do it): one for the first TRB that
 * asks (IOC, or ISP after a short packet), its residue the bytes of that TRB not moved.
 */
static void report_td(struct xhci *x, unsigned ntrb, size_t moved, unsigned cc,
		      unsigned slot_id, unsigned dci)
{
	bool reported = false, short_packet = false;
	size_t left = moved;
	for (unsigned i = 0; i < ntrb; i++) {
		struct xhci_trb *t = &x->td[i];
		unsigned type = TRB_TYPE(t->control), chunk = 0;
		if (data_trb(t)) {
			chunk = TRB_LEN(t->status);
			if (chunk > left) {
				chunk = left;
				short_packet |= cc == CC_SUCCESS;
			}
			left -= chunk;
		} else if (type == TRB_STATUS) {
			reported = short_packet = false;
		}
		if (!reported && ((t->control & TRB_IOC) || (short_packet && (t->control & TRB_ISP)) ||
				  (cc != CC_SUCCESS && left == 0))) {
			unsigned code = cc != CC_SUCCESS ? cc : short_packet ? CC_SHORT_PACKET : cc;
			uint32_t residue = data_trb(t) ? TRB_LEN(t->status) - chunk : 0;
			if (type == TRB_EVENT_DATA)
				post_event(x, t->param, code << 24 | (moved & 0xffffff),
					   EV_TRANSFER << 10 | 1u << 2 | dci << 16 | slot_id << 24);
			else
				transfer_event(x, t->addr, code, residue, slot_id, dci);
			reported = true;
			if (cc != CC_SUCCESS)
				return;
		}
		if (type == TRB_SETUP)
			reported = short_packet = false;
	}
}

/* The TD's direction and data length; a control TD's setup packet. */
static size_t td_length(const struct xhci *x, unsigned ntrb)
{
	size_t len = 0;
	for (unsigned i = 0; i < ntrb; i++)
		if (data_trb(&x->td[i]))
			len += TRB_LEN(x->td[i].status);
	return len;
}

/* Run one TD through the device: bytes moved, or USB_RET_NAK / USB_RET_STALL, or -3 (HSE). */
static int run_td(struct xhci *x, struct usb_device *dev, unsigned dci, unsigned ntrb,
		  size_t len)
{
	bool control = dci == 1;
	uint8_t setup[8];
	bool in;
	if (control) {
		if (TRB_TYPE(x->td[0].control) != TRB_SETUP)
			return USB_RET_STALL;
		u64_to_bytes(x->td[0].param, setup, 8);
		in = setup[0] & USB_DIR_IN;
		size_t want = setup[6] | setup[7] << 8;
		if (!bounce(x, len > want ? len : want))
			return USB_RET_STALL;
		memset(x->bounce, 0, want);
	} else {
		in = dci & 1;
		if (!bounce(x, len ? len : 1))
			return USB_RET_STALL;
	}
	if (!in && !move_data(x, ntrb, len, false))
		return -3;
	int n;
	if (control) {
		n = usb_control(dev, setup, x->bounce);
		if (n >= 0 && !in)
			n = len;
	} else {
		n = usb_data(dev, dci / 2 | (in ? USB_DIR_IN : 0), x->bounce, len);
	}
	if (n > (int)len)
		n = len;
	if (n >= 0 && in && !move_data(x, ntrb, n, true))
		return -3;
	return n;
}

/* Run endpoint dci's ring until it is empty, NAKs, stalls or fails. */
static void kick_endpoint(struct xhci *x, unsigned slot_id, unsigned dci)
{
	struct xhci_slot *slot = &x->slots[slot_id];
	struct xhci_endpoint *ep = &slot->ep[dci];
	struct usb_device *dev = slot_device(x, slot_id);
	if (ep->state == EP_STOPPED)
		ep->state = EP_RUNNING;   /* a doorbell restarts a stopped endpoint */
	for (unsigned tds = 0; tds < MAX_TDS_PER_KICK && ep->state == EP_RUNNING && running(x);
	     tds++) {
		struct xhci_ring before = ep->ring;
		int ntrb = collect_td(x, ep, slot_id, dci);
		if (ntrb <= 0) {
			if (ntrb < 0 && running(x))
				ep->state = EP_HALTED;
			if (ntrb == 0)
				ep->ring = before;   /* a half-written TD: wait for the rest */
			break;
		}
		size_t len = td_length(x, ntrb);
		if (len > XHCI_MAX_TD_BYTES) {
			xhci_error(x, "slot %u endpoint %u: a TD of %zu bytes: TRB error", slot_id,
				   dci, len);
			transfer_event(x, x->td[0].addr, CC_TRB_ERROR, 0, slot_id, dci);
			ep->state = EP_HALTED;
			break;
		}
		int n = dev ? run_td(x, dev, dci, ntrb, len) : USB_RET_STALL;
		if (n == -3)
			break;   /* host system error: already halted */
		if (n == USB_RET_NAK) {
			ep->ring = before;
			ep->waiting = true;
			break;
		}
		ep->waiting = false;
		if (n == USB_RET_STALL) {
			report_td(x, ntrb, 0, CC_STALL, slot_id, dci);
			ep->state = EP_HALTED;
			break;
		}
		report_td(x, ntrb, n, CC_SUCCESS, slot_id, dci);
	}
	ep_sync(x, slot_id, dci);
}

/* The device's wakeup: an endpoint that NAKed has data (called with the bus lock held). */
static void device_wakeup(void *controller, struct usb_device *dev, unsigned ep_addr)
{
	struct xhci *x = controller;
	unsigned dci = (ep_addr & 0xf) * 2 + !!(ep_addr & USB_DIR_IN);
	for (unsigned s = 1; s <= XHCI_SLOTS; s++)
		if (x->slots[s].enabled && slot_device(x, s) == dev && x->slots[s].ep[dci].waiting &&
		    running(x))
			kick_endpoint(x, s, dci);
}

static void doorbell(struct xhci *x, unsigned slot_id, uint32_t value)
{
	unsigned dci = value & 0xff;
	if (!running(x))
		return;
	if (slot_id > XHCI_SLOTS || !x->slots[slot_id].enabled) {
		xhci_error(x, "doorbell for slot %u, which is not enabled: slot not enabled error",
			   slot_id);
		post_event(x, 0, CC_SLOT_NOT_ENABLED << 24, EV_TRANSFER << 10 | (dci & 0x1f) << 16 |
			   (slot_id & 0xff) << 24);
		return;
	}
	if (dci < 1 || dci >= XHCI_ENDPOINTS || x->slots[slot_id].ep[dci].state == EP_DISABLED) {
		xhci_error(x, "doorbell for slot %u endpoint %u, which is not enabled", slot_id, dci);
		post_event(x, 0, CC_EP_NOT_ENABLED << 24, EV_TRANSFER << 10 | (dci & 0x1f) << 16 |
			   slot_id << 24);
		return;
	}
	kick_endpoint(x, slot_id, dci);
}

/* ---- commands -------------------------------------------------------------------------------- */

static void disable_endpoints(struct xhci_slot *slot, unsigned from)
{
	for (unsigned i = from; i < XHCI_ENDPOINTS; i++)
		memset(&slot->ep[i], 0, sizeof(slot->ep[i]));
}

/* Read the Input Context: the control context's drop/add flags and a pointer to it. */
static uint8_t *input_context(struct xhci *x, uint64_t gpa, uint32_t *drop, uint32_t *add)
{
	uint8_t *in = gpa_to_hva(x->mem, gpa & ~0xfull, CTX_SIZE * 33);
	if (!in) {
		system_error(x, "input context", gpa);
		return NULL;
	}
	*drop = rd32(in);
	*add = rd32(in + 4);
	return in;
}

static unsigned cmd_address_device(struct xhci *x, const struct xhci_trb *t, unsigned slot_id)
{
	struct xhci_slot *slot = &x->slots[slot_id];
	uint32_t drop, add;
	uint8_t *in = input_context(x, t->param, &drop, &add);
	if (!in)
		return 0;
	if ((add & 3) != 3 || drop)
		return CC_PARAMETER_ERROR;
	unsigned port = (rd32(in + CTX_SIZE + 4) >> 16) & 0xff;
	if (port < 1 || port > XHCI_PORTS || !x->ports[port - 1].dev)
		return CC_TRB_ERROR;
	uint8_t *dcbaa = gpa_to_hva(x->mem, x->dcbaap + 8ull * slot_id, 8);
	if (!dcbaa)
		return system_error(x, "device context base address array", x->dcbaap), 0;
	uint64_t out_gpa = rd64(dcbaa) & ~0x3full;
	uint8_t *out = gpa_to_hva(x->mem, out_gpa, CTX_SIZE * XHCI_ENDPOINTS);
	if (!out)
		return system_error(x, "device context", out_gpa), 0;
	slot->context = out_gpa;
	slot->port = port;
	/*
	 * Input and output contexts are both where the guest says: they may overlap, so every
	 * copy between them is a memmove (memcpy on overlapping ranges is undefined behaviour).
	 */
	memmove(out, in + CTX_SIZE, CTX_SIZE * 2);   /* the slot and endpoint 0 */
	ep_load(&slot->ep[1], in + 2 * CTX_SIZE);
	struct usb_device *dev = x->ports[port - 1].dev;
	if (t->control & TRB_BSR) {
		slot->state = SLOT_DEFAULT;
	} else {
		uint8_t set_address[8] = { 0, USB_REQ_SET_ADDRESS, slot_id };
		usb_control(dev, set_address, NULL);
		slot->state = SLOT_ADDRESSED;
	}
	slot_sync(x, slot_id);
	ep_sync(x, slot_id, 1);
	return CC_SUCCESS;
}

static unsigned cmd_configure_endpoint(struct xhci *x, const struct xhci_trb *t,
				       unsigned slot_id)
{
	struct xhci_slot *slot = &x->slots[slot_id];
	if (slot->state < SLOT_ADDRESSED)
		return CC_CONTEXT_STATE_ERROR;
	if (t->control & TRB_DC) {
		disable_endpoints(slot, 2);
		slot->state = SLOT_ADDRESSED;
		slot_sync(x, slot_id);
		return CC_SUCCESS;
	}
	uint32_t drop, add;
	uint8_t *in = input_context(x, t->param, &drop, &add);
	uint8_t *out = in ? context(x, slot->context, "device context") : NULL;
	if (!out)
		return 0;
	for (unsigned i = 2; i < XHCI_ENDPOINTS; i++) {
		if (drop & (1u << i))
			memset(&slot->ep[i], 0, sizeof(slot->ep[i]));
		if (add & (1u << i)) {
			uint8_t *ep_out = context(x, slot->context + CTX_SIZE * i, "device context");
			if (!ep_out)
				return 0;
			memmove(ep_out, in + CTX_SIZE * (i + 1), CTX_SIZE);
			ep_load(&slot->ep[i], in + CTX_SIZE * (i + 1));
			ep_sync(x, slot_id, i);
		} else if (drop & (1u << i)) {
			ep_sync(x, slot_id, i);
		}
	}
	if (add & 1)   /* the slot context: Context Entries and the like */
		memmove(out, in + CTX_SIZE, 12);
	slot->state = SLOT_CONFIGURED;
	slot_sync(x, slot_id);
	return CC_SUCCESS;
}

static unsigned cmd_evaluate_context(struct xhci *x, const struct xhci_trb *t,
				     unsigned slot_id)
{
	struct xhci_slot *slot = &x->slots[slot_id];
	if (slot->state < SLOT_DEFAULT)
		return CC_CONTEXT_STATE_ERROR;
	uint32_t drop, add;
	uint8_t *in = input_context(x, t->param, &drop, &add);
	uint8_t *out = in ? context(x, slot->context, "device context") : NULL;
	uint8_t *ep0 = out ? context(x, slot->context + CTX_SIZE, "device context") : NULL;
	if (!ep0)
		return 0;
	if (add & 1)   /* Max Exit Latency and the Interrupter Target */
		memmove(out + 4, in + CTX_SIZE + 4, 8);
	if (add & 2)   /* Max Packet Size of endpoint 0 */
		wr32(ep0 + 4, (rd32(ep0 + 4) & 0xffff) | (rd32(in + 2 * CTX_SIZE + 4) & 0xffff0000u));
	return CC_SUCCESS;
}

/* Reset Endpoint, Stop Endpoint, Set TR Dequeue Pointer: an endpoint's state machine. */
static unsigned cmd_endpoint(struct xhci *x, const struct xhci_trb *t, unsigned slot_id,
			     unsigned type)
{
	unsigned dci = TRB_EP(t->control);
	struct xhci_endpoint *ep = &x->slots[slot_id].ep[dci];
	if (dci < 1 || ep->state == EP_DISABLED)
		return CC_EP_NOT_ENABLED;
	switch (type) {
	case CMD_RESET_EP:
		if (ep->state != EP_HALTED)
			return CC_CONTEXT_STATE_ERROR;
		ep->state = EP_STOPPED;
		break;
	case CMD_STOP_EP:
		if (ep->state != EP_RUNNING)
			return CC_CONTEXT_STATE_ERROR;
		ep->state = EP_STOPPED;
		ep->waiting = false;
		break;
	case CMD_SET_TR_DEQUEUE:
		if (ep->state != EP_STOPPED && ep->state != EP_HALTED)
			return CC_CONTEXT_STATE_ERROR;
		ep->ring.dequeue = t->param & ~0xfull;
		ep->ring.ccs = t->param & 1;
		break;
	}
	ep_sync(x, slot_id, dci);
	return CC_SUCCESS;
}

static unsigned cmd_enable_slot(struct xhci *x, unsigned *slot_id)
{
	unsigned max = x->config & 0xff;
	for (unsigned s = 1; s <= XHCI_SLOTS && s <= max; s++) {
		if (!x->slots[s].enabled) {
			memset(&x->slots[s], 0, sizeof(x->slots[s]));
			x->slots[s].enabled = true;
			*slot_id = s;
			return CC_SUCCESS;
		}
	}
	return CC_NO_SLOTS;
}

static unsigned run_command(struct xhci *x, const struct xhci_trb *t, unsigned *slot_id)
{
	unsigned type = TRB_TYPE(t->control);
	*slot_id = TRB_SLOT(t->control);
	if (type == CMD_ENABLE_SLOT)
		return cmd_enable_slot(x, slot_id);
	if (type == CMD_NOOP)
		return CC_SUCCESS;
	if (type < CMD_DISABLE_SLOT || type > CMD_RESET_DEVICE) {
		xhci_error(x, "command TRB of type %u at %#llx: TRB error", type,
			   (unsigned long long)t->addr);
		return CC_TRB_ERROR;
	}
	if (*slot_id < 1 || *slot_id > XHCI_SLOTS || !x->slots[*slot_id].enabled)
		return CC_SLOT_NOT_ENABLED;
	struct xhci_slot *slot = &x->slots[*slot_id];
	switch (type) {
	case CMD_DISABLE_SLOT:
		memset(slot, 0, sizeof(*slot));
		return CC_SUCCESS;
	case CMD_ADDRESS_DEVICE:
		return cmd_address_device(x, t, *slot_id);
	case CMD_CONFIGURE_EP:
		return cmd_configure_endpoint(x, t, *slot_id);
	case CMD_EVALUATE_CTX:
		return cmd_evaluate_context(x, t, *slot_id);
	case CMD_RESET_DEVICE:
		if (slot->state < SLOT_ADDRESSED)
			return CC_CONTEXT_STATE_ERROR;
		disable_endpoints(slot, 2);
		slot->state = SLOT_DEFAULT;
		slot_sync(x, *slot_id);
		return CC_SUCCESS;
	}
	return cmd_endpoint(x, t, *slot_id, type);
}

/* Doorbell 0: run the command ring until it is empty. */
static void run_command_ring(struct xhci *x)
{
	x->cmd_ring_running = true;
	for (unsigned n = 0; n < MAX_COMMANDS_PER_KICK && running(x); n++) {
		struct xhci_trb t;
		enum xhci_fetch f = xhci_ring_fetch(x->mem, &x->cmd_ring, &t);
		if (f == XHCI_FETCH_EMPTY)
			return;
		if (f == XHCI_FETCH_OUTSIDE_RAM)
			return system_error(x, "command ring TRB", t.addr);
		if (f == XHCI_FETCH_LOOP) {
			xhci_error(x, "command ring: link TRB loop at %#llx: host controller error",
				   (unsigned long long)t.addr);
			x->usbsts |= STS_HCE | STS_HCH;
			x->usbcmd &= ~CMD_RS;
			x->cmd_ring_running = false;
			return update_irq(x);
		}
		unsigned slot_id;
		unsigned cc = run_command(x, &t, &slot_id);
		if (cc)   /* 0: a host system error happened instead */
			command_completion(x, t.addr, cc, slot_id);
	}
}

/* ---- reset and the register file ----------------------------------------------------------- */

static void controller_reset(struct xhci *x)
{
	x->usbcmd = 0;
	x->usbsts = STS_HCH;
	x->dnctrl = x->config = 0;
	x->dcbaap = x->crcr = 0;
	x->cmd_ring = (struct xhci_ring){ 0, false };
	x->cmd_ring_running = false;
	x->iman = x->imod = x->erstsz = 0;
	x->erstba = x->erdp = 0;
	x->ev_seg_base = 0;
	x->ev_seg_size = x->ev_index = x->ev_seg = 0;
	x->ev_pcs = true;
	memset(x->slots, 0, sizeof(x->slots));
	for (unsigned p = 1; p <= XHCI_PORTS; p++)
		port_power_on(x, p);
	update_irq(x);
}

void xhci_init(struct xhci *x, const struct guest_memory *mem)
{
	x->mem = mem;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	x->start_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	controller_reset(x);
}

int xhci_plug(struct xhci *x, unsigned port, struct usb_device *dev)
{
	if (port < 1 || port > XHCI_PORTS || x->ports[port - 1].dev)
		return -EBUSY;
	x->ports[port - 1].dev = dev;
	dev->wakeup = device_wakeup;
	dev->controller = x;
	port_power_on(x, port);
	return 0;
}

static uint32_t capability_read(unsigned off)
{
	switch (off) {
	case 0x00: return CAP_LENGTH | HCI_VERSION << 16;
	case 0x04: return XHCI_SLOTS | 1u << 8 | (uint32_t)XHCI_PORTS << 24;   /* 1 interrupter */
	case 0x08: return 4u << 4;                    /* ERST Max: 16 segments */
	case 0x10: return 1u | (XECP / 4) << 16;      /* AC64; 32-byte contexts */
	case 0x14: return DOORBELLS;
	case 0x18: return RUNTIME;
	/* Supported Protocol capabilities: USB 2.0 on ports 1-4, USB 3.0 on ports 5-8. */
	case 0x20: return 0x02000002u | 4u << 8;      /* ID 2, next +4 dwords, revision 2.0 */
	case 0x24: case 0x34: return 0x20425355u;     /* "USB " */
	case 0x28: return 1u | XHCI_PORTS_USB2 << 8;
	case 0x30: return 0x03000002u;                /* the last one: revision 3.0 */
	case 0x38: return (XHCI_PORTS_USB2 + 1) | XHCI_PORTS_USB3 << 8;
	}
	return 0;
}

static uint32_t operational_read(struct xhci *x, unsigned off)
{
	if (off >= 0x400) {
		unsigned port = (off - 0x400) / 16 + 1;
		return port <= XHCI_PORTS && (off & 0xf) == 0 ? x->ports[port - 1].portsc : 0;
	}
	switch (off) {
	case 0x00: return x->usbcmd;
	case 0x04: return x->usbsts;
	case 0x08: return 1;                          /* PAGESIZE: 4 KiB */
	case 0x14: return x->dnctrl;
	case 0x18: return x->cmd_ring_running ? CRCR_CRR : 0;   /* the pointer reads 0 */
	case 0x30: return x->dcbaap;
	case 0x34: return x->dcbaap >> 32;
	case 0x38: return x->config;
	}
	return 0;
}

static uint32_t runtime_read(struct xhci *x, unsigned off)
{
	if (off == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t ns = ts.tv_sec * 1000000000ull + ts.tv_nsec - x->start_ns;
		return (ns / 125000) & 0x3fff;            /* MFINDEX: 125 us microframes */
	}
	switch (off) {
	case 0x20: return x->iman;
	case 0x24: return x->imod;
	case 0x28: return x->erstsz;
	case 0x30: return x->erstba;
	case 0x34: return x->erstba >> 32;
	case 0x38: return x->erdp;
	case 0x3c: return x->erdp >> 32;
	}
	return 0;
}

static uint32_t read_dword(struct xhci *x, unsigned off)
{
	if (off < CAP_LENGTH)
		return capability_read(off);
	if (off < RUNTIME)
		return operational_read(x, off - OPER);
	if (off < DOORBELLS)
		return runtime_read(x, off - RUNTIME);
	if (off >= XHCI_MSIX_TABLE && off < XHCI_MSIX_TABLE + 16)
		return x->msix_entry[(off - XHCI_MSIX_TABLE) / 4];
	if (off == XHCI_MSIX_PBA)
		return x->msix_pending;
	return 0;   /* doorbells read 0 */
}

int xhci_mmio_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct xhci *x = opaque;
	for (unsigned done = 0; done < len; done += 4) {   /* 8 bytes: two dwords */
		unsigned off = offset + done;
		uint32_t v = read_dword(x, off & ~3u) >> (8 * (off & 3));
		u64_to_bytes(v, data + done, len - done < 4 ? len - done : 4);
	}
	return 0;
}

static void usbcmd_write(struct xhci *x, uint32_t v)
{
	if (v & CMD_HCRST) {
		controller_reset(x);
		return;
	}
	bool was_running = x->usbcmd & CMD_RS;
	x->usbcmd = v & CMD_WRITABLE;
	if ((v & CMD_RS) && !was_running && !(x->usbsts & (STS_HSE | STS_HCE)))
		x->usbsts &= ~STS_HCH;
	if (!(v & CMD_RS)) {
		x->usbsts |= STS_HCH;
		x->cmd_ring_running = false;
	}
	update_irq(x);
}

static void crcr_write(struct xhci *x, unsigned half, uint32_t v)
{
	if (x->cmd_ring_running) {   /* while it runs only Command Stop / Abort count */
		if (half == 0 && (v & (CRCR_CS | CRCR_CA))) {
			x->cmd_ring_running = false;
			command_completion(x, x->cmd_ring.dequeue, CC_COMMAND_RING_STOPPED, 0);
		}
		return;
	}
	if (half == 0)
		x->crcr = (x->crcr & ~0xffffffffull) | (v & ~0x3fu) | (v & CRCR_RCS);
	else
		x->crcr = (x->crcr & 0xffffffffull) | (uint64_t)v << 32;
	x->cmd_ring.dequeue = x->crcr & ~0x3full;
	x->cmd_ring.ccs = x->crcr & CRCR_RCS;
}

static void operational_write(struct xhci *x, unsigned off, uint32_t v)
{
	if (off >= 0x400) {
		unsigned port = (off - 0x400) / 16 + 1;
		if (port <= XHCI_PORTS && (off & 0xf) == 0)
			port_write(x, port, v);
		return;
	}
	switch (off) {
	case 0x00: return usbcmd_write(x, v);
	case 0x04:
		x->usbsts &= ~(v & STS_W1C);
		return update_irq(x);
	case 0x14: x->dnctrl = v & 0xffff; return;
	case 0x18: return crcr_write(x, 0, v);
	case 0x1c: return crcr_write(x, 1, v);
	case 0x30: x->dcbaap = (x->dcbaap & ~0xffffffffull) | (v & ~0x3fu); return;
	case 0x34: x->dcbaap = (x->dcbaap & 0xffffffffull) | (uint64_t)v << 32; return;
	case 0x38: x->config = v & 0x3ff; return;
	}
}

static void runtime_write(struct xhci *x, unsigned off, uint32_t v)
{
	switch (off) {
	case 0x20:
		x->iman = (x->iman & ~(v & IMAN_IP) & ~IMAN_IE) | (v & IMAN_IE);
		return update_irq(x);
	case 0x24: x->imod = v; return;
	case 0x28:
		x->erstsz = (v & 0xffff) > 16 ? 16 : v & 0xffff;
		return;
	case 0x30: x->erstba = (x->erstba & ~0xffffffffull) | (v & ~0x3fu); return;
	case 0x34:   /* the high half comes last (lo-hi order): the ring starts here */
		x->erstba = (x->erstba & 0xffffffffull) | (uint64_t)v << 32;
		return event_ring_reset(x);
	case 0x38: {   /* writing EHB as 1 clears it: the guest has handled the events */
		uint64_t ehb = (x->erdp & ERDP_EHB) && !(v & ERDP_EHB) ? ERDP_EHB : 0;
		x->erdp = (x->erdp & ~0xffffffffull) | (v & ~0xfu) | (v & 7) | ehb;
		x->ev_full_reported = false;
		/* Events posted while the handler was busy and not yet read: interrupt again. */
		if (!ehb && x->ev_seg_size &&
		    (x->erdp & ~0xfull) != x->ev_seg_base + 16ull * x->ev_index) {
			x->iman |= IMAN_IP;
			x->erdp |= ERDP_EHB;
			update_irq(x);
		}
		return;
	}
	case 0x3c: x->erdp = (x->erdp & 0xffffffffull) | (uint64_t)v << 32; return;
	}
}

/* The MSI-X table's one entry: address, data, vector control. An unmask sends what is pending. */
static void msix_table_write(struct xhci *x, unsigned dword, uint32_t v)
{
	x->msix_entry[dword] = dword == 3 ? v & MSIX_ENTRY_MASKED : v;
	if (dword == 3 && x->msix_pending && msix_enabled(x))
		msix_send(x);
}

static void write_dword(struct xhci *x, unsigned off, uint32_t v)
{
	if (off < CAP_LENGTH)
		return;   /* read-only */
	if (off < RUNTIME)
		return operational_write(x, off - OPER, v);
	if (off < DOORBELLS)
		return runtime_write(x, off - RUNTIME, v);
	if (off >= XHCI_MSIX_TABLE && off < XHCI_MSIX_TABLE + 16)
		return msix_table_write(x, (off - XHCI_MSIX_TABLE) / 4, v);
	if (off >= XHCI_MSIX_TABLE)
		return;   /* the PBA is read-only */
	unsigned target = (off - DOORBELLS) / 4;
	if (target == 0) {
		if (running(x))
			run_command_ring(x);
		return;
	}
	doorbell(x, target, v);
}

int xhci_mmio_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct xhci *x = opaque;
	if (len < 4) {   /* byte and word writes: merged into the dword (no register wants them) */
		unsigned off = offset & ~3u, shift = 8 * (offset & 3);
		uint32_t mask = (len == 1 ? 0xffu : 0xffffu) << shift;
		uint32_t old = read_dword(x, off);
		write_dword(x, off, (old & ~mask) | ((uint32_t)bytes_to_u64(data, len) << shift));
		return 0;
	}
	for (unsigned done = 0; done < len; done += 4)
		write_dword(x, offset + done, rd32(data + done));
	return 0;
}

/* ---- PCI ------------------------------------------------------------------------------------ */

static const struct bus_ops mmio_ops = { xhci_mmio_read, xhci_mmio_write };

/*
 * Configuration registers from 0x40 on: only MSI-X's Message Control has writable bits (15
 * enable, 14 function mask). Turning it on or off moves the interrupt between INTA# and the
 * message; an unmask sends what is pending.
 */
static void config_write(struct pci_device *pci, unsigned off, uint32_t value, unsigned len)
{
	struct xhci *x = pci->owner;
	uint8_t *c = x->pci.config.bytes, b[4];
	u64_to_bytes(value, b, len);
	for (unsigned i = 0; i < len; i++)
		if (x->msix_cap && off + i == x->msix_cap + 3u)
			c[off + i] = (c[off + i] & 0x3f) | (b[i] & 0xc0);
	if (msix_enabled(x) && x->msix_pending)
		msix_send(x);
	update_irq(x);
}

void xhci_add_msix(struct xhci *x)
{
	/* ID, next, Message Control (table size - 1 = 0: one vector), table and PBA in BAR0. */
	uint8_t cap[12] = { PCI_CAP_ID_MSIX, 0, 0, 0 };
	u64_to_bytes(XHCI_MSIX_TABLE, cap + 4, 4);   /* BIR 0 */
	u64_to_bytes(XHCI_MSIX_PBA, cap + 8, 4);
	x->msix_cap = pci_config_add_capability(&x->pci.config, cap, sizeof(cap));
	x->msix_entry[3] = MSIX_ENTRY_MASKED;        /* the reset value: masked */
	x->pci.specific_write = config_write;
	x->pci.owner = x;
}

int xhci_attach(struct xhci *x, struct io_bus *bus, struct pci_host *pci,
		const struct guest_memory *mem, int vm_fd, unsigned slot, unsigned gsi,
		char *why, size_t why_len)
{
	struct pci_config *c = &x->pci.config;
	pci_config_init(c, PCI_VENDOR_REDHAT, PCI_DEVICE_QEMU_XHCI, PCI_CLASS_XHCI, 1);
	uint32_t bar = PCI_MMIO_BASE + slot * PCI_MMIO_SLOT_SIZE;
	pci_config_add_bar(c, 0, bar, XHCI_MMIO_SIZE);
	u64_to_bytes(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, c->bytes + PCI_COMMAND, 2);
	c->bytes[PCI_INTERRUPT_PIN] = 1;
	c->bytes[PCI_INTERRUPT_LINE] = gsi;
	c->bytes[PCI_SBRN] = 0x30;
	c->bytes[PCI_SBRN + 1] = 0x20;   /* FLADJ: the reset value */
	x->pci.name = "xhci";
	x->pci.owner = x;
	irq_line_init(&x->pci.irq, vm_fd, gsi);
	xhci_init(x, mem);
	xhci_add_msix(x);
	x->pci.bar_range[0] = bus_register(bus, BUS_MMIO, bar, XHCI_MMIO_SIZE, &mmio_ops, x,
					   "xhci");
	if (!x->pci.bar_range[0]) {
		snprintf(why, why_len, "xhci: BAR0 at %#x overlaps another device", bar);
		return -EBUSY;
	}
	int err = pci_host_place(pci, &x->pci, slot, 0);
	if (err)
		snprintf(why, why_len, "xhci: PCI %02x.0: %s", slot,
			 err == -EBUSY ? "slot taken" : "no such slot");
	return err;
}

void xhci_detach(struct xhci *x)
{
	free(x->bounce);
	x->bounce = NULL;
	x->bounce_size = 0;
}
