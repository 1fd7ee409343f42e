/*
 * fuzz_migration_stream.c - the migration stream's reader (migration/stream.c), as the
 * destination reads an incoming stream: the header (magic, version, the source's
 * configuration text, compared with ours), then sections (name, version, length, checksum,
 * payload) up to the end marker, RAM sections decoded page by page.
 *
 * Teaches: a migration stream is input from another host: lengths, page numbers and names are
 * checked against limits before anything is allocated or written. Loading the devices' state
 * (vmstate_load) needs a whole machine and is not fuzzed here yet.
 */
#define _GNU_SOURCE   /* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "migration/stream.h"

static void page(void *opaque, uint64_t n, const uint8_t *data)
{
	uint8_t *ram = opaque;
	if (data)
		memcpy(ram + n * STREAM_PAGE_SIZE, data, STREAM_PAGE_SIZE);
	else
		memset(ram + n * STREAM_PAGE_SIZE, 0, STREAM_PAGE_SIZE);
}

/*
 * FUZZ_WRITE_SEED=FILE: write a valid stream with the writer's own functions (a header, RAM
 * pages, a zero page, a device section, the end) and exit: corpus/migration_stream's seed.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	const char *path = getenv("FUZZ_WRITE_SEED");
	if (!path)
		return 0;
	FILE *f = fopen(path, "w");
	struct stream s;
	struct ram_batch b;
	static uint8_t pg[STREAM_PAGE_SIZE] = { 0x42 };
	if (!f || ram_batch_init(&b))
		abort();
	stream_init(&s, fileno(f));
	stream_write_header(&s, "machine: pc\nram: 64\ncpus: 1\n");
	ram_batch_add(&s, &b, 1, pg);
	ram_batch_add(&s, &b, 3, NULL);
	ram_batch_flush(&s, &b);
	stream_write_section(&s, "uart", 1, pg, 16);
	stream_write_end(&s);
	ram_batch_free(&b);
	fclose(f);
	exit(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static uint8_t ram[16 * STREAM_PAGE_SIZE];   /* a 16-page guest */
	static char config[STREAM_MAX_CONFIG + 1];
	if (fd < 0 && (fd = memfd_create("fuzz-stream", 0)) < 0)
		abort();
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET) < 0)
		abort();

	struct stream s;
	char why[256];
	stream_init(&s, fd);
	if (stream_read_header(&s, config, sizeof(config)) < 0)
		return 0;
	stream_config_diff("machine: pc\nram: 64\ncpus: 1\n", config, why, sizeof(why));
	for (int n = 0; n < 64; n++) {
		struct section sec;
		if (stream_read_section(&s, &sec) != 0)
			break;
		if (!strcmp(sec.name, "ram"))
			stream_ram_section(&sec, 16, page, ram, why, sizeof(why));
		free(sec.payload);
	}
	return 0;
}
