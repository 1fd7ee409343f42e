/*
 * fuzz_ide.c - stage 5's PIIX3 IDE controller (storage/ide.c) with a disk and a CD-ROM: the
 * task-file ports of both channels, PIO data, ATAPI packets, the bus-master registers and
 * the PRD tables they point at in guest RAM.
 *
 * Teaches: a PRD table is a list the guest ends with one bit; without that bit, or with entries
 * outside RAM, the device must stop at the table's own limit, not at the guest's word.
 */
#include <stdlib.h>

#include "fuzz_disks.h"
#include "fuzz_ops.h"
#include "storage/ide.h"

#define RAM_SIZE (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_disks disks;
	static struct ide_controller ide;
	static struct io_bus bus;
	static struct pci_host pci;
	struct fuzz_input in = { data, size };
	char why[256];

	if (!disks.disk)
		fuzz_disks_open(&disks, "ide");
	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	bus_init(&bus);
	if (pci_host_attach(&pci, &bus, -1))   /* 0xcf8: the guest may move BARs */
		abort();
	struct block_dev *drives[IDE_MAX_DRIVES] = { disks.disk, NULL, disks.cd, NULL };
	enum ata_media media[IDE_MAX_DRIVES] = { ATA_MEDIA_DISK, ATA_MEDIA_DISK, ATA_MEDIA_CDROM,
						 ATA_MEDIA_DISK };
	if (ide_attach(&ide, &bus, &pci, mem, -1, 1, 1, drives, media, why, sizeof(why)))
		abort();
	fuzz_pci_firmware(&pci);
	fuzz_ops_run(&bus, mem, &in, NULL, NULL, 4096);
	ide_detach(&ide);
	fuzz_ram_free(mem);
	return 0;
}
