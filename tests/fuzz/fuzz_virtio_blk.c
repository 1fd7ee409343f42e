/*
 * fuzz_virtio_blk.c - stage 4's virtio-blk (virtio_blk.c) behind its virtio-pci transport
 * (virtio_pci.c): common and device config, queue set-up, notifications, and the requests
 * (header, data, status byte) the descriptor chains carry.
 *
 * Teaches: a block request is a header the guest wrote (type, sector) and buffers whose
 * sizes the guest chose; the device checks the sector range against the disk, and the
 * buffers' directions against the request's.
 */
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz_ops.h"
#include "virtio_blk.h"

#define RAM_SIZE (128 * 1024)

/*
 * One scratch image per process, 64 KiB, unlinked at once: virtio_blk_open() opens it by name
 * for every input, through /proc/self/fd, so nothing is left in $TMPDIR however the run ends.
 */
static const char *scratch_image(void)
{
	static char path[256];
	if (!path[0]) {
		const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		snprintf(path, sizeof(path), "%s/fuzz-vblk.XXXXXX", dir);
		int fd = mkstemp(path);
		if (fd < 0 || ftruncate(fd, 64 * 1024) < 0)
			abort();
		unlink(path);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_blk blk;
	static struct io_bus bus;
	static struct pci_host pci;
	struct fuzz_input in = { data, size };

	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	bus_init(&bus);
	if (pci_host_attach(&pci, &bus, -1))   /* 0xcf8: the guest may move BARs */
		abort();
	if (virtio_blk_open(&blk, scratch_image()) || virtio_blk_attach(&blk, &pci, mem))
		abort();
	fuzz_pci_firmware(&pci);
	fuzz_ops_run(&bus, mem, &in, NULL, NULL, 4096);
	close(blk.fd);
	fuzz_ram_free(mem);
	return 0;
}
