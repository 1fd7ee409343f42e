/*
 * ahci.c - the ICH9 AHCI controller: registers, command slots, FISes, PRDTs. See ahci.h.
 *
 * What this file teaches: a DMA controller whose whole interface is data structures in guest
 * memory. The guest writes a command table, sets one bit in a register, and reads the answer
 * from another structure; the device model walks guest pointers it has no reason to trust.
 * Every address it follows goes through gpa_to_hva() first, and a bad one becomes an error
 * status for the guest (PxIS.HBFS or TFES) plus one line on stderr, never a crash.
 *
 * Reference: Serial ATA AHCI 1.3.1 (registers: chapter 3, structures: chapter 4, FIS layouts:
 * SATA 2.6 section 10.3). The drive's commands are ata.c's and atapi.c's.
 */
#include "ahci.h"
#include "guest_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- register layout (AHCI 1.3.1 chapter 3) ---------------------------------------- */

#define HBA_CAP     0x00
#define HBA_GHC     0x04
#define HBA_IS      0x08
#define HBA_PI      0x0c
#define HBA_VS      0x10
#define HBA_CAP2    0x24
#define PORT_BASE   0x100
#define PORT_STRIDE 0x80

#define PX_CLB   0x00
#define PX_CLBU  0x04
#define PX_FB    0x08
#define PX_FBU   0x0c
#define PX_IS    0x10
#define PX_IE    0x14
#define PX_CMD   0x18
#define PX_TFD   0x20
#define PX_SIG   0x24
#define PX_SSTS  0x28
#define PX_SCTL  0x2c
#define PX_SERR  0x30
#define PX_SACT  0x34
#define PX_CI    0x38

#define AHCI_SLOTS 32

/* CAP: NP (ports - 1), NCS (slots - 1), SAM (AHCI only), ISS Gen1, SCLO, S64A. No NCQ:
 * Linux then sends one command at a time, which is all a synchronous model needs. */
#define CAP_SAM   (1u << 18)
#define CAP_ISS_GEN1 (1u << 20)
#define CAP_SCLO  (1u << 24)
#define CAP_S64A  (1u << 31)
#define HBA_CAP_VALUE ((AHCI_MAX_PORTS - 1) | (AHCI_SLOTS - 1) << 8 | CAP_SAM | CAP_ISS_GEN1 | \
		       CAP_SCLO | CAP_S64A)
#define HBA_PI_VALUE ((1u << AHCI_MAX_PORTS) - 1)
#define HBA_VS_VALUE 0x00010000u      /* AHCI 1.0, as the ICH9 reports */

#define GHC_HR (1u << 0)
#define GHC_IE (1u << 1)
#define GHC_AE (1u << 31)             /* read-only 1: CAP.SAM says there is no legacy mode */

#define PXIS_DHRS (1u << 0)           /* a D2H Register FIS arrived */
#define PXIS_PSS  (1u << 1)           /* a PIO Setup FIS arrived */
#define PXIS_DPS  (1u << 5)           /* a PRD with the I bit was done */
#define PXIS_HBDS (1u << 28)          /* host bus data error: a PRD pointed outside RAM */
#define PXIS_HBFS (1u << 29)          /* host bus fatal error: a structure outside RAM */
#define PXIS_TFES (1u << 30)          /* task file error: the drive answered ERR */
#define PXIS_VALID 0xfdc000ffu
#define PXIE_VALID PXIS_VALID

#define PXCMD_ST   (1u << 0)
#define PXCMD_SUD  (1u << 1)          /* read-only 1: no staggered spin-up */
#define PXCMD_POD  (1u << 2)          /* read-only 1: no cold presence detection */
#define PXCMD_CLO  (1u << 3)
#define PXCMD_FRE  (1u << 4)
#define PXCMD_CCS_SHIFT 8
#define PXCMD_FR   (1u << 14)
#define PXCMD_CR   (1u << 15)
/* Bits the guest may set and read back: ST, FRE, PMA, ATAPI, DLAE, ALPE, ASP. */
#define PXCMD_WRITABLE (PXCMD_ST | PXCMD_FRE | (1u << 17) | (0xfu << 24))

#define SCTL_DET_MASK   0xfu
#define SCTL_DET_COMRESET 1u
#define SCTL_DET_OFFLINE  4u
#define SCTL_WRITABLE   0x000fffffu
/* SSTS with a drive: DET 3 (device present, link up), SPD 1 (Gen1), IPM 1 (active). */
#define SSTS_LINK_UP    0x113u

#define TFD_NO_DEVICE   0x7fu
#define SIG_NO_DEVICE   0xffffffffu

/* ---- guest structures (AHCI 1.3.1 chapter 4) ------------------------------------------ */

#define CMD_HEADER_SIZE 32
#define HDR_CFL_MASK    0x1fu         /* command FIS length in dwords */
#define HDR_PRDTL_SHIFT 16
#define CT_CFIS         0x00
#define CT_ACMD         0x40
#define CT_PRDT         0x80
#define PRD_SIZE        16
#define PRD_DBC_MASK    0x3fffffu     /* byte count - 1 */
#define PRD_INTERRUPT   (1u << 31)

#define RFIS_PIO_SETUP  0x20
#define RFIS_D2H        0x40

/* FIS types and the Register H2D FIS's fields (SATA 2.6 section 10.3.4). */
#define FIS_REG_H2D     0x27
#define FIS_REG_D2H     0x34
#define FIS_PIO_SETUP   0x5f
#define FIS_H2D_COMMAND 0x80          /* byte 1: C, a command (else a device control update) */
#define FIS_INTERRUPT   0x40          /* byte 1: I */
#define FIS_PIO_TO_HOST 0x20          /* PIO Setup byte 1: D, data goes to the host */
#define CONTROL_SRST    0x04
#define ATA_CMD_PACKET  0xa0
#define CFIS_MIN_DWORDS 5             /* a Register H2D FIS is 20 bytes */
#define CFIS_MAX_DWORDS 16

#define MAX_ERROR_LINES 20

static uint32_t get32(const uint8_t *p)
{
	return bytes_to_u64(p, 4);
}

static uint64_t join64(uint32_t low, uint32_t high)
{
	return (uint64_t)high << 32 | low;
}

/* One line on stderr per guest mistake, so a looping guest cannot flood the log. */
__attribute__((format(printf, 2, 3)))
static void port_error(struct ahci_port *port, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	guest_verror(&port->errors, "ahci: port", port->name, fmt, ap);
	va_end(ap);
}

/* ---- the interrupt ---------------------------------------------------------------------- */

/*
 * GHC IS latches the ports with an enabled cause pending; INTA# is high while any is latched
 * and GHC.IE is set. PCI's INTx Disable bit is honoured here: pci.c has no hook for COMMAND
 * writes, so the line is re-evaluated on every register access.
 */
static void update_irq(struct ahci_controller *a)
{
	for (unsigned p = 0; p < AHCI_MAX_PORTS; p++)
		if (a->ports[p].r.is & a->ports[p].r.ie)
			a->is |= 1u << p;
	uint8_t *cfg = a->pci.config.bytes;
	bool pending = (a->ghc & GHC_IE) && a->is;
	bool disabled = bytes_to_u64(cfg + PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
	/* PCI status bit 3, Interrupt Status, shows the cause even while INTx is disabled. */
	cfg[PCI_STATUS] = (cfg[PCI_STATUS] & ~0x08) | (pending ? 0x08 : 0);
	irq_line_set(&a->pci.irq, pending && !disabled);
}

/* ---- port reset and signature ------------------------------------------------------------ */

/* The Device-to-Host Register FIS: the drive's status, error and task file. */
static void make_d2h_fis(uint8_t fis[20], const struct ata_taskfile *tf)
{
	memset(fis, 0, 20);
	fis[0] = FIS_REG_D2H;
	fis[1] = FIS_INTERRUPT;
	fis[2] = tf->status;
	fis[3] = tf->error;
	for (int i = 0; i < 3; i++) {
		fis[4 + i] = tf->lba >> (8 * i);
		fis[8 + i] = tf->lba >> (8 * (i + 3));
	}
	fis[7] = tf->device;
	fis[12] = tf->count;
	fis[13] = tf->count >> 8;
}

/* Write a FIS into the port's received-FIS area, when FRE lets the port post FISes. */
static bool post_fis(struct ahci_controller *a, struct ahci_port *port, unsigned offset,
		     const uint8_t *fis, unsigned len)
{
	if (!(port->r.cmd & PXCMD_FRE))
		return true;
	uint64_t fb = join64(port->r.fb, port->r.fbu);
	uint8_t *area = gpa_to_hva(a->mem, fb + offset, len);
	if (!area) {
		port_error(port, "received-FIS area at %#llx is outside RAM",
			   (unsigned long long)fb);
		port->r.is |= PXIS_HBFS;
		return false;
	}
	memcpy(area, fis, len);
	return true;
}

static void set_task_file_data(struct ahci_port *port, const struct ata_taskfile *tf)
{
	port->r.tfd = (uint32_t)tf->error << 8 | tf->status;
}

/*
 * The drive after a COMRESET or a software reset: it sends a D2H FIS with its signature
 * (count, lba low/mid/high), which the port copies into SIG. post: send that FIS now (a
 * power-on reset has no FIS area yet).
 */
static void drive_reset(struct ahci_controller *a, struct ahci_port *port, bool post)
{
	if (!port->drive.present) {
		port->r.tfd = TFD_NO_DEVICE;
		port->r.sig = SIG_NO_DEVICE;
		return;
	}
	struct ata_taskfile tf = { 0 };
	ata_signature(&port->drive, &tf);
	port->r.sig = (uint32_t)(tf.lba & 0xffffff) << 8 | (tf.count & 0xff);
	set_task_file_data(port, &tf);
	port->srst = false;
	if (post) {
		uint8_t fis[20];
		make_d2h_fis(fis, &tf);
		if (post_fis(a, port, RFIS_D2H, fis, sizeof(fis)) && (port->r.cmd & PXCMD_FRE))
			port->r.is |= PXIS_DHRS;
	}
}

/* Power-on values of a port (and after GHC.HR): everything off, the drive's signature. */
static void port_power_on(struct ahci_controller *a, struct ahci_port *port)
{
	memset(&port->r, 0, sizeof(port->r));
	port->r.cmd = PXCMD_SUD | PXCMD_POD;
	port->errors.reported = 0;
	drive_reset(a, port, false);
}

static void hba_reset(struct ahci_controller *a)
{
	a->ghc = GHC_AE;
	a->is = 0;
	for (unsigned p = 0; p < AHCI_MAX_PORTS; p++)
		port_power_on(a, &a->ports[p]);
}

/* ---- the PRDT as an ata_sg ---------------------------------------------------------------- */

/* Where a command's data transfer stands in its PRDT. */
struct prdt_walk {
	struct ahci_controller *a;
	struct ahci_port *port;
	uint64_t table;          /* guest address of entry 0 (checked to be in RAM) */
	uint32_t entries, index; /* PRDTL, and the entry being used */
	uint32_t offset;         /* bytes of entry index already moved */
	uint32_t moved;          /* PRDBC */
	bool interrupt;          /* an entry with the I bit was finished: PxIS.DPS */
	bool to_host, to_device; /* which way data went (the PIO Setup FIS's D bit) */
	bool outside_ram, too_short;
};

static bool prdt_move(struct prdt_walk *w, uint8_t *buf, size_t len, bool to_guest)
{
	while (len) {
		if (w->index >= w->entries) {
			w->too_short = true;
			return false;
		}
		const uint8_t *prd = gpa_to_hva(w->a->mem, w->table + (uint64_t)w->index * PRD_SIZE,
						PRD_SIZE);
		uint64_t dba = join64(get32(prd), get32(prd + 4)) & ~1ull;   /* word aligned */
		uint32_t dw3 = get32(prd + 12);
		uint32_t size = (dw3 & PRD_DBC_MASK) + 1;
		size_t chunk = size - w->offset < len ? size - w->offset : len;
		uint8_t *hva = gpa_to_hva(w->a->mem, dba + w->offset, chunk);
		if (!hva) {
			port_error(w->port, "PRDT entry %u: %u bytes at %#llx are outside RAM",
				   w->index, size, (unsigned long long)dba);
			w->outside_ram = true;
			return false;
		}
		if (to_guest)
			memcpy(hva, buf, chunk);
		else
			memcpy(buf, hva, chunk);
		buf += chunk;
		len -= chunk;
		w->moved += chunk;
		w->offset += chunk;
		if (w->offset == size) {
			w->interrupt |= (dw3 & PRD_INTERRUPT) != 0;
			w->index++;
			w->offset = 0;
		}
	}
	return true;
}

static bool prdt_to_guest(void *opaque, const void *buf, size_t len)
{
	struct prdt_walk *w = opaque;
	w->to_host = true;
	return prdt_move(w, (uint8_t *)buf, len, true);
}

static bool prdt_from_guest(void *opaque, void *buf, size_t len)
{
	struct prdt_walk *w = opaque;
	w->to_device = true;
	return prdt_move(w, buf, len, false);
}

/* All the bytes the PRDT can hold: the most an ATAPI command may send (ATAPI's byte count
 * limit, for this transport). */
static uint32_t prdt_capacity(const struct prdt_walk *w)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < w->entries; i++) {
		const uint8_t *prd = gpa_to_hva(w->a->mem, w->table + (uint64_t)i * PRD_SIZE,
						PRD_SIZE);
		total += (get32(prd + 12) & PRD_DBC_MASK) + 1;
	}
	return total > UINT32_MAX ? UINT32_MAX : total;
}

/* ---- running one command slot ------------------------------------------------------------- */

/*
 * The task file a Register H2D FIS carries. An LBA48 command has six LBA bytes (the "HOB"
 * ones at 8-10); a 28-bit one has three, and bits 27:24 in the device register, as on IDE.
 */
static void taskfile_from_fis(struct ata_taskfile *tf, const uint8_t *cfis)
{
	memset(tf, 0, sizeof(*tf));
	tf->command = cfis[2];
	tf->features = cfis[3] | cfis[11] << 8;
	tf->device = cfis[7];
	tf->count = cfis[12] | cfis[13] << 8;
	for (int i = 0; i < 3; i++)
		tf->lba |= (uint64_t)cfis[4 + i] << (8 * i);
	if (ata_command_is_lba48(tf->command)) {
		for (int i = 0; i < 3; i++)
			tf->lba |= (uint64_t)cfis[8 + i] << (8 * (i + 3));
	} else {
		tf->lba |= (uint64_t)(tf->device & 0xf) << 24;
	}
}

/* How a slot ended: done (its CI bit clears), failed (stop processing until ST is cleared). */
enum slot_result { SLOT_DONE, SLOT_FAILED };

/* A structure the HBA must fetch is not in RAM: a host bus fatal error. */
static enum slot_result slot_fatal(struct ahci_port *port)
{
	struct ata_taskfile tf = { 0 };
	ata_abort(&tf);
	set_task_file_data(port, &tf);
	port->r.is |= PXIS_HBFS;
	return SLOT_FAILED;
}

/* A command the drive answered: post the FISes, TFD and the interrupt causes. */
static enum slot_result slot_finish(struct ahci_controller *a, struct ahci_port *port,
				    const struct ata_taskfile *tf, const struct prdt_walk *w,
				    bool pio)
{
	uint8_t fis[20];
	bool failed = tf->status & ATA_STATUS_ERR;
	if (pio && w->moved && !failed) {
		/* Linux and SeaBIOS take a PIO data-in command's status from this FIS. */
		make_d2h_fis(fis, tf);
		fis[0] = FIS_PIO_SETUP;
		fis[1] = FIS_INTERRUPT | (w->to_host ? FIS_PIO_TO_HOST : 0);
		fis[15] = tf->status;                      /* E_Status: the status at the end */
		fis[16] = w->moved;
		fis[17] = w->moved >> 8;
		if (post_fis(a, port, RFIS_PIO_SETUP, fis, sizeof(fis)) &&
		    (port->r.cmd & PXCMD_FRE))
			port->r.is |= PXIS_PSS;
	}
	make_d2h_fis(fis, tf);
	if (post_fis(a, port, RFIS_D2H, fis, sizeof(fis)) && (port->r.cmd & PXCMD_FRE))
		port->r.is |= PXIS_DHRS;
	set_task_file_data(port, tf);
	if (w->interrupt)
		port->r.is |= PXIS_DPS;
	if (w->outside_ram)
		port->r.is |= PXIS_HBDS;
	if (failed)
		port->r.is |= PXIS_TFES;
	return failed || (port->r.is & PXIS_HBFS) ? SLOT_FAILED : SLOT_DONE;
}

/* A Register H2D FIS without the C bit: a write to the device control register (SRST). */
static enum slot_result run_control_fis(struct ahci_controller *a, struct ahci_port *port,
					const uint8_t *cfis)
{
	if (cfis[15] & CONTROL_SRST) {
		port->srst = true;
		port->r.tfd = ATA_STATUS_BSY;
	} else if (port->srst) {
		drive_reset(a, port, true);    /* the drive answers SRST's end with its signature */
	}
	return SLOT_DONE;
}

static enum slot_result run_command(struct ahci_controller *a, struct ahci_port *port,
				    const uint8_t *cfis, struct prdt_walk *w)
{
	struct ata_taskfile tf;
	struct ata_command_info info;
	struct ata_sg sg = { prdt_to_guest, prdt_from_guest, w };

	taskfile_from_fis(&tf, cfis);
	if (!ata_command_info(&port->drive, &tf, &info)) {
		ata_abort(&tf);        /* an unknown command: normal, drivers probe */
		return slot_finish(a, port, &tf, w, false);
	}
	if (info.packet) {
		uint8_t cdb[12];
		memcpy(cdb, cfis + CT_ACMD, sizeof(cdb));
		atapi_execute(&port->drive, cdb, &tf, &sg, prdt_capacity(w));
	} else {
		ata_execute(&port->drive, &tf, &sg);
	}
	if (w->too_short)
		port_error(port, "command %#x: the PRDT (%u entries) is shorter than the data",
			   tf.command, w->entries);
	return slot_finish(a, port, &tf, w, !info.dma);
}

/* Fetch slot's header and command table, check them, and run the command. */
static enum slot_result run_slot(struct ahci_controller *a, struct ahci_port *port,
				 unsigned slot)
{
	uint64_t clb = join64(port->r.clb, port->r.clbu);
	uint8_t *header = gpa_to_hva(a->mem, clb + slot * CMD_HEADER_SIZE, CMD_HEADER_SIZE);
	if (!header) {
		port_error(port, "slot %u: command list at %#llx is outside RAM", slot,
			   (unsigned long long)clb);
		return slot_fatal(port);
	}
	uint32_t dw0 = get32(header);
	uint32_t cfl = dw0 & HDR_CFL_MASK, prdtl = dw0 >> HDR_PRDTL_SHIFT;
	uint64_t ctba = join64(get32(header + 8), get32(header + 12)) & ~0x7full;
	const uint8_t *table = gpa_to_hva(a->mem, ctba, CT_PRDT);
	if (!table || !gpa_to_hva(a->mem, ctba + CT_PRDT, (uint64_t)prdtl * PRD_SIZE)) {
		port_error(port, "slot %u: command table at %#llx (%u PRDT entries) is outside RAM",
			   slot, (unsigned long long)ctba, prdtl);
		return slot_fatal(port);
	}
	struct prdt_walk w = { .a = a, .port = port, .table = ctba + CT_PRDT, .entries = prdtl };
	enum slot_result result;
	if (cfl < CFIS_MIN_DWORDS || cfl > CFIS_MAX_DWORDS || table[CT_CFIS] != FIS_REG_H2D) {
		port_error(port, "slot %u: command FIS type %#x, length %u dwords: not a Register "
			   "H2D FIS", slot, table[CT_CFIS], cfl);
		struct ata_taskfile tf = { 0 };
		ata_abort(&tf);
		result = slot_finish(a, port, &tf, &w, false);
	} else if (!(table[CT_CFIS + 1] & FIS_H2D_COMMAND)) {
		result = run_control_fis(a, port, table);
	} else if (!port->drive.present) {
		port_error(port, "slot %u: command %#x to a port without a drive", slot, table[2]);
		struct ata_taskfile tf = { 0 };
		ata_abort(&tf);
		result = slot_finish(a, port, &tf, &w, false);
	} else {
		result = run_command(a, port, table, &w);
	}
	/* PRDBC: the bytes moved (the header was checked above; RAM does not move). */
	u64_to_bytes(w.moved, header + 4, 4);
	return result;
}

/* CI was written: run every issued slot, in order, until one fails. */
static void process_command_list(struct ahci_controller *a, struct ahci_port *port)
{
	if (!(port->r.cmd & PXCMD_ST))
		return;
	for (unsigned slot = 0; slot < AHCI_SLOTS; slot++) {
		uint32_t bit = 1u << slot;
		if (!(port->r.ci & bit))
			continue;
		port->r.cmd = (port->r.cmd & ~(0x1fu << PXCMD_CCS_SHIFT)) | slot << PXCMD_CCS_SHIFT;
		enum slot_result result = run_slot(a, port, slot);
		port->r.ci &= ~bit;
		port->r.sact &= ~bit;
		if (result == SLOT_FAILED)
			break;         /* the rest waits until software clears ST (AHCI 6.2.2.1) */
	}
}

/* ---- port registers ---------------------------------------------------------------------- */

static uint32_t port_ssts(const struct ahci_port *port)
{
	if (!port->drive.present)
		return 0;
	switch (port->r.sctl & SCTL_DET_MASK) {
	case SCTL_DET_COMRESET:
		return 1;              /* device detected, no link while COMRESET is asserted */
	case SCTL_DET_OFFLINE:
		return 4;
	default:
		return SSTS_LINK_UP;
	}
}

static uint32_t port_read(const struct ahci_port *port, unsigned reg)
{
	const struct ahci_port_regs *r = &port->r;
	switch (reg) {
	case PX_CLB: return r->clb;
	case PX_CLBU: return r->clbu;
	case PX_FB: return r->fb;
	case PX_FBU: return r->fbu;
	case PX_IS: return r->is;
	case PX_IE: return r->ie;
	case PX_CMD: return r->cmd;
	case PX_TFD: return r->tfd;
	case PX_SIG: return r->sig;
	case PX_SSTS: return port_ssts(port);
	case PX_SCTL: return r->sctl;
	case PX_SERR: return r->serr;
	case PX_SACT: return r->sact;
	case PX_CI: return r->ci;
	default: return 0;
	}
}

static void write_cmd(struct ahci_port *port, uint32_t value)
{
	struct ahci_port_regs *r = &port->r;
	uint32_t old = r->cmd;
	r->cmd = (old & ~PXCMD_WRITABLE) | (value & PXCMD_WRITABLE);
	/* The engines start and stop at once: CR follows ST, FR follows FRE. */
	r->cmd = (r->cmd & ~(PXCMD_CR | PXCMD_FR)) | (r->cmd & PXCMD_ST ? PXCMD_CR : 0) |
		 (r->cmd & PXCMD_FRE ? PXCMD_FR : 0);
	if (!(r->cmd & PXCMD_ST)) {
		/* Clearing ST abandons the issued commands (AHCI 3.3.7). */
		r->ci = 0;
		r->sact = 0;
		r->cmd &= ~(0x1fu << PXCMD_CCS_SHIFT);
	}
	if (value & PXCMD_CLO)      /* command list override: forget BSY and DRQ */
		r->tfd &= ~(uint32_t)(ATA_STATUS_BSY | ATA_STATUS_DRQ);
}

static void write_sctl(struct ahci_controller *a, struct ahci_port *port, uint32_t value)
{
	uint32_t old_det = port->r.sctl & SCTL_DET_MASK;
	port->r.sctl = value & SCTL_WRITABLE;
	/* COMRESET is asserted while DET is 1; the drive answers when it is released. */
	if (old_det == SCTL_DET_COMRESET && (value & SCTL_DET_MASK) == 0) {
		port->r.serr = 0;
		drive_reset(a, port, true);
	}
}

/* mask: the bytes of the dword the guest wrote (a narrower store leaves the others). */
static void port_write(struct ahci_controller *a, struct ahci_port *port, unsigned reg,
		       uint32_t value, uint32_t mask)
{
	struct ahci_port_regs *r = &port->r;
	uint32_t merged = (port_read(port, reg) & ~mask) | (value & mask);
	value &= mask;
	switch (reg) {
	case PX_CLB: r->clb = merged & ~0x3ffu; break;
	case PX_CLBU: r->clbu = merged; break;
	case PX_FB: r->fb = merged & ~0xffu; break;
	case PX_FBU: r->fbu = merged; break;
	case PX_IS: r->is &= ~value; break;
	case PX_IE: r->ie = merged & PXIE_VALID; break;
	case PX_CMD: write_cmd(port, merged); break;
	case PX_SCTL: write_sctl(a, port, merged); break;
	case PX_SERR: r->serr &= ~value; break;
	case PX_SACT:
		if (r->cmd & PXCMD_ST)
			r->sact |= value;
		break;
	case PX_CI:
		if (r->cmd & PXCMD_ST) {
			r->ci |= value;
			process_command_list(a, port);
		}
		break;
	default: break;        /* read-only: TFD, SIG, SSTS; reserved */
	}
}

/* ---- generic host control and the ABAR ---------------------------------------------------- */

static uint32_t hba_read(const struct ahci_controller *a, unsigned reg)
{
	switch (reg) {
	case HBA_CAP: return HBA_CAP_VALUE;
	case HBA_GHC: return a->ghc;
	case HBA_IS: return a->is;
	case HBA_PI: return HBA_PI_VALUE;
	case HBA_VS: return HBA_VS_VALUE;
	default: return 0;     /* CCC, enclosure management, CAP2, BOHC: none */
	}
}

static void hba_write(struct ahci_controller *a, unsigned reg, uint32_t value, uint32_t mask)
{
	value &= mask;
	switch (reg) {
	case HBA_GHC:
		if (value & GHC_HR) {
			hba_reset(a);  /* done at once: HR reads back 0 */
			break;
		}
		a->ghc = GHC_AE | (((a->ghc & ~mask) | value) & GHC_IE);
		break;
	case HBA_IS:
		a->is &= ~value;
		break;
	default: break;        /* CAP and PI are read-only here (no BIOS write-once) */
	}
}

static struct ahci_port *port_of(struct ahci_controller *a, unsigned dword, unsigned *reg)
{
	if (dword < PORT_BASE)
		return NULL;
	unsigned p = (dword - PORT_BASE) / PORT_STRIDE;
	*reg = (dword - PORT_BASE) % PORT_STRIDE;
	return p < AHCI_MAX_PORTS ? &a->ports[p] : NULL;
}

static uint32_t abar_read_dword(struct ahci_controller *a, unsigned dword)
{
	unsigned reg;
	struct ahci_port *port = port_of(a, dword, &reg);
	if (port)
		return port_read(port, reg);
	return dword < PORT_BASE ? hba_read(a, dword) : 0;
}

static void abar_write_dword(struct ahci_controller *a, unsigned dword, uint32_t value,
			     uint32_t mask)
{
	unsigned reg;
	struct ahci_port *port = port_of(a, dword, &reg);
	if (port)
		port_write(a, port, reg, value, mask);
	else if (dword < PORT_BASE)
		hba_write(a, dword, value, mask);
}

/* The bus hands us 1, 2, 4 or 8 bytes; registers are dwords. Split and merge. */
static int abar_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct ahci_controller *a = dev;
	for (unsigned done = 0; done < len;) {
		uint64_t at = offset + done;
		unsigned in = at & 3, n = len - done < 4 - in ? len - done : 4 - in;
		uint32_t value = at < AHCI_ABAR_SIZE ? abar_read_dword(a, at & ~3ull) : 0;
		u64_to_bytes(value >> (8 * in), data + done, n);
		done += n;
	}
	update_irq(a);
	return 0;
}

static int abar_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct ahci_controller *a = dev;
	for (unsigned done = 0; done < len;) {
		uint64_t at = offset + done;
		unsigned in = at & 3, n = len - done < 4 - in ? len - done : 4 - in;
		uint32_t value = bytes_to_u64(data + done, n) << (8 * in);
		uint32_t mask = (n == 4 ? 0xffffffffu : ((1u << (8 * n)) - 1)) << (8 * in);
		if (at < AHCI_ABAR_SIZE)
			abar_write_dword(a, at & ~3ull, value, mask);
		done += n;
	}
	update_irq(a);
	return 0;
}

static const struct bus_ops abar_ops = { abar_read, abar_write };

/* ---- PCI function ------------------------------------------------------------------------- */

#define INTEL_VENDOR_ID     0x8086
#define ICH9_AHCI_DEVICE_ID 0x2922
#define CLASS_SATA_AHCI     0x010601   /* mass storage, SATA, AHCI 1.0 programming interface */
#define ICH9_AHCI_REVISION  0x02
#define QEMU_SUBSYSTEM_VENDOR 0x1af4
#define QEMU_SUBSYSTEM_ID     0x1100
#define PCI_CAP_ID_SATA     0x12
#define ICH9_SATA_CAP_OFFSET 0xa8

/*
 * The Serial ATA capability (AHCI 1.3.1 section 2.2.2), where the ICH9 has it: revision 1.0,
 * BARLOC 0xf ("index/data pair in config space", which this model leaves unimplemented).
 */
static void add_sata_capability(struct pci_config *c)
{
	static const uint8_t cap[8] = { PCI_CAP_ID_SATA, 0, 0x10, 0, 0x0f, 0, 0, 0 };
	c->next_cap = ICH9_SATA_CAP_OFFSET;
	pci_config_add_capability(c, cap, sizeof(cap));
}

static void config_init(struct ahci_controller *a, unsigned slot, unsigned fn, unsigned gsi)
{
	struct pci_config *c = &a->pci.config;
	pci_config_init(c, INTEL_VENDOR_ID, ICH9_AHCI_DEVICE_ID, CLASS_SATA_AHCI,
			ICH9_AHCI_REVISION);
	u64_to_bytes(QEMU_SUBSYSTEM_VENDOR, c->bytes + PCI_SUBSYSTEM_VENDOR_ID, 2);
	u64_to_bytes(QEMU_SUBSYSTEM_ID, c->bytes + PCI_SUBSYSTEM_ID, 2);
	/* Pre-assigned as pci.c does for its slots; SeaBIOS moves it, the bus range follows. */
	uint32_t abar = PCI_MMIO_BASE + slot * PCI_MMIO_SLOT_SIZE + fn * AHCI_ABAR_SIZE;
	pci_config_add_bar(c, AHCI_ABAR_BAR, abar, AHCI_ABAR_SIZE);
	u64_to_bytes(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, c->bytes + PCI_COMMAND, 2);
	c->bytes[PCI_INTERRUPT_PIN] = 1;   /* INTA# */
	c->bytes[PCI_INTERRUPT_LINE] = gsi;
	add_sata_capability(c);
}

int ahci_attach(struct ahci_controller *ahci, struct io_bus *bus, struct pci_host *pci,
		const struct guest_memory *mem, int vm_fd, unsigned slot, unsigned fn,
		unsigned gsi, struct block_dev *const drives[AHCI_MAX_PORTS],
		const enum ata_media media[AHCI_MAX_PORTS], char *why, size_t why_len)
{
	memset(ahci, 0, sizeof(*ahci));
	ahci->mem = mem;
	config_init(ahci, slot, fn, gsi);
	ahci->pci.name = "ahci";
	ahci->pci.owner = ahci;
	irq_line_init(&ahci->pci.irq, vm_fd, gsi);
	for (unsigned p = 0; p < AHCI_MAX_PORTS; p++) {
		struct ahci_port *port = &ahci->ports[p];
		snprintf(port->name, sizeof(port->name), "ahci.%u", p);
		ata_drive_init(&port->drive, drives ? drives[p] : NULL,
			       media ? media[p] : ATA_MEDIA_DISK, port->name);
	}
	hba_reset(ahci);

	uint32_t abar = pci_bar_address(&ahci->pci.config, AHCI_ABAR_BAR);
	ahci->pci.bar_range[AHCI_ABAR_BAR] = bus_register(bus, BUS_MMIO, abar, AHCI_ABAR_SIZE,
							  &abar_ops, ahci, "ahci");
	if (!ahci->pci.bar_range[AHCI_ABAR_BAR]) {
		snprintf(why, why_len, "ahci: ABAR at %#x overlaps another device", abar);
		return -EBUSY;
	}
	int err = pci_host_place(pci, &ahci->pci, slot, fn);
	if (err) {
		snprintf(why, why_len, "ahci: PCI %02x.%x: %s", slot, fn,
			 err == -EBUSY ? "slot taken" : "no such slot");
		return err;
	}
	return 0;
}
