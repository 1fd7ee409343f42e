/*
 * test_stage5_migration.c - unit tests of the migration stream (stage5-full-machine/migration/
 * stream.c), the bytes a snapshot file and a live migration share. A stream is written to a
 * temporary file, read back whole, then damaged the ways a disk or a network damages it:
 * cut short anywhere, a byte flipped (the checksum says so), another version, a section of
 * the wrong size, RAM pages beyond the configured RAM, a configuration that differs. Each must
 * give one clear line and hand out nothing of a bad section. Then a snapshot's sparse RAM
 * image (ramfile.c): written with holes, read back (with and without its holes), damaged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ramfile.h"
#include "stream.h"

static const char config[] = "machine=pc\nram=1048576\ncpus=1\ndevices=uart,ide\ndisks=0:disk\n";
static const uint8_t device[40] = "the registers of one device model";
#define RAM_PAGES 256   /* 1 MiB, as the configuration says */

/* A stream: header, a device section, a RAM section (a page of 0x5a, a zero page), end. */
static size_t make_stream(uint8_t **out, uint64_t ram_page)
{
	FILE *f = tmpfile();
	struct stream s;
	struct ram_batch b;
	static uint8_t page[STREAM_PAGE_SIZE];
	memset(page, 0x5a, sizeof(page));
	stream_init(&s, fileno(f));
	assert_int_equal(stream_write_header(&s, config), 0);
	assert_int_equal(stream_write_section(&s, "dev", 1, device, sizeof(device)), 0);
	assert_int_equal(ram_batch_init(&b), 0);
	assert_int_equal(ram_batch_add(&s, &b, ram_page, page), 0);
	assert_int_equal(ram_batch_add(&s, &b, 3, NULL), 0);
	assert_int_equal(ram_batch_flush(&s, &b), 0);
	ram_batch_free(&b);
	assert_int_equal(stream_write_end(&s), 0);
	size_t len = s.bytes;
	*out = malloc(len);
	assert_int_equal(pread(fileno(f), *out, len, 0), (ssize_t)len);
	fclose(f);
	return len;
}

struct seen {
	unsigned pages, zero;
	uint8_t first;
};

static void count_page(void *opaque, uint64_t page, const uint8_t *data)
{
	struct seen *seen = opaque;
	(void)page;
	seen->pages++;
	if (!data)
		seen->zero++;
	else
		seen->first = data[0];
}

/*
 * Read bytes[0..len) as a destination does: header, config check, sections, RAM walked.
 * Returns 0 at the end marker, else the first error, its line in why.
 */
static int read_stream(const uint8_t *bytes, size_t len, struct seen *seen, char *why,
		       size_t why_len)
{
	FILE *f = tmpfile();
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	fflush(f);
	lseek(fileno(f), 0, SEEK_SET);
	struct stream s;
	stream_init(&s, fileno(f));
	char text[STREAM_MAX_CONFIG + 1];
	int err = stream_read_header(&s, text, sizeof(text));
	if (!err)
		err = stream_config_diff(config, text, s.why, sizeof(s.why));
	while (!err) {
		struct section sec;
		err = stream_read_section(&s, &sec);
		if (err == 1) {
			err = 0;
			break;
		}
		if (err)
			break;
		if (!strcmp(sec.name, "ram"))
			err = stream_ram_section(&sec, RAM_PAGES, count_page, seen, s.why,
						 sizeof(s.why));
		else
			err = stream_expect(&sec, 1, sizeof(device), s.why, sizeof(s.why));
		free(sec.payload);
	}
	snprintf(why, why_len, "%s", err ? s.why : "");
	fclose(f);
	return err;
}

static void test_round_trip(void **state)
{
	uint8_t *bytes;
	char why[256];
	struct seen seen = { 0 };
	(void)state;
	size_t len = make_stream(&bytes, 7);
	assert_int_equal(read_stream(bytes, len, &seen, why, sizeof(why)), 0);
	assert_int_equal(seen.pages, 2);
	assert_int_equal(seen.zero, 1);
	assert_int_equal(seen.first, 0x5a);
	/* a zero page costs its record only: 8 bytes, no data */
	assert_true(len < 2 * STREAM_PAGE_SIZE);
	free(bytes);
}

/* Cut anywhere (header, config, a section header, a payload, before the end): an error. */
static void test_truncated(void **state)
{
	uint8_t *bytes;
	char why[256];
	(void)state;
	size_t len = make_stream(&bytes, 7);
	for (size_t cut = 0; cut < len; cut += cut < 200 ? 1 : 97) {
		struct seen seen = { 0 };
		int err = read_stream(bytes, cut, &seen, why, sizeof(why));
		assert_int_not_equal(err, 0);
		assert_non_null(strstr(why, "truncated"));
		/* the RAM section is handed out whole or not at all */
		assert_true(seen.pages == 0 || seen.pages == 2);
	}
	free(bytes);
}

/* A byte flipped in each part of the stream: header, config, section payloads. */
static void test_flipped_byte(void **state)
{
	uint8_t *bytes;
	char why[256];
	(void)state;
	size_t len = make_stream(&bytes, 7);
	size_t header = 16 + strlen(config) + 4;
	size_t where[] = { 2, 20, header + 28 + 5, header + 28 + sizeof(device) + 28 + 100,
			   len - 40 };
	for (unsigned i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		struct seen seen = { 0 };
		bytes[where[i]] ^= 0x10;
		assert_int_not_equal(read_stream(bytes, len, &seen, why, sizeof(why)), 0);
		assert_true(strstr(why, "checksum") || strstr(why, "magic"));
		assert_int_equal(seen.pages, 0);
		bytes[where[i]] ^= 0x10;
	}
	free(bytes);
}

static void test_unknown_version(void **state)
{
	uint8_t *bytes;
	char why[256];
	struct seen seen = { 0 };
	(void)state;
	size_t len = make_stream(&bytes, 7);
	bytes[8] = 9;   /* the header's version */
	assert_int_equal(read_stream(bytes, len, &seen, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "stream version 9: this minivisor reads version 2");
	bytes[8] = 1;   /* an older minivisor's stream (RAM as page records in snapshots) */
	assert_int_equal(read_stream(bytes, len, &seen, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "stream version 1: this minivisor reads version 2");
	free(bytes);
}

/* A device section one byte short (checksum right): the size check says so. */
static void test_wrong_section_size(void **state)
{
	FILE *f = tmpfile();
	struct stream s;
	char why[256];
	struct seen seen = { 0 };
	(void)state;
	stream_init(&s, fileno(f));
	stream_write_header(&s, config);
	stream_write_section(&s, "dev", 1, device, sizeof(device) - 1);
	stream_write_end(&s);
	uint8_t *bytes = malloc(s.bytes);
	assert_int_equal(pread(fileno(f), bytes, s.bytes, 0), (ssize_t)s.bytes);
	assert_int_equal(read_stream(bytes, s.bytes, &seen, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "section 'dev': 39 bytes, want 40");
	/* and another version of it */
	stream_init(&s, fileno(f));
	ftruncate(fileno(f), 0);
	lseek(fileno(f), 0, SEEK_SET);
	stream_write_header(&s, config);
	stream_write_section(&s, "dev", 2, device, sizeof(device));
	stream_write_end(&s);
	bytes = realloc(bytes, s.bytes);   /* a byte longer than the first stream */
	assert_non_null(bytes);
	assert_int_equal(pread(fileno(f), bytes, s.bytes, 0), (ssize_t)s.bytes);
	assert_int_equal(read_stream(bytes, s.bytes, &seen, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "section 'dev': version 2, this minivisor reads 1");
	free(bytes);
	fclose(f);
}

/* A page past the configured 1 MiB: refused, and no page of that section handed out. */
static void test_ram_too_large(void **state)
{
	uint8_t *bytes;
	char why[256];
	struct seen seen = { 0 };
	(void)state;
	size_t len = make_stream(&bytes, RAM_PAGES);
	assert_int_equal(read_stream(bytes, len, &seen, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "RAM page at 1 MiB: larger than the 1 MiB of RAM configured "
				 "here");
	assert_int_equal(seen.pages, 0);
	free(bytes);
}

static void test_config_differs(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(stream_config_diff(config, config, why, sizeof(why)), 0);
	assert_int_equal(stream_config_diff("machine=pc\nram=1048576\ncpus=2\n", config, why,
					    sizeof(why)), -EINVAL);
	assert_string_equal(why, "configuration differs: cpus is '1' in the stream, '2' here");
	assert_int_equal(stream_config_diff("machine=q35\nram=1048576\n", config, why,
					    sizeof(why)), -EINVAL);
	assert_string_equal(why, "configuration differs: machine is 'pc' in the stream, "
				 "'q35' here");
}

/* A length field of 4 GiB - 1 must not make the reader allocate it. */
static void test_huge_length(void **state)
{
	uint8_t *bytes;
	char why[256];
	struct seen seen = { 0 };
	(void)state;
	size_t len = make_stream(&bytes, 7);
	size_t header = 16 + strlen(config) + 4;
	memset(bytes + header + 20, 0xff, 4);   /* the device section's length */
	assert_int_equal(read_stream(bytes, len, &seen, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "section 'dev': length 4294967295: the stream is corrupt");
	free(bytes);
}

/* A "sync" between sections: the reader answers it on answer_fd and hands out the next one. */
static void test_sync(void **state)
{
	FILE *f = tmpfile();
	struct stream s;
	struct section sec;
	int answer[2];
	char got[16] = "";
	(void)state;
	assert_int_equal(pipe(answer), 0);
	stream_init(&s, fileno(f));
	assert_int_equal(stream_write_section(&s, "dev", 1, device, sizeof(device)), 0);
	assert_int_equal(stream_write_sync(&s), 0);
	assert_int_equal(stream_write_end(&s), 0);
	assert_int_equal(lseek(fileno(f), 0, SEEK_SET), 0);
	stream_init(&s, fileno(f));
	s.answer_fd = answer[1];
	assert_int_equal(stream_read_section(&s, &sec), 0);
	assert_string_equal(sec.name, "dev");
	free(sec.payload);
	assert_int_equal(stream_read_section(&s, &sec), 1);   /* the sync answered, then end */
	assert_int_equal(read(answer[0], got, sizeof(got) - 1), 8);
	assert_string_equal(got, "OK sync\n");
	close(answer[0]);
	close(answer[1]);
	fclose(f);
}

/* ---- the snapshot file's sparse RAM image (ramfile.c) ---------------------------------- */

#define IMG_PAGES 256   /* 1 MiB of "guest RAM" */
#define PAGE STREAM_PAGE_SIZE

/* RAM as a guest leaves it: a few pages written, one written and zeroed again, most never. */
static uint8_t *make_ram(void)
{
	uint8_t *ram = mmap(NULL, IMG_PAGES * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ram != MAP_FAILED);
	memset(ram + 3 * PAGE, 0x33, PAGE);
	memset(ram + 4 * PAGE, 0x44, PAGE);
	ram[100 * PAGE + 17] = 0x64;
	ram[7 * PAGE] = 1;
	ram[7 * PAGE] = 0;   /* touched, but zero again: a hole too */
	return ram;
}

/* A snapshot-like file: header, one device section, the RAM image. Returns its fd. */
static int write_image(const uint8_t *ram)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	int fd = dup(fileno(f));
	fclose(f);
	struct stream s;
	stream_init(&s, fd);
	assert_int_equal(stream_write_header(&s, config), 0);
	assert_int_equal(stream_write_section(&s, "dev", 1, device, sizeof(device)), 0);
	assert_int_equal(ram_image_write(&s, ram, IMG_PAGES * PAGE), 0);
	return fd;
}

/* Read fd from the start up to the "ram-image" section and load it; 0 or the error. */
static int read_image(int fd, uint8_t *ram, uint64_t size, char *why, size_t why_len)
{
	static char cfg[STREAM_MAX_CONFIG + 1];
	struct stream s;
	struct section sec;
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	stream_init(&s, fd);
	assert_int_equal(stream_read_header(&s, cfg, sizeof(cfg)), 0);
	assert_int_equal(stream_read_section(&s, &sec), 0);   /* dev */
	free(sec.payload);
	assert_int_equal(stream_read_section(&s, &sec), 0);
	assert_string_equal(sec.name, RAM_IMAGE_SECTION);
	int err = ram_image_read(fd, &sec, ram, size, why, why_len);
	free(sec.payload);
	if (!err)   /* the end marker follows: the metadata stream is whole */
		assert_int_equal(stream_read_section(&s, &sec), 1);
	return err;
}

static void flip(int fd, off_t at)
{
	uint8_t c;
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x10;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
}

/* ls -l: the image's end (1 MiB of metadata room + 1 MiB of RAM); du: the 3 pages and the
 * metadata; read back: the same RAM, and a page that held something where the file has a hole
 * is zeroed. */
static void test_ram_image_round_trip(void **state)
{
	char why[256] = "";
	struct stat st;
	(void)state;
	uint8_t *ram = make_ram();
	int fd = write_image(ram);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, RAM_IMAGE_ALIGN + IMG_PAGES * PAGE);
	assert_true(st.st_blocks * 512 <= 64 * 1024);   /* holes take no blocks */
	uint8_t *back = mmap(NULL, IMG_PAGES * PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(back + 50 * PAGE, 0xee, PAGE);   /* not in the snapshot: must become zero */
	memset(back + 3 * PAGE, 0x99, PAGE);
	assert_int_equal(read_image(fd, back, IMG_PAGES * PAGE, why, sizeof(why)), 0);
	assert_memory_equal(back, ram, IMG_PAGES * PAGE);
	close(fd);
	munmap(back, IMG_PAGES * PAGE);
	munmap(ram, IMG_PAGES * PAGE);
}

/* The same file with its holes filled with zeros (a copy without --sparse) reads the same. */
static void test_ram_image_without_holes(void **state)
{
	char why[256] = "";
	static uint8_t zeros[PAGE];
	(void)state;
	uint8_t *ram = make_ram();
	int fd = write_image(ram);
	for (unsigned p = 0; p < IMG_PAGES; p++)
		if (p != 3 && p != 4 && p != 100)
			assert_int_equal(pwrite(fd, zeros, PAGE, RAM_IMAGE_ALIGN + p * PAGE), PAGE);
	uint8_t *back = calloc(IMG_PAGES, PAGE);
	assert_int_equal(read_image(fd, back, IMG_PAGES * PAGE, why, sizeof(why)), 0);
	assert_memory_equal(back, ram, IMG_PAGES * PAGE);
	close(fd);
	free(back);
	munmap(ram, IMG_PAGES * PAGE);
}

/* A flipped byte in a data page, a byte where a hole was, a file cut short, another RAM size,
 * a stream that is not a file: one line each. */
static void test_ram_image_damaged(void **state)
{
	char why[256] = "";
	(void)state;
	uint8_t *ram = make_ram(), *back = calloc(IMG_PAGES, PAGE);

	int fd = write_image(ram);
	flip(fd, RAM_IMAGE_ALIGN + 4 * PAGE + 9);
	assert_int_equal(read_image(fd, back, IMG_PAGES * PAGE, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "want 3 pages"));
	assert_non_null(strstr(why, ": the file is corrupt"));
	close(fd);

	fd = write_image(ram);
	flip(fd, RAM_IMAGE_ALIGN + 200 * PAGE);   /* a hole becomes a page of data */
	assert_int_equal(read_image(fd, back, IMG_PAGES * PAGE, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "RAM image: 4 pages"));
	close(fd);

	fd = write_image(ram);
	assert_int_equal(ftruncate(fd, RAM_IMAGE_ALIGN + 512 * 1024), 0);
	assert_int_equal(read_image(fd, back, IMG_PAGES * PAGE, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "stream truncated in the RAM image (the file has 1572864 bytes, "
			    "the image ends at 2097152)");

	assert_int_equal(read_image(fd, back, 2 * IMG_PAGES * PAGE, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "RAM image of 1 MiB: the 2 MiB of RAM configured here differ");
	close(fd);

	int pipefd[2];
	struct section sec = { .name = RAM_IMAGE_SECTION, .version = STREAM_VERSION,
			       .len = RAM_IMAGE_DESC_LEN, .payload = calloc(1, 32) };
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(ram_image_read(pipefd[0], &sec, back, IMG_PAGES * PAGE, why,
					sizeof(why)), -EINVAL);
	assert_string_equal(why, "a RAM image in a stream that is not a file");
	close(pipefd[0]);
	close(pipefd[1]);
	free(sec.payload);
	free(back);
	munmap(ram, IMG_PAGES * PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_flipped_byte),
		cmocka_unit_test(test_unknown_version),
		cmocka_unit_test(test_wrong_section_size),
		cmocka_unit_test(test_ram_too_large),
		cmocka_unit_test(test_config_differs),
		cmocka_unit_test(test_huge_length),
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_ram_image_round_trip),
		cmocka_unit_test(test_ram_image_without_holes),
		cmocka_unit_test(test_ram_image_damaged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
