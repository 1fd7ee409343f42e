/*
 * fw_cfg.h - QEMU's firmware configuration device: how a VMM hands data to the firmware.
 *
 * A real PC's BIOS finds out about the machine by probing hardware. A virtual machine can
 * simply tell it: QEMU invented fw_cfg for that, and SeaBIOS, OVMF and Linux all speak it.
 * We model it as QEMU's docs/specs/fw_cfg.rst describes it (x86 port layout):
 *
 *   0x510  selector (16-bit write): which item to read; the read offset goes back to 0
 *   0x511  data (8-bit read): the next byte of the selected item; 0 past its end
 *   0x514  DMA address, 64-bit big-endian (0x514 high half, 0x518 low half); writing the
 *          low half starts a transfer described by a struct in guest memory:
 *              be32 control   bit 0 error, 1 read, 2 skip, 3 select (key in bits 31:16),
 *                             4 write; the device clears it (or leaves only "error") when done
 *              be32 length    bytes to read or skip
 *              be64 address   guest-physical buffer
 *
 * Items have 16-bit keys. Fixed keys (0x00-0x1f) hold the signature "QEMU", the interface ID,
 * the kernel/initrd/command line for direct Linux boot and a few numbers. Everything newer is
 * a named file ("etc/e820", "bootorder", "genroms/linuxboot_dma.bin") at key 0x20 and up,
 * listed in the file directory (key 0x19): be32 count, then per file be32 size, be16 key,
 * be16 reserved, char name[56].
 *
 * The split of this file: struct fw_cfg_state (selector, offset: plain, saveable) and the
 * pure parsing helpers are unit-tested; struct fw_cfg adds the items (host memory made at
 * start-up from the configuration, so a restore rebuilds them rather than saving them).
 */
#ifndef FW_CFG_H
#define FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "guest_memory.h"

#define FW_CFG_PORT_SEL  0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_DMA  0x514

/* Fixed keys (fw_cfg.rst, "Selector Register"; the rest of QEMU's list is unused here). */
#define FW_CFG_SIGNATURE     0x00
#define FW_CFG_ID            0x01
#define FW_CFG_RAM_SIZE      0x03
#define FW_CFG_NOGRAPHIC     0x04
#define FW_CFG_NB_CPUS       0x05
#define FW_CFG_KERNEL_ADDR   0x07
#define FW_CFG_KERNEL_SIZE   0x08
#define FW_CFG_INITRD_ADDR   0x0a
#define FW_CFG_INITRD_SIZE   0x0b
#define FW_CFG_BOOT_MENU     0x0e
#define FW_CFG_MAX_CPUS      0x0f
#define FW_CFG_KERNEL_DATA   0x11
#define FW_CFG_INITRD_DATA   0x12
#define FW_CFG_CMDLINE_ADDR  0x13
#define FW_CFG_CMDLINE_SIZE  0x14
#define FW_CFG_CMDLINE_DATA  0x15
#define FW_CFG_SETUP_ADDR    0x16
#define FW_CFG_SETUP_SIZE    0x17
#define FW_CFG_SETUP_DATA    0x18
#define FW_CFG_FILE_DIR      0x19
#define FW_CFG_FILE_FIRST    0x20

#define FW_CFG_ID_TRADITIONAL 0x1   /* the port interface */
#define FW_CFG_ID_DMA         0x2   /* the DMA interface */

#define FW_CFG_DMA_ERROR  0x01
#define FW_CFG_DMA_READ   0x02
#define FW_CFG_DMA_SKIP   0x04
#define FW_CFG_DMA_SELECT 0x08
#define FW_CFG_DMA_WRITE  0x10

#define FW_CFG_MAX_FILES   32
#define FW_CFG_MAX_ITEMS   (FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES)
#define FW_CFG_NAME_LEN    56
#define FW_CFG_DIR_ENTRY   64   /* bytes per directory entry */

/* The device's state: what a snapshot would hold. */
struct fw_cfg_state {
	uint16_t selector;
	uint32_t offset;        /* next byte of the selected item */
	uint32_t dma_high;      /* the high half of the DMA address, written first */
};

/* One DMA request as the guest wrote it, decoded from big-endian. */
struct fw_cfg_dma_request {
	uint32_t control;
	uint32_t length;
	uint64_t address;
};

struct fw_cfg_item {
	uint8_t *data;          /* malloc'ed copy; NULL when the key is unused */
	uint32_t size;
	char name[FW_CFG_NAME_LEN];   /* for files; "" for fixed keys */
};

struct fw_cfg {
	struct fw_cfg_state state;
	struct fw_cfg_item items[FW_CFG_MAX_ITEMS];
	unsigned nfiles;
	const struct guest_memory *mem;   /* where DMA goes: guest RAM only */
	unsigned dma_errors;              /* bad requests seen (reported once) */
};

/* Pure helpers (unit-tested). */
void fw_cfg_dma_decode(const uint8_t raw[16], struct fw_cfg_dma_request *req);
/* Directory bytes for the files in items (be32 count + entries); returns its length. */
size_t fw_cfg_dir_encode(const struct fw_cfg_item *items, unsigned nfiles, uint8_t *out,
			 size_t out_len);

/* An empty device with signature and ID; DMA reaches mem. */
void fw_cfg_init(struct fw_cfg *f, const struct guest_memory *mem);
void fw_cfg_free(struct fw_cfg *f);
/* Add an item: a copy of data is kept. 0 or -ENOMEM/-EEXIST/-ENOSPC/-ENAMETOOLONG. */
int fw_cfg_add(struct fw_cfg *f, uint16_t key, const void *data, uint32_t size);
int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t value);
int fw_cfg_add_u32(struct fw_cfg *f, uint16_t key, uint32_t value);
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t size);
/* Read a whole host file into a named item. 0 or a negative errno (from open/read). */
int fw_cfg_add_host_file(struct fw_cfg *f, const char *name, const char *path);
/* The item a file name was given, or NULL. */
const struct fw_cfg_item *fw_cfg_find_file(const struct fw_cfg *f, const char *name);

/* Guest-visible behaviour, without the bus (unit-tested). */
void fw_cfg_select(struct fw_cfg *f, uint16_t key);
uint8_t fw_cfg_read_byte(struct fw_cfg *f);
/* Run the request whose descriptor is at guest address gpa. Returns 0, or -EFAULT when the
 * descriptor itself is outside RAM (then nothing can be reported to the guest). */
int fw_cfg_dma(struct fw_cfg *f, uint64_t gpa);

/* Register the ports. 0 or -EBUSY. */
int fw_cfg_attach(struct fw_cfg *f, struct io_bus *bus);

#endif
