/* SPDX-License-Identifier: MIT */
/*
 * ring.h - a console's scrollback: a fixed-size ring buffer that keeps the newest bytes, so
 * a console attached late (or after the VM ended) still shows how it started... or as much
 * of the end as fits.
 */
#ifndef MANAGER_RING_H
#define MANAGER_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring {
	char *buf;
	size_t size;
	uint64_t written; /* every byte ever written: the newest is at (written - 1) % size */
};

void ring_init(struct ring *r, char *storage, size_t size);
void ring_write(struct ring *r, const void *data, size_t len);
size_t ring_len(const struct ring *r);
size_t ring_copy(const struct ring *r, char *out, size_t out_len);
bool ring_contains(const struct ring *r, const char *text, char *scratch, size_t scratch_len);

#endif
