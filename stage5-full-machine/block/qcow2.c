/*
 * qcow2.c - QEMU's copy-on-write disk format, written from its specification
 * (QEMU docs/interop/qcow2.txt), versions 2 and 3.
 *
 * A QCOW2 file is an array of clusters (512 B .. 2 MiB, 64 KiB by default). The guest's disk
 * is cut into clusters of the same size, and a two-level table says where each guest cluster
 * lives in the file, if anywhere. A guest cluster that was never written has no host cluster
 * at all: the file holds only what the guest wrote, which is why a fresh 10 GiB image is 200
 * KiB. Every host cluster has a reference count, so that space can be shared (snapshots,
 * compressed clusters) and freed.
 *
 *   image file (clusters)                      guest disk
 *   +----------------------+
 *   | 0 header             |--l1_table_offset--.
 *   |   backing file name  |--refcount_table_offset--------.
 *   +----------------------+                   |            |
 *   | L1 table             |<------------------'            |
 *   |  [0] --------------------.                            |
 *   |  [1] = 0 (unallocated)|  |                            |
 *   +----------------------+  |                             |
 *   | refcount table       |<--|----------------------------'
 *   |  [0] --------------------|--.
 *   +----------------------+  |  |
 *   | refcount block       |<-|--'  one count per host cluster (16 bits by default)
 *   +----------------------+  |
 *   | L2 table             |<-'  [0] -----.                   +-------------------+
 *   |  [0] ------------------------.      |                   | guest cluster 0   |
 *   |  [1] = 0: backing file or zeros     |                   | guest cluster 1   |
 *   |  [2] = compressed: byte offset+size |                   | guest cluster 2   |
 *   +----------------------+      |       |                   |   ...             |
 *   | data cluster         |<-----'  = guest cluster 0        +-------------------+
 *   | compressed, packed   |<-- [2]  (deflate stream, 512-byte sectors)
 *   +----------------------+
 *
 * Lookup of guest offset g, with n = cluster_bits and 8-byte entries (an L2 table maps
 * 2^(n-3) clusters): L1 index = g >> (2n - 3), L2 index = (g >> n) mod 2^(n-3), and
 * g mod 2^n is the byte in the cluster. qcow2.h has the arithmetic; test_stage5_block.c
 * checks it.
 *
 * Allocation and the write order. A write to a guest cluster that has no host cluster of its
 * own (unallocated, backed by the backing file, compressed, or "reads as zero") allocates one.
 * The file must stay consistent if the process dies between any two writes (SIGKILL, power
 * cut); QEMU's `qemu-img check` is the judge. Two rules give that:
 *
 *   1. A cluster's refcount goes up BEFORE anything points at it, and down only AFTER nothing
 *      points at it any more. Broken, a cluster is in use with refcount 0: the next allocation
 *      hands it out again and two guest clusters share one host cluster (corruption).
 *   2. A cluster's contents are written BEFORE anything points at it: a pointer to a
 *      half-written L2 table sends reads into garbage.
 *
 * So an allocating write goes:
 *
 *   a. find free clusters (refcount 0), extend the file over them
 *   b. write the data (or the new, zeroed L2 table) into them; still free: a crash here
 *      leaves garbage in free space, which is clean
 *   c. their refcounts := 1 (new refcount blocks first if needed, same rules)
 *   d. barrier (fdatasync): b and c are on the disk
 *   e. the L2 (or L1) entries that link them in
 *
 * and a freed cluster goes: unlink; barrier; refcount - 1. Dying between c and e leaves
 * clusters with a refcount and no reference: a leak, which qemu-img check reports as leaked
 * space (exit status 3, not corruption) and `qemu-img check -r leaks` gives back. No order of
 * single-cluster writes can close that window (it would need a journal). The refcount table's
 * growth follows the same rules (grow_rt).
 *
 * The metadata cache. Done one request at a time, a-e cost an fdatasync per allocating write
 * (64 KiB sequential writes ran at 0.15x QEMU). QEMU's answer, and ours: steps c and e happen
 * in memory, in the cached L2 table and refcount block, which are written back only when
 * another table takes their place or when the guest asks for a flush:
 *
 *   write back: the refcount block; barrier; the L2 table; (a new table:) barrier; its L1 entry
 *   guest flush: write back; barrier
 *
 * Between two flushes the file holds the data (b) and the older metadata: a kill or a power
 * cut loses the allocating writes since the last flush (the guest did not ask for them to be
 * durable; a disk with a write cache does the same), never the image's consistency, and
 * often not even a leak. The order a-e still holds at every write-back, with d as its
 * barrier, so each cached change is one visible pwrite() in the right place, which the crash
 * test (--kill-after-writes) exploits. Against SIGKILL alone the order of the pwrite() calls
 * is enough, because the kernel keeps completed writes in its page cache; the barriers are
 * for power loss. Overwriting a cluster the image owns (rewrites in place) changes no
 * metadata and goes straight to the file. Refcount decrements are rare (only compressed or
 * preallocated clusters are replaced): each forces a write-back and a barrier first.
 *
 * Not supported: writing to images with internal snapshots (reading them works), encryption,
 * external data files, extended L2 entries, zstd compression, writing compressed clusters.
 * Each is refused with its name.
 */
#include "qcow2.h"
#include "block.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One allocating write links at most this many clusters (also bounded by a refcount block). */
#define ALLOC_MAX 256

struct qcow2 {
	struct block_dev dev; /* first: the block layer hands us &q->dev */
	int fd;
	bool no_flush;
	struct qcow2_header h;
	unsigned int cb;   /* cluster_bits */
	uint64_t cs;	   /* cluster size */
	uint64_t file_end; /* file size; we extend it ourselves, so we track it */
	uint64_t *l1;	   /* the L1 table, host byte order */
	uint64_t *rt;	   /* the refcount table, host byte order */
	uint64_t rt_entries;
	uint64_t rb_entries; /* refcounts per refcount block */
	uint64_t free_hint;  /* cluster index where the search for free clusters starts */
	/*
	 * One-entry caches of the last L2 table and refcount block, as on disk (big-endian).
	 * They are write-back caches: a changed one is dirty until written back (see "the
	 * metadata cache" at the top). l1_pending: the L1 entry that links the cached L2 table
	 * (a new one) is set in l1[] but not yet in the file.
	 */
	uint64_t l2_off, rb_off;
	uint8_t *l2, *rb;
	bool l2_dirty, rb_dirty, l1_pending;
	uint64_t l1_pending_index;
	uint8_t *bounce; /* one cluster: read-modify-write of a partly written cluster */
	uint8_t *zin;	 /* a compressed cluster as stored (at most 2 clusters) */
	uint8_t *zout;	 /* the last decompressed cluster, keyed by its L2 entry */
	uint64_t zout_entry;
	struct block_dev *backing;
	char backing_name[QCOW2_MAX_BACKING_NAME + 1];
	char backing_fmt[16];
};

static struct qcow2 *to_q(struct block_dev *dev)
{
	return (struct qcow2 *)dev;
}

/* ---------------------------------------------------------------- pure format helpers */

static int why_fail(char *why, size_t why_len, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int why_fail(char *why, size_t why_len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return err;
}

/* A table that must lie in whole clusters inside the file, after the header cluster. */
static int check_table(const char *name, uint64_t off, uint64_t bytes, uint64_t cs,
		       uint64_t file_size, char *why, size_t why_len)
{
	if (off % cs || (bytes && off < cs))
		return why_fail(
		    why, why_len, -EINVAL,
		    "corrupt header: %s offset 0x%llx is not a cluster after the header", name,
		    (unsigned long long)off);
	if (off > file_size || bytes > file_size - off)
		return why_fail(why, why_len, -EINVAL,
				"truncated image: %s at 0x%llx (%llu bytes) lies past the end of "
				"the file (%llu bytes)",
				name, (unsigned long long)off, (unsigned long long)bytes,
				(unsigned long long)file_size);
	return 0;
}

static int check_features(const struct qcow2_header *h, char *why, size_t why_len)
{
	static const char *const names[] = {"dirty", "corrupt", "external data file",
					    "compression type", "extended L2 entries"};
	uint64_t bad = h->incompatible_features & ~(QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT);
	int bit;

	if (h->compression_type != 0)
		return why_fail(why, why_len, -ENOTSUP,
				"unsupported feature: compression type %u (%s); only zlib is "
				"supported",
				h->compression_type, h->compression_type == 1 ? "zstd" : "unknown");
	bad &= ~QCOW2_INCOMPAT_COMPRESSION; /* the bit with type 0 (zlib) is harmless */
	for (bit = 0; bit < 64; bit++) {
		if (!(bad & (1ull << bit)))
			continue;
		if (bit < (int)ARRAY_SIZE(names))
			return why_fail(why, why_len, -ENOTSUP,
					"unsupported incompatible feature: %s", names[bit]);
		return why_fail(why, why_len, -ENOTSUP,
				"unsupported incompatible feature: unknown bit %d", bit);
	}
	return 0;
}

static int check_fields(const struct qcow2_header *h, uint64_t file_size, char *why, size_t why_len)
{
	uint64_t cs = 1ull << h->cluster_bits;
	int err;

	if (h->version == 3 && (h->header_length < QCOW2_V3_HEADER_LEN || h->header_length > cs))
		return why_fail(why, why_len, -EINVAL, "corrupt header: header_length %u",
				h->header_length);
	if (h->refcount_order > 6)
		return why_fail(why, why_len, -EINVAL,
				"corrupt header: refcount_order %u (at most 6: 64-bit refcounts)",
				h->refcount_order);
	if (h->crypt_method)
		return why_fail(why, why_len, -ENOTSUP,
				"unsupported feature: encryption (method %u)", h->crypt_method);
	if (h->size > (1ull << 55))
		return why_fail(why, why_len, -EINVAL, "corrupt header: disk size %llu too large",
				(unsigned long long)h->size);
	if ((uint64_t)h->l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return why_fail(why, why_len, -EINVAL, "corrupt header: L1 table of %u entries",
				h->l1_size);
	if (h->l1_size < qcow2_l1_entries_for(h->size, h->cluster_bits))
		return why_fail(why, why_len, -EINVAL,
				"corrupt header: L1 table of %u entries cannot map %llu bytes",
				h->l1_size, (unsigned long long)h->size);
	if (h->refcount_table_clusters == 0 ||
	    (uint64_t)h->refcount_table_clusters * cs > QCOW2_MAX_RT_BYTES)
		return why_fail(why, why_len, -EINVAL,
				"corrupt header: refcount table of %u clusters",
				h->refcount_table_clusters);
	err = check_table("L1 table", h->l1_table_offset, (uint64_t)h->l1_size * 8, cs, file_size,
			  why, why_len);
	if (!err)
		err = check_table("refcount table", h->refcount_table_offset,
				  (uint64_t)h->refcount_table_clusters * cs, cs, file_size, why,
				  why_len);
	if (!err && h->backing_file_offset &&
	    (h->backing_file_size > QCOW2_MAX_BACKING_NAME ||
	     h->backing_file_offset + h->backing_file_size > cs ||
	     h->backing_file_offset + h->backing_file_size > file_size))
		err = why_fail(why, why_len, -EINVAL,
			       "corrupt header: backing file name (%u bytes at %llu) is not inside "
			       "the header cluster",
			       h->backing_file_size, (unsigned long long)h->backing_file_offset);
	return err ? err : check_features(h, why, why_len);
}

/*
 * The header as a table: byte offset, width, field. Version 2 headers end at byte 72; version
 * 3 adds the rest. (compression_type, byte 104, exists only when header_length says so.)
 */
/* clang-format off */
#define FIELD(off, width, name) { off, width, offsetof(struct qcow2_header, name) }
/* clang-format on */
static const struct header_field {
	uint8_t off, width;
	uint16_t member;
} header_fields[] = {
    FIELD(4, 4, version),
    FIELD(8, 8, backing_file_offset),
    FIELD(16, 4, backing_file_size),
    FIELD(20, 4, cluster_bits),
    FIELD(24, 8, size),
    FIELD(32, 4, crypt_method),
    FIELD(36, 4, l1_size),
    FIELD(40, 8, l1_table_offset),
    FIELD(48, 8, refcount_table_offset),
    FIELD(56, 4, refcount_table_clusters),
    FIELD(60, 4, nb_snapshots),
    FIELD(64, 8, snapshots_offset),
    FIELD(72, 8, incompatible_features),
    FIELD(80, 8, compatible_features),
    FIELD(88, 8, autoclear_features),
    FIELD(96, 4, refcount_order),
    FIELD(100, 4, header_length),
};

static void decode_fields(const uint8_t *buf, size_t end, struct qcow2_header *h)
{
	const struct header_field *f;

	for (f = header_fields; f < header_fields + ARRAY_SIZE(header_fields); f++) {
		if (f->off + f->width > end)
			break;
		if (f->width == 8)
			*(uint64_t *)((char *)h + f->member) = qcow2_be64(buf + f->off);
		else
			*(uint32_t *)((char *)h + f->member) = qcow2_be32(buf + f->off);
	}
}

int qcow2_parse_header(const uint8_t *buf, size_t len, uint64_t file_size, struct qcow2_header *h,
		       char *why, size_t why_len)
{
	memset(h, 0, sizeof(*h));
	if (len < 8 || qcow2_be32(buf) != QCOW2_MAGIC)
		return why_fail(why, why_len, -EINVAL, "not a QCOW2 image (no QFI\\xfb magic)");
	h->version = qcow2_be32(buf + 4);
	if (h->version != 2 && h->version != 3)
		return why_fail(why, why_len, -ENOTSUP,
				"corrupt header: QCOW2 version %u (2 and 3 are supported)",
				h->version);
	if (len < (h->version == 2 ? QCOW2_V2_HEADER_LEN : QCOW2_V3_HEADER_LEN))
		return why_fail(why, why_len, -EINVAL,
				"truncated image: the header ends after %zu bytes", len);
	decode_fields(buf, h->version == 2 ? QCOW2_V2_HEADER_LEN : QCOW2_V3_HEADER_LEN, h);
	if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS || h->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return why_fail(why, why_len, -EINVAL,
				"corrupt header: cluster_bits %u (valid: %d..%d)", h->cluster_bits,
				QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS);
	if (h->version == 2) {
		h->refcount_order = 4;
		h->header_length = QCOW2_V2_HEADER_LEN;
	} else if (h->header_length > QCOW2_V3_HEADER_LEN && len > QCOW2_V3_HEADER_LEN) {
		h->compression_type = buf[QCOW2_V3_HEADER_LEN];
	}
	return check_fields(h, file_size, why, why_len);
}

void qcow2_encode_header(const struct qcow2_header *h, uint8_t *buf)
{
	size_t end = h->version < 3 ? QCOW2_V2_HEADER_LEN : QCOW2_V3_HEADER_LEN;
	const struct header_field *f;

	/* Only the header's own bytes: extensions may already follow a version 2 header. */
	memset(buf, 0, end);
	qcow2_put_be32(buf, QCOW2_MAGIC);
	for (f = header_fields; f < header_fields + ARRAY_SIZE(header_fields); f++) {
		if (f->off + f->width > end)
			break;
		if (f->width == 8)
			qcow2_put_be64(buf + f->off,
				       *(const uint64_t *)((const char *)h + f->member));
		else
			qcow2_put_be32(buf + f->off,
				       *(const uint32_t *)((const char *)h + f->member));
	}
}

struct qcow2_compressed qcow2_decode_compressed(uint64_t e, unsigned int cluster_bits)
{
	/* Bits 0..x-1 hold the byte offset, x..61 the count of extra 512-byte sectors. */
	unsigned int x = 62 - (cluster_bits - 8);
	uint64_t sectors = ((e >> x) & ((1ull << (cluster_bits - 8)) - 1)) + 1;
	struct qcow2_compressed c;

	c.offset = e & ((1ull << x) - 1);
	c.length = sectors * 512 - (c.offset & 511);
	return c;
}

/* Entries narrower than a byte fill each byte from its least significant bit up. */
uint64_t qcow2_refcount_get(const uint8_t *block, unsigned int order, uint64_t i)
{
	unsigned int bits = 1u << order;

	switch (order) {
	case 0:
	case 1:
	case 2:
		return (block[i * bits / 8] >> (i * bits % 8)) & ((1u << bits) - 1);
	case 3:
		return block[i];
	case 4:
		return (uint64_t)block[2 * i] << 8 | block[2 * i + 1];
	case 5:
		return qcow2_be32(block + 4 * i);
	default:
		return qcow2_be64(block + 8 * i);
	}
}

void qcow2_refcount_set(uint8_t *block, unsigned int order, uint64_t i, uint64_t v)
{
	unsigned int bits = 1u << order, shift;
	uint8_t mask;

	switch (order) {
	case 0:
	case 1:
	case 2:
		shift = i * bits % 8;
		mask = (uint8_t)(((1u << bits) - 1) << shift);
		block[i * bits / 8] =
		    (uint8_t)((block[i * bits / 8] & ~mask) | ((v << shift) & mask));
		break;
	case 3:
		block[i] = (uint8_t)v;
		break;
	case 4:
		block[2 * i] = (uint8_t)(v >> 8);
		block[2 * i + 1] = (uint8_t)v;
		break;
	case 5:
		qcow2_put_be32(block + 4 * i, (uint32_t)v);
		break;
	default:
		qcow2_put_be64(block + 8 * i, v);
	}
}

/* ---------------------------------------------------------------- checked file access */

static int q_fail(struct qcow2 *q, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int q_fail(struct qcow2 *q, int err, const char *fmt, ...)
{
	char msg[BLOCK_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return block_fail(q->dev.why, sizeof(q->dev.why), err, q->dev.path, "%s", msg);
}

/*
 * Every offset taken from the file passes here before use: a hostile image can point its
 * tables anywhere, and must get an error, never a read or write outside its own clusters.
 */
static int check_host(struct qcow2 *q, const char *what, uint64_t off, uint64_t len, bool aligned)
{
	if (off < q->cs || (aligned && off % q->cs))
		return q_fail(q, -EIO, "corrupt image: %s at 0x%llx is not a valid cluster", what,
			      (unsigned long long)off);
	if (off > q->file_end || len > q->file_end - off)
		return q_fail(q, -EIO,
			      "corrupt image: %s at 0x%llx lies past the end of the file "
			      "(truncated image?)",
			      what, (unsigned long long)off);
	return 0;
}

static int img_read(struct qcow2 *q, void *buf, uint64_t len, uint64_t off)
{
	int err = block_pread(q->fd, buf, len, off);

	return err ? q_fail(q, err, "read of %llu bytes at 0x%llx: %s", (unsigned long long)len,
			    (unsigned long long)off, strerror(-err))
		   : 0;
}

static int img_write(struct qcow2 *q, const void *buf, uint64_t len, uint64_t off)
{
	int err = block_pwrite(q->fd, buf, len, off);

	if (err)
		return q_fail(q, err, "write of %llu bytes at 0x%llx: %s", (unsigned long long)len,
			      (unsigned long long)off, strerror(-err));
	if (off + len > q->file_end)
		q->file_end = off + len;
	return 0;
}

static int img_write_be64(struct qcow2 *q, uint64_t v, uint64_t off)
{
	uint8_t b[8];

	qcow2_put_be64(b, v);
	return img_write(q, b, 8, off);
}

/* The write-order barrier: what was written before reaches the disk before what follows. */
static int barrier(struct qcow2 *q)
{
	if (q->no_flush || fdatasync(q->fd) == 0)
		return 0;
	return q_fail(q, -errno, "fdatasync: %s", strerror(errno));
}

/* ---------------------------------------------------------------- refcounts */

/*
 * The one-cluster caches (last L2 table, last refcount block): read the cluster at off into
 * buf unless *cached says it is there already. off came from a table in the file: checked.
 */
static int load_cluster(struct qcow2 *q, const char *what, uint8_t *buf, uint64_t *cached,
			uint64_t off)
{
	int err;

	if (*cached == off)
		return 0;
	err = check_host(q, what, off, q->cs, true);
	if (!err)
		err = img_read(q, buf, q->cs, off);
	*cached = err ? 0 : off;
	return err;
}

/*
 * The cached refcount block goes back to the file when another one takes its place, or at a
 * flush. No barrier: a refcount that reaches the disk early only leaks a cluster (rule 1),
 * and decrements are made only after the unlink is on the disk (free_old).
 */
static int rb_writeback(struct qcow2 *q)
{
	int err;

	if (!q->rb_dirty)
		return 0;
	err = img_write(q, q->rb, q->cs, q->rb_off);
	if (!err)
		q->rb_dirty = false;
	return err;
}

static int load_refblock(struct qcow2 *q, uint64_t off)
{
	int err = q->rb_off == off ? 0 : rb_writeback(q);

	return err ? err : load_cluster(q, "refcount block", q->rb, &q->rb_off, off);
}

/* Refcount of host cluster c; a cluster no refcount block covers has refcount 0. */
static int get_refcount(struct qcow2 *q, uint64_t c, uint64_t *rc)
{
	uint64_t idx = c / q->rb_entries;
	int err;

	*rc = 0;
	if (idx >= q->rt_entries || !(q->rt[idx] & ~511ull))
		return 0;
	err = load_refblock(q, q->rt[idx] & ~511ull);
	if (!err)
		*rc = qcow2_refcount_get(q->rb, q->h.refcount_order, c % q->rb_entries);
	return err;
}

/*
 * A bigger refcount table, for an image that outgrew the old one (rare with 64 KiB clusters:
 * one table cluster covers 16 TiB; with 512-byte clusters, 8 MiB). The new table T and one new
 * refcount block B that counts T and B themselves go past the end of the file, then one
 * 12-byte header write switches to them, then the old table is freed:
 *
 *   write B (refcounts of T and B = 1), write T (old entries + B); fdatasync;
 *   header.refcount_table_offset/clusters := T; fdatasync; refcount(old table) -= 1
 *
 * Killed before the header write, the file just has unreferenced clusters past its old
 * end; after it, at worst the old table leaks.
 */
static int refcount_add(struct qcow2 *q, uint64_t c, uint64_t k, int delta);

static int grow_rt(struct qcow2 *q, uint64_t need_idx)
{
	uint64_t E = q->rb_entries,
		 n = need_idx + 1 > 2 * q->rt_entries ? need_idx + 1 : 2 * q->rt_entries;
	uint64_t tc, t, b, i, old_off = q->h.refcount_table_offset,
			      old_tc = q->h.refcount_table_clusters;
	uint8_t hdr[12], *table, *block;
	int err;

	for (;;) {
		tc = (n * 8 + q->cs - 1) / q->cs;
		t = (q->file_end + q->cs - 1) / q->cs;
		if (t / E != (t + tc) / E)
			t = (t / E + 1) * E; /* keep T and B in the range B counts */
		b = t + tc;
		if (b / E < n)
			break;
		n = b / E + 1;
	}
	if (tc + 1 > E || tc * q->cs > QCOW2_MAX_RT_BYTES)
		return q_fail(q, -EFBIG, "refcount table cannot grow beyond %llu clusters",
			      (unsigned long long)tc);
	table = calloc(tc, q->cs);
	block = calloc(1, q->cs);
	if (!table || !block) {
		free(table);
		free(block);
		return q_fail(q, -ENOMEM, "out of memory growing the refcount table");
	}
	for (i = 0; i < q->rt_entries; i++)
		qcow2_put_be64(table + 8 * i, q->rt[i]);
	qcow2_put_be64(table + 8 * (b / E), b << q->cb);
	for (i = t; i <= b; i++)
		qcow2_refcount_set(block, q->h.refcount_order, i % E, 1);
	err = img_write(q, block, q->cs, b << q->cb);
	if (!err)
		err = img_write(q, table, tc * q->cs, t << q->cb);
	if (!err)
		err = barrier(q);
	qcow2_put_be64(hdr, t << q->cb);
	qcow2_put_be32(hdr + 8, (uint32_t)tc);
	if (!err)
		err = img_write(q, hdr, sizeof(hdr), 48);
	if (!err)
		err = barrier(q);
	free(block);
	if (err) {
		free(table);
		return err;
	}
	free(q->rt);
	q->rt = (uint64_t *)table;
	q->rt_entries = tc * q->cs / 8;
	for (i = 0; i < q->rt_entries; i++)
		q->rt[i] = qcow2_be64(table + 8 * i);
	q->h.refcount_table_offset = t << q->cb;
	q->h.refcount_table_clusters = (uint32_t)tc;
	return refcount_add(q, old_off >> q->cb, old_tc, -1);
}

/*
 * Make sure a refcount block covers range idx (clusters idx*E .. idx*E+E-1). A new block B
 * is placed inside the range it covers, so it counts itself: written with its own refcount
 * already 1, then linked from the refcount table. [c, c+k) are the clusters being allocated
 * (refcount 0 until this block exists), which B must not take.
 */
static int ensure_refblock(struct qcow2 *q, uint64_t idx, uint64_t c, uint64_t k)
{
	uint64_t E = q->rb_entries, first = idx * E, b = (q->file_end + q->cs - 1) >> q->cb;
	int err;

	if (idx >= q->rt_entries) {
		err = grow_rt(q, idx);
		if (err)
			return err;
	}
	if (q->rt[idx] & ~511ull)
		return load_refblock(q, q->rt[idx] & ~511ull);
	if (b < first || b >= first + E) /* the range lies inside the file: take a hole */
		for (b = first ? first : 1; b >= c && b < c + k; b++)
			;
	err = rb_writeback(q); /* the cached block makes room for the new one */
	if (err)
		return err;
	q->rb_off = 0;
	memset(q->rb, 0, q->cs);
	qcow2_refcount_set(q->rb, q->h.refcount_order, b - first, 1);
	err = img_write(q, q->rb, q->cs, b << q->cb);
	if (!err)
		err = barrier(q);
	if (!err)
		err = img_write_be64(q, b << q->cb, q->h.refcount_table_offset + 8 * idx);
	if (err)
		return err;
	q->rt[idx] = b << q->cb;
	q->rb_off = b << q->cb;
	return 0;
}

/* Add delta (+1 or -1) to the refcounts of clusters [c, c+k), in the cached refcount blocks. */
static int refcount_add(struct qcow2 *q, uint64_t c, uint64_t k, int delta)
{
	unsigned int order = q->h.refcount_order;
	uint64_t max = order == 6 ? UINT64_MAX : (1ull << (1u << order)) - 1;

	while (k > 0) {
		uint64_t idx = c / q->rb_entries, i = c % q->rb_entries, n, j;
		int err = ensure_refblock(q, idx, c, k);

		if (err)
			return err;
		n = q->rb_entries - i < k ? q->rb_entries - i : k;
		for (j = i; j < i + n; j++) {
			uint64_t rc = qcow2_refcount_get(q->rb, order, j);

			if ((delta < 0 && rc == 0) || (delta > 0 && rc == max))
				return q_fail(q, -EIO,
					      "corrupt image: refcount of cluster 0x%llx "
					      "would %s",
					      (unsigned long long)(idx * q->rb_entries + j)
						  << q->cb,
					      delta < 0 ? "drop below 0" : "overflow");
			qcow2_refcount_set(q->rb, order, j, rc + delta);
			if (delta < 0 && rc == 1 && idx * q->rb_entries + j < q->free_hint)
				q->free_hint = idx * q->rb_entries + j;
		}
		q->rb_dirty = true; /* in the file at the next write-back */
		c += n;
		k -= n;
	}
	return 0;
}

/*
 * Find k free clusters in a row and extend the file over them. Their refcounts stay 0 until
 * the caller has written them (commit_clusters): killed in between, the file only holds free
 * clusters full of garbage, which is neither a leak nor a corruption.
 */
static int find_free(struct qcow2 *q, uint64_t k, uint64_t *host)
{
	uint64_t c = q->free_hint > 1 ? q->free_hint : 1, run = 0, start = c, rc;
	uint64_t limit = 1ull << (56 - q->cb); /* L2 entries hold 56-bit offsets */
	/* Past the end of the file every cluster is free, unless a hostile image says otherwise:
	 * stop there instead of scanning a refcount table's worth of 'used' clusters. */
	uint64_t past_end = ((q->file_end + q->cs - 1) >> q->cb) + 2 * q->rb_entries + k;
	int err;

	for (; run < k; c++) {
		if (c >= limit)
			return q_fail(q, -ENOSPC, "image file reached the 64 PiB format limit");
		if (c >= past_end)
			return q_fail(q, -EIO,
				      "corrupt image: refcounts claim clusters past the end "
				      "of the file");
		err = get_refcount(q, c, &rc);
		if (err)
			return err;
		if (rc)
			run = 0;
		else if (run++ == 0)
			start = c;
	}
	if (((start + k) << q->cb) > q->file_end) {
		if (ftruncate(q->fd, (off_t)((start + k) << q->cb)) < 0)
			return q_fail(q, -errno, "cannot extend the image: %s", strerror(errno));
		q->file_end = (start + k) << q->cb;
	}
	*host = start << q->cb;
	return 0;
}

/*
 * Written clusters become allocated: refcount 1, in the cache. The barrier that puts them on
 * the disk before anything links them is l2_writeback's.
 */
static int commit_clusters(struct qcow2 *q, uint64_t host, uint64_t k)
{
	int err = refcount_add(q, host >> q->cb, k, +1);

	if (!err && q->free_hint < (host >> q->cb) + k)
		q->free_hint = (host >> q->cb) + k;
	return err;
}

/* Drop the reference an old L2 entry held (compressed or preallocated-zero clusters). */
static int free_entry(struct qcow2 *q, uint64_t e)
{
	if (e & QCOW2_OFLAG_COMPRESSED) {
		struct qcow2_compressed z = qcow2_decode_compressed(e, q->cb);
		uint64_t first = z.offset >> q->cb, last = (z.offset + z.length - 1) >> q->cb;

		return refcount_add(q, first, last - first + 1, -1);
	}
	if (e & QCOW2_OFFSET_MASK)
		return refcount_add(q, (e & QCOW2_OFFSET_MASK) >> q->cb, 1, -1);
	return 0;
}

/* ---------------------------------------------------------------- lookup and read */

/*
 * The cached L2 table goes back to the file, after what its new entries point at: the
 * refcounts written and, with the data, made durable by the barrier (rules 1 and 2). A new
 * table is then linked from the L1 table, after another barrier (rule 2 again).
 */
static int l2_writeback(struct qcow2 *q)
{
	uint64_t l1i = q->l1_pending_index;
	int err;

	if (!q->l2_dirty)
		return 0;
	err = rb_writeback(q);
	if (!err)
		err = barrier(q);
	if (!err)
		err = img_write(q, q->l2, q->cs, q->l2_off);
	if (!err && q->l1_pending)
		err = barrier(q);
	if (!err && q->l1_pending)
		err = img_write_be64(q, q->l1[l1i], q->h.l1_table_offset + 8 * l1i);
	if (!err)
		q->l1_pending = false;
	if (!err)
		q->l2_dirty = false;
	return err;
}

/* Everything cached, into the file in the write order; the caller adds the final barrier. */
static int metadata_writeback(struct qcow2 *q)
{
	int err = l2_writeback(q);

	return err ? err : rb_writeback(q);
}

static int load_l2(struct qcow2 *q, uint64_t off)
{
	int err = q->l2_off == off ? 0 : l2_writeback(q);

	return err ? err : load_cluster(q, "L2 table", q->l2, &q->l2_off, off);
}

/* The L2 entry of the guest cluster holding byte g; 0 when it has no L2 table. */
static int get_l2_entry(struct qcow2 *q, uint64_t g, uint64_t *e)
{
	uint64_t l2 = q->l1[qcow2_l1_index(g, q->cb)] & QCOW2_OFFSET_MASK;
	int err;

	*e = 0;
	if (!l2)
		return 0;
	err = load_l2(q, l2);
	if (!err)
		*e = qcow2_be64(q->l2 + 8 * qcow2_l2_index(g, q->cb));
	return err;
}

static int read_backing(struct qcow2 *q, uint8_t *buf, uint64_t g, uint64_t n)
{
	uint64_t have = 0;
	int err;

	if (q->backing && g < q->backing->size)
		have = q->backing->size - g < n ? q->backing->size - g : n;
	memset(buf + have, 0, n - have); /* past the backing file's end the disk reads zeros */
	if (!have)
		return 0;
	err = block_read(q->backing, buf, g, have);
	return err ? q_fail(q, err, "backing file: %s", q->backing->why) : 0;
}

static int inflate_cluster(struct qcow2 *q, uint64_t in_len)
{
	z_stream z = {.next_in = q->zin,
		      .avail_in = (uInt)in_len,
		      .next_out = q->zout,
		      .avail_out = (uInt)q->cs};
	int ret;

	if (inflateInit2(&z, -15) != Z_OK) /* raw deflate: no zlib header in QCOW2 */
		return q_fail(q, -ENOMEM, "zlib: inflateInit2 failed");
	ret = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	/* The stored sectors may hold padding after the stream: only a full cluster counts. */
	if (z.avail_out != 0 || (ret != Z_STREAM_END && ret != Z_OK && ret != Z_BUF_ERROR))
		return q_fail(q, -EIO,
			      "corrupt image: compressed cluster does not inflate to "
			      "%llu bytes",
			      (unsigned long long)q->cs);
	return 0;
}

static int read_compressed(struct qcow2 *q, uint64_t e)
{
	struct qcow2_compressed z = qcow2_decode_compressed(e, q->cb);
	uint64_t len;
	int err;

	if (q->zout_entry == e)
		return 0;
	q->zout_entry = 0;
	if (z.offset < q->cs || z.offset >= q->file_end)
		return q_fail(q, -EIO,
			      "corrupt image: compressed cluster at 0x%llx is outside "
			      "the file",
			      (unsigned long long)z.offset);
	/* The last sector of the file may be short: its tail was never written. */
	len = q->file_end - z.offset < z.length ? q->file_end - z.offset : z.length;
	err = img_read(q, q->zin, len, z.offset);
	if (!err)
		err = inflate_cluster(q, len);
	if (!err)
		q->zout_entry = e;
	return err;
}

/* n bytes of the guest cluster holding g (not crossing its end), as L2 entry e says. */
static int read_by_entry(struct qcow2 *q, uint64_t e, uint8_t *buf, uint64_t g, uint64_t n)
{
	uint64_t in = qcow2_in_cluster(g, q->cb), host = e & QCOW2_OFFSET_MASK;
	int err;

	if (e & QCOW2_OFLAG_COMPRESSED) {
		err = read_compressed(q, e);
		if (!err)
			memcpy(buf, q->zout + in, n);
		return err;
	}
	if (q->h.version >= 3 && (e & QCOW2_OFLAG_ZERO)) {
		memset(buf, 0, n);
		return 0;
	}
	if (!host)
		return read_backing(q, buf, g, n);
	err = check_host(q, "data cluster", host, q->cs, true);
	return err ? err : img_read(q, buf, n, host + in);
}

static int qcow2_read(struct block_dev *dev, void *buf, uint64_t g, size_t len)
{
	struct qcow2 *q = to_q(dev);
	uint8_t *p = buf;

	while (len > 0) {
		uint64_t n = q->cs - qcow2_in_cluster(g, q->cb), e;
		int err;

		n = n < len ? n : len;
		err = get_l2_entry(q, g, &e);
		if (!err)
			err = read_by_entry(q, e, p, g, n);
		if (err)
			return err;
		p += n;
		g += n;
		len -= n;
	}
	return 0;
}

/* ---------------------------------------------------------------- write */

/* A cluster the guest may overwrite in place: its own, uncompressed, not "reads as zero". */
static bool writable_in_place(struct qcow2 *q, uint64_t e)
{
	return (e & QCOW2_OFLAG_COPIED) && (e & QCOW2_OFFSET_MASK) &&
	       !(e & QCOW2_OFLAG_COMPRESSED) && !(q->h.version >= 3 && (e & QCOW2_OFLAG_ZERO));
}

/* Load the L2 table for guest offset g, allocating it (rules 1 and 2) if it does not exist. */
static int ensure_l2(struct qcow2 *q, uint64_t g)
{
	uint64_t l1i = qcow2_l1_index(g, q->cb), l1e = q->l1[l1i], host;
	int err;

	if (l1e & QCOW2_OFFSET_MASK) {
		if (!(l1e & QCOW2_OFLAG_COPIED))
			return q_fail(q, -ENOTSUP,
				      "L2 table at 0x%llx is shared (snapshots?): "
				      "writing it is not supported",
				      (unsigned long long)(l1e & QCOW2_OFFSET_MASK));
		return load_l2(q, l1e & QCOW2_OFFSET_MASK);
	}
	/* A new, empty table in the cache: the file gets it, then its link, at write-back. */
	err = l2_writeback(q);
	if (!err)
		err = find_free(q, 1, &host);
	if (!err)
		err = commit_clusters(q, host, 1);
	if (err)
		return err;
	memset(q->l2, 0, q->cs);
	q->l2_off = host;
	q->l2_dirty = true;
	q->l1[l1i] = host | QCOW2_OFLAG_COPIED;
	q->l1_pending = true;
	q->l1_pending_index = l1i;
	return 0;
}

/*
 * Fill k new host clusters at host with guest clusters starting at the one holding g: the
 * request's bytes, and around a partial head or tail the cluster's old contents (the backing
 * file's, the decompressed ones, or zeros): copy-on-write.
 */
static int fill_new_clusters(struct qcow2 *q, const uint64_t *old, uint64_t k, uint64_t host,
			     const uint8_t *buf, uint64_t g, uint64_t len)
{
	uint64_t in = qcow2_in_cluster(g, q->cb), base = g - in, i = 0, pos = 0;

	while (i < k) {
		uint64_t start = i ? 0 : in,
			 n = q->cs - start < len - pos ? q->cs - start : len - pos;
		uint64_t full = 0;
		int err;

		while (i + full < k && (i + full ? 0 : in) == 0 &&
		       len - pos - full * q->cs >= q->cs)
			full++; /* whole clusters straight from the caller's buffer, one write */
		if (full) {
			err = img_write(q, buf + pos, full * q->cs, host + i * q->cs);
			i += full;
			pos += full * q->cs;
		} else {
			err = read_by_entry(q, old[i], q->bounce, base + i * q->cs, q->cs);
			memcpy(q->bounce + start, buf + pos, n);
			if (!err)
				err = img_write(q, q->bounce, q->cs, host + i * q->cs);
			i++;
			pos += n;
		}
		if (err)
			return err;
	}
	return 0;
}

/*
 * Free what the replaced L2 entries held: after they are unlinked on the disk (rule 1), so the
 * cache goes back to the file and a barrier makes that durable first. Rare: only compressed
 * or preallocated-zero clusters are replaced, never the ones a fresh image allocates.
 */
static int free_old(struct qcow2 *q, const uint64_t *old, uint64_t k)
{
	bool synced = false;
	uint64_t i;
	int err = 0;

	for (i = 0; i < k && !err; i++) {
		if (!(old[i] & (QCOW2_OFFSET_MASK | QCOW2_OFLAG_COMPRESSED)))
			continue;
		if (!synced)
			err = metadata_writeback(q) ?: barrier(q);
		synced = true;
		if (!err)
			err = free_entry(q, old[i]);
	}
	return err;
}

/* Write up to len bytes at g that lie in one L2 table; returns the bytes written or -errno. */
static int64_t write_step(struct qcow2 *q, const uint8_t *buf, uint64_t g, uint64_t len)
{
	uint64_t in = qcow2_in_cluster(g, q->cb), l2i = qcow2_l2_index(g, q->cb);
	uint64_t left = qcow2_l2_entries(q->cb) - l2i, old[ALLOC_MAX], k, i, host, bytes;
	int err = ensure_l2(q, g);

	if (err)
		return err;
	old[0] = qcow2_be64(q->l2 + 8 * l2i);
	if (writable_in_place(q, old[0])) {
		host = old[0] & QCOW2_OFFSET_MASK;
		bytes = q->cs - in < len ? q->cs - in : len;
		err = check_host(q, "data cluster", host, q->cs, true);
		return err ? err : img_write(q, buf, bytes, host + in) ?: (int64_t)bytes;
	}
	/* A run of clusters that all need new host clusters, within the request and this table. */
	for (k = 1; k < ALLOC_MAX && k < q->rb_entries / 2 && k < left && k * q->cs < in + len;
	     k++) {
		old[k] = qcow2_be64(q->l2 + 8 * (l2i + k));
		if (writable_in_place(q, old[k]))
			break;
	}
	bytes = k * q->cs - in < len ? k * q->cs - in : len;
	err = find_free(q, k, &host);
	if (!err)
		err = fill_new_clusters(q, old, k, host, buf, g, bytes);
	if (!err)
		err = commit_clusters(q, host, k); /* data and refcounts before the links */
	if (!err)
		err = load_l2(q, q->l1[qcow2_l1_index(g, q->cb)] & QCOW2_OFFSET_MASK);
	if (err)
		return err;
	for (i = 0; i < k; i++)
		qcow2_put_be64(q->l2 + 8 * (l2i + i), (host + i * q->cs) | QCOW2_OFLAG_COPIED);
	q->l2_dirty = true; /* linked in the cache; in the file at the next write-back */
	return free_old(q, old, k) ?: (int64_t)bytes;
}

static int qcow2_write(struct block_dev *dev, const void *buf, uint64_t g, size_t len)
{
	struct qcow2 *q = to_q(dev);
	const uint8_t *p = buf;

	while (len > 0) {
		int64_t n = write_step(q, p, g, len);

		if (n < 0)
			return (int)n;
		p += n;
		g += n;
		len -= n;
	}
	return 0;
}

static int qcow2_flush(struct block_dev *dev)
{
	struct qcow2 *q = to_q(dev);

	/* The guest's flush: the cached metadata in the write order, then all of it durable. */
	return dev->read_only ? 0 : metadata_writeback(q) ?: barrier(q);
}

static void qcow2_free(struct qcow2 *q)
{
	block_close(q->backing);
	if (q->fd >= 0)
		close(q->fd); /* also drops the image locks */
	free(q->l1);
	free(q->rt);
	free(q->l2);
	free(q->rb);
	free(q->bounce);
	free(q->zin);
	free(q->zout);
	free(q);
}

static void qcow2_close(struct block_dev *dev)
{
	qcow2_flush(dev);
	qcow2_free(to_q(dev));
}

static const struct block_ops qcow2_ops = {
    .name = "qcow2",
    .read = qcow2_read,
    .write = qcow2_write,
    .flush = qcow2_flush,
    .close = qcow2_close,
};

/* ---------------------------------------------------------------- open */

/* Header extensions: we need only the backing file's format; the rest are skipped. */
static int read_extensions(struct qcow2 *q, const uint8_t *hc, uint64_t hc_len)
{
	uint64_t off = q->h.header_length;

	while (off + 8 <= hc_len) {
		uint32_t type = qcow2_be32(hc + off), len = qcow2_be32(hc + off + 4);

		if (type == QCOW2_EXT_END)
			return 0;
		if (len > hc_len - off - 8)
			return q_fail(q, -EINVAL,
				      "corrupt header: extension 0x%08x overruns the "
				      "header cluster",
				      type);
		if (type == QCOW2_EXT_BACKING_FORMAT) {
			if (len >= sizeof(q->backing_fmt))
				return q_fail(q, -EINVAL,
					      "corrupt header: backing format name of "
					      "%u bytes",
					      len);
			memcpy(q->backing_fmt, hc + off + 8, len);
			q->backing_fmt[len] = 0;
		}
		off += 8 + ((len + 7ull) & ~7ull);
	}
	return 0;
}

/* A relative backing file name is relative to the image's directory, not to our cwd. */
static int open_backing(struct qcow2 *q, unsigned int flags, struct block_chain *chain)
{
	char path[sizeof(q->dev.path) + sizeof(q->backing_name)], why[BLOCK_WHY_MAX];
	const char *slash = strrchr(q->dev.path, '/');
	unsigned int bflags = BLOCK_RDONLY | (flags & BLOCK_NO_FLUSH);
	int err;

	if (q->backing_name[0] == '/' || !slash)
		snprintf(path, sizeof(path), "%s", q->backing_name);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - q->dev.path), q->dev.path,
			 q->backing_name);
	if (!strcmp(q->backing_fmt, "raw"))
		bflags |= BLOCK_FORMAT_RAW;
	else if (!strcmp(q->backing_fmt, "qcow2"))
		bflags |= BLOCK_FORMAT_QCOW2;
	else if (q->backing_fmt[0])
		return q_fail(q, -ENOTSUP,
			      "backing file %s has format '%s' (raw and qcow2 are "
			      "supported)",
			      path, q->backing_fmt);
	err = block_open_chain(path, bflags, chain, &q->backing, why, sizeof(why));
	return err ? q_fail(q, err, "backing file: %s", why) : 0;
}

/*
 * Every L2 table and refcount block the tables name must be a whole cluster inside the file.
 * Checked once at open (the tables are small), so that a truncated image is refused up front
 * instead of failing at the first unlucky read; data clusters are checked as they are used.
 */
static int check_entries(struct qcow2 *q, const char *what, const uint64_t *table, uint64_t n,
			 uint64_t mask)
{
	uint64_t i, off;

	for (i = 0; i < n; i++) {
		off = table[i] & mask;
		if (off && (off % q->cs || off > q->file_end - q->cs))
			return q_fail(q, -EINVAL,
				      "truncated or corrupt image: %s %llu at 0x%llx "
				      "is not a cluster inside the file (%llu bytes)",
				      what, (unsigned long long)i, (unsigned long long)off,
				      (unsigned long long)q->file_end);
	}
	return 0;
}

static int check_tables(struct qcow2 *q)
{
	return check_entries(q, "L2 table", q->l1, q->h.l1_size, QCOW2_OFFSET_MASK)
		   ?: check_entries(q, "refcount block", q->rt, q->rt_entries, ~511ull);
}

static int load_tables(struct qcow2 *q)
{
	uint64_t l1_bytes = (uint64_t)q->h.l1_size * 8, i;
	uint8_t *raw;
	int err;

	q->rt_entries = (uint64_t)q->h.refcount_table_clusters * q->cs / 8;
	q->l1 = calloc(q->h.l1_size + 1, 8);
	q->rt = calloc(q->rt_entries, 8);
	raw = malloc(l1_bytes > q->rt_entries * 8 ? l1_bytes : q->rt_entries * 8);
	if (!q->l1 || !q->rt || !raw) {
		free(raw);
		return q_fail(q, -ENOMEM, "out of memory for the L1 and refcount tables");
	}
	err = img_read(q, raw, l1_bytes, q->h.l1_table_offset);
	for (i = 0; !err && i < q->h.l1_size; i++)
		q->l1[i] = qcow2_be64(raw + 8 * i);
	if (!err)
		err = img_read(q, raw, q->rt_entries * 8, q->h.refcount_table_offset);
	for (i = 0; !err && i < q->rt_entries; i++)
		q->rt[i] = qcow2_be64(raw + 8 * i);
	free(raw);
	return err ? err : check_tables(q);
}

/* What we refuse to write to: the reason, or NULL. */
static const char *write_refusal(const struct qcow2_header *h)
{
	if (h->incompatible_features & QCOW2_INCOMPAT_DIRTY)
		return "dirty bit set (lazy refcounts, not closed cleanly; repair with "
		       "'qemu-img check -r all')";
	if (h->incompatible_features & QCOW2_INCOMPAT_CORRUPT)
		return "marked corrupt (repair with 'qemu-img check -r all')";
	if (h->nb_snapshots)
		return "has internal snapshots (writing them is not supported)";
	return NULL;
}

static int open_header(struct qcow2 *q, uint8_t *hc)
{
	char why[BLOCK_WHY_MAX];
	uint64_t len = q->file_end < 4096 ? q->file_end : 4096;
	int err = img_read(q, hc, len, 0);

	/* First parse with what fits a page, to learn the cluster size; then the whole cluster. */
	if (!err && len >= 24 && qcow2_be32(hc + 20) > 12 && qcow2_be32(hc + 20) <= 21) {
		len = q->file_end < (1ull << qcow2_be32(hc + 20)) ? q->file_end
								  : 1ull << qcow2_be32(hc + 20);
		err = img_read(q, hc, len, 0);
	}
	if (err)
		return err;
	err = qcow2_parse_header(hc, len, q->file_end, &q->h, why, sizeof(why));
	if (err)
		return q_fail(q, err, "%s", why);
	q->cb = q->h.cluster_bits;
	q->cs = 1ull << q->cb;
	q->rb_entries = qcow2_refcounts_per_block(q->cb, q->h.refcount_order);
	if (q->h.backing_file_offset) {
		memcpy(q->backing_name, hc + q->h.backing_file_offset, q->h.backing_file_size);
		q->backing_name[q->h.backing_file_size] = 0;
	}
	return read_extensions(q, hc, len < q->cs ? len : q->cs);
}

static int open_image(struct qcow2 *q, unsigned int flags, struct block_chain *chain)
{
	const char *refusal;
	uint8_t *hc = malloc(1u << QCOW2_MAX_CLUSTER_BITS);
	int err = hc ? open_header(q, hc) : -ENOMEM;

	free(hc);
	if (err)
		return err == -ENOMEM ? q_fail(q, err, "out of memory") : err;
	refusal = write_refusal(&q->h);
	if (refusal && !q->dev.read_only)
		return q_fail(q, -EROFS, "cannot open for writing: image %s", refusal);
	err = load_tables(q);
	if (err)
		return err;
	q->l2 = malloc(q->cs);
	q->rb = malloc(q->cs);
	q->bounce = malloc(q->cs);
	q->zin = malloc(2 * q->cs);
	q->zout = malloc(q->cs);
	if (!q->l2 || !q->rb || !q->bounce || !q->zin || !q->zout)
		return q_fail(q, -ENOMEM, "out of memory for the cluster buffers");
	/* Unknown autoclear features describe data we will not keep up to date: clear them. */
	if (!q->dev.read_only && q->h.version >= 3 && q->h.autoclear_features) {
		err = img_write_be64(q, 0, 88);
		if (err)
			return err;
		q->h.autoclear_features = 0;
	}
	q->free_hint = (q->file_end + q->cs - 1) >> q->cb;
	return q->backing_name[0] ? open_backing(q, flags, chain) : 0;
}

int qcow2_open(int fd, const char *path, unsigned int flags, struct block_chain *chain,
	       struct block_dev **out, char *why, size_t why_len)
{
	struct qcow2 *q = calloc(1, sizeof(*q));
	struct stat st;
	int err;

	if (!q) {
		close(fd);
		return block_fail(why, why_len, -ENOMEM, path, "out of memory");
	}
	q->fd = fd;
	q->dev.ops = &qcow2_ops;
	q->dev.read_only = flags & BLOCK_RDONLY;
	q->no_flush = flags & BLOCK_NO_FLUSH;
	snprintf(q->dev.path, sizeof(q->dev.path), "%s", path);
	if (fstat(fd, &st) < 0)
		err = q_fail(q, -errno, "cannot stat: %s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		err = q_fail(q, -EINVAL, "a QCOW2 image must be a regular file");
	else {
		q->file_end = (uint64_t)st.st_size;
		err = open_image(q, flags, chain);
	}
	if (err) {
		snprintf(why, why_len, "%s", q->dev.why);
		qcow2_free(q);
		return err;
	}
	q->dev.size = q->h.size;
	*out = &q->dev;
	return 0;
}

/* ---------------------------------------------------------------- create, info, check */

static uint64_t put_extension(uint8_t *p, uint32_t type, const void *data, uint32_t len)
{
	qcow2_put_be32(p, type);
	qcow2_put_be32(p + 4, len);
	memcpy(p + 8, data, len);
	return 8 + ((len + 7ull) & ~7ull);
}

/* Fill the first clusters of a new image: header, refcount table and block, L1 table. */
static int build_image(const struct qcow2_create_opts *o, struct qcow2_header *h, uint8_t *img,
		       uint64_t l1_clusters, char *why, size_t why_len)
{
	uint64_t cs = 1ull << h->cluster_bits, hlen, i, n = 3 + l1_clusters;
	size_t blen = o->backing_file ? strlen(o->backing_file) : 0;

	if (n > qcow2_refcounts_per_block(h->cluster_bits, h->refcount_order))
		return why_fail(why, why_len, -EFBIG,
				"disk too large for one refcount block at "
				"this cluster size");
	h->refcount_table_offset = cs;
	h->refcount_table_clusters = 1;
	h->l1_table_offset = 3 * cs;
	hlen = h->header_length;
	if (o->backing_format)
		hlen += put_extension(img + hlen, QCOW2_EXT_BACKING_FORMAT, o->backing_format,
				      (uint32_t)strlen(o->backing_format));
	hlen += 8; /* the end-of-extensions marker: 8 zero bytes */
	if (blen > QCOW2_MAX_BACKING_NAME || hlen + blen > cs)
		return why_fail(why, why_len, -ENAMETOOLONG, "backing file name too long");
	if (blen) {
		h->backing_file_offset = hlen;
		h->backing_file_size = (uint32_t)blen;
		memcpy(img + hlen, o->backing_file, blen);
	}
	qcow2_put_be64(img + cs, 2 * cs); /* refcount table[0] = the block in cluster 2 */
	for (i = 0; i < n; i++)
		qcow2_refcount_set(img + 2 * cs, h->refcount_order, i, 1);
	qcow2_encode_header(h, img);
	return 0;
}

int qcow2_create(const char *path, const struct qcow2_create_opts *o, char *why, size_t why_len)
{
	struct qcow2_header h = {.version = o->version ? o->version : 3,
				 .cluster_bits = o->cluster_bits ? o->cluster_bits : 16,
				 .size = o->size};
	unsigned int rbits = o->refcount_bits ? o->refcount_bits : 16;
	uint64_t cs, l1_clusters;
	uint8_t *img;
	int fd, err;

	h.refcount_order = (unsigned int)__builtin_ctz(rbits);
	h.header_length = h.version == 2 ? QCOW2_V2_HEADER_LEN : QCOW2_V3_HEADER_LEN;
	if (h.cluster_bits < QCOW2_MIN_CLUSTER_BITS || h.cluster_bits > QCOW2_MAX_CLUSTER_BITS ||
	    (rbits & (rbits - 1)) || rbits > 64 || (h.version == 2 && rbits != 16) ||
	    h.version < 2 || h.version > 3 || h.size > (1ull << 50))
		return block_fail(why, why_len, -EINVAL, path,
				  "invalid size, version, cluster "
				  "size or refcount width");
	cs = 1ull << h.cluster_bits;
	h.l1_size = (uint32_t)qcow2_l1_entries_for(h.size, h.cluster_bits);
	l1_clusters = ((uint64_t)h.l1_size * 8 + cs - 1) / cs;
	img = calloc(3 + l1_clusters, cs);
	if (!img)
		return block_fail(why, why_len, -ENOMEM, path, "out of memory");
	err = build_image(o, &h, img, l1_clusters, why, why_len);
	if (err) {
		free(img);
		return block_fail(why, why_len, err, path, "cannot create: %s", why);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	err = fd < 0 ? -errno : block_pwrite(fd, img, (3 + l1_clusters) * cs, 0);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (fd >= 0)
		close(fd);
	free(img);
	return err ? block_fail(why, why_len, err, path, "cannot create: %s", strerror(-err)) : 0;
}

int qcow2_get_info(struct block_dev *dev, struct qcow2_info *info)
{
	struct qcow2 *q = to_q(dev);

	if (dev->ops != &qcow2_ops)
		return -EINVAL;
	info->h = q->h;
	info->file_size = q->file_end;
	snprintf(info->backing_file, sizeof(info->backing_file), "%s", q->backing_name);
	snprintf(info->backing_format, sizeof(info->backing_format), "%s", q->backing_fmt);
	return 0;
}

int qcow2_host_refcount(struct block_dev *dev, uint64_t host, uint64_t *refcount)
{
	if (dev->ops != &qcow2_ops)
		return -EINVAL;
	return get_refcount(to_q(dev), host >> to_q(dev)->cb, refcount);
}

/* Count one reference to each cluster of [off, off+len); outside the file is a corruption. */
static void add_refs(struct qcow2 *q, uint32_t *refs, struct qcow2_check_result *r, uint64_t off,
		     uint64_t len)
{
	uint64_t c;

	if (!len)
		return;
	for (c = off >> q->cb; c <= (off + len - 1) >> q->cb; c++) {
		if (c >= r->clusters)
			r->corruptions++;
		else
			refs[c]++;
	}
}

static int count_l2_refs(struct qcow2 *q, uint32_t *refs, struct qcow2_check_result *r)
{
	uint64_t i, j, e;
	int err;

	for (i = 0; i < q->h.l1_size; i++) {
		if (!(q->l1[i] & QCOW2_OFFSET_MASK))
			continue;
		add_refs(q, refs, r, q->l1[i] & QCOW2_OFFSET_MASK, q->cs);
		err = load_l2(q, q->l1[i] & QCOW2_OFFSET_MASK);
		if (err)
			return err;
		for (j = 0; j < qcow2_l2_entries(q->cb); j++) {
			e = qcow2_be64(q->l2 + 8 * j);
			if (e & QCOW2_OFLAG_COMPRESSED) {
				struct qcow2_compressed z = qcow2_decode_compressed(e, q->cb);

				add_refs(q, refs, r, z.offset & ~511ull,
					 z.length + (z.offset & 511));
			} else {
				add_refs(q, refs, r, e & QCOW2_OFFSET_MASK,
					 e & QCOW2_OFFSET_MASK ? q->cs : 0);
			}
		}
	}
	return 0;
}

int qcow2_check(struct block_dev *dev, struct qcow2_check_result *r)
{
	struct qcow2 *q = to_q(dev);
	uint32_t *refs;
	uint64_t c, rc;
	int err;

	if (dev->ops != &qcow2_ops || q->h.nb_snapshots)
		return -ENOTSUP;
	memset(r, 0, sizeof(*r));
	r->clusters = (q->file_end + q->cs - 1) >> q->cb;
	refs = calloc(r->clusters + 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	add_refs(q, refs, r, 0, q->cs);
	add_refs(q, refs, r, q->h.l1_table_offset, (uint64_t)q->h.l1_size * 8);
	add_refs(q, refs, r, q->h.refcount_table_offset,
		 (uint64_t)q->h.refcount_table_clusters * q->cs);
	for (c = 0; c < q->rt_entries; c++)
		add_refs(q, refs, r, q->rt[c] & ~511ull, q->rt[c] & ~511ull ? q->cs : 0);
	err = count_l2_refs(q, refs, r);
	for (c = 0; !err && c < r->clusters; c++) {
		err = get_refcount(q, c, &rc);
		if (!err && rc < refs[c])
			r->corruptions++;
		else if (!err && rc > refs[c])
			r->leaks++;
	}
	free(refs);
	return err;
}
