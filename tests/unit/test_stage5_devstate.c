/*
 * test_stage5_devstate.c - the device sections of the migration stream
 * (stage5-full-machine/migration/devstate.c): for each device a model with state in every
 * field that travels is saved, loaded into a fresh one, and the two compared; a section one
 * byte short (or long) is refused with a line naming the device, and so is a value that would
 * index past an array once the guest runs. No KVM, no bus: the structs alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "board/pflash.h"
#include "migration/devstate.h"
#include "net/e1000.h"
#include "usb/uhci.h"
#include "usb/usb_hid.h"
#include "usb/usb_storage.h"
#include "usb/xhci.h"
#include "virtio_net.h"

static char why[256];

/* Save src, load into dst: 0 expected. Then the same bytes one short and one long: refused. */
static void round_trip(const struct devstate_ops *ops, void *src, void *dst)
{
	uint32_t len;
	uint8_t *p = ops->save(src, &len);
	assert_non_null(p);
	assert_int_equal(ops->load(dst, p, len, why, sizeof(why)), 0);
	uint8_t *longer = calloc(1, len + 1);
	assert_non_null(longer);
	memcpy(longer, p, len);
	why[0] = '\0';
	assert_int_equal(ops->load(dst, p, len - 1, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, ops->kind));
	why[0] = '\0';
	assert_int_equal(ops->load(dst, longer, len + 1, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, ops->kind));
	free(longer);
	free(p);
}

/* Save src, change the saved bytes with poke, load: refused, dst untouched in that field. */
static void refused(const struct devstate_ops *ops, void *src, void *dst,
		    void (*poke)(uint8_t *p, uint32_t len), const char *text)
{
	uint32_t len;
	uint8_t *p = ops->save(src, &len);
	assert_non_null(p);
	poke(p, len);
	why[0] = '\0';
	assert_int_equal(ops->load(dst, p, len, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, text));
	free(p);
}

/* ---- e1000 ---- */

static struct e1000 e_src, e_dst;

static void e1000_fill(void)
{
	memset(&e_src, 0, sizeof(e_src));
	memset(&e_dst, 0, sizeof(e_dst));
	for (unsigned i = 0; i < E1000_MMIO_SIZE / 4; i++)
		e_src.regs[i] = i * 2654435761u;
	for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++)
		e_src.eeprom[i] = 0x1234 + i;
	for (unsigned i = 0; i < E1000_PHY_REGS; i++)
		e_src.phy[i] = 0x7700 + i;
	e_src.ee = (struct e1000_eeprom_wire){ 0x5, 0x1a3, 9, true, 17, 12 };
	e_src.ctx = (struct e1000_tx_context){ 14, 24, 34, 50, 33, 0, 1448, 1448, 54, true, true,
					       true };
	e_src.ioaddr = 0x3818;
	e_src.tx_len = 300;   /* a frame half gathered: its bytes travel too */
	for (unsigned i = 0; i < e_src.tx_len; i++)
		e_src.tx_buf[i] = (uint8_t)(i * 7);
	e_src.tx_tse = e_src.tx_txsm = true;
}

static void test_e1000(void **state)
{
	(void)state;
	e1000_fill();
	round_trip(&devstate_e1000, &e_src, &e_dst);
	assert_memory_equal(e_src.regs, e_dst.regs, sizeof(e_src.regs));
	assert_memory_equal(e_src.eeprom, e_dst.eeprom, sizeof(e_src.eeprom));
	assert_memory_equal(e_src.phy, e_dst.phy, sizeof(e_src.phy));
	assert_memory_equal(&e_src.ee, &e_dst.ee, sizeof(e_src.ee));
	assert_memory_equal(&e_src.ctx, &e_dst.ctx, sizeof(e_src.ctx));
	assert_int_equal(e_dst.ioaddr, 0x3818);
	assert_int_equal(e_dst.tx_len, 300);
	assert_memory_equal(e_src.tx_buf, e_dst.tx_buf, 300);
	assert_true(e_dst.tx_tse && e_dst.tx_txsm && !e_dst.tx_ixsm && !e_dst.tx_bad);
}

/* The e1000's saved struct ends with the frame; its tx_len is the word before the flags. */
static void e1000_poke_frame_len(uint8_t *p, uint32_t len)
{
	uint32_t huge = E1000_TX_MAX + 1;
	memcpy(p + len - e_src.tx_len - 8, &huge, 4);
}

static void e1000_poke_eeprom_addr(uint8_t *p, uint32_t len)
{
	(void)len;
	size_t at = sizeof(e_src.regs) + sizeof(e_src.eeprom) + sizeof(e_src.phy) +
		    offsetof(struct e1000_eeprom_wire, addr);
	unsigned addr = 999;
	memcpy(p + at, &addr, sizeof(addr));
}

static void e1000_poke_tse(uint8_t *p, uint32_t len)
{
	(void)len;
	size_t at = sizeof(e_src.regs) + sizeof(e_src.eeprom) + sizeof(e_src.phy) +
		    sizeof(e_src.ee) + offsetof(struct e1000_tx_context, tse);
	p[at] = 2;
}

static void test_e1000_refused(void **state)
{
	(void)state;
	e1000_fill();
	refused(&devstate_e1000, &e_src, &e_dst, e1000_poke_frame_len, "e1000");
	refused(&devstate_e1000, &e_src, &e_dst, e1000_poke_eeprom_addr, "EEPROM");
	refused(&devstate_e1000, &e_src, &e_dst, e1000_poke_tse, "offload");
	assert_int_equal(e_dst.tx_len, 0);   /* nothing was loaded */
}

/* ---- virtio-net ---- */

static void test_virtio_net(void **state)
{
	(void)state;
	static struct virtio_net src, dst;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	struct virtio_pci_state *s = &src.vp.state;
	s->driver_features = VIRTIO_F_VERSION_1 | 0x20;
	s->status = 0xf;
	s->isr = 1;
	s->queue_select = 1;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		s->vq[q] = (struct virtq){ 256, true, false, 0x10000 * (q + 1), 0x11000 * (q + 1),
					   0x12000 * (q + 1), 77 + q, 75 + q, true, false, 70 };
	s->config_len = 10;
	memcpy(s->config, "\x52\x54\x00\x12\x34\x57\x01\x00", 8);
	round_trip(&devstate_virtio_net, &src, &dst);
	assert_memory_equal(&src.vp.state, &dst.vp.state, sizeof(src.vp.state));
}

static void virtio_poke_size(uint8_t *p, uint32_t len)
{
	(void)len;
	uint16_t size = 1000;
	memcpy(p + offsetof(struct virtio_pci_state, vq) + offsetof(struct virtq, size), &size, 2);
}

/* A live queue whose available ring is at an odd address (virtq_pop reads it as u16s). */
static void virtio_poke_ring(uint8_t *p, uint32_t len)
{
	(void)len;
	uint64_t avail = 0x11001;
	memcpy(p + offsetof(struct virtio_pci_state, vq) + offsetof(struct virtq, avail_gpa),
	       &avail, 8);
}

/* A live queue of size 3: enabling it would have failed (not a power of two). */
static void virtio_poke_live_size(uint8_t *p, uint32_t len)
{
	(void)len;
	uint16_t size = 3;
	memcpy(p + offsetof(struct virtio_pci_state, vq) + offsetof(struct virtq, size), &size, 2);
}

/* A bool's byte that is neither 0 nor 1: a stream is bytes. */
static void virtio_poke_ready_byte(uint8_t *p, uint32_t len)
{
	(void)len;
	p[offsetof(struct virtio_pci_state, vq) + offsetof(struct virtq, ready)] = 2;
}

static void test_virtio_net_refused(void **state)
{
	(void)state;
	static struct virtio_net src, dst;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	refused(&devstate_virtio_net, &src, &dst, virtio_poke_size, "virtio-net");
	src.vp.state.vq[0] = (struct virtq){ 256, true, false, 0x10000, 0x11000, 0x12000, 0, 0,
					     false, false, 0 };
	refused(&devstate_virtio_net, &src, &dst, virtio_poke_ring, "alignment");
	refused(&devstate_virtio_net, &src, &dst, virtio_poke_live_size, "alignment");
	refused(&devstate_virtio_net, &src, &dst, virtio_poke_ready_byte, "flags");
	assert_false(dst.vp.state.vq[0].ready);   /* nothing was loaded */
}

/* ---- pflash ---- */

static void test_pflash(void **state)
{
	(void)state;
	struct pflash src = { .size = 0x84000, .mode = PFLASH_READ_STATUS, .status = 0x80,
			      .programmed = 12, .erased = 3 };
	struct pflash dst = { .size = 0x84000 };
	round_trip(&devstate_pflash, &src, &dst);
	assert_int_equal(dst.mode, PFLASH_READ_STATUS);
	assert_int_equal(dst.status, 0x80);
	assert_int_equal(dst.programmed, 12);
	assert_int_equal(dst.erased, 3);
	/* The array is the file: a flash of another size is another file. */
	struct pflash other = { .size = 0x40000 };
	uint32_t len;
	uint8_t *p = devstate_pflash.save(&src, &len);
	assert_int_equal(devstate_pflash.load(&other, p, len, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "another flash size"));
	assert_int_equal(other.mode, PFLASH_READ_ARRAY);
	free(p);
}

/* ---- xHCI ---- */

static void test_xhci(void **state)
{
	(void)state;
	static struct xhci src, dst;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.usbcmd = 0x5;
	src.usbsts = 0x8;
	src.config = 4;
	src.dcbaap = 0x123000;
	src.crcr = 0x124001;
	src.cmd_ring = (struct xhci_ring){ 0x124040, true };
	src.cmd_ring_running = true;
	src.iman = 3;
	src.imod = 4000;
	src.erstsz = 1;
	src.erstba = 0x125000;
	src.erdp = 0x126080;
	src.ev_seg_base = 0x126000;
	src.ev_seg_size = 256;
	src.ev_index = 9;
	src.ev_pcs = true;
	src.msix_entry[0] = 0xfee00000;
	src.msix_entry[2] = 0x4041;
	src.msix_pending = true;
	for (unsigned i = 0; i < XHCI_PORTS; i++)
		src.ports[i].portsc = 0x2a0 + i;
	src.slots[1] = (struct xhci_slot){ true, 3, 5, 0x127000, { { { 0, 0 }, 0, 0, false } } };
	src.slots[1].ep[1] = (struct xhci_endpoint){ { 0x128010, true }, 1, 4, false };
	src.slots[1].ep[3] = (struct xhci_endpoint){ { 0x129020, false }, 1, 7, true };
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	src.start_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec - 5000000000ull;   /* 5 s ago */
	round_trip(&devstate_xhci, &src, &dst);
	assert_int_equal(dst.usbcmd, 5);
	assert_int_equal(dst.crcr, 0x124001);
	assert_int_equal(dst.cmd_ring.dequeue, 0x124040);
	assert_true(dst.cmd_ring.ccs && dst.cmd_ring_running && dst.ev_pcs);
	assert_int_equal(dst.erdp, 0x126080);
	assert_int_equal(dst.ev_index, 9);
	assert_int_equal(dst.msix_entry[0], 0xfee00000);
	assert_int_equal(dst.msix_entry[2], 0x4041);
	assert_true(dst.msix_pending);
	assert_int_equal(dst.ports[7].portsc, 0x2a7);
	assert_memory_equal(dst.slots, src.slots, sizeof(src.slots));
	/* MFINDEX goes on: the destination's counter started (at least) 5 s before now. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	assert_true(ts.tv_sec * 1000000000ull + ts.tv_nsec - dst.start_ns >= 5000000000ull);
}

static void xhci_poke_port(uint8_t *p, uint32_t len)
{
	/* slots[] ends the saved struct: slot 16's port field */
	size_t at = len - sizeof(struct xhci_slot) + offsetof(struct xhci_slot, port);
	unsigned port = XHCI_PORTS + 1;
	memcpy(p + at, &port, sizeof(port));
}

/* Slot 16's last endpoint's "waiting" flag: a byte that is neither 0 nor 1. */
static void xhci_poke_flag(uint8_t *p, uint32_t len)
{
	size_t at = len - sizeof(struct xhci_slot) + offsetof(struct xhci_slot, ep) +
		    (XHCI_ENDPOINTS - 1) * sizeof(struct xhci_endpoint) +
		    offsetof(struct xhci_endpoint, waiting);
	p[at] = 0xff;
}

static void test_xhci_refused(void **state)
{
	(void)state;
	static struct xhci src, dst;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	refused(&devstate_xhci, &src, &dst, xhci_poke_port, "port");
	refused(&devstate_xhci, &src, &dst, xhci_poke_flag, "0 or 1");
}

/* ---- UHCI ---- */

static void test_uhci(void **state)
{
	(void)state;
	static struct uhci src, dst;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.cmd = 0xc1;
	src.sts = 0x1;
	src.intr = 0xf;
	src.frnum = 0x3ff;
	src.flbase = 0x3f000;
	src.sof = 64;
	src.portsc[0] = 0x95;
	src.portsc[1] = 0x80;
	memcpy(src.ctl[0].setup, "\x80\x06\x00\x01\x00\x00\x12\x00", 8);
	src.ctl[0].active = src.ctl[0].in = true;
	src.ctl[0].len = 18;
	src.ctl[0].pos = 8;
	memset(src.ctl[0].data, 0xab, 18);
	round_trip(&devstate_uhci, &src, &dst);
	assert_int_equal(dst.cmd, 0xc1);
	assert_int_equal(dst.frnum, 0x3ff);
	assert_int_equal(dst.flbase, 0x3f000);
	assert_int_equal(dst.sof, 64);
	assert_int_equal(dst.portsc[0], 0x95);
	assert_memory_equal(&dst.ctl, &src.ctl, sizeof(src.ctl));
}

static void uhci_poke_len(uint8_t *p, uint32_t len)
{
	(void)len;
	size_t at = len - 2 * sizeof(struct uhci_control) + offsetof(struct uhci_control, len);
	unsigned big = UHCI_CONTROL_MAX + 1;
	memcpy(p + at, &big, sizeof(big));
}

/* An IN transfer's position past what its answer holds (pos 64 of len 18). */
static void uhci_poke_pos(uint8_t *p, uint32_t len)
{
	unsigned pos = 64;
	memcpy(p + len - 2 * sizeof(struct uhci_control) + offsetof(struct uhci_control, pos),
	       &pos, sizeof(pos));
}

static void uhci_poke_flag(uint8_t *p, uint32_t len)
{
	p[len - sizeof(struct uhci_control) + offsetof(struct uhci_control, in)] = 3;
}

static void test_uhci_refused(void **state)
{
	(void)state;
	static struct uhci src, dst;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	refused(&devstate_uhci, &src, &dst, uhci_poke_len, "control transfer");
	refused(&devstate_uhci, &src, &dst, uhci_poke_flag, "flags");
	src.ctl[0].len = 18;
	refused(&devstate_uhci, &src, &dst, uhci_poke_pos, "control transfer");
}

/* ---- usb-kbd, usb-tablet ---- */

static void test_hid(void **state)
{
	(void)state;
	struct usb_hid src, dst, kbd;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	memset(&kbd, 0, sizeof(kbd));
	src.kind = dst.kind = USB_HID_TABLET;
	kbd.kind = USB_HID_KEYBOARD;
	src.dev.address = 3;
	src.dev.configuration = 1;
	src.dev.halted = 1u << 1;
	src.report_len = 6;
	src.head = 14;
	src.count = 3;   /* reports queued for the guest, wrapping around the queue */
	for (unsigned i = 0; i < USB_HID_QUEUE; i++)
		memset(src.queue[i], i + 1, USB_HID_REPORT_MAX);
	src.x = 0x4000;
	src.y = 0x1234;
	src.buttons = 1;
	src.protocol = 1;
	src.idle = 0x20;
	round_trip(&devstate_usb_hid, &src, &dst);
	assert_int_equal(dst.dev.address, 3);
	assert_int_equal(dst.dev.configuration, 1);
	assert_int_equal(dst.dev.halted, 2);
	assert_int_equal(dst.head, 14);
	assert_int_equal(dst.count, 3);
	assert_memory_equal(dst.queue, src.queue, sizeof(src.queue));
	assert_int_equal(dst.x, 0x4000);
	assert_int_equal(dst.y, 0x1234);
	assert_int_equal(dst.protocol, 1);
	assert_int_equal(dst.idle, 0x20);
	/* A tablet's state into a keyboard: another device, refused. */
	uint32_t len;
	uint8_t *p = devstate_usb_hid.save(&src, &len);
	assert_int_equal(devstate_usb_hid.load(&kbd, p, len, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "keyboard"));
	free(p);
}

/* ---- usb-storage ---- */

static void test_storage(void **state)
{
	(void)state;
	struct usb_storage src, dst;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.dev.address = 2;
	src.dev.configuration = 1;
	src.state = BOT_DATA_IN;   /* a READ(10) half done */
	src.tag = 0xdeadbeef;
	src.expected = 65536;
	src.host_left = 32768;
	src.disk_io = true;
	src.disk_offset = 1 << 20;
	src.disk_left = 32768;
	src.reply_len = 36;
	src.reply_pos = 36;
	memset(src.reply, 0x5a, 36);
	src.sense_key = 6;
	src.asc = 0x28;
	round_trip(&devstate_usb_storage, &src, &dst);
	assert_int_equal(dst.state, BOT_DATA_IN);
	assert_int_equal(dst.tag, 0xdeadbeef);
	assert_int_equal(dst.expected, 65536);
	assert_int_equal(dst.host_left, 32768);
	assert_true(dst.disk_io);
	assert_int_equal(dst.disk_offset, 1 << 20);
	assert_int_equal(dst.disk_left, 32768);
	assert_memory_equal(dst.reply, src.reply, 36);
	assert_int_equal(dst.sense_key, 6);
	assert_int_equal(dst.asc, 0x28);
	assert_int_equal(dst.dev.address, 2);
}

static void storage_poke_pos(uint8_t *p, uint32_t len)
{
	(void)len;
	/* reply_pos: after the device (8 bytes) and 7 u32 fields */
	uint32_t pos = 1000;
	memcpy(p + 8 + 7 * 4, &pos, 4);
}

static void test_storage_refused(void **state)
{
	(void)state;
	struct usb_storage src, dst;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	refused(&devstate_usb_storage, &src, &dst, storage_poke_pos, "transport phase");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e1000),
		cmocka_unit_test(test_e1000_refused),
		cmocka_unit_test(test_virtio_net),
		cmocka_unit_test(test_virtio_net_refused),
		cmocka_unit_test(test_pflash),
		cmocka_unit_test(test_xhci),
		cmocka_unit_test(test_xhci_refused),
		cmocka_unit_test(test_uhci),
		cmocka_unit_test(test_uhci_refused),
		cmocka_unit_test(test_hid),
		cmocka_unit_test(test_storage),
		cmocka_unit_test(test_storage_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
