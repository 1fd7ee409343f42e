/*
 * guest_memory.c - allocate guest RAM and translate guest-physical addresses safely.
 * See guest_memory.h for the rule every later stage follows.
 */
#include "guest_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * RAM starts on a 2 MiB boundary of the host's address space, so that the host can back each
 * 2 MiB of guest memory with one huge page and KVM map it with one large page-table entry
 * (fewer faults, fewer TLB misses; it matters for a Linux guest, stage 4).
 */
#define RAM_ALIGN (2ull << 20)

int guest_memory_alloc(struct guest_memory *mem, uint64_t size)
{
	/* MAP_NORESERVE: a 1 GiB guest that touches 2 MiB costs 2 MiB of host memory. */
	uint8_t *p = mmap(NULL, size + RAM_ALIGN, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* Keep the aligned part, give back the slack before and after it. */
	uint8_t *start = (uint8_t *)(((uintptr_t)p + RAM_ALIGN - 1) & ~(uintptr_t)(RAM_ALIGN - 1));
	if (start > p)
		munmap(p, start - p);
	munmap(start + size, p + RAM_ALIGN - start);
	mem->host = start;
	mem->size = size;
	mem->above_4g = 0;   /* one range, until a PC splits it */
	return 0;
}

void guest_memory_free(struct guest_memory *mem)
{
	if (mem->host)
		munmap(mem->host, mem->size);
	mem->host = NULL;
	mem->size = mem->above_4g = 0;
}

void guest_memory_split(struct guest_memory *mem, uint64_t above_4g)
{
	mem->above_4g = above_4g;
}

/* Record host access to [off, off + len) for a migration in progress (guest_memory.h). */
static void *touched(const struct guest_memory *mem, uint64_t off, uint64_t len)
{
	if (mem->host_dirty && len)
		for (uint64_t p = off >> 12; p <= (off + len - 1) >> 12; p++)
			__atomic_fetch_or(&mem->host_dirty[p / 64], 1ull << (p % 64),
					  __ATOMIC_RELAXED);
	return mem->host + off;
}

void *gpa_to_hva(const struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
	/* Written so that no addition can overflow: gpa and len both come from the guest. */
	uint64_t below = mem->size - mem->above_4g;
	if (gpa < below)
		return len <= below - gpa ? touched(mem, gpa, len) : NULL;
	/* Above 4 GiB the host offset is the guest address less the hole's size. */
	uint64_t above = mem->above_4g;
	if (gpa < GUEST_MEMORY_4G || gpa - GUEST_MEMORY_4G >= above ||
	    len > above - (gpa - GUEST_MEMORY_4G))
		return NULL;
	return touched(mem, below + (gpa - GUEST_MEMORY_4G), len);
}

long guest_memory_load_file(const struct guest_memory *mem, uint64_t gpa, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (st.st_size == 0) {
		close(fd);
		return -ENODATA;
	}
	uint8_t *dst = gpa_to_hva(mem, gpa, (uint64_t)st.st_size);
	if (!dst) {
		close(fd);
		return -EFBIG;
	}
	long done = 0;
	while (done < st.st_size) {
		ssize_t n = read(fd, dst + done, st.st_size - done);
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;
			close(fd);
			return -err;
		}
		done += n;
	}
	close(fd);
	return done;
}
