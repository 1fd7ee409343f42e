/*
 * test_stage5_block.c - unit tests of the disk backends (stage5-full-machine/block): QCOW2
 * header parsing (good and corrupt), guest offset -> L1/L2 index arithmetic, compressed
 * cluster descriptors, refcount packing for every width, and small images made in a temp
 * directory: allocation, refcount bookkeeping, refcount table growth, backing files, loops,
 * locks, hostile table entries, and a writer killed before and after its flush.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block.h"
#include "qcow2.h"

static char dir[64];

static const char *tmp_path(const char *name)
{
	static char path[4][128];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, 128, "%s/%s", dir, name);
	return p;
}

/* ---- header parsing ---- */

static struct qcow2_header good_v3(void)
{
	struct qcow2_header h = {.version = 3,
				 .cluster_bits = 16,
				 .size = 1 << 20,
				 .l1_size = 1,
				 .l1_table_offset = 3 << 16,
				 .refcount_table_offset = 1 << 16,
				 .refcount_table_clusters = 1,
				 .refcount_order = 4,
				 .header_length = QCOW2_V3_HEADER_LEN};
	return h;
}

static int parse(const struct qcow2_header *h, uint64_t file_size, char *why)
{
	uint8_t buf[QCOW2_V3_HEADER_LEN];
	struct qcow2_header out;

	qcow2_encode_header(h, buf);
	return qcow2_parse_header(buf, sizeof(buf), file_size, &out, why, BLOCK_WHY_MAX);
}

static void test_header_roundtrip(void **state)
{
	struct qcow2_header h = good_v3(), out;
	uint8_t buf[QCOW2_V3_HEADER_LEN];
	char why[BLOCK_WHY_MAX];

	(void)state;
	qcow2_encode_header(&h, buf);
	assert_int_equal(qcow2_parse_header(buf, sizeof(buf), 4 << 16, &out, why, sizeof(why)), 0);
	assert_int_equal(out.version, 3);
	assert_int_equal(out.cluster_bits, 16);
	assert_int_equal(out.size, 1 << 20);
	assert_int_equal(out.l1_table_offset, 3 << 16);
	assert_int_equal(out.refcount_order, 4);
	assert_memory_equal(buf, "QFI\xfb", 4);
}

static void test_header_v2_defaults(void **state)
{
	struct qcow2_header h = good_v3(), out;
	uint8_t buf[QCOW2_V3_HEADER_LEN];
	char why[BLOCK_WHY_MAX];

	(void)state;
	h.version = 2;
	qcow2_encode_header(&h, buf);
	assert_int_equal(
	    qcow2_parse_header(buf, QCOW2_V2_HEADER_LEN, 4 << 16, &out, why, sizeof(why)), 0);
	assert_int_equal(out.refcount_order, 4); /* version 2: always 16-bit refcounts */
	assert_int_equal(out.header_length, QCOW2_V2_HEADER_LEN);
	assert_int_equal(out.incompatible_features, 0);
}

static void expect_bad(struct qcow2_header h, uint64_t file_size, const char *words)
{
	char why[BLOCK_WHY_MAX] = "";

	assert_true(parse(&h, file_size, why) < 0);
	if (!strstr(why, words))
		fail_msg("reason '%s' lacks '%s'", why, words);
}

static void test_header_corrupt(void **state)
{
	struct qcow2_header h;
	uint8_t buf[QCOW2_V3_HEADER_LEN];
	struct qcow2_header out;
	char why[BLOCK_WHY_MAX];

	(void)state;
	h = good_v3(), h.version = 4;
	expect_bad(h, 4 << 16, "version 4");
	h = good_v3(), h.cluster_bits = 8;
	expect_bad(h, 4 << 16, "cluster_bits 8");
	h = good_v3(), h.cluster_bits = 22;
	expect_bad(h, 4 << 16, "cluster_bits 22");
	h = good_v3(), h.refcount_order = 7;
	expect_bad(h, 4 << 16, "refcount_order 7");
	h = good_v3(), h.crypt_method = 1;
	expect_bad(h, 4 << 16, "encryption");
	h = good_v3(), h.l1_table_offset = 3 << 16;
	expect_bad(h, 3 << 16, "truncated image: L1 table");
	h = good_v3(), h.l1_table_offset = 12345;
	expect_bad(h, 4 << 16, "L1 table offset");
	h = good_v3(), h.size = 1ull << 40;
	expect_bad(h, 4 << 16, "cannot map");
	h = good_v3(), h.refcount_table_clusters = 0;
	expect_bad(h, 4 << 16, "refcount table of 0 clusters");
	h = good_v3(), h.incompatible_features = 1ull << 9;
	expect_bad(h, 4 << 16, "unknown bit 9");
	h = good_v3(), h.incompatible_features = QCOW2_INCOMPAT_EXTL2;
	expect_bad(h, 4 << 16, "extended L2 entries");
	h = good_v3(), h.incompatible_features = QCOW2_INCOMPAT_DATA_FILE;
	expect_bad(h, 4 << 16, "external data file");
	h = good_v3(), h.backing_file_offset = 65000, h.backing_file_size = 1000;
	expect_bad(h, 4 << 16, "backing file name");

	h = good_v3();
	qcow2_encode_header(&h, buf);
	buf[0] = 'X';
	assert_int_equal(qcow2_parse_header(buf, sizeof(buf), 4 << 16, &out, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "magic"));
	buf[0] = 'Q';
	assert_int_equal(qcow2_parse_header(buf, 50, 50, &out, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "truncated"));
}

/* ---- address arithmetic ---- */

static void test_index_math(void **state)
{
	uint64_t g = 0x12345678;

	(void)state;
	/* 64 KiB clusters: an L2 table maps 8192 clusters = 512 MiB. */
	assert_int_equal(qcow2_l2_entries(16), 8192);
	assert_int_equal(qcow2_l1_index(g, 16), 0);
	assert_int_equal(qcow2_l2_index(g, 16), 0x1234);
	assert_int_equal(qcow2_in_cluster(g, 16), 0x5678);
	assert_int_equal(qcow2_l1_index(512ull << 20, 16), 1);
	assert_int_equal(qcow2_l1_index((512ull << 20) - 1, 16), 0);
	/* 512-byte clusters: 64 entries, an L2 table maps 32 KiB. */
	g = (1 << 20) + 32768 * 3 + 512 * 5 + 7;
	assert_int_equal(qcow2_l1_index(g, 9), 32 + 3);
	assert_int_equal(qcow2_l2_index(g, 9), 5);
	assert_int_equal(qcow2_in_cluster(g, 9), 7);
	/* 2 MiB clusters */
	assert_int_equal(qcow2_l2_index(5ull << 21, 21), 5);
	assert_int_equal(qcow2_l1_entries_for(0, 16), 0);
	assert_int_equal(qcow2_l1_entries_for(1, 16), 1);
	assert_int_equal(qcow2_l1_entries_for(512ull << 20, 16), 1);
	assert_int_equal(qcow2_l1_entries_for((512ull << 20) + 1, 16), 2);
}

static void test_compressed_descriptor(void **state)
{
	/* 64 KiB clusters: offset in bits 0..53, extra sectors in bits 54..61. */
	uint64_t e = QCOW2_OFLAG_COMPRESSED | (3ull << 54) | 0x12345;
	struct qcow2_compressed c = qcow2_decode_compressed(e, 16);

	(void)state;
	assert_int_equal(c.offset, 0x12345);
	assert_int_equal(c.length, 4 * 512 - 0x145);
	/* 512-byte clusters: x = 61, one bit of sector count */
	c = qcow2_decode_compressed(QCOW2_OFLAG_COMPRESSED | (1ull << 61) | 1024, 9);
	assert_int_equal(c.offset, 1024);
	assert_int_equal(c.length, 1024);
}

/* ---- refcount packing ---- */

static void test_refcount_widths(void **state)
{
	uint8_t block[512];
	unsigned int order;
	uint64_t i;

	(void)state;
	for (order = 0; order <= 6; order++) {
		uint64_t n = qcow2_refcounts_per_block(9, order);
		uint64_t max = order == 6 ? UINT64_MAX : (1ull << (1u << order)) - 1;

		assert_int_equal(n, 4096 >> order);
		memset(block, 0, sizeof(block));
		for (i = 0; i < n; i++)
			qcow2_refcount_set(block, order, i, (i * 7 + 1) & max);
		for (i = 0; i < n; i++)
			assert_int_equal(qcow2_refcount_get(block, order, i), (i * 7 + 1) & max);
	}
	/* sub-byte entries fill a byte from its low bit; wider ones are big-endian */
	memset(block, 0, sizeof(block));
	qcow2_refcount_set(block, 0, 3, 1);
	assert_int_equal(block[0], 0x08);
	qcow2_refcount_set(block, 2, 3, 0xf);
	assert_int_equal(block[1], 0xf0);
	qcow2_refcount_set(block, 4, 2, 0x1234);
	assert_int_equal(block[4], 0x12);
	assert_int_equal(block[5], 0x34);
}

/* ---- images in a temp directory ---- */

static struct block_dev *open_ok(const char *path, unsigned int flags)
{
	struct block_dev *dev = NULL;
	char why[BLOCK_WHY_MAX];

	if (block_open(path, flags, &dev, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	return dev;
}

static void create_ok(const char *path, struct qcow2_create_opts o)
{
	char why[BLOCK_WHY_MAX];

	unlink(path);
	if (qcow2_create(path, &o, why, sizeof(why)) < 0)
		fail_msg("%s", why);
}

static void assert_clean(struct block_dev *dev)
{
	struct qcow2_check_result r;

	assert_int_equal(qcow2_check(dev, &r), 0);
	assert_int_equal(r.corruptions, 0);
	assert_int_equal(r.leaks, 0);
}

static void test_alloc_and_refcounts(void **state)
{
	const char *img = tmp_path("a.qcow2");
	struct qcow2_create_opts o = {.size = 4 << 20};
	static uint8_t in[200000], out[200000];
	struct block_dev *dev;
	struct qcow2_info info;
	uint64_t rc, file_before;
	size_t i;

	(void)state;
	create_ok(img, o);
	dev = open_ok(img, 0);
	assert_int_equal(dev->size, 4 << 20);
	assert_int_equal(qcow2_get_info(dev, &info), 0);
	file_before = info.file_size;
	assert_int_equal(file_before, 4 << 16); /* header, refcount table, block, L1 */
	assert_clean(dev);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(block_write(dev, in, 70000, sizeof(in)), 0);
	assert_int_equal(block_read(dev, out, 70000, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	/* bytes 70000 .. 269999 touch guest clusters 1..4: 4 data clusters + 1 L2 table */
	assert_int_equal(qcow2_get_info(dev, &info), 0);
	assert_int_equal(info.file_size, file_before + 5 * 65536);
	assert_int_equal(qcow2_host_refcount(dev, 0, &rc), 0);
	assert_int_equal(rc, 1);
	assert_int_equal(qcow2_host_refcount(dev, file_before + 4 * 65536, &rc), 0);
	assert_int_equal(rc, 1);
	assert_int_equal(qcow2_host_refcount(dev, file_before + 5 * 65536, &rc), 0);
	assert_int_equal(rc, 0); /* past the end: free */
	assert_clean(dev);
	/* the untouched parts of the partly written clusters read as zeros */
	assert_int_equal(block_read(dev, out, 65536, 4464), 0);
	for (i = 0; i < 4464; i++)
		assert_int_equal(out[i], 0);
	/* rewriting allocated clusters allocates nothing */
	assert_int_equal(block_write(dev, in, 70000, 1000), 0);
	assert_int_equal(qcow2_get_info(dev, &info), 0);
	assert_int_equal(info.file_size, file_before + 5 * 65536);
	block_close(dev);
}

static void test_refcount_table_growth(void **state)
{
	/* 512-byte clusters, 64-bit refcounts: one table cluster covers 64 * 64 clusters = 2 MiB */
	const char *img = tmp_path("g.qcow2");
	struct qcow2_create_opts o = {.size = 4 << 20, .cluster_bits = 9, .refcount_bits = 64};
	static uint8_t in[3 << 20], out[3 << 20];
	struct block_dev *dev;
	struct qcow2_info info;
	size_t i;

	(void)state;
	create_ok(img, o);
	dev = open_ok(img, BLOCK_NO_FLUSH);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i / 512 + i);
	assert_int_equal(block_write(dev, in, 0, sizeof(in)), 0);
	block_close(dev);
	dev = open_ok(img, BLOCK_RDONLY);
	assert_int_equal(qcow2_get_info(dev, &info), 0);
	assert_true(info.h.refcount_table_clusters > 1);
	assert_int_equal(info.h.refcount_order, 6);
	assert_int_equal(block_read(dev, out, 0, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	assert_clean(dev);
	block_close(dev);
}

static void test_backing_cow(void **state)
{
	const char *base = tmp_path("base.raw"), *top = tmp_path("top.qcow2");
	struct qcow2_create_opts o = {
	    .size = 1 << 20, .backing_file = "base.raw", .backing_format = "raw"};
	static uint8_t pattern[1 << 20], out[1 << 20];
	struct block_dev *dev;
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i ^ (i >> 9));
	fd = open(base, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, pattern, 768 << 10), 768 << 10); /* shorter than the disk */
	close(fd);
	create_ok(top, o);
	dev = open_ok(top, 0);
	assert_int_equal(block_write(dev, "hello", 100000, 5), 0);
	memcpy(pattern + 100000, "hello", 5);
	memset(pattern + (768 << 10), 0, 256 << 10); /* past the backing file: zeros */
	assert_int_equal(block_read(dev, out, 0, sizeof(out)), 0);
	assert_memory_equal(pattern, out, sizeof(out));
	assert_clean(dev);
	block_close(dev);
}

static void test_backing_loop(void **state)
{
	struct qcow2_create_opts a = {
	    .size = 1 << 20, .backing_file = "loop-b.qcow2", .backing_format = "qcow2"};
	struct qcow2_create_opts b = {.size = 1 << 20, .backing_file = "loop-a.qcow2"};
	struct block_dev *dev = NULL;
	char why[BLOCK_WHY_MAX];

	(void)state;
	create_ok(tmp_path("loop-a.qcow2"), a);
	create_ok(tmp_path("loop-b.qcow2"), b);
	assert_int_equal(block_open(tmp_path("loop-a.qcow2"), 0, &dev, why, sizeof(why)), -ELOOP);
	assert_non_null(strstr(why, "loop"));
	assert_null(dev);
}

static void test_lock(void **state)
{
	const char *img = tmp_path("l.qcow2");
	struct qcow2_create_opts o = {.size = 1 << 20};
	struct block_dev *dev, *dev2 = NULL, *r1, *r2;
	char why[BLOCK_WHY_MAX];

	(void)state;
	create_ok(img, o);
	dev = open_ok(img, 0);
	/* OFD locks belong to the open file, so a second open in this process conflicts too */
	assert_int_equal(block_open(img, 0, &dev2, why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "already in use by another process"));
	assert_int_equal(block_open(img, BLOCK_RDONLY, &dev2, why, sizeof(why)), -EBUSY);
	block_close(dev);
	r1 = open_ok(img, BLOCK_RDONLY); /* readers share */
	r2 = open_ok(img, BLOCK_RDONLY);
	block_close(r1);
	block_close(r2);
}

static void poke_be64(const char *path, uint64_t off, uint64_t v)
{
	uint8_t b[8];
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	qcow2_put_be64(b, v);
	assert_int_equal(pwrite(fd, b, 8, (off_t)off), 8);
	close(fd);
}

static void test_hostile_tables(void **state)
{
	const char *img = tmp_path("h.qcow2");
	struct qcow2_create_opts o = {.size = 1 << 20};
	struct block_dev *dev = NULL;
	char why[BLOCK_WHY_MAX];
	uint8_t buf[512] = {1};

	(void)state;
	/* L1[0] (in cluster 3) names an L2 table far past the end: refused at open */
	create_ok(img, o);
	poke_be64(img, 3 << 16, QCOW2_OFLAG_COPIED | (1ull << 40));
	assert_int_equal(block_open(img, 0, &dev, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "L2 table 0 at 0x10000000000"));
	/* a data cluster past the end (L2 table in cluster 4 after the first write) */
	create_ok(img, o);
	dev = open_ok(img, 0);
	assert_int_equal(block_write(dev, buf, 0, sizeof(buf)), 0);
	block_close(dev);
	poke_be64(img, 4 << 16, QCOW2_OFLAG_COPIED | (1ull << 40));
	dev = open_ok(img, 0);
	assert_int_equal(block_read(dev, buf, 0, sizeof(buf)), -EIO);
	assert_non_null(strstr(dev->why, "past the end of the file"));
	assert_int_equal(block_write(dev, buf, 0, sizeof(buf)), -EIO);
	assert_int_equal(block_read(dev, buf, 1 << 20, 1), -EINVAL); /* past the disk */
	block_close(dev);
	/* a data cluster that is the header */
	poke_be64(img, 4 << 16, QCOW2_OFLAG_COPIED | 512);
	dev = open_ok(img, 0);
	assert_int_equal(block_read(dev, buf, 0, sizeof(buf)), -EIO);
	assert_non_null(strstr(dev->why, "is not a valid cluster"));
	block_close(dev);
}

/*
 * The metadata write-back cache (qcow2.c, "the metadata cache"): a writer killed before its
 * flush leaves an image that checks clean (not even a leak) where its allocating writes never
 * happened; killed after the flush, every byte it wrote is there. Overwrites of allocated
 * clusters go straight to the file. The child dies by SIGKILL: no close, no flush runs.
 */
static void write_then_die(const char *img, uint64_t off, uint8_t fill, bool flush)
{
	static uint8_t buf[300000];
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct block_dev *dev = NULL;
		char why[BLOCK_WHY_MAX];

		memset(buf, fill, sizeof(buf));
		if (block_open(img, 0, &dev, why, sizeof(why)) < 0 ||
		    block_write(dev, buf, off, sizeof(buf)) < 0 || (flush && block_flush(dev) < 0))
			_exit(1);
		raise(SIGKILL);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void assert_filled(struct block_dev *dev, uint64_t off, uint8_t fill)
{
	static uint8_t out[300000];
	size_t i;

	assert_int_equal(block_read(dev, out, off, sizeof(out)), 0);
	for (i = 0; i < sizeof(out); i++)
		if (out[i] != fill)
			fail_msg("byte %llu: 0x%02x, not 0x%02x", (unsigned long long)(off + i),
				 out[i], fill);
}

static void test_kill_before_and_after_flush(void **state)
{
	const char *img = tmp_path("k.qcow2");
	struct qcow2_create_opts o = {.size = 4 << 20};
	struct block_dev *dev;

	(void)state;
	create_ok(img, o);
	write_then_die(img, 1000, 0x11, true);	      /* allocates, flushed */
	write_then_die(img, 2 << 20, 0x22, false);    /* allocates, killed before a flush */
	write_then_die(img, 1000, 0x33, false);	      /* in place, killed before a flush */
	dev = open_ok(img, BLOCK_RDONLY);
	assert_clean(dev);
	assert_filled(dev, 1000, 0x33);
	assert_filled(dev, 2 << 20, 0);
	block_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_roundtrip),
	    cmocka_unit_test(test_header_v2_defaults),
	    cmocka_unit_test(test_header_corrupt),
	    cmocka_unit_test(test_index_math),
	    cmocka_unit_test(test_compressed_descriptor),
	    cmocka_unit_test(test_refcount_widths),
	    cmocka_unit_test(test_alloc_and_refcounts),
	    cmocka_unit_test(test_refcount_table_growth),
	    cmocka_unit_test(test_backing_cow),
	    cmocka_unit_test(test_backing_loop),
	    cmocka_unit_test(test_lock),
	    cmocka_unit_test(test_hostile_tables),
	    cmocka_unit_test(test_kill_before_and_after_flush),
	};
	int failed;

	snprintf(dir, sizeof(dir), "/tmp/test_stage5_block.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	failed = cmocka_run_group_tests_name("stage 5 block backends", tests, NULL, NULL);
	if (!failed) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return failed;
}
