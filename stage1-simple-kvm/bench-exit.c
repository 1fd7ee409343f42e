/*
 * bench-exit.c - what one VM exit costs, and what the course's run loop adds to it.
 *
 *   ./bench-exit ../guests/stage1/bench-out.bin [EXITS]    (EXITS for each VMM, default 20000)
 *
 * The guest loops on OUT to port 0x80, so every KVM_RUN returns with one KVM_EXIT_IO: the
 * time per KVM_RUN is the full round trip guest -> KVM -> this process -> guest.
 *
 * Two VMMs serve the same vCPU of the same VM, in turns: the course's run loop (vcpu_step(),
 * its exit counting and its dispatch to a pio handler) and, as the reference, the smallest
 * VMM that can run this guest at all: KVM_RUN, check that it is an OUT to port 0x80, loop.
 * Their ratio is what the run loop costs. On a shared host the speed drifts from second to
 * second and other processes take the CPU away, so the two take turns in short rounds (which
 * goes first alternates) and each side reports its fastest round: the cost of the mechanism
 * itself, which interruptions can only make look larger.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "bench.h"
#include "run_loop.h"
#include "runner.h"

#define BENCH_PORT 0x80
#define ROUND_EXITS 100   /* one turn: about a millisecond */

static int count_port80(void *ctx, struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
			unsigned size)
{
	(void)ctx, (void)vcpu, (void)out, (void)data, (void)size;
	return port == BENCH_PORT ? 0 : -ENOENT;
}

/* The course's run loop: microseconds per exit over `exits` exits, or -1. */
static double run_loop_round(struct vcpu *vcpu, long exits)
{
	struct exit_stats stats = { 0 };
	const struct exit_handlers h = { .pio = count_port80 };
	double start = now_us();
	while ((long)stats.io_out < exits)
		if (vcpu_step(vcpu, &stats, &h) != VCPU_RUNNING)
			return -1;
	return (now_us() - start) / exits;
}

/* The reference: the smallest VMM that runs this guest. Microseconds per exit, or -1. */
static double minimal_vmm_round(struct vcpu *vcpu, long exits)
{
	struct kvm_run *run = vcpu->run;
	double start = now_us();
	for (long i = 0; i < exits; i++) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0)
			return -1;
		if (run->exit_reason != KVM_EXIT_IO || run->io.port != BENCH_PORT)
			return -1;
	}
	return (now_us() - start) / exits;
}

/*
 * Rounds of ROUND_EXITS exits each, taking turns (which VMM goes first alternates), so both
 * see the same host. 0, or -1 when the guest misbehaved.
 */
static int take_turns(struct vcpu *vcpu, int rounds, double *loop, double *minimal)
{
	if (minimal_vmm_round(vcpu, ROUND_EXITS) < 0)   /* warm-up, not counted */
		return -1;
	for (int r = 0; r < rounds; r++) {
		if (r % 2)
			minimal[r] = minimal_vmm_round(vcpu, ROUND_EXITS);
		loop[r] = run_loop_round(vcpu, ROUND_EXITS);
		if (r % 2 == 0)
			minimal[r] = minimal_vmm_round(vcpu, ROUND_EXITS);
		if (loop[r] < 0 || minimal[r] < 0)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct runner_options opt;
	struct vm vm;
	struct vcpu vcpu;

	int next = runner_parse(&opt, argc, argv, " [EXITS]");
	if (next < 0)
		return 2;
	long exits = next < argc ? atol(argv[next]) : 20000;
	if (exits < ROUND_EXITS || exits > 100000000) {
		fprintf(stderr, "%s: EXITS must be a number from %d to 10^8\n", argv[0],
			ROUND_EXITS);
		return 2;
	}
	int rounds = exits / ROUND_EXITS;
	double *loop = calloc(rounds, sizeof(double)), *minimal = calloc(rounds, sizeof(double));
	if (!loop || !minimal) {
		fprintf(stderr, "%s: out of memory\n", argv[0]);
		return 2;
	}
	if (runner_boot(&opt, &vm, &vcpu))
		return 2;

	int err = take_turns(&vcpu, rounds, loop, minimal);
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
	if (err) {
		fprintf(stderr, "%s: benchmark guest did not run as expected\n", argv[0]);
		return 1;
	}
	double loop_us = fastest(loop, rounds), minimal_us = fastest(minimal, rounds);
	printf("stage1  run loop (vcpu_step)      %8.2f us/exit\n", loop_us);
	printf("stage1  minimal VMM (reference)   %8.2f us/exit  (KVM_RUN, check the port, loop)\n",
	       minimal_us);
	printf("stage1  ratio run loop / minimal  %8.2fx        (one vCPU; fastest of %d rounds "
	       "of %d)\n", loop_us / minimal_us, rounds, ROUND_EXITS);
	free(loop);
	free(minimal);
	return 0;
}
