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
 */
#ifndef GUEST_MEMORY_H
#define GUEST_MEMORY_H

#include <stdint.h>
#include <stddef.h>

struct guest_memory {
	uint8_t *host;  /* where guest-physical 0 is mapped in this process */
	uint64_t size;  /* bytes of guest RAM, starting at guest-physical 0 */
};

/* Map size bytes of zeroed anonymous memory. Returns 0 or a negative errno. */
int guest_memory_alloc(struct guest_memory *mem, uint64_t size);
void guest_memory_free(struct guest_memory *mem);

/* Host pointer for guest-physical [gpa, gpa + len), or NULL if any byte is outside RAM. */
void *gpa_to_hva(const struct guest_memory *mem, uint64_t gpa, uint64_t len);

/* Copy a whole file into guest RAM at gpa. Returns bytes loaded or a negative errno
 * (-ENOENT and friends from open, -EFBIG when it does not fit, -ENODATA when empty). */
long guest_memory_load_file(const struct guest_memory *mem, uint64_t gpa, const char *path);

#endif
