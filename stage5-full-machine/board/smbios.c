/*
 * smbios.c - build the SMBIOS 2.8 structures and entry point SeaBIOS installs. See smbios.h.
 *
 * Reference: DMTF DSP0134 3.x (its tables give each field's offset and the version that added
 * it; we write every field up to version 2.8), SeaBIOS src/fw/biostables.c (what it does with
 * the two fw_cfg files). Multi-byte fields are little-endian, and unaligned: hence set16() etc.
 */
#include "smbios.h"

#include "acpi.h"
#include "bus.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define VENDOR "minivisor"

/* Handles: the type in the high byte, an index in the low one (only processors need it). */
#define HANDLE(type, index) ((uint16_t)((type) << 8 | (index)))
#define HANDLE_NONE        0xfffe    /* "not provided" (the error information handles) */
#define HANDLE_NO_CACHE    0xffff    /* type 4: no cache structure */

/* Lengths of the formatted areas in version 2.8. */
enum {
	LEN_SYSTEM = 0x1b, LEN_CHASSIS = 0x16, LEN_PROCESSOR = 0x2a, LEN_MEMORY_ARRAY = 0x17,
	LEN_MEMORY_DEVICE = 0x28, LEN_MAPPED_ADDRESS = 0x1f, LEN_BOOT = 0x0b, LEN_END = 0x04,
};

struct writer {
	uint8_t *buf;
	uint32_t size, len;
	uint16_t count, largest;    /* for the entry point */
	bool overflow;
};

/* Little-endian fields at any offset: stage 4's writer for guest-visible bytes. */
static void set16(uint8_t *p, unsigned at, uint16_t v)
{
	u64_to_bytes(v, p + at, 2);
}

static void set32(uint8_t *p, unsigned at, uint32_t v)
{
	u64_to_bytes(v, p + at, 4);
}

static void put(struct writer *w, const void *data, uint32_t n)
{
	if (w->overflow || n > w->size - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, data, n);
	w->len += n;
}

/*
 * One structure: its formatted area (the caller filled in the fields, string fields with
 * the strings' numbers, 1 for strings[0]), then the string set. Empty strings cannot be
 * written (they would end the set), so a field without a value holds 0 instead.
 */
static void put_structure(struct writer *w, uint8_t *area, uint8_t type, uint8_t length,
			  uint16_t handle, const char *const *strings, unsigned nstrings)
{
	uint32_t start = w->len;
	area[0] = type;
	area[1] = length;
	set16(area, 2, handle);
	put(w, area, length);
	for (unsigned i = 0; i < nstrings; i++)
		put(w, strings[i], strlen(strings[i]) + 1);
	if (!nstrings)
		put(w, "", 1);           /* no strings: the set is two NULs */
	put(w, "", 1);
	w->count++;
	if (!w->overflow && w->len - start > w->largest)
		w->largest = w->len - start;
}

/* Type 1, System Information: what Linux shows as sys_vendor, product_name, product_uuid. */
static void put_system(struct writer *w, const struct smbios_config *c)
{
	const char *strings[] = { VENDOR, c->product, "1.0" };
	uint8_t a[LEN_SYSTEM] = { 0 };
	a[4] = 1;                        /* manufacturer */
	a[5] = 2;                        /* product name */
	a[6] = 3;                        /* version; 7: no serial number */
	memcpy(a + 8, c->uuid, 16);
	a[0x18] = 0x06;                  /* woken up by the power switch */
	put_structure(w, a, 1, LEN_SYSTEM, HANDLE(1, 0), strings, 3);
}

/* Type 3, System Enclosure. */
static void put_chassis(struct writer *w)
{
	const char *strings[] = { VENDOR };
	uint8_t a[LEN_CHASSIS] = { 0 };
	a[4] = 1;                        /* manufacturer */
	a[5] = 0x01;                     /* type: other */
	a[9] = a[10] = a[11] = 0x03;     /* boot-up, power supply, thermal state: safe */
	a[12] = 0x02;                    /* security status: unknown */
	put_structure(w, a, 3, LEN_CHASSIS, HANDLE(3, 0), strings, 1);
}

/* Type 4, Processor Information: one per vCPU, each one core, one thread. */
static void put_processor(struct writer *w, unsigned index)
{
	char socket[16];
	snprintf(socket, sizeof(socket), "CPU %u", index);
	const char *strings[] = { socket, VENDOR, "virtual CPU" };
	uint8_t a[LEN_PROCESSOR] = { 0 };
	a[4] = 1;                        /* socket designation */
	a[5] = 0x03;                     /* central processor */
	a[6] = 0xfe;                     /* family: see processor family 2 (offset 0x28) */
	a[7] = 2;                        /* manufacturer; 8-15: processor ID, left 0 */
	a[0x10] = 3;                     /* version */
	set16(a, 0x14, 2000);            /* max speed, MHz: a plausible value, as QEMU */
	set16(a, 0x16, 2000);            /* current speed */
	a[0x18] = 0x41;                  /* socket populated, CPU enabled */
	a[0x19] = 0x01;                  /* upgrade: other */
	set16(a, 0x1a, HANDLE_NO_CACHE);
	set16(a, 0x1c, HANDLE_NO_CACHE);
	set16(a, 0x1e, HANDLE_NO_CACHE);
	a[0x23] = a[0x24] = a[0x25] = 1; /* cores, enabled cores, threads */
	set16(a, 0x26, 0x0002);          /* characteristics: unknown */
	set16(a, 0x28, 0x0001);          /* processor family 2: other */
	put_structure(w, a, 4, LEN_PROCESSOR, HANDLE(4, index), strings, 3);
}

/* Type 19: where a range of the array's RAM is mapped, [start, end) in bytes. */
static void put_mapping(struct writer *w, unsigned index, uint64_t start, uint64_t end)
{
	uint8_t map[LEN_MAPPED_ADDRESS] = { 0 };
	set32(map, 4, start >> 10);      /* first KiB */
	set32(map, 8, (end >> 10) - 1);  /* last KiB */
	set16(map, 0x0c, HANDLE(16, 0));
	map[0x0e] = 1;                   /* partition width: one device */
	put_structure(w, map, 19, LEN_MAPPED_ADDRESS, HANDLE(19, index), NULL, 0);
}

/*
 * Types 16, 17, 19: one array of RAM, one device holding all of it, mapped from 0 and, for
 * the part past the PCI hole, from 4 GiB (board/pc_memory.h).
 */
static void put_memory(struct writer *w, uint64_t ram_size, uint64_t above_4g)
{
	uint64_t kib = ram_size >> 10, mib = ram_size >> 20;
	uint8_t array[LEN_MEMORY_ARRAY] = { 0 };
	array[4] = 0x01;                 /* location: other */
	array[5] = 0x03;                 /* use: system memory */
	array[6] = 0x03;                 /* error correction: none */
	set32(array, 7, kib);            /* maximum capacity, KiB (32 bits: up to 4 TiB) */
	set16(array, 0x0b, HANDLE_NONE);
	set16(array, 0x0d, 1);           /* number of devices */
	put_structure(w, array, 16, LEN_MEMORY_ARRAY, HANDLE(16, 0), NULL, 0);

	const char *strings[] = { "DIMM 0", VENDOR };
	uint8_t dev[LEN_MEMORY_DEVICE] = { 0 };
	set16(dev, 4, HANDLE(16, 0));    /* the array it belongs to */
	set16(dev, 6, HANDLE_NONE);
	set16(dev, 8, 0xffff);           /* total width, data width: unknown */
	set16(dev, 0x0a, 0xffff);
	set16(dev, 0x0c, mib < 0x7fff ? mib : 0x7fff);   /* size, MiB; 0x7fff: see 0x1c */
	dev[0x0e] = 0x09;                /* form factor: DIMM */
	dev[0x10] = 1;                   /* device locator */
	dev[0x12] = 0x07;                /* memory type: RAM */
	set16(dev, 0x13, 0x0002);        /* type detail: other */
	dev[0x17] = 2;                   /* manufacturer */
	set32(dev, 0x1c, mib < 0x7fff ? 0 : mib);
	put_structure(w, dev, 17, LEN_MEMORY_DEVICE, HANDLE(17, 0), strings, 2);

	put_mapping(w, 0, 0, ram_size - above_4g);
	if (above_4g)
		put_mapping(w, 1, 1ull << 32, (1ull << 32) + above_4g);
}

/* Type 32, System Boot Information: "no errors detected". */
static void put_boot(struct writer *w)
{
	uint8_t a[LEN_BOOT] = { 0 };
	put_structure(w, a, 32, LEN_BOOT, HANDLE(32, 0), NULL, 0);
}

/*
 * The 2.1-style entry point of a 2.8 table: "_SM_" and its checksum over all 31 bytes,
 * then the older "_DMI_" part (from offset 0x10) with a checksum of its own. The table's
 * address stays 0: SeaBIOS fills it in where it copied the tables, and fixes both sums.
 */
static void fill_anchor(uint8_t a[SMBIOS_ANCHOR_SIZE], const struct writer *w)
{
	memset(a, 0, SMBIOS_ANCHOR_SIZE);
	memcpy(a, "_SM_", 4);
	a[5] = SMBIOS_ANCHOR_SIZE;
	a[6] = 2;                        /* version 2.8 */
	a[7] = 8;
	set16(a, 8, w->largest);
	memcpy(a + 0x10, "_DMI_", 5);
	set16(a, 0x16, w->len);
	set16(a, 0x1c, w->count);
	a[0x1e] = 0x28;                  /* BCD revision */
	/* SMBIOS sums its bytes to zero exactly as ACPI does: stage 4's acpi_checksum(). */
	a[0x15] = -acpi_checksum(a + 0x10, SMBIOS_ANCHOR_SIZE - 0x10);
	a[4] = -acpi_checksum(a, 0x10);
}

uint32_t smbios_tables_max(unsigned ncpus)
{
	/* 128 bytes per processor and 1 KiB for the rest: generous for the strings above. */
	return 1024 + 128 * ncpus;
}

int smbios_build(const struct smbios_config *c, uint8_t anchor[SMBIOS_ANCHOR_SIZE],
		 uint8_t *tables, uint32_t size, uint32_t *len)
{
	struct writer w = { tables, size, 0, 0, 0, false };
	if (c->ncpus < 1 || c->ncpus > SMBIOS_MAX_CPUS)
		return -EINVAL;
	put_system(&w, c);
	put_chassis(&w);
	for (unsigned i = 0; i < c->ncpus; i++)
		put_processor(&w, i);
	put_memory(&w, c->ram_size, c->ram_above_4g);
	put_boot(&w);
	uint8_t end[LEN_END] = { 0 };
	put_structure(&w, end, 127, LEN_END, HANDLE(127, 0), NULL, 0);
	if (w.overflow || w.len > 0xffff)    /* the entry point's length field is 16 bits */
		return -ENOSPC;
	fill_anchor(anchor, &w);
	*len = w.len;
	return 0;
}

static int hex_digit(char ch)
{
	if (isdigit((unsigned char)ch))
		return ch - '0';
	ch = tolower((unsigned char)ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int smbios_parse_uuid(const char *text, uint8_t uuid[16])
{
	static const unsigned dashes[] = { 8, 13, 18, 23 };
	uint8_t bytes[16];
	unsigned n = 0, d = 0;
	for (unsigned i = 0; i < 36; i++) {
		if (d < 4 && i == dashes[d]) {
			if (text[i] != '-')
				return -EINVAL;
			d++;
			continue;
		}
		int hi = hex_digit(text[i]), lo = hi < 0 ? -1 : hex_digit(text[++i]);
		if (lo < 0)
			return -EINVAL;
		bytes[n++] = hi << 4 | lo;
	}
	if (text[36])
		return -EINVAL;
	/* Since SMBIOS 2.6 the first three fields (4, 2, 2 bytes) are stored little-endian. */
	static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	for (unsigned i = 0; i < 16; i++)
		uuid[i] = bytes[order[i]];
	return 0;
}
