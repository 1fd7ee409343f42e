/*
 * guest_virt.c - strings in and buffers out by guest-virtual address (see guest_virt.h).
 *
 * Both directions go page by page: a walk gives the page's gpa and size, and the piece of
 * the range inside that page (a "chunk") is the most that can be touched through one host
 * pointer. A chunk never assumes that the next virtual page is the next physical one.
 */
#include "guest_virt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cpu_modes.h"

static int fail(struct gv_error *err, enum gv_fault fault, uint64_t offset, uint64_t gva,
		int code)
{
	err->fault = fault;
	err->offset = offset;
	err->gva = gva;
	return code;
}

/* Walk the page holding gva (byte `offset` of a range); on failure say so in *err. */
static int translate(const struct guest_virt *gv, uint64_t offset, uint64_t gva,
		     struct page_walk *w, struct gv_error *err)
{
	int ret = page_walk(gv->mem, &gv->regs, gva, w);
	if (ret) {
		err->walk = *w;
		return fail(err, GV_WALK, offset, gva, ret);
	}
	return 0;
}

/*
 * A range that runs past the top of the address space wraps to address 0: no CPU does that
 * in 64-bit mode (it is a #GP), so we report it as the non-canonical address it is.
 */
static int wrapped(struct gv_error *err, uint64_t offset)
{
	memset(&err->walk, 0, sizeof(err->walk));
	err->walk.fault = WALK_NON_CANONICAL;
	return fail(err, GV_WALK, offset, 0, -EINVAL);
}

/* Bytes from gva to the end of its page, or fewer if the range ends first. */
static uint64_t chunk_length(uint64_t gva, uint64_t page_size, uint64_t left)
{
	uint64_t to_end = page_size - (gva & (page_size - 1));
	return to_end < left ? to_end : left;
}

/* How many of the n bytes from gpa are RAM: all, a leading part (RAM ends inside), or none. */
static uint64_t ram_bytes(const struct guest_memory *mem, uint64_t gpa, uint64_t n)
{
	if (gpa >= mem->size)
		return 0;
	return n < mem->size - gpa ? n : mem->size - gpa;
}

static int not_ram(struct gv_error *err, const struct page_walk *w, uint64_t offset,
		   uint64_t gva, uint64_t gpa)
{
	err->walk = *w;
	err->gpa = gpa;
	return fail(err, GV_NOT_RAM, offset, gva, -EFAULT);
}

void *gva_to_hva(const struct guest_virt *gv, uint64_t gva, struct page_walk *w,
		 struct gv_error *err)
{
	memset(err, 0, sizeof(*err));
	if (translate(gv, 0, gva, w, err))
		return NULL;
	void *hva = gpa_to_hva(gv->mem, w->gpa, 1);
	if (!hva)
		not_ram(err, w, 0, gva, w->gpa);
	return hva;
}

long gv_read_string(const struct guest_virt *gv, uint64_t gva, char *buf, uint64_t max,
		    struct gv_error *err)
{
	struct page_walk w;
	uint64_t done = 0;

	memset(err, 0, sizeof(*err));
	while (done < max) {
		uint64_t at = gva + done;
		if (at < gva)
			return wrapped(err, done);
		int ret = translate(gv, done, at, &w, err);
		if (ret)
			return ret;
		uint64_t n = chunk_length(at, w.page_size, max - done);
		uint64_t in_ram = ram_bytes(gv->mem, w.gpa, n);
		const char *src = in_ram ? gpa_to_hva(gv->mem, w.gpa, in_ram) : NULL;
		const char *nul = src ? memchr(src, '\0', in_ram) : NULL;
		uint64_t take = nul ? (uint64_t)(nul - src) + 1 : in_ram;
		if (take)
			memcpy(buf + done, src, take);
		done += take;
		if (nul)
			return (long)done - 1;
		if (in_ram < n)
			return not_ram(err, &w, done, at + in_ram, w.gpa + in_ram);
	}
	err->bound = max;
	return fail(err, GV_NO_NUL, max, gva, -EINVAL);
}

/* One page's piece of a write: where it goes, and the walk that said so. */
struct chunk {
	uint64_t offset, gva, len;
	uint8_t *hva;
	struct page_walk walk;
};

/* Translate every page of the buffer and check it is writable RAM. Nothing is written yet. */
static int plan_write(const struct guest_virt *gv, uint64_t gva, uint64_t len,
		      struct chunk *chunks, int *nchunks, struct gv_error *err)
{
	uint64_t done = 0;
	for (*nchunks = 0; done < len; (*nchunks)++) {
		struct chunk *c = &chunks[*nchunks];
		if (*nchunks == GV_WRITE_MAX_PAGES) {
			err->bound = GV_WRITE_MAX_PAGES;
			return fail(err, GV_TOO_BIG, done, gva + done, -EINVAL);
		}
		c->offset = done;
		c->gva = gva + done;
		if (c->gva < gva)
			return wrapped(err, done);
		int ret = translate(gv, done, c->gva, &c->walk, err);
		if (ret)
			return ret;
		c->len = chunk_length(c->gva, c->walk.page_size, len - done);
		uint64_t in_ram = ram_bytes(gv->mem, c->walk.gpa, c->len);
		if (in_ram < c->len)
			return not_ram(err, &c->walk, done + in_ram, c->gva + in_ram,
				       c->walk.gpa + in_ram);
		if (!c->walk.writable) {
			err->walk = c->walk;
			err->gpa = c->walk.gpa;
			return fail(err, GV_READ_ONLY, done, c->gva, -EFAULT);
		}
		c->hva = gpa_to_hva(gv->mem, c->walk.gpa, c->len);
		done += c->len;
	}
	return 0;
}

/* Does [gpa, gpa + len) touch [start, end)? If so, *first is the first byte that does. */
static bool overlaps(uint64_t gpa, uint64_t len, uint64_t start, uint64_t end, uint64_t *first)
{
	if (gpa >= end || start >= gpa + len)
		return false;
	*first = gpa > start ? gpa : start;
	return true;
}

static int hits_table(struct gv_error *err, const struct chunk *c, uint64_t first,
		      uint64_t table, int level)
{
	err->walk = c->walk;
	err->gpa = first;
	err->table = table;
	err->table_level = level;
	return fail(err, GV_PAGE_TABLE, c->offset + (first - c->walk.gpa),
		    c->gva + (first - c->walk.gpa), -EFAULT);
}

/* No chunk may land on a table of any chunk's walk, nor in the host's table pool. */
static int check_no_tables(const struct guest_virt *gv, const struct chunk *chunks, int n,
			   struct gv_error *err)
{
	uint64_t first;
	for (int i = 0; i < n; i++) {
		const struct chunk *c = &chunks[i];
		for (int j = 0; j < n; j++) {
			const struct page_walk *w = &chunks[j].walk;
			for (int t = 0; t < w->ntables; t++)
				if (overlaps(c->walk.gpa, c->len, w->tables[t],
					     w->tables[t] + PAGE_SIZE, &first))
					return hits_table(err, c, first, w->tables[t],
							  WALK_LEVELS - t);
		}
		if (overlaps(c->walk.gpa, c->len, gv->pool_start, gv->pool_end, &first))
			return hits_table(err, c, first, first & ~(PAGE_SIZE - 1), 0);
	}
	return 0;
}

int gv_write(const struct guest_virt *gv, uint64_t gva, const void *src, uint64_t len,
	     struct gv_error *err)
{
	struct chunk chunks[GV_WRITE_MAX_PAGES];
	int n, ret;

	memset(err, 0, sizeof(*err));
	ret = plan_write(gv, gva, len, chunks, &n, err);
	if (!ret)
		ret = check_no_tables(gv, chunks, n, err);
	if (ret)
		return ret;
	for (int i = 0; i < n; i++)
		memcpy(chunks[i].hva, (const uint8_t *)src + chunks[i].offset, chunks[i].len);
	return 0;
}

static void describe_table(const struct guest_virt *gv, const struct gv_error *err, char *buf,
			   unsigned len)
{
	if (err->table_level)
		snprintf(buf, len, "gpa 0x%llx is in a page table: the %s this buffer is "
			 "translated through", (unsigned long long)err->gpa,
			 walk_level_name(err->table_level));
	else
		snprintf(buf, len, "gpa 0x%llx is in the host's page-table pool (0x%llx-0x%llx)",
			 (unsigned long long)err->gpa, (unsigned long long)gv->pool_start,
			 (unsigned long long)gv->pool_end - 1);
}

char *gv_describe(const struct guest_virt *gv, const struct gv_error *err, char *buf,
		  unsigned len)
{
	char why[200];
	switch (err->fault) {
	case GV_OK:
		snprintf(why, sizeof(why), "no error");
		break;
	case GV_WALK:
		walk_describe(&err->walk, why, sizeof(why));
		break;
	case GV_NOT_RAM:
		snprintf(why, sizeof(why), "gpa 0x%llx is not RAM (RAM ends at 0x%llx)",
			 (unsigned long long)err->gpa, (unsigned long long)gv->mem->size);
		break;
	case GV_READ_ONLY:
		snprintf(why, sizeof(why), "the guest maps gpa 0x%llx read-only",
			 (unsigned long long)err->gpa);
		break;
	case GV_PAGE_TABLE:
		describe_table(gv, err, why, sizeof(why));
		break;
	case GV_NO_NUL:
		snprintf(buf, len, "no NUL in the first %llu bytes",
			 (unsigned long long)err->bound);
		return buf;
	case GV_TOO_BIG:
		snprintf(buf, len, "the buffer spans more than %llu pages",
			 (unsigned long long)err->bound);
		return buf;
	}
	snprintf(buf, len, "byte %llu at gva 0x%llx: %s", (unsigned long long)err->offset,
		 (unsigned long long)err->gva, why);
	return buf;
}
