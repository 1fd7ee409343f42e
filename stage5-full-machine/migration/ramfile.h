/*
 * ramfile.h - a snapshot file's RAM as a sparse image: guest RAM byte N at file offset
 * image + N, zero pages left as holes (MVisor's snapshot files do the same).
 *
 * Teaches: sparse files. A file may have holes - ranges never written, which read as zeros and
 * take no disk blocks. `ls -l` shows the file's length (here: more than the RAM), `du` the
 * blocks it takes (here: the pages that are not zero). lseek(SEEK_DATA / SEEK_HOLE) tells a
 * reader where the data is, so a restore reads only that.
 *
 * The snapshot file (stream version 2):
 *
 *   header, device sections ...                 (stream.h)
 *   section "ram-image"  u64 offset  u64 size  u64 pages  u32 crc  u32 0
 *   end marker
 *   (a hole up to offset, a multiple of RAM_IMAGE_ALIGN)
 *   offset: RAM, size bytes; the `pages` pages that are not zero written, the others holes
 *
 * crc is CRC-32 over each non-zero page in order: its page number (u64, little-endian), then
 * its 4096 bytes. Zero pages are left out, so a copy of the file that lost its holes (cp
 * without --sparse, a file system without holes) checks the same. A live migration has no
 * RAM image: it sends page records (stream.h), and a "ram-image" section in a stream that is
 * not a file is refused.
 */
#ifndef MIGRATION_RAMFILE_H
#define MIGRATION_RAMFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream.h"

#define RAM_IMAGE_SECTION "ram-image"
#define RAM_IMAGE_ALIGN (1u << 20)
#define RAM_IMAGE_DESC_LEN 32u

/*
 * Pages [0, n) of the mapping at host that the process never touched: /proc/self/pagemap says
 * neither present nor swapped, so they are zero, known without reading them (a read costs a
 * page fault each). pagemap < 0, or a short read: none counts as untouched.
 */
void ram_find_untouched(int pagemap, const uint8_t *host, uint64_t n, bool *untouched);
bool ram_page_is_zero(const uint8_t *p);

/*
 * The snapshot's end: the "ram-image" section, the end marker, then the RAM of size bytes at
 * ram written at its offset in the file, zero pages as holes, and the file made as long as
 * the image's end. s->fd must be a regular file written from offset 0. 0, or a negative
 * errno with one line in s->why.
 */
int ram_image_write(struct stream *s, const uint8_t *ram, uint64_t size);

/*
 * The restore's side: a "ram-image" section read from the file fd. Checks it against a RAM
 * of size bytes, reads the data (SEEK_DATA / SEEK_HOLE: holes are not read), zeroes the
 * pages of ram that are holes in the file (a page the process never touched already is),
 * then checks the page count and CRC. 0, or a negative errno with one line in why; after an
 * error RAM holds part of the image and the machine must not run.
 */
int ram_image_read(int fd, const struct section *sec, uint8_t *ram, uint64_t size, char *why,
		   size_t why_len);

#endif
