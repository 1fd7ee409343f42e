/*
 * ramfile.c - the sparse RAM image of a snapshot file (ramfile.h): written with one pwrite per
 * run of non-zero pages straight from guest RAM, read back with SEEK_DATA / SEEK_HOLE so that
 * holes cost nothing, checked with a CRC over the pages that are not zero.
 */
#define _GNU_SOURCE   /* SEEK_DATA, SEEK_HOLE */
#include "ramfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define PAGE STREAM_PAGE_SIZE
#define PAGEMAP_CHUNK 4096u
#define IO_MAX (64u << 20)   /* one pread or pwrite: at most 64 MiB */

struct image_desc {
	uint64_t offset, size, pages;
	uint32_t crc;
};

void ram_find_untouched(int pagemap, const uint8_t *host, uint64_t n, bool *untouched)
{
	static uint64_t e[PAGEMAP_CHUNK];
	for (uint64_t done = 0; done < n; done += PAGEMAP_CHUNK) {
		uint64_t k = n - done < PAGEMAP_CHUNK ? n - done : PAGEMAP_CHUNK;
		off_t at = (off_t)((uintptr_t)(host + done * PAGE) / PAGE) * 8;
		ssize_t got = pagemap < 0 ? -1 : pread(pagemap, e, k * 8, at);
		for (uint64_t i = 0; i < k; i++)   /* bit 63 present, bit 62 swapped */
			untouched[done + i] = got == (ssize_t)(k * 8) && !(e[i] >> 62);
	}
}

bool ram_page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;
	for (unsigned i = 0; i < PAGE / 8; i += 4)
		if (q[i] | q[i + 1] | q[i + 2] | q[i + 3])
			return false;
	return true;
}

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The CRC of one non-zero page: its number, then its bytes. */
static uint32_t crc_page(uint32_t crc, uint64_t page, const uint8_t *data)
{
	uint8_t n[8];
	for (int i = 0; i < 8; i++)
		n[i] = page >> (8 * i);
	return crc32(crc32(crc, n, 8), data, PAGE);
}

/* ---- writing ---------------------------------------------------------------------------- */

/* Which pages are not zero (a bitmap), their count and CRC: the descriptor's figures. */
static uint64_t *scan(const uint8_t *ram, uint64_t pages, struct image_desc *d)
{
	uint64_t *bits = calloc((pages + 63) / 64, 8);
	static bool untouched[PAGEMAP_CHUNK];
	if (!bits)
		return NULL;
	int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	d->crc = crc32(0, Z_NULL, 0);
	d->pages = 0;
	for (uint64_t p = 0; p < pages; p++) {
		if (p % PAGEMAP_CHUNK == 0)
			ram_find_untouched(pagemap, ram + p * PAGE, pages - p < PAGEMAP_CHUNK ?
					   pages - p : PAGEMAP_CHUNK, untouched);
		if (untouched[p % PAGEMAP_CHUNK] || ram_page_is_zero(ram + p * PAGE))
			continue;
		bits[p / 64] |= 1ull << (p % 64);
		d->pages++;
		d->crc = crc_page(d->crc, p, ram + p * PAGE);
	}
	if (pagemap >= 0)
		close(pagemap);
	return bits;
}

static bool bit(const uint64_t *bits, uint64_t p)
{
	return bits[p / 64] >> (p % 64) & 1;
}

/* Each run of non-zero pages, one pwrite (at most IO_MAX) from RAM to its place in the file. */
static int write_runs(struct stream *s, const uint8_t *ram, uint64_t pages,
		      const uint64_t *bits, uint64_t offset)
{
	for (uint64_t p = 0; p < pages;) {
		if (!bit(bits, p)) {
			p++;
			continue;
		}
		uint64_t n = 1;
		while (p + n < pages && bit(bits, p + n) && n * PAGE < IO_MAX)
			n++;
		for (uint64_t done = 0; done < n * PAGE;) {
			ssize_t w = pwrite(s->fd, ram + p * PAGE + done, n * PAGE - done,
					   offset + p * PAGE + done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				int err = w < 0 ? -errno : -EIO;
				snprintf(s->why, sizeof(s->why), "the RAM image: write: %s",
					 w < 0 ? strerror(errno) : "nothing written");
				return err;
			}
			done += w;
			s->bytes += w;
		}
		p += n;
	}
	return 0;
}

int ram_image_write(struct stream *s, const uint8_t *ram, uint64_t size)
{
	uint64_t pages = size / PAGE;
	struct image_desc d = { .size = size };
	uint64_t *bits = scan(ram, pages, &d);
	if (!bits) {
		snprintf(s->why, sizeof(s->why), "no memory for the RAM image's bitmap");
		return -ENOMEM;
	}
	/* The image starts at the first aligned offset after the section and the end marker. */
	uint64_t meta = s->bytes + 2 * (STREAM_NAME_LEN + 12) + RAM_IMAGE_DESC_LEN;
	d.offset = (meta + RAM_IMAGE_ALIGN - 1) / RAM_IMAGE_ALIGN * RAM_IMAGE_ALIGN;
	uint8_t p[RAM_IMAGE_DESC_LEN] = { 0 };
	for (int i = 0; i < 8; i++) {
		p[i] = d.offset >> (8 * i);
		p[8 + i] = d.size >> (8 * i);
		p[16 + i] = d.pages >> (8 * i);
	}
	for (int i = 0; i < 4; i++)
		p[24 + i] = d.crc >> (8 * i);
	int err = stream_write_section(s, RAM_IMAGE_SECTION, STREAM_VERSION, p, sizeof(p));
	if (!err)
		err = stream_write_end(s);
	if (!err)
		err = write_runs(s, ram, pages, bits, d.offset);
	free(bits);
	/* The file as long as the image: a trailing hole is part of it (ls -l shows it). */
	if (!err && ftruncate(s->fd, d.offset + size) < 0) {
		err = -errno;
		snprintf(s->why, sizeof(s->why), "the RAM image: ftruncate: %s", strerror(errno));
	}
	return err;
}

/* ---- reading ------------------------------------------------------------------------------ */

static uint64_t get(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Pages [first, first + n) are a hole in the file: zero those of RAM that are not. */
static void zero_pages(uint8_t *ram, uint64_t first, uint64_t n, int pagemap)
{
	static bool untouched[PAGEMAP_CHUNK];
	for (uint64_t done = 0; done < n; done += PAGEMAP_CHUNK) {
		uint64_t k = n - done < PAGEMAP_CHUNK ? n - done : PAGEMAP_CHUNK;
		uint8_t *at = ram + (first + done) * PAGE;
		ram_find_untouched(pagemap, at, k, untouched);
		for (uint64_t i = 0; i < k; i++)
			if (!untouched[i] && !ram_page_is_zero(at + i * PAGE))
				memset(at + i * PAGE, 0, PAGE);
	}
}

/* Pages [first, first + n) hold data in the file: read them into RAM, count and CRC them. */
static int read_pages(int fd, const struct image_desc *d, uint8_t *ram, uint64_t first,
		      uint64_t n, uint64_t *pages, uint32_t *crc, char *why, size_t why_len)
{
	uint8_t *dst = ram + first * PAGE;
	for (uint64_t done = 0; done < n * PAGE;) {
		size_t want = n * PAGE - done < IO_MAX ? n * PAGE - done : IO_MAX;
		ssize_t r = pread(fd, dst + done, want, d->offset + first * PAGE + done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;
			fail(why, why_len, "the RAM image: read: %s", strerror(-err));
			return err;
		}
		if (r == 0) {   /* the file shrank since parse() looked */
			fail(why, why_len, "stream truncated in the RAM image");
			return -EPIPE;
		}
		done += r;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (ram_page_is_zero(dst + i * PAGE))
			continue;   /* a zero page stored as data: the writer left it out */
		(*pages)++;
		*crc = crc_page(*crc, first + i, dst + i * PAGE);
	}
	return 0;
}

/* The descriptor, checked against this machine and the file's length. */
static int parse(int fd, const struct section *sec, uint64_t size, struct image_desc *d,
		 char *why, size_t why_len)
{
	struct stat st;
	int err = stream_expect(sec, STREAM_VERSION, RAM_IMAGE_DESC_LEN, why, why_len);
	if (err)
		return err;
	d->offset = get(sec->payload, 8);
	d->size = get(sec->payload + 8, 8);
	d->pages = get(sec->payload + 16, 8);
	d->crc = get(sec->payload + 24, 4);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return fail(why, why_len, "a RAM image in a stream that is not a file");
	if (d->size != size)
		return fail(why, why_len, "RAM image of %llu MiB: the %llu MiB of RAM configured "
			    "here differ", (unsigned long long)(d->size >> 20),
			    (unsigned long long)(size >> 20));
	if (d->offset % PAGE || d->offset < RAM_IMAGE_ALIGN || d->pages > size / PAGE)
		return fail(why, why_len, "RAM image at offset %llu with %llu pages: the stream is "
			    "corrupt", (unsigned long long)d->offset,
			    (unsigned long long)d->pages);
	if ((uint64_t)st.st_size < d->offset + d->size)
		return fail(why, why_len, "stream truncated in the RAM image (the file has %llu "
			    "bytes, the image ends at %llu)", (unsigned long long)st.st_size,
			    (unsigned long long)(d->offset + d->size));
	return 0;
}

int ram_image_read(int fd, const struct section *sec, uint8_t *ram, uint64_t size, char *why,
		   size_t why_len)
{
	struct image_desc d;
	int err = parse(fd, sec, size, &d, why, why_len);
	if (err)
		return err;
	uint64_t pages = 0, end = d.offset + d.size;
	uint32_t crc = crc32(0, Z_NULL, 0);
	off_t resume = lseek(fd, 0, SEEK_CUR);   /* SEEK_DATA moves it; the stream goes on here */
	int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	for (uint64_t at = d.offset; at < end && !err;) {
		off_t data = lseek(fd, at, SEEK_DATA), hole;
		if (data < 0 && errno == ENXIO)
			data = end;                       /* nothing but a hole to the end */
		else if (data < 0)
			data = at;                        /* no SEEK_DATA here: all of it is data */
		if ((uint64_t)data > end)
			data = end;
		hole = data < (off_t)end ? lseek(fd, data, SEEK_HOLE) : (off_t)end;
		if (hole < 0 || (uint64_t)hole > end)
			hole = end;
		/* Whole pages: a block of data may start or end inside one (a file system's
		 * blocks smaller than a page); such a page is read, not zeroed. */
		uint64_t first = (data - d.offset) / PAGE, stop = (hole - d.offset + PAGE - 1) / PAGE;
		uint64_t from = (at - d.offset) / PAGE;
		if (first > from)
			zero_pages(ram, from, first - from, pagemap);
		if (stop > first)
			err = read_pages(fd, &d, ram, first, stop - first, &pages, &crc, why,
					 why_len);
		at = d.offset + (stop > first ? stop : first) * PAGE;
	}
	if (pagemap >= 0)
		close(pagemap);
	if (lseek(fd, resume, SEEK_SET) < 0 && !err)
		err = fail(why, why_len, "the RAM image: lseek: %s", strerror(errno));
	if (err)
		return err;
	if (pages != d.pages || crc != d.crc)
		return fail(why, why_len, "RAM image: %llu pages, checksum %08x, want %llu pages, "
			    "%08x: the file is corrupt", (unsigned long long)pages, crc,
			    (unsigned long long)d.pages, d.crc);
	return 0;
}
