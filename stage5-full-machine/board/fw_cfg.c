/*
 * fw_cfg.c - the firmware configuration device (QEMU docs/specs/fw_cfg.rst). See fw_cfg.h.
 *
 * What it teaches: a paravirtual device can be tiny. Two ports give byte-at-a-time access
 * (one port read per byte; KVM batches a `rep insb` into one exit of up to a page), a third
 * gives DMA (one exit per transfer, however large), and the DMA path is where a hostile guest
 * aims: every address it names is checked in one place, gpa_to_hva(), and a bad one sets the
 * error bit instead of touching host memory.
 */
#include "fw_cfg.h"
#include "byteorder.h"   /* the DMA descriptor and the file directory are big-endian */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void fw_cfg_dma_decode(const uint8_t raw[16], struct fw_cfg_dma_request *req)
{
	req->control = get_be32(raw);
	req->length = get_be32(raw + 4);
	req->address = (uint64_t)get_be32(raw + 8) << 32 | get_be32(raw + 12);
}

size_t fw_cfg_dir_encode(const struct fw_cfg_item *items, unsigned nfiles, uint8_t *out,
			 size_t out_len)
{
	size_t need = 4 + (size_t)nfiles * FW_CFG_DIR_ENTRY;
	if (need > out_len)
		return 0;
	memset(out, 0, need);
	put_be32(out, nfiles);
	for (unsigned i = 0; i < nfiles; i++) {
		uint8_t *e = out + 4 + i * FW_CFG_DIR_ENTRY;
		uint16_t key = FW_CFG_FILE_FIRST + i;
		put_be32(e, items[key].size);
		e[4] = key >> 8;
		e[5] = key & 0xff;
		memcpy(e + 8, items[key].name, FW_CFG_NAME_LEN - 1);
	}
	return need;
}

void fw_cfg_init(struct fw_cfg *f, const struct guest_memory *mem)
{
	memset(f, 0, sizeof(*f));
	f->mem = mem;
	fw_cfg_add(f, FW_CFG_SIGNATURE, "QEMU", 4);
	fw_cfg_add_u32(f, FW_CFG_ID, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	fw_cfg_add_u32(f, FW_CFG_FILE_DIR, 0);   /* an empty directory until files come */
}

void fw_cfg_free(struct fw_cfg *f)
{
	for (unsigned i = 0; i < FW_CFG_MAX_ITEMS; i++)
		free(f->items[i].data);
	memset(f->items, 0, sizeof(f->items));
}

static int set_item(struct fw_cfg_item *it, const void *data, uint32_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return -ENOMEM;
	if (size)
		memcpy(copy, data, size);
	free(it->data);
	it->data = copy;
	it->size = size;
	return 0;
}

int fw_cfg_add(struct fw_cfg *f, uint16_t key, const void *data, uint32_t size)
{
	if (key >= FW_CFG_MAX_ITEMS)
		return -ENOSPC;
	return set_item(&f->items[key], data, size);
}

/* Numbers in fixed items are little-endian (only the directory and DMA are big-endian). */
int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t value)
{
	uint8_t b[2] = { value & 0xff, value >> 8 };
	return fw_cfg_add(f, key, b, sizeof(b));
}

int fw_cfg_add_u32(struct fw_cfg *f, uint16_t key, uint32_t value)
{
	uint8_t b[4] = { value & 0xff, value >> 8, value >> 16, value >> 24 };
	return fw_cfg_add(f, key, b, sizeof(b));
}

const struct fw_cfg_item *fw_cfg_find_file(const struct fw_cfg *f, const char *name)
{
	for (unsigned i = 0; i < f->nfiles; i++)
		if (strcmp(f->items[FW_CFG_FILE_FIRST + i].name, name) == 0)
			return &f->items[FW_CFG_FILE_FIRST + i];
	return NULL;
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t size)
{
	static uint8_t dir[4 + FW_CFG_MAX_FILES * FW_CFG_DIR_ENTRY];

	if (strlen(name) >= FW_CFG_NAME_LEN)
		return -ENAMETOOLONG;
	if (fw_cfg_find_file(f, name))
		return -EEXIST;
	if (f->nfiles == FW_CFG_MAX_FILES)
		return -ENOSPC;
	struct fw_cfg_item *it = &f->items[FW_CFG_FILE_FIRST + f->nfiles];
	int err = set_item(it, data, size);
	if (err)
		return err;
	snprintf(it->name, sizeof(it->name), "%s", name);
	f->nfiles++;
	/* The directory is an item like any other: rewrite it after each new file. */
	size_t len = fw_cfg_dir_encode(f->items, f->nfiles, dir, sizeof(dir));
	return fw_cfg_add(f, FW_CFG_FILE_DIR, dir, len);
}

int fw_cfg_add_host_file(struct fw_cfg *f, const char *name, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int err = fstat(fd, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EINVAL : 0;
	uint8_t *buf = err ? NULL : malloc(st.st_size ? st.st_size : 1);
	if (!err && !buf)
		err = -ENOMEM;
	if (!err && read(fd, buf, st.st_size) != st.st_size)
		err = -EIO;
	close(fd);
	if (!err)
		err = fw_cfg_add_file(f, name, buf, st.st_size);
	free(buf);
	return err;
}

void fw_cfg_select(struct fw_cfg *f, uint16_t key)
{
	f->state.selector = key;
	f->state.offset = 0;
}

static const struct fw_cfg_item *selected(const struct fw_cfg *f)
{
	uint16_t key = f->state.selector;
	return key < FW_CFG_MAX_ITEMS && f->items[key].data ? &f->items[key] : NULL;
}

uint8_t fw_cfg_read_byte(struct fw_cfg *f)
{
	const struct fw_cfg_item *it = selected(f);
	if (!it || f->state.offset >= it->size)
		return 0;
	return it->data[f->state.offset++];
}

/* Copy length bytes of the selected item to guest memory; zeros past the item's end. */
static int dma_read(struct fw_cfg *f, uint64_t gpa, uint32_t length)
{
	if (!length)
		return 0;
	uint8_t *dst = gpa_to_hva(f->mem, gpa, length);
	if (!dst)
		return -EFAULT;
	const struct fw_cfg_item *it = selected(f);
	uint32_t have = it && f->state.offset < it->size ? it->size - f->state.offset : 0;
	uint32_t n = have < length ? have : length;
	if (n)
		memcpy(dst, it->data + f->state.offset, n);
	memset(dst + n, 0, length - n);
	f->state.offset += length;
	return 0;
}

int fw_cfg_dma(struct fw_cfg *f, uint64_t gpa)
{
	uint8_t *desc = gpa_to_hva(f->mem, gpa, 16);
	if (!desc)
		return -EFAULT;
	struct fw_cfg_dma_request req;
	fw_cfg_dma_decode(desc, &req);

	int err = 0;
	if (req.control & FW_CFG_DMA_SELECT)
		fw_cfg_select(f, req.control >> 16);
	if (req.control & FW_CFG_DMA_READ)
		err = dma_read(f, req.address, req.length);
	else if (req.control & FW_CFG_DMA_SKIP)
		f->state.offset += req.length;
	else if (req.control & FW_CFG_DMA_WRITE)
		err = -EROFS;   /* every item here is read-only */
	if (err && f->dma_errors++ == 0)
		fprintf(stderr, "fw_cfg: DMA request at 0x%llx: %s at 0x%llx+%u\n",
			(unsigned long long)gpa, err == -EROFS ? "write to a read-only item"
							       : "buffer outside guest RAM",
			(unsigned long long)req.address, req.length);
	/* Done: control becomes 0, or just the error bit. */
	put_be32(desc, err ? FW_CFG_DMA_ERROR : 0);
	return 0;
}

/* ---- the ports ----------------------------------------------------------------------- */

static int fw_cfg_io_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct fw_cfg *f = dev;
	memset(data, 0, len);
	if (offset == 1)   /* the data port; 0x510 reads as 0 */
		for (unsigned i = 0; i < len; i++)
			data[i] = fw_cfg_read_byte(f);
	return 0;
}

static int fw_cfg_io_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	if (offset == 0)
		fw_cfg_select(dev, bytes_to_u64(data, len < 2 ? len : 2));
	return 0;   /* writes to the data port are ignored (deprecated in QEMU too) */
}

/* The DMA address register: big-endian, so the guest's bytes are read in order. */
static int fw_cfg_dma_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct fw_cfg *f = dev;
	if (len != 4 || (offset != 0 && offset != 4))
		return 0;
	if (offset == 0) {
		f->state.dma_high = get_be32(data);
		return 0;
	}
	uint64_t gpa = (uint64_t)f->state.dma_high << 32 | get_be32(data);
	f->state.dma_high = 0;
	if (fw_cfg_dma(f, gpa) && f->dma_errors++ == 0)
		fprintf(stderr, "fw_cfg: DMA descriptor at 0x%llx is outside guest RAM\n",
			(unsigned long long)gpa);
	return 0;
}

/* Reading the DMA register gives the signature "QEMU CFG", which OVMF checks. */
static int fw_cfg_dma_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	static const char sig[8] = "QEMU CFG";
	(void)dev;
	for (unsigned i = 0; i < len; i++)
		data[i] = offset + i < 8 ? sig[offset + i] : 0xff;
	return 0;
}

static const struct bus_ops fw_cfg_io_ops = { fw_cfg_io_read, fw_cfg_io_write };
static const struct bus_ops fw_cfg_dma_ops = { fw_cfg_dma_read, fw_cfg_dma_write };

int fw_cfg_attach(struct fw_cfg *f, struct io_bus *bus)
{
	if (!bus_register(bus, BUS_PIO, FW_CFG_PORT_SEL, 2, &fw_cfg_io_ops, f, "fw_cfg") ||
	    !bus_register(bus, BUS_PIO, FW_CFG_PORT_DMA, 8, &fw_cfg_dma_ops, f, "fw_cfg-dma"))
		return -EBUSY;
	return 0;
}
