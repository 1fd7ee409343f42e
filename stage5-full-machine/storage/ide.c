/*
 * ide.c - the PIIX3 IDE controller: task-file registers in I/O ports, PIO through the data
 * port, bus master DMA through PRD tables, ATAPI packets. See ide.h for the register map.
 *
 * What it teaches:
 *   - A transport only carries commands: it turns register writes into a struct ata_taskfile,
 *     lets ata.c (or atapi.c) run it, and moves the data the way this controller moves data.
 *   - The PIO handshake: the drive raises DRQ (and an interrupt) when a block is ready or
 *     wanted, the guest moves exactly that block through the data port, and so on until the
 *     command is done. Here a whole PIO command is read from the disk at once into a buffer
 *     (a 48-bit one larger than it, a buffer at a time), and a write is collected, then run.
 *   - DMA is a table walk over guest memory. Every entry is checked through gpa_to_hva(); a
 *     table outside RAM, an entry outside RAM, a table shorter than the data or one with no
 *     end mark fails the command with the bus master's error bit, never the host.
 */
#include "ide.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_READY (ATA_STATUS_DRDY | ATA_STATUS_DSC)

/* Command block registers, by port offset. */
enum { REG_DATA, REG_FEATURES, REG_COUNT, REG_LBA_LOW, REG_LBA_MID, REG_LBA_HIGH, REG_DEVICE,
       REG_COMMAND };

/* ATAPI "interrupt reason", read in the count register: what the data port wants next. */
#define ATAPI_REASON_COD 0x01   /* a command packet (else data) */
#define ATAPI_REASON_IO  0x02   /* to the host (else from it) */

#define PIIX_IDETIM      0x40   /* IDE timing, primary at 0x40, secondary at 0x42 */
#define PIIX_IDETIM_IDE  0x80   /* high byte, bit 7: the channel's ports decode */
#define PIIX_SPECIFIC_END 0x50  /* timing registers: the guest may write 0x40-0x4f */
#define BM_PARKING_PORT  (PCI_IO_LIMIT - IDE_BM_PORTS)   /* where BAR4 waits, switched off */

/* ---- interrupts ------------------------------------------------------------------------ */

static unsigned selected(const struct ide_channel *ch)
{
	return (ch->device & ATA_DEVICE_DEV1) ? 1 : 0;
}

/* INTRQ is driven by the selected drive alone, and only while nIEN is clear. */
static void update_irq(struct ide_channel *ch)
{
	unsigned u = selected(ch);
	irq_line_set(&ch->irq, ch->drive[u].present && ch->unit[u].irq_pending &&
			       !(ch->control & IDE_CTL_NIEN));
}

static void raise_irq(struct ide_channel *ch, unsigned u)
{
	ch->unit[u].irq_pending = true;
	update_irq(ch);
}

/* ---- task file <-> registers ------------------------------------------------------------- */

static struct ata_taskfile read_taskfile(const struct ide_channel *ch, unsigned u,
					 uint8_t command)
{
	const struct ide_unit_regs *r = &ch->unit[u];
	struct ata_taskfile tf = { .command = command, .device = ch->device };
	tf.features = r->cur[REG_FEATURES];
	tf.count = r->cur[REG_COUNT];
	tf.lba = r->cur[REG_LBA_LOW] | r->cur[REG_LBA_MID] << 8 |
		 (uint64_t)r->cur[REG_LBA_HIGH] << 16;
	if (ata_command_is_lba48(command)) {
		/* The "previous" bytes, written first, are the high halves. */
		tf.features |= r->prev[REG_FEATURES] << 8;
		tf.count |= r->prev[REG_COUNT] << 8;
		tf.lba |= (uint64_t)r->prev[REG_LBA_LOW] << 24 |
			  (uint64_t)r->prev[REG_LBA_MID] << 32 |
			  (uint64_t)r->prev[REG_LBA_HIGH] << 40;
	} else {
		tf.lba |= (uint64_t)(ch->device & 0x0f) << 24;
	}
	return tf;
}

/* A command's results: status, error, and the count and LBA it leaves (a signature, the
 * failing sector, CHECK POWER MODE's answer). */
static void write_results(struct ide_channel *ch, unsigned u, const struct ata_taskfile *tf)
{
	struct ide_unit_regs *r = &ch->unit[u];
	r->status = tf->status;
	r->error = tf->error;
	r->cur[REG_COUNT] = tf->count & 0xff;
	for (int i = 0; i < 3; i++)
		r->cur[REG_LBA_LOW + i] = (tf->lba >> (8 * i)) & 0xff;
	if (ata_command_is_lba48(tf->command)) {
		r->prev[REG_COUNT] = tf->count >> 8;
		for (int i = 0; i < 3; i++)
			r->prev[REG_LBA_LOW + i] = (tf->lba >> (24 + 8 * i)) & 0xff;
	} else {
		ch->device = (ch->device & 0xf0) | ((tf->lba >> 24) & 0x0f);
	}
}

static void complete(struct ide_channel *ch, const struct ata_taskfile *tf, bool irq)
{
	write_results(ch, ch->active, tf);
	ch->phase = IDE_IDLE;
	if (irq)
		raise_irq(ch, ch->active);
}

static void show_signature(struct ide_channel *ch, unsigned u)
{
	struct ata_taskfile tf = { 0 };
	ata_signature(&ch->drive[u], &tf);
	ch->unit[u].irq_pending = false;
	write_results(ch, u, &tf);
}

/* ---- the PIO buffer as a struct ata_sg ------------------------------------------------------ */

static bool buf_to_guest(void *opaque, const void *data, size_t len)
{
	struct ide_channel *ch = opaque;
	if (len > IDE_BUF_SIZE - ch->buf_len)
		return false;
	memcpy(ch->buf + ch->buf_len, data, len);
	ch->buf_len += len;
	return true;
}

static bool buf_from_guest(void *opaque, void *data, size_t len)
{
	struct ide_channel *ch = opaque;
	if (len > ch->buf_len - ch->buf_pos)
		return false;
	memcpy(data, ch->buf + ch->buf_pos, len);
	ch->buf_pos += len;
	return true;
}

/* An ATAPI command that wants data from the host by PIO: not offered (a DVD-ROM needs none). */
static bool refuse_from_guest(void *opaque, void *data, size_t len)
{
	(void)opaque, (void)data, (void)len;
	return false;
}

static bool no_data(void *opaque, const void *data, size_t len)
{
	(void)opaque, (void)data, (void)len;
	return false;
}

static const struct ata_sg no_data_sg = { no_data, refuse_from_guest, NULL };

/* ---- PIO: ATA commands -------------------------------------------------------------------- */

/*
 * The part of the command that goes through buf next: all of it, or for a 48-bit command
 * larger than buf, the next IDE_BUF_SIZE bytes as a command of its own.
 */
static struct ata_taskfile next_part(const struct ide_channel *ch, uint32_t *bytes)
{
	struct ata_taskfile part = ch->tf;
	uint32_t left = ch->info.bytes - ch->done;
	*bytes = left < IDE_BUF_SIZE ? left : IDE_BUF_SIZE;
	if (ch->info.bytes > IDE_BUF_SIZE) {
		part.lba += ch->done / ATA_SECTOR_SIZE;
		part.count = *bytes / ATA_SECTOR_SIZE;
	}
	return part;
}

/* The drive has the next DRQ block (in) or wants it (out): DRQ, and say so. */
static void offer_block(struct ide_channel *ch, bool irq)
{
	uint32_t left = ch->buf_len - ch->buf_pos;
	ch->piece_end = ch->buf_pos + (left < ch->info.drq_block ? left : ch->info.drq_block);
	ch->unit[ch->active].status = STATUS_READY | ATA_STATUS_DRQ;
	if (irq)
		raise_irq(ch, ch->active);
}

/* PIO in: read the next part from the disk into buf, then offer its first block. */
static void pio_in_next(struct ide_channel *ch)
{
	if (ch->buf_pos == ch->buf_len) {
		uint32_t bytes;
		struct ata_taskfile part = next_part(ch, &bytes);
		struct ata_sg sg = { buf_to_guest, buf_from_guest, ch };
		ch->buf_len = ch->buf_pos = 0;
		ata_execute(&ch->drive[ch->active], &part, &sg);
		if ((part.status & ATA_STATUS_ERR) || ch->buf_len != bytes) {
			complete(ch, &part, true);
			return;
		}
	}
	ch->phase = IDE_PIO_IN;
	offer_block(ch, true);
}

/* PIO out: buf collects up to one part; offer_block() asks for it a block at a time. */
static void pio_out_next(struct ide_channel *ch, bool irq)
{
	uint32_t bytes;
	next_part(ch, &bytes);
	ch->phase = IDE_PIO_OUT;
	ch->buf_len = bytes;   /* how much this part collects */
	offer_block(ch, irq);
}

/* A whole part collected: write it to the disk. */
static void pio_out_run(struct ide_channel *ch)
{
	uint32_t bytes;
	struct ata_taskfile part = next_part(ch, &bytes);
	struct ata_sg sg = { buf_to_guest, buf_from_guest, ch };
	ch->buf_pos = 0;
	ata_execute(&ch->drive[ch->active], &part, &sg);
	ch->done += bytes;
	if (part.status & ATA_STATUS_ERR) {
		complete(ch, &part, true);   /* the part's registers: the failing sector */
	} else if (ch->done == ch->info.bytes) {
		ch->tf.status = part.status;
		ch->tf.error = part.error;
		complete(ch, &ch->tf, true);
	} else {
		ch->buf_pos = 0;
		pio_out_next(ch, true);
	}
}

/* ---- PIO: ATAPI packets ----------------------------------------------------------------- */

static void packet_start(struct ide_channel *ch)
{
	struct ide_unit_regs *r = &ch->unit[ch->active];
	ch->byte_limit = r->cur[REG_LBA_MID] | r->cur[REG_LBA_HIGH] << 8;
	ch->phase = IDE_PACKET_CDB;
	ch->buf_pos = 0;
	ch->piece_end = sizeof(ch->cdb);
	r->cur[REG_COUNT] = ATAPI_REASON_COD;
	/* No interrupt: IDENTIFY PACKET DEVICE word 0 says "DRQ within 50 us" instead. */
	r->status = ATA_STATUS_DRDY | ATA_STATUS_DRQ;
}

static void packet_complete(struct ide_channel *ch)
{
	struct ide_unit_regs *r = &ch->unit[ch->active];
	r->status = ch->tf.status;
	r->error = ch->tf.error;
	r->cur[REG_COUNT] = ATAPI_REASON_IO | ATAPI_REASON_COD;
	ch->phase = IDE_IDLE;
	raise_irq(ch, ch->active);
}

/* The next piece of an ATAPI reply: at most the byte count limit, an even number of bytes
 * unless it is the last; its size in LBA 23:8. */
static void packet_next_piece(struct ide_channel *ch)
{
	struct ide_unit_regs *r = &ch->unit[ch->active];
	uint32_t limit = ch->byte_limit && ch->byte_limit != 0xffff ? ch->byte_limit : 0xfffe;
	uint32_t left = ch->buf_len - ch->buf_pos;
	if (left > limit && limit > 1)
		limit &= ~1u;
	uint32_t n = left < limit ? left : limit;
	ch->piece_end = ch->buf_pos + n;
	r->cur[REG_COUNT] = ATAPI_REASON_IO;
	r->cur[REG_LBA_MID] = n & 0xff;
	r->cur[REG_LBA_HIGH] = n >> 8;
	r->status = ATA_STATUS_DRDY | ATA_STATUS_DRQ;
	ch->phase = IDE_ATAPI_IN;
	raise_irq(ch, ch->active);
}

static void run_dma(struct ide_channel *ch);

/* The 12 bytes of the command packet are in: run it (PIO: into buf), or wait for the DMA. */
static void packet_run(struct ide_channel *ch)
{
	if (ch->info.dma) {
		ch->phase = IDE_DMA_WAIT;
		if (ch->bm_command & IDE_BM_CMD_START)
			run_dma(ch);
		return;
	}
	struct ata_sg sg = { buf_to_guest, refuse_from_guest, ch };
	ch->buf_len = ch->buf_pos = 0;
	ch->tf.status = ch->tf.error = 0;
	atapi_execute(&ch->drive[ch->active], ch->cdb, &ch->tf, &sg, IDE_BUF_SIZE);
	if ((ch->tf.status & ATA_STATUS_ERR) || ch->buf_len == 0)
		packet_complete(ch);
	else
		packet_next_piece(ch);
}

/* ---- the data port ------------------------------------------------------------------------ */

/* The guest finished a DRQ block or piece: what comes next. */
static void piece_done(struct ide_channel *ch)
{
	switch (ch->phase) {
	case IDE_PIO_IN:
		if (ch->done == ch->info.bytes) {
			ch->phase = IDE_IDLE;   /* no interrupt after the last block of a read */
			ch->unit[ch->active].status = STATUS_READY;
		} else {
			pio_in_next(ch);
		}
		break;
	case IDE_PIO_OUT:
		if (ch->buf_pos == ch->buf_len)
			pio_out_run(ch);
		else
			offer_block(ch, true);
		break;
	case IDE_PACKET_CDB:
		packet_run(ch);
		break;
	case IDE_ATAPI_IN:
		if (ch->buf_pos == ch->buf_len)
			packet_complete(ch);
		else
			packet_next_piece(ch);
		break;
	default:
		break;
	}
}

static uint32_t data_read(struct ide_channel *ch, unsigned len)
{
	if (ch->phase != IDE_PIO_IN && ch->phase != IDE_ATAPI_IN)
		return 0;
	uint32_t n = ch->piece_end - ch->buf_pos, value = 0;
	if (n > len)
		n = len;
	for (uint32_t i = 0; i < n; i++)
		value |= (uint32_t)ch->buf[ch->buf_pos + i] << (8 * i);
	ch->buf_pos += n;
	if (ch->phase == IDE_PIO_IN)
		ch->done += n;   /* what the guest took: the next part starts there */
	if (ch->buf_pos == ch->piece_end)
		piece_done(ch);
	return value;
}

static void data_write(struct ide_channel *ch, uint32_t value, unsigned len)
{
	uint8_t *dst;
	if (ch->phase == IDE_PIO_OUT)
		dst = ch->buf;
	else if (ch->phase == IDE_PACKET_CDB)
		dst = ch->cdb;
	else
		return;
	uint32_t n = ch->piece_end - ch->buf_pos;
	if (n > len)
		n = len;
	for (uint32_t i = 0; i < n; i++)
		dst[ch->buf_pos + i] = value >> (8 * i);
	ch->buf_pos += n;
	if (ch->buf_pos == ch->piece_end)
		piece_done(ch);
}

/* ---- bus master DMA: the PRD table walk --------------------------------------------------- */

struct prd_walk {
	struct ide_channel *ch;
	const struct guest_memory *mem;
	uint32_t next;          /* guest address of the next entry */
	unsigned entries;       /* read so far */
	uint32_t addr, left;    /* the current region: where, how much is left of it */
	bool last;              /* the current region has the end-of-table bit */
	bool failed;            /* a line was printed; the bus master reports an error */
};

static bool prd_fail(struct prd_walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool prd_fail(struct prd_walk *w, const char *fmt, ...)
{
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: bus master DMA: %s; command failed\n", w->ch->name, what);
	w->failed = true;
	return false;
}

/* Load the next region (entry). Every failure is the guest's: say which, once. */
static bool prd_next(struct prd_walk *w)
{
	if (w->failed)
		return false;
	if (w->last)
		return prd_fail(w, "the PRD table at 0x%x ends before the data (%u entries)",
				w->ch->bm_prd_table, w->entries);
	if (w->entries == IDE_PRD_MAX_ENTRIES)
		return prd_fail(w, "the PRD table at 0x%x has no end-of-table bit in %u entries",
				w->ch->bm_prd_table, w->entries);
	const uint8_t *e = gpa_to_hva(w->mem, w->next, 8);
	if (!e) {
		if (!w->entries)
			return prd_fail(w, "the PRD table at 0x%x is outside RAM", w->next);
		return prd_fail(w, "PRD table entry %u at 0x%x is outside RAM", w->entries,
				w->next);
	}
	uint32_t addr = bytes_to_u64(e, 4) & ~1u;
	uint32_t count = bytes_to_u64(e + 4, 2);
	if (count == 0)
		count = 0x10000;   /* a count of 0 means 64 KiB */
	if (!gpa_to_hva(w->mem, addr, count))
		return prd_fail(w, "PRD entry %u points outside RAM (0x%x, %u bytes)", w->entries,
				addr, count);
	w->addr = addr;
	w->left = count;
	w->last = e[7] & 0x80;
	w->next += 8;
	w->entries++;
	return true;
}

static bool prd_copy(struct prd_walk *w, uint8_t *buf, size_t len, bool to_guest)
{
	while (len) {
		if (!w->left && !prd_next(w))
			return false;
		uint32_t n = len < w->left ? len : w->left;
		uint8_t *guest = gpa_to_hva(w->mem, w->addr, n);   /* checked in prd_next */
		if (to_guest)
			memcpy(guest, buf, n);
		else
			memcpy(buf, guest, n);
		w->addr += n;
		w->left -= n;
		buf += n;
		len -= n;
	}
	return true;
}

static bool prd_to_guest(void *opaque, const void *buf, size_t len)
{
	return prd_copy(opaque, (uint8_t *)buf, len, true);
}

static bool prd_from_guest(void *opaque, void *buf, size_t len)
{
	return prd_copy(opaque, buf, len, false);
}

/* The bus master is started and a DMA command waits: move the data, then interrupt. */
static void run_dma(struct ide_channel *ch)
{
	struct prd_walk w = { .ch = ch, .mem = ch->mem, .next = ch->bm_prd_table };
	struct ata_sg sg = { prd_to_guest, prd_from_guest, &w };
	struct ata_drive *d = &ch->drive[ch->active];

	ch->phase = IDE_IDLE;
	if (!(bytes_to_u64(ch->pci_config->bytes + PCI_COMMAND, 2) & PCI_COMMAND_MASTER)) {
		fprintf(stderr, "%s: bus master DMA while bus mastering is off (PCI command bit 2)\n",
			ch->name);
		w.failed = true;
		ata_abort(&ch->tf);
	} else if (ch->info.packet) {
		ch->tf.status = ch->tf.error = 0;
		atapi_execute(d, ch->cdb, &ch->tf, &sg, UINT32_MAX);
	} else {
		ata_execute(d, &ch->tf, &sg);
	}
	/* Active stays set when the table is longer than the data (SFF-8038i). */
	if (w.failed || (w.last && !w.left))
		ch->bm_status &= ~IDE_BM_ACTIVE;
	if (w.failed)
		ch->bm_status |= IDE_BM_ERROR;
	ch->bm_status |= IDE_BM_INTERRUPT;
	if (ch->info.packet)
		packet_complete(ch);
	else
		complete(ch, &ch->tf, true);
}

/* ---- commands ------------------------------------------------------------------------------ */

/* EXECUTE DEVICE DIAGNOSTIC: both drives answer with their signatures; device 0 interrupts. */
static void diagnostic(struct ide_channel *ch)
{
	ch->phase = IDE_IDLE;
	ch->device &= ~ATA_DEVICE_DEV1;
	ch->active = 0;
	for (unsigned u = 0; u < 2; u++)
		if (ch->drive[u].present)
			show_signature(ch, u);
	if (ch->drive[0].present)
		raise_irq(ch, 0);
}

static void start_command(struct ide_channel *ch, uint8_t command)
{
	unsigned u = selected(ch);
	struct ata_drive *d = &ch->drive[u];
	if (!d->present || (ch->control & IDE_CTL_SRST))
		return;   /* nobody there, or in reset: the command goes nowhere */
	if (command == ATA_CMD_EXECUTE_DIAGNOSTIC) {
		diagnostic(ch);
		return;
	}
	ch->unit[u].irq_pending = false;
	ch->active = u;
	ch->phase = IDE_IDLE;
	ch->done = ch->buf_len = ch->buf_pos = 0;
	ch->tf = read_taskfile(ch, u, command);

	if (!ata_command_info(d, &ch->tf, &ch->info)) {
		ata_abort(&ch->tf);
		complete(ch, &ch->tf, true);
	} else if (ch->info.packet) {
		packet_start(ch);
	} else if (!ata_check_access(d, &ch->tf)) {
		complete(ch, &ch->tf, true);   /* sectors not there, or read-only: no data moves */
	} else if (ch->info.dma) {
		ch->phase = IDE_DMA_WAIT;
		ch->unit[u].status = STATUS_READY | ATA_STATUS_DRQ;
		if (ch->bm_command & IDE_BM_CMD_START)
			run_dma(ch);
	} else if (ch->info.dir == ATA_DIR_IN) {
		pio_in_next(ch);
	} else if (ch->info.dir == ATA_DIR_OUT) {
		pio_out_next(ch, false);   /* the first block is asked for without an interrupt */
	} else {
		ata_execute(d, &ch->tf, &no_data_sg);
		/* DEVICE RESET ends quietly; everything else interrupts. */
		complete(ch, &ch->tf, command != ATA_CMD_DEVICE_RESET ||
				      (ch->tf.status & ATA_STATUS_ERR));
	}
	update_irq(ch);
}

/* ---- the command block and control block ports ---------------------------------------------- */

static uint8_t register_read(struct ide_channel *ch, unsigned reg)
{
	unsigned u = selected(ch);
	struct ide_unit_regs *r = &ch->unit[u];
	if (reg == REG_DEVICE)
		return ch->drive[0].present || ch->drive[1].present ? ch->device : 0;
	if (!ch->drive[u].present)
		return 0;   /* an absent drive drives nothing: status 0 says "no device" */
	switch (reg) {
	case REG_FEATURES:
		return r->error;
	case REG_COMMAND:
		r->irq_pending = false;   /* reading status acknowledges the interrupt */
		update_irq(ch);
		return r->status;
	default:
		return (ch->control & IDE_CTL_HOB) ? r->prev[reg] : r->cur[reg];
	}
}

static void register_write(struct ide_channel *ch, unsigned reg, uint8_t value)
{
	/* Any write to a command block register clears HOB: the next reads show the new bytes. */
	ch->control &= ~IDE_CTL_HOB;
	switch (reg) {
	case REG_DEVICE:
		ch->device = value;
		update_irq(ch);
		break;
	case REG_COMMAND:
		start_command(ch, value);
		break;
	default:
		/* Both drives latch it; the byte written before becomes the "previous" one. */
		for (unsigned u = 0; u < 2; u++) {
			ch->unit[u].prev[reg] = ch->unit[u].cur[reg];
			ch->unit[u].cur[reg] = value;
		}
		break;
	}
}

static int command_block_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct ide_channel *ch = opaque;
	uint32_t value = offset == REG_DATA ? data_read(ch, len) : register_read(ch, offset);
	u64_to_bytes(value, data, len);
	return 0;
}

static int command_block_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct ide_channel *ch = opaque;
	uint32_t value = bytes_to_u64(data, len);
	if (offset == REG_DATA)
		data_write(ch, value, len);
	else
		register_write(ch, offset, value);
	return 0;
}

/* SRST: while set, both drives are busy and every transfer stops; when cleared, each shows
 * its signature and device 0 is selected. */
static void control_write(struct ide_channel *ch, uint8_t value)
{
	bool was_reset = ch->control & IDE_CTL_SRST;
	ch->control = value;
	if ((value & IDE_CTL_SRST) && !was_reset) {
		ch->phase = IDE_IDLE;
		for (unsigned u = 0; u < 2; u++) {
			ch->unit[u].irq_pending = false;
			if (ch->drive[u].present)
				ch->unit[u].status = ATA_STATUS_BSY;
		}
	} else if (!(value & IDE_CTL_SRST) && was_reset) {
		ch->device = 0;
		for (unsigned u = 0; u < 2; u++)
			if (ch->drive[u].present)
				show_signature(ch, u);
	}
	update_irq(ch);
}

static int control_block_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct ide_channel *ch = opaque;
	unsigned u = selected(ch);
	(void)offset;
	/* Alternate status: the same bits, without acknowledging the interrupt. */
	u64_to_bytes(ch->drive[u].present ? ch->unit[u].status : 0, data, len);
	return 0;
}

static int control_block_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	(void)offset, (void)len;
	control_write(opaque, data[0]);
	return 0;
}

static const struct bus_ops command_block_ops = { command_block_read, command_block_write };
static const struct bus_ops control_block_ops = { control_block_read, control_block_write };

/* ---- the bus master registers (BAR4) ----------------------------------------------------- */

static void bm_command_write(struct ide_channel *ch, uint8_t value)
{
	bool was_started = ch->bm_command & IDE_BM_CMD_START;
	ch->bm_command = value & (IDE_BM_CMD_START | IDE_BM_CMD_TO_MEM);
	if (!(value & IDE_BM_CMD_START)) {
		ch->bm_status &= ~IDE_BM_ACTIVE;   /* stop (after a transfer: acknowledge it) */
		return;
	}
	if (was_started)
		return;
	ch->bm_status |= IDE_BM_ACTIVE;
	if (ch->phase == IDE_DMA_WAIT)
		run_dma(ch);
}

static uint8_t bm_read_byte(struct ide_controller *ide, unsigned offset)
{
	struct ide_channel *ch = &ide->channel[(offset >> 3) & 1];
	switch (offset & 7) {
	case 0: return ch->bm_command;
	case 2: return ch->bm_status;
	case 4: case 5: case 6: case 7:
		return ch->bm_prd_table >> (8 * ((offset & 7) - 4));
	}
	return 0;
}

static void bm_write_byte(struct ide_controller *ide, unsigned offset, uint8_t value)
{
	struct ide_channel *ch = &ide->channel[(offset >> 3) & 1];
	unsigned reg = offset & 7;
	switch (reg) {
	case 0:
		bm_command_write(ch, value);
		break;
	case 2:
		/* Error and interrupt: write 1 to clear. Drive-DMA-capable bits: plain storage. */
		ch->bm_status = (ch->bm_status & IDE_BM_ACTIVE) |
				(ch->bm_status & (IDE_BM_ERROR | IDE_BM_INTERRUPT) & ~value) |
				(value & IDE_BM_DRIVE_DMA);
		break;
	case 4: case 5: case 6: case 7: {
		unsigned shift = 8 * (reg - 4);
		ch->bm_prd_table &= ~(0xffu << shift);
		ch->bm_prd_table |= (uint32_t)value << shift;
		ch->bm_prd_table &= ~3u;   /* dword aligned */
		break;
	}
	}
}

static int bm_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		data[i] = bm_read_byte(opaque, offset + i);
	return 0;
}

static int bm_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		bm_write_byte(opaque, offset + i, data[i]);
	return 0;
}

static const struct bus_ops bm_ops = { bm_read, bm_write };

/* ---- PCI and putting it together ------------------------------------------------------------ */

/* The PIIX3's timing registers (0x40-0x4f): kept, and without effect on an emulated cable. */
static void piix_specific_write(struct pci_device *dev, unsigned offset, uint32_t value,
				unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		if (offset + i < PIIX_SPECIFIC_END)
			dev->config.bytes[offset + i] = value >> (8 * i);
}

static int init_channel(struct ide_controller *ide, unsigned c, int vm_fd,
			struct block_dev *const drives[IDE_MAX_DRIVES],
			const enum ata_media media[IDE_MAX_DRIVES])
{
	struct ide_channel *ch = &ide->channel[c];
	ch->name = c ? "ide1" : "ide0";
	ch->mem = ide->mem;
	ch->pci_config = &ide->pci.config;
	ch->buf = calloc(1, IDE_BUF_SIZE);
	if (!ch->buf)
		return -ENOMEM;
	for (unsigned u = 0; u < 2; u++) {
		unsigned i = c * 2 + u;
		snprintf(ch->drive_name[u], sizeof(ch->drive_name[u]), "%s-%s%u", ch->name,
			 media[i] == ATA_MEDIA_CDROM ? "cd" : "hd", u);
		ata_drive_init(&ch->drive[u], drives[i], media[i], ch->drive_name[u]);
		if (ch->drive[u].present) {
			show_signature(ch, u);
			ch->bm_status |= 0x20 << u;   /* "drive u can DMA", as a BIOS leaves it */
		}
	}
	irq_line_init(&ch->irq, vm_fd, c ? IDE_SECONDARY_IRQ : IDE_PRIMARY_IRQ);
	return 0;
}

static int attach_fail(struct ide_controller *ide, int err, char *why, size_t why_len,
		       const char *what)
{
	snprintf(why, why_len, "PIIX3 IDE: %s", what);
	ide_detach(ide);
	return err;
}

int ide_attach(struct ide_controller *ide, struct io_bus *bus, struct pci_host *pci,
	       const struct guest_memory *mem, int vm_fd, unsigned slot, unsigned fn,
	       struct block_dev *const drives[IDE_MAX_DRIVES],
	       const enum ata_media media[IDE_MAX_DRIVES], char *why, size_t why_len)
{
	static const uint16_t ports[2][2] = {
		{ IDE_PRIMARY_PORT, IDE_PRIMARY_CONTROL },
		{ IDE_SECONDARY_PORT, IDE_SECONDARY_CONTROL },
	};
	memset(ide, 0, sizeof(*ide));
	ide->mem = mem;

	struct pci_config *c = &ide->pci.config;
	/* 8086:7010, mass storage / IDE, prog-if 0x80: both channels in compatibility mode,
	 * bus master capable. Compatibility mode uses ISA IRQs: no interrupt pin. */
	pci_config_init(c, 0x8086, 0x7010, 0x010180, 0);
	pci_config_add_io_bar(c, 4, 0, IDE_BM_PORTS);   /* firmware assigns it */
	c->bytes[PIIX_IDETIM + 1] = PIIX_IDETIM_IDE;
	c->bytes[PIIX_IDETIM + 3] = PIIX_IDETIM_IDE;
	ide->pci.name = "piix3-ide";
	ide->pci.owner = ide;
	ide->pci.specific_write = piix_specific_write;

	for (unsigned ch = 0; ch < 2; ch++) {
		if (init_channel(ide, ch, vm_fd, drives, media))
			return attach_fail(ide, -ENOMEM, why, why_len, "out of memory");
		if (!bus_register(bus, BUS_PIO, ports[ch][0], 8, &command_block_ops,
				  &ide->channel[ch], ide->channel[ch].name) ||
		    !bus_register(bus, BUS_PIO, ports[ch][1], 1, &control_block_ops,
				  &ide->channel[ch], ide->channel[ch].name))
			return attach_fail(ide, -EBUSY, why, why_len,
					   "its legacy ports are taken (or the bus is full)");
	}
	/* BAR4 starts switched off; the range follows the BAR once firmware assigns it. */
	ide->bm_range = bus_register(bus, BUS_PIO, BM_PARKING_PORT, IDE_BM_PORTS, &bm_ops, ide,
				     "piix3-ide-bm");
	if (!ide->bm_range)
		return attach_fail(ide, -EBUSY, why, why_len, "the I/O bus is full");
	bus_move(ide->bm_range, 0, false);
	ide->pci.bar_range[4] = ide->bm_range;
	int err = pci_host_place(pci, &ide->pci, slot, fn);
	if (err)
		return attach_fail(ide, err, why, why_len, "its PCI slot is taken");
	return 0;
}

void ide_detach(struct ide_controller *ide)
{
	for (unsigned c = 0; c < 2; c++) {
		free(ide->channel[c].buf);
		ide->channel[c].buf = NULL;
	}
}
