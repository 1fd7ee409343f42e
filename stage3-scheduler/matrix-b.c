/*
 * matrix-b.c - VMs that never exit on their own, preempted by a host timer.
 *
 *   ./matrix-b                          two compute loops (guests/stage3/compute.c), 2 s
 *   ./matrix-b --quantum 50 --seconds 1
 *
 * The guests do no I/O at all, so matrix-a's scheduler would run Neo forever. Here each VM
 * gets a time slice (the quantum): a POSIX timer is armed as the slice starts, its signal
 * kicks the vCPU out of KVM_RUN when the slice is over (kick.c), and the next VM in turn
 * gets the CPU. That is preemption, done from user space with nothing but a signal.
 *
 * At the end each VM's loop counter is read from its RAM: both must have moved.
 * Exit status: 0 the run ended (or every VM halted); 1 a VM failed; 2 bad input.
 */
#include <stdio.h>

#include "kick.h"
#include "options.h"
#include "vmset.h"

static void print_summary(const struct vmset *set, const struct kick *kick, double seconds)
{
	printf("matrix-b: %.2f s, %llu switches, %llu kicks, kick latency mean %.0f us, "
	       "max %.0f us\n", seconds, (unsigned long long)set->switches,
	       (unsigned long long)kick->kicks,
	       kick->kicks ? kick->latency_sum_ns / 1e3 / kick->kicks : 0.0,
	       kick->latency_max_ns / 1e3);
	for (int i = 0; i < set->n; i++) {
		const struct sched_vm *s = &set->sched.vm[i];
		printf("%-9s slices %-5llu preempted %-5llu cpu time %7.1f ms  loops %llu\n",
		       set->vm[i].vm.name, (unsigned long long)s->slices,
		       (unsigned long long)set->vm[i].preempted, s->ran_ns / 1e6,
		       (unsigned long long)vmset_progress(set, i));
	}
}

int main(int argc, char **argv)
{
	struct matrix_options opt;
	struct vmset set;
	struct kick kick;

	int parsed = matrix_parse(&opt, argc, argv, OPT_QUANTUM | OPT_SECONDS, "compute.bin", 2);
	if (parsed)
		return parsed > 0 ? 0 : 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (vmset_create(&set, &opt, &kick))
		return 2;

	printf("matrix-b: %d VMs on one thread (CPU %d), preempted every %llu ms, for %g s\n",
	       set.n, set.cpu, (unsigned long long)(opt.quantum_ns / 1000000), opt.seconds);
	uint64_t start = now_ns(), end = start + (uint64_t)(opt.seconds * 1e9);
	for (int i = 0; i >= 0 && now_ns() < end; i = sched_next_round_robin(&set.sched, i))
		vmset_run_slice(&set, i, opt.quantum_ns);

	print_summary(&set, &kick, (now_ns() - start) / 1e9);
	vmset_destroy(&set);
	return set.failed ? 1 : 0;
}
