/*
 * fuzz_multiboot.c - stage 5's Multiboot loader (board/multiboot.c): the header search in a
 * kernel file, the ELF32 program headers it lays out below RAM's top, the -initrd module
 * list and the info block (MBI) built from them.
 *
 * Teaches: a kernel file is input: header flags, ELF offsets, sizes and addresses may point
 * past the file or wrap around 4 GiB.
 */
#include <stdlib.h>
#include <string.h>

#include "board/multiboot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mb_header h;
	struct mb_kernel k;
	char why[256];

	multiboot_find_header(data, size, &h, why, sizeof(why));
	if (multiboot_load_elf(data, size, 64ull << 20, &k, why, sizeof(why)) == 0)
		free(k.image);   /* the caller's, as multiboot_setup() frees it */

	/* The first 300 bytes again as an -initrd list and a command line. */
	char spec[301];
	size_t n = size < 300 ? size : 300;
	memcpy(spec, data, n);
	spec[n] = '\0';
	static char mods[8][256];
	int nmods = multiboot_split_modules(spec, mods, 8);
	if (nmods >= 0) {
		static uint8_t mbi[64 * 1024];
		uint32_t start[8] = { 0x200000 }, len[8] = { 4096 };
		multiboot_build_info(mbi, 640 << 10, spec, nmods, start, len, mods);
	}
	return 0;
}
