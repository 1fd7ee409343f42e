/*
 * fuzz_page_walk.c - stage 2's page walker and guest-virtual copies (page_walk.c,
 * guest_virt.c): 4-level page tables in guest RAM from the fuzzer, any CR0/CR3/CR4/EFER,
 * any address; strings read and buffers written across page boundaries, as the pointer
 * hypercalls do.
 *
 * Teaches: a page table is a tree the guest builds: entries may point outside RAM, at
 * themselves, set reserved bits or huge-page bits at the wrong level.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_ops.h"
#include "guest_virt.h"
#include "page_walk.h"

#define RAM_SIZE (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	struct guest_virt gv = { .mem = mem };
	gv.regs.cr0 = fi_u64(&in);
	gv.regs.cr3 = fi_u32(&in) % RAM_SIZE;
	gv.regs.cr4 = fi_u64(&in);
	gv.regs.efer = fi_u64(&in);
	uint8_t caps = fi_u8(&in);
	gv.regs.gbpages = caps & 1;
	gv.regs.maxphyaddr = 32 + (caps >> 1) % 21;
	gv.pool_start = fi_u16(&in);
	gv.pool_end = gv.pool_start + fi_u16(&in);
	/* The page tables: the next 8 KiB of input at CR3's page (and after). */
	size_t cr3 = gv.regs.cr3 & ~0xfffull;
	fi_bytes(&in, mem->host + cr3, RAM_SIZE - cr3 < 8192 ? RAM_SIZE - cr3 : 8192);
	while (in.left > 0) {
		uint64_t gva = fi_u64(&in);
		struct page_walk w;
		struct gv_error err;
		char text[512];
		page_walk(mem, &gv.regs, gva, &w);
		walk_describe(&w, text, sizeof(text));
		switch (fi_u8(&in) % 3) {
		case 0:
			if (gv_read_string(&gv, gva, text, 1 + fi_u16(&in) % sizeof(text), &err) < 0)
				gv_describe(&gv, &err, text, sizeof(text));
			break;
		case 1: {
			static uint8_t buf[GV_WRITE_MAX_PAGES * 4096];
			if (gv_write(&gv, gva, buf, fi_u16(&in) % sizeof(buf), &err) < 0)
				gv_describe(&gv, &err, text, sizeof(text));
			break;
		}
		case 2:
			gva_to_hva(&gv, gva, &w, &err);
			break;
		}
	}
	fuzz_ram_free(mem);
	return 0;
}
