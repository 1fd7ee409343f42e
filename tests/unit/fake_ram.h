/*
 * fake_ram.h - a "guest RAM" for unit tests: plain calloc()ed memory behind the same
 * struct guest_memory the VMM uses, so code that reaches guest memory through gpa_to_hva()
 * can be tested without KVM.
 */
#ifndef FAKE_RAM_H
#define FAKE_RAM_H

#include <stdint.h>
#include <stdlib.h>

#include "guest_memory.h"

static inline struct guest_memory *fake_ram(uint64_t size)
{
	/* calloc: every field not set here is off (above_4g: one range, a test of the split
	 * sets it; host_dirty: no migration recording pages); malloc left host_dirty garbage,
	 * which gpa_to_hva() then wrote a bit into (a SEGV under ASan's malloc) */
	struct guest_memory *mem = calloc(1, sizeof(*mem));
	mem->host = calloc(1, size);
	mem->size = size;
	return mem;
}

static inline void free_ram(struct guest_memory *mem)
{
	free(mem->host);
	free(mem);
}

#endif
