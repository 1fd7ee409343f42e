/*
 * qcow2-tool.c - a command-line window onto the block backends: what the tests and the
 * benchmark drive, and a way to watch a QCOW2 image change one write at a time.
 *
 *   qcow2-tool info IMG                     header fields and backing file
 *   qcow2-tool read IMG OFFSET LEN          disk bytes to stdout
 *   qcow2-tool write IMG OFFSET             stdin to the disk at OFFSET
 *   qcow2-tool fill IMG OFFSET LEN BYTE     LEN bytes of value BYTE, in --chunk requests
 *   qcow2-tool create IMG SIZE              a new empty QCOW2 image (options below)
 *   qcow2-tool check IMG                    our refcounts against the references (0 clean,
 *                                           1 corruptions, 3 leaks only, as qemu-img check)
 *   qcow2-tool hold IMG                     open read-write, print "locked", wait for EOF on stdin
 *   qcow2-tool bench IMG write|read TOTAL BLOCK   sequential MB/s
 *
 * Options: -f raw|qcow2 (no probing), --read-only, --no-flush, --chunk SIZE,
 * --kill-after-writes N (die by SIGKILL after N file writes: the crash test),
 * create: --cluster-size N, --version 2|3, --refcount-bits N, --backing FILE,
 * --backing-format raw|qcow2. Sizes take K, M, G suffixes (powers of 1024).
 * Exit status: 0 done, 1 an I/O error, 2 bad usage or an image that cannot be opened.
 */
#include "block.h"
#include "qcow2.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUF_MAX (16u << 20)

struct opts {
	unsigned int flags;
	uint64_t chunk;
	struct qcow2_create_opts create;
};

static int usage(void)
{
	fprintf(stderr, "usage: qcow2-tool [options] info|read|write|fill|create|check|hold|bench "
			"IMG [ARGS]\n       (see the comment at the top of qcow2-tool.c)\n");
	return 2;
}

/* "64K" -> 65536. Returns 0 and *out, or -1 for a malformed number. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'G':
	case 'g':
		v <<= 10; /* fall through */
	case 'M':
	case 'm':
		v <<= 10; /* fall through */
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static int open_dev(const char *path, const struct opts *o, bool ro, struct block_dev **dev)
{
	char why[BLOCK_WHY_MAX];
	int err = block_open(path, o->flags | (ro ? BLOCK_RDONLY : 0), dev, why, sizeof(why));

	if (err)
		fprintf(stderr, "qcow2-tool: %s\n", why);
	return err ? 2 : 0;
}

static int io_fail(struct block_dev *dev)
{
	fprintf(stderr, "qcow2-tool: %s\n", dev->why);
	block_close(dev);
	return 1;
}

static void cmd_info(struct block_dev *dev)
{
	struct qcow2_info i;

	if (qcow2_get_info(dev, &i) < 0) {
		printf("format: %s\nvirtual size: %llu\n", dev->ops->name,
		       (unsigned long long)dev->size);
		return;
	}
	printf("format: qcow2\nversion: %u\nvirtual size: %llu\ncluster size: %llu\n"
	       "refcount bits: %u\nfile size: %llu\nL1 entries: %u\nsnapshots: %u\n",
	       i.h.version, (unsigned long long)i.h.size, 1ull << i.h.cluster_bits,
	       1u << i.h.refcount_order, (unsigned long long)i.file_size, i.h.l1_size,
	       i.h.nb_snapshots);
	if (i.backing_file[0])
		printf("backing file: %s (format: %s)\n", i.backing_file,
		       i.backing_format[0] ? i.backing_format : "probed");
}

static int cmd_read(struct block_dev *dev, uint64_t off, uint64_t len)
{
	uint8_t *buf = malloc(BUF_MAX);

	while (buf && len > 0) {
		size_t n = len < BUF_MAX ? len : BUF_MAX;

		if (block_read(dev, buf, off, n) < 0) {
			free(buf);
			return io_fail(dev);
		}
		if (fwrite(buf, 1, n, stdout) != n)
			break;
		off += n;
		len -= n;
	}
	free(buf);
	block_close(dev);
	return len ? 1 : 0;
}

/* One request of up to chunk bytes at a time, as a device model would issue them. */
static int write_all(struct block_dev *dev, const uint8_t *buf, uint64_t off, uint64_t len,
		     uint64_t chunk)
{
	while (len > 0) {
		uint64_t n = len < chunk ? len : chunk;

		if (block_write(dev, buf, off, n) < 0)
			return -1;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int cmd_write(struct block_dev *dev, uint64_t off, uint64_t chunk)
{
	uint8_t *buf = malloc(BUF_MAX);
	size_t n;

	while (buf && (n = fread(buf, 1, BUF_MAX, stdin)) > 0) {
		if (write_all(dev, buf, off, n, chunk) < 0 || block_flush(dev) < 0) {
			free(buf);
			return io_fail(dev);
		}
		off += n;
	}
	free(buf);
	block_close(dev);
	return 0;
}

static int cmd_fill(struct block_dev *dev, uint64_t off, uint64_t len, int byte, uint64_t chunk)
{
	uint8_t *buf = malloc(chunk);

	if (!buf)
		return io_fail(dev);
	memset(buf, byte, chunk);
	while (len > 0) {
		uint64_t n = len < chunk ? len : chunk;

		if (block_write(dev, buf, off, n) < 0) {
			free(buf);
			return io_fail(dev);
		}
		off += n;
		len -= n;
	}
	free(buf);
	if (block_flush(dev) < 0)
		return io_fail(dev);
	block_close(dev);
	return 0;
}

static int cmd_check(struct block_dev *dev)
{
	struct qcow2_check_result r;
	int err = qcow2_check(dev, &r);

	if (err) {
		fprintf(stderr, "qcow2-tool: %s: cannot check: %s\n", dev->path,
			dev->why[0] ? dev->why : strerror(-err));
		block_close(dev);
		return 2;
	}
	printf("%llu clusters, %llu corruptions, %llu leaks\n", (unsigned long long)r.clusters,
	       (unsigned long long)r.corruptions, (unsigned long long)r.leaks);
	block_close(dev);
	return r.corruptions ? 1 : r.leaks ? 3 : 0;
}

static int cmd_hold(struct block_dev *dev)
{
	char c;

	printf("locked %s\n", dev->path);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	block_close(dev);
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Sequential requests of block bytes over [0, total); the final flush is not timed. */
static int cmd_bench(struct block_dev *dev, const char *what, uint64_t total, uint64_t block)
{
	bool wr = !strcmp(what, "write");
	uint8_t *buf = malloc(block);
	uint64_t off;
	double t0, t;

	if (!buf || !block || (!wr && strcmp(what, "read")) || total > dev->size) {
		fprintf(stderr, "qcow2-tool: bench: write|read TOTAL BLOCK, TOTAL <= disk size\n");
		free(buf);
		block_close(dev);
		return 2;
	}
	memset(buf, 0xa5, block);
	t0 = now();
	for (off = 0; off + block <= total; off += block) {
		int err = wr ? block_write(dev, buf, off, block) : block_read(dev, buf, off, block);

		if (err < 0) {
			free(buf);
			return io_fail(dev);
		}
	}
	t = now() - t0;
	free(buf);
	if (block_flush(dev) < 0)
		return io_fail(dev);
	printf("%s: %llu bytes in %.3f s: %.1f MB/s\n", what, (unsigned long long)off, t,
	       off / t / 1e6);
	block_close(dev);
	return 0;
}

static int cmd_create(const char *path, const char *size, struct opts *o)
{
	char why[BLOCK_WHY_MAX];

	if (parse_size(size, &o->create.size) < 0)
		return usage();
	if (qcow2_create(path, &o->create, why, sizeof(why)) < 0) {
		fprintf(stderr, "qcow2-tool: %s\n", why);
		return 2;
	}
	return 0;
}

struct command {
	const char *name;
	int args;	/* after IMG */
	bool read_only; /* bench decides by its first argument */
};

static const struct command commands[] = {
    {"info", 0, true},	{"read", 2, true},  {"write", 1, false}, {"fill", 3, false},
    {"check", 0, true}, {"hold", 0, false}, {"bench", 3, false},
};

/* Commands on an opened image: a[0] is IMG, a[1..] its numeric arguments (bench: a word first). */
static int run_on_image(const struct command *c, char **a, int n, struct opts *o)
{
	bool bench = !strcmp(c->name, "bench"), ro = c->read_only || (o->flags & BLOCK_RDONLY);
	uint64_t x[3] = {0};
	struct block_dev *dev;
	int i;

	if (n != c->args + 1)
		return usage();
	for (i = bench ? 2 : 1; i < n; i++)
		if (parse_size(a[i], &x[i - 1]) < 0)
			return usage();
	if (bench && !strcmp(a[1], "read"))
		ro = true;
	if (open_dev(a[0], o, ro, &dev))
		return 2;
	if (!strcmp(c->name, "info")) {
		cmd_info(dev);
		block_close(dev);
		return 0;
	}
	if (!strcmp(c->name, "read"))
		return cmd_read(dev, x[0], x[1]);
	if (!strcmp(c->name, "write"))
		return cmd_write(dev, x[0], o->chunk);
	if (!strcmp(c->name, "fill"))
		return cmd_fill(dev, x[0], x[1], (int)x[2], o->chunk);
	if (!strcmp(c->name, "check"))
		return cmd_check(dev);
	if (!strcmp(c->name, "hold"))
		return cmd_hold(dev);
	return cmd_bench(dev, a[1], x[1], x[2]);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {{"read-only", no_argument, 0, 'r'},
						 {"no-flush", no_argument, 0, 'n'},
						 {"chunk", required_argument, 0, 'c'},
						 {"kill-after-writes", required_argument, 0, 'k'},
						 {"cluster-size", required_argument, 0, 's'},
						 {"version", required_argument, 0, 'v'},
						 {"refcount-bits", required_argument, 0, 'b'},
						 {"backing", required_argument, 0, 'B'},
						 {"backing-format", required_argument, 0, 'F'},
						 {0, 0, 0, 0}};
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		if (c == 'f' && (!strcmp(optarg, "raw") || !strcmp(optarg, "qcow2")))
			o->flags |= optarg[0] == 'r' ? BLOCK_FORMAT_RAW : BLOCK_FORMAT_QCOW2;
		else if (c == 'r' || c == 'n')
			o->flags |= c == 'r' ? BLOCK_RDONLY : BLOCK_NO_FLUSH;
		else if (c == 'B' || c == 'F')
			*(c == 'B' ? &o->create.backing_file : &o->create.backing_format) = optarg;
		else if (c == 'f' || c == '?' || parse_size(optarg, &v) < 0)
			return -1;
		else if (c == 'c')
			o->chunk = v ? v : 1;
		else if (c == 'k')
			block_kill_after_writes = (long)v;
		else if (c == 's') /* not a power of two: an invalid size that create refuses */
			o->create.cluster_bits =
			    v && !(v & (v - 1)) ? (unsigned int)__builtin_ctzll(v) : 99;
		else if (c == 'v')
			o->create.version = (unsigned int)v;
		else if (c == 'b')
			o->create.refcount_bits = (unsigned int)v;
	}
	return o->chunk <= BUF_MAX ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o = {.chunk = 64 << 10};
	const char *cmd;
	size_t i;

	if (parse_opts(argc, argv, &o) < 0 || optind + 2 > argc)
		return usage();
	cmd = argv[optind];
	if (!strcmp(cmd, "create"))
		return optind + 3 == argc ? cmd_create(argv[optind + 1], argv[optind + 2], &o)
					  : usage();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return run_on_image(&commands[i], argv + optind + 1, argc - optind - 1, &o);
	return usage();
}
