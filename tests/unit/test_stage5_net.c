/*
 * test_stage5_net.c - unit tests of the stage 5 network family: the e1000's EEPROM (its
 * checksum, the microwire protocol Linux bit-bangs, EERD), its PHY, its transmit and receive
 * ring walkers (including what a hostile guest gets: rings outside RAM, frames that never end,
 * empty frames), its checksum offload and TCP segmentation, stage 4's virtio-net behind a
 * stage 5 back end (its send hook and virtio_net_deliver), virtio-net's fast path pieces
 * (the transmit header check, mergeable receive buffers, frames with their header through a
 * tap, for which a SOCK_SEQPACKET socket pair stands in), and the option parser.
 * No KVM: the card runs on fake RAM and its frames go to a capture function.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_ram.h"
#include "net/e1000.h"
#include "net/net_config.h"
#include "virtio_net.h"

#define RAM_SIZE (1u << 20)
#define TX_RING 0x1000
#define RX_RING 0x2000
#define BUF 0x10000

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* What the card sent. */
static uint8_t sent[8][2048];
static size_t sent_len[8];
static unsigned nsent;

static void capture(void *opaque, const uint8_t *frame, size_t len)
{
	(void)opaque;
	if (nsent < 8 && len <= sizeof(sent[0])) {
		memcpy(sent[nsent], frame, len);
		sent_len[nsent] = len;
	}
	nsent++;
}

static struct e1000 card;
static struct guest_memory *ram;

static int setup(void **state)
{
	(void)state;
	ram = fake_ram(RAM_SIZE);
	nsent = 0;
	e1000_init(&card, ram, MAC, capture, NULL, "e1000.t");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free_ram(ram);
	return 0;
}

static void wr(unsigned offset, uint32_t v)
{
	uint8_t b[4];
	u64_to_bytes(v, b, 4);
	e1000_mmio_write(&card, offset, b, 4);
}

static uint32_t rd(unsigned offset)
{
	uint8_t b[4];
	e1000_mmio_read(&card, offset, b, 4);
	return bytes_to_u64(b, 4);
}

/* ---- EEPROM and PHY ------------------------------------------------------------------- */

static void test_eeprom_checksum(void **state)
{
	(void)state;
	uint16_t ee[E1000_EEPROM_WORDS];
	e1000_eeprom_fill(ee, MAC);
	uint16_t sum = 0;
	for (int i = 0; i < E1000_EEPROM_WORDS; i++)
		sum += ee[i];
	assert_int_equal(sum, E1000_EEPROM_SUM);
	assert_int_equal(ee[0], 0x5452);
	assert_int_equal(ee[1], 0x1200);
	assert_int_equal(ee[2], 0x5634);
}

/* Linux's e1000_shift_out_ee_bits / e1000_shift_in_ee_bits, against the model. */
#define SK 1u
#define CS 2u
#define DI 4u
#define DO 8u
#define REQ 0x40u
#define GNT 0x80u

static void clock_bit(uint32_t *eecd, bool bit)
{
	*eecd = (*eecd & ~DI) | (bit ? DI : 0);
	wr(E1000_EECD, *eecd);
	wr(E1000_EECD, *eecd | SK);
	wr(E1000_EECD, *eecd);
}

static uint16_t microwire_read(unsigned addr)
{
	uint32_t eecd = REQ;
	wr(E1000_EECD, eecd);
	assert_true(rd(E1000_EECD) & GNT);
	eecd |= CS;
	wr(E1000_EECD, eecd);
	for (int i = 2; i >= 0; i--)
		clock_bit(&eecd, 0x6 >> i & 1);     /* READ opcode with its start bit */
	for (int i = 5; i >= 0; i--)
		clock_bit(&eecd, addr >> i & 1);
	uint16_t data = 0;
	for (int i = 0; i < 16; i++) {
		wr(E1000_EECD, eecd | SK);
		data = data << 1 | !!(rd(E1000_EECD) & DO);
		wr(E1000_EECD, eecd);
	}
	wr(E1000_EECD, REQ);                        /* CS low: standby */
	return data;
}

static void test_eeprom_microwire_and_eerd(void **state)
{
	(void)state;
	assert_int_equal(microwire_read(0), 0x5452);
	assert_int_equal(microwire_read(2), 0x5634);
	uint16_t sum = 0;
	for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++)
		sum += microwire_read(i);
	assert_int_equal(sum, E1000_EEPROM_SUM);
	wr(E1000_EERD, 1u << 8 | 1);                  /* EERD: word 1, START */
	uint32_t v = rd(E1000_EERD);
	assert_true(v & 0x10);                      /* DONE */
	assert_int_equal(v >> 16, 0x1200);
}

static void test_phy_link(void **state)
{
	(void)state;
	wr(E1000_MDIC, 2u << 26 | 1u << 21 | 2u << 16);   /* read PHY 1, register 2 (ID1) */
	uint32_t v = rd(E1000_MDIC);
	assert_true(v & (1u << 28));                      /* ready */
	assert_int_equal(v & 0xffff, 0x0141);
	wr(E1000_MDIC, 2u << 26 | 1u << 21 | 1u << 16);   /* status: link up */
	assert_true(rd(E1000_MDIC) & 0x4);
	wr(E1000_MDIC, 2u << 26 | 2u << 21 | 1u << 16);   /* no PHY at address 2 */
	assert_true(rd(E1000_MDIC) & (1u << 30));
	assert_true(rd(E1000_STATUS) & 0x2);              /* STATUS.LU */
}

/* ---- transmit ------------------------------------------------------------------------- */

static void tx_ring(uint64_t base, unsigned descriptors)
{
	wr(E1000_TDBAL, base);
	wr(E1000_TDBAH, base >> 32);
	wr(E1000_TDLEN, descriptors * 16);
	wr(E1000_TDH, 0);
	wr(E1000_TDT, 0);
	wr(E1000_TCTL, 2);   /* EN */
}

static uint8_t *desc(uint64_t ring, unsigned i)
{
	return ram->host + ring + i * 16;
}

static void legacy(unsigned i, uint64_t addr, unsigned len, uint8_t cmd)
{
	uint8_t *d = desc(TX_RING, i);
	memset(d, 0, 16);
	u64_to_bytes(addr, d, 8);
	u64_to_bytes(len, d + 8, 2);
	d[11] = cmd;
}

static void test_tx_legacy_gathers_and_completes(void **state)
{
	(void)state;
	tx_ring(TX_RING, 8);
	wr(E1000_IMS, E1000_ICR_TXDW);
	memset(ram->host + BUF, 0xaa, 20);
	memset(ram->host + BUF + 0x100, 0xbb, 40);
	legacy(0, BUF, 20, 0x08);               /* RS */
	legacy(1, BUF + 0x100, 40, 0x08 | 0x01); /* RS | EOP */
	wr(E1000_TDT, 2);
	assert_int_equal(nsent, 1);
	assert_int_equal(sent_len[0], 60);
	assert_int_equal(sent[0][19], 0xaa);
	assert_int_equal(sent[0][20], 0xbb);
	assert_int_equal(rd(E1000_TDH), 2);
	assert_true(desc(TX_RING, 0)[12] & 1);   /* DD */
	assert_true(desc(TX_RING, 1)[12] & 1);
	assert_true(rd(E1000_ICR) & E1000_ICR_TXDW);
	assert_int_equal(rd(E1000_ICR), 0);     /* read cleared it */
	assert_int_equal(rd(0x4080), 1);        /* GPTC, then cleared by the read */
	assert_int_equal(rd(0x4080), 0);
}

static void test_tx_ring_outside_ram(void **state)
{
	(void)state;
	tx_ring(RAM_SIZE - 32, 8);              /* descriptors 2.. are outside RAM */
	wr(E1000_TDT, 5);
	assert_int_equal(nsent, 0);
	assert_int_equal(rd(E1000_TDH), 2);     /* stopped at the first one outside */
	tx_ring(0xfffff000ull << 8, 8);         /* far above RAM */
	wr(E1000_TDT, 1);
	assert_int_equal(rd(E1000_TDH), 0);
	legacy(0, RAM_SIZE - 4, 64, 0x09);      /* a buffer crossing the end of RAM */
	tx_ring(TX_RING, 8);
	legacy(0, RAM_SIZE - 4, 64, 0x09);
	wr(E1000_TDT, 1);
	assert_int_equal(nsent, 0);             /* dropped ... */
	assert_true(desc(TX_RING, 0)[12] & 1);  /* ... and still completed */
}

static void test_tx_bad_frames(void **state)
{
	(void)state;
	tx_ring(TX_RING, 8);
	legacy(0, BUF, 0, 0x09);                /* zero-length frame */
	wr(E1000_TDT, 1);
	assert_int_equal(nsent, 0);
	/* A guest that never ends its frame: every descriptor of a full ring, over and over. */
	for (unsigned i = 0; i < 8; i++)
		legacy(i, BUF, 0x3fff, 0x08);   /* 16 KiB each, no EOP */
	for (unsigned round = 0; round < 3; round++) {
		wr(E1000_TDT, 0);
		wr(E1000_TDT, round % 2 ? 1 : 7);
	}
	legacy(1, BUF, 60, 0x09);
	legacy(2, BUF, 60, 0x09);
	wr(E1000_TDT, 3);
	/* the oversized frame was dropped at its end; the card still works */
	assert_true(nsent >= 1);
	assert_int_equal(sent_len[nsent - 1], 60);
	/* a TDT outside the ring is ignored */
	uint32_t head = rd(E1000_TDH);
	wr(E1000_TDT, 100);
	assert_int_equal(rd(E1000_TDH), head);
}

/* An IPv4/UDP frame: 14 + 20 + 8 + payload. */
static size_t udp_frame(uint8_t *f, unsigned payload)
{
	memset(f, 0, 64 + payload);
	memcpy(f, "\xff\xff\xff\xff\xff\xff\x52\x54\x00\x12\x34\x56\x08\x00", 14);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	u64_to_bytes(__builtin_bswap16(20 + 8 + payload), ip + 2, 2);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
	uint8_t *udp = ip + 20;
	udp[1] = 68;
	udp[3] = 67;
	u64_to_bytes(__builtin_bswap16(8 + payload), udp + 4, 2);
	for (unsigned i = 0; i < payload; i++)
		udp[8 + i] = i * 7;
	return 14 + 20 + 8 + payload;
}

/* The Internet checksum over [start, len) plus a pseudo header sum is 0xffff when valid. */
static uint16_t l4_check(const uint8_t *f, size_t len, unsigned start, uint8_t proto)
{
	uint32_t sum = e1000_csum_add(0, f + 26, 8);   /* addresses */
	sum += proto + (len - start);
	return e1000_csum_fold(e1000_csum_add(sum, f + start, len - start));
}

static void context(unsigned i, uint8_t tucmd, unsigned paylen, uint8_t hdr, uint16_t mss,
		    uint8_t tucso)
{
	uint8_t *d = desc(TX_RING, i);
	memset(d, 0, 16);
	d[0] = 14;                           /* IPCSS */
	d[1] = 14 + 10;                      /* IPCSO */
	u64_to_bytes(33, d + 2, 2);          /* IPCSE */
	d[4] = 34;                           /* TUCSS */
	d[5] = tucso;
	u64_to_bytes(paylen | 0u << 20 | (uint32_t)(tucmd | 0x20) << 24, d + 8, 4);
	d[13] = hdr;
	u64_to_bytes(mss, d + 14, 2);
}

static void data(unsigned i, uint64_t addr, unsigned len, uint8_t dcmd, uint8_t popts)
{
	uint8_t *d = desc(TX_RING, i);
	memset(d, 0, 16);
	u64_to_bytes(addr, d, 8);
	u64_to_bytes(len | 1u << 20 | (uint32_t)(dcmd | 0x20) << 24, d + 8, 4);
	d[13] = popts;
}

static void test_tx_checksum_offload(void **state)
{
	(void)state;
	tx_ring(TX_RING, 8);
	size_t len = udp_frame(ram->host + BUF, 100);
	/* The driver's part: the pseudo header sum (with length) in the UDP checksum field. */
	uint32_t pseudo = e1000_csum_add(0, ram->host + BUF + 26, 8) + 17 + 108;
	while (pseudo >> 16)
		pseudo = (pseudo & 0xffff) + (pseudo >> 16);
	ram->host[BUF + 40] = pseudo >> 8;
	ram->host[BUF + 41] = pseudo;
	context(0, 0x02, 0, 0, 0, 40);                   /* IP, UDP checksum at 40 */
	data(1, BUF, len, 0x01 | 0x08, 0x01 | 0x02);     /* EOP RS, IXSM TXSM */
	wr(E1000_TDT, 2);
	assert_int_equal(nsent, 1);
	assert_int_equal(l4_check(sent[0], sent_len[0], 34, 17), 0);
	assert_int_equal(e1000_csum_fold(e1000_csum_add(0, sent[0] + 14, 20)), 0);   /* IP */
}

/* A TSO context that does not fit its frame (a hostile or confused driver): dropped. */
static void test_tx_tso_bad_context(void **state)
{
	(void)state;
	tx_ring(TX_RING, 8);
	udp_frame(ram->host + BUF, 100);
	context(0, 0x04 | 0x02 | 0x01, 100, 200, 1000, 50);   /* headers longer than the frame */
	data(1, BUF, 142, 0x04 | 0x01 | 0x08, 0x03);
	context(2, 0x04 | 0x02 | 0x01, 100, 54, 0, 50);       /* MSS 0: no progress */
	data(3, BUF, 142, 0x04 | 0x01 | 0x08, 0x03);
	context(4, 0x04 | 0x02 | 0x01, 100, 54, 60000, 50);   /* segments larger than a frame */
	data(5, BUF, 142, 0x04 | 0x01 | 0x08, 0x03);
	wr(E1000_TDT, 6);
	assert_int_equal(nsent, 0);
	assert_int_equal(rd(E1000_TDH), 6);
	assert_true(desc(TX_RING, 5)[12] & 1);
}

static void test_tx_tso(void **state)
{
	(void)state;
	tx_ring(TX_RING, 8);
	/* A TCP frame: 14 + 20 + 20 headers, 2500 bytes of payload, MSS 1000. */
	uint8_t *f = ram->host + BUF;
	udp_frame(f, 0);
	f[14 + 9] = 6;
	uint8_t *tcp = f + 34;
	memset(tcp, 0, 20);
	tcp[3] = 80;
	memcpy(tcp + 4, "\x00\x00\x10\x00", 4);          /* seq 0x1000 */
	tcp[12] = 5 << 4;
	tcp[13] = 0x18;                                  /* PSH ACK */
	for (unsigned i = 0; i < 2500; i++)
		f[54 + i] = i;
	uint32_t pseudo = e1000_csum_add(0, f + 26, 8) + 6;   /* without the length */
	while (pseudo >> 16)
		pseudo = (pseudo & 0xffff) + (pseudo >> 16);
	tcp[16] = pseudo >> 8;
	tcp[17] = pseudo;
	context(0, 0x04 | 0x02 | 0x01, 2500, 54, 1000, 34 + 16);   /* TSE IP TCP */
	data(1, BUF, 54, 0x04, 0x03);
	data(2, BUF + 54, 2500, 0x04 | 0x01 | 0x08, 0x03);
	wr(E1000_TDT, 3);
	assert_int_equal(nsent, 3);
	static const unsigned pay[3] = { 1000, 1000, 500 };
	for (unsigned s = 0; s < 3; s++) {
		const uint8_t *g = sent[s];
		assert_int_equal(sent_len[s], 54 + pay[s]);
		assert_int_equal(g[16] << 8 | g[17], 40 + pay[s]);            /* IP total length */
		assert_int_equal(e1000_csum_fold(e1000_csum_add(0, g + 14, 20)), 0);
		uint32_t seq = (uint32_t)g[38] << 24 | g[39] << 16 | g[40] << 8 | g[41];
		assert_int_equal(seq, 0x1000 + 1000 * s);
		assert_int_equal(g[47] & 0x08, s == 2 ? 0x08 : 0);            /* PSH: last only */
		assert_int_equal(l4_check(g, sent_len[s], 34, 6), 0);
		assert_int_equal(g[54], (uint8_t)(1000 * s));
	}
}

/* ---- receive -------------------------------------------------------------------------- */

static void rx_ring(unsigned descriptors, unsigned tail)
{
	for (unsigned i = 0; i < descriptors; i++) {
		memset(desc(RX_RING, i), 0, 16);
		u64_to_bytes(BUF + i * 2048, desc(RX_RING, i), 8);
	}
	wr(E1000_RDBAL, RX_RING);
	wr(E1000_RDBAH, 0);
	wr(E1000_RDLEN, descriptors * 16);
	wr(E1000_RDH, 0);
	wr(E1000_RDT, tail);
	wr(E1000_RCTL, 2 | 1u << 15);   /* EN, BAM; 2 KiB buffers; FCS kept */
}

static void test_rx_frames(void **state)
{
	(void)state;
	uint8_t f[1600];
	memcpy(f, MAC, 6);
	memcpy(f + 6, "\x52\x55\x0a\x00\x02\x02\x08\x00", 8);
	for (unsigned i = 14; i < sizeof(f); i++)
		f[i] = i;
	rx_ring(8, 2);                   /* two buffers handed to the card */
	wr(E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_RXO);
	assert_true(e1000_can_receive(&card));
	e1000_receive(&card, f, 42);     /* short: padded to 60, plus the FCS */
	assert_int_equal(bytes_to_u64(desc(RX_RING, 0) + 8, 2), 64);
	assert_int_equal(desc(RX_RING, 0)[12] & 3, 3);       /* DD EOP */
	assert_int_equal(ram->host[BUF + 20], 20);
	assert_int_equal(ram->host[BUF + 50], 0);            /* padding */
	assert_int_equal(rd(E1000_RDH), 1);
	assert_true(rd(E1000_ICR) & E1000_ICR_RXT0);
	/* Not for us: another unicast address is filtered out. */
	f[5] ^= 1;
	e1000_receive(&card, f, 100);
	assert_int_equal(rd(E1000_RDH), 1);
	f[5] ^= 1;
	e1000_receive(&card, f, 1500);
	assert_int_equal(bytes_to_u64(desc(RX_RING, 1) + 8, 2), 1504);
	assert_int_equal(rd(E1000_RDH), 2);
	/* No buffer left (RDH == RDT): dropped, RXO. */
	assert_false(e1000_can_receive(&card));
	e1000_receive(&card, f, 100);
	assert_int_equal(rd(E1000_RDH), 2);
	assert_true(rd(E1000_ICR) & E1000_ICR_RXO);
	assert_int_equal(card.rx_dropped, 1);
}

static void test_rx_ring_outside_ram(void **state)
{
	(void)state;
	uint8_t f[100] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };   /* broadcast */
	rx_ring(4, 3);
	u64_to_bytes(RAM_SIZE - 8, desc(RX_RING, 0), 8);           /* buffer past RAM's end */
	e1000_receive(&card, f, sizeof(f));
	assert_int_equal(desc(RX_RING, 0)[12], 0);                 /* nothing written */
	wr(E1000_RDBAL, RAM_SIZE);                                 /* the ring itself outside */
	e1000_receive(&card, f, sizeof(f));
	assert_int_equal(card.rx_dropped, 2);
}

/* ---- virtio-net with a stage 5 back end ------------------------------------------------- */

#define VQ_DESC  0x3000
#define VQ_AVAIL 0x3100
#define VQ_USED  0x3200
#define VQ_SIZE  8

static void vq_ring(struct virtq *vq, uint64_t base)
{
	vq->size = VQ_SIZE;
	vq->desc_gpa = base + VQ_DESC - 0x3000;
	vq->avail_gpa = base + VQ_AVAIL - 0x3000;
	vq->used_gpa = base + VQ_USED - 0x3000;
	vq->ready = true;
}

/* Put a one-buffer chain (descriptor head) in ring at base and offer it. */
static void vq_offer(uint64_t base, uint16_t head, uint64_t addr, uint32_t len, bool writable)
{
	uint8_t *d = ram->host + base + head * 16;
	u64_to_bytes(addr, d, 8);
	u64_to_bytes(len, d + 8, 4);
	u64_to_bytes(writable ? 2 : 0, d + 12, 2);   /* VIRTQ_DESC_F_WRITE */
	u64_to_bytes(0, d + 14, 2);
	uint16_t *avail = (uint16_t *)(ram->host + base + 0x100);
	avail[2 + avail[1] % VQ_SIZE] = head;
	avail[1]++;
}

static void test_virtio_net_stage5_hooks(void **state)
{
	(void)state;
	static struct virtio_net vn;
	static struct io_bus bus;
	static struct pci_host host;
	bus_init(&bus);
	pci_host_init(&host, &bus, -1);
	memset(&vn, 0, sizeof(vn));
	vn.tap_fd = vn.wake_fd = -1;
	vn.send = capture;
	assert_int_equal(virtio_net_attach(&vn, &host, ram), 0);
	vn.vp.state.status = 0x0f;                   /* ... DRIVER_OK, FEATURES_OK */
	vq_ring(&vn.vp.state.vq[0], 0x3000);         /* receive */
	vq_ring(&vn.vp.state.vq[1], 0x5000);         /* transmit */

	/* Receive: a zero header (num_buffers 1), then the frame. */
	uint8_t frame[60] = { 1, 2, 3 };
	assert_false(virtio_net_deliver(&vn, frame, sizeof(frame)));   /* no buffer yet */
	vq_offer(0x3000, 0, BUF, 2048, true);
	assert_true(virtio_net_deliver(&vn, frame, sizeof(frame)));
	assert_int_equal(ram->host[BUF + 10], 1);
	assert_int_equal(ram->host[BUF + 12], 1);
	assert_int_equal(ram->host[BUF + 14], 3);
	uint32_t used_len = bytes_to_u64(ram->host + VQ_USED + 8, 4);
	assert_int_equal(used_len, 12 + 60);

	/* Transmit: the header is taken off; the bare frame goes to the back end. */
	memset(ram->host + BUF + 0x1000, 0, 12);
	memset(ram->host + BUF + 0x100c, 0x77, 60);
	vq_offer(0x5000, 0, BUF + 0x1000, 72, false);
	uint8_t notify[2] = { 1, 0 };
	struct bus_range *bar = vn.vp.pci.bar_range[0];
	bar->ops->write(bar->dev, VIRTIO_NOTIFY_OFFSET + VIRTIO_NOTIFY_MULTIPLIER, notify, 2);
	assert_int_equal(nsent, 1);
	assert_int_equal(sent_len[0], 60);
	assert_int_equal(sent[0][0], 0x77);

	/* A receive buffer outside RAM: the queue is broken, NEEDS_RESET, nothing delivered. */
	vq_offer(0x3000, 1, RAM_SIZE - 8, 2048, true);
	assert_false(virtio_net_deliver(&vn, frame, sizeof(frame)));
	assert_true(vn.vp.state.status & VIRTIO_STATUS_NEEDS_RESET);
	assert_false(virtio_net_deliver(&vn, frame, sizeof(frame)));
}


/* ---- virtio-net's fast path: the header, mergeable buffers, a tap -------------------------- */

static void test_vnet_hdr_check(void **state)
{
	(void)state;
	const uint64_t all = VIRTIO_NET_F_CSUM | VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6;
	struct virtio_net_hdr h = { 0 };
	assert_null(virtio_net_hdr_check(&h, 60, 0));                       /* plain frame */
	assert_non_null(virtio_net_hdr_check(&h, 13, all));                 /* runt */
	assert_non_null(virtio_net_hdr_check(&h, VNET_FRAME_MAX + 1, all)); /* oversized */
	h.flags = 2;                                                        /* DATA_VALID: ignored */
	assert_null(virtio_net_hdr_check(&h, 60, 0));
	/* Checksum offload: only when negotiated, and the field inside the frame. */
	h = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
				     .csum_offset = 16 };
	assert_non_null(virtio_net_hdr_check(&h, 100, 0));
	assert_null(virtio_net_hdr_check(&h, 100, all));
	assert_null(virtio_net_hdr_check(&h, 52, all));        /* the field's last byte: 51 */
	assert_non_null(virtio_net_hdr_check(&h, 51, all));
	h.csum_start = 0xffff;                                 /* no 16-bit wrap-around */
	h.csum_offset = 0xffff;
	assert_non_null(virtio_net_hdr_check(&h, VNET_FRAME_MAX, all));
	/* TSO: the type negotiated, a checksum to finish, a sane segment size. */
	h = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				     .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448,
				     .csum_start = 34, .csum_offset = 16, .hdr_len = 66 };
	assert_null(virtio_net_hdr_check(&h, 65000, all));
	assert_non_null(virtio_net_hdr_check(&h, 65000, VIRTIO_NET_F_CSUM));
	h.gso_size = 0;
	assert_non_null(virtio_net_hdr_check(&h, 65000, all));
	h.gso_size = 65000;                                    /* absurd: nothing to cut */
	assert_non_null(virtio_net_hdr_check(&h, 65000, all));
	h.gso_size = 1448;
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;                   /* UFO: never offered */
	assert_non_null(virtio_net_hdr_check(&h, 65000, all));
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN;
	assert_non_null(virtio_net_hdr_check(&h, 65000, all));  /* ECN not offered */
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	assert_null(virtio_net_hdr_check(&h, 65000, all));
	h.flags = 0;                                           /* GSO without a checksum to do */
	assert_non_null(virtio_net_hdr_check(&h, 65000, all));
}

/* A card with features on fake RAM; the rings at 0x3000 (receive) and 0x5000 (transmit). */
static void vnet_card(struct virtio_net *vn, uint64_t features, int tap_fd)
{
	static struct io_bus bus;
	static struct pci_host host;
	bus_init(&bus);
	pci_host_init(&host, &bus, -1);
	memset(vn, 0, sizeof(*vn));
	vn->tap_fd = tap_fd;
	vn->wake_fd = -1;
	vn->features = features;
	if (tap_fd < 0)
		vn->send = capture;
	assert_int_equal(virtio_net_attach(vn, &host, ram), 0);
	vn->vp.state.status = 0x0f;
	vn->vp.state.driver_features = features | VIRTIO_F_VERSION_1;
	vq_ring(&vn->vp.state.vq[0], 0x3000);
	vq_ring(&vn->vp.state.vq[1], 0x5000);
}

static uint32_t used_len(uint64_t base, unsigned i)
{
	return bytes_to_u64(ram->host + base + 0x200 + 8 + 8 * i, 4);
}

static void test_virtio_net_mergeable_deliver(void **state)
{
	(void)state;
	static struct virtio_net vn;
	vnet_card(&vn, VIRTIO_NET_F_MRG_RXBUF, -1);
	uint8_t frame[1500];
	memset(frame, 0x5a, sizeof(frame));
	vq_offer(0x3000, 0, BUF, 1024, true);
	assert_false(virtio_net_deliver(&vn, frame, sizeof(frame)));   /* 1024 < 12 + 1500 */
	assert_int_equal(vn.vp.state.vq[0].last_avail, 0);              /* the chain went back */
	vq_offer(0x3000, 1, BUF + 0x1000, 1024, true);
	vq_offer(0x3000, 2, BUF + 0x2000, 1024, true);
	assert_true(virtio_net_deliver(&vn, frame, sizeof(frame)));
	assert_int_equal(bytes_to_u64(ram->host + BUF + 10, 2), 2);     /* num_buffers */
	assert_int_equal(used_len(0x3000, 0), 1024);
	assert_int_equal(used_len(0x3000, 1), 12 + 1500 - 1024);
	assert_int_equal(ram->host[BUF + 0x1000 + 1500 + 12 - 1024 - 1], 0x5a);
	assert_int_equal(vn.vp.state.vq[0].last_avail, 2);              /* the third waits */
	assert_int_equal(vn.rx_frames, 1);
}

static void test_virtio_net_tap_direct(void **state)
{
	(void)state;
	static struct virtio_net vn;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	vnet_card(&vn, VIRTIO_NET_F_MRG_RXBUF | VIRTIO_NET_F_CSUM | VIRTIO_NET_F_HOST_TSO4, sv[0]);

	/* Receive: header and frame straight into two mergeable buffers. */
	uint8_t msg[12 + 1400] = { 0 };
	msg[0] = VIRTIO_NET_HDR_F_DATA_VALID;
	memset(msg + 12, 0x33, 1400);
	assert_int_equal(write(sv[1], msg, sizeof(msg)), sizeof(msg));
	vq_offer(0x3000, 0, BUF, 1000, true);
	vq_offer(0x3000, 1, BUF + 0x1000, 1000, true);
	assert_false(virtio_net_receive(&vn));              /* both used: no buffers left */
	assert_int_equal(ram->host[BUF], VIRTIO_NET_HDR_F_DATA_VALID);
	assert_int_equal(bytes_to_u64(ram->host + BUF + 10, 2), 2);
	assert_int_equal(used_len(0x3000, 0) + used_len(0x3000, 1), sizeof(msg));
	assert_int_equal(ram->host[BUF + 0x1000 + sizeof(msg) - 1000 - 1], 0x33);

	/* Transmit: a sound header goes to the tap with the frame; bad ones are dropped. */
	struct virtio_net_hdr good = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
				       .csum_offset = 16 };
	struct virtio_net_hdr far = good, gso0 = good;
	far.csum_start = 200;                                /* past the 100-byte frame */
	gso0.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;            /* segment size 0 */
	const struct virtio_net_hdr *hdrs[] = { &far, &gso0, &good };
	for (unsigned i = 0; i < 3; i++) {
		memcpy(ram->host + BUF + 0x4000 + i * 0x100, hdrs[i], 12);
		memset(ram->host + BUF + 0x4000 + i * 0x100 + 12, 0x44, 100);
		vq_offer(0x5000, i, BUF + 0x4000 + i * 0x100, 112, false);
	}
	virtio_net_transmit(&vn);
	uint8_t got[256];
	assert_int_equal(read(sv[1], got, sizeof(got)), 112);   /* only the good one */
	assert_memory_equal(got, &good, 12);
	assert_int_equal(read(sv[1], got, sizeof(got)), -1);
	assert_int_equal(vn.bad_headers, 2);
	assert_int_equal(vn.tx_frames, 1);
	assert_int_equal(vn.vp.state.vq[1].used_idx, 3);        /* all three given back */
	close(sv[0]);
	close(sv[1]);
}

/* ---- options -------------------------------------------------------------------------- */

static void test_options(void **state)
{
	(void)state;
	struct net_config c;
	char why[256];
	memset(&c, 0, sizeof(c));
	assert_int_equal(net_config_netdev(&c, "user,id=n0,hostfwd=tcp:127.0.0.1:2222-:22,"
					   "net=10.1.0.0/16", why, sizeof(why)), 0);
	assert_int_equal(net_config_device(&c, "e1000,netdev=n0,mac=52:54:00:aa:bb:cc", why,
					   sizeof(why)), 0);
	assert_int_equal(net_config_nic(&c, "user,model=virtio-net-pci", why, sizeof(why)), 0);
	assert_int_equal(net_config_device(&c, "e1000", why, sizeof(why)), 0);
	assert_int_equal(net_config_finish(&c, why, sizeof(why)), 0);
	assert_int_equal(c.nnics, 3);
	assert_int_equal(c.nnetdevs, 3);   /* n0, the -nic's, the bare card's own */
	assert_int_equal(c.netdevs[0].hostfwd[0].host_port, 2222);
	assert_int_equal(c.netdevs[0].hostfwd[0].guest_port, 22);
	assert_int_equal(c.netdevs[0].hostfwd[0].host_addr, htonl(0x7f000001));
	assert_int_equal(c.netdevs[0].net, htonl(0x0a010000));
	assert_int_equal(c.nics[0].mac[5], 0xcc);
	assert_int_equal(c.nics[1].model, NIC_VIRTIO_NET);

	memset(&c, 0, sizeof(c));
	assert_int_equal(net_config_device(&c, "e1000,netdev=nope", why, sizeof(why)), 0);
	assert_int_equal(net_config_finish(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no -netdev with that id"));
	const char *bad[] = { "user", "user,id=a,hostfwd=tcp:1:2", "user,id=a,hostfwd=tcp::0-:22",
			      "tap,id=t", "slirp,id=x", "user,id=a,ifname=x", "user,id=a,net=1.2.3.4/40" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0, sizeof(c));
		assert_int_equal(net_config_netdev(&c, bad[i], why, sizeof(why)), -1);
	}
	uint8_t mac[6];
	assert_true(net_parse_mac("02:00:00:00:00:01", mac));
	assert_false(net_parse_mac("01:00:00:00:00:01", mac));   /* multicast */
	assert_false(net_parse_mac("02:00:00:00:00", mac));
	assert_false(net_parse_mac("02:00:00:00:00:0g", mac));
	memset(&c, 0, sizeof(c));
	assert_int_equal(net_config_nic(&c, "none", why, sizeof(why)), 0);   /* QEMU's -nic none */
	assert_int_equal(c.nnics, 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(net_config_netdev(&c, "user,id=n0", why, sizeof(why)), 0);
	assert_int_equal(net_config_netdev(&c, "user,id=n0", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "used twice"));
	assert_false(c.netdevs[0].dns_forward);   /* DNS is not forwarded unless asked */
	memset(&c, 0, sizeof(c));
	assert_int_equal(net_config_netdev(&c, "user,id=n0,dns=on", why, sizeof(why)), 0);
	assert_true(c.netdevs[0].dns_forward);
	assert_int_equal(c.netdevs[0].dns, 0);    /* still at net + 3 */
	assert_int_equal(net_config_netdev(&c, "user,id=n1,dns=10.0.2.9,dns=off", why,
					   sizeof(why)), 0);
	assert_false(c.netdevs[1].dns_forward);
	assert_int_equal(c.netdevs[1].dns, htonl(0x0a000209));
	assert_int_equal(net_config_netdev(&c, "tap,id=t0,ifname=x,dns=on", why, sizeof(why)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eeprom_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eeprom_microwire_and_eerd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_phy_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_legacy_gathers_and_completes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tx_ring_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_bad_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_checksum_offload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_tso, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_tso_bad_context, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_ring_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_virtio_net_stage5_hooks, setup, teardown),
		cmocka_unit_test(test_vnet_hdr_check),
		cmocka_unit_test_setup_teardown(test_virtio_net_mergeable_deliver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_virtio_net_tap_direct, setup, teardown),
		cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests_name("stage5 net", tests, NULL, NULL);
}
