/*
 * ahci.h - the ICH9 AHCI SATA controller (machine q35, 00:1f.2): six ports, one drive each.
 *
 * AHCI (Serial ATA Advanced Host Controller Interface 1.3.1) replaced IDE's I/O ports with
 * data structures in guest RAM. The controller's registers (the "ABAR", BAR5, memory) say
 * where those structures are; the drive's command core is ata.h, the same as IDE's.
 *
 *   ABAR + 0x000  generic host control: CAP, GHC (reset, interrupt enable), IS (which ports
 *                 interrupt), PI (which ports exist), VS (version)
 *   ABAR + 0x100 + port * 0x80   one register set per port: where its command list (CLB) and
 *                 received-FIS area (FB) are, its interrupt status (IS) and enables (IE),
 *                 CMD (ST: process commands, FRE: post FISes), TFD (the drive's status and
 *                 error), SIG (what kind of drive), the SATA link (SSTS, SCTL, SERR), and CI:
 *                 one bit per command slot the guest hands to the controller
 *
 *   command list (CLB, 32 slots of 32 bytes)  a header per slot: FIS length, ATAPI bit, write
 *                 bit, PRDT length, and where the command table is (CTBA)
 *   command table (CTBA)  +0x00 the command FIS (a Register Host-to-Device FIS: the task file),
 *                 +0x40 the 12-byte ATAPI CDB, +0x80 the PRDT: address/length pairs of the data
 *   received FIS area (FB, 256 bytes)  where the controller writes what the drive answers:
 *                 +0x20 the PIO Setup FIS, +0x40 the Device-to-Host Register FIS
 *
 * Commands run synchronously: the write to CI reads the slot, runs it through ata.h, writes
 * the answer FIS, clears the CI bit and raises the interrupt before the guest's store returns.
 *
 * CONTRACT with board/pc.c (the lead wires it): ahci_attach() below; the rest is ahci.c's own.
 */
#ifndef AHCI_H
#define AHCI_H

#include "ata.h"
#include "bus.h"
#include "guest_memory.h"
#include "guest_error.h"
#include "pci.h"

#define AHCI_MAX_PORTS 6
#define AHCI_ABAR_BAR  5
#define AHCI_ABAR_SIZE 0x1000u

/* One port's registers, as the guest reads them (the ones that hold state). */
struct ahci_port_regs {
	uint32_t clb, clbu;      /* command list base (1 KiB aligned) */
	uint32_t fb, fbu;        /* received FIS base (256 bytes aligned) */
	uint32_t is, ie;         /* interrupt status (write 1 to clear), enables */
	uint32_t cmd;            /* command and status: ST, FRE, CLO, ... and CR/FR that follow */
	uint32_t tfd;            /* task file data: error << 8 | status */
	uint32_t sig;            /* the drive's signature after its last reset */
	uint32_t sctl, serr;     /* SATA control (DET=1: COMRESET), SATA error (W1C) */
	uint32_t sact, ci;       /* SATA active, command issue: one bit per slot */
};

struct ahci_port {
	struct ahci_port_regs r;
	struct ata_drive drive;
	bool srst;               /* a control FIS set SRST: the one that clears it resets */
	struct guest_errors errors; /* one stderr line per guest mistake, up to a limit */
	char name[8];            /* "ahci.3": the drive's name in messages */
};

/* The controller's state (plain data, but for the guest memory pointer). */
struct ahci_controller {
	struct pci_device pci;
	uint32_t ghc;            /* global host control: AE, IE */
	uint32_t is;             /* which ports have an enabled interrupt pending (W1C) */
	struct ahci_port ports[AHCI_MAX_PORTS];
	const struct guest_memory *mem;
};

/*
 * Put the controller at slot.fn of pci (ABAR: BAR5, 4 KiB of MMIO; INTA# drives GSI gsi,
 * level-triggered), with drives[i] (NULL: none) of media media[i] on port i.
 * 0, or a negative errno with one line in why.
 */
int ahci_attach(struct ahci_controller *ahci, struct io_bus *bus, struct pci_host *pci,
		const struct guest_memory *mem, int vm_fd, unsigned slot, unsigned fn,
		unsigned gsi, struct block_dev *const drives[AHCI_MAX_PORTS],
		const enum ata_media media[AHCI_MAX_PORTS], char *why, size_t why_len);

#endif
