/*
 * test_stage5_machine.c - unit tests for the stage 5 machine's pure parts: no KVM, no guest.
 *
 * fw_cfg is the device a hostile guest reaches most easily (one port write starts a DMA
 * anywhere it likes), so its requests are tested on a malloc()ed "guest RAM" with good and
 * bad addresses; then PAM decoding, the chipset's configuration space, the ACPI tables as
 * SeaBIOS's table loader links them (run here on a fake RAM), and the machine config:
 * QEMU-style sizes and flags, YAML files with every kind of error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acpi.h"
#include "block/block.h"
#include "board/chipset.h"
#include "board/firmware.h"
#include "board/fw_cfg.h"
#include "board/smbus.h"
#include "config.h"
#include "power.h"

#define RAM_SIZE (1u << 20)

struct fixture {
	struct guest_memory mem;
	struct fw_cfg f;
};

static int setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));
	x->mem.host = calloc(1, RAM_SIZE);
	x->mem.size = RAM_SIZE;
	fw_cfg_init(&x->f, &x->mem);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *x = *state;
	fw_cfg_free(&x->f);
	free(x->mem.host);
	free(x);
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* Write a DMA descriptor at gpa in the fake RAM. */
static void descriptor(struct fixture *x, uint32_t gpa, uint32_t control, uint32_t len,
		       uint64_t addr)
{
	uint8_t *d = x->mem.host + gpa;
	put_be32(d, control);
	put_be32(d + 4, len);
	put_be32(d + 8, addr >> 32);
	put_be32(d + 12, (uint32_t)addr);
}

static void test_signature_by_port(void **state)
{
	struct fixture *x = *state;
	char sig[5] = { 0 };
	fw_cfg_select(&x->f, FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = fw_cfg_read_byte(&x->f);
	assert_string_equal(sig, "QEMU");
	assert_int_equal(fw_cfg_read_byte(&x->f), 0);   /* past the end: zeros */
	fw_cfg_select(&x->f, FW_CFG_ID);
	assert_int_equal(fw_cfg_read_byte(&x->f), FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	fw_cfg_select(&x->f, 0x7777);                      /* no such key */
	assert_int_equal(fw_cfg_read_byte(&x->f), 0);
}

static void test_file_directory(void **state)
{
	struct fixture *x = *state;
	assert_int_equal(fw_cfg_add_file(&x->f, "etc/a", "12345", 5), 0);
	assert_int_equal(fw_cfg_add_file(&x->f, "bootorder", "x", 1), 0);
	assert_int_equal(fw_cfg_add_file(&x->f, "etc/a", "1", 1), -EEXIST);
	char longname[80];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[79] = 0;
	assert_int_equal(fw_cfg_add_file(&x->f, longname, "1", 1), -ENAMETOOLONG);

	uint8_t dir[4 + 2 * 64];
	fw_cfg_select(&x->f, FW_CFG_FILE_DIR);
	for (unsigned i = 0; i < sizeof(dir); i++)
		dir[i] = fw_cfg_read_byte(&x->f);
	assert_int_equal(get_be32(dir), 2);                      /* count, big-endian */
	assert_int_equal(get_be32(dir + 4), 5);                  /* size */
	assert_int_equal(dir[8] << 8 | dir[9], FW_CFG_FILE_FIRST);  /* key */
	assert_string_equal((char *)dir + 12, "etc/a");
	assert_int_equal(dir[64 + 8] << 8 | dir[64 + 9], FW_CFG_FILE_FIRST + 1);
	assert_string_equal((char *)dir + 64 + 12, "bootorder");
	assert_non_null(fw_cfg_find_file(&x->f, "bootorder"));
	assert_null(fw_cfg_find_file(&x->f, "nope"));
}

static void test_dma_decode(void **state)
{
	(void)state;
	uint8_t raw[16] = { 0x00, 0x19, 0x00, 0x0a, 0, 0, 0x10, 0, 0, 0, 0, 1, 0x80, 0, 0, 0x10 };
	struct fw_cfg_dma_request r;
	fw_cfg_dma_decode(raw, &r);
	assert_int_equal(r.control, 0x0019000a);
	assert_int_equal(r.length, 0x1000);
	assert_int_equal(r.address, 0x180000010ull);
}

static void test_dma_select_and_read(void **state)
{
	struct fixture *x = *state;
	fw_cfg_add_file(&x->f, "etc/data", "abcdef", 6);
	/* Select the file and read 8 bytes: 6 of data, then zeros; control becomes 0. */
	memset(x->mem.host + 0x2000, 0xee, 8);
	descriptor(x, 0x1000, FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 8,
		   0x2000);
	assert_int_equal(fw_cfg_dma(&x->f, 0x1000), 0);
	assert_int_equal(get_be32(x->mem.host + 0x1000), 0);
	assert_memory_equal(x->mem.host + 0x2000, "abcdef\0\0", 8);
	/* Skip then read continues from the offset. */
	fw_cfg_select(&x->f, FW_CFG_FILE_FIRST);
	descriptor(x, 0x1000, FW_CFG_DMA_SKIP, 2, 0);
	fw_cfg_dma(&x->f, 0x1000);
	descriptor(x, 0x1000, FW_CFG_DMA_READ, 2, 0x3000);
	fw_cfg_dma(&x->f, 0x1000);
	assert_memory_equal(x->mem.host + 0x3000, "cd", 2);
}

static void test_dma_hostile(void **state)
{
	struct fixture *x = *state;
	/* A buffer past the end of RAM, one that wraps, a write: the error bit, nothing else. */
	uint64_t bad[] = { RAM_SIZE - 4, 0xfffffffffffffff0ull };
	for (unsigned i = 0; i < 2; i++) {
		descriptor(x, 0x1000, FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 64, bad[i]);
		assert_int_equal(fw_cfg_dma(&x->f, 0x1000), 0);
		assert_int_equal(get_be32(x->mem.host + 0x1000), FW_CFG_DMA_ERROR);
	}
	descriptor(x, 0x1000, FW_CFG_DMA_WRITE, 4, 0x2000);
	fw_cfg_dma(&x->f, 0x1000);
	assert_int_equal(get_be32(x->mem.host + 0x1000), FW_CFG_DMA_ERROR);
	/* The descriptor itself outside RAM: refused, reported to the caller. */
	assert_int_equal(fw_cfg_dma(&x->f, RAM_SIZE - 8), -EFAULT);
	assert_int_equal(fw_cfg_dma(&x->f, 0xfffffffffffffff8ull), -EFAULT);
}

static void test_pam_decode(void **state)
{
	(void)state;
	struct pam_segment s[PAM_SEGMENTS];
	uint8_t regs[PAM_REGS] = { 0 };
	pam_decode(regs, s);
	for (int i = 0; i < PAM_SEGMENTS; i++)
		assert_int_equal(s[i].mode, PAM_ROM);
	assert_int_equal(s[0].base, 0xf0000);
	assert_int_equal(s[0].size, 0x10000);
	/* What SeaBIOS writes to make everything writable: 0x30, then 0x33 x 6. */
	uint8_t rw[PAM_REGS] = { 0x30, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33 };
	pam_decode(rw, s);
	for (int i = 0; i < PAM_SEGMENTS; i++)
		assert_int_equal(s[i].mode, PAM_RAM);
	/* PAM1 low nibble: 0xc0000; PAM6 high nibble: 0xec000. */
	uint8_t mix[PAM_REGS] = { 0x10, 0x21, 0, 0, 0, 0, 0x20 };
	pam_decode(mix, s);
	assert_int_equal(s[0].mode, PAM_READ_RAM);
	assert_int_equal(s[1].base, 0xc0000);
	assert_int_equal(s[1].mode, PAM_READ_RAM);
	assert_int_equal(s[2].base, 0xc4000);
	assert_int_equal(s[2].mode, PAM_WRITE_RAM);
	assert_int_equal(s[12].base, 0xec000);
	assert_int_equal(s[12].mode, PAM_WRITE_RAM);
	assert_int_equal(pam_segment_of(0xfffff), 0);
	assert_int_equal(pam_segment_of(0xc3fff), 1);
	assert_int_equal(pam_segment_of(0xef000), 12);
	assert_int_equal(pam_segment_of(0xbffff), -1);
	assert_int_equal(pam_segment_of(0x100000), -1);
}

static void test_chipset_config(void **state)
{
	(void)state;
	struct chipset c;
	chipset_init(&c, CHIPSET_I440FX);
	uint32_t host = 0x80000000u, isa = 0x80000800u;
	assert_int_equal(chipset_config_read(&c, host, 4), 0x12378086);
	assert_int_equal(chipset_config_read(&c, host | 0x2c, 4), 0x11001af4);  /* QEMU's IDs */
	assert_int_equal(chipset_config_read(&c, isa, 4), 0x70008086);
	assert_int_equal(chipset_config_read(&c, 0x80001000u, 4), 0xffffffffu);  /* slot 2 */
	assert_int_equal(chipset_config_read(&c, 0x00000000u, 4), 0xffffffffu);  /* disabled */
	/* A PAM write is noticed; the same value again is not; vendor ID is read-only. */
	assert_true(chipset_config_write(&c, host | 0x59, 0x30, 1));
	assert_false(chipset_config_write(&c, host | 0x59, 0x30, 1));
	assert_int_equal(chipset_config_read(&c, host | 0x58, 4) >> 8 & 0xff, 0x30);
	chipset_config_write(&c, host, 0xffffffff, 4);
	assert_int_equal(chipset_config_read(&c, host, 2), 0x8086);
	/* PIIX3 PIRQ routing is writable. */
	assert_false(chipset_config_write(&c, isa | 0x60, 0x0b0a0b0a, 4));
	assert_int_equal(chipset_config_read(&c, isa | 0x60, 4), 0x0b0a0b0a);
}

static void test_q35_config(void **state)
{
	(void)state;
	struct chipset c;
	chipset_init(&c, CHIPSET_Q35);
	assert_int_equal(chipset_config_read(&c, 0x80000000u, 4), 0x29c08086);   /* MCH */
	assert_int_equal(chipset_config_read(&c, 0x8000f800u, 4), 0x29188086);   /* 00:1f.0 LPC */
	assert_int_equal(chipset_config_read(&c, 0x80000800u, 4), 0xffffffffu);  /* no PIIX3 */
	assert_true(chipset_config_write(&c, 0x80000090u, 0x30, 1));             /* Q35 PAM0 */
	assert_false(chipset_config_write(&c, 0x80000059u, 0x30, 1));            /* not a PAM */
	uint64_t base, size;
	assert_true(pciexbar_decode(0xb0000001ull, &base, &size));
	assert_int_equal(base, 0xb0000000ull);
	assert_int_equal(size, 256u << 20);
	assert_true(pciexbar_decode(0xe8000005ull, &base, &size));   /* 64 MiB: bits 27:26 count */
	assert_int_equal(base, 0xe8000000ull);
	assert_int_equal(size, 64u << 20);
	assert_false(pciexbar_decode(0xb0000000ull, &base, &size));  /* not enabled */
	assert_false(pciexbar_decode(0xb0000007ull, &base, &size));  /* reserved size */
}

/* ---- PM I/O block and SMBus (pc: PIIX4 00:01.3; q35: ICH9 LPC and 00:1f.3) ----------- */

#define PIIX4_PM_FN_ADDR  0x80000b00u   /* 00:01.3 */
#define ICH9_LPC_ADDR     0x8000f800u   /* 00:1f.0 */
#define ICH9_SMBUS_ADDR   0x8000fb00u   /* 00:1f.3 */

struct south_bridge {
	struct io_bus bus;
	struct power_state power;
	struct chipset chipset;
};

static void south_bridge_init(struct south_bridge *sb, enum chipset_kind kind)
{
	bus_init(&sb->bus);
	chipset_init(&sb->chipset, kind);
	assert_int_equal(power_attach(&sb->power, &sb->bus), 0);
	assert_int_equal(chipset_attach(&sb->chipset, &sb->bus, -1, ACPI_PM1_EVT_PORT), 0);
}

/* Which device answers at port (its range name), or NULL. */
static const char *at_port(struct south_bridge *sb, uint16_t port)
{
	struct bus_range *r = bus_find(&sb->bus, BUS_PIO, port, 1);
	return r ? r->name : NULL;
}

static uint8_t port_in(struct south_bridge *sb, uint16_t port)
{
	struct bus_range *r = bus_find(&sb->bus, BUS_PIO, port, 1);
	assert_non_null(r);
	uint8_t v;
	r->ops->read(r->dev, port - r->base, &v, 1);
	return v;
}

static void port_out(struct south_bridge *sb, uint16_t port, uint8_t v)
{
	struct bus_range *r = bus_find(&sb->bus, BUS_PIO, port, 1);
	assert_non_null(r);
	r->ops->write(r->dev, port - r->base, &v, 1);
}

static void test_piix4_pm_base(void **state)
{
	(void)state;
	struct south_bridge sb;
	south_bridge_init(&sb, CHIPSET_I440FX);
	struct chipset *c = &sb.chipset;
	uint16_t base;
	assert_int_equal(chipset_config_read(c, PIIX4_PM_FN_ADDR, 4), 0x71138086);
	assert_int_equal(chipset_config_read(c, PIIX4_PM_FN_ADDR | 0x08, 4), 0x06800003);
	assert_int_equal(chipset_config_read(c, PIIX4_PM_FN_ADDR | 0x3d, 1), 1);   /* INTA# */
	assert_int_equal(chipset_config_read(c, PIIX4_PM_FN_ADDR | 0x40, 4), 1);   /* I/O, no base */
	assert_true(chipset_config_read(c, PIIX4_PM_FN_ADDR | 0x58, 4) & (1u << 25));  /* no SMM */
	/* Until the guest enables it, the block stays where the FADT says. */
	assert_string_equal(at_port(&sb, 0x600), "acpi-pm");
	chipset_config_write(c, PIIX4_PM_FN_ADDR | 0x40, 0xffffffff, 4);
	assert_int_equal(chipset_config_read(c, PIIX4_PM_FN_ADDR | 0x40, 4), 0xffc1);
	chipset_config_write(c, PIIX4_PM_FN_ADDR | 0x40, 0xb001, 4);
	assert_false(chipset_pm_base(c, &base));
	assert_string_equal(at_port(&sb, 0x600), "acpi-pm");
	chipset_config_write(c, PIIX4_PM_FN_ADDR | 0x80, 1, 1);   /* PMREGMISC: PMIOSE */
	assert_true(chipset_pm_base(c, &base));
	assert_int_equal(base, 0xb000);
	assert_null(at_port(&sb, 0x600));
	assert_string_equal(at_port(&sb, 0xb000), "acpi-pm");
	assert_string_equal(at_port(&sb, 0xb00b), "acpi-pm");   /* the PM timer's last byte */
	assert_int_equal(port_in(&sb, 0xb004) & ACPI_PM1_SCI_EN, ACPI_PM1_SCI_EN);
	/* Switched off after that, it decodes nowhere, as on the chip. */
	chipset_config_write(c, PIIX4_PM_FN_ADDR | 0x80, 0, 1);
	assert_null(at_port(&sb, 0xb000));
	assert_null(at_port(&sb, 0x600));
}

static void test_q35_pm_base(void **state)
{
	(void)state;
	struct south_bridge sb;
	south_bridge_init(&sb, CHIPSET_Q35);
	struct chipset *c = &sb.chipset;
	assert_int_equal(chipset_config_read(c, ICH9_LPC_ADDR | 0x40, 4), 1);
	assert_string_equal(at_port(&sb, 0x600), "acpi-pm");
	assert_string_equal(at_port(&sb, 0x630), "smi-en");
	chipset_config_write(c, ICH9_LPC_ADDR | 0x40, 0xb07f, 4);   /* bits 6:1 are not the base */
	assert_int_equal(chipset_config_read(c, ICH9_LPC_ADDR | 0x40, 4), 0xb001);
	assert_string_equal(at_port(&sb, 0x600), "acpi-pm");
	chipset_config_write(c, ICH9_LPC_ADDR | 0x44, 0x80, 1);   /* ACPI_CNTL: ACPI_EN */
	assert_null(at_port(&sb, 0x600));
	assert_null(at_port(&sb, 0x630));
	assert_string_equal(at_port(&sb, 0xb008), "acpi-pm");
	assert_string_equal(at_port(&sb, 0xb030), "smi-en");
	assert_int_equal(port_in(&sb, 0xb030), ICH9_SMI_APMC_EN);
}

static void test_piix4_smbus(void **state)
{
	(void)state;
	struct south_bridge sb;
	south_bridge_init(&sb, CHIPSET_I440FX);
	struct chipset *c = &sb.chipset;
	assert_int_equal(chipset_config_read(c, PIIX4_PM_FN_ADDR | 0x90, 4), 1);
	chipset_config_write(c, PIIX4_PM_FN_ADDR | 0x90, 0x0701, 4);   /* as SeaBIOS does */
	assert_null(at_port(&sb, 0x700));                                /* not enabled yet */
	chipset_config_write(c, PIIX4_PM_FN_ADDR | 0xd2, 0x09, 1);
	assert_string_equal(at_port(&sb, 0x700), "piix4-smbus");
	assert_null(at_port(&sb, 0x710));                                /* 16 ports */
	assert_int_equal(port_in(&sb, 0x700), 0xff);   /* command register: I/O off */
	chipset_config_write(c, PIIX4_PM_FN_ADDR | 0x04, PCI_COMMAND_IO, 2);
	assert_int_equal(port_in(&sb, 0x700), 0);
	/* Read byte data from the SPD EEPROM of slot 0 (0x50): nobody answers. */
	port_out(&sb, 0x704, 0x50 << 1 | 1);
	port_out(&sb, 0x703, 0);
	port_out(&sb, 0x702, SMBUS_CNT_START | 0x08);
	assert_int_equal(port_in(&sb, 0x700), SMBUS_STS_DEV_ERR);
	assert_int_equal(port_in(&sb, 0x700), SMBUS_STS_DEV_ERR);   /* no INUSE on the PIIX4 */
	assert_int_equal(port_in(&sb, 0x702) & SMBUS_CNT_START, 0);
	port_out(&sb, 0x700, SMBUS_STS_DEV_ERR);                     /* write 1 to clear */
	assert_int_equal(port_in(&sb, 0x700), 0);
	assert_int_equal(c->smbus.state.transactions, 1);
}

static void test_ich9_smbus(void **state)
{
	(void)state;
	struct south_bridge sb;
	south_bridge_init(&sb, CHIPSET_Q35);
	struct chipset *c = &sb.chipset;
	assert_int_equal(chipset_config_read(c, ICH9_SMBUS_ADDR, 4), 0x29308086);
	assert_int_equal(chipset_config_read(c, ICH9_SMBUS_ADDR | 0x08, 4) >> 8, 0x0c0500);
	chipset_config_write(c, ICH9_SMBUS_ADDR | 0x20, 0xffffffff, 4);   /* BAR4 sizing */
	assert_int_equal(chipset_config_read(c, ICH9_SMBUS_ADDR | 0x20, 4), 0xffffffe1);
	chipset_config_write(c, ICH9_SMBUS_ADDR | 0x20, 0x0701, 4);
	chipset_config_write(c, ICH9_SMBUS_ADDR | 0x04, PCI_COMMAND_IO, 2);
	assert_string_equal(at_port(&sb, 0x71f), "ich9-smbus");
	/* The host is off: START does nothing. */
	port_out(&sb, 0x702, SMBUS_CNT_START);
	assert_int_equal(port_in(&sb, 0x700), 0);
	port_out(&sb, 0x700, 0xff);
	chipset_config_write(c, ICH9_SMBUS_ADDR | 0x40, 1, 1);   /* HOSTC: HST_EN */
	port_out(&sb, 0x704, 0x52 << 1 | 1);
	port_out(&sb, 0x702, SMBUS_CNT_START | SMBUS_CNT_INTREN | 0x08);
	/* Finished at once with "device error"; reading the status takes the INUSE semaphore. */
	assert_int_equal(port_in(&sb, 0x700), SMBUS_STS_DEV_ERR);
	assert_int_equal(port_in(&sb, 0x700), SMBUS_STS_DEV_ERR | SMBUS_STS_INUSE);
	assert_true(smbus_irq_pending(&c->smbus));
	assert_int_equal(chipset_config_read(c, ICH9_SMBUS_ADDR | 0x06, 1) & 0x08, 0x08);
	port_out(&sb, 0x700, SMBUS_STS_INUSE | SMBUS_STS_DEV_ERR | SMBUS_STS_HOST_BUSY);
	assert_int_equal(port_in(&sb, 0x700) & ~SMBUS_STS_INUSE, 0);
	assert_false(smbus_irq_pending(&c->smbus));
	assert_int_equal(chipset_config_read(c, ICH9_SMBUS_ADDR | 0x06, 1) & 0x08, 0);
	assert_int_equal(c->smbus.state.transactions, 1);
}

/* Any byte sequence at any offset and width: no crash, never busy, reads stay in range. */
static void test_smbus_hostile(void **state)
{
	(void)state;
	uint32_t seed = 12345;
	for (int variant = SMBUS_PIIX4; variant <= SMBUS_ICH9; variant++) {
		struct smbus s;
		smbus_init(&s, variant, "test-smbus");
		s.state.host_enabled = true;
		for (int i = 0; i < 20000; i++) {
			seed = seed * 1103515245u + 12345u;
			unsigned offset = (seed >> 8) % 40, len = 1u << ((seed >> 4) % 3);
			if (seed & 1)
				smbus_write(&s, offset, seed >> 3, len);
			else
				smbus_read(&s, offset, len);
			assert_int_equal(s.state.regs[SMBUS_HST_STS] & SMBUS_STS_HOST_BUSY, 0);
		}
		assert_true(s.state.transactions > 0);
		assert_int_equal(smbus_read(&s, 32, 1), 0xff);   /* past the last register */
	}
}

static void test_loader_commands(void **state)
{
	(void)state;
	struct acpi_loader l = { .count = 0 };
	assert_int_equal(loader_allocate(&l, "etc/acpi/rsdp", 16, LOADER_ZONE_FSEG), 0);
	assert_int_equal(loader_add_pointer(&l, "etc/acpi/rsdp", "etc/acpi/tables", 24, 8), 0);
	assert_int_equal(loader_add_checksum(&l, "etc/acpi/rsdp", 8, 0, 20), 0);
	const uint8_t *e = l.commands;
	assert_int_equal(e[0], LOADER_ALLOCATE);
	assert_string_equal((const char *)e + 4, "etc/acpi/rsdp");
	assert_int_equal(e[60], 16);                 /* align */
	assert_int_equal(e[64], LOADER_ZONE_FSEG);
	e += LOADER_ENTRY_SIZE;
	assert_int_equal(e[0], LOADER_ADD_POINTER);
	assert_string_equal((const char *)e + 60, "etc/acpi/tables");
	assert_int_equal(e[116], 24);                /* offset */
	assert_int_equal(e[120], 8);                 /* size */
	e += LOADER_ENTRY_SIZE;
	assert_int_equal(e[0], LOADER_ADD_CHECKSUM);
	assert_int_equal(e[60], 8);
	assert_int_equal(e[68], 20);
	for (int i = 3; i < LOADER_MAX_ENTRIES; i++)
		loader_add_checksum(&l, "x", 0, 0, 1);
	assert_int_equal(loader_add_checksum(&l, "x", 0, 0, 1), -ENOSPC);
}

/* ---- the ACPI table loader, run as SeaBIOS's romfile_loader.c would ---- */

struct placed {
	const char *name;
	uint32_t gpa;
};

static uint32_t place_of(const struct placed *p, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(p[i].name, name))
			return p[i].gpa;
	fail_msg("loader names unknown file %s", name);
	return 0;
}

/* Execute the loader's commands on ram: files at fixed places (FSEG: 0xf0000, high: 0x10000). */
static void run_loader(const struct fw_cfg *f, uint8_t *ram)
{
	const struct fw_cfg_item *loader = fw_cfg_find_file(f, "etc/table-loader");
	assert_non_null(loader);
	struct placed placed[4];
	unsigned n = 0;
	for (uint32_t at = 0; at < loader->size; at += LOADER_ENTRY_SIZE) {
		const uint8_t *e = loader->data + at;
		const char *file = (const char *)e + 4;
		uint32_t cmd, v[3];
		memcpy(&cmd, e, 4);
		memcpy(v, e + 4 + FW_CFG_NAME_LEN, sizeof(v));
		if (cmd == LOADER_ALLOCATE) {
			const struct fw_cfg_item *it = fw_cfg_find_file(f, file);
			assert_non_null(it);
			bool fseg = e[8 + FW_CFG_NAME_LEN] == LOADER_ZONE_FSEG;
			uint32_t gpa = fseg ? 0xf0000 : 0x10000;
			assert_int_equal(gpa % v[0], 0);   /* alignment */
			memcpy(ram + gpa, it->data, it->size);
			placed[n++] = (struct placed){ file, gpa };
		} else if (cmd == LOADER_ADD_POINTER) {
			uint32_t off = bytes_to_u64(e + 4 + 2 * FW_CFG_NAME_LEN, 4);
			unsigned size = e[8 + 2 * FW_CFG_NAME_LEN];
			uint8_t *ptr = ram + place_of(placed, n, file) + off;
			uint64_t value = bytes_to_u64(ptr, size) +
					 place_of(placed, n, file + FW_CFG_NAME_LEN);
			u64_to_bytes(value, ptr, size);
		} else {
			assert_int_equal(cmd, LOADER_ADD_CHECKSUM);
			uint8_t *base = ram + place_of(placed, n, file);
			base[v[0]] -= acpi_checksum(base + v[1], v[2]);
		}
	}
}

/* A table at gpa: its signature, a valid checksum over its length. */
static const uint8_t *table_at(const uint8_t *ram, uint64_t gpa, const char *sig)
{
	assert_true(gpa > 0 && gpa < RAM_SIZE - 36);
	const uint8_t *t = ram + gpa;
	assert_memory_equal(t, sig, 4);
	assert_int_equal(acpi_checksum(t, bytes_to_u64(t + 4, 4)), 0);
	return t;
}

static void test_acpi_through_loader(void **state)
{
	struct fixture *x = *state;
	char why[256];
	struct firmware_config cfg = { .ram_size = 256u << 20, .ncpus = 2,
				       .ecam_base = 0xb0000000u };
	assert_int_equal(firmware_setup(&x->f, &cfg, why, sizeof(why)), 0);
	uint8_t *ram = x->mem.host;
	run_loader(&x->f, ram);

	const uint8_t *rsdp = ram + 0xf0000;
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(acpi_checksum(rsdp, 20), 0);
	assert_int_equal(acpi_checksum(rsdp, 36), 0);
	const uint8_t *xsdt = table_at(ram, bytes_to_u64(rsdp + 24, 8), "XSDT");
	unsigned entries = (bytes_to_u64(xsdt + 4, 4) - 36) / 8;
	assert_int_equal(entries, 4);   /* FADT, MADT (stage 4), HPET and MCFG (q35) */
	bool seen_fadt = false, seen_mcfg = false, seen_hpet = false;
	for (unsigned i = 0; i < entries; i++) {
		uint64_t at = bytes_to_u64(xsdt + 36 + 8 * i, 8);
		const uint8_t *t = ram + at;
		if (!memcmp(t, "FACP", 4)) {
			table_at(ram, at, "FACP");
			table_at(ram, bytes_to_u64(t + 40, 4), "DSDT");
			assert_memory_equal(ram + bytes_to_u64(t + 36, 4), "FACS", 4);
			seen_fadt = true;
		} else if (!memcmp(t, "MCFG", 4)) {
			table_at(ram, at, "MCFG");
			assert_int_equal(bytes_to_u64(t + 44, 8), 0xb0000000u);
			assert_int_equal(t[55], 255);   /* end bus */
			seen_mcfg = true;
		} else if (!memcmp(t, "HPET", 4)) {
			table_at(ram, at, "HPET");
			assert_int_equal(bytes_to_u64(t + 44, 8), 0xfed00000u);   /* its base */
			seen_hpet = true;
		} else {
			table_at(ram, at, "APIC");
		}
	}
	assert_true(seen_fadt && seen_mcfg && seen_hpet);
	/* The memory map item: RAM from 0, KVM's helper pages reserved. */
	const struct fw_cfg_item *e820 = fw_cfg_find_file(&x->f, "etc/e820");
	assert_int_equal(e820->size, 2 * 20);
	assert_int_equal(bytes_to_u64(e820->data + 8, 8), 256u << 20);
	assert_int_equal(bytes_to_u64(e820->data + 16, 4), 1);
}

static void test_mem_sizes(void **state)
{
	(void)state;
	assert_int_equal(config_parse_mem("512"), 512ull << 20);   /* MiB, as QEMU */
	assert_int_equal(config_parse_mem("2G"), 2ull << 30);
	assert_int_equal(config_parse_mem("64k"), 64ull << 10);
	assert_int_equal(config_parse_mem("1MB"), 1ull << 20);
	assert_int_equal(config_parse_mem("12Q"), 0);
	assert_int_equal(config_parse_mem(""), 0);
	assert_int_equal(config_parse_mem("-1"), 0);
	assert_int_equal(config_parse_mem("0"), 0);
	assert_int_equal(config_parse_mem("99999999999999999999G"), 0);
	assert_true(config_machine_known("pc"));
	assert_false(config_machine_known("q35x"));
}

/* Load text as if it were the file dir/m.yaml; returns the result and the message. */
static int yaml(struct vmm_config *c, const char *text, char *why)
{
	config_defaults(c);
	why[0] = 0;
	return config_load_yaml_string(c, "dir/m.yaml", text, strlen(text), why, 256);
}

static void test_yaml_good(void **state)
{
	(void)state;
	struct vmm_config c;
	char why[256];
	assert_int_equal(yaml(&c, "machine: pc\nmemory: 1G\ncpus: 2\n"
			      "firmware:\n  bios: fw/bios.bin\n  debug-log: stderr\n"
			      "kernel:\n  image: /k/vmlinuz\n  cmdline: \"console=ttyS0 x=1\"\n"
			      "devices: [serial]\n", why), 0);
	assert_int_equal(c.mem_size, 1ull << 30);
	assert_int_equal(c.ncpus, 2);
	assert_string_equal(c.bios, "dir/fw/bios.bin");       /* relative to the file */
	assert_string_equal(c.kernel, "/k/vmlinuz");
	assert_string_equal(c.cmdline, "console=ttyS0 x=1");
	assert_string_equal(c.debug_log, "stderr");
	assert_int_equal(yaml(&c, "", why), 0);                 /* empty: the defaults */
	assert_int_equal(c.mem_size, (uint64_t)DEFAULT_MEM_MIB << 20);
	/* network: one entry per -nic (net/net_config.h) */
	assert_int_equal(yaml(&c, "network:\n  - { backend: user, model: virtio-net-pci,\n"
			      "      hostfwd: \"tcp:127.0.0.1:2222-:22\", mac: \"52:54:00:00:00:09\" }\n"
			      "  - { model: e1000 }\n", why), 0);
	assert_int_equal(c.net.nnics, 2);
	assert_int_equal(c.net.nics[0].model, NIC_VIRTIO_NET);
	assert_int_equal(c.net.nics[0].mac[5], 9);
	assert_int_equal(c.net.netdevs[0].hostfwd[0].host_port, 2222);
	assert_int_equal(c.net.nics[1].model, NIC_E1000);
	assert_int_equal(c.net.netdevs[1].kind, NETDEV_USER);
	/* virtio: the path, as -simple-virtio / -fast-virtio say it (fast: the default) */
	assert_false(c.net.simple_virtio);
	assert_int_equal(yaml(&c, "virtio: simple\n", why), 0);
	assert_true(c.net.simple_virtio);
	assert_int_equal(yaml(&c, "virtio: fast\n", why), 0);
	assert_false(c.net.simple_virtio);
}

static void test_yaml_errors(void **state)
{
	(void)state;
	struct vmm_config c;
	char why[256];
	struct { const char *text, *message; } cases[] = {
		{ "machine: pc\nmemroy: 1G\n", "dir/m.yaml:2: unknown key 'memroy'" },
		{ "memory: 12Q\n", "dir/m.yaml:1: key 'memory': bad size '12Q'" },
		{ "machine: q35x\n", "dir/m.yaml:1: key 'machine': unknown machine type 'q35x'" },
		{ "devices:\n  - serial\n  - sound-blaster\n",
		  "dir/m.yaml:3: key 'devices': unknown device 'sound-blaster'" },
		{ "cpus: lots\n", "dir/m.yaml:1: key 'cpus': bad CPU count 'lots'" },
		{ "kernel:\n  imgae: x\n", "dir/m.yaml:2: unknown key 'kernel.imgae'" },
		{ "firmware: bios.bin\n", "dir/m.yaml:1: key 'firmware': expected a mapping" },
		{ "memory: [1, 2]\n", "dir/m.yaml:1: key 'memory': expected a single value" },
		{ "machine: pc\n  memory: 1G\n", "dir/m.yaml:2: YAML syntax error" },
		{ "- a\n- b\n", "dir/m.yaml:1: key '(top level)': expected a mapping" },
		{ "network:\n  - { backend: user, speed: 10 }\n",
		  "dir/m.yaml:2: key 'network': unknown key 'speed' for a user back end" },
		{ "network: e1000\n", "dir/m.yaml:1: key 'network': expected a list" },
		{ "machine: q35\nvirtio: quick\n",
		  "dir/m.yaml:2: key 'virtio': unknown path 'quick' (known: simple, fast)" },
		{ "virtio: { path: simple }\n", "dir/m.yaml:1: key 'virtio': expected a single value" },
		{ "network:\n  - { model: e1000, mac: \"01:00:00:00:00:01\" }\n",
		  "dir/m.yaml:2: key 'network': bad MAC address" },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(yaml(&c, cases[i].text, why), -1);
		if (strncmp(why, cases[i].message, strlen(cases[i].message)) != 0)
			fail_msg("case %u: got \"%s\", want \"%s...\"", i, why, cases[i].message);
	}
}

static void test_flags(void **state)
{
	(void)state;
	struct vmm_config c;
	char why[256];
	char *ok[] = { "minivisor", "-M", "pc", "-m", "size=1G", "--smp", "cpus=2", "-kernel", "k",
		       "-append", "a b", "-nographic" };
	config_defaults(&c);
	assert_int_equal(config_parse_args(&c, 12, ok, why, sizeof(why)), 0);
	assert_int_equal(c.mem_size, 1ull << 30);
	assert_int_equal(c.ncpus, 2);
	assert_string_equal(c.cmdline, "a b");
	char *bad_machine[] = { "minivisor", "-machine", "type=isapc,accel=kvm" };
	assert_int_equal(config_parse_args(&c, 3, bad_machine, why, sizeof(why)), -1);
	assert_string_equal(why, "unknown machine type 'isapc' (known: pc, q35)");
	char *bad_device[] = { "minivisor", "-device", "rtl8139,netdev=n0" };
	assert_int_equal(config_parse_args(&c, 3, bad_device, why, sizeof(why)), -1);
	assert_string_equal(why, "unknown device 'rtl8139' (known: serial, e1000, virtio-net-pci, "
			    "vfio-pci)");
	/* A network card is known (net/net_config.h); its back end must be named. */
	char *no_netdev[] = { "minivisor", "-device", "e1000,netdev=n0" };
	config_defaults(&c);
	assert_int_equal(config_parse_args(&c, 3, no_netdev, why, sizeof(why)), -1);
	assert_string_equal(why, "e1000: netdev=n0: no -netdev with that id");
	char *no_value[] = { "minivisor", "-kernel" };
	assert_int_equal(config_parse_args(&c, 2, no_value, why, sizeof(why)), -1);
}

/* Drives: -drive key=value lists, QEMU's -hda/-cdrom positions, -boot, and the YAML form. */
static void test_drive_flags(void **state)
{
	(void)state;
	struct vmm_config c;
	char why[512];
	char *ok[] = { "minivisor", "-drive", "file=a.qcow2,if=ahci,format=qcow2,index=3",
		       "-cdrom", "cd.iso", "-hdb", "b.img", "-boot", "order=d,reboot-timeout=-1" };
	config_defaults(&c);
	assert_int_equal(config_parse_args(&c, 9, ok, why, sizeof(why)), 0);
	assert_int_equal(c.ndrives, 3);
	assert_string_equal(c.drives[0].file, "a.qcow2");
	assert_int_equal(c.drives[0].interface, DRIVE_IF_AHCI);
	assert_int_equal(c.drives[0].format, BLOCK_FORMAT_QCOW2);
	assert_int_equal(c.drives[0].index, 3);
	assert_true(c.drives[1].cdrom);
	assert_int_equal(c.drives[1].index, 2);   /* QEMU: -cdrom is the secondary master */
	assert_int_equal(c.drives[2].index, 1);
	assert_int_equal(c.boot_order, 'd');
	assert_int_equal(c.reboot_timeout_ms, -1);

	/* later wins: a drive at a taken index replaces the earlier one */
	char *replace[] = { "minivisor", "-drive", "file=copy.qcow2,index=1" };
	assert_int_equal(config_parse_args(&c, 3, replace, why, sizeof(why)), 0);
	assert_int_equal(c.ndrives, 3);
	assert_string_equal(c.drives[2].file, "copy.qcow2");

	/* a device's disk: its id outlives the option list (usb-storage,drive=ID looks it up) */
	char *none[] = { "minivisor", "-drive", "if=none,id=stick,file=s.raw,format=raw",
			 "-device", "qemu-xhci", "-device", "usb-storage,drive=stick" };
	assert_int_equal(config_parse_args(&c, 7, none, why, sizeof(why)), 0);
	assert_string_equal(c.drives[3].id, "stick");
	assert_string_equal(c.drives[3].file, "s.raw");

	char *bad_if[] = { "minivisor", "-drive", "file=x,if=scsi" };
	assert_int_equal(config_parse_args(&c, 3, bad_if, why, sizeof(why)), -1);
	assert_string_equal(why, "-drive file=x,if=scsi: drive option 'if': bad value 'scsi'");
	char *no_file[] = { "minivisor", "-drive", "if=ide" };
	assert_int_equal(config_parse_args(&c, 3, no_file, why, sizeof(why)), -1);
	char *unknown[] = { "minivisor", "-drive", "file=x,cache=none" };
	assert_int_equal(config_parse_args(&c, 3, unknown, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "unknown drive option 'cache'"));
	char *bad_boot[] = { "minivisor", "-boot", "order=n" };
	assert_int_equal(config_parse_args(&c, 3, bad_boot, why, sizeof(why)), -1);
}

static void test_drive_yaml(void **state)
{
	(void)state;
	struct vmm_config c;
	char why[512];
	static const char good[] = "machine: q35\ndrives:\n  - file: disk.qcow2\n"
				   "  - { file: /abs/cd.iso, media: cdrom, readonly: true }\n"
				   "boot:\n  order: d\n";
	config_defaults(&c);
	assert_int_equal(config_load_yaml_string(&c, "dir/m.yaml", good, strlen(good), why,
						 sizeof(why)), 0);
	assert_int_equal(c.ndrives, 2);
	assert_string_equal(c.drives[0].file, "dir/disk.qcow2");   /* relative to the file */
	assert_string_equal(c.drives[1].file, "/abs/cd.iso");
	assert_true(c.drives[1].cdrom && c.drives[1].readonly);
	assert_int_equal(c.boot_order, 'd');

	static const char bad[] = "drives:\n  - file: d.img\n    media: floppy\n";
	config_defaults(&c);
	assert_int_equal(config_load_yaml_string(&c, "m.yaml", bad, strlen(bad), why,
						 sizeof(why)), -1);
	assert_string_equal(why, "m.yaml:3: key 'drives': drive option 'media': bad value "
				 "'floppy'");
	static const char nofile[] = "drives:\n  - media: cdrom\n";
	config_defaults(&c);
	assert_int_equal(config_load_yaml_string(&c, "m.yaml", nofile, strlen(nofile), why,
						 sizeof(why)), -1);
	assert_string_equal(why, "m.yaml:2: key 'drives': a drive needs a 'file'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signature_by_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_directory, setup, teardown),
		cmocka_unit_test(test_dma_decode),
		cmocka_unit_test_setup_teardown(test_dma_select_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_hostile, setup, teardown),
		cmocka_unit_test(test_pam_decode),
		cmocka_unit_test(test_chipset_config),
		cmocka_unit_test(test_q35_config),
		cmocka_unit_test(test_piix4_pm_base),
		cmocka_unit_test(test_q35_pm_base),
		cmocka_unit_test(test_piix4_smbus),
		cmocka_unit_test(test_ich9_smbus),
		cmocka_unit_test(test_smbus_hostile),
		cmocka_unit_test(test_loader_commands),
		cmocka_unit_test_setup_teardown(test_acpi_through_loader, setup, teardown),
		cmocka_unit_test(test_mem_sizes),
		cmocka_unit_test(test_yaml_good),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_drive_flags),
		cmocka_unit_test(test_drive_yaml),
	};
	return cmocka_run_group_tests_name("stage 5: the pc machine", tests, NULL, NULL);
}
