/*
 * matrix-a.c - two VMs on one host thread, taking turns at every VM exit.
 *
 *   ./matrix-a                   Neo and Morpheus each print 5 lines (guests/stage3/talk.c)
 *   ./matrix-a --lines 2,5       Neo halts after 2 lines, Morpheus goes on alone
 *   ./matrix-a talk.bin fault.bin
 *
 * The simplest scheduler there is: run Neo until it exits, handle the exit, run Morpheus
 * until it exits, and so on. No timer, no clock: a VM exit is the only moment the host gets
 * the CPU back, so it is the only moment it can switch. The order of events is therefore a
 * pure function of the guests' exits, and the output is the same on every run - which is also
 * the weakness: a guest that computes without exiting is never interrupted (see matrix-b).
 *
 * Exit status: 0 every VM halted; 1 a VM failed (it was taken off the schedule, the others
 * ran to the end); 2 bad command line or a VM that could not be created.
 */
#include <stdio.h>

#include "options.h"
#include "vmset.h"

static void print_summary(const struct vmset *set)
{
	printf("matrix-a: %llu switches between VMs\n", (unsigned long long)set->switches);
	for (int i = 0; i < set->n; i++) {
		printf("%s: %.1f ms of CPU time, ", set->vm[i].vm.name,
		       set->sched.vm[i].ran_ns / 1e6);
		exit_stats_print(&set->vm[i].stats, stdout);
	}
}

int main(int argc, char **argv)
{
	struct matrix_options opt;
	struct vmset set;

	int parsed = matrix_parse(&opt, argc, argv, OPT_LINES, "talk.bin", 0);
	if (parsed)
		return parsed > 0 ? 0 : 2;
	setvbuf(stdout, NULL, _IOLBF, 0);   /* keep guest lines and stderr reports in order */
	if (vmset_create(&set, &opt, NULL))
		return 2;

	printf("matrix-a: %d VMs on one thread (CPU %d), a switch at every VM exit\n", set.n,
	       set.cpu);
	for (int i = 0; i >= 0; i = sched_next_round_robin(&set.sched, i))
		vmset_run_slice(&set, i, 0);

	print_summary(&set);
	vmset_destroy(&set);
	return set.failed ? 1 : 0;
}
