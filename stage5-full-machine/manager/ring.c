// SPDX-License-Identifier: MIT
/*
 * ring.c - the scrollback ring buffer. Only one count moves (bytes ever written); where the
 * oldest byte lives follows from it, so there is no "full or empty?" ambiguity to get wrong.
 */
#define _GNU_SOURCE /* memmem */
#include "ring.h"

#include <string.h>

void ring_init(struct ring *r, char *storage, size_t size)
{
	r->buf = storage;
	r->size = size;
	r->written = 0;
}

/* Append; once full, each new byte replaces the oldest. Only the last SIZE bytes matter. */
void ring_write(struct ring *r, const void *data, size_t len)
{
	const char *p = data;

	if (len > r->size) {
		r->written += len - r->size;
		p += len - r->size;
		len = r->size;
	}
	size_t at = r->written % r->size;
	size_t first = len < r->size - at ? len : r->size - at;
	memcpy(r->buf + at, p, first);
	memcpy(r->buf, p + first, len - first); /* the part that wraps to the start */
	r->written += len;
}

size_t ring_len(const struct ring *r)
{
	return r->written < r->size ? (size_t)r->written : r->size;
}

/* Copy the kept bytes, oldest first, into OUT; when OUT is short, the newest of them. */
size_t ring_copy(const struct ring *r, char *out, size_t out_len)
{
	size_t len = ring_len(r), skip = len > out_len ? len - out_len : 0;
	uint64_t start = r->written - len + skip;

	len -= skip;
	for (size_t done = 0; done < len;) {
		size_t at = (start + done) % r->size;
		size_t n = len - done < r->size - at ? len - done : r->size - at;
		memcpy(out + done, r->buf + at, n);
		done += n;
	}
	return len;
}

/* Does the scrollback hold TEXT? It may straddle the wrap point: search a straight copy. */
bool ring_contains(const struct ring *r, const char *text, char *scratch, size_t scratch_len)
{
	size_t n = ring_copy(r, scratch, scratch_len);

	return memmem(scratch, n, text, strlen(text)) != NULL;
}
