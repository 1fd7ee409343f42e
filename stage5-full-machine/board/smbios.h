/*
 * smbios.h - SMBIOS: the inventory of the machine that dmidecode and /sys/class/dmi show.
 *
 * SMBIOS (DMTF DSP0134, version 2.8 here) is a list of "structures", one per thing on the
 * board: the system itself (type 1: maker, product, UUID), the chassis (3), each processor
 * (4), the memory array (16), its memory devices (17) and the addresses it answers (19), the
 * boot status (32), then an end marker (127). Each structure is a formatted area (type,
 * length, handle, then fixed fields) followed by its strings, each NUL-terminated, the set
 * ending with one more NUL; a string field holds the string's number, 1 for the first, 0 for
 * none. A structure without strings still ends in two NULs.
 *
 * The OS finds the list through an entry point, "_SM_" (31 bytes), in the F segment. We do
 * not place anything: like QEMU, the VMM hands SeaBIOS two fw_cfg files,
 *   etc/smbios/smbios-anchor   the entry point, its table address left 0
 *   etc/smbios/smbios-tables   the structures; their size must equal the anchor's length
 * and SeaBIOS (src/fw/biostables.c) copies the tables into its memory, adds its own type 0
 * (BIOS information: "SeaBIOS", its version and date) in front because we give none, fixes
 * the anchor's address, count, largest size and both checksums, and puts it in the F segment.
 */
#ifndef SMBIOS_H
#define SMBIOS_H

#include <stdint.h>

#define SMBIOS_ANCHOR_SIZE 31
#define SMBIOS_MAX_CPUS    255       /* processor handles are 0x400 + index */

struct smbios_config {
	const char *product;         /* type 1's product name */
	uint8_t uuid[16];            /* in SMBIOS order: the first three fields little-endian */
	unsigned ncpus;
	uint64_t ram_size;
	uint64_t ram_above_4g;       /* the part of ram_size mapped from 4 GiB (0: none) */
};

/* Bytes of tables smbios_build() needs for ncpus processors, at most. */
uint32_t smbios_tables_max(unsigned ncpus);

/*
 * Pure (unit-tested): write the anchor and the structures into tables (size bytes).
 * Returns 0 and the tables' length in *len; -EINVAL for too many CPUs, -ENOSPC if size is
 * too small.
 */
int smbios_build(const struct smbios_config *c, uint8_t anchor[SMBIOS_ANCHOR_SIZE],
		 uint8_t *tables, uint32_t size, uint32_t *len);

/*
 * "01234567-89ab-cdef-0123-456789abcdef" (case-insensitive) to SMBIOS order. 0, or -EINVAL
 * when text is not a UUID.
 */
int smbios_parse_uuid(const char *text, uint8_t uuid[16]);

#endif
