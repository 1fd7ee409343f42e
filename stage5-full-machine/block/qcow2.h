/*
 * qcow2.h - the QCOW2 on-disk format: header fields, table entry bits, and the pure functions
 * (no file I/O) that qcow2.c builds on and tests/unit/test_stage5_block.c checks one by one.
 * The layout itself is drawn at the top of qcow2.c.
 */
#ifndef MINIVISOR_QCOW2_H
#define MINIVISOR_QCOW2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QCOW2_MAGIC	       0x514649fbu /* "QFI\xfb" */
#define QCOW2_V2_HEADER_LEN    72
#define QCOW2_V3_HEADER_LEN    104
#define QCOW2_MIN_CLUSTER_BITS 9	   /* 512 bytes */
#define QCOW2_MAX_CLUSTER_BITS 21	   /* 2 MiB */
#define QCOW2_MAX_L1_BYTES     (32u << 20) /* QEMU's limit too: an L1 beyond it is hostile */
#define QCOW2_MAX_RT_BYTES     (8u << 20)
#define QCOW2_MAX_BACKING_NAME 1023

/* incompatible_features: an opener that does not know a set bit must refuse the image */
#define QCOW2_INCOMPAT_DIRTY	   (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT	   (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE   (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2	   (1ull << 4)

/* header extensions, after the header, each: u32 type, u32 length, data padded to 8 */
#define QCOW2_EXT_END		 0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau

/* L1 and L2 entries */
#define QCOW2_OFLAG_COPIED     (1ull << 63) /* refcount is exactly 1: writable in place */
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO       (1ull << 0)	     /* v3: the cluster reads as zeros */
#define QCOW2_OFFSET_MASK      0x00fffffffffffe00ull /* bits 9..55: a cluster-aligned offset */

struct qcow2_header {
	uint32_t version;
	uint64_t backing_file_offset;
	uint32_t backing_file_size;
	uint32_t cluster_bits;
	uint64_t size; /* virtual disk size */
	uint32_t crypt_method;
	uint32_t l1_size; /* entries */
	uint64_t l1_table_offset;
	uint64_t refcount_table_offset;
	uint32_t refcount_table_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	/* version 3 (version 2 images read as: no features, refcount_order 4, length 72) */
	uint64_t incompatible_features;
	uint64_t compatible_features;
	uint64_t autoclear_features;
	uint32_t refcount_order; /* refcount width is 1 << refcount_order bits */
	uint32_t header_length;
	uint8_t compression_type; /* 0 zlib */
};

/*
 * Decode and validate the header in buf (the image's first bytes, len of them) for a file of
 * file_size bytes. Every offset and count is checked against the file and the format's limits
 * here, once, so later code can trust them. Returns 0, or a negative errno with the reason in
 * why (no file name: the caller adds it).
 */
int qcow2_parse_header(const uint8_t *buf, size_t len, uint64_t file_size, struct qcow2_header *h,
		       char *why, size_t why_len);

/* Encode h as a version 2 or 3 header into buf (QCOW2_V3_HEADER_LEN bytes; zeroed first). */
void qcow2_encode_header(const struct qcow2_header *h, uint8_t *buf);

/* ---- address arithmetic: guest offset -> (L1 index, L2 index, offset in cluster) ---- */

static inline uint64_t qcow2_l2_entries(unsigned int cluster_bits)
{
	return 1ull << (cluster_bits - 3); /* a cluster of 8-byte entries */
}

static inline uint64_t qcow2_l1_index(uint64_t guest, unsigned int cluster_bits)
{
	return guest >> (cluster_bits + cluster_bits - 3);
}

static inline uint64_t qcow2_l2_index(uint64_t guest, unsigned int cluster_bits)
{
	return (guest >> cluster_bits) & (qcow2_l2_entries(cluster_bits) - 1);
}

static inline uint64_t qcow2_in_cluster(uint64_t guest, unsigned int cluster_bits)
{
	return guest & ((1ull << cluster_bits) - 1);
}

/* L1 entries needed to map size bytes: one per L2 table's worth of guest clusters. */
static inline uint64_t qcow2_l1_entries_for(uint64_t size, unsigned int cluster_bits)
{
	unsigned int shift = cluster_bits + cluster_bits - 3;

	return (size >> shift) + ((size & ((1ull << shift) - 1)) != 0);
}

/* A compressed L2 entry: where the deflate stream starts and how many bytes may hold it. */
struct qcow2_compressed {
	uint64_t offset; /* byte offset, not cluster aligned */
	uint64_t length; /* bytes from offset to the end of the last 512-byte sector used */
};

struct qcow2_compressed qcow2_decode_compressed(uint64_t l2_entry, unsigned int cluster_bits);

/* ---- refcounts: entries of 1 << order bits packed in a big-endian refcount block ---- */

static inline uint64_t qcow2_refcounts_per_block(unsigned int cluster_bits, unsigned int order)
{
	return (1ull << (cluster_bits + 3)) >> order;
}

uint64_t qcow2_refcount_get(const uint8_t *block, unsigned int order, uint64_t index);
void qcow2_refcount_set(uint8_t *block, unsigned int order, uint64_t index, uint64_t value);

/* Big-endian fields, the byte order of every number in the file. */
static inline uint64_t qcow2_be64(const uint8_t *p)
{
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
	       (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	       (uint64_t)p[6] << 8 | p[7];
}

static inline uint32_t qcow2_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void qcow2_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline void qcow2_put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* ---- operations on an image file (qcow2.c) ---- */

struct qcow2_create_opts {
	uint64_t size;
	unsigned int cluster_bits;  /* 0: 16 (64 KiB clusters) */
	unsigned int version;	    /* 0: 3 */
	unsigned int refcount_bits; /* 0: 16; version 3 allows 1, 2, 4 ... 64 */
	const char *backing_file;   /* stored as given: a relative name is relative to the image */
	const char *backing_format; /* "raw" or "qcow2"; NULL: not recorded */
};

/* Create a new empty image at path (which must not exist). */
int qcow2_create(const char *path, const struct qcow2_create_opts *o, char *why, size_t why_len);

struct block_dev;

/* What qcow2-tool info prints, and what the unit tests look at. */
struct qcow2_info {
	struct qcow2_header h;
	char backing_file[QCOW2_MAX_BACKING_NAME + 1];
	char backing_format[16];
	uint64_t file_size;
};
int qcow2_get_info(struct block_dev *dev, struct qcow2_info *info);

/* Our own consistency check: the refcount of every cluster against the references to it. */
struct qcow2_check_result {
	uint64_t clusters;    /* in the file */
	uint64_t corruptions; /* refcount lower than the references: data may be lost */
	uint64_t leaks;	      /* refcount higher than the references: space is lost */
};
int qcow2_check(struct block_dev *dev, struct qcow2_check_result *res);

/* The refcount of the host cluster at byte offset host (for the unit tests). */
int qcow2_host_refcount(struct block_dev *dev, uint64_t host, uint64_t *refcount);

#endif
