/*
 * stream.h - the migration stream: how a running machine is written down, byte by byte, so
 * that another process (or the same one, later) can carry on with it.
 *
 * Teaches: a self-describing, versioned, checksummed format, and a reader that trusts
 * nothing. A snapshot file and a live migration over TCP are the same stream:
 *
 *   header   "MINIVMIG"  u32 version  u32 config_len  config text  u32 crc32(config)
 *   section  char name[16]  u32 version  u32 length  u32 crc32(payload)  payload[length]
 *   ...      (vCPUs, KVM's in-kernel devices, each device model, RAM pages, in any order;
 *             RAM may come many times: pre-copy sends pages again when the guest dirtied them)
 *   end      a section named "end", length 0
 *
 * All integers are little-endian. The configuration is text, one "key=value" a line (machine,
 * ram, cpus, devices, disks): the destination compares it with its own before it loads
 * anything and refuses with one line naming the first difference.
 *
 * A RAM section's payload is a run of page records: u64 page number (bit 63: the page is all
 * zeros, no data follows), then 4096 bytes unless zero. Zero pages are never sent in the first
 * pass; a later pass sends the zero flag for a page that became zero. That is a live
 * migration's RAM. A snapshot file (version 2) has instead one "ram-image" section and, after
 * the end marker, RAM at its offset in the file with holes for zero pages (ramfile.h).
 */
#ifndef MIGRATION_STREAM_H
#define MIGRATION_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STREAM_MAGIC "MINIVMIG"
#define STREAM_VERSION 2   /* 2: snapshot files keep RAM as a sparse image (ramfile.h) */
#define STREAM_NAME_LEN 16
#define STREAM_MAX_CONFIG 4096
#define STREAM_MAX_SECTION (64u << 20)   /* bigger is a corrupt length, not a device */
#define STREAM_PAGE_SIZE 4096u
#define STREAM_PAGE_ZERO (1ull << 63)
#define STREAM_PAGES_PER_SECTION 256u    /* a RAM section: at most 1 MiB of pages */

/* One end of a stream: a file or a socket, with what went through it. */
struct stream {
	int fd;
	uint64_t bytes;          /* written or read so far */
	bool failed;             /* a write failed: the rest are skipped, the first why kept */
	double end_ms;           /* reading: when the end marker came (CLOCK_MONOTONIC, ms) */
	int answer_fd;           /* reading: where a "sync" is answered (-1: nowhere) */
	char why[256];
};

void stream_init(struct stream *s, int fd);

/* ---- writing ---- */
int stream_write_header(struct stream *s, const char *config);
int stream_write_section(struct stream *s, const char *name, uint32_t version,
			 const void *payload, uint32_t len);
int stream_write_end(struct stream *s);
/*
 * A "sync" section (length 0): the reader answers "OK sync" on its answer_fd when it gets
 * there, i.e. once it has taken in everything written before it. Socket buffers hold
 * megabytes: a writer's write() returning says nothing about the reader having caught up.
 */
int stream_write_sync(struct stream *s);

/* A RAM section built page by page: add pages, flush when full (or at the end of a pass). */
struct ram_batch {
	uint8_t *buf;            /* STREAM_PAGES_PER_SECTION records at most */
	uint32_t len, pages;
};
int ram_batch_init(struct ram_batch *b);
void ram_batch_free(struct ram_batch *b);
/* Add page number `page` with its bytes (a zero page when data is NULL); flushes when full. */
int ram_batch_add(struct stream *s, struct ram_batch *b, uint64_t page, const void *data);
int ram_batch_flush(struct stream *s, struct ram_batch *b);

/* ---- reading: every error is one line in s->why and a negative errno ---- */
/* Magic, version, configuration text (NUL-terminated into config, cap >= STREAM_MAX_CONFIG+1). */
int stream_read_header(struct stream *s, char *config, size_t cap);

struct section {
	char name[STREAM_NAME_LEN + 1];
	uint32_t version, len;
	uint8_t *payload;        /* malloc'ed (len bytes); the reader's to free */
};
/*
 * The next section, its checksum verified. 0, 1 at the end marker, or a negative errno. A
 * "sync" section is answered (answer_fd) and skipped: callers never see one.
 */
int stream_read_section(struct stream *s, struct section *sec);

/*
 * Compare two configurations (this machine's and the stream's). 0 when they are the same,
 * else -EINVAL and one line in why naming the first key that differs.
 */
int stream_config_diff(const char *here, const char *there, char *why, size_t why_len);

/*
 * Walk a RAM section: for each record, page and data (NULL for a zero page). Pages at or
 * beyond max_pages are an error ("RAM larger than configured"): nothing of the section is
 * handed out before the whole section is checked. 0 or a negative errno with why.
 */
typedef void (*ram_page_fn)(void *opaque, uint64_t page, const uint8_t *data);
int stream_ram_section(const struct section *sec, uint64_t max_pages, ram_page_fn fn,
		       void *opaque, char *why, size_t why_len);

/* A section must be exactly this version and size (a device's state). 0 or -EINVAL + why. */
int stream_expect(const struct section *sec, uint32_t version, uint32_t len, char *why,
		  size_t why_len);

#endif
