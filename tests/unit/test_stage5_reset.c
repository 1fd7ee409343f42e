/*
 * test_stage5_reset.c - unit tests for the completed PC's timer and reset pieces, no KVM:
 *
 *  - the HPET's register semantics (board/hpet.c), driven with made-up host times: the
 *    capabilities, the main counter stopped and running, a one-shot comparator, periodic
 *    re-arm (missed periods coalesced), a 32-bit timer across the counter's wrap, legacy
 *    replacement routing, level-triggered interrupts and their status bits, hostile accesses
 *    through the bus (one byte, misaligned, across registers, past the block);
 *  - the reset: the power-on state of what the machine builds again (the HPET, the RTC's
 *    status registers, the ACPI PM block), the FADT's reset register, and -no-reboot as a flag
 *    and a YAML key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acpi.h"
#include "board/hpet.h"
#include "config.h"
#include "power.h"
#include "rtc.h"

#define T0 1000000000ull   /* a host time (ns) to start from */
#define ALL ~0ull          /* a 64-bit write */
#define LOW 0xffffffffull  /* a 32-bit write of the low half */

/* ---- HPET ----------------------------------------------------------------------------- */

static void timer_write(struct hpet *h, unsigned n, unsigned reg, uint64_t v, uint64_t mask,
			uint64_t now)
{
	hpet_write_reg(h, HPET_TIMER(n) + reg, v, mask, now);
}

static void test_hpet_capabilities(void **state)
{
	(void)state;
	struct hpet h;
	hpet_init(&h, -1);
	uint64_t cap = hpet_read_reg(&h, HPET_CAP, T0);
	assert_int_equal(cap >> 32, HPET_PERIOD_FS);        /* 10 ns in femtoseconds */
	assert_int_equal((cap >> 16) & 0xffff, 0x8086);
	assert_int_equal((cap >> 8) & 0x1f, HPET_TIMERS - 1);
	assert_true(cap & (1u << 13));                      /* 64-bit counter */
	assert_true(cap & (1u << 15));                      /* legacy replacement capable */
	uint64_t tcfg = hpet_read_reg(&h, HPET_TIMER(2) + HPET_TN_CONFIG, T0);
	assert_true(tcfg & HPET_TN_PER_CAP);
	assert_true(tcfg & HPET_TN_64_CAP);
	assert_int_equal(tcfg >> 32, HPET_ROUTE_CAP);
	/* Power-on: stopped at 0, nothing routed or enabled. */
	assert_int_equal(hpet_read_reg(&h, HPET_CONFIG, T0), 0);
	assert_int_equal(hpet_read_reg(&h, HPET_COUNTER, T0 + 5000), 0);
	assert_int_equal(tcfg & 0xffff, HPET_TN_PER_CAP | HPET_TN_64_CAP);
	/* Capabilities are read-only. */
	hpet_write_reg(&h, HPET_CAP, 0, ALL, T0);
	assert_int_equal(hpet_read_reg(&h, HPET_CAP, T0), cap);
}

static void test_hpet_counter(void **state)
{
	(void)state;
	struct hpet h;
	hpet_init(&h, -1);
	hpet_write_reg(&h, HPET_COUNTER, 500, ALL, T0);             /* set while stopped */
	assert_int_equal(hpet_read_reg(&h, HPET_COUNTER, T0 + 1000000), 500);
	hpet_write_reg(&h, HPET_CONFIG, HPET_CFG_ENABLE, LOW, T0);
	assert_int_equal(hpet_read_reg(&h, HPET_COUNTER, T0 + 1000), 600);   /* 100 ticks/us */
	hpet_write_reg(&h, HPET_CONFIG, 0, LOW, T0 + 2000);
	assert_int_equal(hpet_read_reg(&h, HPET_COUNTER, T0 + 9000), 700);   /* frozen */
	hpet_write_reg(&h, HPET_CONFIG, HPET_CFG_ENABLE, LOW, T0 + 10000);
	assert_int_equal(hpet_read_reg(&h, HPET_COUNTER, T0 + 11000), 800);  /* from there on */
	/* A 32-bit read of the high half: the counter's bits 32-63 (0 here). */
	assert_int_equal(hpet_read_reg(&h, HPET_COUNTER, T0 + 11000) >> 32, 0);
}

static void test_hpet_one_shot(void **state)
{
	(void)state;
	struct hpet h;
	hpet_init(&h, -1);
	hpet_write_reg(&h, HPET_CONFIG, HPET_CFG_ENABLE, LOW, T0);
	timer_write(&h, 0, HPET_TN_CONFIG, HPET_TN_INT_ENB | 2 << HPET_TN_ROUTE_SHIFT, LOW, T0);
	timer_write(&h, 0, HPET_TN_CMP, 100, ALL, T0);
	assert_int_equal(hpet_update(&h, T0), T0 + 1000);   /* the next match: 100 ticks on */
	hpet_update(&h, T0 + 990);
	assert_int_equal(h.t[0].fired, 0);
	hpet_update(&h, T0 + 1000);
	assert_int_equal(h.t[0].fired, 1);
	assert_false(h.t[0].out);                           /* an edge: the line is down again */
	hpet_update(&h, T0 + 50000);
	assert_int_equal(h.t[0].fired, 1);                  /* once: a 64-bit one-shot */
	assert_int_equal(hpet_timer_gsi(&h, 0), 2);
	/* Interrupts disabled: the counter passing the comparator fires nothing. */
	timer_write(&h, 1, HPET_TN_CMP, 10000, ALL, T0 + 50000);
	hpet_update(&h, T0 + 200000);
	assert_int_equal(h.t[1].fired, 0);
}

static void test_hpet_periodic(void **state)
{
	(void)state;
	struct hpet h;
	hpet_init(&h, -1);
	hpet_write_reg(&h, HPET_CONFIG, HPET_CFG_ENABLE, LOW, T0);
	/* As Linux does: periodic + VAL_SET, the first match, then the period alone. */
	timer_write(&h, 0, HPET_TN_CONFIG, HPET_TN_INT_ENB | HPET_TN_PERIODIC | HPET_TN_VAL_SET |
		    2 << HPET_TN_ROUTE_SHIFT, LOW, T0);
	timer_write(&h, 0, HPET_TN_CMP, 100, LOW, T0);
	timer_write(&h, 0, HPET_TN_CMP, 250, LOW, T0);
	assert_int_equal(h.t[0].cmp, 100);
	assert_int_equal(h.t[0].period, 250);
	assert_false(hpet_read_reg(&h, HPET_TIMER(0), T0) & HPET_TN_VAL_SET);   /* self-clearing */
	hpet_update(&h, T0 + 1000);
	assert_int_equal(h.t[0].fired, 1);
	assert_int_equal(hpet_read_reg(&h, HPET_TIMER(0) + HPET_TN_CMP, T0 + 1000), 350);
	hpet_update(&h, T0 + 3500);
	assert_int_equal(h.t[0].fired, 2);
	assert_int_equal(h.t[0].cmp, 600);
	/* Ten periods missed: one interrupt, and the comparator lands past the counter. */
	uint64_t next = hpet_update(&h, T0 + 30000);        /* counter 3000 */
	assert_int_equal(h.t[0].fired, 3);
	assert_int_equal(h.t[0].cmp, 3100);
	assert_int_equal(next, T0 + 30000 + 100000);        /* 2.5 us periods: 100 us at least */
}

static void test_hpet_32bit_wrap(void **state)
{
	(void)state;
	struct hpet h;
	hpet_init(&h, -1);
	hpet_write_reg(&h, HPET_COUNTER, 0xffffff00ull, ALL, T0);
	timer_write(&h, 0, HPET_TN_CONFIG, HPET_TN_INT_ENB | HPET_TN_32MODE |
		    2 << HPET_TN_ROUTE_SHIFT, LOW, T0);
	timer_write(&h, 0, HPET_TN_CMP, 0x100000010ull, ALL, T0);   /* the high half is dropped */
	assert_int_equal(hpet_read_reg(&h, HPET_TIMER(0) + HPET_TN_CMP, T0), 0x10);
	hpet_write_reg(&h, HPET_CONFIG, HPET_CFG_ENABLE, LOW, T0);
	hpet_update(&h, T0 + 0x100 * 10);                   /* the low half wraps to 0 */
	assert_int_equal(h.t[0].fired, 0);
	hpet_update(&h, T0 + 0x110 * 10);                   /* ... and reaches 0x10 */
	assert_int_equal(h.t[0].fired, 1);
	/* A 32-bit one-shot fires again when the low half comes round (2^32 ticks later). */
	hpet_update(&h, T0 + (0x110 + (1ull << 32)) * 10);
	assert_int_equal(h.t[0].fired, 2);
	/* Periodic in 32-bit mode: the comparator wraps too. */
	timer_write(&h, 1, HPET_TN_CONFIG, HPET_TN_INT_ENB | HPET_TN_32MODE | HPET_TN_PERIODIC |
		    HPET_TN_VAL_SET | 2 << HPET_TN_ROUTE_SHIFT, LOW, T0);
	h.t[1].cmp = 0xfffffff0;
	h.t[1].period = 0x20;
	h.checked = 0xffffffe0;
	h.counter = 0xffffffe0;
	h.start_ns = T0;
	hpet_update(&h, T0 + 0x18 * 10);                    /* counter 0xfffffff8 */
	assert_int_equal(h.t[1].fired, 1);
	assert_int_equal(h.t[1].cmp, 0x10);
}

static void test_hpet_legacy_routing(void **state)
{
	(void)state;
	struct hpet h;
	hpet_init(&h, -1);
	timer_write(&h, 0, HPET_TN_CONFIG, HPET_TN_INT_ENB | 5 << HPET_TN_ROUTE_SHIFT, LOW, T0);
	timer_write(&h, 1, HPET_TN_CONFIG, HPET_TN_INT_ENB | 5 << HPET_TN_ROUTE_SHIFT, LOW, T0);
	timer_write(&h, 0, HPET_TN_CMP, 10, ALL, T0);
	timer_write(&h, 1, HPET_TN_CMP, 10, ALL, T0);
	assert_int_equal(hpet_timer_gsi(&h, 0), 5);
	hpet_write_reg(&h, HPET_CONFIG, HPET_CFG_ENABLE, LOW, T0);
	hpet_update(&h, T0 + 1000);
	assert_int_equal(h.t[0].fired, 0);                  /* GSI 5 is not in the route cap */
	hpet_write_reg(&h, HPET_CONFIG, HPET_CFG_ENABLE | HPET_CFG_LEGACY, LOW, T0 + 1000);
	assert_int_equal(hpet_timer_gsi(&h, 0), 0);         /* IRQ 0: GSI 0 in this machine */
	assert_int_equal(hpet_timer_gsi(&h, 1), 8);         /* IRQ 8 */
	assert_int_equal(hpet_timer_gsi(&h, 2), 0);         /* timer 2 keeps its own route */
	assert_int_equal(h.t[0].line.gsi, 0);
	assert_int_equal(h.t[1].line.gsi, 8);
	hpet_write_reg(&h, HPET_COUNTER, 0, ALL, T0 + 1000);
	hpet_update(&h, T0 + 2000);
	assert_int_equal(h.t[0].fired, 1);
	assert_int_equal(h.t[1].fired, 1);
}

static void test_hpet_level(void **state)
{
	(void)state;
	struct hpet h;
	hpet_init(&h, -1);
	hpet_write_reg(&h, HPET_CONFIG, HPET_CFG_ENABLE, LOW, T0);
	timer_write(&h, 2, HPET_TN_CONFIG, HPET_TN_INT_ENB | HPET_TN_LEVEL |
		    2 << HPET_TN_ROUTE_SHIFT, LOW, T0);
	timer_write(&h, 2, HPET_TN_CMP, 50, ALL, T0);
	hpet_update(&h, T0 + 500);
	assert_true(h.t[2].out);                            /* held high */
	assert_int_equal(hpet_read_reg(&h, HPET_ISR, T0 + 500), 1u << 2);
	hpet_write_reg(&h, HPET_ISR, 1u << 1, LOW, T0 + 600);   /* another timer's bit: no-op */
	assert_true(h.t[2].out);
	hpet_write_reg(&h, HPET_ISR, 1u << 2, LOW, T0 + 600);   /* write 1 to clear */
	assert_false(h.t[2].out);
	assert_int_equal(hpet_read_reg(&h, HPET_ISR, T0 + 600), 0);
}

/* Through the bus, as a guest reaches it: odd accesses are ignored, never a crash. */
static void test_hpet_hostile_bus(void **state)
{
	(void)state;
	struct io_bus bus;
	struct hpet h;
	bus_init(&bus);
	assert_int_equal(hpet_attach(&h, &bus, -1, &bus.lock), 0);
	uint8_t b[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	assert_int_equal(bus_mmio(&bus, NULL, HPET_BASE + 0x10, true, b, 1), 0);  /* one byte */
	assert_int_equal(h.config, HPET_CFG_ENABLE | HPET_CFG_LEGACY);
	memset(b, 0, 8);
	assert_int_equal(bus_mmio(&bus, NULL, HPET_BASE + 0x12, false, b, 2), 0); /* misaligned */
	assert_int_equal(b[0], 0);
	assert_int_equal(bus_mmio(&bus, NULL, HPET_BASE + 0x11, false, b, 1), 0);
	assert_int_equal(bus_mmio(&bus, NULL, HPET_BASE + 0x2, false, b, 2), 0);  /* 0x8086 */
	assert_int_equal(b[0] | b[1] << 8, 0x8086);
	memset(b, 0xff, 8);
	assert_int_equal(bus_mmio(&bus, NULL, HPET_BASE + 0xee, true, b, 4), 0);  /* crosses */
	assert_int_equal(h.odd_accesses, 1);
	assert_int_equal(bus_mmio(&bus, NULL, HPET_BASE + 0xfc, false, b, 8), 0);
	assert_int_equal(h.odd_accesses, 2);
	assert_int_equal(b[0], 0);                          /* an ignored read gives 0 */
	assert_int_equal(bus_mmio(&bus, NULL, HPET_BASE + 0x400, false, b, 4), 0); /* past it */
	assert_int_equal(b[0], 0xff);                       /* nothing there: all ones */
	assert_int_equal(bus_mmio(&bus, NULL, HPET_BASE + 0x3fc, true, b, 4), 0);
	assert_int_equal(bus_mmio(&bus, NULL, HPET_BASE + 0x3fe, true, b, 4), 0);
	hpet_detach(&h);
}

static void test_hpet_acpi_body(void **state)
{
	(void)state;
	struct hpet h;
	uint8_t body[HPET_ACPI_BODY_LEN];
	uint32_t id;
	uint64_t base;
	hpet_init(&h, -1);
	hpet_acpi_body(body);
	memcpy(&id, body, 4);
	memcpy(&base, body + 8, 8);
	assert_int_equal(id, (uint32_t)hpet_read_reg(&h, HPET_CAP, T0));
	assert_int_equal(body[4], 0);                       /* system memory */
	assert_int_equal(base, HPET_BASE);
}

/* ---- the reset ----------------------------------------------------------------------- */

/* What build_machine makes anew at a reset is at its power-on values after attach. */
static void test_power_on_states(void **state)
{
	(void)state;
	struct io_bus bus;
	struct rtc_state rtc;
	struct power_state pm;
	bus_init(&bus);
	memset(&rtc, 0x5a, sizeof(rtc));                    /* a machine's leftovers */
	memset(&pm, 0x5a, sizeof(pm));
	assert_int_equal(rtc_attach(&rtc, &bus), 0);
	assert_int_equal(power_attach(&pm, &bus), 0);
	assert_int_equal(rtc.cmos[RTC_STATUS_A], 0x26);
	assert_int_equal(rtc.cmos[RTC_STATUS_B], 0x02);
	assert_int_equal(rtc.cmos[RTC_STATUS_C], 0);
	assert_int_equal(rtc.cmos[RTC_STATUS_D], 0x80);
	assert_int_equal(rtc.index, 0);
	assert_int_equal(pm.pm1_status, 0);
	assert_int_equal(pm.pm1_enable, 0);
	assert_int_equal(pm.stop, STOP_NONE);
}

static void test_fadt_reset_register(void **state)
{
	(void)state;
	uint8_t buf[4096];
	struct acpi_layout layout;
	assert_int_equal(acpi_build_into(buf, sizeof(buf), 0, 1, NULL, 0, &layout), 0);
	assert_int_equal(acpi_set_reset_reg(buf, &layout, 0xcf9, 0x06), 0);
	for (unsigned i = 0; i < layout.ntables; i++) {
		const uint8_t *t = buf + layout.tables[i].at;
		if (memcmp(t, "FACP", 4))
			continue;
		assert_int_equal(acpi_checksum(t, layout.tables[i].len), 0);
		uint32_t flags;
		uint64_t port;
		memcpy(&flags, t + 112, 4);
		memcpy(&port, t + 116 + 4, 8);
		assert_true(flags & (1u << 10));            /* RESET_REG_SUP */
		assert_int_equal(t[116], 1);                /* system I/O space */
		assert_int_equal(t[116 + 1], 8);            /* one byte */
		assert_int_equal(port, 0xcf9);
		assert_int_equal(t[128], 0x06);             /* RESET_VALUE */
		return;
	}
	fail_msg("no FADT");
}

static void test_no_reboot_config(void **state)
{
	(void)state;
	struct vmm_config c;
	char why[256];
	char *flag[] = { "minivisor", "-no-reboot" };
	config_defaults(&c);
	assert_false(c.no_reboot);                          /* a reset restarts by default */
	assert_int_equal(config_parse_args(&c, 2, flag, why, sizeof(why)), 0);
	assert_true(c.no_reboot);

	static const char yaml[] = "boot:\n  no-reboot: true\n";
	config_defaults(&c);
	assert_int_equal(config_load_yaml_string(&c, "r.yaml", yaml, sizeof(yaml) - 1, why,
						 sizeof(why)), 0);
	assert_true(c.no_reboot);

	static const char bad[] = "boot:\n  no-reboot: maybe\n";
	assert_int_not_equal(config_load_yaml_string(&c, "bad.yaml", bad, sizeof(bad) - 1, why,
						     sizeof(why)), 0);
	assert_non_null(strstr(why, "bad.yaml:2: key 'boot': boot option 'no-reboot': bad value "
				    "'maybe'"));

	char *junk[] = { "minivisor", "-no-reboot", "junk" };
	config_defaults(&c);
	assert_int_not_equal(config_parse_args(&c, 3, junk, why, sizeof(why)), 0);
	assert_string_equal(why, "unexpected argument 'junk'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hpet_capabilities),
		cmocka_unit_test(test_hpet_counter),
		cmocka_unit_test(test_hpet_one_shot),
		cmocka_unit_test(test_hpet_periodic),
		cmocka_unit_test(test_hpet_32bit_wrap),
		cmocka_unit_test(test_hpet_legacy_routing),
		cmocka_unit_test(test_hpet_level),
		cmocka_unit_test(test_hpet_hostile_bus),
		cmocka_unit_test(test_hpet_acpi_body),
		cmocka_unit_test(test_power_on_states),
		cmocka_unit_test(test_fadt_reset_register),
		cmocka_unit_test(test_no_reboot_config),
	};
	return cmocka_run_group_tests_name("stage 5 reset and HPET", tests, NULL, NULL);
}
