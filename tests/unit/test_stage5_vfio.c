/*
 * test_stage5_vfio.c - unit tests of the vfio family's option parser: how a PCI address is
 * written (sysfs's DDDD:BB:DD.F, lspci's BB:DD.F, either case), what is refused (out of range
 * fields, junk), and -device vfio-pci's options (host=, x-no-mmap=, the limits). The device
 * side needs a host IOMMU: the nested-host checks test it (tests/checks/stage5-vfio.sh).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vfio/vfio.h"

static void test_bdf_forms(void **state)
{
	(void)state;
	char out[16];
	assert_true(vfio_parse_bdf("0000:00:03.0", out));
	assert_string_equal(out, "0000:00:03.0");
	assert_true(vfio_parse_bdf("00:1F.7", out));   /* lspci's short form, upper case */
	assert_string_equal(out, "0000:00:1f.7");
	assert_true(vfio_parse_bdf("1:2:3.4", out));
	assert_string_equal(out, "0001:02:03.4");
	assert_true(vfio_parse_bdf("ffff:ff:1f.7", out));
	assert_string_equal(out, "ffff:ff:1f.7");
}

static void test_bdf_refused(void **state)
{
	(void)state;
	char out[16];
	const char *bad[] = { "", "00:03", "0000:00:20.0", "0000:00:03.8", "0000:100:03.0",
			      "10000:00:03.0", "00:03.0x", "g0:03.0", "0000:00:03.", ":03.0",
			      "0000::03.0", "00.03:0", "0000:00:03.0.1", "-1:03.0" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vfio_parse_bdf(bad[i], out))
			fail_msg("'%s' was accepted as %s", bad[i], out);
	}
}

static void test_device_options(void **state)
{
	(void)state;
	struct vfio_config c = { .n = 0 };
	char why[256];
	assert_int_equal(vfio_config_device(&c, "host=00:05.0", why, sizeof(why)), 0);
	assert_int_equal(vfio_config_device(&c, "host=0000:00:06.0,x-no-mmap=on", why,
					    sizeof(why)), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.dev[0].host, "0000:00:05.0");
	assert_false(c.dev[0].no_mmap);
	assert_true(c.dev[1].no_mmap);
	assert_int_equal(vfio_config_device(&c, "x-no-mmap=off,host=7:0.0", why, sizeof(why)), 0);
	assert_false(c.dev[2].no_mmap);
}

static void test_device_refused(void **state)
{
	(void)state;
	struct vfio_config c = { .n = 0 };
	char why[256];
	assert_int_equal(vfio_config_device(&c, "", why, sizeof(why)), -1);
	assert_string_equal(why, "no host=DDDD:BB:DD.F");
	assert_int_equal(vfio_config_device(&c, "host=0:1:2", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "host=0:1:2: not a PCI address"));
	assert_int_equal(vfio_config_device(&c, "host=00:05.0,rombar=0", why, sizeof(why)), -1);
	assert_string_equal(why, "unknown option 'rombar=0' (known: host, x-no-mmap)");
	assert_int_equal(vfio_config_device(&c, "host=00:05.0,x-no-mmap=yes", why, sizeof(why)),
			 -1);
	assert_int_equal(c.n, 0);   /* nothing half-added */
	assert_int_equal(vfio_config_device(&c, "host=00:05.0", why, sizeof(why)), 0);
	assert_int_equal(vfio_config_device(&c, "host=0000:00:05.0", why, sizeof(why)), -1);
	assert_string_equal(why, "host=0000:00:05.0: given twice");
	for (unsigned i = 1; i < VFIO_MAX_DEVICES; i++) {
		char spec[32];
		snprintf(spec, sizeof(spec), "host=00:%02x.0", 8 + i);
		assert_int_equal(vfio_config_device(&c, spec, why, sizeof(why)), 0);
	}
	assert_int_equal(vfio_config_device(&c, "host=00:1f.0", why, sizeof(why)), -1);
	assert_string_equal(why, "more than 4 passed-through devices");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bdf_forms),
		cmocka_unit_test(test_bdf_refused),
		cmocka_unit_test(test_device_options),
		cmocka_unit_test(test_device_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
