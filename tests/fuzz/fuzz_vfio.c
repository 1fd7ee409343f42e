/*
 * fuzz_vfio.c - stage 5's VFIO device side (vfio/vfio.c) with a fake host device: the guest's
 * view of a passed-through function (the virtual config space built from the device's own:
 * BARs, the capability list, MSI and MSI-X made ours), the guest's config writes (command
 * register, BAR moves, MSI and MSI-X control and message registers, the other capabilities
 * passed to the device), and the trapped BAR accesses (the MSI-X table, which is ours, and the
 * rest forwarded to the device).
 *
 * A VFIO device is a file descriptor whose regions (config space, BARs) are read and written
 * with pread/pwrite at region offsets, and mmap()ed where the host allows: here it is a memfd
 * with the same layout, so vfio.c runs unchanged from vfio_attach() on. What needs the kernel
 * (VFIO_DEVICE_SET_IRQS, KVM_IRQFD, KVM_SET_GSI_ROUTING, KVM memory slots) fails, as on a host
 * that refuses, and the code's error paths run: vm_fd and the container are -1.
 *
 * Input: 256 bytes of the device's config space (what the host device shows: its header,
 * BAR types, the capability list), 6 bytes of BAR sizes (0: none; else 1 << (byte % 34),
 * oversized ones are refused as the VMM refuses them), a flags byte (bits 0-5: mmap that BAR,
 * as VFIO_REGION_INFO_FLAG_MMAP allows), then the op stream; op 3 is a config access to the
 * function by register (as ECAM makes it), so MSI and MSI-X registers are one op away.
 *
 * Teaches: passthrough is not "no emulation": the VMM still parses a device's capability list
 * and keeps the guest's MSI-X table, and both must hold whatever the device and the guest say.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_ops.h"
#include "vfio/vfio.h"

#define RAM_SIZE 4096
#define SLOT 3                            /* the first free slot: where pc puts the first one */
#define REGION(b) ((uint64_t)((b) + 1) << 25)   /* BAR b's region in the fake device fd */
#define MAP_MAX (16u << 20)                     /* BARs up to this size may be mmap()ed */

/* Op 3: a config access by register, to the function. */
static void config_access(void *ctx, struct fuzz_input *in)
{
	uint8_t reg = fi_u8(in), how = fi_u8(in);
	unsigned len = 1u << (how % 3);
	uint32_t address = 0x80000000u | SLOT << 11 | (reg & ~(len - 1));
	if (how & 0x80)
		pci_host_config_write(ctx, address, fi_u32(in), len);
	else
		pci_host_config_read(ctx, address, len);
}

/* The fake device: its config space and BARs, as VFIO_DEVICE_GET_REGION_INFO would say. */
static int fake_device(struct vfio_pci *d, struct fuzz_input *in)
{
	static int fd = -1;
	uint8_t config[256] = { 0 }, sizes[6] = { 0 };
	fi_bytes(in, config, sizeof(config));
	fi_bytes(in, sizes, sizeof(sizes));
	uint8_t mmap_mask = fi_u8(in);
	if (fd < 0 && (fd = memfd_create("fuzz-vfio", 0)) < 0)
		abort();
	/* A new device each input: emptied, then its config space at offset 0. */
	if (ftruncate(fd, 0) || ftruncate(fd, REGION(PCI_NUM_BARS)) ||
	    pwrite(fd, config, sizeof(config), 0) != sizeof(config))
		abort();
	d->device_fd = fd;
	d->config_offset = 0;
	for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
		struct vfio_bar *bar = &d->bar[b];
		bar->size = sizes[b] ? 1ull << (sizes[b] % 34) : 0;
		bar->offset = REGION(b);
		bar->map = NULL;
		if ((mmap_mask >> b & 1) && bar->size >= 4096 && bar->size <= MAP_MAX) {
			void *p = mmap(NULL, bar->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				       bar->offset);
			bar->map = p == MAP_FAILED ? NULL : p;
		}
	}
	return fd;
}

/*
 * What find_caps() promises the rest of vfio.c: the MSI and MSI-X registers it kept lie inside
 * the 256 bytes of config space (they are read and written there without another check; past
 * the end is the rest of struct pci_config, which AddressSanitizer cannot tell from it).
 */
static void check_caps(const struct vfio_pci *d)
{
	if (d->msi_cap && d->msi_cap + (d->msi_64 ? 14u : 10u) > 256)
		abort();
	if (d->msix_cap && d->msix_cap + 12u > 256)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vfio_set set;
	static struct vfio_device_config cfg = { "0000:00:1f.7", false };
	static struct io_bus bus;
	static struct pci_host pci;
	struct fuzz_input in = { data, size };
	char why[256];

	fuzz_quiet();
	memset(&set, 0, sizeof(set));
	set.container_fd = -1;
	set.n = 1;
	struct vfio_pci *d = &set.dev[0];
	d->set = &set;
	d->cfg = &cfg;
	snprintf(d->name, sizeof(d->name), "vfio-fuzz");
	fake_device(d, &in);

	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	bus_init(&bus);
	if (pci_host_attach(&pci, &bus, -1))
		abort();
	/* No RAM to map for DMA (no container): vfio_attach() places and wires the device, then
	 * fails at KVM_SET_GSI_ROUTING (no VM): the device is on the bus when that is all. */
	vfio_attach(&set, &bus, &pci, -1, NULL, mem->host, 0, 0, SLOT, why, sizeof(why));
	if (pci.functions[SLOT][0] == &d->pci) {
		check_caps(d);
		fuzz_pci_firmware(&pci);
		fuzz_ops_run(&bus, mem, &in, config_access, &pci, 4096);
	}
	vfio_detach(&set);
	for (unsigned b = 0; b < PCI_NUM_BARS; b++)
		if (d->bar[b].map)
			munmap(d->bar[b].map, d->bar[b].size);
	fuzz_ram_free(mem);
	return 0;
}
