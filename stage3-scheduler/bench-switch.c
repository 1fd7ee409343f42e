/*
 * bench-switch.c - what switching to another VM adds to a VM exit.
 *
 *   ./bench-switch ../guests/stage1/bench-out.bin [EXITS]
 *
 * Two VMs run stage 1's benchmark guest, an endless OUT loop: every KVM_RUN is one full exit
 * round trip. Timed in the same run, in ten alternating rounds so that drift hits both alike:
 *   same VM     EXITS round trips on one vCPU, as in stage 1's bench-exit;
 *   switching   EXITS round trips, each on the other VM's vCPU (matrix-a's pattern).
 * The difference per exit is the cost of a VM switch on one host thread: the kernel loads
 * another VM's state instead of resuming the one it just left. The spread of the ten rounds'
 * differences gives its standard error, and the ratio switching / same VM says it relative
 * to the exit it rides on (the same-VM rounds are the reference: same guest, same run). Last,
 * what the preemptive schedulers add to every slice: arming and stopping the slice timer
 * (kick.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kick.h"
#include "run_loop.h"
#include "runner.h"

#define BENCH_PORT 0x80
#define ROUNDS     10

static int count_port80(void *ctx, struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
			unsigned size)
{
	(void)ctx, (void)vcpu, (void)out, (void)data, (void)size;
	return port == BENCH_PORT ? 0 : -ENOENT;
}

/* exits round trips, alternating over the first `vms` vCPUs. Returns ns, or 0 on failure. */
static uint64_t time_exits(struct vcpu *vcpus, int vms, long exits)
{
	struct exit_stats stats = { 0 };
	const struct exit_handlers h = { .pio = count_port80 };
	uint64_t start = now_ns();
	for (long i = 0; i < exits; i++)
		if (vcpu_step(&vcpus[i % vms], &stats, &h) != VCPU_RUNNING)
			return 0;
	return now_ns() - start;
}

/* What matrix-b and matrix add to every slice: arm the timer, stop it, take its signal. */
static double time_timer_us(long slices)
{
	struct kick kick;
	if (kick_init(&kick))
		return -1;
	uint64_t start = now_ns();
	for (long i = 0; i < slices; i++) {
		kick_arm(&kick, 1000000000ull);
		kick_disarm(&kick, false);
	}
	uint64_t ns = now_ns() - start;
	kick_destroy(&kick);
	return ns / 1e3 / slices;
}

/* Mean and standard error, in us per exit, of the per-round differences switching - same. */
static void switch_cost(const double *diff_us, int rounds, double *mean, double *err)
{
	double sum = 0, sq = 0;
	for (int r = 0; r < rounds; r++)
		sum += diff_us[r];
	*mean = sum / rounds;
	for (int r = 0; r < rounds; r++)
		sq += (diff_us[r] - *mean) * (diff_us[r] - *mean);
	*err = sqrt(sq / (rounds - 1) / rounds);
}

static int measure(struct vcpu *vcpus, long exits)
{
	long per_round = exits / ROUNDS > 0 ? exits / ROUNDS : 1;
	double us = per_round * 1e3, same = 0, switching = 0, diff[ROUNDS], mean, err;

	for (int r = 0; r < ROUNDS; r++) {
		uint64_t a, b;
		if (r % 2) {   /* odd rounds switch first: going first favours neither */
			b = time_exits(vcpus, 2, per_round);
			a = time_exits(vcpus, 1, per_round);
		} else {
			a = time_exits(vcpus, 1, per_round);
			b = time_exits(vcpus, 2, per_round);
		}
		if (!a || !b)
			return -1;
		same += a / us / ROUNDS;
		switching += b / us / ROUNDS;
		diff[r] = ((double)b - (double)a) / us;
	}
	switch_cost(diff, ROUNDS, &mean, &err);
	printf("stage3  I/O exit, same VM again      %8.2f us  (%ld exits in %d rounds)\n",
	       same, per_round * ROUNDS, ROUNDS);
	printf("stage3  I/O exit, then switch VM     %8.2f us  (2 VMs alternating, same rounds)\n",
	       switching);
	printf("stage3  VM switch cost               %8.2f us  (the difference, +- %.2f us)\n",
	       mean, err);
	printf("stage3  ratio switching / same VM    %8.2fx    (the same-VM exit is the reference)\n",
	       switching / same);
	printf("stage3  slice timer arm + disarm     %8.2f us  (per slice of matrix-b, matrix)\n",
	       time_timer_us(per_round));
	return 0;
}

/* The optional EXITS argument after the guest (default 20000); -1 after a message if bad. */
static long exits_argument(int argc, char **argv, int next)
{
	long exits = next < argc ? atol(argv[next]) : 20000;
	if (exits <= 0)
		fprintf(stderr, "%s: EXITS must be a positive number\n", argv[0]);
	return exits > 0 ? exits : -1;
}

int main(int argc, char **argv)
{
	struct runner_options opt;
	struct vm vms[2];
	struct vcpu vcpus[2];
	int booted = 0, rc = 2;

	int next = runner_parse(&opt, argc, argv, " [EXITS]");
	long exits = next < 0 ? -1 : exits_argument(argc, argv, next);
	if (exits < 0)
		return 2;
	while (booted < 2 && runner_boot(&opt, &vms[booted], &vcpus[booted]) == 0)
		booted++;
	if (booted == 2) {
		rc = measure(vcpus, exits) ? 1 : 0;
		if (rc)
			fprintf(stderr, "%s: benchmark guest did not run as expected\n", argv[0]);
	}
	while (booted--) {
		vcpu_destroy(&vcpus[booted]);
		vm_destroy(&vms[booted]);
	}
	return rc;
}
