/*
 * test_stage3.c - unit tests for stage 3's scheduler arithmetic and command line: no KVM.
 *
 * The fair-share picker is driven with made-up slice times, the way the real scheduler
 * drives it with measured ones: full slices, slices cut short, a VM that leaves. Whatever
 * the slices, each VM's charged time must end up within one slice of its share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "options.h"
#include "sched.h"

#define MS 1000000ull

/* ---- the fair-share picker ---- */

/* Give slices with the picker for total_ns; slice_ns(i, k) says how long slice k of VM i ran. */
static void simulate(struct sched *s, uint64_t total_ns, uint64_t (*slice_ns)(int vm, uint64_t k))
{
	while (sched_total_ran(s) < total_ns) {
		int i = sched_pick_fair(s);
		assert_true(i >= 0);
		sched_charge(s, i, slice_ns(i, s->vm[i].slices));
	}
}

static uint64_t full_slices(int vm, uint64_t k)
{
	(void)vm, (void)k;
	return 10 * MS;
}

/* Morpheus's every third slice ends after 1 ms (it halted, or exited early): still charged. */
static uint64_t ragged_slices(int vm, uint64_t k)
{
	return vm == 1 && k % 3 == 0 ? 1 * MS : 10 * MS;
}

static void assert_share(const struct sched *s, int i, double target, double slack)
{
	double share = share_percent(s->vm[i].ran_ns, sched_total_ran(s));
	assert_true(share > target - slack && share < target + slack);
}

static void fair_70_30_full_slices(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, (unsigned[]){ 70, 30 }, 2);
	simulate(&s, 5000 * MS, full_slices);
	assert_share(&s, 0, 70, 0.3);   /* one 10 ms slice of 5 s is 0.2 points */
	assert_int_equal(s.vm[0].slices, 350);
	assert_int_equal(s.vm[1].slices, 150);
}

static void fair_charges_measured_time_not_slices(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, (unsigned[]){ 70, 30 }, 2);
	simulate(&s, 5000 * MS, ragged_slices);
	/* Counting slices would give Morpheus 30 % of the slices but only ~21 % of the time. */
	assert_share(&s, 1, 30, 0.3);
	assert_true(s.vm[1].slices > 150);
}

static void fair_three_vms(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, (unsigned[]){ 50, 30, 20 }, 3);
	simulate(&s, 3000 * MS, full_slices);
	assert_share(&s, 0, 50, 0.4);
	assert_share(&s, 1, 30, 0.4);
	assert_share(&s, 2, 20, 0.4);
	assert_float_equal(sched_target_share(&s, 2), 20.0, 1e-9);
}

static void fair_ties_go_to_the_lowest_index(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, (unsigned[]){ 1, 1, 1 }, 3);
	assert_int_equal(sched_pick_fair(&s), 0);
	sched_charge(&s, 0, 5 * MS);
	assert_int_equal(sched_pick_fair(&s), 1);
	sched_charge(&s, 1, 5 * MS);
	assert_int_equal(sched_pick_fair(&s), 2);
}

static void fair_skips_vms_off_the_schedule(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, (unsigned[]){ 70, 30 }, 2);
	assert_int_equal(sched_remove(&s, 0), 1);
	sched_charge(&s, 1, 100 * MS);
	assert_int_equal(sched_pick_fair(&s), 1);   /* far ahead, but the only one left */
	assert_int_equal(sched_remove(&s, 1), 0);
	assert_int_equal(sched_pick_fair(&s), -1);
}

/* ---- round robin ---- */

static void round_robin_wraps_and_skips(void **state)
{
	(void)state;
	struct sched s;
	sched_init(&s, NULL, 3);
	assert_int_equal(sched_next_round_robin(&s, 0), 1);
	assert_int_equal(sched_next_round_robin(&s, 2), 0);
	sched_remove(&s, 1);
	assert_int_equal(sched_next_round_robin(&s, 0), 2);
	sched_remove(&s, 2);
	assert_int_equal(sched_next_round_robin(&s, 0), 0);   /* alone: itself again */
	sched_remove(&s, 0);
	assert_int_equal(sched_next_round_robin(&s, 0), -1);
}

static void share_of_nothing_is_zero(void **state)
{
	(void)state;
	assert_float_equal(share_percent(0, 0), 0.0, 0);
	assert_float_equal(share_percent(3, 4), 75.0, 1e-9);
}

/* ---- lists: --share and --lines ---- */

static int list(const char *text, unsigned *values)
{
	char why[160];
	return parse_uint_list(text, values, SCHED_MAX_VMS, SCHED_MAX_WEIGHT, why, sizeof(why));
}

static void list_good(void **state)
{
	(void)state;
	unsigned v[SCHED_MAX_VMS];
	assert_int_equal(list("70,30", v), 2);
	assert_int_equal(v[0], 70);
	assert_int_equal(v[1], 30);
	assert_int_equal(list("50,30,20", v), 3);
	assert_int_equal(v[2], 20);
	assert_int_equal(list("10000", v), 1);
}

static void list_bad(void **state)
{
	(void)state;
	unsigned v[SCHED_MAX_VMS];
	static const char *const bad[] = {
		"0,0", "abc", "", "70,", ",30", "70,,30", "-5,3", "7 0,30", "10001,1",
		"1,2,3,4,5,6,7,8,9", "99999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (list(bad[i], v) != -1)
			fail_msg("'%s' was accepted", bad[i]);
	}
}

/* ---- the command line ---- */

/* Parse a NULL-terminated argument list with stdout and stderr silenced. */
static int parse(struct matrix_options *opt, unsigned allowed, const char **args)
{
	char *argv[16] = { "matrix" };
	int argc = 1;
	while (*args)
		argv[argc++] = (char *)*args++;

	fflush(stdout);
	fflush(stderr);
	int saved_out = dup(1), saved_err = dup(2);
	freopen("/dev/null", "w", stdout);
	freopen("/dev/null", "w", stderr);
	int rc = matrix_parse(opt, argc, argv, allowed, "worker.bin", 5);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	return rc;
}

#define FAIR (OPT_SHARE | OPT_QUANTUM | OPT_SECONDS)

static void options_defaults(void **state)
{
	(void)state;
	struct matrix_options opt;
	assert_int_equal(parse(&opt, FAIR, (const char *[]){ NULL }), 0);
	assert_int_equal(opt.vms, 2);
	assert_int_equal(opt.weight[0], 70);
	assert_int_equal(opt.weight[1], 30);
	assert_int_equal(opt.quantum_ns, 10 * MS);
	assert_float_equal(opt.seconds, 5.0, 0);
	assert_string_equal(opt.guest[1], opt.default_guest);
	assert_non_null(strstr(opt.default_guest, "guests/stage3/worker.bin"));
}

static void options_share_sets_the_vms(void **state)
{
	(void)state;
	struct matrix_options opt;
	const char *args[] = { "--share", "50,30,20", "--quantum", "5", "a.bin", NULL };
	assert_int_equal(parse(&opt, FAIR, args), 0);
	assert_int_equal(opt.vms, 3);
	assert_int_equal(opt.quantum_ns, 5 * MS);
	assert_string_equal(opt.guest[0], "a.bin");
	assert_string_equal(opt.guest[2], "a.bin");   /* the last guest fills the rest */
}

static void options_guests_set_the_vms(void **state)
{
	(void)state;
	struct matrix_options opt;
	const char *args[] = { "--lines", "2,4", "a.bin", "b.bin", "c.bin", NULL };
	const unsigned lines[] = { 2, 4, DEFAULT_LINES };   /* VM 3 keeps the default */

	assert_int_equal(parse(&opt, OPT_LINES, args), 0);
	assert_int_equal(opt.vms, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(opt.guest_arg[i], lines[i]);
		assert_string_equal(opt.guest[i], args[2 + i]);
	}
}

static void options_bad(void **state)
{
	(void)state;
	struct matrix_options opt;
	static const char *const bad[][4] = {
		{ "--share", "0,0" },   { "--share", "abc" },  { "--share", "100" },
		{ "--quantum", "0" },   { "--quantum", "1001" }, { "--quantum", "1.5" },
		{ "--seconds", "0" },   { "--seconds", "x" },  { "--mem", "2X" },
		{ "--lines", "3" },     { "--share" },         { "--bogus" },
		{ "--share", "1,1", "a", "b" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[6] = { bad[i][0], bad[i][1], bad[i][2], bad[i][3], "c", NULL };
		if (!bad[i][1])
			args[1] = NULL;
		if (parse(&opt, FAIR, args) != -1)
			fail_msg("%s %s was accepted", bad[i][0], bad[i][1] ? bad[i][1] : "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fair_70_30_full_slices),
		cmocka_unit_test(fair_charges_measured_time_not_slices),
		cmocka_unit_test(fair_three_vms),
		cmocka_unit_test(fair_ties_go_to_the_lowest_index),
		cmocka_unit_test(fair_skips_vms_off_the_schedule),
		cmocka_unit_test(round_robin_wraps_and_skips),
		cmocka_unit_test(share_of_nothing_is_zero),
		cmocka_unit_test(list_good),
		cmocka_unit_test(list_bad),
		cmocka_unit_test(options_defaults),
		cmocka_unit_test(options_share_sets_the_vms),
		cmocka_unit_test(options_guests_set_the_vms),
		cmocka_unit_test(options_bad),
	};
	return cmocka_run_group_tests_name("stage3", tests, NULL, NULL);
}
