/*
 * fuzz_ops.h - what every libFuzzer target of tests/fuzz/ shares: the fuzzer's bytes read as
 * a stream of numbers, and a small "guest" that replays them as a guest would act: write
 * bytes into its RAM, read and write device registers through the machine's own I/O bus.
 *
 * Teaches: a device model is reached only through its registers and the RAM it reads by DMA,
 * so a fuzz target needs nothing more than those two doors and a way to pick addresses that
 * land on them. A range is named by its index on the bus and an offset inside it (modulo its
 * length), so most random bytes hit a real register instead of an empty port.
 */
#ifndef FUZZ_OPS_H
#define FUZZ_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "guest_memory.h"
#include "pci.h"

/* The fuzzer's input, consumed front to back; reads past the end give zeros. */
struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

uint8_t fi_u8(struct fuzz_input *in);
uint16_t fi_u16(struct fuzz_input *in);
uint32_t fi_u32(struct fuzz_input *in);
uint64_t fi_u64(struct fuzz_input *in);
/* Up to max bytes, at most what is left: returns how many were copied. */
size_t fi_bytes(struct fuzz_input *in, void *out, size_t max);

/* Guest RAM for one input: calloc()ed, as tests/unit/fake_ram.h does. */
struct guest_memory *fuzz_ram(uint64_t size);
void fuzz_ram_free(struct guest_memory *mem);

/*
 * A target's own operation (op 3 of the stream): deliver a packet, run a timer, press a key.
 * It may read its arguments from in.
 */
typedef void (*fuzz_hook_fn)(void *ctx, struct fuzz_input *in);

/*
 * Replay in as guest actions until it runs out or max_ops were done:
 *   op 0  write 1..256 bytes into RAM at a fuzzed address
 *   op 1  write 1, 2, 4 or 8 bytes to a register: range index, offset, value
 *   op 2  read a register (the device's side effects of reads: FIFOs, clear-on-read)
 *   op 3  the target's hook, when it has one
 *   op 4  write a 32-bit value into RAM (a pointer, a length, a doorbell index)
 */
void fuzz_ops_run(struct io_bus *bus, struct guest_memory *mem, struct fuzz_input *in,
		  fuzz_hook_fn hook, void *ctx, unsigned max_ops);

/*
 * What firmware does before the guest: give every BAR of every function an address, turn on
 * I/O, memory decoding and bus mastering, so that the fuzzer starts where a driver starts.
 */
void fuzz_pci_firmware(struct pci_host *host);

/* Silence the devices' one-line complaints unless FUZZ_VERBOSE is set (speed). */
void fuzz_quiet(void);

#endif
