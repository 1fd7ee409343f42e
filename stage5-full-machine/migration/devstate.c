/*
 * devstate.c - the network cards', the flash's and the USB devices' sections (devstate.h).
 *
 * Each device has a "saved" struct: the fields the guest can observe, in a fixed layout,
 * copied out of and back into the model. Plain sub-structs of a model that hold no host
 * pointer (a virtqueue's indices, an xHCI slot, the e1000's offload context) are copied
 * whole: the two ends run the same minivisor. A load checks the length first and every
 * value that will index an array later, so a damaged or hostile stream is refused in one
 * line instead of becoming an out-of-bounds access once the guest runs.
 */
#include "devstate.h"
#include "state_check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "board/pflash.h"
#include "net/e1000.h"
#include "usb/uhci.h"
#include "usb/usb_hid.h"
#include "usb/usb_storage.h"
#include "usb/xhci.h"
#include "virtio_net.h"

static uint8_t *dup_bytes(const void *p, uint32_t len, uint32_t *out_len)
{
	uint8_t *b = malloc(len);
	if (b)
		memcpy(b, p, len);
	*out_len = len;
	return b;
}

static int bad(char *why, size_t why_len, const char *kind, const char *what, uint32_t len)
{
	snprintf(why, why_len, "%s state: %s (%u bytes)", kind, what, len);
	return -EINVAL;
}

/* What every USB device keeps of its requests (usb.h). */
struct usb_dev_saved {
	uint8_t address, configuration, remote_wakeup, pad;
	uint32_t halted;
};

static void usb_dev_save(const struct usb_device *d, struct usb_dev_saved *s)
{
	*s = (struct usb_dev_saved){ d->address, d->configuration, d->remote_wakeup, 0, d->halted };
}

static void usb_dev_load(struct usb_device *d, const struct usb_dev_saved *s)
{
	d->address = s->address;
	d->configuration = s->configuration;
	d->remote_wakeup = s->remote_wakeup;
	d->halted = s->halted;
}

/* ---- e1000 ---------------------------------------------------------------------------- */

/* Then tx_len bytes: the frame gathered so far (a TDT that stopped before EOP). */
struct e1000_saved {
	uint32_t regs[E1000_MMIO_SIZE / 4];
	uint16_t eeprom[E1000_EEPROM_WORDS];
	uint16_t phy[E1000_PHY_REGS];
	struct e1000_eeprom_wire ee;
	struct e1000_tx_context ctx;
	uint32_t ioaddr, tx_len;
	uint8_t tx_bad, tx_tse, tx_ixsm, tx_txsm;
};

static uint8_t *e1000_save(void *dev, uint32_t *len)
{
	const struct e1000 *e = dev;
	struct e1000_saved *s;
	*len = sizeof(*s) + (uint32_t)e->tx_len;
	uint8_t *out = calloc(1, *len);
	if (!out)
		return NULL;
	s = (struct e1000_saved *)out;
	memcpy(s->regs, e->regs, sizeof(s->regs));
	memcpy(s->eeprom, e->eeprom, sizeof(s->eeprom));
	memcpy(s->phy, e->phy, sizeof(s->phy));
	s->ee = e->ee;
	s->ctx = e->ctx;
	s->ioaddr = e->ioaddr;
	s->tx_len = e->tx_len;
	s->tx_bad = e->tx_bad;
	s->tx_tse = e->tx_tse;
	s->tx_ixsm = e->tx_ixsm;
	s->tx_txsm = e->tx_txsm;
	memcpy(out + sizeof(*s), e->tx_buf, e->tx_len);
	return out;
}

static int e1000_load(void *dev, const uint8_t *p, uint32_t len, char *why, size_t why_len)
{
	struct e1000 *e = dev;
	static struct e1000_saved s;   /* 128 KiB of registers: not on the stack */
	if (len < sizeof(s))
		return bad(why, why_len, "e1000", "shorter than its registers", len);
	memcpy(&s, p, sizeof(s));
	if (s.tx_len > E1000_TX_MAX || len != sizeof(s) + s.tx_len)
		return bad(why, why_len, "e1000", "the frame being sent does not fit", len);
	if (s.ee.addr >= E1000_EEPROM_WORDS || s.ee.bits_in > 32 || s.ee.out_bit > 15 ||
	    s.ee.out_bit < -1 || !STATE_BOOL_OK(&s.ee, struct e1000_eeprom_wire, reading))
		return bad(why, why_len, "e1000", "the EEPROM's wires are in an impossible state",
			   len);
	if (!STATE_BOOL_OK(&s.ctx, struct e1000_tx_context, tse) ||
	    !STATE_BOOL_OK(&s.ctx, struct e1000_tx_context, ipv4) ||
	    !STATE_BOOL_OK(&s.ctx, struct e1000_tx_context, tcp))
		return bad(why, why_len, "e1000", "the offload context's flags are not 0 or 1", len);
	memcpy(e->regs, s.regs, sizeof(s.regs));
	memcpy(e->eeprom, s.eeprom, sizeof(s.eeprom));
	memcpy(e->phy, s.phy, sizeof(s.phy));
	e->ee = s.ee;
	e->ctx = s.ctx;
	e->ioaddr = s.ioaddr;
	e->tx_len = s.tx_len;
	e->tx_bad = s.tx_bad;
	e->tx_tse = s.tx_tse;
	e->tx_ixsm = s.tx_ixsm;
	e->tx_txsm = s.tx_txsm;
	memcpy(e->tx_buf, p + sizeof(s), s.tx_len);
	return 0;
}

const struct devstate_ops devstate_e1000 = { "e1000", 1, e1000_save, e1000_load };

/* ---- virtio-net ------------------------------------------------------------------------ */

static uint8_t *virtio_net_save(void *dev, uint32_t *len)
{
	const struct virtio_net *n = dev;
	return dup_bytes(&n->vp.state, sizeof(n->vp.state), len);
}

static int virtio_net_load(void *dev, const uint8_t *p, uint32_t len, char *why, size_t why_len)
{
	struct virtio_net *n = dev;
	struct virtio_pci_state s;
	if (len != sizeof(s))
		return bad(why, why_len, "virtio-net", "not the transport's size", len);
	memcpy(&s, p, sizeof(s));
	bool ok = s.config_len <= VIRTIO_CONFIG_MAX && s.queue_select < VIRTIO_MAX_QUEUES + 1;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		ok = ok && s.vq[q].size <= VIRTQ_MAX_SIZE;
	if (!ok)
		return bad(why, why_len, "virtio-net", "a queue or the configuration out of range",
			   len);
	/* A live queue as enabling it checked it: the rings' alignment is trusted from then on */
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		if (!virtq_state_valid(&s.vq[q]))
			return bad(why, why_len, "virtio-net", "a queue's flags, or a live queue with a "
				   "size or ring alignment its driver could not have enabled", len);
	n->vp.state = s;
	return 0;
}

const struct devstate_ops devstate_virtio_net = { "virtio-net", 1, virtio_net_save,
						   virtio_net_load };

/* ---- pflash ----------------------------------------------------------------------------- */

struct pflash_saved {
	uint32_t mode, size;
	uint8_t status, pad[7];
	uint64_t programmed, erased;
};

static uint8_t *pflash_save(void *dev, uint32_t *len)
{
	const struct pflash *f = dev;
	struct pflash_saved s = { f->mode, f->size, f->status, { 0 }, f->programmed, f->erased };
	return dup_bytes(&s, sizeof(s), len);
}

static int pflash_load(void *dev, const uint8_t *p, uint32_t len, char *why, size_t why_len)
{
	struct pflash *f = dev;
	struct pflash_saved s;
	if (len != sizeof(s))
		return bad(why, why_len, "pflash", "not its size", len);
	memcpy(&s, p, sizeof(s));
	if (s.mode > PFLASH_LOCK)
		return bad(why, why_len, "pflash", "an unknown command mode", len);
	if (s.size != f->size)   /* the file is the array: another file, another machine */
		return bad(why, why_len, "pflash", "another flash size", len);
	f->mode = s.mode;
	f->status = s.status;
	f->programmed = s.programmed;
	f->erased = s.erased;
	return 0;
}

const struct devstate_ops devstate_pflash = { "pflash", 1, pflash_save, pflash_load };

/* ---- xHCI ------------------------------------------------------------------------------- */

struct xhci_saved {
	uint32_t usbcmd, usbsts, dnctrl, config;
	uint64_t dcbaap, crcr;
	struct xhci_ring cmd_ring;
	uint32_t iman, imod, erstsz, ev_seg_size, ev_index, ev_seg;
	uint64_t erstba, erdp, ev_seg_base;
	uint8_t cmd_ring_running, ev_pcs, ev_full_reported, msix_pending, pad[4];
	uint32_t msix_entry[4];         /* MSI-X: the one table entry (its enable is config space) */
	uint64_t mfindex_ns;            /* how long the microframe index has counted */
	uint32_t portsc[XHCI_PORTS];
	struct xhci_slot slots[XHCI_SLOTS + 1];
};

/* The rings' cycle states, the slots' and endpoints' flags: 0 or 1 (state_check.h). */
static bool xhci_bools_valid(const struct xhci_saved *s)
{
	bool ok = STATE_BOOL_OK(&s->cmd_ring, struct xhci_ring, ccs);
	for (unsigned i = 0; i <= XHCI_SLOTS; i++) {
		const struct xhci_slot *slot = &s->slots[i];
		ok = ok && STATE_BOOL_OK(slot, struct xhci_slot, enabled);
		for (unsigned e = 0; e < XHCI_ENDPOINTS; e++)
			ok = ok && STATE_BOOL_OK(&slot->ep[e].ring, struct xhci_ring, ccs) &&
			     STATE_BOOL_OK(&slot->ep[e], struct xhci_endpoint, waiting);
	}
	return ok;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint8_t *xhci_save(void *dev, uint32_t *len)
{
	const struct xhci *x = dev;
	struct xhci_saved *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	*s = (struct xhci_saved){
		x->usbcmd, x->usbsts, x->dnctrl, x->config, x->dcbaap, x->crcr, x->cmd_ring,
		x->iman, x->imod, x->erstsz, x->ev_seg_size, x->ev_index, x->ev_seg,
		x->erstba, x->erdp, x->ev_seg_base, x->cmd_ring_running, x->ev_pcs,
		x->ev_full_reported, x->msix_pending, { 0 },
		{ x->msix_entry[0], x->msix_entry[1], x->msix_entry[2], x->msix_entry[3] },
		mono_ns() - x->start_ns, { 0 }, { { 0 } },
	};
	for (unsigned i = 0; i < XHCI_PORTS; i++)
		s->portsc[i] = x->ports[i].portsc;
	memcpy(s->slots, x->slots, sizeof(s->slots));
	*len = sizeof(*s);
	return (uint8_t *)s;
}

static int xhci_load(void *dev, const uint8_t *p, uint32_t len, char *why, size_t why_len)
{
	struct xhci *x = dev;
	struct xhci_saved *s = malloc(sizeof(*s));
	int err = 0;
	if (!s)
		return bad(why, why_len, "xhci", "no memory", len);
	if (len != sizeof(*s)) {
		err = bad(why, why_len, "xhci", "not its size", len);
		goto out;
	}
	memcpy(s, p, sizeof(*s));
	for (unsigned i = 1; i <= XHCI_SLOTS; i++)
		if (s->slots[i].port > XHCI_PORTS) {
			err = bad(why, why_len, "xhci", "a slot on a port that does not exist", len);
			goto out;
		}
	if (!xhci_bools_valid(s)) {
		err = bad(why, why_len, "xhci", "a ring's cycle bit or a slot's flag not 0 or 1",
			  len);
		goto out;
	}
	x->usbcmd = s->usbcmd;
	x->usbsts = s->usbsts;
	x->dnctrl = s->dnctrl;
	x->config = s->config;
	x->dcbaap = s->dcbaap;
	x->crcr = s->crcr;
	x->cmd_ring = s->cmd_ring;
	x->cmd_ring_running = s->cmd_ring_running;
	x->iman = s->iman;
	x->imod = s->imod;
	x->erstsz = s->erstsz;
	x->erstba = s->erstba;
	x->erdp = s->erdp;
	x->ev_seg_base = s->ev_seg_base;
	x->ev_seg_size = s->ev_seg_size;
	x->ev_index = s->ev_index;
	x->ev_seg = s->ev_seg;
	x->ev_pcs = s->ev_pcs;
	x->ev_full_reported = s->ev_full_reported;
	x->msix_pending = s->msix_pending;
	memcpy(x->msix_entry, s->msix_entry, sizeof(x->msix_entry));
	x->start_ns = mono_ns() - s->mfindex_ns;   /* MFINDEX goes on from where it was */
	for (unsigned i = 0; i < XHCI_PORTS; i++)
		x->ports[i].portsc = s->portsc[i];
	memcpy(x->slots, s->slots, sizeof(s->slots));
out:
	free(s);
	return err;
}

/* Version 2: MSI-X (its table entry and pending bit) came with version 2 of the model. */
const struct devstate_ops devstate_xhci = { "xhci", 2, xhci_save, xhci_load };

/* ---- UHCI -------------------------------------------------------------------------------- */

struct uhci_saved {
	uint16_t cmd, sts, intr, frnum;
	uint32_t flbase;
	uint8_t sof, pad[3];
	uint16_t portsc[UHCI_PORTS];
	struct uhci_control ctl[UHCI_PORTS];
};

static uint8_t *uhci_save(void *dev, uint32_t *len)
{
	const struct uhci *u = dev;
	struct uhci_saved *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cmd = u->cmd;
	s->sts = u->sts;
	s->intr = u->intr;
	s->frnum = u->frnum;
	s->flbase = u->flbase;
	s->sof = u->sof;
	memcpy(s->portsc, u->portsc, sizeof(s->portsc));
	memcpy(s->ctl, u->ctl, sizeof(s->ctl));
	*len = sizeof(*s);
	return (uint8_t *)s;
}

static int uhci_load(void *dev, const uint8_t *p, uint32_t len, char *why, size_t why_len)
{
	struct uhci *u = dev;
	static struct uhci_saved s;   /* two control buffers: 8 KiB */
	if (len != sizeof(s))
		return bad(why, why_len, "uhci", "not its size", len);
	memcpy(&s, p, sizeof(s));
	/* An IN data stage copies data[pos] on for len - pos bytes: pos past len would read
	 * past data[] into the rest of the controller (and hand it to the guest). */
	for (unsigned i = 0; i < UHCI_PORTS; i++)
		if (s.ctl[i].len > UHCI_CONTROL_MAX || s.ctl[i].pos > s.ctl[i].len)
			return bad(why, why_len, "uhci", "a control transfer past its buffer", len);
	for (unsigned i = 0; i < UHCI_PORTS; i++)
		if (!STATE_BOOL_OK(&s.ctl[i], struct uhci_control, active) ||
		    !STATE_BOOL_OK(&s.ctl[i], struct uhci_control, in))
			return bad(why, why_len, "uhci", "a control transfer's flags not 0 or 1", len);
	u->cmd = s.cmd;
	u->sts = s.sts;
	u->intr = s.intr;
	u->frnum = s.frnum & 0x7ff;
	u->flbase = s.flbase;
	u->sof = s.sof;
	memcpy(u->portsc, s.portsc, sizeof(s.portsc));
	memcpy(u->ctl, s.ctl, sizeof(s.ctl));
	return 0;
}

const struct devstate_ops devstate_uhci = { "uhci", 1, uhci_save, uhci_load };

/* ---- usb-kbd, usb-tablet ---------------------------------------------------------------- */

struct hid_saved {
	struct usb_dev_saved dev;
	uint32_t kind, head, count;
	int32_t x, y;
	uint8_t report_len, modifiers, keys[6], leds, buttons, protocol, idle;
	uint8_t queue[USB_HID_QUEUE][USB_HID_REPORT_MAX];
};

static uint8_t *hid_save(void *dev, uint32_t *len)
{
	const struct usb_hid *h = dev;
	struct hid_saved s;
	memset(&s, 0, sizeof(s));
	usb_dev_save(&h->dev, &s.dev);
	s.kind = h->kind;
	s.head = h->head;
	s.count = h->count;
	s.x = h->x;
	s.y = h->y;
	s.report_len = h->report_len;
	s.modifiers = h->modifiers;
	memcpy(s.keys, h->keys, sizeof(s.keys));
	s.leds = h->leds;
	s.buttons = h->buttons;
	s.protocol = h->protocol;
	s.idle = h->idle;
	memcpy(s.queue, h->queue, sizeof(s.queue));
	return dup_bytes(&s, sizeof(s), len);
}

static int hid_load(void *dev, const uint8_t *p, uint32_t len, char *why, size_t why_len)
{
	struct usb_hid *h = dev;
	struct hid_saved s;
	if (len != sizeof(s))
		return bad(why, why_len, "usb-hid", "not its size", len);
	memcpy(&s, p, sizeof(s));
	if (s.kind != h->kind)
		return bad(why, why_len, "usb-hid", "a keyboard for a tablet or the other way", len);
	if (s.head >= USB_HID_QUEUE || s.count > USB_HID_QUEUE ||
	    s.report_len > USB_HID_REPORT_MAX)
		return bad(why, why_len, "usb-hid", "the report queue out of range", len);
	usb_dev_load(&h->dev, &s.dev);
	h->head = s.head;
	h->count = s.count;
	h->x = s.x;
	h->y = s.y;
	h->report_len = s.report_len;
	h->modifiers = s.modifiers;
	memcpy(h->keys, s.keys, sizeof(s.keys));
	h->leds = s.leds;
	h->buttons = s.buttons;
	h->protocol = s.protocol;
	h->idle = s.idle;
	memcpy(h->queue, s.queue, sizeof(s.queue));
	return 0;
}

const struct devstate_ops devstate_usb_hid = { "usb-hid", 1, hid_save, hid_load };

/* ---- usb-storage -------------------------------------------------------------------------- */

struct storage_saved {
	struct usb_dev_saved dev;
	uint32_t state, status, tag, expected, residue, host_left;
	uint32_t reply_len, reply_pos, disk_left;
	uint64_t disk_offset;
	uint8_t disk_io, sense_key, asc, ascq, pad[4];
	uint8_t reply[256];
};

static uint8_t *storage_save(void *dev, uint32_t *len)
{
	const struct usb_storage *u = dev;
	struct storage_saved s;
	memset(&s, 0, sizeof(s));
	usb_dev_save(&u->dev, &s.dev);
	s.state = u->state;
	s.status = u->status;
	s.tag = u->tag;
	s.expected = u->expected;
	s.residue = u->residue;
	s.host_left = u->host_left;
	s.reply_len = u->reply_len;
	s.reply_pos = u->reply_pos;
	s.disk_left = u->disk_left;
	s.disk_offset = u->disk_offset;
	s.disk_io = u->disk_io;
	s.sense_key = u->sense_key;
	s.asc = u->asc;
	s.ascq = u->ascq;
	memcpy(s.reply, u->reply, sizeof(s.reply));
	return dup_bytes(&s, sizeof(s), len);
}

static int storage_load(void *dev, const uint8_t *p, uint32_t len, char *why, size_t why_len)
{
	struct usb_storage *u = dev;
	struct storage_saved s;
	if (len != sizeof(s))
		return bad(why, why_len, "usb-storage", "not its size", len);
	memcpy(&s, p, sizeof(s));
	if (s.state > BOT_STALLED || s.status > BOT_PHASE_ERROR ||
	    s.reply_len > sizeof(u->reply) || s.reply_pos > s.reply_len)
		return bad(why, why_len, "usb-storage", "a transport phase out of range", len);
	usb_dev_load(&u->dev, &s.dev);
	u->state = s.state;
	u->status = s.status;
	u->tag = s.tag;
	u->expected = s.expected;
	u->residue = s.residue;
	u->host_left = s.host_left;
	u->reply_len = s.reply_len;
	u->reply_pos = s.reply_pos;
	u->disk_left = s.disk_left;
	u->disk_offset = s.disk_offset;
	u->disk_io = s.disk_io;
	u->sense_key = s.sense_key;
	u->asc = s.asc;
	u->ascq = s.ascq;
	memcpy(u->reply, s.reply, sizeof(s.reply));
	return 0;
}

const struct devstate_ops devstate_usb_storage = { "usb-storage", 1, storage_save,
						    storage_load };
