/*
 * matrix.c - fractional scheduling: Neo gets 70 % of the CPU, Morpheus 30 %.
 *
 *   ./matrix                            70/30 for 5 s (guests/stage3/worker.c)
 *   ./matrix --share 50,30,20 --seconds 3
 *   ./matrix --quantum 5 worker.bin fault.bin
 *
 * Slices are preempted by the timer as in matrix-b, but the next VM is not simply the next
 * in turn: it is the one furthest behind its share, judged by the host time each VM has been
 * charged divided by its weight (sched.c). The charge is the time the slice really took, read
 * from this thread's CPU clock (vmset.c) - so a slice cut short by a halt, stretched by a late
 * kick or filled with I/O exits costs exactly what it used, and the shares come out right
 * without counting ticks.
 *
 * Every guest counts its units of work and reports them with HC_REPORT_WORK. Each second the
 * host prints every VM's share of that second, by host time and by work; at the end the
 * totals and the error against the target, in percentage points.
 *
 * Exit status: 0 the run ended; 1 a VM failed (taken off the schedule); 2 bad input.
 */
#include <math.h>
#include <stdio.h>

#include "kick.h"
#include "options.h"
#include "vmset.h"

#define NS_PER_S 1000000000ull

/* What the totals were at the last report, to print the share of the last second. */
struct snapshot {
	uint64_t ran_ns[SCHED_MAX_VMS];
	uint64_t work[SCHED_MAX_VMS];
};

/* Each VM's share of the time and of the work since the last report. */
static void print_second(const struct vmset *set, struct snapshot *last, double t)
{
	uint64_t ran[SCHED_MAX_VMS], work[SCHED_MAX_VMS], ran_total = 0, work_total = 0;

	for (int i = 0; i < set->n; i++) {
		ran[i] = set->sched.vm[i].ran_ns - last->ran_ns[i];
		work[i] = set->sched.vm[i].work - last->work[i];
		ran_total += ran[i];
		work_total += work[i];
		last->ran_ns[i] = set->sched.vm[i].ran_ns;
		last->work[i] = set->sched.vm[i].work;
	}
	printf("%5.1f s", t);
	for (int i = 0; i < set->n; i++)
		printf("  %s %4.1f%% (work %4.1f%%)", set->vm[i].vm.name,
		       share_percent(ran[i], ran_total), share_percent(work[i], work_total));
	printf("\n");
}

/* The largest distance, in percentage points, between a VM's share and its target. */
static double share_error(const struct sched *s, bool by_work)
{
	double worst = 0;
	for (int i = 0; i < s->n; i++) {
		double share = by_work ? share_percent(s->vm[i].work, sched_total_work(s))
				       : share_percent(s->vm[i].ran_ns, sched_total_ran(s));
		worst = fmax(worst, fabs(share - sched_target_share(s, i)));
	}
	return worst;
}

static void print_summary(const struct vmset *set, const struct kick *kick, double seconds)
{
	const struct sched *s = &set->sched;

	printf("matrix: %.2f s, %llu switches, %llu kicks (mean latency %.0f us)\n", seconds,
	       (unsigned long long)set->switches, (unsigned long long)kick->kicks,
	       kick->kicks ? kick->latency_sum_ns / 1e3 / kick->kicks : 0.0);
	printf("VM         target  by time  by work   cpu time   work units  slices   exits\n");
	for (int i = 0; i < set->n; i++)
		printf("%-9s  %5.1f%%   %5.1f%%   %5.1f%%  %7.1f ms  %10llu  %6llu  %6llu\n",
		       set->vm[i].vm.name, sched_target_share(s, i),
		       share_percent(s->vm[i].ran_ns, sched_total_ran(s)),
		       share_percent(s->vm[i].work, sched_total_work(s)), s->vm[i].ran_ns / 1e6,
		       (unsigned long long)s->vm[i].work, (unsigned long long)s->vm[i].slices,
		       (unsigned long long)set->vm[i].stats.total);
	if (sched_runnable_count(s) < s->n)
		printf("share error: not measured, a VM left the schedule\n");
	else
		printf("share error: %.2f points by host time, %.2f points by work units\n",
		       share_error(s, false), share_error(s, true));
}

int main(int argc, char **argv)
{
	struct matrix_options opt;
	struct vmset set;
	struct kick kick;
	struct snapshot last = { 0 };

	int parsed = matrix_parse(&opt, argc, argv, OPT_SHARE | OPT_QUANTUM | OPT_SECONDS,
				  "worker.bin", 5);
	if (parsed)
		return parsed > 0 ? 0 : 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (vmset_create(&set, &opt, &kick))
		return 2;

	printf("matrix: %d VMs on one thread (CPU %d), quantum %llu ms, for %g s; shares:", set.n,
	       set.cpu, (unsigned long long)(opt.quantum_ns / 1000000), opt.seconds);
	for (int i = 0; i < set.n; i++)
		printf(" %s %.1f%%", set.vm[i].vm.name, sched_target_share(&set.sched, i));
	printf("\n");

	uint64_t start = now_ns(), end = start + (uint64_t)(opt.seconds * NS_PER_S);
	uint64_t next_report = start + NS_PER_S;
	for (int i; (i = sched_pick_fair(&set.sched)) >= 0 && now_ns() < end;) {
		vmset_run_slice(&set, i, opt.quantum_ns);
		uint64_t now = now_ns();
		if (now >= next_report) {   /* at the first slice end past each whole second */
			print_second(&set, &last, (now - start) / 1e9);
			next_report = start + ((now - start) / NS_PER_S + 1) * NS_PER_S;
		}
	}

	print_summary(&set, &kick, (now_ns() - start) / 1e9);
	vmset_destroy(&set);
	return set.failed ? 1 : 0;
}
