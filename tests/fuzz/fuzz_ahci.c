/*
 * fuzz_ahci.c - stage 5's ICH9 AHCI controller (storage/ahci.c) with a disk and a CD-ROM:
 * HBA and port registers, command lists, command tables, FISes, PRDTs and the ATA/ATAPI
 * commands behind them, all from guest RAM the fuzzer writes.
 *
 * Teaches: one doorbell write makes the device read three levels of guest pointers (command
 * header, command table, PRD entries); each level's address and length is guest data.
 */
#include <stdlib.h>

#include "block/block.h"
#include "fuzz_disks.h"
#include "fuzz_ops.h"
#include "storage/ahci.h"

#define RAM_SIZE (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_disks disks;
	static struct ahci_controller ahci;
	static struct io_bus bus;
	static struct pci_host pci;
	struct fuzz_input in = { data, size };
	char why[256];

	if (!disks.disk)
		fuzz_disks_open(&disks, "ahci");
	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	bus_init(&bus);
	if (pci_host_attach(&pci, &bus, -1))   /* 0xcf8: the guest may move BARs */
		abort();
	struct block_dev *drives[AHCI_MAX_PORTS] = { disks.disk, NULL, disks.cd };
	enum ata_media media[AHCI_MAX_PORTS] = { ATA_MEDIA_DISK, ATA_MEDIA_DISK, ATA_MEDIA_CDROM };
	if (ahci_attach(&ahci, &bus, &pci, mem, -1, 31, 2, 23, drives, media, why, sizeof(why)))
		abort();
	fuzz_pci_firmware(&pci);
	fuzz_ops_run(&bus, mem, &in, NULL, NULL, 4096);
	fuzz_ram_free(mem);
	return 0;
}
