/*
 * test_stage4.c - unit tests for stage 4's pure parts: no KVM, no guest.
 *
 * What a hostile or simply unusual guest can feed the VMM is tested here on a malloc()ed
 * "guest RAM": bzImage headers (real, truncated, foreign), the e820 map and initrd placement,
 * virtqueue descriptor chains (good, looping, out of range, outside RAM, bad sizes), PCI
 * configuration space (BAR sizing, read-only registers, capability lists, functions placed
 * by a chipset), the 16550A's registers, CMOS fields, the ACPI power-off register and the
 * ACPI tables' checksums (in guest RAM, and built for a firmware's table loader).
 */
#define _GNU_SOURCE   /* memmem */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "acpi.h"
#include "fake_ram.h"
#include "boot.h"
#include "pci.h"
#include "power.h"
#include "rtc.h"
#include "terminal.h"
#include "uart.h"
#include "virtio_rng.h"
#include "virtqueue.h"

/* ---- bzImage header ------------------------------------------------------------------- */

/* The header fields of a modern 64-bit kernel, as a 4 KiB image with 2 setup sectors. */
static uint8_t *fake_bzimage(size_t size)
{
	uint8_t *img = calloc(1, size);
	img[0x1f1] = 2;                                   /* setup_sects */
	img[0x1fe] = 0x55, img[0x1ff] = 0xaa;
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x0f, img[0x207] = 0x02;             /* protocol 2.15 */
	img[0x22c] = 0xff, img[0x22d] = 0xff, img[0x22e] = 0xff, img[0x22f] = 0x7f;
	img[0x236] = 0x01;                                /* XLF_KERNEL_64 */
	img[0x238] = 0xff, img[0x239] = 0x07;             /* cmdline_size 2047 */
	img[0x25a] = 0x00, img[0x25b] = 0x01;             /* pref_address 0x1000000 */
	img[0x262] = 0x40;                                /* init_size 0x400000 */
	return img;
}

static void bzimage_reads_the_setup_header(void **state)
{
	(void)state;
	struct bzimage bz;
	const char *why = NULL;
	uint8_t *img = fake_bzimage(4096);
	assert_int_equal(bzimage_parse(img, 4096, &bz, &why), 0);
	assert_int_equal(bz.version, 0x020f);
	assert_int_equal(bz.setup_bytes, 3 * 512);
	assert_int_equal(bz.kernel_bytes, 4096 - 3 * 512);
	assert_int_equal(bz.cmdline_size, 2047);
	assert_int_equal(bz.initrd_addr_max, 0x7fffffff);
	assert_int_equal(bz.pref_address, 0x1000000);
	assert_int_equal(bz.init_size, 0x400000);
	/* setup_sects 0 means 4, for old kernels */
	img[0x1f1] = 0;
	assert_int_equal(bzimage_parse(img, 4096, &bz, &why), 0);
	assert_int_equal(bz.setup_bytes, 5 * 512);
	free(img);
}

static void bzimage_rejects_what_it_cannot_boot(void **state)
{
	(void)state;
	struct bzimage bz;
	const char *why = NULL;
	uint8_t *img = fake_bzimage(4096);

	assert_int_equal(bzimage_parse(img, 0x100, &bz, &why), -ENOEXEC);       /* truncated */
	assert_int_equal(bzimage_parse(img, 3 * 512, &bz, &why), -ENOEXEC);     /* no kernel */
	img[0x236] = 0;
	assert_int_equal(bzimage_parse(img, 4096, &bz, &why), -ENOTSUP); /* no 64-bit entry */
	assert_non_null(strstr(why, "64-bit"));
	img[0x236] = 1;
	img[0x206] = 0x0b;
	assert_int_equal(bzimage_parse(img, 4096, &bz, &why), -ENOTSUP);        /* protocol 2.11 */
	img[0x206] = 0x0f;
	img[0x202] = 'X';
	assert_int_equal(bzimage_parse(img, 4096, &bz, &why), -ENOEXEC);        /* no "HdrS" */
	assert_non_null(strstr(why, "not a bzImage"));
	free(img);
}

/* ---- e820 and the initrd's place --------------------------------------------------------- */

static void e820_has_low_ram_bios_hole_and_high_ram(void **state)
{
	(void)state;
	struct boot_e820_entry t[8];
	unsigned n = e820_build(t, 8, 256ull << 20);
	assert_int_equal(n, 3);
	assert_int_equal(t[0].addr, 0);
	assert_int_equal(t[0].size, 0x9fc00);
	assert_int_equal(t[0].type, E820_TYPE_RAM);
	assert_int_equal(t[1].addr, 0x9fc00);
	assert_int_equal(t[1].addr + t[1].size, 0x100000);
	assert_int_equal(t[1].type, E820_TYPE_RESERVED);
	assert_int_equal(t[2].addr, 0x100000);
	assert_int_equal(t[2].addr + t[2].size, 256ull << 20);
	assert_int_equal(t[2].type, E820_TYPE_RAM);
	/* The table never overflows what the caller has. */
	assert_int_equal(e820_build(t, 2, 256ull << 20), 2);
}

static void initrd_goes_to_the_top_below_its_limit(void **state)
{
	(void)state;
	struct bzimage bz = { .initrd_addr_max = 0x7fffffff, .pref_address = 0x1000000,
			      .init_size = 0x2000000 };
	/* 256 MiB of RAM, a 1 MiB + 1 byte initrd: page-aligned, ending at or below the top */
	uint64_t a = initrd_address(&bz, 256ull << 20, (1 << 20) + 1);
	assert_int_equal(a % 4096, 0);
	assert_true(a + (1 << 20) + 1 <= 256ull << 20);
	assert_true(a >= (256ull << 20) - (1 << 20) - 4096 - 1);
	/* initrd_addr_max below the top of RAM caps it */
	bz.initrd_addr_max = 0x3fffffff;
	a = initrd_address(&bz, 2ull << 30, 4096);
	assert_int_equal(a, 0x40000000 - 4096);
	/* no room above the kernel's decompression area (16 MiB + 32 MiB) */
	assert_int_equal(initrd_address(&bz, 64ull << 20, 32ull << 20), 0);
	/* larger than RAM */
	assert_int_equal(initrd_address(&bz, 64ull << 20, 65ull << 20), 0);
}

/* ---- virtqueues -------------------------------------------------------------------------- */

#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x4000

struct vq_fixture {
	struct guest_memory *mem;
	struct virtq vq;
	struct virtq_desc *desc;
	uint16_t *avail;
	struct virtq_chain chain;
	char why[160];
};

static struct vq_fixture *vq_setup(uint16_t size)
{
	struct vq_fixture *f = calloc(1, sizeof(*f));
	f->mem = fake_ram(1 << 20);
	virtq_reset(&f->vq);
	f->vq.size = size;
	f->vq.desc_gpa = DESC;
	f->vq.avail_gpa = AVAIL;
	f->vq.used_gpa = USED;
	f->desc = (struct virtq_desc *)(f->mem->host + DESC);
	f->avail = (uint16_t *)(f->mem->host + AVAIL);
	return f;
}

static void vq_offer(struct vq_fixture *f, uint16_t head)
{
	f->avail[2 + f->avail[1] % f->vq.size] = head;
	f->avail[1]++;
}

static void vq_teardown(struct vq_fixture *f)
{
	free_ram(f->mem);
	free(f);
}

static void virtqueue_size_must_be_a_power_of_two(void **state)
{
	(void)state;
	struct vq_fixture *f = vq_setup(8);
	assert_int_equal(virtq_validate(f->mem, &f->vq, f->why, sizeof(f->why)), 0);
	const uint16_t bad[] = { 0, 3, 100, 512 };
	for (unsigned i = 0; i < 4; i++) {
		f->vq.size = bad[i];
		assert_int_equal(virtq_validate(f->mem, &f->vq, f->why, sizeof(f->why)), -EINVAL);
		assert_non_null(strstr(f->why, "power of two"));
	}
	vq_teardown(f);
}

static void virtqueue_rings_must_be_in_ram_and_aligned(void **state)
{
	(void)state;
	struct vq_fixture *f = vq_setup(8);
	f->vq.desc_gpa = (1 << 20) - 64;   /* 128-byte table runs past the end of RAM */
	assert_int_equal(virtq_validate(f->mem, &f->vq, f->why, sizeof(f->why)), -EINVAL);
	assert_non_null(strstr(f->why, "descriptor table at 0xfffc0"));
	f->vq.desc_gpa = DESC + 8;         /* not 16-byte aligned */
	assert_int_equal(virtq_validate(f->mem, &f->vq, f->why, sizeof(f->why)), -EINVAL);
	assert_non_null(strstr(f->why, "aligned"));
	f->vq.desc_gpa = DESC;
	f->vq.used_gpa = ~0ull - 8;        /* would overflow gpa + len */
	assert_int_equal(virtq_validate(f->mem, &f->vq, f->why, sizeof(f->why)), -EINVAL);
	assert_non_null(strstr(f->why, "used ring"));
	vq_teardown(f);
}

static void virtqueue_pops_a_good_chain_and_pushes_it_back(void **state)
{
	(void)state;
	struct vq_fixture *f = vq_setup(8);
	f->vq.ready = true;
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), 0);
	f->desc[5] = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_NEXT, 2 };
	f->desc[2] = (struct virtq_desc){BUF + 16, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 7};
	f->desc[7] = (struct virtq_desc){ BUF + 1024, 1, VIRTQ_DESC_F_WRITE, 0 };
	vq_offer(f, 5);
	assert_true(virtq_has_work(f->mem, &f->vq));
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), 1);
	assert_int_equal(f->chain.head, 5);
	assert_int_equal(f->chain.count, 3);
	assert_ptr_equal(f->chain.seg[0].hva, f->mem->host + BUF);
	assert_false(f->chain.seg[0].writable);
	assert_true(f->chain.seg[1].writable);
	assert_int_equal(f->chain.readable_bytes, 16);
	assert_int_equal(f->chain.writable_bytes, 513);
	assert_false(virtq_has_work(f->mem, &f->vq));

	assert_int_equal(virtq_push(f->mem, &f->vq, 5, 513), 0);
	uint16_t *used = (uint16_t *)(f->mem->host + USED);
	struct virtq_used_elem *elem = (struct virtq_used_elem *)(used + 2);
	assert_int_equal(used[1], 1);
	assert_int_equal(elem[0].id, 5);
	assert_int_equal(elem[0].len, 513);
	vq_teardown(f);
}

/* EVENT_IDX: the device asks for the next kick when idle, interrupts only past used_event. */
static void virtqueue_event_index(void **state)
{
	(void)state;
	struct vq_fixture *f = vq_setup(8);
	uint16_t *used = (uint16_t *)(f->mem->host + USED);
	uint16_t *avail_event = used + 2 + 4 * 8;     /* after the 8 used elements */
	uint16_t *used_event = f->avail + 2 + 8;      /* after the 8 ring entries */
	f->vq.ready = true;
	f->vq.event_idx = true;
	f->desc[0] = (struct virtq_desc){ BUF, 16, 0, 0 };
	*avail_event = 0xffff;
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), 0);
	assert_int_equal(*avail_event, 0);            /* idle: "kick me at the next one" */
	vq_offer(f, 0);
	vq_offer(f, 0);
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), 1);
	assert_int_equal(*avail_event, 0);            /* busy: no new kicks wanted */
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), 1);
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), 0);
	assert_int_equal(*avail_event, 2);
	/* The driver wants an interrupt once used->idx passes 1 (used_event = 1). */
	*used_event = 1;
	assert_int_equal(virtq_push(f->mem, &f->vq, 0, 0), 0);       /* used idx 1 */
	assert_false(virtq_needs_interrupt(f->mem, &f->vq));
	assert_int_equal(virtq_push(f->mem, &f->vq, 0, 0), 0);       /* used idx 2 */
	assert_true(virtq_needs_interrupt(f->mem, &f->vq));
	f->vq.event_idx = false;                      /* without it: always */
	assert_int_equal(virtq_push(f->mem, &f->vq, 0, 0), 0);
	assert_true(virtq_needs_interrupt(f->mem, &f->vq));
	vq_teardown(f);
}

/* Indirect descriptors: one ring entry, a table of buffers; hostile tables refused. */
static void virtqueue_indirect_tables(void **state)
{
	(void)state;
	struct vq_fixture *f = vq_setup(8);
	struct virtq_desc *table = (struct virtq_desc *)(f->mem->host + BUF + 0x2000);
	f->vq.ready = true;
	f->vq.indirect = true;
	table[0] = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_NEXT, 2 };
	table[2] = (struct virtq_desc){ BUF + 16, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1 };
	table[1] = (struct virtq_desc){ BUF + 1024, 1, VIRTQ_DESC_F_WRITE, 0 };
	f->desc[4] = (struct virtq_desc){ BUF + 0x2000, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0 };
	vq_offer(f, 4);
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), 1);
	assert_int_equal(f->chain.head, 4);
	assert_int_equal(f->chain.count, 3);
	assert_int_equal(f->chain.readable_bytes, 16);
	assert_int_equal(f->chain.writable_bytes, 513);

	const struct { struct virtq_desc head; const char *words; } bad[] = {
		{ { BUF + 0x2000, 20, VIRTQ_DESC_F_INDIRECT, 0 }, "multiple of 16" },
		{ { BUF + 0x2000, 48, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 5 }, "whole chain" },
		{ { (1 << 20) - 16, 48, VIRTQ_DESC_F_INDIRECT, 0 }, "outside guest RAM" },
		{ { BUF + 0x2000, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0 }, "out of range (indirect table size 2)" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f->vq.broken = false;
		f->vq.last_avail = f->avail[1];
		f->desc[4] = bad[i].head;
		vq_offer(f, 4);
		assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), -EINVAL);
		if (!strstr(f->why, bad[i].words))
			fail_msg("case %u: '%s' lacks '%s'", i, f->why, bad[i].words);
	}
	/* nested: an indirect entry inside the table */
	f->vq.broken = false;
	f->vq.last_avail = f->avail[1];
	table[0] = (struct virtq_desc){ BUF + 0x2000, 48, VIRTQ_DESC_F_INDIRECT, 0 };
	f->desc[4] = (struct virtq_desc){ BUF + 0x2000, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0 };
	vq_offer(f, 4);
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), -EINVAL);
	assert_non_null(strstr(f->why, "whole chain"));
	vq_teardown(f);
}

static void virtqueue_detects_a_descriptor_loop(void **state)
{
	(void)state;
	struct vq_fixture *f = vq_setup(4);
	f->vq.ready = true;
	f->desc[0] = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_NEXT, 1 };
	f->desc[1] = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_NEXT, 0 };
	vq_offer(f, 0);
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), -EINVAL);
	assert_non_null(strstr(f->why, "loops"));
	assert_true(f->vq.broken);
	/* A broken queue is ignored until the device is reset. */
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), 0);
	assert_false(virtq_has_work(f->mem, &f->vq));
	vq_teardown(f);
}

static void virtqueue_rejects_bad_indexes_and_buffers(void **state)
{
	(void)state;
	struct vq_fixture *f = vq_setup(8);
	f->vq.ready = true;
	vq_offer(f, 8);                    /* head past the table */
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), -EINVAL);
	assert_non_null(strstr(f->why, "descriptor index 8 out of range"));

	f->vq.broken = false;
	f->desc[3] = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_NEXT, 9 };   /* next past it */
	f->vq.last_avail = f->avail[1];
	vq_offer(f, 3);
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), -EINVAL);
	assert_non_null(strstr(f->why, "index 9"));

	f->vq.broken = false;
	f->desc[3] = (struct virtq_desc){ (1 << 20) - 8, 16, 0, 0 };     /* straddles the end */
	f->vq.last_avail = f->avail[1];
	vq_offer(f, 3);
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), -EINVAL);
	assert_non_null(strstr(f->why, "outside guest RAM"));

	f->vq.broken = false;
	f->desc[3] = (struct virtq_desc){ ~0ull - 4, 16, 0, 0 };          /* wraps around */
	f->vq.last_avail = f->avail[1];
	vq_offer(f, 3);
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), -EINVAL);

	f->vq.broken = false;
	f->desc[3] = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_INDIRECT, 0 };
	f->vq.last_avail = f->avail[1];
	vq_offer(f, 3);
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), -EINVAL);
	assert_non_null(strstr(f->why, "indirect"));

	f->vq.broken = false;                                              /* idx jumps too far */
	f->vq.last_avail = f->avail[1];
	f->avail[1] += 9;
	assert_int_equal(virtq_pop(f->mem, &f->vq, &f->chain, f->why, sizeof(f->why)), -EINVAL);
	assert_non_null(strstr(f->why, "jumped"));
	vq_teardown(f);
}

/* ---- PCI configuration space --------------------------------------------------------- */

static void pci_bar_sizing_and_readonly_registers(void **state)
{
	(void)state;
	struct pci_config c;
	pci_config_init(&c, 0x1af4, 0x1042, 0x018000, 1);
	pci_config_add_bar(&c, 0, 0xc0100000, 0x4000);
	assert_int_equal(pci_config_read(&c, PCI_VENDOR_ID, 4), 0x10421af4);
	assert_int_equal(pci_config_read(&c, 0x08, 4), 0x01800001);   /* class + revision */
	assert_int_equal(pci_bar_address(&c, 0), 0xc0100000);

	/* Sizing: write all ones, read back ~(size - 1); then restore. */
	pci_config_write(&c, PCI_BAR0, 0xffffffff, 4);
	assert_int_equal(pci_config_read(&c, PCI_BAR0, 4), 0xffffc000);
	pci_config_write(&c, PCI_BAR0, 0xc0200000, 4);
	assert_int_equal(pci_bar_address(&c, 0), 0xc0200000);
	/* A BAR that does not exist stays 0. */
	pci_config_write(&c, PCI_BAR0 + 4, 0xffffffff, 4);
	assert_int_equal(pci_config_read(&c, PCI_BAR0 + 4, 4), 0);
	/* Identity is read-only; the command register and interrupt line are not. */
	pci_config_write(&c, PCI_VENDOR_ID, 0x12345678, 4);
	assert_int_equal(pci_config_read(&c, PCI_VENDOR_ID, 2), 0x1af4);
	pci_config_write(&c, PCI_COMMAND, 0xffff, 2);
	assert_int_equal(pci_config_read(&c, PCI_COMMAND, 2), 0x0407);
	pci_config_write(&c, PCI_INTERRUPT_LINE, 0x0b, 1);
	assert_int_equal(pci_config_read(&c, PCI_INTERRUPT_LINE, 1), 0x0b);
	/* Accesses past the end of config space read all ones and write nothing. */
	assert_int_equal(pci_config_read(&c, 254, 4), 0xffffffff);
	pci_config_write(&c, 254, 0, 4);
}

static void pci_capabilities_form_a_list(void **state)
{
	(void)state;
	struct pci_config c;
	pci_config_init(&c, 0x1af4, 0x1041, 0x020000, 1);
	uint8_t cap1[16] = { 0x09, 0, 16, 1 }, cap2[20] = { 0x09, 0, 20, 2 };
	uint8_t first = pci_config_add_capability(&c, cap1, sizeof(cap1));
	uint8_t second = pci_config_add_capability(&c, cap2, sizeof(cap2));
	assert_int_equal(first, 0x40);
	assert_int_equal(pci_config_read(&c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST,
			 PCI_STATUS_CAP_LIST);
	assert_int_equal(pci_config_read(&c, PCI_CAPABILITY_LIST, 1), first);
	assert_int_equal(pci_config_read(&c, first + 1, 1), second);
	assert_int_equal(pci_config_read(&c, second + 1, 1), 0);
	assert_int_equal(pci_config_read(&c, second + 3, 1), 2);
}

/* ---- 16550A UART -------------------------------------------------------------------------- */

static int specific_writes;

static void count_specific_write(struct pci_device *dev, unsigned offset, uint32_t value,
				 unsigned len)
{
	(void)len;
	specific_writes++;
	dev->config.bytes[offset] = value;
}

/* A chipset's functions: fixed slot, several functions, registers of their own from 0x40. */
static void pci_host_places_functions_and_hooks(void **state)
{
	(void)state;
	static struct pci_host h;
	static struct pci_device fn0, fn1;
	pci_host_init(&h, NULL, -1);
	assert_int_equal(pci_host_config_read(&h, 0x80000000u, 4), 0x00081b36);   /* gpex */
	pci_host_set_identity(&h, 0x8086, 0x1237, 2, 0x1af4, 0x1100);
	assert_int_equal(pci_host_config_read(&h, 0x80000000u, 4), 0x12378086);
	assert_int_equal(pci_host_config_read(&h, 0x8000002cu, 4), 0x11001af4);
	assert_int_equal(pci_host_config_read(&h, 0x80000008u, 4), 0x06000002);

	pci_config_init(&fn0.config, 0x8086, 0x7000, 0x060100, 0);
	pci_config_init(&fn1.config, 0x8086, 0x7010, 0x010180, 0);
	assert_int_equal(pci_host_place(&h, &fn0, 1, 0), 0);
	assert_int_equal(pci_host_place(&h, &fn0, 1, 0), -EBUSY);
	assert_int_equal(pci_host_place(&h, &fn0, 32, 0), -EINVAL);
	assert_int_equal(pci_host_config_read(&h, 0x80000900u, 4), 0xffffffffu);  /* 00:01.1 */
	assert_int_equal(pci_host_place(&h, &fn1, 1, 1), 0);
	assert_int_equal(pci_host_config_read(&h, 0x80000900u, 4), 0x70108086);
	assert_int_equal(pci_host_config_read(&h, 0x8000080cu, 4) >> 16 & 0x80, 0x80);

	/* Without a hook, 0x40 and up is read-only; with one, the device decides. */
	pci_host_config_write(&h, 0x80000860u, 0x0b, 1);
	assert_int_equal(pci_host_config_read(&h, 0x80000860u, 1), 0);
	fn0.specific_write = count_specific_write;
	pci_host_config_write(&h, 0x80000860u, 0x0b, 1);
	assert_int_equal(specific_writes, 1);
	assert_int_equal(pci_host_config_read(&h, 0x80000860u, 1), 0x0b);
	pci_host_config_write(&h, 0x80000804u, 0xffff, 2);   /* the header: not the hook's */
	assert_int_equal(specific_writes, 1);
	pci_host_config_write(&h, 0x80000863u, 0x0b0b, 2);   /* crosses a dword: dropped */
	assert_int_equal(specific_writes, 1);
}

static void uart_transmits_and_raises_thr_empty(void **state)
{
	(void)state;
	struct uart_state s;
	int sent;
	uart_state_reset(&s);
	assert_int_equal(uart_reg_read(&s, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT), 0x60);
	assert_false(uart_irq_pending(&s));
	uart_reg_write(&s, UART_RBR_THR, 'A', &sent);
	assert_int_equal(sent, 'A');
	/* enabling the THR-empty interrupt with THR empty raises it; reading IIR clears it */
	uart_reg_write(&s, UART_IER, UART_IER_THRI, &sent);
	assert_true(uart_irq_pending(&s));
	assert_int_equal(uart_reg_read(&s, UART_IIR_FCR) & 0x0f, UART_IIR_THRI);
	assert_false(uart_irq_pending(&s));
	assert_int_equal(uart_reg_read(&s, UART_IIR_FCR) & 0x0f, UART_IIR_NONE);
}

static void uart_receives_with_priority_over_thr(void **state)
{
	(void)state;
	struct uart_state s;
	int sent;
	uart_state_reset(&s);
	uart_reg_write(&s, UART_IIR_FCR, 0x01, &sent);            /* FIFO on: IIR bits 7:6 */
	uart_reg_write(&s, UART_IER, UART_IER_RDI | UART_IER_THRI, &sent);
	assert_true(uart_receive(&s, 'x'));
	assert_true(uart_receive(&s, 'y'));
	assert_int_equal(uart_reg_read(&s, UART_IIR_FCR), UART_IIR_FIFO | UART_IIR_RDI);
	assert_true(uart_reg_read(&s, UART_LSR) & UART_LSR_DR);
	assert_int_equal(uart_reg_read(&s, UART_RBR_THR), 'x');
	assert_int_equal(uart_reg_read(&s, UART_RBR_THR), 'y');
	assert_false(uart_reg_read(&s, UART_LSR) & UART_LSR_DR);
	/* then the pending THR-empty interrupt shows */
	assert_int_equal(uart_reg_read(&s, UART_IIR_FCR) & 0x0f, UART_IIR_THRI);
}

static void uart_divisor_latch_loopback_and_scratch(void **state)
{
	(void)state;
	struct uart_state s;
	int sent;
	uart_state_reset(&s);
	uart_reg_write(&s, UART_LCR, UART_LCR_DLAB | 0x03, &sent);
	uart_reg_write(&s, UART_RBR_THR, 0x01, &sent);            /* DLL: 115200 baud */
	uart_reg_write(&s, UART_IER, 0x00, &sent);                /* DLM */
	assert_int_equal(sent, -1);
	assert_int_equal(uart_reg_read(&s, UART_RBR_THR), 0x01);
	uart_reg_write(&s, UART_LCR, 0x03, &sent);
	assert_int_equal(uart_reg_read(&s, UART_IER), 0);          /* IER untouched by DLM */
	/* loopback: what is sent is received, and the modem lines follow MCR */
	uart_reg_write(&s, UART_MCR, UART_MCR_LOOP | 0x0f, &sent);
	uart_reg_write(&s, UART_RBR_THR, 0x5a, &sent);
	assert_int_equal(sent, -1);
	assert_int_equal(uart_reg_read(&s, UART_RBR_THR), 0x5a);
	assert_int_equal(uart_reg_read(&s, UART_MSR) & 0xf0, 0xf0);
	uart_reg_write(&s, UART_SCR, 0xa5, &sent);
	assert_int_equal(uart_reg_read(&s, UART_SCR), 0xa5);
	/* a full FIFO drops bytes rather than overflowing */
	uart_state_reset(&s);
	for (int i = 0; i < UART_RX_FIFO; i++)
		assert_true(uart_receive(&s, i));
	assert_false(uart_receive(&s, 0));
}

/* ---- power, clock, terminal, ACPI ------------------------------------------------------------ */

static void acpi_poweroff_needs_slp_en_and_s5(void **state)
{
	(void)state;
	struct power_state p = { 0 };
	assert_int_equal(pm1_control_write(&p, ACPI_S5_SLP_TYP << 10), STOP_NONE);   /* no SLP_EN */
	assert_int_equal(pm1_control_write(&p, (1 << 10) | ACPI_PM1_SLP_EN), STOP_NONE); /* S1 */
	assert_int_equal(pm1_control_write(&p, (ACPI_S5_SLP_TYP << 10) | ACPI_PM1_SLP_EN),
			 STOP_POWEROFF);
}

static void rtc_reads_bcd_or_binary(void **state)
{
	(void)state;
	struct rtc_state rtc = { 0 };
	time_t t = 1700000000;   /* 2023-11-14 22:13:20 UTC, a Tuesday */
	rtc.cmos[RTC_STATUS_B] = 0x02;
	assert_int_equal(rtc_register(&rtc, RTC_SECONDS, t), 0x20);
	assert_int_equal(rtc_register(&rtc, RTC_HOURS, t), 0x22);
	assert_int_equal(rtc_register(&rtc, RTC_YEAR, t), 0x23);
	assert_int_equal(rtc_register(&rtc, RTC_CENTURY, t), 0x20);
	rtc.cmos[RTC_STATUS_B] = 0x06;   /* binary */
	assert_int_equal(rtc_register(&rtc, RTC_MONTH, t), 11);
	assert_int_equal(rtc_register(&rtc, RTC_DAY, t), 14);
}

/* Battery-backed RAM takes fields; the clock and status registers are not RAM. */
static void rtc_cmos_fields_are_little_endian_ram(void **state)
{
	(void)state;
	struct rtc_state rtc = { 0 };
	rtc_cmos_set(&rtc, 0x15, 640, 2);
	assert_int_equal(rtc.cmos[0x15], 0x80);
	assert_int_equal(rtc.cmos[0x16], 0x02);
	rtc_cmos_set(&rtc, RTC_STATUS_B, 0xff, 1);
	assert_int_equal(rtc.cmos[RTC_STATUS_B], 0);
	rtc_cmos_set(&rtc, 0x7e, 0x030201, 3);          /* the last byte would be 0x80 */
	assert_int_equal(rtc.cmos[0x7e], 0x01);
	assert_int_equal(rtc.cmos[0x7f], 0x02);
}

static void terminal_ctrl_a_x_quits(void **state)
{
	(void)state;
	uint8_t out[16];
	bool escape = false, quit = false;
	assert_int_equal(terminal_filter((const uint8_t *)"ab\x01\x01"
							  "c",
					 5, out, &escape, &quit),
			 4);
	assert_memory_equal(out, "ab\x01" "c", 4);
	assert_false(quit);
	/* the escape may span two reads */
	assert_int_equal(terminal_filter((const uint8_t *)"d\x01", 2, out, &escape, &quit), 1);
	assert_true(escape);
	terminal_filter((const uint8_t *)"x", 1, out, &escape, &quit);
	assert_true(quit);
}

/* ---- virtio-pci's MSI-X: the capability, vector registers, masking and pending bits ---- */

static uint32_t vp_bar_read(struct virtio_pci *vp, uint64_t off, unsigned len)
{
	uint8_t b[8] = { 0 };
	struct bus_range *bar = vp->pci.bar_range[0];
	bar->ops->read(bar->dev, off, b, len);
	return bytes_to_u64(b, len);
}

static void vp_bar_write(struct virtio_pci *vp, uint64_t off, uint32_t v, unsigned len)
{
	uint8_t b[8];
	u64_to_bytes(v, b, len);
	struct bus_range *bar = vp->pci.bar_range[0];
	bar->ops->write(bar->dev, off, b, len);
}

static void virtio_pci_msix_vectors_mask_and_pend(void **state)
{
	(void)state;
	static struct io_bus bus;
	static struct pci_host host;
	static struct virtio_rng rng;
	struct guest_memory *mem = fake_ram(1 << 20);
	bus_init(&bus);
	pci_host_init(&host, &bus, -1);   /* no VM: KVM_SIGNAL_MSI fails quietly */
	assert_int_equal(virtio_rng_attach(&rng, &host, mem), 0);
	struct virtio_pci *vp = &rng.vp;

	/* The capability: two vectors (config + one queue), table and PBA in BAR 0. */
	const uint8_t *c = vp->pci.config.bytes;
	unsigned cap = vp->msix_cap;
	assert_true(cap >= 0x40);
	assert_int_equal(c[cap], 0x11);
	assert_int_equal(bytes_to_u64(c + cap + 2, 2), 1);             /* size - 1, off */
	assert_int_equal(bytes_to_u64(c + cap + 4, 4), VIRTIO_MSIX_OFFSET);
	assert_int_equal(bytes_to_u64(c + cap + 8, 4), VIRTIO_PBA_OFFSET);

	/* Vector registers: a vector the device has sticks, any other reads back NO_VECTOR. */
	vp_bar_write(vp, 0x10, 0, 2);                 /* msix_config */
	assert_int_equal(vp_bar_read(vp, 0x10, 2), 0);
	vp_bar_write(vp, 0x1a, 1, 2);                 /* queue 0's vector */
	assert_int_equal(vp_bar_read(vp, 0x1a, 2), 1);
	vp_bar_write(vp, 0x1a, 5, 2);
	assert_int_equal(vp_bar_read(vp, 0x1a, 2), VIRTIO_NO_VECTOR);
	vp_bar_write(vp, 0x1a, 1, 2);

	/* The table: entries start masked; the guest programs address and data. */
	assert_int_equal(vp_bar_read(vp, VIRTIO_MSIX_OFFSET + 16 + 12, 4), 1);
	vp_bar_write(vp, VIRTIO_MSIX_OFFSET + 16, 0xfee00000, 4);
	vp_bar_write(vp, VIRTIO_MSIX_OFFSET + 16 + 8, 0x41, 4);
	assert_int_equal(vp_bar_read(vp, VIRTIO_MSIX_OFFSET + 16, 4), 0xfee00000);

	/* MSI-X on (config space, through the host as the guest writes it). */
	uint32_t addr = 0x80000000u | (1u << 11) | cap;
	pci_host_config_write(&host, addr, 0x8000u << 16, 4);
	assert_int_equal(bytes_to_u64(c + cap + 2, 2), 0x8001);        /* size stays read-only */

	/* Queue used while its vector is masked: pending, not sent. */
	virtio_pci_notify_used(vp, 0);
	assert_int_equal(vp_bar_read(vp, VIRTIO_PBA_OFFSET, 8), 2);
	/* Unmasked: sent (the pending bit clears). */
	vp_bar_write(vp, VIRTIO_MSIX_OFFSET + 16 + 12, 0, 4);
	assert_int_equal(vp_bar_read(vp, VIRTIO_PBA_OFFSET, 8), 0);
	virtio_pci_notify_used(vp, 0);
	assert_int_equal(vp_bar_read(vp, VIRTIO_PBA_OFFSET, 8), 0);
	/* The function mask holds every vector back; clearing it delivers what waited. */
	pci_host_config_write(&host, addr, 0xc000u << 16, 4);
	virtio_pci_notify_used(vp, 0);
	assert_int_equal(vp_bar_read(vp, VIRTIO_PBA_OFFSET, 8), 2);
	pci_host_config_write(&host, addr, 0x8000u << 16, 4);
	assert_int_equal(vp_bar_read(vp, VIRTIO_PBA_OFFSET, 8), 0);

	/* A device reset forgets the vectors (virtio 1.1, 4.1.4.3), not the table. */
	vp_bar_write(vp, 0x14, 0, 1);
	assert_int_equal(vp_bar_read(vp, 0x1a, 2), VIRTIO_NO_VECTOR);
	assert_int_equal(vp_bar_read(vp, VIRTIO_MSIX_OFFSET + 16 + 8, 4), 0x41);
	free_ram(mem);
}

/* The GSI routes every MSI user shares: GSIs from 24 on, until the table is full. */
/* What an eventfd holds (0: nothing, it would block), as KVM would find it. */
static uint64_t eventfd_take(int fd)
{
	uint64_t n = 0;
	return read(fd, &n, sizeof(n)) == sizeof(n) ? n : 0;
}

/*
 * INTx through an irqfd with resample, KVM played by the test: it reads the irqfd (the line
 * went up) and writes the resample fd (the guest's EOI lowered it). The device raises the
 * line once per rise, never while it is still high, and again after an EOI that finds ISR
 * set; a device reset leaves it low.
 */
static void virtio_pci_intx_by_irqfd_follows_isr_and_eoi(void **state)
{
	(void)state;
	static struct io_bus bus;
	static struct pci_host host;
	static struct virtio_rng rng;
	struct guest_memory *mem = fake_ram(1 << 20);
	bus_init(&bus);
	pci_host_init(&host, &bus, -1);
	assert_int_equal(virtio_rng_attach(&rng, &host, mem), 0);
	struct virtio_pci *vp = &rng.vp;
	vp->intx.fd = eventfd(0, EFD_NONBLOCK);
	vp->intx.resample_fd = eventfd(0, EFD_NONBLOCK);
	assert_true(vp->intx.fd >= 0 && vp->intx.resample_fd >= 0);
	assert_int_equal(virtio_pci_resample_fd(vp), vp->intx.resample_fd);
	uint64_t eoi = 1;

	virtio_pci_notify_used(vp, 0);                  /* ISR bit 0: the line goes up */
	assert_int_equal(eventfd_take(vp->intx.fd), 1);
	virtio_pci_notify_used(vp, 0);                  /* still high: no second write */
	assert_int_equal(eventfd_take(vp->intx.fd), 0);
	assert_int_equal(vp_bar_read(vp, VIRTIO_ISR_OFFSET, 1), 1);   /* the handler reads ISR */
	virtio_pci_notify_used(vp, 0);                  /* used again before the EOI */
	assert_int_equal(eventfd_take(vp->intx.fd), 0);
	assert_int_equal(write(vp->intx.resample_fd, &eoi, 8), 8);   /* EOI: KVM lowered it */
	virtio_pci_resample(vp);                        /* ISR still set: up again */
	assert_int_equal(eventfd_take(vp->intx.fd), 1);
	assert_int_equal(vp_bar_read(vp, VIRTIO_ISR_OFFSET, 1), 1);
	assert_int_equal(write(vp->intx.resample_fd, &eoi, 8), 8);
	virtio_pci_resample(vp);                        /* ISR read: the line stays down */
	assert_int_equal(eventfd_take(vp->intx.fd), 0);
	virtio_pci_resample(vp);                        /* no EOI, no news */
	assert_int_equal(eventfd_take(vp->intx.fd), 0);
	virtio_pci_notify_used(vp, 0);
	assert_int_equal(eventfd_take(vp->intx.fd), 1);
	vp_bar_write(vp, 0x14, 0, 1);                   /* device reset: low at once */
	assert_false(vp->intx.high);
	assert_int_equal(vp_bar_read(vp, VIRTIO_ISR_OFFSET, 1), 0);
	assert_int_equal(vp->irq_count[VIRTIO_IRQ_INTX_IRQFD], 3);
	assert_int_equal(vp->irq_count[VIRTIO_IRQ_INTX], 0);   /* no KVM_IRQ_LINE */

	/* MSI-X on: the line is not the device's to use. */
	uint32_t addr = 0x80000000u | (1u << 11) | vp->msix_cap;
	pci_host_config_write(&host, addr, 0x8000u << 16, 4);
	virtio_pci_notify_used(vp, 0);
	assert_int_equal(eventfd_take(vp->intx.fd), 0);
	close(vp->intx.fd);
	close(vp->intx.resample_fd);
	free_ram(mem);
}

/* A machine that goes (stage 5 restarts it on a guest reset) closes every eventfd it made. */
static void virtio_pci_fast_path_off_closes_every_eventfd(void **state)
{
	(void)state;
	static struct io_bus bus;
	static struct pci_host host;
	static struct virtio_rng rng;
	struct guest_memory *mem = fake_ram(1 << 20);
	bus_init(&bus);
	pci_host_init(&host, &bus, -1);
	assert_int_equal(virtio_rng_attach(&rng, &host, mem), 0);
	struct virtio_pci *vp = &rng.vp;
	int fds[VIRTIO_MSIX_VECTORS + 1];
	unsigned n = 0;
	vp->kick_fd[0] = fds[n++] = eventfd(0, 0);
	for (unsigned v = 0; v < vp->msix_vectors; v++)
		vp->irq_fd[v] = fds[n++] = eventfd(0, 0);   /* what irqfds_on() makes */
	assert_true(vp->msix_vectors > 0);
	virtio_pci_fast_path_off(vp);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(fcntl(fds[i], F_GETFD), -1);   /* closed: EBADF */
	assert_int_equal(vp->kick_fd[0], -1);
	assert_int_equal(vp->irq_fd[0], -1);
	free_ram(mem);
}

static void msi_routes_hand_out_gsis(void **state)
{
	(void)state;
	static struct msi_routes r;
	msi_routes_init(&r, -1);
	assert_int_equal(msi_route_new(&r), MSI_FIRST_GSI);
	assert_int_equal(msi_route_new(&r), MSI_FIRST_GSI + 1);
	struct msi_msg m = { 0xfee00000, 0, 0x30 };
	msi_route_set(&r, MSI_FIRST_GSI + 1, &m, true);
	assert_true(r.route[1].on);
	m.address_lo = 0;                        /* no address: no message, the GSI stays silent */
	msi_route_set(&r, MSI_FIRST_GSI + 1, &m, true);
	assert_false(r.route[1].on);
	msi_route_set(&r, 7, &m, true);          /* not ours: ignored */
	while (r.n < MSI_MAX_ROUTES)
		msi_route_new(&r);
	assert_int_equal(msi_route_new(&r), -ENOSPC);
}

static void acpi_tables_have_valid_checksums(void **state)
{
	(void)state;
	struct guest_memory *mem = fake_ram(1 << 20);
	uint64_t rsdp;
	assert_int_equal(acpi_build(mem, 4, &rsdp), 0);
	uint8_t *r = mem->host + rsdp;
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(acpi_checksum(r, 20), 0);
	assert_int_equal(acpi_checksum(r, 36), 0);
	uint64_t xsdt_at;
	memcpy(&xsdt_at, r + 24, 8);
	uint8_t *xsdt = mem->host + xsdt_at;
	uint32_t len;
	memcpy(&len, xsdt + 4, 4);
	assert_int_equal(acpi_checksum(xsdt, len), 0);
	/* every table the XSDT lists sums to 0; the MADT has 4 local APICs */
	for (uint32_t off = 36; off < len; off += 8) {
		uint64_t at;
		uint32_t tlen;
		memcpy(&at, xsdt + off, 8);
		memcpy(&tlen, mem->host + at + 4, 4);
		assert_int_equal(acpi_checksum(mem->host + at, tlen), 0);
		if (!memcmp(mem->host + at, "FACP", 4)) {
			/* the FADT points at the DSDT: valid, and holding the names Linux needs */
			uint32_t dsdt_at, dsdt_len;
			memcpy(&dsdt_at, mem->host + at + 40, 4);
			memcpy(&dsdt_len, mem->host + dsdt_at + 4, 4);
			uint8_t *dsdt = mem->host + dsdt_at;
			assert_memory_equal(dsdt, "DSDT", 4);
			assert_int_equal(acpi_checksum(dsdt, dsdt_len), 0);
			const char *names[] = { "PCI0", "_HID", "_CRS", "_PRT", "_S5_" };
			for (unsigned i = 0; i < 5; i++)
				assert_non_null(memmem(dsdt, dsdt_len, names[i], 4));
		}
		if (!memcmp(mem->host + at, "APIC", 4)) {
			unsigned lapics = 0;
			for (uint32_t e = 44; e < tlen; e += mem->host[at + e + 1])
				lapics += mem->host[at + e] == 0;
			assert_int_equal(lapics, 4);
		}
	}
	free_ram(mem);
}

/* For a firmware that places the tables: pointers are offsets, the layout finds them all. */
static void acpi_tables_built_at_zero_for_a_loader(void **state)
{
	(void)state;
	static uint8_t buf[4096];
	uint8_t body[4] = { 1, 2, 3, 4 };
	struct acpi_extra_table extra = { "TEST", 1, body, sizeof(body) };
	struct acpi_layout l;
	assert_int_equal(acpi_build_into(buf, sizeof(buf), 0, 2, &extra, 1, &l), 0);
	assert_memory_equal(buf + l.rsdp, "RSD PTR ", 8);
	uint64_t xsdt = bytes_to_u64(buf + l.rsdp + 24, 8);
	assert_memory_equal(buf + xsdt, "XSDT", 4);
	assert_int_equal(bytes_to_u64(buf + xsdt + 4, 4), 36 + 3 * 8);   /* FADT, MADT, TEST */
	uint64_t test = bytes_to_u64(buf + xsdt + 36 + 16, 8);
	assert_memory_equal(buf + test, "TEST", 4);
	assert_memory_equal(buf + test + 36, body, sizeof(body));
	assert_int_equal(l.npointers, 2 + 3);                            /* FACS, DSDT; XSDT */
	for (unsigned i = 0; i < l.npointers; i++) {
		uint64_t at = bytes_to_u64(buf + l.pointers[i].at, l.pointers[i].size);
		assert_true(at > 0 && at < l.size);
	}
	assert_int_equal(l.ntables, 5);                  /* XSDT, DSDT, FADT, MADT, TEST */
	for (unsigned i = 0; i < l.ntables; i++)
		assert_int_equal(acpi_checksum(buf + l.tables[i].at, l.tables[i].len), 0);
	assert_int_equal(acpi_build_into(buf, 200, 0, 2, NULL, 0, &l), -ENOSPC);
}

/* A migration stream's UART and CMOS state: indexes past their arrays are refused. */
static void loaded_uart_and_rtc_state_is_checked(void **state)
{
	(void)state;
	struct uart_state u;
	uart_state_reset(&u);
	assert_true(uart_state_valid(&u));
	u.rx_head = UART_RX_FIFO - 1, u.rx_count = UART_RX_FIFO;
	assert_true(uart_state_valid(&u));
	u.rx_head = UART_RX_FIFO;
	assert_false(uart_state_valid(&u));
	u.rx_head = 0, u.rx_count = UART_RX_FIFO + 1;
	assert_false(uart_state_valid(&u));
	struct rtc_state r = { .index = 0x7f };
	assert_true(rtc_state_valid(&r));
	r.index = 0x80;
	assert_false(rtc_state_valid(&r));
	/* A bool's byte that is neither 0 nor 1 (a stream is bytes): refused before it is read. */
	uart_state_reset(&u);
	memset((uint8_t *)&u + offsetof(struct uart_state, thr_interrupt), 2, 1);
	assert_false(uart_state_valid(&u));
}

static void loaded_virtqueue_is_checked(void **state)
{
	(void)state;
	struct virtq vq;
	virtq_reset(&vq);
	assert_true(virtq_state_valid(&vq));
	vq.size = 1000;   /* not enabled: whatever the driver wrote */
	assert_true(virtq_state_valid(&vq));
	vq = (struct virtq){ .size = 256, .ready = true, .desc_gpa = 0x1000, .avail_gpa = 0x2000,
			     .used_gpa = 0x3000 };
	assert_true(virtq_state_valid(&vq));
	vq.avail_gpa = 0x2001;   /* live, but never enabled like this */
	assert_false(virtq_state_valid(&vq));
	vq.avail_gpa = 0x2000, vq.size = 96;
	assert_false(virtq_state_valid(&vq));
	vq.size = 256;
	memset((uint8_t *)&vq + offsetof(struct virtq, ready), 2, 1);
	assert_false(virtq_state_valid(&vq));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loaded_uart_and_rtc_state_is_checked),
		cmocka_unit_test(loaded_virtqueue_is_checked),
		cmocka_unit_test(bzimage_reads_the_setup_header),
		cmocka_unit_test(bzimage_rejects_what_it_cannot_boot),
		cmocka_unit_test(e820_has_low_ram_bios_hole_and_high_ram),
		cmocka_unit_test(initrd_goes_to_the_top_below_its_limit),
		cmocka_unit_test(virtqueue_size_must_be_a_power_of_two),
		cmocka_unit_test(virtqueue_rings_must_be_in_ram_and_aligned),
		cmocka_unit_test(virtqueue_pops_a_good_chain_and_pushes_it_back),
		cmocka_unit_test(virtqueue_detects_a_descriptor_loop),
		cmocka_unit_test(virtqueue_event_index),
		cmocka_unit_test(virtqueue_indirect_tables),
		cmocka_unit_test(virtqueue_rejects_bad_indexes_and_buffers),
		cmocka_unit_test(pci_bar_sizing_and_readonly_registers),
		cmocka_unit_test(pci_capabilities_form_a_list),
		cmocka_unit_test(pci_host_places_functions_and_hooks),
		cmocka_unit_test(virtio_pci_msix_vectors_mask_and_pend),
		cmocka_unit_test(virtio_pci_intx_by_irqfd_follows_isr_and_eoi),
		cmocka_unit_test(virtio_pci_fast_path_off_closes_every_eventfd),
		cmocka_unit_test(msi_routes_hand_out_gsis),
		cmocka_unit_test(uart_transmits_and_raises_thr_empty),
		cmocka_unit_test(uart_receives_with_priority_over_thr),
		cmocka_unit_test(uart_divisor_latch_loopback_and_scratch),
		cmocka_unit_test(acpi_poweroff_needs_slp_en_and_s5),
		cmocka_unit_test(rtc_reads_bcd_or_binary),
		cmocka_unit_test(rtc_cmos_fields_are_little_endian_ram),
		cmocka_unit_test(terminal_ctrl_a_x_quits),
		cmocka_unit_test(acpi_tables_have_valid_checksums),
		cmocka_unit_test(acpi_tables_built_at_zero_for_a_loader),
	};
	return cmocka_run_group_tests_name("stage 4", tests, NULL, NULL);
}
