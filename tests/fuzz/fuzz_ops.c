/*
 * fuzz_ops.c - the shared part of the fuzz targets (fuzz_ops.h): input reader, fake RAM, the
 * guest-action interpreter and the firmware's PCI set-up.
 */
#include "fuzz_ops.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t fi_bytes(struct fuzz_input *in, void *out, size_t max)
{
	size_t n = max < in->left ? max : in->left;
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return n;
}

static uint64_t fi_le(struct fuzz_input *in, unsigned len)
{
	uint8_t b[8] = { 0 };
	fi_bytes(in, b, len);
	uint64_t v = 0;
	for (unsigned i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

uint8_t fi_u8(struct fuzz_input *in) { return (uint8_t)fi_le(in, 1); }
uint16_t fi_u16(struct fuzz_input *in) { return (uint16_t)fi_le(in, 2); }
uint32_t fi_u32(struct fuzz_input *in) { return (uint32_t)fi_le(in, 4); }
uint64_t fi_u64(struct fuzz_input *in) { return fi_le(in, 8); }

struct guest_memory *fuzz_ram(uint64_t size)
{
	struct guest_memory *mem = calloc(1, sizeof(*mem));
	if (!mem || !(mem->host = calloc(1, size)))
		abort();
	mem->size = size;
	return mem;
}

void fuzz_ram_free(struct guest_memory *mem)
{
	free(mem->host);
	free(mem);
}

static void op_ram_write(struct guest_memory *mem, struct fuzz_input *in, unsigned len)
{
	uint64_t gpa = fi_u32(in) % mem->size;
	if (len > mem->size - gpa)
		len = mem->size - gpa;
	fi_bytes(in, mem->host + gpa, len);
}

/* A register access: the range by index, the offset folded into it, the size 1/2/4/8. */
static void op_register(struct io_bus *bus, struct fuzz_input *in, int write)
{
	if (bus->count == 0)
		return;
	struct bus_range *r = &bus->ranges[fi_u8(in) % bus->count];
	unsigned len = 1u << (fi_u8(in) & 3);
	if (r->space == BUS_PIO && len == 8)
		len = 4;   /* IN/OUT move at most 4 bytes: KVM never delivers more on a port */
	uint64_t offset = r->len ? fi_u32(in) % r->len : 0;
	if (len > r->len)
		len = 1;
	if (offset + len > r->len)
		offset = r->len - len;
	uint8_t data[8];
	u64_to_bytes(write ? fi_u64(in) : 0, data, len);
	if (r->space == BUS_PIO)
		bus_pio(bus, NULL, (uint16_t)(r->base + offset), write, data, len);
	else
		bus_mmio(bus, NULL, r->base + offset, write, data, len);
}

/* FUZZ_RANGES=1: list the bus's ranges by index, for writing seeds (seeds.py). */
static void list_ranges(const struct io_bus *bus)
{
	static bool listed;
	if (listed || !getenv("FUZZ_RANGES"))
		return;
	listed = true;
	for (int i = 0; i < bus->count; i++)
		fprintf(stderr, "range %d: %s 0x%llx+0x%llx %s%s\n", i,
			bus->ranges[i].space == BUS_PIO ? "pio" : "mmio",
			(unsigned long long)bus->ranges[i].base, (unsigned long long)bus->ranges[i].len,
			bus->ranges[i].name ? bus->ranges[i].name : "?",
			bus->ranges[i].enabled ? "" : " (off)");
}

void fuzz_ops_run(struct io_bus *bus, struct guest_memory *mem, struct fuzz_input *in,
		  fuzz_hook_fn hook, void *ctx, unsigned max_ops)
{
	list_ranges(bus);
	for (unsigned n = 0; n < max_ops && in->left > 0; n++) {
		switch (fi_u8(in) % 5) {
		case 0:
			op_ram_write(mem, in, 1 + fi_u8(in));
			break;
		case 1:
			op_register(bus, in, 1);
			break;
		case 2:
			op_register(bus, in, 0);
			break;
		case 3:
			if (hook)
				hook(ctx, in);
			break;
		case 4:
			op_ram_write(mem, in, 4);
			break;
		}
	}
}

/* Size a BAR as firmware does: write all ones, read the mask back, restore. */
static uint32_t bar_size(struct pci_host *host, uint32_t addr, uint32_t *flags)
{
	uint32_t old = pci_host_config_read(host, addr, 4);
	pci_host_config_write(host, addr, 0xffffffffu, 4);
	uint32_t mask = pci_host_config_read(host, addr, 4);
	pci_host_config_write(host, addr, old, 4);
	*flags = old;
	if (mask == 0 || mask == 0xffffffffu)
		return 0;
	mask &= (mask & 1) ? ~3u : ~15u;
	return ~mask + 1;
}

void fuzz_pci_firmware(struct pci_host *host)
{
	uint32_t next_io = 0xc000, next_mem = 0xe0000000u;
	for (unsigned slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		for (unsigned fn = 0; fn < PCI_MAX_FUNCTIONS; fn++) {
			if (!host->functions[slot][fn])
				continue;
			uint32_t dev = 0x80000000u | slot << 11 | fn << 8;
			for (unsigned bar = 0; bar < PCI_NUM_BARS; bar++) {
				uint32_t flags, size = bar_size(host, dev | (0x10 + 4 * bar), &flags);
				if (size == 0 || (flags & ~0xfu) != 0)
					continue;   /* none, or already placed */
				uint32_t *next = (flags & 1) ? &next_io : &next_mem;
				*next = (*next + size - 1) & ~(size - 1);
				pci_host_config_write(host, dev | (0x10 + 4 * bar), *next | (flags & 0xf), 4);
				*next += size;
				if ((flags & 7) == 4)
					bar++;   /* a 64-bit BAR: its upper half stays 0 */
			}
			pci_host_config_write(host, dev | PCI_COMMAND, 7, 2);   /* I/O, memory, master */
		}
	}
}

void fuzz_quiet(void)
{
	if (getenv("FUZZ_VERBOSE"))
		return;
	int fd = open("/dev/null", O_WRONLY);
	if (fd >= 0) {
		/* stdout only: sanitizer and libFuzzer reports go to stderr, which stays. */
		dup2(fd, 1);
		close(fd);
	}
}
