/*
 * bench-hypercall.c - what a hypercall costs, next to stage 1's bare exit in the same run.
 *
 *   ./bench-hypercall ../guests/stage1/bench-out.bin ../guests/stage2/bench.bin [EXITS]
 *
 * A hypercall is one or more VM exits plus the host's work. So the reference is an exit
 * with no work at all, on a VM of the same size: stage 1's bench-out guest, an endless OUT
 * to port 0x80 that stage 1's run loop answers by doing nothing. Beside it, one VM per
 * hypercall runs bench.c looping on that call, served by the real hypercall_pio() (printing
 * nothing): each call in the lesson's convention (OUT the argument, IN the result) and in
 * the one-exit convention (number and argument in registers, KVM_CAP_SYNC_REGS). Last, the
 * two parts of a pointer call that are not exits, timed in the host alone: reading the
 * vCPU's paging registers (KVM_GET_SREGS) and the page walk.
 *
 * A shared host's speed drifts from second to second and other processes take the CPU
 * away, so nothing is timed in one stretch: every subject, the reference included, does a
 * round of about ROUND_EXITS exits in turn (the order rotates), EXITS / ROUND_EXITS times
 * over, and reports its fastest round, which interruptions can only make look slower. Each
 * row is time per call, exits per call and the ratio to the reference's fastest round.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "hypercall_host.h"
#include "runner.h"
#include "vcpu_paging.h"

#define WARMUP 200
#define ROUND_EXITS 50   /* one turn: about half a millisecond */

struct subject;
typedef double round_fn(struct subject *s, long n);

/* One thing timed: a VM running a guest, or a piece of host work on such a VM's vCPU. */
struct subject {
	const char *name, *what;
	long call;                   /* bench.c's enum bench_call; -1: stage 1's bench-out */
	round_fn *round;             /* one round of n calls: microseconds per call, or -1 */
	struct vm vm;
	struct vcpu vcpu;
	struct exit_stats stats;
	struct hypercall_host hc;
	struct exit_handlers h;
	const uint64_t *counter;     /* what counts one call: hc.calls, or the exits (stage 1) */
	struct paging_regs regs;     /* host-only subjects */
	long per_round;              /* calls per round: about ROUND_EXITS exits */
	uint64_t exits, calls;       /* during the timed rounds */
	double *rounds;
};

/* Step the vCPU until *counter has grown by n. Microseconds per count, or -1. */
static double guest_round(struct subject *s, long n)
{
	uint64_t goal = *s->counter + n, exits = s->stats.total;
	double start = now_us();
	while (*s->counter < goal)
		if (vcpu_step(&s->vcpu, &s->stats, &s->h) != VCPU_RUNNING)
			return -1;
	double us = (now_us() - start) / n;
	s->exits += s->stats.total - exits;
	s->calls += n;
	return s->hc.errors ? -1 : us;   /* a refused call would time the error path */
}

static double sregs_round(struct subject *s, long n)
{
	double start = now_us();
	for (long i = 0; i < n; i++)
		if (vcpu_paging_update(&s->vcpu, &s->regs))
			return -1;
	return (now_us() - start) / n;
}

/* The walk of an address in the guest image, through the host-built tables. */
static double walk_round(struct subject *s, long n)
{
	struct page_walk w;
	uint64_t sum = 0;
	n *= 100;   /* a walk is too quick to time a few at a time */
	double start = now_us();
	for (long i = 0; i < n; i++)
		if (!page_walk(&s->vm.mem, &s->regs, GUEST_LOAD_GPA + (i & 0xfff), &w))
			sum += w.gpa;
	double us = (now_us() - start) / n;
	return sum ? us : -1;   /* using sum keeps the loop from being optimised away */
}

/* The table of what is timed, in the order printed. The first row is the reference. */
#define GUEST(n, w, c) { .name = n, .what = w, .call = c, .round = guest_round }
#define HOST(n, w, fn) { .name = n, .what = w, .round = fn }
static struct subject subjects[] = {
	GUEST("I/O exit", "stage 1, OUT 0x80", -1),
	GUEST("HC_numExits", "IN", 0),
	GUEST("HC_print32bit", "OUT + IN", 1),
	GUEST("HC_printStr", "OUT + IN, walk, copy", 2),
	GUEST("HC_gvaToHva", "OUT + IN + IN, walk", 3),
	GUEST("HC_numExits", "regs: OUT", 4),
	GUEST("HC_print32bit", "regs: OUT", 5),
	GUEST("HC_printStr", "regs: OUT, walk, copy", 6),
	GUEST("HC_gvaToHva", "regs: OUT, walk", 7),
	HOST("KVM_GET_SREGS", "host only: CR3 etc.", sregs_round),
	HOST("page walk", "host only: 2 MiB page", walk_round),
};
#define N_SUBJECTS ((int)(sizeof(subjects) / sizeof(subjects[0])))
#define FIRST_REGS_ROW 5

/* Stage 1's reference: bench-out's OUT to port 0x80, answered by doing nothing. */
static int port80_ignored(void *ctx, struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
			  unsigned size)
{
	(void)ctx, (void)vcpu, (void)out, (void)data, (void)size;
	return port == 0x80 ? 0 : -ENOENT;
}

static int setup_hypercalls(struct subject *s)
{
	int err = hypercall_host_init(&s->hc, &s->vcpu, &s->stats);
	if (!err)
		err = hypercall_guest_args(&s->vcpu, s->call);
	if (!err)
		err = vcpu_paging_init(&s->vcpu, &s->regs);
	if (err)
		fprintf(stderr, "bench-hypercall: cannot set up the vCPU for hypercalls: %s\n",
			hypercall_host_strerror(err));
	s->hc.quiet = true;
	s->h = (struct exit_handlers){ .pio = hypercall_pio, .ctx = &s->hc };
	s->counter = &s->hc.calls;
	return err;
}

/* Boot the subject's VM and run its warm-up. 0 or -1. */
static int start(struct subject *s, struct runner_options *opt, const char *stage1_guest,
		 const char *guest, int rounds)
{
	s->rounds = calloc(rounds, sizeof(double));
	opt->guest_path = s->call < 0 ? stage1_guest : guest;
	if (!s->rounds || runner_boot(opt, &s->vm, &s->vcpu))
		return -1;
	if (s->call < 0) {
		s->h = (struct exit_handlers){ .pio = port80_ignored };
		s->counter = &s->stats.io_out;
	} else if (setup_hypercalls(s)) {
		return -1;
	}
	if (s->round(s, WARMUP) < 0)
		return -1;
	/* As many calls per round as make ROUND_EXITS exits: every round as long as the next. */
	s->per_round = s->exits ? (ROUND_EXITS * s->calls + s->exits / 2) / s->exits : ROUND_EXITS;
	s->per_round = s->per_round ? s->per_round : 1;
	s->exits = s->calls = 0;
	return 0;
}

/* Every subject one round in turn, `rounds` times; round r starts with subject r. */
static int take_turns(int rounds)
{
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < N_SUBJECTS; k++) {
			struct subject *s = &subjects[(r + k) % N_SUBJECTS];
			s->rounds[r] = s->round(s, s->per_round);
			if (s->rounds[r] < 0) {
				fprintf(stderr, "bench-hypercall: %s (%s) did not run as "
					"expected\n", s->name, s->what);
				return -1;
			}
		}
	}
	return 0;
}

static void print_rows(int rounds)
{
	double ref = fastest(subjects[0].rounds, rounds);

	printf("stage2  %-14s %-22s %5s %12s %8s\n", "call", "what", "exits", "per call",
	       "vs exit");
	for (int i = 0; i < N_SUBJECTS; i++) {
		struct subject *s = &subjects[i];
		double us = fastest(s->rounds, rounds);
		char per_call[16] = "";
		if (s->calls)
			snprintf(per_call, sizeof(per_call), "%.0f", (double)s->exits / s->calls);
		if (i == 1)
			printf("stage2  -- the lesson's convention: OUT the argument, IN the "
			       "result\n");
		if (i == FIRST_REGS_ROW)
			printf("stage2  -- one exit: number in EAX, argument in RBX, result in RAX "
			       "(KVM_CAP_SYNC_REGS)\n");
		printf("stage2  %-14s %-22s %5s %9.3f us %7.3fx\n", s->name, s->what, per_call, us,
		       us / ref);
	}
	printf("stage2  (fastest of %d rounds of about %d exits each, all subjects taking turns)\n",
	       rounds, ROUND_EXITS);
}

int main(int argc, char **argv)
{
	struct runner_options opt;

	int next = runner_parse(&opt, argc, argv, " HYPERCALL_GUEST [EXITS]");
	if (next < 0)
		return 2;
	const char *stage1_guest = opt.guest_path;
	const char *guest = next < argc ? argv[next] : NULL;
	long n = next + 1 < argc ? atol(argv[next + 1]) : 10000;
	if (!guest || n < ROUND_EXITS || n > 10000000) {
		fprintf(stderr, "%s: give the hypercall guest and a number of exits from %d to "
			"10^7\n", argv[0], ROUND_EXITS);
		return 2;
	}
	int rounds = n / ROUND_EXITS;

	int rc = 0;
	for (int i = 0; i < N_SUBJECTS && !rc; i++) {
		rc = start(&subjects[i], &opt, stage1_guest, guest, rounds);
		if (rc)
			fprintf(stderr, "%s: %s (%s) did not start as expected\n", argv[0],
				subjects[i].name, subjects[i].what);
	}
	if (!rc)
		rc = take_turns(rounds);
	if (!rc)
		print_rows(rounds);
	for (int i = 0; i < N_SUBJECTS; i++) {
		if (subjects[i].vcpu.run) {   /* booted */
			vcpu_destroy(&subjects[i].vcpu);
			vm_destroy(&subjects[i].vm);
		}
		free(subjects[i].rounds);
	}
	return rc ? 1 : 0;
}
