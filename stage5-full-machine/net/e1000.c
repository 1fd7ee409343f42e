/*
 * e1000.c - the 82540EM: registers, EEPROM, PHY, transmit and receive rings. See e1000.h.
 *
 * What this file teaches: a network card is two producer/consumer rings in guest memory and a
 * doorbell register each. The guest is the producer of transmit descriptors and of empty
 * receive buffers; the card consumes them and says so by moving the head and writing DD. The
 * model trusts nothing it reads from the rings: each ring and buffer address goes through
 * gpa_to_hva(), each walk is bounded by the ring's size, each frame by a buffer's size.
 *
 * The hardware's other duties are reduced to what a driver can observe: the link is always
 * up at 1000 Mb/s full duplex, interrupt moderation timers are stored but not run (an
 * interrupt is raised at once), and the EEPROM is a 64-word image with a valid checksum.
 */
#include "e1000.h"
#include "guest_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* CTRL, STATUS (manual 13.4.1, 13.4.2). */
#define CTRL_FD      (1u << 0)
#define CTRL_SLU     (1u << 6)
#define CTRL_SPEED_1000 (2u << 8)
#define CTRL_RST     (1u << 26)
#define CTRL_PHY_RST (1u << 31)
/* Full duplex, link up, 1000 Mb/s, auto-detected 1000, GIO master enabled. */
#define STATUS_VALUE 0x80080783u

/* EECD (manual 13.4.3): the wires, and the request/grant handshake with the card's logic. */
#define EECD_SK   (1u << 0)
#define EECD_CS   (1u << 1)
#define EECD_DI   (1u << 2)
#define EECD_DO   (1u << 3)
#define EECD_REQ  (1u << 6)
#define EECD_GNT  (1u << 7)
#define EECD_PRES (1u << 8)
#define EECD_DRIVEN (EECD_SK | EECD_CS | EECD_DI | EECD_REQ)
#define EE_OPCODE_READ 0x6u        /* start bit 1, then 10 */
#define EE_ADDR_BITS   6           /* 64 words: EECD's size bit reads 0 */

/* EERD (82540 layout): START bit 0, DONE bit 4, address 15:8, data 31:16. */
#define EERD_START (1u << 0)
#define EERD_DONE  (1u << 4)

/* MDIC (manual 13.4.6): data 15:0, register 20:16, PHY 25:21, op 27:26, ready 28, error 30. */
#define MDIC_OP_WRITE (1u << 26)
#define MDIC_OP_READ  (2u << 26)
#define MDIC_READY    (1u << 28)
#define MDIC_ERROR    (1u << 30)
#define PHY_ADDRESS   1

/* The PHY, a Marvell 88E1011 (the 82540EM's), in the state of a link that came up. */
#define PHY_CTRL     0
#define PHY_STATUS   1
#define PHY_CTRL_RESET    0x8000
#define PHY_CTRL_RESTART_AN 0x0200

/* RCTL, TCTL (manual 13.4.22, 13.4.33). */
#define RCTL_EN    (1u << 1)
#define RCTL_UPE   (1u << 3)
#define RCTL_MPE   (1u << 4)
#define RCTL_LPE   (1u << 5)
#define RCTL_RDMTS_SHIFT 8
#define RCTL_MO_SHIFT 12
#define RCTL_BAM   (1u << 15)
#define RCTL_BSIZE_SHIFT 16
#define RCTL_BSEX  (1u << 25)
#define RCTL_SECRC (1u << 26)
#define TCTL_EN    (1u << 1)
#define RAH_AV     (1u << 31)
#define RECEIVE_ADDRESSES 16

/* Descriptors (manual 3.2.3, 3.3.3, 3.3.6, 3.3.7). */
#define DESC_SIZE 16
#define RXD_STAT_DD  0x01
#define RXD_STAT_EOP 0x02
#define RXD_STAT_IXSM 0x04          /* "ignore checksum indication": no RX offload here */
#define TXD_CMD_EOP  0x01
#define TXD_CMD_TSE  0x04           /* in a context or data descriptor's DCMD */
#define TXD_CMD_RS   0x08
#define TXD_CMD_DEXT 0x20
#define TXD_STAT_DD  0x01
#define TXD_DTYP_CONTEXT 0x0
#define TXD_DTYP_DATA    0x1
#define TXD_POPTS_IXSM 0x01
#define TXD_POPTS_TXSM 0x02
#define TUCMD_TCP  0x01
#define TUCMD_IP   0x02

/* Statistics that this model counts (manual 13.7). */
#define STAT_GPRC 0x4074   /* good packets received */
#define STAT_GPTC 0x4080   /* good packets transmitted */
#define STAT_GORCL 0x4088
#define STAT_GOTCL 0x4090
#define STAT_MPC  0x4010   /* missed packets: no buffer */
#define STAT_TPR  0x40d0
#define STAT_TPT  0x40d4

#define MIN_FRAME 60       /* without the FCS: shorter frames are padded */
#define ETH_HLEN 14

static uint32_t reg(const struct e1000 *e, unsigned offset)
{
	return e->regs[offset / 4];
}

static void set_reg(struct e1000 *e, unsigned offset, uint32_t value)
{
	e->regs[offset / 4] = value;
}

/* One line on stderr per guest mistake, so a looping guest cannot flood the log. */
__attribute__((format(printf, 2, 3)))
static void nic_error(struct e1000 *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	guest_verror(&e->errors, e->name, NULL, fmt, ap);
	va_end(ap);
}

/* ---- checksums and the EEPROM (pure) ------------------------------------------------ */

uint32_t e1000_csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)data[i] << 8 | data[i + 1];
	if (len & 1)
		sum += (uint32_t)data[len - 1] << 8;
	return sum;
}

uint16_t e1000_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

void e1000_eeprom_fill(uint16_t eeprom[E1000_EEPROM_WORDS], const uint8_t mac[6])
{
	memset(eeprom, 0, E1000_EEPROM_WORDS * sizeof(eeprom[0]));
	for (int i = 0; i < 3; i++)
		eeprom[i] = mac[2 * i] | mac[2 * i + 1] << 8;   /* words 0-2: the MAC, LSB first */
	eeprom[0x0a] = 0x6400;   /* init control 1: "signature valid" (bits 15:14 = 01) */
	uint16_t sum = 0;
	for (int i = 0; i < E1000_EEPROM_WORDS - 1; i++)
		sum += eeprom[i];
	eeprom[E1000_EEPROM_WORDS - 1] = E1000_EEPROM_SUM - sum;
}

/* The Ethernet FCS (CRC-32, reflected, as the wire carries it). */
static uint32_t crc32_ether(const uint8_t *data, size_t len)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		crc ^= data[i];
		for (int b = 0; b < 8; b++)
			crc = crc >> 1 ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

/* ---- the interrupt ---------------------------------------------------------------------- */

/* INTA# follows ICR & IMS; PCI's INTx Disable bit is honoured on every evaluation. */
static void update_irq(struct e1000 *e)
{
	uint32_t icr = reg(e, E1000_ICR) & ~E1000_ICR_ASSERTED;
	bool pending = icr & reg(e, E1000_IMS);
	set_reg(e, E1000_ICR, icr | (pending ? E1000_ICR_ASSERTED : 0));
	uint8_t *cfg = e->pci.config.bytes;
	bool disabled = bytes_to_u64(cfg + PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
	cfg[PCI_STATUS] = (cfg[PCI_STATUS] & ~0x08) | (pending ? 0x08 : 0);
	irq_line_set(&e->pci.irq, pending && !disabled);
}

static void raise_cause(struct e1000 *e, uint32_t causes)
{
	set_reg(e, E1000_ICR, reg(e, E1000_ICR) | causes);
	update_irq(e);
}

/* ---- reset ------------------------------------------------------------------------------- */

static void phy_reset(struct e1000 *e)
{
	static const uint16_t init[E1000_PHY_REGS] = {
		[0] = 0x1140,   /* autonegotiation on, full duplex, 1000 Mb/s */
		[1] = 0x796d,   /* link up, autonegotiation complete, abilities */
		[2] = 0x0141, [3] = 0x0c20,   /* M88E1011 */
		[4] = 0x0de1, [5] = 0x45e0, [6] = 0x0001, [9] = 0x0e00, [10] = 0x3c00,
		[15] = 0x3000,
		[16] = 0x0360,  /* PHY specific control */
		[17] = 0xac00,  /* PHY specific status: 1000 Mb/s, full duplex, resolved, link */
		[20] = 0x0c60,
	};
	memcpy(e->phy, init, sizeof(init));
}

/* The MAC's state after power-on or CTRL.RST; the EEPROM and the PCI function stay. */
static void mac_reset(struct e1000 *e)
{
	memset(e->regs, 0, sizeof(e->regs));
	memset(&e->ee, 0, sizeof(e->ee));
	memset(&e->ctx, 0, sizeof(e->ctx));
	e->tx_len = 0;
	e->tx_bad = false;
	set_reg(e, E1000_CTRL, CTRL_FD | CTRL_SLU | CTRL_SPEED_1000);   /* as STATUS says */
	set_reg(e, E1000_STATUS, STATUS_VALUE);
	set_reg(e, E1000_EECD, EECD_PRES);
	/* The first receive address is the EEPROM's MAC, valid: as the card loads it. */
	set_reg(e, E1000_RAL0, e->mac[0] | e->mac[1] << 8 | e->mac[2] << 16 |
		(uint32_t)e->mac[3] << 24);
	set_reg(e, E1000_RAH0, e->mac[4] | e->mac[5] << 8 | RAH_AV);
	set_reg(e, 0x1000, 0x30);   /* PBA: 48 KiB receive, 16 KiB transmit packet buffer */
	phy_reset(e);
	update_irq(e);
}

void e1000_init(struct e1000 *e, const struct guest_memory *mem, const uint8_t mac[6],
		e1000_send_fn send, void *opaque, const char *name)
{
	memset(e, 0, sizeof(*e));
	e->mem = mem;
	memcpy(e->mac, mac, 6);
	e->send = send;
	e->send_opaque = opaque;
	snprintf(e->name, sizeof(e->name), "%s", name);
	irq_line_init(&e->pci.irq, -1, 0);
	e1000_eeprom_fill(e->eeprom, mac);
	mac_reset(e);
}

/* ---- EEPROM: microwire on EECD, and EERD -------------------------------------------- */

/*
 * The guest drives CS, SK (the clock) and DI, and samples DO. On each rising SK edge the
 * EEPROM takes one DI bit: a start bit, a 2-bit opcode, 6 address bits; after a READ's last
 * address bit it drives the word's bits on DO, most significant first, one per rising edge.
 * CS low ends the command.
 */
static void eeprom_clock(struct e1000 *e, bool di)
{
	struct e1000_eeprom_wire *w = &e->ee;
	if (w->reading) {
		if (w->out_bit >= 0)
			w->out_bit--;
		if (w->out_bit < 0) {   /* the word is out: the next one follows (sequential) */
			w->addr = (w->addr + 1) % E1000_EEPROM_WORDS;
			w->out_bit = 15;
		}
		return;
	}
	if (w->bits_in == 0 && !di)
		return;                 /* waiting for the start bit */
	w->shift_in = w->shift_in << 1 | di;
	if (++w->bits_in < 3 + EE_ADDR_BITS)
		return;
	if (w->shift_in >> EE_ADDR_BITS == EE_OPCODE_READ) {
		w->reading = true;
		w->addr = w->shift_in & (E1000_EEPROM_WORDS - 1);
		w->out_bit = 16;        /* the next edge shows bit 15 */
	} else {
		w->bits_in = 0;         /* write, erase: the EEPROM is read-only here */
		w->shift_in = 0;
	}
}

static void eecd_write(struct e1000 *e, uint32_t value)
{
	struct e1000_eeprom_wire *w = &e->ee;
	bool rising = (value & EECD_SK) && !(w->eecd & EECD_SK);
	w->eecd = value & EECD_DRIVEN;
	if (!(value & EECD_CS)) {
		uint32_t wires = w->eecd;
		memset(w, 0, sizeof(*w));
		w->eecd = wires;
		return;
	}
	if (rising)
		eeprom_clock(e, value & EECD_DI);
}

static uint32_t eecd_read(const struct e1000 *e)
{
	const struct e1000_eeprom_wire *w = &e->ee;
	uint32_t v = w->eecd | EECD_PRES | (w->eecd & EECD_REQ ? EECD_GNT : 0);
	if (w->reading && w->out_bit >= 0 && w->out_bit <= 15 &&
	    (e->eeprom[w->addr] >> w->out_bit & 1))
		v |= EECD_DO;
	return v;
}

static void eerd_write(struct e1000 *e, uint32_t value)
{
	if (!(value & EERD_START)) {
		set_reg(e, E1000_EERD, value);
		return;
	}
	unsigned addr = value >> 8 & 0xff;
	uint32_t data = addr < E1000_EEPROM_WORDS ? e->eeprom[addr] : 0;
	set_reg(e, E1000_EERD, data << 16 | addr << 8 | EERD_DONE);
}

/* ---- PHY: MDIC ------------------------------------------------------------------------- */

static void mdic_write(struct e1000 *e, uint32_t value)
{
	unsigned phy = value >> 21 & 0x1f, r = value >> 16 & 0x1f;
	uint32_t result = value & ~(MDIC_READY | MDIC_ERROR);
	if (phy != PHY_ADDRESS) {
		result |= MDIC_ERROR;   /* no PHY there */
	} else if ((value & (3u << 26)) == MDIC_OP_READ) {
		result = (result & ~0xffffu) | e->phy[r];
	} else if ((value & (3u << 26)) == MDIC_OP_WRITE) {
		uint16_t data = value & 0xffff;
		if (r == PHY_CTRL)      /* reset and restart finish at once */
			data &= ~(PHY_CTRL_RESET | PHY_CTRL_RESTART_AN);
		if (r != PHY_STATUS && r != 2 && r != 3)
			e->phy[r] = data;
	}
	set_reg(e, E1000_MDIC, result | MDIC_READY);
}

/* ---- transmit ----------------------------------------------------------------------------- */

static uint64_t ring_base(const struct e1000 *e, unsigned bal)
{
	return (uint64_t)reg(e, bal + 4) << 32 | (reg(e, bal) & ~0xfu);
}

static unsigned ring_size(const struct e1000 *e, unsigned len_reg)
{
	return (reg(e, len_reg) & 0xfff80) / DESC_SIZE;   /* RDLEN/TDLEN: 128-byte units */
}

/* The descriptor at index of a ring, or NULL (one line) when the ring leaves guest RAM. */
static uint8_t *ring_desc(struct e1000 *e, unsigned bal, unsigned index, const char *which)
{
	uint64_t gpa = ring_base(e, bal) + (uint64_t)index * DESC_SIZE;
	uint8_t *d = gpa_to_hva(e->mem, gpa, DESC_SIZE);
	if (!d)
		nic_error(e, "%s descriptor %u at %#llx is outside RAM", which, index,
			    (unsigned long long)gpa);
	return d;
}

static void put16be(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint16_t get16be(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

/* Insert a checksum over frame[start, end) at frame[at] (the field's old value counts: the
 * driver left the pseudo-header sum there), adding extra to the sum first. */
static void insert_csum(uint8_t *frame, size_t len, unsigned start, unsigned end, unsigned at,
			uint32_t extra)
{
	if (end == 0 || end >= len)
		end = len - 1;
	if (start > end || at + 2 > len)
		return;
	uint32_t sum = e1000_csum_add(extra, frame + start, end - start + 1);
	uint16_t c = e1000_csum_fold(sum);
	put16be(frame + at, c);
}

static void count_tx(struct e1000 *e, size_t len)
{
	static const unsigned counters[] = { STAT_GPTC, STAT_TPT };
	for (unsigned i = 0; i < 2; i++)
		set_reg(e, counters[i], reg(e, counters[i]) + 1);
	set_reg(e, STAT_GOTCL, reg(e, STAT_GOTCL) + len);
}

/* The lesson's numbers: what the driver's setup cost, before the first frame. */
static void first_frame(struct e1000 *e)
{
	if (e->tx_frames + e->rx_frames == 0)
		e->accesses_setup = e->accesses;
}

static void send_frame(struct e1000 *e, uint8_t *frame, size_t len)
{
	first_frame(e);
	if (e->tx_ixsm && e->ctx.ipcso)
		insert_csum(frame, len, e->ctx.ipcss, e->ctx.ipcse, e->ctx.ipcso, 0);
	if (e->tx_txsm && e->ctx.tucso)
		insert_csum(frame, len, e->ctx.tucss, e->ctx.tucse, e->ctx.tucso, 0);
	count_tx(e, len);
	e->tx_frames++;
	if (e->send)
		e->send(e->send_opaque, frame, len);
}

/*
 * TCP segmentation (manual 3.5): the headers (hdr_len bytes) go in front of every mss bytes of
 * payload; per segment the IPv4 total length, identification and header checksum, the TCP
 * sequence number and flags (FIN and PSH on the last segment only) and the TCP checksum are
 * redone. The driver left the pseudo-header sum without the length in the TCP checksum field.
 */
static void send_tso(struct e1000 *e)
{
	static uint8_t seg[E1000_FRAME_MAX];
	const struct e1000_tx_context *c = &e->ctx;
	size_t hdr = c->hdr_len, total = e->tx_len;
	if (hdr >= total || c->mss == 0 || hdr + c->mss > sizeof(seg) ||
	    c->tucso + 2u > hdr || c->tucss + 20u > hdr || c->ipcss + 20u > hdr) {
		nic_error(e, "TSO context does not fit its frame (headers %zu, mss %u, "
			    "frame %zu): dropped", hdr, c->mss, total);
		return;
	}
	uint16_t pseudo = get16be(e->tx_buf + c->tucso);   /* pseudo header, without length */
	uint32_t seq = (uint32_t)get16be(e->tx_buf + c->tucss + 4) << 16 |
		       get16be(e->tx_buf + c->tucss + 6);
	uint16_t ip_id = get16be(e->tx_buf + c->ipcss + 4);
	uint8_t flags = e->tx_buf[c->tucss + 13];
	for (size_t off = hdr; off < total; off += c->mss, ip_id++) {
		size_t pay = total - off < c->mss ? total - off : c->mss;
		bool last = off + pay == total;
		memcpy(seg, e->tx_buf, hdr);
		memcpy(seg + hdr, e->tx_buf + off, pay);
		size_t len = hdr + pay;
		if (c->ipv4) {
			put16be(seg + c->ipcss + 2, len - c->ipcss);
			put16be(seg + c->ipcss + 4, ip_id);
			put16be(seg + c->ipcso, 0);
			insert_csum(seg, len, c->ipcss, c->ipcse ? c->ipcse : hdr - 1, c->ipcso, 0);
		} else {   /* IPv6: payload length */
			put16be(seg + c->ipcss + 4, len - c->ipcss - 40);
		}
		uint32_t s = seq + (off - hdr);
		put16be(seg + c->tucss + 4, s >> 16);
		put16be(seg + c->tucss + 6, s);
		seg[c->tucss + 13] = last ? flags : flags & ~0x09;   /* FIN, PSH: last only */
		put16be(seg + c->tucso, 0);
		insert_csum(seg, len, c->tucss, 0, c->tucso, pseudo + (uint32_t)(len - c->tucss));
		count_tx(e, len);
		first_frame(e);
		e->tx_frames++;
		if (e->send)
			e->send(e->send_opaque, seg, len);
	}
}

/* EOP: the gathered frame is complete. */
static void end_frame(struct e1000 *e)
{
	if (e->tx_bad) {
		/* already reported */
	} else if (e->tx_len == 0) {
		nic_error(e, "zero-length frame: dropped");
	} else if (e->tx_tse && e->ctx.tse) {
		send_tso(e);
	} else if (e->tx_len > E1000_FRAME_MAX) {
		nic_error(e, "frame of %zu bytes is longer than %u: dropped", e->tx_len,
			    E1000_FRAME_MAX);
	} else {
		send_frame(e, e->tx_buf, e->tx_len);
	}
	e->tx_len = 0;
	e->tx_bad = false;
}

/* Append a data buffer of the frame being gathered. */
static void gather(struct e1000 *e, uint64_t addr, size_t len)
{
	if (e->tx_bad || len == 0)
		return;
	const uint8_t *p = gpa_to_hva(e->mem, addr, len);
	if (!p) {
		nic_error(e, "transmit buffer %#llx+%zu is outside RAM: frame dropped",
			    (unsigned long long)addr, len);
		e->tx_bad = true;
	} else if (e->tx_len + len > sizeof(e->tx_buf)) {
		nic_error(e, "frame longer than %zu bytes (no end of packet?): dropped",
			    sizeof(e->tx_buf));
		e->tx_bad = true;
	} else {
		memcpy(e->tx_buf + e->tx_len, p, len);
		e->tx_len += len;
	}
}

static void context_descriptor(struct e1000 *e, const uint8_t *d)
{
	struct e1000_tx_context *c = &e->ctx;
	uint32_t cmd_len = bytes_to_u64(d + 8, 4);
	uint8_t tucmd = cmd_len >> 24;
	c->ipcss = d[0];
	c->ipcso = d[1];
	c->ipcse = bytes_to_u64(d + 2, 2);
	c->tucss = d[4];
	c->tucso = d[5];
	c->tucse = bytes_to_u64(d + 6, 2);
	c->paylen = cmd_len & 0xfffff;
	c->tse = tucmd & TXD_CMD_TSE;
	c->ipv4 = tucmd & TUCMD_IP;
	c->tcp = tucmd & TUCMD_TCP;
	c->hdr_len = d[13];
	c->mss = bytes_to_u64(d + 14, 2);
}

/* One descriptor: legacy (DEXT clear), or extended context / data. Returns its command. */
static uint8_t tx_descriptor(struct e1000 *e, const uint8_t *d)
{
	uint64_t addr = bytes_to_u64(d, 8);
	uint32_t lower = bytes_to_u64(d + 8, 4);
	uint8_t cmd = lower >> 24;
	if (!(cmd & TXD_CMD_DEXT)) {   /* legacy: length 15:0, CSO 23:16, CSS at byte 13 */
		if (e->tx_len == 0) {
			e->tx_tse = e->tx_ixsm = e->tx_txsm = false;
		}
		gather(e, addr, lower & 0xffff);
	} else if ((lower >> 20 & 0xf) == TXD_DTYP_CONTEXT) {
		context_descriptor(e, d);
		return cmd;
	} else if ((lower >> 20 & 0xf) == TXD_DTYP_DATA) {
		if (e->tx_len == 0) {   /* the first descriptor of a frame says what to do */
			uint8_t popts = d[13];
			e->tx_tse = cmd & TXD_CMD_TSE;
			e->tx_ixsm = popts & TXD_POPTS_IXSM;
			e->tx_txsm = popts & TXD_POPTS_TXSM;
		}
		gather(e, addr, lower & 0xfffff);
	} else {
		nic_error(e, "transmit descriptor type %u unknown: ignored", lower >> 20 & 0xf);
		return cmd & ~TXD_CMD_EOP;
	}
	if (cmd & TXD_CMD_EOP)
		end_frame(e);
	return cmd;
}

/*
 * Walk TDH up to TDT: at most one ring's worth, so a guest that keeps moving TDT gets its
 * descriptors served, and one that points TDT outside the ring gets nothing.
 */
static void transmit(struct e1000 *e)
{
	if (!(reg(e, E1000_TCTL) & TCTL_EN))
		return;
	unsigned size = ring_size(e, E1000_TDLEN), tail = reg(e, E1000_TDT);
	unsigned head = reg(e, E1000_TDH);
	if (size == 0 || tail >= size || head >= size)
		return;
	bool wrote_back = false;
	for (unsigned n = 0; head != tail && n < size; n++) {
		uint8_t *d = ring_desc(e, E1000_TDBAL, head, "transmit");
		if (!d) {
			/* The ring is gone: the card stops at this head, as after a DMA error. */
			break;
		}
		uint8_t cmd = tx_descriptor(e, d);
		if (cmd & TXD_CMD_RS) {
			d[12] |= TXD_STAT_DD;    /* status byte (legacy and data alike) */
			wrote_back = true;
		}
		head = (head + 1) % size;
	}
	set_reg(e, E1000_TDH, head);
	raise_cause(e, (wrote_back ? E1000_ICR_TXDW : 0) | (head == tail ? E1000_ICR_TXQE : 0));
}

/* ---- receive ------------------------------------------------------------------------------- */

static unsigned rx_buffer_size(uint32_t rctl)
{
	static const unsigned sizes[2][4] = { { 2048, 1024, 512, 256 }, { 2048, 16384, 8192, 4096 } };
	return sizes[!!(rctl & RCTL_BSEX)][rctl >> RCTL_BSIZE_SHIFT & 3];
}

static bool mta_match(const struct e1000 *e, const uint8_t *dst)
{
	static const unsigned shift[4] = { 4, 3, 2, 0 };   /* RCTL.MO: which 12 bits hash */
	unsigned mo = reg(e, E1000_RCTL) >> RCTL_MO_SHIFT & 3;
	unsigned hash = ((dst[4] >> shift[mo]) | (unsigned)dst[5] << (8 - shift[mo])) & 0xfff;
	return reg(e, E1000_MTA + (hash >> 5) * 4) >> (hash & 31) & 1;
}

/* The receive filter (manual 3.2.1): our addresses, broadcast, multicast, promiscuous. */
static bool accept_frame(const struct e1000 *e, const uint8_t *dst)
{
	uint32_t rctl = reg(e, E1000_RCTL);
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	if (!memcmp(dst, bcast, 6))
		return rctl & RCTL_BAM;
	if (dst[0] & 1)
		return (rctl & RCTL_MPE) || mta_match(e, dst);
	if (rctl & RCTL_UPE)
		return true;
	for (unsigned i = 0; i < RECEIVE_ADDRESSES; i++) {
		uint32_t low = reg(e, E1000_RAL0 + i * 8), high = reg(e, E1000_RAH0 + i * 8);
		uint8_t a[6] = { low, low >> 8, low >> 16, low >> 24, high, high >> 8 };
		if ((high & RAH_AV) && !memcmp(a, dst, 6))
			return true;
	}
	return false;
}

bool e1000_can_receive(const struct e1000 *e)
{
	unsigned size = ring_size(e, E1000_RDLEN);
	return (reg(e, E1000_RCTL) & RCTL_EN) && size && reg(e, E1000_RDH) != reg(e, E1000_RDT) &&
	       reg(e, E1000_RDT) < size;
}

/* Free descriptors between head and tail below the RDMTS fraction of the ring: RXDMT0. */
static bool below_threshold(const struct e1000 *e, unsigned head, unsigned size)
{
	unsigned tail = reg(e, E1000_RDT);
	unsigned free = (tail + size - head) % size;
	unsigned shift = 1 + (reg(e, E1000_RCTL) >> RCTL_RDMTS_SHIFT & 3);
	return free <= size >> shift;
}

/* Copy a frame (and its FCS) into descriptors from RDH; false when the ring ran out. */
static bool fill_descriptors(struct e1000 *e, const uint8_t *frame, size_t len, unsigned *head)
{
	unsigned size = ring_size(e, E1000_RDLEN), tail = reg(e, E1000_RDT);
	unsigned bufsize = rx_buffer_size(reg(e, E1000_RCTL));
	size_t done = 0;
	while (done < len) {
		if (*head == tail)
			return false;
		uint8_t *d = ring_desc(e, E1000_RDBAL, *head, "receive");
		if (!d)
			return false;
		size_t piece = len - done < bufsize ? len - done : bufsize;
		uint64_t addr = bytes_to_u64(d, 8);
		uint8_t *buf = gpa_to_hva(e->mem, addr, piece);
		if (!buf) {
			nic_error(e, "receive buffer %#llx is outside RAM: frame dropped",
				    (unsigned long long)addr);
			return false;
		}
		memcpy(buf, frame + done, piece);
		done += piece;
		u64_to_bytes(piece, d + 8, 2);
		u64_to_bytes(0, d + 10, 2);              /* checksum: not computed */
		d[12] = RXD_STAT_DD | RXD_STAT_IXSM | (done == len ? RXD_STAT_EOP : 0);
		d[13] = 0;                               /* errors */
		*head = (*head + 1) % size;
	}
	return true;
}

void e1000_receive(void *opaque, const uint8_t *frame, size_t len)
{
	static uint8_t buf[E1000_FRAME_MAX + 4];
	struct e1000 *e = opaque;
	uint32_t rctl = reg(e, E1000_RCTL);
	if (len < ETH_HLEN || len > E1000_FRAME_MAX || !(rctl & RCTL_EN) ||
	    !accept_frame(e, frame))
		return;
	if (len > 1522 && !(rctl & RCTL_LPE))
		return;   /* long frames need LPE */
	if (!e1000_can_receive(e)) {
		e->rx_dropped++;
		set_reg(e, STAT_MPC, reg(e, STAT_MPC) + 1);
		raise_cause(e, E1000_ICR_RXO);
		return;
	}
	memcpy(buf, frame, len);
	if (len < MIN_FRAME) {   /* the wire's minimum: padded with zeros */
		memset(buf + len, 0, MIN_FRAME - len);
		len = MIN_FRAME;
	}
	if (!(rctl & RCTL_SECRC)) {   /* the FCS stays on the frame, as on the wire */
		uint32_t fcs = crc32_ether(buf, len);
		u64_to_bytes(fcs, buf + len, 4);
		len += 4;
	}
	unsigned head = reg(e, E1000_RDH), size = ring_size(e, E1000_RDLEN);
	if (head >= size)
		return;
	bool whole = fill_descriptors(e, buf, len, &head);
	set_reg(e, E1000_RDH, head);
	if (!whole) {   /* what was written stays (without EOP); the frame is lost */
		e->rx_dropped++;
		raise_cause(e, E1000_ICR_RXO);
		return;
	}
	first_frame(e);
	e->rx_frames++;
	set_reg(e, STAT_GPRC, reg(e, STAT_GPRC) + 1);
	set_reg(e, STAT_TPR, reg(e, STAT_TPR) + 1);
	set_reg(e, STAT_GORCL, reg(e, STAT_GORCL) + len);
	raise_cause(e, E1000_ICR_RXT0 | (below_threshold(e, head, size) ? E1000_ICR_RXDMT0 : 0));
}

/* ---- the register file ---------------------------------------------------------------- */

static uint32_t read32(struct e1000 *e, unsigned offset)
{
	uint32_t v = reg(e, offset);
	switch (offset) {
	case E1000_EECD:
		return eecd_read(e);
	case E1000_ICR:
		set_reg(e, E1000_ICR, 0);   /* reading clears the causes */
		update_irq(e);
		return v;
	case E1000_ICS:
		return reg(e, E1000_ICR);
	default:
		if (offset >= E1000_STATS && offset < E1000_STATS_END)
			set_reg(e, offset, 0);   /* statistics clear on read */
		return v;
	}
}

static void write32(struct e1000 *e, unsigned offset, uint32_t v)
{
	switch (offset) {
	case E1000_CTRL:
		if (v & CTRL_RST) {
			mac_reset(e);
			return;
		}
		set_reg(e, offset, v & ~CTRL_PHY_RST);
		return;
	case E1000_STATUS:
		return;   /* read-only */
	case E1000_EECD:
		eecd_write(e, v);
		return;
	case E1000_EERD:
		eerd_write(e, v);
		return;
	case E1000_MDIC:
		mdic_write(e, v);
		return;
	case E1000_ICR:   /* write 1 to clear */
		set_reg(e, offset, reg(e, offset) & ~v);
		update_irq(e);
		return;
	case E1000_ICS:
		raise_cause(e, v);
		return;
	case E1000_IMS:
		set_reg(e, E1000_IMS, reg(e, E1000_IMS) | v);
		update_irq(e);
		return;
	case E1000_IMC:
		set_reg(e, E1000_IMS, reg(e, E1000_IMS) & ~v);
		update_irq(e);
		return;
	case E1000_RDLEN: case E1000_TDLEN:
		set_reg(e, offset, v & 0xfff80);
		return;
	case E1000_RDH: case E1000_RDT: case E1000_TDH:
		set_reg(e, offset, v & 0xffff);
		return;
	case E1000_TDT:
		set_reg(e, offset, v & 0xffff);
		transmit(e);
		return;
	case E1000_TCTL:
		set_reg(e, offset, v);
		transmit(e);
		return;
	default:
		set_reg(e, offset, v);
	}
}

int e1000_mmio_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct e1000 *e = opaque;
	unsigned aligned = offset & ~3u;
	e->accesses++;
	uint32_t v = aligned < E1000_MMIO_SIZE ? read32(e, aligned) : 0;
	uint64_t wide = v;
	if (len == 8 && aligned + 4 < E1000_MMIO_SIZE)
		wide |= (uint64_t)read32(e, aligned + 4) << 32;
	u64_to_bytes(wide >> 8 * (offset & 3), data, len);
	return 0;
}

int e1000_mmio_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct e1000 *e = opaque;
	unsigned aligned = offset & ~3u;
	e->accesses++;
	if (aligned >= E1000_MMIO_SIZE)
		return 0;
	uint64_t v = bytes_to_u64(data, len);
	if (len < 4) {   /* a narrow write merges into the register (drivers write dwords) */
		unsigned shift = 8 * (offset & 3);
		uint32_t mask = (uint32_t)((1ull << 8 * len) - 1) << shift;
		v = (reg(e, aligned) & ~mask) | ((uint32_t)v << shift & mask);
	}
	write32(e, aligned, v);
	if (len == 8 && aligned + 4 < E1000_MMIO_SIZE)
		write32(e, aligned + 4, v >> 32);
	return 0;
}

/* BAR1: IOADDR (offset 0) selects a register, IODATA (offset 4) reads or writes it. */
static int io_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct e1000 *e = opaque;
	if (offset < 4) {
		u64_to_bytes(e->ioaddr >> 8 * offset, data, len);
		return 0;
	}
	if (offset >= 4 && offset < 8)
		return e1000_mmio_read(e, (e->ioaddr & (E1000_MMIO_SIZE - 4)) + offset - 4, data,
				       len);
	memset(data, 0xff, len);
	return 0;
}

static int io_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct e1000 *e = opaque;
	if (offset == 0 && len == 4)
		e->ioaddr = bytes_to_u64(data, 4);
	else if (offset >= 4 && offset < 8)
		return e1000_mmio_write(e, (e->ioaddr & (E1000_MMIO_SIZE - 4)) + offset - 4, data,
					len);
	return 0;
}

static const struct bus_ops mmio_ops = { e1000_mmio_read, e1000_mmio_write };
static const struct bus_ops io_ops = { io_read, io_write };

/* ---- the PCI function --------------------------------------------------------------------- */

#define CLASS_ETHERNET 0x020000
#define QEMU_SUBSYSTEM_VENDOR 0x1af4
#define QEMU_SUBSYSTEM_ID 0x1100
#define IO_PARKING_PORT 0xe000

/* Any config write may have changed the command register's INTx Disable bit. */
static void bars_changed(struct pci_device *dev)
{
	update_irq(dev->owner);
}

int e1000_attach(struct e1000 *e, struct io_bus *bus, struct pci_host *pci, int vm_fd,
		 unsigned slot, unsigned gsi, char *why, size_t why_len)
{
	struct pci_config *c = &e->pci.config;
	pci_config_init(c, E1000_VENDOR_ID, E1000_DEVICE_ID, CLASS_ETHERNET, 3);
	u64_to_bytes(QEMU_SUBSYSTEM_VENDOR, c->bytes + PCI_SUBSYSTEM_VENDOR_ID, 2);
	u64_to_bytes(QEMU_SUBSYSTEM_ID, c->bytes + PCI_SUBSYSTEM_ID, 2);
	/* Pre-assigned as pci.c does for its slots; SeaBIOS moves them, the bus ranges follow. */
	uint32_t bar0 = PCI_MMIO_BASE + slot * PCI_MMIO_SLOT_SIZE;
	pci_config_add_bar(c, 0, bar0, E1000_MMIO_SIZE);
	pci_config_add_io_bar(c, 1, 0, E1000_IO_SIZE);
	u64_to_bytes(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, c->bytes + PCI_COMMAND, 2);
	c->bytes[PCI_INTERRUPT_PIN] = 1;   /* INTA# */
	c->bytes[PCI_INTERRUPT_LINE] = gsi;
	e->pci.name = e->name;
	e->pci.owner = e;
	e->pci.bars_changed = bars_changed;
	irq_line_init(&e->pci.irq, vm_fd, gsi);

	e->pci.bar_range[0] = bus_register(bus, BUS_MMIO, bar0, E1000_MMIO_SIZE, &mmio_ops, e,
					   e->name);
	/* The I/O BAR waits switched off (at a parking port of its own) until firmware
	 * assigns it; the range follows the BAR. */
	e->pci.bar_range[1] = bus_register(bus, BUS_PIO, IO_PARKING_PORT + slot * E1000_IO_SIZE,
					   E1000_IO_SIZE, &io_ops, e, e->name);
	if (!e->pci.bar_range[0] || !e->pci.bar_range[1]) {
		snprintf(why, why_len, "%s: BAR at %#x overlaps another device", e->name, bar0);
		return -EBUSY;
	}
	bus_move(e->pci.bar_range[1], 0, false);
	int err = pci_host_place(pci, &e->pci, slot, 0);
	if (err)
		snprintf(why, why_len, "%s: PCI slot %u: %s", e->name, slot,
			 err == -EBUSY ? "taken" : "no such slot");
	return err;
}
