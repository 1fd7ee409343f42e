/*
 * guest_memory.h - the guest's "physical" RAM, seen from the host.
 *
 * Guest RAM is nothing more than an anonymous mmap() in the VMM process. KVM is told
 * "guest-physical address 0 lives at this host address" (a memory slot), so every guest
 * physical address (GPA) has a host virtual address (HVA) at a fixed offset.
 *
 * The one rule of this file: the host NEVER dereferences a guest-supplied address without
 * asking gpa_to_hva() first. It checks the whole range [gpa, gpa + len) and answers NULL
 * when any byte falls outside RAM, so a hostile guest gets an error, never host memory.
 *
 * RAM is one allocation, but a PC (stage 5) shows it to the guest in two ranges: its last
 * `above_4g` bytes from 4 GiB, past the PCI hole, the rest at guest-physical 0. A range in
 * the hole, or one that runs from one RAM range into the hole, is outside RAM.
 */
#ifndef GUEST_MEMORY_H
#define GUEST_MEMORY_H

#include <stdint.h>
#include <stddef.h>

struct guest_memory {
	uint8_t *host;  /* where guest-physical 0 is mapped in this process */
	uint64_t size;  /* bytes of guest RAM, from guest-physical 0 (but see above_4g) */
	uint64_t above_4g;   /* the last bytes of it, shown at 4 GiB; 0: none (one range) */
	/*
	 * Stage 5's live migration: while it runs, a bitmap of the pages (by offset in the
	 * allocation) the VMM itself reached through gpa_to_hva() - device DMA, which KVM's
	 * dirty log does not see. NULL (always, before stage 5): nothing is recorded.
	 */
	uint64_t *host_dirty;
};

#define GUEST_MEMORY_4G (1ull << 32)

/* Map size bytes of zeroed anonymous memory. Returns 0 or a negative errno. */
int guest_memory_alloc(struct guest_memory *mem, uint64_t size);
void guest_memory_free(struct guest_memory *mem);
/* Show RAM as [0, size - above_4g) and [4 GiB, 4 GiB + above_4g) (size - above_4g < 4 GiB). */
void guest_memory_split(struct guest_memory *mem, uint64_t above_4g);

/* Host pointer for guest-physical [gpa, gpa + len), or NULL if any byte is outside RAM. */
void *gpa_to_hva(const struct guest_memory *mem, uint64_t gpa, uint64_t len);

/* Copy a whole file into guest RAM at gpa. Returns bytes loaded or a negative errno
 * (-ENOENT and friends from open, -EFBIG when it does not fit, -ENODATA when empty). */
long guest_memory_load_file(const struct guest_memory *mem, uint64_t gpa, const char *path);

#endif
