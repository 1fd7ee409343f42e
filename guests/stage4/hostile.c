/*
 * hostile.c - a virtio driver that breaks the rules on purpose (stage 4's hostile guest).
 *
 * It runs instead of Linux under minivisor-lite (packed as a bzImage, see guests.mk), finds
 * the virtio-blk device on PCI bus 0 through ports 0xcf8/0xcfc, and drives its modern
 * registers by hand (virtio 1.1, 3.1.1 and 4.1.4.3). Each round resets the device, sets up
 * queue 0 and does one forbidden thing:
 *
 *   1. a queue size that is not a power of two
 *   2. a descriptor table outside guest RAM
 *   3. a descriptor whose buffer lies outside guest RAM
 *   4. a descriptor chain that loops
 *   5. an available-ring entry naming a descriptor past the end of the table
 *
 * After each the device must show NEEDS_RESET (status bit 0x40) and the VMM must keep
 * running; the last round is a correct read of sector 2, which must succeed (the ext4
 * superblock's magic, 0xef53, is there). Then the guest resets the machine through the
 * keyboard controller. Output goes to COM1 by polling, one line per round.
 */
#include <stdint.h>

#include "serial.h"

/* ---- ports, serial, PCI ------------------------------------------------------------ */

static void put_hex(uint64_t v)
{
	char buf[17];
	int i = 16;
	buf[i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v && i);
	put_str("0x");
	put_str(buf + i);
}

static uint32_t pci_read32(unsigned slot, unsigned reg)
{
	outl(0xcf8, 0x80000000u | (slot << 11) | reg);
	return inl(0xcfc);
}

/* ---- the device's registers (BAR0 layout of minivisor-lite's virtio_pci.h) ----------- */

static volatile uint8_t *bar;

#define COMMON_GFSELECT 0x08
#define COMMON_GF       0x0c
#define COMMON_STATUS   0x14
#define COMMON_Q_SELECT 0x16
#define COMMON_Q_SIZE   0x18
#define COMMON_Q_ENABLE 0x1c
#define COMMON_Q_DESC   0x20
#define COMMON_Q_AVAIL  0x28
#define COMMON_Q_USED   0x30
#define NOTIFY_OFFSET   0x3000
#define STATUS_NEEDS_RESET 0x40

static void w8(unsigned off, uint8_t v) { *(volatile uint8_t *)(bar + off) = v; }
static void w16(unsigned off, uint16_t v) { *(volatile uint16_t *)(bar + off) = v; }
static void w32(unsigned off, uint32_t v) { *(volatile uint32_t *)(bar + off) = v; }
static uint8_t r8(unsigned off) { return *(volatile uint8_t *)(bar + off); }

/* ---- queue 0 in our own RAM (identity-mapped: virtual = physical) -------------------- */

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
#define F_NEXT  1
#define F_WRITE 2

#define DESC_GPA   0x400000
#define AVAIL_GPA  0x401000
#define USED_GPA   0x402000
#define HEADER_GPA 0x403000
#define DATA_GPA   0x404000
#define STATUS_GPA 0x405000
#define OUTSIDE_RAM 0x7ff00000000ull   /* 8 TiB: no guest has that much RAM */
#define QSIZE 8

static struct desc *const desc = (struct desc *)DESC_GPA;
static volatile uint16_t *const avail = (volatile uint16_t *)AVAIL_GPA;  /* flags, idx, ring */
static volatile uint16_t *const used = (volatile uint16_t *)USED_GPA;    /* flags, idx, ... */

static void zero(uint64_t gpa, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		((volatile uint8_t *)gpa)[i] = 0;
}

/* Reset, negotiate VERSION_1 only, set up queue 0 with size qsize and the given table. */
static void setup(uint16_t qsize, uint64_t desc_gpa)
{
	zero(DESC_GPA, 0x3000);
	w8(COMMON_STATUS, 0);                    /* reset */
	w8(COMMON_STATUS, 1 | 2);                /* ACKNOWLEDGE | DRIVER */
	w32(COMMON_GFSELECT, 1);
	w32(COMMON_GF, 1);                       /* bit 32: VIRTIO_F_VERSION_1 */
	w8(COMMON_STATUS, 1 | 2 | 8);            /* FEATURES_OK */
	w16(COMMON_Q_SELECT, 0);
	w16(COMMON_Q_SIZE, qsize);
	w32(COMMON_Q_DESC, desc_gpa);
	w32(COMMON_Q_DESC + 4, desc_gpa >> 32);
	w32(COMMON_Q_AVAIL, AVAIL_GPA);
	w32(COMMON_Q_USED, USED_GPA);
	w16(COMMON_Q_ENABLE, 1);
	w8(COMMON_STATUS, 1 | 2 | 4 | 8);        /* DRIVER_OK */
}

/*
 * Submit, then wait for the device's answer: the request used (used idx moves) or the queue
 * refused (NEEDS_RESET). The device may answer from another thread after the kick (the
 * fast path's I/O thread), as a real driver expects; the wait is bounded, so a device that
 * never answers shows up in the report instead of hanging the guest.
 */
static void submit(uint16_t head)
{
	avail[2] = head;                         /* ring[0] */
	__asm__ volatile("" ::: "memory");
	avail[1] = 1;                            /* idx */
	w16(NOTIFY_OFFSET, 0);                   /* "queue 0 has work" */
	for (unsigned long spin = 0; spin < 1000000ul; spin++) {
		if (used[1] != 0 || (r8(COMMON_STATUS) & STATUS_NEEDS_RESET))
			break;
		__asm__ volatile("pause");
	}
}

static void report(const char *round)
{
	put_str("hostile: ");
	put_str(round);
	put_str(": device status ");
	put_hex(r8(COMMON_STATUS));
	put_str(r8(COMMON_STATUS) & STATUS_NEEDS_RESET ? " (needs reset)\n" : " (running)\n");
}

static void read_sector(uint64_t sector)
{
	volatile uint32_t *h = (volatile uint32_t *)HEADER_GPA;
	h[0] = 0;                                /* VIRTIO_BLK_T_IN */
	h[1] = 0;
	*(volatile uint64_t *)(HEADER_GPA + 8) = sector;
	*(volatile uint8_t *)STATUS_GPA = 0xff;
	desc[0] = (struct desc){ HEADER_GPA, 16, F_NEXT, 1 };
	desc[1] = (struct desc){ DATA_GPA, 512, F_NEXT | F_WRITE, 2 };
	desc[2] = (struct desc){ STATUS_GPA, 1, F_WRITE, 0 };
	submit(0);
}

int main(void)
{
	unsigned slot;
	for (slot = 1; slot < 32; slot++)
		if (pci_read32(slot, 0) == 0x10421af4)   /* virtio 1.x block device */
			break;
	if (slot == 32) {
		put_str("hostile: no virtio-blk device\n");
		outb(0x64, 0xfe);
		return 1;
	}
	bar = (volatile uint8_t *)(uint64_t)(pci_read32(slot, 0x10) & ~0xfu);
	put_str("hostile: virtio-blk in slot ");
	put_hex(slot);
	put_str(", BAR0 at ");
	put_hex((uint64_t)bar);
	put_str("\n");

	setup(3, DESC_GPA);
	report("queue size 3");

	setup(QSIZE, OUTSIDE_RAM);
	report("descriptor table outside RAM");

	setup(QSIZE, DESC_GPA);
	desc[0] = (struct desc){ OUTSIDE_RAM, 16, F_NEXT, 1 };
	desc[1] = (struct desc){ STATUS_GPA, 1, F_WRITE, 0 };
	submit(0);
	report("buffer outside RAM");

	setup(QSIZE, DESC_GPA);
	desc[0] = (struct desc){ HEADER_GPA, 16, F_NEXT, 1 };
	desc[1] = (struct desc){ DATA_GPA, 512, F_NEXT | F_WRITE, 0 };   /* back to 0 */
	submit(0);
	report("descriptor loop");

	setup(QSIZE, DESC_GPA);
	submit(200);
	report("descriptor index 200");

	setup(QSIZE, DESC_GPA);
	read_sector(2);
	uint16_t magic = *(volatile uint16_t *)(DATA_GPA + 0x38);
	put_str("hostile: after reset a good read: used idx ");
	put_hex(used[1]);
	put_str(", status ");
	put_hex(*(volatile uint8_t *)STATUS_GPA);
	put_str(", ext4 magic ");
	put_hex(magic);
	put_str("\nhostile: done\n");
	outb(0x64, 0xfe);                        /* reset: minivisor-lite stops */
	return 0;
}
