/*
 * pflash.h - CFI parallel flash: where UEFI firmware (OVMF) keeps its code and its variables.
 *
 * A PC's firmware lives in a NOR flash chip just below 4 GiB. Reading it is reading memory;
 * changing it is a conversation: the CPU writes a command byte anywhere in the chip, then
 * (for some commands) the data, and the chip answers reads with a status byte until it is
 * told to show its array again. The command set is Intel's (the "Intel/Sharp extended" set of
 * the JEDEC Common Flash Interface), the one QEMU's pflash_cfi01 emulates and OVMF's
 * QemuFlashFvbServicesRuntimeDxe speaks:
 *
 *   0xff / 0x00   read array: reads return the flash's bytes (the power-on mode)
 *   0x10 / 0x40   program: the next write's bytes are ANDed into the array (NOR flash can
 *                 only clear bits; only an erase sets them), then read status
 *   0x20, 0xd0    block erase, confirmed: the whole sector of that address becomes 0xff
 *   0x50          clear status: every bit to 0, "ready" too (as QEMU's chip: OVMF's probe
 *                 wants 0x00 from the next read status); reads stay in array mode
 *   0x70          read status: 0x80 "ready", plus 0x10 program error, 0x20 erase error,
 *                 0x30 a bad command sequence, 0x02 the block is locked (read-only flash)
 *   0x90          read identifier: manufacturer at offset 0, device at offset 1
 *   0x98          CFI query: the chip describes itself ("QRY", sizes, erase blocks) from 0x10
 *
 * The machine (pflash_map) makes the read-array mode cost nothing: the flash bytes are a KVM
 * memory slot, read-only (KVM_MEM_READONLY), so reads and instruction fetches run at memory
 * speed while every write exits to the VMM as MMIO and goes into pflash_write. When a command
 * leaves array mode the slot is taken away, so reads exit too and see status or query bytes;
 * the command 0xff puts the slot back. A writable flash maps its file MAP_SHARED: what the
 * guest programs lands in the file (a per-VM OVMF_VARS copy), and is there at the next start.
 *
 * The state machine below works on a plain buffer (tests/unit/test_stage5_pflash.c).
 */
#ifndef PFLASH_H
#define PFLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

#define PFLASH_SECTOR   0x1000u        /* erase block: 4 KiB, as QEMU's PC flash */
#define PFLASH_WINDOW   (8u << 20)     /* code + vars together: at most 8 MiB below 4 GiB */
#define PFLASH_CFI_SIZE 0x40

#define PFLASH_STATUS_READY      0x80
#define PFLASH_STATUS_ERASE_ERR  0x20
#define PFLASH_STATUS_PROG_ERR   0x10
#define PFLASH_STATUS_LOCKED     0x02

enum pflash_mode {
	PFLASH_READ_ARRAY,
	PFLASH_READ_STATUS,
	PFLASH_READ_ID,
	PFLASH_READ_QUERY,
	PFLASH_PROGRAM,        /* 0x10 seen: the next write is data */
	PFLASH_ERASE,          /* 0x20 seen: the next write must be the confirm 0xd0 */
	PFLASH_LOCK,           /* 0x60 seen: the next write (0x01 lock, 0xd0 unlock) is ignored */
};

struct pflash {
	uint8_t *data;                 /* the array (a file mapping, or a test's buffer) */
	uint32_t size;
	bool readonly;                 /* program and erase fail: status says "locked" */
	enum pflash_mode mode;
	uint8_t status;
	uint8_t cfi[PFLASH_CFI_SIZE];  /* the CFI query table */
	uint64_t programmed, erased;   /* counts, for messages and tests */
	/* The machine (pflash_open/pflash_map); unused by the pure state machine. */
	const char *path;
	int vm_fd;
	unsigned slot;
	uint64_t gpa;
	bool slots_readonly;           /* KVM_CAP_READONLY_MEM: else every read exits */
	bool mapped;
	struct bus_range *range;
};

/* Pure: a flash over data[0..size) (size a multiple of PFLASH_SECTOR), in read-array mode. */
void pflash_init(struct pflash *f, uint8_t *data, uint32_t size, bool readonly);
/* Pure: a guest read or write of len (1..8) bytes at offset inside the flash. */
uint64_t pflash_read(struct pflash *f, uint32_t offset, unsigned len);
void pflash_write(struct pflash *f, uint32_t offset, uint64_t value, unsigned len);

/*
 * Check and map a flash image file: a multiple of PFLASH_SECTOR, not empty, at most
 * PFLASH_WINDOW; writable unless readonly (MAP_SHARED: changes go to the file). 0, or a
 * negative errno with one line in why ("vars.fd: cannot write: Permission denied").
 */
int pflash_open(struct pflash *f, const char *path, bool readonly, char *why, size_t why_len);
/* Place it at gpa: a KVM slot while in read-array mode, an MMIO range always (for writes). */
int pflash_map(struct pflash *f, struct io_bus *bus, int vm_fd, bool slots_readonly,
	       unsigned slot, uint64_t gpa, char *why, size_t why_len);
void pflash_close(struct pflash *f);
/*
 * After a migration put mode back (migration/devstate.c): the KVM slot follows it, present in
 * read-array mode, absent otherwise (as after a write). 0 or a negative errno.
 */
int pflash_sync_slot(struct pflash *f);

#endif
