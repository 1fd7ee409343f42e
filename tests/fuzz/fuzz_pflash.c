/*
 * fuzz_pflash.c - stage 5's CFI parallel flash (board/pflash.c), UEFI's code and variable
 * store: the command state machine (read array, status, program, block erase, CFI query,
 * buffered write with its count), at any offset and width, on a writable and a read-only chip.
 *
 * Teaches: a flash chip is a small protocol: a buffered write's word count and address come
 * from the guest and decide how many bytes the device copies, and where.
 */
#include <stdlib.h>
#include <string.h>

#include "board/pflash.h"
#include "fuzz_ops.h"

#define FLASH_SIZE (128 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t chip[FLASH_SIZE];
	static struct pflash f;
	struct fuzz_input in = { data, size };

	memset(chip, 0xff, sizeof(chip));
	pflash_init(&f, chip, FLASH_SIZE, fi_u8(&in) & 1);
	while (in.left > 0) {
		uint8_t op = fi_u8(&in);
		unsigned len = 1u << (op >> 1 & 3);
		/* Mostly near the start (commands use low addresses), sometimes anywhere. */
		uint32_t offset = op & 0x80 ? fi_u32(&in) % FLASH_SIZE : fi_u8(&in);
		if (offset > FLASH_SIZE - len)
			offset = FLASH_SIZE - len;
		if (op & 1)
			pflash_write(&f, offset, fi_u64(&in), len);
		else
			pflash_read(&f, offset, len);
	}
	return 0;
}
