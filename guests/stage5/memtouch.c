/*
 * memtouch.c - a Linux guest program that proves the guest's RAM is really there: it takes
 * most of the memory the kernel calls available, writes a pattern into every page of it and
 * reads every page back. Teaches what "-m 4G" must mean to a guest: RAM above the PCI hole is
 * ordinary memory, every page of which keeps what was written (no page lands in the hole, no
 * two guest pages share one host page).
 *
 *   memtouch PERCENT [STRIDE]   use PERCENT of MemAvailable; write one 64-bit word every
 *                               STRIDE bytes (default 4096: one per page, which is enough to
 *                               make the host back every page; 8 writes everything)
 *
 * Output: "memtouch: MemTotal N MiB, using M MiB", then "memtouch: pattern ok" with the time
 * the write and check passes took (for the lesson's figures, never asserted) and exit 0, or
 * "memtouch: FAIL ..." and exit 1. Built static (guests/stage5/guests.mk): the test guest's
 * initramfs has no C library.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* A field of /proc/meminfo, in KiB; 0 if missing. */
static uint64_t meminfo_kib(const char *field)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	uint64_t kib = 0;
	size_t n = strlen(field);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			kib = strtoull(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

/* The word each address gets: different for every word and every run of the check. */
static uint64_t pattern(uint64_t offset)
{
	return (offset * 0x9e3779b97f4a7c15ull) ^ 0x6d696e69766973ull;
}

int main(int argc, char **argv)
{
	unsigned percent = argc > 1 ? atoi(argv[1]) : 90;
	uint64_t stride = argc > 2 ? strtoull(argv[2], NULL, 0) : 4096;
	if (percent < 1 || percent > 99 || stride < 8 || stride % 8) {
		fprintf(stderr, "usage: memtouch PERCENT(1-99) [STRIDE(multiple of 8)]\n");
		return 2;
	}
	uint64_t total = meminfo_kib("MemTotal") >> 10;
	uint64_t size = (meminfo_kib("MemAvailable") << 10) / 100 * percent;
	size &= ~4095ull;
	printf("memtouch: MemTotal %llu MiB, using %llu MiB\n", (unsigned long long)total,
	       (unsigned long long)(size >> 20));
	fflush(stdout);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("memtouch: FAIL mmap of %llu MiB\n", (unsigned long long)(size >> 20));
		return 1;
	}
	/* Each page's word sits at a different place in it, so that a page that showed up in
	 * two places would hold the wrong word at one of them. */
	for (uint64_t off = 0; off + 8 <= size; off += stride) {
		uint64_t at = off + ((off / stride) % (stride / 8)) * 8 % stride;
		if (at + 8 <= size)
			memcpy(p + at, &(uint64_t){ pattern(at) }, 8);
	}
	uint64_t bad = 0, first = 0;
	for (uint64_t off = 0; off + 8 <= size; off += stride) {
		uint64_t at = off + ((off / stride) % (stride / 8)) * 8 % stride, v;
		if (at + 8 > size)
			continue;
		memcpy(&v, p + at, 8);
		if (v != pattern(at) && !bad++)
			first = at;
	}
	if (bad) {
		printf("memtouch: FAIL %llu words wrong, the first at offset 0x%llx\n",
		       (unsigned long long)bad, (unsigned long long)first);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("memtouch: pattern ok (%llu MiB, a word every %llu bytes, %.1f s)\n",
	       (unsigned long long)(size >> 20), (unsigned long long)stride,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
