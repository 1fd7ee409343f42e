/*
 * fuzz_pci.c - stage 4's PCI host (pci.c): CONFIG_ADDRESS and CONFIG_DATA at 0xcf8/0xcfc,
 * every register of the host bridge and of two functions (virtio-rng, virtio-blk's
 * transport without a disk: its config space only), BAR sizing and moves, the command
 * register switching decoding off and on.
 *
 * Teaches: config space is where the guest moves devices around the address space; a BAR
 * written with junk must never make two devices claim one address or a range leave the bus.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_ops.h"
#include "pci.h"

#define RAM_SIZE 4096

static int reg_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	(void)dev;
	u64_to_bytes(offset, data, len);
	return 0;
}

static int reg_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	(void)dev, (void)offset, (void)data, (void)len;
	return 0;
}

static const struct bus_ops regs = { reg_read, reg_write };

/* Op 3: a config access by CONFIG_ADDRESS value, as another access method (ECAM) makes. */
static void direct(void *ctx, struct fuzz_input *in)
{
	uint32_t address = fi_u32(in);
	unsigned len = 1u << (fi_u8(in) % 3);
	if (fi_u8(in) & 1)
		pci_host_config_write(ctx, address, fi_u32(in), len);
	else
		pci_host_config_read(ctx, address, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pci_device dev[2];
	static struct io_bus bus;
	static struct pci_host pci;
	static const uint8_t cap[] = { 0x09, 0, 8, 1, 2, 3, 4, 5 };
	struct fuzz_input in = { data, size };

	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	bus_init(&bus);
	if (pci_host_attach(&pci, &bus, -1))
		abort();
	for (int i = 0; i < 2; i++) {
		memset(&dev[i], 0, sizeof(dev[i]));
		pci_config_init(&dev[i].config, 0x1af4, 0x1000 + i, 0xff0000, 0);
		dev[i].name = i ? "fuzz-b" : "fuzz-a";
		pci_config_add_capability(&dev[i].config, cap, sizeof(cap));
		if (pci_host_add(&pci, &dev[i], 0x1000, &regs, &dev[i]) < 0)
			abort();
	}
	fuzz_pci_firmware(&pci);
	fuzz_ops_run(&bus, mem, &in, direct, &pci, 4096);
	fuzz_ram_free(mem);
	return 0;
}
