/*
 * test_stage5_pflash.c - unit tests of the CFI parallel flash (board/pflash.c) on a plain
 * buffer: the commands OVMF's flash driver issues (its probe, program, block erase, read
 * status), the CFI query table, a read-only chip, hostile sequences; and the image checks
 * pflash_open makes on files (size, a read-only VARS file, a missing one), with the guest's
 * changes landing in the file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "board/pflash.h"

#define SIZE (4 * PFLASH_SECTOR)

static uint8_t buf[SIZE];
static struct pflash f;

static int setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < SIZE; i++)
		buf[i] = i * 7;
	memset(&f, 0, sizeof(f));
	pflash_init(&f, buf, SIZE, false);
	return 0;
}

/* Power-on: reads are the array, at any width. */
static void test_read_array(void **state)
{
	(void)state;
	assert_int_equal(pflash_read(&f, 5, 1), (uint8_t)(5 * 7));
	assert_int_equal(pflash_read(&f, 4, 2), (uint8_t)(4 * 7) | (uint8_t)(5 * 7) << 8);
	assert_int_equal(f.mode, PFLASH_READ_ARRAY);
}

/*
 * OVMF's QemuFlashDetected, step by step: 0x50 must not read back as 0x50 ("RAM"), 0x70 must
 * read 0x00 (neither the original byte, "ROM", nor 0x70, "RAM"); then the original byte is
 * programmed over itself and the status must show no program error: "FLASH, writable".
 */
static void test_ovmf_probe(void **state)
{
	(void)state;
	uint32_t at = 9;   /* a byte that is neither 0x00 nor 0x70, as OVMF looks for */
	uint8_t original = pflash_read(&f, at, 1);
	pflash_write(&f, at, 0x50, 1);
	assert_int_equal(pflash_read(&f, at, 1), original);
	pflash_write(&f, at, 0x70, 1);
	assert_int_equal(pflash_read(&f, at, 1), 0x00);
	pflash_write(&f, at, 0x10, 1);
	pflash_write(&f, at, original, 1);
	pflash_write(&f, at, 0x70, 1);
	assert_false(pflash_read(&f, at, 1) & PFLASH_STATUS_PROG_ERR);
	pflash_write(&f, at, 0xff, 1);
	assert_int_equal(pflash_read(&f, at, 1), original);
	assert_int_equal(f.mode, PFLASH_READ_ARRAY);
}

/* Program: the data is ANDed in (only 1 -> 0), then the chip shows its status. */
static void test_program(void **state)
{
	(void)state;
	buf[100] = 0xf0;
	pflash_write(&f, 100, 0x10, 1);
	assert_int_equal(f.mode, PFLASH_PROGRAM);
	pflash_write(&f, 100, 0x3c, 1);
	assert_int_equal(buf[100], 0x30);
	assert_int_equal(f.mode, PFLASH_READ_STATUS);
	assert_int_equal(pflash_read(&f, 100, 1), PFLASH_STATUS_READY);
	/* A 4-byte program (0x40, the alternate code) writes all four lanes. */
	memset(buf + 200, 0xff, 4);
	pflash_write(&f, 200, 0x40, 1);
	pflash_write(&f, 200, 0x12345678, 4);
	pflash_write(&f, 0, 0xff, 1);
	assert_int_equal(pflash_read(&f, 200, 4), 0x12345678);
	assert_int_equal(f.programmed, 5);
}

/* Block erase: setup, confirm; the whole 4 KiB sector of the address, nothing else. */
static void test_erase(void **state)
{
	(void)state;
	pflash_write(&f, PFLASH_SECTOR + 123, 0x20, 1);
	assert_int_equal(f.mode, PFLASH_ERASE);
	pflash_write(&f, PFLASH_SECTOR + 123, 0xd0, 1);
	assert_int_equal(pflash_read(&f, 0, 1), PFLASH_STATUS_READY);
	pflash_write(&f, 0, 0xff, 1);
	for (unsigned i = PFLASH_SECTOR; i < 2 * PFLASH_SECTOR; i++)
		assert_int_equal(buf[i], 0xff);
	assert_int_equal(buf[PFLASH_SECTOR - 1], (uint8_t)((PFLASH_SECTOR - 1) * 7));
	assert_int_equal(buf[2 * PFLASH_SECTOR], (uint8_t)(2 * PFLASH_SECTOR * 7));
	assert_int_equal(f.erased, 1);
}

/* An erase without its confirm erases nothing: the status says "bad sequence". */
static void test_erase_bad_confirm(void **state)
{
	(void)state;
	pflash_write(&f, 0, 0x20, 1);
	pflash_write(&f, 0, 0x42, 1);
	assert_int_equal(pflash_read(&f, 0, 1), PFLASH_STATUS_READY | 0x30);
	assert_int_equal(f.erased, 0);
	pflash_write(&f, 0, 0x50, 1);   /* clear status: all bits */
	pflash_write(&f, 0, 0x70, 1);
	assert_int_equal(pflash_read(&f, 0, 1), 0x00);
	assert_int_equal(buf[1], 7);
}

/* The CFI query: "QRY", the Intel command set, the erase block geometry, the size. */
static void test_cfi_query(void **state)
{
	(void)state;
	pflash_write(&f, 0x55, 0x98, 1);
	assert_int_equal(f.mode, PFLASH_READ_QUERY);
	assert_int_equal(pflash_read(&f, 0x10, 1), 'Q');
	assert_int_equal(pflash_read(&f, 0x11, 1), 'R');
	assert_int_equal(pflash_read(&f, 0x12, 1), 'Y');
	assert_int_equal(pflash_read(&f, 0x13, 2), 0x0001);
	assert_int_equal(pflash_read(&f, 0x27, 1), 14);          /* 2^14 = 16 KiB */
	assert_int_equal(pflash_read(&f, 0x2c, 1), 1);           /* one erase region */
	assert_int_equal(pflash_read(&f, 0x2d, 2), 4 - 1);       /* four blocks */
	assert_int_equal(pflash_read(&f, 0x2f, 2), PFLASH_SECTOR / 256);
	pflash_write(&f, 0, 0x90, 1);                            /* identifier */
	assert_int_equal(pflash_read(&f, 0, 1), 0x89);
	pflash_write(&f, 0, 0xff, 1);
	assert_int_equal(pflash_read(&f, 0x10, 1), (uint8_t)(0x10 * 7));
}

/* A read-only chip (the code, or readonly=on vars): program and erase fail, nothing changes. */
static void test_readonly(void **state)
{
	(void)state;
	pflash_init(&f, buf, SIZE, true);
	pflash_write(&f, 8, 0x10, 1);
	pflash_write(&f, 8, 0x00, 1);
	assert_int_equal(buf[8], 56);
	uint8_t st = pflash_read(&f, 8, 1);
	assert_true(st & PFLASH_STATUS_PROG_ERR);
	assert_true(st & PFLASH_STATUS_LOCKED);
	pflash_write(&f, 0, 0x20, 1);
	pflash_write(&f, 0, 0xd0, 1);
	assert_true(pflash_read(&f, 0, 1) & PFLASH_STATUS_ERASE_ERR);
	assert_int_equal(buf[1], 7);
	assert_int_equal(f.programmed + f.erased, 0);
}

/* Hostile: unknown commands and accesses past the end change no byte outside the buffer. */
static void test_hostile(void **state)
{
	(void)state;
	pflash_write(&f, 0, 0xe8, 1);   /* write-to-buffer: not implemented, an error */
	assert_int_equal(pflash_read(&f, 0, 1), PFLASH_STATUS_READY | 0x30);
	pflash_write(&f, 0, 0x10, 1);
	pflash_write(&f, SIZE - 2, 0, 8);   /* lanes past the end are dropped */
	assert_int_equal(buf[SIZE - 1], 0);
	pflash_write(&f, SIZE, 0x20, 1);    /* outside: ignored */
	pflash_write(&f, 0, 0xff, 1);
	assert_int_equal(pflash_read(&f, SIZE - 1, 4), 0xffffff00);
}

/* ---- files ---------------------------------------------------------------------------------- */

static void write_file(const char *path, size_t size, mode_t mode)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	for (size_t i = 0; i < size; i++)
		fputc(0xff, fp);
	fclose(fp);
	chmod(path, mode);
}

static void test_open_checks(void **state)
{
	(void)state;
	char why[256], path[] = "/tmp/test-pflash-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct pflash g;
	write_file(path, PFLASH_SECTOR + 1, 0644);               /* not whole sectors */
	assert_int_equal(pflash_open(&g, path, true, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a flash image"));
	write_file(path, PFLASH_WINDOW + PFLASH_SECTOR, 0644);   /* too big for the window */
	assert_int_equal(pflash_open(&g, path, true, why, sizeof(why)), -EINVAL);
	write_file(path, 2 * PFLASH_SECTOR, 0444);               /* a read-only VARS file */
	assert_int_equal(pflash_open(&g, path, false, why, sizeof(why)), -EACCES);
	assert_non_null(strstr(why, "cannot write"));
	assert_int_equal(pflash_open(&g, path, true, why, sizeof(why)), 0);   /* readonly=on */
	pflash_close(&g);
	chmod(path, 0644);
	/* A good one: the guest's program lands in the file. */
	write_file(path, 2 * PFLASH_SECTOR, 0644);
	assert_int_equal(pflash_open(&g, path, false, why, sizeof(why)), 0);
	pflash_write(&g, 5, 0x10, 1);
	pflash_write(&g, 5, 0x5a, 1);
	pflash_close(&g);
	FILE *fp = fopen(path, "r");
	fseek(fp, 5, SEEK_SET);
	assert_int_equal(fgetc(fp), 0x5a);
	fclose(fp);
	unlink(path);
	assert_int_equal(pflash_open(&g, path, true, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "cannot open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_read_array, setup),
		cmocka_unit_test_setup(test_ovmf_probe, setup),
		cmocka_unit_test_setup(test_program, setup),
		cmocka_unit_test_setup(test_erase, setup),
		cmocka_unit_test_setup(test_erase_bad_confirm, setup),
		cmocka_unit_test_setup(test_cfi_query, setup),
		cmocka_unit_test_setup(test_readonly, setup),
		cmocka_unit_test_setup(test_hostile, setup),
		cmocka_unit_test(test_open_checks),
	};
	return cmocka_run_group_tests_name("stage5 pflash (CFI)", tests, NULL, NULL);
}
