/*
 * talk.c - the matrix-a guest: prints numbered lines, then halts.
 *
 * Every byte is an OUT to port 0xE9, so every byte is a VM exit, and matrix-a switches VMs
 * at every exit. Neo and Morpheus print lines of the same length, so their lines come out
 * strictly alternating: the order depends only on the sequence of exits, never on timing.
 * The host passes the number of lines in RSI (matrix-a --lines).
 */
#include "matrix-guest.h"

int main(uint64_t index, uint64_t lines)
{
	(void)index;
	for (unsigned n = 1; n <= lines; n++) {
		print("line ");
		print_uint(n);
		print("\n");
	}
	return 0;
}
