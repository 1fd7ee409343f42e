/*
 * ide.h - the PIIX3 IDE controller (machine pc, 00:01.1): two channels, two drives each.
 *
 * IDE (ATA's original transport) puts each drive's registers, the "task file", straight into
 * I/O ports. A channel has two drives on one cable, master and slave; a bit in the device
 * register says which one the next accesses talk to. Compatibility mode keeps the ISA PC/AT
 * addresses, which every BIOS and OS knows without asking PCI:
 *
 *   primary    0x1f0-0x1f7 command block, 0x3f6 control block, IRQ 14
 *   secondary  0x170-0x177 command block, 0x376 control block, IRQ 15
 *
 *   command block  +0 data (16/32-bit PIO)  +1 error / features  +2 sector count
 *                  +3 LBA 7:0  +4 LBA 15:8  +5 LBA 23:16  +6 device  +7 status / command
 *   control block  alternate status (a read that does not acknowledge the interrupt) /
 *                  device control: nIEN (bit 1, interrupts off), SRST (bit 2, soft reset),
 *                  HOB (bit 7, read the "previous" bytes of a 48-bit address)
 *
 * 48-bit commands write each of features, count and LBA registers twice: every register
 * is a two-byte FIFO, and HOB picks which byte a read returns.
 *
 * Data moves by PIO (the guest reads or writes the data port, one DRQ block after another)
 * or by bus master DMA: the PIIX3 walks a Physical Region Descriptor table in guest RAM
 * (8 bytes an entry: 32-bit address, 16-bit byte count with 0 meaning 64 KiB, bit 31 of
 * the second dword "end of table"). Its registers are 16 ports at BAR4:
 *   +0 command (bit 0 start, bit 3 direction: 1 = into memory)  +2 status (bit 0 active,
 *   bit 1 error, bit 2 interrupt, bits 5-6 "drive can DMA")  +4 PRD table address;
 *   the secondary channel's at +8.
 *
 * ATAPI drives (the CD-ROM) take the PACKET command: a 12-byte SCSI command block goes out
 * through the data port, then the reply comes back in pieces no larger than the byte count
 * limit the guest put in LBA 23:8; the sector count register then reads as the "interrupt
 * reason" (bit 0: command/data, bit 1: direction in).
 *
 * References: Intel 82371SB (PIIX3) data sheet 290550, section 2.7 and 5.7 (bus master IDE);
 * ATA/ATAPI-7 volume 2 (the register protocols); SFF-8038i (bus master programming).
 *
 * CONTRACT with board/pc.c (the lead wires it): ide_attach() below; the rest is ide.c's own.
 */
#ifndef IDE_H
#define IDE_H

#include "ata.h"
#include "bus.h"
#include "guest_memory.h"
#include "pci.h"

#define IDE_MAX_DRIVES 4   /* index: channel * 2 + unit (primary master, slave, secondary...) */

#define IDE_PRIMARY_PORT     0x1f0
#define IDE_PRIMARY_CONTROL  0x3f6
#define IDE_PRIMARY_IRQ      14
#define IDE_SECONDARY_PORT   0x170
#define IDE_SECONDARY_CONTROL 0x376
#define IDE_SECONDARY_IRQ    15
#define IDE_BM_PORTS         16          /* BAR4 */
#define IDE_BUF_SIZE         (256 * 1024) /* a PIO transfer (or an ATAPI reply) in one go */
#define IDE_PRD_MAX_ENTRIES  8192        /* a table may not cross 64 KiB: 8192 entries */

/* Device control bits. */
#define IDE_CTL_NIEN 0x02
#define IDE_CTL_SRST 0x04
#define IDE_CTL_HOB  0x80
/* Bus master command and status bits. */
#define IDE_BM_CMD_START  0x01
#define IDE_BM_CMD_TO_MEM 0x08
#define IDE_BM_ACTIVE     0x01
#define IDE_BM_ERROR      0x02
#define IDE_BM_INTERRUPT  0x04
#define IDE_BM_DRIVE_DMA  0x60

/* What a channel is doing: which way the data port goes next. */
enum ide_phase {
	IDE_IDLE,
	IDE_PIO_IN,       /* the guest reads DRQ blocks from buf */
	IDE_PIO_OUT,      /* the guest writes DRQ blocks into buf */
	IDE_PACKET_CDB,   /* the guest writes the 12-byte ATAPI command block */
	IDE_ATAPI_IN,     /* the guest reads an ATAPI reply, a byte-count-limit piece at a time */
	IDE_DMA_WAIT,     /* a DMA command waits for the bus master's start bit */
};

/* One drive's registers: both drives latch every task-file write, each keeps its results. */
struct ide_unit_regs {
	uint8_t cur[6], prev[6];   /* by port offset: 1 features, 2 count, 3-5 LBA; prev: HOB */
	uint8_t status, error;
	bool irq_pending;          /* INTRQ: cleared by reading status or writing a command */
};

struct ide_channel {
	struct ata_drive drive[2];
	struct ide_unit_regs unit[2];
	char drive_name[2][16];
	uint8_t device;            /* the device register (bit 4: which unit) */
	uint8_t control;           /* device control */
	/* The command in progress (on unit `active`). */
	enum ide_phase phase;
	unsigned active;
	struct ata_taskfile tf;
	struct ata_command_info info;
	uint32_t done;             /* bytes of the whole command through buf so far */
	uint32_t buf_len, buf_pos; /* what buf holds, how far the data port has got */
	uint32_t piece_end;        /* ATAPI PIO: where the current byte-count-limit piece ends */
	uint16_t byte_limit;       /* ATAPI PIO: the guest's limit per DRQ piece */
	uint8_t cdb[12];
	uint8_t *buf;              /* IDE_BUF_SIZE bytes (heap): PIO data, ATAPI replies */
	/* Bus master IDE. */
	uint8_t bm_command, bm_status;
	uint32_t bm_prd_table;
	struct irq_line irq;
	const char *name;          /* "ide0" (primary), "ide1" */
	const struct guest_memory *mem;        /* where DMA goes */
	const struct pci_config *pci_config;   /* the controller's: is bus mastering on? */
};

/* The controller's state (plain data but for the PIO buffers). */
struct ide_controller {
	struct pci_device pci;
	struct ide_channel channel[2];
	const struct guest_memory *mem;
	struct bus_range *bm_range;   /* BAR4 */
};

/*
 * Put the controller at slot.fn of pci (compatibility mode: ports 0x1f0/0x3f6 and 0x170/0x376,
 * ISA IRQs 14 and 15; the bus master registers in BAR4), with drives[i] (NULL: none) of media
 * media[i]. 0, or a negative errno with one line in why.
 */
int ide_attach(struct ide_controller *ide, struct io_bus *bus, struct pci_host *pci,
	       const struct guest_memory *mem, int vm_fd, unsigned slot, unsigned fn,
	       struct block_dev *const drives[IDE_MAX_DRIVES],
	       const enum ata_media media[IDE_MAX_DRIVES], char *why, size_t why_len);

/* Free the PIO buffers (the drives' backends belong to the caller). */
void ide_detach(struct ide_controller *ide);

#endif
