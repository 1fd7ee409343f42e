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
	struct guest_memory *mem = calloc(1, sizeof(*mem));   /* no dirty log, no slots */
	mem->host = calloc(1, size);
	mem->size = size;
	mem->above_4g = 0;   /* one range; a test of the split sets it */
	return mem;
}

static inline void free_ram(struct guest_memory *mem)
{
	free(mem->host);
	free(mem);
}

#endif
