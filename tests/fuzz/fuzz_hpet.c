/*
 * fuzz_hpet.c - stage 5's HPET (board/hpet.c): general and timer registers at any offset,
 * size and byte mask, with a host clock that the fuzzer moves forward; the matches each
 * step delivers (one-shot, periodic, 32-bit mode, wrap-around).
 *
 * Teaches: a timer device turns guest numbers into deadlines: a period of 0 or 1, a
 * comparator behind the counter, 32-bit wrap-around, must never make the host loop or divide
 * by zero.
 */
#include <stdlib.h>

#include "board/hpet.h"
#include "fuzz_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hpet h;
	struct fuzz_input in = { data, size };
	uint64_t now = 1000;

	hpet_init(&h, -1);
	while (in.left > 0) {
		uint8_t op = fi_u8(&in);
		uint64_t offset = fi_u16(&in) & 0x3ff;
		now += fi_u32(&in);   /* the clock only goes forward */
		switch (op % 4) {
		case 0: {
			static const uint64_t masks[] = { 0xff, 0xffff, 0xffffffff, ~0ull };
			hpet_write_reg(&h, offset, fi_u64(&in), masks[fi_u8(&in) & 3], now);
			break;
		}
		case 1:
			hpet_read_reg(&h, offset, now);
			break;
		case 2:
			hpet_update(&h, now);
			break;
		case 3:
			hpet_counter(&h, now);
			hpet_timer_gsi(&h, fi_u8(&in) % HPET_TIMERS);
			break;
		}
	}
	return 0;
}
