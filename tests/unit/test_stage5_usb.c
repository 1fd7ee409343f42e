/*
 * test_stage5_usb.c - unit tests of the USB family (stage5-full-machine/usb/) on a fake guest
 * RAM: no KVM.
 *
 *   the ring walker   TRBs and the cycle bit, Link TRBs that toggle it, a link loop, rings and
 *                     link targets outside RAM
 *   the BOT machine   a USB stick (usb_storage.c) on a raw image, driven as usb-storage drivers
 *                     drive it: CBW, data, CSW; reads and writes reach the image; short answers
 *                     are padded with the residue in the CSW; a bad CBW stalls both endpoints
 *                     until the Bulk-Only reset; SCSI errors leave sense data
 *   the controller    xHCI through its registers, as a driver: Enable Slot, Address Device, a
 *                     control transfer on endpoint 0; and hostile rings: a doorbell for a slot
 *                     never enabled, a command-ring link loop (Host Controller Error), a
 *                     command ring outside RAM (Host System Error); an event ring the guest
 *                     never reads (Event Ring Full Error); MSI-X on, masked, off
 *   the options       -device usb-storage / qemu-xhci and their errors
 *   HID               the keyboard's usages, Shift, the report queue and its bound
 *   UHCI              the TD walker: a control transfer as SETUP/IN/OUT TDs in a QH, a short
 *                     packet stopping the queue; a QH loop (bounded), a TD and a frame list
 *                     outside RAM (Host System Error)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "fake_ram.h"
#include "usb/usb_config.h"
#include "usb/usb_hid.h"
#include "usb/usb_storage.h"
#include "usb/uhci.h"
#include "usb/xhci.h"

#define RAM_SIZE (4u << 20)
#define OUTSIDE  (RAM_SIZE + 0x1000ull)

/* ---- TRBs in the fake RAM ------------------------------------------------------------------ */

#define T_NORMAL 1
#define T_SETUP  2
#define T_DATA   3
#define T_STATUS 4
#define T_LINK   6
#define C_CYCLE  1u
#define C_TC     2u
#define C_IOC    (1u << 5)
#define C_IDT    (1u << 6)

static void put32(struct guest_memory *m, uint64_t gpa, uint32_t v)
{
	memcpy(m->host + gpa, &v, 4);
}

static uint32_t get32(struct guest_memory *m, uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, m->host + gpa, 4);
	return v;
}

static uint32_t get32_of(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64(struct guest_memory *m, uint64_t gpa, uint64_t v)
{
	memcpy(m->host + gpa, &v, 8);
}

static void trb(struct guest_memory *m, uint64_t gpa, uint64_t param, uint32_t status,
		unsigned type, uint32_t flags)
{
	put64(m, gpa, param);
	put32(m, gpa + 8, status);
	put32(m, gpa + 12, type << 10 | flags);
}

static void ring_walks_trbs_and_links(void **state)
{
	(void)state;
	struct guest_memory *m = fake_ram(RAM_SIZE);
	trb(m, 0x1000, 0x11, 0, T_NORMAL, C_CYCLE);
	trb(m, 0x1010, 0x2000, 0, T_LINK, C_CYCLE | C_TC);   /* to 0x2000, cycle toggles */
	trb(m, 0x2000, 0x22, 0, T_NORMAL, 0);                 /* cycle 0: new after the toggle */
	trb(m, 0x2010, 0x33, 0, T_NORMAL, C_CYCLE);           /* stale: not the producer's yet */
	struct xhci_ring r = { 0x1000, true };
	struct xhci_trb t;
	assert_int_equal(xhci_ring_fetch(m, &r, &t), XHCI_FETCH_TRB);
	assert_int_equal(t.param, 0x11);
	assert_int_equal(t.addr, 0x1000);
	assert_int_equal(xhci_ring_fetch(m, &r, &t), XHCI_FETCH_TRB);
	assert_int_equal(t.param, 0x22);
	assert_int_equal(t.addr, 0x2000);
	assert_false(r.ccs);
	assert_int_equal(xhci_ring_fetch(m, &r, &t), XHCI_FETCH_EMPTY);
	assert_int_equal(r.dequeue, 0x2010);   /* an empty ring stays where it was */
	free_ram(m);
}

static void ring_link_loop_and_outside_ram(void **state)
{
	(void)state;
	struct guest_memory *m = fake_ram(RAM_SIZE);
	trb(m, 0x1000, 0x1000, 0, T_LINK, C_CYCLE);          /* a link to itself, no toggle */
	struct xhci_ring r = { 0x1000, true };
	struct xhci_trb t;
	assert_int_equal(xhci_ring_fetch(m, &r, &t), XHCI_FETCH_LOOP);
	assert_int_equal(r.dequeue, 0x1000);
	trb(m, 0x1000, 0x1010, 0, T_LINK, C_CYCLE);           /* two links in a cycle */
	trb(m, 0x1010, 0x1000, 0, T_LINK, C_CYCLE);
	assert_int_equal(xhci_ring_fetch(m, &r, &t), XHCI_FETCH_LOOP);
	trb(m, 0x1000, OUTSIDE, 0, T_LINK, C_CYCLE);          /* a link out of RAM */
	assert_int_equal(xhci_ring_fetch(m, &r, &t), XHCI_FETCH_OUTSIDE_RAM);
	r.dequeue = RAM_SIZE - 8;                             /* a TRB across the end of RAM */
	assert_int_equal(xhci_ring_fetch(m, &r, &t), XHCI_FETCH_OUTSIDE_RAM);
	free_ram(m);
}

/* ---- the USB stick --------------------------------------------------------------------------- */

struct stick {
	char path[64];
	struct block_dev *disk;
	struct usb_storage s;
};

static int stick_setup(void **state)
{
	struct stick *k = calloc(1, sizeof(*k));
	snprintf(k->path, sizeof(k->path), "/tmp/usb-unit-XXXXXX");
	int fd = mkstemp(k->path);
	uint8_t sector[512];
	for (unsigned i = 0; i < 64; i++) {   /* 32 KiB: sector i is filled with byte i */
		memset(sector, i, sizeof(sector));
		assert_int_equal(write(fd, sector, 512), 512);
	}
	close(fd);
	char why[256];
	assert_int_equal(block_open(k->path, BLOCK_FORMAT_RAW, &k->disk, why, sizeof(why)), 0);
	usb_storage_init(&k->s, k->disk);
	*state = k;
	return 0;
}

static int stick_teardown(void **state)
{
	struct stick *k = *state;
	block_close(k->disk);
	unlink(k->path);
	free(k);
	return 0;
}

/* Send a CBW with this CDB; data IN or OUT of len. Returns usb_data's answer. */
static int cbw(struct stick *k, uint32_t tag, uint32_t len, bool in, const uint8_t *cdb,
	       unsigned cdb_len)
{
	uint8_t b[31] = { 'U', 'S', 'B', 'C' };
	memcpy(b + 4, &tag, 4);
	memcpy(b + 8, &len, 4);
	b[12] = in ? 0x80 : 0;
	b[14] = cdb_len;
	memcpy(b + 15, cdb, cdb_len);
	return usb_data(&k->s.dev, BOT_EP_OUT, b, sizeof(b));
}

/* Read the CSW; checks its signature and tag. Returns the status; *residue. */
static int csw(struct stick *k, uint32_t tag, uint32_t *residue)
{
	uint8_t b[13];
	assert_int_equal(usb_data(&k->s.dev, BOT_EP_IN, b, sizeof(b)), 13);
	assert_memory_equal(b, "USBS", 4);
	uint32_t t;
	memcpy(&t, b + 4, 4);
	assert_int_equal(t, tag);
	memcpy(residue, b + 8, 4);
	return b[12];
}

static void bot_inquiry_padded_with_residue(void **state)
{
	struct stick *k = *state;
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 36, 0 }, data[64];
	uint32_t residue;
	/* The host asks for 64 bytes of a 36-byte answer: padded, residue 28 (BOT case 4). */
	assert_int_equal(cbw(k, 7, 64, true, cdb, 6), 31);
	assert_int_equal(usb_data(&k->s.dev, BOT_EP_IN, data, sizeof(data)), 64);
	assert_memory_equal(data + 8, "QEMU    ", 8);
	assert_int_equal(data[40], 0);
	assert_int_equal(csw(k, 7, &residue), 0);
	assert_int_equal(residue, 28);
}

static void bot_read_write_reach_the_image(void **state)
{
	struct stick *k = *state;
	uint8_t read10[10] = { 0x28, 0, 0, 0, 0, 5, 0, 0, 2, 0 }, data[1024];
	uint32_t residue;
	assert_int_equal(cbw(k, 1, 1024, true, read10, 10), 31);
	/* The data phase in two transfers, as a host with a smaller buffer does. */
	assert_int_equal(usb_data(&k->s.dev, BOT_EP_IN, data, 512), 512);
	assert_int_equal(usb_data(&k->s.dev, BOT_EP_IN, data + 512, 512), 512);
	assert_int_equal(data[0], 5);
	assert_int_equal(data[1023], 6);
	assert_int_equal(csw(k, 1, &residue), 0);
	assert_int_equal(residue, 0);
	uint8_t write16[16] = { 0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0 };
	memset(data, 0xab, 512);
	assert_int_equal(cbw(k, 2, 512, false, write16, 16), 31);
	assert_int_equal(usb_data(&k->s.dev, BOT_EP_OUT, data, 512), 512);
	assert_int_equal(csw(k, 2, &residue), 0);
	uint8_t back[512];
	assert_int_equal(block_read(k->disk, back, 9 * 512, 512), 0);
	assert_memory_equal(back, data, 512);
	uint8_t cap10[10] = { 0x25 };
	assert_int_equal(cbw(k, 3, 8, true, cap10, 10), 31);
	assert_int_equal(usb_data(&k->s.dev, BOT_EP_IN, data, 8), 8);
	assert_int_equal(data[3], 63);   /* last LBA */
	assert_int_equal(data[6], 2);    /* 512-byte blocks */
	assert_int_equal(csw(k, 3, &residue), 0);
}

static void bot_errors_leave_sense(void **state)
{
	struct stick *k = *state;
	uint8_t past_end[10] = { 0x28, 0, 0, 0, 0, 63, 0, 0, 2, 0 }, data[1024];
	uint32_t residue;
	assert_int_equal(cbw(k, 4, 1024, true, past_end, 10), 31);
	assert_int_equal(usb_data(&k->s.dev, BOT_EP_IN, data, 1024), 1024);   /* padding */
	assert_int_equal(csw(k, 4, &residue), 1);
	assert_int_equal(residue, 1024);
	uint8_t sense[6] = { 0x03, 0, 0, 0, 18, 0 };
	assert_int_equal(cbw(k, 5, 18, true, sense, 6), 31);
	assert_int_equal(usb_data(&k->s.dev, BOT_EP_IN, data, 18), 18);
	assert_int_equal(data[2], 0x5);    /* ILLEGAL REQUEST */
	assert_int_equal(data[12], 0x21);  /* LBA out of range */
	assert_int_equal(csw(k, 5, &residue), 0);
	uint8_t bogus[6] = { 0xee };
	assert_int_equal(cbw(k, 6, 0, false, bogus, 6), 31);
	assert_int_equal(csw(k, 6, &residue), 1);
	/* A READ whose data the host says goes OUT: a phase error (BOT case 10). */
	uint8_t read10[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	assert_int_equal(cbw(k, 8, 512, false, read10, 10), 31);
	assert_int_equal(csw(k, 8, &residue), 2);
}

static void bot_bad_cbw_stalls_until_reset(void **state)
{
	struct stick *k = *state;
	uint8_t bad[31] = { 'X', 'S', 'B', 'C' }, data[13];
	assert_int_equal(usb_data(&k->s.dev, BOT_EP_OUT, bad, 31), USB_RET_STALL);
	assert_int_equal(usb_data(&k->s.dev, BOT_EP_IN, data, 13), USB_RET_STALL);
	uint8_t shortcbw[20] = { 'U', 'S', 'B', 'C' };
	assert_int_equal(usb_data(&k->s.dev, BOT_EP_OUT, shortcbw, 20), USB_RET_STALL);
	/* Reset Recovery: Bulk-Only Mass Storage Reset, then CLEAR_FEATURE on both endpoints. */
	uint8_t reset[8] = { 0x21, 0xff, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(usb_control(&k->s.dev, reset, NULL), 0);
	uint8_t clear_in[8] = { 0x02, 0x01, 0, 0, BOT_EP_IN, 0, 0, 0 };
	uint8_t clear_out[8] = { 0x02, 0x01, 0, 0, BOT_EP_OUT, 0, 0, 0 };
	assert_int_equal(usb_control(&k->s.dev, clear_in, NULL), 0);
	assert_int_equal(usb_control(&k->s.dev, clear_out, NULL), 0);
	uint8_t tur[6] = { 0 };
	uint32_t residue;
	assert_int_equal(cbw(k, 9, 0, false, tur, 6), 31);
	assert_int_equal(csw(k, 9, &residue), 0);
}

static void device_core_descriptors(void **state)
{
	struct stick *k = *state;
	uint8_t get_dev[8] = { 0x80, 6, 0, 1, 0, 0, 64, 0 }, data[64];
	assert_int_equal(usb_control(&k->s.dev, get_dev, data), 18);
	assert_int_equal(data[8] | data[9] << 8, 0x46f4);
	uint8_t get_cfg9[8] = { 0x80, 6, 0, 2, 0, 0, 9, 0 };
	assert_int_equal(usb_control(&k->s.dev, get_cfg9, data), 9);
	assert_int_equal(data[2], 32);   /* wTotalLength */
	uint8_t get_str[8] = { 0x80, 6, 2, 3, 0x09, 0x04, 64, 0 };
	int n = usb_control(&k->s.dev, get_str, data);
	assert_true(n > 2);
	assert_int_equal(data[2], 'Q');
	uint8_t set_addr[8] = { 0, 5, 7, 0, 0, 0, 0, 0 };
	assert_int_equal(usb_control(&k->s.dev, set_addr, NULL), 0);
	assert_int_equal(k->s.dev.address, 7);
	uint8_t bad_cfg[8] = { 0, 9, 5, 0, 0, 0, 0, 0 };
	assert_int_equal(usb_control(&k->s.dev, bad_cfg, NULL), USB_RET_STALL);
}

/* ---- the controller, through its registers ------------------------------------------------- */

#define R_USBCMD 0x40
#define R_USBSTS 0x44
#define R_CRCR   0x58
#define R_DCBAAP 0x70
#define R_CONFIG 0x78
#define R_PORTSC1 0x440
#define R_IMAN   0x1020
#define R_ERSTSZ 0x1028
#define R_ERSTBA 0x1030
#define R_ERDP   0x1038
#define DB(n)    (0x2000 + 4 * (n))

#define DCBAA   0x1000u
#define CMDRING 0x2000u
#define ERST    0x3000u
#define EVRING  0x4000u
#define INCTX   0x5000u
#define OUTCTX  0x6000u
#define EP0RING 0x7000u
#define DATA    0x8000u

struct hc {
	struct guest_memory *m;
	struct xhci x;
	struct stick k;
};

static void w(struct hc *h, unsigned off, uint32_t v)
{
	xhci_mmio_write(&h->x, off, (uint8_t *)&v, 4);
}

static uint32_t r(struct hc *h, unsigned off)
{
	uint32_t v = 0;
	xhci_mmio_read(&h->x, off, (uint8_t *)&v, 4);
	return v;
}

/* A driver's start: rings, the event ring of 16 TRBs, interrupts on, run. */
static void hc_start(struct hc *h, uint64_t cmd_ring)
{
	w(h, R_CONFIG, 16);
	w(h, R_DCBAAP, DCBAA);
	w(h, R_DCBAAP + 4, 0);
	w(h, R_CRCR, (uint32_t)cmd_ring | 1);
	w(h, R_CRCR + 4, cmd_ring >> 32);
	put64(h->m, ERST, EVRING);
	put32(h->m, ERST + 8, 16);
	w(h, R_ERSTSZ, 1);
	w(h, R_ERSTBA, ERST);
	w(h, R_ERSTBA + 4, 0);
	w(h, R_ERDP, EVRING);
	w(h, R_ERDP + 4, 0);
	w(h, R_IMAN, 2);
	w(h, R_USBCMD, 1 | 4);
}

static struct hc *hc_new(void)
{
	struct hc *h = calloc(1, sizeof(*h));
	h->m = fake_ram(RAM_SIZE);
	xhci_init(&h->x, h->m);
	usb_storage_init(&h->k.s, NULL);   /* no medium: the control pipe is all these tests use */
	assert_int_equal(xhci_plug(&h->x, 1, &h->k.s.dev), 0);
	return h;
}

static void hc_free(struct hc *h)
{
	xhci_detach(&h->x);
	free_ram(h->m);
	free(h);
}

/* Event n of the event ring: its type and completion code. */
static unsigned ev_type(struct hc *h, unsigned n)
{
	return get32(h->m, EVRING + 16 * n + 12) >> 10 & 0x3f;
}

static unsigned ev_cc(struct hc *h, unsigned n)
{
	return get32(h->m, EVRING + 16 * n + 8) >> 24;
}

static void xhci_enumerates_a_device(void **state)
{
	(void)state;
	struct hc *h = hc_new();
	assert_true(r(h, R_PORTSC1) & 1);               /* connected */
	assert_int_equal(r(h, R_PORTSC1) >> 10 & 0xf, 3);   /* high speed */
	hc_start(h, CMDRING);
	assert_false(r(h, R_USBSTS) & 1);                /* running */
	w(h, R_PORTSC1, r(h, R_PORTSC1) | 0x10);         /* port reset */
	assert_true(r(h, R_PORTSC1) & 2);                /* enabled */
	assert_int_equal(ev_type(h, 0), 34);             /* port status change */
	trb(h->m, CMDRING, 0, 0, 9, C_CYCLE);            /* Enable Slot */
	w(h, DB(0), 0);
	assert_int_equal(ev_type(h, 1), 33);
	assert_int_equal(ev_cc(h, 1), 1);
	assert_int_equal(get32(h->m, EVRING + 16 + 12) >> 24, 1);   /* slot 1 */
	/* Address Device: input context with the slot (port 1) and endpoint 0. */
	put32(h->m, INCTX + 4, 3);
	put32(h->m, INCTX + 0x20 + 4, 1u << 16);
	put32(h->m, INCTX + 0x40 + 4, 4u << 3 | 64u << 16);
	put64(h->m, INCTX + 0x40 + 8, EP0RING | 1);
	put64(h->m, DCBAA + 8, OUTCTX);
	trb(h->m, CMDRING + 16, INCTX, 0, 11, C_CYCLE | 1u << 24);
	w(h, DB(0), 0);
	assert_int_equal(ev_cc(h, 2), 1);
	assert_int_equal(get32(h->m, OUTCTX + 12) >> 27, 2);   /* slot addressed */
	assert_int_equal(get32(h->m, OUTCTX + 12) & 0xff, 1);  /* USB address 1 */
	assert_int_equal(h->k.s.dev.address, 1);
	/* GET_DESCRIPTOR(DEVICE): Setup, Data (IN, 18 bytes), Status. */
	trb(h->m, EP0RING, 0x0012000001000680ull, 8, T_SETUP, C_CYCLE | C_IDT | 3u << 16);
	trb(h->m, EP0RING + 16, DATA, 18, T_DATA, C_CYCLE | 1u << 16);
	trb(h->m, EP0RING + 32, 0, 0, T_STATUS, C_CYCLE | C_IOC);
	w(h, DB(1), 1);
	assert_int_equal(ev_type(h, 3), 32);
	assert_int_equal(ev_cc(h, 3), 1);
	assert_int_equal(get32(h->m, EVRING + 48), EP0RING + 32);
	assert_int_equal(h->m->host[DATA], 18);
	assert_int_equal(h->m->host[DATA + 8], 0xf4);
	assert_true(r(h, R_IMAN) & 1);                   /* interrupt pending */
	hc_free(h);
}

/* A tablet on port 2: its interrupt IN endpoint NAKs until a move, then the wakeup runs the
 * ring: a Short Packet event (6 bytes of the 8 asked for) and the report in RAM. */
static void xhci_interrupt_endpoint_waits_for_a_report(void **state)
{
	(void)state;
	struct hc *h = hc_new();
	struct usb_hid tablet;
	usb_hid_init(&tablet, USB_HID_TABLET);
	assert_int_equal(xhci_plug(&h->x, 2, &tablet.dev), 0);
	hc_start(h, CMDRING);
	trb(h->m, CMDRING, 0, 0, 9, C_CYCLE);
	put32(h->m, INCTX + 4, 3);
	put32(h->m, INCTX + 0x20 + 4, 2u << 16);
	put32(h->m, INCTX + 0x40 + 4, 4u << 3 | 64u << 16);
	put64(h->m, INCTX + 0x40 + 8, EP0RING | 1);
	put64(h->m, DCBAA + 8, OUTCTX);
	trb(h->m, CMDRING + 16, INCTX, 0, 11, C_CYCLE | 1u << 24);
	w(h, DB(0), 0);
	assert_int_equal(ev_cc(h, 1), 1);
	/* Configure Endpoint: DCI 3 (endpoint 1 IN), interrupt IN, 8 bytes. */
	memset(h->m->host + INCTX, 0, 0x420);
	put32(h->m, INCTX + 4, 1u << 3 | 1);
	put32(h->m, INCTX + 0x20, 3u << 27);
	put32(h->m, INCTX + 0x80 + 4, 7u << 3 | 8u << 16);
	put64(h->m, INCTX + 0x80 + 8, 0x9000 | 1);
	trb(h->m, CMDRING + 32, INCTX, 0, 12, C_CYCLE | 1u << 24);
	w(h, DB(0), 0);
	assert_int_equal(ev_cc(h, 2), 1);
	trb(h->m, 0x9000, DATA, 8, T_NORMAL, C_CYCLE | C_IOC | 4u);   /* ISP */
	w(h, DB(1), 3);
	assert_int_equal(ev_type(h, 3), 0);              /* NAK: no event yet */
	usb_hid_move(&tablet, 100, 200, 0, 1);
	assert_int_equal(ev_type(h, 3), 32);
	assert_int_equal(ev_cc(h, 3), 13);               /* Short Packet */
	assert_int_equal(get32(h->m, EVRING + 48 + 8) & 0xffffff, 2);
	assert_int_equal(h->m->host[DATA], 1);           /* left button */
	assert_int_equal(h->m->host[DATA + 1] | h->m->host[DATA + 2] << 8, 16383 + 100);
	hc_free(h);
}

static void xhci_hostile_rings(void **state)
{
	(void)state;
	struct hc *h = hc_new();
	hc_start(h, CMDRING);
	w(h, DB(5), 1);                                  /* slot 5 was never enabled */
	assert_int_equal(ev_type(h, 0), 32);
	assert_int_equal(ev_cc(h, 0), 11);               /* Slot Not Enabled Error */
	trb(h->m, CMDRING, CMDRING, 0, T_LINK, C_CYCLE); /* a link TRB to itself */
	w(h, DB(0), 0);
	assert_true(r(h, R_USBSTS) & (1u << 12));        /* Host Controller Error */
	assert_true(r(h, R_USBSTS) & 1);                 /* halted */
	hc_free(h);

	h = hc_new();
	hc_start(h, OUTSIDE);                            /* a command ring outside RAM */
	w(h, DB(0), 0);
	assert_true(r(h, R_USBSTS) & (1u << 2));         /* Host System Error */
	assert_true(r(h, R_USBSTS) & 1);
	w(h, R_USBCMD, 2);                               /* a reset clears it */
	assert_int_equal(r(h, R_USBSTS) & 4, 0);
	hc_free(h);
}

/*
 * A guest that never reads its events: 16 No-Op commands into a 16-TRB event ring whose
 * dequeue pointer stays at its start. 15 completions fit; the last free TRB takes a Host
 * Controller Event with Event Ring Full Error (xHCI 4.9.4) and the 16th completion is
 * dropped. Once the guest has read and moved ERDP, events flow again (cycle bit toggled).
 */
static void xhci_event_ring_full(void **state)
{
	(void)state;
	struct hc *h = hc_new();
	hc_start(h, CMDRING);
	for (unsigned i = 0; i < 16; i++)
		trb(h->m, CMDRING + 16 * i, 0, 0, 23, C_CYCLE);   /* No Op Command */
	w(h, DB(0), 0);
	for (unsigned i = 0; i < 15; i++) {
		assert_int_equal(ev_type(h, i), 33);
		assert_int_equal(get32(h->m, EVRING + 16 * i), CMDRING + 16 * i);
	}
	assert_int_equal(ev_type(h, 15), 37);                  /* Host Controller Event */
	assert_int_equal(ev_cc(h, 15), 21);                    /* Event Ring Full Error */
	assert_int_equal(get32(h->m, EVRING + 12) & 1, 1);     /* nothing overwrote event 0 */
	/* The guest reads all 16 and moves ERDP back to the start (the ring wrapped). */
	w(h, R_ERDP, EVRING | 8);
	trb(h->m, CMDRING + 16 * 16, 0, 0, 23, C_CYCLE);
	w(h, DB(0), 0);
	assert_int_equal(ev_type(h, 0), 33);
	assert_int_equal(get32(h->m, EVRING), CMDRING + 16 * 16);
	assert_int_equal(get32(h->m, EVRING + 12) & 1, 0);     /* the next lap's cycle bit */
	hc_free(h);
}

/*
 * MSI-X: the capability in config space, its table in BAR0. Off: INTx as before (IMAN.IP
 * stays set until the guest clears it). On: an event is one message and IP clears itself;
 * no more while the handler is busy (ERDP.EHB), the ERDP write sends one if events wait; a
 * masked vector holds the message in the PBA until the unmask.
 */
static void xhci_msix(void **state)
{
	(void)state;
	struct hc *h = hc_new();
	pci_config_init(&h->x.pci.config, 0x1b36, 0x000d, 0x0c0330, 1);
	xhci_add_msix(&h->x);
	uint8_t cap = h->x.msix_cap;
	assert_true(cap >= 0x40);
	assert_int_equal(h->x.pci.config.bytes[PCI_CAPABILITY_LIST], cap);
	assert_int_equal(h->x.pci.config.bytes[cap], 0x11);
	assert_int_equal(get32_of(h->x.pci.config.bytes + cap + 4), XHCI_MSIX_TABLE);
	assert_int_equal(r(h, XHCI_MSIX_TABLE + 12), 1);        /* masked at reset */
	hc_start(h, CMDRING);
	trb(h->m, CMDRING, 0, 0, 23, C_CYCLE);
	w(h, DB(0), 0);
	assert_true(r(h, R_IMAN) & 1);                          /* INTx: IP held */
	assert_int_equal(h->x.msix_sent, 0);
	/* The driver fills the entry, enables MSI-X (function unmasked) and clears IP. */
	w(h, XHCI_MSIX_TABLE, 0xfee00000);
	w(h, XHCI_MSIX_TABLE + 8, 0x4041);
	w(h, XHCI_MSIX_TABLE + 12, 0);
	h->x.pci.specific_write(&h->x.pci, cap + 2, 0x8000, 2);
	assert_int_equal(h->x.msix_sent, 1);                    /* the pending IP, as a message */
	assert_int_equal(r(h, R_IMAN) & 1, 0);                  /* IP cleared by the controller */
	trb(h->m, CMDRING + 16, 0, 0, 23, C_CYCLE);
	w(h, DB(0), 0);
	assert_int_equal(h->x.msix_sent, 1);                    /* the handler is busy (EHB) */
	w(h, R_ERDP, (EVRING + 16) | 8);                        /* it read one event of two */
	assert_int_equal(h->x.msix_sent, 2);                    /* so: another message */
	w(h, R_ERDP, (EVRING + 32) | 8);                        /* all read: nothing more */
	assert_int_equal(h->x.msix_sent, 2);
	/* Masked: the message waits in the PBA; the unmask sends it. */
	w(h, XHCI_MSIX_TABLE + 12, 1);
	trb(h->m, CMDRING + 32, 0, 0, 23, C_CYCLE);
	w(h, DB(0), 0);
	assert_int_equal(h->x.msix_sent, 2);
	assert_int_equal(r(h, XHCI_MSIX_PBA), 1);
	w(h, XHCI_MSIX_TABLE + 12, 0);
	assert_int_equal(h->x.msix_sent, 3);
	assert_int_equal(r(h, XHCI_MSIX_PBA), 0);
	w(h, R_ERDP, (EVRING + 48) | 8);
	/* Disabled again: back to INTx, IP held. */
	h->x.pci.specific_write(&h->x.pci, cap + 2, 0, 2);
	trb(h->m, CMDRING + 48, 0, 0, 23, C_CYCLE);
	w(h, DB(0), 0);
	assert_int_equal(h->x.msix_sent, 3);
	assert_true(r(h, R_IMAN) & 1);
	hc_free(h);
}

/* ---- UHCI: the frame list, QHs and TDs ---------------------------------------------------- */

#define U_FL   0x10000u   /* frame list (4 KiB) */
#define U_QH   0x11000u
#define U_TD   0x11100u   /* TDs, 16 bytes apart */
#define U_BUF  0x12000u

static void uw(struct uhci *u, unsigned off, uint32_t v, unsigned len)
{
	uhci_io_write(u, off, (uint8_t *)&v, len);
}

static uint16_t ur(struct uhci *u, unsigned off)
{
	uint16_t v = 0;
	uhci_io_read(u, off, (uint8_t *)&v, 2);
	return v;
}

/* A TD: link, active (+ flags), token (pid, address 0, endpoint 0, length), buffer. */
static void utd(struct guest_memory *m, unsigned n, uint32_t link, unsigned pid, unsigned len,
		uint32_t buffer, uint32_t flags)
{
	uint32_t td = U_TD + 16 * n;
	put32(m, td, link);
	put32(m, td + 4, 1u << 23 | flags);
	put32(m, td + 8, pid | ((len - 1) & 0x7ff) << 21);
	put32(m, td + 12, buffer);
}

struct uhc {
	struct guest_memory *m;
	struct uhci u;
	struct stick k;
};

static struct uhc *uhc_new(void)
{
	struct uhc *h = calloc(1, sizeof(*h));
	h->m = fake_ram(RAM_SIZE);
	uhci_init(&h->u, h->m);
	usb_storage_init(&h->k.s, NULL);
	usb_storage_full_speed(&h->k.s);
	assert_int_equal(uhci_plug(&h->u, 1, &h->k.s.dev), 0);
	for (unsigned i = 0; i < 1024; i++)
		put32(h->m, U_FL + 4 * i, U_QH | 2);      /* every frame: the QH */
	put32(h->m, U_QH, 1);                          /* no next QH */
	put32(h->m, U_QH + 4, U_TD);                   /* its queue: TD 0 */
	uw(&h->u, 0x08, U_FL, 4);
	uw(&h->u, 0x04, 0xf, 2);                       /* all interrupts */
	uw(&h->u, 0x10, 1u << 9, 2);                   /* port reset, then enable */
	uw(&h->u, 0x10, 0, 2);
	uw(&h->u, 0x10, 1u << 2, 2);
	uw(&h->u, 0x00, 1, 2);                         /* run */
	return h;
}

static void uhci_control_transfer_by_tds(void **state)
{
	(void)state;
	struct uhc *h = uhc_new();
	assert_int_equal(ur(&h->u, 0x10) & 0x85, 0x85);   /* connected, enabled, bit 7 */
	const uint8_t get_dev[8] = { 0x80, 6, 0, 1, 0, 0, 18, 0 };
	memcpy(h->m->host + U_BUF, get_dev, 8);
	utd(h->m, 0, U_TD + 16, 0x2d, 8, U_BUF, 0);          /* SETUP */
	utd(h->m, 1, U_TD + 32, 0x69, 8, U_BUF + 0x100, 0);  /* IN 8 */
	utd(h->m, 2, U_TD + 48, 0x69, 8, U_BUF + 0x108, 0);  /* IN 8 */
	utd(h->m, 3, U_TD + 64, 0x69, 8, U_BUF + 0x110, 1u << 29);  /* IN 8, SPD: 2 come */
	utd(h->m, 4, 1, 0xe1, 0, 0, 1u << 24);               /* status OUT, IOC */
	uhci_frame(&h->u);
	assert_int_equal(get32(h->m, U_TD + 4) & (1u << 23), 0);   /* SETUP done */
	assert_int_equal(h->m->host[U_BUF + 0x100], 18);
	assert_int_equal(h->m->host[U_BUF + 0x108], 0xf4);         /* idVendor, low byte */
	assert_int_equal(get32(h->m, U_TD + 52) & 0x7ff, 1);       /* 2 bytes: ActLen 1 */
	assert_int_equal(get32(h->m, U_QH + 4), U_TD + 48);        /* stopped at the short TD */
	assert_true(ur(&h->u, 0x02) & 1);                          /* USBINT (short packet) */
	put32(h->m, U_QH + 4, U_TD + 64);                          /* the driver moves on */
	uhci_frame(&h->u);
	assert_int_equal(get32(h->m, U_TD + 68) & (1u << 23), 0);
	assert_int_equal(get32(h->m, U_QH + 4), 1);                /* queue empty */
	free_ram(h->m);
	free(h);
}

static void uhci_hostile_schedules(void **state)
{
	(void)state;
	struct uhc *h = uhc_new();
	put32(h->m, U_QH, U_QH | 2);                   /* a QH whose next is itself */
	put32(h->m, U_QH + 4, 1);
	uhci_frame(&h->u);                             /* ends: the walk is bounded */
	assert_int_equal(ur(&h->u, 0x02) & 0x28, 0);   /* no error, running */
	put32(h->m, U_QH, 1);
	put32(h->m, U_QH + 4, OUTSIDE);                /* a TD outside RAM */
	uhci_frame(&h->u);
	assert_true(ur(&h->u, 0x02) & 0x08);           /* host system error */
	assert_true(ur(&h->u, 0x02) & 0x20);           /* halted */
	uw(&h->u, 0x00, 2, 2);                         /* HCRESET */
	uw(&h->u, 0x08, (uint32_t)OUTSIDE, 4);         /* a frame list outside RAM */
	uw(&h->u, 0x00, 1, 2);
	uhci_frame(&h->u);
	assert_true(ur(&h->u, 0x02) & 0x08);
	free_ram(h->m);
	free(h);
}

/* ---- options ------------------------------------------------------------------------------- */

static void options(void **state)
{
	(void)state;
	struct usb_config c = { 0 };
	char why[256];
	assert_int_equal(usb_config_device(&c, "usb-storage,drive=d0,bootindex=1", why,
					   sizeof(why)), 0);
	assert_int_equal(c.devices[0].bootindex, 1);
	assert_int_equal(usb_config_finish(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no USB controller"));
	assert_int_equal(usb_config_device(&c, "qemu-xhci,id=x", why, sizeof(why)), 0);
	assert_int_equal(usb_config_finish(&c, why, sizeof(why)), 0);
	assert_int_equal(usb_config_device(&c, "usb-storage", why, sizeof(why)), -1);
	assert_int_equal(usb_config_device(&c, "usb-storage,drive=a,port=9", why, sizeof(why)),
			 -1);
	assert_int_equal(usb_config_device(&c, "qemu-xhci,speed=3", why, sizeof(why)), -1);
	assert_int_equal(usb_config_device(&c, "piix3-usb-uhci", why, sizeof(why)), 0);
	assert_int_equal(c.controller, USB_CONTROLLER_UHCI);
}

/* The keyboard: PS/2 keys to HID usages, Shift added for a shifted character, reports queued
 * until the interrupt endpoint asks, NAK when there is nothing. */
static void hid_keyboard_reports(void **state)
{
	(void)state;
	struct usb_hid k;
	usb_hid_init(&k, USB_HID_KEYBOARD);
	struct ps2_key a = { 0x1c, 0x1c, false }, up = { 0x75, 0x63, true };
	assert_int_equal(usb_hid_usage(&a), 0x04);
	assert_int_equal(usb_hid_usage(&up), 0x52);
	uint8_t r[8];
	assert_int_equal(usb_data(&k.dev, 0x81, r, 8), USB_RET_NAK);
	usb_hid_key(&k, &a, true, true);   /* 'A': Shift down, a down (Shift held), Shift up */
	assert_int_equal(usb_data(&k.dev, 0x81, r, 8), 8);
	assert_int_equal(r[0], 0x02);      /* left Shift */
	assert_int_equal(usb_data(&k.dev, 0x81, r, 8), 8);
	assert_int_equal(r[0], 0x02);
	assert_int_equal(r[2], 0x04);
	assert_int_equal(usb_data(&k.dev, 0x81, r, 8), 8);
	assert_int_equal(r[0], 0);
	assert_int_equal(r[2], 0x04);      /* a still held */
	usb_hid_key(&k, &a, false, false);
	assert_int_equal(usb_data(&k.dev, 0x81, r, 8), 8);
	assert_int_equal(r[2], 0);
	assert_int_equal(usb_data(&k.dev, 0x81, r, 8), USB_RET_NAK);
	for (int i = 0; i < 40; i++)       /* nobody reads: the queue keeps its bound */
		usb_hid_key(&k, &a, false, i % 2 == 0);
	int n = 0;
	while (usb_data(&k.dev, 0x81, r, 8) == 8)
		n++;
	assert_int_equal(n, USB_HID_QUEUE);
	uint8_t get_report[8] = { 0x81, 6, 0, 0x22, 0, 0, 255, 0 }, desc[255];
	assert_int_equal(usb_control(&k.dev, get_report, desc), 63);   /* the boot report's */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_walks_trbs_and_links),
		cmocka_unit_test(ring_link_loop_and_outside_ram),
		cmocka_unit_test_setup_teardown(bot_inquiry_padded_with_residue, stick_setup,
						stick_teardown),
		cmocka_unit_test_setup_teardown(bot_read_write_reach_the_image, stick_setup,
						stick_teardown),
		cmocka_unit_test_setup_teardown(bot_errors_leave_sense, stick_setup,
						stick_teardown),
		cmocka_unit_test_setup_teardown(bot_bad_cbw_stalls_until_reset, stick_setup,
						stick_teardown),
		cmocka_unit_test_setup_teardown(device_core_descriptors, stick_setup,
						stick_teardown),
		cmocka_unit_test(xhci_enumerates_a_device),
		cmocka_unit_test(xhci_interrupt_endpoint_waits_for_a_report),
		cmocka_unit_test(xhci_hostile_rings),
		cmocka_unit_test(xhci_event_ring_full),
		cmocka_unit_test(xhci_msix),
		cmocka_unit_test(uhci_control_transfer_by_tds),
		cmocka_unit_test(uhci_hostile_schedules),
		cmocka_unit_test(options),
		cmocka_unit_test(hid_keyboard_reports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
