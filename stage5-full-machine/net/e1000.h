/*
 * e1000.h - the Intel 82540EM gigabit Ethernet controller (8086:100e), QEMU's default card.
 *
 * Every OS has a driver for the e1000 family, which is why emulators offer it. Its interface is
 * a register file in a 128 KiB memory BAR and two rings of descriptors in guest RAM:
 *
 *   BAR0 (memory, 128 KiB)  the registers; BAR1 (I/O, 64 ports)  IOADDR/IODATA, a window on them
 *
 *   0x00000 CTRL    device control: RST (bit 26) resets the card, SLU sets the link up
 *   0x00008 STATUS  link up, full duplex, 1000 Mb/s (what this card always reports)
 *   0x00010 EECD    the serial EEPROM's wires (microwire, bit-banged by Linux), 0x14 EERD
 *           a one-shot "read EEPROM word N" register; the EEPROM holds the MAC address
 *   0x00020 MDIC    the PHY's registers (link, autonegotiation), through the MDI interface
 *   0x000c0 ICR     interrupt causes (read clears), 0xc8 ICS set causes, 0xd0 IMS enable
 *           causes (reads the mask), 0xd8 IMC disable causes; INTA# is high while ICR & IMS
 *   0x00100 RCTL    receive control (enable, filters, buffer size), 0x400 TCTL (enable)
 *   0x02800 RDBAL/RDBAH/RDLEN/RDH/RDT   the receive ring: base, length in bytes, head, tail
 *   0x03800 TDBAL/TDBAH/TDLEN/TDH/TDT   the transmit ring
 *   0x04000 statistics (read clears; good frames and octets are counted)
 *   0x05200 MTA     multicast hash table; 0x5400 RAL/RAH: 16 receive addresses
 *
 * The rings: 16-byte descriptors, from the head (the card's next) to the tail (the guest's
 * end). To send, the guest fills descriptors and moves TDT: the card walks TDH up to TDT,
 * gathers each frame's pieces (a frame ends at a descriptor with EOP), sends it, writes DD
 * (done) into descriptors that ask for it (RS) and raises TXDW. To receive, the guest hands
 * empty 2 KiB buffers to the card by moving RDT; a frame goes into the buffers at RDH, the
 * card writes its length and DD|EOP and raises RXT0. RDH == RDT: no buffer, the frame is lost
 * (RXO), as on the wire.
 *
 * Linux's driver offloads checksums and TCP segmentation (TSO) to every 82540: a context
 * descriptor says where the IP and TCP/UDP headers are, data descriptors that follow carry
 * the frame and ask for IXSM/TXSM (checksums) or TSE (cut into MSS-sized segments).
 *
 * Every address the guest writes is checked through gpa_to_hva(); a ring or a buffer outside
 * RAM, a frame that never ends, a zero-length or oversized frame: one line on stderr (up to a
 * limit), the frame is dropped, the descriptor is still completed, the VMM runs on.
 *
 * Reference: Intel PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's Manual
 * (8254x), chapters 3 (descriptors), 5 (EEPROM), 13 (registers).
 */
#ifndef E1000_H
#define E1000_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "guest_memory.h"
#include "guest_error.h"
#include "pci.h"

#define E1000_VENDOR_ID   0x8086
#define E1000_DEVICE_ID   0x100e     /* 82540EM */
#define E1000_MMIO_SIZE   0x20000u
#define E1000_IO_SIZE     0x40u
#define E1000_EEPROM_WORDS 64
#define E1000_EEPROM_SUM  0xbaba     /* words 0..63 add up to this (manual 5.6.1) */
#define E1000_PHY_REGS    32
/* The largest frame a guest may hand over: a TSO packet (64 KiB of payload and headers). */
#define E1000_TX_MAX      (64u * 1024 + 256)
/* The largest frame without TSO: a jumbo frame. Longer: dropped. */
#define E1000_FRAME_MAX   16384u

/* Register offsets (manual 13.4) that the model names. */
enum {
	E1000_CTRL = 0x0000, E1000_STATUS = 0x0008, E1000_EECD = 0x0010, E1000_EERD = 0x0014,
	E1000_MDIC = 0x0020, E1000_ICR = 0x00c0, E1000_ICS = 0x00c8, E1000_IMS = 0x00d0,
	E1000_IMC = 0x00d8, E1000_RCTL = 0x0100, E1000_TCTL = 0x0400,
	E1000_RDBAL = 0x2800, E1000_RDBAH = 0x2804, E1000_RDLEN = 0x2808, E1000_RDH = 0x2810,
	E1000_RDT = 0x2818, E1000_TDBAL = 0x3800, E1000_TDBAH = 0x3804, E1000_TDLEN = 0x3808,
	E1000_TDH = 0x3810, E1000_TDT = 0x3818, E1000_STATS = 0x4000, E1000_STATS_END = 0x4100,
	E1000_MTA = 0x5200, E1000_RAL0 = 0x5400, E1000_RAH0 = 0x5404,
};

/* Interrupt causes (ICR bits). */
#define E1000_ICR_TXDW  0x01u   /* transmit descriptor written back */
#define E1000_ICR_TXQE  0x02u   /* transmit queue empty */
#define E1000_ICR_LSC   0x04u   /* link status change */
#define E1000_ICR_RXDMT0 0x10u  /* receive descriptors below the threshold */
#define E1000_ICR_RXO   0x40u   /* receiver overrun: a frame found no buffer */
#define E1000_ICR_RXT0  0x80u   /* receiver timer: frames arrived */
#define E1000_ICR_ASSERTED 0x80000000u

/* Where a transmitted frame goes (the back end, net.h); called with the bus lock held. */
typedef void (*e1000_send_fn)(void *opaque, const uint8_t *frame, size_t len);

/* The offload context a context descriptor sets (manual 3.3.6). */
struct e1000_tx_context {
	uint8_t ipcss, ipcso, tucss, tucso;
	uint16_t ipcse, tucse;
	uint32_t paylen;          /* TSO: payload bytes after the headers */
	uint16_t mss;             /* TSO: payload bytes per segment */
	uint8_t hdr_len;          /* TSO: bytes of headers copied into every segment */
	bool tse;                 /* TCP segmentation */
	bool ipv4, tcp;           /* TUCMD.IP, TUCMD.TCP */
};

/* Microwire EEPROM: the serial protocol's state between two EECD writes. */
struct e1000_eeprom_wire {
	uint32_t eecd;            /* what the guest drives: SK, CS, DI, REQ */
	uint32_t shift_in;        /* start bit, opcode and address, as they came in */
	unsigned bits_in;
	bool reading;             /* a READ command is shifting its word out */
	unsigned addr;
	int out_bit;              /* the bit of the word on DO: 15 .. 0; -1 dummy zero */
};

struct e1000 {
	struct pci_device pci;
	uint32_t regs[E1000_MMIO_SIZE / 4];   /* the register file; special ones in e1000.c */
	uint16_t eeprom[E1000_EEPROM_WORDS];
	uint16_t phy[E1000_PHY_REGS];
	struct e1000_eeprom_wire ee;
	uint32_t ioaddr;          /* BAR1's IOADDR: the register IODATA reaches */
	struct e1000_tx_context ctx;
	/* The frame being gathered from descriptors until EOP. */
	uint8_t tx_buf[E1000_TX_MAX];
	size_t tx_len;
	bool tx_bad;              /* a piece was lost: the whole frame is dropped at EOP */
	bool tx_tse;              /* its data descriptors asked for TSO, IXSM, TXSM */
	bool tx_ixsm, tx_txsm;
	uint8_t mac[6];
	const struct guest_memory *mem;
	e1000_send_fn send;
	void *send_opaque;
	struct guest_errors errors; /* one stderr line per guest mistake, up to a limit */
	char name[16];            /* "e1000.0" in messages */
	uint64_t rx_dropped;      /* frames that found no buffer (RXO) */
	/* For the lesson's numbers: frames each way, and register accesses (each one an exit). */
	uint64_t tx_frames, rx_frames, accesses;
	uint64_t accesses_setup;  /* accesses before the first frame: probe, EEPROM, PHY */
};

/*
 * The card's state at power-on: registers, EEPROM (mac, checksum), PHY (link up), with mem as
 * guest RAM and frames going to send(opaque, ...). No bus, no PCI: unit tests start here.
 */
void e1000_init(struct e1000 *e, const struct guest_memory *mem, const uint8_t mac[6],
		e1000_send_fn send, void *opaque, const char *name);

/* Put the card at slot.0 of pci (BAR0 memory, BAR1 I/O; INTA# drives GSI gsi). 0, or a
 * negative errno with one line in why. */
int e1000_attach(struct e1000 *e, struct io_bus *bus, struct pci_host *pci, int vm_fd,
		 unsigned slot, unsigned gsi, char *why, size_t why_len);

/* Register access, as the bus delivers it (offset inside BAR0, len 1..8). */
int e1000_mmio_read(void *e, uint64_t offset, uint8_t *data, unsigned len);
int e1000_mmio_write(void *e, uint64_t offset, const uint8_t *data, unsigned len);

/* A frame from the wire (the back end), bus lock held: into the receive ring, or dropped. */
void e1000_receive(void *e, const uint8_t *frame, size_t len);
/* Is there a receive buffer (and is the receiver on)? */
bool e1000_can_receive(const struct e1000 *e);

/* Pure helpers, unit-tested: the EEPROM image for a MAC (checksum in word 63), and the
 * Internet checksum of len bytes added to sum (not complemented). */
void e1000_eeprom_fill(uint16_t eeprom[E1000_EEPROM_WORDS], const uint8_t mac[6]);
uint32_t e1000_csum_add(uint32_t sum, const uint8_t *data, size_t len);
uint16_t e1000_csum_fold(uint32_t sum);

#endif
