/*
 * fuzz_fw_cfg.c - stage 5's fw_cfg device (board/fw_cfg.c): the selector and data ports and
 * the DMA interface, whose descriptor (control, length, address: big-endian) is guest RAM.
 *
 * Teaches: a DMA descriptor is three numbers the firmware chose; the device checks each
 * against the item and against RAM before it copies a byte, and reports errors in control.
 */
#include <stdlib.h>
#include <string.h>

#include "board/fw_cfg.h"
#include "fuzz_ops.h"

#define RAM_SIZE (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fw_cfg f;
	static struct io_bus bus;
	struct fuzz_input in = { data, size };
	struct guest_memory *mem = fuzz_ram(RAM_SIZE);

	bus_init(&bus);
	fw_cfg_init(&f, mem);
	/* What a machine puts there: numbers, an empty item, files (one writable by DMA). */
	static const uint8_t blob[300] = { 1, 2, 3 };
	fw_cfg_add_u32(&f, FW_CFG_RAM_SIZE, RAM_SIZE);
	fw_cfg_add_u16(&f, FW_CFG_NB_CPUS, 1);
	fw_cfg_add(&f, FW_CFG_KERNEL_DATA, blob, 0);
	fw_cfg_add_file(&f, "etc/table-loader", blob, sizeof(blob));
	fw_cfg_add_file(&f, "bootorder", "/pci@i0cf8/*@1\n", 15);
	fw_cfg_add_file(&f, "etc/empty", blob, 0);
	if (fw_cfg_attach(&f, &bus))
		abort();
	fuzz_ops_run(&bus, mem, &in, NULL, NULL, 4096);
	fw_cfg_free(&f);
	fuzz_ram_free(mem);
	return 0;
}
